/* Child processes of a run: the applications a robot starts (argv, never a shell) and the
 * private Xvfb. Each child leads its own process group so that the application and all its
 * children end with the run; the kernel sends SIGTERM to a child whose vagt dies. The pids
 * are kept in a fixed table that the signal handlers can walk. */
#ifndef VAGT_PROC_H
#define VAGT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where a child's stdout and stderr go: RT_PROC_QUIET (/dev/null), RT_PROC_INHERIT, or a
 * file descriptor (the run folder's apps.log). */
#define RT_PROC_INHERIT (-1)
#define RT_PROC_QUIET (-2)

/* Starts argv[0] (PATH search). Returns the pid, or -1 with err set (including exec
 * failures such as "No such file or directory", reported through a close-on-exec pipe).
 * `keep`: not ended with the run and not tied to vagt's life. `extra_fd`, if >= 0, is kept
 * open in the child (Xvfb's -displayfd). `out`: where its output goes (above). */
pid_t rt_proc_spawn(char *const argv[], bool keep, int extra_fd, int out, char *err,
                    size_t errlen);

/* SIGTERM to the process group, SIGKILL after `grace` seconds; reaps the child. Returns
 * its wait status, or -1 when it was already reaped. */
int rt_proc_stop(pid_t pid, double grace);

/* Non-blocking: true when the child has exited (status stored). */
bool rt_proc_exited(pid_t pid, int *status);

/* Async-signal-safe: SIGKILL every group this process started and has not stopped. */
void rt_proc_kill_all_now(void);

#endif
