#include "ag_run.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_alert.h"
#include "ag_broker.h"
#include "ag_util.h"
#include "runfolder.h"
#include "spawn.h"
#include "vu.h"

const char *ag_status_of(int code)
{
  switch (code) {
    case 0: return "passed";
    case 1: return "failed";
    case 3: return "drift";
    case 5: return "needs_review";
    case 130: return "interrupted";
    default: return "error";
  }
}

static char *join(const char *a, const char *b)
{
  char *s = NULL;
  return ag_asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

int ag_ctx_open(ag_ctx *x, ag_config *cfg, char *err, size_t errlen)
{
  memset(x, 0, sizeof *x);
  x->cfg = cfg;
  const char *bin = getenv("VAGT_BIN");
  if (bin && *bin) {
    x->vagt = strdup(bin);
  } else {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
      snprintf(err, errlen, "cannot find the vagt binary (/proc/self/exe): %s", strerror(errno));
      return -1;
    }
    buf[n] = '\0';
    x->vagt = strdup(buf);
  }
  x->dbpath = join(cfg->state, "vagt.db");
  x->runs = join(cfg->state, "runs");
  x->logs = join(cfg->state, "logs");
  x->items_db = join(cfg->state, "items.db");
  char merr[512];
  if (vu_mkdir_p(cfg->state, merr, sizeof merr) != 0 ||
      vu_mkdir_p(x->runs, merr, sizeof merr) != 0 || vu_mkdir_p(x->logs, merr, sizeof merr) != 0) {
    snprintf(err, errlen, "state folder %s: %s", cfg->state, merr);
    return -1;
  }
  x->j = ag_journal_open(cfg, x->dbpath, err, errlen);
  return x->j ? 0 : -1;
}

void ag_ctx_close(ag_ctx *x)
{
  if (x->j)
    x->j->ops->close(x->j);
  free(x->vagt);
  free(x->dbpath);
  free(x->runs);
  free(x->logs);
  free(x->items_db);
  memset(x, 0, sizeof *x);
}

static bool utf8_locale(void)
{
  const char *cs = nl_langinfo(CODESET);
  return cs && strcmp(cs, "UTF-8") == 0;
}

extern char **environ;

static bool not_run_own(const char *e)
{
  static const char *const own[] = {"VAGT_ITEMS_DB=", "VAGT_AGENT_RUN_ID=", "VAGT_ROBOT="};
  for (size_t i = 0; i < sizeof own / sizeof *own; i++)
    if (strncmp(e, own[i], strlen(own[i])) == 0)
      return false;
  return true;
}

/* The agent's environment with the run's own variables set (and a UTF-8 locale). */
static int child_env(rt_env *env, ag_ctx *x, ag_robot *r, const char *run_id, bool utf8,
                     int items_fd)
{
  char fdbuf[16];
  snprintf(fdbuf, sizeof fdbuf, "%d", items_fd);
  if (rt_env_copy(env, environ, not_run_own) != 0 ||
      rt_env_set(env, "VAGT_ITEMS_DB", x->items_db) != 0 ||
      (x->cfg->items_key_file &&
       rt_env_set(env, "VAGT_ITEMS_KEY_FILE", x->cfg->items_key_file) != 0) ||
      (items_fd >= 0 && rt_env_set(env, "VAGT_ITEMS_FD", fdbuf) != 0) ||
      rt_env_set(env, "VAGT_AGENT_RUN_ID", run_id) != 0 ||
      rt_env_set(env, "VAGT_ROBOT", r->name) != 0 ||
      (!utf8 && rt_env_set(env, "LC_ALL", "C.UTF-8") != 0))
    return -1;
  return 0;
}

/* Renews the run's seat when due; releases it once the run has ended. */
static void seat_keep(ag_ctx *x, ag_child *ch, bool ended)
{
  if (!ch->seat)
    return;
  char err[512];
  if (ended) {
    if (x->j->ops->seat_release(x->j, ch->r, ch->seat, ch->seat_run, err, sizeof err) != 0)
      fprintf(stderr, "vagt agent: run %lld: its seat goes when its lease runs out: %s\n", ch->id,
              err);
    ch->seat = 0;
    return;
  }
  double now = vu_mono();
  if (now < ch->seat_renew_at)
    return;
  int rc = x->j->ops->seat_renew(x->j, ch->r, ch->seat, ch->seat_run, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "vagt agent: run %lld: cannot renew its seat %d: %s\n", ch->id, ch->seat, err);
  ch->seat_renew_at = now + (rc == 0 ? x->cfg->item_lease / 3.0 : 1.0);
}

