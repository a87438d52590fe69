/* Fleet mode's shared work items in PostgreSQL: see ag_pg.h. */
#include "ag_pg.h"
#include "ag_pg_int.h"
#include "vu.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The schema's advisory lock (any constant: 'vagt' in ASCII). */
#define SCHEMA_LOCK "1986095988"

/* ---- schema ---------------------------------------------------------------------------- */

static const char *const MIGRATE_1[] = {
    "CREATE TABLE vagt_items ("
    " id bigserial PRIMARY KEY,"
    " batch text NOT NULL,"
    " key text NOT NULL,"
    " seq integer NOT NULL,"
    " payload text,"
    " state text NOT NULL DEFAULT 'pending'"
    "  CHECK (state IN ('pending', 'claimed', 'done', 'failed', 'needs_review')),"
    " attempts integer NOT NULL DEFAULT 0,"
    " max_attempts integer NOT NULL DEFAULT 3,"
    " claim bigint," /* the current (or last) claim: vagt_claims.id */
    " node text, run text, step text,"
    " lease_until timestamptz,"
    " input_sent_at timestamptz,"
    " reason text,"
    " enqueued_at timestamptz NOT NULL DEFAULT now(),"
    " updated_at timestamptz NOT NULL DEFAULT now(),"
    " UNIQUE (batch, key))",
    "CREATE INDEX vagt_items_pending ON vagt_items (batch, seq, id) WHERE state = 'pending'",
    "CREATE INDEX vagt_items_leased ON vagt_items (lease_until) WHERE state = 'claimed'",
    "CREATE INDEX vagt_items_batch_state ON vagt_items (batch, state)",
    "CREATE TABLE vagt_claims ("
    " id bigint PRIMARY KEY,"
    " item bigint NOT NULL REFERENCES vagt_items (id) ON DELETE CASCADE,"
    " node text NOT NULL,"
    " run text NOT NULL,"
    " attempt integer NOT NULL,"
    " claimed_at timestamptz NOT NULL,"
    " lease_until timestamptz NOT NULL,"
    " input_sent_at timestamptz,"
    " released_at timestamptz,"
    " outcome text)",
    "CREATE SEQUENCE vagt_claims_id_seq OWNED BY vagt_claims.id",
    "CREATE INDEX vagt_claims_item ON vagt_claims (item)",
    NULL,
};

/* Version 2: schedules fire once per fleet. One row per robot and scheduled time (Unix
 * seconds of the cron time): the node that inserts it runs it. */
static const char *const MIGRATE_2[] = {
    "CREATE TABLE vagt_schedule ("
    " robot text NOT NULL,"
    " scheduled bigint NOT NULL,"
    " trigger text NOT NULL,"
    " node text NOT NULL,"
    " claimed_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (robot, scheduled))",
    NULL,
};

/* Version 3: the fleet's settings that every node must share (vagt_meta), e.g. the check
 * value of the key that work items' content keys are hashed under; the fleet's baselines
 * and drift pauses. */
static const char *const MIGRATE_3[] = {
    "CREATE TABLE vagt_meta ("
    " name text PRIMARY KEY,"
    " value text NOT NULL,"
    " node text NOT NULL,"
    " set_at timestamptz NOT NULL DEFAULT now())",
    /* the fleet's baselines: every approved version of a robot's baseline folder, files and
   * all; the highest version is the current one */
    "CREATE TABLE vagt_baseline ("
    " robot text NOT NULL,"
    " version integer NOT NULL,"
    " digest text NOT NULL,"
    " node text NOT NULL,"
    " published_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (robot, version))",
    "CREATE TABLE vagt_baseline_file ("
    " robot text NOT NULL,"
    " version integer NOT NULL,"
    " name text NOT NULL,"
    " content bytea NOT NULL,"
    " PRIMARY KEY (robot, version, name),"
    " FOREIGN KEY (robot, version) REFERENCES vagt_baseline ON DELETE CASCADE)",
    /* a robot halted on drift is paused on every node until a new baseline is published */
    /* spread: up to N nodes run each scheduled time, one slot each */
    "ALTER TABLE vagt_schedule ADD COLUMN slot integer NOT NULL DEFAULT 1",
    "ALTER TABLE vagt_schedule DROP CONSTRAINT vagt_schedule_pkey",
    "ALTER TABLE vagt_schedule ADD PRIMARY KEY (robot, scheduled, slot)",
    /* seats: runs of a robot at once across the fleet, each seat held under a lease */
    "CREATE TABLE vagt_seat ("
    " robot text NOT NULL,"
    " seat integer NOT NULL,"
    " node text NOT NULL,"
    " run text NOT NULL,"
    " lease_until timestamptz NOT NULL,"
    " PRIMARY KEY (robot, seat))",
    /* the fleet's alert outbox: a row is delivered by whichever node holds its lease */
    "CREATE TABLE vagt_outbox ("
    " id bigserial PRIMARY KEY,"
    " alert_id text NOT NULL,"
    " robot text, channel text NOT NULL, kind text NOT NULL,"
    " target text NOT NULL, payload text NOT NULL,"
    " attach bytea, attach_name text,"
    " node text NOT NULL," /* the node that added it */
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " attempts integer NOT NULL DEFAULT 0,"
    " next_attempt timestamptz NOT NULL DEFAULT now(),"
    " held_by text, lease_until timestamptz,"
    " delivered_at timestamptz, delivered_by text,"
    " last_error text,"
    " UNIQUE (alert_id, channel, kind))",
    "CREATE INDEX vagt_outbox_due ON vagt_outbox (next_attempt) WHERE delivered_at IS NULL",
    "CREATE TABLE vagt_pause ("
    " robot text PRIMARY KEY,"
    " node text NOT NULL,"
    " run text NOT NULL,"
    " alert_id text,"
    " since timestamptz NOT NULL DEFAULT now())",
    NULL,
};

/* the fleet's history: every node's runs, their evidence files and the approvals, so any
 * node's pages show (and approve) a run of any node */
static const char *const MIGRATE_4[] = {
    "CREATE TABLE vagt_run ("
    " id bigserial PRIMARY KEY,"
    " node text NOT NULL,"
    " local_id bigint NOT NULL," /* the run's id in its node's own history */
    " robot text NOT NULL,"
    " trigger text NOT NULL DEFAULT '',"
    " status text NOT NULL,"
    " exit_code integer,"
    " started double precision NOT NULL," /* Unix seconds, by the node's (agent's) clock */
    " finished double precision,"
    " steps integer NOT NULL DEFAULT 0,"
    " error text NOT NULL DEFAULT '',"
    " run_dir text NOT NULL DEFAULT '',"
    " alert_id text,"
    " approved double precision,"
    " approve_result text,"
    " UNIQUE (node, local_id))",
    "CREATE INDEX vagt_run_robot ON vagt_run (robot, id)",
    "CREATE INDEX vagt_run_alert ON vagt_run (alert_id)",
    "CREATE TABLE vagt_run_file ("
    " run bigint NOT NULL REFERENCES vagt_run ON DELETE CASCADE,"
    " name text NOT NULL,"
    " content bytea NOT NULL,"
    " PRIMARY KEY (run, name))",
    /* the audit trail of baselines: kept when retention deletes the run */
    "CREATE TABLE vagt_approval ("
    " id bigserial PRIMARY KEY,"
    " run bigint NOT NULL,"
    " robot text NOT NULL,"
    " step text NOT NULL DEFAULT '',"
    " by_op text NOT NULL,"
    " at double precision NOT NULL,"
    " state text NOT NULL,"
    " changed text,"
    " node text NOT NULL)",
    "CREATE INDEX vagt_approval_run ON vagt_approval (run, id)",
    "CREATE INDEX vagt_approval_robot ON vagt_approval (robot, id)",
    /* the robots' scripts: the digest each node deployed last; the highest version is the
   * fleet's, and a node whose unchanged script is older runs nothing */
    "CREATE TABLE vagt_script ("
    " robot text NOT NULL,"
    " version integer NOT NULL,"
    " digest text NOT NULL,"
    " node text NOT NULL,"
    " published_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (robot, version))",
    NULL,
};

/* Every node name belongs to one state folder (its agent's random instance id, kept in
 * STATE/fleet/node-id): two folders under one name would overwrite each other's runs. */
