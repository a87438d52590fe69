#!/bin/sh
# At-least-once alerts: the agent is killed with SIGKILL while the webhook receiver holds
# the delivery; after a restart the same alert (same id) arrives. A run in progress when
# the agent is killed is recorded as interrupted at the restart, with an alert.
. "$(dirname "$0")/aglib.sh"
start_receiver --hold-first 30
printf -- '-- fake: FAKE_EXIT=3\n' > drift.lua
printf -- '-- fake: FAKE_EXIT=0 FAKE_SLEEP=60\n' > long.lua
cat > agent.lua <<LUA
state = "state"
listen = false
channel "hook" { webhook = "http://127.0.0.1:$HTTP_PORT/hook" }
robot "drifting" { script = "drift.lua", schedule = "* * * * *", alert = "hook", catch_up = false }
robot "long" { script = "long.lua", schedule = "* * * * *", alert = "hook", catch_up = false }
LUA
export VAGT_BIN="$FAKE" VAGT_AGENT_RETRY_BASE=0.3
now=$(date +%s)
M=$(( (now / 60 + 1) * 60 + 86400 ))
VAGT_AGENT_NOW=$((M - 2)) "$VAGT" agent --config agent.lua >d1.out 2>d1.err &
D=$!; PIDS="$PIDS $D"
arrived() { [ "$(lines "$RX/arrived.log")" -ge 1 ]; }
if wait_for 20 arrived; then ok "the drift alert's delivery started"; else fail "no delivery"; show d1.err; fi
id=$(head -n1 "$RX/arrived.log" | cut -d' ' -f1)
longpid=$(sql state/vagt.db "SELECT pid FROM runs WHERE robot='long'")
kill -KILL $D; wait $D 2>/dev/null
check "the receiver has not answered yet (nothing delivered)" test "$(lines "$RX/webhooks.jsonl")" -eq 0
check "the outbox still holds it" test "$(sql state/vagt.db "SELECT count(*) FROM outbox WHERE delivered IS NULL AND alert_id='$id'")" -eq 1
gone() { ! ps -eo pid=,stat= | awk -v p="$longpid" '$1 == p && $2 !~ /^Z/' | grep -q .; }
check "the long run ended with the agent" wait_for 10 gone

VAGT_AGENT_NOW=$((M + 5)) "$VAGT" agent --config agent.lua >d2.out 2>d2.err &
D=$!; PIDS="$PIDS $D"
delivered() { grep -q "\"id\":\"$id\"" "$RX/webhooks.jsonl"; }
if wait_for 20 delivered; then ok "after the restart the same alert ($id) arrived"; else fail "alert $id lost"; show d2.err; fi
interrupted() { grep -q '"robot":"long".*"run_status":"interrupted"' "$RX/webhooks.jsonl"; }
if wait_for 20 interrupted; then ok "the interrupted run was alerted"; else fail "no alert for the interrupted run"; show "$RX/webhooks.jsonl" d2.err; fi
kill -TERM $D; wait $D; rc=$?
check "the daemon stops cleanly on SIGTERM (exit $rc)" test $rc -eq 0
check "the history says interrupted" test "$(sql state/vagt.db "SELECT status FROM runs WHERE robot='long'")" = interrupted
check "the outbox is empty" test "$(sql state/vagt.db "SELECT count(*) FROM outbox WHERE delivered IS NULL")" -eq 0
check "no second drift alert was made (one alert id for the drift run)" \
  test "$(sql state/vagt.db "SELECT count(DISTINCT alert_id) FROM outbox WHERE robot='drifting'")" -eq 1
finish
