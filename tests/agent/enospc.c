/* A full disk for the agent's database, without a mount: an LD_PRELOAD library for tests.
 * While the file named by $VAGT_TEST_ENOSPC_FLAG exists, writes to files whose path holds
 * $VAGT_TEST_ENOSPC_MATCH (default "vagt.db": the database, its WAL and journal) fail with
 * ENOSPC once $VAGT_TEST_ENOSPC_AFTER bytes (default 0) have been written to them since the
 * flag appeared. Removing the flag frees the "disk". Every other write passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned long long g_written;

/* How many of `n` bytes to fd may be written: n, fewer, or 0 (then ENOSPC). */
static size_t allowed(int fd, size_t n)
{
  const char *flag = getenv("VAGT_TEST_ENOSPC_FLAG");
  if (!flag || access(flag, F_OK) != 0) {
    g_written = 0;
    return n;
  }
  const char *match = getenv("VAGT_TEST_ENOSPC_MATCH");
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(link, path, sizeof path - 1);
  if (k <= 0)
    return n;
  path[k] = '\0';
  if (!strstr(path, match && *match ? match : "vagt.db"))
    return n;
  const char *after = getenv("VAGT_TEST_ENOSPC_AFTER");
  unsigned long long limit = after ? strtoull(after, NULL, 10) : 0;
  unsigned long long left = g_written < limit ? limit - g_written : 0;
  size_t ok = n < left ? n : (size_t)left;
  g_written += ok;
  return ok;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);

ssize_t write(int fd, const void *buf, size_t n)
{
  static write_fn real;
  if (!real)
    real = (write_fn)dlsym(RTLD_NEXT, "write");
  size_t ok = allowed(fd, n);
  if (n && !ok) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, ok);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
  static pwrite_fn real;
  if (!real)
    real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
  size_t ok = allowed(fd, n);
  if (n && !ok) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, ok, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
  static pwrite64_fn real;
  if (!real)
    real = (pwrite64_fn)dlsym(RTLD_NEXT, "pwrite64");
  size_t ok = allowed(fd, n);
  if (n && !ok) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, ok, off);
}
