#!/bin/sh
# Fleet work-item claims: items per second claimed and completed (one commit each: two per
# item) by 1, 2, 4 and 8 concurrent claimers against one PostgreSQL with durability on
# (fsync and synchronous_commit on, data on disk, unix socket), the share each claimer got,
# and no item twice; beside the same claim+complete loop on SQLite (WAL, synchronous=FULL,
# BEGIN IMMEDIATE; UPDATE ...; COMMIT) from as many processes on this machine. The fsync
# rate of the disk (pg_test_fsync) is what bounds a commit.
# usage: tests/bench/claims.sh BUILD_DIR [ITEMS]
set -u
build=$(cd "${1:-build}" && pwd)
ITEMS=${2:-${VAGT_BENCH_CLAIM_ITEMS:-4000}}
export CLAIMER="$build/tests/fleet/fleet_claimer"
[ -x "$CLAIMER" ] || { echo "claims.sh: build fleet_claimer first ($CLAIMER)" >&2; exit 1; }
PG_PARENT=${PG_PARENT:-/var/tmp}
. "$(cd "$(dirname "$0")/../fleet" && pwd)/pg.sh"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load:$(uptime | sed 's/.*load average://')"
echo "data on: $(findmnt -n -o SOURCE,FSTYPE -T "$PG_T" | tr -s ' ')  ($PG_T)"
if [ -x "$PG_BIN/pg_test_fsync" ]; then
  "$PG_BIN/pg_test_fsync" -s 2 -f "$PG_T/fsync.probe" > "$PG_T/fsync.txt" 2>&1
  echo "pg_test_fsync, one 8 kB write then sync (ops/s):"
  sed -n '/one 8kB write/,/^$/p' "$PG_T/fsync.txt" | grep -E '^ +(open_datasync|fdatasync|fsync) ' | sed 's/^ */  /'
  rm -f "$PG_T/fsync.probe"
fi
pg_start >/dev/null || exit 1
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'): fsync=$(psqlq 'SHOW fsync') synchronous_commit=$(psqlq 'SHOW synchronous_commit') wal_sync_method=$(psqlq 'SHOW wal_sync_method')"
echo "$ITEMS items a round; a row is one round; rate = items / (last claimer's end - start)"
echo

# run_round KIND N BATCH: starts N claimers at one moment; prints "RATE SHARES"
run_round() {
  kind=$1 n=$2 batch=$3; shift 3
  at=$(( $(now_ms) + 800 + 100 * n ))
  pids=""
  k=1; while [ $k -le "$n" ]; do
    if [ "$kind" = pg ]; then
      "$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" --node "c$k" bench "$batch" --start-at "$at" --lease 60 "$@" > "$PG_T/r.$k" 2>&1 &
    else
      "$CLAIMER" --node "c$k" sqlite-bench "$PG_T/$batch.sqlite" "$batch" --start-at "$at" > "$PG_T/r.$k" 2>&1 &
    fi
    pids="$pids $!"; k=$((k + 1))
  done
  bad=0; for p in $pids; do wait "$p" || bad=1; done
  [ $bad -eq 0 ] || { cat "$PG_T"/r.* >&2; echo "ERR -"; return; }
  cat "$PG_T"/r.* | awk -v at="$at" -v n="$n" '
    { split($2, d, "="); split($3, l, "="); done[NR] = d[2]; tot += d[2]; if (l[2] > last) last = l[2] }
    END { s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "/" : "") sprintf("%.0f", 100 * done[i] / tot);
          printf "%.0f %s%%\n", tot * 1000 / (last - at), s }'
  rm -f "$PG_T"/r.*
}

W=24
printf "%-8s | %-${W}s | %-${W}s | %-${W}s | %s\n" claimers "PG 2 commits/item" "PG 1 commit/item" "SQLite 2 commits/item" "each item once"
printf "%-8s | %-${W}s | %-${W}s | %-${W}s | %s\n" "" "items/s (shares %)" "items/s (shares %)" "items/s (shares %)" "(PG, PG, SQLite)"
for n in 1 2 4 8; do
  for mode in a b; do
    "$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" enqueue "bench$mode$n" "$ITEMS" >/dev/null || exit 1
  done
  set -- $(run_round pg "$n" "bencha$n"); pga="$1 ($2)"
  set -- $(run_round pg "$n" "benchb$n" --next); pgb="$1 ($2)"
  once=$(psqlq "SELECT string_agg(ok, ', ' ORDER BY batch) FROM (
                 SELECT i.batch, CASE WHEN count(*) = $ITEMS AND count(DISTINCT c.item) = $ITEMS
                 AND bool_and(i.state = 'done' AND i.attempts = 1) THEN 'yes' ELSE 'NO' END ok
                FROM vagt_claims c JOIN vagt_items i ON i.id = c.item
                WHERE i.batch IN ('bencha$n', 'benchb$n') GROUP BY i.batch) x")
  "$CLAIMER" sqlite-init "$PG_T/sq$n.sqlite" "sq$n" "$ITEMS" || exit 1
  set -- $(run_round sqlite "$n" "sq$n"); sq="$1 ($2)"
  sqonce=$(python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print('yes' if d.execute(\"select count(*) from items where state='done' and attempts=1\").fetchone()[0]==int(sys.argv[2]) else 'NO')" "$PG_T/sq$n.sqlite" "$ITEMS")
  printf "%-8s | %-${W}s | %-${W}s | %-${W}s | %s\n" "$n" "$(echo "$pga" | tr -d '%')" "$(echo "$pgb" | tr -d '%')" "$(echo "$sq" | tr -d '%')" "$once, $sqonce"
done
echo
echo "shares: the part of the round's items each claimer did, in per cent"
for mode in a b; do
  "$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" enqueue "benchs$mode" "$ITEMS" >/dev/null
done
set -- $(run_round pg 8 benchsa --with-sent)
echo "8 claimers, the whole loop (claim, input sent, complete): $1 items/s (shares $2), 3 commits an item"
set -- $(run_round pg 8 benchsb --with-sent --next)
echo "8 claimers, the whole loop with complete+claim in one: $1 items/s (shares $2), 2 commits an item"
echo "load after:$(uptime | sed 's/.*load average://')"
