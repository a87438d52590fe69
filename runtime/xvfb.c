#include "xvfb.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <X11/Xlib.h>

#include "proc.h"
#include "run.h"
#include "vu.h"

pid_t rt_xvfb_start(const char *screen, char *name, size_t namelen, char *err, size_t errlen)
{
  int fds[2];
  if (pipe(fds) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  char fdarg[16];
  snprintf(fdarg, sizeof fdarg, "%d", fds[1]);
  char *argv[] = {"Xvfb", "-displayfd", fdarg, "-noreset",     "-nolisten",
                  "tcp",  "-screen",    "0",   (char *)screen, NULL};
  rt_spawn s = rt_spawn_defaults(argv);
  s.in = RT_SPAWN_NULL;
  s.out = s.err = getenv("VAGT_DEBUG") ? RT_SPAWN_INHERIT : RT_SPAWN_NULL;
  s.keep_fd = fds[1];
  pid_t pid = rt_proc_spawn(&s, false, err, errlen);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    if (strstr(err, "not found"))
      snprintf(err, errlen, "Xvfb not found: install it (apt-get install xvfb)");
    return -1;
  }
  char buf[32];
  size_t got = 0;
  double end = vu_mono() + 20.0;
  while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
    int left = (int)((end - vu_mono()) * 1000);
    struct pollfd p = {fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) {
      snprintf(err, errlen, "Xvfb did not report a display within 20 s");
      goto fail;
    }
    ssize_t r = read(fds[0], buf + got, sizeof buf - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      snprintf(err, errlen,
               "Xvfb exited before it reported a display (run with "
               "VAGT_DEBUG=1 to see its messages)");
      goto fail;
    }
    got += (size_t)r;
    buf[got] = '\0';
  }
  buf[got] = '\0';
  int num = atoi(buf);
  snprintf(name, namelen, ":%d", num);
  /* -displayfd is written when the server listens; confirm it answers. */
  while (vu_mono() < end) {
    Display *d = XOpenDisplay(name);
    if (d) {
      XCloseDisplay(d);
      close(fds[0]);
      return pid;
    }
    rt_sleep(NULL, 0.05);
  }
  snprintf(err, errlen, "Xvfb on %s does not answer", name);
fail:
  close(fds[0]);
  rt_proc_stop(pid, 2.0);
  return -1;
}

void rt_xvfb_stop(pid_t pid)
{
  if (pid > 0)
    rt_proc_stop(pid, 3.0);
}
