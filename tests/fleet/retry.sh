#!/bin/sh
# robot.items' retry_failed in a fleet: on node a an item fails (the script's error), another
# is done, a third waits; node b's run, whose script asks to retry failed items, does the
# failed one again (its attempts counted afresh) and the waiting one, while an item that
# needs review (its input may have been sent) is never redone: it stays for a person.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
pg_start || exit 1
cd "$PG_T" || exit 1
export VAGT_BIN="$VAGT" VAGT_OCR_THREADS=1
show() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; }
cat > r.lua <<'LUA'
-- items a..d; "b" fails while fail = "1"; "d" is made to need review before the second run
local p = robot.params
local list = { { id = "a" }, { id = "b" }, { id = "c" }, { id = "d" } }
for item in robot.items("retry-batch", list, { key = "id", retry_failed = p.retry == "1" }) do
  if item.id == "b" and p.fail == "1" then error("item b cannot be done today") end
  robot.log("item " .. item.id .. " done")
end
LUA
head -c 32 /dev/urandom > fleet.key; chmod 600 fleet.key
conf() { # conf NODE PARAMS
  cat > "$1.lua" <<LUA
state = "s$1"
listen = false
node = "$1"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
items_key_file = "fleet.key"
retention_days = 365
robot "r" { script = "r.lua", params = { $2 } }
LUA
}
state() { psqlq "SELECT string_agg(seq || ':' || state || ':' || attempts, ' ' ORDER BY seq) FROM vagt_items WHERE batch = 'retry-batch'"; }
conf a 'fail = "1"'
"$VAGT" agent --once r --config a.lua > a.out 2> a.err; ra=$?
echo "a: exit $ra; items $(state)"
what="on a: item 1 done, item 2 failed (the script's error), 3 and 4 not reached"
if [ "$(state)" = "1:done:1 2:failed:1 3:pending:0 4:pending:0" ]; then ok "$what"; else fail "$what"; show a.err sa/logs/1.log; fi
what="a's run fails on the script's error (exit $ra)"
if [ "$ra" -eq 1 ] && grep -q "item b cannot be done today" a.err sa/logs/1.log; then ok "$what"; else fail "$what"; fi
# item 4: as if a node died after sending its input (the lease ran out with input sent)
psqlq "UPDATE vagt_items SET state = 'needs_review', attempts = 1, node = 'x', run = '9', input_sent_at = now() WHERE batch = 'retry-batch' AND seq = 4" >/dev/null
conf b 'retry = "1"'
"$VAGT" agent --once r --config b.lua > b.out 2> b.err; rb=$?
echo "b: exit $rb; items $(state)"
what="on b, retry_failed: the failed item 2 done again (attempts counted afresh), 3 done"
if [ "$(state)" = "1:done:1 2:done:1 3:done:1 4:needs_review:1" ]; then ok "$what"; else fail "$what"; show b.err sb/logs/1.log; fi
what="b's log: items b and c done, a and d not redone"
if grep -q "item b done" sb/logs/1.log && grep -q "item c done" sb/logs/1.log && \
  ! grep -q "item a done" sb/logs/1.log && ! grep -q "item d done" sb/logs/1.log; then ok "$what"; else fail "$what"; fi
what="the item that needs review stays for a person, and b's run says so (exit $rb)"
if [ "$rb" -eq 5 ] && grep -q "retry-batch" "$(ls -d sb/runs/r/*/ | head -n 1)run.json"; then ok "$what"; else fail "$what"; fi
finish
