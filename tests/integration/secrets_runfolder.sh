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

# A secret in a step name or a key = name is refused; one sent by w:key is not kept.
rm -rf runs
VAGT_SECRET_PIN=Hyper_R run_vagt n record "$ROBOTS/secret_names.lua" --xvfb --runs runs \
  --baseline nbl --set "app=$DEMO_APP" --set "out=$T/n.tsv"
expect_rc 0 n "the robot ran"
expect_in n.err "step name: " "a step name with a secret"
expect_in n.err "the step name holds a secret" "is refused"
expect_in n.err "option 'key' holds a secret" "a key = name with one too"
grep -q "holds a secret: not kept" runs/*/steps.jsonl && ok "w:key's secret is not kept in the step log" ||
  fail "steps.jsonl: $(cat runs/*/steps.jsonl | head -5)"
if grep -rqa "Hyper_R" runs nbl n.out n.err; then
  fail "the secret is in: $(grep -rla Hyper_R runs nbl n.out n.err)"
else ok "the secret is in no run file, baseline file or output"; fi
finish
