#!/bin/sh
# A drift in a fleet: two nodes (n1, n2), each with its own copy of the robot's folder and
# its own state, share one PostgreSQL. The baseline recorded on n1 becomes the fleet's on
# n1's first run, and n2 installs it before its own (its folder had none). After a vendor
# update both nodes run at once and halt on drift: the robot is paused on every node and one
# alert goes to the fleet's outbox, not two. The node delivering it is SIGKILLed while the
# receiver holds the request; after the lease the other node delivers it (the receiver
# answers one delivery; every request carries the one alert id). A paused robot starts
# nowhere (refused without starting the app). An operator approves the drift run on the other
# node's pages, which never had its folder: they list both nodes' runs and serve the run's
# evidence from the fleet's history; the new baseline is published from there, the pause
# ends, and the next runs pass on both nodes. Retention, 40 days on, deletes a node's own runs
# from the fleet's history with their files, and the copies its pages fetched.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
DEMO_APP=${DEMO_APP:?DEMO_APP must name vagt-demo-app}
pg_start || exit 1
cd "$PG_T" || exit 1
export VAGT_BIN="$VAGT" VAGT_OCR_THREADS=1 VAGT_AGENT_DELIVER_SECONDS=20
show() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; }
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
T=$PG_T AGT="$SRC/tests/agent"
RX="$T/rx"; mkdir -p "$RX"
# the first webhook is held 25 s: the node delivering it is killed meanwhile
python3 "$AGT/receiver.py" "$RX" --hold-first 25 2>"$RX/receiver.err" & PIDS="$!"
i=0; while [ ! -f "$RX/ports" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
read HTTP_PORT SMTP_PORT SMTP_PLAIN_PORT SMTPS_PORT < "$RX/ports" || { echo "receiver did not start" >&2; exit 1; }
hooks() { [ -f "$RX/webhooks.jsonl" ] && wc -l < "$RX/webhooks.jsonl" || echo 0; }
arrived() { [ -f "$RX/arrived.log" ] && wc -l < "$RX/arrived.log" || echo 0; }
ids() { [ -f "$RX/arrived.log" ] && sort -u "$RX/arrived.log" | wc -l || echo 0; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export VAGT_AGENT_OUTBOX_LEASE=4
TOKEN=fleet-drift-token-0123456789-$$

for n in n1 n2; do
  mkdir -m 700 $n
  cp "$AGT/sag_robot.lua" $n/sag.lua
  printf '%s\n' "$TOKEN" > $n/token; chmod 600 $n/token
done
P_n1=$(free_port); P_n2=$(free_port)
conf() { # conf NODE VARIANT
  eval "port=\$P_$1"
  cat > $1/agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$port"
token_file = "token"
public_url = "http://fleet.example"
node = "$1"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
channel "ops" { webhook = "http://127.0.0.1:$HTTP_PORT/hook" }
robot "sag" { script = "sag.lua", alert = "ops",
  params = { app = "$DEMO_APP", variant = "$2", out = "$T/saved-$1.tsv" } }
LUA
}
once() { (cd $1 && "$VAGT" agent --once sag --config agent.lua > "$T/$1-$2.out" 2> "$T/$1-$2.err"); }

(cd n1 && "$VAGT" record sag.lua --xvfb --runs recruns --set "app=$DEMO_APP" --set variant=normal \
  --set out="$T/rec.tsv" > "$T/rec.out" 2> "$T/rec.err")
what="baseline recorded on n1"
if [ -d n1/sag.baseline ]; then ok "$what"; else fail "$what"; show rec.err; fi
check "n2 has no baseline of its own" [ ! -e n2/sag.baseline ]
conf n1 normal; conf n2 normal

once n1 a; r=$?
what="n1's first run passes (exit $r) and publishes its baseline as version 1"
if [ "$r" -eq 0 ] && [ "$(psqlq "SELECT string_agg(version || ':' || node, ' ') FROM vagt_baseline WHERE robot = 'sag'")" = "1:n1" ]; then ok "$what"; else fail "$what"; show n1-a.err; fi
once n2 a; r=$?
what="n2 installs the fleet's baseline and passes (exit $r)"
if [ "$r" -eq 0 ] && grep -q "installed the fleet's baseline version 1" n2-a.err; then ok "$what"; else fail "$what"; show n2-a.err; fi
check "n2's folder now holds the same files as n1's" diff -r n1/sag.baseline n2/sag.baseline
what="both saved the record"
if [ "$(lines saved-n1.tsv)" -eq 1 ] && [ "$(lines saved-n2.tsv)" -eq 1 ]; then ok "$what"; else fail "$what"; fi

# the vendor update; both nodes run at once and both halt
conf n1 renamed; conf n2 renamed
(cd n1 && exec "$VAGT" agent --once sag --config agent.lua > "$T/n1-b.out" 2> "$T/n1-b.err") & p1=$!
(cd n2 && exec "$VAGT" agent --once sag --config agent.lua > "$T/n2-b.out" 2> "$T/n2-b.err") & p2=$!
i=0; until [ "$(arrived)" -ge 1 ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
holder=$(psqlq "SELECT node FROM vagt_pause WHERE robot = 'sag'")
other=n1; [ "$holder" = n1 ] && other=n2
what="the robot is paused fleet-wide, by one node ($holder)"
if [ -n "$holder" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_pause WHERE robot = 'sag'")" = 1 ]; then ok "$what"; else fail "$what"; fi
what="its alert went to the fleet's outbox once, and is being delivered"
if [ "$(psqlq "SELECT count(*) FROM vagt_outbox")" = 1 ] && [ "$(arrived)" -eq 1 ]; then ok "$what"; else fail "$what"; fi
eval "pk=\$p${holder#n}"
kill -KILL "$pk" # the delivering node dies during the delivery (its agent)
wait $p1; r1=$?; wait $p2; r2=$?
echo "n1 exit $r1, n2 exit $r2"
eval "ro=\$r${other#n}"
check "the other node halted on the drift too (exit $ro) or was paused before it started" [ "$ro" -eq 3 ]
what="no input into the changed form on either node"
if [ "$(lines saved-n1.tsv)" -eq 1 ] && [ "$(lines saved-n2.tsv)" -eq 1 ]; then ok "$what"; else fail "$what"; fi
check "the other node says it was paused already, or did not start" \
  grep -Eq "paused already|does not run: it is paused" $other-b.err

once $other c; r=$?
what="a paused robot does not start on $other (exit $r), nothing typed, no new alert"
if [ "$r" -eq 3 ] && grep -q "does not run: it is paused on every node" $other-c.err && \
  [ "$(lines saved-$other.tsv)" -eq 1 ] && [ "$(psqlq "SELECT count(*) FROM vagt_outbox")" = 1 ]; then ok "$what"; else fail "$what"; fi
fid=$(psqlq "SELECT v.id FROM vagt_pause p JOIN vagt_run v ON v.node = p.node AND v.local_id::text = p.run")
check "it names the halt as the pages number it (run $fid) and as its node's log does" \
  grep -q "since its drift halt (run $fid on the pages: node $holder's run [0-9]*, at " $other-c.err

# the other node's daemon up alone (the holder stays dead): it delivers the alert after the
# dead node's lease; then the holder's comes back. The operator approves the drift on the
# OTHER node's pages, which never had the run's folder: they show every node's runs and read
# the run's evidence from the fleet's database
daemon() {
  (cd $1 && exec "$VAGT" agent --config agent.lua > "$T/$1-d.out" 2> "$T/$1-d.err") &
  eval "D_$1=\$!"; PIDS="$PIDS $!"
}
daemon $other
i=0; until [ "$(psqlq "SELECT count(*) FROM vagt_outbox WHERE delivered_by IS NOT NULL")" = 1 ] || [ $i -ge 300 ]; do
  sleep 0.1; i=$((i + 1))
done
what="the alert was delivered once, by the other node, on the second attempt ($(hooks) answered)"
if [ "$(hooks)" -eq 1 ] && [ "$(psqlq "SELECT delivered_by, attempts FROM vagt_outbox")" = "$other|2" ]; then ok "$what"; else fail "$what"; fi
daemon $holder
check "one alert id in all the requests ($(arrived) requests)" [ "$(ids)" -eq 1 ]
eval "port=\$P_$other"
U="http://127.0.0.1:$port"
AUTH="Authorization: Bearer $TOKEN"
i=0; until curl -s -o /dev/null "$U/" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
fid=$(psqlq "SELECT max(id) FROM vagt_run WHERE node = '$holder' AND status = 'drift'")
what="the fleet's history has $holder's drift run ($fid), its alert id and its files"
if [ -n "$fid" ] && [ "$(psqlq "SELECT alert_id IS NOT NULL FROM vagt_run WHERE id = $fid")" = t ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run_file WHERE run = $fid AND name = 'run.json'")" = 1 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run_file WHERE run = $fid AND name LIKE 'evidence/%.png'")" -ge 1 ]; then ok "$what"; else fail "$what"; fi
what="the alert links to the run's page by its id in the fleet (any node's pages know it)"
if python3 -c 'import json,sys; sys.exit(0 if [json.loads(l).get("report") for l in open(sys.argv[1])] == [sys.argv[2]] else 1)' \
    "$RX/webhooks.jsonl" "http://fleet.example/runs/$fid/report.html"; then ok "$what"; else fail "$what"; head -c 600 "$RX/webhooks.jsonl"; fi
check "and names the node and the run's number on the pages beside its node's own" \
  python3 -c 'import json,sys; a=json.loads(open(sys.argv[1]).readline()); sys.exit(0 if (a.get("node"), a.get("fleet_run_id"), a.get("run_id")) == (sys.argv[2], int(sys.argv[3]), int(sys.argv[4])) else 1)' \
    "$RX/webhooks.jsonl" "$holder" "$fid" "$(psqlq "SELECT local_id FROM vagt_run WHERE id = $fid")"
what="passed runs name no alert"
if [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE status = 'passed'")" -ge 1 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE status = 'passed' AND alert_id IS NOT NULL")" = 0 ]; then ok "$what"; else fail "$what"; fi
what="every run of both nodes is in it (a run row per node and local id)"
if [ "$(psqlq "SELECT count(DISTINCT node) FROM vagt_run")" = 2 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE status = 'running'")" = 0 ]; then ok "$what"; else fail "$what"; fi
curl -s -H "$AUTH" "$U/" > index.html
what="$other's pages list the runs of both nodes, with the node"
if grep -q "<td>$holder</td>" index.html && grep -q "<td>$other</td>" index.html && \
  grep -q "href=\"/runs/$fid\"" index.html; then ok "$what"; else fail "$what"; fi
curl -s -H "$AUTH" "$U/runs/$fid" > run.html
rdir=$(psqlq "SELECT run_dir FROM vagt_run WHERE id = $fid")
png=$(cd "$rdir/evidence" && ls *.png | head -n 1)
what="the run's page on $other names node $holder and shows its evidence ($png)"
if grep -q "<th>node</th><td>$holder</td>" run.html && grep -q "evidence/$png" run.html; then ok "$what"; else fail "$what"; fi
curl -s -H "$AUTH" -o got.png "$U/runs/$fid/evidence/$png"
check "the evidence image $other serves is the one $holder kept, byte for byte" cmp -s got.png "$rdir/evidence/$png"
code=$(curl -s -o body -w '%{http_code}' -X POST -H "$AUTH" "$U/runs/$fid/approve")
what="approve $holder's run on $other's pages: 200"
if [ "$code" = 200 ] && grep -q "<h1>Approved</h1>" body; then ok "$what"; else fail "$what"; { cat body; show $other-d.err; }; fi
kill -TERM $D_n1 $D_n2; wait $D_n1; wait $D_n2; PIDS=${PIDS%% *}
what="the approval published version 2 from $other and ended the pause"
if [ "$(psqlq "SELECT max(version) FROM vagt_baseline WHERE robot = 'sag'")" = 2 ] && \
  [ "$(psqlq "SELECT node FROM vagt_baseline WHERE robot = 'sag' AND version = 2")" = "$other" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_pause")" = 0 ]; then ok "$what"; else fail "$what"; show $other-d.err; fi
what="the fleet's history has the approval (by node $other) and the run approved"
if [ "$(psqlq "SELECT state, node FROM vagt_approval WHERE run = $fid")" = "approved|$other" ] && \
  [ "$(psqlq "SELECT approved IS NOT NULL FROM vagt_run WHERE id = $fid")" = t ]; then ok "$what"; else fail "$what"; fi

once $holder e; r=$?
what="$holder installs version 2 and passes (exit $r)"
if [ "$r" -eq 0 ] && grep -q "installed the fleet's baseline version 2" $holder-e.err; then ok "$what"; else fail "$what"; show $holder-e.err; fi
once $other e; r=$?
what="$other passes too (exit $r)"
if [ "$r" -eq 0 ]; then ok "$what"; else fail "$what"; show $other-e.err; fi
what="both saved the record after the approval"
if [ "$(lines saved-n1.tsv)" -eq 2 ] && [ "$(lines saved-n2.tsv)" -eq 2 ]; then ok "$what"; else fail "$what"; fi
what="still one alert id in all"
if [ "$(ids)" -eq 1 ] && [ "$(psqlq "SELECT count(*) FROM vagt_outbox")" = 1 ]; then ok "$what"; else fail "$what"; fi
check "both folders hold version 2" diff -r n1/sag.baseline n2/sag.baseline

# retention, 40 days on (the default keeps 30): $other deletes its own runs from the fleet's
# history with their files, the delivered alert and the copies its pages fetched; $holder's
# runs and the approvals stay
mine=$(psqlq "SELECT count(*) FROM vagt_run WHERE node = '$other'")
theirs=$(psqlq "SELECT count(*) FROM vagt_run WHERE node = '$holder'")
check "$other fetched a copy of $holder's run for its pages" [ -f "$other/state/fleet/runs/$fid/run.json" ]
(cd $other && VAGT_AGENT_NOW=$(($(date +%s) + 40 * 86400)) exec "$VAGT" agent --config agent.lua \
  > "$T/$other-p.out" 2> "$T/$other-p.err") & pp=$!
PIDS="$PIDS $pp"
i=0; until grep -q "retention: the fleet's database: deleted" $other-p.err || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pp; wait $pp; PIDS=${PIDS%% *}
what="retention deleted $other's $mine runs in the fleet, with their files"
if [ "$mine" -ge 2 ] && [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE node = '$other'")" = 0 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run_file f LEFT JOIN vagt_run r ON r.id = f.run WHERE r.id IS NULL")" = 0 ]; then ok "$what"; else fail "$what"; show $other-p.err; fi
what="and the delivered alert, and the copies; $holder's $theirs runs and the approval stay"
if [ "$(psqlq "SELECT count(*) FROM vagt_outbox")" = 0 ] && [ ! -e "$other/state/fleet/runs" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE node = '$holder'")" = "$theirs" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_approval")" = 1 ]; then ok "$what"; else fail "$what"; fi
finish
