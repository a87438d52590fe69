/* The OCR side of robot.Window: find_text, wait_text, read_text and words. They read what
 * the screen shows of the window's scene (its pop-up menus and lists and its dialogs
 * included: scene.h), in the window's coordinates. They observe; an action's target is
 * located by the step engine on the frame its guard judged (step.c). One Tesseract
 * instance per run with the languages in robot.ocr.lang (the default ones loading in the
 * background from the run's start); its cache makes polling an unchanged window cheap. */
#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "host.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "scene.h"
#include "step.h"
#include "vu.h"

/* Polls per second while waiting for text (SikuliX scans 3 times a second). */
#define POLL_SECS 0.2

struct rt_ocr_preload {
  pthread_t thread;
  rt_ocr *ocr; /* NULL: failed (the error is found again by loading in rt_ocr_get) */
  double started, ms;
};

static void *preload_main(void *arg)
{
  struct rt_ocr_preload *p = arg;
  char err[256];
  p->ocr = rt_ocr_new(RT_OCR_DEFAULT_LANGS, err, sizeof err);
  p->ms = (vu_mono() - p->started) * 1000.0;
  return NULL;
}

void rt_ocr_preload(rt_run *run)
{
  struct rt_ocr_preload *p = calloc(1, sizeof *p);
  if (!p)
    return;
  p->started = vu_mono();
  if (pthread_create(&p->thread, NULL, preload_main, p) != 0) {
    free(p);
    return;
  }
  run->ocr_pre = p;
}

/* The preloaded engine once its thread has ended (waited for), or NULL. */
static rt_ocr *preloaded(rt_run *run, double *load_ms, double *wait_ms)
{
  struct rt_ocr_preload *p = run->ocr_pre;
  if (!p)
    return NULL;
  double t = vu_mono();
  pthread_join(p->thread, NULL);
  *wait_ms = (vu_mono() - t) * 1000.0;
  *load_ms = p->ms;
  rt_ocr *o = p->ocr;
  free(p);
  run->ocr_pre = NULL;
  return o;
}

void rt_ocr_release(rt_run *run)
{
  double a, b;
  rt_ocr_free(preloaded(run, &a, &b));
  rt_ocr_free(run->ocr);
  run->ocr = NULL;
}

rt_ocr *rt_ocr_get(rt_run *run, char *err, size_t errlen)
{
  lua_State *L = run->L;
  char langs[128] = RT_OCR_DEFAULT_LANGS;
  if (L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "vagt.ocrconf");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "lang");
      if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(langs, sizeof langs, "%s", lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (run->ocr && strcmp(rt_ocr_langs(run->ocr), langs) == 0)
    return run->ocr;
  double load_ms = 0, wait_ms = 0;
  rt_ocr *pre = preloaded(run, &load_ms, &wait_ms);
  if (pre && strcmp(rt_ocr_langs(pre), langs) == 0) {
    rt_ocr_free(run->ocr);
    run->ocr = pre;
    rt_log(run, "OCR ready (%s), loaded in the background in %.0f ms, %.0f ms of it waited for",
           langs, load_ms, wait_ms);
    return run->ocr;
  }
  rt_ocr_free(pre);
  rt_ocr_free(run->ocr);
  double t = vu_mono();
  run->ocr = rt_ocr_new(langs, err, errlen);
  if (!run->ocr) {
    if (rt_ocr_missing_language())
      run->exit_code = RT_EXIT_ENV;
    return NULL;
  }
  rt_log(run, "OCR ready (%s) in %.0f ms", langs, (vu_mono() - t) * 1000.0);
  return run->ocr;
}

static rt_ocr *ocr_of(lua_State *L, rt_run *run)
{
  char err[1024];
  rt_ocr *o = rt_ocr_get(run, err, sizeof err);
  if (!o)
    rt_raise(L, "OCR: %s", err);
  return o;
}

/* Captures the window's scene once its drawing is quiet (step.h). Raises on error
 * (nothing held). */
static void scene_of(lua_State *L, rt_run *run, Window win, rt_scene *sc)
{
  char err[1024];
  if (rt_step_observe(run, win, sc, err, sizeof err) != 0)
    rt_raise(L, "cannot capture window 0x%lx: %s", (unsigned long)win, err);
}

/* Reads the words of the window's scene (opts: NULL for all, read with full care; a hint
 * and a region (window-relative) when looking for one phrase), boxes window-relative; on
 * error raises (nothing held). */
