/* robot.window and the robot.Window type: finding top-level windows by class or title
 * pattern, reading their geometry, and the guarded actions (click, type, key, press,
 * release, move, drag, menu): arguments become an rt_action for the step engine
 * (step.c), whose result raises here with the script line. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "host.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "step.h"
#include "xwin.h"
#include "vu.h"

typedef struct {
  Window id;
  char cls[128];
} l_window;

void rt_window_push(lua_State *L, Window id, const char *cls)
{
  l_window *w = lua_newuserdatauv(L, sizeof *w, 0);
  w->id = id;
  snprintf(w->cls, sizeof w->cls, "%s", cls ? cls : "");
  luaL_setmetatable(L, RT_WINDOW_MT);
}

static l_window *check_window(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, RT_WINDOW_MT);
}

const char *rt_window_class(lua_State *L, int idx)
{
  return check_window(L, idx)->cls;
}

Window rt_window_id(lua_State *L, int idx)
{
  return check_window(L, idx)->id;
}

typedef struct {
  const char *cls, *name;
  pid_t pid;
  const Window *exclude; /* windows an app had before it started */
  size_t nexclude;
} win_query;

static void query_from(lua_State *L, int idx, win_query *q)
{
  memset(q, 0, sizeof *q);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "class");
  q->cls = lua_tostring(L, -1);
  lua_getfield(L, idx, "name");
  q->name = lua_tostring(L, -1);
  lua_pop(L, 2); /* the strings stay alive in the table */
  if (!q->cls && !q->name)
    rt_raise(L, "give class = \"...\" or name = \"Lua pattern\" to find a window");
  if (q->name)
    rt_pattern_match(L, "", q->name); /* a malformed pattern raises here, not later */
}

static bool matches(lua_State *L, const rt_winfo *w, const win_query *q)
{
  if (!w->viewable)
    return false;
  if (q->cls && !((w->res_class && strcmp(w->res_class, q->cls) == 0) ||
                  (w->res_name && strcmp(w->res_name, q->cls) == 0)))
    return false;
  for (size_t i = 0; i < q->nexclude; i++)
    if (q->exclude[i] == w->id && !(q->pid && w->pid == q->pid))
      return false;
  if (q->name && !rt_pattern_match(L, w->title ? w->title : "", q->name))
    return false;
  return true;
}

/* Pushes the topmost matching window, or nil. Lists what it saw into `seen` when given. */
static int find_once(lua_State *L, rt_run *run, const win_query *q, char *seen, size_t n)
{
  rt_winfo *all;
  size_t cnt;
  if (rt_x_toplevels(run->dpy, &all, &cnt) != 0)
    return rt_raise(L, "cannot list windows on the display");
  /* Copy what we need before anything can raise: Lua errors must not leak the list. */
  Window hit = None;
  char cls[128] = "";
  if (seen && n)
    seen[0] = '\0';
  for (size_t i = cnt; i-- > 0;) {
    if (!hit && matches(L, &all[i], q)) {
      hit = all[i].id;
      snprintf(cls, sizeof cls, "%s", all[i].res_class ? all[i].res_class : "");
    }
    if (seen && all[i].viewable) {
      size_t l = strlen(seen);
      /* classes and sizes, never titles: a title often names a citizen or a case */
      snprintf(seen + l, n - l, "%s%s %dx%d", l ? ", " : "",
               all[i].res_class && *all[i].res_class ? all[i].res_class : "(no class)", all[i].w,
               all[i].h);
    }
  }
  rt_winfo_free(all, cnt);
  free(all);
  if (!hit) {
    lua_pushnil(L);
    return 0;
  }
  rt_window_push(L, hit, cls);
  return 1;
}

static void describe_query(const win_query *q, char *buf, size_t n)
{
  snprintf(buf, n, "%s%s%s%s%s", q->cls ? "class '" : "", q->cls ? q->cls : "", q->cls ? "'" : "",
           q->name ? (q->cls ? " and name matching '" : "name matching '") : "",
           q->name ? q->name : "");
  if (q->name)
    strncat(buf, "'", n - strlen(buf) - 1);
}

