#!/bin/sh
# robot.app.start with 1,000 arguments ends cleanly and the application receives them all
# (the check loop once pushed one value per element without growing the Lua stack).
. "$(dirname "$0")/lib.sh"
run_vagt a run "$ROBOTS/many_args.lua" --xvfb --runs runs --set "out=$T/count.txt"
expect_rc 0 a "1,000 arguments"
[ "$(cat count.txt 2>/dev/null)" = 996 ] && ok "the app got all 996 arguments after its script" \
  || fail "count.txt: '$(cat count.txt 2>/dev/null)'"
expect_in a.err "argument 1000 must be a string" "a bad 1,000th argument is named"
status=$(sed -n 's/.*"status":[[:space:]]*"\([a-z]*\)".*/\1/p' runs/*-many_args/run.json)
[ "$status" = passed ] && ok "run.json passed" || fail "run.json status '$status'"
finish
