/* Small services every part of a run uses: clock, abortable sleep, the abort latch,
 * redaction of secrets and the log. */
#include "run.h"

#include <errno.h>
#include <lua.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"

double rt_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The earliest deadline in force, 0 when none. */
static double next_deadline(const rt_run *run)
{
  double d = run->script_deadline;
  for (size_t i = 0; i < run->nframes; i++)
    if (run->frames[i].deadline > 0 && (d == 0 || run->frames[i].deadline < d))
      d = run->frames[i].deadline;
  return d;
}

bool rt_sleep(rt_run *run, double secs)
{
  double end = rt_now() + secs;
  if (run) {
    /* Wake just past the deadline, so the caller's check raises it. */
    double d = next_deadline(run);
    if (d > 0 && d + 0.001 < end)
      end = d + 0.001;
  }
  for (;;) {
    if (run && run->abort)
      return false;
    double left = end - rt_now();
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

void rt_log(rt_run *run, const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char *clean = rt_redact(run, buf);
  const char *msg = clean ? clean : "(out of memory)";
  fprintf(stderr, "%s\n", msg);
  if (run && run->run_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/log.txt", run->run_dir);
    FILE *f = fopen(path, "a");
    if (f) {
      time_t t = time(NULL);
      struct tm tm;
      gmtime_r(&t, &tm);
      char ts[32];
      strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
      fprintf(f, "%s %s\n", ts, msg);
      fclose(f);
    }
  }
  free(clean);
}
