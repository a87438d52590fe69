#include "secrets.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRETS_MAX (1 << 20)

void rt_secret_envname(const char *name, char *out, size_t n)
{
  size_t k = (size_t)snprintf(out, n, "VAGT_SECRET_");
  for (const char *p = name; *p && k + 1 < n; p++)
    out[k++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  if (k < n)
    out[k] = '\0';
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t l = strlen(s);
  while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\n' || s[l - 1] == '\r'))
    s[--l] = '\0';
  return s;
}

int rt_secret_get(const char *name, const char *file, char **value, char *err, size_t errlen)
{
  *value = NULL;
  if (!*name) {
    snprintf(err, errlen, "secret name is empty");
    return RT_SECRET_MISSING;
  }
  char env[256];
  rt_secret_envname(name, env, sizeof env);
  const char *v = getenv(env);
  if (v) {
    *value = strdup(v);
    return RT_SECRET_OK;
  }
  char def[4096];
  int optional = 0;
  if (!file)
    file = getenv("VAGT_SECRETS_FILE");
  if (!file) {
    const char *home = getenv("HOME");
    if (!home)
      goto missing;
    snprintf(def, sizeof def, "%s/.config/vagt/secrets", home);
    file = def;
    optional = 1;
  }
  /* Non-blocking, checked on the descriptor it reads: a FIFO or a device would hang the
   * run or feed it without end. */
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (optional && errno == ENOENT)
      goto missing;
    snprintf(err, errlen, "secrets file %s: %s", file, strerror(errno));
    return RT_SECRET_BADFILE;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "secrets file %s: not a regular file: refused", file);
    close(fd);
    return RT_SECRET_BADFILE;
  }
  if (st.st_mode & 077) {
    snprintf(err, errlen,
             "secrets file %s is readable by others (mode %03o): refused; "
             "run chmod 600 %s",
             file, (unsigned)(st.st_mode & 0777), file);
    close(fd);
    return RT_SECRET_BADFILE;
  }
  if (st.st_size > SECRETS_MAX) {
    snprintf(err, errlen, "secrets file %s: %lld bytes, more than %d: refused", file,
             (long long)st.st_size, SECRETS_MAX);
    close(fd);
    return RT_SECRET_BADFILE;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    snprintf(err, errlen, "secrets file %s: %s", file, strerror(errno));
    close(fd);
    return RT_SECRET_BADFILE;
  }
  char line[8192];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      snprintf(err, errlen, "secrets file %s:%d: expected 'name = value'", file, lineno);
      fclose(f);
      return RT_SECRET_BADFILE;
    }
    *eq = '\0';
    if (strcmp(trim(s), name) == 0) {
      *value = strdup(trim(eq + 1));
      fclose(f);
      /* The line buffer held the value: wipe it. */
      memset(line, 0, sizeof line);
      return RT_SECRET_OK;
    }
  }
  memset(line, 0, sizeof line);
  fclose(f);
  snprintf(err, errlen, "secret '%s' not found: set %s or add '%s = ...' to %s", name, env, name,
           file);
  return RT_SECRET_MISSING;
missing:
  snprintf(err, errlen,
           "secret '%s' not found: set %s or add '%s = ...' to an owner-only "
           "secrets file (--secrets FILE or ~/.config/vagt/secrets)",
           name, env, name);
  return RT_SECRET_MISSING;
}
