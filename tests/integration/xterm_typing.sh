#!/bin/sh
# Typing into xterm, a real application: every character must arrive exactly, upper-case
# Danish letters included (xdotool types ÆØÅ as æøå).
. "$(dirname "$0")/lib.sh"
text='Søren Ærø ÆØÅ æøå ü é € @ { } ~ | \ "citat" 100% $HOME `x` <>'
run_vagt t record "$ROBOTS/xterm_type.lua" --display "$DISPLAY" --runs runs --baseline "$T/bl" \
  --set "text=$text" --set "out=$T/got.txt"
expect_rc 0 t "vagt record xterm_type.lua"
printf '%s\n' "$text" > want.txt
if [ -f got.txt ]; then expect_file_eq got.txt want.txt "xterm received the exact text"
else fail "xterm wrote nothing"; sed 's/^/  | /' t.err >&2; fi
# The typed text is personal data: it must not be in the run folder.
if grep -rqF "Søren" runs; then fail "typed text found in the run folder"
else ok "typed text not written to the run folder"; fi
finish
