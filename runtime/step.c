#include "step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xdo.h>

#include "guard.h"
#include "runfolder.h"
#include "scene.h"
#include "keywatch.h"
#include "stepkey.h"
#include "xio/damage.h"
#include "xio/input.h"
#include "xio/appq.h"
#include "xio/xerror.h"
#include "xwin.h"
#include "vu.h"

#define GRACE_POLL 0.15

/* How much busier than its cores the machine is (the load average per core), at least 1:
 * an application draws that much later. */
static double load_factor(void)
{
  double load[1];
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (getloadavg(load, 1) != 1 || cores < 1)
    return 1;
  double per_core = load[0] / (double)cores;
  return per_core > 1 ? per_core : 1;
}

/* RT_GRACE_SECS, longer on a machine busier than its cores. */
static double grace_secs(void)
{
  double g = RT_GRACE_SECS * load_factor();
  return g < RT_GRACE_MAX_SECS ? g : RT_GRACE_MAX_SECS;
}

/* Recording: how long to wait for the application's first drawing after the input. A
 * recording has no grace period to look again, and what the input changed is learned from
 * it (a field the robot typed into is data): an application that draws the typed text after
 * the look would leave that field an anchor of the baseline. So on a busy machine it waits
 * longer, as the grace does; once something was drawn, RT_SETTLE_QUIET_RECORD of quiet. */
static double record_first(void)
{
  double f = RT_SETTLE_QUIET_RECORD * load_factor();
  return f < RT_SETTLE_RECORD_FIRST_MAX ? f : RT_SETTLE_RECORD_FIRST_MAX;
}
#define LOCATE_POLL 0.2

static const char *const act_names[RT_ACT_N] = {"click", "type", "key",  "press", "release",
                                                "move",  "drag", "menu", "look"};

const char *rt_act_name(rt_act_kind k)
{
  return k < RT_ACT_N ? act_names[k] : "?";
}

static rt_guard_verdict none_check(void *ud, rt_run *run, const rt_stepinfo *s, bool final,
                                   rt_guard_out *out)
{
  (void)ud, (void)run, (void)s, (void) final;
  out->verdict = "seen";
  return RT_GUARD_GO;
}

const rt_guard rt_guard_none = {none_check, NULL, NULL, NULL, NULL, NULL};

/* Waits for the scene to settle by the server's drawing signals (xio/damage.h), the scene
 * listed again whenever windows change; `look`: an observer's look, which waits as a
 * replay's step does also when recording (it judges and stores nothing). 1 settled, 0
 * bounded out, -1 + err. */
static int settle_damage(rt_run *run, Window target, rt_scene *sc, bool look, char *err, size_t n)
{
  bool record = run->mode == RT_MODE_RECORD && !look;
  double first = record ? record_first() : RT_SETTLE_DAMAGE_FIRST;
  double quiet = record ? RT_SETTLE_QUIET_RECORD : RT_SETTLE_DAMAGE_QUIET;
  double hard = vu_mono() + (look ? RT_OBSERVE_MAX : RT_SETTLE_MAX);
  /* the quiet period began at the previous input (send_input resets it): what was drawn
   * since, while the script ran between steps, counts */
  for (bool list = true;;) {
    if (list) {
      rt_scene_free(sc);
      if (rt_scene_list(run, target, sc, err, n) != 0)
        return -1;
      rt_damage_area(run->damage, sc->x, sc->y, sc->w, sc->h);
    }
    double slice = vu_mono() + 0.05; /* the abort flag is looked at between slices */
    int changed = 0;
    int quiet_now =
        rt_damage_wait(run->damage, first, quiet, slice < hard ? slice : hard, &changed);
    list = changed;
    if (quiet_now && !changed)
      return 1;
    if (vu_mono() >= hard || run->abort)
      return 0;
  }
}

/* Without the DAMAGE extension: captures until the scene's pixels stay the same. */
static int settle_compare(rt_run *run, Window target, rt_scene *sc, bool look, char *err, size_t n)
{
  double quiet = run->mode == RT_MODE_RECORD && !look ? RT_SETTLE_QUIET_RECORD : RT_SETTLE_QUIET;
  double start = vu_mono(), quiet_since = start;
  uint64_t last = 0;
  bool have = false;
  for (;;) {
    rt_scene_free(sc);
    if (rt_scene_list(run, target, sc, err, n) != 0 || rt_scene_grab(run, sc, false, err, n) != 0)
      return -1;
    double now = vu_mono();
    if (!have || sc->hash != last)
      quiet_since = now;
    have = true;
    last = sc->hash;
    if (now - quiet_since >= quiet)
      return 1;
    if (now - start >= (look ? RT_OBSERVE_MAX : RT_SETTLE_MAX) || run->abort)
      return 0;
    rt_sleep(run, 0.025);
  }
}

/* Until the application of run->appq has read everything, or `until` (or, for a step,
 * the run is aborted). */
static void read_until(rt_run *run, double until, bool step)
{
  while (run->appq && rt_appq_unread(run->appq) > 0 && vu_mono() < until && !(step && run->abort))
    rt_sleep(step ? run : NULL, 0.005);
}

/* Waits until the target's client has read what the X server sent it, the robot's input
 * among it (xio/appq.h): until then its windows show the screen from before the input,
 * and a look or an input on top of it would be judged or read in a state nobody saw. At
 * most RT_SETTLE_READ_MAX; a client it cannot see (remote, another user's) is not waited
 * for. Returns the milliseconds waited. */
static double wait_read(rt_run *run, Window target, double max)
{
  if (run->appq_win != target) {
    rt_appq_free(run->appq);
    run->appq = rt_appq_new(run->dpy, target);
    run->appq_win = target;
  }
  double t0 = vu_mono();
  read_until(run, t0 + max, true);
  return (vu_mono() - t0) * 1000.0;
}

void rt_step_drain(rt_run *run, double max)
{
  if (!run->dpy || !run->appq)
    return;
  double until = vu_mono() + max;
  read_until(run, until, false);
  if (run->damage) /* its answer drawn: the quiet period began with the last input */
    rt_damage_wait(run->damage, 0.040, RT_SETTLE_DAMAGE_QUIET, until, NULL);
}

