#!/bin/sh
# Citizens' data stays out of what a run leaves behind. A robot types a CPR number and a
# name into the demo app (black on white on a private Xvfb) and then (a) fails a wait_text, (b) halts on drift before saving
# (a notice of another program over the form), (c) times out. No file of the run folder and no message
# holds either, byte for byte; the evidence images show the typed fields blank (no pixel
# of the fields' text colour) and OCR finds neither in them. Positive control: with
# evidence "full" OCR does find the CPR number in the current image, and only there. The
# baseline's reference images keep no typed data either.
. "$(dirname "$0")/lib.sh"
command -v tesseract >/dev/null || { echo "tesseract missing" >&2; exit 1; }
command -v convert >/dev/null || { echo "ImageMagick missing" >&2; exit 1; }
CPR=010190-1234
NAME="Søren Ærø"
pv() { # pv PREFIX MODE [ARGS...]
  p=$1; m=$2; shift 2
  run_vagt "$p" "$m" "$ROBOTS/privacy.lua" --display "$DISPLAY" --runs "runs-$p" --baseline bl \
    --set "app=$DEMO_APP" --set "out=$T/$p.tsv" "$@"
}
no_data() { # no_data PREFIX: nothing typed in any file of the run folder or the messages
  hits=$(grep -rlF -e "$CPR" -e "$NAME" -e "010190" "runs-$1" "$1.err" "$1.out" 2>/dev/null)
  [ -z "$hits" ] && ok "$1: no file and no message holds the CPR number or the name" ||
    fail "$1: typed data in: $hits"
}
no_glyphs() { # no_glyphs PNG: the insides of the CPR and Navn fields show no text: at most
  # an empty field's caret (36 dark pixels), where typed text leaves 90 or more
  left=0
  for g in 138x22+172+26 398x22+172+60; do
    c=$(convert "$1" -crop "$g" +repage txt:- | sed 1d | grep -vic -e '#FFFFFF' -e '#B0B0B0')
    [ "$c" -gt "$left" ] && left=$c
  done
  [ "$left" -lt 60 ] && ok "$(basename "$1"): the typed fields are blank" ||
    fail "$(basename "$1"): $left text pixels left in a typed field"
}
mode_is() { # mode_is PREFIX MODE: the run's alert.json records what its images keep
  m=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("evidence_mode"))' \
    runs-$1/*/alert.json 2>/dev/null)
  [ "$m" = "$2" ] && ok "$1: alert.json says evidence_mode $2" || fail "$1: alert.json evidence_mode '$m', wanted $2"
}
ocr_has() { # ocr_has PNG TEXT -> 0 when OCR reads TEXT in the image
  tesseract "$1" - -l eng 2>/dev/null | tr -d ' ' | grep -qF "$2"
}

pv r record
expect_rc 0 r "record the robot"
[ "$(cut -f1 r.tsv 2>/dev/null)" = "$CPR" ] && ok "the app saved the CPR number" ||
  fail "the app saved '$(cat r.tsv 2>/dev/null)'"

