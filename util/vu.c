#include "vu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double vu_mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double vu_wall(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vu_rfc3339(double t, bool ms, char *buf, size_t n)
{
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ms) {
    long frac = (long)((t - (double)s) * 1000.0);
    snprintf(buf, n, "%s.%03ldZ", base, frac < 0 ? 0 : frac > 999 ? 999 : frac);
  } else {
    snprintf(buf, n, "%sZ", base);
  }
}

static void say(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
  if (err && errlen)
    snprintf(err, errlen, fmt, path, what);
}

char *vu_read_file(const char *path, size_t max, int flags, size_t *len, char *err, size_t errlen)
{
  int o = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  if (flags & VU_NOFOLLOW)
    o |= O_NOFOLLOW;
  int fd = open(path, o);
  if (fd < 0) {
    say(err, errlen, "%s: %s", path,
        errno == ELOOP && (flags & VU_NOFOLLOW) ? "is a symbolic link: refused" : strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    say(err, errlen, "%s: %s", path, "not a regular file: refused");
    close(fd);
    return NULL;
  }
  if ((unsigned long long)st.st_size > max) {
    if (err && errlen)
      snprintf(err, errlen, "%s: %lld bytes, more than the %zu this file may hold: refused", path,
               (long long)st.st_size, max);
    close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)st.st_size + 2);
  size_t n = 0;
  while (buf && n <= (size_t)st.st_size) { /* one byte more: a file still growing */
    ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      say(err, errlen, "%s: %s", path, strerror(errno));
      free(buf);
      close(fd);
      return NULL;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if (!buf) {
    say(err, errlen, "%s: %s", path, "out of memory");
    return NULL;
  }
  if (n > (size_t)st.st_size) {
    say(err, errlen, "%s: %s", path, "changed while read: refused");
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

int vu_mkdir_p(const char *path, char *err, size_t errlen)
{
  char *p = *path ? strdup(path) : NULL;
  if (!*path) {
    if (err && errlen)
      snprintf(err, errlen, "cannot create a folder without a name");
    return -1;
  }
  if (!p) {
    if (err && errlen)
      snprintf(err, errlen, "cannot create folder %s: out of memory", path);
    return -1;
  }
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        if (err && errlen)
          snprintf(err, errlen, "cannot create folder %s: %s", p, strerror(errno));
        free(p);
        return -1;
      }
      *s = c;
      if (!c)
        break;
    }
  }
  free(p);
  return 0;
}

static bool put_all(int fd, const char *p, size_t n, bool sock)
{
  while (n > 0) {
    ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

bool vu_send_all(int fd, const char *p, size_t n)
{
  return put_all(fd, p, n, true);
}

bool vu_write_all(int fd, const char *p, size_t n)
{
  return put_all(fd, p, n, false);
}

size_t vu_utf8_chars(const char *s, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}