int ag_run_start(ag_ctx *x, ag_robot *r, const char *trigger, time_t scheduled, ag_child *ch,
                 int seat, const char *seat_run, char *err, size_t errlen)
{
  memset(ch, 0, sizeof *ch);
  ch->r = r;
  ch->seat = seat;
  if (seat_run)
    snprintf(ch->seat_run, sizeof ch->seat_run, "%s", seat_run);
  ch->seat_renew_at = vu_mono() + x->cfg->item_lease / 3.0;
  ch->started_real = (double)time(NULL);
  ch->mono_start = vu_mono();
  long long id = x->j->ops->run_begin(x->j, r, trigger, scheduled, ag_time());
  if (id < 0) {
    snprintf(err, errlen, "cannot record the run in %s", x->dbpath);
    return -1;
  }
  ch->id = id;
  char *rdir = join(x->runs, r->name);
  char logname[64];
  snprintf(logname, sizeof logname, "%lld.log", id);
  char *logpath = join(x->logs, logname);
  char merr[512];
  if (!rdir || !logpath || vu_mkdir_p(rdir, merr, sizeof merr) != 0) {
    snprintf(err, errlen, "%s", rdir ? merr : "out of memory");
    free(rdir);
    free(logpath);
    return -1;
  }
  size_t np = 0;
  while (r->params[np])
    np++;
  const ag_allow *allow = r->allow.set ? &r->allow : &x->cfg->allow;
  size_t nallow = 0;
  for (char **p = allow->set ? allow->programs : NULL; p && *p; p++)
    nallow++;
  for (char **p = allow->set ? allow->files : NULL; p && *p; p++)
    nallow++;
  char **argv = calloc(16 + 2 * np + 2 * nallow, sizeof *argv);
  char tbuf[32], idbuf[32];
  if (!argv) {
    free(logpath);
    free(rdir);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(tbuf, sizeof tbuf, "%.0f", r->timeout + 60);
  snprintf(idbuf, sizeof idbuf, "%lld", id);
  int a = 0;
  argv[a++] = x->vagt;
  argv[a++] = "run";
  argv[a++] = r->script;
  argv[a++] = "--xvfb";
  argv[a++] = "--runs";
  argv[a++] = rdir;
  argv[a++] = "--timeout";
  argv[a++] = tbuf;
  if (r->baseline) {
    argv[a++] = "--baseline";
    argv[a++] = r->baseline;
  }
  if (r->screen) {
    argv[a++] = "--screen";
    argv[a++] = r->screen;
  }
  for (size_t i = 0; i < np; i++) {
    argv[a++] = "--set";
    argv[a++] = r->params[i];
  }
  for (char **p = allow->set ? allow->programs : NULL; p && *p; p++) {
    argv[a++] = "--allow-program";
    argv[a++] = *p;
  }
  for (char **p = allow->set ? allow->files : NULL; p && *p; p++) {
    argv[a++] = "--allow-file";
    argv[a++] = *p;
  }
  argv[a] = NULL;
  /* Fleet mode: the run's work items go through us (it holds no database credentials). */
  int sv[2] = {-1, -1};
  if (x->cfg->database && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "cannot make the run's work-items socket: %s", strerror(errno));
    free(argv);
    free(logpath);
    free(rdir);
    return -1;
  }
  rt_env env = {0};
  if (child_env(&env, x, r, idbuf, utf8_locale(), sv[1]) != 0) {
    if (sv[0] >= 0) {
      close(sv[0]);
      close(sv[1]);
    }
    free(argv);
    rt_env_free(&env);
    free(logpath);
    free(rdir);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  rt_spawn sp = rt_spawn_defaults(argv);
  sp.envp = rt_env_array(&env);
  sp.cwd = x->cfg->dir;
  sp.in = RT_SPAWN_NULL;
  sp.out = sp.err = logfd >= 0 ? logfd : RT_SPAWN_NULL;
  sp.die_with_parent = true;
  sp.keep_fd = sv[1];
  char serr[512];
  pid_t pid = rt_spawn_start(&sp, serr, sizeof serr);
  if (logfd >= 0)
    close(logfd);
  if (sv[1] >= 0)
    close(sv[1]);
  if (sv[0] >= 0 && pid >= 0) {
    char berr[256];
    if (!(ch->broker = ag_broker_start(x->cfg, sv[0], id, berr, sizeof berr))) {
      /* the run sees its socket closed: robot.items refuses, nothing is claimed */
      fprintf(stderr, "vagt agent: run %lld: %s\n", id, berr);
      close(sv[0]);
    }
  } else if (sv[0] >= 0) {
    close(sv[0]);
  }
  free(argv);
  rt_env_free(&env);
  free(logpath);
  free(rdir);
  if (pid < 0) {
    snprintf(err, errlen, "cannot start a run: %s", serr);
    ag_runinfo ri = {.status = "error",
                     .exit_code = 4,
                     .error = "the run could not start",
                     .finished = ag_time()};
    x->j->ops->run_end(x->j, id, NULL, &ri, NULL); /* no alert: the start failed here */
    return -1;
  }
  ch->pid = pid;
  x->j->ops->run_pid(x->j, id, (int)pid);
  fprintf(stderr, "vagt agent: run %lld: robot %s started (%s), pid %d\n", id, r->name, trigger,
          (int)pid);
  return 0;
}

/* The newest folder in STATE/runs/ROBOT changed since `since` (real time): the run's. */
static char *find_run_dir(ag_ctx *x, const char *robot, double since)
{
  char *rdir = join(x->runs, robot);
  DIR *d = rdir ? opendir(rdir) : NULL;
  char *best = NULL;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char *p = join(rdir, e->d_name);
      struct stat st;
      if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (double)st.st_mtime >= since - 2 &&
          (!best || strcmp(strrchr(best, '/') + 1, e->d_name) < 0)) {
        free(best);
        best = p;
      } else {
        free(p);
      }
    }
    closedir(d);
  }
  free(rdir);
  return best;
}

