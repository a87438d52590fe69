#include "ag_alert.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ag_util.h"

/* ---- building the alert ---- */

static cJSON *read_json(const char *dir, const char *name)
{
  if (!dir)
    return NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = ag_read_file(path, 4 << 20, NULL);
  if (!text)
    return NULL;
  cJSON *j = cJSON_Parse(text);
  free(text);
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A link to a file of the run: through the pages when public_url is set, else its path. */
static char *run_link(const ag_config *c, long long run_id, const char *run_dir,
                      const char *rel)
{
  char *s = NULL;
  int rc;
  if (c->public_url)
    rc = ag_asprintf(&s, "%s/runs/%lld/%s", c->public_url, run_id, rel);
  else
    rc = ag_asprintf(&s, "%s/%s", run_dir ? run_dir : "(no run folder)", rel);
  return rc < 0 ? NULL : s;
}

void ag_alert_id(sqlite3 *db, const char *robot, long long run_id, const char *status,
                 char *buf, size_t n)
{
  double started = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT started FROM runs WHERE id=?", -1, &st, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW)
      started = sqlite3_column_double(st, 0);
  }
  sqlite3_finalize(st);
  char *text = NULL;
  if (ag_asprintf(&text, "vagt alert\n%s\n%lld\n%.6f\n%s", robot, run_id, started, status) < 0) {
    ag_uuid(buf, n);
    return;
  }
  ag_stable_id(text, buf, n);
  free(text);
}

static bool wants_alert(const ag_robot *r, const char *status)
{
  if (strcmp(status, "passed") == 0)
    return false;
  if (strcmp(status, "drift") == 0)
    return r->alert_drift;
  return r->alert_failure;
}

