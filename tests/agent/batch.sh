#!/bin/sh
# Resumable batch: a robot registers 10 citizens from a CSV file with robot.items, through
# the agent (--once, its private Xvfb); the run is killed (SIGKILL to its process group)
# after the 4th is saved (in the pause the robot makes after the 4th only, 60 s that the
# kill cuts short: however loaded the machine, the test sees the save and kills before the
# 5th); the next run resumes, and the demo app's output file holds each citizen exactly once.
# The interrupted 4th waits for a person: the second run ends "needs_review" (exit 5), lists
# row 4 with the killed run's folder in its log, run.json and report.html, and alerts by
# webhook (row numbers, no citizen's data); after a person's check, a run with
# retry_failed = true enters it again and passes.
. "$(dirname "$0")/aglib.sh"
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
BIN=$VAGT
cp "$AGT/batch_robot.lua" batch.lua
python3 - <<'PY'
import csv
names = ["Søren Ærø", "Åse Øberg-Nørgaard", "Jens Æbelø", "Mette Ølgaard", "Bo Åkjær",
         "Lise Bæk", "Ole Sørensen", "Karen Møller", "Niels Grøn", "Tove Brønd"]
with open("borgere.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["cpr", "navn", "adresse", "postnr", "by", "note"])
    for i, n in enumerate(names, 1):
        w.writerow(["%02d0190-12%02d" % (i, i), n, "Ærøgade %d" % i, "8000", "Aarhus C", "nr. %d" % i])
with open("first2.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["cpr", "navn", "adresse", "postnr", "by", "note"])
    w.writerow(["999999-0000", "Optagelse Øst", "Vej 1", "1000", "By", "x"])
    w.writerow(["999999-0001", "Optagelse Vest", "Vej 2", "1000", "By", "y"])
PY
# The baseline: recorded once, on a batch of its own (its items in a database of its own).
VAGT_ITEMS_DB="$T/record-items.db" "$BIN" record batch.lua --xvfb --runs recruns \
  --set "app=$DEMO_APP" --set out="$T/record.tsv" --set batch=first2.csv \
  --set batch_name=record >rec.out 2>rec.err
rc=$?
[ $rc -eq 0 ] && ok "baseline recorded" || { fail "vagt record: exit $rc"; show rec.err; }

start_receiver
cat > agent.lua <<LUA
state = "state"
listen = false
channel "ops" { webhook = "http://127.0.0.1:$HTTP_PORT/hook" }
robot "borgere" {
  script = "batch.lua", timeout = 600, alert = "ops",
  params = { app = "$DEMO_APP", out = "$T/saved.tsv", batch = "borgere.csv",
             batch_name = "borgere-2026-11-26", pause = "60",
             pause_after = "040190-1204" },
}
robot "borgere-retry" {
  script = "batch.lua", timeout = 600, alert = "ops",
  params = { app = "$DEMO_APP", out = "$T/saved.tsv", batch = "borgere.csv",
             batch_name = "borgere-2026-11-26", retry = "1" },
}
LUA
export VAGT_BIN="$BIN"
"$VAGT" agent --once borgere --config agent.lua >r1.out 2>r1.err &
A=$!; PIDS="$PIDS $A"
four() { [ "$(lines saved.tsv)" -ge 4 ]; }
if wait_for 120 four; then ok "4 citizens saved"; else fail "the robot did not save 4"; show r1.err state/logs/1.log; fi
pid=$(sql state/vagt.db "SELECT pid FROM runs WHERE id=1")
kill -KILL -"$pid"
wait $A; rc=$?
check "the killed run ends the --once (exit $rc)" test $rc -ne 0
n=$(lines saved.tsv)
check "killed with 4 saved ($n)" test "$n" -eq 4
check "the history has it as killed" test "$(sql state/vagt.db "SELECT status, exit_code FROM runs WHERE id=1")" = "error|137"
d1=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=1")
check "its run folder, which it could not end itself, is marked killed by the agent" \
  grep -q '"status":[[:space:]]*"killed"' "$d1/run.json"

"$VAGT" agent --once borgere --config agent.lua >r2.out 2>r2.err
rc=$?
[ $rc -eq 5 ] && ok "the second run finished the batch, leaving one for a person (exit 5)" ||
  { fail "second run: exit $rc, wanted 5"; show r2.err state/logs/2.log; }
python3 - saved.tsv borgere.csv <<'PY' || failures=$((failures + 1))
import csv, sys
saved = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
want = list(csv.reader(open(sys.argv[2], encoding="utf-8"), delimiter=";"))[1:]
bad = 0
if sorted(map(tuple, saved)) != sorted(map(tuple, want)):
    print("FAIL: the output file does not hold each citizen exactly once:", file=sys.stderr)
    for r in saved: print("  | " + "\t".join(r), file=sys.stderr)
    bad = 1
else:
    print("ok: the output holds each of the 10 citizens exactly once, Danish letters intact")
if [r[0] for r in saved] != [r[0] for r in want]:
    print("FAIL: not in order", file=sys.stderr); bad = 1
else:
    print("ok: in the file's order")
sys.exit(bad)
PY
states=$(sql state/items.db "SELECT state, count(*) FROM items WHERE batch='borgere-2026-11-26' GROUP BY state ORDER BY state" | tr '\n' ' ')
check "items: 9 done, the 4th interrupted for review ($states)" test "$states" = "done|9 failed|1 "
check "the interrupted one is the 4th, with the reason" \
  test "$(sql state/items.db "SELECT key, substr(reason, 1, 12) FROM items WHERE state='failed'")" = "040190-1204|interrupted:"
check "the first run had 4 done" grep -q "gemt: 040190-1204" state/logs/1.log
check "the second run skipped the first four" sh -c "! grep -q 'gemt: 0[1-4]0190' state/logs/2.log"
check "and logged the summary" grep -q "robot.items borgere-2026-11-26: 6 done, 0 failed now, 1 waiting for a person (failed before, not retried), 3 skipped because done$" state/logs/2.log
check "the log names row 4 and the run that left it" \
  grep -qF "robot.items borgere-2026-11-26: row 4 waits for a person: failed before (run $d1), not retried (retry_failed = true retries it)" state/logs/2.log
check "the history has the second run as needs_review" \
  test "$(sql state/vagt.db "SELECT status, exit_code FROM runs WHERE id=2")" = "needs_review|5"
d2=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=2")
python3 - "$d2" "$d1" "$RX" <<'PY' || failures=$((failures + 1))
import json, os, sys
d2, d1, rx = sys.argv[1:4]
bad = 0
def check(what, cond):
    global bad
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    bad += not cond
rj = json.load(open(os.path.join(d2, "run.json")))
check("run.json: status needs_review, exit 5 (%r, %r)" % (rj.get("status"), rj.get("exit_code")),
      rj.get("status") == "needs_review" and rj.get("exit_code") == 5)
want = [{"batch": "borgere-2026-11-26", "seq": 4, "run": d1}]
check("run.json: items_need_person %r" % rj.get("items_need_person"),
      rj.get("items_need_person") == want)
rep = open(os.path.join(d2, "report.html"), encoding="utf-8").read()
check("report.html: the status and the row",
      '<b class="needs_review">needs_review</b>' in rep and
      "<tr><td>borgere-2026-11-26</td><td>4</td><td>%s</td></tr>" % d1 in rep)
hp = os.path.join(rx, "webhooks.jsonl")
raw = open(hp, encoding="utf-8").read() if os.path.exists(hp) else ""
hooks = [json.loads(l) for l in raw.splitlines() if l.strip()]
h = [x for x in hooks if x.get("run_id") == 2]
check("one alert, for the second run (%d webhooks in all)" % len(hooks), len(h) == 1 and len(hooks) == 2)
if h:
    h = h[0]
    check("alert: status needs_review, exit 5", h["status"] == "needs_review" and h["exit_code"] == 5)
    check("alert: the row %r" % h.get("items_need_person"), h.get("items_need_person") == want)
    check("alert: the reason %r" % h["reasons"],
          h["reasons"] == ["1 work item of robot.items failed and waits for a person: check it, "
                           "then retry with retry_failed = true"])
check("no citizen's data in the alerts", not any(s in raw for s in
      ("040190-1204", "0401901204", "Mette", "Ølgaard", "Ærøgade")))
sys.exit(bad)
PY

# A person checked citizen 4 in the application and asks for it to be entered again.
"$VAGT" agent --once borgere-retry --config agent.lua >r3.out 2>r3.err
rc=$?
[ $rc -eq 0 ] && ok "with retry_failed = true the run passes" || { fail "third run: exit $rc"; show r3.err state/logs/3.log; }
check "the history has it as passed" test "$(sql state/vagt.db "SELECT status, exit_code FROM runs WHERE id=3")" = "passed|0"
check "it entered only the 4th" test "$(grep -c "gemt: " state/logs/3.log)" = 1
check "... which is the 4th" grep -q "gemt: 040190-1204" state/logs/3.log
check "the summary" grep -q "robot.items borgere-2026-11-26: 1 done, 0 failed now, 0 waiting for a person (failed before, not retried), 9 skipped because done$" state/logs/3.log
states=$(sql state/items.db "SELECT state, count(*) FROM items WHERE batch='borgere-2026-11-26' GROUP BY state ORDER BY state" | tr '\n' ' ')
check "items: all 10 done ($states)" test "$states" = "done|10 "
d3=$(sql state/vagt.db "SELECT run_dir FROM runs WHERE id=3")
check "its run.json lists no item for a person" sh -c "! grep -q items_need_person '$d3/run.json'"
finish