/* Settles (`look`: an observer's, bounded by RT_OBSERVE_MAX) and captures the scene with
 * its image. *settled: within the bound; *read_ms: how long the application took to read
 * its input; *tc: when the capture began (after the waiting). 0, or -1 + err. */
static int settled_look(rt_run *run, Window target, rt_scene *sc, bool look, bool *settled,
                        double *read_ms, double *tc, char *err, size_t n)
{
  *read_ms = wait_read(run, target, look ? RT_OBSERVE_MAX : RT_SETTLE_READ_MAX);
  int r = run->damage ? settle_damage(run, target, sc, look, err, n)
                      : settle_compare(run, target, sc, look, err, n);
  if (r < 0)
    return -1;
  *settled = r == 1;
  *tc = vu_mono();
  if (run->damage) { /* the windows as they are now, captured once */
    rt_scene_free(sc);
    if (rt_scene_list(run, target, sc, err, n) != 0 || rt_scene_grab(run, sc, false, err, n) != 0)
      return -1;
  }
  /* the settled look itself becomes the frame (its capture is still in the buffer) */
  return rt_scene_pix(sc, err, n);
}

int rt_step_observe(rt_run *run, Window target, rt_scene *sc, char *err, size_t n)
{
  bool settled;
  double read_ms, tc;
  memset(sc, 0, sizeof *sc);
  if (settled_look(run, target, sc, true, &settled, &read_ms, &tc, err, n) != 0) {
    rt_scene_free(sc);
    return -1;
  }
  return 0;
}

/* One step's look: settled, then the scene listed, captured as an image and described.
 * *cap_ms: what the judged look cost (listing, capturing, converting, describing),
 * waiting excluded; *read_ms: how long the application took to read its input. */
static int settle(rt_run *run, Window target, rt_scene *sc, bool *settled, double *cap_ms,
                  double *read_ms, char *err, size_t n)
{
  double tc;
  if (settled_look(run, target, sc, false, settled, read_ms, &tc, err, n) != 0)
    return -1;
  rt_scene_describe(run, sc);
  *cap_ms = (vu_mono() - tc) * 1000.0;
  return 0;
}

/* Finds t->text on the judged frame; *x, *y window-relative (dx/dy applied). scope: -1
 * anywhere in the scene, else only inside that scene window. Returns an RT_OCR_ code;
 * msg says why when not RT_OCR_OK. */
static int locate(rt_run *run, const rt_scene *sc, const rt_target *t, int scope, int *x, int *y,
                  char *msg, size_t n)
{
  char err[2048];
  rt_ocr *ocr = rt_ocr_get(run, err, sizeof err);
  if (!ocr) {
    snprintf(msg, n, "OCR: %.1500s", err);
    return RT_OCR_ERROR;
  }
  char bad[8];
  if (rt_ocr_unreadable(ocr, t->text, bad, sizeof bad)) {
    snprintf(msg, n,
             "text '%.200s' cannot be found by OCR: the models (%s) cannot produce "
             "'%s'; find it by its position, or by a label beside it (dx, dy)",
             t->text, rt_ocr_langs(ocr), bad);
    return RT_OCR_ERROR;
  }
  int ox = sc->x - sc->win[0].x, oy = sc->y - sc->win[0].y; /* frame -> window */
  rt_ocr_find_opts fo = t->find;
  rt_ocr_opts ro = {.hint = t->text};
  if (scope >= 0) {
    const rt_scene_win *w = &sc->win[scope];
    rt_ocr_box sb = {w->x - sc->win[0].x, w->y - sc->win[0].y, w->w, w->h};
    if (fo.has_region) { /* both: their intersection */
      int x0 = fo.region.x > sb.x ? fo.region.x : sb.x,
          y0 = fo.region.y > sb.y ? fo.region.y : sb.y;
      int x1 = fo.region.x + fo.region.w < sb.x + sb.w ? fo.region.x + fo.region.w : sb.x + sb.w;
      int y1 = fo.region.y + fo.region.h < sb.y + sb.h ? fo.region.y + fo.region.h : sb.y + sb.h;
      sb = (rt_ocr_box){x0, y0, x1 > x0 ? x1 - x0 : 0, y1 > y0 ? y1 - y0 : 0};
    }
    fo.has_region = 1;
    fo.region = sb;
  }
  if (fo.has_region) {
    ro.has_region = 1;
    ro.region = (rt_ocr_box){fo.region.x - ox, fo.region.y - oy, fo.region.w, fo.region.h};
  }
  rt_ocr_match m;
  int rc = RT_OCR_NOT_FOUND, late = 1;
  /* a reading cut short by its deadline (a loaded machine) is no proof of absence: read
   * what was cut short again, with more time (such blobs are not cached) */
  for (int k = 0; rc == RT_OCR_NOT_FOUND && late && k < 3; k++) {
    ro.deadline_ms = 1000 << (2 * k);
    rt_ocr_result res;
    if (rt_ocr_words(ocr, sc->frame, &ro, &res, err, sizeof err) != RT_OCR_OK) {
      snprintf(msg, n, "OCR: %.1500s", err);
      return RT_OCR_ERROR;
    }
    for (size_t i = 0; i < res.n; i++) { /* window-relative, as scripts count */
      res.words[i].box.x += ox;
      res.words[i].box.y += oy;
    }
    if (scope < 0)
      rt_scene_drop_behind(sc, &res);
    late = res.timed_out;
    rc = rt_ocr_find(&res, t->text, &fo, &m, err, sizeof err);
    rt_ocr_result_free(&res);
  }
  if (rc != RT_OCR_OK) {
    snprintf(msg, n, "%s", err);
    return rc;
  }
  if (m.tier >= 3 && run->mode == RT_MODE_RECORD) /* what the screen shows is not quoted */
    rt_log(run,
           "vagt: note: text '%.200s' was found with OCR slips tolerated, at (%d,%d) %dx%d: "
           "check that the recording acted on the element meant (a longer caption that "
           "begins alike is found too), or narrow it with region or near",
           t->text, m.box.x, m.box.y, m.box.w, m.box.h);
  int ax = t->anchor == RT_ANCHOR_LEFT    ? m.box.x
           : t->anchor == RT_ANCHOR_RIGHT ? m.box.x + m.box.w - 1
                                          : m.cx;
  *x = ax + t->dx;
  *y = m.cy + t->dy;
  return RT_OCR_OK;
}

