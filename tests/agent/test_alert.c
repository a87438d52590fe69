/* The alert id is a function of the run's identity and status: a retry of the run's end,
 * a restart that records it, or another connection derive the same id, so the outbox holds
 * one row per channel and a receiver can drop what it saw twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_alert.h"
#include "ag_db.h"

static long long count(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  long long n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static void same_run_same_id(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-agalert-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/vagt.db", dir);
  sqlite3 *db = ag_db_open(path, err, sizeof err);
  assert_non_null(db);
  long long a = ag_db_run_insert(db, "r", "once", 0, 1700000000.25, 1);
  long long b = ag_db_run_insert(db, "r", "once", 0, 1700000100.5, 2);
  assert_true(a > 0 && b > a);

  char id1[64], id2[64], id3[64], id4[64], id5[64];
  ag_alert_id(db, "r", a, "drift", id1, sizeof id1);
  ag_alert_id(db, "r", a, "drift", id2, sizeof id2);
  ag_alert_id(db, "r", a, "failed", id3, sizeof id3);
  ag_alert_id(db, "r", b, "drift", id4, sizeof id4);
  assert_string_equal(id1, id2);
  assert_string_not_equal(id1, id3);
  assert_string_not_equal(id1, id4);
  assert_int_equal(strlen(id1), 36);
  sqlite3 *db2 = ag_db_open(path, err, sizeof err); /* another process or node */
  ag_alert_id(db2, "r", a, "drift", id5, sizeof id5);
  assert_string_equal(id1, id5);
  ag_db_close(db2);

  char *alert[] = {"ops", NULL};
  char *params[] = {NULL};
  ag_channel ch = {.name = "ops", .webhook = "http://127.0.0.1:9/hook"};
  ag_robot r = {
      .name = "r", .alert = alert, .params = params, .alert_drift = true, .alert_failure = true};
  ag_config c = {.robots = &r, .nrobots = 1, .channels = &ch, .nchannels = 1};
  ag_runinfo ri = {.status = "drift", .exit_code = 3, .finished = 1700000050};
  assert_int_equal(ag_alert_enqueue(db, &c, &r, a, &ri, 1700000050), 1);
  ri.finished = 1700000090; /* a retry, later */
  ag_alert_enqueue(db, &c, &r, a, &ri, 1700000090);
  assert_int_equal(count(db, "SELECT count(*) FROM outbox"), 1);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT alert_id FROM outbox", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), id1);
  sqlite3_finalize(st);
  ag_db_close(db);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_run_same_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
