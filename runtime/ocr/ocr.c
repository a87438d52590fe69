/* rt_ocr engine: setup (Tesseract instances per worker and language) and the words
 * pipeline: blobs (ocr_blobs.c), cached or recognised (ocr_cache.c, ocr_recognise.c),
 * put in reading order, then settled by careful readings (ocr_settle.c). */
#include "rt_ocr.h"
#include "ocr_internal.h"
#include "vu.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#ifndef RT_OCR_DEFAULT_TESSDATA
#define RT_OCR_DEFAULT_TESSDATA "/usr/share/tesseract-ocr/5/tessdata"
#endif

static int g_missing_lang;

int rt_ocr_missing_language(void)
{
  return g_missing_lang;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

int rt_ocr__median(int *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
      int x = v[j];
      v[j] = v[j - 1];
      v[j - 1] = x;
    }
  return n > 0 ? v[n / 2] : 0;
}

/* ---- setup ---- */
int rt_ocr_reexec_single_thread(char **argv)
{
  if (getenv("OMP_THREAD_LIMIT"))
    return 0;
  if (setenv("OMP_THREAD_LIMIT", "1", 1) != 0)
    return -1;
  execv("/proc/self/exe", argv);
  return -1;
}

static const char *tessdata_dir(char *buf, size_t len)
{
  const char *p = getenv("TESSDATA_PREFIX");
  if (p && *p) {
    snprintf(buf, len, "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
      buf[--l] = 0;
    return buf;
  }
  snprintf(buf, len, "%s", RT_OCR_DEFAULT_TESSDATA);
  return buf;
}

/* One language's Tesseract instance, and a first reading of a small image by it (its
 * first reading allocates the network's buffers: done now, while the run starts, not in
 * the first find). */
struct lang_load {
  const char *dir;
  char name[64];
  TessBaseAPI *api; /* NULL: failed */
  pthread_t th;
  int started;
};

static void *load_lang(void *arg)
{
  struct lang_load *ll = arg;
  /* No word dictionaries: GUI labels ("CE/C", "1/x", "CPR-nummer") are not words, and
   * skipping them saves memory and start-up time. LSTM only: Debian's data has no
   * legacy models. */
  char *vars[] = {"load_system_dawg", "load_freq_dawg",    "load_punc_dawg",
                  "load_number_dawg", "load_unambig_dawg", "load_bigram_dawg"};
  char *vals[] = {"0", "0", "1", "1", "0", "0"};
  TessBaseAPI *api = TessBaseAPICreate();
  if (!api ||
      TessBaseAPIInit4(api, ll->dir, ll->name, OEM_LSTM_ONLY, NULL, 0, vars, vals, 6, 0) != 0) {
    if (api)
      TessBaseAPIDelete(api);
    return NULL;
  }
  TessBaseAPISetVariable(api, "user_defined_dpi", "300");
  /* the pipeline already turned light-on-dark text into dark-on-light */
  TessBaseAPISetVariable(api, "tessedit_do_invert", "0");
  PIX *warm = pixCreate(60, 20, 8); /* each thread its own: a pix's refcount is not atomic */
  if (warm) {
    pixSetAll(warm);
    pixRasterop(warm, 10, 6, 30, 2, PIX_SET, NULL, 0, 0); /* a dash */
    TessBaseAPISetImage2(api, warm);
    TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE);
    TessBaseAPIRecognize(api, NULL);
    TessBaseAPIClear(api);
    pixDestroy(&warm);
  }
  ll->api = api;
  return NULL;
}

/* One worker's Tesseract instances, a language each. Worker 0's languages load side by
 * side, a thread each (Tesseract's loading is one core's work, ~130 ms a language here:
 * the first find waits for the slowest, not for the sum); the other workers' one after
 * the other, behind worker 0's readings. */
static void *load_worker(void *arg)
{
  struct rt_ocr_loader *l = arg;
  /* the other workers' loading yields to the first find, which worker 0 reads alone: on
   * Linux a thread's nice value is its own */
  if (l->worker > 0)
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
  struct lang_load ll[MAX_LANGS];
  int n = 0;
  for (const char *q = l->o->langs; *q && n < MAX_LANGS; n++) {
    size_t len = strcspn(q, "+");
    memset(&ll[n], 0, sizeof ll[n]);
    ll[n].dir = l->o->dir;
    snprintf(ll[n].name, sizeof ll[n].name, "%.*s", (int)len, q);
    q += len;
    if (*q == '+')
      q++;
  }
  for (int k = 1; k < n && l->worker == 0; k++)
    ll[k].started = pthread_create(&ll[k].th, NULL, load_lang, &ll[k]) == 0;
  for (int k = 0; k < n; k++) {
    if (ll[k].started)
      pthread_join(ll[k].th, NULL);
    else
      load_lang(&ll[k]);
  }
  for (int k = 0; k < n; k++) {
    if (!ll[k].api && !l->failed) {
      l->failed = 1;
      snprintf(l->lang, sizeof l->lang, "%s", ll[k].name);
    }
    l->o->api[l->worker][k] = ll[k].api;
  }
  if (!l->failed)
    __atomic_store_n(&l->ready, 1, __ATOMIC_RELEASE);
  return NULL;
}

