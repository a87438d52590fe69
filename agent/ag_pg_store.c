/* The operator pages' store (ag_store.h) in fleet mode: every node's runs, approvals,
 * deliveries and run files from the fleet's PostgreSQL (ag_pg.h), so any node's pages show
 * the whole fleet and approve a run whichever node ran it. What retention did, and the
 * counters of the metrics page, stay this node's own (the local store beside it). One
 * connection, used by one thread at a time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_pg_int.h"
#include "ag_pg_store.h"
#include "vu.h"

typedef struct {
  ag_store base;
  ag_pg *pg; /* NULL until connected */
  char *conninfo, *password_file, *node;
  double next_try; /* monotonic: the next connection attempt */
  ag_store *local;
  pthread_mutex_t mu;
} pg_store;

static pg_store *of(ag_store *s)
{
  return (pg_store *)s;
}

/* Connected (at most one attempt every 5 s while the database is unreachable). Under mu. */
static bool connected(pg_store *s)
{
  if (s->pg)
    return true;
  if (vu_mono() < s->next_try)
    return false;
  ag_pg_opts o = {.conninfo = s->conninfo, .password_file = s->password_file, .node = s->node};
  char err[512];
  int code;
  if (!(s->pg = ag_pg_open(&o, &code, err, sizeof err))) {
    fprintf(stderr, "vagt agent: pages: fleet database: %s\n", err);
    s->next_try = vu_mono() + 5;
  }
  return s->pg != NULL;
}

/* One statement under the store's lock; NULL (logged, with the operation) on failure. */
static PGresult *q(pg_store *s, const char *op, const char *sql, int n, const char *const *p)
{
  if (!connected(s))
    return NULL;
  PGresult *r = NULL;
  if (agpg_begin_op(s->pg, op) == AG_PG_OK)
    r = agpg_exec1(s->pg, op, sql, n, p);
  if (!r)
    fprintf(stderr, "vagt agent: pages: fleet database: %s\n", ag_pg_error(s->pg));
  return r;
}

static double dbl(PGresult *r, int i, int c)
{
  return PQgetisnull(r, i, c) ? 0 : atof(PQgetvalue(r, i, c));
}

static void pg_close(ag_store *st)
{
  pg_store *s = of(st);
  ag_pg_close(s->pg);
  free(s->conninfo);
  free(s->password_file);
  free(s->node);
  if (s->local)
    s->local->ops->close(s->local);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static int pg_runs_latest(ag_store *st, const char *robot, int limit,
                          void (*each)(void *cls, const ag_run_brief *r), void *cls)
{
  pg_store *s = of(st);
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {lim, robot};
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "runs",
                  "SELECT id, robot, trigger, started, finished, status,"
                  " coalesce(exit_code::text, ''), steps, node FROM vagt_run"
                  " WHERE $2::text IS NULL OR robot = $2 ORDER BY id DESC LIMIT $1::integer",
                  2, p);
  int n = -1;
  if (r) {
    n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      ag_run_brief b = {.id = atoll(PQgetvalue(r, i, 0)),
                        .robot = PQgetvalue(r, i, 1),
                        .trigger = PQgetvalue(r, i, 2),
                        .started = dbl(r, i, 3),
                        .finished = dbl(r, i, 4),
                        .status = PQgetvalue(r, i, 5),
                        .exit_code = PQgetvalue(r, i, 6),
                        .steps = atoi(PQgetvalue(r, i, 7)),
                        .node = PQgetvalue(r, i, 8)};
      each(cls, &b);
    }
    PQclear(r);
  }
  pthread_mutex_unlock(&s->mu);
  return n;
}

static bool pg_run_get(ag_store *st, long long id, ag_run_row *row)
{
  pg_store *s = of(st);
  memset(row, 0, sizeof *row);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", id);
  const char *p[] = {sid};
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "runs",
                  "SELECT robot, status, run_dir, error, trigger, coalesce(exit_code, 0), steps,"
                  " started, finished, approved, coalesce(approve_result, ''), node"
                  " FROM vagt_run WHERE id = $1::bigint",
                  1, p);
  bool found = r && PQntuples(r) == 1;
  if (found) {
    row->id = id;
    snprintf(row->robot, sizeof row->robot, "%s", PQgetvalue(r, 0, 0));
    snprintf(row->status, sizeof row->status, "%s", PQgetvalue(r, 0, 1));
    snprintf(row->run_dir, sizeof row->run_dir, "%s", PQgetvalue(r, 0, 2));
    snprintf(row->error, sizeof row->error, "%s", PQgetvalue(r, 0, 3));
    snprintf(row->trigger, sizeof row->trigger, "%s", PQgetvalue(r, 0, 4));
    row->exit_code = atoi(PQgetvalue(r, 0, 5));
    row->steps = atoi(PQgetvalue(r, 0, 6));
    row->started = dbl(r, 0, 7);
    row->finished = dbl(r, 0, 8);
    row->approved = dbl(r, 0, 9);
    snprintf(row->approve_result, sizeof row->approve_result, "%s", PQgetvalue(r, 0, 10));
    snprintf(row->node, sizeof row->node, "%s", PQgetvalue(r, 0, 11));
  }
  PQclear(r);
  pthread_mutex_unlock(&s->mu);
  return found;
}