/* ---- input ---- */

static int pointer_to(rt_run *run, const rt_scene *sc, int x, int y, char *err, size_t n)
{
  if (rt_scene_window_at(sc, x, y) < 0) {
    snprintf(err, n, "(%d,%d) is outside the window (%dx%d) and its pop-ups", x, y, sc->win[0].w,
             sc->win[0].h);
    return -1;
  }
  rt_x_trap_begin(run->dpy);
  xdo_move_mouse(run->xdo, sc->win[0].x + x, sc->win[0].y + y, DefaultScreen(run->dpy));
  XSync(run->dpy, False);
  rt_x_trap_end(run->dpy, NULL);
  return 0;
}

/* A window manager that focuses on click holds the pointer in a synchronous grab until it
 * has looked at the press, then lets it through: until then the server's pointer still
 * shows the button down, and keys sent meanwhile would reach the application before the
 * click that chose the field. Waits (bounded) until the release has been delivered. */
static void wait_delivered(rt_run *run, int b)
{
  unsigned bit = b >= 1 && b <= 5 ? (Button1Mask << (b - 1)) : 0;
  double until = vu_mono() + 2.0;
  for (;;) {
    Window root, child;
    int rx, ry, wx, wy;
    unsigned mask = 0;
    if (!XQueryPointer(run->dpy, DefaultRootWindow(run->dpy), &root, &child, &rx, &ry, &wx, &wy,
                       &mask) ||
        !(mask & bit) || vu_mono() >= until)
      return;
    rt_sleep(NULL, 0.002);
  }
}

static int button(rt_run *run, int b, bool down, char *err, size_t n)
{
  rt_x_trap_begin(run->dpy);
  if (down)
    xdo_mouse_down(run->xdo, CURRENTWINDOW, b);
  else
    xdo_mouse_up(run->xdo, CURRENTWINDOW, b);
  XSync(run->dpy, False);
  if (rt_x_trap_end(run->dpy, NULL)) {
    snprintf(err, n, "button %d %s failed", b, down ? "press" : "release");
    return -1;
  }
  if (down)
    run->buttons_held |= 1u << b;
  else
    run->buttons_held &= ~(1u << b);
  if (!down)
    wait_delivered(run, b);
  return 0;
}

/* Lets the application see the motion (hover, enter) before a button. */
static void pause_ms(int ms)
{
  rt_sleep(NULL, ms / 1000.0);
}

typedef struct {
  int x, y, x2, y2; /* where (window-relative) */
  int level, npath; /* menu: this level (1-based) of npath */
} input_at;

static int send_input(rt_run *run, const rt_action *a, const rt_scene *sc, const input_at *p,
                      char *err, size_t n)
{
  switch (a->kind) {
    case RT_ACT_TYPE:
    case RT_ACT_KEY: {
      /* keys reach the window judged, or stop (keywatch.h) */
      rt_keywatch kw;
      if (a->kind == RT_ACT_TYPE) /* data wherever it shows again (the guard's looks) */
        rt_note_typed(run, a->text);
      rt_keywatch_begin(&kw, run->dpy, a->win, a->kind == RT_ACT_TYPE, a->popups);
      rt_input_set_watch(run->input, rt_keywatch_check, &kw);
      int r = a->kind == RT_ACT_TYPE
                  ? rt_input_type(run->input, a->text, RT_INPUT_DELAY_DEFAULT, err, n)
                  : rt_input_keys(run->input, a->keys, err, n);
      rt_input_set_watch(run->input, NULL, NULL);
      rt_keywatch_end(&kw);
      return r;
    }
    case RT_ACT_CLICK:
      if (pointer_to(run, sc, p->x, p->y, err, n))
        return -1;
      pause_ms(20);
      for (int i = 0; i < a->count; i++)
        if (button(run, a->button, true, err, n) || button(run, a->button, false, err, n))
          return -1;
      return 0;
    case RT_ACT_PRESS:
      if (a->at.given && pointer_to(run, sc, p->x, p->y, err, n))
        return -1;
      pause_ms(20);
      return button(run, a->button, true, err, n);
    case RT_ACT_RELEASE:
      if (a->at.given && pointer_to(run, sc, p->x, p->y, err, n))
        return -1;
      pause_ms(20);
      return button(run, a->button, false, err, n);
    case RT_ACT_MOVE: return pointer_to(run, sc, p->x, p->y, err, n);
    case RT_ACT_DRAG: {
      if (pointer_to(run, sc, p->x, p->y, err, n))
        return -1;
      pause_ms(20);
      if (button(run, a->button, true, err, n))
        return -1;
      for (int i = 1; i <= 8; i++) { /* in steps: toolkits track the motion */
        pause_ms(15);
        int x = p->x + (p->x2 - p->x) * i / 8, y = p->y + (p->y2 - p->y) * i / 8;
        if (rt_scene_window_at(sc, x, y) >= 0 && pointer_to(run, sc, x, y, err, n))
          break;
      }
      pause_ms(20);
      return button(run, a->button, false, err, n);
    }
    case RT_ACT_MENU:
      /* open on press, walk with the button held, act on release: what Xaw menus need,
     * and Motif, Tk and Swing menus do the same */
      if (pointer_to(run, sc, p->x, p->y, err, n))
        return -1;
      pause_ms(20);
      if (p->npath == 1) {
        if (button(run, 1, true, err, n))
          return -1;
        return button(run, 1, false, err, n);
      }
      if (p->level == 1)
        return button(run, 1, true, err, n);
      if (p->level < p->npath)
        return 0;
      pause_ms(30);
      return button(run, 1, false, err, n);
    case RT_ACT_LOOK: return 0; /* no input */
    case RT_ACT_N: break;
  }
  snprintf(err, n, "unknown action");
  return -1;
}

