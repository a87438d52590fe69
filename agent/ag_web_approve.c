/* The approvals of a drift-halted run: each operator's is recorded; the one that makes
 * cfg->approvals different operators runs `vagt approve` (in a thread of its own, while
 * the connection waits suspended) and records what changed. */
#include "ag_web_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_fleet.h"
#include "ag_util.h"
#include "runfolder.h"
#include "spawn.h"
#include "vu.h"

/* Runs `vagt approve --by NAME... RUN_DIR` (the operators who approved, in order),
 * capturing its output. */
static int run_approve(ag_web *w, const char *dir, const char *into, char **by, size_t nby,
                       char *out, size_t outlen)
{
  int pfd[2];
  /* close-on-exec: no other child may hold the write end and keep this page waiting */
  if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
    snprintf(out, outlen, "pipe: %s", strerror(errno));
    return -1;
  }
  char *argv[6 + 2 * (AG_APPROVALS_MAX + 1)];
  size_t na = 0;
  argv[na++] = w->x->vagt;
  argv[na++] = "approve";
  for (size_t i = 0; i < nby && i <= AG_APPROVALS_MAX; i++) {
    argv[na++] = "--by";
    argv[na++] = by[i];
  }
  if (into) {
    argv[na++] = "--baseline";
    argv[na++] = (char *)into;
  }
  argv[na++] = (char *)dir;
  argv[na] = NULL;
  rt_spawn sp = rt_spawn_defaults(argv);
  sp.cwd = w->x->cfg->dir; /* where the runs ran: relative paths agree */
  sp.in = RT_SPAWN_NULL;
  sp.out = sp.err = pfd[1];
  pid_t pid = rt_spawn_start(&sp, out, outlen);
  close(pfd[1]);
  if (pid < 0) {
    close(pfd[0]);
    return -1;
  }
  (void)na;
  size_t got = 0;
  double end = vu_mono() + 300;
  for (;;) {
    struct pollfd pf = {pfd[0], POLLIN, 0};
    int pr = poll(&pf, 1, 1000);
    if (pr > 0) {
      char tmp[1024];
      ssize_t n = read(pfd[0], tmp, sizeof tmp);
      if (n <= 0)
        break;
      size_t k = (size_t)n;
      if (got + k >= outlen)
        k = outlen - 1 - got;
      memcpy(out + got, tmp, k);
      got += k;
    }
    if (vu_mono() > end || w->stopping) {
      kill(-pid, SIGKILL);
      break;
    }
  }
  out[got] = '\0';
  close(pfd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void reply_text(req *rq, unsigned code, const char *text)
{
  rq->reply_code = code;
  rq->reply_type = "text/plain; charset=utf-8";
  rq->reply = strdup(text);
  rq->reply_len = rq->reply ? strlen(rq->reply) : 0;
}

/* The halted step's key, as the run's alert.json names it ("" when it does not). */
static void run_step_key(const char *run_dir, char *key, size_t n)
{
  key[0] = '\0';
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/" RT_ALERT_JSON, run_dir);
  char *text = vu_read_file(p, 1 << 20, VU_NOFOLLOW, NULL, NULL, 0);
  cJSON *a = text ? cJSON_Parse(text) : NULL;
  free(text);
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_STEP), RT_ALERTJ_STEP_KEY);
  if (cJSON_IsString(k))
    snprintf(key, n, "%s", k->valuestring);
  cJSON_Delete(a);
}

/* A reply page for an approval that is recorded but waits for another operator. */
static void pending_reply(req *rq, long long id, char **names, size_t n)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = web_page(&buf, &len, "approve");
  if (!f)
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  web_signed_in(f, rq);
  fprintf(f, "<h1>Approval recorded</h1><p>%zu of %d approvals (", n, rq->w->x->cfg->approvals);
  for (size_t i = 0; i < n; i++) {
    rt_html_esc(f, names[i]);
    fputs(i + 1 < n ? ", " : "", f);
  }
  fputs(")</p><p>A new baseline needs the approval of different operators: another operator "
        "must approve this run too. The baseline is unchanged until then.</p>",
        f);
  fprintf(f, "<p><a href=\"/runs/%lld\">back to the run</a></p></body></html>\n", id);
  fclose(f);
  rq->reply_code = MHD_HTTP_OK;
  rq->reply_type = "text/html; charset=utf-8";
  rq->reply = buf;
  rq->reply_len = len;
}

/* What `vagt approve` did, in the history: with exit 0 every approval of the run becomes
 * approved, with approved.json's account of what changed, and the run approved. */
static void record_outcome(ag_store *s, const ag_run_row *r, const char *step, const char *by,
                           int code, const char *result)
{
  if (code != 0) {
    s->ops->approval_add(s, r, step, by, ag_time(), "failed", NULL);
    return;
  }
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/" RT_APPROVED_JSON, r->run_dir);
  char *changed = vu_read_file(p, 1 << 20, VU_NOFOLLOW, NULL, NULL, 0);
  s->ops->approvals_approved(s, r->id, changed);
  s->ops->approval_add(s, r, step, by, ag_time(), "approved", changed);
  free(changed);
  s->ops->run_approved(s, r->id, ag_time(), result);
}

