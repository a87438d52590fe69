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

#endif
