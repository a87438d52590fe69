#!/bin/sh
# Detection benchmark of the brittleness monitor (prints figures; not a test):
#   record the demo robot twice (two data sets), run it against every vendor-update variant
#   of the demo app and against benign variations many times, and report per variant
#   whether the drift was caught before any input (the app's output file proves it), the
#   reason given, the false alarms, and the guard check's time per step.
# usage: tests/bench/detection.sh BUILD_DIR [BENIGN_RUNS_PER_KIND]
set -u
build=$(cd "${1:?usage: detection.sh BUILD_DIR}" && pwd)
per=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VAGT_DETECT_INNER:-}" ]; then
  # On a private 1920x1080 display of its own.
  VAGT_DETECT_INNER=1 exec "$src/tests/lib/with-xvfb" --screen 1920x1080x24 -- "$0" "$build" "$per"
fi
vagt="$build/cli/vagt"
app="$build/tests/apps/vagt-demo-app"
T=$(mktemp -d /tmp/vagt-detect-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
cat > moved.sh <<SH
#!/bin/sh
exec "$app" "\$@" -geometry +700+400
SH
cat > prefill.sh <<SH
#!/bin/sh
exec "$app" "\$@" --prefill
SH
chmod +x moved.sh prefill.sh

run() { "$vagt" "$@" --display "$DISPLAY" --baseline bl --runs runs >last.err 2>&1; }

run record "$src/scripts/demo.lua" --set "app=$app" --set "out=$T/r1.tsv" || { cat last.err; exit 1; }
run record "$src/scripts/demo.lua" --set "app=$app" --set "out=$T/r2.tsv" --set batch=2 || { cat last.err; exit 1; }
# other data already in the form is data once a recording has seen it there
run record "$src/scripts/demo.lua" --set "app=$T/prefill.sh" --set "out=$T/r3.tsv" || { cat last.err; exit 1; }
echo "recorded three times (two data sets, once with a citizen already in the form): $(ls bl/*.json | wc -l) step keys"
echo
printf '%-10s %-8s %-5s %s\n' variant caught exit "reason (first)"
caught=0; total=0
for v in swapped renamed banner inserted nobutton whatsnew font theme; do
  : > "$v.tsv"
  run run "$src/scripts/demo.lua" --set "app=$app" --set "out=$T/$v.tsv" --set "variant=$v"
  rc=$?
  lines=$(wc -l < "$v.tsv")
  yes=no; [ "$rc" -eq 3 ] && [ "$lines" -eq 0 ] && yes=yes && caught=$((caught + 1))
  total=$((total + 1))
  reason=$(sed -n 's/.*HALTED before sending input: .*(demo\.lua:[0-9]*): //p' last.err | head -n1)
  printf '%-10s %-8s %-5s %s\n' "$v" "$yes" "$rc" "$reason"
done
echo "caught before any input: $caught/$total"
echo
fa=0; n=0
for kind in plain moved prefill straight-after; do
  a="$app"; [ -x "$kind.sh" ] && a="$T/$kind.sh"
  k=0; f=0
  while [ $k -lt "$per" ]; do
    : > b.tsv
    run run "$src/scripts/demo.lua" --set "app=$a" --set "out=$T/b.tsv" --set batch=$((k % 2 + 1))
    rc=$?
    [ "$rc" -ne 0 ] && { f=$((f + 1)); sed -n 's/.*HALTED before sending input: //p' last.err | head -n1 | sed 's/^/    false alarm: /'; }
    [ "$kind" = straight-after ] || sleep 1
    k=$((k + 1))
  done
  printf 'benign %-15s %d runs, %d false alarm(s)\n' "$kind" "$per" "$f"
  fa=$((fa + f)); n=$((n + per))
done
echo "false alarms: $fa/$n benign runs"
echo
# Per matched step of the benign runs: the guard's judgement alone, and the guarded look
# (finding the scene's windows, capturing them, describing them) plus the judgement.
python3 - runs <<'PY'
import glob, json, statistics, sys
g, lg = [], []
def steps(folder):
    """steps.jsonl: a line per step; a line without a key amends step n"""
    st = {}
    for line in open(folder + "/steps.jsonl"):
        o = json.loads(line)
        if "key" in o:
            st[o["n"]] = o
        elif o.get("n") in st:
            st[o["n"]].update({k: v for k, v in o.items() if k != "ms"})
    return [st[k] for k in sorted(st)]
for f in glob.glob(sys.argv[1] + "/*/run.json"):
    d = json.load(open(f))
    d["steps"] = steps(f.rsplit("/", 1)[0])
    m = [s["ms"] for s in d["steps"] if s.get("verdict") == "match"]
    g += [x["guard"] for x in m]
    lg += [x["capture"] + x["guard"] for x in m]
for name, v in (("guard check", g), ("look + guard check", lg)):
    v.sort()
    if v:
        print("%s per step, 640x400 demo window: median %.3f ms, p95 %.3f ms over %d matched steps"
              % (name, statistics.median(v), v[int(len(v) * 0.95) - 1], len(v)))
PY
# The same screens through ImageMagick compare, one step pair, for scale.
ref=$(ls bl/Registrer_borger_1_click*.png | head -n1)
cur=$(ls runs/*/evidence/*-current.png 2>/dev/null | head -n1)
if command -v compare >/dev/null && [ -n "$cur" ]; then
  s=$(date +%s%N); i=0
  while [ $i -lt 10 ]; do compare -metric AE "$ref" "$ref" null: 2>/dev/null; i=$((i + 1)); done
  e=$(date +%s%N)
  echo "ImageMagick compare -metric AE on the same 640x400 pair: $(( (e - s) / 10000000 )) ms per call"
fi
