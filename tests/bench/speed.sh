#!/bin/sh
# Step speed (prints figures; not a test): the demo robot guarded by vagt beside the same
# input sent unguarded by xdotool (one xdotool process for the whole sequence, the Danish
# keysyms bound for good first so that it types them exactly), each producing the demo
# app's correct output; idle and under CPU load (two busy loops). Reports the median settle
# per step, the whole run's wall time of both (application start included) and the ratio.
# usage: tests/bench/speed.sh BUILD_DIR [RUNS]
set -u
build=$(cd "${1:?usage: speed.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VAGT_SPEED_INNER:-}" ]; then
  VAGT_SPEED_INNER=1 exec "$src/tests/lib/with-xvfb" -- "$0" "$build" "$runs"
fi
for c in xdotool python3; do
  command -v $c >/dev/null || { echo "speed.sh: $c missing" >&2; exit 4; }
done
V="$build/cli/vagt"
A="$build/tests/apps/vagt-demo-app"
B="$build/tests/apps/vagt-keymap-bind"
T=$(mktemp -d /tmp/vagt-speed-XXXXXX)
trap 'rm -rf "$T"; [ -n "${L1:-}" ] && kill $L1 $L2 2>/dev/null' EXIT
cd "$T" || exit 1
demo="$src/scripts/demo.lua"

# What the demo robot enters, as the app saves it (TAB-separated, one line per citizen).
python3 - "$demo" > want.tsv <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = text[text.index("local citizens = {"):text.index("if robot.params.batch")]
for row in re.findall(r"\{ (cpr = .*?) \}", block, re.S):
    f = dict(re.findall(r'(\w+) = "(.*?)"', row))
    print("\t".join(f[k] for k in ("cpr", "navn", "adresse", "postnr", "by", "note")))
PY
# The same input through xdotool: one process per field (its "type" takes the rest of
# the command line), no sleeps: Annuller, then per citizen the six fields (move, click,
# type) and Gem, at the demo robot's window-relative points (the window at +0+0).
python3 - want.tsv > xdo.sh <<'PY'
import shlex, sys
pts = [(190, 37), (190, 71), (190, 105), (190, 139), (190, 173), (190, 207)]
out = [["mousemove", "326", "261", "click", "1"]]
for line in open(sys.argv[1], encoding="utf-8"):
    vals = line.rstrip("\n").split("\t")
    for (x, y), v in zip(pts, vals):
        out.append(["mousemove", str(x), str(y), "click", "1", "type", "--delay", "4", v])
    out.append(["mousemove", "222", "261", "click", "1"])
for args in out:
    print("xdotool " + " ".join(shlex.quote(a) for a in args))
PY

"$B" ae:AE oslash:Oslash aring:Aring EuroSign emdash >/dev/null 2>&1
"$V" record "$demo" --display "$DISPLAY" --baseline bl --runs rec --set "app=$A" \
  --set "out=$T/rec.tsv" >rec.err 2>&1 || { echo "recording failed:"; tail -n5 rec.err; exit 1; }

now() { date +%s.%N; }
guarded() { # guarded N
  : > "g$1.tsv"
  s=$(now)
  "$V" run "$demo" --display "$DISPLAY" --baseline bl --runs "runs" --set "app=$A" \
    --set "out=$T/g$1.tsv" >"g$1.err" 2>&1
  rc=$?
  e=$(now)
  ok=no; [ $rc -eq 0 ] && cmp -s "g$1.tsv" want.tsv && ok=yes
  echo "$(echo "$e - $s" | bc) $ok"
}
unguarded() { # unguarded N
  : > "u$1.tsv"
  s=$(now)
  "$A" --out "$T/u$1.tsv" -geometry +0+0 >/dev/null 2>&1 &
  p=$!
  xdotool search --sync --class VagtDemo >/dev/null 2>&1
  sh xdo.sh >/dev/null 2>&1
  sleep 0.5 # as the demo robot waits for the last record
  kill $p 2>/dev/null; wait $p 2>/dev/null
  e=$(now)
  ok=no; cmp -s "u$1.tsv" want.tsv && ok=yes
  echo "$(echo "$e - $s" | bc) $ok"
}
measure() { # measure LABEL
  gt=""; ut=""; gok=0; uok=0
  i=1
  while [ $i -le "$runs" ]; do
    set -- $(guarded $i); gt="$gt $1"; [ "$2" = yes ] && gok=$((gok + 1))
    set -- $(unguarded $i); ut="$ut $1"; [ "$2" = yes ] && uok=$((uok + 1))
    i=$((i + 1))
  done
  python3 - "$label" "$gt" "$ut" "$gok" "$uok" "$runs" runs <<'PY'
import glob, json, statistics, sys
label, gt, ut, gok, uok, n, folder = sys.argv[1:]
g = [float(x) for x in gt.split()]
u = [float(x) for x in ut.split()]
settle = []
for f in glob.glob(folder + "/*/steps.jsonl"):
    settle += [json.loads(l)["ms"]["settle"] for l in open(f) if '"key"' in l]
gm, um = statistics.median(g), statistics.median(u)
print("%-9s vagt guarded: %.2f s (correct output %s/%s)   xdotool unguarded: %.2f s (correct %s/%s)"
      "   ratio %.2fx   settle per step: median %.1f ms, p95 %.1f ms (%d steps)"
      % (label, gm, gok, n, um, uok, n, gm / um, statistics.median(settle),
         sorted(settle)[int(len(settle) * 0.95) - 1], len(settle)))
PY
  rm -rf runs
}
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
label=idle; measure
sh -c 'while :; do :; done' & L1=$!
sh -c 'while :; do :; done' & L2=$!
label="2 loops"; measure
kill $L1 $L2; L1=""
