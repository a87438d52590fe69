#!/bin/sh
# The schema version and connecting: an agent refuses a database whose schema is newer than
# its own, naming both versions, before it touches anything; a password never goes in the
# address; the password comes from an owner-only password_file or libpq's PGPASSFILE.
. "$(dirname "$0")/pg.sh"
not() { ! "$@"; }
pg_start || exit 1
check "a first agent creates the schema" [ "$(claimer migrate)" = "schema 5" ]
check "a second start changes nothing" [ "$(claimer migrate)" = "schema 5" ]
check "version 5 recorded" [ "$(psqlq 'SELECT version FROM vagt_schema')" = 5 ]
claimer enqueue s1 3 >/dev/null

psqlq "UPDATE vagt_schema SET version = 7" >/dev/null
claimer --node old migrate > "$PG_T/old.out" 2> "$PG_T/old.err"; rc=$?
cat "$PG_T/old.err"
check "an older agent refuses a newer schema (exit 4)" [ "$rc" -eq 4 ]
check "its error names both versions" grep -q "schema version 7 is newer than this agent's (5)" "$PG_T/old.err"
claimer work s1 --out "$PG_T/out" > /dev/null 2> "$PG_T/old2.err"; rc=$?
what="it claims nothing from a newer schema"
if [ "$rc" -eq 4 ] && [ ! -s "$PG_T/out" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_items WHERE state = 'pending'")" = 3 ]; then ok "$what"; else fail "$what"; fi
check "and leaves the version as it was" [ "$(psqlq 'SELECT version FROM vagt_schema')" = 7 ]
psqlq "UPDATE vagt_schema SET version = 5" >/dev/null

# a running agent whose connection breaks while another node upgraded the schema: it
# notices on reconnecting
"$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" --node slow work s1 --out "$PG_T/out2" --pause-ms 1500 --lease 10 --patience 1 > "$PG_T/slow.out" 2> "$PG_T/slow.err" & p=$!; PIDS=$p
sleep 0.7
psqlq "UPDATE vagt_schema SET version = 6" >/dev/null
psqlq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'vagt'" >/dev/null
wait $p; rc=$?; PIDS=""
cat "$PG_T/slow.err"
what="after a reconnection a newer schema stops the agent (exit 4)"
if [ "$rc" -eq 4 ] && grep -q "schema version 6 is newer than this agent's (5)" "$PG_T/slow.err"; then ok "$what"; else fail "$what"; fi
psqlq "UPDATE vagt_schema SET version = 5" >/dev/null

# connecting
"$CLAIMER" --db "$PG_DB password=$PG_VAGTPW" --node x migrate 2> "$PG_T/pw.err"; rc=$?
cat "$PG_T/pw.err"
what="a password in the address is refused"
if [ "$rc" -ne 0 ] && grep -q "holds a password" "$PG_T/pw.err"; then ok "$what"; else fail "$what"; fi
check "and not echoed" not grep -q "$PG_VAGTPW" "$PG_T/pw.err"
cp "$PG_PWFILE" "$PG_T/open.pw"; chmod 644 "$PG_T/open.pw"
"$CLAIMER" --db "$PG_DB" --password-file "$PG_T/open.pw" --node x migrate 2> "$PG_T/open.err"; rc=$?
cat "$PG_T/open.err"
what="a password file others can read is refused"
if [ "$rc" -ne 0 ] && grep -q "owner-only" "$PG_T/open.err"; then ok "$what"; else fail "$what"; fi
ln -s "$PG_PWFILE" "$PG_T/link.pw"
check "a symlinked password file is refused" not "$CLAIMER" --db "$PG_DB" --password-file "$PG_T/link.pw" --node x migrate 2>/dev/null
printf 'wrong\n' > "$PG_T/wrong.pw"; chmod 600 "$PG_T/wrong.pw"
"$CLAIMER" --db "$PG_DB" --password-file "$PG_T/wrong.pw" --node x migrate 2> "$PG_T/wrong.err"; rc=$?
cat "$PG_T/wrong.err"
what="a wrong password: an error naming the operation"
if [ "$rc" -ne 0 ] && grep -q "^claimer x: connect: .*password authentication failed" "$PG_T/wrong.err"; then ok "$what"; else fail "$what"; fi
( umask 077; printf '*:*:vagt:vagt:%s\n' "$PG_VAGTPW" > "$PG_T/pgpass.vagt" )
check "libpq's PGPASSFILE works without password_file" \
  [ "$(PGPASSFILE="$PG_T/pgpass.vagt" "$CLAIMER" --db "$PG_DB" --node x migrate)" = "schema 5" ]