/* Shared by robot.window.wait and App:wait_window. */
int rt_window_wait(lua_State *L, int opts, pid_t pid, const Window *exclude, size_t nexclude)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  win_query q;
  query_from(L, opts, &q);
  q.pid = pid;
  q.exclude = exclude;
  q.nexclude = nexclude;
  double timeout = rt_opt_number(L, opts, "timeout", 10.0);
  double end = vu_mono() + timeout;
  char seen[2048];
  for (;;) {
    if (find_once(L, run, &q, seen, sizeof seen))
      return 1;
    lua_pop(L, 1);
    if (vu_mono() >= end)
      break;
    rt_sleep(run, 0.1);
    rt_host_check(L);
  }
  char what[512];
  describe_query(&q, what, sizeof what);
  return rt_raise(L,
                  "no window with %s appeared within %.1f s; windows on the display (titles "
                  "not quoted): %s",
                  what, timeout, *seen ? seen : "none");
}

static int l_window_wait(lua_State *L)
{
  return rt_window_wait(L, 1, 0, NULL, 0);
}

static int l_window_find(lua_State *L)
{
  rt_host_check(L);
  win_query q;
  query_from(L, 1, &q);
  find_once(L, rt_host_run_of(L), &q, NULL, 0);
  return 1;
}

static void push_info(lua_State *L, const rt_winfo *w)
{
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, (lua_Integer)w->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, w->res_class ? w->res_class : "");
  lua_setfield(L, -2, "class");
  lua_pushstring(L, w->res_name ? w->res_name : "");
  lua_setfield(L, -2, "instance");
  lua_pushstring(L, w->title ? w->title : "");
  lua_setfield(L, -2, "title");
  lua_pushinteger(L, w->x);
  lua_setfield(L, -2, "x");
  lua_pushinteger(L, w->y);
  lua_setfield(L, -2, "y");
  lua_pushinteger(L, w->w);
  lua_setfield(L, -2, "w");
  lua_pushinteger(L, w->h);
  lua_setfield(L, -2, "h");
}

static int l_window_list(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  rt_winfo *all;
  size_t cnt;
  if (rt_x_toplevels(run->dpy, &all, &cnt) != 0)
    return rt_raise(L, "cannot list windows on the display");
  lua_createtable(L, (int)cnt, 0);
  int k = 0;
  for (size_t i = 0; i < cnt; i++)
    if (all[i].viewable) {
      push_info(L, &all[i]); /* cannot raise short of memory errors */
      lua_rawseti(L, -2, ++k);
    }
  rt_winfo_free(all, cnt);
  free(all);
  return 1;
}

/* Window methods */

static bool info(lua_State *L, l_window *w, rt_winfo *out)
{
  return rt_x_winfo(rt_host_run_of(L)->dpy, w->id, out);
}

static int l_window_geometry(lua_State *L)
{
  l_window *w = check_window(L, 1);
  rt_winfo wi;
  if (!info(L, w, &wi))
    return rt_raise(L, "window 0x%lx (%s) no longer exists", (unsigned long)w->id, w->cls);
  push_info(L, &wi);
  rt_winfo_free(&wi, 1);
  return 1;
}

static int l_window_exists(lua_State *L)
{
  l_window *w = check_window(L, 1);
  rt_winfo wi;
  bool ok = info(L, w, &wi);
  if (ok)
    rt_winfo_free(&wi, 1);
  lua_pushboolean(L, ok && wi.viewable);
  return 1;
}

/* w:wait_closed{ timeout = 10 }: until the window is destroyed or unmapped; true. Raises
 * at the deadline. */
