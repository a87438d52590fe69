/* `vagt check SCRIPT.lua`: syntax and API check without a display. Reports robot.* names
 * the API does not have, and actions outside any robot.step, whose baseline key is
 * file:line and so changes when lines move. */
#ifndef VAGT_CHECK_H
#define VAGT_CHECK_H

#include <lua.h>
#include <stdio.h>

/* L has the robot API open (registry "vagt.env"). Returns the exit code. */
int rt_check_script(lua_State *L, const char *path, FILE *out);

/* Prints every API name, one a line ("robot.step", "Window:click"). */
void rt_check_print_api(lua_State *L, FILE *out);

/* The whole check of one script file, as `vagt check` and `vagt agent --check` do it: a
 * Lua state with the robot API in check mode, rt_check_script, closed. Returns its exit
 * code, or -1 with err when the state cannot be made. */
int rt_check_file(const char *path, FILE *out, char *err, size_t errlen);

/* rt_check_print_api on a state of its own; -1 with err when it cannot be made. */
int rt_check_api(FILE *out, char *err, size_t errlen);

#endif
