#!/bin/sh
# A script that reaches for io is stopped with the line; an endless loop (that even wraps
# itself in pcall) is stopped by the deadline. Both exit 1 and the process survives.
# A script that never comes back to Lua is ended by the watchdog (below).
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
[ "$status" = timeout ] && ok "run.json says timeout" || fail "run.json status '$status'"

# Past the count hook: a looping finalizer and a backtracking pattern. The watchdog ends the
# run within its deadline + 5 s: status timeout, exit 1, a finished run.json and report, the
# robot's xcalc and the private Xvfb gone.
marker="vagt-wd-$$"
gone() { # gone WHAT PIDS...: the pids and the marked xcalc have ended
  what=$1; shift
  i=0; left=x # SIGKILLed orphans wait for init to reap them: give it a while
  while [ -n "$left" ] && [ $i -lt 100 ]; do
    left=""
    for k in "$@"; do
      st=$(ps -o stat= -p "$k" 2>/dev/null)
      case "$st" in ""|Z*) ;; *) left="$left $k" ;; esac
    done
    [ -n "$left" ] && sleep 0.1; i=$((i + 1))
  done
  [ -z "$left" ] && ok "$what: Xvfb and children gone" || fail "$what: left running:$left"
  if pgrep -f "$marker" >/dev/null; then fail "$what: xcalc still running"; pkill -f "$marker"
  else ok "$what: xcalc gone"; fi
}
# hostile NAME SCRIPT SIGNAL TIMEOUT: runs it in the background, keeps its children, sends
# SIGNAL (or nothing) once the robot is READY; sets rc and secs.
hostile() {
  name=$1; script=$2; sig=$3; to=$4
  start=$(date +%s)
  "$VAGT" run "$ROBOTS/$script" --xvfb --runs "runs-$name" --timeout "$to" \
    --set "marker=$marker" >"$name.out" 2>"$name.err" &
  vpid=$!
  i=0
  while ! grep -q READY "$name.err" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
  kids=$(pgrep -P "$vpid" | tr '\n' ' ')
  [ "$sig" != none ] && kill "-$sig" "$vpid"
  # without a watchdog these never end: SIGKILL after 60 s turns that into a failure
  ( i=0; while kill -0 "$vpid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$vpid" 2>/dev/null ) &
  guard=$!
  wait "$vpid"; rc=$?
  kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
  secs=$(($(date +%s) - start))
}
runjson() { sed -n 's/^[[:space:]]*"'"$2"'":[[:space:]]*"\{0,1\}\([a-z0-9]*\).*/\1/p' runs-$1/*/run.json; }
for s in gc_loop backtrack; do
  hostile "$s" "$s.lua" none 3
  expect_rc 1 "$s" "$s with --timeout 3"
  # the run's own clock: from run.json "started" (after Xvfb is up) to "finished"
  took=$(python3 -c 'import json, sys, datetime as d
j = json.load(open(sys.argv[1])); t = lambda k: d.datetime.fromisoformat(j[k].replace("Z", "+00:00"))
print("%.1f" % (t("finished") - t("started")).total_seconds())' runs-$s/*/run.json 2>/dev/null)
  python3 -c 'import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 8 else 1)' "${took:-0}" \
    && ok "$s: the run ended $took s after it started (deadline 3 s + 5)" || fail "$s: run took '$took' s"
  [ "$secs" -lt 30 ] && ok "$s: vagt exited $secs s after launch" || fail "$s: vagt took $secs s"
  [ "$(runjson "$s" status)" = timeout ] && ok "$s: run.json says timeout" \
    || fail "$s: run.json status '$(runjson "$s" status)'"
  [ "$(runjson "$s" exit_code)" = 1 ] && ok "$s: run.json exit code 1" || fail "$s: exit_code '$(runjson "$s" exit_code)'"
  expect_in "$(ls runs-$s/*/run.json)" '"finished":' "$s: run.json finished"
  expect_in "$(ls runs-$s/*/report.html)" "timeout" "$s: the report says timeout"
  expect_in "$s.err" "exceeded its 3 s limit" "$s: says the deadline"
  gone "$s" $kids
done
# SIGTERM while the pattern runs: ended promptly as interrupted (exit 130).
hostile term backtrack.lua TERM 600
expect_rc 130 term "SIGTERM inside the pattern matcher"
[ "$secs" -lt 30 ] && ok "SIGTERM: ended in $secs s" || fail "SIGTERM: took $secs s"
[ "$(runjson term status)" = interrupted ] && ok "SIGTERM: run.json says interrupted" \
  || fail "SIGTERM: run.json status '$(runjson term status)'"
expect_in "$(ls runs-term/*/report.html)" "interrupted" "SIGTERM: the report says interrupted"
gone SIGTERM $kids
finish
