#!/bin/sh
# OCR caption recall at the right widget, and the first find on a dense window (prints
# figures; not a test). Truth comes from the toolkits, not from OCR:
#   xcalc (Athena)  every key of the keypad: its Command widget's window (xwininfo -tree,
#                   laid out 5 keys a row in button order) and its label resource (appres;
#                   keys in the Symbol font translated: \326 is the radical, \270 the
#                   division sign, \160 pi)
#   Journal (Tk)    every widget with a -text and the menu bar's entries, from winfo inside
#                   the fixture (journal.tcl sourced by a wish script that then dumps)
#   Sag (Swing)     menus, labels and buttons from the fixture's own --print-layout
# A caption counts when w:find_text (vagt run, tests/bench/robots/captions.lua: the real
# find path, scene capture included) returns one box whose centre lies inside the widget
# and which lies within it; a box elsewhere, not found, or an ambiguity error is a miss.
# Captions holding a character the loaded models cannot produce (find_text says so) are
# listed and left out. The peer: the tesseract command (OMP_THREAD_LIMIT=1) on the same
# window image (import -window), its TSV words found with the same rules (rt_ocr_find,
# tests/ocr/ocr_tsv_find), at page segmentation 3 (its default) and 11 (sparse text), and
# at 11 on the image scaled 2x (small screen fonts may read better larger).
# Then the first find: NEdit showing a 30-line file in an ~800x600 window, a fresh vagt
# process finding the menu caption "Preferences": ms from wait_window returning to the box,
# and from the process's start, beside the tesseract command on the same image; once with
# the window already up (the find waits for the models), once with the robot starting
# NEdit (the models load while it starts); then a second find on the unchanged window (warm),
# and the vagt process's peak RSS.
# usage: tests/bench/captions.sh BUILD_DIR [FIRST_FIND_RUNS]   (default 5; 0: recall only)
set -u
build=$(cd "${1:?usage: captions.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VAGT_CAP_INNER:-}" ]; then
  VAGT_CAP_INNER=1 exec "$src/tests/lib/with-xvfb" -- "$0" "$build" "$runs"
fi
export OMP_THREAD_LIMIT=1
V="$build/cli/vagt"
F="$build/tests/ocr/ocr_tsv_find"
B="$src/tests/bench/robots"
T=$(mktemp -d /tmp/vagt-captions-XXXXXX)
[ -n "${VAGT_CAP_KEEP:-}" ] && T=$VAGT_CAP_KEEP && mkdir -p "$T"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; [ -n "${VAGT_CAP_KEEP:-}" ] || rm -rf "$T"' EXIT
cd "$T" || exit 1
echo "load: $(uptime | sed 's/.*load average/load average/')"

