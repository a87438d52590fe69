#include "ag_web.h"
#include "runfolder.h"
#include "spawn.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ag_cron.h"
#include "ag_db.h"
#include "ag_fleet.h"
#include "ag_util.h"
#include "vu.h"

static struct MHD_Daemon *g_d;
static sqlite3 *g_db;
static ag_ctx *g_x;
/* The operators and their tokens (read at start). */
typedef struct {
  char *name, *token;
} web_op;
static web_op *g_ops;
static size_t g_nops;
static char *g_state_real; /* realpath of the state folder */
static pthread_mutex_t g_pending_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_pending;                     /* approvals running in their threads */
static volatile sig_atomic_t g_stopping;  /* ag_web_stop: end them now */

/* ---- a request, and the sessions that protect the forms ---- */

/* One request: what its body's form said (the form token), and the session its pages
 * carry. Lives from MHD's first call for the request to its completion notice. */
typedef struct {
  struct MHD_PostProcessor *pp;
  char csrf[80];
  size_t csrf_len;
  char form[40];        /* the session's form token for the forms of this page */
  char new_sid[40];     /* a session made for this request: set its cookie */
  char who[72];         /* the operator whose token the request carries */
  /* Approve runs in a thread of its own while MHD holds the connection suspended; the
   * thread leaves the reply here and resumes it. */
  struct MHD_Connection *conn;
  long long approve_id;
  bool reply_ready;
  unsigned reply_code;
  const char *reply_type;
  char *reply;
  size_t reply_len;
} req;

/* A browser session (the cookie vagt_session) and its form token. The token is written into
 * every form; a POST that authenticated by cookie must carry it back, so another site
 * cannot submit the forms in an operator's browser (SameSite=Strict does not stop a page
 * served from another port of the same host: same site). Kept in memory: after a restart
 * the next page view starts a new session. */
#define NSESS 64
static struct {
  char sid[40], form[40];
  double used;
} g_sess[NSESS];
static pthread_mutex_t g_sess_mu = PTHREAD_MUTEX_INITIALIZER;

static bool same_secret(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = (unsigned char)(la != lb);
  for (size_t i = 0; i < lb; i++)
    d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
  return d == 0;
}

/* The form token of session `sid`, or a new session (rq->new_sid) when it is unknown. */
static void session_for(const char *sid, req *rq)
{
  pthread_mutex_lock(&g_sess_mu);
  size_t oldest = 0;
  for (size_t i = 0; i < NSESS; i++) {
    if (sid && g_sess[i].sid[0] && same_secret(sid, g_sess[i].sid)) {
      g_sess[i].used = vu_mono();
      snprintf(rq->form, sizeof rq->form, "%s", g_sess[i].form);
      pthread_mutex_unlock(&g_sess_mu);
      return;
    }
    if (g_sess[i].used < g_sess[oldest].used)
      oldest = i;
  }
  ag_uuid(g_sess[oldest].sid, sizeof g_sess[oldest].sid);
  ag_uuid(g_sess[oldest].form, sizeof g_sess[oldest].form);
  g_sess[oldest].used = vu_mono();
  snprintf(rq->form, sizeof rq->form, "%s", g_sess[oldest].form);
  snprintf(rq->new_sid, sizeof rq->new_sid, "%s", g_sess[oldest].sid);
  pthread_mutex_unlock(&g_sess_mu);
}

static bool form_token_ok(const char *sid, const char *form)
{
  bool ok = false;
  pthread_mutex_lock(&g_sess_mu);
  for (size_t i = 0; sid && form && *form && i < NSESS && !ok; i++)
    ok = g_sess[i].sid[0] && same_secret(sid, g_sess[i].sid) &&
         same_secret(form, g_sess[i].form);
  pthread_mutex_unlock(&g_sess_mu);
  return ok;
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data,
                                  uint64_t off, size_t size)
{
  (void)kind, (void)filename, (void)content_type, (void)transfer_encoding, (void)off;
  req *rq = cls;
  if (strcmp(key, "csrf") == 0) {
    if (rq->csrf_len + size >= sizeof rq->csrf)
      return MHD_NO;
    memcpy(rq->csrf + rq->csrf_len, data, size);
    rq->csrf_len += size;
    rq->csrf[rq->csrf_len] = '\0';
  }
  return MHD_YES;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  (void)cls, (void)c, (void)toe;
  req *rq = *con_cls;
  if (rq) {
    if (rq->pp)
      MHD_destroy_post_processor(rq->pp);
    free(rq->reply);
    free(rq);
  }
  *con_cls = NULL;
}

/* The hidden field every form carries. */
static void form_token_field(FILE *f, const req *rq)
{
  fputs("<input type=\"hidden\" name=\"csrf\" value=\"", f);
  rt_html_esc(f, rq->form);
  fputs("\">", f);
}

/* ---- helpers ---- */


/* The operator whose token t is, or -1: compared with every operator's token in constant
 * time (no early end), so the time says nothing about which one nearly matched. */
static int operator_of(const char *t)
{
  int who = -1;
  if (!t)
    return -1;
  for (size_t k = 0; k < g_nops; k++) {
    const char *tok = g_ops[k].token;
    size_t a = strlen(t), b = strlen(tok);
    unsigned char d = (unsigned char)(a != b);
    for (size_t i = 0; i < b; i++)
      d |= (unsigned char)(tok[i] ^ (i < a ? t[i] : 0));
    /* branch-free select: who = k when d == 0 */
    int m = -(int)(d == 0);
    who = (who & ~m) | ((int)k & m);
  }
  return who;
}

/* "signed in as anne" at the top of a page. */
static void signed_in(FILE *f, const req *rq)
{
  fputs("<p class=\"who\">signed in as <b>", f);
  rt_html_esc(f, rq->who);
  fputs("</b></p>\n", f);
}

static void common_headers(struct MHD_Response *r)
{
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned code, const char *type,
                                char *buf, size_t len)
{
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(buf);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  common_headers(r);
  if (code == MHD_HTTP_UNAUTHORIZED)
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"vagt\"");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

/* An HTML page with forms: sends the cookie of a session made for it. */
static enum MHD_Result send_page(struct MHD_Connection *c, const req *rq, unsigned code,
                                 char *buf, size_t len)
{
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(buf);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
  common_headers(r);
  if (rq->new_sid[0]) {
    char cookie[128];
    snprintf(cookie, sizeof cookie, "vagt_session=%s; HttpOnly; SameSite=Strict; Path=/",
             rq->new_sid);
    MHD_add_response_header(r, "Set-Cookie", cookie);
  }
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *text)
{
  char *b = strdup(text);
  return b ? send_buf(c, code, "text/plain; charset=utf-8", b, strlen(b)) : MHD_NO;
}

