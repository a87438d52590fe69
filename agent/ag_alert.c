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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ag_util.h"
#include "runfile.h"
#include "vu.h"

/* ---- building the alert ---- */

static cJSON *read_json(const char *dir, const char *name)
{
  if (!dir)
    return NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = vu_read_file(path, 4 << 20, VU_NOFOLLOW, NULL, NULL, 0);
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
static char *run_link(const ag_config *c, long long run_id, const char *run_dir, const char *rel)
{
  char *s = NULL;
  int rc;
  if (c->public_url && run_id > 0)
    rc = ag_asprintf(&s, "%s/runs/%lld/%s", c->public_url, run_id, rel);
  else
    rc = ag_asprintf(&s, "%s%s%s%s/%s", c->database ? "node " : "", c->database ? c->node : "",
                     c->database ? ": " : "", run_dir ? run_dir : "(no run folder)", rel);
  return rc < 0 ? NULL : s;
}

void ag_alert_id(sqlite3 *db, const char *robot, long long run_id, const char *status, char *buf,
                 size_t n)
{
  ag_db_run *r = malloc(sizeof *r); /* 8 KiB */
  double started = r && ag_db_run_get(db, run_id, r) ? r->started : 0;
  free(r);
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
  if (strcmp(status, "needs_review") == 0)
    return r->alert_review;
  return r->alert_failure;
}

int ag_alert_enqueue(sqlite3 *db, const ag_config *c, const ag_robot *r, long long run_id,
                     const ag_runinfo *ri, double now)
{
  if (!wants_alert(r, ri->status) || !r->alert || !r->alert[0])
    return 0;
  bool drift = strcmp(ri->status, "drift") == 0;
  bool review = strcmp(ri->status, "needs_review") == 0;
  char id[64];
  ag_alert_id(db, r->name, run_id, ri->status, id, sizeof id);
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "id", id);
  cJSON_AddStringToObject(a, "robot", r->name);
  cJSON_AddStringToObject(a, "status", drift ? "drift" : review ? "needs_review" : "failed");
  cJSON_AddStringToObject(a, "run_status", ri->status);
  cJSON_AddNumberToObject(a, "exit_code", ri->exit_code);
  cJSON_AddNumberToObject(a, "run_id", (double)run_id);
  if (c->database) { /* a fleet's node: which node's run, and its number on the pages */
    cJSON_AddStringToObject(a, "node", c->node);
    if (ri->link_id > 0)
      cJSON_AddNumberToObject(a, "fleet_run_id", (double)ri->link_id);
  }

  cJSON *aj = read_json(ri->run_dir, RT_ALERT_JSON);
  cJSON *rj = aj ? NULL : read_json(ri->run_dir, RT_RUN_JSON);
  cJSON *step = cJSON_AddObjectToObject(a, "step");
  cJSON *reasons = cJSON_AddArrayToObject(a, "reasons");
  const char *diff = NULL;
  bool full = false; /* evidence "full": the only images an e-mail may carry */
  if (aj) {
    /* what the run's images keep (the monitor writes it; a run folder from before it
     * was written is taken as not full) */
    const char *mode = jstr(aj, RT_ALERTJ_EVIDENCE_MODE);
    if (mode && (!strcmp(mode, "masked") || !strcmp(mode, "none") || !strcmp(mode, "full"))) {
      cJSON_AddStringToObject(a, "evidence_mode", mode);
      full = strcmp(mode, "full") == 0;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(aj, RT_ALERTJ_STEP);
    if (jstr(s, RT_ALERTJ_STEP_KEY))
      cJSON_AddStringToObject(step, "key", jstr(s, RT_ALERTJ_STEP_KEY));
    if (jstr(s, RT_ALERTJ_STEP_NAME))
      cJSON_AddStringToObject(step, "name", jstr(s, RT_ALERTJ_STEP_NAME));
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, RT_ALERTJ_STEP_LINE);
    if (cJSON_IsNumber(line))
      cJSON_AddNumberToObject(step, "line", line->valuedouble);
    if (jstr(s, RT_ALERTJ_STEP_FILE))
      cJSON_AddStringToObject(step, "file", jstr(s, RT_ALERTJ_STEP_FILE));
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(aj, RT_ALERTJ_REASONS), *x;
    cJSON_ArrayForEach(x, rs) if (cJSON_IsString(x))
        cJSON_AddItemToArray(reasons, cJSON_CreateString(x->valuestring));
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(aj, RT_ALERTJ_EVIDENCE);
    if (cJSON_IsObject(ev)) {
      cJSON *evo = cJSON_AddObjectToObject(a, "evidence");
      cJSON_ArrayForEach(x, ev) if (cJSON_IsString(x) && !strstr(x->valuestring, ".."))
      {
        char *l = run_link(c, ri->link_id ? ri->link_id : run_id, ri->run_dir, x->valuestring);
        if (l)
          cJSON_AddStringToObject(evo, x->string, l);
        free(l);
      }
      diff = jstr(ev, RT_EVJ_DIFF);
    }
  } else {
    /* run.json format 2 keeps the last step; format 1 listed every step */
    const cJSON *last = rt_runjson_last_step(rj);
    if (last) {
      if (jstr(last, RT_STEPJ_KEY))
        cJSON_AddStringToObject(step, "key", jstr(last, RT_STEPJ_KEY));
      if (jstr(last, RT_STEPJ_NAME))
        cJSON_AddStringToObject(step, "name", jstr(last, RT_STEPJ_NAME));
      const cJSON *line = cJSON_GetObjectItemCaseSensitive(last, RT_STEPJ_LINE);
      if (cJSON_IsNumber(line))
        cJSON_AddNumberToObject(step, "line", line->valuedouble);
    }
  }
  /* robot.items' items left for a person, as run.json lists them: batch, row, run */
  cJSON *rn = rj ? NULL : read_json(ri->run_dir, RT_RUN_JSON);
  const cJSON *need = cJSON_GetObjectItemCaseSensitive(rj ? rj : rn, RT_RUNJ_NEED_PERSON), *it;
  if (cJSON_GetArraySize(need) > 0) {
    cJSON *list = cJSON_AddArrayToObject(a, "items_need_person");
    cJSON_ArrayForEach(it, need)
    {
      const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, RT_NEEDJ_BATCH);
      const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, RT_NEEDJ_SEQ);
      const cJSON *by = cJSON_GetObjectItemCaseSensitive(it, RT_NEEDJ_RUN);
      if (!cJSON_IsString(b) || !cJSON_IsNumber(seq))
        continue;
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "batch", b->valuestring);
      cJSON_AddNumberToObject(o, "seq", seq->valuedouble);
      if (cJSON_IsString(by))
        cJSON_AddStringToObject(o, "run", by->valuestring);
      else
        cJSON_AddNullToObject(o, "run");
      cJSON_AddItemToArray(list, o);
    }
    if (review && cJSON_GetArraySize(reasons) == 0) {
      char m[160];
      snprintf(m, sizeof m,
               "%d work item%s of robot.items failed and wait%s for a person: "
               "check %s, then retry with retry_failed = true",
               cJSON_GetArraySize(list), cJSON_GetArraySize(list) == 1 ? "" : "s",
               cJSON_GetArraySize(list) == 1 ? "s" : "",
               cJSON_GetArraySize(list) == 1 ? "it" : "each");
      cJSON_AddItemToArray(reasons, cJSON_CreateString(m));
    }
  }
  cJSON_Delete(rn);
  if (cJSON_GetArraySize(reasons) == 0) {
    const char *err = ri->error ? ri->error : jstr(rj, RT_RUNJ_ERROR);
    if (err) {
      size_t n = strcspn(err, "\n");
      char *first = strndup(err, n);
      if (first)
        cJSON_AddItemToArray(reasons, cJSON_CreateString(first));
      free(first);
    } else {
      char m[128];
      snprintf(m, sizeof m, "the run ended with status %s (exit %d)", ri->status, ri->exit_code);
      cJSON_AddItemToArray(reasons, cJSON_CreateString(m));
    }
  }
  cJSON_AddStringToObject(a, "run", ri->run_dir ? ri->run_dir : "");
  char *report = run_link(c, ri->link_id ? ri->link_id : run_id, ri->run_dir, RT_REPORT_HTML);
  cJSON_AddStringToObject(a, "report", report ? report : "");
  free(report);
  char when[48];
  vu_rfc3339(now, false, when, sizeof when);
  cJSON_AddStringToObject(a, "time", when);

  char *attach = NULL;
  if (ri->run_dir && full) {
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
      if (ag_db_outbox_add(db, id, run_id, r->name, ch->name, "webhook", ts, payload, NULL, now) !=
          0)
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
      if (ch->smtp_cainfo)
        cJSON_AddStringToObject(t, "cainfo", ch->smtp_cainfo);
      char *ts = cJSON_PrintUnformatted(t);
      cJSON_Delete(t);
      if (ag_db_outbox_add(db, id, run_id, r->name, ch->name, "email", ts, payload, attach, now) !=
          0)
        added = -1;
      else if (added >= 0)
        added++;
      cJSON_free(ts);
    }
    if (ch->syslog) {
      cJSON *t = cJSON_CreateObject();
      if (ch->syslog_socket)
        cJSON_AddStringToObject(t, "socket", ch->syslog_socket);
      char *ts = cJSON_PrintUnformatted(t);
      cJSON_Delete(t);
      if (!ts || ag_db_outbox_add(db, id, run_id, r->name, ch->name, "syslog", ts, payload, NULL,
                                  now) != 0)
        added = -1;
      else if (added >= 0)
        added++;
      cJSON_free(ts);
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

/* Why an e-mail carries no image, or that it does (mail_text). */
typedef enum {
  IMG_ATTACHED,
  IMG_NOT_FULL, /* evidence "masked" or "none": images stay in the run folder */
  IMG_NO_TLS,   /* evidence "full", but the SMTP server offered no TLS */
} img_note;

static char *mail_text(const cJSON *a, img_note img)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(a, "exit_code");
  bool drift = jstr(a, "status") && strcmp(jstr(a, "status"), "drift") == 0;
  bool review = jstr(a, "status") && strcmp(jstr(a, "status"), "needs_review") == 0;
  fprintf(f, "Robot %s %s (exit %d).\n\n", jstr(a, "robot"),
          drift    ? "halted on UI drift: the application's screen no longer matches its "
                     "recorded baseline, and no further input was sent"
          : review ? "finished, but left work items for a person"
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
  const cJSON *need = cJSON_GetObjectItemCaseSensitive(a, "items_need_person");
  if (cJSON_GetArraySize(need) > 0) {
    fputs("Work items for a person (batch, row; the run that left it):\n", f);
    cJSON_ArrayForEach(x, need)
    {
      const cJSON *seq = cJSON_GetObjectItemCaseSensitive(x, "seq");
      fprintf(f, "  - %s row %lld (run %s)\n", jstr(x, "batch") ? jstr(x, "batch") : "?",
              cJSON_IsNumber(seq) ? (long long)seq->valuedouble : -1LL,
              jstr(x, "run") ? jstr(x, "run") : "unknown");
    }
  }
  fprintf(f, "\nReport: %s\nRun folder: %s\nTime: %s\nAlert id: %s\n", jstr(a, "report"),
          jstr(a, "run"), jstr(a, "time"), jstr(a, "id"));
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(a, "evidence");
  if (cJSON_IsObject(ev)) {
    fputs("Evidence:\n", f);
    cJSON_ArrayForEach(x, ev) if (cJSON_IsString(x))
        fprintf(f, "  %s: %s\n", x->string, x->valuestring);
  }
  const char *mode = jstr(a, "evidence_mode");
  if (img == IMG_ATTACHED)
    fputs("\nAttached: diff.png, the difference between the recorded screen and today's "
          "(this robot's evidence is \"full\": unmasked, it may show citizens' data).\n",
          f);
  else if (img == IMG_NO_TLS)
    fprintf(f,
            "\nThe difference image is not attached: the mail server offered no TLS "
            "(STARTTLS), and vagt sends images only encrypted (use smtps:// or a server "
            "with STARTTLS). See the report: %s\n",
            jstr(a, "report"));
  else if (drift && mode && !strcmp(mode, "full"))
    fprintf(f,
            "\nNo image is attached: the run kept no difference image. See the report: "
            "%s\n",
            jstr(a, "report"));
  else if (drift)
    fprintf(f,
            "\nNo image is attached (evidence \"%s\": images leave the run folder by "
            "e-mail only with evidence \"full\"). The recorded and current screens and "
            "their difference are in the report: %s\n",
            mode ? mode : "masked", jstr(a, "report"));
  if (drift)
    fputs("\nAfter checking the vendor's update, approve the new screen as the baseline on "
          "the agent's pages (Approve) or with `vagt approve RUN_FOLDER`.\n",
          f);
  fclose(f);
  return buf;
}

/* One SMTP transaction: the alert's text, and the diff image when `attach` is given.
 * Returns curl's code; err gets the message. */
static CURLcode send_mail(const cJSON *target, const char *alert_id, const cJSON *a,
                          const char *attach, img_note img, long use_ssl, const char *password,
                          char *err, size_t errlen)
{
  const char *smtp = jstr(target, "smtp"), *from = jstr(target, "from");
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(target, "to"), *x;
  CURL *h = curl_easy_init();
  if (!h) {
    snprintf(err, errlen, "curl_easy_init failed");
    return CURLE_FAILED_INIT;
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
  char *text = mail_text(a, img);
  curl_mime_data(part, text ? text : "", CURL_ZERO_TERMINATED);
  curl_mime_type(part, "text/plain; charset=utf-8");
  curl_mime_encoder(part, "quoted-printable");
  if (attach) {
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
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L); /* never off, private CA or not */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (jstr(target, "cainfo"))
    curl_easy_setopt(h, CURLOPT_CAINFO, jstr(target, "cainfo"));
  if (use_ssl != CURLUSESSL_NONE)
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
  if (jstr(target, "user")) {
    curl_easy_setopt(h, CURLOPT_USERNAME, jstr(target, "user"));
    curl_easy_setopt(h, CURLOPT_PASSWORD, password ? password : "");
  }
  CURLcode rc = curl_easy_perform(h);
  curl_mime_free(mime);
  curl_slist_free_all(rcpt);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  free(text);
  if (rc != CURLE_OK)
    snprintf(err, errlen, "e-mail via %s: %s", smtp, ebuf[0] ? ebuf : curl_easy_strerror(rc));
  return rc;
}

/* An e-mail with an image goes only over TLS: smtps://, or smtp:// with STARTTLS required
 * (CURLUSESSL_ALL), the server's certificate verified (the system's CAs or the channel's
 * cainfo). When an smtp:// server offers no STARTTLS, the same delivery sends the mail
 * without the image, saying why: the alert arrives, the image never goes out in clear.
 * Any other TLS failure (a certificate that does not verify) fails the delivery, which is
 * retried. A mail without an image keeps the plain settings: STARTTLS when offered and a
 * user is set. */
static int deliver_email(const cJSON *target, const char *alert_id, const cJSON *a,
                         const char *attach, char *err, size_t errlen)
{
  const char *smtp = jstr(target, "smtp"), *from = jstr(target, "from");
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(target, "to");
  if (!smtp || !from || !cJSON_IsArray(to)) {
    snprintf(err, errlen, "incomplete e-mail settings");
    return -1;
  }
  char *password = NULL;
  if (jstr(target, "password_file")) {
    struct stat st;
    const char *pf = jstr(target, "password_file");
    if (stat(pf, &st) != 0 || (st.st_mode & 077)) {
      snprintf(err, errlen, "SMTP password file %s is missing or readable by others", pf);
      return -1;
    }
    password = vu_read_file(pf, 4096, 0, NULL, NULL, 0);
    if (password)
      password[strcspn(password, "\r\n")] = '\0';
  }
  long plain = jstr(target, "user") ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE;
  /* the enqueue attaches only with "full"; a row written before it knew (no
   * evidence_mode in the alert) gets no image either */
  const char *mode = jstr(a, "evidence_mode");
  bool with = attach && mode && strcmp(mode, "full") == 0 && access(attach, R_OK) == 0;
  CURLcode rc;
  if (with) {
    rc = send_mail(target, alert_id, a, attach, IMG_ATTACHED, (long)CURLUSESSL_ALL, password, err,
                   errlen);
    if (rc == CURLE_USE_SSL_FAILED && strncmp(smtp, "smtps://", 8) != 0) {
      fprintf(stderr,
              "vagt agent: alert %s: %s offers no STARTTLS: the e-mail goes without the "
              "image (images are sent only encrypted)\n",
              alert_id, smtp);
      rc = send_mail(target, alert_id, a, NULL, IMG_NO_TLS, plain, password, err, errlen);
    }
  } else {
    rc = send_mail(target, alert_id, a, NULL, IMG_NOT_FULL, plain, password, err, errlen);
  }
  if (password) {
    memset(password, 0, strlen(password));
    free(password);
  }
  return rc == CURLE_OK ? 0 : -1;
}

/* Control characters (a newline in a reason) would split or forge log lines. */
static void no_ctl(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = ' ';
}

/* Cuts s to at most n bytes (n > 0) without splitting a UTF-8 character. */
static void cut_utf8(char *s, size_t n)
{
  if (strlen(s) <= n)
    return;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
    n--;
  s[n] = '\0';
}

#define SYSLOG_DEFAULT "/dev/log"
#define SYSLOG_MAX 2048

/* One line (RFC 3164, as syslog(3) writes it: facility daemon, warning for a drift, error
 * for a failure) as a datagram to the channel's unix socket, /dev/log unless configured.
 * A socket nobody reads fails the delivery, which is retried like any other. */
static int deliver_syslog(const cJSON *target, const cJSON *a, char *err, size_t errlen)
{
  const char *path = jstr(target, "socket") ? jstr(target, "socket") : SYSLOG_DEFAULT;
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, "reasons");
  const cJSON *r0 = cJSON_GetArrayItem(rs, 0);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(a, "exit_code");
  bool drift = jstr(a, "status") && strcmp(jstr(a, "status"), "drift") == 0;
  bool review = jstr(a, "status") && strcmp(jstr(a, "status"), "needs_review") == 0;
  char msg[SYSLOG_MAX + 1];
  snprintf(msg, sizeof msg, "robot %s %s (exit %d) at step %s: %s; report %s [alert %s]",
           jstr(a, "robot"),
           drift    ? "halted on UI drift"
           : review ? "needs review of work items"
                    : "failed",
           cJSON_IsNumber(ec) ? ec->valueint : -1, jstr(step, "key") ? jstr(step, "key") : "-",
           cJSON_IsString(r0) ? r0->valuestring : "-", jstr(a, "report"), jstr(a, "id"));
  no_ctl(msg);
  cut_utf8(msg, SYSLOG_MAX - 64);
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
  char line[SYSLOG_MAX + 128];
  int n =
      snprintf(line, sizeof line, "<%d>%s vagt-agent[%d]: %s",
               LOG_DAEMON | (drift || review ? LOG_WARNING : LOG_ERR), stamp, (int)getpid(), msg);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "syslog socket %s: path too long", path);
    return -1;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "syslog: socket: %s", strerror(errno));
    return -1;
  }
  ssize_t w = sendto(fd, line, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof sa);
  int e = errno;
  close(fd);
  if (w != n) {
    snprintf(err, errlen, "syslog via %s: %s", path, w < 0 ? strerror(e) : "short write");
    return -1;
  }
  return 0;
}

