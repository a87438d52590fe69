#include "runfolder.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rt_steplog {
  cJSON *root;
  cJSON *steps;
};

void rt_rfc3339(char *buf, size_t n)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, n, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

char *rt_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0, r;
  do {
    if (n + 1 >= cap) {
      cap = cap ? cap * 2 : 65536;
      char *b = realloc(buf, cap);
      if (!b) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = b;
    }
    r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
  } while (r > 0);
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

int rt_mkdir_p(const char *path, char *err, size_t errlen)
{
  char *p = strdup(path);
  if (!p)
    return -1;
  for (char *s = p + 1; ; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create folder %s: %s", p, strerror(errno));
        free(p);
        return -1;
      }
      *s = c;
      if (!c)
        break;
    }
  }
  free(p);
  return 0;
}

char *rt_runfolder_create(const char *runs, const char *stem, char *err, size_t errlen)
{
  if (rt_mkdir_p(runs, err, errlen) != 0)
    return NULL;
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
  size_t n = strlen(runs) + strlen(stem) + 48;
  char *dir = malloc(n);
  if (!dir)
    return NULL;
  for (int i = 1; i < 1000; i++) {
    if (i == 1)
      snprintf(dir, n, "%s/%s-%s", runs, ts, stem);
    else
      snprintf(dir, n, "%s/%s-%s-%d", runs, ts, stem, i);
    if (mkdir(dir, 0700) == 0) {
      char ev[4096];
      snprintf(ev, sizeof ev, "%s/evidence", dir);
      if (mkdir(ev, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", ev, strerror(errno));
        free(dir);
        return NULL;
      }
      return dir;
    }
    if (errno != EEXIST) {
      snprintf(err, errlen, "cannot create run folder %s: %s", dir, strerror(errno));
      free(dir);
      return NULL;
    }
  }
  snprintf(err, errlen, "cannot create a unique run folder under %s", runs);
  free(dir);
  return NULL;
}

rt_steplog *rt_steplog_new(const char *script, const char *mode)
{
  rt_steplog *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->root = cJSON_CreateObject();
  char now[40];
  rt_rfc3339(now, sizeof now);
  cJSON_AddStringToObject(l->root, "vagt", VAGT_VERSION);
  cJSON_AddStringToObject(l->root, "script", script);
  cJSON_AddStringToObject(l->root, "mode", mode);
  cJSON_AddStringToObject(l->root, "started", now);
  cJSON_AddStringToObject(l->root, "status", "running");
  l->steps = cJSON_AddArrayToObject(l->root, "steps");
  return l;
}

void rt_steplog_free(rt_steplog *l)
{
  if (!l)
    return;
  cJSON_Delete(l->root);
  free(l);
}

void rt_steplog_set(rt_steplog *l, const char *field, const char *value)
{
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, field);
  if (value)
    cJSON_AddStringToObject(l->root, field, value);
}

size_t rt_steplog_count(const rt_steplog *l)
{
  return (size_t)cJSON_GetArraySize(l->steps);
}

static double ms(double v)
{
  return (double)(long)(v * 1000.0 + 0.5) / 1000.0;
}

