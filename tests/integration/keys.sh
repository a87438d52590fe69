#!/bin/sh
# Step keys that change meaning are caught: a conditional action inside robot.step shifts
# the ordinals of the actions after it, so one key would name the CPR field's click in one
# iteration and the note field's in the other. Recording stops with exit 1 naming both
# script lines, and nothing is saved past that point; naming the conditional action
# (key = "note") keeps every key's meaning, and the app saves both citizens; two actions
# named alike in one invocation are an error. A recording that fails stores nothing: a new
# baseline stays empty, an existing one byte for byte as it was.
. "$(dirname "$0")/lib.sh"
k() { # k PREFIX [--set k=v]...
  p=$1; shift
  : > "$p.tsv"
  run_vagt "$p" record "$ROBOTS/keys.lua" --display "$DISPLAY" --runs "runs-$p" \
    --baseline "bl-$p" --set "app=$DEMO_APP" --set "out=$T/$p.tsv" "$@"
}
k shifted
expect_rc 1 shifted "a key that names two actions stops the recording"
expect_in shifted.err "step key 'Borger#1:click' named the action at " "the message names the key"
expect_in shifted.err "keys.lua:15 and now another one at " "and the first script line"
expect_in shifted.err "keys.lua:12: an action before it" "and the second"
expect_in shifted.err "key = " "and the way out"
[ "$(wc -l < shifted.tsv)" -eq 1 ] && ok "only the first citizen was saved" ||
  fail "saved: $(cat shifted.tsv)"

k named --set named=1
expect_rc 0 named "the conditional action named: recorded"
[ "$(cut -f1,6 named.tsv | tr '\t\n' '|;')" = "010190-1234|;241285-4321|Ring tilbage;" ] &&
  ok "both citizens saved, the note with the second" || fail "saved: $(cat named.tsv)"
ls bl-named | grep -q '^Borger_note_click' && ok "the named action has its own baseline entry" ||
  fail "entries: $(ls bl-named)"
run_vagt named2 run "$ROBOTS/keys.lua" --display "$DISPLAY" --runs runs-named2 \
  --baseline bl-named --set "app=$DEMO_APP" --set "out=$T/named2.tsv" --set named=1
expect_rc 0 named2 "and runs unchanged"

[ -z "$(ls bl-shifted/*.json 2>/dev/null)" ] && ok "the failed recording stored nothing" ||
  fail "entries after a failed recording: $(ls bl-shifted)"
expect_in shifted.err "left as it was" "and says so"
sum() { find "$1" -type f ! -name '.*' | sort | xargs cat | md5sum; }
before=$(sum bl-named)
run_vagt again record "$ROBOTS/keys.lua" --display "$DISPLAY" --runs runs-again \
  --baseline bl-named --set "app=$DEMO_APP" --set "out=$T/again.tsv"
expect_rc 1 again "recording into a good baseline fails halfway"
[ "$(sum bl-named)" = "$before" ] && ok "and the baseline is as it was, byte for byte" ||
  fail "the baseline changed: $(ls -la bl-named)"

k twice --set twice=1
expect_rc 1 twice "two actions named alike in one step fail"
expect_in twice.err "two click actions named 'cpr'" "the message names the name"
# Actions outside robot.step: recording says so, and a loop there shares one key.
k loose --set named=1 --set loose=1
expect_rc 0 loose "a loop outside steps records"
expect_in loose.err "note: the action at $ROBOTS/keys.lua:21 runs outside robot.step: its key 'keys.lua:21:click' changes when lines move" "recording notes the action outside a step"
expect_in loose.err "runs outside robot.step with another target each time (a loop?): all of them share the key 'keys.lua:21:click'" "and that a loop shares its key"
"$VAGT" check "$ROBOTS/keys.lua" > kc.out 2>&1
expect_in kc.out "keys.lua:21: note: click in a loop outside robot.step" "vagt check sees the loop statically"
finish
