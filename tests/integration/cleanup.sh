#!/bin/sh
# --xvfb starts a private display and stops it, and the robot's applications, on every exit
# path: a normal end, an error, and Ctrl-C (SIGINT) in the middle of a run.
. "$(dirname "$0")/lib.sh"
marker="vagt-cleanup-$$"
"$VAGT" run "$ROBOTS/sleeper.lua" --xvfb --runs runs --set "marker=$marker" >s.out 2>s.err &
vpid=$!
i=0
while ! grep -q READY s.err 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1
done
kids=$(pgrep -P "$vpid" | tr '\n' ' ')
[ -n "$kids" ] && ok "children while running: $kids" || fail "no children seen (Xvfb, xterm)"
pgrep -f "$marker" >/dev/null && ok "the robot's xterm runs" || fail "xterm not running"
kill -INT "$vpid"
wait "$vpid"; rc=$?
[ "$rc" -eq 130 ] && ok "SIGINT: exit 130" || { fail "SIGINT: exit $rc"; cat s.err >&2; }
sleep 0.5
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
[ -z "$left" ] && ok "no child left behind" || fail "left running:$left"
pgrep -f "$marker" >/dev/null && fail "xterm still running" || ok "xterm ended"
expect_in s.err "interrupted" "says it was interrupted"
status=$(sed -n 's/.*"status":[[:space:]]*"\([a-z]*\)".*/\1/p' runs/*-sleeper/run.json)
[ -n "$status" ] && [ "$status" != running ] && ok "run.json finished ($status)" || fail "run.json status '$status'"
# keep = true outlives the run; an app's own children end with it.
run_vagt k run "$ROBOTS/keep.lua" --xvfb --runs runs --set "marker=$marker"
expect_rc 0 k "robot with a kept app"
sleep 0.5
if pgrep -f "sleep 301" >/dev/null; then ok "keep = true: still running"; else fail "kept app was ended"; fi
pkill -f "sleep 301"
if pgrep -f "sleep 30[23]" >/dev/null; then fail "an app's children outlived the run"; pkill -f "sleep 30[23]"
else ok "the app and its children ended with the run"; fi
finish
