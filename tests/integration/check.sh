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
# Where actions run: helpers, loops, conditions (robots/check_scopes.lua)
env -u DISPLAY "$VAGT" check "$ROBOTS/check_scopes.lua" >c.out 2>&1; rc=$?
expect_rc 0 c "check of a script with helpers"
for l in 4 17 18 27 32; do
  if grep -q "check_scopes.lua:$l: note" c.out; then fail "line $l was noted"; else ok "line $l not noted"; fi
done
expect_in c.out "check_scopes.lua:7: note: key in function 'save', which is called outside robot.step at line 21" "a helper called outside a step"
expect_in c.out "check_scopes.lua:10: note: click in function 'later': cannot tell whether it runs inside robot.step (it is passed as a value)" "cannot tell for a helper passed as a value"
expect_in c.out "check_scopes.lua:15: note: click runs on a condition inside robot.step" "a conditional unnamed action"
expect_in c.out "check_scopes.lua:24: note: click in a loop outside robot.step: every pass shares the key 'check_scopes.lua:24:click'" "a loop outside steps"
expect_in c.out "check_scopes.lua:30: note: click runs on a condition" "like actions in two branches share a key"
expect_in c.out "check_scopes.lua:31: note: click runs on a condition" "both are named"
expect_in c.out "(0 errors, 6 notes)" "six notes, no more"
env -u DISPLAY "$VAGT" check "$ROBOTS/privacy.lua" >p.out 2>&1; rc=$?
expect_rc 0 p "robot.evidence = ... is part of the API"
finish
