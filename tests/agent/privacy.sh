#!/bin/sh
# Citizens' data through the agent: a real robot types a CPR number and a name into the demo app
# and halts on drift mid-form (a notice of another program over the form). With masked
# evidence (the default) no webhook body, e-mail, syslog line (to a socket the test owns)
# or agent log holds either, byte for byte, and the e-mail carries no image; the syslog
# line names robot, step and reason. Positive control: the same robot with evidence
# "full" gets the monitor's diff image attached byte for byte, over STARTTLS with the
# server's certificate (a test CA made with openssl) verified.
. "$(dirname "$0")/aglib.sh"
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
command -v openssl >/dev/null || { echo "openssl missing" >&2; exit 1; }
CPR=010190-1234
NAME="Søren Ærø"
make_certs certs || { fail "could not make the test certificates"; finish; }
start_receiver --tls certs/server.pem certs/server.key --syslog "$T/syslog.sock"
cp "$SRC/tests/integration/robots/privacy.lua" privacy.lua
"$VAGT" record privacy.lua --xvfb --runs recruns --set "app=$DEMO_APP" --set out="$T/rec.tsv" \
  >rec.out 2>rec.err || { fail "vagt record failed"; show rec.err; finish; }
cat > agent.lua <<LUA
state = "state"
listen = false
channel "ops" {
  webhook = "http://127.0.0.1:$HTTP_PORT/hook",
  email = { to = "drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtp://127.0.0.1:$SMTP_PORT", cainfo = "certs/ca.pem" },
  syslog = { socket = "syslog.sock" },
}
robot "masked" { script = "privacy.lua", alert = "ops",
  params = { app = "$DEMO_APP", out = "$T/masked.tsv", mode = "popup" } }
robot "full" { script = "privacy.lua", alert = "ops",
  params = { app = "$DEMO_APP", out = "$T/full.tsv", mode = "popup", evidence = "full" } }
LUA
for r in masked full; do
  "$VAGT" agent --once $r --config agent.lua >$r.out 2>$r.err
  rc=$?
  [ $rc -eq 3 ] && ok "$r: halted on drift mid-form (exit 3)" || { fail "$r: exit $rc, wanted 3"; show $r.err; }
  [ -s $r.tsv ] && fail "$r: the app saved something" || ok "$r: nothing saved"
  # what left the run folder for the masked run: messages, logs (the full run's e-mail
  # image is checked apart below)
  [ $r = masked ] || continue
  hits=$(grep -rlF -e "$CPR" -e "$NAME" -e "010190" "$RX" state/logs masked.out masked.err 2>/dev/null)
  [ -z "$hits" ] && ok "masked: no webhook, e-mail, syslog line or agent log holds the CPR number or the name" ||
    fail "masked: typed data in: $hits"
done

python3 - "$RX" state/vagt.db "$CPR" "$NAME" <<'PY' || failures=$((failures + 1))
import email, json, os, sqlite3, sys
rx, dbp, cpr, name = sys.argv[1:5]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
db = sqlite3.connect(dbp)
run_dir = dict(db.execute("SELECT robot, run_dir FROM runs"))
how = dict(l.split(None, 1) for l in open(os.path.join(rx, "mails.log")))
mails = {}
for f in how:
    m = email.message_from_bytes(open(os.path.join(rx, f), "rb").read())
    mails[m["Subject"].split("robot ")[1].split(" ")[0]] = (m, how[f].split())
hooks = {h["robot"]: h for h in map(json.loads, open(os.path.join(rx, "webhooks.jsonl")))}
for r, mode in (("masked", "masked"), ("full", "full")):
    aj = json.load(open(os.path.join(run_dir[r], "alert.json")))
    check("%s: alert.json evidence_mode %s" % (r, aj.get("evidence_mode")), aj.get("evidence_mode") == mode)
    check("%s: the webhook says evidence_mode %s" % (r, mode), hooks.get(r, {}).get("evidence_mode") == mode)
m, (srv, t) = mails.get("masked", (None, (None, None)))
check("masked: one e-mail", m is not None)
if m:
    png = [p for p in m.walk() if p.get_content_type() == "image/png"]
    body = [p for p in m.walk() if p.get_content_type() == "text/plain"][0].get_payload(decode=True).decode()
    check("masked: no image attached", png == [])
    check("masked: the step and the report named", "Borger#5:click" in body and "report.html" in body)
m, (srv, t) = mails.get("full", (None, (None, None)))
check("full: the e-mail came over STARTTLS (%s %s)" % (srv, t), srv == "starttls" and t == "tls")
if m:
    png = [p for p in m.walk() if p.get_content_type() == "image/png"]
    aj = json.load(open(os.path.join(run_dir["full"], "alert.json")))
    want = open(os.path.join(run_dir["full"], aj["evidence"]["diff"]), "rb").read()
    check("full: the monitor's diff image attached byte for byte",
          len(png) == 1 and png[0].get_payload(decode=True) == want)
clear = open(os.path.join(rx, "clear.log"), "rb").read()
check("no image went over the wire in clear", b"image/png" not in clear)
sl = open(os.path.join(rx, "syslog.log"), encoding="utf-8").read().splitlines()
ml = [l for l in sl if "robot masked " in l]
check("masked: one syslog line: %r" % ml, len(ml) == 1)
check("it names robot, step and a reason, as a warning",
      len(ml) == 1 and ml[0].startswith("<28>") and
      "robot masked halted on UI drift (exit 3) at step Borger#5:click: " in ml[0])
check("no syslog line holds the CPR number or the name",
      not any(cpr in l or "010190" in l or name in l for l in sl))
sys.exit(1 if bad else 0)
PY
finish
