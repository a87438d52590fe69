#!/bin/sh
# Detection across toolkits (prints figures; not a test): robots on applications of four
# toolkits, each "vendor update" made through the application's own mechanism (X resources,
# Tk options, the fixtures' variants, Swing's look and feel):
#   Athena: xcalc, xman     Motif: NEdit     Tk: the Journal fixture     Swing: the Sag fixture
# For every mutation: halted (exit 3) with the robot's final action not done (the
# application's own output proves it), and whether a reason names the changed element (a
# caption, the new window's title, or the kind of change for colours and fonts). Then
# unchanged runs of every robot (other data where the robot types), counting false alarms.
# usage: tests/bench/toolkits.sh BUILD_DIR [UNCHANGED_RUNS_PER_ROBOT]   (default 10: 50 runs)
set -u
build=$(cd "${1:?usage: toolkits.sh BUILD_DIR [RUNS]}" && pwd)
per=${2:-10}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VAGT_TK_INNER:-}" ]; then
  VAGT_TK_INNER=1 exec "$src/tests/lib/with-xvfb" -- "$0" "$build" "$per"
fi
V="$build/cli/vagt"
R="$src/tests/integration/robots"
J="$src/tests/apps/tk/vagt-tk-journal"
S="$src/tests/apps/swing/vagt-swing-sag"
C="$build/tests/apps/swing-classes"
T=$(mktemp -d /tmp/vagt-toolkits-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
cat > getsel.tcl <<'TCL'
wm withdraw .
if {[catch {puts [selection get]}]} { puts "(none)" }
exit
TCL
mkdir docs

# vrun NAME MODE ROBOT-ARGS...: one vagt run, output in NAME.err, exit status in $rc
vrun() {
  n=$1 mode=$2; shift 2
  "$V" "$mode" "$@" --display "$DISPLAY" --runs "$T/runs" >"$n.err" 2>&1
  rc=$?
}
# done_* NAME: did the robot's final action happen? (sets $did to yes/no)
calc() { # calc NAME MODE A B [XRM]
  vrun "$1" "$2" "$R/xcalc.lua" --baseline blcalc --set "a=$3" --set "b=$4" --set "xrm=${5:-}"
  res=$(wish getsel.tcl 2>/dev/null)
  p=$(sed -n 's/.*started xcalc (pid \([0-9]*\)), kept.*/\1/p' "$1.err" | head -n1)
  [ -n "$p" ] && kill "$p" 2>/dev/null
  did=no; [ "$res" = "$(($3 + $4))" ] && did=yes
}
man() { # man NAME MODE [XRM]
  vrun "$1" "$2" "$R/xman.lua" --baseline blman --set "xrm=${3:-}"
  did=no; grep -q "browsers: 2" "$1.err" && did=yes
}
ned() { # ned NAME MODE TEXT [XRM]
  : > docs/notat.txt
  vrun "$1" "$2" "$R/nedit.lua" --baseline blned --set "file=$T/docs/notat.txt" \
    --set "text=$3" --set "xrm=${4:-}"
  did=no; [ "$(cat docs/notat.txt)" = "$3" ] && did=yes
}
jou() { # jou NAME MODE [--set k=v]...
  n=$1 m=$2; shift 2
  : > "$n.log"
  vrun "$n" "$m" "$R/journal.lua" --baseline bljou --set "app=$J" --set "log=$T/$n.log" "$@"
  did=no; grep -q "menu gem" "$n.log" && did=yes
}
sag() { # sag NAME MODE [--set k=v]...
  n=$1 m=$2; shift 2
  : > "$n.log"
  vrun "$n" "$m" "$R/sag.lua" --baseline blsag --set "app=$S" --set "classes=$C" \
    --set "log=$T/$n.log" "$@"
  did=no; grep -q "menu gem" "$n.log" && did=yes
}

echo "recording (twice where the robot's data varies)"
calc rc1 record 6 4; calc rc2 record 7 25
man rm1 record
ned rn1 record "Notat fra vagt"
jou rj1 record; jou rj2 record --set cpr=241285-4321 --set "navn=Åse Øberg-Nørgaard"
sag rs1 record; sag rs2 record --set cpr=241285-4321 --set "navn=Åse Øberg-Nørgaard"
for f in rc1 rc2 rm1 rn1 rj1 rj2 rs1 rs2; do
  grep -q "passed (exit 0)" "$f.err" || { echo "recording $f failed:"; tail -n5 "$f.err"; exit 1; }
done

total=0; caught=0; named=0
# mut TOOLKIT NAME 'TOKEN|TOKEN' -- the last run's exit, proof and reasons
mut() {
  total=$((total + 1))
  a=$(ls "$T"/runs/*/alert.json 2>/dev/null | xargs -r ls -t | head -n1)
  c=no; [ "$rc" -eq 3 ] && [ "$did" = no ] && c=yes && caught=$((caught + 1))
  nm=no
  if [ "$rc" -eq 3 ] && [ -n "$a" ] &&
     python3 - "$a" "$3" <<'PY'
import json, sys
reasons = json.load(open(sys.argv[1]))["reasons"]
sys.exit(0 if any(t in r for r in reasons for t in sys.argv[2].split("|")) else 1)
PY
  then nm=yes; named=$((named + 1)); fi
  first=$(sed -n 's/.*HALTED before sending input: halted on UI drift at step //p' "$n.err" | head -n1 | cut -c1-110)
  printf '%-6s %-30s %-6s %-5s %s\n' "$1" "$2" "$c" "$nm" "$first"
  rm -f "$a"
}
echo
printf '%-6s %-30s %-6s %-5s %s\n' toolkit mutation caught named "halting step: first reason"
calc m1 run 6 4 "xcalc*ti.button5.label: CLR"; n=m1; mut Xaw "xcalc: AC reads CLR" "CLR|'AC'"
calc m2 run 6 4 "xcalc*ti.button7.label: SIN"; n=m2; mut Xaw "xcalc: sin reads SIN" "SIN|'sin'"
calc m3 run 6 4 "xcalc*ti.button44.label: 9"; n=m3; mut Xaw "xcalc: key 6 reads 9" "'6'"
calc m4 run 6 4 "xcalc*background: yellow"; n=m4; mut Xaw "xcalc: background yellow" "colours"
calc m5 run 6 4 "xcalc*Font: -adobe-helvetica-bold-r-normal--12-*-*-*-*-*-iso8859-1"; n=m5
mut Xaw "xcalc: bold Helvetica" "font|size"
calc m6 run 6 4 "xcalc*ti.button50.label: plus"; n=m6; mut Xaw "xcalc: + reads plus" "plus|'+'"
man m7 run "*manpageButton.Label: Manualside"; n=m7; mut Xaw "xman: Manual Page relabelled" "anualside|anual Page"
man m8 run "*horizPane*options.Label: Valg"; n=m8; mut Xaw "xman: Options reads Valg" "Valg|Options"
man m9 run "*openNewManpage.Label: Ny manualside"; n=m9; mut Xaw "xman: menu entry relabelled" "Ny |Open New"
man m10 run "*SimpleMenu*font: -adobe-helvetica-bold-r-normal--14-*-*-*-*-*-iso8859-1"; n=m10
mut Xaw "xman: menu font" "font|size|entr"
man m11 run "*Label: X"; n=m11; mut Xaw "xman: menu title inserted" "entries moved|new text"
ned m12 run "x" "nedit*fileMenu.tearOffModel: XmTEAR_OFF_DISABLED"; n=m12
mut Motif "nedit: menu without tear-off" "entries moved"
ned m13 run "x" "nedit.statisticsLine: true"; n=m13; mut Motif "nedit: statistics line" "size"
ned m14 run "x" "nedit*fontList: -adobe-helvetica-bold-r-normal--14-*-*-*-*-*-iso8859-1"; n=m14
mut Motif "nedit: menu bar font" "size|font"
ned m15 run "x" "nedit*menuBar*background: orange"; n=m15; mut Motif "nedit: menu bar colour" "colours|File"
ned m16 run "x" "nedit*fileMenu.save.acceleratorText: F2"; n=m16; mut Motif "nedit: accelerator F2" "F2|Ctrl+S"
for v in menu-swapped:"Slet alle notater" menu-renamed:"Gem journalen" menu-inserted:"Eksportér" \
         dialog:"new window" combo-renamed:"Klagesag" combo-inserted:"Anke" \
         label-renamed:"Fulde navn" button-moved:"'Gem'|'Annuller'" counter-relabeled:"Læg til"; do
  var=${v%%:*}; tok=${v#*:}
  jou "t$var" run --set "variant=$var"; n="t$var"; mut Tk "journal: $var" "$tok"
done
sag s1 run --set variant=menu-swapped; n=s1; mut Swing "sag: menu-swapped" "Slet sag"
sag s2 run --set variant=menu-renamed; n=s2; mut Swing "sag: menu-renamed" "Gem sagen"
sag s3 run --set variant=menu-inserted; n=s3; mut Swing "sag: menu-inserted" "Eksportér|Gem sag"
sag s4 run --set variant=dialog; n=s4; mut Swing "sag: dialog" "new window"
sag s5 run --set variant=combo-renamed; n=s5; mut Swing "sag: combo-renamed" "Klagesag"
sag s6 run --set variant=combo-inserted; n=s6; mut Swing "sag: combo-inserted" "Anke|Klage"
sag s7 run --set variant=label-renamed; n=s7; mut Swing "sag: label-renamed" "Fulde navn"
sag s8 run --set variant=button-moved; n=s8; mut Swing "sag: button-moved" "'Gem'|'Annuller'"
sag s9 run --set laf=javax.swing.plaf.nimbus.NimbusLookAndFeel; n=s9; mut Swing "sag: Nimbus look and feel" "colours"
echo "mutations: $total, caught with the final action not done: $caught/$total, reason names the change: $named/$total"

echo
fa=0; runs=0
benign() { # benign NAME: after a run, count it
  runs=$((runs + 1))
  if [ "$rc" -ne 0 ] || [ "$did" != yes ]; then
    fa=$((fa + 1))
    echo "  false alarm or failure in $1 (exit $rc): $(grep -E 'HALTED|vagt: .*lua:' "$1.err" | head -n1 | cut -c1-160)"
  fi
}
i=0
while [ $i -lt "$per" ]; do
  calc u "run" $((i % 9 + 1)) $((i * 7 + 1)); benign u
  man u run; benign u
  ned u run "Tekst nummer $i"; benign u
  jou u run --set "cpr=0101$i$i-1234" --set "navn=Borger $i" --set "geometry=+$((i * 20))+$((i * 10))"; benign u
  sag u run --set "cpr=0202$i$i-4321" --set "navn=Borger Ø$i"; benign u
  i=$((i + 1))
done
echo "unchanged runs: $runs (5 robots x $per, the Tk window in a new place each time), false alarms: $fa"

# The guarded look per matched step: listing the scene's windows and capturing them
# (the judged look) plus the judgement, waiting excluded.
python3 - "$T/runs" <<'PY'
import glob, json, statistics, sys
per = {}
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
    name = d.get("script", "").rsplit("/", 1)[-1]
    for s in d["steps"]:
        if s.get("verdict") == "match":
            per.setdefault(name, []).append(s["ms"]["capture"] + s["ms"]["guard"])
for name, v in sorted(per.items()):
    v.sort()
    print("look + judge per matched step, %-12s median %.2f ms, p95 %.2f ms (%d steps)"
          % (name, statistics.median(v), v[int(len(v) * 0.95) - 1], len(v)))
PY