static int l_window_wait_closed(lua_State *L)
{
  l_window *w = check_window(L, 1);
  double timeout = rt_opt_number(L, 2, "timeout", 10);
  rt_run *run = rt_host_run_of(L);
  double end = vu_mono() + timeout;
  for (;;) {
    rt_host_check(L);
    rt_winfo wi;
    bool open = info(L, w, &wi);
    if (open) {
      open = wi.viewable;
      rt_winfo_free(&wi, 1);
    }
    if (!open) {
      lua_pushboolean(L, 1);
      return 1;
    }
    if (vu_mono() >= end)
      return rt_raise(L, "window 0x%lx (%s) did not close within %.1f s", (unsigned long)w->id,
                      w->cls, timeout);
    rt_sleep(run, 0.05);
  }
}

/* w:wait_title(pattern, { timeout = 10 }): until the title matches the Lua pattern; returns
 * the title. Raises at the deadline or when the window goes, without quoting the title (a
 * title often names a citizen or a case). */
static int l_window_wait_title(lua_State *L)
{
  l_window *w = check_window(L, 1);
  const char *pattern = luaL_checkstring(L, 2);
  double timeout = rt_opt_number(L, 3, "timeout", 10);
  rt_run *run = rt_host_run_of(L);
  double end = vu_mono() + timeout;
  for (;;) {
    rt_host_check(L);
    rt_winfo wi;
    if (!info(L, w, &wi))
      return rt_raise(L, "window 0x%lx (%s) closed while waiting for a title matching '%s'",
                      (unsigned long)w->id, w->cls, pattern);
    lua_pushstring(L, wi.title ? wi.title : "");
    rt_winfo_free(&wi, 1);
    if (rt_pattern_match(L, lua_tostring(L, -1), pattern))
      return 1;
    lua_pop(L, 1);
    if (vu_mono() >= end)
      return rt_raise(L, "the title of window 0x%lx (%s) did not match '%s' within %.1f s",
                      (unsigned long)w->id, w->cls, pattern, timeout);
    rt_sleep(run, 0.05);
  }
}

static int l_window_activate(lua_State *L)
{
  rt_host_check(L);
  l_window *w = check_window(L, 1);
  rt_run *run = rt_host_run_of(L);
  char err[512];
  double timeout = rt_opt_number(L, 2, "timeout", 3.0);
  if (rt_x_activate(run->dpy, run->xdo, run->ewmh, w->id, timeout, err, sizeof err) != 0)
    return rt_raise(L, "activate (%s): %s", w->cls, err);
  return 0;
}

void rt_rect_from(lua_State *L, int idx, rt_rect *r)
{
  if (!lua_istable(L, idx))
    rt_raise(L, "a region is a table {x=, y=, w=, h=}");
  r->x = (int)rt_opt_number(L, idx, "x", -1);
  r->y = (int)rt_opt_number(L, idx, "y", -1);
  r->w = (int)rt_opt_number(L, idx, "w", 0);
  r->h = (int)rt_opt_number(L, idx, "h", 0);
  if (r->x < 0 || r->y < 0 || r->w <= 0 || r->h <= 0)
    rt_raise(L, "a region needs x >= 0, y >= 0, w > 0 and h > 0 (window-relative pixels)");
}

#define MAX_IGNORE 32

/* ignore = {x=,y=,w=,h=} or a list of such tables, from the options table at idx. */
static int ignore_from(lua_State *L, int idx, rt_rect *out)
{
  if (lua_type(L, idx) != LUA_TTABLE)
    return 0;
  lua_getfield(L, idx, "ignore");
  int t = lua_gettop(L), n = 0;
  if (lua_istable(L, t)) {
    lua_getfield(L, t, "x");
    bool single = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (single) {
      rt_rect_from(L, t, &out[n++]);
    } else {
      lua_Integer len = (lua_Integer)lua_rawlen(L, t);
      if (len > MAX_IGNORE)
        rt_raise(L, "at most %d ignore regions on one action", MAX_IGNORE);
      for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, t, i);
        rt_rect_from(L, lua_gettop(L), &out[n++]);
        lua_pop(L, 1);
      }
    }
  } else if (!lua_isnil(L, t)) {
    rt_raise(L, "option 'ignore' must be a region {x=, y=, w=, h=} or a list of them");
  }
  lua_pop(L, 1);
  return n;
}

