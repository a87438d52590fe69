#!/bin/sh
# A long batch (prints figures; not a test): a loop robot on xcalc, five guarded clicks a
# sum, recorded over 3 sums and then run for SUMS sums (6,000 = 30,001 steps). The cost of
# a step must not grow with the run: per-step time of the first and last 1,000 steps, the
# bytes the step log grows a step, the run's resident memory sampled every 5 s, the report's
# size, rows and writing time. The peer: xdotool sending the same clicks unguarded, one
# process for 1,000 of them. The last sum is read back from xcalc (PRIMARY) to check that
# the robot really computed it.
# usage: tests/bench/longrun.sh BUILD_DIR [SUMS]
set -u
build=$(cd "${1:?usage: longrun.sh BUILD_DIR [SUMS]}" && pwd)
sums=${2:-6000}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VAGT_LONGRUN_INNER:-}" ]; then
  VAGT_LONGRUN_INNER=1 exec "$here/../lib/with-xvfb" -- "$0" "$build" "$sums"
fi
for c in xcalc xdotool wish python3; do
  command -v $c >/dev/null || { echo "longrun.sh: $c missing" >&2; exit 4; }
done
V="$build/cli/vagt"
robot="$here/robots/xcalc_loop.lua"
T=$(mktemp -d /tmp/vagt-longrun-XXXXXX)
trap 'rm -rf "$T"; pkill -u "$(id -u)" -x xcalc 2>/dev/null' EXIT
cd "$T" || exit 1

"$V" record "$robot" --display "$DISPLAY" --baseline bl --runs rec --set n=3 >rec.err 2>&1 ||
  { echo "recording failed:"; tail -n5 rec.err; exit 1; }
pkill -u "$(id -u)" -x xcalc

echo "load before: $(cut -d" " -f1-3 /proc/loadavg)"
"$V" run "$robot" --display "$DISPLAY" --baseline bl --runs runs --set "n=$sums" >run.err 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
  rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$pid/status 2>/dev/null)
  cpu=$(cut -d' ' -f14,15 /proc/$pid/stat 2>/dev/null | tr ' ' '+' | bc)
  steps=$(cat runs/*/steps.jsonl 2>/dev/null | wc -l)
  [ -n "$rss" ] && [ -n "$cpu" ] && echo "$steps $rss $cpu" >> rss.txt
  sleep 5
done
wait $pid
rc=$?
[ $rc -eq 0 ] || { echo "the run ended with exit $rc:"; grep -v '^step' run.err | tail -n 6; }
printf 'wm withdraw .\nif {[catch {puts [selection get]}]} { puts "(none)" }\nexit\n' > sel.tcl
sel=$(wish sel.tcl 2>/dev/null)
pkill -u "$(id -u)" -x xcalc

# the peer: the same keypad clicks without a guard, one xdotool process for 1,000 clicks
python3 - > peer.sh <<'PY'
pts = [(24 + 44 * ((k - 1) % 5), 75 + 30 * ((k - 1) // 5)) for k in (52, 47, 50, 38, 55)]
args = []
for i in range(200):
    for x, y in pts:
        args += ["mousemove", str(x), str(y), "click", "1"]
print("xdotool " + " ".join(args))
PY
xcalc -geometry +0+0 & cp=$!
xdotool search --sync --class XCalc >/dev/null 2>&1
ps=$(date +%s.%N); sh peer.sh; pe=$(date +%s.%N)
kill $cp 2>/dev/null

python3 - "$rc" "$sums" "$sel" "$ps" "$pe" <<'PY'
import glob, json, os, statistics, sys
rc, sums, sel, ps, pe = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
d = glob.glob("runs/*/")[0]
want = sums % 9 + 1 + (sums * 7) % 9 + 1
lines = open(d + "steps.jsonl", "rb").read().splitlines()
steps = [json.loads(l) for l in lines]
tot = [s["ms"]["total"] for s in steps]
settle = [s["ms"]["settle"] for s in steps]
run = json.load(open(d + "run.json"))
rep = d + "report.html"
rep_ms = (os.stat(rep).st_mtime_ns - os.stat(d + "run.json").st_mtime_ns) / 1e6
rows = open(rep, encoding="utf-8").read().count("<tr><td>")
k = min(1000, len(steps) // 3)
def per(a): return statistics.mean(a)
b_first = sum(len(l) + 1 for l in lines[:k]) / k
b_last = sum(len(l) + 1 for l in lines[-k:]) / k
rss = [tuple(map(int, l.split())) for l in open("rss.txt")]
early = [r for s, r, c in rss if s >= k] or [rss[0][1]]
hz = os.sysconf("SC_CLK_TCK")
def cpu_per_step(lo, hi): # CPU ms a step between the samples nearest lo and hi steps
    a = min(rss, key=lambda r: abs(r[0] - lo)); b = min(rss, key=lambda r: abs(r[0] - hi))
    return 1000.0 * (b[2] - a[2]) / hz / max(1, b[0] - a[0])
print("exit %d, %d steps, status %s, last sum read back: %s (wanted %d)" %
      (rc, len(steps), run.get("status"), sel, want))
print("per step, first %d: %.1f ms (settle %.1f)   last %d: %.1f ms (settle %.1f)   change %+.1f%%" %
      (k, per(tot[:k]), per(settle[:k]), k, per(tot[-k:]), per(settle[-k:]),
       100 * (per(tot[-k:]) / per(tot[:k]) - 1)))
n = len(steps)
print("vagt's CPU time a step (load-independent): steps %d-%d: %.2f ms   steps %d-%d: %.2f ms" %
      (k, 2 * k, cpu_per_step(k, 2 * k), n - k, n, cpu_per_step(n - k, n)))
print("step log: %.0f bytes a step first, %.0f last; %d bytes in all; run.json %d bytes" %
      (b_first, b_last, os.path.getsize(d + "steps.jsonl"), os.path.getsize(d + "run.json")))
print("memory (VmRSS): %.1f MB after %d steps, %.1f MB at the end (max %.1f MB)" %
      (early[0] / 1024, k, rss[-1][1] / 1024, max(r[1] for r in rss) / 1024))
print("report: %d step rows, %.0f kB, written in %.0f ms" % (rows, os.path.getsize(rep) / 1024, rep_ms))
print("peer, xdotool unguarded: %.1f ms a click (1,000 clicks in one process; its own pacing)" % (pe - ps))
PY
