#!/bin/sh
# Run folders are owner-only and secrets never reach them, nor stderr.
. "$(dirname "$0")/lib.sh"
export VAGT_SECRET_SAG_LOGIN="topsecret-4711"
run_vagt s run "$ROBOTS/secret_log.lua" --xvfb --runs runs
expect_rc 1 s "script that leaks its secret"
if grep -rqF "topsecret-4711" runs s.err s.out; then fail "secret written somewhere"
else ok "secret appears nowhere"; fi
expect_in s.err "login rejected for ***" "secret masked in the error"
log=$(ls runs/*/log.txt)
expect_in "$log" "logging in with ***" "secret masked in log.txt"
bad=$(find runs -mindepth 1 \( -type d ! -perm 700 -o -type f ! -perm 600 \) | head -5)
[ -z "$bad" ] && ok "run folder is owner-only" || fail "not owner-only: $bad"
# A secrets file that others can read is refused (exit 2), not used.
unset VAGT_SECRET_SAG_LOGIN
printf 'sag-login = fra-fil\n' > secrets; chmod 644 secrets
run_vagt f run "$ROBOTS/secret_log.lua" --xvfb --runs runs --secrets secrets
expect_rc 2 f "world-readable secrets file"
expect_in f.err "readable by others" "says why"
chmod 600 secrets
run_vagt g run "$ROBOTS/secret_log.lua" --xvfb --runs runs --secrets secrets
expect_rc 1 g "owner-only secrets file"
expect_in g.err "login rejected for ***" "file secret masked"
finish
