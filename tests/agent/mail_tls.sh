#!/bin/sh
# E-mail carries an image only when the run chose evidence "full", and then only over TLS
# with the server's certificate verified; syslog lines reach a socket the test owns.
# The receiver offers STARTTLS (a CA and server certificate made here with openssl), TLS
# from the first byte (smtps://) and plain SMTP without TLS, and logs every line it got
# unencrypted. Drift halts come from the fake vagt (alert.json with evidence_mode as the
# monitor writes it):
# - full over STARTTLS and over smtps://: the diff image attached byte for byte, over TLS;
# - masked (the default) and none: no image, the text says where the report is;
# - full to a server without STARTTLS: the mail arrives without the image, saying why, and
#   no byte of the image crossed the wire in clear;
# - full to a server whose certificate the channel's CA did not sign: not delivered (the
#   error names the certificate), retried later, nothing of the image in clear;
# - syslog = { socket = ... }: one line per alert with robot, step and reason.
. "$(dirname "$0")/aglib.sh"
command -v openssl >/dev/null || { echo "openssl missing" >&2; exit 1; }
make_certs certs || { fail "could not make the test certificates"; finish; }
start_receiver --tls certs/server.pem certs/server.key --syslog "$T/syslog.sock"
for m in full masked none; do
  printf -- '-- fake: FAKE_EVIDENCE=%s\nrobot.log("fake")\n' $m > $m.lua
done
printf -- '-- fake: FAKE_EXIT=1\nrobot.log("fake")\n' > failing.lua
cat > agent.lua <<LUA
state = "state"
listen = false
public_url = "http://vagt.example:8470"
channel "tls" {
  email = { to = "drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtp://127.0.0.1:$SMTP_PORT", cainfo = "certs/ca.pem" },
  syslog = { socket = "syslog.sock" },
}
channel "smtps" {
  email = { to = "drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtps://127.0.0.1:$SMTPS_PORT", cainfo = "$T/certs/ca.pem" },
}
channel "plain" {
  email = { to = "drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtp://127.0.0.1:$SMTP_PLAIN_PORT", cainfo = "certs/ca.pem" },
}
channel "badca" {
  email = { to = "drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtp://127.0.0.1:$SMTP_PORT", cainfo = "certs/other-ca.pem" },
}
robot "full-tls" { script = "full.lua", alert = "tls" }
robot "masked-tls" { script = "masked.lua", alert = "tls" }
robot "none-tls" { script = "none.lua", alert = "tls" }
robot "failing-tls" { script = "failing.lua", alert = "tls" }
robot "full-smtps" { script = "full.lua", alert = "smtps" }
robot "full-plain" { script = "full.lua", alert = "plain" }
robot "full-badca" { script = "full.lua", alert = "badca" }
LUA
export VAGT_AGENT_RETRY_BASE=0.3 VAGT_BIN="$FAKE"
"$VAGT" agent --check --config agent.lua >check.out 2>check.err ||
  { fail "agent --check refuses the configuration"; show check.err; finish; }
for r in full-tls masked-tls none-tls failing-tls full-smtps full-plain; do
  "$VAGT" agent --once $r --config agent.lua >$r.out 2>$r.err
  rc=$?
  want=3; [ $r = failing-tls ] && want=1
  [ $rc -eq $want ] && ok "--once $r: exit $rc" || { fail "--once $r: exit $rc, wanted $want"; show $r.err; }
done
VAGT_AGENT_DELIVER_SECONDS=3 "$VAGT" agent --once full-badca --config agent.lua >full-badca.out 2>full-badca.err
check "--once full-badca: the alert stays in the outbox" grep -q "still pending" full-badca.err
check "the no-STARTTLS fallback is in the agent's log" grep -q "offers no STARTTLS" full-plain.err

python3 - "$RX" state/vagt.db <<'PY' || failures=$((failures + 1))
import base64, email, os, sqlite3, sys
rx, dbp = sys.argv[1], sys.argv[2]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
db = sqlite3.connect(dbp)
run_dir = dict(db.execute("SELECT robot, run_dir FROM runs"))
how = {}
for l in open(os.path.join(rx, "mails.log")):
    f, server, t = l.split()
    how[f] = (server, t)
mails = {}
for f in how:
    m = email.message_from_bytes(open(os.path.join(rx, f), "rb").read())
    robot = m["Subject"].split("robot ")[1].split(" ")[0]
    check("one e-mail for %s" % robot, robot not in mails)
    mails[robot] = (m, how[f])
def parts(m):
    text = [p for p in m.walk() if p.get_content_type() == "text/plain"]
    png = [p for p in m.walk() if p.get_content_type() == "image/png"]
    body = text[0].get_payload(decode=True).decode("utf-8") if text else ""
    return body, png