static void words_of(lua_State *L, rt_run *run, Window win, const rt_ocr_opts *opts,
                     rt_ocr_result *res)
{
  rt_ocr *ocr = ocr_of(L, run);
  char err[1024];
  rt_scene sc;
  scene_of(L, run, win, &sc);
  int ox = sc.x - sc.win[0].x, oy = sc.y - sc.win[0].y;
  rt_ocr_opts o = opts ? *opts : (rt_ocr_opts){0};
  o.region.x -= ox;
  o.region.y -= oy;
  int rc = rt_ocr_words(ocr, sc.frame, &o, res, err, sizeof err);
  if (rc != RT_OCR_OK) {
    rt_scene_free(&sc);
    rt_raise(L, "OCR failed: %s", err);
  }
  for (size_t i = 0; i < res->n; i++) {
    res->words[i].box.x += ox;
    res->words[i].box.y += oy;
  }
  rt_scene_drop_behind(&sc, res);
  rt_scene_free(&sc);
}

static int opt_box(lua_State *L, int idx, const char *field, rt_ocr_box *b)
{
  if (lua_type(L, idx) != LUA_TTABLE)
    return 0;
  lua_getfield(L, idx, field);
  int given = !lua_isnil(L, -1);
  if (given) {
    rt_rect r;
    rt_rect_from(L, lua_gettop(L), &r);
    *b = (rt_ocr_box){r.x, r.y, r.w, r.h};
  }
  lua_pop(L, 1);
  return given;
}

void rt_ocr_find_opts_from(lua_State *L, int idx, rt_ocr_find_opts *o)
{
  memset(o, 0, sizeof *o);
  if (lua_type(L, idx) != LUA_TTABLE)
    return;
  lua_getfield(L, idx, "ignore_case");
  o->ignore_case = lua_toboolean(L, -1);
  lua_pop(L, 1);
  o->nth = (int)rt_opt_number(L, idx, "nth", 0);
  if (o->nth < 0)
    rt_raise(L, "option 'nth' must be >= 1");
  lua_getfield(L, idx, "near");
  if (lua_istable(L, -1)) {
    int t = lua_gettop(L);
    o->has_near = 1;
    lua_geti(L, t, 1);
    lua_geti(L, t, 2);
    o->near_x = lua_isnumber(L, -2) ? (int)lua_tonumber(L, -2) : (int)rt_opt_number(L, t, "x", 0);
    o->near_y = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : (int)rt_opt_number(L, t, "y", 0);
    lua_pop(L, 2);
  } else if (!lua_isnil(L, -1)) {
    rt_raise(L, "option 'near' must be a point { x = , y = }");
  }
  lua_pop(L, 1);
  o->has_region = opt_box(L, idx, "region", &o->region);
}

static void push_match(lua_State *L, const rt_ocr_match *m)
{
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, m->box.x);
  lua_setfield(L, -2, "x");
  lua_pushinteger(L, m->box.y);
  lua_setfield(L, -2, "y");
  lua_pushinteger(L, m->box.w);
  lua_setfield(L, -2, "w");
  lua_pushinteger(L, m->box.h);
  lua_setfield(L, -2, "h");
  lua_pushinteger(L, m->cx);
  lua_setfield(L, -2, "cx");
  lua_pushinteger(L, m->cy);
  lua_setfield(L, -2, "cy");
  lua_pushstring(L, m->text);
  lua_setfield(L, -2, "text");
  lua_pushnumber(L, (lua_Number)m->conf);
  lua_setfield(L, -2, "conf");
}

/* Looks for `text` until found or the timeout passes. Returns RT_OCR_OK with *m filled,
 * or RT_OCR_NOT_FOUND. Ambiguity raises. */
static int locate(lua_State *L, rt_run *run, Window win, const char *text,
                  const rt_ocr_find_opts *fo, double timeout, rt_ocr_match *m)
{
  double end = vu_mono() + timeout;
  char err[2048], bad[8];
  rt_ocr *ocr = ocr_of(L, run);
  if (rt_ocr_unreadable(ocr, text, bad, sizeof bad))
    rt_raise(L,
             "find '%s': the OCR models (%s) cannot produce '%s', so no reading of the "
             "screen can match it: find this caption by its position, or by a label "
             "beside it (dx, dy)",
             text, rt_ocr_langs(ocr), bad);
  /* only what can hold the phrase is read with full care: the unsure words
   * that could be it, the text blobs that reach into the region */
  rt_ocr_opts ro = {.hint = text, .has_region = fo->has_region, .region = fo->region};
  for (;;) {
    rt_host_check(L);
    rt_ocr_result res;
    words_of(L, run, win, &ro, &res);
    int rc = rt_ocr_find(&res, text, fo, m, err, sizeof err);
    rt_ocr_result_free(&res);
    if (rc == RT_OCR_OK)
      return rc;
    if (rc == RT_OCR_AMBIGUOUS)
      rt_raise(L, "%s", err);
    if (rc == RT_OCR_ERROR)
      rt_raise(L, "find '%s': %s", text, err);
    if (vu_mono() >= end)
      return RT_OCR_NOT_FOUND;
    rt_sleep(run, POLL_SECS);
  }
}