void rt_steplog_add(rt_steplog *l, const rt_steprec *s)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "key", s->key);
  cJSON_AddStringToObject(o, "action", s->kind);
  if (s->name) {
    cJSON_AddStringToObject(o, "step", s->name);
    cJSON_AddNumberToObject(o, "ordinal", s->ordinal);
  }
  if (s->file)
    cJSON_AddStringToObject(o, "file", s->file);
  if (s->line > 0)
    cJSON_AddNumberToObject(o, "line", s->line);
  if (s->window) {
    char id[24];
    snprintf(id, sizeof id, "0x%lx", s->window);
    cJSON *w = cJSON_AddObjectToObject(o, "window");
    cJSON_AddStringToObject(w, "id", id);
    if (s->wclass)
      cJSON_AddStringToObject(w, "class", s->wclass);
  }
  if (s->detail)
    cJSON_AddStringToObject(o, "detail", s->detail);
  cJSON_AddStringToObject(o, "verdict", s->verdict ? s->verdict : "none");
  if (s->reason)
    cJSON_AddStringToObject(o, "reason", s->reason);
  if (s->nreasons > 0) {
    cJSON *r = cJSON_AddArrayToObject(o, "reasons");
    for (int i = 0; i < s->nreasons; i++)
      cJSON_AddItemToArray(r, cJSON_CreateString(s->reasons[i]));
  }
  if (s->evidence[0] || s->evidence[1] || s->evidence[2]) {
    static const char *const names[3] = {"recorded", "current", "diff"};
    cJSON *e = cJSON_AddObjectToObject(o, "evidence");
    for (int i = 0; i < 3; i++)
      if (s->evidence[i])
        cJSON_AddStringToObject(e, names[i], s->evidence[i]);
  }
  cJSON *t = cJSON_AddObjectToObject(o, "ms");
  cJSON_AddNumberToObject(t, "settle", ms(s->t_settle));
  cJSON_AddNumberToObject(t, "capture", ms(s->t_capture));
  cJSON_AddNumberToObject(t, "guard", ms(s->t_guard));
  cJSON_AddNumberToObject(t, "input", ms(s->t_input));
  cJSON_AddNumberToObject(t, "total", ms(s->t_total));
  cJSON_AddBoolToObject(o, "settled", s->settled);
  if (s->cap_w > 0) {
    cJSON *c = cJSON_AddObjectToObject(o, "capture");
    cJSON_AddNumberToObject(c, "w", s->cap_w);
    cJSON_AddNumberToObject(c, "h", s->cap_h);
    char h[24];
    snprintf(h, sizeof h, "%016llx", (unsigned long long)s->cap_hash);
    cJSON_AddStringToObject(c, "hash", h);
  }
  cJSON_AddItemToArray(l->steps, o);
}

int rt_write_file_atomic(const char *dir, const char *name, const char *data, size_t len,
                         char *err, size_t errlen)
{
  char tmp[4096], dst[4096];
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
      close(fd);
      unlink(tmp);
      return -1;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

int rt_steplog_write(rt_steplog *l, const char *dir, const char *status, int exit_code,
                     const char *error, char *err, size_t errlen)
{
  rt_steplog_set(l, "status", status);
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, "exit_code");
  cJSON_AddNumberToObject(l->root, "exit_code", exit_code);
  rt_steplog_set(l, "error", error);
  if (strcmp(status, "running") != 0) {
    char now[40];
    rt_rfc3339(now, sizeof now);
    rt_steplog_set(l, "finished", now);
  }
  char *text = cJSON_Print(l->root);
  if (!text) {
    snprintf(err, errlen, "out of memory writing run.json");
    return -1;
  }
  int rc = rt_write_file_atomic(dir, "run.json", text, strlen(text), err, errlen);
  cJSON_free(text);
  return rc;
}

