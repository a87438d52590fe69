/* `vagt agent`: the scheduler daemon (README "Nightly runs: the agent").
 *
 * How it is put together: ag_config.c loads and validates the Lua configuration (with
 * ag_cron.c for schedules), ag_run.c starts and supervises one `vagt run` child per run and
 * records it in the journal (ag_journal.h: SQLite on one machine, SQLite then the fleet's
 * PostgreSQL on a fleet's node), ag_alert.c turns a drift or failure into outbox rows and
 * delivers them from a thread, ag_web.c serves the operator pages (their history through
 * ag_store.h), ag_prune.c deletes what is past retention_days from a thread. This file holds
 * the command line and the scheduler loop; it asks the journal whether a robot may start,
 * whose a scheduled run is and for a seat, the same way with or without a fleet. */
#include "agent.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ag_alert.h"
#include "ag_config.h"
#include "ag_cron.h"
#include "ag_pg.h"
#include "ag_prune.h"
#include "ag_run.h"
#include "ag_util.h"
#include "ag_web.h"
#include "check.h"
#include "host.h"
#include "vu.h"

static volatile sig_atomic_t g_stop;

/* Runs asked for on the pages ("Run now"), one flag per robot. */
static pthread_mutex_t g_req_mu = PTHREAD_MUTEX_INITIALIZER;
static bool *g_req;
static ag_config *g_req_cfg;

void ag_request_run(ag_robot *r)
{
  pthread_mutex_lock(&g_req_mu);
  if (g_req && g_req_cfg && r >= g_req_cfg->robots && r < g_req_cfg->robots + g_req_cfg->nrobots)
    g_req[r - g_req_cfg->robots] = true;
  pthread_mutex_unlock(&g_req_mu);
}

static void on_stop(int sig)
{
  (void)sig;
  g_stop = 1;
}

static void usage(FILE *f)
{
  fputs("usage:\n"
        "  vagt agent --config agent.lua            run the scheduler daemon\n"
        "  vagt agent --check --config agent.lua    validate the configuration and the robots'\n"
        "                                           scripts; show every robot's next run\n"
        "  vagt agent --once ROBOT --config agent.lua\n"
        "                                           run one robot now (private Xvfb, history,\n"
        "                                           alerts) and exit with its exit status\n"
        "exit status: 0 success; 2 configuration error; with --once the run's own status\n",
        f);
}

static void fmt_local(const char *tz, time_t t, char *buf, size_t n)
{
  if (t == (time_t)-1) {
    snprintf(buf, n, "never");
    return;
  }
  struct tm tm;
  ag_localtime_tz(tz, t, &tm);
  strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm);
}

/* `vagt check` of every robot's script: a syntax error or a misspelt robot.* name is found
 * now, not at 02:30. Returns the number of scripts with errors. */
static int check_scripts(ag_config *c)
{
  int bad = 0;
  for (size_t i = 0; i < c->nrobots; i++) {
    ag_robot *r = &c->robots[i];
    char err[512] = "out of memory";
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int rc = f ? rt_check_file(r->script, f, err, sizeof err) : -1;
    if (f)
      fclose(f);
    if (rc < 0) {
      fprintf(stderr, "vagt agent: %s\n", err);
      free(out);
      return 1;
    }
    if (rc != 0) {
      bad++;
      fprintf(stderr, "%s:%d: robot '%s': its script does not pass `vagt check`:\n", c->path,
              r->line, r->name);
      for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n"))
        if (!strstr(line, ": note: "))
          fprintf(stderr, "  %s\n", line);
    }
    free(out);
  }
  return bad;
}

static int cmd_check(ag_config *c)
{
  if (check_scripts(c) > 0)
    return 2;
  char err[1024];
  if (c->database && c->database_password_file &&
      ag_pg_password_check(c->database_password_file, err, sizeof err) != 0) {
    fprintf(stderr, "%s: database_password_file: %s\n", c->path, err + strlen("connect: "));
    return 2;
  }
  printf("%s: configuration OK: %zu robot%s, %zu channel%s; state %s; pages %s; "
         "max_parallel %d; retention %d days\n",
         c->path, c->nrobots, c->nrobots == 1 ? "" : "s", c->nchannels,
         c->nchannels == 1 ? "" : "s", c->state, c->listen ? c->listen : "off", c->max_parallel,
         c->retention_days);
  if (c->database)
    printf("  fleet node %s; its database is reached when the agent starts (not by this "
           "check: connecting creates or upgrades the fleet's schema)\n",
           c->node);
  time_t now = (time_t)ag_time();
  for (size_t i = 0; i < c->nrobots; i++) {
    ag_robot *r = &c->robots[i];
    char next[64] = "on demand only (no schedule)";
    if (r->schedule)
      fmt_local(r->tz, ag_cron_next(&r->cron, r->tz, now), next, sizeof next);
    printf("  robot %-20s %s%s next: %s\n", r->name, r->schedule ? r->schedule : "-",
           r->enabled ? "" : " (disabled)", next);
  }
  return 0;
}

