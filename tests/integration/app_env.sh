#!/bin/sh
# robot.app.start: a started program gets DISPLAY, HOME, PATH and LANG and nothing else of
# vagt's environment (no VAGT_SECRET_*), the robot's env adds, replaces and removes, cwd is
# its folder; mistakes are named with the script line. A Motif application (NEdit) started
# with a Latin-1 locale through env saves typed Danish letters as Latin-1 bytes.
. "$(dirname "$0")/lib.sh"
mkdir -p d/sub
printf '#!/bin/sh\npwd > tool.out\n' > d/tool.sh
chmod +x d/tool.sh
env -u XAUTHORITY VAGT_SECRET_PIN=4711 FOO_FROM_VAGT=1 \
  "$VAGT" run "$ROBOTS/app_env.lua" --xvfb --runs runs --set "dir=$T/d" >a.out 2>a.err
rc=$?
expect_rc 0 a "the robot ran"
names=$(sed 's/=.*//' d/env.default | sort | tr '\n' ' ')
[ "$names" = "DISPLAY HOME LANG PATH PWD " ] || [ "$names" = "DISPLAY HOME LANG PATH " ] &&
  ok "default environment: $names" || fail "default environment: $names"
grep -q '^LANG=.*UTF-8$' d/env.default && ok "LANG is a UTF-8 locale" || fail "LANG: $(grep ^LANG d/env.default)"
grep -q "4711\|VAGT_SECRET\|FOO_FROM_VAGT" d/env.default d/env.changed &&
  fail "vagt's own environment reached the application" || ok "no VAGT_SECRET_* and nothing else of vagt's"
grep -qx 'FOO=a b=c' d/env.changed && ok "env adds a variable" || fail "env.changed: $(cat d/env.changed)"
grep -qx 'HOME=/nowhere' d/env.changed && ok "env replaces one" || fail "HOME not replaced"
grep -qx 'N=42' d/env.changed && ok "a number is a value" || fail "N=42 missing"
grep -q '^LANG=' d/env.changed && fail "LANG = false did not remove it" || ok "false removes a variable"
[ "$(cat d/pwd.txt 2>/dev/null)" = "$T/d/sub" ] && ok "cwd is the program's folder" || fail "pwd.txt: $(cat d/pwd.txt 2>/dev/null)"
[ "$(cat d/tool.out 2>/dev/null)" = "$T/d" ] && ok "./tool.sh is found in cwd" || fail "tool.out: $(cat d/tool.out 2>/dev/null)"
expect_in a.err "no folder: robot.app.start: cwd $T/d/missing: No such file or directory" "a missing folder is named with the line"
expect_in a.err "a file as folder: robot.app.start: cwd $T/d/tool.sh: not a folder" "a file is not a folder"
expect_in a.err "bad name: robot.app.start: env: 'A-B' is not a variable name" "a bad variable name"
expect_in a.err "bad value: robot.app.start: env.A must be a string" "a bad value"
expect_in a.err "no program: robot.app.start: cannot start 'no-such-program-vagt': not found in PATH" "a missing program"
printf 'robot.log("x")\nrobot.app.start{ "true", cwd = "%s/nowhere" }\n' "$T" > badcwd.lua
run_vagt b run badcwd.lua --xvfb --runs runs
expect_rc 1 b "an uncaught start error fails the run"
expect_in b.err "badcwd.lua:2: robot.app.start: cwd $T/nowhere: No such file or directory" "it names the script line"

# A Latin-1 application: NEdit in da_DK.ISO-8859-1 (built here, no root needed) saves what
# the robot typed in that encoding; the same robot without env saves UTF-8.
mkdir -p loc
if localedef -i da_DK -f ISO-8859-1 "$T/loc/da_DK.ISO-8859-1" 2>loc.err ||
   [ -f "$T/loc/da_DK.ISO-8859-1/LC_CTYPE" ]; then
  : > latin1.txt
  run_vagt n record "$ROBOTS/nedit.lua" --xvfb --runs runs --baseline nb1 --set "file=$T/latin1.txt" \
    --set "text=Søren Ærø" --set "lang=da_DK.ISO-8859-1" --set "locpath=$T/loc"
  expect_rc 0 n "NEdit under a Latin-1 locale"
  printf 'S\370ren \306r\370' > want.txt
  printf '\n' >> want.txt
  if cmp -s latin1.txt want.txt; then ok "NEdit saved Latin-1 bytes"
  else
    fail "latin1.txt: $(od -An -c latin1.txt | head -3)"
    sed 's/^/  | /' n.err >&2 # what the run did, step by step
    d=$(ls -d runs/*-nedit 2>/dev/null | tail -n1)
    [ -n "$d" ] && cut -c1-300 "$d/steps.jsonl" | sed 's/^/  | /' >&2
  fi
  : > utf8.txt
  run_vagt u record "$ROBOTS/nedit.lua" --xvfb --runs runs --baseline nb2 --set "file=$T/utf8.txt" --set "text=Søren Ærø"
  expect_rc 0 u "NEdit under vagt's UTF-8 locale"
  [ -s utf8.txt ] && ! cmp -s utf8.txt want.txt && ok "without env NEdit saved other bytes" ||
    fail "the locale made no difference: $(od -An -c utf8.txt | head -3)"
else
  fail "localedef could not build da_DK.ISO-8859-1: $(cat loc.err)"
fi
finish
