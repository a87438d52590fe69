/* The Lua environment robot scripts (and the agent's configuration) run in: an allow-list
 * of Lua's own functions. No io, package, require, debug, dofile, loadfile, load; os only
 * clock/time/date; string without dump. The environment is locked: naming a removed global
 * is an error that says it is not available, and its metatable cannot be read or replaced.
 * A memory cap and a count hook (host.c) bound what a script can consume. */
#ifndef VAGT_SANDBOX_H
#define VAGT_SANDBOX_H

#include <lua.h>

/* A new state with the allowed libraries opened and an allocator capped at `mem_limit`
 * bytes (0 = no cap). NULL when out of memory. */
lua_State *rt_sandbox_newstate(size_t mem_limit);

/* Closes a state made by rt_sandbox_newstate and frees its allocator. */
void rt_sandbox_close(lua_State *L);

/* Pushes a new sandbox environment table. Host code adds `robot` to it afterwards. */
void rt_sandbox_push_env(lua_State *L);

/* Loads a script file as text only (bytecode can crash Lua) with the environment at the
 * given stack index as its _ENV. Returns a lua_load status; the error message is pushed. */
int rt_sandbox_loadfile(lua_State *L, const char *path, int env_idx);
int rt_sandbox_loadstring(lua_State *L, const char *code, const char *chunkname, int env_idx);

#endif
