#include "ag_cron.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const field_names[5] = {"minute", "hour", "day-of-month", "month",
                                           "day-of-week"};
static const int lo_of[5] = {0, 0, 1, 1, 0};
static const int hi_of[5] = {59, 23, 31, 12, 7};
static const char *const months[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const days[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (month/day-of-week) a three-letter name at *p. */
static int parse_value(int field, const char **p, int *v)
{
  const char *s = *p;
  if (isdigit((unsigned char)*s)) {
    long n = 0;
    while (isdigit((unsigned char)*s)) {
      n = n * 10 + (*s++ - '0');
      if (n > 1000)
        return -1;
    }
    *v = (int)n;
    *p = s;
    return 0;
  }
  if ((field == 3 || field == 4) && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
      isalpha((unsigned char)s[2]) && !isalpha((unsigned char)s[3])) {
    const char *const *names = field == 3 ? months : days;
    int n = field == 3 ? 12 : 7;
    for (int i = 0; i < n; i++)
      if (strncasecmp(s, names[i], 3) == 0) {
        *v = field == 3 ? i + 1 : i;
        *p = s + 3;
        return 0;
      }
  }
  return -1;
}

static int field_err(char *err, size_t errlen, int field, const char *text, size_t len,
                     const char *fmt, int a, int b, int c)
{
  char what[160];
  snprintf(what, sizeof what, fmt, a, b, c);
  snprintf(err, errlen, "field %d (%s) '%.*s': %s", field + 1, field_names[field], (int)len, text,
           what);
  return -1;
}

/* One field: comma-separated items, each '*', N, N-M, with an optional /STEP. */
static int parse_field(int field, const char *text, size_t len, uint64_t *mask, bool *star,
                       char *err, size_t errlen)
{
  int lo = lo_of[field], hi = hi_of[field];
  *mask = 0;
  *star = text[0] == '*';
  char buf[128];
  if (len >= sizeof buf)
    return field_err(err, errlen, field, text, len, "too long", 0, 0, 0);
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *save = NULL;
  if (buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
    return field_err(err, errlen, field, text, len, "empty list item", 0, 0, 0);
  for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    const char *p = item;
    int a, b, step = 1;
    bool range = false;
    if (*p == '*') {
      a = lo;
      b = hi == 7 ? 6 : hi;
      p++;
      range = true;
    } else {
      if (parse_value(field, &p, &a) != 0)
        return field_err(err, errlen, field, text, len,
                         field >= 3 ? "expected a number or a name (jan, mon)"
                                    : "expected a number, '*', a range or a list",
                         0, 0, 0);
      b = a;
      if (*p == '-') {
        p++;
        if (parse_value(field, &p, &b) != 0)
          return field_err(err, errlen, field, text, len, "a range needs an end value", 0, 0, 0);
        range = true;
      }
    }
    if (*p == '/') {
      p++;
      if (!isdigit((unsigned char)*p) || parse_value(0, &p, &step) != 0 || step < 1)
        return field_err(err, errlen, field, text, len, "a step needs a number >= 1", 0, 0, 0);
      if (!range)
        b = hi == 7 ? 6 : hi; /* "5/15": from 5 to the end, as cronie */
      if (step > hi)
        return field_err(err, errlen, field, text, len, "step %d is larger than %d", step, hi, 0);
    }
    if (*p)
      return field_err(err, errlen, field, text, len, "unexpected '%c'", *p, 0, 0);
    if (a < lo || a > hi)
      return field_err(err, errlen, field, text, len, "%d is out of range %d-%d", a, lo, hi);
    if (b < lo || b > hi)
      return field_err(err, errlen, field, text, len, "%d is out of range %d-%d", b, lo, hi);
    if (b < a)
      return field_err(err, errlen, field, text, len, "range %d-%d runs backwards", a, b, 0);
    for (int v = a; v <= b; v += step)
      *mask |= (uint64_t)1 << (field == 4 && v == 7 ? 0 : v);
  }
  return 0;
}

static const struct {
  const char *name, *spec;
} aliases[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

int ag_cron_parse(const char *spec, ag_cron *c, char *err, size_t errlen)
{
  memset(c, 0, sizeof *c);
  if (!spec) {
    snprintf(err, errlen, "no schedule");
    return -1;
  }
  while (isspace((unsigned char)*spec))
    spec++;
  if (*spec == '@') {
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
      if (strcmp(spec, aliases[i].name) == 0)
        return ag_cron_parse(aliases[i].spec, c, err, errlen);
    snprintf(err, errlen, "unknown '%s' (known: @yearly, @monthly, @weekly, @daily, @hourly)",
             spec);
    return -1;
  }
  const char *start[6];
  size_t len[6];
  int n = 0;
  for (const char *p = spec; *p;) {
    while (isspace((unsigned char)*p))
      p++;
    if (!*p)
      break;
    const char *s = p;
    while (*p && !isspace((unsigned char)*p))
      p++;
    if (n < 6) {
      start[n] = s;
      len[n] = (size_t)(p - s);
    }
    n++;
  }
  if (n != 5) {
    snprintf(err, errlen, "expected 5 fields (minute hour day-of-month month day-of-week), got %d",
             n);
    return -1;
  }
  uint64_t m[5];
  bool star[5];
  for (int f = 0; f < 5; f++)
    if (parse_field(f, start[f], len[f], &m[f], &star[f], err, errlen) != 0)
      return -1;
  c->minute = m[0];
  c->hour = (uint32_t)m[1];
  c->dom = (uint32_t)m[2];
  c->month = (uint32_t)m[3];
  c->dow = (uint32_t)m[4];
  c->dom_star = star[2];
  c->dow_star = star[4];
  c->wild = star[0] || star[1];
  return 0;
}

static bool day_ok(const ag_cron *c, const struct tm *t)
{
  if (!(c->month >> (t->tm_mon + 1) & 1))
    return false;
  bool d = c->dom >> t->tm_mday & 1, w = c->dow >> t->tm_wday & 1;
  if (c->dom_star || c->dow_star)
    return d && w;
  return d || w;
}

static bool matches(const ag_cron *c, const struct tm *t)
{
  return day_ok(c, t) && (c->hour >> t->tm_hour & 1) && (c->minute >> t->tm_min & 1);
}

/* Wall-clock time as seconds, as if it were UTC: comparable, and one minute is 60. */
static long long civil(const struct tm *t)
{
  struct tm c = *t;
  return (long long)timegm(&c);
}

static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

static char *tz_enter(const char *tz)
{
  pthread_mutex_lock(&tz_mu);
  if (!tz)
    return NULL;
  const char *old = getenv("TZ");
  char *saved = old ? strdup(old) : strdup("");
  if (saved && !old)
    saved[0] = '\1'; /* marks "was unset" */
  setenv("TZ", tz, 1);
  tzset();
  return saved;
}

static void tz_leave(const char *tz, char *saved)
{
  if (tz) {
    if (saved && saved[0] == '\1')
      unsetenv("TZ");
    else if (saved)
      setenv("TZ", saved, 1);
    tzset();
    free(saved);
  }
  pthread_mutex_unlock(&tz_mu);
}

void ag_localtime_tz(const char *tz, time_t t, struct tm *out)
{
  char *saved = tz_enter(tz);
  localtime_r(&t, out);
  tz_leave(tz, saved);
}

bool ag_tz_valid(const char *tz)
{
  if (!tz || !*tz || tz[0] == '/' || strstr(tz, ".."))
    return false;
  if (strcmp(tz, "UTC") == 0)
    return true;
  const char *dir = getenv("TZDIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
  /* A zone is a TZif file: zone.tab, tzdata.zi and the like are regular files too, and
   * glibc would run in UTC with them without a word. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return false;
  struct stat st;
  char magic[4];
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            read(fd, magic, sizeof magic) == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
  close(fd);
  return ok;
}

/* Has the wall-clock time of t already happened at an earlier instant (clocks put back)? */
static bool repeated(time_t t, const struct tm *cur)
{
  struct tm e;
  time_t te = t - 6 * 3600;
  localtime_r(&te, &e);
  long d = e.tm_gmtoff - cur->tm_gmtoff;
  if (d <= 0)
    return false;
  time_t t2 = t - d;
  struct tm o;
  localtime_r(&t2, &o);
  return civil(&o) == civil(cur);
}

time_t ag_cron_next(const ag_cron *c, const char *tz, time_t after)
{
  char *saved = tz_enter(tz);
  time_t t = (after / 60 + 1) * 60;
  if (after < 0 && after % 60)
    t = (after / 60) * 60;
  time_t end = after + (time_t)3660 * 86400;
  time_t found = (time_t)-1;
  while (t < end) {
    struct tm cur, prev;
    time_t tp = t - 60;
    localtime_r(&t, &cur);
    localtime_r(&tp, &prev);
    long long cc = civil(&cur), cp = civil(&prev);
    /* Clocks put forward: a fixed-time job whose time fell in the gap runs now, once. */
    if (!c->wild && cc - cp > 60) {
      for (long long s = cp + 60; s < cc; s += 60) {
        time_t ts = (time_t)s;
        struct tm g;
        gmtime_r(&ts, &g);
        if (matches(c, &g)) {
          found = t;
          goto out;
        }
      }
    }
    if (!day_ok(c, &cur)) {
      int to_midnight = 24 * 60 - (cur.tm_hour * 60 + cur.tm_min);
      t += 60 * (to_midnight > 90 ? to_midnight - 90 : 60 - cur.tm_min);
      continue;
    }
    if (!(c->hour >> cur.tm_hour & 1)) {
      t += 60 * (60 - cur.tm_min);
      continue;
    }
    if (!(c->minute >> cur.tm_min & 1)) {
      int m = cur.tm_min + 1;
      while (m < 60 && !(c->minute >> m & 1))
        m++;
      t += 60 * (m - cur.tm_min);
      continue;
    }
    if (c->wild || !repeated(t, &cur)) {
      found = t;
      goto out;
    }
    t += 60;
  }
out:
  tz_leave(tz, saved);
  return found;
}
