# Shared helpers for the agent's integration tests (sourced). Each test runs in its own
# temporary folder; everything it starts is stopped on exit.
set -u
VAGT=${VAGT:?VAGT must name the vagt binary}
SRC=${SRC:?SRC must name the source tree}
AGT="$SRC/tests/agent"
FAKE="$AGT/fake-vagt.sh"
T=$(mktemp -d /tmp/vagt-agt-XXXXXX)
chmod 700 "$T"
cd "$T" || exit 1
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  if [ "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
finish() {
  if [ "$failures" -eq 0 ]; then echo "all checks passed"; exit 0; fi
  echo "$failures check(s) failed" >&2; exit 1
}
check() { # check WHAT COMMAND...: ok when the command succeeds
  what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
show() { sed 's/^/  | /' "$@" >&2; }

# start_receiver [--hold-first S] [--fail-first N] [--tls CERT KEY] [--syslog SOCKET]: sets
# HTTP_PORT, SMTP_PORT (STARTTLS with --tls), SMTP_PLAIN_PORT (never TLS), SMTPS_PORT (with
# --tls, else 0), RX (receiver.py says what it writes there).
start_receiver() {
  RX="$T/rx"; mkdir -p "$RX"
  python3 "$AGT/receiver.py" "$RX" "$@" 2>"$RX/receiver.err" &
  PIDS="$PIDS $!"
  i=0; while [ ! -f "$RX/ports" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  read HTTP_PORT SMTP_PORT SMTP_PLAIN_PORT SMTPS_PORT < "$RX/ports" ||
    { echo "receiver did not start" >&2; show "$RX/receiver.err"; exit 1; }
}

# make_certs DIR: a test CA (DIR/ca.pem) and a certificate it signed for 127.0.0.1 and
# localhost (DIR/server.pem, DIR/server.key), with the openssl command; a second,
# unrelated CA (DIR/other-ca.pem) that did not sign it.
make_certs() {
  d=$1; mkdir -p "$d"
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vagt test $ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$d/$ca.key" -out "$d/$ca.pem" 2>"$d/openssl.err" || { show "$d/openssl.err"; return 1; }
  done
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    "authorityKeyIdentifier=keyid,issuer" "subjectKeyIdentifier=hash" > "$d/server.ext"
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" \
    -out "$d/server.csr" 2>"$d/openssl.err" &&
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>"$d/openssl.err" ||
    { show "$d/openssl.err"; return 1; }
}

# wait_for SECONDS COMMAND...: polls until the command succeeds; false on timeout.
wait_for() {
  n=$(( $1 * 10 )); shift
  while [ $n -gt 0 ]; do "$@" 2>/dev/null && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

# sql DB QUERY: prints rows, fields separated by '|'.
sql() {
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
