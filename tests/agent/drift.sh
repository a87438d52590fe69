#!/bin/sh
# The drift path for real: a robot recorded against the demo app, then run by the agent
# against a "vendor update" (variant renamed: the label Navn now reads Fulde navn). The
# real `vagt run` halts with exit 3 and writes alert.json and the diff image; the webhook,
# the e-mail and the syslog line (to a socket the test owns) carry the monitor's step and
# reason, and the e-mail no image (the evidence is masked, the default); the operator
# approves on the pages (POST, runs `vagt approve`), and the next run passes.
. "$(dirname "$0")/aglib.sh"
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
start_receiver --syslog "$T/syslog.sock"
PORT=$(free_port)
TOKEN=drift-token-0123456789-$$
printf '%s\n' "$TOKEN" > token; chmod 600 token
cp "$AGT/sag_robot.lua" sag.lua # registers one citizen in one step (line 6: its click)
"$VAGT" record sag.lua --xvfb --runs recruns --set "app=$DEMO_APP" --set variant=normal \
  --set out="$T/rec.tsv" >rec.out 2>rec.err || { fail "vagt record failed"; show rec.err; finish; }
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
channel "ops" {
  webhook = "http://127.0.0.1:$HTTP_PORT/hook",
  email = { to = "drift@kommune.example", from = "vagt@kommune.example", smtp = "smtp://127.0.0.1:$SMTP_PORT" },
  syslog = { socket = "syslog.sock" },
}
robot "sag" { script = "sag.lua", alert = "ops",
  params = { app = "$DEMO_APP", variant = "renamed", out = "$T/saved.tsv" } }
LUA
"$VAGT" agent --once sag --config agent.lua >o1.out 2>o1.err
rc=$?
[ $rc -eq 3 ] && ok "the vendor update halts the run: exit 3" || { fail "exit $rc, wanted 3"; show o1.err state/logs/1.log; }
check "no input was typed into the changed form" test ! -s saved.tsv
python3 - "$RX" <<'PY' || failures=$((failures + 1))
import email, json, os, sys
rx = sys.argv[1]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
hooks = [json.loads(l) for l in open(os.path.join(rx, "webhooks.jsonl"))] if os.path.exists(os.path.join(rx, "webhooks.jsonl")) else []
check("one webhook", len(hooks) == 1)
if hooks:
    h = hooks[0]
    check("status drift, exit 3", h["status"] == "drift" and h["exit_code"] == 3)
    check("the step from the monitor: %r" % h["step"],
          h["step"].get("key") == "Registrer borger#1:click" and h["step"].get("line") == 6
          and h["step"].get("name") == "Registrer borger")
    check("the monitor's reason: %r" % h["reasons"], any("label 'Navn' now reads" in r for r in h["reasons"]))
    diff = os.path.join(h["run"], h["evidence"]["diff"].split(h["run"] + "/")[-1]) if "diff" in h.get("evidence", {}) else ""
    mails = [m for m in os.listdir(rx) if m.startswith("mail-")]
    check("one e-mail", len(mails) == 1)
    if mails:
        m = email.message_from_bytes(open(os.path.join(rx, mails[0]), "rb").read())
        png = [p for p in m.walk() if p.get_content_type() == "image/png"]
        body = m.get_payload()[0].get_payload(decode=True).decode()
        check("the run kept the monitor's (masked) diff image (%s)" % diff, os.path.exists(diff))
        check("but the e-mail attaches no image: the evidence is masked", png == [])
        check("the e-mail names the reason and says where the report is",
              "label 'Navn' now reads" in body and 'No image is attached (evidence "masked"' in body)
sl = open(os.path.join(rx, "syslog.log"), encoding="utf-8").read().splitlines() if os.path.exists(os.path.join(rx, "syslog.log")) else []
check("one syslog line: %r" % sl, len(sl) == 1)
check("it names the robot, the monitor's step and reason",
      len(sl) == 1 and sl[0].startswith("<28>") and "robot sag halted on UI drift (exit 3) at step "
      "Registrer borger#1:click: label 'Navn' now reads" in sl[0])
check("and no screen data", not any("010190" in l or "Søren" in l or "Ærø" in l for l in sl))
sys.exit(1 if bad else 0)
PY

"$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
U="http://127.0.0.1:$PORT"
up() { curl -s -o /dev/null "$U/"; }
wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }
A="Authorization: Bearer $TOKEN"
code() { curl -s -o body -w '%{http_code}' "$@"; }
check "the run's page: 200" test "$(code -H "$A" "$U/runs/1")" = 200
check "it shows the reason" grep -q "label &#39;Navn&#39; now reads" body
check "a renamed label, nothing moved: no warning about positions" sh -c '! grep -q "Elements moved" body'
check "the report is served" test "$(code -H "$A" "$U/runs/1/report.html")" = 200
img=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=1")
img=$(ls "$img/evidence" | grep diff | head -n1)
check "the diff image is served ($img)" test "$(code -H "$A" "$U/runs/1/evidence/$img")" = 200
check "Approve: 200" test "$(code -X POST -H "$A" "$U/runs/1/approve")" = 200
check "vagt approve's own words are shown" grep -q "approved" body
kill -TERM $D; wait $D; rc=$?
check "the daemon stops cleanly (exit $rc)" test $rc -eq 0

"$VAGT" agent --once sag --config agent.lua >o2.out 2>o2.err
rc=$?
[ $rc -eq 0 ] && ok "after the approval the run passes" || { fail "after approve: exit $rc"; show o2.err state/logs/2.log; }
check "and saved the record" grep -q "Søren Ærø" saved.tsv
check "history: drift then passed" test "$(sql state/vagt.db "SELECT group_concat(status) FROM runs")" = "drift,passed"
finish
