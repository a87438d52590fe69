/* Whether an application has read the robot's input yet. The X server writes every event
 * (a key, a click, an expose) into the client's socket at once; an application that is
 * busy, stopped or starved of CPU leaves it there, unread, and answers it later. Until it
 * has read it, its window still shows the screen before the input, and input sent on top
 * of it is read in a state the robot never saw (keys typed before the click that focuses a
 * field took effect: with the pointer parked, the demo app drops them). So a step's look
 * first waits until the application has read what it was sent.
 *
 * Linux, local clients: the window's owner process from the X-Resource extension, its unix
 * sockets from /proc/PID/fd, the one connected to the X server's socket, and its receive
 * queue from the kernel's socket diagnostics (NETLINK_SOCK_DIAG, as `ss -x` reads it).
 * A remote client, one of another user, or a kernel without unix_diag: unknown, and the
 * look does not wait. */
#ifndef VAGT_RT_APPQ_H
#define VAGT_RT_APPQ_H

#include <X11/Xlib.h>

typedef struct rt_appq rt_appq;

/* The X connection of the client that owns window w; NULL when it cannot be found (see
 * above) or memory is short. */
rt_appq *rt_appq_new(Display *dpy, Window w);
void rt_appq_free(rt_appq *q);

/* Bytes the X server sent the client that it has not read yet; -1 when unknown (the
 * process or its socket is gone). */
long rt_appq_unread(rt_appq *q);

/* The owner's process id (0 if not known). */
long rt_appq_pid(const rt_appq *q);

#endif
