/* A fleet node's journal (ag_journal.h): this node's record first, in the state folder's
 * vagt.db as on one machine (the one-machine journal's queries), then the fleet's copy in
 * PostgreSQL (ag_fleet.h: baselines, scripts, the pause after a drift; ag_fleet_history.c:
 * every run's row and files; ag_pg.h: schedule claims, seats, the shared outbox,
 * retention).
 *
 * Until connect, and while the fleet's database cannot be reached at all, a node records
 * here only and owes the fleet the copies (sync makes them). The alert deliverer and
 * retention threads connect when they first need the fleet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_alert.h"
#include "ag_db.h"
#include "ag_fleet.h"
#include "ag_journal.h"
#include "ag_pg.h"
#include "ag_util.h"
#include "prune.h"
#include "vu.h"

typedef struct {
  ag_journal base;
  ag_journal *local; /* this node's record: the one-machine journal */
  ag_fleet_node n;   /* n.db: local's connection */
} fleet_journal;

static fleet_journal *fj(ag_journal *j)
{
  return (fleet_journal *)j;
}

static ag_journal *loc(ag_journal *j)
{
  return fj(j)->local;
}

static void f_close(ag_journal *j)
{
  if (!j)
    return;
  ag_pg_close(fj(j)->n.pg);
  loc(j)->ops->close(loc(j));
  free(j);
}

static int f_connect(ag_journal *j, char *err, size_t errlen)
{
  fleet_journal *f = fj(j);
  int code = 0;
  if (f->n.pg)
    return 0;
  if (!(f->n.pg = ag_fleet_connect(f->n.cfg, &code, err, errlen)))
    return code == AG_PG_NEWER ? 1 : code == AG_PG_CONFIG ? 2 : -1;
  int rc = ag_fleet_register(&f->n, err, errlen);
  if (rc != 0) {
    ag_pg_close(f->n.pg);
    f->n.pg = NULL;
    return rc > 0 ? 2 : -1;
  }
  return 0;
}

static int f_ready(ag_journal *j, const ag_robot *r, char *why, size_t whylen)
{
  return ag_fleet_before_run(&fj(j)->n, r, why, whylen);
}

static int f_sched_claim(ag_journal *j, const ag_robot *r, time_t t, const char *trigger,
                         char *holder, size_t holder_len)
{
  return ag_fleet_sched_claim(&fj(j)->n, r, (long long)t, trigger, holder, holder_len);
}

static time_t f_sched_last(ag_journal *j, const ag_robot *r, time_t first)
{
  time_t t = loc(j)->ops->sched_last(loc(j), r, first);
  long long fleet_last;
  if (ag_fleet_sched_last(&fj(j)->n, r, &fleet_last) && fleet_last > (long long)t)
    t = (time_t)fleet_last; /* another node ran it since */
  return t;
}

static int f_sched_set(ag_journal *j, const ag_robot *r, time_t t)
{
  return loc(j)->ops->sched_set(loc(j), r, t);
}

static int f_seat_take(ag_journal *j, const ag_robot *r, int *seat, char *holder, char *err,
                       size_t errlen)
{
  static unsigned counter;
  fleet_journal *f = fj(j);
  *seat = 0;
  holder[0] = 0;
  if (!f->n.pg || r->seats <= 0)
    return 1;
  snprintf(holder, 48, "%.20s:%ld:%u", f->n.cfg->node, (long)getpid(), ++counter);
  int rc = ag_pg_seat_take(f->n.pg, r->name, r->seats, holder, f->n.cfg->item_lease, seat);
  if (rc == AG_PG_OK)
    return 1;
  if (rc == AG_PG_NONE)
    return 0;
  snprintf(err, errlen, "the fleet database cannot give a seat: %s", ag_pg_error(f->n.pg));
  return -1;
}

/* Renews (or gives back) a seat this node holds: 0, or -1 with err. */
static int seat_keep(ag_journal *j, const ag_robot *r, int seat, const char *holder, bool release,
                     char *err, size_t errlen)
{
  fleet_journal *f = fj(j);
  if (!seat || !f->n.pg)
    return 0;
  int rc = release ? ag_pg_seat_release(f->n.pg, r->name, seat, holder)
                   : ag_pg_seat_renew(f->n.pg, r->name, seat, holder, f->n.cfg->item_lease);
  if (rc == AG_PG_OK)
    return 0;
  snprintf(err, errlen, "%s", ag_pg_error(f->n.pg));
  return -1;
}

static int f_seat_renew(ag_journal *j, const ag_robot *r, int seat, const char *holder, char *err,
                        size_t errlen)
{
  return seat_keep(j, r, seat, holder, false, err, errlen);
}

static int f_seat_release(ag_journal *j, const ag_robot *r, int seat, const char *holder, char *err,
                          size_t errlen)
{
  return seat_keep(j, r, seat, holder, true, err, errlen);
}

