/* Keys go where the keyboard focus is when the server handles them, not where the step
 * judged it would go: a dialog that opens while a step types ("CPR already in use", news
 * of a new version) takes the rest of the text, and a space or Return in it answers the
 * dialog unseen. The key watch is asked before every key after the first (an
 * rt_input_watch, xio/input.h): once the server has handled the keys so far, a window
 * newly mapped on the screen or the focus gone to another top-level window stops the
 * typing there. What opens after the last key is the next step's to judge.
 *
 * Strict on purpose: a tooltip or completion list mapped while typing stops the step too
 * (the pointer is parked away from the window, and legacy forms have no completion
 * lists), unless the step allows pop-ups (`popups = true` of w:type and w:key): then a
 * window of the target's own X client that leaves the focus alone is let be (an
 * override-redirect list, or a Swing JWindow, which is an ordinary window). Typing that should open a window belongs in a step of its own, so the guard
 * judges the window before the next key reaches it. */
#ifndef VAGT_KEYWATCH_H
#define VAGT_KEYWATCH_H

#include <X11/Xlib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rt_keywatch {
  Display *dpy;
  Window root, target;
  Window focus;         /* the focus when the typing began, or the last one in target */
  unsigned long serial; /* events with a serial below this came before the typing */
  bool select_restore;  /* root's event mask was widened: restore at the end */
  long root_mask;       /* ... to this */
  bool typing;          /* a type (characters) rather than a key sequence */
  bool popups;          /* the application's own pop-ups may open */
  Window allowed[16];   /* pop-ups let be so far */
  int nallowed;
} rt_keywatch;

/* Before the first key: notes the focus and selects SubstructureNotify on the root
 * (kept alongside what the connection selected there already). */
void rt_keywatch_begin(rt_keywatch *w, Display *dpy, Window target, bool typing, bool popups);
/* The rt_input_watch: ud is the rt_keywatch. */
int rt_keywatch_check(void *ud, size_t done, size_t total, char *err, size_t errlen);
/* After the last key: the root's event mask as it was. */
void rt_keywatch_end(rt_keywatch *w);

#endif