rt_ocr *rt_ocr_new(const char *langs, char *err, size_t errlen)
{
  g_missing_lang = 0;
  if (!langs || !*langs)
    langs = RT_OCR_DEFAULT_LANGS;
  if (strlen(langs) >= sizeof(((rt_ocr *)0)->langs)) {
    seterr(err, errlen, "OCR language list too long: '%s'", langs);
    return NULL;
  }
  /* validate and check each language's data file before Tesseract does
   * (it would print to stderr and give no reason) */
  char dir[512], path[1024], one[64];
  tessdata_dir(dir, sizeof dir);
  const char *s = langs;
  while (*s) {
    size_t n = strcspn(s, "+");
    if (n == 0 || n >= sizeof one) {
      seterr(err, errlen, "bad OCR language list '%s' (want e.g. \"eng+dan\")", langs);
      return NULL;
    }
    memcpy(one, s, n);
    one[n] = 0;
    for (size_t i = 0; i < n; i++)
      if (!(isalnum((unsigned char)one[i]) || one[i] == '_' || one[i] == '-')) {
        seterr(err, errlen, "bad OCR language name '%s' in '%s'", one, langs);
        return NULL;
      }
    snprintf(path, sizeof path, "%s/%s.traineddata", dir, one);
    if (access(path, R_OK) != 0) {
      char pkg[80];
      size_t k = 0;
      for (size_t i = 0; i < n && k + 1 < sizeof pkg; i++)
        pkg[k++] = one[i] == '_' ? '-' : (char)tolower((unsigned char)one[i]);
      pkg[k] = 0;
      g_missing_lang = 1;
      seterr(err, errlen,
             "OCR language data '%s' not found (%s): install the Debian package "
             "tesseract-ocr-%s",
             one, path, pkg);
      return NULL;
    }
    s += n;
    if (*s == '+')
      s++;
  }

  /* Debian's Tesseract uses OpenMP; many threads make it slower, not faster.
   * (libgomp read the environment at load time: this reaches children only;
   * see rt_ocr_reexec_single_thread.) */
  static int omp_at_start = -1; /* what libgomp saw: the first look, before our setenv */
  if (omp_at_start < 0)
    omp_at_start = getenv("OMP_THREAD_LIMIT") != NULL;
  int omp_limited = omp_at_start;
  setenv("OMP_THREAD_LIMIT", "1", 0);

  rt_ocr *o = calloc(1, sizeof *o);
  if (!o) {
    seterr(err, errlen, "out of memory");
    return NULL;
  }
  o->st.omp_limited = omp_limited;
  snprintf(o->langs, sizeof o->langs, "%s", langs);
  /* One Tesseract instance per language, loaded once: a blob is read with the
   * first language, and only when that reading is not confident with the
   * next ones (Tesseract's own "eng+dan" runs every line through both,
   * doubling the time) (load_worker).
   * Recognition threads: Tesseract runs one line at a time per instance, so
   * a second instance on a second core halves the wait for a new window.
   * VAGT_OCR_THREADS overrides (1 = no threads). */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  o->nworkers = ncpu >= 2 ? 2 : 1;
  const char *ev = getenv("VAGT_OCR_THREADS");
  if (ev && atoi(ev) >= 1)
    o->nworkers = atoi(ev) > MAX_WORKERS ? MAX_WORKERS : atoi(ev);
  /* worker 0's instances load on this thread, and the call returns when they are: a
   * find starts with them; the other workers' load on threads of their own from then on
   * (not before: on a busy machine they would slow worker 0's) and take blobs once ready */
  snprintf(o->dir, sizeof o->dir, "%s", dir);
  /* Tesseract's messages to /dev/null: a process-wide setting, made once before the
   * loading threads start (an instance without languages carries it) */
  TessBaseAPI *quiet = TessBaseAPICreate();
  if (quiet) {
    TessBaseAPISetVariable(quiet, "debug_file", "/dev/null");
    TessBaseAPIDelete(quiet);
  }
  o->ld[0].o = o;
  load_worker(&o->ld[0]);
  if (o->ld[0].failed) {
    snprintf(one, sizeof one, "%s", o->ld[0].lang);
    rt_ocr_free(o);
    g_missing_lang = 1;
    seterr(err, errlen,
           "Tesseract could not load OCR language '%s' from %s (damaged data?): "
           "reinstall the Debian package tesseract-ocr-%s",
           one, dir, one);
    return NULL;
  }
  /* what the models can produce: every language's characters */
  o->charset_ok = 1;
  for (const char *q = langs; *q;) {
    size_t n = strcspn(q, "+");
    snprintf(path, sizeof path, "%s/%.*s.traineddata", dir, (int)n, q);
    if (rt_ocr__charset_load(&o->charset, path) != 0)
      o->charset_ok = 0;
    q += n;
    if (*q == '+')
      q++;
  }
  for (int wk = 1; wk < o->nworkers; wk++) {
    o->ld[wk].o = o;
    o->ld[wk].worker = wk;
    o->ld[wk].started = pthread_create(&o->ld[wk].th, NULL, load_worker, &o->ld[wk]) == 0;
  }
  o->napi = 0;
  for (const char *q = langs; *q && o->napi < MAX_LANGS; o->napi++)
    q += strcspn(q, "+") + (q[strcspn(q, "+")] == '+');
  o->screen = -1;
  for (int i = 1, j = 0; i < o->napi; i++) { /* the i-th name in langs */
    const char *q = langs;
    for (j = 0; j < i; j++)
      q += strcspn(q, "+") + (q[strcspn(q, "+")] == '+');
    if (!strncmp(q, "eng", 3) && (q[3] == 0 || q[3] == '+'))
      o->screen = i;
  }
  o->tabcap = 2 * CACHE_MAX;
  o->tab = calloc(o->tabcap, sizeof *o->tab);
  if (!o->tab) {
    rt_ocr_free(o);
    seterr(err, errlen, "out of memory");
    return NULL;
  }
  return o;
}

