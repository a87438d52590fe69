/* rt_ocr_find: locate a word or phrase among OCR words. Pure; no Tesseract. */
#include "rt_ocr.h"
#include "ocr_internal.h"
#include "vu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Append s (len bytes) to buf, dropping whitespace and folding case when asked
 * (ASCII, and Latin-1 letters U+00C0..U+00DE, which covers ÆØÅ). */
static size_t append_norm(char *buf, size_t pos, size_t cap, const char *s, size_t len, int fold)
{
  for (size_t i = 0; i < len && pos + 2 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (fold & 2) { /* characters OCR confuses: I l 1 | and O 0 */
      if (c == 'I' || c == '1' || c == '|')
        c = 'l';
      else if (c == 'O')
        c = '0';
    }
    if ((fold & 1) && c >= 'A' && c <= 'Z')
      c = (unsigned char)(c + 32);
    if ((fold & 1) && c == 0xC3 && i + 1 < len) {
      unsigned char d = (unsigned char)s[i + 1];
      if (d >= 0x80 && d <= 0x9E && d != 0x97)
        d = (unsigned char)(d + 0x20);
      buf[pos++] = (char)c;
      buf[pos++] = (char)d;
      i++;
      continue;
    }
    buf[pos++] = (char)c;
  }
  buf[pos] = 0;
  return pos;
}

static int is_edge_punct(unsigned char c)
{
  return c && strchr(":;,.!?\"'`()[]{}<>*|_", c) != NULL;
}

/* Bounds of t without leading (lead) / trailing (trail) punctuation. */
static void strip_punct(const char *t, int lead, int trail, size_t *off, size_t *len)
{
  size_t a = 0, b = strlen(t);
  if (lead)
    while (a < b && is_edge_punct((unsigned char)t[a]))
      a++;
  if (trail)
    while (b > a && is_edge_punct((unsigned char)t[b - 1]))
      b--;
  *off = a;
  *len = b - a;
}

typedef struct {
  size_t first, n;
  int tier;          /* 0 exact, 1 edge punctuation tolerated, 2 part of a word */
  size_t sub0, sub1; /* tier 2: character range of the match within the word */
  size_t nchars;     /* tier 2: characters in the word */
} cand;

static int is_delim(unsigned char c)
{
  return c && strchr("-/_.:,;|()[]{}<>*+=\"'", c) != NULL;
}

static void make_match(const rt_ocr_result *res, const cand *c, rt_ocr_match *m)
{
  memset(m, 0, sizeof *m);
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -(1 << 30), y1 = -(1 << 30);
  float conf = 100;
  size_t tl = 0;
  for (size_t i = c->first; i < c->first + c->n; i++) {
    const rt_ocr_word *w = &res->words[i];
    if (w->box.x < x0)
      x0 = w->box.x;
    if (w->box.y < y0)
      y0 = w->box.y;
    if (w->box.x + w->box.w > x1)
      x1 = w->box.x + w->box.w;
    if (w->box.y + w->box.h > y1)
      y1 = w->box.y + w->box.h;
    if (w->conf < conf)
      conf = w->conf;
    size_t l = strlen(w->text);
    if (tl && tl + 1 < sizeof m->text)
      m->text[tl++] = ' ';
    if (tl + l >= sizeof m->text)
      l = sizeof m->text - 1 - tl;
    memcpy(m->text + tl, w->text, l);
    tl += l;
    m->text[tl] = 0;
  }
  if (c->tier == 2 && c->nchars) { /* a part of one word: its text, and its box estimated */
    const char *t = res->words[c->first].text;
    size_t ci = 0, b0 = 0, b1 = strlen(t);
    for (size_t i = 0; t[i]; i++) {
      if (((unsigned char)t[i] & 0xC0) == 0x80)
        continue;
      if (ci == c->sub0)
        b0 = i;
      if (ci == c->sub1) {
        b1 = i;
        break;
      }
      ci++;
    }
    size_t l = b1 - b0 < sizeof m->text ? b1 - b0 : sizeof m->text - 1;
    memcpy(m->text, t + b0, l);
    m->text[l] = 0;
    int ww = x1 - x0;
    int a = x0 + (int)(ww * c->sub0 / c->nchars), b = x0 + (int)(ww * c->sub1 / c->nchars);
    x0 = a;
    x1 = b > a ? b : a + 1;
  }
  m->box = (rt_ocr_box){x0, y0, x1 - x0, y1 - y0};
  m->cx = x0 + (x1 - x0) / 2;
  m->cy = y0 + (y1 - y0) / 2;
  m->conf = conf;
  m->line = res->words[c->first].line;
  m->tier = c->tier;
  m->first_word = c->first;
  m->nwords = c->n;
}