static FILE *page(char **buf, size_t *len, const char *title)
{
  FILE *f = open_memstream(buf, len);
  if (!f)
    return NULL;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
  rt_html_esc(f, title);
  fputs("</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:"
        "collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;"
        "text-align:left}.passed{color:#060}.needs_review{color:#a60;font-weight:bold}.failed,.drift,.error,.timeout,.interrupted"
        "{color:#a00;font-weight:bold}.running{color:#05a}pre{background:#f4f4f4;padding:.5em;"
        "white-space:pre-wrap}img{max-width:32%;border:1px solid #888;margin-right:1%}"
        "</style></head><body>\n",
        f);
  return f;
}

static const char *col(sqlite3_stmt *st, int i)
{
  const unsigned char *s = sqlite3_column_text(st, i);
  return s ? (const char *)s : "";
}

static void fmt_time(double t, char *buf, size_t n)
{
  if (t <= 0) {
    snprintf(buf, n, "-");
    return;
  }
  vu_rfc3339(t, false, buf, n);
}

/* ---- pages ---- */

/* When the robot's last passed run finished, NULL when never: from the history, or from
 * runs_pruned once retention deleted that run (ag_prune.h). One parameter: the robot. */
#define LAST_SUCCESS_SQL                                                                     \
  "SELECT nullif(max(coalesce((SELECT max(finished) FROM runs WHERE robot=?1 AND "          \
  "status='passed'), 0), coalesce((SELECT last_finished FROM runs_pruned WHERE robot=?1 "   \
  "AND status='passed'), 0)), 0)"

/* Runs of a robot (?1) with a status (?2): those in the history and those retention
 * deleted, so a counter never goes down. */
#define RUNS_COUNT_SQL                                                                       \
  "SELECT (SELECT count(*) FROM runs WHERE robot=?1 AND status=?2) + coalesce((SELECT n "   \
  "FROM runs_pruned WHERE robot=?1 AND status=?2), 0)"

/* What retention_days deleted: the last prune and the totals. */
static void retention_section(FILE *f)
{
  fprintf(f, "<h2>Retention</h2>\n<p>Run folders, evidence, per-run logs, history rows, "
             "delivered alerts and finished work items are deleted %d days after the run "
             "(<code>retention_days</code>); a drift halt waiting for approval is kept.</p>\n",
          g_x->cfg->retention_days);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT at, runs, folders, run_rows + outbox_rows, item_rows, "
                               "bytes, kept FROM prunes ORDER BY id DESC LIMIT 1",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    char t[48];
    fmt_time(sqlite3_column_double(st, 0), t, sizeof t);
    fprintf(f, "<p id=\"last-prune\">Last prune %s: deleted %lld runs (%lld run folders, "
               "%lld bytes), %lld history rows, %lld work-item rows; kept %lld old runs.</p>\n",
            t, (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
            (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 3),
            (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 6));
  } else {
    fputs("<p id=\"last-prune\">No prune yet.</p>\n", f);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT coalesce(sum(runs), 0), coalesce(sum(run_rows + "
                               "outbox_rows), 0), coalesce(sum(item_rows), 0), "
                               "coalesce(sum(bytes), 0), count(*) FROM prunes",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 4) > 0)
    fprintf(f, "<p id=\"pruned-total\">In all: %lld runs, %lld history rows, %lld work-item "
               "rows, %lld bytes in %lld prunes.</p>\n",
            (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
            (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
            (long long)sqlite3_column_int64(st, 4));
  sqlite3_finalize(st);
}

static enum MHD_Result page_index(struct MHD_Connection *c, const req *rq)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = page(&buf, &len, "vagt agent");
  if (!f)
    return MHD_NO;
  ag_config *cfg = g_x->cfg;
  fputs("<h1>vagt agent</h1>\n", f);
  signed_in(f, rq);
  fputs("<h2>Robots</h2>\n<table><tr><th>robot</th><th>schedule</th>"
        "<th>next run</th><th>last run</th><th>last success</th><th>alerts to</th><th></th>"
        "</tr>\n",
        f);
  time_t now = (time_t)ag_time();
  for (size_t i = 0; i < cfg->nrobots; i++) {
    ag_robot *r = &cfg->robots[i];
    fputs("<tr><td><a href=\"/robots/", f);
    rt_html_esc(f, r->name);
    fputs("\">", f);
    rt_html_esc(f, r->name);
    fputs("</a></td><td>", f);
    rt_html_esc(f, r->schedule ? r->schedule : "on demand");
    if (r->tz) {
      fputs(" (", f);
      rt_html_esc(f, r->tz);
      fputs(")", f);
    }
    fputs("</td><td>", f);
    char when[64] = "-";
    if (r->schedule && r->enabled) {
      time_t n = ag_cron_next(&r->cron, r->tz, now);
      if (n != (time_t)-1)
        vu_rfc3339((double)n, false, when, sizeof when);
    }
    rt_html_esc(f, r->enabled ? when : "disabled");
    fputs("</td><td>", f);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(g_db, "SELECT id, status FROM runs WHERE robot=? ORDER BY id DESC "
                                 "LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, r->name, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(f, "<a href=\"/runs/%lld\" class=\"%s\">", (long long)sqlite3_column_int64(st, 0),
                col(st, 1));
        rt_html_esc(f, col(st, 1));
        fputs("</a>", f);
      } else {
        fputs("never", f);
      }
      sqlite3_finalize(st);
    }
    fputs("</td><td>", f);
    if (sqlite3_prepare_v2(g_db, LAST_SUCCESS_SQL, -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, r->name, -1, SQLITE_TRANSIENT);
      char t[48] = "-";
      if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        fmt_time(sqlite3_column_double(st, 0), t, sizeof t);
      rt_html_esc(f, t);
      sqlite3_finalize(st);
    }
    fputs("</td><td>", f);
    for (char **a = r->alert; a && *a; a++) {
      rt_html_esc(f, *a);
      fputs(a[1] ? ", " : "", f);
    }
    fputs("</td><td><form method=\"post\" action=\"/robots/", f);
    rt_html_esc(f, r->name);
    fputs("/run\">", f);
    form_token_field(f, rq);
    fputs("<button type=\"submit\">Run now</button></form></td></tr>\n", f);
  }
  fputs("</table>\n<h2>Runs</h2>\n<table><tr><th>run</th><th>robot</th><th>trigger</th>"
        "<th>started</th><th>finished</th><th>status</th><th>exit</th><th>steps</th></tr>\n",
        f);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT id, robot, trigger, started, finished, status, "
                               "exit_code, steps FROM runs ORDER BY id DESC LIMIT 200",
                         -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      long long id = sqlite3_column_int64(st, 0);
      char t1[48], t2[48];
      fmt_time(sqlite3_column_double(st, 3), t1, sizeof t1);
      fmt_time(sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 4),
               t2, sizeof t2);
      fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", id, id);
      rt_html_esc(f, col(st, 1));
      fputs("</td><td>", f);
      rt_html_esc(f, col(st, 2));
      fprintf(f, "</td><td>%s</td><td>%s</td><td class=\"", t1, t2);
      rt_html_esc(f, col(st, 5));
      fputs("\">", f);
      rt_html_esc(f, col(st, 5));
      fprintf(f, "</td><td>%s</td><td>%d</td></tr>\n", col(st, 6), sqlite3_column_int(st, 7));
    }
    sqlite3_finalize(st);
  }
  fputs("</table>\n", f);
  retention_section(f);
  fputs("<p><a href=\"/metrics\">metrics</a></p></body></html>\n", f);
  fclose(f);
  return send_page(c, rq, MHD_HTTP_OK, buf, len);
}

