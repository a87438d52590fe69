#!/bin/sh
# Benign differences must not alarm: the live clock, the window elsewhere on the screen, a
# run straight after another, and other data already in the form once a recording has seen
# data there (masks come from evidence, never from guesses about what looks like a field).
# Then: a missing baseline halts with "no baseline for step"; a corrupt entry is exit 2
# naming the file; approving a vendor update's screen makes the next run pass on the
# updated app.
. "$(dirname "$0")/lib.sh"
demo="$SRC/scripts/demo.lua"
run_vagt rec record "$demo" --display "$DISPLAY" --runs runs --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/rec.tsv"
expect_rc 0 rec "record the baseline"

cat > moved.sh <<SH
#!/bin/sh
exec "$DEMO_APP" "\$@" -geometry +420+300
SH
cat > prefill.sh <<SH
#!/bin/sh
exec "$DEMO_APP" "\$@" --prefill
SH
chmod +x moved.sh prefill.sh
# Data the application shows by itself is learned by recording with it.
run_vagt recp record "$demo" --display "$DISPLAY" --runs runs --baseline bl \
  --set "app=$T/prefill.sh" --set "out=$T/recp.tsv"
expect_rc 0 recp "a second recording, with another citizen already in the form, merges"
for b in plain again moved prefill; do
  app="$DEMO_APP"; [ -x "$b.sh" ] && app="$T/$b.sh"
  : > "$b.tsv"
  run_vagt "$b" run "$demo" --display "$DISPLAY" --runs runs --baseline bl \
    --set "app=$app" --set "out=$T/$b.tsv"
  expect_rc 0 "$b" "benign: $b"
  n=$(wc -l < "$b.tsv"); [ "$n" -eq 3 ] && ok "$b: 3 records saved" || fail "$b: $n records saved"
done

# Recording again on a vendor-updated app is refused, not merged: merging would learn the
# renamed label as data and stop watching it. A second recording with other data merges.
cp -r bl bl-before
run_vagt rr record "$demo" --display "$DISPLAY" --runs runs-rr --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/rr.tsv" --set variant=renamed
expect_rc 3 rr "recording on the renamed variant"
expect_in rr.err "recording refused: label 'Navn' now reads" "refusal names the label"
expect_in rr.err "data, declare " "the terminal shows the w:ignore lines that would declare them data"
expect_in rr.err ": w:ignore{ x = " "with their places"
diff -r bl bl-before >/dev/null && ok "baseline unchanged by the refused recording" ||
  fail "the refused recording changed the baseline"
run_vagt r2 record "$demo" --display "$DISPLAY" --runs runs-r2 --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/r2.tsv" --set batch=2
expect_rc 0 r2 "second recording with other data merges"

mkdir empty
run_vagt nb run "$demo" --display "$DISPLAY" --runs runs-nb --baseline empty \
  --set "app=$DEMO_APP" --set "out=$T/nb.tsv"
expect_rc 3 nb "no baseline"
expect_in nb.err "no baseline for step 'Ryd formular#1:click'" "says which step has no baseline"

cp -r bl corrupt
f=$(ls corrupt/Registrer_borger_1_click*.json)
sed -i 's/"width"/"wid th"/' "$f"
run_vagt cor run "$demo" --display "$DISPLAY" --runs runs-cor --baseline corrupt \
  --set "app=$DEMO_APP" --set "out=$T/cor.tsv"
expect_rc 2 cor "corrupt baseline entry"
expect_in cor.err "$(basename "$f")" "error names the file"

# A baseline of the previous format (before layers, with guessed field cells) is refused
# with exit 2 and the command that re-records it, never judged with.
cp -r bl old
f=$(ls old/Ryd_formular_1_click*.json)
python3 - "$f" <<'PY'
import json, sys
p = sys.argv[1]
e = json.load(open(p))
w = e["window"]
for k in ("image", "image_fnv1a64", "anchors", "masks", "learned"):
    e[k] = w.pop(k)
for m in e["masks"]:  # format 1 knew declared, typed and learned masks
    m["source"] = "typed" if m["source"] == "robot" else m["source"]
w.pop("name", None)
e.pop("layers")
e["toplevels"] = []
e["version"] = 1
json.dump(e, open(p, "w"))
PY
run_vagt old run "$demo" --display "$DISPLAY" --runs runs-old --baseline old \
  --set "app=$DEMO_APP" --set "out=$T/old.tsv"
expect_rc 2 old "a format-1 baseline entry"
expect_in old.err "vagt record --replace" "says how to re-record it"
[ ! -s old.tsv ] && ok "nothing entered with the old baseline" || fail "input sent with the old baseline"

cp -r bl appr
run_vagt d1 run "$demo" --display "$DISPLAY" --runs runs-appr --baseline appr \
  --set "app=$DEMO_APP" --set "out=$T/a1.tsv" --set variant=renamed
expect_rc 3 d1 "renamed label halts"
"$VAGT" approve "$(ls -d runs-appr/*-demo | head -n1)" > ap.out 2>&1 || fail "approve failed: $(cat ap.out)"
expect_in ap.out "accepted: label 'Navn' now reads 'Fulde" "approve names what it accepts"
: > a2.tsv
run_vagt d2 run "$demo" --display "$DISPLAY" --runs runs-appr2 --baseline appr \
  --set "app=$DEMO_APP" --set "out=$T/a2.tsv" --set variant=renamed
expect_rc 0 d2 "after approve, the run passes on the updated app"
n=$(wc -l < a2.tsv); [ "$n" -eq 3 ] && ok "3 records after approve" || fail "$n records after approve"
run_vagt d3 run "$demo" --display "$DISPLAY" --runs runs-appr3 --baseline appr \
  --set "app=$DEMO_APP" --set "out=$T/a3.tsv"
expect_rc 3 d3 "the approved baseline no longer accepts the old screen"
finish
