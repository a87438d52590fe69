#!/bin/sh
# Single-character captions (xcalc's keys) found by their text: a word that reads as a known
# confusion of the character (g for 9, c for C, a dash for "-") is only a candidate; a
# careful reading at the glyph's own size, restricted to the character and its confusions,
# or its height against the window's cap and x-height (C or c), settles it; the square
# root's overline is not a dash, the ÷ key (read as "=") not "=". xcalc computes
# 99-3 from keys clicked by their captions, and says 96. A caption with a character the
# models cannot produce (÷) is refused as such.
. "$(dirname "$0")/lib.sh"
run_vagt g record "$ROBOTS/xcalc_glyphs.lua" --xvfb --runs runs --baseline bl
expect_rc 0 g "keys clicked by one-character captions"
expect_in g.err "C at 153,250" "C is the C key (not read as c and missed)"
expect_in g.err "9 at 153,280" "9 is the 9 key (not read as g and missed)"
expect_in g.err "- alone: at 197,314" "'-' is the - key alone (the square root's bar is not a dash)"
expect_in g.err "result 96" "xcalc computed 99-3 = 96"
expect_in g.err "divide: find '÷': the OCR models (dan+eng) cannot produce '÷'" "a caption no model can produce is said so, not 'not found'"

# vagt inspect says which readings are lone characters that may be others.
xcalc -geometry +0+0 & xp=$!
i=0; until "$VAGT" inspect 2>/dev/null | grep -q XCalc || [ $i -gt 50 ]; do sleep 0.2; i=$((i+1)); done
run_vagt in inspect --window XCalc
kill $xp 2>/dev/null
expect_rc 0 in "vagt inspect of xcalc"
grep -F ' g   [may be 9: find_text("9") reads it again with care]' in.out >/dev/null &&
  ok "inspect: the 9 key's reading 'g' may be 9" || fail "inspect: no note on the 9 key: $(grep ' g ' in.out)"
finish