/* After a halt or a failure with a button held (inside a menu walk): let it go where no
 * window of the scene is, so the menu closes without acting. Left held when the scene
 * covers the whole screen. */
static void release_safely(rt_run *run, const rt_scene *sc)
{
  if (!run->buttons_held)
    return;
  Screen *scr = DefaultScreenOfDisplay(run->dpy);
  int pts[4][2] = {{0, 0},
                   {WidthOfScreen(scr) - 1, 0},
                   {0, HeightOfScreen(scr) - 1},
                   {WidthOfScreen(scr) - 1, HeightOfScreen(scr) - 1}};
  for (int k = 0; k < 4; k++) {
    bool free = true;
    for (size_t i = 0; sc && i < sc->nstack && free; i++) {
      const rt_xtop *o = &sc->stack[i];
      free = !(pts[k][0] >= o->x && pts[k][1] >= o->y && pts[k][0] < o->x + o->w &&
               pts[k][1] < o->y + o->h);
    }
    if (!free)
      continue;
    rt_x_trap_begin(run->dpy);
    xdo_move_mouse(run->xdo, pts[k][0], pts[k][1], DefaultScreen(run->dpy));
    XSync(run->dpy, False);
    rt_x_trap_end(run->dpy, NULL);
    pause_ms(30);
    char err[128];
    for (int b = 1; b <= 5; b++)
      if (run->buttons_held & (1u << b))
        button(run, b, false, err, sizeof err);
    rt_log(run, "vagt: released the held mouse button away from the application's windows");
    return;
  }
}

/* ---- one step ---- */

static void describe(const rt_action *a, const input_at *p, const char *entry, char *buf, size_t n)
{
  switch (a->kind) {
    case RT_ACT_TYPE: {
      /* What is typed may be a citizen's data or a secret: only its length is kept, in
       * characters (as a halt part-way counts them) */
      snprintf(buf, n, "%zu characters", vu_utf8_chars(a->text, strlen(a->text)));
      break;
    }
    case RT_ACT_KEY: snprintf(buf, n, "%s", a->keys); break;
    case RT_ACT_LOOK: snprintf(buf, n, "after the last step"); break;
    case RT_ACT_MENU: snprintf(buf, n, "'%s' at (%d,%d)", entry, p->x, p->y); break;
    case RT_ACT_DRAG: snprintf(buf, n, "(%d,%d) to (%d,%d)", p->x, p->y, p->x2, p->y2); break;
    case RT_ACT_RELEASE:
      if (!a->at.given) {
        snprintf(buf, n, "button %d", a->button);
        break;
      }
      /* fall through */
    default:
      snprintf(buf, n, "(%d,%d)%s%s%s", p->x, p->y, a->count > 1 ? " double" : "",
               a->at.text ? " at '" : "", a->at.text ? a->at.text : "");
      if (a->at.text)
        strncat(buf, "'", n - strlen(buf) - 1);
  }
}

/* Appends the step to the run's step log (before its input: a run killed right after the
 * input still shows the step). Returns its number, 0 when not logged. */
static size_t save_log(rt_run *run, const rt_steprec *rec)
{
  if (!run->steps)
    return 0;
  char err[512];
  /* an error text may quote what the script gave (a key name that was a secret) */
  char *reason = rec->reason ? rt_redact(run, rec->reason) : NULL;
  rt_steprec r = *rec;
  if (reason)
    r.reason = reason;
  size_t n = rt_steplog_add(run->steps, &r, err, sizeof err);
  free(reason);
  if (!n)
    rt_log(run, "vagt: %s", err);
  return n;
}

static bool has_point(const rt_action *a)
{
  return a->kind == RT_ACT_CLICK || a->kind == RT_ACT_MOVE || a->kind == RT_ACT_DRAG ||
         a->kind == RT_ACT_MENU ||
         ((a->kind == RT_ACT_PRESS || a->kind == RT_ACT_RELEASE) && a->at.given);
}

static void copy_out(rt_steprec *rec, const rt_guard_out *out)
{
  rec->verdict = out->verdict;
  rec->reasons = out->reasons;
  rec->nreasons = out->nreasons;
  for (int i = 0; i < 3; i++)
    rec->evidence[i] = out->evidence[i];
}

/* What an action aims at, to tell whether two actions under one key are the same: its
 * text or point (a menu level: its entry), its keys; typing aims at whatever has focus. */
static void target_sig(const rt_action *a, int level, char *out, size_t n)
{
  const rt_target *t = &a->at;
  if (level)
    snprintf(out, n, "entry:%.200s", a->path[level - 1]);
  else if (a->kind == RT_ACT_KEY)
    snprintf(out, n, "keys:%.200s", a->keys ? a->keys : "");
  else if (a->kind == RT_ACT_TYPE)
    snprintf(out, n, "type");
  else if (t->given && t->text)
    snprintf(out, n, "text:%.200s%+d%+d", t->text, t->dx, t->dy);
  else if (t->given)
    snprintf(out, n, "at:%d,%d", t->x, t->y);
  else
    snprintf(out, n, "-");
}

/* Has this step key named another action earlier in the run (another script line and
 * another target)? Then an action before it ran in one iteration and not in another (an
 * `if` inside the step), and the key means two things: recording stops (its fingerprint
 * would merge two screens); a run says so once. Returns 1 with res->msg when the step
 * must fail. */
