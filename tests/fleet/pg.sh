# A private PostgreSQL cluster for one fleet test (sourced). Debian's postgresql package;
# binaries from `pg_config --bindir`. It listens only on a unix socket in its own temporary
# folder (no TCP), with fsync and synchronous_commit on (the defaults, stated), password
# authentication (scram-sha-256) for everyone, and is stopped and removed on exit.
# initdb refuses root: as root the cluster runs as the postgres user, and the folder is
# opened to that user's group only (0710), its data and socket folder owned by postgres.
#
#   pg_start          initdb + start; sets PG_DB (conninfo for the role vagt, no password),
#                     PG_PWFILE (vagt's password file, owner-only), PG_T (the folder)
#   pg_restart        pg_ctl restart -m fast
#   psqlq SQL         runs SQL as the superuser, prints rows unaligned, fields split by '|'
#   pg_cleanup        stops it and removes the folder (the EXIT trap calls it)
#   PG_PARENT         where the temporary folder goes (default /tmp; must be on disk)
set -u
PG_BIN=$(pg_config --bindir 2>/dev/null)
if [ ! -x "$PG_BIN/initdb" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$PG_BIN/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

PG_T=$(mktemp -d "${PG_PARENT:-/tmp}/vagt-pg-XXXXXX")
PG_HOME="$PG_T/pg"          # data/, the socket, the server log: the server's own
PG_DATA="$PG_HOME/data"
mkdir -m 700 "$PG_HOME"
if [ "$(id -u)" -eq 0 ]; then
  chgrp postgres "$PG_T" && chmod 0710 "$PG_T"
  chown postgres:postgres "$PG_HOME"
  PG_AS="runuser -u postgres --"
else
  chmod 0700 "$PG_T"
  PG_AS=""
fi
# A random port: it only names the socket file (.s.PGSQL.PORT) in our own folder.
PG_PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
PG_SUPW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
PG_VAGTPW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
PG_PWFILE="$PG_T/vagt.password"
( umask 077; printf '%s\n' "$PG_VAGTPW" > "$PG_PWFILE" )
# the superuser's password for psql (libpq's own password file)
export PGPASSFILE="$PG_T/pgpass"
( umask 077; printf '*:*:*:postgres:%s\n' "$PG_SUPW" > "$PGPASSFILE" )
PG_DB="host=$PG_HOME port=$PG_PORT dbname=vagt user=vagt"
PG_SU="host=$PG_HOME port=$PG_PORT dbname=vagt user=postgres"

pg_as() { (cd "$PG_T" && $PG_AS "$@"); }

pg_start() {
  ( umask 077; printf '%s\n' "$PG_SUPW" > "$PG_HOME/su.pw" )
  [ -n "$PG_AS" ] && chown postgres "$PG_HOME/su.pw"
  if ! pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_HOME/su.pw" \
      --auth=scram-sha-256 -E UTF8 --no-locale > "$PG_T/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2; sed 's/^/  | /' "$PG_T/initdb.log" >&2; return 1
  fi
  rm -f "$PG_HOME/su.pw"
  pg_as sh -c "cat >> '$PG_DATA/postgresql.conf'" <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_HOME'
unix_socket_permissions = 0700
port = $PG_PORT
fsync = on
synchronous_commit = on
max_connections = 50
EOF
  if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/server.log" -w -t 60 start >/dev/null; then
    echo "pg.sh: the server did not start:" >&2; pg_log >&2; return 1
  fi
  PG_UP=1
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "host=$PG_HOME port=$PG_PORT dbname=postgres user=postgres" <<EOF || return 1
CREATE ROLE vagt LOGIN PASSWORD '$PG_VAGTPW';
CREATE DATABASE vagt OWNER vagt;
EOF
}

pg_log() { sed 's/^/  | /' "$PG_HOME/server.log" 2>/dev/null; }

pg_restart() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/server.log" -w -t 60 -m fast restart >/dev/null
}

psqlq() {
  "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$PG_SU" -c "$1"
}

pg_cleanup() {
  if [ "${PG_UP:-}" ]; then
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 -m fast stop >/dev/null 2>&1
    PG_UP=
  fi
  if [ "${KEEP:-}" ]; then echo "kept $PG_T"; else rm -rf "$PG_T"; fi
}

# The tests' own helpers.
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  pg_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() { what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() {
  if [ "$failures" -eq 0 ]; then echo "all checks passed"; exit 0; fi
  echo "$failures check(s) failed" >&2; pg_log | tail -n 30 >&2; exit 1
}
CLAIMER=${CLAIMER:?CLAIMER must name the fleet_claimer binary}
claimer() { "$CLAIMER" --db "$PG_DB" --password-file "$PG_PWFILE" "$@"; }
now_ms() { date +%s%3N; }

# No two claims of one item overlap in time (a claim lasts from claimed_at until it was
# released; one never released lasts on): prints the number of overlapping pairs.
overlaps() {
  psqlq "SELECT count(*) FROM vagt_claims a JOIN vagt_claims b ON a.item = b.item AND a.id < b.id
         WHERE tstzrange(a.claimed_at, coalesce(a.released_at, 'infinity'))
            && tstzrange(b.claimed_at, coalesce(b.released_at, 'infinity'))"
}