const char *rt_ocr_langs(const rt_ocr *o)
{
  return o ? o->langs : NULL;
}

void rt_ocr_cache_clear(rt_ocr *o)
{
  if (!o)
    return;
  for (size_t i = 0; i < o->tabcap; i++)
    if (o->tab[i].key)
      rt_ocr__centry_clear(&o->tab[i]);
  o->count = 0;
  for (int i = 0; i < 4; i++) {
    rt_ocr_result_free(&o->img[i].res);
    memset(&o->img[i], 0, sizeof o->img[i]);
  }
  memset(o->glyph, 0, sizeof o->glyph);
}

void rt_ocr_free(rt_ocr *o)
{
  if (!o)
    return;
  for (int w = 1; w < MAX_WORKERS; w++)
    if (o->ld[w].started)
      pthread_join(o->ld[w].th, NULL);
  rt_ocr_charset_free(&o->charset);
  if (o->tab)
    rt_ocr_cache_clear(o);
  free(o->tab);
  for (int w = 0; w < MAX_WORKERS; w++)
    for (int i = 0; i < MAX_LANGS; i++)
      if (o->api[w][i]) {
        TessBaseAPIEnd(o->api[w][i]);
        TessBaseAPIDelete(o->api[w][i]);
      }
  free(o);
}

void rt_ocr_get_stats(const rt_ocr *o, rt_ocr_stats *st)
{
  if (!st)
    return;
  memset(st, 0, sizeof *st);
  if (!o)
    return;
  *st = o->st;
  st->cache_entries = o->count;
  st->threads = o->nworkers;
}

/* Assign global line ids and sort into reading order. */
typedef struct {
  rt_ocr_word w;
  int blob, tline;
  int root;
} wtmp;

static int find_root(wtmp *a, int i)
{
  while (a[i].root != i) {
    a[i].root = a[a[i].root].root;
    i = a[i].root;
  }
  return i;
}

static int cmp_line_order(const void *pa, const void *pb)
{
  const wtmp *a = pa, *b = pb;
  if (a->w.line != b->w.line)
    return a->w.line - b->w.line;
  return a->w.box.x - b->w.box.x;
}

typedef struct {
  int root, top, bottom, left, band;
} lineinfo;

static int cmp_line_centre(const void *pa, const void *pb)
{
  const lineinfo *a = pa, *b = pb;
  return (a->top + a->bottom) - (b->top + b->bottom);
}

static int cmp_line_band(const void *pa, const void *pb)
{
  const lineinfo *a = pa, *b = pb;
  if (a->band != b->band)
    return a->band - b->band;
  return a->left - b->left;
}

/* A word read twice (two blobs over one line of text overlap): the same text with
 * boxes that mostly cover each other is one word; the surer reading stays. A finder
 * would call it ambiguous ("'New' at (58,46), 'New' at (58,45)"). Returns the new n. */
static size_t drop_read_twice(wtmp *a, size_t n)
{
  bool *drop = calloc(n + 1, sizeof *drop);
  if (!drop)
    return n; /* kept as read: a finder may call one word ambiguous */
  for (size_t i = 0; i < n; i++) {
    const rt_ocr_box b = a[i].w.box;
    for (size_t j = 0; j < n && !drop[i]; j++) {
      if (j == i || drop[j])
        continue;
      const rt_ocr_box c = a[j].w.box;
      long ox = (long)(b.x + b.w < c.x + c.w ? b.x + b.w : c.x + c.w) - (b.x > c.x ? b.x : c.x);
      long oy = (long)(b.y + b.h < c.y + c.h ? b.y + b.h : c.y + c.h) - (b.y > c.y ? b.y : c.y);
      long small = (long)b.w * b.h < (long)c.w * c.h ? (long)b.w * b.h : (long)c.w * c.h;
      if (ox <= 0 || oy <= 0 || ox * oy * 2 < small || strcmp(a[j].w.text, a[i].w.text))
        continue;
      /* i gives way to the surer reading, or to the first of two equal ones */
      drop[i] = a[j].w.conf > a[i].w.conf || (a[j].w.conf == a[i].w.conf && j < i);
    }
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (drop[i])
      free(a[i].w.text);
    else
      a[k++] = a[i];
  free(drop);
  return k;
}

static void assign_lines(wtmp *a, size_t n, int *nlines)
{
  for (size_t i = 0; i < n; i++)
    a[i].root = (int)i;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      rt_ocr_box *p = &a[i].w.box, *q = &a[j].w.box;
      if (a[i].blob == a[j].blob) {
        if (a[i].tline != a[j].tline)
          continue;
      } else {
        int ov =
            (p->y + p->h < q->y + q->h ? p->y + p->h : q->y + q->h) - (p->y > q->y ? p->y : q->y);
        int mh = p->h < q->h ? p->h : q->h, xh = p->h > q->h ? p->h : q->h;
        if (ov * 2 < mh)
          continue;
        int gap = p->x > q->x ? p->x - (q->x + q->w) : q->x - (p->x + p->w);
        if (gap > xh * 3 / 2)
          continue;
      }
      int ri = find_root(a, (int)i), rj = find_root(a, (int)j);
      if (ri != rj)
        a[ri > rj ? ri : rj].root = ri < rj ? ri : rj;
    }
  lineinfo *li = malloc((n ? n : 1) * sizeof *li);
  size_t nl = 0;
  for (size_t i = 0; i < n; i++) {
    int r = find_root(a, (int)i);
    size_t k;
    for (k = 0; k < nl; k++)
      if (li[k].root == r)
        break;
    if (k == nl)
      li[nl++] = (lineinfo){r, a[i].w.box.y, a[i].w.box.y + a[i].w.box.h, a[i].w.box.x, 0};
    if (a[i].w.box.y < li[k].top)
      li[k].top = a[i].w.box.y;
    if (a[i].w.box.y + a[i].w.box.h > li[k].bottom)
      li[k].bottom = a[i].w.box.y + a[i].w.box.h;
    if (a[i].w.box.x < li[k].left)
      li[k].left = a[i].w.box.x;
  }
  /* reading order: rows of lines (a line whose middle lies within the row
   * so far joins it), top to bottom; left to right within a row */
  qsort(li, nl, sizeof *li, cmp_line_centre);
  int band = 0, bbottom = -1;
  for (size_t k = 0; k < nl; k++) {
    int mid = (li[k].top + li[k].bottom) / 2;
    if (k > 0 && mid >= bbottom)
      band++;
    if (k == 0 || mid >= bbottom)
      bbottom = li[k].bottom;
    li[k].band = band;
  }
  qsort(li, nl, sizeof *li, cmp_line_band);
  for (size_t i = 0; i < n; i++) {
    int r = find_root(a, (int)i);
    for (size_t k = 0; k < nl; k++)
      if (li[k].root == r) {
        a[i].w.line = (int)k;
        break;
      }
  }
  free(li);
  *nlines = (int)nl;
  qsort(a, n, sizeof *a, cmp_line_order);
}