int ag_alert_enqueue(sqlite3 *db, const ag_config *c, const ag_robot *r, long long run_id,
                     const ag_runinfo *ri, double now)
{
  if (!wants_alert(r, ri->status) || !r->alert || !r->alert[0])
    return 0;
  bool drift = strcmp(ri->status, "drift") == 0;
  char id[64];
  ag_alert_id(db, r->name, run_id, ri->status, id, sizeof id);
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "id", id);
  cJSON_AddStringToObject(a, "robot", r->name);
  cJSON_AddStringToObject(a, "status", drift ? "drift" : "failed");
  cJSON_AddStringToObject(a, "run_status", ri->status);
  cJSON_AddNumberToObject(a, "exit_code", ri->exit_code);
  cJSON_AddNumberToObject(a, "run_id", (double)run_id);

  cJSON *aj = read_json(ri->run_dir, "alert.json");
  cJSON *rj = aj ? NULL : read_json(ri->run_dir, "run.json");
  cJSON *step = cJSON_AddObjectToObject(a, "step");
  cJSON *reasons = cJSON_AddArrayToObject(a, "reasons");
  const char *diff = NULL;
  if (aj) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(aj, "step");
    if (jstr(s, "key"))
      cJSON_AddStringToObject(step, "key", jstr(s, "key"));
    if (jstr(s, "name"))
      cJSON_AddStringToObject(step, "name", jstr(s, "name"));
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, "line");
    if (cJSON_IsNumber(line))
      cJSON_AddNumberToObject(step, "line", line->valuedouble);
    if (jstr(s, "file"))
      cJSON_AddStringToObject(step, "file", jstr(s, "file"));
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(aj, "reasons"), *x;
    cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x))
      cJSON_AddItemToArray(reasons, cJSON_CreateString(x->valuestring));
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(aj, "evidence");
    if (cJSON_IsObject(ev)) {
      cJSON *evo = cJSON_AddObjectToObject(a, "evidence");
      cJSON_ArrayForEach(x, ev) if (cJSON_IsString(x) && !strstr(x->valuestring, "..")) {
        char *l = run_link(c, run_id, ri->run_dir, x->valuestring);
        if (l)
          cJSON_AddStringToObject(evo, x->string, l);
        free(l);
      }
      diff = jstr(ev, "diff");
    }
  } else {
    /* run.json format 2 keeps the last step; format 1 listed every step */
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(rj, "steps");
    const cJSON *last = cJSON_IsArray(steps) && cJSON_GetArraySize(steps) > 0
                            ? cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1)
                            : cJSON_GetObjectItemCaseSensitive(rj, "last_step");
    if (last) {
      if (jstr(last, "key"))
        cJSON_AddStringToObject(step, "key", jstr(last, "key"));
      if (jstr(last, "step"))
        cJSON_AddStringToObject(step, "name", jstr(last, "step"));
      const cJSON *line = cJSON_GetObjectItemCaseSensitive(last, "line");
      if (cJSON_IsNumber(line))
        cJSON_AddNumberToObject(step, "line", line->valuedouble);
    }
  }
  if (cJSON_GetArraySize(reasons) == 0) {
    const char *err = ri->error ? ri->error : jstr(rj, "error");
    if (err) {
      size_t n = strcspn(err, "\n");
      char *first = strndup(err, n);
      if (first)
        cJSON_AddItemToArray(reasons, cJSON_CreateString(first));
      free(first);
    } else {
      char m[128];
      snprintf(m, sizeof m, "the run ended with status %s (exit %d)", ri->status,
               ri->exit_code);
      cJSON_AddItemToArray(reasons, cJSON_CreateString(m));
    }
  }
  cJSON_AddStringToObject(a, "run", ri->run_dir ? ri->run_dir : "");
  char *report = run_link(c, run_id, ri->run_dir, "report.html");
  cJSON_AddStringToObject(a, "report", report ? report : "");
  free(report);
  char when[48];
  ag_rfc3339(now, when, sizeof when);
  cJSON_AddStringToObject(a, "time", when);

  char *attach = NULL;
  if (ri->run_dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", ri->run_dir,
             diff && !strstr(diff, "..") ? diff : "evidence/diff.png");
    if (access(p, R_OK) == 0)
      attach = strdup(p);
  }
  char *payload = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  cJSON_Delete(aj);
  cJSON_Delete(rj);
  int added = 0;
  for (char **name = r->alert; payload && *name; name++) {
    const ag_channel *ch = ag_config_channel((ag_config *)c, *name);
    if (!ch)
      continue;
    if (ch->webhook) {
      cJSON *t = cJSON_CreateObject();
      cJSON_AddStringToObject(t, "url", ch->webhook);
      char *ts = cJSON_PrintUnformatted(t);
      cJSON_Delete(t);
      if (ag_db_outbox_add(db, id, run_id, r->name, ch->name, "webhook", ts, payload, NULL,
                           now) != 0)
        added = -1;
      else if (added >= 0)
        added++;
      cJSON_free(ts);
    }
    if (ch->email_to) {
      cJSON *t = cJSON_CreateObject();
      cJSON *to = cJSON_AddArrayToObject(t, "to");
      for (char **x = ch->email_to; *x; x++)
        cJSON_AddItemToArray(to, cJSON_CreateString(*x));
      cJSON_AddStringToObject(t, "from", ch->email_from);
      cJSON_AddStringToObject(t, "smtp", ch->smtp);
      if (ch->smtp_user)
        cJSON_AddStringToObject(t, "user", ch->smtp_user);
      if (ch->smtp_password_file)
        cJSON_AddStringToObject(t, "password_file", ch->smtp_password_file);
      char *ts = cJSON_PrintUnformatted(t);
      cJSON_Delete(t);
      if (ag_db_outbox_add(db, id, run_id, r->name, ch->name, "email", ts, payload, attach,
                           now) != 0)
        added = -1;
      else if (added >= 0)
        added++;
      cJSON_free(ts);
    }
    if (ch->syslog) {
      if (ag_db_outbox_add(db, id, run_id, r->name, ch->name, "syslog", "{}", payload, NULL,
                           now) != 0)
        added = -1;
      else if (added >= 0)
        added++;
    }
  }
  cJSON_free(payload);
  free(attach);
  return added;
}

/* ---- delivery ---- */

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
  (void)p, (void)ud;
  return s * n;
}

