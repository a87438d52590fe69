/* Step keys name a guarded action in the baseline and in reports. Inside
 * robot.step("name", ...) the key is the step's path, the action's ordinal within that
 * invocation and the action kind ("Registrer borger#3:type"), so every loop iteration and
 * every edit that moves lines keeps the key. Outside any named step it falls back to
 * "file.lua:LINE:kind", which changes when lines move; `vagt check` says so. Pure code. */
#ifndef VAGT_STEPKEY_H
#define VAGT_STEPKEY_H

#include <stddef.h>

/* Writes the key into out; returns the length it needed (snprintf semantics), -1 on bad
 * arguments (no step path and no file, ordinal < 1 inside a step, empty kind). */
int rt_stepkey(char *out, size_t n, const char *step_path, int ordinal, const char *file, int line,
               const char *kind);

/* Joins a nested step name onto its parent's path with '/'. Returns malloc'd string. */
char *rt_stepkey_path(const char *parent, const char *name);

#endif
