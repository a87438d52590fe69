/* The one-machine journal (ag_journal.h): everything in the state folder's vagt.db through
 * ag_db.c's queries. There is nothing to share: every robot is ready, every scheduled run
 * and every seat is this node's. */
#include <stdio.h>
#include <stdlib.h>

#include "ag_alert.h"
#include "ag_db.h"
#include "ag_journal.h"
#include "ag_util.h"

typedef struct {
  ag_journal base;
  sqlite3 *db;
  const ag_config *cfg;
} db_journal;

static sqlite3 *dbof(ag_journal *j)
{
  return ((db_journal *)j)->db;
}

sqlite3 *ag_journal_db_handle(ag_journal *j)
{
  return dbof(j);
}

static void j_close(ag_journal *j)
{
  if (!j)
    return;
  ag_db_close(dbof(j));
  free(j);
}

static int j_connect(ag_journal *j, char *err, size_t errlen)
{
  (void)j, (void)err, (void)errlen;
  return 0;
}

static int j_ready(ag_journal *j, const ag_robot *r, char *why, size_t whylen)
{
  (void)j, (void)r, (void)why, (void)whylen;
  return 0;
}

static int j_sched_claim(ag_journal *j, const ag_robot *r, time_t t, const char *trigger,
                         char *holder, size_t holder_len)
{
  (void)j, (void)r, (void)t, (void)trigger;
  if (holder_len)
    holder[0] = 0;
  return 1;
}

static time_t j_sched_last(ag_journal *j, const ag_robot *r, time_t first)
{
  time_t t;
  if (ag_db_sched_get(dbof(j), r->name, &t))
    return t;
  ag_db_sched_set(dbof(j), r->name, first);
  return first;
}

static int j_sched_set(ag_journal *j, const ag_robot *r, time_t t)
{
  return ag_db_sched_set(dbof(j), r->name, t);
}

static int j_seat_take(ag_journal *j, const ag_robot *r, int *seat, char *holder, char *err,
                       size_t errlen)
{
  (void)j, (void)r, (void)err, (void)errlen;
  *seat = 0;
  holder[0] = 0;
  return 1;
}

static int j_seat_keep(ag_journal *j, const ag_robot *r, int seat, const char *holder, char *err,
                       size_t errlen)
{
  (void)j, (void)r, (void)seat, (void)holder, (void)err, (void)errlen;
  return 0;
}

static long long j_run_begin(ag_journal *j, const ag_robot *r, const char *trigger,
                             time_t scheduled, double started)
{
  return ag_db_run_insert(dbof(j), r->name, trigger, scheduled, started, 0);
}

static int j_run_pid(ag_journal *j, long long id, int pid)
{
  return ag_db_run_pid(dbof(j), id, pid);
}

int ag_journal_db_end(sqlite3 *db, const ag_config *c, long long id, const ag_robot *r,
                      const ag_runinfo *ri, bool alert, int *alerts)
{
  int na = 0, rc = -1;
  if (ag_db_exec(db, "BEGIN IMMEDIATE") == 0) {
    int done = ag_db_run_finish(db, id, ri);
    na = done == 1 && r && alert ? ag_alert_enqueue(db, c, r, id, ri, ri->finished) : 0;
    if (done >= 0 && na >= 0 && ag_db_exec(db, "COMMIT") == 0)
      rc = done;
    if (rc < 0 && !sqlite3_get_autocommit(db))
      ag_db_exec(db, "ROLLBACK");
  }
  if (alerts)
    *alerts = rc == 1 ? na : 0;
  return rc;
}

static int j_run_end(ag_journal *j, long long id, const ag_robot *r, ag_runinfo *ri, int *alerts)
{
  db_journal *d = (db_journal *)j;
  ri->link_id = 0;
  return ag_journal_db_end(d->db, d->cfg, id, r, ri, true, alerts);
}

static int j_runs_running(ag_journal *j, ag_db_running **out)
{
  return ag_db_runs_running(dbof(j), out);
}

static void j_sync(ag_journal *j)
{
  (void)j;
}

static int j_outbox_deliver(ag_journal *j, double now, ag_outbox_send send, void *cls, int *pending)
{
  sqlite3 *db = dbof(j);
  ag_db_outbox_row *rows = NULL;
  int n = ag_db_outbox_due(db, now, &rows), delivered = 0;
  for (int i = 0; i < n; i++) {
    const ag_db_outbox_row *r = &rows[i];
    ag_outbox_msg m = {.alert_id = r->alert_id,
                       .channel = r->channel,
                       .kind = r->kind,
                       .target = r->target,
                       .payload = r->payload,
                       .attach = r->attach,
                       .attempts = r->attempts,
                       .where = ""};
    char err[1024] = "";
    double retry_in = 0;
    int rc = send(cls, &m, &retry_in, err, sizeof err);
    double t = ag_time();
    ag_db_outbox_result(db, r->id, rc == 0, t, err, t + retry_in);
    delivered += rc == 0;
  }
  ag_db_outbox_rows_free(rows, n);
  if (pending)
    *pending = (int)ag_db_outbox_pending(db);
  return delivered;
}

static bool j_alert_pending_in(ag_journal *j, const char *dir)
{
  return ag_db_alert_pending_in(dbof(j), dir);
}

static int j_runs_in(ag_journal *j, const char *dir, void (*each)(void *cls, long long id),
                     void *cls)
{
  return ag_db_runs_in(dbof(j), dir, each, cls);
}

static int j_runs_ended_before(ag_journal *j, double cutoff,
                               void (*each)(void *cls, long long id, const char *dir), void *cls)
{
  return ag_db_runs_ended_before(dbof(j), cutoff, each, cls);
}

static bool j_run_exists(ag_journal *j, long long id)
{
  return ag_db_run_exists(dbof(j), id);
}

static int j_prune_rows(ag_journal *j, double now, double cutoff, const long long *ids, size_t n,
                        ag_db_prune *p)
{
  int rc = ag_db_prune_rows(dbof(j), now, cutoff, ids, n, p);
  if (p->run_rows + p->outbox_rows > 0)
    ag_db_exec(dbof(j), "PRAGMA wal_checkpoint(TRUNCATE)"); /* old pages leave the log */
  return rc;
}

static long long j_prune_shared(ag_journal *j, double cutoff, long long *errors)
{
  (void)j, (void)cutoff, (void)errors;
  return 0;
}

static const ag_journal_ops db_ops = {
    .close = j_close,
    .connect = j_connect,
    .ready = j_ready,
    .sched_claim = j_sched_claim,
    .sched_last = j_sched_last,
    .sched_set = j_sched_set,
    .seat_take = j_seat_take,
    .seat_renew = j_seat_keep,
    .seat_release = j_seat_keep,
    .run_begin = j_run_begin,
    .run_pid = j_run_pid,
    .run_end = j_run_end,
    .runs_running = j_runs_running,
    .sync = j_sync,
    .outbox_deliver = j_outbox_deliver,
    .alert_pending_in = j_alert_pending_in,
    .runs_in = j_runs_in,
    .runs_ended_before = j_runs_ended_before,
    .run_exists = j_run_exists,
    .prune_rows = j_prune_rows,
    .prune_shared = j_prune_shared,
};

ag_journal *ag_journal_db_open(const ag_config *c, const char *path, char *err, size_t errlen)
{
  db_journal *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!(d->db = ag_db_open(path, err, errlen))) {
    free(d);
    return NULL;
  }
  d->base.ops = &db_ops;
  d->cfg = c;
  return &d->base;
}
