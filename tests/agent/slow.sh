#!/bin/sh
# Slow clients must not lock the operator pages out: 500 connections from 127.0.0.1, each
# sending one byte every 5 s (a robot on the same machine could do it), are held open, and
# an authenticated GET / still gets its page in under 2 s.
. "$(dirname "$0")/aglib.sh"
PORT=$(free_port)
TOKEN=tok-0123456789abcdef-$$
printf '%s\n' "$TOKEN" > token
chmod 600 token
printf -- '-- fake: FAKE_EXIT=0\n' > pass.lua
cat > agent.lua <<LUA
state = "state"
listen = "127.0.0.1:$PORT"
token_file = "token"
robot "fine" { script = "pass.lua" }
LUA
export VAGT_BIN="$FAKE"
"$VAGT" agent --config agent.lua >d.out 2>d.err &
D=$!; PIDS="$PIDS $D"
up() { curl -s -o /dev/null "http://127.0.0.1:$PORT/"; }
wait_for 10 up || { fail "the pages did not come up"; show d.err; finish; }
python3 "$AGT/slowclients.py" "$PORT" "$TOKEN" 500 5 2 > slow.out 2>slow.err
rc=$?
show slow.out
check "500 slow clients held; an authenticated GET / answered 200 within 2 s" test $rc -eq 0
check "the agent is still serving" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/")" = 200
kill -TERM $D; wait $D; rc=$?
check "and stops cleanly (exit $rc)" test $rc -eq 0
finish
