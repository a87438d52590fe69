/* The operator pages read from the store: the robots and runs, a robot, a run (with its
 * folder's files: the halt's reasons, items left for a person, evidence), and /metrics. */
#include "ag_web_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_cron.h"
#include "ag_util.h"
#include "prune.h"
#include "runfolder.h"
#include "vu.h"

/* What retention_days deleted: the last prune and the totals. */
static void retention_section(ag_web *w, FILE *f)
{
  fprintf(f,
          "<h2>Retention</h2>\n<p>Run folders, evidence, per-run logs, history rows, "
          "delivered alerts and finished work items are deleted %d days after the run "
          "(<code>retention_days</code>); a drift halt waiting for approval is kept.</p>\n",
          w->x->cfg->retention_days);
  ag_prune_last p;
  if (w->store->ops->prune_last(w->store, &p)) {
    char t[48];
    web_fmt_time(p.at, t, sizeof t);
    fprintf(f,
            "<p id=\"last-prune\">Last prune %s: deleted %lld runs (%lld run folders, "
            "%lld bytes), %lld history rows, %lld work-item rows; kept %lld old runs.</p>\n",
            t, p.runs, p.folders, p.bytes, p.rows, p.item_rows, p.kept);
  } else {
    fputs("<p id=\"last-prune\">No prune yet.</p>\n", f);
  }
  ag_prune_sums s;
  if (w->store->ops->prune_sums(w->store, &s) && s.prunes > 0)
    fprintf(f,
            "<p id=\"pruned-total\">In all: %lld runs, %lld history rows, %lld work-item "
            "rows, %lld bytes in %lld prunes.</p>\n",
            s.runs, s.run_rows + s.outbox_rows, s.item_rows, s.bytes, s.prunes);
}

/* The index's cell of a robot's last run: a link to it, "never", or nothing when the store
 * failed. */
static void last_run_cell(void *cls, const ag_run_brief *r)
{
  FILE *f = cls;
  fprintf(f, "<a href=\"/runs/%lld\" class=\"%s\">", r->id, r->status);
  rt_html_esc(f, r->status);
  fputs("</a>", f);
}

/* A robot's row of the index. */
static void robot_row(ag_web *w, FILE *f, const ag_robot *r, time_t now, const req *rq)
{
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
  long long prun = 0;
  char by[256];
  if (r->enabled && w->store->ops->paused(w->store, r->name, &prun, by, sizeof by) == 1) {
    fputs("<span class=\"drift\">paused on every node</span>", f);
    if (prun > 0)
      fprintf(f, " (<a href=\"/runs/%lld\">run %lld</a>)", prun, prun);
  } else {
    rt_html_esc(f, r->enabled ? when : "disabled");
  }
  fputs("</td><td>", f);
  if (w->store->ops->runs_latest(w->store, r->name, 1, last_run_cell, f) == 0)
    fputs("never", f);
  fputs("</td><td>", f);
  double t = 0;
  int ls = w->store->ops->last_success(w->store, r->name, &t);
  if (ls >= 0) {
    char ts[48] = "-";
    if (ls > 0)
      web_fmt_time(t, ts, sizeof ts);
    rt_html_esc(f, ts);
  }
  fputs("</td><td>", f);
  for (char **a = r->alert; a && *a; a++) {
    rt_html_esc(f, *a);
    fputs(a[1] ? ", " : "", f);
  }
  fputs("</td><td><form method=\"post\" action=\"/robots/", f);
  rt_html_esc(f, r->name);
  fputs("/run\">", f);
  web_form_token_field(f, rq);
  fputs("<button type=\"submit\">Run now</button></form></td></tr>\n", f);
}

/* A row of the index's runs. */
static void run_row(void *cls, const ag_run_brief *r)
{
  FILE *f = cls;
  char t1[48], t2[48];
  web_fmt_time(r->started, t1, sizeof t1);
  web_fmt_time(r->finished, t2, sizeof t2);
  fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", r->id, r->id);
  rt_html_esc(f, r->robot);
  fputs("</td><td>", f);
  if (r->node[0]) { /* a fleet's history */
    rt_html_esc(f, r->node);
    fputs("</td><td>", f);
  }
  rt_html_esc(f, r->trigger);
  fprintf(f, "</td><td>%s</td><td>%s</td><td class=\"", t1, t2);
  rt_html_esc(f, r->status);
  fputs("\">", f);
  rt_html_esc(f, r->status);
  fprintf(f, "</td><td>%s</td><td>%d</td></tr>\n", r->exit_code, r->steps);
}

