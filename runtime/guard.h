/* The guard hook of the step engine (step.h): the brittleness monitor (monitor.c) records
 * a fingerprint of every step's scene in `vagt record` and judges it in `vagt run`. The
 * engine owns the loop (settle, look again during the grace period, locate, input); the
 * guard only judges what it is shown and keeps the evidence. */
#ifndef VAGT_GUARD_H
#define VAGT_GUARD_H

#include <leptonica/allheaders.h>

#include "run.h"
#include "scene.h"
#include "step.h"

typedef enum {
  RT_GUARD_GO = 0, /* matches (run) or stored (record): the input may be sent */
  RT_GUARD_DRIFT,  /* run: differs; look again until the grace period ends */
  RT_GUARD_HALT,   /* differs for good (or a recording refused): halt the run */
  RT_GUARD_ERROR   /* out->reason says why; run->abort may be set (corrupt baseline) */
} rt_guard_verdict;

/* What the guard says about one step, for run.json and the report. */
typedef struct rt_guard_out {
  const char *verdict;  /* "recorded", "merged", "match", "drift", "error" */
  char reason[1024];    /* the first reason, or the error */
  char *const *reasons; /* all reasons, owned by the guard (valid until its next call) */
  int nreasons;
  const char *evidence[3]; /* recorded, current, diff: paths relative to the run folder */
  char labels[1024];       /* the step's static labels as recorded, for messages */
} rt_guard_out;

typedef struct rt_stepinfo {
  unsigned long serial; /* one per step (a step is judged several times in its grace period) */
  const char *key;      /* step key: "name#ordinal:kind" (stepkey.h) */
  const char *kind;     /* "click", "type", "menu.2", ... */
  const char *name;     /* robot.step path or NULL */
  int ordinal;
  const char *file;
  int line;
  const rt_scene *scene; /* the judged frame: the target is scene->win[0] */
  const rt_action *action;
} rt_stepinfo;

typedef struct rt_guard {
  /* run: judge the scene; final = the grace period is over, so explain a drift, keep the
   * evidence and say HALT. record: store the scene (called once the target was found). */
  rt_guard_verdict (*check)(void *ud, rt_run *run, const rt_stepinfo *s, bool final,
                            rt_guard_out *out);
  /* After the input was sent (rc 0) or failed. May be NULL. */
  void (*after)(void *ud, rt_run *run, const rt_stepinfo *s, int rc);
  /* The step failed otherwise (exit 1): keep its frame as evidence. May be NULL. */
  void (*failed)(void *ud, rt_run *run, const rt_stepinfo *s, rt_guard_out *out);
  /* The step's input was stopped part-way by what the screen did meanwhile (a window
   * opened while typing; reason says so, naming no data): s->scene is the screen now.
   * Keep the evidence and the alert, reason first; the run halts on drift. May be NULL. */
  void (*stopped)(void *ud, rt_run *run, const rt_stepinfo *s, const char *reason,
                  rt_guard_out *out);
  /* Whether the baseline holds step `key` (the look after the last step is judged only
   * when it does: baselines recorded before it existed lack it). May be NULL: it does. */
  bool (*has)(void *ud, const char *key);
  void *ud;
} rt_guard;

/* Used when no monitor judges (vagt check's dry runs): every step goes. */
extern const rt_guard rt_guard_none;

#endif
