#!/bin/sh
# `vagt approve` trusts nothing in the run folder: the baseline, the step and the image come
# from the run's own record (alert.json must agree with it), the image lies in the folder's
# evidence/, every file read is a regular file of bounded size (a FIFO or /dev/zero as
# alert.json is refused, not waited on or read), and approved.json is written through a file
# approve creates itself (symlinks planted in the folder are replaced, never followed).
# Both run-folder layouts are read: run.json "vagt-run" 2 with steps.jsonl, and the previous
# one with every step inside run.json.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { fail "python3 is needed to edit run folders"; finish; }
cat > form.lua <<'LUA'
local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0",
  "--variant", robot.params.variant or "normal" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
robot.step("Navn", function() w:click{ x = 180, y = 70 } end)
LUA
run_vagt rec record form.lua --display "$DISPLAY" --runs runs-rec --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/out.tsv"
expect_rc 0 rec "record the baseline"
run_vagt drift run form.lua --display "$DISPLAY" --runs runs-drift --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/out.tsv" --set variant=swapped
expect_rc 3 drift "the swapped form halts"
D=$(ls -d runs-drift/*-form)
[ -f "$D/alert.json" ] && ok "a drift run folder to approve" || { fail "no alert.json"; finish; }
sums() { find bl -type f | sort | xargs sha256sum; }
sums > bl.before
echo precious > victim; echo precious2 > victim2

# jedit FILE PYTHON: edits a JSON file in place (j is the object).
jedit() {
  python3 - "$1" "$2" <<'PY'
import json, sys
p, code = sys.argv[1], sys.argv[2]
j = json.load(open(p))
exec(code)
json.dump(j, open(p, "w"), indent=1)
PY
}
copy() { rm -rf "c-$1"; cp -a "$D" "c-$1"; }
refused() { # refused NAME WHAT TEXT: exit 2 naming TEXT, and the baseline untouched
  run_vagt "$1" approve "c-$1"
  expect_rc 2 "$1" "$2: refused"
  expect_in "$1.err" "$3" "$2: says why"
  sums > bl.now
  cmp -s bl.before bl.now && ok "$2: baseline untouched" || fail "$2: the baseline changed"
}

copy base; jedit c-base/alert.json 'j["baseline"] = "'"$T"'/evil"'
refused base "alert.json names another baseline" "field 'baseline' does not match the run's record"
[ ! -e evil ] && ok "no baseline created where alert.json pointed" || fail "$T/evil was created"

copy key; jedit c-key/alert.json 'j["step"]["key"] = "../../escape#1:click"'
refused key "alert.json names another step" "field 'step.key' does not match"

copy img; jedit c-img/alert.json 'j["evidence"]["current"] = "../../victim.png"'
refused img "alert.json points the image outside" "field 'evidence.current' does not match"

copy img2; for f in c-img2/run.json c-img2/alert.json; do
  jedit "$f" 'e = j["last_step"]["evidence"] if "last_step" in j else j["evidence"]; e["current"] = "evidence/../../victim.png"'
done
refused img2 "the record points the image outside" "must name a PNG file in the run's evidence/ folder"

copy evl; mv c-evl/evidence c-evl/ev-real; ln -s ev-real c-evl/evidence
refused evl "evidence/ is a symlink" "(a symlink is refused)"

copy fifo; rm c-fifo/alert.json; mkfifo c-fifo/alert.json
timeout 60 "$VAGT" approve c-fifo >fifo.out 2>fifo.err; rc=$?
[ "$rc" -eq 124 ] && fail "a FIFO as alert.json: approve waited on it" || expect_rc 2 fifo "a FIFO as alert.json: refused"
expect_in fifo.err "not a regular file" "a FIFO: says why"

copy zero; rm c-zero/alert.json; ln -s /dev/zero c-zero/alert.json
timeout 60 "$VAGT" approve c-zero >zero.out 2>zero.err; rc=$?
expect_rc 2 zero "/dev/zero as alert.json: refused"
expect_in zero.err "symbolic link" "/dev/zero: says why"

copy big; head -c 5000000 /dev/zero | tr '\0' ' ' >> c-big/alert.json
refused big "a 5 MB alert.json" "more than"

copy pass; jedit c-pass/run.json 'j["status"] = "passed"'
refused pass "a run that passed" "only a run that halted on drift"

# Symlinks planted at the old fixed temporary name and at approved.json itself.
copy ok; ln -s "$T/victim" c-ok/.approved.json.tmp; ln -s "$T/victim2" c-ok/approved.json
run_vagt ok approve c-ok
expect_rc 0 ok "approve the drift run"
[ "$(cat victim)" = precious ] && [ "$(cat victim2)" = precious2 ] && ok "planted symlinks not followed" \
  || fail "a file outside the run folder was overwritten"
[ -f c-ok/approved.json ] && [ ! -L c-ok/approved.json ] && ok "approved.json is a file of its own" \
  || fail "approved.json is not a regular file"
expect_in c-ok/approved.json '"step":' "approved.json names the step"

# The previous layout: every step inside run.json, no steps.jsonl.
copy v1; rm c-v1/steps.jsonl
jedit c-v1/run.json 'j.pop("format"); j.pop("version"); j.pop("steps_file"); j["steps"] = [j.pop("last_step")]'
run_vagt v1 approve c-v1
expect_rc 0 v1 "approve a run folder of the previous layout"
expect_in v1.out "approved: step 'Navn#1:click'" "the previous layout: the step approved"
finish
