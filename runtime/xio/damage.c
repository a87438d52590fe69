/* vagt settle signals; see damage.h */
#include "damage.h"

#include <X11/extensions/Xdamage.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "xerror.h"
#include "vu.h"

struct rt_damage {
  Display *dpy;
  Damage damage;
  int event_base;
  int ax, ay, aw, ah; /* area of interest */
  double reset;       /* the start of the quiet period */
  double last;        /* when something last happened there */
  int seen;           /* something happened since the reset */
};

static int drain(rt_damage *d, int *windows_changed);

rt_damage *rt_damage_new(Display *dpy)
{
  int eb, erb, major = 1, minor = 1;
  if (!dpy || !XDamageQueryExtension(dpy, &eb, &erb) || !XDamageQueryVersion(dpy, &major, &minor))
    return NULL;
  rt_damage *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->dpy = dpy;
  d->event_base = eb;
  Window root = DefaultRootWindow(dpy);
  rt_x_trap_begin(dpy);
  /* every drawing operation, with its rectangle: no need to subtract to hear of the next */
  d->damage = XDamageCreate(dpy, root, XDamageReportRawRectangles);
  XWindowAttributes wa;
  long mask = SubstructureNotifyMask;
  if (XGetWindowAttributes(dpy, root, &wa))
    mask |= wa.your_event_mask;
  XSelectInput(dpy, root, mask);
  if (rt_x_trap_end(dpy, NULL) || !d->damage) {
    free(d);
    return NULL;
  }
  rt_damage_reset(d);
  return d;
}

void rt_damage_free(rt_damage *d)
{
  if (!d)
    return;
  rt_x_trap_begin(d->dpy);
  XDamageDestroy(d->dpy, d->damage);
  XSync(d->dpy, False);
  rt_x_trap_end(d->dpy, NULL);
  free(d);
}

void rt_damage_area(rt_damage *d, int x, int y, int w, int h)
{
  d->ax = x;
  d->ay = y;
  d->aw = w;
  d->ah = h;
}

/* Reads the queued events; returns 1 when one of them is activity in the area. */
static int drain(rt_damage *d, int *windows_changed)
{
  int active = 0;
  while (XPending(d->dpy)) {
    XEvent ev;
    XNextEvent(d->dpy, &ev);
    if (ev.type == d->event_base + XDamageNotify) {
      const XDamageNotifyEvent *de = (const XDamageNotifyEvent *)&ev;
      const XRectangle *r = &de->area;
      if (d->aw <= 0 || d->ah <= 0 ||
          (r->x < d->ax + d->aw && d->ax < r->x + r->width && r->y < d->ay + d->ah &&
           d->ay < r->y + r->height))
        active = 1;
      continue;
    }
    switch (ev.type) {
      case MapNotify:
      case UnmapNotify:
      case ConfigureNotify:
      case DestroyNotify:
      case ReparentNotify:
        active = 1;
        if (windows_changed)
          *windows_changed = 1;
        break;
      default: break;
    }
  }
  return active;
}

void rt_damage_reset(rt_damage *d)
{
  rt_x_trap_begin(d->dpy);
  XSync(d->dpy, False);
  drain(d, NULL);
  /* keep the server's region small: forget what was drawn so far */
  XDamageSubtract(d->dpy, d->damage, None, None);
  rt_x_trap_end(d->dpy, NULL);
  d->reset = d->last = vu_mono();
  d->seen = 0;
}

int rt_damage_wait(rt_damage *d, double first, double quiet, double deadline, int *windows_changed)
{
  if (windows_changed)
    *windows_changed = 0;
  for (;;) {
    if (drain(d, windows_changed)) {
      d->last = vu_mono();
      d->seen = 1;
    }
    double now = vu_mono();
    double until = d->seen ? d->last + quiet : d->reset + first;
    if (now >= until)
      return 1;
    if (now >= deadline)
      return 0;
    double wait = until - now;
    if (deadline - now < wait)
      wait = deadline - now;
    XFlush(d->dpy);
    struct pollfd p = {.fd = ConnectionNumber(d->dpy), .events = POLLIN};
    poll(&p, 1, (int)(wait * 1000.0) + 1);
  }
}
