/* Child processes of a run: the applications a robot starts (argv, never a shell) and the
 * private Xvfb. Each child leads its own process group so that the application and all its
 * children end with the run; the kernel sends SIGTERM to a child whose vagt dies. The pids
 * are kept in a fixed table that the signal handlers can walk. */
#ifndef VAGT_PROC_H
#define VAGT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spawn.h"

/* Starts s (runtime/spawn.h) and keeps its group in the table, unless `keep`: then it is
 * neither ended with the run nor tied to vagt's life. Returns the pid, or -1 with err set. */
pid_t rt_proc_spawn(rt_spawn *s, bool keep, char *err, size_t errlen);

/* SIGTERM to the process group, SIGKILL after `grace` seconds; reaps the child. Returns
 * its wait status, or -1 when it was already reaped. */
int rt_proc_stop(pid_t pid, double grace);

/* Non-blocking: true when the child has exited (status stored). */
bool rt_proc_exited(pid_t pid, int *status);

/* Async-signal-safe: SIGKILL every group this process started and has not stopped. */
void rt_proc_kill_all_now(void);

#endif
