/* ag_cron: parsing (ranges, lists, steps, names, errors naming the field) and next-time
 * computation (month ends, 29 February, day-of-month/day-of-week OR, DST change days in
 * Europe/Copenhagen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_cron.h"

static time_t utc(const char *s)
{
  struct tm tm = {0};
  if (sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min) !=
      5)
    abort();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

static const char *show(time_t t)
{
  static char buf[4][32];
  static int i;
  char *b = buf[i++ % 4];
  if (t == (time_t)-1)
    return "never";
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(b, 32, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

static ag_cron parse_ok(const char *spec)
{
  ag_cron c;
  char err[256] = "";
  if (ag_cron_parse(spec, &c, err, sizeof err) != 0)
    fail_msg("'%s' did not parse: %s", spec, err);
  return c;
}

static void expect_next(const char *spec, const char *tz, const char *after, const char *want)
{
  ag_cron c = parse_ok(spec);
  time_t got = ag_cron_next(&c, tz, utc(after));
  time_t w = want ? utc(want) : (time_t)-1;
  if (got != w)
    fail_msg("'%s' (%s) after %s: got %s, want %s", spec, tz ? tz : "UTC", after, show(got),
             show(w));
}

static void expect_error(const char *spec, const char *part)
{
  ag_cron c;
  char err[256] = "";
  if (ag_cron_parse(spec, &c, err, sizeof err) == 0)
    fail_msg("'%s' parsed, but it is wrong", spec);
  if (!strstr(err, part))
    fail_msg("'%s': error '%s' does not say '%s'", spec, err, part);
}

static void masks(void **state)
{
  (void)state;
  ag_cron c = parse_ok("*/15 9-17/4 1,15 jan-mar mon-fri");
  assert_int_equal(c.minute, (1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45));
  assert_int_equal(c.hour, (1u << 9) | (1u << 13) | (1u << 17));
  assert_int_equal(c.dom, (1u << 1) | (1u << 15));
  assert_int_equal(c.month, (1u << 1) | (1u << 2) | (1u << 3));
  assert_int_equal(c.dow, 0x3e);
  assert_false(c.dom_star);
  assert_true(c.wild);
  c = parse_ok("0 0 * * 7");
  assert_int_equal(c.dow, 1); /* 7 is Sunday, as 0 */
  c = parse_ok("0 0 * * 5-7");
  assert_int_equal(c.dow, (1u << 5) | (1u << 6) | 1u);
  c = parse_ok("0 0 * * SUN,Sat");
  assert_int_equal(c.dow, 1u | (1u << 6));
  c = parse_ok("5/20 * * * *");
  assert_int_equal(c.minute, (1ULL << 5) | (1ULL << 25) | (1ULL << 45));
  c = parse_ok("@daily");
  assert_int_equal(c.minute, 1);
  assert_int_equal(c.hour, 1);
  assert_false(c.wild);
}

static void errors(void **state)
{
  (void)state;
  expect_error("61 * * * *", "field 1 (minute) '61': 61 is out of range 0-59");
  expect_error("* 24 * * *", "field 2 (hour) '24': 24 is out of range 0-23");
  expect_error("* * 0 * *", "field 3 (day-of-month) '0': 0 is out of range 1-31");
  expect_error("* * * 13 *", "field 4 (month) '13'");
  expect_error("* * * * 8", "field 5 (day-of-week) '8'");
  expect_error("* * * *", "expected 5 fields");
  expect_error("* * * * * *", "got 6");
  expect_error("30-10 * * * *", "runs backwards");
  expect_error("*/0 * * * *", "step");
  expect_error("x * * * *", "field 1 (minute) 'x'");
  expect_error("1,,2 * * * *", "empty list item");
  expect_error("* * * foo *", "field 4 (month) 'foo'");
  expect_error("* * * * mon-", "needs an end");
  expect_error("1-5x * * * *", "unexpected 'x'");
  expect_error("@reboot", "unknown '@reboot'");
}

