#include "host.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "sandbox.h"
#include "vu.h"

#define HOOK_EVERY 1000
#define MEM_LIMIT ((size_t)1 << 30)

int rt_raise(lua_State *L, const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  luaL_where(L, 1);
  lua_pushstring(L, buf);
  lua_concat(L, 2);
  return lua_error(L);
}

rt_run *rt_host_run_of(lua_State *L)
{
  return *(rt_run **)lua_getextraspace(L);
}

static void deadline_check(rt_run *run)
{
  if (run->abort)
    return;
  double now = vu_mono();
  if (run->script_deadline > 0 && now > run->script_deadline) {
    rt_run_abort(run, RT_ABORT_SCRIPT_TIMEOUT,
                 "script timeout: the run exceeded its %.0f s limit (--timeout)",
                 run->script_deadline - run->started);
    return;
  }
  for (size_t i = run->nframes; i-- > 0;) {
    rt_step_frame *f = &run->frames[i];
    if (f->deadline > 0 && now > f->deadline) {
      rt_run_abort(run, RT_ABORT_STEP_TIMEOUT, "step '%s' exceeded its deadline", f->name);
      return;
    }
  }
}

static void raise_abort(lua_State *L, rt_run *run)
{
  const char *msg = run->abort_msg ? run->abort_msg : "the run was stopped";
  if (run->abort == RT_ABORT_INTERRUPT && !run->abort_msg)
    msg = "interrupted (signal)";
  luaL_where(L, 1);
  lua_pushstring(L, msg);
  lua_concat(L, 2);
  lua_error(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  rt_run *run = rt_host_run_of(L);
  deadline_check(run);
  if (run->abort) {
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    /* In a hook, level 0 is the running Lua function: name its line, not its caller's. */
    lua_Debug d;
    if (lua_getstack(L, 0, &d) && lua_getinfo(L, "Sl", &d) && d.currentline > 0)
      lua_pushfstring(L, "%s:%d: ", d.short_src, d.currentline);
    else
      lua_pushliteral(L, "");
    lua_pushstring(L, run->abort_msg ? run->abort_msg : "interrupted (signal)");
    lua_concat(L, 2);
    lua_error(L);
  }
}

void rt_host_arm(rt_run *run)
{
  if (run->L)
    lua_sethook(run->L, count_hook, LUA_MASKCOUNT, 1);
}

void rt_host_check(lua_State *L)
{
  rt_run *run = rt_host_run_of(L);
  deadline_check(run);
  if (run->abort)
    raise_abort(L, run);
}

int rt_host_script_line(lua_State *L, const char **file)
{
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar))
      break;
    if (ar.currentline > 0 && ar.source[0] == '@') {
      if (file)
        *file = ar.source + 1;
      return ar.currentline;
    }
  }
  if (file)
    *file = NULL;
  return 0;
}

/* Where the innermost script frame is, "file:line", into buf. */
static void where_of(lua_State *L, char *buf, size_t n)
{
  lua_Debug ar;
  buf[0] = '\0';
  for (int level = 0; lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && ar.source[0] == '@') {
      snprintf(buf, n, "%s:%d", ar.short_src, ar.currentline);
      return;
    }
}

/* Turns any error value into a message string at index 1. */
static const char *error_text(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg)
    return msg;
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    msg = lua_tostring(L, -1);
  else
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  lua_replace(L, 1);
  return msg;
}

/* Inner handler (robot.step): keeps the traceback of where the error really happened for
 * the outer handler, and passes the error value on unchanged. */
static int l_msgh_inner(lua_State *L)
{
  lua_settop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.err");
  int seen = lua_rawequal(L, 1, -1);
  lua_pop(L, 1);
  if (seen)
    return 1;
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.err");
  lua_pushvalue(L, 1);
  const char *msg = lua_tostring(L, -1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.err.tb");
  char where[1024];
  where_of(L, where, sizeof where);
  lua_pushstring(L, where);
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.err.where");
  lua_pop(L, 1);
  return 1;
}

int rt_host_pcall(lua_State *L, int nargs, int nresults)
{
  int fn = lua_gettop(L) - nargs;
  lua_pushcfunction(L, l_msgh_inner);
  lua_insert(L, fn);
  int st = lua_pcall(L, nargs, nresults, fn);
  lua_remove(L, fn);
  return st;
}

/* Outer handler: copes with non-string errors, remembers where the script failed and
 * appends a traceback (the one kept by an inner handler when the error passed one). */
static int l_msgh(lua_State *L)
{
  lua_settop(L, 1);
  rt_run *run = rt_host_run_of(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.err");
  int kept = lua_rawequal(L, 1, -1);
  lua_pop(L, 1);
  if (kept) {
    lua_getfield(L, LUA_REGISTRYINDEX, "vagt.err.where");
    free(run->error_where);
    run->error_where = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_getfield(L, LUA_REGISTRYINDEX, "vagt.err.tb");
    return 1;
  }
  const char *msg = error_text(L);
  char where[1024];
  where_of(L, where, sizeof where);
  free(run->error_where);
  run->error_where = strdup(where);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int rt_host_open(rt_run *run, char **params, int nparams, char *err, size_t errlen)
{
  lua_State *L = rt_sandbox_newstate(MEM_LIMIT);
  if (!L) {
    snprintf(err, errlen, "cannot create the Lua state (out of memory)");
    return RT_EXIT_ENV;
  }
  *(rt_run **)lua_getextraspace(L) = run;
  run->L = L;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);

  rt_sandbox_push_env(L);
  int rc = rt_api_open(L, run, params, nparams, err, errlen);
  if (rc != RT_EXIT_OK)
    return rc;
  /* print goes where robot.log goes: stderr and the run's log, secrets masked. */
  lua_getfield(L, -1, "robot");
  lua_getfield(L, -1, "log");
  lua_setfield(L, -3, "print");
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.env");
  return RT_EXIT_OK;
}

void rt_host_close(rt_run *run)
{
  if (!run->L)
    return;
  rt_sandbox_close(run->L);
  run->L = NULL;
}

static void set_error(rt_run *run, const char *msg)
{
  free(run->error);
  run->error = rt_redact(run, msg);
}

int rt_host_run(rt_run *run)
{
  lua_State *L = run->L;
  lua_pushcfunction(L, l_msgh);
  int msgh = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  int st = rt_sandbox_loadfile(L, run->script, -1);
  if (st != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    set_error(run, m ? m : "cannot load the script");
    lua_settop(L, msgh - 1);
    /* A missing or unreadable file is a usage error; a syntax error is the script's. */
    return st == LUA_ERRFILE ? RT_EXIT_USAGE : RT_EXIT_SCRIPT;
  }
  lua_remove(L, -2);
  st = lua_pcall(L, 0, 0, msgh);
  int code = RT_EXIT_OK;
  if (st != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    set_error(run, m ? m : "(error without message)");
    if (run->abort)
      code = rt_abort_exit_code(run->abort);
    else if (run->exit_code)
      code = run->exit_code;
    else
      code = RT_EXIT_SCRIPT;
  } else if (run->abort) {
    /* Aborted in C between instructions and nothing ran afterwards to raise it. */
    set_error(run, run->abort_msg ? run->abort_msg : "stopped");
    code = rt_abort_exit_code(run->abort);
  } else if (run->items_need_person > 0) {
    code = RT_EXIT_REVIEW; /* passed, but not everything is done: a person must look */
  }
  lua_settop(L, msgh - 1);
  return code;
}
