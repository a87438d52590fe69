/* The operator pages' store (ag_store.h) in SQLite: one connection (serialized: the pages'
 * threads share it) to the state folder's vagt.db, its tables made by ag_db_open. */
#include "ag_db.h"
#include "ag_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  ag_store base;
  sqlite3 *db;
} sq_store;

static sqlite3 *db_of(ag_store *s)
{
  return ((sq_store *)s)->db;
}

/* A REAL column that may be NULL: 0 then. */
static double col_time(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_double(st, i);
}

/* When the robot's last passed run finished, NULL when never: from the history, or from
 * runs_pruned once retention deleted that run (ag_prune.h). One parameter: the robot. */
#define LAST_SUCCESS_SQL                                                                           \
  "SELECT nullif(max(coalesce((SELECT max(finished) FROM runs WHERE robot=?1 AND "                 \
  "status='passed'), 0), coalesce((SELECT last_finished FROM runs_pruned WHERE robot=?1 "          \
  "AND status='passed'), 0)), 0)"

/* Runs of a robot (?1) with a status (?2): those in the history and those retention
 * deleted, so a counter never goes down. */
#define RUNS_COUNT_SQL                                                                             \
  "SELECT (SELECT count(*) FROM runs WHERE robot=?1 AND status=?2) + coalesce((SELECT n "          \
  "FROM runs_pruned WHERE robot=?1 AND status=?2), 0)"

static void sq_close(ag_store *s)
{
  if (!s)
    return;
  ag_db_close(db_of(s));
  free(s);
}

static int sq_runs_latest(ag_store *s, const char *robot, int limit,
                          void (*each)(void *cls, const ag_run_brief *r), void *cls)
{
  sqlite3_stmt *st = NULL;
  const char *sql = robot ? "SELECT id, robot, trigger, started, finished, status, exit_code, "
                            "steps FROM runs WHERE robot=?2 ORDER BY id DESC LIMIT ?1"
                          : "SELECT id, robot, trigger, started, finished, status, exit_code, "
                            "steps FROM runs ORDER BY id DESC LIMIT ?1";
  if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_int(st, 1, limit);
  if (robot)
    sqlite3_bind_text(st, 2, robot, -1, SQLITE_TRANSIENT);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ag_run_brief r = {.id = sqlite3_column_int64(st, 0),
                      .robot = ag_db_col(st, 1),
                      .trigger = ag_db_col(st, 2),
                      .started = sqlite3_column_double(st, 3),
                      .finished = col_time(st, 4),
                      .status = ag_db_col(st, 5),
                      .exit_code = ag_db_col(st, 6),
                      .steps = sqlite3_column_int(st, 7),
                      .node = ""};
    each(cls, &r);
    n++;
  }
  sqlite3_finalize(st);
  return n;
}

static bool sq_run_get(ag_store *s, long long id, ag_run_row *r)
{
  sqlite3_stmt *st = NULL;
  memset(r, 0, sizeof *r);
  if (sqlite3_prepare_v2(db_of(s),
                         "SELECT robot, status, run_dir, error, trigger, exit_code, "
                         "steps, started, finished, approved, approve_result FROM "
                         "runs WHERE id=?",
                         -1, &st, NULL) != SQLITE_OK)
    return false;
  sqlite3_bind_int64(st, 1, id);
  bool found = sqlite3_step(st) == SQLITE_ROW;
  if (found) {
    r->id = id;
    snprintf(r->robot, sizeof r->robot, "%s", ag_db_col(st, 0));
    snprintf(r->status, sizeof r->status, "%s", ag_db_col(st, 1));
    snprintf(r->run_dir, sizeof r->run_dir, "%s", ag_db_col(st, 2));
    snprintf(r->error, sizeof r->error, "%s", ag_db_col(st, 3));
    snprintf(r->trigger, sizeof r->trigger, "%s", ag_db_col(st, 4));
    r->exit_code = sqlite3_column_int(st, 5);
    r->steps = sqlite3_column_int(st, 6);
    r->started = sqlite3_column_double(st, 7);
    r->finished = sqlite3_column_double(st, 8);
    r->approved = sqlite3_column_double(st, 9);
    snprintf(r->approve_result, sizeof r->approve_result, "%s", ag_db_col(st, 10));
  }
  sqlite3_finalize(st);
  return found;
}

