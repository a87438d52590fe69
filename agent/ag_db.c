#include "ag_db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  robot TEXT NOT NULL,"
    "  trigger TEXT NOT NULL," /* schedule, catch-up, once, manual */
    "  scheduled INTEGER,"     /* the schedule's time (Unix seconds) */
    "  started REAL NOT NULL," /* Unix seconds */
    "  finished REAL,"
    "  status TEXT NOT NULL,"
    "  exit_code INTEGER,"
    "  run_dir TEXT,"
    "  steps INTEGER,"
    "  error TEXT,"
    "  pid INTEGER,"
    "  approved REAL,"
    "  approve_result TEXT);"
    "CREATE INDEX IF NOT EXISTS runs_robot ON runs(robot, id);"
    /* fleet mode: which runs were copied into the fleet's history (ag_fleet.h) */
    "CREATE TABLE IF NOT EXISTS fleet_runs ("
    "  run_id INTEGER PRIMARY KEY,"
    "  fleet_id INTEGER,"
    "  synced INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS sched ("
    "  robot TEXT PRIMARY KEY,"
    "  last_scheduled INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  alert_id TEXT NOT NULL,"
    "  run_id INTEGER,"
    "  robot TEXT,"
    "  channel TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"    /* webhook, email, syslog */
    "  target TEXT NOT NULL,"  /* JSON: where to deliver */
    "  payload TEXT NOT NULL," /* JSON: the alert */
    "  attach TEXT,"           /* a file to attach (the diff image) */
    "  created REAL NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt REAL NOT NULL,"
    "  delivered REAL,"
    "  last_error TEXT,"
    "  UNIQUE(alert_id, channel, kind));"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered, next_attempt);"
    /* Retention (ag_prune.c): one row per prune, what it deleted; and per robot and status
   * the runs deleted, so counts and the last success outlive the rows. */
    "CREATE TABLE IF NOT EXISTS prunes ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at REAL NOT NULL,"             /* when (Unix seconds) */
    "  cutoff REAL NOT NULL,"         /* what ended before this went */
    "  runs INTEGER NOT NULL,"        /* runs deleted: folder, history row or both */
    "  folders INTEGER NOT NULL,"     /* run folders deleted */
    "  run_rows INTEGER NOT NULL,"    /* rows of runs */
    "  outbox_rows INTEGER NOT NULL," /* delivered alerts */
    "  item_rows INTEGER NOT NULL,"   /* robot.items rows (items.db) */
    "  logs INTEGER NOT NULL,"        /* per-run logs */
    "  bytes INTEGER NOT NULL,"       /* of the files deleted */
    "  kept INTEGER NOT NULL);"       /* old runs kept (approval, undelivered alert) */
    "CREATE TABLE IF NOT EXISTS runs_pruned ("
    "  robot TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  last_finished REAL,"
    "  PRIMARY KEY(robot, status));"
    /* The audit trail of baselines (ag_web_approve.c): one row per operator's approval of a
   * drift-halted run. With approvals = N the first N-1 different operators' rows are
   * 'pending'; the N-th runs `vagt approve` and every row of the run becomes 'approved'
   * (or the N-th 'failed'). `changed` is vagt approve's approved.json: the step's key, the
   * files replaced, the reasons accepted. Kept for the audit, not pruned with the run. */
    "CREATE TABLE IF NOT EXISTS approvals ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  run_id INTEGER NOT NULL,"
    "  robot TEXT NOT NULL,"
    "  step TEXT," /* the halted step's key */
    "  run_dir TEXT,"
    "  by TEXT NOT NULL,"    /* the operator */
    "  at REAL NOT NULL,"    /* Unix seconds */
    "  state TEXT NOT NULL," /* pending, approved, failed */
    "  changed TEXT);"
    "CREATE INDEX IF NOT EXISTS approvals_run ON approvals(run_id);"
    "CREATE INDEX IF NOT EXISTS approvals_robot ON approvals(robot, id);";

