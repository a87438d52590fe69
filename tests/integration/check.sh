#!/bin/sh
# vagt check: syntax and API check without a display.
. "$(dirname "$0")/lib.sh"
env -u DISPLAY "$VAGT" check "$ROBOTS/check_notes.lua" >n.out 2>&1; rc=$?
expect_rc 0 n "check of a valid script"
expect_in n.out "check_notes.lua:2: note: click outside robot.step" "notes the unnamed step"
expect_in n.out "(0 errors, 1 note)" "robot.params.* is the script's own"
if grep -q ":4: note" n.out; then fail "noted an action inside robot.step"; else ok "named step not noted"; fi
env -u DISPLAY "$VAGT" check "$ROBOTS/check_bad.lua" >b.out 2>&1; rc=$?
expect_rc 1 b "check of a misspelt API"
expect_in b.out "check_bad.lua:1: error: robot.window.wiat" "names robot.window.wiat"
expect_in b.out "check_bad.lua:2: error: robot.clik" "names robot.clik"
printf 'robot.step("x", function()\n  local = 1\nend)\n' > syntax.lua
"$VAGT" check syntax.lua >s.out 2>&1; rc=$?
expect_rc 1 s "syntax error"
expect_in s.out "syntax.lua:2:" "syntax error names the line"
finish
