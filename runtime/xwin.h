/* Windows as robots see them: top-level client windows (with or without a window manager,
 * found through WM_STATE), their class, title and root geometry; activation through EWMH
 * when a window manager supports it and XSetInputFocus + raise otherwise; pointer moves
 * and clicks through libxdo (XTest). Every X request that can hit a vanished window runs
 * inside an error trap, so a closed window is an error value, never a dead process. */
#ifndef VAGT_XWIN_H
#define VAGT_XWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <X11/Xlib.h>

struct xdo;

typedef struct rt_winfo {
  Window id;
  char *res_class, *res_name, *title;
  int x, y, w, h; /* root coordinates of the client area */
  bool viewable;
  pid_t pid; /* _NET_WM_PID, 0 when the client does not set it */
} rt_winfo;

/* One child of the root window in stacking order: what input aimed at its area reaches.
 * Under a reparenting window manager it is a frame and the application's window (the one
 * carrying WM_STATE) is inside; without one, and for override-redirect pop-ups (menus,
 * combo lists, tooltips), it is the application's window itself. */
typedef struct rt_xtop {
  Window top;         /* the root's child */
  Window client;      /* the application's window; None when the root child has none */
  bool popup;         /* override-redirect */
  int x, y, w, h;     /* the root child's area on the root, border included */
  int cx, cy, cw, ch; /* the client's area on the root */
  XID owner;          /* the X client connection that created `client` (resource base) */
} rt_xtop;

/* Viewable, InputOutput children of the root, bottom to top. Cheap enough for every look
 * of a settle loop: one round trip per child (frames remember their client). */
int rt_x_stack(Display *dpy, rt_xtop **out, size_t *n);
/* The X client that created window w: its resource base (X-Resource extension for the
 * server's id mask; the X.org default mask without it). Windows of one application
 * connection share it, whatever their class: Xaw and Motif menus carry no WM_CLASS. */
XID rt_x_owner(Display *dpy, Window w);

/* Class (WM_CLASS res_class) and title of a window, malloc'd, "" when it has none: two or
 * three round trips, half of rt_x_winfo's. */
void rt_x_names(Display *dpy, Window w, char **cls, char **title);

/* The application's window of a root child: the client a window manager's frame holds,
 * else top itself; *popup (may be NULL) set to whether it is override-redirect. */
Window rt_x_client_of(Display *dpy, Window top, bool *popup);

/* A root child in words for a message: "a window of class Nyheder", "a pop-up without a
 * class" (the class of the application's window inside a frame). Never its title: a title
 * may name a citizen. */
void rt_x_top_words(Display *dpy, Window top, bool popup, char *out, size_t n);

/* Opens the display and installs the process-wide error handlers. */
Display *rt_x_open(const char *name, char *err, size_t errlen);

/* Client top-level windows, bottom to top in stacking order. */
int rt_x_toplevels(Display *dpy, rt_winfo **out, size_t *n);
void rt_winfo_free(rt_winfo *w, size_t n);
/* Fills *out for one window; false when it no longer exists. */
bool rt_x_winfo(Display *dpy, Window w, rt_winfo *out);

/* True when an EWMH window manager runs and supports _NET_ACTIVE_WINDOW. */
bool rt_x_ewmh(Display *dpy);
bool rt_x_has_focus(Display *dpy, Window w);
int rt_x_activate(Display *dpy, struct xdo *xdo, bool ewmh, Window w, double timeout, char *err,
                  size_t errlen);

/* Moves the pointer to (x,y) window-relative and clicks `count` times. */
int rt_x_click(Display *dpy, struct xdo *xdo, Window w, int x, int y, int button, int count,
               char *err, size_t errlen);
/* Moves the pointer to the window's bottom-right corner, out of the way of hover effects
 * and always to the same spot, before a capture. */
void rt_x_pointer_park(Display *dpy, struct xdo *xdo, const rt_winfo *wi);

#endif