# topwin CLASS: the id of the largest top-level window of that WM_CLASS class (no window
# manager; applications keep unmapped 1x1 and 5x5 shells beside their main window)
topwin() {
  i=0
  while [ $i -lt 100 ]; do
    id=$(xwininfo -root -children 2>/dev/null | awk -v c="\"$1\")" '
      index($0, c) { for (k = 1; k <= NF; k++) if ($k ~ /^[0-9]+x[0-9]+[+-]/) {
        split($k, g, /[x+-]/); a = g[1] * g[2]; if (a > best) { best = a; id = $1 } } }
      END { if (best > 400) print id }')
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# origin ID: the window's absolute upper-left corner "X Y"
origin() {
  xwininfo -id "$1" | awk '/Absolute upper-left X/{x=$NF} /Absolute upper-left Y/{y=$NF} END{print x, y}'
}

# measure APP CLASS ID: truth in $APP.truth (caption TAB x y w h, window-relative); the
# window image, the peer's TSV words at psm 3 and 11, and vagt's finds
measure() {
  app=$1 cls=$2 id=$3
  cut -f1 "$app.truth" > "$app.caps"
  import -window "$id" "$app.png"
  for psm in 3 11; do
    tesseract "$app.png" stdout -l dan+eng --psm $psm tsv > "$app.psm$psm.tsv" 2>/dev/null
    "$F" "$app.psm$psm.tsv" "$app.caps" > "$app.psm$psm.peer"
  done
  # small screen fonts may read better larger: the same at 2x (boxes scaled back when scored;
  # 2x found more captions than 3x or nearest-neighbour scaling on these windows)
  convert "$app.png" -resize 200% "$app.x2.png"
  tesseract "$app.x2.png" stdout -l dan+eng --psm 11 tsv > "$app.psm11x2.tsv" 2>/dev/null
  "$F" "$app.psm11x2.tsv" "$app.caps" > "$app.psm11x2.peer"
  "$V" run "$B/captions.lua" --display "$DISPLAY" --runs "$T/runs" --set "class=$cls" \
    --set "caps=$(cat "$app.caps")" > "$app.out" 2> "$app.err"
  grep -q 'CAP ' "$app.err" || { echo "$app: the robot found nothing to say:"; tail -n5 "$app.err"; }
}

# ---- xcalc (Athena)
xcalc -geometry +0+0 & pids="$pids $!"
id=$(topwin XCalc) || { echo "xcalc did not come up"; exit 1; }
sleep 1
set -- $(origin "$id"); ox=$1 oy=$2
xwininfo -id "$id" -tree > xcalc.tree
appres XCalc xcalc > xcalc.res
python3 - "$ox" "$oy" > xcalc.truth <<'PY' || exit 1
import re, sys
ox, oy = int(sys.argv[1]), int(sys.argv[2])
keys = []
for line in open("xcalc.tree"):
    m = re.match(r"\s*0x[0-9a-f]+ .*\)\s+(\d+)x(\d+)[+-]\d+[+-]\d+\s+\+(-?\d+)\+(-?\d+)", line)
    if m and (int(m.group(1)), int(m.group(2))) == (40, 26):
        w, h, x, y = map(int, m.groups())
        keys.append((y, x, w, h))
if len(keys) != 55:
    sys.exit("xcalc: %d keys in the window tree, 55 expected" % len(keys))
keys.sort()
res = {}
for line in open("xcalc.res", encoding="latin-1"):
    m = re.match(r"XCalc\*ti\.button(\d+)\.(label|font):\s*(.*)", line.rstrip("\n"))
    if m:
        res.setdefault(int(m.group(1)), {})[m.group(2)] = m.group(3)
SYMBOL = {"\326": "\u221a", "\140": "", "\270": "\u00f7", "\160": "\u03c0"}
for k, (y, x, w, h) in enumerate(keys, 1):
    r = res.get(k, {})
    lab = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), r.get("label", ""))
    if "symbol" in r.get("font", ""):
        lab = "".join(SYMBOL.get(c, c) for c in lab)
    print("%s\t%d\t%d\t%d\t%d" % (lab, x - ox, y - oy, w, h))
PY
measure xcalc XCalc "$id"