static long long f_run_begin(ag_journal *j, const ag_robot *r, const char *trigger,
                             time_t scheduled, double started)
{
  long long id = loc(j)->ops->run_begin(loc(j), r, trigger, scheduled, started);
  if (id >= 0)
    ag_fleet_run_begin(&fj(j)->n, id);
  return id;
}

static int f_run_pid(ag_journal *j, long long id, int pid)
{
  return loc(j)->ops->run_pid(loc(j), id, pid);
}

static int f_run_end(ag_journal *j, long long id, const ag_robot *r, ag_runinfo *ri, int *alerts)
{
  ag_fleet_node *n = &fj(j)->n;
  /* a drift: the robot pauses on every node, and only the first node to halt alerts */
  bool alert = true;
  if (r && n->pg && !strcmp(ri->status, "drift")) {
    char aid[80];
    ag_alert_id(n->db, r->name, id, ri->status, aid, sizeof aid);
    alert = ag_fleet_on_drift(n, r, id, aid);
  }
  /* the fleet's pages know it by the fleet's id; while the database cannot give one the
   * alert names the run's folder instead (a local id would open another node's run) */
  ri->link_id = r && n->pg ? ag_fleet_run_id(n, id) : 0;
  if (n->pg && ri->link_id == 0)
    ri->link_id = -1;
  int rc = ag_journal_db_end(n->db, n->cfg, id, r, ri, alert, alerts);
  if (rc >= 0)
    ag_fleet_run_end(n, id);
  return rc;
}

static int f_runs_running(ag_journal *j, ag_db_running **out)
{
  return loc(j)->ops->runs_running(loc(j), out);
}

static void f_sync(ag_journal *j)
{
  ag_fleet_history_due(&fj(j)->n);
}

/* ---- the fleet's outbox ---- */

static double outbox_lease(void)
{
  const char *s = getenv("VAGT_AGENT_OUTBOX_LEASE");
  double l = s ? strtod(s, NULL) : 0;
  return l > 0 ? l : 300.0; /* longer than any delivery's own timeout */
}

/* Hands this node's undelivered rows to the fleet's outbox; a row handed over is marked
 * delivered here, with a note saying where it went. */
static void hand_over(sqlite3 *db, ag_pg *pg)
{
  ag_db_outbox_row *rows = NULL;
  int n = ag_db_outbox_due(db, -1, &rows);
  for (int i = 0; i < n; i++) {
    const ag_db_outbox_row *r = &rows[i];
    ag_pg_alert a = {.alert_id = r->alert_id,
                     .robot = r->robot,
                     .channel = r->channel,
                     .kind = r->kind,
                     .target = r->target,
                     .payload = r->payload};
    char *data =
        r->attach ? vu_read_file(r->attach, 32u << 20, VU_NOFOLLOW, &a.attach_len, NULL, 0) : NULL;
    if (data) {
      a.attach = (const unsigned char *)data;
      const char *slash = strrchr(r->attach, '/');
      a.attach_name = slash ? slash + 1 : r->attach;
    }
    bool added = false;
    int rc = ag_pg_outbox_add(pg, &a, &added);
    free(data);
    if (rc != AG_PG_OK)
      break; /* stays here; handed over when the database answers */
    ag_db_outbox_handed(db, r->id, ag_time(),
                        added ? "handed to the fleet's outbox"
                              : "in the fleet's outbox already (another node's)");
  }
  ag_db_outbox_rows_free(rows, n);
}

typedef struct {
  ag_pg *pg;
  ag_outbox_send send;
  void *cls;
  int delivered;
} claimed_arg;

static void deliver_claimed(void *ud, const ag_pg_alert *a)
{
  claimed_arg *c = ud;
  char err[1024] = "", tmp[] = "/tmp/vagt-attach-XXXXXX";
  const char *attach = NULL;
  if (a->attach) { /* the e-mail's image, from the database, in a private file for curl */
    int fd = mkstemp(tmp);
    if (fd >= 0) {
      if (vu_write_all(fd, (const char *)a->attach, a->attach_len))
        attach = tmp;
      close(fd);
    }
  }
  ag_outbox_msg m = {.alert_id = a->alert_id,
                     .channel = a->channel,
                     .kind = a->kind,
                     .target = a->target,
                     .payload = a->payload,
                     .attach = attach,
                     .attempts = a->attempts - 1, /* the claim counted this one */
                     .where = " (the fleet's outbox)"};
  double retry_in = 0;
  int rc = c->send(c->cls, &m, &retry_in, err, sizeof err);
  if (a->attach)
    unlink(tmp);
  c->delivered += rc == 0;
  if (ag_pg_outbox_result(c->pg, a->id, rc == 0, err, retry_in) != AG_PG_OK)
    fprintf(stderr, "vagt agent: fleet outbox: %s\n", ag_pg_error(c->pg));
}

