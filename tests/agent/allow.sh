#!/bin/sh
# allow = { programs, files } in the agent's configuration is what its runs get: a robot
# starts the listed program and reads the listed folder, and is refused a shell and a file
# outside; a robot's own allow replaces the configuration's. Asserted on the files the
# programs made and on what the run logged.
. "$(dirname "$0")/aglib.sh"
cp "$AGT/allow_robot.lua" r.lua
mkdir -p d/in
printf 'k\n1\n2\n3\n' > d/in/list.csv
printf 'k\n9\n' > d/other.csv
cat > agent.lua <<LUA
state = "state"
listen = false
allow = { programs = { "touch" }, files = { "d/in" } }
robot "listed" { script = "r.lua", params = { dir = "$T/d" } }
robot "own" { script = "r.lua", params = { dir = "$T/d" },
              allow = { programs = { "touch", "sh" }, files = { "d" } } }
LUA
"$VAGT" agent --once listed --config agent.lua >r1.out 2>r1.err
rc=$?
check "the run under the configuration's list passed (exit $rc)" test $rc -eq 0
check "it started the listed program" test -f d/by-touch
check "it did not start a shell" test ! -e d/by-sh
log=state/logs/1.log
check "it read the listed folder's 3 items" grep -q "items read: 3" "$log"
check "the shell was refused as not listed" grep -q "'sh' (.*) is not in the allow-list of programs" "$log"
check "the other file was refused" grep -q "other.csv is not in the allow-list of files" "$log"
check "the history says passed" test "$(sql state/vagt.db "SELECT status FROM runs WHERE id=1")" = passed
rm -f d/by-touch
"$VAGT" agent --once own --config agent.lua >r2.out 2>r2.err
rc=$?
check "the run under its own list passed (exit $rc)" test $rc -eq 0
check "its own list lets it start sh" test -f d/by-sh
check "and read the other file" grep -q "other.csv read" state/logs/2.log
[ "$failures" -eq 0 ] || show r1.err "$log" state/logs/2.log
finish