static int deliver_webhook(const cJSON *target, const char *alert_id, const char *payload,
                           char *err, size_t errlen)
{
  const char *url = jstr(target, "url");
  if (!url) {
    snprintf(err, errlen, "no url");
    return -1;
  }
  CURL *h = curl_easy_init();
  if (!h) {
    snprintf(err, errlen, "curl_easy_init failed");
    return -1;
  }
  char ebuf[CURL_ERROR_SIZE] = "";
  char idh[128];
  snprintf(idh, sizeof idh, "X-Vagt-Alert-Id: %s", alert_id);
  struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
  hd = curl_slist_append(hd, idh);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "vagt-agent/" VAGT_VERSION);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    snprintf(err, errlen, "webhook %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
    return -1;
  }
  if (code < 200 || code > 299) {
    snprintf(err, errlen, "webhook %s answered HTTP %ld", url, code);
    return -1;
  }
  return 0;
}

/* Only the name of the robot and the status go into the subject: it must stay ASCII. */
static void ascii_only(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80 || *s < 0x20)
      *s = '?';
}

static char *mail_text(const cJSON *a)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(a, "exit_code");
  bool drift = jstr(a, "status") && strcmp(jstr(a, "status"), "drift") == 0;
  fprintf(f, "Robot %s %s (exit %d).\n\n", jstr(a, "robot"),
          drift ? "halted on UI drift: the application's screen no longer matches its "
                  "recorded baseline, and no further input was sent"
                : "failed",
          cJSON_IsNumber(ec) ? ec->valueint : -1);
  if (jstr(step, "key")) {
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(step, "line");
    fprintf(f, "Step: %s", jstr(step, "key"));
    if (cJSON_IsNumber(line))
      fprintf(f, " (script line %d)", line->valueint);
    fputs("\n", f);
  }
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, "reasons"), *x;
  if (cJSON_GetArraySize(rs) > 0) {
    fputs("Reasons:\n", f);
    cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x)) fprintf(f, "  - %s\n", x->valuestring);
  }
  fprintf(f, "\nReport: %s\nRun folder: %s\nTime: %s\nAlert id: %s\n", jstr(a, "report"),
          jstr(a, "run"), jstr(a, "time"), jstr(a, "id"));
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(a, "evidence");
  if (cJSON_IsObject(ev)) {
    fputs("Evidence:\n", f);
    cJSON_ArrayForEach(x, ev) if (cJSON_IsString(x))
      fprintf(f, "  %s: %s\n", x->string, x->valuestring);
  }
  if (drift)
    fputs("\nAfter checking the vendor's update, approve the new screen as the baseline on "
          "the agent's pages (Approve) or with `vagt approve RUN_FOLDER`.\n",
          f);
  fclose(f);
  return buf;
}

struct mailsrc {
  const char *data;
  size_t len, off;
};

