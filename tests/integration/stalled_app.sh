#!/bin/sh
# An application that answers late: a busy machine, a legacy application working before it
# reads its events. The demo app is stopped (SIGSTOP) for 1 s of every 1.3 s while a robot
# registers 6 citizens. Each step's look waits until the app has read the robot's input:
# without that, keys typed after a click the app had not read yet were lost (the demo app
# drops keys that reach it before the click that focused their field; saved with empty
# fields, exit 0), and the answers to two inputs drawn in one look were taken for new text.
# The run passes and the app's output file holds each citizen exactly once, in order. Under
# the same stalls a vendor update (Navn and Adresse swapped) halts before any citizen's
# data is typed: exit 3, nothing saved.
. "$(dirname "$0")/lib.sh"
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
cp "$SRC/tests/agent/batch_robot.lua" batch.lua
python3 - <<'PY'
import csv
names = ["Søren Ærø", "Åse Øberg-Nørgaard", "Jens Æbelø", "Mette Ølgaard", "Bo Åkjær", "Lise Bæk"]
def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["cpr", "navn", "adresse", "postnr", "by", "note"])
        w.writerows(rows)
write("borgere.csv", [["%02d0190-12%02d" % (i, i), n, "Ærøgade %d" % i, "8000", "Aarhus C",
                       "nr. %d" % i] for i, n in enumerate(names, 1)])
write("first2.csv", [["999999-0000", "Optagelse Øst", "Vej 1", "1000", "By", "x"],
                     ["999999-0001", "Optagelse Vest", "Vej 2", "1000", "By", "y"]])
PY
printf '#!/bin/sh\nexec "%s" --variant swapped "$@"\n' "$DEMO_APP" > swapped-app
chmod +x swapped-app

# stall OUT: stops the app that writes OUT for 1 s of every 1.3 s, until killed
stall() {
  while :; do
    p=$(pgrep -f -- "--out $1" | head -n 1)
    if [ -n "$p" ]; then kill -STOP "$p"; sleep 1.0; kill -CONT "$p"; fi
    sleep 0.3
  done
}
run_stalled() { # run_stalled PREFIX APP OUT BATCH_NAME
  stall "$T/$3" & s=$!
  VAGT_ITEMS_DB="$T/$4.db" run_vagt "$1" run batch.lua --xvfb --baseline base --runs runs \
    --set "app=$2" --set "out=$T/$3" --set batch=borgere.csv --set "batch_name=$4"
  kill "$s"; wait "$s" 2>/dev/null
  p=$(pgrep -f -- "--out $T/$3") && kill -CONT $p 2>/dev/null
}

VAGT_ITEMS_DB="$T/rec.db" run_vagt rec record batch.lua --xvfb --baseline base --runs recruns \
  --set "app=$DEMO_APP" --set "out=$T/rec.tsv" --set batch=first2.csv --set batch_name=rec
expect_rc 0 rec "recorded on two citizens, the app answering at once"

run_stalled r1 "$DEMO_APP" out.tsv b1
expect_rc 0 r1 "a run with the app stopped 1 s of every 1.3 s passes"
tail -n +2 borgere.csv | tr -d '\r' | tr ';' '\t' > want.tsv
expect_file_eq out.tsv want.tsv "the app saved each of the 6 citizens once, in order"
# the step log says where the look waited for the stopped app to read the robot's input
python3 - runs <<'PY' && ok "the step log shows the waits for the app to read its input" || fail "no step waited for the app to read its input (ms.read)"
import glob, json, sys
runs = sorted(glob.glob(sys.argv[1] + "/*/steps.jsonl"))
reads = [json.loads(l)["ms"].get("read", 0) for l in open(runs[0], encoding="utf-8")]
print("steps %d, waited for the app to read: %d, longest %.0f ms" % (len(reads), sum(r > 0 for r in reads), max(reads)))
sys.exit(0 if sum(r >= 100 for r in reads) >= 3 else 1)
PY

run_stalled r2 "$T/swapped-app" swapped.tsv b2
expect_rc 3 r2 "a vendor update (Navn and Adresse swapped) under the same stalls halts"
if [ -s swapped.tsv ]; then fail "the updated app saved $(wc -l < swapped.tsv) citizen(s)"
else ok "it saved nothing"; fi
expect_in r2.err "swapped" "the halt names the swap"
finish
