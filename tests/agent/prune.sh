#!/bin/sh
# Retention (retention_days): the agent prunes at start and then again on its interval
# ($VAGT_AGENT_PRUNE_SECONDS here, daily otherwise). Runs are made old by setting their
# run.json's time and their history rows back 40 days, never by waiting. Old runs go from
# disk, from the database and from the pages (404); recent ones stay; a run still running
# (run.lock held), the newest unapproved drift halt, a run whose alert is not delivered, a
# folder that is not a vagt run and a symbolic link stay; finished work-item rows go, those
# of a batch with pending items stay; the deleted rows' bytes are gone from the database
# files (secure_delete); every prune is recorded and counted on the pages and /metrics,
# and the run counters do not go down.
. "$(dirname "$0")/aglib.sh"
PORT=$(free_port)
TOKEN=tok-0123456789abcdef-$$
printf '%s\n' "$TOKEN" > token
chmod 600 token
printf -- '-- fake: FAKE_EXIT=0\n' > pass.lua
printf -- '-- fake: FAKE_EXIT=3\n' > drift.lua
printf -- '-- fake: FAKE_EXIT=1\n' > fail.lua
DEAD=$(free_port) # nobody listens: the alert stays in the outbox
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
retention_days = 30
channel "dead" { webhook = "http://127.0.0.1:$DEAD/hook" }
robot "fine" { script = "pass.lua" }
robot "drifty" { script = "drift.lua" }
robot "loud" { script = "fail.lua", alert = { "dead" } }
LUA
export VAGT_BIN="$FAKE" FAKE_LAYOUT=2 VAGT_AGENT_DELIVER_SECONDS=0
once() { "$VAGT" agent --once "$1" --config agent.lua >>once.out 2>>once.err; sleep 1.1; }
once fine    # 1: old: goes
once fine    # 2: recent: stays
once drifty  # 3: old drift halt, a later one exists: goes
once drifty  # 4: old drift halt, the newest, unapproved: stays for approval
once loud    # 5: old, its alert not delivered: stays
once fine    # 6: old, its folder deleted by hand: the row goes
once fine    # 7: made old later, after the first prune: goes at the next one
DB=state/vagt.db
sqlw() { # sqlw DB STATEMENT: a change, committed
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute(sys.argv[2])
db.commit()
PY
}
sql $DB "SELECT id, run_dir FROM runs ORDER BY id" > dirs # (few queries: each is a python3)
dir() { sed -n "s/^$1|//p" dirs; }
for i in 1 2 3 4 5 6 7; do eval "D$i=\$(dir $i)"; done
check "seven runs with their folders" test "$(sql $DB "SELECT count(*) FROM runs WHERE run_dir IS NOT NULL")" -eq 7
check "the loud run's alert waits in the outbox" test "$(sql $DB "SELECT count(*) FROM outbox WHERE run_id=5 AND delivered IS NULL")" -ge 1

age() { # age ID...: the runs end 40 days ago, in the history and on disk
  sqlw $DB "UPDATE runs SET started=started-40*86400, finished=finished-40*86400 WHERE id IN ($(echo "$@" | tr ' ' ,))"
  for i in "$@"; do
    d=$(dir "$i"); [ -f "$d/run.json" ] && touch -d '40 days ago' "$d/run.json"
  done
}
age 1 3 4 5 6
rm -rf "$D6"
# A delivered alert of a run that goes, to see its outbox row go with it.
sqlw $DB "INSERT INTO outbox(alert_id, run_id, robot, channel, kind, target, payload, created, next_attempt, delivered) VALUES('a1', 3, 'drifty', 'x', 'webhook', '{}', '{\"secret\":\"outbox-payload-of-run-3\"}', 0, 0, 1)"
check "the delivered alert was there" test "$(sql $DB "SELECT count(*) FROM outbox WHERE run_id=3")" -eq 1

