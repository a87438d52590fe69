#!/bin/sh
# robot.items and `vagt items` on the databases real `vagt run`s write: a CSV of citizens
# without opts.key leaves no CPR number nor name in items.db or its WAL (after a checkpoint
# too) and a run again skips them all; `vagt items list` shows rows by number, state,
# attempts, run and time, never a key; `vagt items who FIELD=VALUE...` (fields in any order)
# finds the runs that entered and finished one citizen's item with their states, `--key`
# for a batch with a key field, and prints none of the data; a wrong value or batch exits 1
# without echoing it; prune deletes the history with the items; items.db and items.key are
# owner-only. Assertions on the database rows, the files and the outputs, byte for byte.
. "$(dirname "$0")/lib.sh"
umask 022 # vagt makes its files owner-only whatever the umask
cat > borgere.csv <<'CSV'
cpr;navn;by
010190-1234;Søren Ærø;Aarhus C
020290-2345;Åse Øberg;Ølstykke
030390-3456;Bo Æble;Vejle
CSV
cat > items.lua <<'LUA'
local r = robot.items("borgere", robot.params.csv, { retry_failed = robot.params.retry == "1" },
  function(item)
    if item.cpr == robot.params.fail then error("kunne ikke gemme") end
    robot.log("gemt række")
  end)
if robot.params.keyed == "1" then
  for item in robot.items("med-noegle", robot.params.csv, { key = "cpr" }) do end
end
LUA
sql() { python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]).fetchall(): print("|".join("" if v is None else str(v) for v in r))
db.commit()' "$@"; }
DATA="010190-1234 0101901234 020290-2345 030390-3456 Søren Ærø Åse Øberg Æble Ølstykke"
no_data() { # no_data WHAT FILE...: none of the citizens' data in the files
  found=""
  for f in "$@"; do for d in $DATA; do [ -f "$f" ] && grep -aqF "$d" "$f" && found="$found $f:$d"; done; done
  [ -z "$found" ] && ok "$1" || fail "$1:$found"
}

run_vagt r1 run items.lua --xvfb --runs runs --set csv=borgere.csv --set fail=020290-2345
expect_rc 5 r1 "a row failed in the callback: the run needs review"
R1=$(ls -d runs/*-items | head -1)
sleep 1.1
run_vagt r2 run items.lua --xvfb --runs runs --set csv=borgere.csv --set retry=1
expect_rc 0 r2 "retried, the run passes"
R2=$(ls -td runs/*-items | head -1)
expect_in "$R2/log.txt" "robot.items borgere: 1 done, 0 failed now, 0 waiting for a person (failed before, not retried), 2 skipped because done" "the second run entered only row 2"

perm=$(stat -c %a runs/items.db runs/items.key | tr '\n' ' ')
[ "$perm" = "600 600 " ] && ok "items.db and items.key are owner-only" || fail "modes: $perm"
no_data "no CPR number nor name in items.db and its WAL" runs/items.db runs/items.db-wal
sql runs/items.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
no_data "nor after a checkpoint" runs/items.db runs/items.db-wal
sleep 1.1 # a run in the same second gets folder NAME-items-2, which runs/*-items misses
run_vagt r3 run items.lua --xvfb --runs runs --set csv=borgere.csv
expect_rc 0 r3 "a third run"
R3=$(ls -td runs/*-items | head -1)
expect_in "$R3/log.txt" "robot.items borgere: 0 done, 0 failed now, 0 waiting for a person (failed before, not retried), 3 skipped because done" "the same results: all skipped as done"

run_vagt l items list --batch borgere --items-db runs/items.db
expect_rc 0 l "vagt items list"
cut -f1-4 l.out > l.cols
printf 'seq\tstate\tattempts\trun\n1\tdone\t1\t%s\n2\tdone\t2\t%s\n3\tdone\t1\t%s\n' "$R1" "$R2" "$R1" > l.want
expect_file_eq l.cols l.want "list: row, state, attempts, run"
if cut -f5 l.out | tail -n +2 | grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'; then
  fail "list: updated is not a UTC time"; else ok "list: updated, a UTC time"; fi

VAGT_ITEMS_DB=runs/items.db run_vagt w items who --batch borgere navn='Åse Øberg' by=Ølstykke cpr=020290-2345
expect_rc 0 w "who: fields in another order than the header"
cut -f2- w.out | tail -n +2 > w.cols
printf 'state\trun\nrunning\t%s\nfailed\t%s\nrunning\t%s\ndone\t%s\n' "$R1" "$R1" "$R2" "$R2" > w.want
expect_file_eq w.cols w.want "who: the runs that entered and finished row 2, in order"
[ "$(head -1 w.out)" = "batch borgere, row 2: done now" ] && ok "who: the row and its state" || fail "who: $(head -1 w.out)"
no_data "who prints none of the data" w.out w.err
run_vagt w2 items who --batch borgere --items-db runs/items.db navn='Åse Øberg' cpr=020290-2345
expect_rc 1 w2 "who without every field: not found"
expect_in w2.err "vagt items: batch 'borgere' has no such item (or it was pruned)" "... saying so"
no_data "... without echoing it" w2.out w2.err
run_vagt w3 items who --batch borgere --items-db runs/items.db navn='Åse Øberg' by=Ølstykke cpr=020290-2346
expect_rc 1 w3 "who with a wrong value: not found"
run_vagt w4 items who --batch med-noegle --items-db runs/items.db --key 010190-1234
expect_rc 1 w4 "who --key before the batch ran: not found"
expect_in w4.err "vagt items: batch 'med-noegle' has no items in runs/items.db" "... no such batch"
sleep 1.1
run_vagt r4 run items.lua --xvfb --runs runs --set csv=borgere.csv --set keyed=1
expect_rc 0 r4 "a run with a key field batch"
R4=$(ls -td runs/*-items | head -1)
run_vagt w5 items who --batch med-noegle --items-db runs/items.db --key 010190-1234
expect_rc 0 w5 "who --key: a key field's value"
printf 'batch med-noegle, row 1: done now\nat\tstate\trun\n' > w5.want1
head -2 w5.out > w5.got1
expect_file_eq w5.got1 w5.want1 "who --key: row and header"
printf 'running\t%s\ndone\t%s\n' "$R4" "$R4" > w5.want
tail -n +3 w5.out | cut -f2- > w5.got
expect_file_eq w5.got w5.want "who --key: entered and finished by the fourth run"
run_vagt b items who --batch nothing --items-db runs/items.db cpr=1
expect_rc 1 b "who in a batch that is not there"
run_vagt u items who --batch borgere --items-db runs/items.db 010190-1234
expect_rc 2 u "an operand without FIELD="
no_data "... named by its place, not echoed" u.out u.err

# retention: the history goes with the items
sql runs/items.db "UPDATE items SET updated = strftime('%Y-%m-%dT%H:%M:%SZ','now','-40 days') WHERE batch='borgere'" >/dev/null
run_vagt p prune --older-than 30d --runs runs
expect_rc 0 p "prune"
n=$(sql runs/items.db "SELECT (SELECT count(*) FROM items WHERE batch='borgere'), (SELECT count(*) FROM item_runs WHERE batch='borgere'), (SELECT count(*) FROM item_runs WHERE batch='med-noegle')")
[ "$n" = "0|0|6" ] && ok "prune deleted the items and their history, kept the recent ones ($n)" || fail "after prune: $n"
run_vagt w6 items who --batch med-noegle --items-db runs/items.db --key 010190-1234
expect_rc 0 w6 "who after the prune: the recent batch still answers"
finish
