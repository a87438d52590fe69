#!/bin/sh
# Single-character captions (xcalc's keys) found by their text: a word that reads as a known
# confusion of the character (g for 9, c for C, a dash for "-") is only a candidate; a
# careful reading at the glyph's own size, restricted to the character and its confusions,
# or its height against the window's cap and x-height (C or c), settles it. xcalc computes
# 99-3 from keys clicked by their captions, and says 96. A caption with a character the
# models cannot produce (÷) is refused as such.
. "$(dirname "$0")/lib.sh"
run_vagt g record "$ROBOTS/xcalc_glyphs.lua" --xvfb --runs runs --baseline bl
expect_rc 0 g "keys clicked by one-character captions"
expect_in g.err "C at 153,250" "C is the C key (not read as c and missed)"
expect_in g.err "9 at 153,280" "9 is the 9 key (not read as g and missed)"
expect_in g.err "- alone: text '-' is ambiguous: 2 equally good matches" "'-' twice (the root's bar too): ambiguous, never a guess"
expect_in g.err "result 96" "xcalc computed 99-3 = 96"
expect_in g.err "divide: find '÷': the OCR models (dan+eng) cannot produce '÷'" "a caption no model can produce is said so, not 'not found'"
finish