/* Runs the action through the step engine; raises on failure or a halt. */
static int run_action(lua_State *L, rt_action *a)
{
  rt_host_check(L);
  a->line = rt_host_script_line(L, &a->file);
  rt_step_result res;
  rt_step_status st = rt_step_run(rt_host_run_of(L), a, &res);
  if (st == RT_STEP_STOPPED)
    rt_host_check(L); /* raises the halt or the deadline */
  if (st != RT_STEP_OK)
    return rt_raise(L, "%s", res.msg[0] ? res.msg : "the step did not complete");
  return 0;
}

/* A point from the table at idx: text = "label" (with find options, anchor, dx, dy) or
 * integer x and y. Raises when `need` and neither is there. */
static void target_from(lua_State *L, int idx, rt_target *t, bool need, const char *what)
{
  memset(t, 0, sizeof *t);
  if (lua_type(L, idx) != LUA_TTABLE) {
    if (need)
      rt_raise(L, "%s needs a table with text = \"label\" or integer x and y", what);
    return;
  }
  lua_getfield(L, idx, "text");
  t->text = lua_tostring(L, -1);
  lua_pop(L, 1); /* the string stays alive in the table */
  if (t->text) {
    t->given = true;
    rt_ocr_find_opts_from(L, idx, &t->find);
    lua_getfield(L, idx, "anchor");
    const char *an = lua_tostring(L, -1);
    if (an && strcmp(an, "left") == 0)
      t->anchor = RT_ANCHOR_LEFT;
    else if (an && strcmp(an, "right") == 0)
      t->anchor = RT_ANCHOR_RIGHT;
    else if (an && strcmp(an, "center") != 0)
      rt_raise(L, "option 'anchor' must be \"left\", \"center\" or \"right\"");
    else if (!an && !lua_isnil(L, -1))
      rt_raise(L, "option 'anchor' must be \"left\", \"center\" or \"right\"");
    lua_pop(L, 1);
    lua_getfield(L, idx, "popup");
    t->popup = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else {
    lua_getfield(L, idx, "x");
    lua_getfield(L, idx, "y");
    bool have = !lua_isnil(L, -2) || !lua_isnil(L, -1);
    if (have && (!lua_isinteger(L, -2) || !lua_isinteger(L, -1)))
      rt_raise(L, "%s: x and y must be integers (window-relative pixels)", what);
    if (!have && need)
      rt_raise(L, "%s needs text = \"label\" or integer x and y (window-relative pixels)", what);
    t->given = have;
    t->x = have ? (int)lua_tointeger(L, -2) : 0;
    t->y = have ? (int)lua_tointeger(L, -1) : 0;
    lua_pop(L, 2);
  }
  t->dx = (int)rt_opt_number(L, idx, "dx", 0);
  t->dy = (int)rt_opt_number(L, idx, "dy", 0);
}

static int button_from(lua_State *L, int idx)
{
  int b = (int)rt_opt_number(L, idx, "button", 1);
  if (b < 1 || b > 5)
    rt_raise(L, "option 'button' must be 1..5");
  return b;
}

static void action_init(lua_State *L, rt_action *a, rt_act_kind kind, l_window *w, int opts,
                        rt_rect *ign)
{
  memset(a, 0, sizeof *a);
  a->kind = kind;
  a->win = w->id;
  a->button = 1;
  a->count = 1;
  a->nignore = ignore_from(L, opts, ign);
  a->ignore = ign;
  a->timeout = rt_opt_number(L, opts, "timeout", 5.0);
  if (a->timeout < 0)
    rt_raise(L, "option 'timeout' must be >= 0");
  if (lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "key");
    if (!lua_isnil(L, -1)) {
      const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
      if (!k || !*k || strlen(k) > 64 || strpbrk(k, "#:/\n"))
        rt_raise(L, "option 'key' must be a name of 1 to 64 characters without '#', ':', "
                    "'/' or a line break");
      if (rt_holds_secret(rt_host_run_of(L), k))
        rt_raise(L, "option 'key' holds a secret: keys are kept in the baseline, the run's "
                    "files and its alerts; name the action without it");
      a->name = k; /* kept alive by the options table on the stack */
    }
    lua_pop(L, 1);
  }
}

