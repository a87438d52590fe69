/* The `robot` API that scripts see (README "The robot API"). api.c builds the robot
 * table (step, log, sleep, secret, params); l_window.c the robot.Window type and
 * robot.window; l_app.c the robot.App type and robot.app; l_clip.c robot.clipboard. */
#ifndef VAGT_API_H
#define VAGT_API_H

#include <lua.h>

#include "ocr/rt_ocr.h"
#include "run.h"

#define RT_WINDOW_MT "robot.Window"
#define RT_APP_MT "robot.App"

/* Pushes the robot table into the environment at the top of the stack, which stays. */
int rt_api_open(lua_State *L, rt_run *run, char **params, int nparams, char *err, size_t errlen);

void rt_window_open(lua_State *L); /* pushes robot.window, registers the metatable */
void rt_app_open(lua_State *L);    /* pushes robot.app, registers the metatable */
void rt_clip_open(lua_State *L);   /* pushes robot.clipboard (l_clip.c) */
void rt_window_push(lua_State *L, Window id, const char *cls);
/* Waits for a window matching the query table at `opts` (class, name, timeout); windows in
 * `exclude` only count when their _NET_WM_PID is `pid`. Pushes it or raises. */
int rt_window_wait(lua_State *L, int opts, pid_t pid, const Window *exclude, size_t nexclude);

/* Adds find_text, wait_text, read_text and words to the Window methods table on top. */
void rt_ocr_api_open(lua_State *L);
Window rt_window_id(lua_State *L, int idx);
/* The WM_CLASS class of the robot.Window at idx ("" when it has none). */
const char *rt_window_class(lua_State *L, int idx);
/* The find options (nth, near, region, ignore_case) of the table at idx. */
void rt_ocr_find_opts_from(lua_State *L, int idx, rt_ocr_find_opts *o);

/* A region {x=, y=, w=, h=} (window-relative, w and h > 0) from the table at idx; raises
 * naming what is wrong. */
struct rt_rect;
void rt_rect_from(lua_State *L, int idx, struct rt_rect *r);

/* Reads an optional number field of the table at idx. */
double rt_opt_number(lua_State *L, int idx, const char *field, double def);
/* Calls string.find(s, pattern) safely; raises on a malformed pattern. */
int rt_pattern_match(lua_State *L, const char *s, const char *pattern);

/* The names the API defines, for `vagt check --api` and the LuaLS stub test. */
void rt_api_list(lua_State *L);

#endif