sqlite3 *ag_db_open(const char *path, char *err, size_t errlen)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(
      path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  char *msg = NULL;
  /* secure_delete: a deleted row's bytes are overwritten, not left in free pages */
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                   "PRAGMA secure_delete=ON;",
                   NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

void ag_db_close(sqlite3 *db)
{
  sqlite3_close(db);
}

int ag_db_exec(sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "vagt agent: database: %s (%s)\n", msg ? msg : sqlite3_errmsg(db), sql);
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt agent: database: %s\n", sqlite3_errmsg(db));
    return NULL;
  }
  return st;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    fprintf(stderr, "vagt agent: database: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

long long ag_db_run_insert(sqlite3 *db, const char *robot, const char *trigger, time_t scheduled,
                           double started, int pid)
{
  sqlite3_stmt *st = prep(db, "INSERT INTO runs(robot, trigger, scheduled, started, status, "
                              "pid) VALUES(?,?,?,?,'running',?)");
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, trigger, -1, SQLITE_TRANSIENT);
  if (scheduled > 0)
    sqlite3_bind_int64(st, 3, (sqlite3_int64)scheduled);
  else
    sqlite3_bind_null(st, 3);
  sqlite3_bind_double(st, 4, started);
  sqlite3_bind_int(st, 5, pid);
  if (step_done(db, st) != 0)
    return -1;
  return (long long)sqlite3_last_insert_rowid(db);
}

int ag_db_run_finish(sqlite3 *db, long long id, const ag_runinfo *ri)
{
  sqlite3_stmt *st = prep(db, "UPDATE runs SET finished=?, status=?, exit_code=?, run_dir=?, "
                              "steps=?, error=? WHERE id=? AND status='running'");
  if (!st)
    return -1;
  sqlite3_bind_double(st, 1, ri->finished);
  sqlite3_bind_text(st, 2, ri->status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, ri->exit_code);
  if (ri->run_dir)
    sqlite3_bind_text(st, 4, ri->run_dir, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 4);
  sqlite3_bind_int(st, 5, ri->steps);
  if (ri->error)
    sqlite3_bind_text(st, 6, ri->error, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 6);
  sqlite3_bind_int64(st, 7, id);
  if (step_done(db, st) != 0)
    return -1;
  return sqlite3_changes(db) > 0 ? 1 : 0;
}

int ag_db_run_pid(sqlite3 *db, long long id, int pid)
{
  sqlite3_stmt *st = prep(db, "UPDATE runs SET pid=? WHERE id=?");
  if (!st)
    return -1;
  sqlite3_bind_int(st, 1, pid);
  sqlite3_bind_int64(st, 2, id);
  return step_done(db, st);
}

const char *ag_db_col(sqlite3_stmt *st, int c)
{
  const unsigned char *t = sqlite3_column_text(st, c);
  return t ? (const char *)t : "";
}

bool ag_db_run_get(sqlite3 *db, long long id, ag_db_run *r)
{
  memset(r, 0, sizeof *r);
  sqlite3_stmt *st = prep(db, "SELECT r.robot, r.trigger, r.status, r.error, r.run_dir, r.started,"
                              " r.finished, r.exit_code, r.steps, f.fleet_id FROM runs r"
                              " LEFT JOIN fleet_runs f ON f.run_id = r.id WHERE r.id = ?");
  if (!st)
    return false;
  sqlite3_bind_int64(st, 1, id);
  bool ok = sqlite3_step(st) == SQLITE_ROW;
  if (ok) {
    snprintf(r->robot, sizeof r->robot, "%s", ag_db_col(st, 0));
    snprintf(r->trigger, sizeof r->trigger, "%s", ag_db_col(st, 1));
    snprintf(r->status, sizeof r->status, "%s", ag_db_col(st, 2));
    snprintf(r->error, sizeof r->error, "%s", ag_db_col(st, 3));
    snprintf(r->run_dir, sizeof r->run_dir, "%s", ag_db_col(st, 4));
    r->started = sqlite3_column_double(st, 5);
    r->ended = sqlite3_column_type(st, 6) != SQLITE_NULL && strcmp(r->status, "running") != 0;
    r->finished = sqlite3_column_double(st, 6);
    r->exit_code = sqlite3_column_int(st, 7);
    r->steps = sqlite3_column_int(st, 8);
    r->fleet_id = sqlite3_column_int64(st, 9);
  }
  sqlite3_finalize(st);
  return ok;
}