typedef struct {
  long long id;
  char robot[128], status[32], run_dir[PATH_MAX], error[4096], trigger[32];
  int exit_code, steps;
  double started, finished, approved;
  char approve_result[4096];
} runrow;

static bool load_run(long long id, runrow *r)
{
  sqlite3_stmt *st = NULL;
  memset(r, 0, sizeof *r);
  if (sqlite3_prepare_v2(g_db, "SELECT robot, status, run_dir, error, trigger, exit_code, "
                               "steps, started, finished, approved, approve_result FROM runs "
                               "WHERE id=?",
                         -1, &st, NULL) != SQLITE_OK)
    return false;
  sqlite3_bind_int64(st, 1, id);
  bool found = sqlite3_step(st) == SQLITE_ROW;
  if (found) {
    r->id = id;
    snprintf(r->robot, sizeof r->robot, "%s", col(st, 0));
    snprintf(r->status, sizeof r->status, "%s", col(st, 1));
    snprintf(r->run_dir, sizeof r->run_dir, "%s", col(st, 2));
    snprintf(r->error, sizeof r->error, "%s", col(st, 3));
    snprintf(r->trigger, sizeof r->trigger, "%s", col(st, 4));
    r->exit_code = sqlite3_column_int(st, 5);
    r->steps = sqlite3_column_int(st, 6);
    r->started = sqlite3_column_double(st, 7);
    r->finished = sqlite3_column_double(st, 8);
    r->approved = sqlite3_column_double(st, 9);
    snprintf(r->approve_result, sizeof r->approve_result, "%s", col(st, 10));
  }
  sqlite3_finalize(st);
  return found;
}

static void free_names(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
}

static size_t pending_approvals(long long id, char **names, size_t max);

/* approved.json's account of what changed: the step, the files replaced, the reasons. */
static void what_changed(FILE *f, const char *json)
{
  cJSON *o = json ? cJSON_Parse(json) : NULL;
  if (!o)
    return;
  const cJSON *x;
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, RT_APPRJ_STEP);
  if (cJSON_IsString(step)) {
    fputs("step <code>", f);
    rt_html_esc(f, step->valuestring);
    fputs("</code>", f);
  }
  static const char *const lists[][2] = {{RT_APPRJ_FILES_REPLACED, "files replaced"},
                                          {RT_APPRJ_FILES, "now"},
                                          {RT_APPRJ_CARRIED_OVER, "also updated"}};
  for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, lists[i][0]);
    if (cJSON_GetArraySize(files) <= 0)
      continue;
    fprintf(f, "; %s:", lists[i][1]);
    cJSON_ArrayForEach(x, files) if (cJSON_IsString(x))
    {
      fputs(" <code>", f);
      rt_html_esc(f, x->valuestring);
      fputs("</code>", f);
    }
  }
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, RT_APPRJ_REASONS);
  if (cJSON_GetArraySize(rs) > 0) {
    fputs("; accepted:<ul>", f);
    cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x))
    {
      fputs("<li>", f);
      rt_html_esc(f, x->valuestring);
      fputs("</li>", f);
    }
    fputs("</ul>", f);
  }
  cJSON_Delete(o);
}

/* The approvals (audit trail) of a run (where = "run_id=?", id) or a robot (where =
 * "robot=?", name). */
static void approvals_table(FILE *f, const char *where, long long id, const char *robot)
{
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT run_id, step, by, at, state, changed FROM approvals "
                            "WHERE %s ORDER BY id DESC LIMIT 200",
           where);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, sql, -1, &st, NULL) != SQLITE_OK)
    return;
  if (robot)
    sqlite3_bind_text(st, 1, robot, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64(st, 1, id);
  bool any = false;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!any)
      fputs("<table class=\"approvals\"><tr><th>run</th><th>step</th><th>approved by</th>"
            "<th>at</th><th>state</th><th>what changed</th></tr>\n",
            f);
    any = true;
    char t[48];
    fmt_time(sqlite3_column_double(st, 3), t, sizeof t);
    long long rid = sqlite3_column_int64(st, 0);
    fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", rid, rid);
    rt_html_esc(f, col(st, 1));
    fputs("</td><td class=\"by\">", f);
    rt_html_esc(f, col(st, 2));
    fprintf(f, "</td><td>%s</td><td>", t);
    rt_html_esc(f, col(st, 4));
    fputs("</td><td>", f);
    what_changed(f, (const char *)sqlite3_column_text(st, 5));
    fputs("</td></tr>\n", f);
  }
  if (any)
    fputs("</table>\n", f);
  else
    fputs("<p>No approvals.</p>\n", f);
  sqlite3_finalize(st);
}

/* A robot: its approvals (the audit trail of its baseline) and its latest runs. */
static enum MHD_Result page_robot(struct MHD_Connection *c, const char *name, const req *rq)
{
  ag_robot *rb = ag_config_robot(g_x->cfg, name);
  if (!rb)
    return send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  char *buf = NULL;
  size_t len = 0;
  char title[256];
  snprintf(title, sizeof title, "vagt robot %s", rb->name);
  FILE *f = page(&buf, &len, title);
  if (!f)
    return MHD_NO;
  fputs("<p><a href=\"/\">all robots and runs</a></p>\n<h1>Robot ", f);
  rt_html_esc(f, rb->name);
  fputs("</h1>\n", f);
  signed_in(f, rq);
  fprintf(f, "<h2>Approvals of its baseline</h2><p>A new baseline needs %d approval%s by "
             "different operators.</p>\n",
          g_x->cfg->approvals, g_x->cfg->approvals == 1 ? "" : "s");
  approvals_table(f, "robot=?", 0, rb->name);
  fputs("<h2>Runs</h2><table><tr><th>run</th><th>trigger</th><th>started</th><th>status</th>"
        "</tr>\n",
        f);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT id, trigger, started, status FROM runs WHERE robot=? "
                               "ORDER BY id DESC LIMIT 100",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, rb->name, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      long long rid = sqlite3_column_int64(st, 0);
      char t[48];
      fmt_time(sqlite3_column_double(st, 2), t, sizeof t);
      fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", rid, rid);
      rt_html_esc(f, col(st, 1));
      fprintf(f, "</td><td>%s</td><td class=\"", t);
      rt_html_esc(f, col(st, 3));
      fputs("\">", f);
      rt_html_esc(f, col(st, 3));
      fputs("</td></tr>\n", f);
    }
    sqlite3_finalize(st);
  }
  fputs("</table></body></html>\n", f);
  fclose(f);
  return send_page(c, rq, MHD_HTTP_OK, buf, len);
}

