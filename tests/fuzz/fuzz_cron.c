/* fuzz_cron.c - the agent's cron parser (ag_cron_parse) and, for what it
 * accepts, the next run time; the second line of the input, when present,
 * is tried as a time zone name. */
#include "fuzz_util.h"

#include "ag_cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  char *spec = malloc(size + 1);
  if (!spec)
    abort();
  memcpy(spec, data, size);
  spec[size] = 0;
  char *tz = strchr(spec, '\n');
  if (tz)
    *tz++ = 0;
  ag_cron c;
  char err[256];
  if (ag_cron_parse(spec, &c, err, sizeof err) == 0) {
    /* a fixed "now": 2026-03-29 00:00 UTC, the night clocks go forward in Europe */
    time_t after = 1774742400;
    const char *zone = tz && ag_tz_valid(tz) ? tz : "UTC";
    time_t next = ag_cron_next(&c, zone, after);
    if (next != (time_t)-1 && next <= after)
      abort(); /* the contract: strictly after */
  } else if (!err[0]) {
    abort(); /* a refusal always says why */
  }
  free(spec);
  return 0;
}
