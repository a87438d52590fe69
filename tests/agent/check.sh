#!/bin/sh
# `vagt agent --check`: a good configuration passes and shows every robot's next run; a
# robot script that does not pass `vagt check` and configuration mistakes exit 2 with
# file:line; --once of an unknown robot is a usage error.
. "$(dirname "$0")/aglib.sh"
echo 'robot.log("ok")' > good.lua
printf 'robot.log("x")\nrobot.clik{ x = 1 }\n' > typo.lua
printf 'robot.log("x"\n' > syntax.lua
cat > agent.lua <<'LUA'
state = "state"
listen = false
robot "nightly" { script = "good.lua", schedule = "30 2 * * mon-fri", tz = "Europe/Copenhagen" }
robot "manual" { script = "good.lua" }
LUA
"$VAGT" agent --check --config agent.lua >c1.out 2>c1.err
rc=$?
[ $rc -eq 0 ] && ok "a good configuration: exit 0" || { fail "exit $rc"; show c1.err; }
check "it names the next run in the robot's zone" grep -Eq "robot nightly +30 2 \* \* mon-fri next: 20[0-9-]+ 02:30 CES?T" c1.out
check "an on-demand robot says so" grep -q "robot manual .*on demand only" c1.out
check "nothing was started or created" test ! -e state
cat > bad.lua <<'LUA'
state = "state"
listen = false
robot "typo" { script = "typo.lua" }
robot "syntax" { script = "syntax.lua" }
LUA
"$VAGT" agent --check --config bad.lua >c2.out 2>c2.err
rc=$?
check "scripts that fail vagt check: exit 2 ($rc)" test $rc -eq 2
check "the robot's config line" grep -q "bad.lua:3: robot 'typo': its script does not pass" c2.err
check "the script's own line" grep -q "typo.lua:2: error: robot.clik" c2.err
check "a syntax error with its line" grep -q "syntax.lua:2:" c2.err
printf 'state = "s"\nlisten = false\nrobot "a" { script = "good.lua", schedule = "* * *" }\nmax_parallel = 0\n' > worse.lua
"$VAGT" agent --check --config worse.lua >c3.out 2>c3.err
rc=$?
check "configuration mistakes: exit 2 ($rc)" test $rc -eq 2
check "every one reported" sh -c "grep -q 'worse.lua:3: robot .a.: schedule .* expected 5 fields' c3.err && grep -q 'worse.lua:4: .max_parallel. must be' c3.err"
"$VAGT" agent --once nope --config agent.lua >c4.out 2>c4.err
check "--once of an unknown robot: exit 2" test $? -eq 2
check "says so" grep -q "declares no robot 'nope'" c4.err
"$VAGT" agent --config >c5.out 2>c5.err
check "usage error: exit 2" test $? -eq 2
# a fleet node: its password file is checked as connecting would (without connecting)
printf 'secret\n' > db.pw; chmod 644 db.pw
cat > fleet.lua <<'LUA'
state = "state"
listen = false
node = "n1"
database = "host=/nonexistent dbname=vagt user=vagt"
database_password_file = "db.pw"
robot "r" { script = "good.lua" }
LUA
"$VAGT" agent --check --config fleet.lua >c6.out 2>c6.err
check "a password file others can read: exit 2" test $? -eq 2
check "names the setting and what to do" grep -q "fleet.lua: database_password_file: .*db.pw must be owner-only (chmod 600)" c6.err
"$VAGT" agent --once r --config fleet.lua >c8.out 2>c8.err
check "the agent refuses it too, as a configuration error: exit 2 (not 4, unreachable)" test $? -eq 2
check "saying what to do" grep -q "fleet database: .*db.pw must be owner-only (chmod 600)" c8.err
chmod 600 db.pw
"$VAGT" agent --check --config fleet.lua >c7.out 2>c7.err
check "owner-only: OK, naming the node (the database is not touched)" \
  grep -q "fleet node n1; its database is reached when the agent starts" c7.out
check "the password is quoted nowhere" sh -c '! grep -rq secret c6.* c7.* c8.* state'
finish