void rt_ocr_result_free(rt_ocr_result *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    free(r->words[i].text);
  free(r->words);
  memset(r, 0, sizeof *r);
}

static int result_copy(rt_ocr_result *dst, const rt_ocr_result *src)
{
  *dst = *src;
  dst->words = calloc(src->n ? src->n : 1, sizeof *dst->words);
  if (!dst->words)
    return -1;
  for (size_t i = 0; i < src->n; i++) {
    dst->words[i] = src->words[i];
    dst->words[i].text = strdup(src->words[i].text);
    if (!dst->words[i].text) {
      dst->n = i;
      rt_ocr_result_free(dst);
      return -1;
    }
  }
  return 0;
}

static int read_words(rt_ocr *o, PIX *img, const rt_ocr_opts *opts, rt_ocr_result *out, char *err,
                      size_t errlen, int narrow, int *skipped);

/* The narrowest a word of `phrase` can be, in multiples of its line height (the tallest
 * glyph): per character a lower bound over screen fonts, condensed and bitmap ones
 * included (an 'e' is 0.5-0.8 line heights wide, an 'i' or 'l' a stroke); 0 when the
 * phrase has a word of fewer than 3 characters (no bound worth the risk). */
static double min_width(const char *phrase)
{
  double best = 0;
  for (const char *s = phrase; *s;) {
    s += strspn(s, " \t\n");
    size_t n = strcspn(s, " \t\n");
    if (!n)
      break;
    double w = 0;
    int chars = 0;
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)s[i];
      if ((c & 0xC0) == 0x80)
        continue;
      chars++;
      w += strchr("iIl1!|.,:;'`\"", c) ? 0.1 : strchr("fjJrt()[]{}-/\\", c) ? 0.25 : 0.45;
    }
    if (chars < 3)
      return 0;
    if (best == 0 || w < best)
      best = w;
    s += n;
  }
  return best;
}

/* Does res hold a match of phrase at tier 0-2 (exact, edge punctuation, part of a word)?
 * Case-sensitive: a case-blind find's best is at least as good. */
static int has_close_match(const rt_ocr_result *res, const char *phrase)
{
  rt_ocr_match m[1];
  if (!rt_ocr_find_all(res, phrase, NULL, m, 1))
    return 0;
  return m[0].tier < 3; /* tier 3 may be slips, which a narrower word can hold */
}

int rt_ocr_words(rt_ocr *o, PIX *img, const rt_ocr_opts *opts, rt_ocr_result *out, char *err,
                 size_t errlen)
{
  int skipped = 0;
  int rc = read_words(o, img, opts, out, err, errlen, 1, &skipped);
  for (int pass = 0; pass < 2 && rc == RT_OCR_OK; pass++) {
    rt_ocr__settle(o, img, opts ? opts->hint : NULL, out);
    /* blobs too narrow to hold the phrase were left unread: they cannot hold a match as
     * good as one found here; without one, they are read too (a match with slips) */
    if (pass || !skipped || has_close_match(out, opts->hint))
      break;
    rt_ocr_result_free(out);
    rc = read_words(o, img, opts, out, err, errlen, 0, &skipped);
  }
  return rc;
}

/* Appends b to *out (m used of cap), growing it; false (and *out freed) when out of memory. */
static bool push_blob(blob **out, int *m, int *cap, blob b)
{
  if (*m == *cap) {
    blob *nbl = realloc(*out, (size_t)(*cap *= 2) * sizeof **out);
    if (!nbl) {
      free(*out);
      *out = NULL;
      return false;
    }
    *out = nbl;
  }
  (*out)[(*m)++] = b;
  return true;
}

/* The blobs of several lines split at the blank rows between their lines (of keep, the
 * text pixels), one blob a line: find measures and screens lines, not columns (NEdit's 30
 * lines of "types" above each other touched within BLOB_VGAP and made one blob, read as
 * a block in 250 ms). Lines that touch stay one blob. NULL when out of memory. */
