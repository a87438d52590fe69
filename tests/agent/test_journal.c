/* The journal's contract (ag_journal.h) on one machine: what the daemon loop relies on
 * whichever implementation answers. A robot's schedule starts from the first start and
 * survives a restart; a run's end is recorded once, with its alert once; a run left
 * running is found again; a failed delivery waits the time the deliverer asked for and is
 * tried again with its attempts counted; nothing is shared, so every robot may start and
 * needs no seat. (A fleet node's journal is exercised by tests/fleet against PostgreSQL.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_db.h"
#include "ag_journal.h"
#include "ag_util.h"

typedef struct {
  char dir[64], path[128];
  ag_channel ch;
  ag_robot r;
  ag_config c;
  char *alert[2], *params[1];
} fixture;

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/vagt-agjournal-XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof f->path, "%s/vagt.db", f->dir);
  f->ch = (ag_channel){.name = "ops", .webhook = "http://127.0.0.1:9/hook"};
  f->alert[0] = "ops";
  f->r = (ag_robot){.name = "r",
                    .alert = f->alert,
                    .params = f->params,
                    .alert_drift = true,
                    .alert_failure = true};
  f->c = (ag_config){.robots = &f->r, .nrobots = 1, .channels = &f->ch, .nchannels = 1};
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

static ag_journal *open_j(fixture *f)
{
  char err[256];
  ag_journal *j = ag_journal_open(&f->c, f->path, err, sizeof err);
  assert_non_null(j);
  return j;
}

static void schedule_survives_restart(void **state)
{
  fixture *f = *state;
  ag_journal *j = open_j(f);
  assert_int_equal(j->ops->sched_last(j, &f->r, 1000), 1000); /* first start: from now on */
  assert_int_equal(j->ops->sched_last(j, &f->r, 5000), 1000); /* recorded */
  assert_int_equal(j->ops->sched_set(j, &f->r, 2000), 0);
  j->ops->close(j);
  j = open_j(f); /* the agent restarted */
  assert_int_equal(j->ops->sched_last(j, &f->r, 9000), 2000);
  j->ops->close(j);
}

static void nothing_shared_on_one_machine(void **state)
{
  fixture *f = *state;
  ag_journal *j = open_j(f);
  char err[128] = "x", holder[48] = "x";
  int seat = 7;
  f->r.seats = 2;
  assert_int_equal(j->ops->connect(j, err, sizeof err), 0);
  assert_int_equal(j->ops->ready(j, &f->r, err, sizeof err), 0);
  assert_int_equal(j->ops->sched_claim(j, &f->r, 1000, "schedule", holder, sizeof holder), 1);
  assert_int_equal(j->ops->seat_take(j, &f->r, &seat, holder, err, sizeof err), 1);
  assert_int_equal(seat, 0); /* no seat to hold: seats are counted across a fleet */
  assert_int_equal(j->ops->prune_shared(j, 0, &(long long){0}), 0);
  j->ops->close(j);
}

static void run_end_once_with_its_alert(void **state)
{
  fixture *f = *state;
  ag_journal *j = open_j(f);
  long long a = j->ops->run_begin(j, &f->r, "once", 0, 1700000000.0);
  long long b = j->ops->run_begin(j, &f->r, "schedule", 1700000060, 1700000060.0);
  assert_true(a > 0 && b > a);
  assert_int_equal(j->ops->run_pid(j, a, 4242), 0);
  ag_db_running *v = NULL;
  assert_int_equal(j->ops->runs_running(j, &v), 2);
  free(v[0].robot);
  free(v[1].robot);
  free(v);

  ag_runinfo ri = {.status = "drift", .exit_code = 3, .finished = 1700000050, .link_id = 99};
  int alerts = -1;
  assert_int_equal(j->ops->run_end(j, a, &f->r, &ri, &alerts), 1);
  assert_int_equal(alerts, 1);
  assert_int_equal(ri.link_id, 0); /* its own pages' id */
  ri.finished = 1700000090;        /* the end recorded again (a retry): nothing new */
  assert_int_equal(j->ops->run_end(j, a, &f->r, &ri, &alerts), 0);
  assert_int_equal(alerts, 0);
  /* a robot no longer configured: recorded, no alert */
  ag_runinfo rb = {.status = "failed", .exit_code = 1, .finished = 1700000100};
  assert_int_equal(j->ops->run_end(j, b, NULL, &rb, &alerts), 1);
  assert_int_equal(alerts, 0);
  assert_int_equal(j->ops->runs_running(j, &v), 0);
  free(v);
  assert_true(j->ops->run_exists(j, a));
  assert_false(j->ops->run_exists(j, b + 100));
  j->ops->close(j);
}

typedef struct {
  int calls, fail_first;
  int attempts_seen[4];
  double retry;
} sender;

static int send_fake(void *cls, const ag_outbox_msg *m, double *retry_in, char *err, size_t errlen)
{
  sender *s = cls;
  if (s->calls < 4)
    s->attempts_seen[s->calls] = m->attempts;
  assert_string_equal(m->kind, "webhook");
  assert_string_equal(m->where, "");
  if (s->calls++ < s->fail_first) {
    snprintf(err, errlen, "refused");
    *retry_in = s->retry;
    return -1;
  }
  *retry_in = 0;
  return 0;
}

static void delivery_waits_as_asked(void **state)
{
  fixture *f = *state;
  ag_time_init();
  ag_journal *j = open_j(f);
  double t0 = ag_time();
  long long a = j->ops->run_begin(j, &f->r, "once", 0, t0);
  ag_runinfo ri = {.status = "failed", .exit_code = 1, .finished = t0};
  int alerts = 0;
  assert_int_equal(j->ops->run_end(j, a, &f->r, &ri, &alerts), 1);
  assert_int_equal(alerts, 1);

  sender s = {.fail_first = 1, .retry = 1000};
  int pending = -1;
  assert_int_equal(j->ops->outbox_deliver(j, ag_time(), send_fake, &s, &pending), 0);
  assert_int_equal(s.calls, 1);
  assert_int_equal(pending, 1);
  /* not due before the wait the deliverer asked for */
  assert_int_equal(j->ops->outbox_deliver(j, ag_time() + 900, send_fake, &s, &pending), 0);
  assert_int_equal(s.calls, 1);
  /* due after it: tried again, its failed attempt counted */
  assert_int_equal(j->ops->outbox_deliver(j, ag_time() + 1100, send_fake, &s, &pending), 1);
  assert_int_equal(s.calls, 2);
  assert_int_equal(s.attempts_seen[0], 0);
  assert_int_equal(s.attempts_seen[1], 1);
  assert_int_equal(pending, 0);
  /* delivered: never again */
  assert_int_equal(j->ops->outbox_deliver(j, ag_time() + 1e6, send_fake, &s, &pending), 0);
  assert_int_equal(s.calls, 2);
  j->ops->close(j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(schedule_survives_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(nothing_shared_on_one_machine, setup, teardown),
      cmocka_unit_test_setup_teardown(run_end_once_with_its_alert, setup, teardown),
      cmocka_unit_test_setup_teardown(delivery_waits_as_asked, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
