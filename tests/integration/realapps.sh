#!/bin/sh
# The guard on applications this project did not write, with vendor updates made through
# their own mechanism (X resources). What the robot did is read from the applications:
# xcalc's result from the PRIMARY selection it sets, xman's windows, the file NEdit saved.
#   xcalc (Athena): a calculator recorded twice with other sums merges (its display answers
#     the robot), a third sum passes; AC relabelled CLR and the never-clicked sin key
#     relabelled halt (no guessed "field" blinds the keypad).
#   xman (Athena): "Manual Page" by text, then Options > Open New Manpage by text (opens on
#     press, acts on release); the button and a menu entry relabelled halt.
#   NEdit (Motif): File > Save by Alt+F, S without sleeps; menu without its tear-off line halts.
. "$(dirname "$0")/lib.sh"
cat > getsel.tcl <<'TCL'
wm withdraw .
if {[catch {puts [selection get]}]} { puts "(none)" }
exit
TCL
kept_pid() { sed -n 's/.*started xcalc (pid \([0-9]*\)), kept.*/\1/p' "$1.err" | head -n1; }
calc() { # calc PREFIX MODE A B [XRM]
  run_vagt "$1" "$2" "$ROBOTS/xcalc.lua" --display "$DISPLAY" --runs "runs-$1" \
    --baseline blcalc --set "a=$3" --set "b=$4" --set "xrm=${5:-}"
  sel=$(wish getsel.tcl 2>/dev/null)
  p=$(kept_pid "$1"); [ -n "$p" ] && kill "$p" 2>/dev/null
}
calc c1 record 6 4
expect_rc 0 c1 "xcalc: record 6+4"
[ "$sel" = 10 ] && ok "xcalc: the robot's sum is 10" || fail "xcalc: result '$sel', wanted 10"
calc c2 record 7 25
expect_rc 0 c2 "xcalc: a second recording with another sum merges (the display is the robot's)"
[ "$sel" = 32 ] && ok "xcalc: 7+25 = 32" || fail "xcalc: result '$sel', wanted 32"
calc c3 run 13 8
expect_rc 0 c3 "xcalc: a third sum passes"
[ "$sel" = 21 ] && ok "xcalc: 13+8 = 21" || fail "xcalc: result '$sel', wanted 21"
calc c4 run 6 4 "xcalc*ti.button5.label: CLR"
expect_rc 3 c4 "xcalc: AC relabelled CLR halts"
expect_in c4.err "CLR" "xcalc: the reason names CLR"
[ "$sel" = "(none)" ] && ok "xcalc: nothing computed" || fail "xcalc: computed '$sel'"
calc c5 run 6 4 "xcalc*ti.button7.label: SIN"
expect_rc 3 c5 "xcalc: sin relabelled SIN halts"
expect_in c5.err "SIN" "xcalc: the reason names SIN"

man() { # man PREFIX MODE [XRM]
  run_vagt "$1" "$2" "$ROBOTS/xman.lua" --display "$DISPLAY" --runs "runs-$1" --baseline blman \
    --set "xrm=${3:-}"
}
man m1 record
expect_rc 0 m1 "xman: record"
expect_in m1.err "browsers: 2" "xman: Open New Manpage opened a second browser"
man m2 run
expect_rc 0 m2 "xman: unchanged run"
expect_in m2.err "browsers: 2" "xman: the menu entry ran"
man m3 run "*manpageButton.Label: Manualside"
expect_rc 3 m3 "xman: the button relabelled halts"
expect_in m3.err "anualside" "xman: the reason names the new caption"
man m4 run "*openNewManpage.Label: Ny manualside"
expect_rc 3 m4 "xman: the menu entry relabelled halts"
expect_in m4.err "'Ny" "xman: the reason names the new entry"
grep -q "browsers: 2" m4.err && fail "xman: the relabelled entry ran" || ok "xman: nothing opened"

mkdir docs
ned() { # ned PREFIX MODE TEXT [XRM]
  : > docs/notat.txt
  run_vagt "$1" "$2" "$ROBOTS/nedit.lua" --display "$DISPLAY" --runs "runs-$1" --baseline blned \
    --set "file=$T/docs/notat.txt" --set "text=$3" --set "xrm=${4:-}"
}
ned n1 record "Notat fra vagt"
expect_rc 0 n1 "nedit: record"
[ "$(cat docs/notat.txt)" = "Notat fra vagt" ] && ok "nedit: saved by Alt+F, S" ||
  fail "nedit: the file holds '$(cat docs/notat.txt)'"
for i in 1 2 3; do
  ned "n2$i" run "Anden tekst $i"
  expect_rc 0 "n2$i" "nedit: keyboard menu, unchanged run $i"
  [ "$(cat docs/notat.txt)" = "Anden tekst $i" ] && ok "nedit: run $i saved" ||
    fail "nedit: run $i: the file holds '$(cat docs/notat.txt)'"
done
ned n3 run "Tredje" "nedit*fileMenu.tearOffModel: XmTEAR_OFF_DISABLED"
expect_rc 3 n3 "nedit: the File menu without its tear-off line halts"
[ -s docs/notat.txt ] && fail "nedit: saved after the update" || ok "nedit: nothing saved"
# w:menu{"File", "Save"}: the entry "Save" (accelerator Ctrl+S far right), not "Save As..."
nedm() { # nedm PREFIX MODE TEXT
  : > docs/notat.txt
  run_vagt "$1" "$2" "$ROBOTS/nedit.lua" --display "$DISPLAY" --runs "runs-$1" --baseline blnedm \
    --set "file=$T/docs/notat.txt" --set "text=$3" --set save=menu
}
nedm nm1 record "Gemt via menuen"
expect_rc 0 nm1 "nedit: record File > Save by w:menu"
nedm nm2 run "Igen via menuen"
expect_rc 0 nm2 "nedit: File > Save by w:menu, unchanged run"
[ "$(cat docs/notat.txt)" = "Igen via menuen" ] && ok "nedit: w:menu saved the file" ||
  fail "nedit: w:menu: the file holds '$(cat docs/notat.txt)'"
grep -q "Save As" runs-nm2/*/steps.jsonl && fail "nedit: Save As... was chosen" ||
  ok "nedit: the entry Save, not Save As..."
finish
