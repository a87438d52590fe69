#!/bin/sh
# The operator pages: 401 without the token; with it (Bearer, or ?token= then a cookie) the
# robots and runs, a run's page, its report and evidence; nothing outside the state folder;
# Approve (POST) runs `vagt approve RUN_DIR`; /metrics in Prometheus text format; a token
# file others can read is refused. A needs_review run's page lists the work items left for a
# person (batch, row, the run that left it).
. "$(dirname "$0")/aglib.sh"
PORT=$(free_port)
TOKEN=tok-0123456789abcdef-$$
printf '%s\n' "$TOKEN" > token
chmod 600 token
printf -- '-- fake: FAKE_EXIT=3\n' > drift.lua
printf -- '-- fake: FAKE_EXIT=0\n' > pass.lua
printf -- '-- fake: FAKE_EXIT=5\n' > review.lua
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
robot "cpr-opslag" { script = "drift.lua", schedule = "30 2 * * 1-5", tz = "Europe/Copenhagen" }
robot "fine" { script = "pass.lua" }
robot "review" { script = "review.lua" }
LUA
export VAGT_BIN="$FAKE"
"$VAGT" agent --once cpr-opslag --config agent.lua >o1.out 2>o1.err
"$VAGT" agent --once fine --config agent.lua >o2.out 2>o2.err
"$VAGT" agent --once fine --config agent.lua >o3.out 2>o3.err
"$VAGT" agent --once review --config agent.lua >o4.out 2>o4.err
check "a needs_review run: --once exits 5" test $? -eq 5
"$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
U="http://127.0.0.1:$PORT"
up() { curl -s -o /dev/null "$U/"; }
wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }

code() { curl -s -o body -w '%{http_code}' "$@"; }
check "/ without the token: 401" test "$(code "$U/")" = 401
check "/metrics without the token: 401" test "$(code "$U/metrics")" = 401
check "a report without the token: 401" test "$(code "$U/runs/1/report.html")" = 401
check "a wrong token: 401" test "$(code -H "Authorization: Bearer nope" "$U/")" = 401
check "approve without the token: 401" test "$(code -X POST "$U/runs/1/approve")" = 401
check "nothing was approved" test ! -e "$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=1")/approved"
A="Authorization: Bearer $TOKEN"
check "/ with the token: 200" test "$(code -H "$A" "$U/")" = 200
check "the robots are listed" grep -q "cpr-opslag" body
check "the runs are listed with status" grep -q '<a href="/runs/1">1</a>.*class="drift">drift' body
check "a run's page" test "$(code -H "$A" "$U/runs/1")" = 200
check "it shows why it halted" grep -q "label &#39;CPR-nummer&#39; moved from (120,80) to (120,140)" body
check "one machine: no robot is paused, so no resume form" sh -c '! grep -q "/resume" body'
check "an element moved: the approval warns that fixed positions would act on what now stands there" \
  grep -q '<p class="warn"><strong>Elements moved.</strong>.*fixed positions' body
check "and has the Approve button" grep -q 'form method="post" action="/runs/1/approve"' body
check "and links the evidence" grep -q 'src="/runs/1/evidence/step-003-diff.png"' body
check "the report is served" test "$(code -H "$A" "$U/runs/1/report.html")" = 200
check "the report's content" grep -q "fake report drift" body
check "an evidence image is served" test "$(code -H "$A" "$U/runs/1/evidence/step-003-diff.png")" = 200
check "as image/png" sh -c "curl -s -D - -o /dev/null -H '$A' '$U/runs/1/evidence/step-003-diff.png' | grep -qi '^Content-Type: image/png'"
dir=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=1")
echo secret > outside.txt
ln -s "$T/outside.txt" "$dir/evidence/link.png"
check "a symlink out of the state folder: 404" test "$(code -H "$A" "$U/runs/1/evidence/link.png")" = 404
check "..: 404" test "$(code --path-as-is -H "$A" "$U/runs/1/evidence/../../../../vagt.db")" = 404
check "encoded ..: 404" test "$(code --path-as-is -H "$A" "$U/runs/1/evidence/..%2f..%2f..%2f..%2fvagt.db")" = 404
check "no such run: 404" test "$(code -H "$A" "$U/runs/99")" = 404
check "?token= sets a cookie and redirects" test "$(code -c jar "$U/runs/1?token=$TOKEN")" = 303
check "the cookie is HttpOnly, SameSite=Strict" sh -c "curl -s -D - -o /dev/null '$U/?token=$TOKEN' | grep -qi 'Set-Cookie: vagt_token=.*HttpOnly; SameSite=Strict'"
check "the cookie opens the pages" test "$(code -b jar "$U/runs/1")" = 200

