#include "api.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "items.h"
#include "secrets.h"
#include "stepkey.h"
#include "vu.h"

double rt_opt_number(lua_State *L, int idx, const char *field, double def)
{
  if (idx == 0 || lua_type(L, idx) != LUA_TTABLE) /* 0: no options (and no stack slot) */
    return def;
  lua_getfield(L, idx, field);
  double v = def;
  if (!lua_isnil(L, -1)) {
    if (!lua_isnumber(L, -1))
      rt_raise(L, "option '%s' must be a number, got %s", field, luaL_typename(L, -1));
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

int rt_pattern_match(lua_State *L, const char *s, const char *pattern)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.strfind");
  lua_pushstring(L, s);
  lua_pushstring(L, pattern);
  lua_call(L, 2, 1);
  int hit = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return hit;
}

static int l_robot_log(lua_State *L)
{
  rt_run *run = rt_host_run_of(L);
  int n = lua_gettop(L); /* before luaL_buffinit, which may push a placeholder */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1)
      luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  const char *file;
  int line = rt_host_script_line(L, &file);
  rt_log_script(run, file, line, lua_tostring(L, -1));
  return 0;
}

static int l_robot_sleep(lua_State *L)
{
  rt_host_check(L);
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0, 1, "seconds must be >= 0");
  rt_sleep(rt_host_run_of(L), s);
  rt_host_check(L);
  return 0;
}

static int l_robot_secret(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  const char *name = luaL_checkstring(L, 1);
  char *v = NULL;
  char err[1024];
  int rc = rt_secret_get(name, run->secrets_file, &v, err, sizeof err);
  if (rc != RT_SECRET_OK) {
    if (rc == RT_SECRET_BADFILE)
      run->exit_code = RT_EXIT_USAGE;
    return rt_raise(L, "%s", err);
  }
  char **n = realloc(run->secrets, (run->nsecrets + 1) * sizeof *n);
  if (!n) {
    free(v);
    return rt_raise(L, "out of memory");
  }
  run->secrets = n;
  run->secrets[run->nsecrets++] = v;
  lua_pushstring(L, v);
  return 1;
}

/* Pops step frames above `depth`, freeing their names. */
static void frames_pop(rt_run *run, size_t depth)
{
  while (run->nframes > depth) {
    rt_step_frame *f = &run->frames[--run->nframes];
    free(f->name);
    for (int i = 0; i < f->nnames; i++)
      free(f->names[i]);
    free(f->names);
  }
}

/* robot.step(name, [opts,] fn): names a group of actions for keys and reports. */
static int l_robot_step(lua_State *L)
{
  rt_host_check(L);
  rt_run *run = rt_host_run_of(L);
  const char *name = luaL_checkstring(L, 1);
  luaL_argcheck(L, *name && !strchr(name, '#') && !strchr(name, '/'), 1,
                "step names must be non-empty and contain no '#' or '/'");
  if (rt_holds_secret(run, name)) /* a step name is a baseline key, kept and sent */
    return rt_raise(L, "robot.step: the step name holds a secret: step names are kept in "
                       "the baseline, the run's files and its alerts; name the step without it");
  int fn = 2;
  double timeout = run->step_timeout;
  if (lua_type(L, 2) == LUA_TTABLE) {
    timeout = rt_opt_number(L, 2, "timeout", timeout);
    fn = 3;
  }
  luaL_checktype(L, fn, LUA_TFUNCTION);
  if (run->nframes == run->cframes) {
    size_t c = run->cframes ? run->cframes * 2 : 8;
    rt_step_frame *f = realloc(run->frames, c * sizeof *f);
    if (!f)
      return rt_raise(L, "out of memory");
    run->frames = f;
    run->cframes = c;
  }
  char *path = rt_stepkey_path(run->nframes ? run->frames[run->nframes - 1].name : NULL, name);
  if (!path)
    return rt_raise(L, "out of memory");
  size_t depth = run->nframes;
  double dl = timeout > 0 ? vu_mono() + timeout : 0;
  if (depth && run->frames[depth - 1].deadline > 0 &&
      (dl == 0 || run->frames[depth - 1].deadline < dl))
    dl = run->frames[depth - 1].deadline;
  run->frames[run->nframes++] = (rt_step_frame){path, 0, NULL, 0, dl};
  rt_log(run, "step: %s", path);
  int top = lua_gettop(L);
  lua_pushvalue(L, fn);
  int st = rt_host_pcall(L, 0, LUA_MULTRET);
  frames_pop(run, depth);
  if (st != LUA_OK)
    return lua_error(L);
  return lua_gettop(L) - top;
}