static int pg_paused(ag_store *st, const char *robot, long long *run, char *by, size_t bylen)
{
  pg_store *s = of(st);
  const char *p[] = {robot};
  *run = 0;
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "pause", AGPG_PAUSE_SQL, 1, p);
  int rc = -1;
  if (r) {
    rc = PQntuples(r) == 1;
    if (rc)
      agpg_pause_holder(r, run, by, bylen);
    PQclear(r);
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int pg_last_success(ag_store *st, const char *robot, double *t)
{
  pg_store *s = of(st);
  const char *p[] = {robot};
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(
      s, "runs", "SELECT max(finished) FROM vagt_run WHERE robot = $1 AND status = 'passed'", 1, p);
  int rc = -1;
  if (r) {
    rc = PQgetisnull(r, 0, 0) ? 0 : 1;
    if (rc)
      *t = dbl(r, 0, 0);
    PQclear(r);
  }
  pthread_mutex_unlock(&s->mu);
  /* a run retention deleted everywhere: this node's own counts still know it */
  double mine = 0;
  if (rc >= 0 && s->local && s->local->ops->last_success(s->local, robot, &mine) == 1 &&
      (rc == 0 || mine > *t)) {
    *t = mine;
    rc = 1;
  }
  return rc;
}

/* The metrics page's counters are this node's (never going down when retention deletes). */
static long long pg_runs_count(ag_store *st, const char *robot, const char *status,
                               bool with_pruned)
{
  pg_store *s = of(st);
  return s->local ? s->local->ops->runs_count(s->local, robot, status, with_pruned) : -1;
}

static int pg_approvals(ag_store *st, long long run_id, const char *robot,
                        void (*each)(void *cls, const ag_approval_row *a), void *cls)
{
  pg_store *s = of(st);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", run_id);
  const char *p[] = {robot ? robot : sid};
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "approvals",
                  robot ? "SELECT run, step, by_op, at, state, changed FROM vagt_approval"
                          " WHERE robot = $1 ORDER BY id DESC LIMIT 200"
                        : "SELECT run, step, by_op, at, state, changed FROM vagt_approval"
                          " WHERE run = $1::bigint ORDER BY id DESC LIMIT 200",
                  1, p);
  int n = -1;
  if (r) {
    n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      ag_approval_row a = {.run_id = atoll(PQgetvalue(r, i, 0)),
                           .step = PQgetvalue(r, i, 1),
                           .by = PQgetvalue(r, i, 2),
                           .at = dbl(r, i, 3),
                           .state = PQgetvalue(r, i, 4),
                           .changed = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5)};
      each(cls, &a);
    }
    PQclear(r);
  }
  pthread_mutex_unlock(&s->mu);
  return n;
}

static size_t pg_approvals_pending(ag_store *st, long long run_id, char **names, size_t max)
{
  pg_store *s = of(st);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", run_id);
  const char *p[] = {sid};
  size_t n = 0;
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "approvals",
                  "SELECT by_op FROM vagt_approval WHERE run = $1::bigint AND state = 'pending'"
                  " ORDER BY id",
                  1, p);
  for (int i = 0; r && i < PQntuples(r) && n < max; i++)
    if ((names[n] = strdup(PQgetvalue(r, i, 0))))
      n++;
  PQclear(r);
  pthread_mutex_unlock(&s->mu);
  return n;
}

static void pg_approval_add(ag_store *st, const ag_run_row *run, const char *step, const char *by,
                            double at, const char *state, const char *changed)
{
  pg_store *s = of(st);
  char sid[24], sat[40];
  snprintf(sid, sizeof sid, "%lld", run->id);
  snprintf(sat, sizeof sat, "%.6f", at);
  const char *p[] = {sid, run->robot, step ? step : "", by, sat, state, changed, s->node};
  pthread_mutex_lock(&s->mu);
  PQclear(q(s, "approvals",
            "INSERT INTO vagt_approval (run, robot, step, by_op, at, state, changed, node)"
            " VALUES ($1::bigint, $2, $3, $4, $5::float8, $6, $7, $8)",
            8, p));
  pthread_mutex_unlock(&s->mu);
}

static void pg_approvals_approved(ag_store *st, long long run_id, const char *changed)
{
  pg_store *s = of(st);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", run_id);
  const char *p[] = {sid, changed};
  pthread_mutex_lock(&s->mu);
  PQclear(q(s, "approvals",
            "UPDATE vagt_approval SET state = 'approved', changed = $2"
            " WHERE run = $1::bigint AND state = 'pending'",
            2, p));
  pthread_mutex_unlock(&s->mu);
}