/* Waits for the run to end (signals stop it), then delivers its alerts for a while. */
static int cmd_once(ag_ctx *x, ag_robot *r)
{
  ag_child ch;
  char err[1024];
  ag_journal *j = x->j;
  int rc = j->ops->connect(j, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "vagt agent: fleet database: %s\n", err);
    return rc == 2 ? 2 : 4;
  }
  if ((rc = j->ops->ready(j, r, err, sizeof err)) != 0) {
    fprintf(stderr, "vagt agent: robot %s does not run: %s\n", r->name, err);
    return rc > 0 ? 3 : 4;
  }
  int seat = 0;
  char seat_run[48] = "";
  double give_up = vu_mono() + r->timeout;
  bool told = false;
  for (;;) {
    int got = j->ops->seat_take(j, r, &seat, seat_run, err, sizeof err);
    if (got > 0)
      break;
    if (g_stop || vu_mono() > give_up) {
      fprintf(stderr, "vagt agent: robot %s got no seat within its timeout: %s\n", r->name,
              got == 0 ? "all its seats stayed in use in the fleet" : err);
      return 4;
    }
    if (!told)
      fprintf(stderr, "vagt agent: robot %s waits for a seat: %s\n", r->name,
              got == 0 ? "all its seats are in use in the fleet" : err);
    told = true;
    usleep(500 * 1000);
  }
  if (ag_run_start(x, r, "once", 0, &ch, seat, seat_run, err, sizeof err) != 0) {
    char rerr[512];
    j->ops->seat_release(j, r, seat, seat_run, rerr, sizeof rerr);
    fprintf(stderr, "vagt agent: %s\n", err);
    return 4;
  }
  int code = 4;
  while (!ag_run_poll(x, &ch, &code)) {
    if (g_stop && !ch.stopping)
      ag_run_stop(&ch);
    usleep(100 * 1000);
  }
  const char *s = getenv("VAGT_AGENT_DELIVER_SECONDS");
  double limit = s ? strtod(s, NULL) : 60;
  double end = vu_mono() + limit;
  int pending = 0;
  j->ops->sync(j); /* copies the fleet's database refused before (a node run by cron) */
  do {
    ag_outbox_deliver(j, ag_time(), &pending);
  } while (pending > 0 && vu_mono() < end && !g_stop && usleep(500 * 1000) == 0);
  if (pending > 0)
    fprintf(stderr,
            "vagt agent: %d alert deliver%s still pending in the outbox; the agent "
            "daemon retries them\n",
            pending, pending == 1 ? "y is" : "ies are");
  return code;
}

typedef struct {
  ag_robot *r;
  time_t next; /* next scheduled time, -1 = none */
  bool queued;
  const char *trigger;
  time_t scheduled; /* of the queued run */
  ag_child ch;
  bool running;
  time_t retry_at; /* fleet: the database could not say whose run it is; ask again then */
  bool claimed;    /* fleet: the queued scheduled run is this node's (it waits for a seat) */
  bool told_seats;
  bool told_unreachable;
} slot;

/* Is the queued run this node's (in a fleet, a scheduled run is claimed by one node)? 1 yes
 * (always on one machine), 0 another node's (told, and the slot let go), -1 the fleet
 * cannot say now (the slot waits and asks again). */
