#!/bin/sh
# A run killed with SIGKILL cannot write its end: it holds a lock on run.lock for its life,
# and the next reader of the folder (here `vagt approve`) finds run.json "running" with the
# lock free and marks it "killed". The steps that acted stay in steps.jsonl; the
# application and the private Xvfb end with the run.
. "$(dirname "$0")/lib.sh"
"$VAGT" record "$ROBOTS/steps_then_wait.lua" --xvfb --runs runs --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/out.tsv" >k.out 2>k.err &
vpid=$!
i=0
while ! grep -q READY k.err 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1
done
grep -q READY k.err && ok "three steps done" || { fail "the robot did not get going"; cat k.err >&2; }
kids=$(pgrep -P "$vpid" | tr '\n' ' ')
kill -KILL "$vpid"; wait "$vpid" 2>/dev/null
D=$(ls -d runs/*-steps_then_wait)
status() { sed -n 's/^[[:space:]]*"status":[[:space:]]*"\([a-z]*\)".*/\1/p' "$D/run.json"; }
[ "$(status)" = running ] && ok "killed: run.json still says running" || fail "run.json status '$(status)'"
n=$(grep -c '"key"' "$D/steps.jsonl")
[ "$n" -eq 3 ] && ok "steps.jsonl holds the 3 steps that acted" || fail "steps.jsonl holds $n steps"
cp "$D/steps.jsonl" steps.before
run_vagt a approve "$D"
expect_rc 2 a "approve a killed run: refused"
expect_in a.err "field 'status' is 'killed'" "approve says it was killed"
[ "$(status)" = killed ] && ok "the reader marked the run killed" || fail "run.json status '$(status)'"
expect_in "$D/run.json" '"exit_code":	137' "exit code 137"
expect_in "$D/run.json" '"steps":	3' "run.json counts the 3 steps"
expect_in "$D/run.json" '"finished":' "run.json has an end time"
expect_in "$D/report.html" "killed" "the report says killed"
expect_file_eq "$D/steps.jsonl" steps.before "steps.jsonl untouched"
i=0; left=x
while [ -n "$left" ] && [ $i -lt 100 ]; do
  left=""; for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
  [ -n "$left" ] && sleep 0.1; i=$((i + 1))
done
[ -z "$left" ] && ok "the app and Xvfb ended with the run" || fail "left running:$left"
# A second reader: nothing more to do, nothing changed.
cp "$D/run.json" run.after
run_vagt b approve "$D"
expect_file_eq "$D/run.json" run.after "a second reader changes nothing"
finish
