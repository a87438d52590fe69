/* rt_ocr engine: setup (Tesseract instances per worker and language) and the words
 * pipeline: blobs (ocr_blobs.c), cached or recognised (ocr_cache.c, ocr_recognise.c),
 * put in reading order. */
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

/* ---- single glyphs: a careful reading of the known confusions ----
 *
 * A caption of one character (an xcalc key "9", "C", "-") is read alone, without the line
 * whose x-height and baseline tell 9 from g and C from c, and upscaled like every blob,
 * which makes it worse. When the phrase looked for is one such character, a word that
 * reads as one of its known confusions is a candidate, never a match: it is read again
 * from the image at its own size, as a single character restricted to the phrase and its
 * confusions, and only a reading of the phrase itself settles it. */
static const struct {
  const char *ch, *like; /* the character, and what it is read as (space-separated) */
} confusions[] = {
    {"9", "g q"}, {"g", "9"},         {"0", "O o Q D"}, {"O", "0 o Q D"},
    {"o", "0 O"}, {"1", "l I | i ]"}, {"l", "1 I |"},   {"I", "1 l |"},
    {"5", "S s"}, {"S", "5 s"},       {"s", "S 5"},     {"8", "B &"},
    {"B", "8"},   {"C", "c ("},       {"c", "C"},       {"6", "b G"},
    {"G", "6"},   {"2", "Z z"},       {"Z", "2 z"},     {"z", "Z 2"},
    {"7", "T"},   {"x", "X \u00d7"},  {"X", "x"},       {"v", "V"},
    {"V", "v"},   {"w", "W"},         {"W", "w"},       {"u", "U"},
    {"U", "u"},   {"k", "K"},         {"K", "k"},       {"p", "P"},
    {"P", "p"},   {"y", "Y"},         {"Y", "y"},       {"-", "\u2014 \u2013 _ ~ ."},
    {")", "] }"}, {"(", "[ {"},
};

/* The confusion entry of a phrase of one character (after trimming), or -1. */
static int glyph_entry(const char *hint, char *ch, size_t n)
{
  while (*hint == ' ')
    hint++;
  size_t len = strlen(hint);
  while (len && hint[len - 1] == ' ')
    len--;
  if (!len || len >= n)
    return -1;
  memcpy(ch, hint, len);
  ch[len] = 0;
  for (size_t i = 0; i < sizeof confusions / sizeof *confusions; i++)
    if (!strcmp(confusions[i].ch, ch))
      return (int)i;
  return -1;
}

/* The entry's readings, split at spaces. */
static void like_list(int ent, char out[][8], int *n)
{
  *n = 0;
  const char *p = confusions[ent].like;
  while (*p && *n < 8) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    const char *e = strchr(p, ' ');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l < 8) {
      memcpy(out[*n], p, l);
      out[*n][l] = 0;
      (*n)++;
    }
    p += l;
  }
}

size_t rt_ocr_maybe(const char *text, char *out, size_t n)
{
  size_t k = 0, found = 0;
  if (n)
    out[0] = 0;
  for (size_t i = 0; i < sizeof confusions / sizeof *confusions; i++) {
    char like[8][8];
    int nl;
    like_list((int)i, like, &nl);
    for (int j = 0; j < nl; j++)
      if (!strcmp(like[j], text) && k + strlen(confusions[i].ch) + 2 < n) {
        k += (size_t)snprintf(out + k, n - k, "%s%s", found ? " " : "", confusions[i].ch);
        found++;
        break;
      }
  }
  return found;
}

/* One careful reading of box in img (grown by pad pixels each side): a single character
 * among `allowed`, at its own size or, with tall > 0, each pixel a block so that it is at
 * least tall pixels high; with language `lang` (an index into the loaded ones; -1:
 * English's when loaded, which reads a lone digit better than Danish's). Writes the
 * reading (or "") to got. */
