/* One robot run under the agent: a child `vagt run SCRIPT --xvfb --runs STATE/runs/ROBOT
 * --set k=v...` in its own process group, started in the configuration's folder with a
 * UTF-8 locale, $VAGT_ITEMS_DB (STATE/items.db) and $VAGT_AGENT_RUN_ID set, output to
 * STATE/logs/RUN_ID.log (in fleet mode also $VAGT_ITEMS_FD: its end of a socket pair whose
 * other end an ag_broker serves), ended with the agent (PR_SET_PDEATHSIG). Past its timeout the
 * group gets SIGTERM, then SIGKILL 10 s later, and the run's status is "timeout". When it
 * has ended, its run folder's run.json gives the steps and error; the run's row in
 * STATE/vagt.db and its alert (if any) are written in one transaction. */
#ifndef AG_RUN_H
#define AG_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "ag_config.h"
#include "ag_journal.h"

typedef struct ag_ctx {
  ag_config *cfg;
  ag_journal *j;  /* the daemon loop's thread's (ag_journal.h): connected to a fleet's
                  * database by agent.c before it starts runs */
  char *vagt;     /* the vagt binary ($VAGT_BIN, else /proc/self/exe) */
  char *dbpath;   /* STATE/vagt.db */
  char *runs;     /* STATE/runs */
  char *logs;     /* STATE/logs */
  char *items_db; /* STATE/items.db */
} ag_ctx;

typedef struct ag_child {
  ag_robot *r;
  struct ag_broker *broker; /* fleet mode: serves the run's robot.items (ag_broker.h) */
  int seat;                 /* fleet mode: the seat it holds (robot's `seats`), 0: none */
  char seat_run[48];        /* the seat's holder name */
  double seat_renew_at;     /* monotonic */
  long long id;
  pid_t pid;
  double started_real; /* real Unix time, to find the run folder */
  double mono_start;
  double term_at; /* monotonic time SIGTERM was sent, 0 = not yet */
  bool timed_out;
  bool stopping;     /* the agent is shutting down */
  bool reaped;       /* it has ended; its end is being recorded */
  int code;          /* its exit status, once reaped */
  int attempts;      /* to record its end */
  double retry_at;   /* monotonic time of the next attempt */
  double give_up_at; /* stopping: monotonic time to leave it to the next start */
} ag_child;

/* Sets up the state folder and opens the journal. Returns 0 or -1 with err. */
int ag_ctx_open(ag_ctx *x, ag_config *cfg, char *err, size_t errlen);
void ag_ctx_close(ag_ctx *x);

/* Starts a run. trigger: "schedule", "catch-up", "once" or "manual". seat / seat_run: what
 * the journal's seat_take gave (0, NULL: none); the run holds it, renewed, until it ends. */
int ag_run_start(ag_ctx *x, ag_robot *r, const char *trigger, time_t scheduled, ag_child *ch,
                 int seat, const char *seat_run, char *err, size_t errlen);

/* Checks a started run without blocking and enforces its timeout. Returns true once it has
 * ended and been recorded; *code gets the exit status for `--once` (a timeout is 1). When
 * the database refuses the run's end (busy past its timeout, disk full) the run stays
 * "running" and its end is tried again on later calls, backing off up to 30 s, until the
 * database accepts it. An agent that is stopping gives up after 30 s: the next start
 * records the end from the run's folder (ag_run_recover). */
bool ag_run_poll(ag_ctx *x, ag_child *ch, int *code);

/* Asks a run to stop (agent shutdown): SIGTERM now, SIGKILL 10 s later via ag_run_poll. */
void ag_run_stop(ag_child *ch);

/* Runs left "running" by an agent that died: recorded with the status their run folder
 * gives when the run finished (its real status and exit code), else "interrupted"; with
 * their alert. Retries until the database accepts it or *stop is set. */
void ag_run_recover(ag_ctx *x, volatile sig_atomic_t *stop);

/* Status word of an exit code: passed, failed, error, drift, interrupted. */
const char *ag_status_of(int code);

#endif
