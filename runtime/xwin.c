#include "xwin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <X11/extensions/XRes.h>
#include <xdo.h>

#include "run.h"
#include "xio/xerror.h"
#include "vu.h"

Display *rt_x_open(const char *name, char *err, size_t errlen)
{
  rt_xerror_install();
  Display *dpy = XOpenDisplay(name);
  if (!dpy) {
    const char *n = name ? name : getenv("DISPLAY");
    snprintf(err, errlen,
             "cannot open display '%s': run with --xvfb for a private virtual display, "
             "or set DISPLAY (apt-get install xvfb)",
             n ? n : "");
  }
  return dpy;
}

static char *prop_string(Display *dpy, Window w, Atom prop, Atom type)
{
  Atom at;
  int fmt;
  unsigned long n, after;
  unsigned char *data = NULL;
  if (XGetWindowProperty(dpy, w, prop, 0, 4096, False, type, &at, &fmt, &n, &after, &data) !=
          Success ||
      !data)
    return NULL;
  char *s = NULL;
  if (at != None && fmt == 8)
    s = strndup((char *)data, n);
  XFree(data);
  return s;
}

static bool has_wm_state(Display *dpy, Window w)
{
  static Atom wm_state;
  if (!wm_state)
    wm_state = XInternAtom(dpy, "WM_STATE", False);
  Atom at;
  int fmt;
  unsigned long n, after;
  unsigned char *data = NULL;
  int rc = XGetWindowProperty(dpy, w, wm_state, 0, 2, False, AnyPropertyType, &at, &fmt, &n, &after,
                              &data);
  if (data)
    XFree(data);
  return rc == Success && at != None;
}

/* Under a reparenting window manager the client is below the frame: the window carrying
 * WM_STATE. Without one, the root's child is the client. */
static Window client_of(Display *dpy, Window frame, int depth)
{
  if (has_wm_state(dpy, frame))
    return frame;
  if (depth > 3)
    return None;
  Window root, parent, *kids = NULL;
  unsigned nk = 0;
  if (!XQueryTree(dpy, frame, &root, &parent, &kids, &nk))
    return None;
  Window found = None;
  for (unsigned i = nk; i-- > 0 && !found;)
    found = client_of(dpy, kids[i], depth + 1);
  if (kids)
    XFree(kids);
  return found;
}

static char *title_of(Display *dpy, Window w)
{
  char *t = prop_string(dpy, w, XInternAtom(dpy, "_NET_WM_NAME", False),
                        XInternAtom(dpy, "UTF8_STRING", False));
  if (t)
    return t;
  XTextProperty tp;
  if (XGetWMName(dpy, w, &tp) && tp.value) {
    char **list = NULL;
    int cnt = 0;
    if (Xutf8TextPropertyToTextList(dpy, &tp, &list, &cnt) >= Success && cnt > 0 && list)
      t = strdup(list[0]);
    if (list)
      XFreeStringList(list);
    XFree(tp.value);
  }
  return t;
}

static bool fill(Display *dpy, Window w, rt_winfo *o)
{
  memset(o, 0, sizeof *o);
  XWindowAttributes wa;
  if (!XGetWindowAttributes(dpy, w, &wa))
    return false;
  o->id = w;
  o->viewable = wa.map_state == IsViewable;
  o->w = wa.width;
  o->h = wa.height;
  Window child;
  XTranslateCoordinates(dpy, w, wa.root, 0, 0, &o->x, &o->y, &child);
  XClassHint ch = {0};
  if (XGetClassHint(dpy, w, &ch)) {
    o->res_name = ch.res_name ? strdup(ch.res_name) : NULL;
    o->res_class = ch.res_class ? strdup(ch.res_class) : NULL;
    if (ch.res_name)
      XFree(ch.res_name);
    if (ch.res_class)
      XFree(ch.res_class);
  }
  o->title = title_of(dpy, w);
  Atom at;
  int fmt;
  unsigned long n, after;
  unsigned char *data = NULL;
  if (XGetWindowProperty(dpy, w, XInternAtom(dpy, "_NET_WM_PID", False), 0, 1, False, XA_CARDINAL,
                         &at, &fmt, &n, &after, &data) == Success &&
      data) {
    if (at == XA_CARDINAL && fmt == 32 && n == 1)
      o->pid = (pid_t) * (unsigned long *)data;
    XFree(data);
  }
  return true;
}