static blob *split_lines(blob *bl, int *nb, PIX *keep)
{
  uint32_t *kd = pixGetData(keep);
  int kwpl = pixGetWpl(keep), n = *nb, cap = n + 16;
  blob *out = malloc((size_t)cap * sizeof *out);
  int m = 0;
  for (int b = 0; out && b < n; b++) {
    const blob *p = &bl[b];
    int y = p->y, done = 0;
    if (p->h > p->lineh * 3 / 2 + 2) {
      int start = m;
      while (y < p->y + p->h) {
        int x0 = p->x + p->w, x1 = -1, y0 = -1;
        for (; y < p->y + p->h; y++) { /* a band of rows with ink */
          int lo = -1, hi = -1;
          for (int x = p->x; x < p->x + p->w; x++)
            if (GET_DATA_BIT(kd + (size_t)y * kwpl, x)) {
              if (lo < 0)
                lo = x;
              hi = x;
            }
          if (lo < 0 && y0 >= 0)
            break;
          if (lo < 0)
            continue;
          if (y0 < 0)
            y0 = y;
          if (lo < x0)
            x0 = lo;
          if (hi > x1)
            x1 = hi;
        }
        if (y0 < 0)
          break;
        int bh = y - y0;
        if (!push_blob(&out, &m, &cap,
                       (blob){x0, y0, x1 - x0 + 1, bh, bh < p->lineh ? bh : p->lineh}))
          return NULL;
      }
      done = m - start >= 2;
      if (!done)
        m = start;
    }
    if (!done && !push_blob(&out, &m, &cap, *p))
      return NULL;
  }
  *nb = m;
  return out;
}

/* Phase 1 of read_words for one blob: its image, its cache key, and what is to be read
 * (nothing, retries, a screening or a careful reading) into p; *cached counts readings
 * the cache held. */
static void prepare_blob(rt_ocr *o, PIX *p32, PIX *keep, const blob *bp, pending *p,
                         const char *hint, int screening, int no_cache, int *cached)
{
  float scale = 1, xscale = 1;
  PIX *bi = rt_ocr__blob_image(p32, keep, bp, &scale, &xscale);
  if (!bi)
    return;
  uint32_t sbits;
  memcpy(&sbits, &scale, 4);
  uint64_t key = rt_ocr__hash_bytes(pixGetData(bi), (size_t)pixGetWpl(bi) * 4 * pixGetHeight(bi),
                                    ((uint64_t)pixGetWidth(bi) << 40) ^
                                        ((uint64_t)pixGetHeight(bi) << 20) ^ sbits);
  p->img = bi;
  p->scale = scale;
  p->xscale = xscale;
  p->ox = bp->x - 1 < 0 ? 0 : bp->x - 1;
  p->oy = bp->y - 1 < 0 ? 0 : bp->y - 1;
  p->key = key;
  p->psm = bp->h > bp->lineh * 3 / 2 + 2 ? PSM_SINGLE_BLOCK : PSM_SINGLE_LINE;
  centry *e = rt_ocr__cache_get(o, key);
  if (e && e->gen == o->gen) { /* the same pixels again in this image */
    p->e = NULL;
    p->src = e;
    return;
  }
  centry *hit = rt_ocr__cache_hit(o, e, no_cache);
  if (hit) { /* read before: at most the retries this hint wants are due */
    (*cached)++;
    p->src = p->e = hit;
    p->retry_only = 1;
    if (!rt_ocr__retry_due(o, p, hint))
      p->e = NULL;
    return;
  }
  uint64_t rkey = key; /* the reading to make: careful, or screening */
  if (screening) {
    rkey = p->skey = (key ^ 0x5c2ee9a7d1f3b6c5ull) | 1;
    p->src_screen = 1;
    centry *se = rt_ocr__cache_get(o, rkey);
    if (se && se->gen == o->gen) { /* the same pixels again; settled below */
      p->src = se;
      return;
    }
    if ((hit = rt_ocr__cache_hit(o, se, no_cache))) {
      (*cached)++;
      p->src = hit;
      if (rt_ocr__may_hold(hit, hint)) /* read with care */
        p->care_used = (p->e = p->care = calloc(1, sizeof *p->care)) != NULL;
      return;
    }
    p->care = calloc(1, sizeof *p->care);
    p->screen = 1;
  }
  e = rt_ocr__cache_put(o, rkey);
  if (!e)
    e = p->own = calloc(1, sizeof *e);
  p->e = p->src = e;
  if (!e) /* out of memory: skip the blob */
    pixDestroy(&p->img);
}

/* The key of a whole image's pixels (alpha byte ignored: capture may leave it undefined). */
static uint64_t image_key(PIX *p32)
{
  int W = pixGetWidth(p32), H = pixGetHeight(p32), wpl = pixGetWpl(p32);
  const uint32_t *d = pixGetData(p32);
  uint64_t h = mix64((uint64_t)W << 32 | (uint32_t)H, 0x5eed);
  for (int y = 0; y < H; y++) {
    const uint32_t *row = d + (size_t)y * wpl;
    int x = 0;
    for (; x + 2 <= W; x += 2)
      h = mix64(h, ((uint64_t)(row[x] & 0xffffff00u) << 32) | (row[x + 1] & 0xffffff00u));
    if (x < W)
      h = mix64(h, row[x] & 0xffffff00u);
  }
  return h ? h : 1;
}

/* The median line height of the blobs of one line (0 when none, or out of memory). */
static int median_line(const blob *bl, int nb)
{
  int *hs = nb > 0 ? malloc((size_t)nb * sizeof *hs) : NULL, k = 0;
  for (int b = 0; hs && b < nb; b++)
    if (bl[b].h <= bl[b].lineh * 3 / 2 + 2)
      hs[k++] = bl[b].lineh;
  int m = hs ? rt_ocr__median(hs, k) : 0;
  free(hs);
  return m;
}