/* Levenshtein distance over UTF-8 characters, capped: returns > cap early. */
static int edit_distance(const char *a, size_t al, const char *b, size_t bl, int cap)
{
  unsigned cpa[160], cpb[160];
  size_t na = 0, nb = 0;
  for (size_t i = 0; i < al && na < 160; i++) {
    unsigned char c = (unsigned char)a[i];
    if ((c & 0xC0) == 0x80)
      cpa[na - 1] = cpa[na - 1] << 8 | c;
    else
      cpa[na++] = c;
  }
  for (size_t i = 0; i < bl && nb < 160; i++) {
    unsigned char c = (unsigned char)b[i];
    if ((c & 0xC0) == 0x80)
      cpb[nb - 1] = cpb[nb - 1] << 8 | c;
    else
      cpb[nb++] = c;
  }
  if ((na > nb ? na - nb : nb - na) > (size_t)cap)
    return cap + 1;
  int prev[161], cur[161];
  for (size_t j = 0; j <= nb; j++)
    prev[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    cur[0] = (int)i;
    int rowmin = cur[0];
    for (size_t j = 1; j <= nb; j++) {
      int d = prev[j - 1] + (cpa[i - 1] != cpb[j - 1]);
      if (prev[j] + 1 < d)
        d = prev[j] + 1;
      if (cur[j - 1] + 1 < d)
        d = cur[j - 1] + 1;
      cur[j] = d;
      if (d < rowmin)
        rowmin = d;
    }
    if (rowmin > cap)
      return cap + 1;
    memcpy(prev, cur, (nb + 1) * sizeof *prev);
  }
  return prev[nb];
}

/* How many characters a misread of an n-character word may get wrong: half
 * of them, at least 2 ("Gog)" for "Søg"), but 1 in a word of 1 or 2 ("Ho" for
 * "No"; with 2 every short word would be a candidate) */
static int slips(int n)
{
  if (n <= 2)
    return 1;
  return (n + 1) / 2 < 2 ? 2 : (n + 1) / 2;
}

/* Is part a[0..al) within slips() of a word of the phrase, or of the whole
 * phrase without spaces? */
static int near_phrase(const char *a, size_t al, const char *phrase)
{
  if (!al)
    return 0;
  char p[512], w[512];
  size_t pl = append_norm(p, 0, sizeof p, phrase, strlen(phrase), 3);
  for (const char *s = phrase; *s;) { /* each word of the phrase, then the phrase */
    size_t n = strcspn(s, " \t\n");
    if (n) {
      size_t off, l, wl = append_norm(w, 0, sizeof w, s, n, 3);
      strip_punct(w, 1, 1, &off, &l);
      if (!l)
        off = 0, l = wl;
      int cap = slips((int)vu_utf8_chars(w + off, l));
      if (edit_distance(a, al, w + off, l, cap) <= cap)
        return 1;
    }
    s += n;
    s += strspn(s, " \t\n");
  }
  int cap = slips((int)vu_utf8_chars(p, pl));
  return edit_distance(a, al, p, pl, cap) <= cap;
}

int rt_ocr__could_be(const char *word, const char *phrase)
{
  char w[512];
  append_norm(w, 0, sizeof w, word, strlen(word), 3);
  size_t off, l;
  strip_punct(w, 1, 1, &off, &l);
  if (!l) /* only punctuation (">" for xcalc's ")" key): as it is, as a phrase of
             punctuation is compared */
    return near_phrase(w, strlen(w), phrase);
  if (near_phrase(w + off, l, phrase))
    return 1;
  /* a delimited part ("wght" in "fmly-wght-slant") */
  for (size_t i = off, a = off; i <= off + l; i++)
    if (i == off + l || is_delim((unsigned char)w[i])) {
      if (i > a && (a > off || i < off + l) && near_phrase(w + a, i - a, phrase))
        return 1;
      a = i + 1;
    }
  return 0;
}

static int add_cand(cand **c, size_t *n, size_t *cap, cand k)
{
  if (*n == *cap) {
    size_t nc = *cap * 2;
    cand *p = realloc(*c, nc * sizeof *p);
    if (!p)
      return -1;
    *c = p;
    *cap = nc;
  }
  (*c)[(*n)++] = k;
  return 0;
}

