#!/bin/sh
# A robot that logs in a loop cannot fill the disk: log.txt and stderr stop at the run's
# cap, one line says so, and the run itself goes on to the end.
. "$(dirname "$0")/lib.sh"
run_vagt l run "$ROBOTS/log_loop.lua" --xvfb --runs runs
expect_rc 0 l "a logging loop"
log=$(ls runs/*-log_loop/log.txt)
size=$(wc -c < "$log"); esize=$(wc -c < l.err)
[ "$size" -lt 6000000 ] && ok "log.txt capped ($size bytes)" || fail "log.txt is $size bytes"
[ "$esize" -lt 6000000 ] && ok "stderr capped ($esize bytes)" || fail "stderr got $esize bytes"
n=$(grep -c "robot.log and print say nothing more" "$log")
[ "$n" -eq 1 ] && ok "said once in log.txt" || fail "said $n times"
if grep -q "still running after" "$log"; then fail "a message past the cap was kept"; else ok "nothing past the cap"; fi
expect_in l.err "passed (exit 0)" "the run ended normally"
finish