# ---- Journal (Tk)
cat > dump.tcl <<'TCL'
# source the fixture, then print every captioned widget: text, root x y, width, height
# (an exact -text option: Tk takes -text as short for a combobox's -textvariable)
set here [lindex $argv 0]
set out [lindex $argv 1]
set argv [list --log [file join [pwd] journal.log]]
set argc 2
source [file join $here journal.tcl]
proc walk {w f} {
    foreach c [winfo children $w] {
        if {[winfo class $c] eq "Menu"} {
            if {[winfo ismapped $c]} {
                set last [$c index end]
                for {set i 0} {$last ne "none" && $i <= $last} {incr i} {
                    if {[$c type $i] ni {cascade command}} continue
                    set x0 [$c xposition $i]
                    set x1 [expr {$i < $last ? [$c xposition [expr {$i + 1}]] : [winfo width $c]}]
                    puts $f [format "%s\t%d\t%d\t%d\t%d" [$c entrycget $i -label] \
                        [expr {[winfo rootx $c] + $x0}] [expr {[winfo rooty $c] + [$c yposition $i]}] \
                        [expr {$x1 - $x0}] [winfo height $c]]
                }
            }
        } elseif {[winfo ismapped $c] && ![catch {$c configure -text} spec] &&
                  [lindex $spec 0] eq "-text" && [set t [$c cget -text]] ne ""} {
            puts $f [format "%s\t%d\t%d\t%d\t%d" $t [winfo rootx $c] [winfo rooty $c] \
                [winfo width $c] [winfo height $c]]
        }
        walk $c $f
    }
}
after 1500 {
    set f [open $out.tmp w]
    fconfigure $f -encoding utf-8
    walk . $f
    close $f
    file rename -force $out.tmp $out
}
TCL
wish dump.tcl -name journal -- "$src/tests/apps/tk" "$T/journal.abs" & pids="$pids $!"
id=$(topwin Journal) || { echo "the Journal fixture did not come up"; exit 1; }
i=0; until [ -f journal.abs ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
set -- $(origin "$id")
awk -F'\t' -v ox="$1" -v oy="$2" 'BEGIN{OFS="\t"} {print $1, $2 - ox, $3 - oy, $4, $5}' journal.abs > journal.truth
measure journal Journal "$id"

# ---- Sag (Swing)
"$src/tests/apps/swing/vagt-swing-sag" --classes "$build/tests/apps/swing-classes" -- \
  --log "$T/sag.log" --print-layout > sag.layout 2> sag.jerr & pids="$pids $!"
id=$(topwin Sag) || { echo "the Sag fixture did not come up"; exit 1; }
i=0; until grep -q '"type":"button"' sag.layout 2>/dev/null || [ $i -gt 150 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
python3 - > sag.truth <<'PY'
import json
for line in open("sag.layout", encoding="utf-8"):
    o = json.loads(line)
    if o.get("type") in ("menu", "label", "button") and o.get("text"):
        print("%s\t%d\t%d\t%d\t%d" % (o["text"], o["x"], o["y"], o["w"], o["h"]))
PY
measure sag Sag "$id"

# ---- scores
python3 - xcalc journal sag <<'PY'
import re, sys

def inside(b, t):
    x, y, w, h = b
    tx, ty, tw, th = t
    cx, cy = x + w / 2, y + h / 2
    return (tx <= cx < tx + tw and ty <= cy < ty + th and
            x >= tx and y >= ty and x + w <= tx + tw and y + h <= ty + th)

def score(truth, got):
    """got: per caption (kind, box or None, text); returns hits, misses"""
    hits, misses = 0, []
    for (cap, t), (kind, box, what) in zip(truth, got):
        if kind == "found" and inside(box, t):
            hits += 1
        elif kind == "found":
            misses.append("%r: found %r at %g,%g %gx%g, the widget is %d,%d %dx%d"
                          % ((cap, what) + tuple(box) + tuple(t)))
        else:
            misses.append("%r: %s%s" % (cap, kind, (" (" + what[:150] + ")") if what else ""))
    return hits, misses

PEERS = (("psm3", "--psm 3", 1), ("psm11", "--psm 11", 1), ("psm11x2", "--psm 11 at 2x", 2))
tot = {"vagt": [0, 0], "psm3": [0, 0], "psm11": [0, 0], "psm11x2": [0, 0]}
for app in sys.argv[1:]:
    truth = []
    for line in open(app + ".truth", encoding="utf-8"):
        c, x, y, w, h = line.rstrip("\n").split("\t")
        truth.append((c, (int(x), int(y), int(w), int(h))))
    vg = {}
    for line in open(app + ".err", encoding="utf-8", errors="replace"):
        m = re.search(r"CAP (\d+) (\w+) ?(.*)", line.rstrip("\n"))
        if not m:
            continue
        n, kind, rest = int(m.group(1)), m.group(2), m.group(3)
        if kind == "found":
            f = rest.split(" ", 4)
            vg[n] = ("found", tuple(map(int, f[:4])), f[4] if len(f) > 4 else "")
        else:
            vg[n] = (kind, None, rest)
    got = [vg.get(i + 1, ("no answer", None, "")) for i in range(len(truth))]
    unread = [truth[i][0] for i in range(len(truth)) if got[i][0] == "unreadable"]
    keep = [i for i in range(len(truth)) if got[i][0] != "unreadable"]
    tr = [truth[i] for i in keep]
    h, miss = score(tr, [got[i] for i in keep])
    tot["vagt"][0] += h; tot["vagt"][1] += len(tr)
    print("%-8s vagt find_text: %d/%d = %.1f%%   (left out, characters the models cannot produce: %s)"
          % (app, h, len(tr), 100.0 * h / max(1, len(tr)), " ".join(repr(u) for u in unread) or "none"))
    for m in miss:
        print("           miss %s" % m)
    for psm, name, sc in PEERS:
        pg = []
        for line in open("%s.%s.peer" % (app, psm), encoding="utf-8", errors="replace"):
            f = line.rstrip("\n").split("\t")
            box = None
            if f[0] == "found":
                x, y, w, h = map(int, f[1:5])
                box = (x / sc, y / sc, w / sc, h / sc)
            pg.append((f[0], box, f[5] if len(f) > 5 else ""))
        pg = [pg[i] for i in keep]
        ph, pmiss = score(tr, pg)
        tot[psm][0] += ph; tot[psm][1] += len(tr)
        print("%-8s tesseract %s: %d/%d = %.1f%%, misses: %s" % ("", name, ph, len(tr),
              100.0 * ph / max(1, len(tr)), " ".join(m.split(":")[0] for m in pmiss) or "none"))
print("overall  vagt %d/%d = %.1f%%" % (tot["vagt"][0], tot["vagt"][1], 100.0 * tot["vagt"][0] / tot["vagt"][1]))
for psm, name, sc in PEERS:
    print("         tesseract %s %d/%d = %.1f%%" % (name, tot[psm][0], tot[psm][1], 100.0 * tot[psm][0] / tot[psm][1]))
PY
for p in $pids; do kill "$p" 2>/dev/null; done; pids=""

# ---- first find on a dense window
[ "$runs" -gt 0 ] || exit 0
echo
i=1
while [ $i -le 30 ]; do
  echo "$i: the quick brown fox jumps over the lazy dog while the case worker types a note"
  i=$((i + 1))
done > note.txt
nedit -geometry 88x40+0+0 note.txt & pids="$pids $!"; NEDIT_PIDS=$!; export NEDIT_PIDS
id=$(topwin NEdit) || { echo "nedit did not come up"; exit 1; }
sleep 1.5
import -window "$id" nedit.png
geo=$(xwininfo -id "$id" | awk '/Width:/{w=$NF} /Height:/{h=$NF} END{print w "x" h}')
python3 - "$V" "$B/ocr_first.lua" "$runs" "$geo" "$T/note.txt" <<'PY'
import os, re, statistics, subprocess, sys, time
vagt, robot, runs, geo, note = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def first(extra, what):
    win, start, cpu, box, load, waited, warm, rss = [], [], [], "", [], [], [], []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen([vagt, "run", robot, "--display", os.environ["DISPLAY"], "--runs", "runs",
                              "--set", "class=NEdit", "--set", "caption=Preferences"] + extra,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        st = {}
        for line in p.stderr:
            m = re.search(r"OCR ready .* in (\d+) ms, (\d+) ms of it waited for", line)
            if m:
                load.append(int(m.group(1))); waited.append(int(m.group(2)))
            m = re.search(r"T (start|window|found|warm) (\S+) ?(.*)", line)
            if m:
                st[m.group(1)] = (time.monotonic(), float(m.group(2)))
                if m.group(1) == "found":
                    box = m.group(3)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        rss.append(ru.ru_maxrss / 1024.0)
        if "found" not in st or box.startswith("nil"):
            print("first find: not found (exit %d)" % p.returncode); continue
        win.append((st["found"][0] - st["window"][0]) * 1e3)
        start.append((st["found"][0] - t0) * 1e3)
        cpu.append((st["found"][1] - st["window"][1]) * 1e3)
        if "warm" in st:
            warm.append((st["warm"][0] - st["found"][0]) * 1e3)
    if not win:
        return
    print("first find of 'Preferences' on NEdit (%s, a 30-line file), %s, %d fresh vagt processes:"
          % (geo, what, len(win)))
    print("  from wait_window returning: median %.0f ms (min %.0f, max %.0f); CPU of the process %.0f ms"
          % (statistics.median(win), min(win), max(win), statistics.median(cpu)))
    print("  from the vagt process's start: median %.0f ms (min %.0f, max %.0f); box %s"
          % (statistics.median(start), min(start), max(start), box))
    if warm:
        print("  a second find, the window unchanged (warm): median %.1f ms (max %.1f); peak RSS of the "
              "vagt process: median %.1f MB (max %.1f)" % (statistics.median(warm), max(warm),
                                                           statistics.median(rss), max(rss)))
    if waited:
        print("  loading the models (dan+eng, from the run's start, in the background): "
              "median %d ms, %d ms of it waited for by find_text" % (statistics.median(load), statistics.median(waited)))

first([], "the window already up")
cli = []
for _ in range(runs):
    t0 = time.monotonic()
    out = subprocess.run(["tesseract", "nedit.png", "stdout", "-l", "dan+eng", "tsv"],
                         capture_output=True, text=True).stdout
    cli.append((time.monotonic() - t0) * 1e3)
seen = "Preferences" in out.split()
print("  tesseract command, same window image (dan+eng, OMP_THREAD_LIMIT=1): median %.0f ms "
      "(min %.0f), 'Preferences' among its words: %s" % (statistics.median(cli), min(cli), "yes" if seen else "no"))
subprocess.run(["kill"] + os.environ.get("NEDIT_PIDS", "").split(), stderr=subprocess.DEVNULL)
time.sleep(0.5)
first(["--set", "file=" + note], "started by the robot")
PY
echo "load: $(uptime | sed 's/.*load average/load average/')"
