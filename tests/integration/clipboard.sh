#!/bin/sh
# robot.clipboard.get/set on real applications: owners that offer only Latin-1 STRING or
# COMPOUND_TEXT, or never answer (vagt-clip-owner); a Tk form (wish) that copies what the
# robot typed, pastes what the robot set and writes it to a file, and moves 1.4 MB each way
# by INCR (Tk reads it as STRING and as UTF8_STRING); xterm, whose double-click selection (PRIMARY) the robot reads and into which it
# pastes. The files the applications wrote are compared byte for byte; the run folder and
# vagt's output never hold any of the texts.
. "$(dirname "$0")/lib.sh"
CLIP_OWNER=${CLIP_OWNER:?CLIP_OWNER must name the vagt-clip-owner test tool}
cat > clipapp <<'TCL'
# wish names the class after the script: Clipapp. Files go to the folder in argv.
set out [lindex $argv 0]
set n 0
wm title . Udklip
wm geometry . +0+0
label .l -text Navn
entry .e -width 40
grid .l .e -padx 10 -pady 20
focus .e
proc done {} { global n; incr n; wm title . "Gemt $n" }
proc save {name data} {
  set f [open [file join $::out $name] w]
  fconfigure $f -encoding utf-8 -translation lf
  puts -nonewline $f $data
  close $f
  done
}
proc big {} { string repeat "\u00e6\u00f8\u00e5 \u00c6\u00d8\u00c5 0123456789 abc\n" 50000 }
bind .e <Return> {save pasted.txt [.e get]}
bind .e <F6> {save string.txt [selection get -selection CLIPBOARD -type STRING]}
bind .e <F5> {after 300 {save big.txt [clipboard get]}}
bind .e <F9> {save bigutf8.txt [selection get -selection CLIPBOARD -type UTF8_STRING]}
bind .e <F7> {clipboard clear; clipboard append [big]; done}
bind .e <F8> {clipboard clear; clipboard append [string repeat x 17000000]; done}
TCL
cat > xterm.sh <<SH
printf 'Åse-Ødegård-241285-4321\n'
IFS= read -r line
printf '%s\n' "\$line" > "$T/xterm.txt"
SH
printf '%s' 'Åse Ødegård, Søren Ærø: æøå ÆØÅ é ü ß ½ ©' > latin1.txt
printf '%s' 'Åse Ødegård, Łódź, Ωμέγα €' > ctext.txt
mkdir out
run_vagt r record "$ROBOTS/clipboard.lua" --display "$DISPLAY" --runs runs --baseline bl \
  --set "tcl=$T/clipapp" --set "out=$T/out" --set "owner=$CLIP_OWNER" \
  --set "latin1=$T/latin1.txt" --set "ctext=$T/ctext.txt" --set "xsh=$T/xterm.sh"
expect_rc 0 r "record the clipboard robot"
expect_in r.err "nobody: nil, nobody owns CLIPBOARD" "no owner: nil and the reason"
expect_in r.err "latin1 STRING: exact" "a Latin-1 STRING owner read as UTF-8"
expect_in r.err "bytes, STRING)" "through STRING"
expect_in r.err "COMPOUND_TEXT: exact" "a COMPOUND_TEXT owner read as UTF-8"
expect_in r.err "bytes, COMPOUND_TEXT)" "through COMPOUND_TEXT"
expect_in r.err "mute: nil, the owner of CLIPBOARD did not answer within 0.3 s" \
  "an owner that never answers: nil at the timeout"
expect_in r.err "tk copy: exact" "Tk's copy of the typed value read back exactly"
expect_in r.err "tk primary: exact" "and its PRIMARY selection"
expect_in r.err "tk big copy: exact" "1.4 MB copied in Tk read back (INCR)"
expect_in r.err "too big: " "more than 16 MiB"
expect_in r.err "holds more than 16777216 bytes" "is an error naming the bound"
expect_in r.err "xterm primary: exact" "xterm's double-click selection read back"
expect_in r.err "xterm ended: true" "xterm's shell ended"

printf '%s' 'Søren Ærø 010190-1234' > want-paste.txt
for f in pasted string; do
  if [ -f "out/$f.txt" ]; then expect_file_eq "out/$f.txt" want-paste.txt "Tk $f.txt is the set text"
  else fail "Tk wrote no $f.txt"; fi
done
python3 -c 'import sys; sys.stdout.write("æøå ÆØÅ 0123456789 abc\n" * 50000)' > want-big.txt
for f in big bigutf8; do
  if [ -f "out/$f.txt" ]; then expect_file_eq "out/$f.txt" want-big.txt "Tk read the 1.4 MB set text (INCR): $f.txt"
  else fail "Tk wrote no $f.txt"; fi
done
printf '%s\n' 'Søren Ærø 010190-1234' > want-xterm.txt
if [ -f xterm.txt ]; then expect_file_eq xterm.txt want-xterm.txt "xterm pasted the set PRIMARY"
else fail "xterm wrote nothing"; fi

# What was read and set is data: not in the run folder, not in vagt's output.
leak=0
for s in 'Ødegård' 'Søren' '010190' '241285' 'Łódź' 'Ωμέγα' 'ß ½' '0123456789 abc'; do
  if grep -rqF -- "$s" runs r.err r.out; then fail "'$s' found in the run folder or output"; leak=1; fi
done
[ "$leak" -eq 0 ] && ok "no clipboard text in the run folder or vagt's output"
expect_in r.err "clipboard: read CLIPBOARD (" "the log says what was read, by size"

# A get waiting on a hung owner gives way to the step's deadline: the run (run.json's start
# to its end; vagt's own start and exit take longer under ASan and load) lasts about the
# owner's start and 1 s, not the get's 60 s.
run_vagt d run "$ROBOTS/clip_deadline.lua" --display "$DISPLAY" --runs runs-d --baseline bl-d \
  --set "owner=$CLIP_OWNER" --set "latin1=$T/latin1.txt"
expect_rc 1 d "a get past the step's deadline fails the run"
expect_in d.err "step 'Vent' exceeded its deadline" "naming the step's deadline"
took=$(python3 -c '
import datetime, json, sys
r = json.load(open(sys.argv[1]))
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
print(int((t(r["finished"]) - t(r["started"])).total_seconds()))' runs-d/*/run.json)
[ -n "$took" ] && [ "$took" -lt 30 ] && ok "at the deadline, not at the get's 60 s (${took} s)" ||
  fail "the run took '$took' s"
finish