void rt_x_names(Display *dpy, Window w, char **cls, char **title)
{
  *cls = NULL;
  rt_x_trap_begin(dpy);
  XClassHint ch = {0};
  if (XGetClassHint(dpy, w, &ch)) {
    *cls = ch.res_class ? strdup(ch.res_class) : NULL;
    if (ch.res_name)
      XFree(ch.res_name);
    if (ch.res_class)
      XFree(ch.res_class);
  }
  *title = title_of(dpy, w);
  rt_x_trap_end(dpy, NULL);
  if (!*cls)
    *cls = strdup("");
  if (!*title)
    *title = strdup("");
}

bool rt_x_winfo(Display *dpy, Window w, rt_winfo *out)
{
  rt_x_trap_begin(dpy);
  bool ok = fill(dpy, w, out);
  if (rt_x_trap_end(dpy, NULL)) {
    rt_winfo_free(out, 1);
    memset(out, 0, sizeof *out);
    return false;
  }
  return ok;
}

void rt_winfo_free(rt_winfo *w, size_t n)
{
  for (size_t i = 0; w && i < n; i++) {
    free(w[i].res_class);
    free(w[i].res_name);
    free(w[i].title);
  }
}

int rt_x_toplevels(Display *dpy, rt_winfo **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  Window root, parent, *kids = NULL;
  unsigned nk = 0;
  rt_x_trap_begin(dpy);
  if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root, &parent, &kids, &nk)) {
    rt_x_trap_end(dpy, NULL);
    return -1;
  }
  rt_winfo *v = calloc(nk ? nk : 1, sizeof *v);
  size_t cnt = 0;
  for (unsigned i = 0; v && i < nk; i++) {
    XWindowAttributes wa;
    /* Unmapped shells (Xt keeps popups and dialogs around) are not what a robot sees, and
     * every window costs round trips on the guard's path. */
    if (!XGetWindowAttributes(dpy, kids[i], &wa) || wa.class == InputOnly || wa.override_redirect ||
        wa.map_state != IsViewable)
      continue;
    /* A root child with WM_STATE or a class hint is the client itself (no window
     * manager); otherwise it is a frame and the client is below it. Checking first keeps
     * the walk out of the widget windows of every application. */
    Window c = None;
    XClassHint ch = {0};
    if (has_wm_state(dpy, kids[i])) {
      c = kids[i];
    } else if (XGetClassHint(dpy, kids[i], &ch)) {
      if (ch.res_name)
        XFree(ch.res_name);
      if (ch.res_class)
        XFree(ch.res_class);
      c = kids[i];
    } else {
      c = client_of(dpy, kids[i], 0);
    }
    if (!c)
      continue;
    if (fill(dpy, c, &v[cnt]))
      cnt++;
  }
  if (kids)
    XFree(kids);
  rt_x_trap_end(dpy, NULL);
  *out = v;
  *n = cnt;
  return v ? 0 : -1;
}

XID rt_x_owner(Display *dpy, Window w)
{
  /* The server gives every client the same id mask; ask for it once. */
  static XID mask;
  if (!mask) {
    int ev, er, n = 0;
    XResClient *cl = NULL;
    mask = 0x001fffff; /* X.org with 256 clients */
    rt_x_trap_begin(dpy);
    if (XResQueryExtension(dpy, &ev, &er) && XResQueryClients(dpy, &n, &cl) && cl) {
      if (n > 0 && cl[0].resource_mask)
        mask = cl[0].resource_mask;
      XFree(cl);
    }
    rt_x_trap_end(dpy, NULL);
  }
  return w & ~mask;
}

/* Frames keep their client for life (X ids are not reused on a connection): remember
 * them, so a settle loop does not walk every frame's subtree on every look. */
#define FRAME_CACHE 64
static struct {
  Window frame, client;
} frame_cache[FRAME_CACHE];
static unsigned frame_next;

static Window cached_client(Display *dpy, Window frame)
{
  for (unsigned i = 0; i < FRAME_CACHE; i++)
    if (frame_cache[i].frame == frame)
      return frame_cache[i].client;
  Window c = client_of(dpy, frame, 0);
  if (c) {
    frame_cache[frame_next % FRAME_CACHE].frame = frame;
    frame_cache[frame_next % FRAME_CACHE].client = c;
    frame_next++;
  }
  return c;
}