static int claim_run(ag_ctx *x, slot *sl, time_t now)
{
  char holder[256], when[64];
  int mine = x->j->ops->sched_claim(x->j, sl->r, sl->scheduled, sl->trigger, holder, sizeof holder);
  if (mine >= 0) {
    sl->told_unreachable = false;
    sl->retry_at = 0;
  }
  if (mine == 1)
    return 1;
  fmt_local(sl->r->tz, sl->scheduled, when, sizeof when);
  if (mine < 0) {
    if (!sl->told_unreachable)
      fprintf(stderr,
              "vagt agent: robot %s: its run at %s waits: the fleet database cannot "
              "say whose it is (%s)\n",
              sl->r->name, when, holder);
    sl->told_unreachable = true;
    sl->retry_at = now + 2;
    return -1;
  }
  fprintf(stderr, "vagt agent: robot %s: its run at %s is node %s's\n", sl->r->name, when, holder);
  x->j->ops->sched_set(x->j, sl->r, sl->scheduled);
  sl->queued = false;
  return 0;
}

/* May the robot run here now (the journal's ready)? 1 yes (in a fleet: its baseline is the
 * fleet's); 0 it is paused after a drift halt (told, the slot let go); -1 the fleet cannot
 * say now (the slot waits and asks again). */
static int may_start(ag_ctx *x, slot *sl, time_t now)
{
  char why[1024];
  int rc = x->j->ops->ready(x->j, sl->r, why, sizeof why);
  if (rc == 0)
    return 1;
  if (rc > 0) {
    fprintf(stderr, "vagt agent: robot %s does not run: %s\n", sl->r->name, why);
    if (sl->scheduled > 0)
      x->j->ops->sched_set(x->j, sl->r, sl->scheduled);
    sl->queued = false;
    return 0;
  }
  char when[64] = "now";
  if (sl->scheduled > 0)
    fmt_local(sl->r->tz, sl->scheduled, when, sizeof when);
  if (!sl->told_unreachable)
    fprintf(stderr, "vagt agent: robot %s: its run at %s waits: %s\n", sl->r->name, when, why);
  sl->told_unreachable = true;
  sl->retry_at = now + 2;
  return -1;
}

/* The latest scheduled time <= now after `last`, or -1 when none is due. */
static time_t latest_due(const ag_robot *r, time_t last, time_t now)
{
  time_t t = ag_cron_next(&r->cron, r->tz, last), latest = -1;
  for (int guard = 0; t != (time_t)-1 && t <= now; guard++) {
    latest = t;
    if (guard > 20000)
      return now; /* long down time with a frequent schedule: close enough */
    t = ag_cron_next(&r->cron, r->tz, t);
  }
  return latest;
}

/* At the start: each scheduled robot's next run, and the run it missed while the agent
 * was down (queued when its catch_up says so, else skipped). */
static void schedule_start(ag_ctx *x, slot *s, time_t now)
{
  ag_config *c = x->cfg;
  for (size_t i = 0; i < c->nrobots; i++) {
    ag_robot *r = &c->robots[i];
    s[i].r = r;
    s[i].next = -1;
    if (!r->schedule || !r->enabled)
      continue;
    /* in a fleet the latest of any node; the first start with this robot: from now on */
    time_t last = x->j->ops->sched_last(x->j, r, now);
    time_t missed = latest_due(r, last, now);
    if (missed != (time_t)-1) {
      char when[64];
      fmt_local(r->tz, missed, when, sizeof when);
      if (r->catch_up) {
        fprintf(stderr,
                "vagt agent: robot %s missed its run at %s while the agent was "
                "down: running it now (catch_up)\n",
                r->name, when);
        s[i].queued = true;
        s[i].trigger = "catch-up";
        s[i].scheduled = missed;
      } else {
        fprintf(stderr,
                "vagt agent: robot %s missed its run at %s while the agent was "
                "down: skipped (catch_up = false)\n",
                r->name, when);
        x->j->ops->sched_set(x->j, r, missed);
      }
      last = missed;
    }
    s[i].next = ag_cron_next(&r->cron, r->tz, last > now ? last : now);
    char when[64];
    fmt_local(r->tz, s[i].next, when, sizeof when);
    fprintf(stderr, "vagt agent: robot %s: next run %s\n", r->name, when);
  }
}

