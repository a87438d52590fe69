# Shared helpers for the integration tests (sourced). Each test runs in its own temporary
# folder; failures print what was expected and what happened.
set -u
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
ROBOTS="$SRC/tests/integration/robots"
T=$(mktemp -d /tmp/vagt-it-XXXXXX)
cd "$T" || exit 1
trap 'rm -rf "$T"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# run_vagt OUT_PREFIX ARGS...: runs vagt, keeps stdout/stderr in files, sets $rc.
run_vagt() {
  p=$1; shift
  "$VAGT" "$@" >"$p.out" 2>"$p.err"
  rc=$?
}

expect_rc() { # expect_rc WANT PREFIX WHAT
  if [ "$rc" -ne "$1" ]; then
    fail "$3: exit $rc, wanted $1"; sed 's/^/  | /' "$2.err" >&2
  else ok "$3: exit $1"; fi
}

expect_in() { # expect_in FILE TEXT WHAT
  if grep -qF -- "$2" "$1"; then ok "$3"; else
    fail "$3: '$2' not in $1"; sed 's/^/  | /' "$1" >&2; fi
}

expect_file_eq() { # expect_file_eq GOT WANT WHAT
  if cmp -s "$1" "$2"; then ok "$3"; else
    fail "$3: contents differ"; diff "$2" "$1" | sed 's/^/  | /' >&2; fi
}

finish() {
  if [ "$failures" -eq 0 ]; then echo "all checks passed"; exit 0; fi
  echo "$failures check(s) failed" >&2; exit 1
}