# A run still running (its run.lock held), old by its run.json.
RUN=state/runs/fine/20200101T000000Z-pass
mkdir -p "$RUN"
printf '{ "format": "vagt-run", "version": 2, "script": "pass.lua", "status": "running" }\n' > "$RUN/run.json"
: > "$RUN/run.lock"
touch -d '40 days ago' "$RUN/run.json"
# the lock held by a process that is the sleep itself (killed at the end: no orphan that
# keeps the test's output open, and ctest waiting for it)
( flock -x 9 && exec sleep 120 ) 9>"$RUN/run.lock" </dev/null >/dev/null 2>&1 &
PIDS="$PIDS $!"
# Not vagt's: a folder without run.json, one with another program's run.json, a link.
mkdir -p state/runs/fine/photos outside/20200101T000000Z-x
echo keep > state/runs/fine/photos/a.txt
printf '{ "status": "passed" }\n' > outside/other.json
mkdir -p state/runs/fine/other && cp outside/other.json state/runs/fine/other/run.json
printf '{ "format": "vagt-run", "version": 2, "script": "pass.lua", "status": "passed" }\n' > outside/20200101T000000Z-x/run.json
ln -s "$T/outside/20200101T000000Z-x" state/runs/fine/20200101T000000Z-link
touch -h -d '40 days ago' state/runs/fine/photos state/runs/fine/photos/a.txt \
  state/runs/fine/other/run.json outside/20200101T000000Z-x/run.json state/runs/fine/20200101T000000Z-link
# Logs: the runs' own, and an old one no run names.
echo old > state/logs/999.log; touch -d '40 days ago' state/logs/999.log
for i in 1 3 6; do check "log of run $i exists" test -f state/logs/$i.log; done