static const char *const MIGRATE_5[] = {
    "CREATE TABLE vagt_node ("
    " name text PRIMARY KEY,"
    " instance text NOT NULL,"
    " registered_at timestamptz NOT NULL DEFAULT now(),"
    " last_seen timestamptz NOT NULL DEFAULT now())",
    NULL,
};

/* MIGRATIONS[v] takes a database at version v-1 to version v. */
static const char *const *const MIGRATIONS[AG_PG_SCHEMA_VERSION + 1] = {
    NULL, MIGRATE_1, MIGRATE_2, MIGRATE_3, MIGRATE_4, MIGRATE_5};

/* ---- errors and statements -------------------------------------------------------------- */

void agpg_seterr(ag_pg *pg, const char *op, const char *fmt, ...)
{
  int n = snprintf(pg->err, sizeof pg->err, "%s: ", op);
  if (n < 0 || (size_t)n >= sizeof pg->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pg->err + n, sizeof pg->err - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = strlen(pg->err); /* libpq's messages end in newlines */
  while (len > 0 && (pg->err[len - 1] == '\n' || pg->err[len - 1] == ' '))
    pg->err[--len] = 0;
  for (char *p = pg->err; *p; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
}

const char *ag_pg_error(const ag_pg *pg)
{
  return pg ? pg->err : "";
}
int ag_pg_reconnects(const ag_pg *pg)
{
  return pg ? pg->reconnects : 0;
}

static void nap_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static bool is_retryable(const char *state)
{
  /* serialization failure, deadlock */
  return state && (!strcmp(state, "40001") || !strcmp(state, "40P01"));
}

static bool is_disconnect(const char *state)
{
  /* admin shutdown, crash shutdown, cannot connect now; class 08: connection exception */
  return state && (!strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03") ||
                   !strncmp(state, "08", 2));
}

/* Executes one parameterised statement once. NULL on failure with pg->err set and the
 * SQLSTATE copied into sqlstate (empty when there was none, e.g. a lost connection). Only
 * the primary message is kept: details may quote values. */
PGresult *agpg_raw(ag_pg *pg, const char *op, const char *sql, int n, const char *const *vals,
                   char sqlstate[6])
{
  sqlstate[0] = 0;
  PGresult *r = PQexecParams(pg->conn, sql, n, NULL, vals, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return r;
  const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (code)
    snprintf(sqlstate, 6, "%s", code);
  if (msg)
    agpg_seterr(pg, op, "%s (SQLSTATE %s)", msg, code ? code : "?");
  else
    agpg_seterr(pg, op, "%s", PQerrorMessage(pg->conn));
  PQclear(r);
  return NULL;
}

static int check_schema(ag_pg *pg, const char *op);
static int newer(ag_pg *pg, const char *op, int v);

/* After a failure: true when the connection was broken and is now reset (retry the
 * operation), once per operation. */
static bool reconnect(ag_pg *pg, const char *op, const char *sqlstate)
{
  if (PQstatus(pg->conn) != CONNECTION_BAD && !is_disconnect(sqlstate))
    return false;
  if (pg->reset_tried)
    return false;
  pg->reset_tried = true;
  PQreset(pg->conn);
  if (PQstatus(pg->conn) != CONNECTION_OK) {
    agpg_seterr(pg, op, "the connection broke and reconnecting failed: %s",
                PQerrorMessage(pg->conn));
    return false;
  }
  pg->reconnects++;
  /* another node may have upgraded the schema meanwhile (not while migrating it) */
  if (!pg->migrating && check_schema(pg, op) != AG_PG_OK)
    return false;
  return true;
}

static void rollback(ag_pg *pg)
{
  PGTransactionStatusType ts = PQtransactionStatus(pg->conn);
  if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
    PQclear(PQexec(pg->conn, "ROLLBACK"));
}

/* One autocommitted statement, retried once after a reconnection and a few times after a
 * serialization failure or deadlock. */
PGresult *agpg_exec1(ag_pg *pg, const char *op, const char *sql, int n, const char *const *vals)
{
  for (int tries = 0;; tries++) {
    char st[6];
    PGresult *r = agpg_raw(pg, op, sql, n, vals, st);
    if (r)
      return r;
    if (reconnect(pg, op, st))
      continue;
    if (is_retryable(st) && tries < 5) {
      nap_ms(5L << tries);
      continue;
    }
    return NULL;
  }
}

/* Runs an "insert, or read the row that won" statement (WITH ins AS (INSERT ... ON CONFLICT
 * DO NOTHING RETURNING ...) SELECT ... FROM ins UNION ALL SELECT ... WHERE NOT EXISTS ins).
 * The loser of a race for the insert waits for the winner's commit, does nothing, and reads
 * no row: its statement's snapshot predates that commit. The next statement sees the row,
 * so it is tried again, up to three times. The result (no row only when every try read
 * none), or NULL on error. */
static PGresult *exec_insert_or_winner(ag_pg *pg, const char *op, const char *sql, int n,
                                       const char *const *vals)
{
  PGresult *r = NULL;
  for (int tries = 0; tries < 3; tries++) {
    PQclear(r);
    if (!(r = agpg_exec1(pg, op, sql, n, vals)) || PQntuples(r) > 0)
      break;
  }
  return r;
}

/* What a transaction's body returns: TX_OK to commit, TX_FAIL after a failed statement
 * (sqlstate in st: rolled back, then retried when the connection was reset or the failure
 * was a serialization failure or deadlock), or an AG_PG_ code to roll back and return. */

/* Runs body in one transaction (BEGIN ... COMMIT), retried as a whole: AG_PG_ERR when it
 * cannot be done. */
int agpg_in_tx(ag_pg *pg, const char *op, tx_body body, void *arg)
{
  for (int tries = 0;; tries++) {
    char st[6] = "";
    PGresult *r = agpg_raw(pg, op, "BEGIN", 0, NULL, st);
    int rc = TX_FAIL;
    if (r) {
      PQclear(r);
      rc = body(pg, op, arg, st);
    }
    if (rc == TX_OK) {
      if ((r = agpg_raw(pg, op, "COMMIT", 0, NULL, st))) {
        PQclear(r);
        return AG_PG_OK;
      }
      rc = TX_FAIL;
    }
    rollback(pg);
    if (rc != TX_FAIL)
      return rc;
    if (reconnect(pg, op, st) || (is_retryable(st) && tries < 5))
      continue;
    return AG_PG_ERR;
  }
}

/* Starts an operation: AG_PG_NEWER once a newer schema was seen (until reopened). */
int agpg_begin_op(ag_pg *pg, const char *op)
{
  pg->err[0] = 0;
  pg->reset_tried = false;
  if (pg->newer)
    return newer(pg, op, pg->newer);
  return AG_PG_OK;
}

/* The code of a failed operation. */
int agpg_failed(const ag_pg *pg)
{
  return pg->newer ? AG_PG_NEWER : AG_PG_ERR;
}

/* ---- connecting and migrating ------------------------------------------------------------ */

static void quiet(void *arg, const char *msg)
{
  (void)arg;
  (void)msg;
}

/* Reads the first line of an owner-only regular file (not a symlink). */
static int read_password(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "connect: password_file %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    snprintf(err, errlen, "connect: password_file %s: not a regular file", path);
    close(fd);
    return -1;
  }
  if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
    snprintf(err, errlen,
             "connect: password_file %s must be owner-only (chmod 600) and "
             "owned by this user",
             path);
    close(fd);
    return -1;
  }
  ssize_t n = read(fd, out, outlen - 1);
  close(fd);
  if (n < 0) {
    snprintf(err, errlen, "connect: password_file %s: %s", path, strerror(errno));
    return -1;
  }
  out[n] = 0;
  out[strcspn(out, "\r\n")] = 0;
  if (!out[0]) {
    snprintf(err, errlen, "connect: password_file %s is empty", path);
    return -1;
  }
  return 0;
}

int ag_pg_password_check(const char *path, char *err, size_t errlen)
{
  char pw[1024];
  int rc = read_password(path, pw, sizeof pw, err, errlen);
  memset(pw, 0, sizeof pw);
  return rc;
}

/* Reads the schema version (0 when there is no schema table yet). -1 on error. */
static int schema_version(ag_pg *pg, const char *op, int *v)
{
  char st[6];
  PGresult *r = agpg_raw(pg, op, "SELECT to_regclass('vagt_schema') IS NOT NULL", 0, NULL, st);
  if (!r)
    return -1;
  bool exists = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  *v = 0;
  if (!exists)
    return 0;
  r = agpg_raw(pg, op, "SELECT version FROM vagt_schema WHERE id = 1", 0, NULL, st);
  if (!r)
    return -1;
  if (PQntuples(r) == 1)
    *v = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

static int newer(ag_pg *pg, const char *op, int v)
{
  agpg_seterr(pg, op,
              "the database's schema version %d is newer than this agent's (%d): "
              "upgrade vagt on this node",
              v, AG_PG_SCHEMA_VERSION);
  return AG_PG_NEWER;
}

static int check_schema(ag_pg *pg, const char *op)
{
  int v;
  if (schema_version(pg, op, &v) != 0)
    return AG_PG_ERR;
  if (v > AG_PG_SCHEMA_VERSION) {
    pg->newer = v;
    return newer(pg, op, v);
  }
  if (v < AG_PG_SCHEMA_VERSION) {
    agpg_seterr(pg, op, "the database's schema version %d is older than this agent's (%d)", v,
                AG_PG_SCHEMA_VERSION);
    return AG_PG_ERR;
  }
  return AG_PG_OK;
}

/* Creates or upgrades the schema in one transaction under the schema's advisory lock, so
 * agents starting at once migrate once. */
static int migrate_tx(ag_pg *pg, const char *op, void *arg, char st[6])
{
  (void)arg;
  int v = 0;
  const char *lock[] = {SCHEMA_LOCK};
  PGresult *r = agpg_raw(pg, op, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, st);
  if (!r)
    return TX_FAIL;
  PQclear(r);
  if (!(r = agpg_raw(pg, op,
                     "CREATE TABLE IF NOT EXISTS vagt_schema ("
                     " id integer PRIMARY KEY CHECK (id = 1),"
                     " version integer NOT NULL,"
                     " upgraded_at timestamptz NOT NULL DEFAULT now())",
                     0, NULL, st)))
    return TX_FAIL;
  PQclear(r);
  if (schema_version(pg, op, &v) != 0)
    return TX_FAIL;
  if (v > AG_PG_SCHEMA_VERSION)
    return newer(pg, op, v);
  for (int k = v + 1; k <= AG_PG_SCHEMA_VERSION; k++)
    for (const char *const *q = MIGRATIONS[k]; *q; q++) {
      if (!(r = agpg_raw(pg, op, *q, 0, NULL, st)))
        return TX_FAIL;
      PQclear(r);
    }
  if (v < AG_PG_SCHEMA_VERSION) {
    char ver[16];
    snprintf(ver, sizeof ver, "%d", AG_PG_SCHEMA_VERSION);
    const char *p[] = {ver};
    if (!(r = agpg_raw(pg, op,
                       "INSERT INTO vagt_schema (id, version) VALUES (1, $1::integer)"
                       " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,"
                       " upgraded_at = now()",
                       1, p, st)))
      return TX_FAIL;
    PQclear(r);
  }
  return TX_OK;
}

static int migrate(ag_pg *pg)
{
  return agpg_in_tx(pg, "schema", migrate_tx, NULL);
}

ag_pg *ag_pg_open(const ag_pg_opts *o, int *code, char *err, size_t errlen)
{
  int dummy;
  if (!code)
    code = &dummy;
  *code = AG_PG_ERR;
  if (!o || !o->conninfo || !o->node || !o->node[0]) {
    snprintf(err, errlen, "connect: conninfo and node are required");
    *code = AG_PG_CONFIG;
    return NULL;
  }
  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse(o->conninfo, &perr);
  if (!opts) {
    /* libpq's message names the problem, not the values */
    snprintf(err, errlen, "connect: database address: %s", perr ? perr : "not valid");
    size_t l = strlen(err);
    while (l && err[l - 1] == '\n')
      err[--l] = 0;
    PQfreemem(perr);
    *code = AG_PG_CONFIG;
    return NULL;
  }
  bool has_pw = false;
  for (PQconninfoOption *p = opts; p->keyword; p++)
    if (!strcmp(p->keyword, "password") && p->val && p->val[0])
      has_pw = true;
  PQconninfoFree(opts);
  if (has_pw) {
    snprintf(err, errlen,
             "connect: the database address holds a password: remove it and "
             "use password_file, PGPASSFILE or ~/.pgpass");
    *code = AG_PG_CONFIG;
    return NULL;
  }
  char pw[1024] = "";
  if (o->password_file && read_password(o->password_file, pw, sizeof pw, err, errlen) != 0) {
    *code = AG_PG_CONFIG;
    return NULL;
  }
  char timeout[16];
  snprintf(timeout, sizeof timeout, "%d", o->connect_timeout > 0 ? o->connect_timeout : 10);
  /* dbname first: expanded, its settings come before (and yield to) the ones after it */
  const char *keys[] = {"dbname", "connect_timeout", "application_name", "password", NULL};
  const char *vals[] = {o->conninfo, timeout, "vagt-agent", pw[0] ? pw : NULL, NULL};
  if (!pw[0])
    keys[3] = NULL;
  PGconn *conn = PQconnectdbParams(keys, vals, 1);
  explicit_bzero(pw, sizeof pw);
  if (!conn) {
    snprintf(err, errlen, "connect: out of memory");
    return NULL;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "connect: %s", PQerrorMessage(conn));
    size_t l = strlen(err);
    while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
      err[--l] = 0;
    for (char *p = err; *p; p++)
      if (*p == '\n' || *p == '\t')
        *p = ' ';
    PQfinish(conn);
    return NULL;
  }
  PQsetNoticeProcessor(conn, quiet, NULL);
  PQsetErrorVerbosity(conn, PQERRORS_TERSE);
  ag_pg *pg = calloc(1, sizeof *pg);
  if (!pg) {
    PQfinish(conn);
    snprintf(err, errlen, "connect: out of memory");
    return NULL;
  }
  pg->conn = conn;
  snprintf(pg->node, sizeof pg->node, "%s", o->node);
  agpg_begin_op(pg, "schema");
  pg->migrating = true;
  int rc = migrate(pg);
  pg->migrating = false;
  if (rc != AG_PG_OK) {
    *code = rc;
    snprintf(err, errlen, "%s", pg->err);
    ag_pg_close(pg);
    return NULL;
  }
  *code = AG_PG_OK;
  return pg;
}

void ag_pg_close(ag_pg *pg)
{
  if (!pg)
    return;
  PQfinish(pg->conn);
  free(pg);
}

/* ---- work items --------------------------------------------------------------------------- */

typedef struct {
  const char *batch;
  const ag_pg_item_in *items;
  size_t n, count;
  const char *maxa;
} enqueue_arg;

static int enqueue_tx(ag_pg *pg, const char *op, void *arg, char st[6])
{
  enqueue_arg *a = arg;
  a->count = 0;
  for (size_t i = 0; i < a->n; i++) {
    char seq[16];
    snprintf(seq, sizeof seq, "%d", a->items[i].seq);
    const char *p[] = {a->batch, a->items[i].key, seq, a->items[i].payload, a->maxa};
    PGresult *r = agpg_raw(pg, op,
                           "INSERT INTO vagt_items (batch, key, seq, payload, max_attempts)"
                           " VALUES ($1, $2, $3::integer, $4, $5::integer)"
                           " ON CONFLICT (batch, key) DO NOTHING",
                           5, p, st);
    if (!r)
      return TX_FAIL;
    a->count += (size_t)atol(PQcmdTuples(r));
    PQclear(r);
  }
  return TX_OK;
}

int ag_pg_enqueue(ag_pg *pg, const char *batch, const ag_pg_item_in *items, size_t n,
                  int max_attempts, size_t *added)
{
  int rc0 = agpg_begin_op(pg, "enqueue");
  if (rc0 != AG_PG_OK)
    return rc0;
  if (added)
    *added = 0;
  char maxa[16];
  snprintf(maxa, sizeof maxa, "%d", max_attempts > 0 ? max_attempts : 3);
  enqueue_arg a = {batch, items, n, 0, maxa};
  int rc = agpg_in_tx(pg, "enqueue", enqueue_tx, &a);
  if (rc == AG_PG_OK && added)
    *added = a.count;
  return rc == AG_PG_ERR ? agpg_failed(pg) : rc;
}

int ag_pg_expire(ag_pg *pg, const char *batch, int *n)
{
  int rc0 = agpg_begin_op(pg, "expire");
  if (rc0 != AG_PG_OK)
    return rc0;
  if (n)
    *n = 0;
  const char *p[] = {batch};
  PGresult *r = agpg_exec1(
      pg, "expire",
      "WITH exp AS ("
      "  SELECT id FROM vagt_items"
      "   WHERE state = 'claimed' AND lease_until <= now() AND ($1::text IS NULL OR batch = $1)"
      "   FOR UPDATE SKIP LOCKED),"
      " u AS ("
      "  UPDATE vagt_items i SET"
      "   state = CASE WHEN i.input_sent_at IS NOT NULL THEN 'needs_review'"
      "                WHEN i.attempts >= i.max_attempts THEN 'failed' ELSE 'pending' END,"
      "   reason = CASE WHEN i.input_sent_at IS NOT NULL THEN"
      "                  'the lease ran out after input was sent: may be partly done, check it'"
      "                WHEN i.attempts >= i.max_attempts THEN 'attempts exhausted'"
      "                ELSE i.reason END,"
      "   lease_until = NULL, updated_at = now()"
      "  FROM exp WHERE i.id = exp.id"
      "  RETURNING i.claim, i.state)"
      " UPDATE vagt_claims c SET released_at = now(), outcome = 'expired: ' || u.state"
      " FROM u WHERE c.id = u.claim",
      1, p);
  if (!r)
    return agpg_failed(pg);
  if (n)
    *n = atoi(PQcmdTuples(r));
  PQclear(r);
  return AG_PG_OK;
}

/* Columns from col on: id, claim, seq, attempts, key, payload, seconds of lease left. */
static void read_held(PGresult *r, int col, ag_pg_held *c)
{
  memset(c, 0, sizeof *c);
  c->item = atoll(PQgetvalue(r, 0, col));
  c->claim = atoll(PQgetvalue(r, 0, col + 1));
  c->seq = atoi(PQgetvalue(r, 0, col + 2));
  c->attempt = atoi(PQgetvalue(r, 0, col + 3));
  snprintf(c->key, sizeof c->key, "%s", PQgetvalue(r, 0, col + 4));
  snprintf(c->payload, sizeof c->payload, "%s", PQgetvalue(r, 0, col + 5));
  c->lease_left = strtod(PQgetvalue(r, 0, col + 6), NULL);
}

static int claim_once(ag_pg *pg, const char *batch, const char *run, const char *lease,
                      ag_pg_held *c)
{
  const char *p[] = {batch, pg->node, run, lease};
  PGresult *r =
      agpg_exec1(pg, "claim",
                 "WITH pick AS ("
                 "  SELECT id FROM vagt_items"
                 "   WHERE batch = $1 AND state = 'pending'"
                 "   ORDER BY seq, id LIMIT 1"
                 "   FOR UPDATE SKIP LOCKED),"
                 " upd AS ("
                 "  UPDATE vagt_items i SET state = 'claimed', attempts = i.attempts + 1,"
                 "   claim = nextval('vagt_claims_id_seq'), node = $2, run = $3, step = NULL,"
                 "   input_sent_at = NULL, reason = NULL,"
                 "   lease_until = now() + make_interval(secs => $4::float8), updated_at = now()"
                 "  FROM pick WHERE i.id = pick.id"
                 "  RETURNING i.id, i.claim, i.seq, i.attempts, i.key, i.payload, i.node, i.run,"
                 "   i.lease_until),"
                 " log AS ("
                 "  INSERT INTO vagt_claims (id, item, node, run, attempt, claimed_at, lease_until)"
                 "  SELECT claim, id, node, run, attempts, now(), lease_until FROM upd)"
                 " SELECT id, claim, seq, attempts, key, coalesce(payload, ''),"
                 "  extract(epoch FROM lease_until - now()) FROM upd",
                 4, p);
  if (!r)
    return agpg_failed(pg);
  if (PQntuples(r) == 0) {
    PQclear(r);
    return AG_PG_NONE;
  }
  read_held(r, 0, c);
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_claim(ag_pg *pg, const char *batch, const char *run, double lease_s, ag_pg_held *c)
{
  if (!batch || !run || lease_s <= 0) {
    agpg_seterr(pg, "claim", "batch, run and a positive lease are required");
    return agpg_failed(pg);
  }
  char lease[32];
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  double now = vu_mono();
  bool swept = false;
  int rc;
  if (now >= pg->next_sweep) {
    if ((rc = ag_pg_expire(pg, batch, NULL)) != AG_PG_OK)
      return rc;
    double every = lease_s / 2 < 1.0 ? lease_s / 2 : 1.0;
    pg->next_sweep = now + every;
    swept = true;
  }
  if ((rc = agpg_begin_op(pg, "claim")) != AG_PG_OK)
    return rc;
  rc = claim_once(pg, batch, run, lease, c);
  if (rc == AG_PG_NONE && !swept) {
    /* nothing pending: a lease that ran out since the last sweep may have freed one */
    if ((rc = ag_pg_expire(pg, batch, NULL)) != AG_PG_OK)
      return rc;
    pg->next_sweep = vu_mono() + (lease_s / 2 < 1.0 ? lease_s / 2 : 1.0);
    if ((rc = agpg_begin_op(pg, "claim")) != AG_PG_OK)
      return rc;
    rc = claim_once(pg, batch, run, lease, c);
  }
  return rc;
}

/* Runs a statement that returns one row while the claim holds, none when it is lost. */
static int on_claim(ag_pg *pg, const char *op, const char *sql, int n, const char *const *p)
{
  PGresult *r = agpg_exec1(pg, op, sql, n, p);
  if (!r)
    return agpg_failed(pg);
  int rows = PQntuples(r);
  PQclear(r);
  return rows > 0 ? AG_PG_OK : AG_PG_LOST;
}

int ag_pg_renew(ag_pg *pg, const ag_pg_held *c, double lease_s)
{
  int rc0 = agpg_begin_op(pg, "renew");
  if (rc0 != AG_PG_OK)
    return rc0;
  char item[24], claim[24], lease[32];
  snprintf(item, sizeof item, "%lld", c->item);
  snprintf(claim, sizeof claim, "%lld", c->claim);
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  const char *p[] = {item, claim, lease};
  int rc =
      on_claim(pg, "renew",
               "WITH u AS ("
               "  UPDATE vagt_items SET lease_until = now() + make_interval(secs => $3::float8),"
               "   updated_at = now()"
               "  WHERE id = $1::bigint AND claim = $2::bigint AND state = 'claimed'"
               "   AND lease_until > now()"
               "  RETURNING claim, lease_until)"
               " UPDATE vagt_claims c SET lease_until = u.lease_until FROM u WHERE c.id = u.claim"
               " RETURNING c.id",
               3, p);
  if (rc == AG_PG_LOST)
    agpg_seterr(pg, "renew", "the lease of item %lld ran out or was taken over", c->item);
  return rc;
}

int ag_pg_input_sent(ag_pg *pg, const ag_pg_held *c, const char *step)
{
  int rc0 = agpg_begin_op(pg, "input sent");
  if (rc0 != AG_PG_OK)
    return rc0;
  char item[24], claim[24];
  snprintf(item, sizeof item, "%lld", c->item);
  snprintf(claim, sizeof claim, "%lld", c->claim);
  const char *p[] = {item, claim, step};
  int rc = on_claim(
      pg, "input sent",
      "WITH u AS ("
      "  UPDATE vagt_items SET input_sent_at = coalesce(input_sent_at, now()),"
      "   step = coalesce($3, step), updated_at = now()"
      "  WHERE id = $1::bigint AND claim = $2::bigint AND state = 'claimed'"
      "   AND lease_until > now()"
      "  RETURNING claim, input_sent_at)"
      " UPDATE vagt_claims c SET input_sent_at = u.input_sent_at FROM u WHERE c.id = u.claim"
      " RETURNING c.id",
      3, p);
  if (rc == AG_PG_LOST)
    agpg_seterr(pg, "input sent", "the lease of item %lld ran out or was taken over: send nothing",
                c->item);
  return rc;
}

int ag_pg_complete(ag_pg *pg, const ag_pg_held *c, bool done, const char *reason)
{
  int rc0 = agpg_begin_op(pg, "complete");
  if (rc0 != AG_PG_OK)
    return rc0;
  char item[24], claim[24];
  snprintf(item, sizeof item, "%lld", c->item);
  snprintf(claim, sizeof claim, "%lld", c->claim);
  const char *state = done ? "done" : "failed";
  if (!done && (!reason || !reason[0]))
    reason = "failed";
  const char *p[] = {item, claim, state, done ? NULL : reason};
  int rc = on_claim(
      pg, "complete",
      "WITH u AS ("
      "  UPDATE vagt_items SET state = $3,"
      "   reason = CASE WHEN $4::text IS NULL THEN NULL"
      "                 WHEN length(key) >= 4 THEN left(replace($4::text, key, '[key]'), 500)"
      "                 ELSE left($4::text, 500) END,"
      "   lease_until = NULL, updated_at = now()"
      "  WHERE id = $1::bigint AND claim = $2::bigint AND state = 'claimed'"
      "  RETURNING claim)"
      " UPDATE vagt_claims c SET released_at = now(), outcome = $3 FROM u WHERE c.id = u.claim"
      " RETURNING c.id",
      4, p);
  if (rc != AG_PG_LOST)
    return rc;
  /* Repeated (e.g. the first reply was lost with the connection): already so? */
  const char *q[] = {item, claim};
  PGresult *r =
      agpg_exec1(pg, "complete",
                 "SELECT state FROM vagt_items WHERE id = $1::bigint AND claim = $2::bigint", 2, q);
  if (!r)
    return agpg_failed(pg);
  bool same = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), state);
  PQclear(r);
  if (same)
    return AG_PG_OK;
  agpg_seterr(pg, "complete", "item %lld is no longer this claim's (its lease ran out)", c->item);
  return AG_PG_LOST;
}

