/* robot.app and the robot.App type: applications started by a robot (argv, never a shell),
 * ended with the run unless started with keep = true. */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allow.h"
#include "api.h"
#include "host.h"
#include "proc.h"
#include "spawn.h"
#include "xwin.h"

typedef struct {
  size_t idx; /* into run->apps */
} l_app;

static rt_app *check_app(lua_State *L, int idx)
{
  l_app *a = luaL_checkudata(L, idx, RT_APP_MT);
  return rt_host_run_of(L)->apps[a->idx];
}

static void free_argv(char **argv)
{
  for (char **p = argv; p && *p; p++)
    free(*p);
  free(argv);
}

static bool env_name_ok(const char *k)
{
  if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
    return false;
  for (const char *p = k + 1; *p; p++)
    if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9')))
      return false;
  return true;
}

/* Checks start{ env = {...} } (at the top of the stack) before anything is allocated:
 * names, values, and under an allow-list no loader or PATH variables. */
static void check_env(lua_State *L, rt_run *run)
{
  if (lua_isnil(L, -1))
    return;
  if (!lua_istable(L, -1))
    rt_raise(L, "robot.app.start: env must be a table { NAME = \"value\" }");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) != LUA_TSTRING || !env_name_ok(lua_tostring(L, -2)))
      rt_raise(L, "robot.app.start: env: '%s' is not a variable name",
               lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
    const char *k = lua_tostring(L, -2);
    int t = lua_type(L, -1);
    if (t != LUA_TSTRING && t != LUA_TNUMBER && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
      rt_raise(L, "robot.app.start: env.%s must be a string (or false to leave it out)", k);
    if (t != LUA_TBOOLEAN && strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
      rt_raise(L, "robot.app.start: env.%s holds a NUL byte", k);
    if (run->allow && rt_allow_env_refused(k))
      rt_raise(L,
               "robot.app.start: env.%s: not allowed under the agent's allow-list "
               "(it would change which code a program loads)",
               k);
    lua_pop(L, 1);
  }
}

/* A started application's environment: the display, HOME, PATH and vagt's UTF-8 locale as
 * LANG, and nothing else (no VAGT_SECRET_*, nothing of the agent's); then the robot's env,
 * which adds, replaces, or (false) removes. Returns -1 when out of memory. */
static int app_env(lua_State *L, int opts, rt_env *e)
{
  static const char *const pass[] = {"DISPLAY", "XAUTHORITY", "HOME", "PATH"};
  for (size_t i = 0; i < sizeof pass / sizeof *pass; i++) {
    const char *v = getenv(pass[i]);
    if (!v && strcmp(pass[i], "PATH") == 0)
      v = "/usr/local/bin:/usr/bin:/bin";
    if (v && rt_env_set(e, pass[i], v) != 0)
      return -1;
  }
  const char *ctype = setlocale(LC_CTYPE, NULL);
  if (rt_env_set(e, "LANG", ctype && strcmp(ctype, "C") != 0 ? ctype : "C.UTF-8") != 0)
    return -1;
  lua_getfield(L, opts, "env");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      const char *k = lua_tostring(L, -2);
      if (lua_type(L, -1) == LUA_TBOOLEAN)
        rt_env_unset(e, k);
      else if (rt_env_set(e, k, lua_tostring(L, -1)) != 0)
        return -1;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return rt_env_array(e) ? 0 : -1;
}

static int l_app_start(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  luaL_argcheck(L, n >= 1, 1, "give the program and its arguments: { \"xcalc\", ... }");
  /* One value on the stack at a time: a long argv must not outgrow the C stack Lua gives
   * this function (LUA_MINSTACK slots, unchecked in release builds). */
  for (lua_Integer i = 1; i <= n; i++) {
    bool ok = lua_rawgeti(L, 1, i) == LUA_TSTRING || lua_isnumber(L, -1);
    ok = ok && strlen(lua_tostring(L, -1)) == lua_rawlen(L, -1);
    lua_pop(L, 1);
    if (!ok)
      return rt_raise(L, "robot.app.start: argument %d must be a string (without NUL bytes)",
                      (int)i);
  }
  lua_getfield(L, 1, "keep");
  bool keep = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "cwd");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    return rt_raise(L, "robot.app.start: cwd must be a folder name (a string)");
  lua_pop(L, 1);
  lua_getfield(L, 1, "env");
  check_env(L, run);
  lua_pop(L, 1);

  /* The program that will run, decided before it starts: under an allow-list its real
   * path must be listed, and that path is what runs. */
  lua_rawgeti(L, 1, 1);
  int iprog = lua_gettop(L);
  lua_getfield(L, 1, "cwd");
  const char *cwd = lua_tostring(L, -1);
  char path[4096], real[4096], err[1024] = "out of memory";
  struct stat cst;
  if (cwd && stat(cwd, &cst) != 0)
    return rt_raise(L, "robot.app.start: cwd %s: %s", cwd, strerror(errno));
  if (cwd && !S_ISDIR(cst.st_mode))
    return rt_raise(L, "robot.app.start: cwd %s: not a folder", cwd);
  lua_getfield(L, 1, "env"); /* the child's PATH, which the robot's env may set */
  if (lua_istable(L, -1))
    lua_getfield(L, -1, "PATH");
  else
    lua_pushnil(L);
  const char *envpath = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  if (rt_spawn_which(lua_tostring(L, iprog), envpath, cwd, path, sizeof path, err, sizeof err))
    return rt_raise(L, "robot.app.start: %s", err);
  if (run->allow && !rt_allow_program(run->allow, path, real, sizeof real))
    return rt_raise(L,
                    "robot.app.start: '%s' (%s) is not in the allow-list of programs "
                    "this robot may start",
                    lua_tostring(L, iprog), path);
  lua_settop(L, iprog - 1);

  /* Reserve everything that can fail in Lua before allocating in C. */
  l_app *ud = lua_newuserdatauv(L, sizeof *ud, 0);
  rt_app **apps = realloc(run->apps, (run->napps + 1) * sizeof *apps);
  if (!apps)
    return rt_raise(L, "out of memory");
  run->apps = apps;

  char **argv = calloc((size_t)n + 1, sizeof *argv);
  rt_app *app = calloc(1, sizeof *app);
  bool oom = !argv || !app;
  for (lua_Integer i = 1; !oom && i <= n; i++) {
    lua_rawgeti(L, 1, i);
    argv[i - 1] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    oom = !argv[i - 1];
  }
  rt_env env = {0};
  oom = oom || app_env(L, 1, &env) != 0;
  rt_winfo *all = NULL;
  size_t cnt = 0;
  if (!oom && rt_x_toplevels(run->dpy, &all, &cnt) == 0 && cnt) {
    app->known = calloc(cnt, sizeof *app->known);
    for (size_t i = 0; app->known && i < cnt; i++)
      app->known[app->nknown++] = all[i].id;
  }
  rt_winfo_free(all, cnt);
  free(all);
  /* what the application prints (it may echo what the robot typed) goes to the run
   * folder's apps.log, owner-only, not to vagt's output and the agent's log */
  int out = RT_SPAWN_INHERIT;
  if (!oom && run->run_dir) {
    char logp[4096];
    snprintf(logp, sizeof logp, "%s/apps.log", run->run_dir);
    out = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
      snprintf(err, sizeof err, "%.900s: %s", logp, strerror(errno));
      oom = true;
    }
  }
  pid_t pid = -1;
  if (!oom) {
    lua_getfield(L, 1, "cwd");
    char *prog = argv[0];
    if (run->allow) /* the checked file itself, not a name to search again */
      argv[0] = real;
    rt_spawn s = rt_spawn_defaults(argv);
    s.envp = rt_env_array(&env);
    s.cwd = lua_tostring(L, -1);
    s.in = RT_SPAWN_NULL;
    s.out = s.err = out;
    pid = rt_proc_spawn(&s, keep, err, sizeof err);
    argv[0] = prog;
    lua_pop(L, 1);
  }
  rt_env_free(&env);
  if (out >= 0)
    close(out);
  if (pid < 0) {
    free_argv(argv);
    if (app)
      free(app->known);
    free(app);
    return rt_raise(L, "robot.app.start: %s", err);
  }
  app->pid = pid;
  app->keep = keep;
  app->name = argv[0];
  for (lua_Integer i = 1; i < n; i++)
    free(argv[i]);
  free(argv);
  run->apps[run->napps] = app;
  ud->idx = run->napps++;
  luaL_setmetatable(L, RT_APP_MT);
  rt_log(run, "started %s (pid %d)%s", app->name, (int)pid, keep ? ", kept after the run" : "");
  return 1;
}