static void read_glyph(rt_ocr *o, PIX *img, rt_ocr_box box, int pad, int tall, const char *allowed,
                       int lang, char *got, size_t n, float *conf)
{
  got[0] = 0;
  *conf = 0;
  if (lang < 0 || lang >= o->napi)
    lang = o->screen > 0 ? o->screen : 0;
  TessBaseAPI *api = o->api[0][lang];
  int W = pixGetWidth(img), H = pixGetHeight(img);
  int x0 = box.x - pad < 0 ? 0 : box.x - pad, y0 = box.y - pad < 0 ? 0 : box.y - pad;
  int x1 = box.x + box.w + pad > W ? W : box.x + box.w + pad;
  int y1 = box.y + box.h + pad > H ? H : box.y + box.h + pad;
  if (!api || x1 <= x0 || y1 <= y0)
    return;
  BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
  PIX *c = b ? pixClipRectangle(img, b, NULL) : NULL;
  boxDestroy(&b);
  PIX *g = c ? pixConvertTo8(c, 0) : NULL;
  pixDestroy(&c);
  if (!g)
    return;
  l_float32 mean = 255;
  pixGetAverageMasked(g, NULL, 0, 0, 1, L_MEAN_ABSVAL, &mean);
  if (mean < 128)
    pixInvert(g, g);                        /* light text on a dark key: dark on light */
  if (tall > 0 && pixGetHeight(g) < tall) { /* each pixel a square block: a bitmap glyph */
    PIX *e = pixExpandReplicate(g, (tall + pixGetHeight(g) - 1) / pixGetHeight(g));
    pixDestroy(&g);
    if (!(g = e))
      return;
  }
  PIX *m = pixAddBorder(g, 10, 255);
  pixDestroy(&g);
  if (!m)
    return;
  uint64_t key =
      rt_ocr__hash_bytes(allowed, strlen(allowed), 0x676c797068ull + (unsigned)lang * 64 + tall);
  key = rt_ocr__hash_bytes(pixGetData(m), (size_t)pixGetWpl(m) * 4 * pixGetHeight(m),
                           key ^ ((uint64_t)pixGetWidth(m) << 32 | pixGetHeight(m)));
  for (size_t i = 0; i < sizeof o->glyph / sizeof *o->glyph; i++)
    if (o->glyph[i].key == key) {
      snprintf(got, n, "%s", o->glyph[i].got);
      *conf = o->glyph[i].conf;
      o->st.blob_hits++;
      pixDestroy(&m);
      return;
    }
  TessBaseAPISetVariable(api, "tessedit_char_whitelist", allowed);
  TessBaseAPISetVariable(api, "lstm_choice_mode", "2"); /* each symbol's alternatives */
  TessBaseAPISetImage2(api, m);
  TessBaseAPISetSourceResolution(api, 300);
  TessBaseAPISetPageSegMode(api, PSM_SINGLE_CHAR);
  if (TessBaseAPIRecognize(api, NULL) == 0) {
    TessResultIterator *it = TessBaseAPIGetIterator(api);
    char *t = it ? TessResultIteratorGetUTF8Text(it, RIL_SYMBOL) : NULL;
    if (t) {
      t[strcspn(t, " \n")] = 0;
      /* a reading is sure only when the other allowed characters are far behind: xcalc's
       * pi key read as 7 or T is a coin toss (7 69.5, T 68.6), its 9 key is not (9 90.6,
       * g 56.9) */
      float mine = -1, other = -1;
      TessChoiceIterator *ci = TessResultIteratorGetChoiceIterator(it);
      if (ci) {
        do {
          const char *c = TessChoiceIteratorGetUTF8Text(ci);
          float cf = TessChoiceIteratorConfidence(ci);
          if (c && !strcmp(c, t))
            mine = cf > mine ? cf : mine;
          else if (c && cf > other)
            other = cf;
        } while (TessChoiceIteratorNext(ci));
        TessChoiceIteratorDelete(ci);
      }
      if (mine < 0 || mine - other >= GLYPH_MARGIN) {
        snprintf(got, n, "%s", t);
        *conf = TessResultIteratorConfidence(it, RIL_SYMBOL);
      }
      TessDeleteText(t);
    }
    if (it)
      TessResultIteratorDelete(it);
  }
  __atomic_add_fetch(&o->st.recognitions, 1, __ATOMIC_RELAXED);
  TessBaseAPIClear(api);
  TessBaseAPISetVariable(api, "tessedit_char_whitelist", "");
  TessBaseAPISetVariable(api, "lstm_choice_mode", "0");
  pixDestroy(&m);
  unsigned slot = o->glyph_next++ % (sizeof o->glyph / sizeof *o->glyph);
  o->glyph[slot].key = key;
  snprintf(o->glyph[slot].got, sizeof o->glyph[slot].got, "%s", got);
  o->glyph[slot].conf = *conf;
}