static void push_params(lua_State *L, char **params, int n)
{
  lua_newtable(L);
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(params[i], '=');
    lua_pushlstring(L, params[i], (size_t)(eq - params[i]));
    lua_pushstring(L, eq + 1);
    lua_settable(L, -3);
  }
}

static const char *const evidence_names[] = {"masked", "none", "full", NULL};

/* robot.evidence: what evidence images keep; read back as set. */
static int robot_index(lua_State *L)
{
  const char *k = lua_tostring(L, 2);
  if (k && !strcmp(k, "evidence")) {
    lua_pushstring(L, evidence_names[rt_host_run_of(L)->evidence]);
    return 1;
  }
  return 0;
}

static int robot_newindex(lua_State *L)
{
  const char *k = lua_tostring(L, 2);
  if (!k || strcmp(k, "evidence")) {
    lua_rawset(L, 1);
    return 0;
  }
  const char *v = lua_tostring(L, 3);
  int i = 0;
  while (v && evidence_names[i] && strcmp(evidence_names[i], v))
    i++;
  if (!v || !evidence_names[i])
    return rt_raise(L, "robot.evidence must be \"masked\", \"none\" or \"full\", got %s",
                    v ? v : luaL_typename(L, 3));
  rt_run *run = rt_host_run_of(L);
  if (run->evidence_fixed && run->evidence != (rt_evidence)i)
    rt_log(run, "robot.evidence = \"%s\" not applied: this run's evidence is \"%s\" (--evidence)",
           v, evidence_names[run->evidence]);
  else
    run->evidence = (rt_evidence)i;
  return 0;
}

static const luaL_Reg robot_funcs[] = {
    {"step", l_robot_step},     {"log", l_robot_log}, {"sleep", l_robot_sleep},
    {"secret", l_robot_secret}, {NULL, NULL},
};

int rt_api_open(lua_State *L, rt_run *run, char **params, int nparams, char *err, size_t errlen)
{
  for (int i = 0; i < nparams; i++) {
    const char *eq = strchr(params[i], '=');
    if (!eq || eq == params[i]) {
      snprintf(err, errlen, "--set %s: expected key=value", params[i]);
      return RT_EXIT_USAGE;
    }
  }
  (void)run;
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "find");
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.strfind");
  lua_pop(L, 1);

  luaL_newlib(L, robot_funcs);
  lua_newtable(L); /* robot.evidence is checked when set */
  lua_pushcfunction(L, robot_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, robot_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  push_params(L, params, nparams);
  lua_setfield(L, -2, "params");
  lua_pushstring(L, VAGT_VERSION);
  lua_setfield(L, -2, "version");
  rt_window_open(L);
  lua_setfield(L, -2, "window");
  lua_createtable(L, 0, 1); /* robot.ocr: settings read when OCR is first used */
  lua_pushstring(L, RT_OCR_DEFAULT_LANGS);
  lua_setfield(L, -2, "lang");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.ocrconf");
  lua_setfield(L, -2, "ocr");
  rt_app_open(L);
  lua_setfield(L, -2, "app");
  rt_clip_open(L);
  lua_setfield(L, -2, "clipboard");
  rt_items_open(L);
  lua_setfield(L, -2, "robot");
  return RT_EXIT_OK;
}
