#!/bin/sh
# A run's end when the agent's database will not take it: while another process holds an
# exclusive lock for $HOLD (40) s, and while the disk is full (an LD_PRELOAD library makes
# writes to vagt.db fail with ENOSPC while a flag file exists). The end is retried until
# the database accepts it, then written once with the run's real status (drift, exit 3),
# and its alert goes out once. An agent killed while the disk is full leaves the run
# "running"; the next start records the real status from the run folder, not
# "interrupted".
. "$(dirname "$0")/aglib.sh"
ENOSPC_LIB=${ENOSPC_LIB:?ENOSPC_LIB must name the ENOSPC preload library}
HOLD=${HOLD:-40}
start_receiver
# The run ends when the test says so (go-RUN_ID): the database is locked or full by then.
printf -- '-- fake: FAKE_EXIT=3; while [ ! -e "go-$VAGT_AGENT_RUN_ID" ]; do sleep 0.1; done\n' > drift.lua
cat > agent.lua <<LUA
state = "state"
listen = false
channel "ops" { webhook = "http://127.0.0.1:$HTTP_PORT/hook" }
robot "r" { script = "drift.lua", alert = { "ops" } }
LUA
export VAGT_BIN="$FAKE"
export VAGT_AGENT_DELIVER_SECONDS=20
q() { sql state/vagt.db "$1"; }
status_of() { q "SELECT status || ' ' || coalesce(exit_code, '-') FROM runs WHERE id=$1"; }
is_running() { [ "$(status_of "$1")" = "running -" ]; }
hooks_for() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["run_id"] == int(sys.argv[2])))' "$RX/webhooks.jsonl" "$1" 2>/dev/null || echo 0; }
hook_id() { python3 -c 'import json,sys; print([json.loads(l)["id"] for l in open(sys.argv[1]) if json.loads(l)["run_id"] == int(sys.argv[2])][0])' "$RX/webhooks.jsonl" "$1" 2>/dev/null; }

# 1. Another process holds an exclusive lock while the run ends.
"$VAGT" agent --once r --config agent.lua >a.out 2>a.err &
A=$!; PIDS="$PIDS $A"
wait_for 30 is_running 1 || { fail "run 1 did not start"; show a.err; }
python3 - state/vagt.db "$HOLD" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open("locked", "w").close()
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
open("released", "w").close()
PY
H=$!; PIDS="$PIDS $H"
wait_for 20 test -e locked || fail "the lock was not taken"
touch go-1
refused() { grep -q "run $1: robot r drift (exit 3), but the database does not take its end yet" "$2"; }
check "the end was refused while locked" wait_for $((HOLD + 20)) refused 1 a.err
[ -e released ] && fail "the lock ended before the run did: nothing was tested"
check "meanwhile the run is still running in the database" is_running 1
wait $A; rc=$?
check "--once exits with the run's own status once recorded (exit $rc)" test $rc -eq 3
check "the lock was held past the busy timeout, and the end retried" grep -q "attempt 2," a.err
check "run 1 recorded as drift, exit 3" test "$(status_of 1)" = "drift 3"
check "one outbox row for run 1" test "$(q "SELECT count(*) FROM outbox WHERE run_id=1")" = 1
check "delivered once" test "$(hooks_for 1)" = 1
check "with the outbox row's id" test "$(hook_id 1)" = "$(q "SELECT alert_id FROM outbox WHERE run_id=1")"
wait $H

# 2. The disk is full when the run ends, and is freed later.
export VAGT_TEST_ENOSPC_FLAG="$T/disk-full"
LD_PRELOAD="$ENOSPC_LIB" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
  "$VAGT" agent --once r --config agent.lua >b.out 2>b.err &
B=$!; PIDS="$PIDS $B"
wait_for 30 is_running 2 || { fail "run 2 did not start"; show b.err; }
touch disk-full go-2
check "the end was refused on a full disk" wait_for 60 refused 2 b.err
twice() { grep -q "run 2: .*attempt 2," b.err; }
check "and retried" wait_for 30 twice
check "run 2 is still running in the database" is_running 2
check "no outbox row for it yet" test "$(q "SELECT count(*) FROM outbox WHERE run_id=2")" = 0
rm disk-full
wait $B; rc=$?
check "once the disk has room: --once exits 3 ($rc)" test $rc -eq 3
check "run 2 recorded as drift, exit 3" test "$(status_of 2)" = "drift 3"
check "one outbox row for run 2" test "$(q "SELECT count(*) FROM outbox WHERE run_id=2")" = 1
check "delivered once" test "$(hooks_for 2)" = 1

# 3. The agent is killed while the disk is full; the next start records the real status.
LD_PRELOAD="$ENOSPC_LIB" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
  "$VAGT" agent --once r --config agent.lua >c.out 2>c.err &
C=$!; PIDS="$PIDS $C"
wait_for 30 is_running 3 || { fail "run 3 did not start"; show c.err; }
touch disk-full go-3
check "the end was refused on a full disk" wait_for 60 refused 3 c.err
kill -KILL $C; wait $C 2>/dev/null
check "killed: run 3 is left running" is_running 3
rm disk-full
"$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
recovered() { ! is_running 3; }
check "the next start records run 3" wait_for 30 recovered
check "with its real status: drift, exit 3 (not interrupted, 130)" test "$(status_of 3)" = "drift 3"
check "the error notes the folder gave it" test -n "$(q "SELECT 1 FROM runs WHERE id=3 AND error LIKE '%status and exit code from the run''s folder%'")"
got3() { [ "$(hooks_for 3)" = 1 ]; }
check "its alert is delivered once" wait_for 30 got3
check "as a drift" test "$(python3 -c 'import json,sys; print([json.loads(l)["status"] for l in open(sys.argv[1]) if json.loads(l)["run_id"] == 3][0])' "$RX/webhooks.jsonl")" = drift
kill -TERM $D; wait $D
check "no run is left running" test "$(q "SELECT count(*) FROM runs WHERE status='running'")" = 0
check "three alerts, three different ids" test "$(q "SELECT count(DISTINCT alert_id) FROM outbox")" = 3
finish