/* The page that says what `vagt approve` said. Frees result. */
static void outcome_reply(req *rq, long long id, int code, bool still_paused, char *result)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = web_page(&buf, &len, "approve");
  if (!f) {
    free(result);
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  }
  web_signed_in(f, rq);
  fprintf(f, "<h1>%s</h1><pre>",
          code != 0      ? "Approve failed"
          : still_paused ? "Approved; the robot stays paused"
                         : "Approved");
  rt_html_esc(f, result);
  fprintf(f, "</pre><p><a href=\"/runs/%lld\">back to the run</a></p></body></html>\n", id);
  fclose(f);
  free(result);
  rq->reply_code = code == 0 ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
  rq->reply_type = "text/html; charset=utf-8";
  rq->reply = buf;
  rq->reply_len = len;
}

/* An operator's approval of run rq->approve_id: refused, recorded as pending, or the one
 * that runs `vagt approve`. */
static void approve_reply(req *rq)
{
  ag_web *w = rq->w;
  ag_store *s = w->store;
  long long id = rq->approve_id;
  ag_run_row r;
  if (!s->ops->run_get(s, id, &r))
    return reply_text(rq, MHD_HTTP_NOT_FOUND, "no such run\n");
  char own[sizeof r.run_dir];
  snprintf(own, sizeof own, "%s", r.run_dir);
  if (!strcmp(r.status, "drift") && !web_run_here(w, &r))
    return reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "503: the run's files cannot be read from the fleet's database now; try "
                      "again\n");
  bool copy = strcmp(own, r.run_dir) != 0; /* another node's run: the fleet's copy of it */
  if (strcmp(r.status, "drift") != 0 || !r.run_dir[0])
    return reply_text(rq, MHD_HTTP_CONFLICT, "only a drift-halted run can be approved\n");
  if (r.approved > 0)
    return reply_text(rq, MHD_HTTP_CONFLICT, "this run was approved already\n");
  char step[1024];
  run_step_key(r.run_dir, step, sizeof step);
  int need = w->x->cfg->approvals;
  char *names[AG_APPROVALS_MAX + 1];
  size_t np = s->ops->approvals_pending(s, id, names, AG_APPROVALS_MAX);
  for (size_t i = 0; i < np; i++)
    if (strcmp(names[i], rq->who) == 0) {
      char msg[512];
      snprintf(msg, sizeof msg,
               "409: %s has approved this run already; a new baseline needs "
               "%d approvals by different operators: another operator must "
               "approve it\n",
               rq->who, need);
      web_free_names(names, np);
      fprintf(stderr, "vagt agent: approve of run %lld by %s refused: approved by %s already\n", id,
              rq->who, rq->who);
      return reply_text(rq, MHD_HTTP_CONFLICT, msg);
    }
  names[np++] = strdup(rq->who);
  if ((int)np < need) {
    s->ops->approval_add(s, &r, step, rq->who, ag_time(), "pending", NULL);
    fprintf(stderr, "vagt agent: approve of run %lld by %s: %zu of %d approvals\n", id, rq->who, np,
            need);
    pending_reply(rq, id, names, np);
    web_free_names(names, np);
    return;
  }
  /* a fleet's node: its baseline folder is the fleet's current version before it changes,
   * and a run another node ran is approved into this node's folder for the robot */
  const ag_robot *rb = ag_config_robot(w->x->cfg, r.robot);
  char out[4096], fmsg[512] = "";
  if (w->x->cfg->database && rb && ag_fleet_publish(w->x->cfg, rb, false, fmsg, sizeof fmsg) < 0) {
    web_free_names(names, np);
    fprintf(stderr, "vagt agent: approve of run %lld: %s\n", id, fmsg);
    return reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "503: this node cannot bring its baseline to the fleet's version now; "
                      "try again\n");
  }
  char *into = copy && rb ? ag_fleet_baseline_dir(rb) : NULL;
  int code = run_approve(w, r.run_dir, into, names, np, out, sizeof out);
  free(into);
  /* a fleet's node: the new baseline is the fleet's, and the drift pause ends */
  char note[600] = "";
  fmsg[0] = '\0';
  int pub = code == 0 && rb ? ag_fleet_publish(w->x->cfg, rb, true, fmsg, sizeof fmsg) : 0;
  if (pub < 0)
    fprintf(stderr,
            "vagt agent: approve of run %lld: %s; the next run on this node "
            "publishes it\n",
            id, fmsg);
  else if (pub > 0) {
    fprintf(stderr, "vagt agent: approve of run %lld: %s\n", id, fmsg);
    snprintf(note, sizeof note, "\nNOTE: %s\n", fmsg);
  } else if (code == 0 && fmsg[0]) {
    snprintf(note, sizeof note, "\nThe fleet: %s.\n", fmsg);
  }
  char *result = NULL;
  if (ag_asprintf(&result, "vagt approve exited %d\n%s%s", code, out, note) < 0) {
    web_free_names(names, np);
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  }
  record_outcome(s, &r, step, rq->who, code, result);
  web_free_names(names, np);
  fprintf(stderr, "vagt agent: approve of run %lld (%s) by %s: exit %d\n", id, r.run_dir, rq->who,
          code);
  outcome_reply(rq, id, code, pub > 0, result);
}

