/* robot.clipboard: the X selections (CLIPBOARD, PRIMARY) for robots. get() reads what an
 * application copied or selected (the script's own keys or clicks select and copy), set()
 * owns a selection for the rest of the run so that an application can paste it. The work
 * is xio/selection.c's, on a connection and thread of its own.
 *
 * What is read or set is citizens' data: no message of vagt's (log, error, run folder)
 * quotes it; the log says how many bytes went which way. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "host.h"
#include "xio/selection.h"
#include "vu.h"

#define CLIP_MAX ((size_t)16 << 20) /* bytes of text at most, either way */
#define CLIP_TIMEOUT 2.0            /* default seconds to wait for the owner */

static rt_sel_which which_from(lua_State *L, int idx, const char *fn)
{
  if (lua_isnoneornil(L, idx))
    return RT_SEL_CLIPBOARD;
  const char *n = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
  if (n && strcmp(n, "CLIPBOARD") == 0)
    return RT_SEL_CLIPBOARD;
  if (n && strcmp(n, "PRIMARY") == 0)
    return RT_SEL_PRIMARY;
  rt_raise(L, "robot.clipboard.%s: the selection must be \"CLIPBOARD\" or \"PRIMARY\"%s", fn,
           n ? "" : " (a string)");
  return RT_SEL_CLIPBOARD;
}

/* The selection's connection is gone: most likely the display went with it, and the run's
 * own connection says so (a round trip ends the run as an environment error, exit 4);
 * otherwise the caller raises a script error. */
static void check_display(rt_run *run, rt_sel *s)
{
  if (rt_sel_lost(s) && run->dpy)
    XSync(run->dpy, False);
}

static rt_sel *sel_of(lua_State *L, rt_run *run, const char *fn)
{
  if (run->sel)
    return run->sel;
  if (!run->dpy)
    rt_raise(L, "robot.clipboard.%s needs a display (vagt run or record)", fn);
  char err[512];
  run->sel = rt_sel_open(DisplayString(run->dpy), err, sizeof err);
  if (!run->sel)
    rt_raise(L, "robot.clipboard.%s: %s", fn, err);
  return run->sel;
}

/* Polled while get() waits: the run was stopped or a deadline passed. */
static bool stop_waiting(void *user)
{
  rt_run *run = user;
  double d = rt_run_deadline(run);
  return run->abort || (d > 0 && vu_mono() > d);
}

/* robot.clipboard.get([selection] [, opts]) -> text | nil, reason */
static int l_clip_get(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  int opts = 0;
  rt_sel_which which = RT_SEL_CLIPBOARD;
  if (lua_type(L, 1) == LUA_TTABLE) {
    opts = 1;
  } else {
    which = which_from(L, 1, "get");
    if (!lua_isnoneornil(L, 2)) {
      luaL_checktype(L, 2, LUA_TTABLE);
      opts = 2;
    }
  }
  /* index 0 is no stack slot: without options there is nothing to read */
  double timeout = opts ? rt_opt_number(L, opts, "timeout", CLIP_TIMEOUT) : CLIP_TIMEOUT;
  if (!(timeout > 0 && timeout <= 3600))
    rt_raise(L, "robot.clipboard.get: option 'timeout' must be more than 0 and at most 3600 "
                "seconds");
  rt_sel *s = sel_of(L, run, "get");
  rt_sel_get_opts o = {timeout, CLIP_MAX, stop_waiting, run};
  char *text = NULL;
  size_t len = 0;
  const char *via = NULL;
  char err[512];
  int rc = rt_sel_get(s, which, &o, &text, &len, &via, err, sizeof err);
  if (rc == RT_SEL_CANCELLED) {
    rt_host_check(L); /* raises the abort or the deadline */
    return rt_raise(L, "robot.clipboard.get: %s", err);
  }
  if (rc == RT_SEL_OK) {
    rt_log(run, "clipboard: read %s (%zu bytes, %s)", rt_sel_name(which), len, via);
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
  }
  if (rc == RT_SEL_FAILED)
    check_display(run, s);
  if (rc == RT_SEL_TOOBIG || rc == RT_SEL_FAILED)
    return rt_raise(L, "robot.clipboard.get: %s", err);
  rt_log(run, "clipboard: nothing read: %s", err);
  lua_pushnil(L);
  lua_pushstring(L, err);
  return 2;
}

/* robot.clipboard.set(text [, selection]) */
static int l_clip_set(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  if (lua_type(L, 1) != LUA_TSTRING)
    return rt_raise(L, "robot.clipboard.set: the text must be a string, got %s",
                    luaL_typename(L, 1));
  size_t len;
  const char *text = lua_tolstring(L, 1, &len);
  rt_sel_which which = which_from(L, 2, "set");
  if (len > CLIP_MAX)
    return rt_raise(L,
                    "robot.clipboard.set: the text has %zu bytes, more than the %zu a "
                    "selection may hold here",
                    len, CLIP_MAX);
  if (!rt_utf8_valid(text, len))
    return rt_raise(L, "robot.clipboard.set: the text is not valid UTF-8");
  rt_sel *s = sel_of(L, run, "set");
  char err[512];
  if (rt_sel_set(s, which, text, len, err, sizeof err) != RT_SEL_OK) {
    check_display(run, s);
    return rt_raise(L, "robot.clipboard.set: %s", err);
  }
  rt_log(run, "clipboard: set %s (%zu bytes), served until the run ends", rt_sel_name(which), len);
  rt_host_check(L);
  return 0;
}

void rt_clip_open(lua_State *L)
{
  static const luaL_Reg fns[] = {{"get", l_clip_get}, {"set", l_clip_set}, {NULL, NULL}};
  luaL_newlib(L, fns);
}
