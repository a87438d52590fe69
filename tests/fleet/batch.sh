#!/bin/sh
# A batch of 60 citizens over three nodes: three agents (n1, n2, n3; each `vagt agent --once`
# with its own state and private Xvfb) run the same robot, which registers the citizens in
# the demo app (each node its own output file) with robot.items; the runs hold no database
# credentials: each agent claims the items for its run. n1 is SIGKILLed (agent and run) while
# it holds an item whose input it sent, n2 while it holds one it has not touched. After the
# lease (3 s) n3 finishes n2's item (attempt 2); n1's is needs_review with n1's node and run,
# in the output once, never redone; every citizen exactly once in the three files together.
# Then: a node whose work-items key differs from the fleet's is refused before any input.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
pg_start || exit 1
cd "$PG_T" || exit 1
export VAGT_BIN="$VAGT" VAGT_OCR_THREADS=1
show() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; }
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

cp "$SRC/tests/agent/batch_robot.lua" batch.lua
python3 - <<'PY'
import csv
first = ["Søren", "Åse", "Jens", "Mette", "Bo", "Lise", "Ole", "Karen", "Niels", "Tove"]
last = ["Ærø", "Øberg", "Bæk", "Møller", "Grøn", "Brønd"]
with open("borgere.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["cpr", "navn", "adresse", "postnr", "by", "note"])
    for i in range(1, 61):
        w.writerow(["%02d%02d71-%04d" % (i % 28 + 1, i % 12 + 1, 1000 + i),
                    "%s %s" % (first[i % 10], last[i % 6]), "Ærøgade %d" % i, "8000",
                    "Aarhus C", "nr. %d" % i])
with open("first2.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["cpr", "navn", "adresse", "postnr", "by", "note"])
    w.writerow(["999999-0000", "Optagelse Øst", "Vej 1", "1000", "By", "x"])
    w.writerow(["999999-0001", "Optagelse Vest", "Vej 2", "1000", "By", "y"])
PY
# the baseline, recorded once on one machine (no fleet: items in a database of its own)
VAGT_ITEMS_DB="$PG_T/record-items.db" "$VAGT" record batch.lua --xvfb --runs recruns \
  --set "app=$DEMO_APP" --set out="$PG_T/record.tsv" --set batch=first2.csv \
  --set batch_name=record > rec.out 2> rec.err
rc=$?
what="baseline recorded (exit $rc)"
if [ "$rc" -eq 0 ]; then ok "$what"; else fail "$what"; show rec.err; fi
head -c 32 /dev/urandom > fleet.key; chmod 600 fleet.key

conf() { # conf NODE [EXTRA PARAMS] [KEYFILE]
  cat > "$1.lua" <<LUA
state = "s$1"
listen = false
node = "$1"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
item_lease = 3
items_key_file = "${3:-fleet.key}"
robot "borgere" {
  script = "batch.lua", timeout = 600,
  params = { app = "$DEMO_APP", out = "$PG_T/saved-$1.tsv", batch = "borgere.csv",
             batch_name = "borgere-2026-12", pause = "120"${2:-} },
}
LUA
}
conf n1 ', pause_after_nth = "4"'
conf n2 ', pause_before_nth = "4"'
conf n3
for n in n1 n2 n3; do
  "$VAGT" agent --once borgere --config $n.lua > $n.out 2> $n.err &
  eval "P_$n=\$!"
done
PIDS="$P_n1 $P_n2 $P_n3"
holding() { grep -q "holding item 4 $2" s$1/logs/1.log 2>/dev/null; }
i=0
until { holding n1 "after its input" && holding n2 "before its input"; } || [ $i -ge 1800 ]; do
  sleep 0.1; i=$((i + 1))
done
if holding n1 "after its input" && holding n2 "before its input"; then
  ok "n1 holds its 4th item after saving it, n2 its 4th before any input"
else
  fail "n1 holds its 4th item after saving it, n2 its 4th before any input"
  show s*/logs/1.log n*.err
fi
run_pid() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT pid FROM runs WHERE id=1").fetchone()[0])' "s$1/vagt.db"; }
for n in n1 n2; do # the node dies: its agent and its run, no goodbye
  rp=$(run_pid $n)
  eval "ap=\$P_$n"
  kill -KILL "$ap" -"$rp" 2>/dev/null
done
wait "$P_n1"; wait "$P_n2"
wait "$P_n3"; r3=$?; PIDS=""
what="n3 finished the batch; it ends needs_review (exit 5: n1's item waits for a person) ($r3)"
if [ "$r3" -eq 5 ]; then ok "$what"; else fail "$what"; show n3.err sn3/logs/1.log; fi
cat saved-n1.tsv saved-n2.tsv saved-n3.tsv > all.tsv 2>/dev/null
echo "n1 saved $(lines saved-n1.tsv), n2 $(lines saved-n2.tsv), n3 $(lines saved-n3.tsv)"
python3 - all.tsv borgere.csv <<'PY' || failures=$((failures + 1))
import csv, sys
saved = [tuple(l.rstrip("\n").split("\t")) for l in open(sys.argv[1], encoding="utf-8")]
want = [tuple(r) for r in list(csv.reader(open(sys.argv[2], encoding="utf-8"), delimiter=";"))[1:]]
if sorted(saved) != sorted(want):
    print("FAIL: the three output files together do not hold each citizen exactly once "
          "(%d lines, %d distinct, %d wanted)" % (len(saved), len(set(saved)), len(want)),
          file=sys.stderr)
    sys.exit(1)
print("ok: every one of the 60 citizens exactly once in the three nodes' files together")
PY
what="each node did part of the batch"
if [ "$(lines saved-n1.tsv)" -ge 4 ] && [ "$(lines saved-n2.tsv)" -ge 3 ] && [ "$(lines saved-n3.tsv)" -ge 1 ]; then ok "$what"; else fail "$what"; fi
check "counts: 59 done, 1 needs review" \
  [ "$(psqlq "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM vagt_items WHERE batch = 'borgere-2026-12' GROUP BY state) x")" = "done=59 needs_review=1" ]
rev=$(psqlq "SELECT seq, node, run, attempts, input_sent_at IS NOT NULL FROM vagt_items WHERE state = 'needs_review'")
echo "needs review: $rev"
check "the item in flight on n1 needs review: n1's node and run, attempt 1, input sent" \
  sh -c "echo '$rev' | grep -q '^[0-9]*|n1|1|1|t$'"
seq1=${rev%%|*}
cpr1=$(python3 -c 'import csv,sys; print(list(csv.reader(open("borgere.csv"), delimiter=";"))[int(sys.argv[1])][0])' "$seq1")
what="it is in the output once, by n1 (never redone)"
if [ "$(grep -c "^$cpr1	" all.tsv)" -eq 1 ] && grep -q "^$cpr1	" saved-n1.tsv; then ok "$what"; else fail "$what"; fi
held=$(psqlq "SELECT i.seq FROM vagt_claims c JOIN vagt_items i ON i.id = c.item WHERE c.node = 'n2' AND c.outcome LIKE 'expired%'")
what="n2's held item expired back to pending and was done by n3 on attempt 2"
if [ -n "$held" ] && [ "$(psqlq "SELECT state, attempts, node FROM vagt_items WHERE seq = $held")" = "done|2|n3" ]; then ok "$what"; else fail "$what"; fi
check "every other item attempted once" \
  [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE attempts <> 1 AND seq <> ${held:-0}")" = 0 ]
check "no item held by two claimers at once" [ "$(overlaps)" = 0 ]
check "no item had input sent under two claims" \
  [ "$(psqlq "SELECT count(*) FROM (SELECT item FROM vagt_claims WHERE input_sent_at IS NOT NULL GROUP BY item HAVING count(*) > 1) x")" = 0 ]
d3=$(python3 -c 'import sqlite3; print(sqlite3.connect("sn3/vagt.db").execute("SELECT run_dir FROM runs WHERE id=1").fetchone()[0])')
check "n3's run.json lists n1's item by row, node and run (no data)" python3 - "$d3/run.json" "$seq1" <<'PY'
import json, sys
rj = json.load(open(sys.argv[1]))
need = rj.get("items_need_person")
print("items_need_person:", need)
sys.exit(0 if need == [{"batch": "borgere-2026-12", "seq": int(sys.argv[2]), "run": "node n1, run 1"}]
         and rj.get("status") == "needs_review" else 1)
PY
check "no citizen's data in the fleet database but keys the script chose (cpr)" \
  [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE payload LIKE '%Ærø%' OR reason LIKE '%Ærø%'")" = 0 ]
check "the runs hold no database password" sh -c "! grep -rqs '$PG_VAGTPW' s*/logs s*/runs"

# PostgreSQL restarted twice during a run (item_lease 10 s): the agent reconnects, the robot
# pauses before its next item while the database is away, and nothing is lost or done twice
python3 - <<'PY'
import csv
rows = list(csv.reader(open("borgere.csv", encoding="utf-8"), delimiter=";"))
with open("restart.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(rows[0])
    for r in rows[1:13]:
        w.writerow([r[0].replace("71-", "72-")] + r[1:])
PY
conf n5
sed -i 's/item_lease = 3/item_lease = 10/; s/borgere-2026-12/restart-2026-12/; s/"borgere.csv"/"restart.csv"/' n5.lua
"$VAGT" agent --once borgere --config n5.lua > n5.out 2> n5.err & P5=$!; PIDS=$P5
i=0; until [ "$(lines saved-n5.tsv)" -ge 3 ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
pg_restart; sleep 1
i=0; until [ "$(lines saved-n5.tsv)" -ge 8 ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
pg_restart
wait $P5; r5=$?; PIDS=""
what="a run through two restarts of the database passes (exit $r5)"
if [ "$r5" -eq 0 ]; then ok "$what"; else fail "$what"; show n5.err sn5/logs/1.log; fi
what="all 12 citizens saved once"
if [ "$(lines saved-n5.tsv)" -eq 12 ] && [ "$(cut -f1 saved-n5.tsv | sort -u | wc -l)" -eq 12 ]; then ok "$what"; else fail "$what"; fi
check "the fleet has them done once each" \
  [ "$(psqlq "SELECT count(*), sum(attempts) FROM vagt_items WHERE batch = 'restart-2026-12' AND state = 'done'")" = "12|12" ]

# a node with a key of its own is refused before it enters anything
head -c 32 /dev/urandom > other.key; chmod 600 other.key
conf n4 '' other.key
sed -i 's/borgere-2026-12/borgere-2026-12b/' n4.lua
"$VAGT" agent --once borgere --config n4.lua > n4.out 2> n4.err; r4=$?
what="a node whose items key differs from the fleet's: refused (exit $r4)"
if [ "$r4" -ne 0 ] &&
  grep -q "differs from the fleet's" sn4/logs/1.log; then ok "$what"; else fail "$what"; fi
what="and it entered nothing"
if [ "$(lines saved-n4.tsv)" -eq 0 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE batch = 'borgere-2026-12b'")" = 0 ]; then ok "$what"; else fail "$what"; fi
finish