/* One machine: every run is judged on its own; nothing pauses a robot. */
static int sq_paused(ag_store *s, const char *robot, long long *run, char *by, size_t bylen)
{
  (void)s, (void)robot, (void)by, (void)bylen;
  *run = 0;
  return 0;
}

static int sq_last_success(ag_store *s, const char *robot, double *t)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s), LAST_SUCCESS_SQL, -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  int rc = 0;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    *t = sqlite3_column_double(st, 0);
    rc = 1;
  }
  sqlite3_finalize(st);
  return rc;
}

static long long sq_runs_count(ag_store *s, const char *robot, const char *status, bool with_pruned)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s),
                         with_pruned ? RUNS_COUNT_SQL
                                     : "SELECT count(*) FROM runs WHERE robot=?1 AND status=?2",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
  long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return n;
}

static int sq_approvals(ag_store *s, long long run_id, const char *robot,
                        void (*each)(void *cls, const ag_approval_row *a), void *cls)
{
  sqlite3_stmt *st = NULL;
  const char *sql = robot ? "SELECT run_id, step, by, at, state, changed FROM approvals "
                            "WHERE robot=? ORDER BY id DESC LIMIT 200"
                          : "SELECT run_id, step, by, at, state, changed FROM approvals "
                            "WHERE run_id=? ORDER BY id DESC LIMIT 200";
  if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  if (robot)
    sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64(st, 1, run_id);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ag_approval_row a = {.run_id = sqlite3_column_int64(st, 0),
                         .step = ag_db_col(st, 1),
                         .by = ag_db_col(st, 2),
                         .at = sqlite3_column_double(st, 3),
                         .state = ag_db_col(st, 4),
                         .changed = (const char *)sqlite3_column_text(st, 5)};
    each(cls, &a);
    n++;
  }
  sqlite3_finalize(st);
  return n;
}

static size_t sq_approvals_pending(ag_store *s, long long run_id, char **names, size_t max)
{
  size_t n = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s),
                         "SELECT by FROM approvals WHERE run_id=? AND "
                         "state='pending' ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64(st, 1, run_id);
  while (n < max && sqlite3_step(st) == SQLITE_ROW)
    names[n++] = strdup(ag_db_col(st, 0));
  sqlite3_finalize(st);
  return n;
}

static void sq_approval_add(ag_store *s, const ag_run_row *r, const char *step, const char *by,
                            double at, const char *state, const char *changed)
{
  sqlite3 *db = db_of(s);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO approvals(run_id, robot, step, run_dir, by, at, "
                         "state, changed) VALUES(?,?,?,?,?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt agent: cannot record the approval: %s\n", sqlite3_errmsg(db));
    return;
  }
  sqlite3_bind_int64(st, 1, r->id);
  sqlite3_bind_text(st, 2, r->robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, step, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, r->run_dir, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, by, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 6, at);
  sqlite3_bind_text(st, 7, state, -1, SQLITE_STATIC);
  if (changed)
    sqlite3_bind_text(st, 8, changed, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE)
    fprintf(stderr, "vagt agent: cannot record the approval: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
}

static void sq_approvals_approved(ag_store *s, long long run_id, const char *changed)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s),
                         "UPDATE approvals SET state='approved', changed=? WHERE "
                         "run_id=? AND state='pending'",
                         -1, &st, NULL) != SQLITE_OK)
    return;
  if (changed)
    sqlite3_bind_text(st, 1, changed, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_step(st);
  sqlite3_finalize(st);
}

static void sq_run_approved(ag_store *s, long long run_id, double at, const char *result)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s), "UPDATE runs SET approved=?, approve_result=? WHERE id=?", -1,
                         &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_double(st, 1, at);
  sqlite3_bind_text(st, 2, result, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, run_id);
  sqlite3_step(st);
  sqlite3_finalize(st);
}

