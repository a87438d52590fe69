#!/bin/sh
# Cross-site request forgery on the pages' forms (Approve, Run now): a browser logged in by
# cookie must not act for a page of another origin, also not one on another port of the
# same host (same site, so SameSite=Strict lets its cookie through). A POST that came
# from another origin (Origin, Sec-Fetch-Site) is refused 403, as is one without the
# session's form token; the pages' own forms work.
. "$(dirname "$0")/aglib.sh"
PORT=$(free_port)
TOKEN=tok-0123456789abcdef-$$
printf '%s\n' "$TOKEN" > token
chmod 600 token
printf -- '-- fake: FAKE_EXIT=3\n' > drift.lua
printf -- '-- fake: FAKE_EXIT=0\n' > pass.lua
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
robot "cpr-opslag" { script = "drift.lua" }
robot "fine" { script = "pass.lua" }
LUA
export VAGT_BIN="$FAKE"
"$VAGT" agent --once cpr-opslag --config agent.lua >o1.out 2>o1.err
"$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
U="http://127.0.0.1:$PORT"
up() { curl -s -o /dev/null "$U/"; }
wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }
code() { curl -s -o body -w '%{http_code}' "$@"; }
manual_runs() { sql state/vagt.db "SELECT count(*) FROM runs WHERE trigger='manual'"; }

# Log in as a browser does: ?token= sets the cookie; the page then carries the form token.
check "login: 303" test "$(code -c jar "$U/?token=$TOKEN")" = 303
check "the list: 200" test "$(code -b jar -c jar "$U/")" = 200
FORM=$(sed -n 's/.*action="\/robots\/fine\/run"><input type="hidden" name="csrf" value="\([^"]*\)".*/\1/p' body | head -1)
check "the Run now form carries a form token" test -n "$FORM"
check "a session cookie was set" grep -q vagt_session jar
OWN="Origin: $U"
EVIL="Origin: http://127.0.0.1:$(free_port)"

check "Run now by cookie without the form token: 403" \
  test "$(code -b jar -H "$OWN" -X POST "$U/robots/fine/run")" = 403
check "Run now by cookie with a wrong form token: 403" \
  test "$(code -b jar -H "$OWN" -d csrf=0000 "$U/robots/fine/run")" = 403
check "Run now from another port of this host (Origin): 403" \
  test "$(code -b jar -H "$EVIL" -d "csrf=$FORM" "$U/robots/fine/run")" = 403
check "Run now from a sandboxed page (Origin: null): 403" \
  test "$(code -b jar -H "Origin: null" -d "csrf=$FORM" "$U/robots/fine/run")" = 403
check "Run now with Sec-Fetch-Site: same-site: 403" \
  test "$(code -b jar -H "Sec-Fetch-Site: same-site" -d "csrf=$FORM" "$U/robots/fine/run")" = 403
check "Run now with Sec-Fetch-Site: cross-site: 403" \
  test "$(code -b jar -H "Sec-Fetch-Site: cross-site" -d "csrf=$FORM" "$U/robots/fine/run")" = 403
check "the token in a header does not excuse another origin: 403" \
  test "$(code -H "Authorization: Bearer $TOKEN" -H "$EVIL" -X POST "$U/robots/fine/run")" = 403
sleep 1
check "none of them queued a run" test "$(manual_runs)" = 0
check "refusals are logged" grep -q "POST /robots/fine/run refused" d.err

check "the page's own form (same origin, its token): 303" \
  test "$(code -b jar -H "$OWN" -H "Sec-Fetch-Site: same-origin" -d "csrf=$FORM" "$U/robots/fine/run")" = 303
ran() { [ "$(sql state/vagt.db "SELECT count(*) FROM runs WHERE trigger='manual' AND status='passed'")" -eq 1 ]; }
check "and the run ran" wait_for 15 ran

dir=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=1")
check "the run's page: 200" test "$(code -b jar -c jar "$U/runs/1")" = 200
AFORM=$(sed -n 's/.*action="\/runs\/1\/approve"><input type="hidden" name="csrf" value="\([^"]*\)".*/\1/p' body | head -1)
check "the Approve form carries the same session's token" test "$AFORM" = "$FORM"
check "Approve from another origin: 403" \
  test "$(code -b jar -H "$EVIL" -d "csrf=$AFORM" "$U/runs/1/approve")" = 403
check "Approve without the form token: 403" \
  test "$(code -b jar -H "$OWN" -X POST "$U/runs/1/approve")" = 403
check "nothing was approved" test ! -e "$dir/approved"
check "the page's own Approve form: 200" \
  test "$(code -b jar -H "$OWN" -d "csrf=$AFORM" "$U/runs/1/approve")" = 200
check "vagt approve was run" test -e "$dir/approved"
check "scripts with the token in a header need no form token" \
  test "$(code -H "Authorization: Bearer $TOKEN" -X POST "$U/robots/nope/run")" = 404
finish