/* The median height of the confident words of res made only of letters in `set`: the
 * window's own cap height ("STO", "EXC") or x-height ("cos", "xor"); 0 when none. */
/* Letters whose words measure the window's cap height and x-height. */
#define CAP_SET "ABCDEFGHIKLMNORSTUVWXZ"
#define XH_SET "acemnorsuvwxz"

/* The median of v[0..n) (sorted in place: a handful of values), 0 when n is 0. */
static int median_of(int *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
      int x = v[j];
      v[j] = v[j - 1];
      v[j - 1] = x;
    }
  return n > 0 ? v[n / 2] : 0;
}

static int median_height(const rt_ocr_result *res, const char *set)
{
  int h[64], n = 0;
  for (size_t w = 0; w < res->n && n < 64; w++) {
    const char *t = res->words[w].text;
    if (res->words[w].conf < 80 || strlen(t) < 2 || strspn(t, set) != strlen(t))
      continue;
    h[n++] = res->words[w].box.h;
  }
  return median_of(h, n);
}

/* A letter read in the other case (C for c): its height against the window's cap height
 * and x-height says which it is; 1 upper, 0 lower, -1 cannot tell. */
static int upper_by(int cap, int xh, int h)
{
  if (!cap || !xh || cap - xh < 2)
    return -1;
  return abs(h - cap) < abs(h - xh) ? 1 : abs(h - xh) < abs(h - cap) ? 0 : -1;
}

/* Candidates that read as a confusion of the one-character hint are read with care; those
 * that then read as the hint take its text. */
static void settle_glyphs(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res)
{
  char ch[8], like[8][8], allowed[96];
  int ent = hint ? glyph_entry(hint, ch, sizeof ch) : -1, nl = 0;
  if (ent < 0)
    return;
  like_list(ent, like, &nl);
  size_t k = (size_t)snprintf(allowed, sizeof allowed, "%s", ch);
  for (int i = 0; i < nl && k < sizeof allowed; i++)
    k += (size_t)snprintf(allowed + k, sizeof allowed - k, "%s", like[i]);
  for (size_t w = 0; w < res->n; w++) {
    const char *t = res->words[w].text;
    if (!strcmp(t, ch))
      continue;
    /* a candidate reads as confusions of the character only ("g", or "-—" for "-") */
    bool cand = true;
    for (const char *q = t; *q && cand;) {
      size_t l = strlen(ch);
      bool hit = !strncmp(q, ch, l);
      for (int i = 0; i < nl && !hit; i++)
        if (like[i][0] && !strncmp(q, like[i], (l = strlen(like[i]))))
          hit = true;
      cand = hit;
      q += hit ? l : 1;
    }
    if (!cand || strlen(t) > 4 * strlen(ch) + 6)
      continue;
    char got[16];
    float conf = res->words[w].conf;
    unsigned char a = (unsigned char)ch[0], b = (unsigned char)t[0];
    if (!ch[1] && !t[1] && isalpha(a) && tolower(a) == tolower(b)) {
      int up = upper_by(median_height(res, CAP_SET), median_height(res, XH_SET),
                        res->words[w].box.h); /* C or c: by its size alone */
      if (up < 0 || up != (isupper(a) != 0))
        continue;
    } else {
      read_glyph(o, img, res->words[w].box, 2, 0, allowed, -1, got, sizeof got, &conf);
      if (strcmp(got, ch) != 0)
        continue;
    }
    char *nt = strdup(ch);
    if (!nt)
      continue;
    free(res->words[w].text);
    res->words[w].text = nt;
    res->words[w].conf = conf;
  }
}

/* A lone mark read as "+" (or "*", a middle dot, a bullet, a degree sign, a square dash)
 * no bigger than about half the window's x-height is a full stop: xcalc's "." key is a
 * 3x3 cross that Tesseract reads as "+" at any size, and "+" then named two keys. Its "+"
 * key is 5x5 beside an x-height of 7. A full stop a wide gap after its word (monospace:
 * "button)." in xman) is a 3x3 square read as "-". */
