#!/bin/sh
# Environment and usage errors: no display is exit 4 with a way out; bad arguments exit 2.
. "$(dirname "$0")/lib.sh"
env -u DISPLAY "$VAGT" run "$ROBOTS/vanish.lua" --runs runs >nd.out 2>nd.err; rc=$?
expect_rc 4 nd "no display"
expect_in nd.err "--xvfb" "says how to get a display"
run_vagt bad run "$ROBOTS/vanish.lua" --no-such-flag
expect_rc 2 bad "unknown flag"
run_vagt miss run does-not-exist.lua --xvfb
expect_rc 2 miss "missing script"
expect_in miss.err "does-not-exist.lua" "names the missing script"
run_vagt set run "$ROBOTS/vanish.lua" --xvfb --runs runs --set novalue
expect_rc 2 set "--set without ="
run_vagt cmd frobnicate
expect_rc 2 cmd "unknown command"
finish
