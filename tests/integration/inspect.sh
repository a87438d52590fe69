#!/bin/sh
# vagt inspect lists the windows and the words OCR reads, with boxes, confidence and the
# window of the scene they lie in, and draws them into a PNG; an open pop-up menu is listed
# and read; missing OCR language data is exit 4 naming the Debian package.
. "$(dirname "$0")/lib.sh"
"$DEMO_APP" -geometry +30+40 >/dev/null 2>&1 &
apid=$!
i=0; while ! xwininfo -root -tree 2>/dev/null | grep -q Sagsregistrering; do
  i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
run_vagt l inspect
expect_rc 0 l "inspect lists windows"
expect_in l.out "VagtDemo" "the demo app is listed"
expect_in l.out "640x400+" "with its geometry"
run_vagt w inspect --window VagtDemo --png "$T/boxes.png"
expect_rc 0 w "inspect --window"
# Every label with a box near where --print-layout says it is (x 23, rows 34 px apart).
for lbl in CPR-nummer Navn Adresse Postnr By 'Bemærknin.' Gem Annuller; do
  if grep -qE "^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+ +window +$lbl\$" w.out; then ok "word $lbl listed"
  else fail "word $lbl not listed"; fi
done
grep -E " Navn$" w.out | awk '{ if ($1 < 15 || $1 > 35 || $2 < 55 || $2 > 80) exit 1 }' &&
  ok "Navn's box is where the label is" || fail "Navn's box: $(grep -E ' Navn$' w.out)"
[ -s boxes.png ] && ok "boxes drawn into a PNG" || fail "no PNG written"
wid=$(xwininfo -root -tree | awk '/Sagsregistrering/ {print $1; exit}')
import -window "$wid" shot.png
run_vagt i inspect --image shot.png
expect_rc 0 i "inspect --image"
expect_in i.out "CPR-nummer" "a screenshot file is read too"
kill $apid 2>/dev/null
# A posted menu is a window of its own (override-redirect, no class in Xaw and Motif): listed,
# part of the window's scene, its entries read.
: > j.log
"$SRC/tests/apps/tk/vagt-tk-journal" --log "$T/j.log" --geometry +50+60 >/dev/null 2>&1 &
jpid=$!
i=0; while ! grep -q start j.log; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
xdotool mousemove 72 75 click 1
sleep 0.5
run_vagt m inspect
expect_in m.out "(pop-up of client" "an open menu is listed"
run_vagt mw inspect --window Journal
expect_in mw.out "pop-up   0x" "the menu is part of the window's scene"
if grep -qE " pop-up +journal\$" mw.out; then ok "the menu's entries are read"
else fail "menu entries not read: $(grep pop-up mw.out | head -n3)"; fi
kill $jpid 2>/dev/null
run_vagt nl record "$ROBOTS/ocr_lang.lua" --display "$DISPLAY" --runs runs --baseline bl
expect_rc 4 nl "missing OCR language"
expect_in nl.err "tesseract-ocr-xyz" "names the Debian package"
# A PNG that claims 60000x60000 pixels is refused from its header, not decoded.
python3 - <<'PY'
import struct, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
open("bomb.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                             chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
PY
run_vagt bomb inspect --image bomb.png
expect_rc 2 bomb "a decompression bomb"
expect_in bomb.err "60000x60000" "it names the size the file claims"
finish
