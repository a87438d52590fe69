#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

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

pid_t rt_proc_spawn(char *const argv[], bool keep, int extra_fd, int out, char *err,
                    size_t errlen)
{
  int pfd[2];
  if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "cannot start '%s': fork: %s", argv[0], strerror(errno));
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (!keep) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent)
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int to = out == RT_PROC_QUIET ? open("/dev/null", O_RDWR) : out;
    if (to >= 0) {
      dup2(to, 1);
      dup2(to, 2);
      if (to > 2)
        close(to);
    }
    for (int fd = 3; fd < 1024; fd++)
      if (fd != pfd[1] && fd != extra_fd)
        close(fd);
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(pfd[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no race with a kill before the child ran */
  close(pfd[1]);
  int e = 0;
  ssize_t r;
  while ((r = read(pfd[0], &e, sizeof e)) < 0 && errno == EINTR)
    ;
  close(pfd[0]);
  if (r == (ssize_t)sizeof e) {
    snprintf(err, errlen, "cannot start '%s': %s", argv[0], strerror(e));
    waitpid(pid, NULL, 0);
    return -1;
  }
  if (!keep)
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
  double end = rt_now() + grace;
  while (rt_now() < end) {
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