static void settle_dots(rt_ocr_result *res)
{
  static const char *const like[] = {"+", "*", "\u00b7", "\u2022", "\u00b0", "-", NULL};
  int xh = -1;
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    int k = 0;
    while (like[k] && strcmp(like[k], wd->text))
      k++;
    if (!like[k])
      continue;
    if (xh < 0)
      xh = median_height(res, XH_SET);
    if (!xh || wd->box.w * 5 > xh * 3 || wd->box.h * 5 > xh * 3)
      continue;
    if (!strcmp(wd->text, "-") && wd->box.w * 10 > wd->box.h * 13)
      continue; /* a dash is wider than tall; a square mark read as one is a dot */
    char *nt = strdup(".");
    if (!nt)
      continue;
    free(wd->text);
    wd->text = nt;
  }
}

/* A one-letter word whose two cases differ in size only (x X, c C, o O, ...) takes the
 * case its height says, against the window's cap height and x-height: "an X Window"
 * read "an x Window" in xman's monospace. */
static void settle_case(rt_ocr_result *res)
{
  int cap = -1, xh = -1; /* the window's, measured once and only when needed */
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    unsigned char c = (unsigned char)wd->text[0];
    if (!c || wd->text[1] || !strchr("cosuvwxzCOSUVWXZ", c))
      continue;
    if (cap < 0) {
      cap = median_height(res, CAP_SET);
      xh = median_height(res, XH_SET);
    }
    int up = upper_by(cap, xh, wd->box.h);
    if (up < 0 || up == (isupper(c) != 0))
      continue;
    wd->text[0] = (char)(up ? toupper(c) : tolower(c));
  }
}

/* The ink of box in img (40 grey levels from the box's most common grey), one byte per
 * pixel, with a pixel of margin around the box: malloc'd, *w x *h; NULL on error. */
static unsigned char *ink_mask(PIX *img, rt_ocr_box box, int *w, int *h)
{
  BOX *b = boxCreate(box.x - 1, box.y - 1, box.w + 2, box.h + 2);
  PIX *c = b ? pixClipRectangle(img, b, NULL) : NULL;
  boxDestroy(&b);
  PIX *g = c ? pixConvertTo8(c, 0) : NULL;
  pixDestroy(&c);
  if (!g)
    return NULL;
  *w = pixGetWidth(g);
  *h = pixGetHeight(g);
  unsigned char *m = malloc((size_t)*w * (size_t)*h);
  int hist[256] = {0}, bg = 0, wpl = pixGetWpl(g);
  l_uint32 *data = pixGetData(g);
  for (int y = 0; m && y < *h; y++) {
    const l_uint32 *line = data + y * wpl;
    for (int x = 0; x < *w; x++) {
      int v = GET_DATA_BYTE(line, x);
      m[y * *w + x] = (unsigned char)v;
      if (++hist[v] > hist[bg])
        bg = v;
    }
  }
  for (int i = 0; m && i < *w * *h; i++)
    m[i] = abs((int)m[i] - bg) > 40;
  pixDestroy(&g);
  return m;
}

/* The bands of rows with ink inside box of img: how many (up to max), and each one's ink
 * width in wid[]. -1 on error. */
static int ink_bands(PIX *img, rt_ocr_box box, int *wid, int max)
{
  int w, h, n = 0, in = 0;
  unsigned char *m = ink_mask(img, box, &w, &h);
  if (!m)
    return -1;
  int x0 = w, x1 = -1;
  for (int y = 0; y <= h; y++) {
    int any = 0;
    for (int x = 0; y < h && x < w; x++)
      if (m[y * w + x]) {
        any = 1;
        if (x < x0)
          x0 = x;
        if (x > x1)
          x1 = x;
      }
    if (any)
      in = 1;
    else if (in) { /* a band ends */
      if (n < max)
        wid[n] = x1 - x0 + 1;
      n++;
      in = 0;
      x0 = w;
      x1 = -1;
    }
  }
  free(m);
  return n;
}

/* Whether the glyph in columns [x0, x1) of ink mask m (w wide, h high) is an "m": three
 * feet on its bottom row, or two with ink between them below its top row (a bold bitmap
 * "m" whose middle stem is short: 7x13B's "##.##." over "######"). An "n" has nothing
 * between its feet but its arch. */