static int key_moved(rt_run *run, const char *key, const rt_action *a, int level, bool in_step,
                     rt_step_result *res)
{
  const char *file = a->file ? a->file : "?";
  char sig[256];
  target_sig(a, level, sig, sizeof sig);
  for (size_t i = 0; i < run->nkeylines; i++) {
    struct rt_keyline *k = &run->keylines[i];
    if (strcmp(k->key, key))
      continue;
    if (!in_step && strcmp(k->sig, sig) && !k->told && run->mode == RT_MODE_RECORD) {
      rt_log(run,
             "vagt: note: the action at %s:%d runs outside robot.step with another "
             "target each time (a loop?): all of them share the key '%.500s' and one "
             "baseline; wrap the body in robot.step",
             file, a->line, key);
      k->told = true;
    }
    if ((k->line == a->line && !strcmp(k->file, file)) || !strcmp(k->sig, sig))
      return 0;
    char msg[2048];
    snprintf(msg, sizeof msg,
             "step key '%.1000s' named the action at %s:%d and now another one at %s:%d: an "
             "action before it in the step ran in one iteration and not in another; give "
             "the conditional action its own name (key = \"...\")",
             key, k->file, k->line, file, a->line);
    if (run->mode == RT_MODE_RECORD) {
      snprintf(res->msg, sizeof res->msg, "%.2000s", msg);
      return 1;
    }
    if (!k->told)
      rt_log(run, "vagt: warning: %s", msg);
    k->told = true;
    return 0;
  }
  struct rt_keyline *n = realloc(run->keylines, (run->nkeylines + 1) * sizeof *n);
  if (!n)
    return 0;
  run->keylines = n;
  struct rt_keyline *k = &n[run->nkeylines];
  *k = (struct rt_keyline){strdup(key), strdup(file), strdup(sig), a->line, false};
  if (k->key && k->file && k->sig) {
    run->nkeylines++;
    if (!in_step && run->mode == RT_MODE_RECORD)
      rt_log(run,
             "vagt: note: the action at %s:%d runs outside robot.step: its key "
             "'%.500s' changes when lines move",
             file, a->line, key);
  } else {
    free(k->key);
    free(k->file);
    free(k->sig);
  }
  return 0;
}

/* One step from its look to its input: the state its phases share (one_step below). */
typedef struct {
  rt_run *run;
  const rt_action *a;
  const rt_guard *g;
  int level;
  const char *base;  /* the script's file name */
  const char *entry; /* the menu entry of this level, or NULL */
  char kind[32], key[1024], detail[512], err[2048];
  rt_steprec rec; /* the step log's line (points into this struct) */
  rt_target at;   /* where the input goes: a point or a text */
  input_at p;     /* ... located */
  rt_scene sc;
  rt_stepinfo si;
  rt_guard_out out;
  rt_step_status st;
  bool part_sent; /* the input was stopped part-way (not before it began) */
  int rc;         /* 0, -1 an error, -2 a target not found, RT_INPUT_STOPPED (-3) keys stopped */
} step_ctx;

/* The step's kind ("click", "menu.2") and key (its place in the baseline). */
static void step_key(step_ctx *c, const char *stepname, int ordinal)
{
  const rt_action *a = c->a;
  if (c->level)
    snprintf(c->kind, sizeof c->kind, "menu.%d", c->level);
  else
    snprintf(c->kind, sizeof c->kind, "%s", rt_act_name(a->kind));
  const char *base = c->base;
  if (a->name)
    snprintf(c->key, sizeof c->key, "%s#%s:%s",
             stepname ? stepname
             : base   ? base
                      : "?",
             a->name, c->kind);
  else if (rt_stepkey(c->key, sizeof c->key, stepname, ordinal, base, a->line, c->kind) < 0)
    snprintf(c->key, sizeof c->key, "%s:%d:%s", base ? base : "?", a->line, c->kind);
}

/* Before the first look: the window's scene, its focus for keys, the pointer parked. A
 * posted menu and a held button are left alone: re-focusing the window or moving the
 * pointer aside would close the menu. -1: the scene could not be listed. */
static int before_look(step_ctx *c)
{
  rt_run *run = c->run;
  const rt_action *a = c->a;
  if (rt_scene_list(run, a->win, &c->sc, c->err, sizeof c->err) != 0)
    return -1;
  if (!run->buttons_held && !c->sc.app_popup) {
    if ((a->kind == RT_ACT_TYPE || a->kind == RT_ACT_KEY) && !rt_x_has_focus(run->dpy, a->win))
      c->rc = rt_x_activate(run->dpy, run->xdo, run->ewmh, a->win, 2.0, c->err, sizeof c->err);
    rt_winfo wi = {.id = a->win,
                   .x = c->sc.win[0].x,
                   .y = c->sc.win[0].y,
                   .w = c->sc.win[0].w,
                   .h = c->sc.win[0].h};
    if (c->rc == 0)
      rt_x_pointer_park(run->dpy, run->xdo, &wi);
  }
  return 0;
}

/* The guard's verdict on a settled look (replay): 0 go on, 1 look again (a grace period
 * for a screen still changing), -1 stop (c->st or c->rc say why). */
static int judge(step_ctx *c, double *grace_until)
{
  rt_run *run = c->run;
  double tg = vu_mono();
  rt_guard_verdict v = c->g->check(c->g->ud, run, &c->si, false, &c->out);
  if (v == RT_GUARD_DRIFT && !*grace_until)
    *grace_until = vu_mono() + grace_secs();
  if (v == RT_GUARD_DRIFT && vu_mono() >= *grace_until)
    v = c->g->check(c->g->ud, run, &c->si, true, &c->out); /* explains, keeps evidence: HALT */
  c->rec.t_guard = (vu_mono() - tg) * 1000.0;
  copy_out(&c->rec, &c->out);
  if (v == RT_GUARD_DRIFT && !run->abort) {
    rt_sleep(run, GRACE_POLL);
    return 1;
  }
  if (v == RT_GUARD_DRIFT) { /* a deadline or an interrupt during the grace period */
    c->st = RT_STEP_STOPPED;
    return -1;
  }
  if (v == RT_GUARD_HALT) {
    rt_run_abort(run, RT_ABORT_DRIFT, "halted on UI drift at step '%s' (%s:%d): %s", c->key,
                 c->base ? c->base : "?", c->a->line, c->out.reason);
    c->rec.verdict = "drift";
    c->rec.reason = c->out.reason;
    c->st = RT_STEP_STOPPED;
    return -1;
  }
  if (v == RT_GUARD_ERROR) {
    snprintf(c->err, sizeof c->err, "%s", c->out.reason);
    c->rc = -1;
    return -1;
  }
  return 0;
}