static int deliver_email(const cJSON *target, const char *alert_id, const cJSON *a,
                         const char *attach, char *err, size_t errlen)
{
  const char *smtp = jstr(target, "smtp"), *from = jstr(target, "from");
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(target, "to"), *x;
  if (!smtp || !from || !cJSON_IsArray(to)) {
    snprintf(err, errlen, "incomplete e-mail settings");
    return -1;
  }
  CURL *h = curl_easy_init();
  if (!h) {
    snprintf(err, errlen, "curl_easy_init failed");
    return -1;
  }
  char *password = NULL;
  if (jstr(target, "password_file")) {
    struct stat st;
    const char *pf = jstr(target, "password_file");
    if (stat(pf, &st) != 0 || (st.st_mode & 077)) {
      snprintf(err, errlen, "SMTP password file %s is missing or readable by others", pf);
      curl_easy_cleanup(h);
      return -1;
    }
    password = ag_read_file(pf, 4096, NULL);
    if (password)
      password[strcspn(password, "\r\n")] = '\0';
  }
  struct curl_slist *rcpt = NULL, *hd = NULL;
  char line[2304], tolist[2048] = ""; /* line holds "To: " + the whole list */
  cJSON_ArrayForEach(x, to) if (cJSON_IsString(x))
  {
    snprintf(line, sizeof line, "<%s>", x->valuestring);
    rcpt = curl_slist_append(rcpt, line);
    if (tolist[0])
      strncat(tolist, ", ", sizeof tolist - strlen(tolist) - 1);
    strncat(tolist, x->valuestring, sizeof tolist - strlen(tolist) - 1);
  }
  char mfrom[512];
  snprintf(mfrom, sizeof mfrom, "<%s>", from);
  snprintf(line, sizeof line, "From: vagt <%s>", from);
  hd = curl_slist_append(hd, line);
  snprintf(line, sizeof line, "To: %s", tolist);
  hd = curl_slist_append(hd, line);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(a, "exit_code");
  char subj[512];
  snprintf(subj, sizeof subj, "Subject: [vagt] %s: robot %s (exit %d)", jstr(a, "status"),
           jstr(a, "robot"), cJSON_IsNumber(ec) ? ec->valueint : -1);
  ascii_only(subj);
  hd = curl_slist_append(hd, subj);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S +0000", &tm);
  hd = curl_slist_append(hd, line);
  snprintf(line, sizeof line, "Message-ID: <%s@vagt>", alert_id);
  hd = curl_slist_append(hd, line);
  snprintf(line, sizeof line, "X-Vagt-Alert-Id: %s", alert_id);
  hd = curl_slist_append(hd, line);

  curl_mime *mime = curl_mime_init(h);
  curl_mimepart *part = curl_mime_addpart(mime);
  char *text = mail_text(a);
  curl_mime_data(part, text ? text : "", CURL_ZERO_TERMINATED);
  curl_mime_type(part, "text/plain; charset=utf-8");
  curl_mime_encoder(part, "quoted-printable");
  if (attach && access(attach, R_OK) == 0) {
    part = curl_mime_addpart(mime);
    curl_mime_filedata(part, attach);
    curl_mime_filename(part, "diff.png");
    curl_mime_type(part, "image/png");
    curl_mime_encoder(part, "base64");
  }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, smtp);
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (jstr(target, "user")) {
    curl_easy_setopt(h, CURLOPT_USERNAME, jstr(target, "user"));
    curl_easy_setopt(h, CURLOPT_PASSWORD, password ? password : "");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_mime_free(mime);
  curl_slist_free_all(rcpt);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  free(text);
  if (password) {
    memset(password, 0, strlen(password));
    free(password);
  }
  if (rc != CURLE_OK) {
    snprintf(err, errlen, "e-mail via %s: %s", smtp, ebuf[0] ? ebuf : curl_easy_strerror(rc));
    return -1;
  }
  return 0;
}

static int deliver_syslog(const cJSON *a)
{
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, "reasons");
  const cJSON *r0 = cJSON_GetArrayItem(rs, 0);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(a, "exit_code");
  bool drift = jstr(a, "status") && strcmp(jstr(a, "status"), "drift") == 0;
  openlog("vagt-agent", LOG_PID, LOG_DAEMON);
  syslog(drift ? LOG_WARNING : LOG_ERR,
         "robot %s %s (exit %d) at step %s: %s; report %s [alert %s]", jstr(a, "robot"),
         drift ? "halted on UI drift" : "failed", cJSON_IsNumber(ec) ? ec->valueint : -1,
         jstr(step, "key") ? jstr(step, "key") : "-",
         cJSON_IsString(r0) ? r0->valuestring : "-", jstr(a, "report"), jstr(a, "id"));
  return 0;
}

static double retry_base(void)
{
  const char *s = getenv("VAGT_AGENT_RETRY_BASE");
  double b = s ? strtod(s, NULL) : 0;
  return b > 0 ? b : 30.0;
}

