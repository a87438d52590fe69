#!/bin/sh
# The agent's own cost per run: `vagt agent --once ROBOT` of a robot whose `vagt run` is the
# agent tests' stand-in (tests/agent/fake-vagt.sh: writes a run folder as vagt does and
# exits 0), on one machine (the journal in SQLite) and as a fleet's node (SQLite, then a
# PostgreSQL this script starts: the run's copy, its files, the script check), beside the
# stand-in run alone from the shell (the peer: what any launcher pays for the same child).
# The difference is what the agent adds: loading its configuration, opening its journal,
# recording the run's start and end, delivering nothing.
# usage: tests/bench/agent.sh BUILD_DIR [RUNS]   (VAGT=... another vagt binary to measure)
set -u
build=$(cd "${1:-build}" && pwd)
RUNS=${2:-${VAGT_BENCH_AGENT_RUNS:-40}}
VAGT=${VAGT:-$build/cli/vagt}
here=$(cd "$(dirname "$0")" && pwd)
FAKE="$here/../agent/fake-vagt.sh"
export CLAIMER="$build/tests/fleet/fleet_claimer" # pg.sh asks for it
PG_PARENT=${PG_PARENT:-/var/tmp}
. "$here/../fleet/pg.sh"
W="$PG_T/w"
mkdir -p "$W" && cd "$W" || exit 1

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load:$(uptime | sed 's/.*load average://')"
echo "$RUNS runs each; ms per run = wall time / runs"
printf -- '-- fake: FAKE_EXIT=0 FAKE_LAYOUT=2\nrobot.log("x")\n' > quiet.lua

now() { date +%s%N; }
per_run() { echo "$(( ($2 - $1) / RUNS / 1000 ))" | awk '{printf "%.1f", $1 / 1000}'; }

# the peer: the stand-in run alone
t0=$(now)
i=0
while [ $i -lt "$RUNS" ]; do
  "$FAKE" run quiet.lua --runs peer >/dev/null 2>&1
  i=$((i + 1))
done
t1=$(now)
peer=$(per_run "$t0" "$t1")

# mode NAME EXTRA_CONFIG: prints ms per run, checks every run passed
mode() {
  mkdir -p "$1" && cp quiet.lua "$1/" || return 1
  printf 'state = "state"\nlisten = false\n%s\nrobot "quiet" { script = "quiet.lua" }\n' "$2" \
    > "$1/agent.lua"
  (
    cd "$1" || exit 1
    a=$(now)
    i=0
    while [ $i -lt "$RUNS" ]; do
      VAGT_BIN="$FAKE" VAGT_AGENT_DELIVER_SECONDS=0 "$VAGT" agent --once quiet --config agent.lua \
        >/dev/null 2>>agent.err || { echo "run $i failed:" >&2; tail -3 agent.err >&2; exit 1; }
      i=$((i + 1))
    done
    b=$(now)
    per_run "$a" "$b"
  )
}

one=$(mode one "") || exit 1
pg_start >/dev/null || exit 1
fleet=$(mode fleet "node = \"n1\"
database = \"$PG_DB\"
database_password_file = \"$PG_PWFILE\"") || exit 1
copies=$(psqlq "SELECT count(*) FROM vagt_run WHERE node = 'n1'")

printf '%-44s %8s\n' "" "ms/run"
printf '%-44s %8s\n' "the stand-in run alone (peer)" "$peer"
printf '%-44s %8s\n' "vagt agent --once, one machine (SQLite)" "$one"
printf '%-44s %8s\n' "vagt agent --once, fleet node (+PostgreSQL)" "$fleet"
echo "fleet copies of the node's runs: $copies of $RUNS"
