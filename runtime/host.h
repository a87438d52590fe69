/* The Lua host: one sandboxed state per run with the `robot` API in it, a count hook that
 * enforces the script-wide and per-step deadlines and the drift halt, and protected calls
 * whose message handler adds the script's file:line and a traceback. */
#ifndef VAGT_HOST_H
#define VAGT_HOST_H

#include <lua.h>

#include "run.h"

/* Creates run->L with the sandbox and the robot API. `params` are "k=v" strings. */
int rt_host_open(rt_run *run, char **params, int nparams, char *err, size_t errlen);
void rt_host_close(rt_run *run);

/* Loads and runs the script; returns the exit code. On failure run->error holds the
 * redacted message with traceback. */
int rt_host_run(rt_run *run);

/* Re-arms the hook to fire on every instruction: called once the run is aborted, so the
 * error is raised again as soon as any Lua code runs, whatever pcall did. Signal-safe. */
void rt_host_arm(rt_run *run);

/* The run a Lua state belongs to (kept in the state's extra space). */
rt_run *rt_host_run_of(lua_State *L);

/* Raises the abort error if the run is aborted or past a deadline. Every API entry calls
 * it first. */
void rt_host_check(lua_State *L);

/* luaL_error with printf formats (%lx, %zu, %.1f...) and the script position; never
 * returns. Use it instead of luaL_error everywhere in the API. */
int rt_raise(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* lua_pcall for script functions called from the API (robot.step): the error keeps the
 * traceback of where it was raised when the API re-raises it. */
int rt_host_pcall(lua_State *L, int nargs, int nresults);

/* "file:line" of the innermost script frame, for keys and messages; line 0 if none. */
int rt_host_script_line(lua_State *L, const char **file);

#endif
