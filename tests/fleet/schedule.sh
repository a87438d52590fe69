#!/bin/sh
# Schedules fire once per fleet: two agents (nodes a and b) with the same robots share one
# PostgreSQL; each cron time of a robot is run by exactly one of them (a unique row per
# robot and scheduled time, the node that inserted it runs it), a time missed while every
# node was down is caught up once across the fleet, and a node that cannot reach the
# database runs nothing it cannot claim. The agents' clocks are injected ($VAGT_AGENT_NOW
# starts them 3 s before a minute); the robots are the agent tests' stand-in for vagt run.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
export VAGT_BIN="$SRC/tests/agent/fake-vagt.sh" FAKE_EXIT=0
pg_start || exit 1
cd "$PG_T" || exit 1
sqlc() { python3 -c 'import sqlite3,sys; [print("|".join(map(str,r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$@"; }
echo 'robot.log("x")' > r.lua
conf() { # conf NODE STATE [DATABASE]
  cat > "$1.lua" <<LUA
state = "$2"
listen = false
retention_days = 365 -- the clocks run a month ahead of the run folders' files
node = "$1"
database = "${3:-$PG_DB}"
database_password_file = "$PG_PWFILE"
robot "every" { script = "r.lua", schedule = "* * * * *" }
robot "late" { script = "r.lua", schedule = "* * * * *", catch_up = true }
LUA
}
conf a sa; conf b sb
now=$(date +%s)
M1=$(( (now / 60 + 1) * 60 + 86400 * 30 ))
runs() { n=0; for s in sa sb; do [ -f $s/vagt.db ] && n=$((n + $(sqlc $s/vagt.db "SELECT count(*) FROM runs WHERE status='passed'"))); done; echo $n; }
wait_runs() { i=0; while [ "$(runs)" -lt "$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done; }

VAGT_AGENT_NOW=$((M1 - 3)) "$VAGT" agent --config a.lua > a1.out 2> a1.err & A=$!
VAGT_AGENT_NOW=$((M1 - 3)) "$VAGT" agent --config b.lua > b1.out 2> b1.err & B=$!
PIDS="$A $B"
wait_runs 2
sleep 2 # a second run of one minute would show by now
kill -TERM $A $B; wait $A; ra=$?; wait $B; rb=$?; PIDS=""
what="both nodes stop cleanly (exit $ra, $rb)"
if [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ]; then ok "$what"; else fail "$what"; fi
check "two robots due at one minute: two runs across the fleet, not four ($(runs))" [ "$(runs)" -eq 2 ]
check "one claim row per robot and time" \
  [ "$(psqlq "SELECT robot, scheduled, trigger FROM vagt_schedule ORDER BY robot" | tr '\n' ' ')" = "every|$M1|schedule late|$M1|schedule " ]
for r in every late; do
  holder=$(psqlq "SELECT node FROM vagt_schedule WHERE robot = '$r'")
  check "robot $r ran on the node holding its claim ($holder)" \
    [ "$(sqlc s$holder/vagt.db "SELECT count(*) FROM runs WHERE robot = '$r' AND scheduled = $M1")" -eq 1 ]
done
check "the other node says whose run it was" grep -q "its run at .* is node [ab]'s" a1.err b1.err

# Both down for ten minutes; both come back at once: the latest missed time runs once.
VAGT_AGENT_NOW=$((M1 + 630)) "$VAGT" agent --config a.lua > a2.out 2> a2.err & A=$!
VAGT_AGENT_NOW=$((M1 + 630)) "$VAGT" agent --config b.lua > b2.out 2> b2.err & B=$!
PIDS="$A $B"
wait_runs 4
sleep 2
kill -TERM $A $B; wait $A; wait $B; PIDS=""
check "catch-up: one run per robot across the fleet ($(runs) in all)" [ "$(runs)" -eq 4 ]
check "claimed as catch-up at the latest missed time" \
  [ "$(psqlq "SELECT count(*) FROM vagt_schedule WHERE scheduled = $((M1 + 600)) AND trigger = 'catch-up'")" -eq 2 ]

# A node whose database is unreachable when a run falls due runs nothing it cannot claim.
conf c sc "host=$PG_HOME port=$PG_PORT dbname=vagt user=vagt connect_timeout=2"
VAGT_AGENT_NOW=$((M1 + 655)) "$VAGT" agent --config c.lua > c.out 2> c.err & C=$!; PIDS=$C
i=0; while ! grep -q "fleet node c" c.err && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 -m fast stop > /dev/null
sleep 6 # the minute M1 + 660 falls due while the database is down
c_runs() { sqlc sc/vagt.db "SELECT count(*) FROM runs" 2>/dev/null || echo 0; }
check "a node without its database runs nothing" [ "$(c_runs)" -eq 0 ]
check "and says its run waits" grep -q "its run at .* waits: the fleet database cannot say" c.err
pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/server.log" -w -t 60 start > /dev/null
i=0; while [ "$(c_runs)" -lt 2 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $C; wait $C; PIDS=""
what="once it is back the waiting runs are claimed and run"
if [ "$(psqlq "SELECT count(*) FROM vagt_schedule WHERE scheduled = $((M1 + 660)) AND node = 'c'")" -eq 2 ] && [ "$(c_runs)" -eq 2 ]; then ok "$what"; else fail "$what"; fi
finish