int ag_pg_complete_claim(ag_pg *pg, ag_pg_held *c, bool done, const char *reason, const char *batch,
                         const char *run, double lease_s)
{
  int rc = agpg_begin_op(pg, "complete");
  if (rc != AG_PG_OK)
    return rc;
  if (!batch || !run || lease_s <= 0) {
    agpg_seterr(pg, "complete", "batch, run and a positive lease are required");
    return agpg_failed(pg);
  }
  double now = vu_mono();
  if (now >= pg->next_sweep) {
    if ((rc = ag_pg_expire(pg, batch, NULL)) != AG_PG_OK)
      return rc;
    pg->next_sweep = now + (lease_s / 2 < 1.0 ? lease_s / 2 : 1.0);
    if ((rc = agpg_begin_op(pg, "complete")) != AG_PG_OK)
      return rc;
  }
  char item[24], claim[24], lease[32];
  snprintf(item, sizeof item, "%lld", c->item);
  snprintf(claim, sizeof claim, "%lld", c->claim);
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  const char *state = done ? "done" : "failed";
  if (!done && (!reason || !reason[0]))
    reason = "failed";
  const char *p[] = {item, claim, state, done ? NULL : reason, batch, pg->node, run, lease};
  PGresult *r = agpg_exec1(
      pg, "complete",
      "WITH fin AS ("
      "  UPDATE vagt_items SET state = $3,"
      "   reason = CASE WHEN $4::text IS NULL THEN NULL"
      "                 WHEN length(key) >= 4 THEN left(replace($4::text, key, '[key]'), 500)"
      "                 ELSE left($4::text, 500) END,"
      "   lease_until = NULL, updated_at = now()"
      "  WHERE id = $1::bigint AND claim = $2::bigint AND state = 'claimed'"
      "  RETURNING claim),"
      " finlog AS ("
      "  UPDATE vagt_claims c SET released_at = now(), outcome = $3 FROM fin WHERE c.id = "
      "fin.claim),"
      " pick AS ("
      "  SELECT id FROM vagt_items"
      "   WHERE batch = $5 AND state = 'pending' AND EXISTS (SELECT 1 FROM fin)"
      "   ORDER BY seq, id LIMIT 1"
      "   FOR UPDATE SKIP LOCKED),"
      " upd AS ("
      "  UPDATE vagt_items i SET state = 'claimed', attempts = i.attempts + 1,"
      "   claim = nextval('vagt_claims_id_seq'), node = $6, run = $7, step = NULL,"
      "   input_sent_at = NULL, reason = NULL,"
      "   lease_until = now() + make_interval(secs => $8::float8), updated_at = now()"
      "  FROM pick WHERE i.id = pick.id"
      "  RETURNING i.id, i.claim, i.seq, i.attempts, i.key, i.payload, i.node, i.run,"
      "   i.lease_until),"
      " log AS ("
      "  INSERT INTO vagt_claims (id, item, node, run, attempt, claimed_at, lease_until)"
      "  SELECT claim, id, node, run, attempts, now(), lease_until FROM upd)"
      " SELECT (SELECT count(*) FROM fin), upd.id, upd.claim, upd.seq, upd.attempts, upd.key,"
      "  coalesce(upd.payload, ''), extract(epoch FROM upd.lease_until - now())"
      " FROM (SELECT 1) one LEFT JOIN upd ON true",
      8, p);
  if (!r)
    return agpg_failed(pg);
  bool completed = atoi(PQgetvalue(r, 0, 0)) > 0, next = !PQgetisnull(r, 0, 1);
  if (next)
    read_held(r, 1, c);
  PQclear(r);
  if (next)
    return AG_PG_OK;
  if (!completed) {
    /* a repeat (the first reply lost with the connection), or no longer this claim's */
    const char *q[] = {item, claim};
    r = agpg_exec1(pg, "complete",
                   "SELECT state FROM vagt_items WHERE id = $1::bigint AND claim = $2::bigint", 2,
                   q);
    if (!r)
      return agpg_failed(pg);
    bool same = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), state);
    PQclear(r);
    if (!same) {
      agpg_seterr(pg, "complete", "item %lld is no longer this claim's (its lease ran out)",
                  c->item);
      return AG_PG_LOST;
    }
  }
  /* nothing pending in that snapshot: the plain claim, which settles expired leases */
  return ag_pg_claim(pg, batch, run, lease_s, c);
}

