/* The step engine: every action on a window is one guarded step that owns the whole
 * action, from the look to the input:
 *   settle -> capture what the input can reach (the scene) -> judge (or record) ->
 *   locate the target on that same judged frame -> input.
 * OCR never runs on a frame the guard has not judged. A mismatch is looked at again for a
 * short grace period (the application may still be drawing); if it persists the run halts:
 * no input now or later (exit 3, evidence, reasons, approvable). A target that cannot be
 * found on a matching screen is a script failure (exit 1) and keeps the frame as evidence.
 *
 * No Lua here: the binding (l_window.c) turns arguments into an rt_action and raises from
 * the result. While a mouse button is held or a pop-up of the application is mapped the
 * engine neither moves the pointer aside nor activates the window (either would close a
 * posted menu or lose an Xaw menu's highlight). */
#ifndef VAGT_STEP_H
#define VAGT_STEP_H

#include <stdbool.h>
#include <X11/Xlib.h>

#include "ocr/rt_ocr.h"
#include "run.h"
#include "scene.h"

typedef struct rt_rect {
  int x, y, w, h;
} rt_rect;

typedef enum {
  RT_ACT_CLICK,
  RT_ACT_TYPE,
  RT_ACT_KEY,
  RT_ACT_PRESS, /* a button down, held until a release */
  RT_ACT_RELEASE,
  RT_ACT_MOVE, /* the pointer only (hover; drags with a held button) */
  RT_ACT_DRAG, /* press at `at`, move to `to`, release */
  RT_ACT_MENU, /* a menu path by text: one step per level */
  RT_ACT_LOOK, /* no input: the look after the script's last step (rt_step_end_look) */
  RT_ACT_N
} rt_act_kind;

/* "click", "type", ...: the step keys' action part. */
const char *rt_act_name(rt_act_kind k);

typedef enum { RT_ANCHOR_CENTER = 0, RT_ANCHOR_LEFT, RT_ANCHOR_RIGHT } rt_anchor;

/* Where a pointer action goes: window-relative pixels, or a text located by OCR on the
 * step's judged frame (menu entries and pop-up items included), then dx/dy from the
 * anchor point of its box (left edge, centre or right edge; vertically its middle). */
typedef struct rt_target {
  bool given;
  int x, y;
  const char *text;
  rt_ocr_find_opts find; /* region and near in window-relative pixels */
  rt_anchor anchor;
  int dx, dy;
  bool popup; /* the text only in the front-most pop-up */
} rt_target;

typedef struct rt_action {
  rt_act_kind kind;
  Window win;
  rt_target at;            /* click, press, release (optional), move, drag's start */
  rt_target to;            /* drag's end */
  int button, count;       /* count 2: a double click */
  const char *text;        /* type: UTF-8, exactly as given */
  const char *keys;        /* key: xdo key sequence */
  const char *const *path; /* menu: entries by text, from the menu bar down */
  int npath;
  double timeout;        /* text targets: how long to keep looking (seconds) */
  const rt_rect *ignore; /* ignore = {...} on this one action, window-relative */
  int nignore;
  const char *file; /* the script position, for the step key and messages */
  int line;
  const char *name; /* key = "...": the action's own name in its step's key, in
                               place of its ordinal (a conditional action shifts no key) */
  bool popups;      /* type, key: pop-ups of the window's own application (a completion list)
                  may open while the keys are sent (keywatch.h) */
} rt_action;

typedef enum {
  RT_STEP_OK = 0,
  RT_STEP_FAILED, /* exit 1: not found, ambiguous, input failed; msg says why */
  RT_STEP_STOPPED /* the run is aborted (drift halt, deadline, display gone): run->abort */
} rt_step_status;

typedef struct rt_step_result {
  rt_step_status status;
  char msg[2048];
} rt_step_result;

/* Runs one guarded action (a menu: one step per level). */
rt_step_status rt_step_run(rt_run *run, const rt_action *a, rt_step_result *res);

/* The step key of the look after the last step. */
#define RT_END_LOOK_KEY "(end)#1:look"

/* After the script's last step: one more guarded look at the window of the last step that
 * sent input, as at every step but with no input, so that what the last input did is
 * judged too (a confirmation dialog it opened, an error it showed): recorded when
 * recording; in a run judged against the baseline's entry, which a drift halts on (exit
 * 3, evidence, run->end_drift). Nothing to look at (no step sent input, its window has
 * gone) and a baseline without the entry (recorded before this look existed: the log
 * says so) pass over it. RT_STEP_FAILED: the look could not be made (res->msg). */
rt_step_status rt_step_end_look(rt_run *run, rt_step_result *res);

/* Before the run stops its applications: waits (at most max seconds) until the last
 * input's application has read it and drawn its answer, so a save clicked last is done,
 * not killed half-way (a run that ends on an error right after an input). */
void rt_step_drain(rt_run *run, double max);

/* An observer's look (find_text, wait_text, read_text, words: they judge nothing): waits
 * until the application has read what it was sent and its drawing in the target's scene
 * is quiet (a dialog that just closed leaves the window behind it to be drawn again:
 * until then the screen shows what is gone), then lists and captures the scene with its
 * image. Waits as a replay's step does, also when recording, each wait at most
 * RT_OBSERVE_MAX: observers are polled (wait_text), and a scene that never stops drawing
 * (an animation) must not make each look cost a step's bound. An application that has
 * read an event and draws its answer only after other work is not seen to be busy: a
 * script waits for what it expects with wait_text or a timeout. 0, or -1 + err (nothing
 * held). */
int rt_step_observe(rt_run *run, Window target, rt_scene *sc, char *err, size_t n);
#define RT_OBSERVE_MAX 0.5

/* Settle timing (seconds). With the DAMAGE extension: settled when nothing was drawn in the
 * scene for RT_SETTLE_DAMAGE_QUIET after the last drawing, or RT_SETTLE_DAMAGE_FIRST
 * after the step began when nothing was drawn at all (a round trip first proves the server
 * has handled the input); an application still drawing after that is looked at again in
 * the grace period. Without it: when the scene's pixels stayed the same for RT_SETTLE_QUIET.
 * Recording waits RT_SETTLE_QUIET_RECORD either way (a reference must never be stored
 * mid-redraw; a Swing pop-up appears a moment after the click). */
#define RT_SETTLE_DAMAGE_QUIET 0.010
#define RT_SETTLE_DAMAGE_FIRST 0.040
#define RT_SETTLE_QUIET 0.10
#define RT_SETTLE_QUIET_RECORD 0.40
/* Recording waits for the first drawing after an input RT_SETTLE_QUIET_RECORD times the
 * load per core (at least 1), up to this. */
#define RT_SETTLE_RECORD_FIRST_MAX 1.6
#define RT_SETTLE_MAX 2.0
/* Before that: until the target's application has read the robot's input (a busy or
 * stopped one has not answered it yet), at most this long. */
#define RT_SETTLE_READ_MAX 10.0
/* A mismatch must persist this long before the run halts: the app may still be drawing.
 * On a machine busier than its cores (load average per core above 1) the application
 * draws later: the grace grows with the load, up to RT_GRACE_MAX_SECS. */
#define RT_GRACE_SECS 1.2
#define RT_GRACE_MAX_SECS 4.0

#endif