static int f_outbox_deliver(ag_journal *j, double now, ag_outbox_send send, void *cls, int *pending)
{
  (void)now; /* the fleet's outbox is due by the database's clock */
  fleet_journal *f = fj(j);
  char err[512];
  if (!f->n.pg && f_connect(j, err, sizeof err) != 0)
    return 0; /* delivered when the database answers */
  hand_over(f->n.db, f->n.pg);
  claimed_arg c = {f->n.pg, send, cls, 0};
  if (ag_pg_outbox_claim(f->n.pg, outbox_lease(), deliver_claimed, &c) != AG_PG_OK)
    fprintf(stderr, "vagt agent: fleet outbox: %s\n", ag_pg_error(f->n.pg));
  if (pending) {
    long long n = ag_db_outbox_pending(f->n.db), m = 0;
    if (ag_pg_outbox_pending(f->n.pg, &m) == AG_PG_OK)
      n += m;
    *pending = (int)n;
  }
  return c.delivered;
}

/* ---- retention ---- */

static bool f_alert_pending_in(ag_journal *j, const char *dir)
{
  return loc(j)->ops->alert_pending_in(loc(j), dir);
}

static int f_runs_in(ag_journal *j, const char *dir, void (*each)(void *cls, long long id),
                     void *cls)
{
  return loc(j)->ops->runs_in(loc(j), dir, each, cls);
}

static int f_runs_ended_before(ag_journal *j, double cutoff,
                               void (*each)(void *cls, long long id, const char *dir), void *cls)
{
  return loc(j)->ops->runs_ended_before(loc(j), cutoff, each, cls);
}

static bool f_run_exists(ag_journal *j, long long id)
{
  return loc(j)->ops->run_exists(loc(j), id);
}

static int f_prune_rows(ag_journal *j, double now, double cutoff, const long long *ids, size_t n,
                        ag_db_prune *p)
{
  return loc(j)->ops->prune_rows(loc(j), now, cutoff, ids, n, p);
}

/* This node's runs in the fleet's database and what else there ended before the cutoff
 * (ag_pg_prune), and the copies of other nodes' runs its pages fetched (a cache: fetched
 * again when asked for). */
static long long f_prune_shared(ag_journal *j, double cutoff, long long *errors)
{
  fleet_journal *f = fj(j);
  char err[512], *cache = NULL;
  struct stat st;
  if (ag_asprintf(&cache, "%s/fleet/runs", f->n.cfg->state) >= 0 && lstat(cache, &st) == 0 &&
      rt_remove_tree(cache, err, sizeof err) != 0) {
    fprintf(stderr, "vagt agent: retention: %s\n", err);
    (*errors)++;
  }
  free(cache);
  ag_pg_pruned p = {0};
  if ((!f->n.pg && f_connect(j, err, sizeof err) != 0) ||
      ag_pg_prune(f->n.pg, cutoff, &p) != AG_PG_OK) {
    fprintf(stderr, "vagt agent: retention: the fleet's database: %s; at the next prune\n",
            f->n.pg ? ag_pg_error(f->n.pg) : err);
    (*errors)++;
  }
  long long rows = p.runs + p.outbox + p.items + p.schedule;
  if (rows)
    fprintf(stderr,
            "vagt agent: retention: the fleet's database: deleted %lld run%s of this node (with "
            "their files), %lld delivered alert%s, %lld finished work item%s, %lld old "
            "schedule claim%s\n",
            p.runs, p.runs == 1 ? "" : "s", p.outbox, p.outbox == 1 ? "" : "s", p.items,
            p.items == 1 ? "" : "s", p.schedule, p.schedule == 1 ? "" : "s");
  return rows;
}

static const ag_journal_ops fleet_ops = {
    .close = f_close,
    .connect = f_connect,
    .ready = f_ready,
    .sched_claim = f_sched_claim,
    .sched_last = f_sched_last,
    .sched_set = f_sched_set,
    .seat_take = f_seat_take,
    .seat_renew = f_seat_renew,
    .seat_release = f_seat_release,
    .run_begin = f_run_begin,
    .run_pid = f_run_pid,
    .run_end = f_run_end,
    .runs_running = f_runs_running,
    .sync = f_sync,
    .outbox_deliver = f_outbox_deliver,
    .alert_pending_in = f_alert_pending_in,
    .runs_in = f_runs_in,
    .runs_ended_before = f_runs_ended_before,
    .run_exists = f_run_exists,
    .prune_rows = f_prune_rows,
    .prune_shared = f_prune_shared,
};

ag_journal *ag_journal_open(const ag_config *c, const char *dbpath, char *err, size_t errlen)
{
  ag_journal *local = ag_journal_db_open(c, dbpath, err, errlen);
  if (!local || !c->database)
    return local;
  fleet_journal *f = calloc(1, sizeof *f);
  if (!f) {
    local->ops->close(local);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  f->base.ops = &fleet_ops;
  f->local = local;
  f->n.cfg = c;
  f->n.db = ag_journal_db_handle(local);
  return &f->base;
}