/* The run folder's run.json, or NULL. */
static cJSON *read_run_json(const char *dir)
{
  if (!dir)
    return NULL;
  char *p = join(dir, RT_RUN_JSON);
  char *text = p ? vu_read_file(p, 16 << 20, VU_NOFOLLOW, NULL, NULL, 0) : NULL;
  cJSON *rj = text ? cJSON_Parse(text) : NULL;
  free(text);
  free(p);
  return rj;
}

/* Records the end of a run and its alert in one transaction, once: a run whose end is
 * recorded already is left as it is. 0 when recorded (now or before), -1 when the database
 * refused it (busy, full): nothing was written and the caller tries again. `status` NULL:
 * the status the run folder gives, if the run finished, else "interrupted". */
static int record_end(ag_ctx *x, long long id, ag_robot *r, const char *status, int code,
                      double since, const char *why)
{
  ag_runinfo ri = {.status = status, .exit_code = code, .finished = ag_time()};
  char *dir = r ? find_run_dir(x, r->name, since) : NULL;
  ri.run_dir = dir;
  char rerr[512];
  /* a run killed outright (SIGKILL) could not write its end: its folder says "running"
   * with nobody holding run.lock; mark it killed, so the folder ends consistent too */
  if (dir && rt_runfolder_reap(dir, rerr, sizeof rerr) < 0)
    fprintf(stderr, "vagt agent: %s\n", rerr);
  cJSON *rj = read_run_json(dir);
  const cJSON *js = cJSON_GetObjectItemCaseSensitive(rj, RT_RUNJ_STATUS);
  const cJSON *jc = cJSON_GetObjectItemCaseSensitive(rj, RT_RUNJ_EXIT_CODE);
  bool from_folder = false;
  if (!status) {
    static const char *const final[] = {"passed",  "needs_review", "failed",      "drift", "error",
                                        "timeout", "killed",       "interrupted", NULL};
    for (const char *const *f = final; cJSON_IsString(js) && cJSON_IsNumber(jc) && *f; f++)
      if (strcmp(js->valuestring, *f) == 0) {
        ri.status = *f;
        ri.exit_code = (int)jc->valuedouble;
        from_folder = true;
      }
    if (!from_folder) {
      ri.status = "interrupted";
      ri.exit_code = 130;
    }
  }
  /* run.json format 2 counts the steps; format 1 listed them */
  ri.steps = rt_runjson_steps(rj);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(rj, RT_RUNJ_ERROR);
  if (from_folder)
    why = "the agent stopped before it recorded the end; status and exit code from the run's "
          "folder";
  char *msg = NULL;
  if (why && cJSON_IsString(e)) {
    if (ag_asprintf(&msg, "%s; %s", why, e->valuestring) < 0)
      msg = NULL;
  } else if (why) {
    msg = strdup(why);
  } else if (cJSON_IsString(e)) {
    msg = strdup(e->valuestring);
  }
  ri.error = msg;
  int na = 0;
  int rc = x->j->ops->run_end(x->j, id, r, &ri, &na) < 0 ? -1 : 0;
  if (rc == 0 && na > 0)
    ag_outbox_kick();
  if (rc == 0)
    fprintf(stderr, "vagt agent: run %lld: robot %s %s (exit %d)%s%s\n", id, r ? r->name : "?",
            ri.status, ri.exit_code, dir ? ", run folder " : "", dir ? dir : "");
  free(msg);
  free(dir);
  cJSON_Delete(rj);
  return rc;
}

