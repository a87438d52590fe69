#!/bin/sh
# Capacity across the fleet: three agents (nodes a, b, c) share one PostgreSQL. Robot "lic"
# asks for each scheduled time to run on three nodes (spread = 3) but holds two licences
# (seats = 2): at the minute all three nodes claim a slot and run it, never more than two at
# once (the third waits for a seat and runs when one is released). Robot "solo" runs once per
# minute in the fleet. Clocks are injected ($VAGT_AGENT_NOW); the runs are the agent tests'
# stand-in for vagt run, taking 3 s each. Also: seats or spread without a database is a
# configuration error naming the line.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
export VAGT_BIN="$SRC/tests/agent/fake-vagt.sh" FAKE_EXIT=0 FAKE_SLEEP=3
pg_start || exit 1
cd "$PG_T" || exit 1
sqlc() { python3 -c 'import sqlite3,sys; [print("|".join(map(str,r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$@"; }
echo 'robot.log("x")' > r.lua
printf -- '-- fake: FAKE_SPANS="%s/lic.spans"\nrobot.log("x")\n' "$PG_T" > lic.lua
conf() {
  cat > "$1.lua" <<LUA
state = "s$1"
listen = false
node = "$1"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
item_lease = 5
retention_days = 365
robot "lic" { script = "lic.lua", schedule = "* * * * *", spread = 3, seats = 2 }
robot "solo" { script = "r.lua", schedule = "* * * * *" }
LUA
}
conf a; conf b; conf c
now=$(date +%s)
M1=$(( (now / 60 + 1) * 60 + 86400 * 40 ))
runs() { n=0; for s in sa sb sc; do [ -f $s/vagt.db ] && n=$((n + $(sqlc $s/vagt.db "SELECT count(*) FROM runs WHERE status='passed'"))); done; echo $n; }
for n in a b c; do
  VAGT_AGENT_NOW=$((M1 - 3)) "$VAGT" agent --config $n.lua > $n.out 2> $n.err &
  eval "P_$n=\$!"
done
PIDS="$P_a $P_b $P_c"
i=0; while [ "$(runs)" -lt 4 ] && [ $i -lt 400 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill -TERM $P_a $P_b $P_c; wait $P_a; wait $P_b; wait $P_c; PIDS=""
check "four runs: lic on three nodes, solo on one ($(runs))" [ "$(runs)" -eq 4 ]
check "lic's minute: one slot per node, three slots" \
  [ "$(psqlq "SELECT count(*), count(DISTINCT node), max(slot) FROM vagt_schedule WHERE robot = 'lic' AND scheduled = $M1")" = "3|3|3" ]
check "solo's minute: one claim" [ "$(psqlq "SELECT count(*) FROM vagt_schedule WHERE robot = 'solo' AND scheduled = $M1")" = 1 ]
for n in a b c; do
  check "node $n ran lic once" [ "$(sqlc s$n/vagt.db "SELECT count(*) FROM runs WHERE robot = 'lic'")" -eq 1 ]
done
# lic's runs' own starts and ends by the real clock (the stand-in writes them: a seat is
# taken before a run starts and released after it ended)
python3 - lic.spans <<'PY' || failures=$((failures + 1))
import sys
ev = sorted((float(t), 1 if k == "start" else -1) for k, t in (l.split() for l in open(sys.argv[1])))
now = most = 0
for _, d in ev:
    now += d
    most = max(most, now)
print(("ok" if most == 2 else "FAIL") + ": at most two runs of lic at once across the fleet (%d)" % most)
sys.exit(0 if most == 2 else 1)
PY
check "the third node waited for a seat" grep -q "robot lic waits for a seat: all its seats are in use" a.err b.err c.err
check "no seat is left held" [ "$(psqlq "SELECT count(*) FROM vagt_seat")" = 0 ]

cat > bad.lua <<'LUA'
state = "sbad"
robot "lic" { script = "r.lua", seats = 2 }
LUA
"$VAGT" agent --check --config bad.lua > bad.out 2> bad.err; rc=$?
what="seats without a database: a configuration error naming the line (exit $rc)"
if [ "$rc" -eq 2 ] && grep -q "bad.lua:2: .*'seats' and 'spread' are for a fleet" bad.err; then ok "$what"; else fail "$what"; fi
finish
