#!/bin/sh
# The daemon runs robots on their schedule (a test clock: $VAGT_AGENT_NOW starts the
# agent's clock 3 s before a minute), records them in SQLite, keeps the history across a
# restart, runs a schedule missed while it was down once at start (catch_up) or skips it
# (catch_up = false); a run past its timeout is stopped with its process group.
. "$(dirname "$0")/aglib.sh"
echo 'robot.log("x")' > r.lua
cat > agent.lua <<'LUA'
state = "state"
listen = false
max_parallel = 2
-- the test's clock runs a month ahead of the run folders' files: retention must not take
-- this history for a month old
retention_days = 365
robot "every" { script = "r.lua", schedule = "* * * * *", tz = "Europe/Copenhagen" }
robot "skip" { script = "r.lua", schedule = "* * * * *", catch_up = false }
robot "never" { script = "r.lua", schedule = "0 3 * * *", tz = "UTC" }
robot "slow" { script = "r.lua", timeout = 1 }
LUA
export VAGT_BIN="$FAKE" FAKE_EXIT=0
now=$(date +%s)
M1=$(( (now / 60 + 1) * 60 + 86400 * 30 ))
M1=$(( M1 - M1 % 86400 + 3600 * 10 ))  # 10:00 UTC on a day a month ahead: not 03:00
VAGT_AGENT_NOW=$((M1 - 3)) "$VAGT" agent --config agent.lua >d1.out 2>d1.err &
D=$!; PIDS="$PIDS $D"
have_runs() { [ "$(sql state/vagt.db "SELECT count(*) FROM runs WHERE status='passed'")" -ge "$1" ]; }
if wait_for 20 have_runs 2; then ok "both minute robots ran at the minute"; else fail "no scheduled runs"; show d1.err; fi
kill -TERM $D; wait $D; rc=$?
check "SIGTERM stops the daemon cleanly (exit $rc)" test $rc -eq 0
got=$(sql state/vagt.db "SELECT robot, trigger, scheduled, status FROM runs ORDER BY robot")
want="every|schedule|$M1|passed
skip|schedule|$M1|passed"
[ "$got" = "$want" ] && ok "recorded with trigger and scheduled time" || { fail "runs: $got"; show d1.err; }
check "the agent logged the next run in local time of the robot's zone" grep -q "robot every: next run .*CET" d1.err

# Ten minutes later, just past a minute: the agent's clock runs on while the test waits for
# the catch-up run, and must not reach the next minute (another scheduled run) before the
# kill (its last_scheduled would move on); it had 30 s, which ASan on a loaded machine used up.
VAGT_AGENT_NOW=$((M1 + 605)) "$VAGT" agent --config agent.lua >d2.out 2>d2.err &
D=$!; PIDS="$PIDS $D"
if wait_for 20 have_runs 3; then ok "the missed run ran at start"; else fail "no catch-up run"; show d2.err; fi
sleep 1.5
kill -TERM $D; wait $D
got=$(sql state/vagt.db "SELECT id, robot, trigger, scheduled FROM runs WHERE id > 2")
[ "$got" = "3|every|catch-up|$((M1 + 600))" ] && ok "one catch-up run for the latest missed time" || { fail "after restart: $got"; show d2.err; }
check "catch_up = false skipped it, and said so" grep -q "robot skip missed its run .* skipped (catch_up = false)" d2.err
check "history kept across the restart" test "$(sql state/vagt.db "SELECT count(*) FROM runs")" -eq 3
check "last scheduled time kept per robot" \
  test "$(sql state/vagt.db "SELECT robot, last_scheduled FROM sched ORDER BY robot" | tr '\n' ' ')" = "every|$((M1 + 600)) never|$((M1 - 3)) skip|$((M1 + 600)) "

# max_parallel = 1: three robots due at the same minute run one after the other.
printf -- '-- fake: FAKE_EXIT=0 FAKE_SLEEP=1\n' > slow1.lua
cat > par.lua <<'LUA'
state = "state2"
listen = false
max_parallel = 1
robot "a" { script = "slow1.lua", schedule = "* * * * *" }
robot "b" { script = "slow1.lua", schedule = "* * * * *" }
robot "c" { script = "slow1.lua", schedule = "* * * * *" }
LUA
VAGT_AGENT_NOW=$((M1 - 2)) "$VAGT" agent --config par.lua >p.out 2>p.err &
D=$!; PIDS="$PIDS $D"
three() { [ "$(sql state2/vagt.db "SELECT count(*) FROM runs WHERE status='passed'")" -ge 3 ]; }
if wait_for 30 three; then ok "three robots ran"; else fail "not three runs"; show p.err; fi
kill -TERM $D; wait $D
overlap=$(sql state2/vagt.db "SELECT count(*) FROM runs x JOIN runs y ON x.id < y.id WHERE y.started < x.finished")
check "never two at once under max_parallel = 1 ($overlap overlaps)" test "$overlap" -eq 0

# Timeout: the fake takes 30 s, the robot may take 1.
start=$(date +%s)
FAKE_SLEEP=30 "$VAGT" agent --once slow --config agent.lua >t.out 2>t.err
rc=$?; took=$(( $(date +%s) - start ))
check "a timed-out run exits 1 (exit $rc)" test $rc -eq 1
check "it was stopped in time ($took s)" test $took -lt 15
check "status timeout in the history" test "$(sql state/vagt.db "SELECT status FROM runs WHERE robot='slow'")" = timeout
pid=$(sql state/vagt.db "SELECT pid FROM runs WHERE robot='slow'")
alive=$(ps -eo pgid=,stat= | awk -v p="$pid" '$1 == p && $2 !~ /^Z/' | wc -l)
check "its process group is gone ($alive left)" test "$alive" -eq 0
finish
