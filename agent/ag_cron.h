/* Five-field cron schedules (minute hour day-of-month month day-of-week) with ranges
 * (1-5), lists (1,15), steps (*\/15, 10-50/20), month and weekday names (jan, mon) and 7 as
 * Sunday. Day-of-month and day-of-week combine as in cron: when both are restricted, a
 * day matching either one runs.
 *
 * Times are wall-clock times in a time zone (NULL: the process's local time). On the day
 * clocks are put forward, a fixed-time job whose time does not exist (02:30 on
 * 2026-03-29 in Europe/Copenhagen) runs once, at the first minute after the gap (03:00),
 * as Vixie cron does. On the day clocks are put back, a fixed-time job whose time happens
 * twice runs once, at its first occurrence; a job with '*' in its minute or hour field
 * runs on every real minute it matches, in both passes (Vixie cron's "wildcard jobs"). */
#ifndef AG_CRON_H
#define AG_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct ag_cron {
  uint64_t minute;         /* bit 0..59 */
  uint32_t hour;           /* bit 0..23 */
  uint32_t dom;            /* bit 1..31 */
  uint32_t month;          /* bit 1..12 */
  uint32_t dow;            /* bit 0..6, Sunday = 0 */
  bool dom_star, dow_star; /* field began with '*' */
  bool wild;               /* minute or hour field began with '*' */
} ag_cron;

/* Parses `spec`; on error returns -1 with a message naming the field and its position,
 * e.g. "field 2 (hour) '25': 25 is out of range 0-23". */
int ag_cron_parse(const char *spec, ag_cron *c, char *err, size_t errlen);

/* The first run time strictly after `after`, in time zone `tz` (NULL = local time).
 * Returns (time_t)-1 when the schedule never matches within ten years (e.g. 30 February). */
time_t ag_cron_next(const ag_cron *c, const char *tz, time_t after);

/* Is `tz` a time zone the system knows (a file under /usr/share/zoneinfo or $TZDIR)? */
bool ag_tz_valid(const char *tz);

/* localtime_r in time zone tz (NULL = local). Serialised with ag_cron_next: TZ is a
 * process-wide setting. */
void ag_localtime_tz(const char *tz, time_t t, struct tm *out);

#endif