/* Delivers one outbox row: 0, or -1 with err. */
static int deliver_one(const char *kind, const char *alert_id, const char *target_json,
                       const char *payload, const char *attach, char *err, size_t errlen)
{
  cJSON *target = cJSON_Parse(target_json), *a = cJSON_Parse(payload);
  int rc = -1;
  if (!target || !a)
    snprintf(err, errlen, "unreadable outbox row");
  else if (strcmp(kind, "webhook") == 0)
    rc = deliver_webhook(target, alert_id, payload, err, errlen);
  else if (strcmp(kind, "email") == 0)
    rc = deliver_email(target, alert_id, a, attach, err, errlen);
  else if (strcmp(kind, "syslog") == 0)
    rc = deliver_syslog(target, a, err, errlen);
  cJSON_Delete(target);
  cJSON_Delete(a);
  return rc;
}

static double retry_base(void)
{
  const char *s = getenv("VAGT_AGENT_RETRY_BASE");
  double b = s ? strtod(s, NULL) : 0;
  return b > 0 ? b : 30.0;
}

/* The wait before the next attempt after `attempts` failed ones: the base doubling, up to an
 * hour. */
static double backoff(int attempts)
{
  double delay = retry_base() * pow(2.0, attempts < 20 ? attempts : 20);
  return delay > 3600 ? 3600 : delay;
}

