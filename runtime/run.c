/* Small services every part of a run uses: clock, abortable sleep, the abort latch,
 * redaction of secrets and the log. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <lua.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "vu.h"

double rt_run_deadline(const rt_run *run)
{
  double d = run->script_deadline;
  for (size_t i = 0; i < run->nframes; i++)
    if (run->frames[i].deadline > 0 && (d == 0 || run->frames[i].deadline < d))
      d = run->frames[i].deadline;
  return d;
}

bool rt_sleep(rt_run *run, double secs)
{
  double end = vu_mono() + secs;
  if (run) {
    /* Wake just past the deadline, so the caller's check raises it. */
    double d = rt_run_deadline(run);
    if (d > 0 && d + 0.001 < end)
      end = d + 0.001;
  }
  for (;;) {
    if (run && run->abort)
      return false;
    double left = end - vu_mono();
    if (left <= 0)
      return true;
    if (left > 0.05)
      left = 0.05;
    struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
      if (run && run->abort)
        return false;
  }
}

const char *rt_run_status(const rt_run *run, int code)
{
  switch (code) {
    case RT_EXIT_OK: return "passed";
    case RT_EXIT_REVIEW: return "needs_review";
    case RT_EXIT_DRIFT: return "drift";
    case RT_EXIT_SCRIPT: return run && run->abort == RT_ABORT_SCRIPT_TIMEOUT ? "timeout" : "failed";
    case 130: return "interrupted";
    default: return "error";
  }
}

int rt_abort_exit_code(rt_abort why)
{
  switch (why) {
    case RT_ABORT_DRIFT: return RT_EXIT_DRIFT;
    case RT_ABORT_DISPLAY: return RT_EXIT_ENV;
    case RT_ABORT_CONFIG: return RT_EXIT_USAGE;
    case RT_ABORT_INTERRUPT: return 130;
    case RT_ABORT_NONE: return RT_EXIT_OK;
    default: return RT_EXIT_SCRIPT;
  }
}

void rt_run_abort(rt_run *run, rt_abort why, const char *fmt, ...)
{
  if (run->abort)
    return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  free(run->abort_msg);
  run->abort_msg = strdup(buf);
  run->abort = why;
  if (run->L)
    rt_host_arm(run);
}

void rt_note_typed(rt_run *run, const char *text)
{
  for (const char *p = text; p && *p && run->ntyped < RT_TYPED_MAX;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
      p++;
    size_t n = strcspn(p, " \t\n\r");
    if (n == 0)
      break;
    bool known = false;
    for (size_t i = 0; i < run->ntyped && !known; i++)
      known = strlen(run->typed[i]) == n && !memcmp(run->typed[i], p, n);
    char **v = known ? NULL : realloc(run->typed, (run->ntyped + 1) * sizeof *v);
    if (v) {
      run->typed = v;
      if ((v[run->ntyped] = strndup(p, n)))
        run->ntyped++;
    }
    p += n;
  }
}

void rt_typed_free(rt_run *run)
{
  for (size_t i = 0; i < run->ntyped; i++) {
    memset(run->typed[i], 0, strlen(run->typed[i]));
    free(run->typed[i]);
  }
  free(run->typed);
  run->typed = NULL;
  run->ntyped = 0;
}

bool rt_holds_secret(const rt_run *run, const char *s)
{
  for (size_t i = 0; s && run && i < run->nsecrets; i++)
    if (run->secrets[i][0] && strstr(s, run->secrets[i]))
      return true;
  return false;
}

char *rt_redact(const rt_run *run, const char *s)
{
  if (!s)
    return NULL;
  char *out = strdup(s);
  for (size_t i = 0; out && run && i < run->nsecrets; i++) {
    const char *sec = run->secrets[i];
    size_t ls = strlen(sec);
    if (ls == 0)
      continue;
    char *hit;
    while ((hit = strstr(out, sec))) {
      size_t pre = (size_t)(hit - out), rest = strlen(hit + ls);
      char *n = malloc(pre + 3 + rest + 1);
      if (!n)
        break;
      memcpy(n, out, pre);
      memcpy(n + pre, "***", 3);
      memcpy(n + pre + 3, hit + ls, rest + 1);
      free(out);
      out = n;
    }
  }
  return out;
}

/* printf into a malloc'd string of any length. */
static char *vformat(const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (s)
    vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

/* Cuts a message longer than RT_LOG_LINE_MAX on a UTF-8 character boundary, saying how
 * much went. Only ever after the secrets are masked: a cut must not leave half a secret. */
static void cut(char *s)
{
  size_t len = strlen(s);
  if (len <= RT_LOG_LINE_MAX)
    return;
  size_t b = RT_LOG_LINE_MAX - 40;
  while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
    b--;
  snprintf(s + b, len - b + 1, " ... (%zu bytes cut)", len - b);
}

static void emit(rt_run *run, const char *msg)
{
  fprintf(stderr, "%s\n", msg);
  if (!run || !run->run_dir)
    return;
  char path[4096];
  snprintf(path, sizeof path, "%s/log.txt", run->run_dir);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    return;
  }
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(f, "%s %s\n", ts, msg);
  fclose(f);
}

void rt_log(rt_run *run, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *raw = vformat(fmt, ap);
  va_end(ap);
  char *clean = raw ? rt_redact(run, raw) : NULL;
  free(raw);
  if (clean)
    cut(clean);
  emit(run, clean ? clean : "(out of memory)");
  free(clean);
}

void rt_log_script(rt_run *run, const char *file, int line, const char *text)
{
  if (run && run->log_capped)
    return;
  char *raw = NULL;
  size_t n = strlen(text) + (file ? strlen(file) : 1) + 32;
  if ((raw = malloc(n)))
    snprintf(raw, n, "[%s:%d] %s", file ? file : "?", line, text);
  char *clean = raw ? rt_redact(run, raw) : NULL;
  free(raw);
  if (clean)
    cut(clean);
  size_t len = clean ? strlen(clean) + 1 : 0;
  if (run && run->log_script_bytes + len > RT_LOG_SCRIPT_MAX) {
    run->log_capped = true;
    rt_log(run,
           "vagt: the script has logged %llu bytes, the most a run keeps: robot.log and "
           "print say nothing more in this run",
           run->log_script_bytes);
    free(clean);
    return;
  }
  if (run)
    run->log_script_bytes += len;
  emit(run, clean ? clean : "(out of memory)");
  free(clean);
}

char *rt_baseline_default(const char *script)
{
  size_t n = strlen(script) + 16;
  char *b = malloc(n);
  if (!b)
    return NULL;
  snprintf(b, n, "%s", script);
  char *slash = strrchr(b, '/');
  char *dot = strrchr(b, '.');
  if (dot && (!slash || dot > slash + 1))
    *dot = '\0';
  strcat(b, ".baseline");
  return b;
}
