#!/bin/sh
# A stand-in for `vagt` in the agent's tests (VAGT_BIN): `run` makes a run folder the way
# vagt does (run.json, report.html, evidence/; FAKE_LAYOUT=1, the default, as vagt wrote it
# before 2026-12 with every step in run.json; 2: run.json a summary beside steps.jsonl) and
# exits $FAKE_EXIT (default 3: a drift; 5: needs_review with items_need_person
# halt, with alert.json and evidence/diff.png as the monitor writes them; FAKE_EVIDENCE
# masked (default), none (no images) or full: alert.json's evidence_mode); FAKE_SLEEP makes
# it take that long (also settable per script: a line "-- fake: FAKE_EXIT=1 FAKE_SLEEP=5").
# `approve [--by NAME]... DIR` marks the folder approved (file `approved`: the names).
# FAKE_FIFO="alert.json run.json" replaces those files of the run folder by FIFOs at the end.
set -u
cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  approve)
    by=""; while [ "${1:-}" = --by ]; do by="$by $2"; shift 2; done
    echo "fake vagt: approved $1 (by:$by)"; echo "by:$by" > "$1/approved"; exit 0 ;;
  run) ;;
  *) echo "fake vagt: unknown command $cmd" >&2; exit 2 ;;
esac
script=$1; shift
runs=runs
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --set) echo "fake vagt: param $2"; shift 2 ;;
    *) shift ;;
  esac
done
stem=$(basename "$script" .lua)
# A script may set FAKE_EXIT and FAKE_SLEEP for itself: a line "-- fake: FAKE_EXIT=0".
[ -f "$script" ] && eval "$(sed -n 's/^-- fake: //p' "$script")"
base="$runs/$(date -u +%Y%m%dT%H%M%SZ)-$stem"; d=$base; n=2
while [ -e "$d" ]; do d="$base-$n"; n=$((n + 1)); done
mkdir -p "$d/evidence"
echo "fake vagt: run folder $d (cwd $(pwd), items db ${VAGT_ITEMS_DB:-unset}, run id ${VAGT_AGENT_RUN_ID:-unset}, LC_ALL ${LC_ALL:-unset})"
# FAKE_SPANS=FILE: the run's start and end by the real clock, a line each, appended
[ -n "${FAKE_SPANS:-}" ] && echo "start $(date +%s.%N)" >> "$FAKE_SPANS"
[ -n "${FAKE_SLEEP:-}" ] && sleep "$FAKE_SLEEP"
[ -n "${FAKE_SPANS:-}" ] && echo "end $(date +%s.%N)" >> "$FAKE_SPANS"
code=${FAKE_EXIT:-3}
case $code in 0) st=passed ;; 1) st=failed ;; 3) st=drift ;; 5) st=needs_review ;; *) st=error ;; esac
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
step1='{ "key": "Ryd formular#1:click", "action": "click", "step": "Ryd formular", "line": 33, "verdict": "match" }'
step2='{ "key": "Registrer borger#3:type", "action": "type", "step": "Registrer borger", "line": 42, "verdict": "'"$st"'" }'
error=$( [ "$code" = 1 ] && echo ', "error": "fake.lua:42: text not found: Gem\nstack traceback: ..."' )
# exit 5: robot.items left row 4 of batch "borgere" for a person (run.json as vagt writes it)
[ "$code" = 5 ] && error=', "items_need_person": [ { "batch": "borgere", "seq": 4, "run": "'"$d"'" } ]'
if [ "${FAKE_LAYOUT:-1}" = 2 ]; then
  printf '%s\n%s\n' "$step1" "$step2" | sed 's/^{ /{ "n": 0, /' > "$d/steps.jsonl"
  cat > "$d/run.json" <<JSON
{ "format": "vagt-run", "version": 2, "vagt": "fake", "script": "$script", "mode": "run",
  "started": "$now", "finished": "$now", "status": "$st", "exit_code": $code,
  "steps_file": "steps.jsonl", "steps": 2, "last_step": $step2 $error }
JSON
else
  cat > "$d/run.json" <<JSON
{ "vagt": "fake", "script": "$script", "mode": "run", "started": "$now", "finished": "$now",
  "status": "$st", "exit_code": $code, "steps": [ $step1, $step2 ] $error }
JSON
fi
echo "<html><body>fake report $st</body></html>" > "$d/report.html"
if [ "$code" = 3 ]; then
  ev=${FAKE_EVIDENCE:-masked}
  # A 1x1 PNG (with a byte that tells the modes apart).
  printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\rIDATx\234c\370\317\300\360\037\000\005\000\001\377\211\231=\035\000\000\000\000IEND\256B`\202' > "$d/evidence/step-003-diff.png"
  printf '%s' "$ev" >> "$d/evidence/step-003-diff.png"
  cp "$d/evidence/step-003-diff.png" "$d/evidence/step-003-current.png"
  images='"current": "evidence/step-003-current.png", "diff": "evidence/step-003-diff.png"'
  [ "$ev" = none ] && { rm -f "$d"/evidence/*.png; images=; }
  cat > "$d/alert.json" <<JSON
{ "status": "drift", "exit_code": 3, "script": "$script", "baseline": "x.baseline",
  "step": { "key": "Registrer borger#3:type", "action": "type", "name": "Registrer borger", "file": "demo.lua", "line": 42 },
  "reasons": [ "label 'CPR-nummer' moved from (120,80) to (120,140)", "window size 400x300, was 400x280" ],
  "time": "$now", "run": "$d", "report": "$d/report.html", "evidence_mode": "$ev",
  "evidence": { $images } }
JSON
fi
for f in ${FAKE_FIFO:-}; do rm -f "$d/$f"; mkfifo "$d/$f"; done
exit "$code"