enum MHD_Result web_page_index(struct MHD_Connection *c, const req *rq)
{
  ag_web *w = rq->w;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = web_page(&buf, &len, "vagt agent");
  if (!f)
    return MHD_NO;
  ag_config *cfg = w->x->cfg;
  fputs("<h1>vagt agent</h1>\n", f);
  web_signed_in(f, rq);
  fputs("<h2>Robots</h2>\n<table><tr><th>robot</th><th>schedule</th>"
        "<th>next run</th><th>last run</th><th>last success</th><th>alerts to</th><th></th>"
        "</tr>\n",
        f);
  time_t now = (time_t)ag_time();
  for (size_t i = 0; i < cfg->nrobots; i++)
    robot_row(w, f, &cfg->robots[i], now, rq);
  fprintf(f,
          "</table>\n<h2>Runs</h2>\n<table><tr><th>run</th><th>robot</th>%s<th>trigger</th>"
          "<th>started</th><th>finished</th><th>status</th><th>exit</th><th>steps</th></tr>\n",
          cfg->database ? "<th>node</th>" : "");
  w->store->ops->runs_latest(w->store, NULL, 200, run_row, f);
  fputs("</table>\n", f);
  retention_section(w, f);
  fputs("<p><a href=\"/metrics\">metrics</a></p></body></html>\n", f);
  fclose(f);
  return web_send_page(c, rq, MHD_HTTP_OK, buf, len);
}

void web_free_names(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
}

/* Every string of the JSON array a, escaped, each between open and close. */
static void strings_html(FILE *f, const cJSON *a, const char *open, const char *close)
{
  const cJSON *x;
  cJSON_ArrayForEach(x, a) if (cJSON_IsString(x))
  {
    fputs(open, f);
    rt_html_esc(f, x->valuestring);
    fputs(close, f);
  }
}

/* The strings of a non-empty JSON array as list items between head and tail. */
static void list_html(FILE *f, const cJSON *a, const char *head, const char *tail)
{
  if (cJSON_GetArraySize(a) <= 0)
    return;
  fputs(head, f);
  strings_html(f, a, "<li>", "</li>");
  fputs(tail, f);
}

/* dir/name parsed (read without following a symbolic link, at most max bytes), or NULL. */
static cJSON *read_run_file(const char *dir, const char *name, size_t max)
{
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  char *text = vu_read_file(p, max, VU_NOFOLLOW, NULL, NULL, 0);
  cJSON *j = text ? cJSON_Parse(text) : NULL;
  free(text);
  return j;
}

/* approved.json's account of what changed: the step, the files replaced, the reasons. */
static void what_changed(FILE *f, const char *json)
{
  cJSON *o = json ? cJSON_Parse(json) : NULL;
  if (!o)
    return;
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
    strings_html(f, files, " <code>", "</code>");
  }
  list_html(f, cJSON_GetObjectItemCaseSensitive(o, RT_APPRJ_REASONS), "; accepted:<ul>", "</ul>");
  cJSON_Delete(o);
}

/* A table written a row at a time, its head before the first row. */
typedef struct {
  FILE *f;
  bool any;
} table_out;

static FILE *table_row(table_out *o, const char *head)
{
  if (!o->any)
    fputs(head, o->f);
  o->any = true;
  return o->f;
}

static void approval_row(void *cls, const ag_approval_row *a)
{
  FILE *f = table_row(cls, "<table class=\"approvals\"><tr><th>run</th><th>step</th>"
                           "<th>approved by</th><th>at</th><th>state</th><th>what changed</th>"
                           "</tr>\n");
  char t[48];
  web_fmt_time(a->at, t, sizeof t);
  fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", a->run_id, a->run_id);
  rt_html_esc(f, a->step);
  fputs("</td><td class=\"by\">", f);
  rt_html_esc(f, a->by);
  fprintf(f, "</td><td>%s</td><td>", t);
  rt_html_esc(f, a->state);
  fputs("</td><td>", f);
  what_changed(f, a->changed);
  fputs("</td></tr>\n", f);
}

