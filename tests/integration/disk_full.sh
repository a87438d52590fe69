#!/bin/sh
# A disk that fills up during a drift-halted run (a fault hook: ENOSPC after N bytes, no
# mount needed): the run folder still ends consistent: the final status in run.json,
# alert.json, no empty or cut files, and nothing named in the record that is not there.
. "$(dirname "$0")/lib.sh"
cat > form.lua <<'LUA'
local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0",
  "--variant", robot.params.variant or "normal" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
robot.step("Navn", function() w:click{ x = 180, y = 70 } end)
LUA
run_vagt rec record form.lua --display "$DISPLAY" --runs runs-rec --baseline bl \
  --set "app=$DEMO_APP" --set "out=$T/out.tsv"
expect_rc 0 rec "record the baseline"
for n in 0 1500 40000; do
  VAGT_TEST_ENOSPC_AFTER=$n run_vagt "f$n" run form.lua --display "$DISPLAY" --runs "runs-$n" \
    --baseline bl --set "app=$DEMO_APP" --set "out=$T/out.tsv" --set variant=swapped
  expect_rc 3 "f$n" "disk full after $n bytes: halted on drift"
  D=$(ls -d runs-$n/*-form)
  expect_in "$D/run.json" '"status":	"drift"' "full after $n: run.json has the final status"
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$D/alert.json" 2>/dev/null \
    && ok "full after $n: alert.json written whole" || fail "full after $n: no alert.json"
  empty=$(find "$D" -type f -empty | grep -v '/log.txt$')
  [ -z "$empty" ] && ok "full after $n: no empty files" || fail "full after $n: empty files: $empty"
  tmp=$(find "$D" -name '*.tmp' -o -name .reserve)
  [ -z "$tmp" ] && ok "full after $n: no temporary files left" || fail "full after $n: left: $tmp"
  for p in $(sed -n 's/.*"\(evidence\/[^"]*\.png\)".*/\1/p' "$D/alert.json" "$D/run.json" | sort -u); do
    [ -s "$D/$p" ] || fail "full after $n: $p named but not there"
  done
done
expect_in f1500.err "No space left on device" "says the disk was full"
finish
