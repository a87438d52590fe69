/* vagt: stop typing into a window that opened meanwhile; see keywatch.h */
#include "keywatch.h"

#include <stdio.h>

#include "xio/xerror.h"
#include "xwin.h"

void rt_keywatch_begin(rt_keywatch *w, Display *dpy, Window target, bool typing, bool popups)
{
  *w = (rt_keywatch){.dpy = dpy,
                     .root = DefaultRootWindow(dpy),
                     .target = target,
                     .typing = typing,
                     .popups = popups};
  int revert;
  rt_x_trap_begin(dpy);
  XWindowAttributes wa;
  if (XGetWindowAttributes(dpy, w->root, &wa) && !(wa.your_event_mask & SubstructureNotifyMask)) {
    w->root_mask = wa.your_event_mask;
    w->select_restore = true;
    XSelectInput(dpy, w->root, wa.your_event_mask | SubstructureNotifyMask);
  }
  XGetInputFocus(dpy, &w->focus, &revert);
  /* an event carries the number of the last of our requests the server had handled:
   * from this one on, it came after the focus was noted */
  w->serial = NextRequest(dpy);
  XSync(dpy, False);
  rt_x_trap_end(dpy, NULL);
}

void rt_keywatch_end(rt_keywatch *w)
{
  if (!w->select_restore)
    return;
  rt_x_trap_begin(w->dpy);
  XSelectInput(w->dpy, w->root, w->root_mask);
  XSync(w->dpy, False);
  /* nobody else reads what was selected for the typing alone */
  XEvent ev;
  while (XCheckWindowEvent(w->dpy, w->root, SubstructureNotifyMask, &ev)) {}
  rt_x_trap_end(w->dpy, NULL);
  w->select_restore = false;
}

static Bool is_new_map(Display *dpy, XEvent *ev, XPointer arg)
{
  (void)dpy;
  const rt_keywatch *w = (const rt_keywatch *)arg;
  if (ev->type != MapNotify || ev->xmap.event != w->root || ev->xany.serial < w->serial)
    return False;
  for (int i = 0; i < w->nallowed; i++)
    if (w->allowed[i] == ev->xmap.window)
      return False;
  return True;
}

/* Whether the root's child top is (or, under a window manager, frames) a window of the
 * X client that owns target. */
static bool same_client(Display *dpy, Window top, Window target)
{
  XID owner = rt_x_owner(dpy, target);
  if (rt_x_owner(dpy, top) == owner)
    return true;
  Window client = rt_x_client_of(dpy, top, NULL);
  return client != top && rt_x_owner(dpy, client) == owner;
}

/* The root's child holding w (w itself when it is one), or None. */
static Window top_of(Display *dpy, Window root, Window w)
{
  for (int depth = 0; w != None && w != PointerRoot && depth < 32; depth++) {
    Window r, parent, *kids = NULL;
    unsigned nk;
    Status ok = XQueryTree(dpy, w, &r, &parent, &kids, &nk);
    if (kids)
      XFree(kids);
    if (!ok)
      return None;
    if (parent == root)
      return w;
    w = parent;
  }
  return None;
}

int rt_keywatch_check(void *ud, size_t done, size_t total, char *err, size_t errlen)
{
  rt_keywatch *w = ud;
  const char *unit = w->typing ? "characters" : "keys";
  rt_x_trap_begin(w->dpy);
  XSync(w->dpy, False); /* the server has handled the keys so far; their events are here */
  XEvent ev;
  char what[300];
  int stop = 0;
  while (XCheckIfEvent(w->dpy, &ev, is_new_map, (XPointer)w)) {
    /* the application's own (a completion list; Swing draws some as ordinary windows):
     * let be when the step allows it; the focus check below still stops the keys if it
     * takes the focus */
    bool own = same_client(w->dpy, ev.xmap.window, w->target);
    if (w->popups && own && w->nallowed < 16) {
      w->allowed[w->nallowed++] = ev.xmap.window;
      XPutBackEvent(w->dpy, &ev);
      continue;
    }
    rt_x_top_words(w->dpy, ev.xmap.window, ev.xmap.override_redirect, what, sizeof what);
    XPutBackEvent(w->dpy, &ev); /* the settle loop hears of it too */
    snprintf(err, errlen,
             "a new window opened while the step was %s (%s), after %zu of %zu %s; the "
             "rest was not sent. Keys that open a window end their step; what follows goes "
             "in a step of its own%s",
             w->typing ? "typing" : "sending keys", what, done, total, unit,
             own && !w->popups ? ". A completion list of the application's own that keeps no "
                                 "focus is let be with the option popups = true"
                               : "");
    stop = 1;
    break;
  }
  Window f;
  int revert;
  if (!stop) {
    XGetInputFocus(w->dpy, &f, &revert);
    if (f != w->focus) {
      Window t = top_of(w->dpy, w->root, f), t0 = top_of(w->dpy, w->root, w->focus);
      if (t != None && t == t0) {
        w->focus = f; /* moved inside the same window (Tab) */
      } else if (!rt_x_has_focus(w->dpy, w->target)) {
        if (t != None)
          rt_x_top_words(w->dpy, t, false, what, sizeof what);
        else
          snprintf(what, sizeof what, "no window");
        snprintf(err, errlen,
                 "the keyboard focus moved to another window while the step was %s (%s), "
                 "after %zu of %zu %s; the rest was not sent",
                 w->typing ? "typing" : "sending keys", what, done, total, unit);
        stop = 1;
      } else {
        w->focus = f;
      }
    }
  }
  rt_x_trap_end(w->dpy, NULL);
  return stop;
}