int rt_x_stack(Display *dpy, rt_xtop **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  Window root, parent, *kids = NULL;
  unsigned nk = 0;
  rt_x_trap_begin(dpy);
  if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root, &parent, &kids, &nk)) {
    rt_x_trap_end(dpy, NULL);
    return -1;
  }
  rt_xtop *v = calloc(nk ? nk : 1, sizeof *v);
  size_t cnt = 0;
  for (unsigned i = 0; v && i < nk; i++) {
    XWindowAttributes wa;
    if (!XGetWindowAttributes(dpy, kids[i], &wa) || wa.class == InputOnly ||
        wa.map_state != IsViewable)
      continue;
    rt_xtop *t = &v[cnt];
    t->top = kids[i];
    t->popup = wa.override_redirect;
    t->x = wa.x;
    t->y = wa.y;
    t->w = wa.width + 2 * wa.border_width;
    t->h = wa.height + 2 * wa.border_width;
    if (t->popup) {
      t->client = kids[i];
    } else {
      XClassHint ch = {0};
      if (has_wm_state(dpy, kids[i])) {
        t->client = kids[i];
      } else if (XGetClassHint(dpy, kids[i], &ch)) {
        if (ch.res_name)
          XFree(ch.res_name);
        if (ch.res_class)
          XFree(ch.res_class);
        t->client = kids[i];
      } else {
        t->client = cached_client(dpy, kids[i]);
      }
    }
    if (t->client == kids[i]) {
      t->cx = wa.x + wa.border_width;
      t->cy = wa.y + wa.border_width;
      t->cw = wa.width;
      t->ch = wa.height;
    } else if (t->client) {
      XWindowAttributes ca;
      Window child;
      if (!XGetWindowAttributes(dpy, t->client, &ca))
        continue;
      XTranslateCoordinates(dpy, t->client, DefaultRootWindow(dpy), 0, 0, &t->cx, &t->cy, &child);
      t->cw = ca.width;
      t->ch = ca.height;
    }
    t->owner = t->client ? rt_x_owner(dpy, t->client) : 0;
    cnt++;
  }
  if (kids)
    XFree(kids);
  rt_x_trap_end(dpy, NULL);
  *out = v;
  *n = cnt;
  return v ? 0 : -1;
}

static bool atom_listed(Display *dpy, Window w, Atom prop, Atom want)
{
  Atom at;
  int fmt;
  unsigned long n, after;
  unsigned char *data = NULL;
  bool found = false;
  if (XGetWindowProperty(dpy, w, prop, 0, 1024, False, XA_ATOM, &at, &fmt, &n, &after, &data) ==
          Success &&
      data) {
    for (unsigned long i = 0; at == XA_ATOM && fmt == 32 && i < n; i++)
      if (((Atom *)data)[i] == want)
        found = true;
    XFree(data);
  }
  return found;
}

bool rt_x_ewmh(Display *dpy)
{
  Window root = DefaultRootWindow(dpy);
  Atom check = XInternAtom(dpy, "_NET_SUPPORTING_WM_CHECK", False);
  Atom at;
  int fmt;
  unsigned long n, after;
  unsigned char *data = NULL;
  bool wm = false;
  rt_x_trap_begin(dpy);
  if (XGetWindowProperty(dpy, root, check, 0, 1, False, XA_WINDOW, &at, &fmt, &n, &after, &data) ==
          Success &&
      data) {
    if (at == XA_WINDOW && n == 1) {
      Window child = *(Window *)data;
      XWindowAttributes wa;
      wm = XGetWindowAttributes(dpy, child, &wa);
    }
    XFree(data);
  }
  if (wm)
    wm = atom_listed(dpy, root, XInternAtom(dpy, "_NET_SUPPORTED", False),
                     XInternAtom(dpy, "_NET_ACTIVE_WINDOW", False));
  if (rt_x_trap_end(dpy, NULL))
    wm = false;
  return wm;
}

bool rt_x_has_focus(Display *dpy, Window w)
{
  Window f;
  int revert;
  XGetInputFocus(dpy, &f, &revert);
  /* The focus may sit on the client or on one of its subwindows. */
  for (int depth = 0; f != None && f != PointerRoot && depth < 16; depth++) {
    if (f == w)
      return true;
    Window root, parent, *kids = NULL;
    unsigned nk;
    rt_x_trap_begin(dpy);
    Status ok = XQueryTree(dpy, f, &root, &parent, &kids, &nk);
    rt_x_trap_end(dpy, NULL);
    if (kids)
      XFree(kids);
    if (!ok || parent == root)
      break;
    f = parent;
  }
  return false;
}

static bool wait_focus(Display *dpy, Window w, double until)
{
  for (;;) {
    if (rt_x_has_focus(dpy, w))
      return true;
    if (vu_mono() > until)
      return false;
    rt_sleep(NULL, 0.01);
  }
}