static int sq_deliveries(ag_store *s, long long run_id,
                         void (*each)(void *cls, const ag_delivery_row *d), void *cls)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db_of(s),
                         "SELECT alert_id, channel, kind, attempts, delivered, "
                         "last_error FROM outbox WHERE run_id=? ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_int64(st, 1, run_id);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ag_delivery_row d = {.alert_id = ag_db_col(st, 0),
                         .channel = ag_db_col(st, 1),
                         .kind = ag_db_col(st, 2),
                         .attempts = sqlite3_column_int(st, 3),
                         .delivered = col_time(st, 4),
                         .last_error = ag_db_col(st, 5)};
    each(cls, &d);
    n++;
  }
  sqlite3_finalize(st);
  return n;
}

static long long sq_deliveries_pending(ag_store *s)
{
  sqlite3_stmt *st = NULL;
  long long n = 0;
  if (sqlite3_prepare_v2(db_of(s), "SELECT count(*) FROM outbox WHERE delivered IS NULL", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static bool sq_prune_last(ag_store *s, ag_prune_last *p)
{
  sqlite3_stmt *st = NULL;
  bool found = false;
  if (sqlite3_prepare_v2(db_of(s),
                         "SELECT at, runs, folders, run_rows + outbox_rows, "
                         "item_rows, bytes, kept FROM prunes ORDER BY id DESC "
                         "LIMIT 1",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    *p = (ag_prune_last){.at = sqlite3_column_double(st, 0),
                         .runs = sqlite3_column_int64(st, 1),
                         .folders = sqlite3_column_int64(st, 2),
                         .rows = sqlite3_column_int64(st, 3),
                         .item_rows = sqlite3_column_int64(st, 4),
                         .bytes = sqlite3_column_int64(st, 5),
                         .kept = sqlite3_column_int64(st, 6)};
    found = true;
  }
  sqlite3_finalize(st);
  return found;
}

static bool sq_prune_sums(ag_store *s, ag_prune_sums *p)
{
  sqlite3_stmt *st = NULL;
  bool ok = false;
  *p = (ag_prune_sums){0};
  if (sqlite3_prepare_v2(db_of(s),
                         "SELECT coalesce(sum(runs), 0), coalesce(sum(run_rows), 0), "
                         "coalesce(sum(outbox_rows), 0), coalesce(sum(item_rows), 0), "
                         "coalesce(sum(bytes), 0), count(*), coalesce(max(at), 0) "
                         "FROM prunes",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    *p = (ag_prune_sums){.runs = sqlite3_column_int64(st, 0),
                         .run_rows = sqlite3_column_int64(st, 1),
                         .outbox_rows = sqlite3_column_int64(st, 2),
                         .item_rows = sqlite3_column_int64(st, 3),
                         .bytes = sqlite3_column_int64(st, 4),
                         .prunes = sqlite3_column_int64(st, 5),
                         .last = sqlite3_column_double(st, 6)};
    ok = true;
  }
  sqlite3_finalize(st);
  return ok;
}

static const ag_store_ops sq_ops = {
    .close = sq_close,
    .runs_latest = sq_runs_latest,
    .run_get = sq_run_get,
    .last_success = sq_last_success,
    .paused = sq_paused,
    .runs_count = sq_runs_count,
    .approvals = sq_approvals,
    .approvals_pending = sq_approvals_pending,
    .approval_add = sq_approval_add,
    .approvals_approved = sq_approvals_approved,
    .run_approved = sq_run_approved,
    .deliveries = sq_deliveries,
    .deliveries_pending = sq_deliveries_pending,
    .prune_last = sq_prune_last,
    .prune_sums = sq_prune_sums,
};

ag_store *ag_db_store_open(const char *path, char *err, size_t errlen)
{
  sq_store *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->base.ops = &sq_ops;
  if (!(s->db = ag_db_open(path, err, errlen))) {
    free(s);
    return NULL;
  }
  return &s->base;
}