int ag_pg_release(ag_pg *pg, const ag_pg_held *c, const char *reason, bool *review)
{
  int rc0 = agpg_begin_op(pg, "release");
  if (rc0 != AG_PG_OK)
    return rc0;
  char item[24], claim[24];
  snprintf(item, sizeof item, "%lld", c->item);
  snprintf(claim, sizeof claim, "%lld", c->claim);
  const char *p[] = {item, claim, reason && *reason ? reason : "released"};
  PGresult *r = agpg_exec1(
      pg, "release",
      "WITH u AS ("
      "  UPDATE vagt_items SET"
      "   state = CASE WHEN input_sent_at IS NOT NULL THEN 'needs_review' ELSE 'pending' END,"
      "   attempts = CASE WHEN input_sent_at IS NOT NULL THEN attempts"
      "                   ELSE greatest(attempts - 1, 0) END,"
      "   reason = CASE WHEN input_sent_at IS NOT NULL THEN"
      "     left($3::text || ' after input was sent: may be partly done, check it', 500)"
      "     ELSE reason END,"
      "   lease_until = NULL, updated_at = now()"
      "  WHERE id = $1::bigint AND claim = $2::bigint AND state = 'claimed'"
      "  RETURNING claim, state)"
      " UPDATE vagt_claims c SET released_at = now(), outcome = 'released: ' || u.state"
      " FROM u WHERE c.id = u.claim RETURNING u.state",
      3, p);
  if (!r)
    return agpg_failed(pg);
  int rows = PQntuples(r);
  if (review)
    *review = rows > 0 && !strcmp(PQgetvalue(r, 0, 0), "needs_review");
  PQclear(r);
  if (rows > 0)
    return AG_PG_OK;
  agpg_seterr(pg, "release", "item %lld is no longer this claim's (its lease ran out)", c->item);
  return AG_PG_LOST;
}

