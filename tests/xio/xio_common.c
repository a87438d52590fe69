#include "xio_common.h"
#include "vu.h"

#include <X11/Xutil.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

void xc_sleep_ms(unsigned ms)
{
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

pid_t xc_start_xterm(const char *name, const char *out)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "exec head -n1 > '%s'", out);
  char *argv[] = {"xterm", "-u8", "-name", (char *)name, "-geometry", "80x10+0+0",
                  "-e",    "sh",  "-c",    cmd,          NULL};
  setenv("LC_ALL", "C.UTF-8", 1);
  pid_t pid;
  if (posix_spawnp(&pid, "xterm", NULL, NULL, argv, environ) != 0)
    return -1;
  return pid;
}

static Window find_rec(Display *dpy, Window w, const char *name, int depth)
{
  XClassHint ch;
  if (XGetClassHint(dpy, w, &ch)) {
    int hit = ch.res_name && strcmp(ch.res_name, name) == 0;
    if (ch.res_name)
      XFree(ch.res_name);
    if (ch.res_class)
      XFree(ch.res_class);
    if (hit)
      return w;
  }
  if (depth > 3)
    return 0;
  Window root, parent, *kids = NULL;
  unsigned n = 0;
  if (!XQueryTree(dpy, w, &root, &parent, &kids, &n))
    return 0;
  Window found = 0;
  for (unsigned i = 0; i < n && !found; i++)
    found = find_rec(dpy, kids[i], name, depth + 1);
  if (kids)
    XFree(kids);
  return found;
}

Window xc_find_client(Display *dpy, const char *name)
{
  return find_rec(dpy, DefaultRootWindow(dpy), name, 0);
}

Window xc_wait_and_focus(Display *dpy, const char *name, unsigned timeout_ms)
{
  double end = vu_mono() + timeout_ms / 1000.0;
  Window w = 0;
  while (vu_mono() < end) {
    w = xc_find_client(dpy, name);
    if (w) {
      XWindowAttributes a;
      if (XGetWindowAttributes(dpy, w, &a) && a.map_state == IsViewable) {
        XRaiseWindow(dpy, w);
        XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
        XSync(dpy, False);
        Window f;
        int rev;
        XGetInputFocus(dpy, &f, &rev);
        if (f == w) {
          xc_sleep_ms(300); /* let xterm finish starting its child */
          XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
          XSync(dpy, False);
          return w;
        }
      }
    }
    xc_sleep_ms(50);
  }
  return 0;
}

int xc_wait_pid(pid_t pid, unsigned timeout_ms)
{
  double end = vu_mono() + timeout_ms / 1000.0;
  int st;
  while (vu_mono() < end) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    xc_sleep_ms(20);
  }
  kill(pid, SIGTERM);
  waitpid(pid, &st, 0);
  return -1;
}