static int l_window_click(lua_State *L)
{
  l_window *w = check_window(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_CLICK, w, 2, ign);
  target_from(L, 2, &a.at, true, "click");
  a.button = button_from(L, 2);
  lua_getfield(L, 2, "double");
  a.count = lua_toboolean(L, -1) ? 2 : 1;
  lua_pop(L, 1);
  return run_action(L, &a);
}

static int l_window_press(lua_State *L)
{
  l_window *w = check_window(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_PRESS, w, 2, ign);
  target_from(L, 2, &a.at, true, "press");
  a.button = button_from(L, 2);
  return run_action(L, &a);
}

static int l_window_release(lua_State *L)
{
  l_window *w = check_window(L, 1);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_RELEASE, w, 2, ign);
  target_from(L, 2, &a.at, false, "release");
  a.button = lua_istable(L, 2) ? button_from(L, 2) : 1;
  return run_action(L, &a);
}

static int l_window_move(lua_State *L)
{
  l_window *w = check_window(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_MOVE, w, 2, ign);
  target_from(L, 2, &a.at, true, "move");
  return run_action(L, &a);
}

static int l_window_drag(lua_State *L)
{
  l_window *w = check_window(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_DRAG, w, 2, ign);
  lua_getfield(L, 2, "from");
  lua_getfield(L, 2, "to");
  target_from(L, lua_gettop(L) - 1, &a.at, true, "drag's from");
  target_from(L, lua_gettop(L), &a.to, true, "drag's to");
  a.button = button_from(L, 2);
  int rc = run_action(L, &a); /* the tables stay on the stack: their strings live */
  lua_pop(L, 2);
  return rc;
}

#define MAX_MENU_LEVELS 8

/* w:menu{ "Filer", "Gem journal" }: each level a guarded step of its own. */
static int l_window_menu(lua_State *L)
{
  l_window *w = check_window(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_MENU, w, 2, ign);
  const char *path[MAX_MENU_LEVELS];
  lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
  if (n < 1 || n > MAX_MENU_LEVELS)
    return rt_raise(L,
                    "menu needs 1 to %d entries by text, from the menu bar down: "
                    "w:menu{ \"Filer\", \"Gem journal\" }",
                    MAX_MENU_LEVELS);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1))
      return rt_raise(L, "menu entry %d must be a non-empty string", (int)i);
    path[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the table */
  }
  a.path = path;
  a.npath = (int)n;
  return run_action(L, &a);
}

/* Option `popups = true` of w:type and w:key. */
static bool popups_opt(lua_State *L, int opts)
{
  if (lua_type(L, opts) != LUA_TTABLE)
    return false;
  lua_getfield(L, opts, "popups");
  int t = lua_type(L, -1);
  bool on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    rt_raise(L, "option 'popups' must be true or false, got %s", lua_typename(L, t));
  return on;
}

static int l_window_type(lua_State *L)
{
  l_window *w = check_window(L, 1);
  const char *text = luaL_checkstring(L, 2);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_TYPE, w, 3, ign);
  a.text = text;
  a.popups = popups_opt(L, 3);
  return run_action(L, &a);
}