int ag_db_runs_running(sqlite3 *db, ag_db_running **out)
{
  *out = NULL;
  sqlite3_stmt *st = prep(db, "SELECT id, robot, started FROM runs WHERE status='running'");
  if (!st)
    return -1;
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ag_db_running *nv = realloc(*out, (size_t)(n + 1) * sizeof **out);
    char *name = strdup(ag_db_col(st, 1));
    if (nv)
      *out = nv;
    if (!nv || !name) {
      free(name);
      break; /* out of memory: the runs read so far (the rest at the next start) */
    }
    (*out)[n++] = (ag_db_running){sqlite3_column_int64(st, 0), name, sqlite3_column_double(st, 2)};
  }
  sqlite3_finalize(st);
  return n;
}

void ag_db_fleet_mark(sqlite3 *db, long long id, long long fleet_id, bool synced)
{
  sqlite3_stmt *st = prep(db, "INSERT INTO fleet_runs(run_id, fleet_id, synced) VALUES(?1, ?2, ?3)"
                              " ON CONFLICT(run_id) DO UPDATE SET"
                              " fleet_id = coalesce(?2, fleet_id), synced = ?3");
  if (!st)
    return;
  sqlite3_bind_int64(st, 1, id);
  if (fleet_id > 0)
    sqlite3_bind_int64(st, 2, fleet_id);
  else
    sqlite3_bind_null(st, 2);
  sqlite3_bind_int(st, 3, synced);
  step_done(db, st);
}

int ag_db_fleet_unsynced(sqlite3 *db, long long *ids, int max)
{
  sqlite3_stmt *st = prep(db, "SELECT f.run_id FROM fleet_runs f JOIN runs r ON r.id = f.run_id"
                              " WHERE f.synced = 0 AND r.status <> 'running' ORDER BY f.run_id"
                              " LIMIT ?");
  if (!st)
    return 0;
  sqlite3_bind_int(st, 1, max);
  int n = 0;
  while (n < max && sqlite3_step(st) == SQLITE_ROW)
    ids[n++] = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

bool ag_db_sched_get(sqlite3 *db, const char *robot, time_t *t)
{
  sqlite3_stmt *st = prep(db, "SELECT last_scheduled FROM sched WHERE robot=?");
  if (!st)
    return false;
  sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  bool found = false;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *t = (time_t)sqlite3_column_int64(st, 0);
    found = true;
  }
  sqlite3_finalize(st);
  return found;
}

int ag_db_sched_set(sqlite3 *db, const char *robot, time_t t)
{
  sqlite3_stmt *st =
      prep(db, "INSERT INTO sched(robot, last_scheduled) VALUES(?,?) "
               "ON CONFLICT(robot) DO UPDATE SET last_scheduled=excluded.last_scheduled");
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
  return step_done(db, st);
}