int rt_x_activate(Display *dpy, struct xdo *xdo, bool ewmh, Window w, double timeout, char *err,
                  size_t errlen)
{
  double start = vu_mono();
  (void)xdo;
  rt_x_trap_begin(dpy);
  if (ewmh) {
    /* _NET_ACTIVE_WINDOW with source "pager": window managers honour it without their
     * focus-stealing rules (a robot acts for the user). */
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = XInternAtom(dpy, "_NET_ACTIVE_WINDOW", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = 2;
    ev.xclient.data.l[1] = CurrentTime;
    XSendEvent(dpy, DefaultRootWindow(dpy), False,
               SubstructureNotifyMask | SubstructureRedirectMask, &ev);
  }
  XRaiseWindow(dpy, w);
  XSync(dpy, False);
  if (rt_x_trap_end(dpy, NULL)) {
    snprintf(err, errlen, "window 0x%lx no longer exists", (unsigned long)w);
    return -1;
  }
  if (ewmh && wait_focus(dpy, w, start + timeout / 2))
    return 0;
  /* No window manager, or it did not act: take the focus ourselves. */
  rt_x_trap_begin(dpy);
  XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
  XSync(dpy, False);
  if (rt_x_trap_end(dpy, NULL)) {
    snprintf(err, errlen, "window 0x%lx cannot take the focus (gone or unmapped)",
             (unsigned long)w);
    return -1;
  }
  if (wait_focus(dpy, w, start + timeout))
    return 0;
  snprintf(err, errlen, "window 0x%lx did not get the keyboard focus within %.1f s",
           (unsigned long)w, timeout);
  return -1;
}

int rt_x_click(Display *dpy, struct xdo *xdo, Window w, int x, int y, int button, int count,
               char *err, size_t errlen)
{
  rt_winfo wi;
  if (!rt_x_winfo(dpy, w, &wi)) {
    snprintf(err, errlen, "window 0x%lx no longer exists", (unsigned long)w);
    return -1;
  }
  rt_winfo_free(&wi, 1);
  if (x < 0 || y < 0 || x >= wi.w || y >= wi.h) {
    snprintf(err, errlen, "click at (%d,%d) is outside the window (%dx%d)", x, y, wi.w, wi.h);
    return -1;
  }
  int screen = DefaultScreen(dpy);
  rt_x_trap_begin(dpy);
  xdo_move_mouse(xdo, wi.x + x, wi.y + y, screen);
  XSync(dpy, False);
  /* Let the application see the motion (hover, enter) before the press. */
  rt_sleep(NULL, 0.02);
  for (int i = 0; i < count; i++)
    xdo_click_window(xdo, CURRENTWINDOW, button);
  XSync(dpy, False);
  if (rt_x_trap_end(dpy, NULL)) {
    snprintf(err, errlen, "click failed: window 0x%lx vanished", (unsigned long)w);
    return -1;
  }
  return 0;
}

void rt_x_pointer_park(Display *dpy, struct xdo *xdo, const rt_winfo *wi)
{
  Window root, child;
  int rx, ry, wx, wy;
  unsigned mask;
  int px = wi->x + wi->w - 1, py = wi->y + wi->h - 1;
  if (!XQueryPointer(dpy, DefaultRootWindow(dpy), &root, &child, &rx, &ry, &wx, &wy, &mask) ||
      (rx == px && ry == py))
    return;
  /* Always the same spot, wherever the pointer was: without a window manager the keyboard
   * focus follows the pointer, and an application draws its text cursor by it. Inside the
   * window (leaving it would move the focus under focus-follows-mouse window managers), on
   * its bottom-right corner, away from widgets with hover effects: the top-left corner is
   * where menu bars start, and a menu posted from the keyboard follows the pointer there. */
  xdo_move_mouse(xdo, px, py, DefaultScreen(dpy));
  XSync(dpy, False);
}

Window rt_x_client_of(Display *dpy, Window top, bool *popup)
{
  Window client = top;
  rt_xtop *st = NULL;
  size_t ns = 0;
  if (rt_x_stack(dpy, &st, &ns) == 0)
    for (size_t i = 0; i < ns; i++)
      if (st[i].top == top && st[i].client != None) {
        client = st[i].client;
        if (popup)
          *popup = st[i].popup;
      }
  free(st);
  return client;
}

void rt_x_top_words(Display *dpy, Window top, bool popup, char *out, size_t n)
{
  Window client = rt_x_client_of(dpy, top, &popup);
  char *cls, *title;
  rt_x_names(dpy, client, &cls, &title);
  /* a window transient for another is a dialog (a Swing JDialog has its frame's class) */
  Window owner = None;
  bool dialog = !popup && XGetTransientForHint(dpy, client, &owner) && owner != None;
  const char *kind = popup ? "a pop-up" : dialog ? "a dialog" : "a window";
  if (cls && cls[0])
    snprintf(out, n, "%s of class %s", kind, cls);
  else
    snprintf(out, n, "%s without a class", kind);
  free(cls);
  free(title);
}
