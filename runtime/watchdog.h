/* The run's deadline and Ctrl-C, enforced from outside the Lua thread. The count hook stops
 * a script between instructions, but never inside C library code (a backtracking
 * string.find) nor in a finalizer (__gc runs with hooks off). The watchdog is a thread that
 * sleeps until the deadline plus a grace, or until a signal went unanswered for a grace; if
 * the run is still in its script then, it closes the run folder to the run's own writes,
 * kills the run's applications and its Xvfb, writes the end (run.json, report.html) from
 * steps.jsonl and exits the process: status "timeout" (exit 1) or "interrupted" (130). */
#ifndef VAGT_WATCHDOG_H
#define VAGT_WATCHDOG_H

#include <stdbool.h>

/* Watches the run with folder `run_dir` whose script must end by `deadline` (vu_mono()
 * seconds; `timeout` is the limit in seconds, for the message). Failing to start it is
 * logged; the count hook still works. */
void rt_watchdog_start(const char *run_dir, double deadline, double timeout);

/* From a signal handler (async-signal-safe): tells the watchdog a SIGINT/SIGTERM came; a
 * second one ends the run at once. False when no watchdog runs. */
bool rt_watchdog_signal(void);

/* The script is over and the run ends on its own. If the watchdog has already taken the
 * end over, this never returns (the watchdog exits the process). */
void rt_watchdog_disarm(void);

#endif
