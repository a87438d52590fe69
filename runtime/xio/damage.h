/* When the screen has finished changing, from the X server's own signals: the DAMAGE
 * extension on the root window reports every drawing operation anywhere on the screen
 * (drawing into a window shows in its ancestors, so pop-ups that appear later are covered
 * too), and SubstructureNotify on the root every window mapped, unmapped, moved or resized.
 * X has no "client finished drawing" signal: quiet means nothing was drawn in the area of
 * interest for a while. A round trip at the start proves the server has handled every
 * request sent before (the robot's input included).
 *
 * The events arrive on the caller's Display connection; nothing else in vagt reads events,
 * and rt_damage drains what it does not need. */
#ifndef VAGT_RT_DAMAGE_H
#define VAGT_RT_DAMAGE_H

#include <X11/Xlib.h>

typedef struct rt_damage rt_damage;

/* NULL when the server has no DAMAGE extension (the caller falls back to comparing
 * captures) or memory is short. */
rt_damage *rt_damage_new(Display *dpy);
void rt_damage_free(rt_damage *d);

/* Starts a quiet period now (call it right before sending input, and make a round trip
 * after it): a round trip, then what was reported so far is dropped. rt_damage_new starts
 * the first one. */
void rt_damage_reset(rt_damage *d);

/* Sets the area of interest (root coordinates; w or h 0: the whole screen). */
void rt_damage_area(rt_damage *d, int x, int y, int w, int h);

/* Waits until the area has been quiet: `quiet` seconds after the last drawing in it (or a
 * window mapped, unmapped, moved or resized), or `first` seconds after the reset when
 * nothing happened at all (the application had nothing to draw); at most until `deadline`
 * (monotonic seconds, as clock_gettime(CLOCK_MONOTONIC)). Returns 1 when quiet, 0 at the
 * deadline (call again to go on waiting: the quiet period lasts until the next reset).
 * *windows_changed (may be NULL) is set when windows changed meanwhile (the caller lists
 * them again). */
int rt_damage_wait(rt_damage *d, double first, double quiet, double deadline, int *windows_changed);

#endif
