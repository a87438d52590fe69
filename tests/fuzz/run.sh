#!/bin/sh
# Runs every fuzz target of a VAGT_FUZZ=ON build (clang, libFuzzer, ASan + UBSan) for a
# bounded time each (as many at once as there are cores), starting from the seed corpora, and fails on any finding: a crash,
# a sanitizer report, a leak, an input slower than 10 s or one taking over 2.5 GB.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
# New inputs go to a scratch folder, never into tests/fuzz/corpus. A finding is left in
# $FUZZ_OUT (default BUILD_DIR/fuzz-findings): fix it, then copy the input into
# tests/fuzz/crashes/<target>/ so every build replays it as a test from then on.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [SECONDS] [TARGET...]" >&2; exit 2; }
build=$(cd "$1" && pwd)
secs=${2:-30}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-"baseline image alert config cron items approve traineddata broker"}
out=${FUZZ_OUT:-$build/fuzz-findings}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/vagt-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/../lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# one TARGET: fuzzes it, leaves its summary line in $work/TARGET.line (and a .failed mark)
one() {
  t=$1
  bin=$build/tests/fuzz/fuzz_$t
  mkdir -p "$work/$t"
  log=$out/$t.log
  start=$(date +%s)
  past=""
  [ -d "$here/crashes/$t" ] && past="$here/crashes/$t" # past findings seed it too
  # shellcheck disable=SC2086
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
      -artifact_prefix="$out/$t-" "$work/$t" "$here/corpus/$t" $past >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    : > "$work/$t.failed"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  end=$(date +%s)
  el=$((end - start))
  [ "$el" -gt 0 ] || el=1
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  {
    echo "fuzz $t: $status, ${runs:-0} runs in ${el} s ($(( ${runs:-0} / el )) exec/s), $cov"
    if [ "$status" != ok ]; then
      grep -E 'ERROR:|runtime error|Test unit written|SUMMARY' "$log" | head -8 | sed 's/^/  /'
      echo "  full log: $log"
    fi
  } > "$work/$t.line"
}

for t in $targets; do
  if [ ! -x "$build/tests/fuzz/fuzz_$t" ]; then
    echo "fuzz: $build/tests/fuzz/fuzz_$t missing: configure with CC=clang -DVAGT_FUZZ=ON and build fuzz_targets" >&2
    exit 2
  fi
done
# as many lanes as cores, each running its share of the targets one after the other
lanes=$(nproc 2>/dev/null || echo 1)
pids=""
lane=0
while [ "$lane" -lt "$lanes" ]; do
  mine=""
  i=0
  for t in $targets; do
    [ $((i % lanes)) -eq "$lane" ] && mine="$mine $t"
    i=$((i + 1))
  done
  if [ -n "$mine" ]; then
    ( for t in $mine; do one "$t"; done ) &
    pids="$pids $!"
  fi
  lane=$((lane + 1))
done
for p in $pids; do wait "$p" || true; done
failed=""
for t in $targets; do
  cat "$work/$t.line" 2>/dev/null || echo "fuzz $t: did not report"
  [ -e "$work/$t.failed" ] || [ ! -e "$work/$t.line" ] && failed="$failed $t"
done
if [ -n "$failed" ]; then
  echo "fuzz: findings in:$failed (inputs in $out; replay one with: $build/tests/fuzz/fuzz_<target> FILE)" >&2
  exit 1
fi