/* `vagt approve` may take minutes: its thread runs it (one approval at a time, so two
 * clicks never run it twice) while the connection is suspended, and the pages' threads go
 * on serving everyone else. */
static void *approve_thread(void *arg)
{
  req *rq = arg;
  ag_web *w = rq->w;
  struct MHD_Connection *c = rq->conn;
  pthread_mutex_lock(&w->approve_mu);
  approve_reply(rq);
  pthread_mutex_unlock(&w->approve_mu);
  rq->reply_ready = true;
  MHD_resume_connection(c); /* rq belongs to MHD again from here */
  pthread_mutex_lock(&w->pending_mu);
  w->pending--;
  pthread_mutex_unlock(&w->pending_mu);
  return NULL;
}

enum MHD_Result web_approve(struct MHD_Connection *c, long long id, req *rq)
{
  ag_web *w = rq->w;
  rq->conn = c;
  rq->approve_id = id;
  pthread_mutex_lock(&w->pending_mu);
  w->pending++;
  pthread_mutex_unlock(&w->pending_mu);
  MHD_suspend_connection(c);
  pthread_t th;
  if (pthread_create(&th, NULL, approve_thread, rq) != 0) {
    pthread_mutex_lock(&w->pending_mu);
    w->pending--;
    pthread_mutex_unlock(&w->pending_mu);
    rq->reply_ready = true;
    rq->reply_code = MHD_HTTP_SERVICE_UNAVAILABLE;
    rq->reply_type = "text/plain; charset=utf-8";
    rq->reply = strdup("503: cannot start the approval now; try again\n");
    rq->reply_len = rq->reply ? strlen(rq->reply) : 0;
    MHD_resume_connection(c);
    return MHD_YES;
  }
  pthread_detach(th);
  return MHD_YES;
}

enum MHD_Result web_resume(struct MHD_Connection *c, long long id, req *rq)
{
  ag_web *w = rq->w;
  ag_store *s = w->store;
  ag_run_row r;
  if (!w->x->cfg->database)
    return web_send_text(c, MHD_HTTP_CONFLICT,
                         "409: only a fleet pauses a robot after a drift halt; here every run is "
                         "judged on its own\n");
  if (!s->ops->run_get(s, id, &r))
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "no such run\n");
  const ag_robot *rb = ag_config_robot(w->x->cfg, r.robot);
  if (strcmp(r.status, "drift") != 0 || !rb)
    return web_send_text(c, MHD_HTTP_CONFLICT,
                         "only a drift halt of a configured robot pauses it\n");
  char msg[512], step[1024];
  int rc = ag_fleet_resume(w->x->cfg, rb, id, msg, sizeof msg);
  fprintf(stderr, "vagt agent: resume of robot %s from run %lld by %s: %s\n", r.robot, id, rq->who,
          msg);
  if (rc < 0)
    return web_send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "503: try again\n");
  if (rc > 0) {
    char out[600];
    snprintf(out, sizeof out, "409: %s\n", msg);
    return web_send_text(c, MHD_HTTP_CONFLICT, out);
  }
  /* the audit trail: who let the robot run again without a new baseline */
  run_step_key(r.run_dir, step, sizeof step);
  s->ops->approval_add(s, &r, step, rq->who, ag_time(), "resumed", NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = web_page(&buf, &len, "resume");
  if (!f)
    return web_send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  web_signed_in(f, rq);
  fputs("<h1>Resumed</h1><p>", f);
  rt_html_esc(f, msg);
  fprintf(f,
          ". The halt stays in the history, unapproved.</p><p><a href=\"/runs/%lld\">back to "
          "the run</a></p></body></html>\n",
          id);
  fclose(f);
  return web_send_buf(c, MHD_HTTP_OK, "text/html; charset=utf-8", buf, len);
}

void web_approvals_stop(ag_web *w)
{
  w->stopping = 1; /* approvals end their `vagt approve` and resume their connections */
  for (int i = 0; i < 600; i++) {
    pthread_mutex_lock(&w->pending_mu);
    int n = w->pending;
    pthread_mutex_unlock(&w->pending_mu);
    if (!n)
      break;
    usleep(50 * 1000);
  }
}
