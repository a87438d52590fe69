#include "guard.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "runfolder.h"
#include "stepkey.h"
#include "xio/capture.h"
#include "xio/input.h"

static rt_guard_verdict record_check(void *ud, rt_run *run, const rt_stepinfo *s, PIX *img,
                                     rt_guard_out *out)
{
  (void)ud, (void)run, (void)s, (void)img;
  out->verdict = "seen";
  return RT_GUARD_GO;
}

const rt_guard rt_guard_record_only = {record_check, NULL, NULL};

/* Captures until the window's pixels stay the same for RT_SETTLE_QUIET, or RT_SETTLE_MAX
 * passes. Looks are hashed straight from the shared-memory frame; only the last one is
 * converted to an image. Returns it (owned by the caller) or NULL with err set. */
static PIX *settle(rt_run *run, Window w, bool *settled, uint64_t *hash, double *cap_ms,
                   char *err, size_t errlen)
{
  double start = rt_now(), quiet_since = start;
  uint64_t last_hash = 0;
  bool have = false;
  rt_frame f;
  *settled = false;
  for (;;) {
    double tc = rt_now();
    if (rt_capture_window_frame(run->capture, w, &f, err, errlen) != 0)
      return NULL;
    uint64_t h = rt_frame_hash(&f);
    double now = rt_now();
    *cap_ms = (now - tc) * 1000.0;
    if (!have || h != last_hash)
      quiet_since = now;
    have = true;
    last_hash = h;
    if (now - quiet_since >= RT_SETTLE_QUIET) {
      *settled = true;
      break;
    }
    if (now - start >= RT_SETTLE_MAX || run->abort)
      break;
    rt_sleep(run, 0.025);
  }
  *hash = last_hash;
  return rt_frame_to_pix(&f, err, errlen);
}

static void describe(const rt_action *a, char *buf, size_t n)
{
  if (strcmp(a->kind, "click") == 0)
    snprintf(buf, n, "(%d,%d)%s", a->x, a->y, a->count > 1 ? " double" : "");
  else if (strcmp(a->kind, "type") == 0)
    /* What is typed may be a citizen's data or a secret: only its length is kept. */
    snprintf(buf, n, "%zu bytes", strlen(a->text));
  else if (strcmp(a->kind, "key") == 0)
    snprintf(buf, n, "%s", a->keys);
  else
    buf[0] = '\0';
}

static void save_log(rt_run *run, const rt_steprec *rec)
{
  if (!run->steps)
    return;
  rt_steplog_add(run->steps, rec);
  char err[512];
  if (run->run_dir &&
      rt_steplog_write(run->steps, run->run_dir, "running", 0, NULL, err, sizeof err) != 0)
    rt_log(run, "vagt: %s", err);
}

static int send_input(rt_run *run, const rt_action *a, char *err, size_t n)
{
  if (strcmp(a->kind, "click") == 0)
    return rt_x_click(run->dpy, run->xdo, a->win, a->x, a->y, a->button, a->count, err, n);
  if (strcmp(a->kind, "type") == 0)
    return rt_input_type(run->input, a->text, RT_INPUT_DELAY_DEFAULT, err, n);
  if (strcmp(a->kind, "key") == 0)
    return rt_input_keys(run->input, a->keys, err, n);
  snprintf(err, n, "unknown action '%s'", a->kind);
  return -1;
}

void rt_action_run(lua_State *L, rt_run *run, const rt_action *a)
{
  rt_host_check(L);
  double t0 = rt_now();
  rt_steprec rec = {0};
  char key[1024], detail[128], err[1024] = "";
  const char *file = NULL;
  int line = rt_host_script_line(L, &file);
  const char *base = file ? strrchr(file, '/') : NULL;
  base = base ? base + 1 : file;
  rt_step_frame *fr = run->nframes ? &run->frames[run->nframes - 1] : NULL;
  if (fr)
    fr->ordinal++;
  if (rt_stepkey(key, sizeof key, fr ? fr->name : NULL, fr ? fr->ordinal : 0, base, line,
                 a->kind) < 0)
    snprintf(key, sizeof key, "%s:%d:%s", base ? base : "?", line, a->kind);
  describe(a, detail, sizeof detail);
  rec.key = key;
  rec.kind = a->kind;
  rec.name = fr ? fr->name : NULL;
  rec.ordinal = fr ? fr->ordinal : 0;
  rec.file = file;
  rec.line = line;
  rec.window = a->win;
  rec.detail = detail;

  rt_winfo wi;
  if (!rt_x_winfo(run->dpy, a->win, &wi) || !wi.viewable) {
    if (wi.id)
      rt_winfo_free(&wi, 1);
    rt_raise(L, "%s: window 0x%lx no longer exists (closed or unmapped)", a->kind,
               (unsigned long)a->win);
  }
  rec.wclass = wi.res_class;

  int rc = 0;
  bool guarded = false;
  rt_stepinfo si = {0};
  const rt_guard *g = run->guard ? run->guard : &rt_guard_record_only;
  double t = rt_now();
  if (strcmp(a->kind, "click") != 0 && !rt_x_has_focus(run->dpy, a->win))
    rc = rt_x_activate(run->dpy, run->xdo, run->ewmh, a->win, 2.0, err, sizeof err);
  if (rc == 0) {
    rt_x_pointer_park(run->dpy, run->xdo, &wi);
    uint64_t hash = 0;
    PIX *img = settle(run, a->win, &rec.settled, &hash, &rec.t_capture, err, sizeof err);
    rec.t_settle = (rt_now() - t) * 1000.0;
    if (!img) {
      rc = -1;
    } else {
      rec.cap_w = (int)pixGetWidth(img);
      rec.cap_h = (int)pixGetHeight(img);
      rec.cap_hash = hash;
      si = (rt_stepinfo){key, a->kind, rec.name, rec.ordinal, file, line, &wi, a};
      rt_guard_out out = {0};
      t = rt_now();
      rt_guard_verdict v = g->check(g->ud, run, &si, img, &out);
      rec.t_guard = (rt_now() - t) * 1000.0;
      rec.verdict = out.verdict;
      rec.reasons = out.reasons;
      rec.nreasons = out.nreasons;
      for (int i = 0; i < 3; i++)
        rec.evidence[i] = out.evidence[i];
      pixDestroy(&img);
      if (v == RT_GUARD_HALT) {
        rt_run_abort(run, RT_ABORT_DRIFT, "halted on UI drift at step '%s' (%s:%d): %s", key,
                     base ? base : "?", line, out.reason);
        rec.reason = out.reason;
        rec.t_total = (rt_now() - t0) * 1000.0;
        save_log(run, &rec);
        rt_winfo_free(&wi, 1);
        rt_host_check(L); /* raises */
      }
      if (v == RT_GUARD_ERROR) {
        snprintf(err, sizeof err, "%s", out.reason);
        rc = -1;
      } else {
        guarded = true;
      }
    }
  }
  if (rc == 0 && run->abort == RT_ABORT_NONE) {
    t = rt_now();
    rc = send_input(run, a, err, sizeof err);
    rec.t_input = (rt_now() - t) * 1000.0;
  }
  if (guarded && g->after)
    g->after(g->ud, run, &si, rc);
  rec.t_total = (rt_now() - t0) * 1000.0;
  if (rc != 0) {
    rec.verdict = "error";
    rec.reason = err;
  }
  save_log(run, &rec);
  rt_winfo_free(&wi, 1);
  rt_host_check(L); /* an abort (corrupt baseline, display gone) says more than rc */
  if (rc != 0)
    rt_raise(L, "%s (step %s): %s", a->kind, key, err);
}
