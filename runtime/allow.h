/* What the robots of a run may start and read, when an allow-list is given (the agent's
 * `allow = { programs = {...}, files = {...} }`, vagt run --allow-program/--allow-file).
 * Entries and candidates are compared as real paths (symbolic links resolved), so a link,
 * a relative path or another name in PATH does not get past it. A file entry that is a
 * folder allows what lies under it. An allowed program can still do whatever it does
 * (a terminal or an editor runs anything): list the applications, never a shell. */
#ifndef VAGT_ALLOW_H
#define VAGT_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rt_allow rt_allow;

rt_allow *rt_allow_new(void);
void rt_allow_free(rt_allow *a);

/* A program by name (searched in PATH) or path; it must exist now. -1 with err set (the reason). */
int rt_allow_add_program(rt_allow *a, const char *prog, char *err, size_t errlen);
/* A file or folder; it must exist now. -1 with err set. */
int rt_allow_add_file(rt_allow *a, const char *path, char *err, size_t errlen);

/* True when the program at `path` (an absolute path from rt_spawn_which) is allowed; its
 * real path is written to real (what to execute, so a link changed later is not followed). */
bool rt_allow_program(const rt_allow *a, const char *path, char *real, size_t n);
/* True when the file at path is allowed; its real path is written to real (what to open). */
bool rt_allow_file(const rt_allow *a, const char *path, char *real, size_t n);

/* Environment variables a robot may not set for a program under an allow-list: the
 * dynamic loader's (LD_*), the search PATH and the loadable gconv modules. */
bool rt_allow_env_refused(const char *name);

#endif
