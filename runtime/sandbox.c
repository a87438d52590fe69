#include "sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t used, limit;
} memcap;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  memcap *m = ud;
  if (!ptr)
    osize = 0;
  if (nsize == 0) {
    free(ptr);
    m->used -= osize;
    return NULL;
  }
  if (m->limit && nsize > osize && m->used + (nsize - osize) > m->limit)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p)
    m->used += nsize - osize;
  return p;
}

static int l_panic(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "vagt: unprotected Lua error: %s\n", msg ? msg : "?");
  return 0; /* Lua aborts */
}

/* The cap lives in the state's own userdata slot, freed with it in rt_host. */
lua_State *rt_sandbox_newstate(size_t mem_limit)
{
  memcap *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->limit = mem_limit;
  lua_State *L = lua_newstate(capped_alloc, m);
  if (!L) {
    free(m);
    return NULL;
  }
  lua_atpanic(L, l_panic);
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
      {LUA_OSLIBNAME, luaopen_os},      {NULL, NULL},
  };
  for (const luaL_Reg *l = libs; l->func; l++) {
    luaL_requiref(L, l->name, l->func, 1);
    lua_pop(L, 1);
  }
  /* The string metatable's __index is this very table: strip dump here, not in a copy. */
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  return L;
}

void rt_sandbox_close(lua_State *L)
{
  if (!L)
    return;
  void *ud;
  lua_getallocf(L, &ud);
  lua_close(L);
  free(ud);
}

static const char *const allowed_globals[] = {
    "assert",   "error",        "ipairs",       "next",           "pairs",    "pcall",  "select",
    "tonumber", "tostring",     "type",         "xpcall",         "rawequal", "rawget", "rawlen",
    "rawset",   "setmetatable", "getmetatable", "collectgarbage", "_VERSION", "string", "table",
    "math",     "utf8",         "coroutine",    "print",          NULL,
};

static const char *const removed_globals[] = {
    "io", "package", "require", "debug", "dofile", "loadfile", "load", "loadstring", NULL,
};

static int l_env_index(lua_State *L)
{
  const char *k = lua_tostring(L, 2);
  for (const char *const *r = removed_globals; k && *r; r++)
    if (strcmp(k, *r) == 0)
      return luaL_error(L, "'%s' is not available to robot scripts (vagt sandbox)", k);
  return 0;
}

static int l_os_index(lua_State *L)
{
  const char *k = lua_tostring(L, 2);
  return luaL_error(L,
                    "'os.%s' is not available to robot scripts (vagt sandbox: only "
                    "os.clock, os.time and os.date)",
                    k ? k : "?");
}

static void lock(lua_State *L, lua_CFunction index)
{
  lua_newtable(L);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

void rt_sandbox_push_env(lua_State *L)
{
  lua_newtable(L);
  lua_pushglobaltable(L);
  for (const char *const *g = allowed_globals; *g; g++) {
    lua_getfield(L, -1, *g);
    lua_setfield(L, -3, *g);
  }
  lua_pop(L, 1);

  lua_newtable(L); /* os: a fresh table, so the real one stays out of reach */
  lua_getglobal(L, LUA_OSLIBNAME);
  static const char *const os_ok[] = {"clock", "time", "date", "difftime", NULL};
  for (const char *const *f = os_ok; *f; f++) {
    lua_getfield(L, -1, *f);
    lua_setfield(L, -3, *f);
  }
  lua_pop(L, 1);
  lock(L, l_os_index);
  lua_setfield(L, -2, LUA_OSLIBNAME);

  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
  lock(L, l_env_index);
}

static int set_env(lua_State *L, int status, int env_idx)
{
  if (status == LUA_OK) {
    lua_pushvalue(L, env_idx);
    if (!lua_setupvalue(L, -2, 1))
      lua_pop(L, 1);
  }
  return status;
}

int rt_sandbox_loadfile(lua_State *L, const char *path, int env_idx)
{
  env_idx = lua_absindex(L, env_idx);
  return set_env(L, luaL_loadfilex(L, path, "t"), env_idx);
}

int rt_sandbox_loadstring(lua_State *L, const char *code, const char *chunkname, int env_idx)
{
  env_idx = lua_absindex(L, env_idx);
  return set_env(L, luaL_loadbufferx(L, code, strlen(code), chunkname, "t"), env_idx);
}
