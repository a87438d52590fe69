#include "ag_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double g_offset;

static double real_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ag_time_init(void)
{
  const char *s = getenv("VAGT_AGENT_NOW");
  if (s && *s)
    g_offset = strtod(s, NULL) - real_now();
}

double ag_time(void)
{
  return real_now() + g_offset;
}

void ag_uuid(char *buf, size_t n)
{
  unsigned char b[16];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? read(fd, b, sizeof b) : -1;
  if (fd >= 0)
    close(fd);
  if (got != (ssize_t)sizeof b) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32) ^
                           (unsigned long long)ts.tv_sec;
    for (size_t i = 0; i < sizeof b; i++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      b[i] = (unsigned char)(x >> 56);
    }
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(buf, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
}

void ag_stable_id(const char *text, char *buf, size_t n)
{
  unsigned long long h[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
  for (int lane = 0; lane < 2; lane++)
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
      h[lane] ^= *p;
      h[lane] *= 0x100000001b3ULL;
      h[lane] ^= h[lane] >> (29 + lane * 3); /* the lanes diverge beyond their seeds */
    }
  unsigned char b[16];
  for (int i = 0; i < 8; i++) {
    b[i] = (unsigned char)(h[0] >> (56 - 8 * i));
    b[8 + i] = (unsigned char)(h[1] >> (56 - 8 * i));
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(buf, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
}

#include <stdarg.h>

int ag_asprintf(char **out, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  *out = NULL;
  if (n < 0)
    return -1;
  char *s = malloc((size_t)n + 1);
  if (!s)
    return -1;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  *out = s;
  return n;
}
