#!/bin/sh
# The README demo: the demo robot registers three citizens in the bundled legacy app on a
# private Xvfb; then shows what the app saved and where the run's report is.
# usage: scripts/demo.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
vagt="$build/runtime/vagt"
app="$build/tests/apps/vagt-demo-app"
[ -x "$vagt" ] && [ -x "$app" ] || { echo "demo: build first (./dev.sh build)" >&2; exit 2; }
mkdir -p -m 700 runs
out="runs/demo-registreringer.tsv"
rm -f "$out"

echo "== vagt run scripts/demo.lua --xvfb  (the demo robot on a private Xvfb)"
"$vagt" run scripts/demo.lua --xvfb --set "app=$app" --set "out=$out"
rc=$?
echo
echo "== what the demo app saved ($out):"
if [ -f "$out" ]; then cat "$out"; else echo "(nothing)"; fi
run=$(ls -td runs/*-demo 2>/dev/null | head -n1)
echo
echo "== run folder: $run (run.json, report.html, log.txt)"
exit $rc
