/* vagt X error handling: a process-wide Xlib error handler that never exits,
 * and error traps that catch the errors of the requests made between begin and end.
 *
 *   rt_xerror_install();              // once at startup (after XSetIOErrorHandler if any)
 *   rt_x_trap_begin(dpy);
 *   XGetWindowAttributes(dpy, w, &a);
 *   rt_xerror_info e;
 *   if (rt_x_trap_end(dpy, &e)) ... e.error_code == BadWindow ...
 *
 * Traps nest (up to RT_XTRAP_MAX deep). rt_x_trap_begin installs the vagt handler for
 * the duration of the trap even if the caller installed another one afterwards, and
 * rt_x_trap_end puts the previous handler back. The traps belong to the main thread; a
 * connection that another thread uses for itself alone registers with rt_xerror_route and
 * gets its errors there, on its own thread.
 */
#ifndef VAGT_RT_XERROR_H
#define VAGT_RT_XERROR_H

#include <X11/Xlib.h>
#include <stddef.h>

#define RT_XTRAP_MAX 16

typedef struct {
  int error_code;   /* 0 = no error, else BadWindow, BadMatch, ... */
  int request_code; /* major opcode of the failed request */
  int minor_code;
  unsigned long resourceid;
  unsigned long serial;
} rt_xerror_info;

/* Install the vagt handler process-wide: it records errors and returns 0. Errors that
 * happen outside any trap are remembered (rt_xerror_last) and passed to the callback
 * (rt_xerror_set_callback), or else printed to stderr unless VAGT_X_QUIET=1.
 * Returns the previous handler. */
XErrorHandler rt_xerror_install(void);

/* Called for errors outside any trap instead of printing them (NULL: print to stderr).
 * Runs inside the Xlib error handler: it must not make X requests. */
typedef void (*rt_xerror_callback)(Display *dpy, const rt_xerror_info *e, void *user);
void rt_xerror_set_callback(rt_xerror_callback cb, void *user);

/* Errors of requests on `dpy` go to cb, called on whichever thread reads that connection,
 * instead of to the traps, rt_xerror_last and the untrapped callback. For a Display used
 * by one thread of its own (the selection service). At most 4 at once: -1 when full.
 * Route before the thread starts and unroute after it has ended. */
int rt_xerror_route(Display *dpy, rt_xerror_callback cb, void *user);
void rt_xerror_unroute(Display *dpy);

/* Start catching errors of requests issued from now on. XSync first, so errors of
 * earlier requests are not blamed on this trap. */
void rt_x_trap_begin(Display *dpy);

/* XSync, stop catching; returns the error code of the FIRST error caught in this trap
 * (0 when none) and fills *out when out != NULL. */
int rt_x_trap_end(Display *dpy, rt_xerror_info *out);

/* Same as rt_x_trap_end without XSync (when the caller knows all replies were awaited). */
int rt_x_trap_end_nosync(Display *dpy, rt_xerror_info *out);

/* The last error seen outside any trap (error_code 0 if none); clear = reset it. */
rt_xerror_info rt_xerror_last(int clear);

/* "BadWindow (invalid Window parameter) in X_GetImage (request 73), resource 0x1200003" */
void rt_xerror_format(Display *dpy, const rt_xerror_info *e, char *buf, size_t len);

#endif