static bool glyph_m(const unsigned char *m, int w, int h, int x0, int x1)
{
  int y0 = -1, y1 = -1;
  for (int y = 0; y < h; y++)
    for (int x = x0; x < x1; x++)
      if (m[y * w + x]) {
        if (y0 < 0)
          y0 = y;
        y1 = y;
      }
  if (y0 < 0 || y1 - y0 < 4)
    return false;
  int feet = 0, l_end = -1, r_start = -1; /* the left foot's last column, the right's first */
  for (int x = x0; x < x1; x++) {
    bool on = m[y1 * w + x], was = x > x0 && m[y1 * w + x - 1];
    if (on && !was) {
      feet++;
      r_start = x;
    }
    if (!on && was && feet == 1)
      l_end = x - 1;
  }
  if (feet == 3)
    return true;
  if (feet != 2 || l_end < 0 || r_start - l_end < 2)
    return false;
  int rows = 0;
  for (int y = y0 + 1; y <= y1; y++) {
    bool any = false;
    for (int x = l_end + 1; x < r_start && !any; x++)
      any = m[y * w + x];
    rows += any;
  }
  return rows >= 2;
}

/* The runs of columns with ink in mask m (w x h) into seg ([start, end) each, at most 64):
 * a word's glyphs where they stand apart, as in bitmap fonts. Their number. */
static int glyph_columns(const unsigned char *m, int w, int h, int seg[64][2])
{
  int ns = 0;
  for (int x = 0, in = 0; x <= w && ns < 64; x++) {
    bool any = false;
    for (int y = 0; x < w && y < h && !any; y++)
      any = m[y * w + x];
    if (any && !in)
      seg[ns][0] = x;
    if (!any && in)
      seg[ns++][1] = x;
    in = any;
  }
  return ns;
}

/* The language a careful reading of letter c uses: English's model has no Æ Ø Å, so a
 * letter beyond ASCII goes to the first other language loaded; -1: read_glyph's choice. */
static int letter_lang(const rt_ocr *o, unsigned char c)
{
  if (c < 0x80)
    return -1;
  bool eng_first = !strncmp(o->langs, "eng", 3) && (o->langs[3] == 0 || o->langs[3] == '+');
  return eng_first ? (o->napi > 1 ? 1 : -1) : 0;
}

/* One letter of the phrase read as one to three other characters (xmessage's bold "Ændr"
 * read "findr": Æ as "fi"): where the word's glyphs stand apart and are exactly as many as
 * the phrase word's letters, and the reading differs from it in that one place, the glyph
 * there is read again with care, among the letter and what it was read as. Only a reading
 * of the letter itself settles it; anything else leaves the word as read. */
static void settle_letter(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res)
{
  for (const char *hw = hint; *hw;) {
    hw += strspn(hw, " ");
    size_t hl = strcspn(hw, " ");
    if (!hl)
      break;
    if (vu_utf8_chars(hw, hl) < 2) { /* a lone glyph is settle_glyphs' */
      hw += hl;
      continue;
    }
    for (size_t i = 0; i < res->n; i++) {
      rt_ocr_word *wd = &res->words[i];
      const char *t = wd->text;
      size_t tl = strlen(t), p = 0, q = 0;
      if (tl == hl && !memcmp(t, hw, hl))
        continue;
      while (p < hl && p < tl && t[p] == hw[p])
        p++;
      while (p && ((unsigned char)hw[p] & 0xC0) == 0x80) /* back to a character's start */
        p--;
      while (q < hl - p && q < tl - p && t[tl - 1 - q] == hw[hl - 1 - q])
        q++;
      while (q && ((unsigned char)hw[hl - q] & 0xC0) == 0x80)
        q--;
      size_t cl = hl - p - q, dl = tl - p - q;
      if (vu_utf8_chars(hw + p, cl) != 1 || dl == 0 || vu_utf8_chars(t + p, dl) > 3)
        continue;
      int w, h, seg[64][2];
      unsigned char *m = ink_mask(img, wd->box, &w, &h);
      if (!m)
        continue;
      int ns = glyph_columns(m, w, h, seg);
      free(m);
      size_t k = vu_utf8_chars(hw, p);
      if ((size_t)ns != vu_utf8_chars(hw, hl) || k >= (size_t)ns)
        continue;
      char allowed[16], got[16];
      if (cl + dl >= sizeof allowed)
        continue;
      memcpy(allowed, hw + p, cl);
      memcpy(allowed + cl, t + p, dl);
      allowed[cl + dl] = 0;
      rt_ocr_box gb = {wd->box.x - 1 + seg[k][0], wd->box.y, seg[k][1] - seg[k][0], wd->box.h};
      float conf = 0;
      read_glyph(o, img, gb, 1, 40, allowed, letter_lang(o, (unsigned char)hw[p]), got, sizeof got,
                 &conf);
      if (strlen(got) != cl || memcmp(got, hw + p, cl))
        continue;
      char *nt = malloc(p + cl + q + 1);
      if (!nt)
        continue;
      memcpy(nt, t, p);
      memcpy(nt + p, hw + p, cl);
      memcpy(nt + p + cl, t + tl - q, q);
      nt[p + cl + q] = 0;
      free(wd->text);
      wd->text = nt;
      if (conf < wd->conf)
        wd->conf = conf;
    }
    hw += hl;
  }
}

