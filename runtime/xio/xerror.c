/* vagt X error traps; see xerror.h */
#include "xerror.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  Display *dpy;
  unsigned long first_serial; /* errors with serial >= this belong to the trap */
  XErrorHandler prev;
  rt_xerror_info err;
} trap_t;

static trap_t traps[RT_XTRAP_MAX];
static int ntraps;
static int overflow; /* begin calls beyond RT_XTRAP_MAX */
static rt_xerror_info last_untrapped;
static rt_xerror_callback untrapped_cb;
static void *untrapped_user;

void rt_xerror_set_callback(rt_xerror_callback cb, void *user)
{
  untrapped_cb = cb;
  untrapped_user = user;
}

/* Connections that a thread of their own reads (xio/selection.c): their errors go to
 * their callback, on that thread, and never touch the traps of the main thread. The
 * callback and user are written before the display is published (release) and read after
 * it is seen (acquire). */
#define RT_XROUTE_MAX 4
static struct {
  _Atomic(Display *) dpy;
  rt_xerror_callback cb;
  void *user;
} routes[RT_XROUTE_MAX];

int rt_xerror_route(Display *dpy, rt_xerror_callback cb, void *user)
{
  for (int i = 0; i < RT_XROUTE_MAX; i++)
    if (!atomic_load_explicit(&routes[i].dpy, memory_order_acquire)) {
      routes[i].cb = cb;
      routes[i].user = user;
      atomic_store_explicit(&routes[i].dpy, dpy, memory_order_release);
      return 0;
    }
  return -1;
}

void rt_xerror_unroute(Display *dpy)
{
  for (int i = 0; i < RT_XROUTE_MAX; i++)
    if (atomic_load_explicit(&routes[i].dpy, memory_order_acquire) == dpy)
      atomic_store_explicit(&routes[i].dpy, NULL, memory_order_release);
}

static int rt_handler(Display *dpy, XErrorEvent *ev)
{
  for (int i = 0; i < RT_XROUTE_MAX; i++)
    if (atomic_load_explicit(&routes[i].dpy, memory_order_acquire) == dpy) {
      rt_xerror_info e = {ev->error_code, ev->request_code, ev->minor_code, ev->resourceid,
                          ev->serial};
      routes[i].cb(dpy, &e, routes[i].user);
      return 0;
    }
  for (int i = ntraps - 1; i >= 0; i--) {
    trap_t *t = &traps[i];
    if (t->dpy != dpy || ev->serial < t->first_serial)
      continue;
    if (t->err.error_code == 0) {
      t->err.error_code = ev->error_code;
      t->err.request_code = ev->request_code;
      t->err.minor_code = ev->minor_code;
      t->err.resourceid = ev->resourceid;
      t->err.serial = ev->serial;
    }
    return 0;
  }
  last_untrapped.error_code = ev->error_code;
  last_untrapped.request_code = ev->request_code;
  last_untrapped.minor_code = ev->minor_code;
  last_untrapped.resourceid = ev->resourceid;
  last_untrapped.serial = ev->serial;
  if (untrapped_cb) {
    untrapped_cb(dpy, &last_untrapped, untrapped_user);
    return 0;
  }
  const char *q = getenv("VAGT_X_QUIET");
  if (!(q && *q == '1')) {
    /* XGetErrorText and the error database make no protocol requests: safe here */
    char msg[256];
    rt_xerror_format(dpy, &last_untrapped, msg, sizeof msg);
    fprintf(stderr, "vagt: X error (ignored): %s\n", msg);
  }
  return 0;
}

XErrorHandler rt_xerror_install(void)
{
  return XSetErrorHandler(rt_handler);
}

void rt_x_trap_begin(Display *dpy)
{
  if (ntraps >= RT_XTRAP_MAX) {
    overflow++;
    return;
  }
  XSync(dpy, False);
  trap_t *t = &traps[ntraps];
  memset(t, 0, sizeof *t);
  t->dpy = dpy;
  t->first_serial = NextRequest(dpy);
  t->prev = XSetErrorHandler(rt_handler);
  ntraps++;
}

static int trap_pop(rt_xerror_info *out)
{
  if (overflow > 0) {
    overflow--;
    if (out)
      memset(out, 0, sizeof *out);
    return 0;
  }
  if (ntraps == 0) {
    if (out)
      memset(out, 0, sizeof *out);
    return 0;
  }
  trap_t *t = &traps[--ntraps];
  if (t->prev != rt_handler)
    XSetErrorHandler(t->prev);
  if (out)
    *out = t->err;
  return t->err.error_code;
}

int rt_x_trap_end(Display *dpy, rt_xerror_info *out)
{
  XSync(dpy, False);
  return trap_pop(out);
}

int rt_x_trap_end_nosync(Display *dpy, rt_xerror_info *out)
{
  (void)dpy;
  return trap_pop(out);
}

rt_xerror_info rt_xerror_last(int clear)
{
  rt_xerror_info e = last_untrapped;
  if (clear)
    memset(&last_untrapped, 0, sizeof last_untrapped);
  return e;
}

void rt_xerror_format(Display *dpy, const rt_xerror_info *e, char *buf, size_t len)
{
  if (len == 0)
    return;
  if (!e || e->error_code == 0) {
    snprintf(buf, len, "no error");
    return;
  }
  char text[128] = "";
  char req[128] = "";
  if (dpy) {
    XGetErrorText(dpy, e->error_code, text, sizeof text);
    if (e->request_code < 128) {
      char num[16];
      snprintf(num, sizeof num, "%d", e->request_code);
      XGetErrorDatabaseText(dpy, "XRequest", num, "", req, sizeof req);
    }
  }
  if (!text[0])
    snprintf(text, sizeof text, "error %d", e->error_code);
  if (req[0])
    snprintf(buf, len, "%s in %s (request %d), resource 0x%lx", text, req, e->request_code,
             e->resourceid);
  else
    snprintf(buf, len, "%s in request %d.%d, resource 0x%lx", text, e->request_code, e->minor_code,
             e->resourceid);
}