static enum MHD_Result page_run(struct MHD_Connection *c, long long id, const req *rq)
{
  runrow r;
  if (!load_run(id, &r))
    return send_text(c, MHD_HTTP_NOT_FOUND, "no such run (runs are deleted after "
                                            "retention_days)\n");
  char *buf = NULL;
  size_t len = 0;
  char title[256];
  snprintf(title, sizeof title, "vagt run %lld: %s", id, r.robot);
  FILE *f = page(&buf, &len, title);
  if (!f)
    return MHD_NO;
  char t1[48], t2[48];
  fmt_time(r.started, t1, sizeof t1);
  fmt_time(r.finished, t2, sizeof t2);
  fprintf(f, "<p><a href=\"/\">all robots and runs</a></p>\n<h1>Run %lld: ", id);
  rt_html_esc(f, r.robot);
  fputs("</h1>\n", f);
  signed_in(f, rq);
  fputs("<table><tr><th>status</th><td class=\"", f);
  rt_html_esc(f, r.status);
  fputs("\">", f);
  rt_html_esc(f, r.status);
  fprintf(f, " (exit %d)</td></tr><tr><th>trigger</th><td>", r.exit_code);
  rt_html_esc(f, r.trigger);
  fprintf(f, "</td></tr><tr><th>started</th><td>%s</td></tr><tr><th>finished</th><td>%s</td>"
             "</tr><tr><th>steps</th><td>%d</td></tr><tr><th>run folder</th><td>",
          t1, t2, r.steps);
  rt_html_esc(f, r.run_dir[0] ? r.run_dir : "(none)");
  fputs("</td></tr></table>\n", f);
  if (r.error[0]) {
    fputs("<h2>Error</h2><pre>", f);
    rt_html_esc(f, r.error);
    fputs("</pre>\n", f);
  }
  if (r.run_dir[0]) {
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/" RT_ALERT_JSON, r.run_dir);
    char *text = vu_read_file(p, 1 << 20, VU_NOFOLLOW, NULL, NULL, 0);
    cJSON *a = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_REASONS), *x;
    if (cJSON_GetArraySize(rs) > 0) {
      fputs("<h2>Why it halted</h2><ul>", f);
      cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x))
      {
        fputs("<li>", f);
        rt_html_esc(f, x->valuestring);
        fputs("</li>", f);
      }
      fputs("</ul>\n", f);
    }
    cJSON_Delete(a);
    /* robot.items' items left for a person: batch and row number, never their data */
    snprintf(p, sizeof p, "%s/" RT_RUN_JSON, r.run_dir);
    text = vu_read_file(p, 8 << 20, VU_NOFOLLOW, NULL, NULL, 0);
    a = text ? cJSON_Parse(text) : NULL;
    free(text);
    rt_html_items_need_person(f, cJSON_GetObjectItemCaseSensitive(a, RT_RUNJ_NEED_PERSON));
    cJSON_Delete(a);
    fprintf(f, "<p><a href=\"/runs/%lld/report.html\">the run's report</a></p>\n", id);
    snprintf(p, sizeof p, "%s/evidence", r.run_dir);
    DIR *d = opendir(p);
    if (d) {
      struct dirent *e;
      bool any = false;
      while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".png") != 0)
          continue;
        if (!any)
          fputs("<h2>Evidence</h2><p>", f);
        any = true;
        fprintf(f, "<a href=\"/runs/%lld/evidence/", id);
        rt_html_esc(f, e->d_name);
        fprintf(f, "\"><img alt=\"");
        rt_html_esc(f, e->d_name);
        fprintf(f, "\" src=\"/runs/%lld/evidence/", id);
        rt_html_esc(f, e->d_name);
        fputs("\"></a>\n", f);
      }
      if (any)
        fputs("</p>\n", f);
      closedir(d);
    }
  }
  if (strcmp(r.status, "drift") == 0) {
    char *names[AG_APPROVALS_MAX + 1];
    size_t np = r.approved > 0 ? 0 : pending_approvals(id, names, AG_APPROVALS_MAX);
    if (r.approved > 0) {
      char t[48];
      fmt_time(r.approved, t, sizeof t);
      fprintf(f, "<h2>Approved</h2><p>at %s</p>", t);
      approvals_table(f, "run_id=?", id, NULL);
      fputs("<pre>", f);
      rt_html_esc(f, r.approve_result);
      fputs("</pre>\n", f);
    } else {
      if (np) {
        fprintf(f, "<h2>Approvals</h2><p class=\"pending\">%zu of %d approvals (", np,
                g_x->cfg->approvals);
        for (size_t i = 0; i < np; i++) {
          rt_html_esc(f, names[i]);
          fputs(i + 1 < np ? ", " : "", f);
        }
        fputs(")</p>", f);
        approvals_table(f, "run_id=?", id, NULL);
      }
      free_names(names, np);
      fprintf(f, "<h2>Approve</h2><p>When the new screens are right (the vendor's update, "
                 "checked), accept them as the baseline: the next run judges against "
                 "them.</p><form method=\"post\" action=\"/runs/%lld/approve\">",
              id);
      form_token_field(f, rq);
      fputs("<button type=\"submit\">Approve the new screens</button></form>\n", f);
    }
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT alert_id, channel, kind, attempts, delivered, "
                               "last_error FROM outbox WHERE run_id=? ORDER BY id",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, id);
    bool any = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!any)
        fputs("<h2>Alerts</h2><table><tr><th>alert id</th><th>channel</th><th>by</th>"
              "<th>attempts</th><th>delivered</th><th>last error</th></tr>\n",
              f);
      any = true;
      char t[48];
      fmt_time(sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 4), t,
               sizeof t);
      fputs("<tr><td>", f);
      rt_html_esc(f, col(st, 0));
      fputs("</td><td>", f);
      rt_html_esc(f, col(st, 1));
      fputs("</td><td>", f);
      rt_html_esc(f, col(st, 2));
      fprintf(f, "</td><td>%d</td><td>%s</td><td>", sqlite3_column_int(st, 3), t);
      rt_html_esc(f, col(st, 5));
      fputs("</td></tr>\n", f);
    }
    if (any)
      fputs("</table>\n", f);
    sqlite3_finalize(st);
  }
  fputs("</body></html>\n", f);
  fclose(f);
  return send_page(c, rq, MHD_HTTP_OK, buf, len);
}