/* Queues the scheduled runs that are due (one still running or waiting skips its next). */
static void schedule_due(ag_ctx *x, slot *s, time_t now)
{
  for (size_t i = 0; i < x->cfg->nrobots && !g_stop; i++) {
    slot *sl = &s[i];
    if (sl->next == (time_t)-1 || sl->next > now)
      continue;
    if (sl->running || sl->queued) {
      fprintf(stderr,
              "vagt agent: robot %s is still running (or waiting for a free "
              "slot): its run due now is skipped\n",
              sl->r->name);
      x->j->ops->sched_set(x->j, sl->r, sl->next);
    } else {
      sl->queued = true;
      sl->trigger = "schedule";
      sl->scheduled = sl->next;
    }
    time_t n = ag_cron_next(&sl->r->cron, sl->r->tz, sl->next);
    while (n != (time_t)-1 && n <= now)
      n = ag_cron_next(&sl->r->cron, sl->r->tz, n);
    sl->next = n;
  }
}

/* Queues the runs asked for on the pages. */
static void take_requests(ag_ctx *x, slot *s)
{
  pthread_mutex_lock(&g_req_mu);
  for (size_t i = 0; g_req && i < x->cfg->nrobots; i++) {
    if (!g_req[i])
      continue;
    g_req[i] = false;
    if (g_stop)
      continue;
    if (s[i].running || s[i].queued) {
      fprintf(stderr,
              "vagt agent: robot %s is already running or waiting: the run asked "
              "for on the pages is not added\n",
              s[i].r->name);
    } else {
      s[i].queued = true;
      s[i].trigger = "manual";
      s[i].scheduled = 0;
    }
  }
  pthread_mutex_unlock(&g_req_mu);
}

/* Starts queued runs, oldest schedule first, while slots are free: each one ready (in a
 * fleet: not paused, its baseline the fleet's), this node's and with a seat. Returns how
 * many run now. */
static int start_queued(ag_ctx *x, slot *s, int running, time_t now)
{
  while (!g_stop && running < x->cfg->max_parallel) {
    slot *pick = NULL;
    for (size_t i = 0; i < x->cfg->nrobots; i++)
      if (s[i].queued && !s[i].running && s[i].retry_at <= now &&
          (!pick || s[i].scheduled < pick->scheduled))
        pick = &s[i];
    if (!pick)
      break;
    if (may_start(x, pick, now) <= 0)
      continue; /* paused (let go), or waits: retry_at is in the future now */
    if (!pick->claimed) {
      int mine = claim_run(x, pick, now);
      if (mine <= 0)
        continue; /* another node's, or waits: retry_at is in the future now */
      pick->claimed = true;
    }
    int seat;
    char seat_run[48], err[1024];
    int got = x->j->ops->seat_take(x->j, pick->r, &seat, seat_run, err, sizeof err);
    if (got <= 0) { /* every seat is held (or the database cannot say): wait for one */
      if (!pick->told_seats)
        fprintf(stderr, "vagt agent: robot %s waits for a seat: %s\n", pick->r->name,
                got == 0 ? "all its seats are in use in the fleet" : err);
      pick->told_seats = true;
      pick->retry_at = now + 1;
      continue;
    }
    pick->queued = pick->claimed = pick->told_seats = false;
    if (pick->scheduled > 0)
      x->j->ops->sched_set(x->j, pick->r, pick->scheduled);
    if (ag_run_start(x, pick->r, pick->trigger, pick->scheduled, &pick->ch, seat, seat_run, err,
                     sizeof err) != 0) {
      fprintf(stderr, "vagt agent: robot %s: %s\n", pick->r->name, err);
      x->j->ops->seat_release(x->j, pick->r, seat, seat_run, err, sizeof err);
      continue;
    }
    pick->running = true;
    running++;
  }
  return running;
}

/* Polls the running children (stopping them when the agent stops); returns how many run. */
static int poll_running(ag_ctx *x, slot *s, int running)
{
  for (size_t i = 0; i < x->cfg->nrobots; i++) {
    if (!s[i].running)
      continue;
    if (g_stop && !s[i].ch.stopping)
      ag_run_stop(&s[i].ch);
    if (ag_run_poll(x, &s[i].ch, NULL)) {
      s[i].running = false;
      running--;
    }
  }
  return running;
}

