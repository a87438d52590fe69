#!/bin/sh
# Operators and the audit trail of baselines, for real: two operators (anne, bob) with a
# token each; each token gets in and the pages name its operator; a wrong token gets 401.
# A robot recorded against the demo app halts on a "vendor update"; anne approves it on the
# pages: approved.json, the approvals table and the run page say anne, and the baseline's
# files changed. Then, with approvals = 2, the next drift: anne's approval is only pending
# (the baseline's files unchanged), anne again is refused, bob's replaces the baseline and
# both names are recorded. A reverse proxy's user header counts only from the proxy's
# address. Configuration mistakes end --check with exit 2 and file:line.
. "$(dirname "$0")/aglib.sh"
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
PORT=$(free_port)
ANNE=anne-token-0123456789-$$
BOB=bob-token-0123456789-$$
printf '%s\n' "$ANNE" > anne.token; printf '%s\n' "$BOB" > bob.token
chmod 600 anne.token bob.token
cp "$AGT/sag_robot.lua" sag.lua # registers one citizen in one step (line 6: its click)
"$VAGT" record sag.lua --xvfb --runs recruns --set "app=$DEMO_APP" --set variant=normal \
  --set out="$T/rec.tsv" >rec.out 2>rec.err || { fail "vagt record failed"; show rec.err; finish; }