static int in_region(const rt_ocr_result *res, const cand *k, const rt_ocr_find_opts *o)
{
  if (!o->has_region)
    return 1;
  rt_ocr_match m;
  make_match(res, k, &m);
  return m.cx >= o->region.x && m.cx < o->region.x + o->region.w && m.cy >= o->region.y &&
         m.cy < o->region.y + o->region.h;
}

/* Whether candidate k is the whole text of its menu entry: no other word of its line
 * nearer than twice the height of its words before its first or after its last (a word
 * space is far less; an accelerator's column is farther). */
static int whole_entry(const rt_ocr_result *res, const cand *k)
{
  const rt_ocr_word *a = &res->words[k->first], *b = &res->words[k->first + k->n - 1];
  int h = 0;
  for (size_t i = k->first; i < k->first + k->n; i++)
    h = res->words[i].box.h > h ? res->words[i].box.h : h;
  for (size_t i = 0; i < res->n; i++) {
    const rt_ocr_word *w = &res->words[i];
    if (w->line != a->line || (i >= k->first && i < k->first + k->n))
      continue;
    long before = (long)a->box.x - ((long)w->box.x + w->box.w);
    long after = (long)w->box.x - ((long)b->box.x + b->box.w);
    if ((before >= 0 && before < 2L * h) || (after >= 0 && after < 2L * h))
      return 0;
  }
  return 1;
}

/* Of the candidates c[0..n), only the whole entries (in order), when there are any. */
static long prefer_whole(const rt_ocr_result *res, cand *c, long n)
{
  long k = 0;
  for (long i = 0; i < n; i++)
    if (whole_entry(res, &c[i]))
      c[k++] = c[i];
  return k ? k : n;
}

/* All best-tier candidates (reading order) inside the region. Returns count,
 * -1 on error; *outside gets how many were dropped by the region.
 * Tiers: 0 exact; 1 punctuation at the phrase's edges ignored (on screen and
 * in the phrase: "Navn:" = "Navn", "Search," = "Search."); 2 a delimited part
 * of one word ("wght" in "-fmly-wght-"); 3 one OCR slip per 5 characters
 * ("Bemærkninz"), for phrases of 5 characters or more. */
