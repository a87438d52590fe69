/* The guarded-step pipeline. Every action on a window goes through rt_action_run:
 *   settle (until the window stops changing, bounded) -> capture -> guard hook -> input.
 * The hook decides whether the input may be sent; on a halt no input is sent in this run
 * again. The default hook only records what it saw; the brittleness monitor replaces it
 * with fingerprint judging (record, compare, explain). */
#ifndef VAGT_GUARD_H
#define VAGT_GUARD_H

#include <leptonica/allheaders.h>
#include <lua.h>

#include "run.h"
#include "xwin.h"

typedef enum { RT_GUARD_GO = 0, RT_GUARD_HALT, RT_GUARD_ERROR } rt_guard_verdict;

typedef struct rt_rect {
  int x, y, w, h;
} rt_rect;

typedef struct rt_action {
  const char *kind;
  Window win;
  int x, y, button, count;  /* click */
  const char *text;         /* type */
  const char *keys;         /* key */
  const rt_rect *ignore;    /* ignore = {...} on this one action, window-relative */
  int nignore;
} rt_action;

/* What the guard says about one step, for run.json and the report. */
typedef struct rt_guard_out {
  const char *verdict;      /* "recorded", "merged", "match", "drift" */
  char reason[1024];        /* the first reason, or the error */
  char *const *reasons;     /* all reasons, owned by the guard (valid until its next call) */
  int nreasons;
  const char *evidence[3];  /* recorded, current, diff: paths relative to the run folder */
} rt_guard_out;

typedef struct rt_stepinfo {
  const char *key;     /* DESIGN.md step key */
  const char *kind;    /* "click", "type", "key" */
  const char *name;    /* robot.step path or NULL */
  int ordinal;
  const char *file;
  int line;
  const rt_winfo *win; /* the target window now */
  const rt_action *action;
} rt_stepinfo;

typedef struct rt_guard {
  /* Judge (or record) the settled capture; on HALT/ERROR out->reason says why. */
  rt_guard_verdict (*check)(void *ud, rt_run *run, const rt_stepinfo *s, PIX *img,
                            rt_guard_out *out);
  /* Told after the input was sent (rc 0) or failed. May be NULL. */
  void (*after)(void *ud, rt_run *run, const rt_stepinfo *s, int rc);
  void *ud;
} rt_guard;

/* Runs one guarded action. Raises a Lua error (with the script line) when it cannot be
 * performed or the guard halts. */
void rt_action_run(lua_State *L, rt_run *run, const rt_action *a);

/* The recording hook used until fingerprints judge: counts and records the capture. */
extern const rt_guard rt_guard_record_only;

/* Settle timing (seconds): a window is settled when its pixels stay the same this long. */
#define RT_SETTLE_QUIET 0.10
#define RT_SETTLE_MAX 2.0

#endif
