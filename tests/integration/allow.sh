#!/bin/sh
# vagt run --allow-program / --allow-file: only listed programs start (compared by their
# real path: a link to a shell is a shell), loader and PATH variables are refused in a
# robot's env, only listed files and folders are read (no way out through a link or "..").
# Asserted on what the programs did: the files they created, the items a CSV gave.
. "$(dirname "$0")/lib.sh"
mkdir -p d/in
printf 'cpr;navn\n1;a\n2;b\n' > d/in/ok.csv
printf 'cpr;navn\n9;secret\n' > d/secret.csv
ln -s ../secret.csv d/in/escape.csv
ln -s "$(command -v touch)" d/link-to-touch
ln -s "$(command -v sh)" d/link-to-sh
run_vagt a run "$ROBOTS/allow.lua" --xvfb --runs runs --set "dir=$T/d" \
  --allow-program touch --allow-file d/in
expect_rc 0 a "the robot ran under the list"
for f in by-name by-path by-link; do
  [ -f "d/$f" ] && ok "allowed: touch $f" || fail "touch $f did not run"
done
for f in by-sh by-sh-link by-ld by-path-env; do
  [ -e "d/$f" ] && fail "d/$f exists: a refused start ran" || ok "refused: nothing made $f"
done
expect_in a.err "sh: robot.app.start: 'sh' (" "a shell is refused"
expect_in a.err "is not in the allow-list of programs this robot may start" "the reason is said"
expect_in a.err "shell link: robot.app.start: '$T/d/link-to-sh'" "a link to a shell is a shell"
expect_in a.err "LD_PRELOAD: robot.app.start: env.LD_PRELOAD: not allowed under the agent's allow-list" "LD_PRELOAD refused"
expect_in a.err "PATH: robot.app.start: env.PATH: not allowed" "PATH refused"
expect_in a.err "ok.csv items: 2" "the listed folder's CSV is read"
expect_in a.err "secret.csv: robot.items: $T/d/secret.csv is not in the allow-list of files" "a file beside it is refused"
expect_in a.err "escape.csv: robot.items: $T/d/in/escape.csv is not in the allow-list" "a link out of the folder is refused"
expect_in a.err "dotdot: robot.items: $T/d/in/../secret.csv is not in the allow-list" "'..' out of the folder is refused"
grep -rq "secret" runs/*/log.txt 2>/dev/null && grep -q ";secret" runs/*/* 2>/dev/null &&
  fail "the refused file's content reached the run folder" || ok "the refused file was not read"

# Without a list the same robot may start a shell (the README's security model).
run_vagt b run "$ROBOTS/allow.lua" --xvfb --runs runs --set "dir=$T/d"
expect_rc 0 b "the robot without a list"
[ -f d/by-sh ] && ok "without a list a shell starts" || fail "without a list sh did not run"

# The list itself is checked before anything runs.
run_vagt c run "$ROBOTS/allow.lua" --xvfb --runs runs --set "dir=$T/d" --allow-program no-such-prog
expect_rc 2 c "an unknown allowed program"
expect_in c.err "--allow-program no-such-prog: cannot start 'no-such-prog': not found in PATH" "it is named"
run_vagt e run "$ROBOTS/allow.lua" --xvfb --runs runs --allow-program touch --allow-file "$T/none"
expect_rc 2 e "a missing allowed file"
expect_in e.err "--allow-file $T/none: No such file or directory" "it is named"
finish