static void utc_next(void **state)
{
  (void)state;
  expect_next("* * * * *", "UTC", "2026-11-26 12:00", "2026-11-26 12:01");
  expect_next("0 0 31 * *", "UTC", "2026-04-15 00:00", "2026-05-31 00:00");  /* April: 30 */
  expect_next("0 12 29 2 *", "UTC", "2026-03-01 00:00", "2028-02-29 12:00"); /* leap day */
  expect_next("59 23 31 12 *", "UTC", "2026-12-31 23:59", "2027-12-31 23:59");
  expect_next("0 0 30 2 *", "UTC", "2026-01-01 00:00", NULL); /* never */
  /* Both day fields restricted: either one (Monday 30 Nov, then the 1st, a Tuesday). */
  expect_next("0 0 1 * mon", "UTC", "2026-11-26 12:00", "2026-11-30 00:00");
  expect_next("0 0 1 * mon", "UTC", "2026-11-30 00:00", "2026-12-01 00:00");
  /* Day-of-month '*': only the weekday counts. */
  expect_next("0 0 * * 0", "UTC", "2026-11-26 12:00", "2026-11-29 00:00");
  expect_next("0 0 * * 7", "UTC", "2026-11-26 12:00", "2026-11-29 00:00");
  expect_next("30 2 * * 1-5", "UTC", "2026-11-27 02:30", "2026-11-30 02:30"); /* Fri->Mon */
  expect_next("*/20 9-10 * * *", "UTC", "2026-11-26 10:40", "2026-11-27 09:00");
}

static void dst_spring(void **state)
{
  (void)state;
  const char *tz = "Europe/Copenhagen";
  /* 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist; it runs once, at 03:00. */
  expect_next("30 2 * * *", tz, "2026-03-28 12:00", "2026-03-29 01:00");
  expect_next("30 2 * * *", tz, "2026-03-29 01:00", "2026-03-30 00:30");
  expect_next("0 3 * * *", tz, "2026-03-28 12:00", "2026-03-29 01:00");
  /* A wildcard job runs on the real minutes only. */
  expect_next("*/30 * * * *", tz, "2026-03-29 00:45", "2026-03-29 01:00");
  expect_next("*/30 * * * *", tz, "2026-03-29 01:00", "2026-03-29 01:30");
  expect_next("15 * * * *", tz, "2026-03-29 00:20", "2026-03-29 01:15");
  /* Not on the day before or after. */
  expect_next("30 2 * * *", tz, "2026-03-27 12:00", "2026-03-28 01:30");
}

static void dst_autumn(void **state)
{
  (void)state;
  const char *tz = "Europe/Copenhagen";
  /* 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; the job runs once (the
   * first), then the next day at 02:30 CET. */
  expect_next("30 2 * * *", tz, "2026-10-24 12:00", "2026-10-25 00:30");
  expect_next("30 2 * * *", tz, "2026-10-25 00:30", "2026-10-26 01:30");
  /* A wildcard job runs in both passes of the repeated hour. */
  expect_next("*/30 * * * *", tz, "2026-10-25 00:15", "2026-10-25 00:30");
  expect_next("*/30 * * * *", tz, "2026-10-25 00:30", "2026-10-25 01:00");
  expect_next("*/30 * * * *", tz, "2026-10-25 01:00", "2026-10-25 01:30");
  expect_next("*/30 * * * *", tz, "2026-10-25 01:30", "2026-10-25 02:00");
  expect_next("0 3 * * *", tz, "2026-10-24 12:00", "2026-10-25 02:00");
}

static void tz_names(void **state)
{
  (void)state;
  assert_true(ag_tz_valid("Europe/Copenhagen"));
  assert_true(ag_tz_valid("UTC"));
  assert_false(ag_tz_valid("Europe/Kopenhagen"));
  assert_false(ag_tz_valid("../../etc/passwd"));
  assert_false(ag_tz_valid(""));
  /* The process's own TZ is left as it was. */
  setenv("TZ", "America/New_York", 1);
  tzset();
  ag_cron c = parse_ok("0 12 * * *");
  ag_cron_next(&c, "Europe/Copenhagen", utc("2026-06-01 00:00"));
  assert_string_equal(getenv("TZ"), "America/New_York");
  unsetenv("TZ");
  tzset();
  ag_cron_next(&c, "Europe/Copenhagen", utc("2026-06-01 00:00"));
  assert_null(getenv("TZ"));
  /* Local time (tz NULL) follows TZ: 12:00 in New York in June is 16:00 UTC. */
  setenv("TZ", "America/New_York", 1);
  tzset();
  assert_int_equal(ag_cron_next(&c, NULL, utc("2026-06-01 00:00")), utc("2026-06-01 16:00"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(masks),      cmocka_unit_test(errors),     cmocka_unit_test(utc_next),
      cmocka_unit_test(dst_spring), cmocka_unit_test(dst_autumn), cmocka_unit_test(tz_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