/* The whole result of an image read before with the same options (an unchanged window):
 * 1 (out filled), 0 none, -1 out of memory. */
static int from_image_cache(rt_ocr *o, uint64_t ikey, uint64_t hkey, const rt_ocr_opts *opts,
                            rt_ocr_result *out, int *skipped)
{
  if (opts->no_cache || opts->has_region)
    return 0;
  for (int i = 0; i < 4; i++)
    if (o->img[i].key == ikey && o->img[i].min_conf == opts->min_conf &&
        (!o->img[i].partial || o->img[i].hint == hkey)) {
      if (result_copy(out, &o->img[i].res) != 0)
        return -1;
      o->img[i].gen = o->gen;
      *skipped = o->img[i].skipped;
      o->st.image_hits++;
      out->image_cached = 1;
      out->blobs_cached = out->blobs;
      out->timed_out = 0;
      return 1;
    }
  return 0;
}

/* Remembers an image's whole result (in place of the least recently used of four). */
static void remember_image(rt_ocr *o, const rt_ocr_result *res, uint64_t ikey, uint64_t hkey,
                           int min_conf, int partial, int skipped)
{
  int slot = 0;
  for (int i = 1; i < 4; i++)
    if (o->img[i].gen < o->img[slot].gen)
      slot = i;
  rt_ocr_result_free(&o->img[slot].res);
  memset(&o->img[slot], 0, sizeof o->img[slot]);
  if (result_copy(&o->img[slot].res, res) != 0) {
    memset(&o->img[slot], 0, sizeof o->img[slot]);
    return;
  }
  o->img[slot].key = ikey;
  o->img[slot].gen = o->gen;
  o->img[slot].min_conf = min_conf;
  o->img[slot].hint = hkey;
  o->img[slot].partial = partial;
  o->img[slot].skipped = skipped;
}

/* Careful readings of screened blobs go into the cache (or stay the blob's own when it
 * is full), for every blob with those pixels. */
static void keep_careful(rt_ocr *o, pending *pd, int nb)
{
  for (int b = 0; b < nb; b++) {
    if (!pd[b].care)
      continue;
    if (pd[b].care_used && !pd[b].care->timed_out) {
      centry *ce = rt_ocr__cache_put(o, pd[b].key);
      if (ce) {
        uint64_t k = ce->key;
        uint32_t g = ce->gen;
        *ce = *pd[b].care;
        ce->key = k;
        ce->gen = g;
        free(pd[b].care);
      } else {
        ce = pd[b].care;
        pd[b].own2 = ce;
      }
      pd[b].care = NULL;
      for (int b2 = 0; b2 < nb; b2++)
        if (pd[b2].img && pd[b2].key == pd[b].key) {
          pd[b2].src = ce;
          pd[b2].src_screen = 0;
        }
    } else if (pd[b].care_used) { /* cut short by the deadline: the blob's own */
      pd[b].own2 = pd[b].src = pd[b].care;
      pd[b].src_screen = 0;
      pd[b].care = NULL;
    } else {
      rt_ocr__centry_clear(pd[b].care);
      free(pd[b].care);
      pd[b].care = NULL;
    }
  }
}

/* Appends blob b's words (its reading, in window coordinates, clipped to W x H) to *a. */
static void collect_words(const pending *p, int b, int min_conf, int W, int H, wtmp **a, size_t *n,
                          size_t *cap)
{
  const centry *e = p->img ? p->src : NULL;
  if (!e)
    return;
  for (int i = 0; i < e->n; i++) {
    if (min_conf > 0 && e->w[i].conf < min_conf)
      continue;
    if (*n == *cap) {
      wtmp *na = realloc(*a, *cap * 2 * sizeof **a);
      if (!na)
        return;
      *a = na;
      *cap *= 2;
    }
    wtmp *t = &(*a)[*n];
    t->w.text = strdup(e->w[i].text);
    if (!t->w.text)
      continue;
    t->w.box = e->w[i].box;
    t->w.box.x += p->ox;
    t->w.box.y += p->oy;
    if (t->w.box.x + t->w.box.w > W)
      t->w.box.w = W - t->w.box.x;
    if (t->w.box.y + t->w.box.h > H)
      t->w.box.h = H - t->w.box.y;
    if (t->w.box.w < 1)
      t->w.box.w = 1;
    if (t->w.box.h < 1)
      t->w.box.h = 1;
    t->w.conf = e->w[i].conf;
    t->w.line = 0;
    t->blob = b;
    t->tline = e->w[i].tline;
    (*n)++;
  }
}

static void free_pending(pending *pd, int nb)
{
  for (int b = 0; pd && b < nb; b++) {
    pixDestroy(&pd[b].img);
    if (pd[b].own) {
      rt_ocr__centry_clear(pd[b].own);
      free(pd[b].own);
    }
    if (pd[b].own2) {
      rt_ocr__centry_clear(pd[b].own2);
      free(pd[b].own2);
    }
  }
  free(pd);
}