for f in bl/*.png; do no_glyphs "$f"; done
if tesseract "$(ls bl/*.png | tail -n1)" - -l eng 2>/dev/null | tr -d ' ' | grep -q 010190; then
  fail "OCR reads the CPR number in the baseline"; else ok "OCR finds no CPR number in the baseline"; fi

pv a run --set mode=wait
expect_rc 1 a "(a) a wait_text that never comes fails"
expect_in a.err "labels as recorded: " "(a) the message lists the window's recorded labels"
expect_in a.err "'CPR-nummer' at (" "(a) with their places"
no_data a

pv b run --set mode=popup
expect_rc 3 b "(b) a notice over the form: halted before saving"
expect_in b.err "Borger#5:click" "(b) halted at the Gem click, the fields typed"
[ -s b.tsv ] && fail "(b) the app saved something" || ok "(b) nothing saved"
no_data b
n=0
for f in runs-b/*/evidence/*.png; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  case "$f" in *diff*) ;; *) no_glyphs "$f" ;; esac
  if ocr_has "$f" "010190" || ocr_has "$f" "1234"; then fail "(b) OCR reads the CPR number in $f"
  else ok "(b) OCR finds no CPR number in $(basename "$f")"; fi
done
[ "$n" -ge 3 ] && ok "(b) recorded, current and diff images kept" || fail "(b) $n evidence images"
mode_is b masked

# (s) the form grows after the robot typed into it: where the typed text stands now is not
# known, so no image is kept (as when masking cannot be done) and the log says why
pv s run --set mode=resize
expect_rc 3 s "(s) a form resized after the typing: halted before saving"
expect_in s.err "window size" "(s) the reason names the new size"
[ -s s.tsv ] && fail "(s) the app saved something" || ok "(s) nothing saved"
[ -z "$(ls runs-s/*/evidence/*current.png 2>/dev/null)" ] && ok "(s) no current image kept" ||
  fail "(s) images kept: $(ls runs-s/*/evidence/)"
expect_in "$(ls -d runs-s/*/ | head -n1)log.txt" \
  "no evidence image kept: its data could not be blanked (the window changed size after" \
  "(s) the log says why no image was kept"
no_data s

"$VAGT" run "$ROBOTS/privacy.lua" --display "$DISPLAY" --runs runs-c --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/c.tsv" --set mode=timeout --timeout 4 >c.out 2>c.err &
vp=$!
sleep 2
core=$(awk '/^Max core file size/ { print $5 }' "/proc/$vp/limits" 2>/dev/null)
wait $vp
rc=$?
expect_rc 1 c "(c) a run past its deadline ends"
[ "$core" = 0 ] && ok "(c) the run may not dump core (its memory holds screens)" ||
  fail "(c) core file size limit '$core'"
no_data c

pv t run --set mode=nowindow
expect_rc 1 t "(t) a window that never comes fails"
expect_in t.err "titles not quoted" "(t) the message lists the windows without their titles"
expect_in t.err "Xmessage" "(t) by class"
no_data t

pv e run --set mode=echo
expect_rc 0 e "an application that echoes the CPR number"
grep -qF "$CPR" e.err e.out && fail "(e) the application's output reached vagt's output" ||
  ok "(e) nothing of it in vagt's output (nor the agent's log)"
log=$(ls runs-e/*/apps.log 2>/dev/null)
[ -n "$log" ] && [ "$(grep -c "$CPR" "$log")" -eq 2 ] && ok "(e) both lines in the run folder's apps.log" ||
  fail "(e) apps.log: $(cat "$log" 2>/dev/null)"
[ "$(stat -c %a "$log" 2>/dev/null)" = 600 ] && ok "(e) apps.log is owner-only" ||
  fail "(e) apps.log mode $(stat -c %a "$log" 2>/dev/null)"

pv f run --set mode=popup --evidence full
expect_rc 3 f "positive control: halted"
cur=$(ls runs-f/*/evidence/*current.png 2>/dev/null | head -n1)
if [ -n "$cur" ] && ocr_has "$cur" "$CPR"; then ok "positive control: full evidence shows the CPR number"
else fail "positive control: no CPR number read in '$cur'"; fi
hits=$(grep -rlF -e "$CPR" -e "$NAME" "runs-f" f.err 2>/dev/null)
[ -z "$hits" ] && ok "positive control: only in the images" || fail "positive control: in $hits"
mode_is f full

pv g run --set mode=popup --set evidence=none
expect_rc 3 g "robot.evidence = none: halted"
[ -z "$(ls runs-g/*/evidence/*.png 2>/dev/null)" ] && ok "robot.evidence = none keeps no image" ||
  fail "images kept: $(ls runs-g/*/evidence/)"
mode_is g none
pv h run --set evidence=all
expect_rc 1 h "robot.evidence with an unknown mode is a script error"
expect_in h.err "privacy.lua:11:" "the error names the script line"
finish