static void reap(rt_app *a)
{
  if (!a->exited && rt_proc_exited(a->pid, &a->status))
    a->exited = true;
}

static int l_app_wait_window(lua_State *L)
{
  rt_app *a = check_app(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  reap(a);
  if (a->exited)
    return rt_raise(L, "%s (pid %d) has exited (status %d) before showing a window", a->name,
                    (int)a->pid, WIFEXITED(a->status) ? WEXITSTATUS(a->status) : -1);
  return rt_window_wait(L, 2, a->pid, a->known, a->nknown);
}

static int l_app_close(lua_State *L)
{
  rt_app *a = check_app(L, 1);
  if (!a->exited) {
    int st = rt_proc_stop(a->pid, 3.0);
    a->exited = true;
    a->status = st;
  }
  return 0;
}

static int l_app_running(lua_State *L)
{
  rt_app *a = check_app(L, 1);
  reap(a);
  lua_pushboolean(L, !a->exited);
  return 1;
}

static int l_app_index(lua_State *L)
{
  rt_app *a = check_app(L, 1);
  const char *k = luaL_checkstring(L, 2);
  lua_getfield(L, lua_upvalueindex(1), k);
  if (!lua_isnil(L, -1))
    return 1;
  if (strcmp(k, "pid") == 0) {
    lua_pushinteger(L, a->pid);
    return 1;
  }
  if (strcmp(k, "name") == 0) {
    lua_pushstring(L, a->name);
    return 1;
  }
  return rt_raise(L, "robot.App has no field or method '%s'", k);
}

static int l_app_tostring(lua_State *L)
{
  rt_app *a = check_app(L, 1);
  lua_pushfstring(L, "robot.App(%s, pid %d)", a->name, (int)a->pid);
  return 1;
}

static const luaL_Reg app_methods[] = {
    {"wait_window", l_app_wait_window},
    {"close", l_app_close},
    {"running", l_app_running},
    {NULL, NULL},
};

void rt_app_open(lua_State *L)
{
  luaL_newmetatable(L, RT_APP_MT);
  luaL_newlib(L, app_methods);
  lua_pushcclosure(L, l_app_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_app_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_app_start);
  lua_setfield(L, -2, "start");
}