void rt_html_esc(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

int rt_report_write(rt_steplog *l, const char *dir, char *err, size_t errlen)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    snprintf(err, errlen, "out of memory writing report.html");
    return -1;
  }
  const char *status = jstr(l->root, "status");
  fputs("<!DOCTYPE html>\n<html lang=\"da\"><head><meta charset=\"utf-8\">\n<title>vagt run ", f);
  rt_html_esc(f, jstr(l->root, "script"));
  fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
        "collapse}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}"
        ".passed{color:#060}.failed,.drift,.error{color:#a00}"
        "img{max-width:48%;border:1px solid #888;margin-right:1%}img.wide{max-width:100%}"
        ".cap{display:flex;max-width:100%}.cap span{flex:1;font-weight:bold}"
        "pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}"
        "</style></head><body>\n", f);
  fputs("<h1>vagt run: ", f);
  rt_html_esc(f, jstr(l->root, "script"));
  fputs("</h1>\n<p>Status: <b class=\"", f);
  rt_html_esc(f, status);
  fputs("\">", f);
  rt_html_esc(f, status);
  fputs("</b>", f);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(l->root, "exit_code");
  if (cJSON_IsNumber(ec))
    fprintf(f, " (exit code %d)", ec->valueint);
  fputs(". Started ", f);
  rt_html_esc(f, jstr(l->root, "started"));
  if (jstr(l->root, "finished")) {
    fputs(", finished ", f);
    rt_html_esc(f, jstr(l->root, "finished"));
  }
  fputs(".</p>\n", f);
  if (jstr(l->root, "error")) {
    fputs("<pre>", f);
    rt_html_esc(f, jstr(l->root, "error"));
    fputs("</pre>\n", f);
  }
  fputs("<table><tr><th>#</th><th>step key</th><th>line</th><th>action</th><th>verdict</th>"
        "<th>ms</th></tr>\n", f);
  int i = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, l->steps) {
    fprintf(f, "<tr><td>%d</td><td>", ++i);
    rt_html_esc(f, jstr(s, "key"));
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, "line");
    fprintf(f, "</td><td>%d</td><td>", cJSON_IsNumber(line) ? line->valueint : 0);
    rt_html_esc(f, jstr(s, "action"));
    if (jstr(s, "detail")) {
      fputs(" ", f);
      rt_html_esc(f, jstr(s, "detail"));
    }
    fputs("</td><td>", f);
    rt_html_esc(f, jstr(s, "verdict"));
    if (jstr(s, "reason")) {
      fputs(": ", f);
      rt_html_esc(f, jstr(s, "reason"));
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "ms");
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(t, "total");
    fprintf(f, "</td><td>%.1f</td></tr>\n", cJSON_IsNumber(tot) ? tot->valuedouble : 0.0);
  }
  fputs("</table>\n", f);
  /* Evidence: for every step the guard stopped, the recorded screen, today's screen and
   * the difference side by side, with the reasons in words. */
  cJSON_ArrayForEach(s, l->steps) {
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(s, "evidence");
    if (!ev)
      continue;
    fputs("<h2>", f);
    rt_html_esc(f, jstr(s, "verdict"));
    fputs(" at step <code>", f);
    rt_html_esc(f, jstr(s, "key"));
    fputs("</code>", f);
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, "line");
    if (cJSON_IsNumber(line)) {
      fputs(" (", f);
      rt_html_esc(f, jstr(s, "file"));
      fprintf(f, ":%d)", line->valueint);
    }
    fputs("</h2>\n<ul>\n", f);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "reasons")) {
      fputs("<li>", f);
      rt_html_esc(f, cJSON_IsString(r) ? r->valuestring : "");
      fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
    /* The diff image already holds recorded | today | difference side by side; without
     * one (no baseline for the step) show what there is. */
    const char *diff = jstr(ev, "diff");
    if (diff) {
      fputs("<p class=\"cap\"><span>recorded (baseline)</span><span>today</span>"
            "<span>difference</span></p>\n<p><a href=\"", f);
      rt_html_esc(f, diff);
      fputs("\"><img class=\"wide\" alt=\"recorded, today and the difference\" src=\"", f);
      rt_html_esc(f, diff);
      fputs("\"></a></p>\n", f);
    }
    fputs("<p>", f);
    static const char *const names[2] = {"recorded", "current"};
    static const char *const titles[2] = {"recorded screen", "today's screen"};
    for (int k = 0; k < 2; k++) {
      const char *p = jstr(ev, names[k]);
      if (!p)
        continue;
      if (diff) {
        fputs("<a href=\"", f);
        rt_html_esc(f, p);
        fprintf(f, "\">%s (full size)</a> ", titles[k]);
        continue;
      }
      fputs("<a href=\"", f);
      rt_html_esc(f, p);
      fprintf(f, "\"><img alt=\"%s\" title=\"%s\" src=\"", titles[k], titles[k]);
      rt_html_esc(f, p);
      fputs("\"></a>", f);
    }
    fputs("</p>\n", f);
  }
  fputs("</body></html>\n", f);
  fclose(f);
  int rc = rt_write_file_atomic(dir, "report.html", buf, len, err, errlen);
  free(buf);
  return rc;
}
