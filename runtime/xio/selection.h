/* X selections (CLIPBOARD, PRIMARY) for robots: reading what an application copied or
 * selected, in UTF-8 whatever the owner offers, and owning a selection so that an
 * application can paste what the robot set, for as long as the run lives (ICCCM 2.x:
 * TARGETS, UTF8_STRING, STRING as Latin-1, COMPOUND_TEXT, TEXT, and INCR both ways).
 *
 * Why a thread with a connection of its own: an owner must answer a SelectionRequest
 * whenever the requestor asks, which is while the script sleeps, while OCR runs for a
 * second, while a step settles or the script computes. The run's own connection is read by
 * rt_damage only when a step settles, and it drains every event it does not need; pumping
 * it from every wait in the runtime would still leave OCR and Lua code unserved. Here one
 * thread owns one Display that nothing else touches (no Display is shared between
 * threads; libX11 1.8 sets up its locks itself, in a constructor, so two threads each with
 * their own connection are safe), and answers within milliseconds whatever the main thread
 * does. Reading goes through the same thread, so a robot can read back what it set itself.
 * Errors on this connection are routed to the thread (xerror.h rt_xerror_route), never to
 * the traps of the main thread; losing the connection ends this thread only (the run
 * notices on its own connection).
 *
 * Nothing here logs or formats the selection's contents: messages name the selection,
 * sizes and target names only. */
#ifndef VAGT_RT_SELECTION_H
#define VAGT_RT_SELECTION_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rt_sel rt_sel;

typedef enum { RT_SEL_CLIPBOARD = 0, RT_SEL_PRIMARY = 1 } rt_sel_which;

enum {
  RT_SEL_OK = 0,
  RT_SEL_NOOWNER,   /* nobody owns the selection */
  RT_SEL_TIMEOUT,   /* the owner did not answer in time */
  RT_SEL_NOTEXT,    /* the owner offers no text, or refused every text target */
  RT_SEL_TOOBIG,    /* more than the caller's limit */
  RT_SEL_CANCELLED, /* the caller's cancelled() said stop */
  RT_SEL_FAILED,    /* the connection was lost, memory ran out, ownership was refused */
};

/* Opens a connection of its own to `display` and starts the thread that serves it.
 * NULL and a message in err when the display cannot be opened. */
rt_sel *rt_sel_open(const char *display, char *err, size_t errlen);
/* Gives up the selections owned, stops the thread, closes the connection. NULL is fine. */
void rt_sel_close(rt_sel *s);

typedef struct {
  double timeout; /* seconds to wait for the owner's answer, and between two parts of a
                      large (INCR) transfer */
  size_t max;     /* bytes at most, as received and as UTF-8 */
  bool (*cancelled)(void *user); /* polled every 50 ms while waiting (may be NULL) */
  void *user;
} rt_sel_get_opts;

/* Reads the selection as text: asks for TARGETS, then the best of UTF8_STRING, STRING
 * (Latin-1), COMPOUND_TEXT and TEXT that the owner offers (each in turn when it cannot say
 * what it offers, or refuses one). *out is malloc'd UTF-8 (NUL-terminated, *len bytes
 * without it; trailing NULs dropped, invalid UTF-8 from an owner replaced by U+FFFD);
 * *via names the target that gave it. Returns RT_SEL_OK or a code with a message in err
 * that never quotes the contents. */
int rt_sel_get(rt_sel *s, rt_sel_which which, const rt_sel_get_opts *o, char **out, size_t *len,
               const char **via, char *err, size_t errlen);

/* Owns the selection with `len` bytes of UTF-8 text (copied) until rt_sel_close, another
 * client takes it or the next rt_sel_set; serves it as UTF8_STRING, STRING (when every
 * character is in Latin-1), COMPOUND_TEXT and TEXT, large texts by INCR. RT_SEL_OK, or
 * RT_SEL_FAILED with a message. */
int rt_sel_set(rt_sel *s, rt_sel_which which, const char *utf8, size_t len, char *err,
               size_t errlen);

/* True once the service's connection to the display is gone (every call fails from then on:
 * the display itself is most likely gone too). */
bool rt_sel_lost(rt_sel *s);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF). */
bool rt_utf8_valid(const char *s, size_t len);

/* "CLIPBOARD" or "PRIMARY". */
const char *rt_sel_name(rt_sel_which which);

#endif