int ag_outbox_deliver_due(sqlite3 *db, double now, int *pending)
{
  sqlite3_stmt *st = NULL;
  int delivered = 0;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, alert_id, kind, target, payload, attach, attempts "
                         "FROM outbox WHERE delivered IS NULL AND next_attempt <= ? "
                         "ORDER BY id LIMIT 50",
                         -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_double(st, 1, now);
  typedef struct {
    long long id;
    char *alert_id, *kind, *target, *payload, *attach;
    int attempts;
  } row;
  row rows[50];
  int n = 0;
  while (n < 50 && sqlite3_step(st) == SQLITE_ROW) {
    row *r = &rows[n++];
    r->id = sqlite3_column_int64(st, 0);
    r->alert_id = strdup((const char *)sqlite3_column_text(st, 1));
    r->kind = strdup((const char *)sqlite3_column_text(st, 2));
    r->target = strdup((const char *)sqlite3_column_text(st, 3));
    r->payload = strdup((const char *)sqlite3_column_text(st, 4));
    const unsigned char *at = sqlite3_column_text(st, 5);
    r->attach = at ? strdup((const char *)at) : NULL;
    r->attempts = sqlite3_column_int(st, 6);
  }
  sqlite3_finalize(st);
  for (int i = 0; i < n; i++) {
    row *r = &rows[i];
    char err[1024] = "";
    cJSON *target = cJSON_Parse(r->target), *a = cJSON_Parse(r->payload);
    int rc = -1;
    if (!target || !a)
      snprintf(err, sizeof err, "unreadable outbox row");
    else if (strcmp(r->kind, "webhook") == 0)
      rc = deliver_webhook(target, r->alert_id, r->payload, err, sizeof err);
    else if (strcmp(r->kind, "email") == 0)
      rc = deliver_email(target, r->alert_id, a, r->attach, err, sizeof err);
    else if (strcmp(r->kind, "syslog") == 0)
      rc = deliver_syslog(a);
    cJSON_Delete(target);
    cJSON_Delete(a);
    double t = ag_time();
    sqlite3_stmt *u = NULL;
    if (rc == 0) {
      delivered++;
      if (sqlite3_prepare_v2(db, "UPDATE outbox SET delivered=?, attempts=attempts+1, "
                                 "last_error=NULL WHERE id=?",
                             -1, &u, NULL) == SQLITE_OK) {
        sqlite3_bind_double(u, 1, t);
        sqlite3_bind_int64(u, 2, r->id);
      }
      fprintf(stderr, "vagt agent: alert %s delivered by %s\n", r->alert_id, r->kind);
    } else {
      double delay = retry_base() * pow(2.0, r->attempts < 20 ? r->attempts : 20);
      if (delay > 3600)
        delay = 3600;
      if (sqlite3_prepare_v2(db, "UPDATE outbox SET attempts=attempts+1, next_attempt=?, "
                                 "last_error=? WHERE id=?",
                             -1, &u, NULL) == SQLITE_OK) {
        sqlite3_bind_double(u, 1, t + delay);
        sqlite3_bind_text(u, 2, err, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, r->id);
      }
      fprintf(stderr, "vagt agent: alert %s by %s not delivered (%s); retry in %.0f s\n",
              r->alert_id, r->kind, err, delay);
    }
    if (u) {
      if (sqlite3_step(u) != SQLITE_DONE)
        fprintf(stderr, "vagt agent: database: %s\n", sqlite3_errmsg(db));
      sqlite3_finalize(u);
    }
    free(r->alert_id);
    free(r->kind);
    free(r->target);
    free(r->payload);
    free(r->attach);
  }
  if (pending) {
    *pending = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE delivered IS NULL", -1, &st,
                           NULL) == SQLITE_OK) {
      if (sqlite3_step(st) == SQLITE_ROW)
        *pending = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
    }
  }
  return delivered;
}

/* ---- the delivery thread ---- */

static pthread_t g_thread;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_stop, g_kick, g_running;
static char *g_dbpath;

static void *outbox_main(void *arg)
{
  (void)arg;
  char err[512];
  sqlite3 *db = ag_db_open(g_dbpath, err, sizeof err);
  if (!db) {
    fprintf(stderr, "vagt agent: outbox: %s\n", err);
    return NULL;
  }
  pthread_mutex_lock(&g_mu);
  while (!g_stop) {
    g_kick = false;
    pthread_mutex_unlock(&g_mu);
    ag_outbox_deliver_due(db, ag_time(), NULL);
    pthread_mutex_lock(&g_mu);
    if (g_stop || g_kick)
      continue;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 500 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g_cv, &g_mu, &ts);
  }
  pthread_mutex_unlock(&g_mu);
  ag_db_close(db);
  return NULL;
}

int ag_outbox_start(const char *dbpath)
{
  g_dbpath = strdup(dbpath);
  g_stop = false;
  if (pthread_create(&g_thread, NULL, outbox_main, NULL) != 0)
    return -1;
  g_running = true;
  return 0;
}

void ag_outbox_kick(void)
{
  pthread_mutex_lock(&g_mu);
  g_kick = true;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

void ag_outbox_stop(void)
{
  if (!g_running)
    return;
  pthread_mutex_lock(&g_mu);
  g_stop = true;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
  pthread_join(g_thread, NULL);
  g_running = false;
  free(g_dbpath);
  g_dbpath = NULL;
}
