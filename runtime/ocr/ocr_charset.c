/* What a language's model can produce: the characters of its unicharset, read from the
 * .traineddata file (a container: an int32 count of components, one int64 offset each, -1
 * for an absent one, then the components; the LSTM unicharset is component 21, a legacy
 * model's unicharset component 1). A unicharset is text: a count, then one line a
 * character, the character first ("NULL" for the space). A phrase holding a character no
 * loaded model has cannot be found by OCR, whatever the screen shows: find says so. */
#include "rt_ocr.h"
#include "ocr_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TD_MAX_FILE ((size_t)256 << 20)
#define TD_MAX_COMPONENTS 64
#define CS_MAX ((size_t)1 << 16) /* code points kept: a model has a few hundred */
enum { TD_UNICHARSET = 1, TD_LSTM_UNICHARSET = 21 };

/* One UTF-8 sequence at s (n bytes left): its code point and length; 0 length when it is
 * not well formed. */
static size_t utf8_one(const unsigned char *s, size_t n, uint32_t *cp)
{
  if (!n)
    return 0;
  if (s[0] < 0x80)
    return *cp = s[0], 1;
  size_t len = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
  if (!len || len > n || (s[0] >= 0xF8))
    return 0;
  uint32_t v = s[0] & (0x3F >> (len - 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  *cp = v;
  return len;
}

static int cmp_cp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int add_cp(rt_ocr_charset *cs, uint32_t cp)
{
  if (cs->n == cs->cap) {
    if (cs->cap >= CS_MAX)
      return -1;
    size_t cap = cs->cap ? 2 * cs->cap : 256;
    uint32_t *v = realloc(cs->cp, cap * sizeof *v);
    if (!v)
      return -1;
    cs->cp = v;
    cs->cap = cap;
  }
  cs->cp[cs->n++] = cp;
  return 0;
}

/* Sorted, without repeats. */
static void finish_set(rt_ocr_charset *cs)
{
  if (!cs->n)
    return;
  qsort(cs->cp, cs->n, sizeof *cs->cp, cmp_cp);
  size_t k = 1;
  for (size_t i = 1; i < cs->n; i++)
    if (cs->cp[i] != cs->cp[k - 1])
      cs->cp[k++] = cs->cp[i];
  cs->n = k;
}

/* A unicharset component: adds its characters' code points. -1 when malformed. */
static int parse_unicharset(const unsigned char *s, size_t n, rt_ocr_charset *cs)
{
  size_t i = 0;
  long count = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9' && count < 1000000)
    count = count * 10 + (s[i++] - '0');
  if (i == 0 || i >= n || s[i] != '\n')
    return -1;
  i++;
  for (long line = 0; line < count && i < n; line++) {
    size_t end = i;
    while (end < n && s[end] != ' ' && s[end] != '\n')
      end++;
    size_t tok = end - i;
    if (!(tok == 4 && !memcmp(s + i, "NULL", 4))) /* NULL: the space */
      for (size_t k = i; k < end;) {
        uint32_t cp;
        size_t l = utf8_one(s + k, end - k, &cp);
        if (!l)
          return -1;
        if (add_cp(cs, cp) != 0)
          return -1;
        k += l;
      }
    while (end < n && s[end] != '\n')
      end++;
    i = end + 1;
  }
  return 0;
}

int rt_ocr_charset_parse(const unsigned char *d, size_t n, rt_ocr_charset *cs)
{
  if (n < 4)
    return -1;
  int32_t nc;
  memcpy(&nc, d, 4);
  if (nc < 1 || nc > TD_MAX_COMPONENTS || 4 + 8 * (size_t)nc > n)
    return -1;
  int64_t off[TD_MAX_COMPONENTS];
  memcpy(off, d + 4, 8 * (size_t)nc);
  int want = nc > TD_LSTM_UNICHARSET && off[TD_LSTM_UNICHARSET] > 0 ? TD_LSTM_UNICHARSET
             : nc > TD_UNICHARSET && off[TD_UNICHARSET] > 0         ? TD_UNICHARSET
                                                                    : -1;
  if (want < 0)
    return -1;
  int64_t start = off[want], end = (int64_t)n;
  for (int i = want + 1; i < nc; i++)
    if (off[i] > 0) {
      end = off[i];
      break;
    }
  if (start < 4 + 8 * (int64_t)nc || start >= end || end > (int64_t)n)
    return -1;
  size_t before = cs->n;
  int rc = parse_unicharset(d + start, (size_t)(end - start), cs);
  if (rc != 0)
    cs->n = before;
  finish_set(cs);
  return rc;
}

/* Reads n bytes at off; 0 when all were read. */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

/* Only the container's offsets and the unicharset are read (a few kB of a file of
 * megabytes: the whole file took 40-70 ms of the engine's start), put together as a
 * container of that one component for rt_ocr_charset_parse. */
int rt_ocr__charset_load(rt_ocr_charset *cs, const char *path)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  unsigned char head[4 + 8 * TD_MAX_COMPONENTS], *d = NULL;
  int rc = -1;
  int32_t nc = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 4 &&
      (size_t)st.st_size <= TD_MAX_FILE && read_at(fd, head, 4, 0) == 0 &&
      (memcpy(&nc, head, 4), nc >= 1 && nc <= TD_MAX_COMPONENTS) &&
      4 + 8 * (off_t)nc <= st.st_size && read_at(fd, head + 4, 8 * (size_t)nc, 4) == 0) {
    int64_t off[TD_MAX_COMPONENTS];
    memcpy(off, head + 4, 8 * (size_t)nc);
    int want = nc > TD_LSTM_UNICHARSET && off[TD_LSTM_UNICHARSET] > 0 ? TD_LSTM_UNICHARSET
               : nc > TD_UNICHARSET && off[TD_UNICHARSET] > 0         ? TD_UNICHARSET
                                                                      : -1;
    int64_t start = want >= 0 ? off[want] : -1, end = (int64_t)st.st_size;
    for (int i = want + 1; want >= 0 && i < nc; i++)
      if (off[i] > 0) {
        end = off[i];
        break;
      }
    size_t h = 4 + 8 * (size_t)nc;
    if (want >= 0 && start >= (int64_t)h && start < end && end <= (int64_t)st.st_size &&
        (d = malloc(h + (size_t)(end - start)))) {
      for (int i = 0; i < nc; i++)
        off[i] = i == want ? (int64_t)h : -1;
      memcpy(d, &nc, 4);
      memcpy(d + 4, off, 8 * (size_t)nc);
      if (read_at(fd, d + h, (size_t)(end - start), (off_t)start) == 0)
        rc = rt_ocr_charset_parse(d, h + (size_t)(end - start), cs);
    }
  }
  free(d);
  close(fd);
  return rc;
}

void rt_ocr_charset_free(rt_ocr_charset *cs)
{
  free(cs->cp);
  memset(cs, 0, sizeof *cs);
}

int rt_ocr_unreadable(const rt_ocr *o, const char *phrase, char *ch, size_t n)
{
  if (!o || !o->charset_ok || !phrase)
    return 0;
  const unsigned char *s = (const unsigned char *)phrase;
  size_t len = strlen(phrase);
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t l = utf8_one(s + i, len - i, &cp);
    if (!l)
      return 0; /* not UTF-8: find says what it says */
    if (cp != ' ' && cp != '\t' && !bsearch(&cp, o->charset.cp, o->charset.n, sizeof cp, cmp_cp)) {
      if (n) {
        size_t k = l < n - 1 ? l : n - 1;
        memcpy(ch, s + i, k);
        ch[k] = 0;
      }
      return 1;
    }
    i += l;
  }
  return 0;
}