Window rt_window_id(lua_State *L, int idx);

/* The arguments of w:find_text and w:wait_text: looks until found or the timeout
 * (opts.timeout, else def). */
static bool look(lua_State *L, double def, rt_ocr_match *m, double *timeout)
{
  Window win = rt_window_id(L, 1);
  const char *text = luaL_checkstring(L, 2);
  rt_ocr_find_opts fo;
  rt_ocr_find_opts_from(L, 3, &fo);
  *timeout = rt_opt_number(L, 3, "timeout", def);
  return locate(L, rt_host_run_of(L), win, text, &fo, *timeout, m) == RT_OCR_OK;
}

static int l_window_find_text(lua_State *L)
{
  rt_ocr_match m;
  double timeout;
  if (!look(L, 0, &m, &timeout)) { /* nil: no need to say what is there */
    lua_pushnil(L);
    return 1;
  }
  push_match(L, &m);
  return 1;
}

/* What a wait_text that failed may say about the window: its labels as recorded in the
 * baseline, nearest to the text first, never what the screen shows (data). */
static int l_window_wait_text(lua_State *L)
{
  rt_ocr_match m;
  double timeout;
  if (look(L, 10, &m, &timeout)) {
    push_match(L, &m);
    return 1;
  }
  rt_run *run = rt_host_run_of(L);
  char labels[700];
  size_t n = rt_monitor_labels(run->monitor, rt_window_class(L, 1), lua_tostring(L, 2), labels,
                               sizeof labels);
  return rt_raise(L, "text '%s' did not appear within %.1f s; %s%s", lua_tostring(L, 2), timeout,
                  n ? "the window's labels as recorded: "
                  : run->mode == RT_MODE_RECORD
                      ? "(what the window shows is not quoted: it may hold data, and while "
                        "recording no label is known yet)"
                      : "(what the window shows is not quoted: it may hold data, and no "
                        "recorded label of this window is known yet)",
                  labels);
}

static int l_window_read_text(lua_State *L)
{
  Window win = rt_window_id(L, 1);
  rt_rect r;
  rt_rect_from(L, 2, &r);
  rt_run *run = rt_host_run_of(L);
  rt_host_check(L);
  rt_ocr *ocr = ocr_of(L, run);
  char err[1024];
  rt_scene sc;
  scene_of(L, run, win, &sc);
  int fx, fy;
  rt_scene_from_target(&sc, r.x, r.y, &fx, &fy);
  rt_ocr_box b = {fx, fy, r.w, r.h};
  char *s = rt_ocr_read(ocr, sc.frame, b, NULL, err, sizeof err);
  rt_scene_free(&sc);
  if (!s)
    return rt_raise(L, "read_text: %s", err);
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int l_window_words(lua_State *L)
{
  Window win = rt_window_id(L, 1);
  rt_run *run = rt_host_run_of(L);
  rt_host_check(L);
  rt_ocr_result res;
  words_of(L, run, win, NULL, &res);
  /* Build the Lua table from a copy-free walk; only memory errors can raise here. */
  lua_createtable(L, (int)res.n, 0);
  for (size_t i = 0; i < res.n; i++) {
    const rt_ocr_word *w = &res.words[i];
    rt_ocr_match m = {.box = w->box,
                      .cx = w->box.x + w->box.w / 2,
                      .cy = w->box.y + w->box.h / 2,
                      .conf = w->conf,
                      .line = w->line};
    snprintf(m.text, sizeof m.text, "%s", w->text);
    push_match(L, &m);
    lua_pushinteger(L, w->line + 1);
    lua_setfield(L, -2, "line");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  rt_ocr_result_free(&res);
  return 1;
}

static const luaL_Reg ocr_methods[] = {
    {"find_text", l_window_find_text},
    {"wait_text", l_window_wait_text},
    {"read_text", l_window_read_text},
    {"words", l_window_words},
    {NULL, NULL},
};

void rt_ocr_api_open(lua_State *L)
{
  luaL_setfuncs(L, ocr_methods, 0);
}