static long collect(const rt_ocr_result *res, const char *phrase, const rt_ocr_find_opts *o,
                    cand **out, long *outside)
{
  *out = NULL;
  *outside = 0;
  char needle[1024], needle1[1024];
  size_t nl = append_norm(needle, 0, sizeof needle, phrase, strlen(phrase), o->ignore_case ? 1 : 0);
  if (nl == 0)
    return -1;
  size_t p0, pl;
  strip_punct(needle, 1, 1, &p0, &pl);
  if (pl == 0) { /* the phrase is punctuation ("+", "."): only exact */
    p0 = 0;
    pl = nl;
  }
  memcpy(needle1, needle + p0, pl);
  needle1[pl] = 0;
  size_t nl1 = pl;
  size_t cap = 16, n = 0;
  cand *c = malloc(cap * sizeof *c);
  if (!c)
    return -1;
  int best = 4;
  char buf[1200];
  for (int tier = 0; tier <= 1; tier++) {
    const char *nd = tier ? needle1 : needle;
    size_t ndl = tier ? nl1 : nl;
    for (size_t i = 0; i < res->n; i++) {
      size_t pos =
          0; /* buf: words i..j-1 whole (the first without leading punctuation at tier 1) */
      for (size_t j = i; j < res->n && res->words[j].line == res->words[i].line; j++) {
        const char *t = res->words[j].text;
        size_t off = 0, len = strlen(t), off2, len2;
        if (tier == 1)
          strip_punct(t, j == i, 0, &off, &len);
        strip_punct(t, tier == 1 && j == i, tier == 1, &off2, &len2);
        size_t cpos = append_norm(buf, pos, sizeof buf, t + off2, len2, o->ignore_case ? 1 : 0);
        if (cpos == ndl && memcmp(buf, nd, ndl) == 0) {
          cand k = {i, j - i + 1, tier, 0, 0, 0};
          if (!in_region(res, &k, o))
            (*outside)++;
          else if (add_cand(&c, &n, &cap, k) != 0)
            goto fail;
          break;
        }
        pos = append_norm(buf, pos, sizeof buf, t + off, len, o->ignore_case ? 1 : 0);
        if (pos >= ndl || pos + 2 >= sizeof buf || memcmp(buf, nd, pos) != 0)
          break;
      }
    }
    if (n) {
      best = tier;
      break;
    }
  }
  if (!n && !strpbrk(phrase, " \t")) { /* tier 2: part of one word */
    for (size_t i = 0; i < res->n; i++) {
      const char *t = res->words[i].text;
      size_t tl = append_norm(buf, 0, sizeof buf, t, strlen(t), o->ignore_case ? 1 : 0);
      for (size_t at = 0; at + nl1 <= tl; at++) {
        if (memcmp(buf + at, needle1, nl1) != 0)
          continue;
        int left = at == 0 || is_delim((unsigned char)buf[at - 1]);
        int right = at + nl1 == tl || is_delim((unsigned char)buf[at + nl1]);
        if (!left || !right || (at == 0 && at + nl1 == tl) || vu_utf8_chars(needle1, nl1) < 3)
          continue;
        cand k = {
            i, 1, 2, vu_utf8_chars(buf, at), vu_utf8_chars(buf, at + nl1), vu_utf8_chars(buf, tl)};
        if (!in_region(res, &k, o))
          (*outside)++;
        else if (add_cand(&c, &n, &cap, k) != 0)
          goto fail;
      }
    }
    if (n)
      best = 2;
  }
  size_t chars = vu_utf8_chars(needle1, nl1);
  if (!n) { /* tier 3a: equal but for characters OCR confuses ("ln" read "In") */
    int f = (o->ignore_case ? 1 : 0) | 2;
    char cn[1024];
    size_t cnl = append_norm(cn, 0, sizeof cn, needle1, nl1, f);
    for (size_t i = 0; i < res->n; i++) {
      size_t pos = 0;
      for (size_t j = i; j < res->n && res->words[j].line == res->words[i].line; j++) {
        const char *t = res->words[j].text;
        size_t off, len;
        strip_punct(t, j == i, 1, &off, &len);
        size_t cpos = append_norm(buf, pos, sizeof buf, t + off, len, f);
        if (cpos == cnl && memcmp(buf, cn, cnl) == 0) {
          cand k = {i, j - i + 1, 3, 0, 0, 0};
          if (!in_region(res, &k, o))
            (*outside)++;
          else if (add_cand(&c, &n, &cap, k) != 0)
            goto fail;
          break;
        }
        strip_punct(t, j == i, 0, &off, &len);
        pos = append_norm(buf, pos, sizeof buf, t + off, len, f);
        if (pos >= cnl || pos + 2 >= sizeof buf || memcmp(buf, cn, pos) != 0)
          break;
      }
    }
    if (n)
      best = 3;
  }
  if (!n && chars >= 5) { /* tier 3b: OCR slips */
    int allowed = (int)(chars / 5);
    if (allowed > 3)
      allowed = 3;
    int bestd = allowed + 1;
    for (size_t i = 0; i < res->n; i++) {
      size_t pos = 0;
      for (size_t j = i; j < res->n && res->words[j].line == res->words[i].line; j++) {
        const char *t = res->words[j].text;
        size_t off, len;
        strip_punct(t, j == i, 1, &off, &len);
        size_t cpos = append_norm(buf, pos, sizeof buf, t + off, len, o->ignore_case ? 1 : 0);
        int d = edit_distance(buf, cpos, needle1, nl1, allowed);
        if (d <= allowed) {
          cand k = {i, j - i + 1, 3, 0, 0, 0};
          if (!in_region(res, &k, o)) {
            (*outside)++;
          } else if (d <= bestd) {
            if (d < bestd)
              n = 0; /* fewer slips win */
            bestd = d;
            if (add_cand(&c, &n, &cap, k) != 0)
              goto fail;
          }
          break;
        }
        strip_punct(t, j == i, 0, &off, &len);
        pos = append_norm(buf, pos, sizeof buf, t + off, len, o->ignore_case ? 1 : 0);
        if (vu_utf8_chars(buf, pos) > chars + (size_t)allowed || pos + 2 >= sizeof buf)
          break;
      }
    }
    if (n)
      best = 3;
  }
  if (o->whole_entry && n > 1 && best <= 1)
    n = (size_t)prefer_whole(res, c, (long)n);
  *out = c;
  return (long)n;
fail:
  free(c);
  return -1;
}

size_t rt_ocr_find_all(const rt_ocr_result *res, const char *phrase, const rt_ocr_find_opts *opts,
                       rt_ocr_match *out, size_t max)
{
  rt_ocr_find_opts def = {0};
  if (!opts)
    opts = &def;
  if (!res || !phrase)
    return 0;
  cand *c;
  long outside;
  long n = collect(res, phrase, opts, &c, &outside);
  if (n < 0)
    return 0;
  for (long i = 0; i < n && (size_t)i < max; i++)
    make_match(res, &c[i], &out[i]);
  free(c);
  return (size_t)n;
}

