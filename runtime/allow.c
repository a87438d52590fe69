#include "allow.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spawn.h"

struct rt_allow {
  char **programs, **files; /* real paths */
  bool *folder;             /* files[i] is a folder */
  size_t nprograms, nfiles;
};

rt_allow *rt_allow_new(void)
{
  return calloc(1, sizeof(rt_allow));
}

void rt_allow_free(rt_allow *a)
{
  if (!a)
    return;
  for (size_t i = 0; i < a->nprograms; i++)
    free(a->programs[i]);
  for (size_t i = 0; i < a->nfiles; i++)
    free(a->files[i]);
  free(a->programs);
  free(a->files);
  free(a->folder);
  free(a);
}

static int push(char ***list, size_t *n, const char *s)
{
  char **l = realloc(*list, (*n + 1) * sizeof *l);
  if (!l)
    return -1;
  *list = l;
  if (!(l[*n] = strdup(s)))
    return -1;
  (*n)++;
  return 0;
}

int rt_allow_add_program(rt_allow *a, const char *prog, char *err, size_t errlen)
{
  char path[PATH_MAX], real[PATH_MAX], why[512];
  if (rt_spawn_which(prog, NULL, NULL, path, sizeof path, why, sizeof why) != 0) {
    snprintf(err, errlen, "%s", why);
    return -1;
  }
  if (!realpath(path, real)) {
    snprintf(err, errlen, "%s", strerror(errno));
    return -1;
  }
  if (push(&a->programs, &a->nprograms, real) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

int rt_allow_add_file(rt_allow *a, const char *path, char *err, size_t errlen)
{
  char real[PATH_MAX];
  struct stat st;
  if (!realpath(path, real) || stat(real, &st) != 0) {
    snprintf(err, errlen, "%s", strerror(errno));
    return -1;
  }
  bool *f = realloc(a->folder, (a->nfiles + 1) * sizeof *f);
  if (!f) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  a->folder = f;
  f[a->nfiles] = S_ISDIR(st.st_mode);
  if (push(&a->files, &a->nfiles, real) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

bool rt_allow_program(const rt_allow *a, const char *path, char *real, size_t n)
{
  char r[PATH_MAX];
  if (!realpath(path, r) || strlen(r) >= n)
    return false;
  for (size_t i = 0; i < a->nprograms; i++)
    if (strcmp(a->programs[i], r) == 0) {
      memcpy(real, r, strlen(r) + 1);
      return true;
    }
  return false;
}

bool rt_allow_file(const rt_allow *a, const char *path, char *real, size_t n)
{
  char r[PATH_MAX];
  if (!realpath(path, r) || strlen(r) >= n)
    return false;
  for (size_t i = 0; i < a->nfiles; i++) {
    size_t l = strlen(a->files[i]);
    bool under = a->folder[i] && strncmp(r, a->files[i], l) == 0 &&
                 (r[l] == '/' || (l == 1 && a->files[i][0] == '/'));
    if (strcmp(a->files[i], r) == 0 || under) {
      memcpy(real, r, strlen(r) + 1);
      return true;
    }
  }
  return false;
}

bool rt_allow_env_refused(const char *name)
{
  return strncmp(name, "LD_", 3) == 0 || strcmp(name, "PATH") == 0 ||
         strcmp(name, "GCONV_PATH") == 0;
}
