#!/bin/sh
# --once runs a robot through the agent's path: a robot that fails (a real `vagt run` on
# its private Xvfb, error() in the script: exit 1) and one that halts on drift (exit 3, the
# fake vagt writing alert.json and a diff image as the monitor does) each produce a webhook
# call, an e-mail (no image: the evidence is masked, the default) and a syslog line (to a
# socket the test owns) with the right content; the runs are in SQLite; a receiver that
# fails first gets the alert on a retry. A run that ends needs_review (exit 5: work items
# left for a person) alerts on all three, naming the batch and row.
. "$(dirname "$0")/aglib.sh"
start_receiver --fail-first 1 --syslog "$T/syslog.sock"
cat > failing.lua <<'LUA'
robot.log("about to fail")
error("kunne ikke finde CPR-nummer")
LUA
cat > drifting.lua <<'LUA'
robot.log("fake")
LUA
cat > quiet.lua <<'LUA'
-- fake: FAKE_LAYOUT=2
robot.log("fake")
LUA
cat > review.lua <<'LUA'
-- fake: FAKE_EXIT=5 FAKE_LAYOUT=2
robot.log("fake")
LUA
cat > agent.lua <<LUA
state = "state"
listen = false
public_url = "http://vagt.example:8470"
channel "ops" {
  webhook = "http://127.0.0.1:$HTTP_PORT/hook",
  email = { to = { "drift@kommune.example", "it@kommune.example" }, from = "vagt@kommune.example",
            smtp = "smtp://127.0.0.1:$SMTP_PORT" },
  syslog = { socket = "syslog.sock" },
}
robot "failing" { script = "failing.lua", alert = { "ops" }, timeout = 120 }
robot "drifting" { script = "drifting.lua", alert = "ops", params = { batch = "in.csv" } }
robot "quiet" { script = "quiet.lua", alert = "ops", alert_on = { "failure" } }
robot "review" { script = "review.lua", alert = "ops" }
LUA
export VAGT_AGENT_RETRY_BASE=0.3

"$VAGT" agent --once failing --config agent.lua >once1.out 2>once1.err
rc=$?
[ $rc -eq 1 ] && ok "--once failing: exit 1" || { fail "--once failing: exit $rc, wanted 1"; show once1.err; }
LC_ALL=C LANG=C VAGT_BIN="$FAKE" "$VAGT" agent --once drifting --config agent.lua >once2.out 2>once2.err
rc=$?
[ $rc -eq 3 ] && ok "--once drifting: exit 3" || { fail "--once drifting: exit $rc, wanted 3"; show once2.err; }
VAGT_BIN="$FAKE" "$VAGT" agent --once quiet --config agent.lua >once3.out 2>once3.err
rc=$?
[ $rc -eq 3 ] && ok "--once quiet: exit 3" || fail "--once quiet: exit $rc"

check "two webhooks delivered (a drift without alert_on drift sends none)" \
  test "$(lines "$RX/webhooks.jsonl")" -eq 2
check "the first attempt was refused (503) and retried" test "$(lines "$RX/arrived.log")" -eq 3
check "the webhook is JSON" grep -q "application/json" "$RX/arrived.log"

python3 - "$RX" state/vagt.db <<'PY' || failures=$((failures + 1))
import email, json, os, re, sqlite3, sys
rx, dbp = sys.argv[1], sys.argv[2]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
hooks = [json.loads(l) for l in open(os.path.join(rx, "webhooks.jsonl"))]
by = {h["robot"]: h for h in hooks}
f, d = by.get("failing"), by.get("drifting")
check("webhook for the failing robot", f is not None)
check("webhook for the drifting robot", d is not None)
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
if f:
    check("failed: status, exit code", f["status"] == "failed" and f["exit_code"] == 1)
    check("failed: the script's error is the reason: %r" % f["reasons"],
          any("kunne ikke finde CPR-nummer" in r and "failing.lua:2" in r for r in f["reasons"]))
    check("failed: time is RFC 3339", bool(rfc.match(f["time"])))
    check("failed: run folder", "/state/runs/failing/" in f["run"])
    check("failed: report link %r" % f["report"],
          re.match(r"^http://vagt.example:8470/runs/\d+/report.html$", f["report"]) is not None)
if d:
    check("drift: status, exit code", d["status"] == "drift" and d["exit_code"] == 3)
    check("drift: step from alert.json %r" % d["step"],
          d["step"] == {"key": "Registrer borger#3:type", "name": "Registrer borger",
                        "line": 42, "file": "demo.lua"})
    check("drift: reasons from alert.json",
          d["reasons"][0] == "label 'CPR-nummer' moved from (120,80) to (120,140)")
    check("drift: evidence links", d.get("evidence", {}).get("diff", "").endswith(
        "/evidence/step-003-diff.png"))
if f and d:
    check("alert ids are unique", f["id"] != d["id"] and len(f["id"]) >= 32)
mails = sorted(x for x in os.listdir(rx) if x.startswith("mail-"))
check("two e-mails", len(mails) == 2)
msgs = [email.message_from_bytes(open(os.path.join(rx, m), "rb").read()) for m in mails]
dm = [m for m in msgs if "drift" in m["Subject"]]
fm = [m for m in msgs if "failed" in m["Subject"]]
check("drift e-mail subject", len(dm) == 1 and dm[0]["Subject"] == "[vagt] drift: robot drifting (exit 3)")
check("failure e-mail subject", len(fm) == 1 and "robot failing (exit 1)" in fm[0]["Subject"])
if dm:
    m = dm[0]
    check("e-mail to both addresses", "drift@kommune.example" in m["To"] and "it@kommune.example" in m["To"])
    check("Message-ID carries the alert id", d is not None and d["id"] in m["Message-ID"])
    parts = list(m.walk())
    text = [p for p in parts if p.get_content_type() == "text/plain"]
    png = [p for p in parts if p.get_content_type() == "image/png"]
    body = text[0].get_payload(decode=True).decode("utf-8") if text else ""
    check("drift e-mail text names the step and the reason",
          "Registrer borger#3:type (script line 42)" in body and "moved from (120,80)" in body)
    check("masked evidence (the default): no image attached", png == [])
    check("the text says so and where the report is",
          'No image is attached (evidence "masked"' in body and
          "report: http://vagt.example:8470/runs/2/report.html" in body)