static void seen_words(const rt_ocr_result *res, char *buf, size_t len)
{
  size_t p = 0;
  buf[0] = 0;
  for (size_t i = 0; i < res->n && p + 8 < len; i++) {
    int k = snprintf(buf + p, len - p, "%s%s", i ? " " : "", res->words[i].text);
    if (k < 0 || (size_t)k >= len - p) {
      snprintf(buf + (len > 5 ? len - 5 : 0), 5, "...");
      return;
    }
    p += (size_t)k;
  }
}

int rt_ocr_find(const rt_ocr_result *res, const char *phrase, const rt_ocr_find_opts *opts,
                rt_ocr_match *out, char *err, size_t errlen)
{
  rt_ocr_find_opts def = {0};
  if (!opts)
    opts = &def;
  if (out)
    memset(out, 0, sizeof *out);
  if (!res || !phrase || !out) {
    seterr(err, errlen, "rt_ocr_find: missing argument");
    return RT_OCR_ERROR;
  }
  if (opts->nth < 0) {
    seterr(err, errlen, "nth must be 1 or more (got %d)", opts->nth);
    return RT_OCR_ERROR;
  }
  cand *c;
  long outside;
  long n = collect(res, phrase, opts, &c, &outside);
  if (n < 0) {
    seterr(err, errlen, "nothing to search for in '%s'", phrase);
    return RT_OCR_ERROR;
  }
  if (n == 0) {
    char seen[400];
    seen_words(res, seen, sizeof seen);
    if (outside)
      seterr(err, errlen, "text '%s' not found in the region (%ld match%s outside it)", phrase,
             outside, outside == 1 ? "" : "es");
    else
      seterr(err, errlen, "text '%s' not found; the window shows: %s", phrase,
             res->n ? seen : "(no text)");
    free(c);
    return RT_OCR_NOT_FOUND;
  }
  long pick = -1;
  if (opts->has_near) {
    /* order by distance; nth (if given) counts from the nearest */
    long *idx = malloc((size_t)n * sizeof *idx);
    long long *d = malloc((size_t)n * sizeof *d);
    if (!idx || !d) {
      free(idx);
      free(d);
      free(c);
      seterr(err, errlen, "out of memory");
      return RT_OCR_ERROR;
    }
    for (long i = 0; i < n; i++) {
      rt_ocr_match m;
      make_match(res, &c[i], &m);
      long long dx = m.cx - opts->near_x, dy = m.cy - opts->near_y;
      d[i] = dx * dx + dy * dy;
      idx[i] = i;
    }
    for (long i = 1; i < n; i++) /* insertion sort: n is small */
      for (long j = i; j > 0 && d[idx[j]] < d[idx[j - 1]]; j--) {
        long t = idx[j];
        idx[j] = idx[j - 1];
        idx[j - 1] = t;
      }
    long k = opts->nth > 0 ? opts->nth - 1 : 0;
    if (k < n) {
      int tie = (k + 1 < n && d[idx[k + 1]] == d[idx[k]]) || (k > 0 && d[idx[k - 1]] == d[idx[k]]);
      if (!tie)
        pick = idx[k];
      else
        pick = -2;
    }
    free(idx);
    free(d);
  } else if (opts->nth > 0) {
    if (opts->nth <= n)
      pick = opts->nth - 1;
  } else if (n == 1) {
    pick = 0;
  } else {
    pick = -2;
  }
  if (pick == -1) {
    seterr(err, errlen, "text '%s': asked for match %d but there %s only %ld", phrase, opts->nth,
           n == 1 ? "is" : "are", n);
    free(c);
    return RT_OCR_NOT_FOUND;
  }
  if (pick == -2) {
    size_t p = 0;
    int k = snprintf(err, errlen, "text '%s' is ambiguous: %ld equally good matches at", phrase, n);
    p = k > 0 ? (size_t)k : 0;
    for (long i = 0; i < n && i < 8 && err && p + 1 < errlen; i++) {
      rt_ocr_match m;
      make_match(res, &c[i], &m);
      k = snprintf(err + p, errlen - p, "%s (%d,%d) '%s'", i ? "," : "", m.cx, m.cy, m.text);
      if (k < 0)
        break;
      p += (size_t)k;
    }
    if (err && p + 1 < errlen)
      snprintf(err + p, errlen - p, "%s; give nth or near", n > 8 ? ", ..." : "");
    free(c);
    return RT_OCR_AMBIGUOUS;
  }
  make_match(res, &c[pick], out);
  free(c);
  return RT_OCR_OK;
}
