#!/bin/sh
# The example robot fills the demo app; the app's output file must hold exactly the three
# records, in order, with every Danish character intact: once while recording the baseline,
# once in a guarded run against it.
. "$(dirname "$0")/lib.sh"
run_vagt r record "$SRC/scripts/demo.lua" --display "$DISPLAY" --runs rec \
  --baseline "$T/demo.baseline" --set "app=$DEMO_APP" --set "out=$T/recorded.tsv"
expect_rc 0 r "demo robot, vagt record"
expect_in r.err "15 steps recorded, 26 merged" \
  "one baseline entry per step key, loops merged, and the look after the last step"
run_vagt d run "$SRC/scripts/demo.lua" --display "$DISPLAY" --runs runs \
  --baseline "$T/demo.baseline" --set "app=$DEMO_APP" --set "out=$T/saved.tsv"
expect_rc 0 d "demo robot, vagt run against the baseline"
tab=$(printf '\t')
cat > want.tsv <<TSV
010190-1234${tab}Søren Ærø${tab}Åboulevarden 7, 2. th.${tab}8000${tab}Aarhus C${tab}Flyttet fra Ølstykke
241285-4321${tab}Åse Øberg-Nørgaard${tab}Strandvejen 12${tab}2900${tab}Hellerup${tab}Ønsker brev — gebyr 0 €
311299-0007${tab}Jens Æbelø${tab}Ærøgade 3${tab}5970${tab}Ærøskøbing${tab}Aftale {særlig} @ rådhuset
TSV
if [ -f recorded.tsv ]; then expect_file_eq recorded.tsv want.tsv "recording saved exactly the three records"
else fail "the app saved nothing while recording"; fi
if [ -f saved.tsv ]; then expect_file_eq saved.tsv want.tsv "the app saved exactly the three records"
else fail "the app saved nothing"; sed 's/^/  | /' d.err >&2; fi
json=$(ls runs/*-demo/steps.jsonl)
n=$(grep -c '"key":' "$json")
[ "$n" -eq 41 ] && ok "40 guarded steps and the look after the last in steps.jsonl" ||
  fail "$n steps in steps.jsonl, wanted 41"
# One key per action position, shared by the three loop iterations.
keys=$(grep -o '"key":"[^"]*"' "$json" | sort -u | wc -l)
[ "$keys" -eq 15 ] && ok "15 distinct step keys (1 + 13 shared by 3 iterations + the end look)" ||
  fail "$keys distinct keys"
expect_in "$json" '"Registrer borger#13:click"' "key names step, ordinal and kind"
tail -n1 "$json" | grep -q '"key":"(end)#1:look"' && ok "the last line is the look after the last step" ||
  fail "last line: $(tail -n1 "$json" | cut -c1-200)"
m=$(grep -c '"verdict":"match"' "$json")
[ "$m" -eq 41 ] && ok "every step matched its baseline" || fail "$m of 41 steps matched"
summary=$(dirname "$json")/run.json
expect_in "$summary" '"steps":	41' "run.json sums the run up: 41 steps"
expect_in "$summary" '"version":	2' "run.json carries its format version"
finish
