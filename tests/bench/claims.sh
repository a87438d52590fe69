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
echo "$ITEMS items a round, one row each; items/s = items / (last claimer's end - common start)"
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

# WAL syncs and the time they took, from pg_stat_wal (track_wal_io_timing): how many
# commits shared one fsync (group commit) and how much of the round the WAL spent in fsync.
psqlq "ALTER SYSTEM SET track_wal_io_timing = on" >/dev/null && psqlq "SELECT pg_reload_conf()" >/dev/null
wal() { psqlq "SELECT wal_sync || ' ' || round(wal_sync_time) FROM pg_stat_wal"; }

# pg_row LABEL N BATCH [claimer options]: one PostgreSQL round and its table row.
pg_row() {
  label=$1 n=$2 batch=$3; shift 3
  extra="$*"
  "$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" enqueue "$batch" "$ITEMS" >/dev/null || exit 1
  sleep 1; set -- $(wal); s0=$1 t0=$2
  r0=$(now_ms)
  set -- $(run_round pg "$n" "$batch" $extra); rate=$1 shares=$2
  ms=$(( $(now_ms) - r0 ))
  sleep 1.2; set -- $(wal); s1=$1 t1=$2
  once=$(psqlq "SELECT CASE WHEN count(*) = $ITEMS AND count(DISTINCT c.item) = $ITEMS
                 AND bool_and(i.state = 'done' AND i.attempts = 1) THEN 'yes' ELSE 'NO' END
                FROM vagt_claims c JOIN vagt_items i ON i.id = c.item WHERE i.batch = '$batch'")
  syncs=$((s1 - s0))
  row "$label" "$n" "$rate" "$once" "$(awk -v i="$ITEMS" -v s="$syncs" 'BEGIN { printf "%.1f", s ? i / s : 0 }')" \
    "$(awk -v t="$((t1 - t0))" -v ms="$ms" 'BEGIN { printf "%.0f%%", 100 * t / ms }')" "$shares"
}
row() { printf '%-34s | %2s | %7s | %-4s | %10s | %9s | %s\n' "$@"; }

row "loop" n "items/s" once "items/sync" "in fsync" "shares %"
row "----------------------------------" -- ------- ---- ---------- --------- --------
for n in 1 2 4 8; do
  pg_row "PostgreSQL, claim; complete" "$n" "a$n"
done
for n in 1 2 4 8; do
  pg_row "PostgreSQL, complete+claim next" "$n" "b$n" --next
done
pg_row "PostgreSQL, claim; sent; complete" 8 c8 --with-sent
pg_row "PostgreSQL, claim; sent; compl+next" 8 d8 --with-sent --next
for n in 1 2 4 8; do
  "$CLAIMER" sqlite-init "$PG_T/sq$n.sqlite" "sq$n" "$ITEMS" || exit 1
  set -- $(run_round sqlite "$n" "sq$n"); rate=$1 shares=$2
  once=$(python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print('yes' if d.execute(\"select count(*) from items where state='done' and attempts=1\").fetchone()[0]==int(sys.argv[2]) else 'NO')" "$PG_T/sq$n.sqlite" "$ITEMS")
  row "SQLite, claim; complete" "$n" "$rate" "$once" - - "$shares"
done
# What the durable figures would be without waiting for fsync: the ceiling the CPUs and
# round trips set. Not durable: a diagnostic, not a mode to run in.
PGOPTIONS="-c synchronous_commit=off" pg_row "diag.: PG, compl+next, no fsync wait" 8 e8 --next
echo
echo "claim; complete: two commits an item; complete+claim next (ag_pg_complete_claim): one;"
echo "sent: ag_pg_input_sent, a commit of its own. items/sync: items per WAL fsync (group"
echo "commit); in fsync: WAL fsync time / round time. SQLite: WAL, synchronous=FULL, BEGIN"
echo "IMMEDIATE, one file on the same disk."
echo "load after:$(uptime | sed 's/.*load average://')"
