#!/bin/sh
# Nodes die mid-batch (lease 2 s): n1 is SIGKILLed after it sent an item's input and did
# its work, n2 exits while holding a claimed item whose input was not sent. After the lease
# the others finish n2's item (attempt 2); n1's item is needs_review with its node and run,
# and is in the output once, never redone. Also: attempts exhausted, a stalled holder that
# lost its lease sends nothing, and a renewed lease keeps an item from being taken.
. "$(dirname "$0")/pg.sh"
pg_start || exit 1
claimer enqueue b2 60 >/dev/null || exit 1
OUT="$PG_T/out"
t0=$(date +%s)
at=$(( $(now_ms) + 1500 ))
w() { n=$1; shift; claimer --node "$n" work b2 --run "run-$n" --out "$OUT" --lease 2 --pause-ms 20 --start-at "$at" "$@" > "$PG_T/$n.log" 2>&1 & }
w n1 --die-at worked --die-item 3 --die-how kill; p1=$!
w n2 --die-at claimed --die-item 3 --die-how exit; p2=$!
w n3; p3=$!
w n4 --next; p4=$!
PIDS="$p1 $p2 $p3 $p4"
wait $p1; s1=$?; wait $p2; s2=$?; wait $p3; s3=$?; wait $p4; s4=$?; PIDS=""
cat "$PG_T"/n?.log
check "n1 died by SIGKILL" [ "$s1" -eq 137 ]
check "n2 died by _exit(3)" [ "$s2" -eq 3 ]
what="n3 and n4 finished"
if [ "$s3" -eq 0 ] && [ "$s4" -eq 0 ]; then ok "$what"; else fail "$what"; fi
check "no long waits (under 30 s)" [ $(( $(date +%s) - t0 )) -lt 30 ]
sent=$(sed -n 's/^n1 dying at worked on //p' "$PG_T/n1.log")
held=$(sed -n 's/^n2 dying at claimed on //p' "$PG_T/n2.log")
echo "n1 died after sending $sent; n2 died holding $held"
what="the dying points were reached"
if [ -n "$sent" ] && [ -n "$held" ]; then ok "$what"; else fail "$what"; fi

check "counts: 59 done, 1 needs review" [ "$(claimer counts b2)" = "pending=0 claimed=0 done=59 failed=0 needs_review=1 total=60" ]
check "n1's item needs review, with n1's node and run, attempt 1" \
  [ "$(psqlq "SELECT state, node, run, attempts, input_sent_at IS NOT NULL FROM vagt_items WHERE batch = 'b2' AND key = '$sent'")" = "needs_review|n1|run-n1|1|t" ]
what="its reason asks a person to check it"
if psqlq "SELECT reason FROM vagt_items WHERE batch = 'b2' AND key = '$sent'" | grep -q 'check it'; then ok "$what"; else fail "$what"; fi
what="n1's item is in the output once, by n1 (never redone)"
if [ "$(grep -c " $sent\$" "$OUT")" -eq 1 ] && grep -q "^n1 $sent\$" "$OUT"; then ok "$what"; else fail "$what"; fi
check "n2's item was finished by another node on attempt 2" \
  [ "$(psqlq "SELECT state, attempts, node <> 'n2' FROM vagt_items WHERE batch = 'b2' AND key = '$held'")" = "done|2|t" ]
what="n2's item is in the output once, not by n2"
if [ "$(grep -c " $held\$" "$OUT")" -eq 1 ] && ! grep -q "^n2 $held\$" "$OUT"; then ok "$what"; else fail "$what"; fi
check "its claims: n2's expired back to pending, then done" \
  [ "$(psqlq "SELECT string_agg(c.node || ':' || c.attempt || ':' || c.outcome, ' ' ORDER BY c.id) FROM vagt_claims c JOIN vagt_items i ON i.id = c.item WHERE i.batch = 'b2' AND i.key = '$held'" | sed 's/^n[34]:2/nX:2/; s/ n[34]:2/ nX:2/')" = "n2:1:expired: pending nX:2:done" ]
check "every other item attempted once" [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE batch = 'b2' AND attempts <> 1 AND key <> '$held'")" = 0 ]
what="every item once in the output (60 lines, 60 keys)"
if [ "$(wc -l < "$OUT")" -eq 60 ] && [ "$(cut -d' ' -f2 "$OUT" | sort -u | wc -l)" -eq 60 ]; then ok "$what"; else fail "$what"; fi
check "no item held by two claimers at once" [ "$(overlaps)" = 0 ]
check "no item had input sent under two claims" \
  [ "$(psqlq "SELECT count(*) FROM (SELECT item FROM vagt_claims WHERE input_sent_at IS NOT NULL GROUP BY item HAVING count(*) > 1) x")" = 0 ]

# attempts exhausted: one item, one attempt allowed, its holder dies
claimer enqueue b3 1 --max-attempts 1 --key-prefix x >/dev/null
claimer --node n5 work b3 --run run-n5 --out "$OUT" --lease 1 --die-at claimed --die-item 1 --die-how exit >/dev/null 2>&1
sleep 1.2
claimer --node n6 work b3 --run run-n6 --out "$OUT" --lease 1 > "$PG_T/n6.log" 2>&1
check "a claim that ran out after its last attempt: failed, attempts exhausted" \
  [ "$(psqlq "SELECT state, reason, attempts FROM vagt_items WHERE batch = 'b3'")" = "failed|attempts exhausted|1" ]
check "nobody worked on it" [ "$(grep -c ' x1$' "$OUT")" -eq 0 ]

# a holder stalled past its lease (before sending input) loses the item and sends nothing
claimer enqueue b4 1 --key-prefix s >/dev/null
claimer --node n7 work b4 --run run-n7 --out "$OUT" --lease 1 --stall-ms 2500 > "$PG_T/n7.log" 2>&1 & p7=$!; PIDS=$p7
sleep 0.5
claimer --node n8 work b4 --run run-n8 --out "$OUT" --lease 1 > "$PG_T/n8.log" 2>&1
wait $p7; PIDS=""
cat "$PG_T/n7.log"
check "the stalled holder lost it before input" grep -q "^n7 lost s1 before input" "$PG_T/n7.log"
what="the other node did it, once"
if [ "$(grep -c ' s1$' "$OUT")" -eq 1 ] && grep -q '^n8 s1$' "$OUT"; then ok "$what"; else fail "$what"; fi
check "stalled item: done on attempt 2" [ "$(psqlq "SELECT state, attempts, node FROM vagt_items WHERE batch = 'b4'")" = "done|2|n8" ]

# a holder that renews its lease keeps the item through work longer than the lease
claimer enqueue b5 1 --key-prefix r >/dev/null
claimer --node n9 work b5 --run run-n9 --out "$OUT" --lease 2 --pause-ms 4000 > "$PG_T/n9.log" 2>&1 & p9=$!; PIDS=$p9
sleep 0.6
claimer --node n10 work b5 --run run-n10 --out "$OUT" --lease 2 > "$PG_T/n10.log" 2>&1
wait $p9; PIDS=""
what="the renewing holder did it, once, on attempt 1"
if [ "$(grep -c ' r1$' "$OUT")" -eq 1 ] && grep -q '^n9 r1$' "$OUT" && \
  [ "$(psqlq "SELECT state, attempts FROM vagt_items WHERE batch = 'b5'")" = "done|1" ]; then ok "$what"; else fail "$what"; fi
check "no item held by two claimers at once (all batches)" [ "$(overlaps)" = 0 ]
finish