/* The input's points on the judged look: given, or a text located by OCR. 0 located, 1
 * look again (a text not shown yet), -1 an error or a text not found (c->rc, c->err). */
static int locate_input(step_ctx *c, double look_until)
{
  rt_run *run = c->run;
  const rt_action *a = c->a;
  if (!c->at.text) {
    c->p.x = c->at.x;
    c->p.y = c->at.y;
  } else {
    /* a menu's later levels are in its newest pop-up, or in the window itself when the
     * toolkit draws its menus there (Swing's lightweight pop-ups) */
    int level = c->level;
    bool in_popup = (level > 1 && rt_scene_newest_popup(&c->sc) >= 0) || c->at.popup;
    int scope = level == 1 ? 0 : in_popup ? rt_scene_newest_popup(&c->sc) : -1;
    int lr = in_popup && scope < 0
                 ? RT_OCR_NOT_FOUND
                 : locate(run, &c->sc, &c->at, scope, &c->p.x, &c->p.y, c->err, sizeof c->err);
    if (lr == RT_OCR_NOT_FOUND && vu_mono() < look_until && !run->abort) {
      rt_sleep(run, LOCATE_POLL);
      return 1;
    }
    if (lr != RT_OCR_OK) {
      char m[2300];
      if (lr == RT_OCR_NOT_FOUND)
        snprintf(m, sizeof m, "%s '%s' not found within %.1f s%s", level ? "menu entry" : "text",
                 c->at.text, a->timeout, in_popup && scope < 0 ? ": no pop-up is open" : "");
      else
        snprintf(m, sizeof m, "%s", c->err);
      snprintf(c->err, sizeof c->err, "%.2000s", m);
      c->rc = -2;
      return -1;
    }
  }
  if (a->kind == RT_ACT_DRAG) {
    if (!a->to.text) {
      c->p.x2 = a->to.x;
      c->p.y2 = a->to.y;
    } else if (locate(run, &c->sc, &a->to, -1, &c->p.x2, &c->p.y2, c->err, sizeof c->err) !=
               RT_OCR_OK) {
      c->rc = -2;
      return -1;
    }
  }
  return 0;
}

/* Look until the window is settled, judged and the input's target located (or not). */
static void look(step_ctx *c)
{
  rt_run *run = c->run;
  double t = vu_mono(), look_until = t + (c->at.text ? c->a->timeout : 0), grace_until = 0;
  while (c->rc == 0) {
    double read_ms = 0;
    if (settle(run, c->a->win, &c->sc, &c->rec.settled, &c->rec.t_capture, &read_ms, c->err,
               sizeof c->err) != 0) {
      c->rc = -1;
      return;
    }
    c->rec.t_settle = (vu_mono() - t) * 1000.0;
    c->rec.t_read += read_ms; /* every look of the step (a grace period looks again) */
    c->rec.cap_w = c->sc.win[0].w;
    c->rec.cap_h = c->sc.win[0].h;
    c->rec.cap_hash = c->sc.hash;
    c->rec.wclass = c->sc.win[0].cls;
    if (run->mode != RT_MODE_RECORD) {
      int j = judge(c, &grace_until);
      if (j > 0)
        continue;
      if (j < 0)
        return;
    }
    if (!has_point(c->a) && !c->level)
      return;
    if (locate_input(c, look_until) > 0)
      continue;
    return;
  }
}

/* Recording: the look after it was located is the one recorded (and checked against a
 * baseline being extended). */
static void judge_recording(step_ctx *c)
{
  rt_run *run = c->run;
  double tg = vu_mono();
  rt_guard_verdict v = c->g->check(c->g->ud, run, &c->si, true, &c->out);
  c->rec.t_guard = (vu_mono() - tg) * 1000.0;
  copy_out(&c->rec, &c->out);
  if (v == RT_GUARD_HALT) {
    rt_run_abort(run, RT_ABORT_DRIFT, "halted at step '%s' (%s:%d): %s", c->key,
                 c->base ? c->base : "?", c->a->line, c->out.reason);
    c->rec.reason = c->out.reason;
    c->st = RT_STEP_STOPPED;
  } else if (v == RT_GUARD_ERROR) {
    snprintf(c->err, sizeof c->err, "%s", c->out.reason);
    c->rc = -1;
  }
}

/* Whether the windows on the screen (mapped, unmapped, moved, resized, restacked) differ
 * from the judged look's: a dialog that opened while the look was judged or its text
 * located (OCR takes a while) would take the input unseen. what (may be NULL) says how. */
static bool windows_moved(rt_run *run, const rt_scene *sc, char *what, size_t n)
{
  rt_xtop *st = NULL;
  size_t ns = 0;
  if (rt_x_stack(run->dpy, &st, &ns) != 0) {
    if (what)
      snprintf(what, n, "the windows could not be listed");
    return true;
  }
  bool moved = ns != sc->nstack;
  for (size_t i = 0; i < ns && !moved; i++) {
    const rt_xtop *a = &st[i], *b = &sc->stack[i];
    moved = a->top != b->top || a->x != b->x || a->y != b->y || a->w != b->w || a->h != b->h;
  }
  if (moved && what) {
    snprintf(what, n, "the windows moved, went or were restacked");
    for (size_t i = ns; i-- > 0;) { /* the front-most window the look did not have */
      bool known = false;
      for (size_t k = 0; k < sc->nstack && !known; k++)
        known = sc->stack[k].top == st[i].top;
      if (!known) {
        char w[300];
        rt_x_top_words(run->dpy, st[i].top, st[i].popup, w, sizeof w);
        snprintf(what, n, "a new window opened (%s)", w);
        break;
      }
    }
  }
  free(st);
  return moved;
}

/* The judged step's log line, then its input. Returns the log line's handle (to amend
 * when the input failed). */