def diff_of(robot):
    d = run_dir.get(robot)
    p = os.path.join(d, "evidence/step-003-diff.png") if d else ""
    return open(p, "rb").read() if os.path.exists(p) else None

for robot, server in (("full-tls", "starttls"), ("full-smtps", "smtps")):
    m, (srv, t) = mails.get(robot, (None, (None, None)))
    check("%s: the e-mail arrived at the %s server over TLS (%s, %s)" % (robot, server, srv, t),
          m is not None and srv == server and t == "tls")
    if m:
        body, png = parts(m)
        want = diff_of(robot)
        check("%s: the diff image attached, byte for byte" % robot,
              want is not None and want.endswith(b"full") and len(png) == 1 and
              png[0].get_filename() == "diff.png" and png[0].get_payload(decode=True) == want)
        check("%s: the text says what is attached" % robot, "Attached: diff.png" in body)

for robot, mode in (("masked-tls", "masked"), ("none-tls", "none")):
    m, _ = mails.get(robot, (None, None))
    check("%s: an e-mail" % robot, m is not None)
    if m:
        body, png = parts(m)
        check("%s: no image attached" % robot,
              png == [] and all(p.get_content_maintype() in ("multipart", "text") for p in m.walk()))
        check("%s: the text says why and where the report is" % robot,
              ('No image is attached (evidence "%s"' % mode) in body and
              "http://vagt.example:8470/runs/" in body and "/report.html" in body)
check("masked-tls: the run did keep a (masked) diff image, just not in the e-mail",
      diff_of("masked-tls") is not None)

m, (srv, t) = mails.get("full-plain", (None, (None, None)))
check("full-plain: the e-mail arrived at the server without TLS (%s, %s)" % (srv, t),
      m is not None and srv == "plain" and t == "clear")
if m:
    body, png = parts(m)
    check("full-plain: without the image", png == [])
    check("full-plain: the text says the image was held back for want of TLS",
          "not attached: the mail server offered no TLS" in body and "/report.html" in body)
clear = open(os.path.join(rx, "clear.log"), "rb").read()
check("clear.log recorded the clear mail (the wiretap works)", b"robot full-plain" in clear)
check("no image/png part ever went over the wire in clear", b"image/png" not in clear)
imgs = [diff_of(r) for r in ("full-tls", "full-plain", "full-badca")]
check("no diff image's bytes in clear", all(i and base64.b64encode(i)[:40] not in clear.replace(b"\r\n", b"")
                                           for i in imgs))
check("full-badca: no e-mail", "full-badca" not in mails)
row = db.execute("SELECT delivered, attempts, last_error FROM outbox o JOIN runs r ON "
                 "r.id = o.run_id WHERE r.robot='full-badca' AND o.kind='email'").fetchone()
check("full-badca: undelivered, tried more than once, the error names the certificate: %r" % (row,),
      row is not None and row[0] is None and row[1] >= 2 and "certificate" in (row[2] or "").lower())
tlserr = os.path.join(rx, "tls-errors.log")
check("full-badca: the TLS handshake was refused by the agent",
      os.path.exists(tlserr) and "starttls" in open(tlserr).read())

lines = open(os.path.join(rx, "syslog.log"), encoding="utf-8").read().splitlines()
check("four syslog lines for the channel with syslog (drift x3, failure x1): %d" % len(lines),
      len(lines) == 4)
ml = [l for l in lines if "robot masked-tls " in l]
check("the drift line: facility daemon, warning (<28>), the agent's tag",
      len(ml) == 1 and ml[0].startswith("<28>") and " vagt-agent[" in ml[0])
check("the drift line names robot, step and reason: %r" % ml[:1],
      len(ml) == 1 and "robot masked-tls halted on UI drift (exit 3) at step "
      "Registrer borger#3:type: label 'CPR-nummer' moved from (120,80) to (120,140); report "
      "http://vagt.example:8470/runs/" in ml[0])
fl = [l for l in lines if "robot failing-tls " in l]
check("the failure line: error (<27>), the script's error", len(fl) == 1 and fl[0].startswith("<27>")
      and "failed (exit 1)" in fl[0] and "text not found: Gem" in fl[0])
check("no line holds screen data or a newline's remains",
      not any("010190" in l or "stack traceback" in l for l in lines))
sys.exit(1 if bad else 0)
PY
check "syslog deliveries recorded" test "$(sql state/vagt.db "SELECT count(*) FROM outbox WHERE kind='syslog' AND delivered IS NOT NULL")" -eq 4
finish