/* One attempt at a delivery (ag_outbox_send), logged. */
static int send_one(void *cls, const ag_outbox_msg *m, double *retry_in, char *err, size_t errlen)
{
  (void)cls;
  int rc = deliver_one(m->kind, m->alert_id, m->target, m->payload, m->attach, err, errlen);
  *retry_in = rc == 0 ? 0 : backoff(m->attempts);
  if (rc == 0)
    fprintf(stderr, "vagt agent: alert %s delivered by %s%s\n", m->alert_id, m->kind, m->where);
  else
    fprintf(stderr, "vagt agent: alert %s by %s not delivered (%s); retry in %.0f s\n", m->alert_id,
            m->kind, err, *retry_in);
  return rc;
}

int ag_outbox_deliver(ag_journal *j, double now, int *pending)
{
  return j->ops->outbox_deliver(j, now, send_one, NULL, pending);
}

/* ---- the delivery thread ---- */

static pthread_t g_thread;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_stop, g_kick, g_running;
static char *g_dbpath;
static const ag_config *g_cfg;

static void *outbox_main(void *arg)
{
  (void)arg;
  char err[512];
  ag_journal *j = ag_journal_open(g_cfg, g_dbpath, err, sizeof err);
  if (!j) {
    fprintf(stderr, "vagt agent: outbox: %s\n", err);
    return NULL;
  }
  pthread_mutex_lock(&g_mu);
  while (!g_stop) {
    g_kick = false;
    pthread_mutex_unlock(&g_mu);
    ag_outbox_deliver(j, ag_time(), NULL);
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
  j->ops->close(j);
  return NULL;
}

int ag_outbox_start(const char *dbpath, const ag_config *c)
{
  g_cfg = c;
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