BASE=$(ls -d "$T"/*.baseline 2>/dev/null | head -n1)
[ -d "$BASE" ] || { fail "no baseline folder after recording"; ls "$T" >&2; finish; }
# agent.lua VARIANT APPROVALS: two operators, the robot against that variant of the app
config() {
  cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
approvals = $2
operator "anne" { token_file = "anne.token" }
operator "bob" { token_file = "bob.token" }
robot "sag" { script = "sag.lua",
  params = { app = "$DEMO_APP", variant = "$1", out = "$T/saved.tsv" } }
LUA
}
sums() { (cd "$BASE" && sha256sum $(ls | sort)); }
U="http://127.0.0.1:$PORT"
up() { curl -s -o /dev/null "$U/"; }
code() { curl -s -o body -w '%{http_code}' "$@"; }
start() {
  "$VAGT" agent --config agent.lua >>d.out 2>>d.err &
  D=$!; PIDS="$PIDS $D"
  wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }
}
stop() { kill -TERM $D; wait $D; rc=$?; check "the daemon stops cleanly (exit $rc)" test $rc -eq 0; }
run_dir() { sql state/vagt.db "SELECT run_dir FROM runs WHERE id=$1"; }

config renamed 1
check "--check accepts two operators" "$VAGT" agent --check --config agent.lua
"$VAGT" agent --once sag --config agent.lua >o1.out 2>o1.err
rc=$?
[ $rc -eq 3 ] && ok "the vendor update halts run 1: exit 3" || { fail "exit $rc, wanted 3"; show o1.err; finish; }
start
check "anne's token gets in: 200" test "$(code -H "Authorization: Bearer $ANNE" "$U/")" = 200
check "the page names anne" grep -q "signed in as <b>anne</b>" body
check "bob's token gets in: 200" test "$(code -H "Authorization: Bearer $BOB" "$U/runs/1")" = 200
check "the page names bob" grep -q "signed in as <b>bob</b>" body
check "a wrong token: 401" test "$(code -H "Authorization: Bearer wrong-token-0123456789" "$U/")" = 401
check "no token: 401" test "$(code "$U/")" = 401
check "anne's token with a character more: 401" test "$(code -H "Authorization: Bearer ${ANNE}x" "$U/")" = 401
sums > before1
check "anne approves run 1: 200" test "$(code -X POST -H "Authorization: Bearer $ANNE" "$U/runs/1/approve")" = 200
check "vagt approve's own words name anne" grep -q "approved by anne" body
sums > after1
check "the baseline's files changed" sh -c '! cmp -s before1 after1'
D1=$(run_dir 1)
python3 - "$D1/approved.json" anne <<'PY' || fail "approved.json of run 1"
import json, sys
a = json.load(open(sys.argv[1]))
print("approved.json:", {k: a.get(k) for k in ("by", "by_source", "approvers", "step", "files", "reasons")})
assert a["by"] == sys.argv[2] and a["approvers"] == [sys.argv[2]] and a["by_source"] == "agent"
assert a["step"] == "Registrer borger#1:click" and a["approved"]
assert a["files"] and all(f.startswith("Registrer") or "Registrer" in f for f in a["files"]), a["files"]
assert any("Navn" in r for r in a["reasons"]), a["reasons"]
assert a["login_user"]
assert a["files_replaced"] and a["files_replaced"] != a["files"], (a["files_replaced"], a["files"])
PY
check "approvals table: run 1 approved by anne" \
  test "$(sql state/vagt.db "SELECT group_concat(by || ':' || state) FROM approvals WHERE run_id=1")" = "anne:approved"
check "the table keeps what changed" \
  test -n "$(sql state/vagt.db "SELECT changed FROM approvals WHERE run_id=1 AND changed LIKE '%Registrer borger#1:click%'")"
check "the run page: 200" test "$(code -H "Authorization: Bearer $BOB" "$U/runs/1")" = 200
check "the run page shows anne approved it" grep -q 'class="by">anne<' body
check "and which step" grep -q "Registrer borger#1:click" body
check "and the files replaced" grep -q "files replaced: <code>Registrer_borger" body
check "the robot page: 200" test "$(code -H "Authorization: Bearer $BOB" "$U/robots/sag")" = 200
check "the robot page lists anne's approval" grep -q 'class="by">anne<' body
stop

# approvals = 2: the app as it was recorded is now a drift against the approved baseline.
config normal 2
check "--check accepts approvals = 2 with two operators" "$VAGT" agent --check --config agent.lua
"$VAGT" agent --once sag --config agent.lua >o2.out 2>o2.err
rc=$?
[ $rc -eq 3 ] && ok "run 2 halts on drift: exit 3" || { fail "exit $rc, wanted 3"; show o2.err; finish; }
D2=$(run_dir 2)
start
sums > before2
check "anne approves run 2: 200" test "$(code -X POST -H "Authorization: Bearer $ANNE" "$U/runs/2/approve")" = 200
check "the reply says 1 of 2 approvals (anne)" grep -q "1 of 2 approvals (anne)" body
sums > after2
check "one approval leaves the baseline's files unchanged" cmp -s before2 after2
check "no approved.json yet" test ! -e "$D2/approved.json"
check "anne's approval is pending in the table" \
  test "$(sql state/vagt.db "SELECT group_concat(by || ':' || state) FROM approvals WHERE run_id=2")" = "anne:pending"
check "the run page: 200" test "$(code -H "Authorization: Bearer $BOB" "$U/runs/2")" = 200
check "the run page shows 1 of 2 approvals (anne)" grep -q "1 of 2 approvals (anne)" body
check "anne again: 409" test "$(code -X POST -H "Authorization: Bearer $ANNE" "$U/runs/2/approve")" = 409
check "with a clear message" grep -q "anne has approved this run already" body
sums > after2b
check "the baseline's files still unchanged" cmp -s before2 after2b
check "still one row, pending" \
  test "$(sql state/vagt.db "SELECT group_concat(by || ':' || state) FROM approvals WHERE run_id=2")" = "anne:pending"
# bob as a browser: the cookie and the run page's form token
check "bob logs in: 303" test "$(code -c jar "$U/?token=$BOB")" = 303
check "bob's run page: 200" test "$(code -b jar -c jar "$U/runs/2")" = 200
FORM=$(sed -n 's/.*action="\/runs\/2\/approve"><input type="hidden" name="csrf" value="\([^"]*\)".*/\1/p' body | head -1)
check "the Approve form is still there, with its form token" test -n "$FORM"
check "bob's approval: 200" test "$(code -b jar -H "Origin: $U" -d "csrf=$FORM" "$U/runs/2/approve")" = 200
sums > after2c
check "the second operator's approval replaced the baseline's files" sh -c '! cmp -s before2 after2c'
python3 - "$D2/approved.json" <<'PY' || fail "approved.json of run 2"
import json, sys
a = json.load(open(sys.argv[1]))
print("approved.json:", {k: a.get(k) for k in ("by", "approvers", "files")})
assert a["approvers"] == ["anne", "bob"] and a["by"] == "bob" and a["files"]
PY
check "the table records both, approved" \
  test "$(sql state/vagt.db "SELECT group_concat(by || ':' || state) FROM approvals WHERE run_id=2")" = "anne:approved,bob:approved"
check "the robot page: 200" test "$(code -H "Authorization: Bearer $ANNE" "$U/robots/sag")" = 200
check "the robot page lists bob" grep -q 'class="by">bob<' body
check "a third approval: 409" test "$(code -X POST -H "Authorization: Bearer $ANNE" "$U/runs/2/approve")" = 409
stop

# A reverse proxy's user header, believed only from the proxy's address (127.0.0.2 here:
# the whole of 127/8 is this host).
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
operator "anne" { token_file = "anne.token" }
trusted_proxy = { address = "127.0.0.2", header = "X-Remote-User" }
robot "sag" { script = "sag.lua" }
LUA
check "--check accepts trusted_proxy" "$VAGT" agent --check --config agent.lua
start
P="--interface 127.0.0.2"
check "the proxy's user: 200" test "$(code $P -H "X-Remote-User: carol" "$U/")" = 200
check "the page names carol" grep -q "signed in as <b>carol</b>" body
check "the header from another address (127.0.0.1): 401" \
  test "$(code -H "X-Remote-User: carol" "$U/")" = 401
check "from the proxy without the header: 401" test "$(code $P "$U/")" = 401
check "a name that is no name: 401" test "$(code $P -H "X-Remote-User: carol <x>" "$U/")" = 401
check "tokens still work beside the proxy" test "$(code -H "Authorization: Bearer $ANNE" "$U/")" = 200
check "the proxy's user needs the form token to POST: 403" \
  test "$(code $P -H "X-Remote-User: carol" -X POST "$U/runs/2/approve")" = 403
stop

# Configuration mistakes: exit 2 and file:line.
bad() { # bad NAME LINE-PATTERN: --check exits 2 and names the file and line
  "$VAGT" agent --check --config "$1.lua" >"$1.out" 2>"$1.err"; rc=$?
  if [ $rc -eq 2 ] && grep -q "$1.lua:$2: $3" "$1.err"; then ok "$1: exit 2, $1.lua:$2"
  else fail "$1: exit $rc"; show "$1.err"; fi
}
cat > dup-operator.lua <<LUA
state = "state"
operator "anne" { token_file = "anne.token" }
operator "anne" { token_file = "bob.token" }
robot "sag" { script = "sag.lua" }
LUA
bad dup-operator 3 "operator 'anne' is declared twice"
cp anne.token anne2.token
cat > dup-token.lua <<LUA
state = "state"
operator "anne" { token_file = "anne.token" }
robot "sag" { script = "sag.lua" }
operator "carl" { token_file = "anne2.token" }
LUA
bad dup-token 4 "operator 'carl' has the same token as operator 'anne'"
printf '%s\n' "carl-token-0123456789" > carl.token; chmod 644 carl.token
cat > open-token.lua <<LUA
state = "state"
operator "anne" { token_file = "anne.token" }

operator "carl" { token_file = "carl.token" }
robot "sag" { script = "sag.lua" }
LUA
bad open-token 4 "operator 'carl': token file .*carl.token can be read by group or others"
cat > two-needed.lua <<LUA
state = "state"
token_file = "anne.token"
approvals = 2
robot "sag" { script = "sag.lua" }
LUA
bad two-needed 3 "approvals = 2 needs 2 different operators"
check "which says to declare operators" grep -q 'declare each with operator "name"' two-needed.err
cat > bad-proxy.lua <<LUA
state = "state"
operator "anne" { token_file = "anne.token" }
trusted_proxy = { address = "localhost", header = "X-Remote-User" }
robot "sag" { script = "sag.lua" }
LUA
bad bad-proxy 3 "trusted_proxy: 'address' must be the proxy's numeric address"
finish
