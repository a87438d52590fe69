#!/bin/sh
# The README demo, on a private Xvfb each time:
#   1. record the demo robot against the bundled legacy app (the baseline),
#   2. run it guarded: every step matches, three citizens are registered,
#   3. run it against the app's "vendor update" (two fields swapped): vagt halts before
#      typing a citizen's data into the wrong field and shows why and where the report is.
# usage: scripts/demo.sh [BUILD_DIR] [VARIANT]
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
variant=${2:-swapped}
vagt="$build/cli/vagt"
app="$build/tests/apps/vagt-demo-app"
[ -x "$vagt" ] && [ -x "$app" ] || { echo "demo: build first (./dev.sh build)" >&2; exit 2; }
mkdir -p -m 700 runs
baseline=runs/demo.baseline
out=runs/demo-registreringer.tsv
rm -rf "$baseline" "$out"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. vagt record scripts/demo.lua --xvfb   (records the baseline: one fingerprint per step)"
"$vagt" record scripts/demo.lua --xvfb --baseline "$baseline" --runs runs \
  --set "app=$app" --set "out=$out" > runs/demo.log 2>&1 || { cat runs/demo.log; exit 1; }
grep -E '^vagt:' runs/demo.log

say "2. vagt run scripts/demo.lua --xvfb   (every step checked against the baseline)"
: > "$out"
"$vagt" run scripts/demo.lua --xvfb --baseline "$baseline" --runs runs \
  --set "app=$app" --set "out=$out" > runs/demo.log 2>&1
rc=$?
grep -E '^vagt:|registreret' runs/demo.log
[ "$rc" -eq 0 ] || { cat runs/demo.log; exit 1; }
echo "-- what the demo app saved:"
cat "$out"

say "3. the same robot after the vendor's update ('$variant'): it must halt, not type"
: > "$out"
"$vagt" run scripts/demo.lua --xvfb --baseline "$baseline" --runs runs \
  --set "app=$app" --set "out=$out" --set "variant=$variant" > runs/demo.log 2>&1
rc=$?
grep -E '^vagt:' runs/demo.log
echo "-- exit status $rc (3 = halted on UI drift)"
echo "-- records the app saved after the update: $(wc -l < "$out") (none: nothing was typed)"
run=$(ls -td runs/*-demo 2>/dev/null | head -n1)
echo "-- alert:    $run/alert.json"
echo "-- evidence: $(ls "$run"/evidence/*.png 2>/dev/null | tr '\n' ' ')"
echo "-- report:   $run/report.html (recorded, today and the difference side by side)"
echo "-- after review, accept the new screen: $vagt approve $run"
[ "$rc" -eq 3 ]