/* An "m" read as "n" (bold bitmap fonts: xmessage's "Gem" read "Gen", xman's "Xman"
 * "Xnan"): where a word's glyphs stand apart (a blank column between each two, as in
 * bitmap fonts) and are as many as its characters, each "n" is looked at. */
static void settle_mn(PIX *img, rt_ocr_result *res)
{
  for (size_t i = 0; i < res->n; i++) {
    rt_ocr_word *wd = &res->words[i];
    if (!strchr(wd->text, 'n'))
      continue;
    int w, h, nch = (int)vu_utf8_chars(wd->text, strlen(wd->text));
    unsigned char *m = ink_mask(img, wd->box, &w, &h);
    if (!m)
      continue;
    int seg[64][2], ns = glyph_columns(m, w, h, seg);
    int k = 0;
    for (char *q = wd->text; ns == nch && *q; q++) {
      if (((unsigned char)*q & 0xC0) == 0x80)
        continue;
      if (*q == 'n' && glyph_m(m, w, h, seg[k][0], seg[k][1]))
        *q = 'm';
      k++;
    }
    free(m);
  }
}

static int dash_like(const char *t)
{
  return !strcmp(t, "-") || !strcmp(t, "\u2014") || !strcmp(t, "\u2013") || !strcmp(t, "_") ||
         !strcmp(t, "~");
}

/* Marks that are parts of symbols the models cannot produce, so that they do not pass
 * for the characters they resemble (xcalc's keys):
 * - "=" whose ink is three bands, the outer two less than half as wide as the middle
 *   one, is a division sign (÷), not "=" (two bars of one width);
 * - a dash whose top is the top of the word just before it on its line, at most 12 px
 *   away and three times as tall, is the overline of a radical (√ drawn as two
 *   glyphs), not "-". */
static void settle_marks(PIX *img, rt_ocr_result *res)
{
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    const char *nt = NULL;
    if (!strcmp(wd->text, "=")) {
      int wid[4];
      int n = ink_bands(img, wd->box, wid, 4);
      if (n == 3 && wid[0] * 2 < wid[1] && wid[2] * 2 < wid[1])
        nt = "\u00f7";
    } else if (dash_like(wd->text) && w > 0) {
      const rt_ocr_word *pv = &res->words[w - 1];
      int gap = wd->box.x - (pv->box.x + pv->box.w);
      if (pv->line == wd->line && gap >= 0 && gap <= 12 && abs(pv->box.y - wd->box.y) <= 2 &&
          pv->box.h >= 3 * wd->box.h)
        nt = "\u203e";
    }
    char *d = nt ? strdup(nt) : NULL;
    if (!d)
      continue;
    free(wd->text);
    wd->text = d;
  }
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
    settle_dots(out);
    settle_case(out);
    settle_marks(img, out);
    settle_mn(img, out);
    if (opts && opts->hint) {
      settle_glyphs(o, img, opts->hint, out);
      settle_letter(o, img, opts->hint, out);
    }
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
  int m = hs ? median_of(hs, k) : 0;
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
  return n >= 3 ? median_of(g, n) : 0;
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
