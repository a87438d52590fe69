/* One way to start a child process, for every program vagt executes: the applications a
 * robot starts, the private Xvfb, the agent's runs and the pages' `vagt approve`. The child
 * leads a process group of its own, starts with default signal handling and an empty signal
 * mask, and holds no descriptor of ours but stdin/stdout/stderr and an optional `keep_fd`.
 * A failure to change folder or to execute is reported back as an error message, not as a
 * child that exits 127. */
#ifndef VAGT_SPAWN_H
#define VAGT_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* For rt_spawn.in / out / err: keep ours, or /dev/null; any other value is a descriptor. */
#define RT_SPAWN_INHERIT (-1)
#define RT_SPAWN_NULL (-2)

typedef struct rt_spawn {
  char *const *argv;    /* argv[0]: a path, or a name searched in the child's PATH */
  char *const *envp;    /* the child's whole environment; NULL: this process's */
  const char *cwd;      /* the child's working folder; NULL: this process's */
  int in, out, err;     /* RT_SPAWN_INHERIT, RT_SPAWN_NULL or a descriptor */
  int keep_fd;          /* one more descriptor left open in the child (-1: none) */
  bool die_with_parent; /* SIGTERM to the child when the thread that started it ends */
} rt_spawn;

/* An rt_spawn with every field at its default: inherit the environment, folder and
 * standard descriptors, keep no other descriptor, outlive this process. */
rt_spawn rt_spawn_defaults(char *const *argv);

/* The program argv[0] would run: a name without '/' searched in `path` (a PATH value;
 * NULL: this process's), a relative path taken from `cwd` (NULL: ours). Writes an absolute
 * path to out (not resolved through symbolic links); -1 with err set when there is none. */
int rt_spawn_which(const char *prog, const char *path, const char *cwd, char *out, size_t n,
                   char *err, size_t errlen);

/* Starts the child. Returns its pid (also its process group), or -1 with err set, e.g.
 * "cannot start 'xcalcc': not found in PATH" or "folder /x: No such file or directory". */
pid_t rt_spawn_start(const rt_spawn *s, char *err, size_t errlen);

/* A child's environment under construction: NAME=VALUE strings, NULL-terminated. */
typedef struct rt_env {
  char **v;
  size_t n, cap;
} rt_env;

/* Sets NAME to VALUE (replacing an entry of that name); 0, or -1 when out of memory. */
int rt_env_set(rt_env *e, const char *name, const char *value);
/* Removes NAME. */
void rt_env_unset(rt_env *e, const char *name);
/* The value of NAME in e, or NULL. */
const char *rt_env_get(const rt_env *e, const char *name);
/* Copies the entries of `from` (an environ-style array) for which keep(entry) is true
 * (keep NULL: all). 0, or -1 when out of memory. */
int rt_env_copy(rt_env *e, char *const *from, bool (*keep)(const char *entry));
/* The array to give as rt_spawn.envp (never NULL after a successful set or copy). */
char *const *rt_env_array(rt_env *e);
void rt_env_free(rt_env *e);

#endif