static int l_window_key(lua_State *L)
{
  l_window *w = check_window(L, 1);
  const char *keys = luaL_checkstring(L, 2);
  rt_rect ign[MAX_IGNORE];
  rt_action a;
  action_init(L, &a, RT_ACT_KEY, w, 3, ign);
  a.keys = keys;
  a.popups = popups_opt(L, 3);
  return run_action(L, &a);
}

/* w:ignore{...} and w:sensitive{...}: a region of this window handed to the monitor. */
static int declare_region(lua_State *L, void (*declare)(rt_monitor *, Window, rt_rect))
{
  l_window *w = check_window(L, 1);
  rt_rect r;
  rt_rect_from(L, 2, &r);
  rt_run *run = rt_host_run_of(L);
  if (run->monitor)
    declare(run->monitor, w->id, r);
  return 0;
}

/* w:ignore{x=, y=, w=, h=}: a dynamic region of this window for the rest of the run. */
static int l_window_ignore(lua_State *L)
{
  return declare_region(L, rt_monitor_ignore);
}

/* w:sensitive{x=, y=, w=, h=}: a region of this window that holds data (a CPR number, a
 * name): not compared, and blanked in every evidence image, for the rest of the run. */
static int l_window_sensitive(lua_State *L)
{
  return declare_region(L, rt_monitor_sensitive);
}

static int l_window_tostring(lua_State *L)
{
  l_window *w = check_window(L, 1);
  char buf[160];
  snprintf(buf, sizeof buf, "robot.Window(0x%lx, %s)", (unsigned long)w->id, w->cls);
  lua_pushstring(L, buf);
  return 1;
}

static int l_window_eq(lua_State *L)
{
  lua_pushboolean(L, check_window(L, 1)->id == check_window(L, 2)->id);
  return 1;
}

static const luaL_Reg window_methods[] = {
    {"activate", l_window_activate},
    {"click", l_window_click},
    {"type", l_window_type},
    {"key", l_window_key},
    {"press", l_window_press},
    {"release", l_window_release},
    {"move", l_window_move},
    {"drag", l_window_drag},
    {"menu", l_window_menu},
    {"geometry", l_window_geometry},
    {"exists", l_window_exists},
    {"ignore", l_window_ignore},
    {"sensitive", l_window_sensitive},
    {"wait_closed", l_window_wait_closed},
    {"wait_title", l_window_wait_title},
    {NULL, NULL},
};

/* w.id, w.class and w.title/w.x/... read fresh from the display. */
static int l_window_index(lua_State *L)
{
  l_window *w = check_window(L, 1);
  const char *k = luaL_checkstring(L, 2);
  lua_getfield(L, lua_upvalueindex(1), k);
  if (!lua_isnil(L, -1))
    return 1;
  if (strcmp(k, "id") == 0) {
    lua_pushinteger(L, (lua_Integer)w->id);
    return 1;
  }
  if (strcmp(k, "class") == 0) {
    lua_pushstring(L, w->cls);
    return 1;
  }
  static const char *const live[] = {"title", "x", "y", "w", "h", "instance", NULL};
  for (const char *const *f = live; *f; f++)
    if (strcmp(k, *f) == 0) {
      lua_pushcfunction(L, l_window_geometry);
      lua_pushvalue(L, 1);
      lua_call(L, 1, 1);
      lua_getfield(L, -1, k);
      return 1;
    }
  return rt_raise(L, "robot.Window has no field or method '%s'", k);
}

static const luaL_Reg window_module[] = {
    {"wait", l_window_wait},
    {"find", l_window_find},
    {"list", l_window_list},
    {NULL, NULL},
};

void rt_window_open(lua_State *L)
{
  luaL_newmetatable(L, RT_WINDOW_MT);
  luaL_newlib(L, window_methods);
  rt_ocr_api_open(L);
  lua_pushcclosure(L, l_window_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_window_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_window_eq);
  lua_setfield(L, -2, "__eq");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  luaL_newlib(L, window_module);
}