static int read_words(rt_ocr *o, PIX *img, const rt_ocr_opts *opts, rt_ocr_result *out, char *err,
                      size_t errlen, int narrow, int *skipped)
{
  *skipped = 0;
  if (out)
    memset(out, 0, sizeof *out);
  if (!o || !img || !out) {
    seterr(err, errlen, "rt_ocr_words: missing argument");
    return RT_OCR_ERROR;
  }
  double t0 = (vu_mono() * 1e3);
  rt_ocr_opts def = {0};
  if (!opts)
    opts = &def;
  int deadline = opts->deadline_ms > 0 ? opts->deadline_ms : 1000;
  PIX *p32 = pixGetDepth(img) == 32 ? pixClone(img) : pixConvertTo32(img);
  if (!p32) {
    seterr(err, errlen, "cannot convert the image to 32 bpp");
    return RT_OCR_ERROR;
  }
  int W = pixGetWidth(p32), H = pixGetHeight(p32);
  if (W < 1 || H < 1) {
    pixDestroy(&p32);
    seterr(err, errlen, "empty image");
    return RT_OCR_ERROR;
  }
  o->gen++;
  /* whole image unchanged? (alpha byte ignored: capture may leave it undefined) */
  uint64_t ikey = image_key(p32);
  const char *hint = opts->hint && *opts->hint ? opts->hint : NULL;
  uint64_t hkey = hint ? rt_ocr__hash_bytes(hint, strlen(hint), 0x41) : 0;
  /* find in a window dense with text: a blob narrower than the phrase's narrowest word
   * can be (min_width) is not read. A phrase's word lies within one blob (its letters
   * are less than BLOB_HGAP apart) up to a line height of NARROW_MAX_H; taller text, a
   * blob of several lines and a phrase with a short word are read as before. */
  double minw = narrow && hint && !opts->no_cache ? min_width(hint) : 0;
  if (minw > 0)
    hkey ^= 0x6e6172726f77ull;
  /* Screening: find with a phrase of plain ASCII reads the window first in
   * English, whose model is about a third cheaper than the Danish one (36 px
   * rows instead of 48), and only the blobs whose reading may hold the
   * phrase again with full care (the first language, retries): the match and
   * every candidate for ambiguity come from the careful reading. English
   * cannot read æ, ø, å, so the screening readings serve nothing else: they
   * are cached apart and never stand in for a careful reading. */
  int screening = 0;
  if (hint && o->screen > 0) {
    screening = 1;
    for (const unsigned char *c = (const unsigned char *)hint; *c; c++)
      if (*c >= 0x80)
        screening = 0;
  }
  int hit = from_image_cache(o, ikey, hkey, opts, out, skipped);
  if (hit) {
    pixDestroy(&p32);
    if (hit < 0) {
      seterr(err, errlen, "out of memory");
      return RT_OCR_ERROR;
    }
    out->ms = (vu_mono() * 1e3) - t0;
    return RT_OCR_OK;
  }

  int nb = 0;
  PIX *keep = NULL;
  blob *bl = rt_ocr__find_blobs(p32, &nb, &keep);
  if (!bl) {
    pixDestroy(&p32);
    seterr(err, errlen, "out of memory in the OCR pipeline");
    return RT_OCR_ERROR;
  }
  if (minw > 0 && bl) {
    blob *sp = split_lines(bl, &nb, keep);
    free(bl);
    bl = sp;
    if (!bl) {
      pixDestroy(&keep);
      pixDestroy(&p32);
      seterr(err, errlen, "out of memory in the OCR pipeline");
      return RT_OCR_ERROR;
    }
  }
  /* the line height a blob's width is measured in: its tallest glyph, but no more than a
   * quarter above the window's usual one (two lines' glyphs touching make one tall
   * component; a smaller height only makes the bound safer) */
  int medh = minw > 0 ? median_line(bl, nb) : 0;
  if (!medh)
    minw = 0;
  size_t cap = 64, n = 0;
  wtmp *a = malloc(cap * sizeof *a);
  pending *pd = calloc(nb ? (size_t)nb : 1, sizeof *pd);
  int cached = 0, timed_out = 0;
  if (!pd) {
    free(a);
    a = NULL;
  }
  rt_ocr__cache_reserve(o, 2 * (size_t)nb); /* screening and careful readings */
  /* 1: blob images and cache look-ups */
  for (int b = 0; a && b < nb; b++) {
    if (opts->has_region &&
        (bl[b].x + bl[b].w <= opts->region.x || bl[b].x >= opts->region.x + opts->region.w ||
         bl[b].y + bl[b].h <= opts->region.y || bl[b].y >= opts->region.y + opts->region.h))
      continue;
    if (minw > 0 && bl[b].lineh <= NARROW_MAX_H) {
      /* lines under 4 px (an underline, a stippled caption's dots) measured as 4 */
      double lh = bl[b].lineh < medh * 1.25 ? bl[b].lineh : medh * 1.25;
      if (lh < 4)
        lh = 4;
      if (bl[b].w < minw * lh) {
        (*skipped)++;
        continue;
      }
    }
    prepare_blob(o, p32, keep, &bl[b], &pd[b], hint, screening, opts->no_cache, &cached);
  }
  /* 2: recognise the missing ones, blob by blob, language by language */
  if (a)
    timed_out = rt_ocr__recognise_pending(o, pd, nb, deadline, hint);
  if (a)
    keep_careful(o, pd, nb);
  /* partial: a later call without a hint, or with another one, has unsure words to
   * read again (a hint makes words of digits and marks due too: retry_refs, hint ""),
   * or screening readings to read with care */
  int partial = *skipped > 0;
  for (int b = 0; hint && a && b < nb && !partial; b++)
    if (pd[b].img && pd[b].src) {
      pending q = pd[b];
      q.e = q.src;
      partial = pd[b].src_screen || rt_ocr__retry_due(o, &q, "");
    }
  /* 3: collect words, window coordinates */
  for (int b = 0; a && b < nb; b++)
    collect_words(&pd[b], b, opts->min_conf, W, H, &a, &n, &cap);
  free_pending(pd, nb);
  free(bl);
  pixDestroy(&keep);
  pixDestroy(&p32);
  if (!a) {
    seterr(err, errlen, "out of memory");
    return RT_OCR_ERROR;
  }
  int nlines = 0;
  n = drop_read_twice(a, n);
  assign_lines(a, n, &nlines);
  out->words = calloc(n ? n : 1, sizeof *out->words);
  if (!out->words) {
    for (size_t i = 0; i < n; i++)
      free(a[i].w.text);
    free(a);
    seterr(err, errlen, "out of memory");
    return RT_OCR_ERROR;
  }
  for (size_t i = 0; i < n; i++)
    out->words[i] = a[i].w;
  free(a);
  out->n = n;
  out->nlines = nlines;
  out->width = W;
  out->height = H;
  out->blobs = nb;
  out->blobs_cached = cached;
  out->timed_out = timed_out;
  out->ms = (vu_mono() * 1e3) - t0;

  if (!timed_out && !opts->has_region)
    remember_image(o, out, ikey, hkey, opts->min_conf, partial, *skipped);
  return RT_OCR_OK;
}

