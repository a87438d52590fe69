#include "stepkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_stepkey(char *out, size_t n, const char *step_path, int ordinal, const char *file, int line,
               const char *kind)
{
  if (!kind || !*kind)
    return -1;
  if (step_path && *step_path) {
    if (ordinal < 1)
      return -1;
    return snprintf(out, n, "%s#%d:%s", step_path, ordinal, kind);
  }
  if (!file || !*file || line < 1)
    return -1;
  return snprintf(out, n, "%s:%d:%s", file, line, kind);
}

char *rt_stepkey_path(const char *parent, const char *name)
{
  size_t lp = parent ? strlen(parent) : 0, ln = strlen(name);
  char *s = malloc(lp + ln + 2);
  if (!s)
    return NULL;
  if (lp) {
    memcpy(s, parent, lp);
    s[lp++] = '/';
  }
  memcpy(s + lp, name, ln + 1);
  return s;
}