static int daemon_loop(ag_ctx *x)
{
  ag_config *c = x->cfg;
  slot *s = calloc(c->nrobots ? c->nrobots : 1, sizeof *s);
  if (!s)
    return 4;
  pthread_mutex_lock(&g_req_mu);
  g_req = calloc(c->nrobots ? c->nrobots : 1, sizeof *g_req);
  g_req_cfg = c;
  pthread_mutex_unlock(&g_req_mu);
  schedule_start(x, s, (time_t)ag_time());
  int running = 0;
  double sync_at = 0; /* monotonic: when to retry the copies the fleet refused */
  while (!g_stop || running > 0) {
    time_t now = (time_t)ag_time();
    schedule_due(x, s, now);
    take_requests(x, s);
    running = start_queued(x, s, running, now);
    running = poll_running(x, s, running);
    if (vu_mono() >= sync_at) {
      x->j->ops->sync(x->j);
      sync_at = vu_mono() + 5;
    }
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&g_req_mu);
  free(g_req);
  g_req = NULL;
  g_req_cfg = NULL;
  pthread_mutex_unlock(&g_req_mu);
  free(s);
  return 0;
}

int ag_main(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'},
      {"check", no_argument, 0, 'k'},
      {"once", required_argument, 0, 'o'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  const char *config = NULL, *once = NULL;
  bool check = false;
  optind = 1;
  int o;
  while ((o = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
    switch (o) {
      case 'c': config = optarg; break;
      case 'k': check = true; break;
      case 'o': once = optarg; break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (!config || optind != argc || (check && once)) {
    usage(stderr);
    return 2;
  }
  ag_time_init();
  ag_config *c = ag_config_load(config, once ? 0 : AG_CFG_WEB, stderr);
  if (!c)
    return 2;
  if (check) {
    int rc = cmd_check(c);
    ag_config_free(c);
    return rc;
  }
  ag_robot *r = NULL;
  if (once && !(r = ag_config_robot(c, once))) {
    fprintf(stderr, "vagt agent: %s declares no robot '%s'\n", config, once);
    ag_config_free(c);
    return 2;
  }

  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  /* Schedules in a robot's own zone switch TZ for a moment (ag_cron.c). With TZ set from
   * the start, that only replaces a value and never grows the environment while other
   * threads may read it. ":/etc/localtime" is what an unset TZ means. */
  if (!getenv("TZ")) {
    setenv("TZ", ":/etc/localtime", 1);
    tzset();
  }

  ag_ctx x = {0};
  char err[1024];
  int rc = 0;
  int lockfd = -1;
  if (ag_ctx_open(&x, c, err, sizeof err) != 0) {
    fprintf(stderr, "vagt agent: %s\n", err);
    rc = 4;
    goto out;
  }
  if (once) {
    rc = cmd_once(&x, r);
    goto out;
  }
  char lockpath[4096];
  snprintf(lockpath, sizeof lockpath, "%s/agent.lock", c->state);
  lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "vagt agent: another agent is running with the state folder %s\n", c->state);
    rc = 2;
    goto out;
  }
  ag_run_recover(&x, &g_stop);
  /* a fleet's node reaches the fleet before it serves pages or delivers: a node that may
   * not join (a name another state folder holds, a newer schema) starts nothing */
  int shared = x.j->ops->connect(x.j, err, sizeof err);
  if (shared != 0) {
    fprintf(stderr, "vagt agent: fleet database: %s\n", err);
    rc = shared == 2 ? 2 : 4;
    goto out;
  }
  if (c->listen) {
    if (ag_web_start(&x, err, sizeof err) != 0) {
      fprintf(stderr, "vagt agent: %s\n", err);
      rc = 2;
      goto out;
    }
  }
  if (ag_outbox_start(x.dbpath, c) != 0) {
    fprintf(stderr, "vagt agent: cannot start the alert delivery thread\n");
    rc = 4;
    goto out;
  }
  /* after ag_run_recover: no run of an earlier agent is left "running" in the history */
  if (ag_prune_start(&x) != 0) {
    fprintf(stderr, "vagt agent: cannot start the retention thread\n");
    rc = 4;
    goto out;
  }
  fprintf(stderr, "vagt agent %s: %zu robot%s, state %s, pages %s%s%s\n", VAGT_VERSION, c->nrobots,
          c->nrobots == 1 ? "" : "s", c->state, c->listen ? c->listen : "off",
          c->database ? ", fleet node " : "", c->database ? c->node : "");
  rc = daemon_loop(&x);
  fprintf(stderr, "vagt agent: stopped\n");

out:
  ag_prune_stop();
  ag_web_stop();
  ag_outbox_stop();
  ag_ctx_close(&x);
  if (lockfd >= 0)
    close(lockfd);
  curl_global_cleanup();
  ag_config_free(c);
  return rc;
}
