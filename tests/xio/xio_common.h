/* helpers shared by the xio test driver and benchmark: start xterm, find its window */
#ifndef VAGT_XIO_COMMON_H
#define VAGT_XIO_COMMON_H

#include <X11/Xlib.h>
#include <sys/types.h>

#include "vu.h"

void xc_sleep_ms(unsigned ms);

/* start `xterm -u8 -name NAME -e sh -c 'head -n1 > OUT'` with LC_ALL=C.UTF-8;
 * pid or -1 */
pid_t xc_start_xterm(const char *name, const char *out);

/* the top-level client window whose WM_CLASS instance is NAME, 0 if none yet */
Window xc_find_client(Display *dpy, const char *name);

/* wait (timeout ms) for the client window NAME to be viewable and give it the focus;
 * 0 if it did not happen */
Window xc_wait_and_focus(Display *dpy, const char *name, unsigned timeout_ms);

/* wait for pid to exit within timeout_ms; returns exit status or -1 (then kills it) */
int xc_wait_pid(pid_t pid, unsigned timeout_ms);

#endif
