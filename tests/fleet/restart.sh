#!/bin/sh
# PostgreSQL restarted (pg_ctl restart -m fast) twice while three claimers work through 300
# items: they reconnect and carry on; nothing lost, nothing done twice, no item held by two
# claimers at once. An item whose claim committed while its reply was lost waits for its
# lease (6 s) and is claimed again (attempt 2); none is left for review.
. "$(dirname "$0")/pg.sh"
pg_start || exit 1
claimer enqueue b6 300 >/dev/null || exit 1
OUT="$PG_T/out"
at=$(( $(now_ms) + 1500 ))
for n in 1 2 3; do
  claimer --node "n$n" work b6 --run "r$n" --out "$OUT" --lease 6 --pause-ms 10 --patience 40 \
    --start-at "$at" > "$PG_T/n$n.log" 2> "$PG_T/n$n.err" & PIDS="$PIDS $!"
done
done_count() { psqlq "SELECT count(*) FROM vagt_items WHERE batch = 'b6' AND state = 'done'" 2>/dev/null || echo 0; }
i=0; while [ "$(done_count)" -lt 40 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "restarting at $(done_count) done"
check "first restart" pg_restart
i=0; while [ "$(done_count)" -lt 150 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "restarting at $(done_count) done"
check "second restart" pg_restart
bad=0; for p in $PIDS; do wait "$p" || bad=$((bad + 1)); done; PIDS=""
cat "$PG_T"/n?.log; sort "$PG_T"/n?.err | uniq -c | sed 's/^/  stderr: /' | head -n 12
check "the three claimers finished" [ "$bad" -eq 0 ]
check "they reconnected" [ "$(cat "$PG_T"/n?.log | sed -n 's/.*reconnects=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')" -ge 3 ]
check "counts: all 300 done" [ "$(claimer counts b6)" = "pending=0 claimed=0 done=300 failed=0 needs_review=0 total=300" ]
what="300 lines, every item exactly once"
if [ "$(wc -l < "$OUT")" -eq 300 ] && [ "$(cut -d' ' -f2 "$OUT" | sort -u | wc -l)" -eq 300 ]; then ok "$what"; else fail "$what"; fi
check "the output matches who completed each item" \
  [ "$(psqlq "SELECT c.node || ' ' || i.key FROM vagt_claims c JOIN vagt_items i ON i.id = c.item WHERE c.outcome = 'done'" | sort)" = "$(sort "$OUT")" ]
check "no item held by two claimers at once" [ "$(overlaps)" = 0 ]
echo "attempts: $(psqlq "SELECT string_agg(a || ' x' || n, ', ') FROM (SELECT attempts a, count(*) n FROM vagt_items GROUP BY 1 ORDER BY 1) x")"
check "attempts 1, or 2 after a claim whose reply was lost" [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE attempts NOT IN (1, 2)")" = 0 ]
finish
