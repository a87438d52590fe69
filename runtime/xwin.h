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
  int x, y, w, h;    /* root coordinates of the client area */
  bool viewable;
  pid_t pid;         /* _NET_WM_PID, 0 when the client does not set it */
} rt_winfo;

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
int rt_x_activate(Display *dpy, struct xdo *xdo, bool ewmh, Window w, double timeout,
                  char *err, size_t errlen);

/* Moves the pointer to (x,y) window-relative and clicks `count` times. */
int rt_x_click(Display *dpy, struct xdo *xdo, Window w, int x, int y, int button, int count,
               char *err, size_t errlen);
/* Moves the pointer out of the way of hover effects before a capture. */
void rt_x_pointer_park(Display *dpy, struct xdo *xdo, const rt_winfo *wi);

#endif