void web_approvals_table(ag_web *w, FILE *f, long long id, const char *robot)
{
  table_out o = {f, false};
  if (w->store->ops->approvals(w->store, id, robot, approval_row, &o) < 0)
    return;
  if (o.any)
    fputs("</table>\n", f);
  else
    fputs("<p>No approvals.</p>\n", f);
}

/* A row of a robot's runs. */
static void robot_run_row(void *cls, const ag_run_brief *r)
{
  FILE *f = cls;
  char t[48];
  web_fmt_time(r->started, t, sizeof t);
  fprintf(f, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>", r->id, r->id);
  if (r->node[0]) { /* a fleet's history */
    rt_html_esc(f, r->node);
    fputs("</td><td>", f);
  }
  rt_html_esc(f, r->trigger);
  fprintf(f, "</td><td>%s</td><td class=\"", t);
  rt_html_esc(f, r->status);
  fputs("\">", f);
  rt_html_esc(f, r->status);
  fputs("</td></tr>\n", f);
}

/* A robot: its approvals (the audit trail of its baseline) and its latest runs. */
enum MHD_Result web_page_robot(struct MHD_Connection *c, const char *name, const req *rq)
{
  ag_web *w = rq->w;
  ag_robot *rb = ag_config_robot(w->x->cfg, name);
  if (!rb)
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  char *buf = NULL;
  size_t len = 0;
  char title[256];
  snprintf(title, sizeof title, "vagt robot %s", rb->name);
  FILE *f = web_page(&buf, &len, title);
  if (!f)
    return MHD_NO;
  fputs("<p><a href=\"/\">all robots and runs</a></p>\n<h1>Robot ", f);
  rt_html_esc(f, rb->name);
  fputs("</h1>\n", f);
  web_signed_in(f, rq);
  long long prun = 0;
  char by[256];
  if (w->store->ops->paused(w->store, rb->name, &prun, by, sizeof by) == 1) {
    fputs("<p class=\"warn\"><strong>Paused on every node</strong> since its drift halt ", f);
    if (prun > 0)
      fprintf(f, "<a href=\"/runs/%lld\">run %lld</a> (", prun, prun);
    rt_html_esc(f, by);
    fputs(prun > 0 ? ")" : "", f);
    fputs(": it starts nowhere until that halt is approved (a new baseline), or resumed if "
          "it was not the application's change.</p>\n",
          f);
  }
  fprintf(f,
          "<h2>Approvals of its baseline</h2><p>A new baseline needs %d approval%s by "
          "different operators.</p>\n",
          w->x->cfg->approvals, w->x->cfg->approvals == 1 ? "" : "s");
  web_approvals_table(w, f, 0, rb->name);
  fprintf(f,
          "<h2>Runs</h2><table><tr><th>run</th>%s<th>trigger</th><th>started</th>"
          "<th>status</th></tr>\n",
          w->x->cfg->database ? "<th>node</th>" : "");
  w->store->ops->runs_latest(w->store, rb->name, 100, robot_run_row, f);
  fputs("</table></body></html>\n", f);
  fclose(f);
  return web_send_page(c, rq, MHD_HTTP_OK, buf, len);
}

/* A run's row of the history: status, trigger, times, steps, folder, error. */
static void run_summary(FILE *f, const ag_run_row *r, long long id, const req *rq)
{
  char t1[48], t2[48];
  web_fmt_time(r->started, t1, sizeof t1);
  web_fmt_time(r->finished, t2, sizeof t2);
  fprintf(f, "<p><a href=\"/\">all robots and runs</a></p>\n<h1>Run %lld: ", id);
  rt_html_esc(f, r->robot);
  fputs("</h1>\n", f);
  web_signed_in(f, rq);
  fputs("<table><tr><th>status</th><td class=\"", f);
  rt_html_esc(f, r->status);
  fputs("\">", f);
  rt_html_esc(f, r->status);
  fprintf(f, " (exit %d)</td></tr>", r->exit_code);
  if (r->node[0]) { /* a fleet's: which node ran it */
    fputs("<tr><th>node</th><td>", f);
    rt_html_esc(f, r->node);
    fputs("</td></tr>", f);
  }
  fputs("<tr><th>trigger</th><td>", f);
  rt_html_esc(f, r->trigger);
  fprintf(f,
          "</td></tr><tr><th>started</th><td>%s</td></tr><tr><th>finished</th><td>%s</td>"
          "</tr><tr><th>steps</th><td>%d</td></tr><tr><th>run folder</th><td>",
          t1, t2, r->steps);
  rt_html_esc(f, r->run_dir[0] ? r->run_dir : "(none)");
  fputs("</td></tr></table>\n", f);
  if (r->error[0]) {
    fputs("<h2>Error</h2><pre>", f);
    rt_html_esc(f, r->error);
    fputs("</pre>\n", f);
  }
}

/* What the run's folder says: why it halted (alert.json), the items it left for a person
 * (run.json), its report and evidence. */
static void run_folder(FILE *f, const ag_run_row *r, long long id)
{
  cJSON *a = read_run_file(r->run_dir, RT_ALERT_JSON, 1 << 20);
  list_html(f, cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_REASONS), "<h2>Why it halted</h2><ul>",
            "</ul>\n");
  cJSON_Delete(a);
  /* robot.items' items left for a person: batch and row number, never their data */
  a = read_run_file(r->run_dir, RT_RUN_JSON, 8 << 20);
  rt_html_items_need_person(f, cJSON_GetObjectItemCaseSensitive(a, RT_RUNJ_NEED_PERSON));
  cJSON_Delete(a);
  fprintf(f, "<p><a href=\"/runs/%lld/report.html\">the run's report</a></p>\n", id);
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/evidence", r->run_dir);
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

/* Whether the halt's reasons (alert.json) say an element moved or two swapped places. */
static bool halt_moved(const ag_run_row *r)
{
  cJSON *a = read_run_file(r->run_dir, RT_ALERT_JSON, 1 << 20);
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_REASONS), *x;
  bool moved = false;
  cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x) && (strstr(x->valuestring, " moved ") ||
                                                      strstr(x->valuestring, " swapped"))) moved =
      true;
  cJSON_Delete(a);
  return moved;
}

