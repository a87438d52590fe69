#include "watchdog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "run.h"
#include "runfolder.h"
#include "vu.h"

/* The count hook's turn comes first: it ends a script cleanly, with the script's line. */
#define DEADLINE_GRACE 1.5
#define SIGNAL_GRACE 2.5

static enum { W_OFF, W_ARMED, W_FIRED, W_DONE } state;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static volatile int wake_fd = -1; /* write end: 's' signal, 'd' disarm */
static int read_fd = -1;
static char *dir;
static double deadline, limit;

static void end_run(bool interrupted)
{
  /* No write of the run from here on, and nothing more on the screen. */
  rt_runfolder_freeze(1.0);
  rt_proc_kill_all_now();
  char msg[512], err[1024];
  const char *status = interrupted ? "interrupted" : "timeout";
  int code = interrupted ? 130 : RT_EXIT_SCRIPT;
  if (interrupted)
    snprintf(msg, sizeof msg,
             "interrupted (signal); the script did not come back to Lua "
             "(a long pattern match or a finalizer): ended by the watchdog");
  else
    snprintf(msg, sizeof msg,
             "script timeout: the run exceeded its %.0f s limit (--timeout); "
             "the script did not come back to Lua (a long pattern match or a "
             "finalizer): ended by the watchdog",
             limit);
  if (rt_runfolder_end(dir, status, code, msg, err, sizeof err) != 0)
    fprintf(stderr, "vagt: %s\n", err);
  fprintf(stderr, "vagt: %s\nvagt: %s (exit %d), run folder %s\n", msg, status, code, dir);
  fflush(stderr);
  _exit(code);
}

static void *watch(void *arg)
{
  (void)arg;
  double fire_at = deadline + DEADLINE_GRACE;
  bool interrupted = false, signalled = false;
  for (;;) {
    double left = fire_at - vu_mono();
    if (left <= 0)
      break;
    struct pollfd p = {read_fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000.0) + 1);
    char c;
    if (r <= 0 || read(read_fd, &c, 1) != 1)
      continue;
    if (c == 'd')
      return NULL;
    double now = vu_mono();
    if (signalled) {
      fire_at = now; /* a second signal: at once */
    } else {
      signalled = true;
      interrupted = now < deadline; /* past it, the run is over its time anyway */
      if (now + SIGNAL_GRACE < fire_at)
        fire_at = now + SIGNAL_GRACE;
    }
  }
  pthread_mutex_lock(&mu);
  bool mine = state == W_ARMED;
  if (mine)
    state = W_FIRED;
  pthread_mutex_unlock(&mu);
  if (mine)
    end_run(interrupted);
  return NULL;
}

void rt_watchdog_start(const char *run_dir, double dl, double timeout)
{
  int p[2];
  if (state != W_OFF || !(dir = strdup(run_dir)) || pipe(p) != 0) {
    fprintf(stderr, "vagt: cannot start the watchdog: %s\n", strerror(errno));
    return;
  }
  deadline = dl;
  limit = timeout;
  read_fd = p[0];
  state = W_ARMED;
  /* Signals go to the run's own thread (its handler arms the count hook), not this one. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = pthread_create(&thread, NULL, watch, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    fprintf(stderr, "vagt: cannot start the watchdog: %s\n", strerror(rc));
    state = W_OFF;
    close(p[0]);
    close(p[1]);
    return;
  }
  wake_fd = p[1];
}

bool rt_watchdog_signal(void)
{
  int fd = wake_fd;
  if (fd < 0)
    return false;
  char c = 's';
  ssize_t w = write(fd, &c, 1);
  (void)w;
  return true;
}

void rt_watchdog_disarm(void)
{
  if (wake_fd < 0)
    return;
  pthread_mutex_lock(&mu);
  if (state == W_FIRED) { /* the watchdog writes the end and exits the process */
    pthread_mutex_unlock(&mu);
    for (;;)
      pause();
  }
  state = W_DONE;
  pthread_mutex_unlock(&mu);
  char c = 'd';
  ssize_t w = write(wake_fd, &c, 1);
  (void)w;
  pthread_join(thread, NULL);
  int fd = wake_fd;
  wake_fd = -1;
  close(fd);
  close(read_fd);
  free(dir);
  dir = NULL;
}
