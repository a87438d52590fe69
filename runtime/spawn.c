#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

rt_spawn rt_spawn_defaults(char *const *argv)
{
  return (rt_spawn){.argv = argv,
                    .in = RT_SPAWN_INHERIT,
                    .out = RT_SPAWN_INHERIT,
                    .err = RT_SPAWN_INHERIT,
                    .keep_fd = -1};
}

static bool executable(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int rt_spawn_which(const char *prog, const char *path, const char *cwd, char *out, size_t n,
                   char *err, size_t errlen)
{
  char here[PATH_MAX], base[PATH_MAX];
  if (!cwd || cwd[0] != '/') { /* relative names are taken from an absolute folder */
    if (!getcwd(here, sizeof here)) {
      snprintf(err, errlen, "cannot start '%s': the current folder: %s", prog, strerror(errno));
      return -1;
    }
    int k = cwd ? snprintf(base, sizeof base, "%s/%s", here, cwd)
                : snprintf(base, sizeof base, "%s", here);
    if (k < 0 || (size_t)k >= sizeof base) {
      snprintf(err, errlen, "cannot start '%.200s': path too long", prog);
      return -1;
    }
    cwd = base;
  }
  if (!*prog) {
    snprintf(err, errlen, "cannot start '': an empty program name");
    return -1;
  }
  if (strchr(prog, '/')) {
    int k = prog[0] == '/' ? snprintf(out, n, "%s", prog) : snprintf(out, n, "%s/%s", cwd, prog);
    if (k < 0 || (size_t)k >= n) {
      snprintf(err, errlen, "cannot start '%.200s': path too long", prog);
      return -1;
    }
    struct stat st;
    if (stat(out, &st) != 0) {
      snprintf(err, errlen, "cannot start '%.200s': %s", prog, strerror(errno));
      return -1;
    }
    if (!executable(out)) {
      snprintf(err, errlen, "cannot start '%.200s': not an executable file", prog);
      return -1;
    }
    return 0;
  }
  if (!path)
    path = getenv("PATH");
  if (!path)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    int k = len == 0      ? snprintf(out, n, "%s/%s", cwd, prog)
            : p[0] == '/' ? snprintf(out, n, "%.*s/%s", (int)len, p, prog)
                          : snprintf(out, n, "%s/%.*s/%s", cwd, (int)len, p, prog);
    if (k > 0 && (size_t)k < n && executable(out))
      return 0;
    if (!colon)
      break;
    p = colon;
  }
  snprintf(err, errlen, "cannot start '%.200s': not found in PATH", prog);
  return -1;
}

/* What the child reports through the close-on-exec pipe when it cannot go on. */
enum { FAIL_EXEC = 1, FAIL_CWD, FAIL_FDS };

static void child_fail(int fd, int what)
{
  int msg[2] = {what, errno};
  ssize_t w = write(fd, msg, sizeof msg);
  (void)w;
  _exit(127);
}

/* The standard descriptor `to` becomes `from` (async-signal-safe: called after fork). */
static int redirect(int from, int to)
{
  if (from == RT_SPAWN_INHERIT)
    return 0;
  int fd = from;
  if (from == RT_SPAWN_NULL && (fd = open("/dev/null", O_RDWR)) < 0)
    return -1;
  if (fd != to && dup2(fd, to) < 0)
    return -1;
  if (from == RT_SPAWN_NULL && fd != to)
    close(fd);
  return 0;
}