/* A drift halt: who approved it, or the approvals so far and the form. */
static void run_approval(ag_web *w, FILE *f, const ag_run_row *r, long long id, const req *rq)
{
  char *names[AG_APPROVALS_MAX + 1];
  size_t np =
      r->approved > 0 ? 0 : w->store->ops->approvals_pending(w->store, id, names, AG_APPROVALS_MAX);
  if (r->approved > 0) {
    char t[48];
    web_fmt_time(r->approved, t, sizeof t);
    fprintf(f, "<h2>Approved</h2><p>at %s</p>", t);
    web_approvals_table(w, f, id, NULL);
    fputs("<pre>", f);
    rt_html_esc(f, r->approve_result);
    fputs("</pre>\n", f);
  } else {
    if (np) {
      fprintf(f, "<h2>Approvals</h2><p class=\"pending\">%zu of %d approvals (", np,
              w->x->cfg->approvals);
      for (size_t i = 0; i < np; i++) {
        rt_html_esc(f, names[i]);
        fputs(i + 1 < np ? ", " : "", f);
      }
      fputs(")</p>", f);
      web_approvals_table(w, f, id, NULL);
    }
    web_free_names(names, np);
    fputs("<h2>Approve</h2><p>When the new screens are right (the vendor's update, "
          "checked), accept them as the baseline: the next run judges against them.</p>",
          f);
    if (halt_moved(r))
      fputs("<p class=\"warn\"><strong>Elements moved.</strong> The baseline records what the "
            "screens look like, not what the script does: a script that clicks or types at "
            "fixed positions would, after this approval, act on whatever now stands there "
            "(a citizen's address typed into the name field, with the run passing). Before "
            "approving, check that every step of the script finds its element by its text "
            "(w:click{ text = \"Gem\" }, or by its label: text = \"Navn\", dx = 150) or "
            "change its positions, and run it once on test data.</p>",
            f);
    fprintf(f, "<form method=\"post\" action=\"/runs/%lld/approve\">", id);
    web_form_token_field(f, rq);
    fputs("<button type=\"submit\">Approve the new screens</button></form>\n", f);
    long long prun = 0;
    char by[256];
    int held =
        w->x->cfg->database ? w->store->ops->paused(w->store, r->robot, &prun, by, sizeof by) : 0;
    if (held == 1 && prun != id) {
      fputs("<p>The robot's pause on every node is another drift halt's: ", f);
      if (prun > 0)
        fprintf(f, "<a href=\"/runs/%lld\">run %lld</a> (", prun, prun);
      rt_html_esc(f, by);
      fputs(prun > 0 ? ")." : ".", f);
      fputs(" Approving this run ends it only if it makes a new baseline version.</p>\n", f);
    }
    if (held == 1 && prun == id) {
      fputs("<h2>Resume without a new baseline</h2><p>Only when this halt was not the "
            "application's change (a node set up wrongly, a test against another version): "
            "the robot runs again on every node, judged against the baseline as it is; a "
            "node that still shows these screens halts again.</p>",
            f);
      fprintf(f, "<form method=\"post\" action=\"/runs/%lld/resume\">", id);
      web_form_token_field(f, rq);
      fputs("<button type=\"submit\">Resume, baseline unchanged</button></form>\n", f);
    }
  }
}