/* A file of a run's folder: report.html or evidence/NAME. Never outside the state folder. */
static enum MHD_Result serve_run_file(struct MHD_Connection *c, long long id, const char *rel)
{
  runrow r;
  if (strstr(rel, "..") || rel[0] == '/' || !load_run(id, &r) || !r.run_dir[0])
    return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  char p[PATH_MAX * 2];
  snprintf(p, sizeof p, "%s/%s", r.run_dir, rel);
  char *real = realpath(p, NULL);
  size_t sl = g_state_real ? strlen(g_state_real) : 0;
  if (!real || !g_state_real || strncmp(real, g_state_real, sl) != 0 || real[sl] != '/') {
    free(real);
    return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    free(real);
    return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  }
  const char *type = "application/octet-stream";
  size_t n = strlen(real);
  if (n > 5 && strcmp(real + n - 5, ".html") == 0)
    type = "text/html; charset=utf-8";
  else if (n > 4 && strcmp(real + n - 4, ".png") == 0)
    type = "image/png";
  else if (n > 5 && strcmp(real + n - 5, ".json") == 0)
    type = "application/json";
  else if (n > 4 && strcmp(real + n - 4, ".txt") == 0)
    type = "text/plain; charset=utf-8";
  free(real);
  struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
  if (!resp) {
    close(fd);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", type);
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
  common_headers(resp);
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Runs `vagt approve --by NAME... RUN_DIR` (the operators who approved, in order),
 * capturing its output. */
static int run_approve(const char *dir, char **by, size_t nby, char *out, size_t outlen)
{
  int pfd[2];
  /* close-on-exec: no other child may hold the write end and keep this page waiting */
  if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
    snprintf(out, outlen, "pipe: %s", strerror(errno));
    return -1;
  }
  char *argv[4 + 2 * (AG_APPROVALS_MAX + 1)];
  size_t na = 0;
  argv[na++] = g_x->vagt;
  argv[na++] = "approve";
  for (size_t i = 0; i < nby && i <= AG_APPROVALS_MAX; i++) {
    argv[na++] = "--by";
    argv[na++] = by[i];
  }
  argv[na++] = (char *)dir;
  argv[na] = NULL;
  rt_spawn sp = rt_spawn_defaults(argv);
  sp.cwd = g_x->cfg->dir; /* where the runs ran: relative paths agree */
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
    if (vu_mono() > end || g_stopping) {
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

static pthread_mutex_t approve_mu = PTHREAD_MUTEX_INITIALIZER;

static void approve_reply(req *rq);

/* `vagt approve` may take minutes: its thread runs it (one approval at a time, so two
 * clicks never run it twice) while the connection is suspended, and the pages' threads go
 * on serving everyone else. */
static void *approve_thread(void *arg)
{
  req *rq = arg;
  struct MHD_Connection *c = rq->conn;
  pthread_mutex_lock(&approve_mu);
  approve_reply(rq);
  pthread_mutex_unlock(&approve_mu);
  rq->reply_ready = true;
  MHD_resume_connection(c); /* rq belongs to MHD again from here */
  pthread_mutex_lock(&g_pending_mu);
  g_pending--;
  pthread_mutex_unlock(&g_pending_mu);
  return NULL;
}

static enum MHD_Result do_approve(struct MHD_Connection *c, long long id, req *rq)
{
  rq->conn = c;
  rq->approve_id = id;
  pthread_mutex_lock(&g_pending_mu);
  g_pending++;
  pthread_mutex_unlock(&g_pending_mu);
  MHD_suspend_connection(c);
  pthread_t th;
  if (pthread_create(&th, NULL, approve_thread, rq) != 0) {
    pthread_mutex_lock(&g_pending_mu);
    g_pending--;
    pthread_mutex_unlock(&g_pending_mu);
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

/* "Run now": asks the scheduler loop for a manual run of the robot. */
static enum MHD_Result do_run_now(struct MHD_Connection *c, const char *name, size_t len)
{
  char n[128];
  if (len >= sizeof n)
    return send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  memcpy(n, name, len);
  n[len] = '\0';
  ag_robot *r = ag_config_robot(g_x->cfg, n);
  if (!r)
    return send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  ag_request_run(r);
  fprintf(stderr, "vagt agent: robot %s: run requested on the pages\n", r->name);
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "Location", "/");
  common_headers(resp);
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
  MHD_destroy_response(resp);
  return ret;
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

/* The operators whose approvals of run `id` wait for more (state 'pending'), in order. */
static size_t pending_approvals(long long id, char **names, size_t max)
{
  size_t n = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "SELECT by FROM approvals WHERE run_id=? AND state='pending' "
                               "ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64(st, 1, id);
  while (n < max && sqlite3_step(st) == SQLITE_ROW)
    names[n++] = strdup(col(st, 0));
  sqlite3_finalize(st);
  return n;
}

static void add_approval(const runrow *r, const char *step, const char *by, const char *state,
                         const char *changed)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(g_db, "INSERT INTO approvals(run_id, robot, step, run_dir, by, at, "
                               "state, changed) VALUES(?,?,?,?,?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt agent: cannot record the approval: %s\n", sqlite3_errmsg(g_db));
    return;
  }
  sqlite3_bind_int64(st, 1, r->id);
  sqlite3_bind_text(st, 2, r->robot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, step, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, r->run_dir, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, by, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 6, ag_time());
  sqlite3_bind_text(st, 7, state, -1, SQLITE_STATIC);
  if (changed)
    sqlite3_bind_text(st, 8, changed, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE)
    fprintf(stderr, "vagt agent: cannot record the approval: %s\n", sqlite3_errmsg(g_db));
  sqlite3_finalize(st);
}

/* A reply page for an approval that is recorded but waits for another operator. */
static void pending_reply(req *rq, long long id, char **names, size_t n)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = page(&buf, &len, "approve");
  if (!f)
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  signed_in(f, rq);
  fprintf(f, "<h1>Approval recorded</h1><p>%zu of %d approvals (", n, g_x->cfg->approvals);
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

static void approve_reply(req *rq)
{
  long long id = rq->approve_id;
  runrow r;
  if (!load_run(id, &r))
    return reply_text(rq, MHD_HTTP_NOT_FOUND, "no such run\n");
  if (strcmp(r.status, "drift") != 0 || !r.run_dir[0])
    return reply_text(rq, MHD_HTTP_CONFLICT, "only a drift-halted run can be approved\n");
  if (r.approved > 0)
    return reply_text(rq, MHD_HTTP_CONFLICT, "this run was approved already\n");
  char step[1024];
  run_step_key(r.run_dir, step, sizeof step);
  int need = g_x->cfg->approvals;
  char *names[AG_APPROVALS_MAX + 1];
  size_t np = pending_approvals(id, names, AG_APPROVALS_MAX);
  for (size_t i = 0; i < np; i++)
    if (strcmp(names[i], rq->who) == 0) {
      char msg[512];
      snprintf(msg, sizeof msg, "409: %s has approved this run already; a new baseline needs "
                                "%d approvals by different operators: another operator must "
                                "approve it\n",
               rq->who, need);
      free_names(names, np);
      fprintf(stderr, "vagt agent: approve of run %lld by %s refused: approved by %s already\n",
              id, rq->who, rq->who);
      return reply_text(rq, MHD_HTTP_CONFLICT, msg);
    }
  names[np++] = strdup(rq->who);
  if ((int)np < need) {
    add_approval(&r, step, rq->who, "pending", NULL);
    fprintf(stderr, "vagt agent: approve of run %lld by %s: %zu of %d approvals\n", id,
            rq->who, np, need);
    pending_reply(rq, id, names, np);
    free_names(names, np);
    return;
  }
  char out[4096];
  int code = run_approve(r.run_dir, names, np, out, sizeof out);
  char *result = NULL;
  if (ag_asprintf(&result, "vagt approve exited %d\n%s", code, out) < 0) {
    free_names(names, np);
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  }
  if (code == 0) {
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/" RT_APPROVED_JSON, r.run_dir);
    char *changed = vu_read_file(p, 1 << 20, VU_NOFOLLOW, NULL, NULL, 0);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(g_db, "UPDATE approvals SET state='approved', changed=? WHERE "
                                 "run_id=? AND state='pending'",
                           -1, &st, NULL) == SQLITE_OK) {
      if (changed)
        sqlite3_bind_text(st, 1, changed, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 2, id);
      sqlite3_step(st);
      sqlite3_finalize(st);
    }
    add_approval(&r, step, rq->who, "approved", changed);
    free(changed);
    /* a fleet's node: the new baseline is the fleet's, and the drift pause ends */
    const ag_robot *rb = ag_config_robot(g_x->cfg, r.robot);
    char fmsg[512];
    if (rb && ag_fleet_publish(g_x, rb, fmsg, sizeof fmsg) != 0)
      fprintf(stderr, "vagt agent: approve of run %lld: %s; the next run on this node "
                      "publishes it\n", id, fmsg);
    st = NULL;
    if (sqlite3_prepare_v2(g_db, "UPDATE runs SET approved=?, approve_result=? WHERE id=?", -1,
                           &st, NULL) == SQLITE_OK) {
      sqlite3_bind_double(st, 1, ag_time());
      sqlite3_bind_text(st, 2, result, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 3, id);
      sqlite3_step(st);
      sqlite3_finalize(st);
    }
  } else {
    add_approval(&r, step, rq->who, "failed", NULL);
  }
  free_names(names, np);
  fprintf(stderr, "vagt agent: approve of run %lld (%s) by %s: exit %d\n", id, r.run_dir,
          rq->who, code);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = page(&buf, &len, "approve");
  if (!f) {
    free(result);
    return reply_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
  }
  signed_in(f, rq);
  fprintf(f, "<h1>%s</h1><pre>", code == 0 ? "Approved" : "Approve failed");
  rt_html_esc(f, result);
  fprintf(f, "</pre><p><a href=\"/runs/%lld\">back to the run</a></p></body></html>\n", id);
  fclose(f);
  free(result);
  rq->reply_code = code == 0 ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
  rq->reply_type = "text/html; charset=utf-8";
  rq->reply = buf;
  rq->reply_len = len;
}

/* One Prometheus metric with a sample per robot: sql has one parameter, the robot's
 * name; a count (0 when the query fails), or a time (real) left out when NULL. */
static void metric_per_robot(FILE *f, const ag_config *cfg, const char *name, const char *type,
                             const char *help, const char *sql, int real)
{
  fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(g_db, sql, -1, &st, NULL);
  for (size_t i = 0; st && i < cfg->nrobots; i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, cfg->robots[i].name, -1, SQLITE_TRANSIENT);
    int row = sqlite3_step(st) == SQLITE_ROW;
    if (!real)
      fprintf(f, "%s{robot=\"%s\"} %lld\n", name, cfg->robots[i].name,
              row ? sqlite3_column_int64(st, 0) : 0);
    else if (row && sqlite3_column_type(st, 0) != SQLITE_NULL)
      fprintf(f, "%s{robot=\"%s\"} %.3f\n", name, cfg->robots[i].name,
              sqlite3_column_double(st, 0));
  }
  sqlite3_finalize(st);
}

/* What retention deleted, summed over the prunes table (which is never pruned). */
static void pruned_metrics(FILE *f)
{
  sqlite3_stmt *st = NULL;
  long long v[5] = {0};
  double last = 0;
  if (sqlite3_prepare_v2(g_db, "SELECT coalesce(sum(runs), 0), coalesce(sum(run_rows), 0), "
                               "coalesce(sum(outbox_rows), 0), coalesce(sum(item_rows), 0), "
                               "coalesce(sum(bytes), 0), coalesce(max(at), 0) FROM prunes",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    for (int i = 0; i < 5; i++)
      v[i] = sqlite3_column_int64(st, i);
    last = sqlite3_column_double(st, 5);
  }
  sqlite3_finalize(st);
  fprintf(f, "# HELP vagt_pruned_runs_total Runs deleted by retention (folder, history row or "
             "both).\n# TYPE vagt_pruned_runs_total counter\nvagt_pruned_runs_total %lld\n"
             "# HELP vagt_pruned_rows_total Database rows deleted by retention, by table.\n"
             "# TYPE vagt_pruned_rows_total counter\n"
             "vagt_pruned_rows_total{table=\"runs\"} %lld\n"
             "vagt_pruned_rows_total{table=\"outbox\"} %lld\n"
             "vagt_pruned_rows_total{table=\"items\"} %lld\n"
             "# HELP vagt_pruned_bytes_total Bytes of files deleted by retention.\n"
             "# TYPE vagt_pruned_bytes_total counter\nvagt_pruned_bytes_total %lld\n",
          v[0], v[1], v[2], v[3], v[4]);
  if (last > 0)
    fprintf(f, "# HELP vagt_last_prune_timestamp_seconds When retention last ran (Unix "
               "time).\n# TYPE vagt_last_prune_timestamp_seconds gauge\n"
               "vagt_last_prune_timestamp_seconds %.3f\n",
            last);
}

static enum MHD_Result page_metrics(struct MHD_Connection *c)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return MHD_NO;
  ag_config *cfg = g_x->cfg;
  static const char *const statuses[] = {"passed", "needs_review", "failed", "drift", "error",
                                         "timeout", "interrupted", NULL};
  fputs("# HELP vagt_runs_total Robot runs the agent recorded, by robot and final status.\n"
        "# TYPE vagt_runs_total counter\n",
        f);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(g_db, RUNS_COUNT_SQL, -1, &st, NULL);
  for (size_t i = 0; st && i < cfg->nrobots; i++)
    for (const char *const *s = statuses; *s; s++) {
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, cfg->robots[i].name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, *s, -1, SQLITE_STATIC);
      long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
      fprintf(f, "vagt_runs_total{robot=\"%s\",status=\"%s\"} %lld\n", cfg->robots[i].name, *s,
              n);
    }
  sqlite3_finalize(st);
  metric_per_robot(f, cfg, "vagt_drift_total", "counter", "Runs halted on UI drift, by robot.",
                   "SELECT (SELECT count(*) FROM runs WHERE robot=?1 AND status='drift') + "
                   "coalesce((SELECT n FROM runs_pruned WHERE robot=?1 AND status='drift'), 0)",
                   0);
  metric_per_robot(f, cfg, "vagt_last_success_timestamp_seconds", "gauge",
                   "When the robot's last passed run finished (Unix time).", LAST_SUCCESS_SQL,
                   1);
  metric_per_robot(f, cfg, "vagt_running", "gauge", "Runs in progress, by robot.",
                   "SELECT count(*) FROM runs WHERE robot=? AND status='running'", 0);
  fputs("# HELP vagt_alerts_pending Alert deliveries waiting in the outbox.\n"
        "# TYPE vagt_alerts_pending gauge\n",
        f);
  st = NULL;
  long long pend = 0;
  if (sqlite3_prepare_v2(g_db, "SELECT count(*) FROM outbox WHERE delivered IS NULL", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    pend = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  fprintf(f, "vagt_alerts_pending %lld\n", pend);
  pruned_metrics(f);
  fclose(f);
  return send_buf(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

/* ---- dispatch ---- */

enum { AUTH_HEADER, AUTH_QUERY, AUTH_COOKIE, AUTH_PROXY };

/* trusted_proxy: the user its header names, believed only when the connection comes from
 * the proxy's own address. True with the name in `who`. */
static bool proxy_user(struct MHD_Connection *c, char *who, size_t n)
{
  const ag_config *cfg = g_x->cfg;
  if (!cfg->proxy_address || !cfg->proxy_header)
    return false;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr)
    return false;
  const struct sockaddr *sa = ci->client_addr;
  unsigned char peer[16], want[16];
  size_t plen = 0;
  if (sa->sa_family == AF_INET) {
    memcpy(peer, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    plen = 4;
  } else if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
      memcpy(peer, (const unsigned char *)a6 + 12, 4);
      plen = 4;
    } else {
      memcpy(peer, a6, 16);
      plen = 16;
    }
  } else {
    return false;
  }
  bool same = plen == 4 ? inet_pton(AF_INET, cfg->proxy_address, want) == 1 &&
                              memcmp(peer, want, 4) == 0
                        : inet_pton(AF_INET6, cfg->proxy_address, want) == 1 &&
                              memcmp(peer, want, 16) == 0;
  if (!same)
    return false;
  const char *u = MHD_lookup_connection_value(c, MHD_HEADER_KIND, cfg->proxy_header);
  size_t ul = u ? strlen(u) : 0;
  if (!ul || ul > 64 || ul >= n)
    return false;
  for (const char *p = u; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-_.@", *p))
      return false;
  snprintf(who, n, "%s", u);
  return true;
}

static const char *request_token(struct MHD_Connection *c, int *how)
{
  *how = AUTH_HEADER;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  if (h && strncasecmp(h, "Bearer ", 7) == 0)
    return h + 7;
  const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
  if (q) {
    *how = AUTH_QUERY;
    return q;
  }
  *how = AUTH_COOKIE;
  return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_token");
}

/* A POST must come from the pages themselves: a browser names the page a form was sent
 * from (Origin, Sec-Fetch-Site), and one that authenticated by cookie must carry the
 * session's form token. A client that sends the token itself (Authorization) needs no form
 * token: a page on another site cannot make a browser send that header. NULL when the
 * request may go on, else why not. */
static const char *post_refused(struct MHD_Connection *c, int how, const req *rq)
{
  const char *sfs = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
  if (sfs && strcmp(sfs, "same-origin") != 0)
    return "403: this form was sent from another site (Sec-Fetch-Site)\n";
  const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  if (origin) {
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *o = strncmp(origin, "http://", 7) == 0 ? origin + 7 : NULL;
    if (!host || !o || strcasecmp(o, host) != 0)
      return "403: this form was sent from another origin\n";
  }
  /* a proxy's user, like a cookie, is sent by the browser for any page that asks */
  if ((how == AUTH_COOKIE || how == AUTH_PROXY) &&
      !form_token_ok(MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_session"),
                     rq->csrf))
    return "403: the form's token is missing or stale: reload the page and try again\n";
  return NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
  (void)cls, (void)version;
  req *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    *con_cls = rq;
    if (strcmp(method, "POST") == 0)
      rq->pp = MHD_create_post_processor(c, 1024, form_field, rq); /* NULL: not a form */
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (rq->pp && MHD_post_process(rq->pp, upload_data, *upload_data_size) != MHD_YES) {
      MHD_destroy_post_processor(rq->pp);
      rq->pp = NULL;
      rq->csrf[0] = '\0';
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->reply_ready) { /* an approval's thread has finished */
    char *b = rq->reply;
    rq->reply = NULL;
    rq->reply_ready = false;
    return b ? send_buf(c, rq->reply_code, rq->reply_type, b, rq->reply_len) : MHD_NO;
  }
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return send_text(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
  bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  bool post = strcmp(method, "POST") == 0;
  if (!get && !post)
    return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
  int how;
  const char *tok = request_token(c, &how);
  bool from_query = how == AUTH_QUERY;
  int op = operator_of(tok);
  if (op >= 0) {
    snprintf(rq->who, sizeof rq->who, "%s", g_ops[op].name);
  } else if (proxy_user(c, rq->who, sizeof rq->who)) {
    how = AUTH_PROXY;
    from_query = false;
  } else {
    return send_text(c, MHD_HTTP_UNAUTHORIZED,
                     "401: this page needs an operator's token: send \"Authorization: Bearer "
                     "TOKEN\", or open it once with ?token=TOKEN in a browser\n");
  }
  if (from_query && get) {
    /* Keep the token out of the address bar and the history: a cookie, and back. */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!r)
      return MHD_NO;
    char *cookie = NULL;
    if (ag_asprintf(&cookie, "vagt_token=%s; HttpOnly; SameSite=Strict; Path=/", tok) < 0) {
      MHD_destroy_response(r);
      return MHD_NO;
    }
    MHD_add_response_header(r, "Set-Cookie", cookie);
    free(cookie);
    MHD_add_response_header(r, "Location", url);
    common_headers(r);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (strstr(url, ".."))
    return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  if (post) {
    const char *why = post_refused(c, how, rq);
    if (why) {
      fprintf(stderr, "vagt agent: pages: POST %s refused: %s", url, why + 5);
      return send_text(c, MHD_HTTP_FORBIDDEN, why);
    }
  }
  /* Pages with forms, seen in a browser, belong to a session (see post_refused). */
  const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_session");
  if (post && strncmp(url, "/robots/", 8) == 0 && strlen(url) > 12 &&
      strcmp(url + strlen(url) - 4, "/run") == 0)
    return do_run_now(c, url + 8, strlen(url) - 12);
  if (get && strcmp(url, "/") == 0) {
    if (how != AUTH_HEADER)
      session_for(sid, rq);
    return page_index(c, rq);
  }
  if (get && strcmp(url, "/metrics") == 0)
    return page_metrics(c);
  if (get && strncmp(url, "/robots/", 8) == 0 && url[8] && !strchr(url + 8, '/')) {
    if (how != AUTH_HEADER)
      session_for(sid, rq);
    return page_robot(c, url + 8, rq);
  }
  long long id;
  int n = 0;
  if (sscanf(url, "/runs/%lld%n", &id, &n) == 1 && id > 0) {
    const char *rest = url + n;
    if (get && (!*rest || strcmp(rest, "/") == 0)) {
      if (how != AUTH_HEADER)
        session_for(sid, rq);
      return page_run(c, id, rq);
    }
    if (post && strcmp(rest, "/approve") == 0)
      return do_approve(c, id, rq);
    if (get && strcmp(rest, "/report.html") == 0)
      return serve_run_file(c, id, RT_REPORT_HTML);
    if (get && strcmp(rest, "/run.json") == 0)
      return serve_run_file(c, id, RT_RUN_JSON);
    if (get && strncmp(rest, "/evidence/", 10) == 0 && rest[10] && !strchr(rest + 10, '/'))
      return serve_run_file(c, id, rest + 1);
  }
  return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

#define WEB_THREADS 2
#define WEB_IDLE_SECONDS 15
#define WEB_CONN_MEMORY (16 * 1024)

/* As many connections as the descriptor limit leaves room for (raised to its hard limit,
 * up to 8192), keeping 128 for the database, logs and runs; at most 4000. */
static unsigned connection_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 64;
  rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 8192 ? 8192 : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t n = rl.rlim_cur == RLIM_INFINITY ? 8192 : rl.rlim_cur;
  n = n > 128 + 64 ? n - 128 : 64;
  return n > 4000 ? 4000 : (unsigned)n;
}

static void ops_free(void)
{
  for (size_t i = 0; i < g_nops; i++) {
    free(g_ops[i].name);
    free(g_ops[i].token);
  }
  free(g_ops);
  g_ops = NULL;
  g_nops = 0;
}

/* Every operator's token, checked as the configuration's loader did (owner-only, regular,
 * read whole), and none shared: the token is who the operator is. */
static int ops_read(const ag_config *cfg, char *err, size_t errlen)
{
  if (!cfg->noperators && !cfg->proxy_address) {
    snprintf(err, errlen, "the operator pages need token_file or operator declarations");
    return -1;
  }
  if (!cfg->noperators)
    return 0;
  g_ops = calloc(cfg->noperators, sizeof *g_ops);
  if (!g_ops) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < cfg->noperators; i++) {
    char e[512];
    char *tok = ag_token_read(cfg->operators[i].token_file, e, sizeof e);
    if (!tok) {
      snprintf(err, errlen, "operator '%s': %s", cfg->operators[i].name, e);
      ops_free();
      return -1;
    }
    g_ops[g_nops].name = strdup(cfg->operators[i].name);
    g_ops[g_nops++].token = tok;
    for (size_t j = 0; j + 1 < g_nops; j++)
      if (strcmp(g_ops[j].token, tok) == 0) {
        snprintf(err, errlen, "operators '%s' and '%s' have the same token",
                 g_ops[j].name, cfg->operators[i].name);
        ops_free();
        return -1;
      }
  }
  return 0;
}

int ag_web_start(ag_ctx *x, char *err, size_t errlen)
{
  const char *l = x->cfg->listen;
  const char *colon = strrchr(l, ':');
  char host[256];
  snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
  if (host[0] == '[') { /* [::1] */
    memmove(host, host + 1, strlen(host));
    host[strcspn(host, "]")] = '\0';
  }
  int port = atoi(colon + 1);
  struct sockaddr_in a4 = {0};
  struct sockaddr_in6 a6 = {0};
  struct sockaddr *sa = NULL;
  /* epoll in a small pool of threads: an idle or slow connection costs a descriptor and a
   * little memory, not a thread, so hundreds of them (a robot on this machine sending a
   * byte at a time) do not lock the operator out. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                   MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    sa = (struct sockaddr *)&a4;
  } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    sa = (struct sockaddr *)&a6;
    flags |= MHD_USE_IPv6;
  } else {
    snprintf(err, errlen, "listen '%s': give a numeric address (127.0.0.1, ::1, 0.0.0.0)", l);
    return -1;
  }
  g_x = x;
  if (ops_read(x->cfg, err, errlen) != 0)
    return -1;
  g_state_real = realpath(x->cfg->state, NULL);
  g_db = ag_db_open(x->dbpath, err, errlen);
  if (!g_db) {
    ops_free();
    return -1;
  }
  unsigned limit = connection_limit();
  g_stopping = 0;
  g_d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                         sa, MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_IDLE_SECONDS,
                         MHD_OPTION_CONNECTION_LIMIT, limit,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
                         MHD_OPTION_END);
  if (!g_d) {
    snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this machine)", l);
    ag_db_close(g_db);
    g_db = NULL;
    ops_free();
    return -1;
  }
  fprintf(stderr, "vagt agent: operator pages on http://%s/ (up to %u connections)\n", l,
          limit);
  return 0;
}

void ag_web_stop(void)
{
  g_stopping = 1; /* approvals end their `vagt approve` and resume their connections */
  for (int i = 0; i < 600; i++) {
    pthread_mutex_lock(&g_pending_mu);
    int n = g_pending;
    pthread_mutex_unlock(&g_pending_mu);
    if (!n)
      break;
    usleep(50 * 1000);
  }
  if (g_d)
    MHD_stop_daemon(g_d);
  g_d = NULL;
  if (g_db)
    ag_db_close(g_db);
  g_db = NULL;
  ops_free();
  free(g_state_real);
  g_state_real = NULL;
}