pid_t rt_spawn_start(const rt_spawn *s, char *err, size_t errlen)
{
  /* Everything that may allocate happens here, before fork: between fork and exec only
   * async-signal-safe calls are allowed (another thread may hold malloc's lock). */
  char *const *envp = s->envp ? s->envp : environ;
  const char *path = NULL;
  for (char *const *e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0)
      path = *e + 5;
  char prog[PATH_MAX];
  if (rt_spawn_which(s->argv[0], path, s->cwd, prog, sizeof prog, err, errlen) != 0)
    return -1;
  long maxfd = sysconf(_SC_OPEN_MAX);
  if (maxfd < 0 || maxfd > 65536)
    maxfd = 65536;
  int pfd[2];
  if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "cannot start '%s': fork: %s", s->argv[0], strerror(errno));
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (s->die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent)
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    static const int reset[] = {SIGINT,  SIGTERM, SIGHUP,  SIGPIPE, SIGCHLD,
                                SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof reset / sizeof *reset; i++)
      signal(reset[i], SIG_DFL);
    if (redirect(s->in, 0) || redirect(s->out, 1) || redirect(s->err, 2))
      child_fail(pfd[1], FAIL_FDS);
    /* every descriptor above 2 but the report pipe and keep_fd */
    if (syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) == 0) {
      if (s->keep_fd >= 0)
        fcntl(s->keep_fd, F_SETFD, 0);
    } else {
      for (int fd = 3; fd < maxfd; fd++)
        if (fd != pfd[1] && fd != s->keep_fd)
          close(fd);
    }
    if (s->cwd && chdir(s->cwd) != 0)
      child_fail(pfd[1], FAIL_CWD);
    execve(prog, s->argv, envp);
    child_fail(pfd[1], FAIL_EXEC);
  }
  setpgid(pid, pid); /* both sides: the group exists before anyone signals it */
  close(pfd[1]);
  int msg[2] = {0, 0};
  ssize_t r;
  while ((r = read(pfd[0], msg, sizeof msg)) < 0 && errno == EINTR)
    ;
  close(pfd[0]);
  if (r == (ssize_t)sizeof msg) {
    if (msg[0] == FAIL_CWD)
      snprintf(err, errlen, "cannot start '%s': folder %s: %s", s->argv[0], s->cwd,
               strerror(msg[1]));
    else if (msg[0] == FAIL_FDS)
      snprintf(err, errlen, "cannot start '%s': its output: %s", s->argv[0], strerror(msg[1]));
    else
      snprintf(err, errlen, "cannot start '%s': %s", s->argv[0], strerror(msg[1]));
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    return -1;
  }
  return pid;
}

static bool entry_is(const char *entry, const char *name, size_t len)
{
  return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

static int env_put(rt_env *e, char *entry)
{
  if (e->n + 2 > e->cap) {
    size_t cap = e->cap ? 2 * e->cap : 16;
    char **v = realloc(e->v, cap * sizeof *v);
    if (!v) {
      free(entry);
      return -1;
    }
    e->v = v;
    e->cap = cap;
  }
  e->v[e->n++] = entry;
  e->v[e->n] = NULL;
  return 0;
}

int rt_env_set(rt_env *e, const char *name, const char *value)
{
  size_t ln = strlen(name), lv = strlen(value);
  char *entry = malloc(ln + lv + 2);
  if (!entry)
    return -1;
  memcpy(entry, name, ln);
  entry[ln] = '=';
  memcpy(entry + ln + 1, value, lv + 1);
  for (size_t i = 0; i < e->n; i++)
    if (entry_is(e->v[i], name, ln)) {
      free(e->v[i]);
      e->v[i] = entry;
      return 0;
    }
  return env_put(e, entry);
}

void rt_env_unset(rt_env *e, const char *name)
{
  size_t ln = strlen(name);
  for (size_t i = 0; i < e->n;)
    if (entry_is(e->v[i], name, ln)) {
      free(e->v[i]);
      memmove(&e->v[i], &e->v[i + 1], (e->n - i) * sizeof *e->v); /* with the NULL */
      e->n--;
    } else {
      i++;
    }
}

const char *rt_env_get(const rt_env *e, const char *name)
{
  size_t ln = strlen(name);
  for (size_t i = 0; i < e->n; i++)
    if (entry_is(e->v[i], name, ln))
      return e->v[i] + ln + 1;
  return NULL;
}

int rt_env_copy(rt_env *e, char *const *from, bool (*keep)(const char *entry))
{
  for (; from && *from; from++) {
    if (keep && !keep(*from))
      continue;
    const char *eq = strchr(*from, '=');
    if (!eq)
      continue;
    char *entry = strdup(*from);
    if (!entry)
      return -1;
    entry[eq - *from] = '\0';
    int rc = rt_env_set(e, entry, entry + (eq - *from) + 1);
    free(entry);
    if (rc)
      return -1;
  }
  return 0;
}

char *const *rt_env_array(rt_env *e)
{
  if (!e->v && env_put(e, NULL) == 0) /* an empty environment is still one */
    e->n = 0;
  return e->v;
}

void rt_env_free(rt_env *e)
{
  for (size_t i = 0; i < e->n; i++)
    free(e->v[i]);
  free(e->v);
  memset(e, 0, sizeof *e);
}