int ag_pg_meta_agree(ag_pg *pg, const char *name, const char *value, bool *same, char *holder,
                     size_t holder_len)
{
  int rc0 = agpg_begin_op(pg, "settings");
  if (rc0 != AG_PG_OK)
    return rc0;
  *same = false;
  if (holder_len)
    holder[0] = 0;
  const char *p[] = {name, value, pg->node};
  PGresult *r = exec_insert_or_winner(pg, "settings",
                                      "WITH ins AS (INSERT INTO vagt_meta (name, value, node)"
                                      " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                                      " RETURNING value, node)"
                                      " SELECT value, node FROM ins"
                                      " UNION ALL SELECT value, node FROM vagt_meta"
                                      "  WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM ins)",
                                      3, p);
  if (!r)
    return agpg_failed(pg);
  bool found = PQntuples(r) > 0;
  if (found) {
    *same = !strcmp(PQgetvalue(r, 0, 0), value);
    if (holder_len)
      snprintf(holder, holder_len, "%s", PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  if (found)
    return AG_PG_OK;
  agpg_seterr(pg, "settings", "%s neither recorded nor readable", name);
  return AG_PG_ERR;
}

int ag_pg_retry_failed(ag_pg *pg, const char *batch, const char *run, long long *n)
{
  int rc0 = agpg_begin_op(pg, "retry");
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {batch, pg->node, run};
  PGresult *r =
      agpg_exec1(pg, "retry",
                 "UPDATE vagt_items SET state = 'pending', attempts = 0, reason = NULL,"
                 " lease_until = NULL, updated_at = now()"
                 " WHERE batch = $1 AND state = 'failed'"
                 " AND NOT (node IS NOT DISTINCT FROM $2 AND run IS NOT DISTINCT FROM $3)",
                 3, p);
  if (!r)
    return agpg_failed(pg);
  if (n)
    *n = atoll(PQcmdTuples(r));
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_need_person(ag_pg *pg, const char *batch, ag_pg_person_fn fn, void *ud)
{
  int rc0 = agpg_begin_op(pg, "items for a person");
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {batch};
  PGresult *r =
      agpg_exec1(pg, "items for a person",
                 "SELECT seq, state, coalesce(node, ''), coalesce(run, '')"
                 " FROM vagt_items WHERE batch = $1 AND state IN ('failed', 'needs_review')"
                 " ORDER BY seq, id",
                 1, p);
  if (!r)
    return agpg_failed(pg);
  for (int i = 0; i < PQntuples(r); i++)
    fn(ud, atoi(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
       PQgetvalue(r, i, 3));
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_counts_get(ag_pg *pg, const char *batch, ag_pg_counts *out)
{
  int rc0 = agpg_begin_op(pg, "counts");
  if (rc0 != AG_PG_OK)
    return rc0;
  memset(out, 0, sizeof *out);
  const char *p[] = {batch};
  PGresult *r = agpg_exec1(
      pg, "counts", "SELECT state, count(*) FROM vagt_items WHERE batch = $1 GROUP BY state", 1, p);
  if (!r)
    return agpg_failed(pg);
  for (int i = 0; i < PQntuples(r); i++) {
    const char *s = PQgetvalue(r, i, 0);
    long long k = atoll(PQgetvalue(r, i, 1));
    if (!strcmp(s, "pending"))
      out->pending = k;
    else if (!strcmp(s, "claimed"))
      out->claimed = k;
    else if (!strcmp(s, "done"))
      out->done = k;
    else if (!strcmp(s, "failed"))
      out->failed = k;
    else if (!strcmp(s, "needs_review"))
      out->needs_review = k;
    out->total += k;
  }
  PQclear(r);
  return AG_PG_OK;
}

/* ---- schedules ------------------------------------------------------------------------- */

int ag_pg_sched_claim(ag_pg *pg, const char *robot, long long scheduled, const char *trigger,
                      int spread, bool *won, char *holder, size_t holder_len)
{
  int rc0 = agpg_begin_op(pg, "schedule");
  if (rc0 != AG_PG_OK)
    return rc0;
  *won = false;
  if (holder_len)
    holder[0] = 0;
  char when[32], n[16];
  snprintf(when, sizeof when, "%lld", scheduled);
  snprintf(n, sizeof n, "%d", spread > 1 ? spread : 1);
  const char *p[] = {robot, when, trigger, pg->node, n};
  /* one statement: the insert of the first free slot wins (none for a node that holds one
   * already), or the nodes that won are read back; a race for the same slot is tried again
   * while slots are free */
  for (int tries = 0; tries < (spread > 1 ? spread : 1); tries++) {
    PGresult *r = agpg_exec1(
        pg, "schedule",
        "WITH free AS ("
        "  SELECT g AS slot FROM generate_series(1, $5::integer) g"
        "   WHERE NOT EXISTS (SELECT 1 FROM vagt_schedule s WHERE s.robot = $1"
        "                      AND s.scheduled = $2::bigint AND (s.slot = g OR s.node = $4))"
        "   ORDER BY g LIMIT 1),"
        " ins AS (INSERT INTO vagt_schedule (robot, scheduled, slot, trigger, node)"
        "  SELECT $1, $2::bigint, slot, $3, $4 FROM free ON CONFLICT DO NOTHING RETURNING node)"
        " SELECT node, true, 0 FROM ins"
        " UNION ALL SELECT string_agg(node, ', ' ORDER BY slot), false, count(*) FROM vagt_schedule"
        "  WHERE robot = $1 AND scheduled = $2::bigint AND NOT EXISTS (SELECT 1 FROM ins)"
        "  HAVING count(*) > 0",
        5, p);
    if (!r)
      return agpg_failed(pg);
    bool again = false;
    if (PQntuples(r) >= 1) {
      *won = !strcmp(PQgetvalue(r, 0, 1), "t");
      if (holder_len)
        snprintf(holder, holder_len, "%s", PQgetvalue(r, 0, 0));
      again = !*won && atoi(PQgetvalue(r, 0, 2)) < spread && !strstr(PQgetvalue(r, 0, 0), pg->node);
    } else {
      again = true; /* lost a race for the slot before any row was visible */
    }
    PQclear(r);
    if (!again)
      break;
  }
  return AG_PG_OK;
}

int ag_pg_seat_take(ag_pg *pg, const char *robot, int seats, const char *run, double lease_s,
                    int *seat)
{
  int rc0 = agpg_begin_op(pg, "seat");
  if (rc0 != AG_PG_OK)
    return rc0;
  char n[16], lease[32];
  snprintf(n, sizeof n, "%d", seats);
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  const char *p[] = {robot, n, pg->node, run, lease};
  for (int tries = 0; tries < 5; tries++) {
    PGresult *r = agpg_exec1(
        pg, "seat",
        "WITH free AS ("
        "  SELECT g AS seat FROM generate_series(1, $2::integer) g"
        "   WHERE NOT EXISTS (SELECT 1 FROM vagt_seat s WHERE s.robot = $1 AND s.seat = g"
        "                      AND s.lease_until > now())"
        "   ORDER BY g LIMIT 1)"
        " INSERT INTO vagt_seat (robot, seat, node, run, lease_until)"
        "  SELECT $1, seat, $3, $4, now() + make_interval(secs => $5::float8) FROM free"
        " ON CONFLICT (robot, seat) DO UPDATE SET node = excluded.node, run = excluded.run,"
        "  lease_until = excluded.lease_until WHERE vagt_seat.lease_until <= now()"
        " RETURNING seat, (SELECT count(*) FROM free)",
        5, p);
    if (!r)
      return agpg_failed(pg);
    int rows = PQntuples(r);
    if (rows == 1)
      *seat = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rows == 1)
      return AG_PG_OK;
    /* none free, or another node took the free one at the same moment: look again */
    const char *q[] = {robot, n};
    if (!(r = agpg_exec1(pg, "seat",
                         "SELECT count(*) FROM vagt_seat WHERE robot = $1"
                         " AND seat <= $2::integer AND lease_until > now()",
                         2, q)))
      return agpg_failed(pg);
    bool full = atoi(PQgetvalue(r, 0, 0)) >= seats;
    PQclear(r);
    if (full)
      return AG_PG_NONE;
  }
  return AG_PG_NONE;
}

int ag_pg_seat_renew(ag_pg *pg, const char *robot, int seat, const char *run, double lease_s)
{
  int rc0 = agpg_begin_op(pg, "seat");
  if (rc0 != AG_PG_OK)
    return rc0;
  char s[16], lease[32];
  snprintf(s, sizeof s, "%d", seat);
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  const char *p[] = {robot, s, pg->node, run, lease};
  int rc = on_claim(pg, "seat",
                    "UPDATE vagt_seat SET lease_until = now() + make_interval(secs => $5::float8)"
                    " WHERE robot = $1 AND seat = $2::integer AND node = $3 AND run = $4"
                    " RETURNING seat",
                    5, p);
  if (rc == AG_PG_LOST)
    agpg_seterr(pg, "seat", "seat %d is no longer this run's", seat);
  return rc;
}

int ag_pg_seat_release(ag_pg *pg, const char *robot, int seat, const char *run)
{
  int rc0 = agpg_begin_op(pg, "seat");
  if (rc0 != AG_PG_OK)
    return rc0;
  char s[16];
  snprintf(s, sizeof s, "%d", seat);
  const char *p[] = {robot, s, pg->node, run};
  PGresult *r = agpg_exec1(pg, "seat",
                           "DELETE FROM vagt_seat WHERE robot = $1 AND seat = $2::integer"
                           " AND node = $3 AND run = $4",
                           4, p);
  if (!r)
    return agpg_failed(pg);
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_sched_last(ag_pg *pg, const char *robot, long long *last)
{
  int rc0 = agpg_begin_op(pg, "schedule");
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {robot};
  PGresult *r =
      agpg_exec1(pg, "schedule", "SELECT max(scheduled) FROM vagt_schedule WHERE robot = $1", 1, p);
  if (!r)
    return agpg_failed(pg);
  int rc = AG_PG_NONE;
  if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
    *last = atoll(PQgetvalue(r, 0, 0));
    rc = AG_PG_OK;
  }
  PQclear(r);
  return rc;
}

int ag_pg_node_register(ag_pg *pg, const char *instance, char *since, size_t since_len)
{
  int rc0 = agpg_begin_op(pg, "node");
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {pg->node, instance};
  PGresult *r = agpg_exec1(
      pg, "node",
      "WITH ins AS (INSERT INTO vagt_node (name, instance) VALUES ($1, $2)"
      "  ON CONFLICT (name) DO UPDATE SET last_seen = now() WHERE vagt_node.instance = $2"
      "  RETURNING instance)"
      " SELECT (SELECT count(*) FROM ins),"
      "  (SELECT to_char(registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')"
      "   FROM vagt_node WHERE name = $1)",
      2, p);
  if (!r)
    return agpg_failed(pg);
  int rc = atoi(PQgetvalue(r, 0, 0)) == 1 ? AG_PG_OK : AG_PG_LOST;
  if (since_len)
    snprintf(since, since_len, "%s", PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
  PQclear(r);
  if (rc == AG_PG_LOST)
    agpg_seterr(pg, "node",
                "node name '%s' belongs to another state folder (registered %s): give every "
                "node its own `node` in its configuration",
                pg->node, since_len ? since : "before");
  return rc;
}

/* Bytes as a bytea parameter's text (libpq's escaping; free with PQfreemem), or NULL. */
char *agpg_bytea_param(ag_pg *pg, const unsigned char *d, size_t n)
{
  size_t len;
  return (char *)PQescapeByteaConn(pg->conn, d, n, &len);
}

/* ---- baselines and drift pauses ----------------------------------------------------------- */

int agpg_current(ag_pg *pg, const char *op, const char *sql, const char *robot, int *version,
                 char *digest, size_t dlen, char *node, size_t nlen)
{
  int rc0 = agpg_begin_op(pg, op);
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {robot};
  PGresult *r = agpg_exec1(pg, op, sql, 1, p);
  if (!r)
    return agpg_failed(pg);
  int rc = AG_PG_NONE;
  if (PQntuples(r) == 1) {
    *version = atoi(PQgetvalue(r, 0, 0));
    if (dlen)
      snprintf(digest, dlen, "%s", PQgetvalue(r, 0, 1));
    if (nlen)
      snprintf(node, nlen, "%s", PQgetvalue(r, 0, 2));
    rc = AG_PG_OK;
  }
  PQclear(r);
  return rc;
}

int agpg_files_each(ag_pg *pg, const char *op, PGresult *r, const char *what, ag_pg_file_fn fn,
                    void *ud)
{
  for (int i = 0; i < PQntuples(r); i++) {
    size_t n = 0;
    unsigned char *data = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &n);
    if (!data) {
      agpg_seterr(pg, op, "out of memory");
      return AG_PG_ERR;
    }
    int kept = fn(ud, PQgetvalue(r, i, 0), data, n);
    PQfreemem(data);
    if (kept != 0) {
      agpg_seterr(pg, op, "cannot keep file %d of %s", i + 1, what);
      return AG_PG_ERR;
    }
  }
  return AG_PG_OK;
}

int ag_pg_baseline_current(ag_pg *pg, const char *robot, int *version, char *digest, size_t dlen,
                           char *node, size_t nlen)
{
  return agpg_current(pg, "baseline",
                      "SELECT version, digest, node FROM vagt_baseline WHERE robot = $1"
                      " ORDER BY version DESC LIMIT 1",
                      robot, version, digest, dlen, node, nlen);
}

int ag_pg_baseline_get(ag_pg *pg, const char *robot, int version, ag_pg_file_fn fn, void *ud)
{
  int rc0 = agpg_begin_op(pg, "baseline");
  if (rc0 != AG_PG_OK)
    return rc0;
  char v[16];
  snprintf(v, sizeof v, "%d", version);
  const char *p[] = {robot, v};
  PGresult *r = agpg_exec1(pg, "baseline",
                           "SELECT name, content FROM vagt_baseline_file"
                           " WHERE robot = $1 AND version = $2::integer ORDER BY name",
                           2, p);
  if (!r)
    return agpg_failed(pg);
  char what[32];
  snprintf(what, sizeof what, "version %d", version);
  int rc = agpg_files_each(pg, "baseline", r, what, fn, ud);
  PQclear(r);
  return rc;
}

typedef struct {
  const char *robot, *digest;
  int prev, version;
  const ag_pg_file *files;
  size_t n;
} put_arg;

static int put_tx(ag_pg *pg, const char *op, void *arg, char st[6])
{
  put_arg *a = arg;
  char prev[16], ver[16];
  snprintf(prev, sizeof prev, "%d", a->prev);
  snprintf(ver, sizeof ver, "%d", a->prev + 1);
  /* the current version must still be prev: else another node published first */
  const char *q[] = {a->robot};
  PGresult *r = agpg_raw(pg, op,
                         "SELECT coalesce(max(version), 0) FROM vagt_baseline"
                         " WHERE robot = $1",
                         1, q, st);
  if (!r)
    return TX_FAIL;
  int cur = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (cur != a->prev) {
    agpg_seterr(pg, op, "another node published version %d of the baseline meanwhile", cur);
    return AG_PG_LOST;
  }
  const char *p[] = {a->robot, ver, a->digest, pg->node};
  if (!(r = agpg_raw(pg, op,
                     "INSERT INTO vagt_baseline (robot, version, digest, node)"
                     " VALUES ($1, $2::integer, $3, $4)",
                     4, p, st))) {
    if (!strcmp(st, "23505")) { /* unique: published by another node at the same moment */
      agpg_seterr(pg, op, "another node published the baseline at the same moment");
      return AG_PG_LOST;
    }
    return TX_FAIL;
  }
  PQclear(r);
  for (size_t i = 0; i < a->n; i++) {
    char *esc = agpg_bytea_param(pg, a->files[i].data, a->files[i].len);
    if (!esc) {
      agpg_seterr(pg, op, "out of memory");
      return AG_PG_ERR;
    }
    const char *f[] = {a->robot, ver, a->files[i].name, esc};
    r = agpg_raw(pg, op,
                 "INSERT INTO vagt_baseline_file (robot, version, name, content)"
                 " VALUES ($1, $2::integer, $3, $4::bytea)",
                 4, f, st);
    PQfreemem(esc);
    if (!r)
      return TX_FAIL;
    PQclear(r);
  }
  if (!(r = agpg_raw(pg, op, "DELETE FROM vagt_pause WHERE robot = $1", 1, q, st)))
    return TX_FAIL;
  PQclear(r);
  a->version = a->prev + 1;
  return TX_OK;
}

int ag_pg_baseline_put(ag_pg *pg, const char *robot, int prev_version, const char *digest,
                       const ag_pg_file *files, size_t n, int *version)
{
  int rc0 = agpg_begin_op(pg, "publish baseline");
  if (rc0 != AG_PG_OK)
    return rc0;
  put_arg a = {robot, digest, prev_version, 0, files, n};
  int rc = agpg_in_tx(pg, "publish baseline", put_tx, &a);
  if (rc == AG_PG_OK && version)
    *version = a.version;
  return rc == AG_PG_ERR ? agpg_failed(pg) : rc;
}

int ag_pg_pause(ag_pg *pg, const char *robot, const char *run, const char *alert_id, bool *first,
                char *holder, size_t hlen)
{
  int rc0 = agpg_begin_op(pg, "pause");
  if (rc0 != AG_PG_OK)
    return rc0;
  *first = false;
  if (hlen)
    holder[0] = 0;
  const char *p[] = {robot, pg->node, run, alert_id};
  PGresult *r = exec_insert_or_winner(pg, "pause",
                                      "WITH ins AS (INSERT INTO vagt_pause (robot, node, run,"
                                      " alert_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
                                      " RETURNING node, run)"
                                      " SELECT node, run, true FROM ins"
                                      " UNION ALL SELECT node, run, false FROM vagt_pause"
                                      "  WHERE robot = $1 AND NOT EXISTS (SELECT 1 FROM ins)",
                                      4, p);
  if (!r)
    return agpg_failed(pg);
  if (PQntuples(r) > 0) {
    *first = !strcmp(PQgetvalue(r, 0, 2), "t");
    if (hlen)
      snprintf(holder, hlen, "node %s, run %s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_resume(ag_pg *pg, const char *robot, long long fleet_run)
{
  int rc0 = agpg_begin_op(pg, "resume");
  if (rc0 != AG_PG_OK)
    return rc0;
  char id[24];
  snprintf(id, sizeof id, "%lld", fleet_run);
  const char *p[] = {robot, id};
  PGresult *r = agpg_exec1(pg, "resume",
                           "WITH del AS (DELETE FROM vagt_pause p USING vagt_run v"
                           "  WHERE p.robot = $1 AND v.id = $2::bigint AND v.node = p.node"
                           "  AND v.local_id::text = p.run RETURNING p.robot)"
                           " SELECT (SELECT count(*) FROM del),"
                           "  (SELECT count(*) FROM vagt_pause WHERE robot = $1)",
                           2, p);
  if (!r)
    return agpg_failed(pg);
  int rc = atoi(PQgetvalue(r, 0, 0)) == 1  ? AG_PG_OK
           : atoi(PQgetvalue(r, 0, 1)) > 0 ? AG_PG_LOST
                                           : AG_PG_NONE;
  PQclear(r);
  return rc;
}

int ag_pg_paused(ag_pg *pg, const char *robot, bool *paused, char *by, size_t blen)
{
  int rc0 = agpg_begin_op(pg, "pause");
  if (rc0 != AG_PG_OK)
    return rc0;
  *paused = false;
  if (blen)
    by[0] = 0;
  const char *p[] = {robot};
  PGresult *r = agpg_exec1(pg, "pause", AGPG_PAUSE_SQL, 1, p);
  if (!r)
    return agpg_failed(pg);
  if (PQntuples(r) == 1) {
    *paused = true;
    /* the run as the pages number it (the fleet's id), and as its node's log does */
    long long fleet = 0;
    char holder[200];
    agpg_pause_holder(r, &fleet, holder, sizeof holder);
    if (fleet > 0)
      snprintf(by, blen, "run %lld on the pages: %s", fleet, holder);
    else
      snprintf(by, blen, "%s", holder);
  }
  PQclear(r);
  return AG_PG_OK;
}

void agpg_pause_holder(PGresult *r, long long *fleet_run, char *by, size_t bylen)
{
  *fleet_run = PQgetisnull(r, 0, 3) ? 0 : atoll(PQgetvalue(r, 0, 3));
  snprintf(by, bylen, "node %s's run %s, at %s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
           PQgetvalue(r, 0, 2));
}

/* ---- the fleet's alert outbox --------------------------------------------------------------- */

int ag_pg_outbox_add(ag_pg *pg, const ag_pg_alert *a, bool *added)
{
  int rc0 = agpg_begin_op(pg, "outbox");
  if (rc0 != AG_PG_OK)
    return rc0;
  if (added)
    *added = false;
  char *esc = a->attach ? agpg_bytea_param(pg, a->attach, a->attach_len) : NULL;
  if (a->attach && !esc) {
    agpg_seterr(pg, "outbox", "out of memory");
    return AG_PG_ERR;
  }
  const char *p[] = {a->alert_id, a->robot,   a->channel, a->kind,
                     a->target,   a->payload, esc,        esc ? a->attach_name : NULL,
                     pg->node};
  PGresult *r =
      agpg_exec1(pg, "outbox",
                 "INSERT INTO vagt_outbox (alert_id, robot, channel, kind, target, payload,"
                 " attach, attach_name, node)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, $8, $9)"
                 " ON CONFLICT (alert_id, channel, kind) DO NOTHING",
                 9, p);
  PQfreemem(esc);
  if (!r)
    return agpg_failed(pg);
  if (added)
    *added = atoi(PQcmdTuples(r)) > 0;
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_outbox_claim(ag_pg *pg, double lease_s, ag_pg_alert_fn fn, void *ud)
{
  int rc0 = agpg_begin_op(pg, "outbox");
  if (rc0 != AG_PG_OK)
    return rc0;
  char lease[32];
  snprintf(lease, sizeof lease, "%.3f", lease_s);
  const char *p[] = {pg->node, lease};
  PGresult *r = agpg_exec1(
      pg, "outbox",
      "WITH due AS ("
      "  SELECT id FROM vagt_outbox"
      "   WHERE delivered_at IS NULL AND next_attempt <= now()"
      "    AND (lease_until IS NULL OR lease_until <= now())"
      "   ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED)"
      " UPDATE vagt_outbox o SET held_by = $1, attempts = o.attempts + 1,"
      "  lease_until = now() + make_interval(secs => $2::float8)"
      " FROM due WHERE o.id = due.id"
      " RETURNING o.id, o.alert_id, coalesce(o.robot, ''), o.channel, o.kind, o.target, o.payload,"
      "  o.attach, o.attach_name, o.attempts",
      2, p);
  if (!r)
    return agpg_failed(pg);
  for (int i = 0; i < PQntuples(r); i++) {
    ag_pg_alert a = {0};
    unsigned char *att = NULL;
    if (!PQgetisnull(r, i, 7)) {
      att = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 7), &a.attach_len);
      a.attach = att;
      a.attach_name = PQgetvalue(r, i, 8);
    }
    a.id = atoll(PQgetvalue(r, i, 0));
    a.alert_id = PQgetvalue(r, i, 1);
    a.robot = PQgetvalue(r, i, 2);
    a.channel = PQgetvalue(r, i, 3);
    a.kind = PQgetvalue(r, i, 4);
    a.target = PQgetvalue(r, i, 5);
    a.payload = PQgetvalue(r, i, 6);
    a.attempts = atoi(PQgetvalue(r, i, 9));
    fn(ud, &a);
    PQfreemem(att);
  }
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_outbox_result(ag_pg *pg, long long id, bool delivered, const char *error, double retry_s)
{
  int rc0 = agpg_begin_op(pg, "outbox");
  if (rc0 != AG_PG_OK)
    return rc0;
  char sid[24], retry[32];
  snprintf(sid, sizeof sid, "%lld", id);
  snprintf(retry, sizeof retry, "%.3f", retry_s);
  const char *p[] = {sid, pg->node, delivered ? NULL : (error ? error : "failed"), retry};
  PGresult *r = agpg_exec1(
      pg, "outbox",
      delivered ? "UPDATE vagt_outbox SET delivered_at = now(), delivered_by = $2,"
                  " lease_until = NULL, last_error = NULL"
                  " WHERE id = $1::bigint AND held_by = $2 AND delivered_at IS NULL"
                  "  AND $3::text IS NULL AND $4::float8 >= 0"
                : "UPDATE vagt_outbox SET lease_until = NULL, last_error = left($3, 500),"
                  " next_attempt = now() + make_interval(secs => $4::float8)"
                  " WHERE id = $1::bigint AND held_by = $2 AND delivered_at IS NULL",
      4, p);
  if (!r)
    return agpg_failed(pg);
  PQclear(r);
  return AG_PG_OK;
}

int ag_pg_outbox_pending(ag_pg *pg, long long *n)
{
  int rc0 = agpg_begin_op(pg, "outbox");
  if (rc0 != AG_PG_OK)
    return rc0;
  const char *p[] = {pg->node};
  PGresult *r =
      agpg_exec1(pg, "outbox",
                 "SELECT count(*) FROM vagt_outbox WHERE delivered_at IS NULL AND node = $1", 1, p);
  if (!r)
    return agpg_failed(pg);
  *n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return AG_PG_OK;
}
