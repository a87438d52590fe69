#!/bin/sh
# vagt prune --older-than AGE [--runs DIR] [--items-db FILE] [--dry-run]: retention for runs
# outside the agent, on run folders and work items written by real `vagt run`s. Runs are
# made old by setting their run.json's time (and the items' `updated`) back 40 days, never
# by waiting. Old run folders go; recent ones, a run still running (it holds run.lock), the
# newest unapproved drift halt, anything that is not a vagt run folder and a symbolic link
# (with what it points to) stay; done and failed items of finished batches go, a batch with
# a pending item keeps its rows; deleted items leave no bytes in the database files; the
# count is printed; --dry-run deletes nothing; bad arguments exit 2 naming the argument.
. "$(dirname "$0")/lib.sh"
cat > items.lua <<'LUA'
local list = {
  { cpr = robot.params.batch .. "-0101901234", navn = "Soeren Eroe" },
  { cpr = robot.params.batch .. "-0202902345", navn = "Anne Aas" },
}
for item in robot.items(robot.params.batch, list, { key = "cpr" }) do
  if robot.params.stop == item.navn then break end  -- leaves this item pending
  robot.log("done " .. robot.params.batch)
end
LUA
cat > waiter.lua <<'LUA'
robot.log("READY")
robot.sleep(120)
LUA
run1() { # run1 PREFIX ARGS...: a run of items.lua into runs/, its folder in $DIR
  p1=$1; shift
  run_vagt "$p1" run items.lua --xvfb --runs runs "$@"
  expect_rc 0 "$p1" "run $p1"
  DIR=$(ls -td runs/*-items | head -1)
  sleep 1.1 # the next run gets a folder of its own second
}
run1 old --set batch=old;    OLD=$DIR    # old, its batch finished: both go
run1 open --set batch=open --set stop="Anne Aas"; OPEN=$DIR # old; its batch has a pending item
run1 new --set batch=new;    NEW=$DIR    # recent: stays
"$VAGT" run waiter.lua --xvfb --runs runs >w.out 2>w.err &
wpid=$!
i=0; while ! grep -q READY w.err 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
WAIT=$(ls -d runs/*-waiter)
[ -f "$WAIT/run.lock" ] && ok "the running run holds run.lock" || fail "no run.lock in $WAIT"

# What is not a vagt run folder, and a link out of the runs folder.
mkdir -p runs/notes outside/20200101T000000Z-x runs/other
echo keep > runs/notes/a.txt
printf '{ "status": "passed" }\n' > runs/other/run.json
printf '{ "format": "vagt-run", "version": 2, "script": "x.lua", "status": "passed" }\n' > outside/20200101T000000Z-x/run.json
ln -s "$T/outside/20200101T000000Z-x" runs/20200101T000000Z-link
# Drift halts of one script: an older one and the newest (unapproved: kept for vagt
# approve), and an approved one of another script.
mkhalt() { # mkhalt NAME SCRIPT [approved]
  mkdir -p "runs/$1/evidence"
  printf '{ "format": "vagt-run", "version": 2, "script": "%s", "status": "drift", "exit_code": 3 }\n' "$2" > "runs/$1/run.json"
  echo '{}' > "runs/$1/alert.json"; echo png > "runs/$1/evidence/step-001-diff.png"
  [ "${3:-}" ] && echo '{}' > "runs/$1/approved.json"
  return 0
}
mkhalt 20250101T000000Z-form form.lua
mkhalt 20250102T000000Z-form form.lua
mkhalt 20250101T000000Z-menu menu.lua approved
touch -d '42 days ago' runs/20250101T000000Z-form/run.json
touch -d '41 days ago' runs/20250102T000000Z-form/run.json runs/20250101T000000Z-menu/run.json
touch -d '40 days ago' "$OLD/run.json" "$OPEN/run.json" "$WAIT/run.json" runs/other/run.json \
  outside/20200101T000000Z-x/run.json runs/notes runs/notes/a.txt
touch -h -d '40 days ago' runs/20200101T000000Z-link
python3 - runs/items.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("UPDATE items SET updated = strftime('%Y-%m-%dT%H:%M:%SZ','now','-40 days') WHERE batch IN ('old','open')")
db.commit()
PY
items() { python3 - runs/items.db <<'PY'
import sqlite3, sys
for b, s in sqlite3.connect(sys.argv[1]).execute("SELECT batch, state FROM items ORDER BY batch, key"):
    print(b + ":" + s, end=" ")
PY
}
before=$(items)
[ "$before" = "new:done new:done old:done old:done open:done open:pending " ] && ok "the runs left their items ($before)" || fail "items before: $before"
for f in runs/items.db*; do
  grep -aq 0101901234 "$f" && { had_bytes=1; break; }
done
[ "${had_bytes:-}" ] && ok "the items database holds the keys before" || fail "no key bytes in runs/items.db* before the prune"

find runs outside | sort > tree.before
run_vagt dry prune --older-than 30d --runs runs --dry-run
expect_rc 0 dry "--dry-run"
find runs outside | sort > tree.after
expect_file_eq tree.after tree.before "--dry-run deletes nothing"
expect_in dry.out "would delete $OLD" "--dry-run names what would go"
expect_in dry.out "vagt prune: would delete 4 run folders" "--dry-run counts"
[ "$(items)" = "$before" ] && ok "--dry-run keeps the items" || fail "--dry-run changed the items: $(items)"

run_vagt p prune --older-than 30d --runs runs
expect_rc 0 p "prune"
gone() { [ ! -e "$1" ] && ok "$2: deleted" || fail "$2: $1 still there"; }
kept() { [ -e "$1" ] && ok "$2: kept" || fail "$2: $1 is gone"; }
gone "$OLD" "an old run"
gone "$OPEN" "an old run whose batch is unfinished (the folder)"
gone runs/20250101T000000Z-form "an older drift halt of a script"
gone runs/20250101T000000Z-menu "an approved drift halt"
kept "$NEW/run.json" "a recent run"
kept "$WAIT/run.json" "a run still running"
kept runs/20250102T000000Z-form/alert.json "the newest unapproved drift halt"
kept runs/notes/a.txt "a folder that is not a vagt run"
kept runs/other/run.json "a folder with another program's run.json"
[ -L runs/20200101T000000Z-link ] && ok "the symbolic link: kept" || fail "the symbolic link is gone"
kept outside/20200101T000000Z-x/run.json "what the link points to"
expect_in p.out "vagt prune: deleted 4 run folders" "prints the count of folders"
expect_in p.out "and 2 work-item rows older than 30d" "and of work-item rows"
expect_in p.out "kept 1 recent, 1 running, 1 awaiting approval" "and what it kept"
expect_in p.out "kept runs/20250102T000000Z-form: the drift halt that approving" "says why a halt is kept"
expect_in p.out "left alone runs/20200101T000000Z-link: not a vagt run folder (a symbolic link" "names the link it left alone"
after=$(items)
[ "$after" = "new:done new:done open:done open:pending " ] && ok "finished old items deleted, an unfinished batch and recent items kept ($after)" || fail "items after: $after"
left=""
for f in runs/items.db*; do grep -aq -e old-0101901234 -e old-0202902345 "$f" && left="$left $f"; done
[ -z "$left" ] && ok "no bytes of the deleted items left (secure_delete)" || fail "deleted keys still in$left"

# A second prune finds nothing more to do.
run_vagt p2 prune --older-than 30d --runs runs
expect_in p2.out "vagt prune: deleted 0 run folders (0 bytes) and 0 work-item rows" "a second prune deletes nothing"
# Hours: the recent run is seconds old, so it stays.
run_vagt h prune --older-than 1h --runs runs
expect_rc 0 h "--older-than 1h"
kept "$NEW/run.json" "a run seconds old with --older-than 1h"
kill -INT "$wpid"; wait "$wpid" 2>/dev/null

# A run folder of run.json format 1 (vagt before 2026-12: no "format", every step listed)
# is a vagt run folder too: an old one goes, a drift halt of it waiting for approval stays.
mkdir -p runs/20240101T000000Z-v1/evidence runs/20240102T000000Z-v1halt
printf '{ "vagt": "0.4.0", "script": "v1.lua", "mode": "run", "started": "2024-01-01T00:00:00Z", "status": "passed", "steps": [{ "key": "v1.lua:3:click", "line": 3 }], "exit_code": 0 }\n' > runs/20240101T000000Z-v1/run.json
echo png > runs/20240101T000000Z-v1/evidence/step-001-current.png
printf '{ "vagt": "0.4.0", "script": "v1halt.lua", "mode": "run", "started": "2024-01-02T00:00:00Z", "status": "drift", "steps": [{ "key": "v1halt.lua:3:click", "line": 3, "verdict": "drift" }], "exit_code": 3 }\n' > runs/20240102T000000Z-v1halt/run.json
echo '{}' > runs/20240102T000000Z-v1halt/alert.json
touch -d '40 days ago' runs/20240101T000000Z-v1/run.json runs/20240102T000000Z-v1halt/run.json
run_vagt v1 prune --older-than 30d --runs runs
expect_rc 0 v1 "prune with run.json format 1 folders"
gone runs/20240101T000000Z-v1 "an old run of run.json format 1"
kept runs/20240102T000000Z-v1halt/alert.json "the newest unapproved drift halt of run.json format 1"
kept runs/other/run.json "a folder with another program's run.json, beside format 1 folders"
expect_in v1.out "vagt prune: deleted 1 run folder " "counts the format 1 folder"

# Bad arguments: exit 2, naming the argument.
bad() { # bad TEXT ARGS...
  want=$1; shift
  run_vagt bad prune "$@"
  expect_rc 2 bad "vagt prune $*"
  expect_in bad.err "$want" "vagt prune $*: names the problem"
}
bad "--older-than is required" --runs runs
bad "--older-than '30'" --older-than 30 --runs runs
bad "--older-than '30x'" --older-than 30x --runs runs
bad "--older-than '0d'" --older-than 0d --runs runs
bad "--older-than '-1d'" --older-than -1d --runs runs
bad "--older-than '3651d'" --older-than 3651d --runs runs
bad "--older-than '30d5'" --older-than 30d5 --runs runs
bad "--older-than needs a value" --older-than
bad "--runs 'nowhere': no such folder" --older-than 30d --runs nowhere
bad "--items-db 'nothing.db': no such file" --older-than 30d --runs runs --items-db nothing.db
bad "unknown argument '--force'" --older-than 30d --force
bad "unexpected argument 'extra'" --older-than 30d --runs runs extra
kept "$NEW/run.json" "bad arguments delete nothing"
finish
