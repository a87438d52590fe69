/* fuzz_alert.c - alert.json (and run.json, its fallback) as the agent reads
 * them to build the alert of a finished run (ag_alert_enqueue), into an
 * in-memory outbox. The first byte picks the file the rest is written to. */
#include "fuzz_util.h"

#include "ag_alert.h"

static sqlite3 *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > (1 << 16))
    return 0;
  const char *dir = fz_scratch();
  if (!db) {
    char err[256];
    if (!(db = ag_db_open(":memory:", err, sizeof err))) {
      fprintf(stderr, "fuzz_alert: %s\n", err);
      abort();
    }
  }
  char aj[128], rj[128];
  snprintf(aj, sizeof aj, "%s/alert.json", dir);
  snprintf(rj, sizeof rj, "%s/run.json", dir);
  unlink(aj);
  unlink(rj);
  fz_write(data[0] & 1 ? rj : aj, data + 1, size - 1);
  char *channels[] = {"ops", NULL};
  ag_channel ch = {.name = "ops", .line = 1, .syslog = false, .webhook = "http://127.0.0.1:9/hook"};
  ag_robot r = {
      .name = "fuzz", .line = 1, .alert = channels, .alert_drift = true, .alert_failure = true};
  ag_config c = {.path = "agent.lua",
                 .dir = (char *)dir,
                 .state = (char *)dir,
                 .channels = &ch,
                 .nchannels = 1,
                 .robots = &r,
                 .nrobots = 1,
                 .public_url = data[0] & 2 ? "https://vagt.example" : NULL};
  ag_runinfo ri = {.status = data[0] & 4 ? "failed" : "drift",
                   .exit_code = data[0] & 4 ? 1 : 3,
                   .run_dir = dir,
                   .steps = 1,
                   .finished = 1774742400.0};
  if (ag_alert_enqueue(db, &c, &r, 1, &ri, 1774742400.0) < 0)
    abort(); /* an in-memory database does not fail */
  ag_db_exec(db, "DELETE FROM outbox");
  return 0;
}
