#!/bin/sh
# The brittleness monitor against every "vendor update" of the demo app: each must halt
# before any input (the app's output file proves nothing was entered), exit 3, and leave
# alert.json naming the step, evidence and a report. A robot that catches the error with
# pcall still cannot send anything afterwards.
. "$(dirname "$0")/lib.sh"
demo="$SRC/scripts/demo.lua"
run_vagt rec record "$demo" --display "$DISPLAY" --runs runs --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/rec.tsv"
expect_rc 0 rec "record the baseline on the normal app"

for v in swapped renamed banner inserted nobutton whatsnew font theme; do
  : > "$v.tsv"
  run_vagt "$v" run "$demo" --display "$DISPLAY" --runs "runs-$v" --baseline bl \
    --set "app=$DEMO_APP" --set "out=$T/$v.tsv" --set "variant=$v"
  expect_rc 3 "$v" "variant $v halts"
  [ ! -s "$v.tsv" ] && ok "variant $v: nothing entered" || fail "variant $v: the app saved $(wc -l < "$v.tsv") record(s)"
  alert=$(ls runs-$v/*/alert.json 2>/dev/null | head -n1)
  if [ -n "$alert" ]; then
    expect_in "$alert" '"key":	"Ryd formular#1:click"' "variant $v: alert names the first step"
    dir=$(dirname "$alert")
    for e in recorded current diff; do
      [ -s "$dir/evidence/step-001-$e.png" ] || fail "variant $v: no $e evidence"
    done
    expect_in "$dir/report.html" "step-001-diff.png" "variant $v: report shows the diff"
    expect_in "$v.err" "HALTED before sending input" "variant $v: one-line summary"
  else fail "variant $v: no alert.json"; fi
done
grep -h '"reasons"' -A1 runs-*/*/alert.json | grep -v reasons | sed 's/^/  reason: /'

# A renamed label that the robot's first action looks for by text: the screen drifted, so
# it is drift (exit 3, alert, evidence), not "text not found".
cat > bytext.lua <<'LUA'
local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0",
  "--variant", robot.params.variant or "normal" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
robot.step("Navn", function()
  w:click{ text = "Navn", dx = 150 }
  w:type("Søren Ærø")
end)
LUA
: > bt.tsv
run_vagt bt1 record bytext.lua --display "$DISPLAY" --runs runs-bt --baseline blbt \
  --set "app=$DEMO_APP" --set "out=$T/bt.tsv"
expect_rc 0 bt1 "record a robot that clicks Navn by text"
run_vagt bt2 run bytext.lua --display "$DISPLAY" --runs runs-bt2 --baseline blbt \
  --set "app=$DEMO_APP" --set "out=$T/bt.tsv" --set variant=renamed
expect_rc 3 bt2 "Navn renamed, looked for by text: drift"
expect_in bt2.err "label 'Navn' now reads 'Fulde navn'" "the reason names the renamed label"
ls runs-bt2/*/alert.json >/dev/null 2>&1 && ok "an alert to approve" || fail "no alert.json"

# pcall cannot swallow the halt: no input after it, exit 3.
cat > catcher.lua <<'LUA'
local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0",
  "--variant", "renamed" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
robot.step("Ryd formular", function()
  local ok, err = pcall(w.click, w, { x = 326, y = 261 })
  robot.log("caught:", ok, err)
  w:click{ x = 190, y = 71 }
  w:type("skulle aldrig skrives")
  w:click{ x = 222, y = 261 }
end)
LUA
cp bl/* . 2>/dev/null; mkdir -p bl2 && cp bl/Ryd_formular_1_click* bl2/
: > c.tsv
run_vagt c run catcher.lua --display "$DISPLAY" --runs runs-c --baseline bl2 \
  --set "app=$DEMO_APP" --set "out=$T/c.tsv"
expect_rc 3 c "halt caught by pcall still ends the run"
[ ! -s c.tsv ] && ok "no input after a caught halt" || fail "input sent after the halt"
finish