static size_t send_step(step_ctx *c, double t0)
{
  rt_run *run = c->run;
  const rt_action *a = c->a;
  c->rec.t_total = (vu_mono() - t0) * 1000.0;
  size_t logged = save_log(run, &c->rec);
  if (a->kind == RT_ACT_LOOK) /* judged, and nothing to send */
    return logged;
  double t = vu_mono();
  /* the next step's quiet period begins with this input: what the application draws in
   * answer to it, from the first key on, counts */
  if (run->damage)
    rt_damage_reset(run->damage);
  if (run->input_gate) {
    char where[160];
    snprintf(where, sizeof where, "%s:%d", a->file ? a->file : "?", a->line);
    c->rc = run->input_gate(run, run->input_gate_ud, where, c->err, sizeof c->err);
  }
  /* tests: the time a fleet's gate or a loaded machine may take between look and input */
  const char *pause = getenv("VAGT_TEST_INPUT_DELAY_MS");
  if (pause && c->rc == 0)
    rt_sleep(run, atoi(pause) / 1000.0);
  char what[400];
  if (c->rc == 0 && windows_moved(run, &c->sc, what, sizeof what)) {
    /* after the look's last check (the fleet's gate takes a while): too late to look again */
    snprintf(c->err, sizeof c->err, "%s after the step was judged; its input was not sent", what);
    c->rc = RT_INPUT_STOPPED;
  }
  if (c->rc == 0) {
    c->rc = send_input(run, a, &c->sc, &c->p, c->err, sizeof c->err);
    c->part_sent = c->rc == RT_INPUT_STOPPED;
  }
  XSync(run->dpy, False); /* a round trip: the server has handled the input */
  c->rec.t_input = (vu_mono() - t) * 1000.0;
  if (run->steps && c->rc == 0)
    rt_steplog_input(run->steps, c->rec.t_input);
  if (c->rc == 0 || c->part_sent) { /* the end look looks at the last input's window */
    run->last_win = a->win;
    snprintf(run->last_file, sizeof run->last_file, "%s", a->file ? a->file : "");
    run->last_line = a->line;
  }
  if (c->g->after)
    c->g->after(c->g->ud, run, &c->si, c->rc);
  return logged;
}

/* A step that failed: the evidence of what the window showed, and the message. */
static void step_failed(step_ctx *c, rt_step_result *res)
{
  if (c->sc.frame && c->g->failed) {
    memset(&c->out, 0, sizeof c->out);
    c->g->failed(c->g->ud, c->run, &c->si, &c->out);
    for (int i = 0; i < 3; i++)
      c->rec.evidence[i] = c->out.evidence[i];
    if (c->out.labels[0]) {
      size_t l = strlen(c->err);
      snprintf(c->err + l, sizeof c->err - l, "; the window's labels as recorded: %s",
               c->out.labels);
    }
    if (c->out.evidence[1]) {
      size_t l = strlen(c->err);
      snprintf(c->err + l, sizeof c->err - l, " (what it showed: %s)", c->out.evidence[1]);
    }
  }
  c->rec.verdict = "error";
  c->rec.reason = c->err;
  if (c->st == RT_STEP_OK)
    c->st = RT_STEP_FAILED;
  snprintf(res->msg, sizeof res->msg, "%s (step %s): %s", c->kind, c->key, c->err);
}

/* The step's input was stopped before or part-way (a window opened, the focus moved): a
 * halt on drift, the screen as it is now for evidence, the step's line amended. */
static void halt_in_input(step_ctx *c, size_t logged)
{
  rt_run *run = c->run;
  char *reason = rt_redact(run, c->err);
  const char *why = reason ? reason : "the typing was stopped";
  rt_run_abort(run, RT_ABORT_DRIFT, "halted on UI drift at step '%s' (%s:%d): %s", c->key,
               c->base ? c->base : "?", c->a->line, why);
  run->halted_in_input = c->part_sent;
  rt_scene now = {0};
  bool settled = false;
  double cap_ms = 0, read_ms = 0;
  char err[256];
  memset(&c->out, 0, sizeof c->out);
  if (c->g->stopped && rt_scene_list(run, c->a->win, &now, err, sizeof err) == 0 &&
      settle(run, c->a->win, &now, &settled, &cap_ms, &read_ms, err, sizeof err) == 0 &&
      now.frame) {
    rt_stepinfo si = c->si;
    si.scene = &now;
    c->g->stopped(c->g->ud, run, &si, why, &c->out);
  }
  /* the step's record now says what stopped it (its reasons were the guard's, renewed) */
  copy_out(&c->rec, &c->out);
  c->rec.verdict = "drift";
  if (logged && run->steps)
    rt_steplog_amend_drift(run->steps, logged, why, c->out.evidence, c->rec.t_input);
  rt_scene_free(&now);
  free(reason);
  c->rc = 0;
  c->st = RT_STEP_STOPPED;
}