check "a URI address works too" \
  [ "$(PGPASSFILE="$PG_T/pgpass.vagt" "$CLAIMER" --db "postgresql://vagt@/vagt?host=$PG_HOME&port=$PG_PORT&sslmode=disable" --node x migrate)" = "schema 5" ]
"$CLAIMER" --db "$PG_DB sslmode=bogus" --password-file "$PG_PWFILE" --node x migrate 2> "$PG_T/ssl.err"
cat "$PG_T/ssl.err"
check "sslmode goes to libpq as given (an invalid one is libpq's error)" grep -q "^claimer x: connect: .*sslmode" "$PG_T/ssl.err"
# a database an agent of schema 1 made (items, no schedule or settings table) is upgraded
psqlq "DROP TABLE vagt_node, vagt_script, vagt_run_file, vagt_run, vagt_approval, vagt_schedule, vagt_meta, vagt_baseline_file, vagt_baseline, vagt_pause, vagt_outbox, vagt_seat; UPDATE vagt_schema SET version = 1" >/dev/null
items_before=$(psqlq "SELECT count(*) FROM vagt_items")
check "a version 1 database is upgraded to 5" [ "$(claimer migrate)" = "schema 5" ]
what="with the schedule and settings tables added and the items kept"
if [ "$(psqlq "SELECT count(*) FROM vagt_schedule")" = 0 ] && [ "$(psqlq "SELECT count(*) FROM vagt_meta")" = 0 ] && [ "$(psqlq "SELECT count(*) FROM vagt_items")" = "$items_before" ]; then ok "$what"; else fail "$what"; fi
# a version 2 database (schedules without slots) with a claimed time: upgraded, the claim kept
psqlq "DROP TABLE vagt_node, vagt_script, vagt_run_file, vagt_run, vagt_approval, vagt_meta, vagt_baseline_file, vagt_baseline, vagt_pause, vagt_outbox, vagt_seat;
       ALTER TABLE vagt_schedule DROP CONSTRAINT vagt_schedule_pkey; ALTER TABLE vagt_schedule DROP COLUMN slot;
       ALTER TABLE vagt_schedule ADD PRIMARY KEY (robot, scheduled);
       INSERT INTO vagt_schedule (robot, scheduled, trigger, node) VALUES ('r', 60, 'schedule', 'x');
       UPDATE vagt_schema SET version = 2" >/dev/null
check "a version 2 database is upgraded to 5" [ "$(claimer migrate)" = "schema 5" ]
check "its claimed time kept, in slot 1" \
  [ "$(psqlq "SELECT robot, scheduled, slot, node FROM vagt_schedule")" = "r|60|1|x" ]
# a version 3 database (no fleet history) with a published baseline: upgraded, the baseline kept
psqlq "DROP TABLE vagt_node, vagt_script, vagt_run_file, vagt_run, vagt_approval;
       INSERT INTO vagt_baseline (robot, version, digest, node) VALUES ('r', 1, 'd', 'x');
       UPDATE vagt_schema SET version = 3" >/dev/null
check "a version 3 database is upgraded to 5" [ "$(claimer migrate)" = "schema 5" ]
what="its baseline kept, and the history tables empty"
if [ "$(psqlq "SELECT robot, version, node FROM vagt_baseline")" = "r|1|x" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run")" = 0 ] && [ "$(psqlq "SELECT count(*) FROM vagt_approval")" = 0 ]; then ok "$what"; else fail "$what"; fi
# a version 4 database (no node names) with a run in its history: upgraded, the run kept
psqlq "DROP TABLE vagt_node;
       INSERT INTO vagt_run (node, local_id, robot, status, started) VALUES ('x', 1, 'r', 'passed', 1);
       UPDATE vagt_schema SET version = 4" >/dev/null
check "a version 4 database is upgraded to 5" [ "$(claimer migrate)" = "schema 5" ]
what="its run kept, and no node name registered yet"
if [ "$(psqlq "SELECT node, local_id, robot FROM vagt_run")" = "x|1|r" ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_node")" = 0 ]; then ok "$what"; else fail "$what"; fi
finish