static void pg_run_approved(ag_store *st, long long run_id, double at, const char *result)
{
  pg_store *s = of(st);
  char sid[24], sat[40];
  snprintf(sid, sizeof sid, "%lld", run_id);
  snprintf(sat, sizeof sat, "%.6f", at);
  const char *p[] = {sid, sat, result};
  pthread_mutex_lock(&s->mu);
  PQclear(q(s, "approvals",
            "UPDATE vagt_run SET approved = $2::float8, approve_result = $3 WHERE id = $1::bigint",
            3, p));
  pthread_mutex_unlock(&s->mu);
}

static int pg_deliveries(ag_store *st, long long run_id,
                         void (*each)(void *cls, const ag_delivery_row *d), void *cls)
{
  pg_store *s = of(st);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", run_id);
  const char *p[] = {sid};
  pthread_mutex_lock(&s->mu);
  PGresult *r = q(s, "deliveries",
                  "SELECT o.alert_id, o.channel, o.kind, o.attempts,"
                  " extract(epoch FROM o.delivered_at), coalesce(o.last_error, '')"
                  " FROM vagt_outbox o JOIN vagt_run r ON r.alert_id = o.alert_id"
                  " WHERE r.id = $1::bigint ORDER BY o.id",
                  1, p);
  int n = -1;
  if (r) {
    n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      ag_delivery_row d = {.alert_id = PQgetvalue(r, i, 0),
                           .channel = PQgetvalue(r, i, 1),
                           .kind = PQgetvalue(r, i, 2),
                           .attempts = atoi(PQgetvalue(r, i, 3)),
                           .delivered = dbl(r, i, 4),
                           .last_error = PQgetvalue(r, i, 5)};
      each(cls, &d);
    }
    PQclear(r);
  }
  pthread_mutex_unlock(&s->mu);
  return n;
}

static long long pg_deliveries_pending(ag_store *st)
{
  pg_store *s = of(st);
  pthread_mutex_lock(&s->mu);
  PGresult *r =
      q(s, "deliveries", "SELECT count(*) FROM vagt_outbox WHERE delivered_at IS NULL", 0, NULL);
  long long n = r ? atoll(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  pthread_mutex_unlock(&s->mu);
  /* rows this node has not handed to the fleet yet */
  return n + (s->local ? s->local->ops->deliveries_pending(s->local) : 0);
}

static bool pg_prune_last(ag_store *st, ag_prune_last *p)
{
  pg_store *s = of(st);
  return s->local && s->local->ops->prune_last(s->local, p);
}

static bool pg_prune_sums(ag_store *st, ag_prune_sums *p)
{
  pg_store *s = of(st);
  if (s->local)
    return s->local->ops->prune_sums(s->local, p);
  memset(p, 0, sizeof *p);
  return false;
}

static int pg_run_files_to(ag_store *st, long long id, const char *dir, char *err, size_t errlen)
{
  pg_store *s = of(st);
  pthread_mutex_lock(&s->mu);
  int rc = -1;
  if (!connected(s))
    snprintf(err, errlen, "the fleet database is not reachable");
  else
    rc = ag_pg_run_files_to(s->pg, id, dir, err, errlen) == AG_PG_OK ? 0 : -1;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static const ag_store_ops pg_ops = {
    .close = pg_close,
    .runs_latest = pg_runs_latest,
    .run_get = pg_run_get,
    .last_success = pg_last_success,
    .paused = pg_paused,
    .runs_count = pg_runs_count,
    .approvals = pg_approvals,
    .approvals_pending = pg_approvals_pending,
    .approval_add = pg_approval_add,
    .approvals_approved = pg_approvals_approved,
    .run_approved = pg_run_approved,
    .deliveries = pg_deliveries,
    .deliveries_pending = pg_deliveries_pending,
    .prune_last = pg_prune_last,
    .prune_sums = pg_prune_sums,
    .run_files_to = pg_run_files_to,
};

ag_store *ag_pg_store_open(const ag_pg_opts *o, ag_store *local)
{
  pg_store *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->base.ops = &pg_ops;
  s->conninfo = strdup(o->conninfo);
  s->password_file = o->password_file ? strdup(o->password_file) : NULL;
  s->node = strdup(o->node);
  if (!s->conninfo || !s->node || (o->password_file && !s->password_file)) {
    free(s->conninfo);
    free(s->password_file);
    free(s->node);
    free(s);
    return NULL;
  }
  s->local = local;
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_lock(&s->mu);
  connected(s); /* now, so a wrong address is in the log at start; else on first use */
  pthread_mutex_unlock(&s->mu);
  return &s->base;
}