check "/metrics: 200" test "$(code -H "$A" "$U/metrics")" = 200
check "runs by robot and status" grep -qx 'vagt_runs_total{robot="fine",status="passed"} 2' body
check "robots that never failed count 0" grep -qx 'vagt_runs_total{robot="fine",status="failed"} 0' body
check "drift runs" grep -qx 'vagt_runs_total{robot="cpr-opslag",status="drift"} 1' body
check "needs_review runs" grep -qx 'vagt_runs_total{robot="review",status="needs_review"} 1' body
check "drift count" grep -qx 'vagt_drift_total{robot="cpr-opslag"} 1' body
check "metric types" grep -qx '# TYPE vagt_last_success_timestamp_seconds gauge' body
check "last success of a robot" grep -q '^vagt_last_success_timestamp_seconds{robot="fine"} [0-9]' body
check "no last success for a robot that never passed" sh -c "! grep -q 'timestamp_seconds{robot=\"cpr-opslag\"}' body"
check "a needs_review run's page: 200" test "$(code -H "$A" "$U/runs/4")" = 200
check "... its status" grep -q 'class="needs_review">needs_review (exit 5)' body
d4=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=4")
check "... and the item left for a person, by batch and row" \
  grep -qF "<tr><td>borgere</td><td>4</td><td>$d4</td></tr>" body

check "Run now without the token: 401" test "$(code -X POST "$U/robots/fine/run")" = 401
check "Run now: 303 back to the list" test "$(code -X POST -H "$A" "$U/robots/fine/run")" = 303
check "Run now for no such robot: 404" test "$(code -X POST -H "$A" "$U/robots/nope/run")" = 404
manual() { [ "$(sql state/vagt.db "SELECT count(*) FROM runs WHERE trigger='manual' AND status='passed'")" -eq 1 ]; }
check "the manual run ran" wait_for 15 manual
check "the list has a Run now button" sh -c "curl -s -H '$A' '$U/' | grep -q 'action=\"/robots/fine/run\"'"
check "a control character in the path: 400" test "$(code -H "$A" "$U/runs/1%0d%0aX:%20y")" = 400
check "approve a passed run: refused (409)" test "$(code -X POST -H "$A" "$U/runs/2/approve")" = 409
check "approve the drift run: 200" test "$(code -X POST -H "$A" "$U/runs/1/approve")" = 200
check "vagt approve RUN_DIR was run" test -e "$dir/approved"
check "its output is shown" grep -q "fake vagt: approved $dir" body
check "approved once only" test "$(code -X POST -H "$A" "$U/runs/1/approve")" = 409
kill -TERM $D; wait $D; rc=$?
check "the daemon stops cleanly on SIGTERM (exit $rc)" test $rc -eq 0

chmod 640 token
"$VAGT" agent --config agent.lua >d2.out 2>d2.err
rc=$?
check "a token file others can read: exit 2 ($rc)" test $rc -eq 2
check "and says why, with the line" grep -q "agent.lua:3: token file .* can be read by group or others" d2.err
"$VAGT" agent --check --config agent.lua >c.out 2>c.err
check "--check finds it too" test $? -eq 2
finish
