#!/bin/sh
# 60 items over 3 claimers at once (n3 completes and claims the next in one statement):
# every item exactly once in their output together, each did part of the batch, no item
# held by two claimers at once; enqueueing twice adds nothing.
# Three agents migrating an empty database at once migrate it once; eight nodes recording a
# shared setting at once all agree.
. "$(dirname "$0")/pg.sh"
pg_start || exit 1

for n in 1 2 3; do claimer --node "n$n" migrate > "$PG_T/migrate$n.out" 2>&1 & PIDS="$PIDS $!"; done
m=0; for p in $PIDS; do wait "$p" || m=$((m + 1)); done; PIDS=""
check "three agents migrating an empty database at once all succeed" [ "$m" -eq 0 ]
check "the schema is at version 5, one row" [ "$(psqlq 'SELECT version FROM vagt_schema')" = 5 ]

check "enqueue adds 60" [ "$(claimer enqueue b1 60)" = "added 60" ]
check "enqueue of the same batch again adds nothing" [ "$(claimer enqueue b1 60)" = "added 0" ]
check "an overlapping enqueue adds only the new keys" [ "$(claimer enqueue b1 62)" = "added 2" ]
psqlq "DELETE FROM vagt_items WHERE batch = 'b1' AND seq > 60" >/dev/null
check "60 items in the batch" [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE batch = 'b1'")" = 60 ]

OUT="$PG_T/out"
at=$(( $(now_ms) + 1500 ))
for n in 1 2 3; do
  next=""; [ $n -eq 3 ] && next=--next # n3 completes and claims the next in one statement
  claimer --node "n$n" work b1 --run "r$n" --out "$OUT" --lease 5 --pause-ms 15 --start-at "$at" $next \
    > "$PG_T/n$n.log" 2>&1 & PIDS="$PIDS $!"
done
bad=0; for p in $PIDS; do wait "$p" || bad=$((bad + 1)); done; PIDS=""
check "the three claimers finished" [ "$bad" -eq 0 ]
cat "$PG_T"/n?.log

check "60 lines in the output" [ "$(wc -l < "$OUT")" -eq 60 ]
check "every item exactly once" [ "$(cut -d' ' -f2 "$OUT" | sort | uniq -c | awk '$1 != 1' | wc -l)" -eq 0 ]
check "the items are k1..k60" [ "$(cut -d' ' -f2 "$OUT" | sort -u | tr '\n' ' ')" = "$(seq 1 60 | sed 's/^/k/' | sort | tr '\n' ' ')" ]
for n in 1 2 3; do
  c=$(grep -c "^n$n " "$OUT")
  echo "n$n did $c"
  what="n$n did part of the batch"
  if [ "$c" -gt 0 ] && [ "$c" -lt 60 ]; then ok "$what"; else fail "$what"; fi
done
check "counts: all done" [ "$(claimer counts b1)" = "pending=0 claimed=0 done=60 failed=0 needs_review=0 total=60" ]
check "one claim per item, every one released as done" \
  [ "$(psqlq "SELECT count(*), count(DISTINCT item), count(*) FILTER (WHERE outcome = 'done' AND released_at IS NOT NULL) FROM vagt_claims")" = "60|60|60" ]
check "the claims log: no item held by two claimers at once" [ "$(overlaps)" = 0 ]
check "the claims log names the node and run of each output line" \
  [ "$(psqlq "SELECT c.node || ' ' || i.key FROM vagt_claims c JOIN vagt_items i ON i.id = c.item ORDER BY 1" | sort)" = "$(sort "$OUT")" ]
check "every item attempted once" [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE attempts <> 1")" = 0 ]
check "input sent recorded before completion" \
  [ "$(psqlq "SELECT count(*) FROM vagt_claims WHERE input_sent_at IS NULL OR input_sent_at > released_at")" = 0 ]

# three nodes enqueueing the same batch at once: each item once
for n in 1 2 3; do claimer --node "n$n" enqueue b8 300 > "$PG_T/enq$n" 2>&1 & PIDS="$PIDS $!"; done
bad=0; for p in $PIDS; do wait "$p" || bad=$((bad + 1)); done; PIDS=""
what="three concurrent enqueues of one batch: 300 items, added 300 in all"
if [ "$bad" -eq 0 ] && [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE batch = 'b8'")" = 300 ] && \
  [ "$(cat "$PG_T"/enq? | awk '{s += $2} END {print s}')" = 300 ]; then ok "$what"; else fail "$what"; fi

# eight nodes recording a shared setting (the work-items key) at once, 150 times: every node
# agrees every time (the loser of an insert race once read no row and called it different)
at=$(( $(now_ms) + 1000 ))
for n in 1 2 3 4 5 6 7 8; do
  claimer --node "n$n" agree itemskey 150 --start-at "$at" > "$PG_T/agree$n" 2>&1 & PIDS="$PIDS $!"
done
bad=0; for p in $PIDS; do wait "$p" || bad=$((bad + 1)); done; PIDS=""
grep -h -v '^agreed 150 differed 0$' "$PG_T"/agree? | head -5
what="eight nodes recording one setting at once all agree, 150 rounds"
if [ "$bad" -eq 0 ] && [ "$(cat "$PG_T"/agree? | grep -c '^agreed 150 differed 0$')" -eq 8 ]; then ok "$what"; else fail "$what"; fi
what="a node with another value differs, told who recorded it first"
if [ "$(claimer --node n9 agree itemskey 3 --value other 2>&1)" = "agreed 0 differed 3" ] && \
  [ "$(psqlq "SELECT count(DISTINCT node) FROM vagt_meta WHERE name LIKE 'itemskey-%' AND node <> 'n9'")" -ge 1 ]; then ok "$what"; else fail "$what"; fi

# a failure's reason never keeps the item's key
claimer enqueue b7 4 --key-prefix 0101901234- >/dev/null
claimer --node n4 work b7 --run r4 --out "$PG_T/out7" --fail-every 2 >/dev/null
check "every second item failed, with its reason" \
  [ "$(claimer counts b7)" = "pending=0 claimed=0 done=2 failed=2 needs_review=0 total=4" ]
check "the reason has the key replaced" \
  [ "$(psqlq "SELECT DISTINCT reason FROM vagt_items WHERE batch = 'b7' AND state = 'failed'")" = "could not save citizen [key]: field rejected" ]
check "no stored reason or outcome holds a key" \
  [ "$(psqlq "SELECT count(*) FROM vagt_items i WHERE position(i.key IN coalesce(i.reason, '')) > 0")" = 0 ]
finish
