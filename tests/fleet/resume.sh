#!/bin/sh
# A drift halt that was not the application's change (a node set up wrongly, a test) can be
# dismissed: on any node's pages "Resume, baseline unchanged" ends the robot's fleet-wide
# pause without publishing a baseline, recorded in the audit trail; only the run that holds
# the pause resumes it; a robot not paused has nothing to resume. Runs are the agent tests'
# stand-in for vagt run (FAKE_EXIT=3: a drift halt with its alert.json).
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
export VAGT_BIN="$SRC/tests/agent/fake-vagt.sh" FAKE_SLEEP=0
pg_start || exit 1
cd "$PG_T" || exit 1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TOKEN=fleet-resume-token-0123456789-$$
PORT=$(free_port)
for n in a b; do
  mkdir -m 700 $n
  printf 'robot.log("x")\n' > $n/r.lua
  printf '%s\n' "$TOKEN" > $n/token; chmod 600 $n/token
  cat > $n/agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
node = "$n"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
robot "r" { script = "r.lua" }
LUA
done
once() { (cd $1 && FAKE_EXIT=$3 "$VAGT" agent --once r --config agent.lua > "$PG_T/$1-$2.out" 2> "$PG_T/$1-$2.err"); }

once a 1 0; r=$?
check "a's first run passes (exit $r)" [ "$r" -eq 0 ]
once a 2 3; r=$?
what="a's second run halts on drift (exit $r) and pauses the robot"
if [ "$r" -eq 3 ] && [ "$(psqlq "SELECT node, run FROM vagt_pause WHERE robot = 'r'")" = "a|2" ]; then ok "$what"; else fail "$what"; fi
once b 1 0; r=$?
what="b does not run it (exit $r)"
if [ "$r" -eq 3 ] && grep -q "paused on every node" b-1.err; then ok "$what"; else fail "$what"; fi
versions=$(psqlq "SELECT count(*) FROM vagt_baseline")

(cd a && exec "$VAGT" agent --config agent.lua > "$PG_T/a-d.out" 2> "$PG_T/a-d.err") &
PIDS="$PIDS $!"
U="http://127.0.0.1:$PORT"
AUTH="Authorization: Bearer $TOKEN"
i=0; until curl -s -o /dev/null "$U/" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
drift=$(psqlq "SELECT id FROM vagt_run WHERE node = 'a' AND local_id = 2")
passed=$(psqlq "SELECT id FROM vagt_run WHERE node = 'a' AND local_id = 1")
curl -s -H "$AUTH" "$U/runs/$drift" > run.html
check "the drift run's page offers to resume without a new baseline" \
  grep -q "action=\"/runs/$drift/resume\"" run.html
curl -s -H "$AUTH" "$U/" > index.html
check "the robots list says it is paused, with the halt's run, instead of a next run" \
  grep -q "<span class=\"drift\">paused on every node</span> (<a href=\"/runs/$drift\">run $drift</a>)" index.html
curl -s -H "$AUTH" "$U/robots/r" > robot.html
check "the robot's page says it is paused on every node, by which run" \
  grep -q "<strong>Paused on every node</strong> since its drift halt <a href=\"/runs/$drift\">run $drift</a> (node a&#39;s run 2, at " robot.html
code() { curl -s -o body -w '%{http_code}' -X POST -H "$AUTH" "$@"; }
what="Run now on a paused robot: 409, saying why and what to do"
if test "$(code "$U/robots/r/run")" = 409 && grep -q "robot r is paused on every node since its drift halt (node a's run 2" body; then ok "$what"; else fail "$what"; fi
check "resuming from a run that is no drift halt: 409" test "$(code "$U/runs/$passed/resume")" = 409
check "the robot is still paused" [ "$(psqlq "SELECT count(*) FROM vagt_pause")" = 1 ]
check "resuming from the halt that holds the pause: 200" test "$(code "$U/runs/$drift/resume")" = 200
check "it says the robot runs again" grep -q "robot r runs again on every node" body
what="the pause is gone, no baseline was published"
if [ "$(psqlq "SELECT count(*) FROM vagt_pause")" = 0 ] && [ "$(psqlq "SELECT count(*) FROM vagt_baseline")" = "$versions" ]; then ok "$what"; else fail "$what"; fi
check "the audit trail records who resumed it" \
  [ "$(psqlq "SELECT state, node FROM vagt_approval WHERE run = $drift")" = "resumed|a" ]
check "the halt stays unapproved in the history" \
  [ "$(psqlq "SELECT approved IS NULL FROM vagt_run WHERE id = $drift")" = t ]
what="resuming again: 409, not paused"
if test "$(code "$U/runs/$drift/resume")" = 409 && grep -q "is not paused" body; then ok "$what"; else fail "$what"; fi
curl -s -H "$AUTH" "$U/runs/$drift" > run2.html
check "once resumed, the halt's page offers no resume (nothing is paused)" \
  sh -c "! grep -q 'action=\"/runs/$drift/resume\"' run2.html"
curl -s -H "$AUTH" "$U/robots/r" > robot2.html
check "once resumed, the robot's page no longer says paused" sh -c '! grep -q "Paused on every node" robot2.html'
once b 2 0; r=$?
check "b runs the robot again (exit $r)" [ "$r" -eq 0 ]
finish