static void delivery_row(void *cls, const ag_delivery_row *d)
{
  FILE *f = table_row(cls, "<h2>Alerts</h2><table><tr><th>alert id</th><th>channel</th>"
                           "<th>by</th><th>attempts</th><th>delivered</th><th>last error</th>"
                           "</tr>\n");
  char t[48];
  web_fmt_time(d->delivered, t, sizeof t);
  fputs("<tr><td>", f);
  rt_html_esc(f, d->alert_id);
  fputs("</td><td>", f);
  rt_html_esc(f, d->channel);
  fputs("</td><td>", f);
  rt_html_esc(f, d->kind);
  fprintf(f, "</td><td>%d</td><td>%s</td><td>", d->attempts, t);
  rt_html_esc(f, d->last_error);
  fputs("</td></tr>\n", f);
}

bool web_run_here(ag_web *w, ag_run_row *r)
{
  const ag_config *cfg = w->x->cfg;
  struct stat st;
  bool mine = !r->node[0] || !strcmp(r->node, cfg->node);
  if (!w->store->ops->run_files_to || (mine && r->run_dir[0] && stat(r->run_dir, &st) == 0))
    return r->run_dir[0] != 0;
  r->run_dir[0] = 0;
  if (r->finished <= 0)
    return false; /* its files reach the fleet when it has ended */
  char dir[PATH_MAX], probe[PATH_MAX + 16], err[512];
  snprintf(dir, sizeof dir, "%s/fleet/runs/%lld", cfg->state, r->id);
  snprintf(probe, sizeof probe, "%s/" RT_RUN_JSON, dir);
  pthread_mutex_lock(&w->fetch_mu);
  bool ok = stat(probe, &st) == 0;
  if (!ok) {
    rt_remove_tree(dir, err, sizeof err); /* a copy left half-written */
    ok = w->store->ops->run_files_to(w->store, r->id, dir, err, sizeof err) == 0;
    if (!ok)
      fprintf(stderr, "vagt agent: pages: run %lld of node %s: cannot copy its files here: %s\n",
              r->id, r->node, err);
  }
  pthread_mutex_unlock(&w->fetch_mu);
  if (ok)
    snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
  return ok;
}

enum MHD_Result web_page_run(struct MHD_Connection *c, long long id, const req *rq)
{
  ag_web *w = rq->w;
  ag_run_row r;
  if (!w->store->ops->run_get(w->store, id, &r))
    return web_send_text(c, MHD_HTTP_NOT_FOUND,
                         "no such run (runs are deleted after "
                         "retention_days)\n");
  char *buf = NULL;
  size_t len = 0;
  char title[256];
  snprintf(title, sizeof title, "vagt run %lld: %s", id, r.robot);
  FILE *f = web_page(&buf, &len, title);
  if (!f)
    return MHD_NO;
  run_summary(f, &r, id, rq);
  if (web_run_here(w, &r))
    run_folder(f, &r, id);
  if (strcmp(r.status, "drift") == 0)
    run_approval(w, f, &r, id, rq);
  table_out o = {f, false};
  if (w->store->ops->deliveries(w->store, id, delivery_row, &o) > 0)
    fputs("</table>\n", f);
  fputs("</body></html>\n", f);
  fclose(f);
  return web_send_page(c, rq, MHD_HTTP_OK, buf, len);
}

