#!/bin/sh
# A script that reaches for io is stopped with the line; an endless loop (that even wraps
# itself in pcall) is stopped by the deadline. Both exit 1 and the process survives.
. "$(dirname "$0")/lib.sh"
run_vagt io run "$ROBOTS/sandbox_io.lua" --xvfb --runs runs
expect_rc 1 io "io.open in a script"
expect_in io.err "sandbox_io.lua:2: 'io' is not available to robot scripts" "io error names the line"
expect_in io.err "stack traceback" "io error has a traceback"
if grep -q "escaped the sandbox" io.err; then fail "script went on after io.open"; else ok "nothing ran after the violation"; fi

start=$(date +%s)
run_vagt loop run "$ROBOTS/endless.lua" --xvfb --runs runs --timeout 1
end=$(date +%s)
expect_rc 1 loop "endless loop under pcall"
expect_in loop.err "script timeout" "deadline message"
expect_in loop.err "endless.lua:" "deadline names the script line"
if [ $((end - start)) -le 20 ]; then ok "stopped in $((end - start)) s"; else fail "took $((end - start)) s"; fi
status=$(sed -n 's/.*"status":[[:space:]]*"\([a-z]*\)".*/\1/p' runs/*-endless/run.json)
[ "$status" = failed ] && ok "run.json says failed" || fail "run.json status '$status'"
finish