int ag_db_outbox_add(sqlite3 *db, const char *alert_id, long long run_id, const char *robot,
                     const char *channel, const char *kind, const char *target, const char *payload,
                     const char *attach, double now)
{
  sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO outbox(alert_id, run_id, robot, channel, "
                              "kind, target, payload, attach, created, next_attempt) "
                              "VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_text(st, 3, robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, target, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 7, payload, -1, SQLITE_TRANSIENT);
  if (attach)
    sqlite3_bind_text(st, 8, attach, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 8);
  sqlite3_bind_double(st, 9, now);
  sqlite3_bind_double(st, 10, now);
  return step_done(db, st);
}

static char *dup_col(sqlite3_stmt *st, int c)
{
  const unsigned char *t = sqlite3_column_text(st, c);
  return t ? strdup((const char *)t) : NULL;
}

int ag_db_outbox_due(sqlite3 *db, double now, ag_db_outbox_row **out)
{
  *out = NULL;
  sqlite3_stmt *st = prep(db, "SELECT id, alert_id, coalesce(robot, ''), channel, kind, target, "
                              "payload, attach, attempts FROM outbox WHERE delivered IS NULL "
                              "AND next_attempt <= ? ORDER BY id LIMIT ?");
  if (!st)
    return -1;
  sqlite3_bind_double(st, 1, now >= 0 ? now : HUGE_VAL); /* < 0: every one */
  sqlite3_bind_int(st, 2, AG_DB_OUTBOX_BATCH);
  ag_db_outbox_row *rows = calloc(AG_DB_OUTBOX_BATCH, sizeof *rows);
  int n = 0;
  while (rows && n < AG_DB_OUTBOX_BATCH && sqlite3_step(st) == SQLITE_ROW) {
    ag_db_outbox_row *r = &rows[n++];
    r->id = sqlite3_column_int64(st, 0);
    r->alert_id = dup_col(st, 1);
    r->robot = dup_col(st, 2);
    r->channel = dup_col(st, 3);
    r->kind = dup_col(st, 4);
    r->target = dup_col(st, 5);
    r->payload = dup_col(st, 6);
    r->attach = dup_col(st, 7);
    r->attempts = sqlite3_column_int(st, 8);
    if (!r->alert_id || !r->robot || !r->channel || !r->kind || !r->target || !r->payload) {
      n = -1; /* out of memory: nothing delivered now, all of it later */
      break;
    }
  }
  sqlite3_finalize(st);
  if (!rows || n < 0) {
    ag_db_outbox_rows_free(rows, AG_DB_OUTBOX_BATCH);
    return -1;
  }
  *out = rows;
  return n;
}

void ag_db_outbox_rows_free(ag_db_outbox_row *rows, int n)
{
  for (int i = 0; rows && i < n; i++) {
    free(rows[i].alert_id);
    free(rows[i].robot);
    free(rows[i].channel);
    free(rows[i].kind);
    free(rows[i].target);
    free(rows[i].payload);
    free(rows[i].attach);
  }
  free(rows);
}

int ag_db_outbox_result(sqlite3 *db, long long id, bool delivered, double t, const char *err,
                        double next)
{
  sqlite3_stmt *st = prep(db, delivered ? "UPDATE outbox SET delivered=?, attempts=attempts+1, "
                                          "last_error=NULL WHERE id=?"
                                        : "UPDATE outbox SET attempts=attempts+1, next_attempt=?, "
                                          "last_error=? WHERE id=?");
  if (!st)
    return -1;
  if (delivered) {
    sqlite3_bind_double(st, 1, t);
    sqlite3_bind_int64(st, 2, id);
  } else {
    sqlite3_bind_double(st, 1, next);
    sqlite3_bind_text(st, 2, err, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
  }
  return step_done(db, st);
}

int ag_db_outbox_handed(sqlite3 *db, long long id, double t, const char *note)
{
  sqlite3_stmt *st = prep(db, "UPDATE outbox SET delivered=?, last_error=? WHERE id=?");
  if (!st)
    return -1;
  sqlite3_bind_double(st, 1, t);
  sqlite3_bind_text(st, 2, note, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, id);
  return step_done(db, st);
}

long long ag_db_outbox_pending(sqlite3 *db)
{
  sqlite3_stmt *st = prep(db, "SELECT count(*) FROM outbox WHERE delivered IS NULL");
  long long n = 0;
  if (st && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

/* ---- retention's queries (ag_prune.c) ---- */

bool ag_db_alert_pending_in(sqlite3 *db, const char *dir)
{
  sqlite3_stmt *st = prep(db, "SELECT count(*) FROM outbox o JOIN runs r ON o.run_id = r.id "
                              "WHERE r.run_dir = ? AND o.delivered IS NULL");
  bool pending = true; /* when in doubt, keep */
  if (st) {
    sqlite3_bind_text(st, 1, dir, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
      pending = sqlite3_column_int64(st, 0) > 0;
  }
  sqlite3_finalize(st);
  return pending;
}

int ag_db_runs_in(sqlite3 *db, const char *dir, void (*each)(void *cls, long long id), void *cls)
{
  sqlite3_stmt *st = prep(db, "SELECT id FROM runs WHERE run_dir = ? AND status != 'running'");
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, dir, -1, SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    each(cls, sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

int ag_db_runs_ended_before(sqlite3 *db, double cutoff,
                            void (*each)(void *cls, long long id, const char *dir), void *cls)
{
  sqlite3_stmt *st = prep(db, "SELECT id, run_dir FROM runs WHERE status != 'running' AND "
                              "coalesce(finished, started) < ? AND NOT EXISTS (SELECT 1 FROM "
                              "outbox WHERE run_id = runs.id AND delivered IS NULL)");
  if (!st)
    return -1;
  sqlite3_bind_double(st, 1, cutoff);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    each(cls, sqlite3_column_int64(st, 0), ag_db_col(st, 1));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

bool ag_db_run_exists(sqlite3 *db, long long id)
{
  sqlite3_stmt *st = prep(db, "SELECT count(*) FROM runs WHERE id = ?");
  bool found = true; /* when in doubt, keep */
  if (st) {
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
      found = sqlite3_column_int64(st, 0) > 0;
  }
  sqlite3_finalize(st);
  return found;
}

static long long exec_changes(sqlite3 *db, sqlite3_stmt *st, bool *ok)
{
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    fprintf(stderr, "vagt agent: retention: database: %s\n", sqlite3_errmsg(db));
    *ok = false;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? sqlite3_changes(db) : 0;
}

int ag_db_prune_rows(sqlite3 *db, double now, double cutoff, const long long *ids, size_t n,
                     ag_db_prune *p)
{
  p->runs = p->run_rows = p->outbox_rows = 0;
  if (ag_db_exec(db, "BEGIN IMMEDIATE") != 0)
    return -1;
  sqlite3_stmt *info = NULL, *del_out = NULL, *del_run = NULL, *tally = NULL, *old_out = NULL,
               *rec = NULL;
  bool ok =
      (info = prep(db, "SELECT robot, status, finished FROM runs WHERE id = ?")) &&
      (del_out = prep(db, "DELETE FROM outbox WHERE run_id = ? AND delivered IS NOT NULL")) &&
      (del_run = prep(db, "DELETE FROM runs WHERE id = ? AND status != 'running' AND NOT "
                          "EXISTS (SELECT 1 FROM outbox WHERE run_id = ? AND delivered IS "
                          "NULL)")) &&
      (tally = prep(db, "INSERT INTO runs_pruned(robot, status, n, last_finished) "
                        "VALUES(?, ?, 1, ?) ON CONFLICT(robot, status) DO UPDATE SET "
                        "n = n + 1, last_finished = max(coalesce(last_finished, 0), "
                        "coalesce(excluded.last_finished, 0))")) &&
      (old_out = prep(db, "DELETE FROM outbox WHERE delivered IS NOT NULL AND delivered < ?")) &&
      (rec = prep(db, "INSERT INTO prunes(at, cutoff, runs, folders, run_rows, "
                      "outbox_rows, item_rows, logs, bytes, kept) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?)"));
  long long deleted_extra = 0;
  for (size_t i = 0; ok && i < n; i++) {
    sqlite3_bind_int64(info, 1, ids[i]);
    if (sqlite3_step(info) != SQLITE_ROW) {
      sqlite3_reset(info);
      continue;
    }
    char robot[256], status[64];
    snprintf(robot, sizeof robot, "%s", ag_db_col(info, 0));
    snprintf(status, sizeof status, "%s", ag_db_col(info, 1));
    bool has_fin = sqlite3_column_type(info, 2) != SQLITE_NULL;
    double fin = sqlite3_column_double(info, 2);
    sqlite3_reset(info);
    sqlite3_bind_int64(del_out, 1, ids[i]);
    p->outbox_rows += exec_changes(db, del_out, &ok);
    sqlite3_bind_int64(del_run, 1, ids[i]);
    sqlite3_bind_int64(del_run, 2, ids[i]);
    long long k = exec_changes(db, del_run, &ok);
    if (k <= 0)
      continue;
    p->run_rows += k;
    if (i >= p->first_extra)
      deleted_extra++;
    sqlite3_bind_text(tally, 1, robot, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(tally, 2, status, -1, SQLITE_TRANSIENT);
    if (has_fin)
      sqlite3_bind_double(tally, 3, fin);
    else
      sqlite3_bind_null(tally, 3);
    exec_changes(db, tally, &ok);
  }
  if (ok) {
    sqlite3_bind_double(old_out, 1, cutoff);
    p->outbox_rows += exec_changes(db, old_out, &ok);
  }
  p->runs = p->folders + deleted_extra;
  if (ok) {
    long long v[] = {p->runs,      p->folders, p->run_rows, p->outbox_rows,
                     p->item_rows, p->logs,    p->bytes,    p->kept};
    sqlite3_bind_double(rec, 1, now);
    sqlite3_bind_double(rec, 2, cutoff);
    for (int k = 0; k < 8; k++)
      sqlite3_bind_int64(rec, 3 + k, v[k]);
    exec_changes(db, rec, &ok);
  }
  sqlite3_finalize(info);
  sqlite3_finalize(del_out);
  sqlite3_finalize(del_run);
  sqlite3_finalize(tally);
  sqlite3_finalize(old_out);
  sqlite3_finalize(rec);
  if (ok && ag_db_exec(db, "COMMIT") == 0)
    return 0;
  if (!sqlite3_get_autocommit(db))
    ag_db_exec(db, "ROLLBACK");
  return -1;
}
