#!/bin/sh
# A run folder whose alert.json and run.json are FIFOs (a program the robot started can make
# them) must not hang the agent that records the run's end: they are not regular files,
# so they are not read, and the run is recorded with its exit status and its alert.
. "$(dirname "$0")/aglib.sh"
start_receiver
printf -- '-- fake: FAKE_EXIT=3 FAKE_FIFO="alert.json run.json"\n' > drift.lua
cat > agent.lua <<LUA
state = "state"
listen = false
channel "ops" { webhook = "http://127.0.0.1:$HTTP_PORT/hook" }
robot "r" { script = "drift.lua", alert = { "ops" } }
LUA
export VAGT_BIN="$FAKE" VAGT_AGENT_DELIVER_SECONDS=20
timeout -s KILL 60 "$VAGT" agent --once r --config agent.lua >o.out 2>o.err
rc=$?
check "--once ends with the run's status, not a hang ($rc)" test $rc -eq 3
check "the run folder really has FIFOs" sh -c 'test -p state/runs/r/*/alert.json'
check "the run is recorded as drift, exit 3" test "$(sql state/vagt.db "SELECT status, exit_code FROM runs WHERE id=1")" = "drift|3"
check "its alert was delivered" test "$(lines "$RX/webhooks.jsonl")" -eq 1
finish
