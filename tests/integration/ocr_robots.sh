#!/bin/sh
# Robots that find things by their text (OCR): the demo app filled by its labels, and a real
# application (xmessage) driven by its button captions, with the effect checked outside.
. "$(dirname "$0")/lib.sh"
run_vagt d record "$ROBOTS/ocr_demo.lua" --display "$DISPLAY" --runs runs --baseline bl1 \
  --set "app=$DEMO_APP" --set "out=$T/saved.tsv"
expect_rc 0 d "demo app filled by label"
printf '120345-6789\tÆrlige Åse Ørsted\tSøvej 4\t7100\tVejle\tTekst fundet med OCR\n' > want.tsv
if [ -f saved.tsv ]; then expect_file_eq saved.tsv want.tsv "each value landed in its field"
else fail "nothing saved"; sed 's/^/  | /' d.err >&2; fi

# xmessage prints the button pressed; an application's output goes to its run's apps.log
run_vagt x record "$ROBOTS/ocr_xmessage.lua" --display "$DISPLAY" --runs runs-x --baseline bl2
expect_rc 0 x "xmessage driven by its captions"
said() { cat runs-"$1"/*/apps.log 2>/dev/null; }
if [ "$(said x)" = "Godkend" ]; then ok "xmessage reports the button 'Godkend' was pressed"
else fail "xmessage printed '$(said x)'"; sed 's/^/  | /' x.err >&2; fi
expect_in x.err "ambiguous:" "the ambiguous click failed"
expect_in x.err "(" "the ambiguity names positions"
run_vagt y record "$ROBOTS/ocr_xmessage.lua" --display "$DISPLAY" --runs runs-y --baseline bl3 \
  --set button=Afvis
[ "$(said y)" = "Afvis" ] && ok "and 'Afvis' when asked" || fail "xmessage printed '$(said y)' for Afvis"
finish