/* One step: name it, look (settle, judge, locate), then send its input; or stop. */
static rt_step_status one_step(rt_run *run, const rt_action *a, int ordinal, const char *stepname,
                               int level, rt_step_result *res)
{
  double t0 = vu_mono();
  step_ctx cx = {.run = run, .a = a, .g = run->guard ? run->guard : &rt_guard_none, .level = level};
  step_ctx *c = &cx;
  c->base = a->file ? strrchr(a->file, '/') : NULL;
  c->base = c->base ? c->base + 1 : a->file;
  step_key(c, stepname, ordinal);
  if (key_moved(run, c->key, a, level, stepname != NULL || a->name != NULL, res))
    return RT_STEP_FAILED;
  c->rec = (rt_steprec){.key = c->key,
                        .kind = c->kind,
                        .name = stepname,
                        .ordinal = ordinal,
                        .file = a->file,
                        .line = a->line,
                        .window = a->win,
                        .detail = c->detail};
  c->at = a->at;
  if (level) {
    c->entry = a->path[level - 1];
    c->at = (rt_target){.given = true, .text = c->entry, .find = {.whole_entry = 1}};
  }
  c->p = (input_at){.level = level,
                    .npath = a->npath,
                    .x = c->at.x,
                    .y = c->at.y,
                    .x2 = a->to.x,
                    .y2 = a->to.y}; /* points given by the script; a text is located later */
  c->si =
      (rt_stepinfo){++run->nlooks, c->key, c->kind, stepname, ordinal, a->file, a->line, &c->sc, a};
  c->st = RT_STEP_OK;
  if (before_look(c) != 0) {
    snprintf(res->msg, sizeof res->msg, "%.31s: %.2000s", c->kind, c->err);
    return RT_STEP_FAILED;
  }
  for (int again = 0;; again++) {
    look(c);
    if (c->rc == 0 && c->st == RT_STEP_OK && run->mode == RT_MODE_RECORD && !run->abort)
      judge_recording(c);
    if (c->rc != 0 || c->st != RT_STEP_OK || run->abort || !windows_moved(run, &c->sc, NULL, 0))
      break;
    if (run->mode == RT_MODE_RECORD || again == 4) {
      snprintf(c->err, sizeof c->err,
               "the windows changed between the step's look and its input%s; nothing was sent",
               run->mode == RT_MODE_RECORD ? " while it was recorded (record again)"
                                           : ", five looks in a row");
      c->rc = -1;
      break;
    }
    /* the judged look is out of date: look again (the guard judges the new window) */
    rt_log(run, "vagt: step '%s': the windows changed while it was judged: looking again", c->key);
  }
  describe(a, &c->p, c->entry, c->detail, sizeof c->detail);
  if (rt_holds_secret(run, c->detail)) /* a PIN sent with w:key, a secret looked for by text */
    snprintf(c->detail, sizeof c->detail, "(holds a secret: not kept)");
  size_t logged = 0;
  if (c->rc == 0 && c->st == RT_STEP_OK && run->abort == RT_ABORT_NONE)
    logged = send_step(c, t0);
  if (c->rc == RT_INPUT_STOPPED)
    halt_in_input(c, logged);
  if (run->abort != RT_ABORT_NONE && c->st == RT_STEP_OK)
    c->st = RT_STEP_STOPPED; /* a deadline or an interrupt during the look */
  if (c->rc != 0)
    step_failed(c, res);
  if (c->st != RT_STEP_OK)
    release_safely(run, &c->sc);
  if (logged && c->rc != 0 && run->steps) { /* the input itself failed */
    char *clean = rt_redact(run, c->err);
    rt_steplog_amend(run->steps, logged, clean ? clean : "(out of memory)", c->rec.t_input);
    free(clean);
  } else if (!logged) {
    c->rec.t_total = (vu_mono() - t0) * 1000.0;
    save_log(run, &c->rec);
  }
  rt_scene_free(&c->sc);
  return c->st;
}

/* Whether window w still exists. */
static bool window_exists(rt_run *run, Window w)
{
  rt_winfo wi;
  if (!rt_x_winfo(run->dpy, w, &wi))
    return false;
  rt_winfo_free(&wi, 1);
  return true;
}

rt_step_status rt_step_end_look(rt_run *run, rt_step_result *res)
{
  res->status = RT_STEP_OK;
  res->msg[0] = '\0';
  const rt_guard *g = run->guard;
  if (run->abort != RT_ABORT_NONE || !g || !run->last_win || !window_exists(run, run->last_win))
    return RT_STEP_OK;
  if (run->mode != RT_MODE_RECORD && g->has && !g->has(g->ud, RT_END_LOOK_KEY)) {
    rt_log(run, "vagt: note: the baseline has no look after the last step (recorded by an "
                "older vagt, or its window closed while it was recorded): not judged; "
                "recording again adds it");
    return RT_STEP_OK;
  }
  rt_action a = {.kind = RT_ACT_LOOK,
                 .win = run->last_win,
                 .file = run->last_file[0] ? run->last_file : NULL,
                 .line = run->last_line,
                 .name = "1"};
  rt_step_status st = one_step(run, &a, 1, "(end)", 0, res);
  if (st == RT_STEP_STOPPED && run->abort == RT_ABORT_DRIFT)
    run->end_drift = true;
  if (st == RT_STEP_FAILED && !window_exists(run, run->last_win)) {
    res->msg[0] = '\0'; /* the window went while it was looked at: an ending, not a fault */
    st = RT_STEP_OK;
  }
  return res->status = st;
}

rt_step_status rt_step_run(rt_run *run, const rt_action *a, rt_step_result *res)
{
  res->status = RT_STEP_OK;
  res->msg[0] = '\0';
  if (run->abort != RT_ABORT_NONE)
    return res->status = RT_STEP_STOPPED;
  rt_step_frame *fr = run->nframes ? &run->frames[run->nframes - 1] : NULL;
  if (fr && a->name) { /* a named action: its own key, once per invocation and kind */
    char nk[128];
    snprintf(nk, sizeof nk, "%s:%s", a->name, rt_act_name(a->kind));
    for (int i = 0; i < fr->nnames; i++)
      if (!strcmp(fr->names[i], nk)) {
        snprintf(res->msg, sizeof res->msg,
                 "two %s actions named '%s' in one invocation of step '%s': each key = "
                 "names one action",
                 rt_act_name(a->kind), a->name, fr->name);
        return res->status = RT_STEP_FAILED;
      }
    char **nn = realloc(fr->names, (size_t)(fr->nnames + 1) * sizeof *nn);
    if (nn && (nn[fr->nnames] = strdup(nk))) {
      fr->names = nn;
      fr->nnames++;
    } else if (nn) {
      fr->names = nn;
    }
  } else if (fr) {
    fr->ordinal++;
  }
  const char *name = fr ? fr->name : NULL;
  int ordinal = fr ? fr->ordinal : 0;
  if (a->kind != RT_ACT_MENU)
    return res->status = one_step(run, a, ordinal, name, 0, res);
  for (int level = 1; level <= a->npath; level++) {
    rt_step_status st = one_step(run, a, ordinal, name, level, res);
    if (st != RT_STEP_OK)
      return res->status = st;
  }
  return res->status = RT_STEP_OK;
}