/* Whether word b (after a in reading order) begins a new row of text: another line that
 * does not share half its height with a (lines of one row are apart by a wide gap: two
 * spaces after a full stop, a label and its value). */
static bool new_row(const rt_ocr_word *a, const rt_ocr_word *b)
{
  if (a->line == b->line)
    return false;
  int top = a->box.y > b->box.y ? a->box.y : b->box.y;
  int bot = a->box.y + a->box.h < b->box.y + b->box.h ? a->box.y + a->box.h : b->box.y + b->box.h;
  int mh = a->box.h < b->box.h ? a->box.h : b->box.h;
  return b->box.x < a->box.x || (bot - top) * 2 < mh;
}

/* The median gap between neighbouring words of one line (a space's width there), 0 when
 * there are fewer than three such pairs. */
static int word_gap(const rt_ocr_result *r)
{
  int g[64], n = 0;
  for (size_t i = 1; r && i < r->n && n < 64; i++) {
    const rt_ocr_word *a = &r->words[i - 1], *b = &r->words[i];
    int d = b->box.x - (a->box.x + a->box.w);
    if (a->line == b->line && d > 0 && strlen(b->text) > 1 && strlen(a->text) > 1)
      g[n++] = d;
  }
  return n >= 3 ? rt_ocr__median(g, n) : 0;
}

char *rt_ocr_result_text(const rt_ocr_result *r)
{
  size_t len = 1;
  for (size_t i = 0; r && i < r->n; i++)
    len += strlen(r->words[i].text) + 1;
  char *s = malloc(len), *p = s;
  if (!s)
    return NULL;
  *p = 0;
  int gap = word_gap(r);
  for (size_t i = 0; r && i < r->n; i++) {
    const rt_ocr_word *a = i ? &r->words[i - 1] : NULL, *b = &r->words[i];
    if (a && new_row(a, b))
      *p++ = '\n';
    else if (a && !(gap > 0 && b->text[strspn(b->text, ".,:;!?)")] == 0 &&
                    (b->box.x - (a->box.x + a->box.w)) * 5 < gap * 4))
      *p++ = ' '; /* a full stop a glyph's width after its word is not a word */
    size_t l = strlen(r->words[i].text);
    memcpy(p, r->words[i].text, l);
    p += l;
    *p = 0;
  }
  return s;
}

char *rt_ocr_read(rt_ocr *o, PIX *img, rt_ocr_box box, const rt_ocr_opts *opts, char *err,
                  size_t errlen)
{
  if (!o || !img) {
    seterr(err, errlen, "rt_ocr_read: missing argument");
    return NULL;
  }
  int W = pixGetWidth(img), H = pixGetHeight(img);
  int x0 = box.x < 0 ? 0 : box.x, y0 = box.y < 0 ? 0 : box.y;
  int x1 = box.x + box.w > W ? W : box.x + box.w, y1 = box.y + box.h > H ? H : box.y + box.h;
  if (x1 <= x0 || y1 <= y0) {
    seterr(err, errlen, "rectangle %d,%d %dx%d is outside the %dx%d image", box.x, box.y, box.w,
           box.h, W, H);
    return NULL;
  }
  BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
  PIX *c = b ? pixClipRectangle(img, b, NULL) : NULL;
  boxDestroy(&b);
  if (!c) {
    seterr(err, errlen, "cannot crop the image");
    return NULL;
  }
  /* a one-pixel frame of the crop's own corner colour keeps text that touches
   * the rectangle's edge inside the pipeline's reach */
  rt_ocr_result r;
  int rc = rt_ocr_words(o, c, opts, &r, err, errlen);
  pixDestroy(&c);
  if (rc != RT_OCR_OK)
    return NULL;
  char *s = rt_ocr_result_text(&r);
  rt_ocr_result_free(&r);
  if (!s)
    seterr(err, errlen, "out of memory");
  return s;
}

PIX *rt_ocr_draw(PIX *img, const rt_ocr_result *res)
{
  if (!img)
    return NULL;
  PIX *c = pixConvertTo32(img);
  for (size_t k = 0; c && res && k < res->n; k++) {
    const rt_ocr_word *w = &res->words[k];
    BOX *b = boxCreate(w->box.x, w->box.y, w->box.w, w->box.h);
    if (!b)
      continue;
    if (w->conf >= 60)
      pixRenderBoxArb(c, b, 1, 255, 0, 0);
    else
      pixRenderBoxArb(c, b, 1, 0, 0, 255);
    boxDestroy(&b);
  }
  return c;
}
