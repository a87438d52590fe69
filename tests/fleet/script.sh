#!/bin/sh
# The robots' scripts are the fleet's: nodes a and b run robot "r" from their own copies of
# its script (runs are the agent tests' stand-in for vagt run). The first run publishes the
# script's digest as version 1; a script deployed anew on a node is published as the next
# version by that node's next run; a node whose copy is unchanged since it ran an older
# version, or a new node whose copy is not the fleet's, runs nothing (exit 3, the reason
# naming the versions and the node) until the same script is deployed there.
. "$(dirname "$0")/pg.sh"
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
export VAGT_BIN="$SRC/tests/agent/fake-vagt.sh" FAKE_EXIT=0 FAKE_SLEEP=0
pg_start || exit 1
cd "$PG_T" || exit 1
sqlc() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@"; }
runs() { [ -f "$1/state/vagt.db" ] && sqlc "$1/state/vagt.db" "SELECT count(*) FROM runs" || echo 0; }
for n in a b c; do
  mkdir -m 700 $n
  printf 'robot.log("version one")\n' > $n/r.lua
  cat > $n/agent.lua <<LUA
state = "state"
listen = false
node = "$n"
database = "$PG_DB"
database_password_file = "$PG_PWFILE"
robot "r" { script = "r.lua" }
LUA
done
printf 'robot.log("something else")\n' > c/r.lua
once() { (cd $1 && "$VAGT" agent --once r --config agent.lua > "$PG_T/$1-$2.out" 2> "$PG_T/$1-$2.err"); }
versions() { psqlq "SELECT string_agg(version || ':' || node, ' ' ORDER BY version) FROM vagt_script WHERE robot = 'r'"; }

once a 1; r=$?
what="a's first run passes (exit $r) and publishes the script as version 1"
if [ "$r" -eq 0 ] && [ "$(versions)" = "1:a" ]; then ok "$what"; else fail "$what"; cat a-1.err; fi
once b 1; r=$?
what="b's copy is the same: it runs (exit $r), no new version"
if [ "$r" -eq 0 ] && [ "$(versions)" = "1:a" ]; then ok "$what"; else fail "$what"; fi

printf 'robot.log("version two")\n' > a/r.lua
once a 2; r=$?
what="a new script deployed on a: published as version 2 by its next run (exit $r)"
if [ "$r" -eq 0 ] && [ "$(versions)" = "1:a 2:a" ] && grep -q "script is the fleet's version 2 now" a-2.err; then ok "$what"; else fail "$what"; fi
before=$(runs b)
once b 2; r=$?
cat b-2.err
what="b, unchanged since version 1, runs nothing (exit $r)"
if [ "$r" -eq 3 ] && [ "$(runs b)" -eq "$before" ]; then ok "$what"; else fail "$what"; fi
check "and says why: the versions, the node, what to do" \
  grep -q "robot r does not run: its script .*/b/r.lua is not the fleet's current version 2 (published by node a), unchanged here since this node ran version 1: deploy that script on this node" b-2.err
cp a/r.lua b/r.lua
once b 3; r=$?
what="with the same script deployed, b runs (exit $r)"
if [ "$r" -eq 0 ] && [ "$(runs b)" -eq $((before + 1)) ] && [ "$(versions)" = "1:a 2:a" ]; then ok "$what"; else fail "$what"; fi
once c 1; r=$?
what="a new node whose copy is not the fleet's runs nothing (exit $r)"
if [ "$r" -eq 3 ] && [ "$(runs c)" -eq 0 ] && grep -q "is not the fleet's current version 2 (published by node a): deploy" c-1.err; then ok "$what"; else fail "$what"; fi
check "no version was published by it" [ "$(versions)" = "1:a 2:a" ]

# Every node has its own name: a second state folder under a's name (a clone, or a node set
# up anew) would write its runs over a's in the fleet's history; it is refused.
mkdir -m 700 d && cp a/r.lua a/agent.lua d/
fleet_a=$(psqlq "SELECT count(*) FROM vagt_run WHERE node = 'a'")
once d 1; r=$?
cat d-1.err
what="a second state folder under node name a is refused (exit $r), a's history untouched"
if [ "$r" -eq 2 ] && [ "$(runs d)" -eq 0 ] && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE node = 'a'")" = "$fleet_a" ]; then ok "$what"; else fail "$what"; fi
check "and says why and what to do" \
  grep -q "node name 'a' belongs to another state folder (registered .* UTC; this one is .*): give every node its own .node." d-1.err
once a 3; r=$?
what="a itself still runs (exit $r), one name registered per node"
if [ "$r" -eq 0 ] && \
  [ "$(psqlq "SELECT string_agg(name, ' ' ORDER BY name) FROM vagt_node")" = "a b c" ]; then ok "$what"; else fail "$what"; fi
# a copy of a's state folder (a cloned machine, a folder copied beside) keeps a's node id
mkdir -m 700 e && cp -a a/state e/state && cp a/r.lua a/agent.lua e/
once e 1; r=$?
what="a copy of a's state folder under a's name is refused too (exit $r)"
if [ "$r" -eq 2 ] && grep -q "node name 'a' belongs to another state folder" e-1.err && \
  [ "$(psqlq "SELECT count(*) FROM vagt_run WHERE node = 'a'")" = "$(runs a)" ]; then ok "$what"; else fail "$what"; fi
check "the fleet's run numbers do not skip (every write of a run reuses its row's number)" \
  [ "$(psqlq "SELECT max(id) - min(id) + 1 = count(*) FROM vagt_run")" = t ]
# a database that cannot be reached: --once exits 4 (not 3, a drift's), saying why
sed 's|^database = .*|database = "host=/nonexistent dbname=vagt user=vagt"|' d/agent.lua > d/down.lua
(cd d && "$VAGT" agent --once r --config down.lua > "$PG_T/d-down.out" 2> "$PG_T/d-down.err"); r=$?
what="an unreachable database: --once exits 4 (exit $r) and says so"
if [ "$r" -eq 4 ] && grep -q "vagt agent: fleet database: .*nonexistent" d-down.err; then ok "$what"; else fail "$what"; fi
sed -i 's/node = "a"/node = "d"/' d/agent.lua
once d 2; r=$?
what="under a name of its own it runs (exit $r)"
if [ "$r" -eq 0 ] && [ "$(runs d)" -eq 1 ]; then ok "$what"; else fail "$what"; fi
finish