enum MHD_Result web_serve_run_file(ag_web *w, struct MHD_Connection *c, long long id,
                                   const char *rel)
{
  ag_run_row r;
  if (strstr(rel, "..") || rel[0] == '/' || !w->store->ops->run_get(w->store, id, &r) ||
      !web_run_here(w, &r))
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  char p[PATH_MAX * 2];
  snprintf(p, sizeof p, "%s/%s", r.run_dir, rel);
  char *real = realpath(p, NULL);
  size_t sl = w->state_real ? strlen(w->state_real) : 0;
  if (!real || !w->state_real || strncmp(real, w->state_real, sl) != 0 || real[sl] != '/') {
    free(real);
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    free(real);
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
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
  web_common_headers(resp);
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* One Prometheus metric with a sample per robot: a count of runs with `status` (0 when
 * the store fails to count). */
static void count_per_robot(ag_web *w, FILE *f, const char *name, const char *type,
                            const char *help, const char *status, bool with_pruned)
{
  const ag_config *cfg = w->x->cfg;
  fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  for (size_t i = 0; i < cfg->nrobots; i++) {
    long long n = w->store->ops->runs_count(w->store, cfg->robots[i].name, status, with_pruned);
    fprintf(f, "%s{robot=\"%s\"} %lld\n", name, cfg->robots[i].name, n < 0 ? 0 : n);
  }
}

/* What retention deleted, summed over the prunes table (which is never pruned). */
static void pruned_metrics(ag_web *w, FILE *f)
{
  ag_prune_sums s;
  w->store->ops->prune_sums(w->store, &s);
  fprintf(f,
          "# HELP vagt_pruned_runs_total Runs deleted by retention (folder, history row or "
          "both).\n# TYPE vagt_pruned_runs_total counter\nvagt_pruned_runs_total %lld\n"
          "# HELP vagt_pruned_rows_total Database rows deleted by retention, by table.\n"
          "# TYPE vagt_pruned_rows_total counter\n"
          "vagt_pruned_rows_total{table=\"runs\"} %lld\n"
          "vagt_pruned_rows_total{table=\"outbox\"} %lld\n"
          "vagt_pruned_rows_total{table=\"items\"} %lld\n"
          "# HELP vagt_pruned_bytes_total Bytes of files deleted by retention.\n"
          "# TYPE vagt_pruned_bytes_total counter\nvagt_pruned_bytes_total %lld\n",
          s.runs, s.run_rows, s.outbox_rows, s.item_rows, s.bytes);
  if (s.last > 0)
    fprintf(f,
            "# HELP vagt_last_prune_timestamp_seconds When retention last ran (Unix "
            "time).\n# TYPE vagt_last_prune_timestamp_seconds gauge\n"
            "vagt_last_prune_timestamp_seconds %.3f\n",
            s.last);
}

enum MHD_Result web_page_metrics(ag_web *w, struct MHD_Connection *c)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return MHD_NO;
  ag_config *cfg = w->x->cfg;
  static const char *const statuses[] = {"passed", "needs_review", "failed",      "drift",
                                         "error",  "timeout",      "interrupted", NULL};
  fputs("# HELP vagt_runs_total Robot runs the agent recorded, by robot and final status.\n"
        "# TYPE vagt_runs_total counter\n",
        f);
  for (size_t i = 0; i < cfg->nrobots; i++)
    for (const char *const *s = statuses; *s; s++) {
      long long n = w->store->ops->runs_count(w->store, cfg->robots[i].name, *s, true);
      fprintf(f, "vagt_runs_total{robot=\"%s\",status=\"%s\"} %lld\n", cfg->robots[i].name, *s,
              n < 0 ? 0 : n);
    }
  count_per_robot(w, f, "vagt_drift_total", "counter", "Runs halted on UI drift, by robot.",
                  "drift", true);
  fputs("# HELP vagt_last_success_timestamp_seconds When the robot's last passed run finished "
        "(Unix time).\n# TYPE vagt_last_success_timestamp_seconds gauge\n",
        f);
  for (size_t i = 0; i < cfg->nrobots; i++) {
    double t;
    if (w->store->ops->last_success(w->store, cfg->robots[i].name, &t) > 0)
      fprintf(f, "vagt_last_success_timestamp_seconds{robot=\"%s\"} %.3f\n", cfg->robots[i].name,
              t);
  }
  count_per_robot(w, f, "vagt_running", "gauge", "Runs in progress, by robot.", "running", false);
  fprintf(f,
          "# HELP vagt_alerts_pending Alert deliveries waiting in the outbox.\n"
          "# TYPE vagt_alerts_pending gauge\nvagt_alerts_pending %lld\n",
          w->store->ops->deliveries_pending(w->store));
  pruned_metrics(w, f);
  fclose(f);
  return web_send_buf(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}