# Work items: done and failed rows of finished batches go when old; a batch with a pending
# item keeps its rows; recent rows stay.
python3 - state/items.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""PRAGMA journal_mode=WAL;
CREATE TABLE items (batch TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER, state TEXT NOT NULL,
  reason TEXT, run TEXT, attempts INTEGER DEFAULT 0,
  updated TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), PRIMARY KEY(batch, key));""")
old = "strftime('%Y-%m-%dT%H:%M:%SZ','now','-40 days')"
rows = [("done-old", "cpr=0101901234-Soeren-Eroe", "done", old),
        ("done-old", "cpr=0202902345-Anne-Aas", "failed", old),
        ("open", "cpr=0303903456-Bo-Bak", "done", old),
        ("open", "cpr=0404904567-Carl-Dam", "pending", old),
        ("fresh", "cpr=0505905678-Dorte-Eg", "done", "strftime('%Y-%m-%dT%H:%M:%SZ','now')")]
for b, k, s, u in rows:
    db.execute("INSERT INTO items(batch, key, seq, state, updated) VALUES(?,?,1,?," + u + ")", (b, k, s))
db.commit()
PY

VAGT_AGENT_PRUNE_SECONDS=2 "$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
U="http://127.0.0.1:$PORT"
A="Authorization: Bearer $TOKEN"
pruned() { [ "$(sql $DB "SELECT count(*) FROM prunes")" -ge "$1" ]; }
wait_for 20 pruned 1 || { fail "no prune recorded at start"; show d.err; finish; }
up() { curl -s -o /dev/null "$U/"; }
wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }
code() { curl -s -o body -w '%{http_code}' -H "$A" "$@"; }

rows_now() { ROWS=" $(sql $DB "SELECT group_concat(id, ' ') FROM runs") "; }
has_row() { case "$ROWS" in *" $1 "*) return 0 ;; esac; return 1; }
no_row() { ! has_row "$1"; }
gone() { # gone ID WHAT: folder, row, page and the list's link
  check "$2: its folder is deleted" test ! -e "$(eval echo \$D$1)"
  check "$2: its history row is deleted" no_row $1
  check "$2: its page is 404" test "$(code "$U/runs/$1")" = 404
  check "$2: its report is 404" test "$(code "$U/runs/$1/report.html")" = 404
  code "$U/" >/dev/null
  check "$2: the pages no longer list it" sh -c "! grep -q 'href=\"/runs/$1\"' body"
}
kept() {
  check "$2: its folder is kept" test -f "$(eval echo \$D$1)/run.json"
  check "$2: its history row is kept" has_row $1
  check "$2: its page is served" test "$(code "$U/runs/$1")" = 200
  code "$U/" >/dev/null
  check "$2: the pages list it" grep -q "href=\"/runs/$1\"" body
}
rows_now
gone 1 "an old run"
kept 2 "a recent run"
gone 3 "an old drift halt that a later halt superseded"
kept 4 "the newest drift halt, not approved"
kept 5 "an old run whose alert is not delivered"
check "a row whose folder was deleted by hand goes by its age" no_row 6
kept 7 "a run not yet old"
check "the running run is kept (run.lock held)" test -f "$RUN/run.json"
check "a folder that is not a vagt run is left alone" test -f state/runs/fine/photos/a.txt
check "a folder with another program's run.json is left alone" test -f state/runs/fine/other/run.json
check "the symbolic link is left alone" test -L state/runs/fine/20200101T000000Z-link
check "and what it points to" test -f outside/20200101T000000Z-x/run.json
check "the pruned runs' logs are deleted" sh -c "test ! -e state/logs/1.log && test ! -e state/logs/3.log && test ! -e state/logs/6.log"
check "kept runs keep their logs" sh -c "ls state/logs/2.log state/logs/4.log state/logs/5.log >/dev/null"
check "an old log no run names is deleted" test ! -e state/logs/999.log
check "the delivered alert of a pruned run is deleted" test "$(sql $DB "SELECT count(*) FROM outbox WHERE run_id=3")" -eq 0
check "the undelivered alert stays" test "$(sql $DB "SELECT count(*) FROM outbox WHERE run_id=5 AND delivered IS NULL")" -ge 1
items() { sql state/items.db "SELECT batch || ':' || state FROM items ORDER BY batch, key" | tr '\n' ' '; }
got=$(items)
check "finished old work items deleted, a batch with a pending item kept, recent kept ($got)" \
  test "$got" = "fresh:done open:done open:pending "
for f in state/vagt.db* state/items.db*; do
  check "no bytes of a deleted row left in $f" sh -c "! grep -aq -e 0101901234 -e 0202902345 -e outbox-payload-of-run-3 -e '$(basename "$D1")' '$f'"
done
rec=$(sql $DB "SELECT runs, folders, run_rows, item_rows, logs, kept FROM prunes ORDER BY id LIMIT 1")
check "the prune is recorded: 3 runs (2 folders, 3 rows), 2 item rows, 4 logs, 2 kept ($rec)" \
  test "$rec" = "3|2|3|2|4|2"
check "with the bytes it freed" test "$(sql $DB "SELECT bytes FROM prunes ORDER BY id LIMIT 1")" -gt 0
check "the agent's log says what it deleted" grep -q "retention 30 days: deleted 3 runs (2 run folders" d.err
check "/metrics: 200" test "$(code "$U/metrics")" = 200
check "vagt_pruned_runs_total" grep -qx 'vagt_pruned_runs_total 3' body
check "vagt_pruned_rows_total for items" grep -qx 'vagt_pruned_rows_total{table="items"} 2' body
check "vagt_last_prune_timestamp_seconds" grep -q '^vagt_last_prune_timestamp_seconds [0-9]' body
check "vagt_runs_total counts the pruned runs too (never goes down)" grep -qx 'vagt_runs_total{robot="fine",status="passed"} 4' body
check "vagt_drift_total too" grep -qx 'vagt_drift_total{robot="drifty"} 2' body
code "$U/" >/dev/null
check "the robots page shows the last prune" grep -q 'id="last-prune">Last prune [0-9-]*T[0-9:]*Z: deleted' body
check "and what retention deleted in all" grep -q 'id="pruned-total">In all: 3 runs, 4 history rows, 2 work-item rows' body
check "and the retention" grep -q 'deleted 30 days after the run' body

# The next prune, without a restart: run 7 has grown old meanwhile.
age 7
n=$(sql $DB "SELECT count(*) FROM prunes")
if wait_for 15 pruned $((n + 1)); then ok "pruned again on its interval"; else fail "no second prune"; show d.err; fi
wait_for 10 sh -c "test ! -e '$D7'"
rows_now
gone 7 "a run that grew old while the agent ran"
code "$U/metrics" >/dev/null
check "the counter grew" grep -qx 'vagt_pruned_runs_total 4' body
kill -TERM $D; wait $D; rc=$?
check "the agent stops cleanly (exit $rc)" test $rc -eq 0

# retention_days is validated like every setting.
printf 'state = "s"\nlisten = false\n\nretention_days = 0\n' > bad.lua
"$VAGT" agent --check --config bad.lua >c.out 2>c.err; rc=$?
check "retention_days = 0: exit 2 ($rc)" test $rc -eq 2
check "naming file and line" grep -q "bad.lua:4: 'retention_days' must be a whole number of days 1-3650" c.err
finish