smtp = open(os.path.join(rx, "smtp.log")).read()
check("SMTP envelope", "MAIL FROM:<vagt@kommune.example>" in smtp and "RCPT TO:<it@kommune.example>" in smtp)
db = sqlite3.connect(dbp)
runs = db.execute("SELECT robot, status, exit_code, trigger, run_dir, steps FROM runs ORDER BY id").fetchall()
check("three runs in SQLite: %r" % [r[:4] for r in runs],
      [r[:4] for r in runs] == [("failing", "failed", 1, "once"), ("drifting", "drift", 3, "once"),
                                ("quiet", "drift", 3, "once")])
check("run folders recorded", all(r[4] and os.path.isfile(os.path.join(r[4], "run.json")) for r in runs))
check("steps counted from run.json, both layouts", runs[1][5] == 2 and runs[2][5] == 2)
pend = db.execute("SELECT count(*) FROM outbox WHERE delivered IS NULL").fetchone()[0]
check("outbox: everything delivered", pend == 0)
mode = db.execute("PRAGMA journal_mode").fetchone()[0]
check("SQLite in WAL mode", mode == "wal")
sl = open(os.path.join(rx, "syslog.log"), encoding="utf-8").read().splitlines()
check("two syslog lines, one per alert: %r" % sl, len(sl) == 2)
check("the drift's syslog line: warning, robot, step, reason",
      any(l.startswith("<28>") and "robot drifting halted on UI drift (exit 3) at step Registrer "
          "borger#3:type: label 'CPR-nummer' moved from (120,80) to (120,140)" in l for l in sl))
check("the failure's syslog line: error, robot, the script's error",
      any(l.startswith("<27>") and "robot failing failed (exit 1)" in l and
          "kunne ikke finde CPR-nummer" in l for l in sl))
sys.exit(1 if bad else 0)
PY
check "the robot ran with its params, from the config's folder, with the items db set" \
  grep -q "fake vagt: param batch=in.csv" state/logs/2.log
check "VAGT_ITEMS_DB points into the state folder" grep -q "items db $T/state/items.db" state/logs/2.log
check "a UTF-8 locale for the run, even when the agent's is C" grep -q "LC_ALL C.UTF-8" state/logs/2.log
check "syslog deliveries recorded too" test "$(sql state/vagt.db "SELECT count(*) FROM outbox WHERE kind='syslog' AND delivered IS NOT NULL")" -eq 2
check "run folders are owner-only" test "$(stat -c %a state/runs)" = 700

# A run that passed but left work items for a person (fake vagt: exit 5, run.json with
# items_need_person) alerts too: webhook, e-mail and syslog name the batch and row.
VAGT_BIN="$FAKE" "$VAGT" agent --once review --config agent.lua >once4.out 2>once4.err
rc=$?
[ $rc -eq 5 ] && ok "--once review: exit 5" || { fail "--once review: exit $rc, wanted 5"; show once4.err; }
d4=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=4")
python3 - "$RX" "$d4" <<'PY' || failures=$((failures + 1))
import email, json, os, sys
rx, d4 = sys.argv[1:3]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
hooks = [json.loads(l) for l in open(os.path.join(rx, "webhooks.jsonl"))]
h = [x for x in hooks if x["robot"] == "review"]
check("a webhook for the review robot", len(h) == 1)
if h:
    h = h[0]
    check("needs_review: status, run_status, exit code", h["status"] == "needs_review" and
          h["run_status"] == "needs_review" and h["exit_code"] == 5)
    check("needs_review: the items %r" % h.get("items_need_person"),
          h.get("items_need_person") == [{"batch": "borgere", "seq": 4, "run": d4}])
    check("needs_review: the reason %r" % h["reasons"], h["reasons"] == [
        "1 work item of robot.items failed and waits for a person: check it, then retry "
        "with retry_failed = true"])
mails = [email.message_from_bytes(open(os.path.join(rx, m), "rb").read())
         for m in sorted(os.listdir(rx)) if m.startswith("mail-")]
rm = [m for m in mails if "review" in m["Subject"]]
check("a needs_review e-mail: %r" % [m["Subject"] for m in rm],
      len(rm) == 1 and rm[0]["Subject"] == "[vagt] needs_review: robot review (exit 5)")
if rm:
    text = [p for p in rm[0].walk() if p.get_content_type() == "text/plain"]
    body = text[0].get_payload(decode=True).decode("utf-8") if text else ""
    check("its text says so and lists the row",
          "Robot review finished, but left work items for a person (exit 5)." in body and
          "Work items for a person (batch, row; the run that left it):\n  - borgere row 4 (run %s)\n" % d4 in body)
sl = open(os.path.join(rx, "syslog.log"), encoding="utf-8").read().splitlines()
check("its syslog line: warning %r" % sl[-1:], any(l.startswith("<28>") and
      "robot review needs review of work items (exit 5) at step Registrer borger#3:type: 1 work "
      "item of robot.items failed and waits for a person" in l for l in sl))
sys.exit(1 if bad else 0)
PY
finish