void ag_run_stop(ag_child *ch)
{
  if (ch->pid > 0 && !ch->term_at && !ch->reaped) {
    kill(-ch->pid, SIGTERM);
    ch->term_at = vu_mono();
  }
  if (!ch->stopping)
    ch->give_up_at = vu_mono() + 30;
  ch->stopping = true;
}

bool ag_run_poll(ag_ctx *x, ag_child *ch, int *code)
{
  if (!ch->reaped) {
    int st;
    pid_t w = waitpid(ch->pid, &st, WNOHANG);
    if (w == 0) {
      seat_keep(x, ch, false);
      double now = vu_mono();
      if (!ch->term_at && now > ch->mono_start + ch->r->timeout) {
        fprintf(stderr,
                "vagt agent: run %lld: robot %s exceeded its %.0f s timeout, stopping "
                "it\n",
                ch->id, ch->r->name, ch->r->timeout);
        ch->timed_out = true;
        kill(-ch->pid, SIGTERM);
        ch->term_at = now;
      } else if (ch->term_at && now > ch->term_at + 10) {
        kill(-ch->pid, SIGKILL);
      }
      return false;
    }
    int c = 4;
    if (w == ch->pid) {
      if (WIFEXITED(st))
        c = WEXITSTATUS(st);
      else if (WIFSIGNALED(st))
        c = 128 + WTERMSIG(st);
    }
    kill(-ch->pid, SIGKILL); /* anything left in its group */
    ag_broker_finish(ch->broker);
    ch->broker = NULL;
    seat_keep(x, ch, true);
    ch->reaped = true;
    ch->code = c;
  }
  double now = vu_mono();
  if (now < ch->retry_at)
    return false;
  const char *status = ch->timed_out ? "timeout" : ag_status_of(ch->code);
  char why[128] = "";
  if (ch->timed_out)
    snprintf(why, sizeof why, "the run exceeded its %.0f s timeout and was stopped",
             ch->r->timeout);
  else if (ch->stopping)
    snprintf(why, sizeof why, "the agent was stopped during the run");
  if (record_end(x, ch->id, ch->r, status, ch->code, ch->started_real, why[0] ? why : NULL) != 0) {
    if (ch->stopping && now > ch->give_up_at) {
      fprintf(stderr,
              "vagt agent: run %lld: robot %s %s (exit %d), but the database does not "
              "take its end: the next start of the agent records it from the run "
              "folder\n",
              ch->id, ch->r->name, status, ch->code);
      if (code)
        *code = ch->timed_out ? 1 : ch->code;
      return true;
    }
    int wait = ch->attempts < 5 ? 1 << ch->attempts : 30;
    ch->attempts++;
    ch->retry_at = now + wait;
    fprintf(stderr,
            "vagt agent: run %lld: robot %s %s (exit %d), but the database does not "
            "take its end yet (busy or disk full): attempt %d, retrying in %d s\n",
            ch->id, ch->r->name, status, ch->code, ch->attempts, wait);
    return false;
  }
  if (code)
    *code = ch->timed_out ? 1 : ch->code;
  return true;
}

void ag_run_recover(ag_ctx *x, volatile sig_atomic_t *stop)
{
  ag_db_running *v;
  int n = x->j->ops->runs_running(x->j, &v);
  for (int i = 0; i < n; i++) {
    ag_robot *r = ag_config_robot(x->cfg, v[i].robot);
    /* The run ended with the agent (PR_SET_PDEATHSIG), or finished while the database
     * refused its end: its folder says how far it got. */
    double since = v[i].started - (ag_time() - (double)time(NULL));
    for (int attempt = 0; !*stop; attempt++) {
      int rc;
      if (r) {
        rc = record_end(x, v[i].id, r, NULL, 0, since,
                        "the agent stopped while the run was in progress");
      } else {
        ag_runinfo ri = {.status = "interrupted",
                         .exit_code = 130,
                         .finished = ag_time(),
                         .error = "the agent stopped while the run was in progress"};
        rc = x->j->ops->run_end(x->j, v[i].id, NULL, &ri, NULL) < 0 ? -1 : 0;
      }
      if (rc == 0)
        break;
      int wait = attempt < 5 ? 1 << attempt : 30;
      fprintf(stderr,
              "vagt agent: run %lld: the database does not take its end yet (busy "
              "or disk full): retrying in %d s\n",
              v[i].id, wait);
      for (int s = 0; s < wait * 10 && !*stop; s++)
        usleep(100 * 1000);
    }
    free(v[i].robot);
  }
  free(v);
}
