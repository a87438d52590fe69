#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "vu.h"

#define MAX_CHILDREN 256
static volatile pid_t children[MAX_CHILDREN]; /* groups to kill on an emergency exit */

static void track(pid_t pid)
{
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (!children[i]) {
      children[i] = pid;
      return;
    }
}

static void untrack(pid_t pid)
{
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == pid)
      children[i] = 0;
}

void rt_proc_kill_all_now(void)
{
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] > 0)
      kill(-children[i], SIGKILL);
}

pid_t rt_proc_spawn(rt_spawn *s, bool keep, char *err, size_t errlen)
{
  s->die_with_parent = !keep;
  pid_t pid = rt_spawn_start(s, err, errlen);
  if (pid > 0 && !keep)
    track(pid);
  return pid;
}

bool rt_proc_exited(pid_t pid, int *status)
{
  int st;
  pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    untrack(pid);
    if (status)
      *status = st;
    return true;
  }
  return r < 0 && errno == ECHILD;
}

int rt_proc_stop(pid_t pid, double grace)
{
  int st;
  if (waitpid(pid, &st, WNOHANG) == pid) {
    kill(-pid, SIGTERM); /* its children may live on in the group */
    untrack(pid);
    return st;
  }
  kill(-pid, SIGTERM);
  double end = vu_mono() + grace;
  while (vu_mono() < end) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      kill(-pid, SIGKILL);
      untrack(pid);
      return r == pid ? st : -1;
    }
    rt_sleep(NULL, 0.01);
  }
  kill(-pid, SIGKILL);
  pid_t r;
  while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
    ;
  untrack(pid);
  return r == pid ? st : -1;
}
