/* rt_ocr engine: screen pipeline (Leptonica), Tesseract on each text blob, cache. */
#include "rt_ocr.h"
#include "ocr_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#ifndef RT_OCR_DEFAULT_TESSDATA
#define RT_OCR_DEFAULT_TESSDATA "/usr/share/tesseract-ocr/5/tessdata"
#endif

/* Pipeline constants, in window pixels. */
enum {
  EDGE_TOL = 40,      /* colour step (max channel) that makes an edge */
  MAX_TEXT_H = 72,    /* taller components are not text */
  LINE_THIN = 5,      /* rules: at most this thick ... */
  HLINE_MIN_W = 24,   /* ... and this long (horizontal) */
  VLINE_MIN_H = 30,   /* ... (vertical) */
  FRAME_MIN = 10,     /* frames (borders around labels) are at least this big */
  HRUN = 16,          /* horizontal one-colour runs this long are borders, not text */
  VRUN = 16,          /* vertical ditto, when they meet a horizontal one */
  VRUN_ALWAYS = 60,   /* vertical runs this long are borders anyway */
  LINE_TOL = 24,      /* colour tolerance along a line */
  BLOB_HGAP = 7,      /* components closer than this join one blob ... */
  BLOB_VGAP = 3,      /* ... and this, vertically (accents, i dots) */
  BLOB_MIN_H = 1,
  PAD = 10,           /* white margin around a blob image given to Tesseract */
  TARGET_H = 28,      /* a line of text is upscaled to about this height ... */
  SCREEN_H = 18,      /* ... and screened at this one (find's English look) */
  RESCALE_PCT = 115,  /* a blob with a word read less surely than RETRY_CONF is read
                         again this much larger (percent) */
  CACHE_MAX = 8192,   /* blob cache entries */
  MAX_LANGS = 4,
  MAX_WORKERS = 4,    /* recognition threads (each with its own Tesseract instances) */
  RETRY_CONF = 85,    /* a blob read less surely is read again in the next language */
  RETRY_MAX_W = 16,   /* ... unless the word is wider than this many times its height */
};

typedef struct {
  char *text;
  rt_ocr_box box; /* blob-relative, window pixels */
  float conf;
  int tline;      /* Tesseract's line index within the blob */
  unsigned tried; /* bit k: read again in retry pass k already */
} cword;

typedef struct {
  uint64_t key;   /* 0 = empty slot */
  uint32_t gen;
  int n;
  int timed_out;
  unsigned tried_whole; /* bit k: the empty blob was read again in pass k */
  cword *w;
} centry;

typedef struct {
  uint64_t key;
  uint32_t gen;
  int min_conf;
  uint64_t hint;  /* hash of the hint it was read with (0: none) */
  int partial;    /* 1: some unsure words were not read again (the hint) */
  rt_ocr_result res;
} img_entry;

struct rt_ocr {
  TessBaseAPI *api[MAX_WORKERS][MAX_LANGS]; /* [worker][language] */
  int napi, nworkers;
  int screen;          /* index of "eng" among the languages when it is not the first,
                          else -1: the screening language of find (see rt_ocr_words) */
  char langs[128];
  centry *tab;
  size_t tabcap, count;
  uint32_t gen;
  img_entry img[4];
  rt_ocr_stats st;
};

static int g_missing_lang;

int rt_ocr_missing_language(void) { return g_missing_lang; }

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- hashing (64-bit multiply-xorshift over words; not cryptographic) ---- */
static inline uint64_t mix64(uint64_t h, uint64_t v) {
  h ^= v * 0x9E3779B97F4A7C15ull;
  h = (h << 27) | (h >> 37);
  return h * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
}

uint64_t rt_ocr__hash_bytes(const void *p, size_t n, uint64_t seed) {
  const unsigned char *b = p;
  uint64_t h = seed ^ (n * 0xD6E8FEB86659FD93ull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, b + i, 8);
    h = mix64(h, v);
  }
  uint64_t t = 0;
  for (size_t k = 0; i < n; i++, k++) t |= (uint64_t)b[i] << (8 * k);
  h = mix64(h, t);
  h ^= h >> 31;
  return h ? h : 1;
}

/* ---- setup ---- */
int rt_ocr_reexec_single_thread(char **argv) {
  if (getenv("OMP_THREAD_LIMIT")) return 0;
  if (setenv("OMP_THREAD_LIMIT", "1", 1) != 0) return -1;
  execv("/proc/self/exe", argv);
  return -1;
}

static const char *tessdata_dir(char *buf, size_t len) {
  const char *p = getenv("TESSDATA_PREFIX");
  if (p && *p) {
    snprintf(buf, len, "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/') buf[--l] = 0;
    return buf;
  }
  snprintf(buf, len, "%s", RT_OCR_DEFAULT_TESSDATA);
  return buf;
}

rt_ocr *rt_ocr_new(const char *langs, char *err, size_t errlen) {
  g_missing_lang = 0;
  if (!langs || !*langs) langs = RT_OCR_DEFAULT_LANGS;
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
    if (*s == '+') s++;
  }

  /* Debian's Tesseract uses OpenMP; many threads make it slower, not faster.
   * (libgomp read the environment at load time: this reaches children only;
   * see rt_ocr_reexec_single_thread.) */
  static int omp_at_start = -1; /* what libgomp saw: the first look, before our setenv */
  if (omp_at_start < 0) omp_at_start = getenv("OMP_THREAD_LIMIT") != NULL;
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
   * doubling the time). LSTM only: Debian's data has no legacy models.
   * No word dictionaries: GUI labels ("CE/C", "1/x", "CPR-nummer") are not
   * words, and skipping them saves memory and start-up time. */
  char *vars[] = {"load_system_dawg", "load_freq_dawg", "load_punc_dawg",
                  "load_number_dawg", "load_unambig_dawg", "load_bigram_dawg"};
  char *vals[] = {"0", "0", "1", "1", "0", "0"};
  /* Recognition threads: Tesseract runs one line at a time per instance, so
   * a second instance on a second core halves the wait for a new window.
   * VAGT_OCR_THREADS overrides (1 = no threads). */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  o->nworkers = ncpu >= 2 ? 2 : 1;
  const char *ev = getenv("VAGT_OCR_THREADS");
  if (ev && atoi(ev) >= 1) o->nworkers = atoi(ev) > MAX_WORKERS ? MAX_WORKERS : atoi(ev);
  for (int wk = 0; wk < o->nworkers; wk++) {
    int k = 0;
    for (const char *q = langs; *q && k < MAX_LANGS;) {
      size_t n = strcspn(q, "+");
      memcpy(one, q, n);
      one[n] = 0;
      q += n;
      if (*q == '+') q++;
      TessBaseAPI *api = TessBaseAPICreate();
      if (!api || TessBaseAPIInit4(api, dir, one, OEM_LSTM_ONLY, NULL, 0, vars, vals, 6, 0) != 0) {
        if (api) TessBaseAPIDelete(api);
        rt_ocr_free(o);
        g_missing_lang = 1;
        seterr(err, errlen,
               "Tesseract could not load OCR language '%s' from %s (damaged data?): "
               "reinstall the Debian package tesseract-ocr-%s",
               one, dir, one);
        return NULL;
      }
      TessBaseAPISetVariable(api, "debug_file", "/dev/null");
      TessBaseAPISetVariable(api, "user_defined_dpi", "300");
      /* the pipeline already turned light-on-dark text into dark-on-light */
      TessBaseAPISetVariable(api, "tessedit_do_invert", "0");
      o->api[wk][k++] = api;
    }
    o->napi = k;
    o->screen = -1;
    for (int i = 1, j = 0; i < k; i++) { /* the i-th name in langs */
      const char *q = langs;
      for (j = 0; j < i; j++) q += strcspn(q, "+") + (q[strcspn(q, "+")] == '+');
      if (!strncmp(q, "eng", 3) && (q[3] == 0 || q[3] == '+')) o->screen = i;
    }
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

const char *rt_ocr_langs(const rt_ocr *o) { return o ? o->langs : NULL; }

static void centry_clear(centry *e) {
  for (int i = 0; i < e->n; i++) free(e->w[i].text);
  free(e->w);
  memset(e, 0, sizeof *e);
}

void rt_ocr_cache_clear(rt_ocr *o) {
  if (!o) return;
  for (size_t i = 0; i < o->tabcap; i++)
    if (o->tab[i].key) centry_clear(&o->tab[i]);
  o->count = 0;
  for (int i = 0; i < 4; i++) {
    rt_ocr_result_free(&o->img[i].res);
    memset(&o->img[i], 0, sizeof o->img[i]);
  }
}

void rt_ocr_free(rt_ocr *o) {
  if (!o) return;
  if (o->tab) rt_ocr_cache_clear(o);
  free(o->tab);
  for (int w = 0; w < MAX_WORKERS; w++)
    for (int i = 0; i < MAX_LANGS; i++)
      if (o->api[w][i]) {
        TessBaseAPIEnd(o->api[w][i]);
        TessBaseAPIDelete(o->api[w][i]);
      }
  free(o);
}

void rt_ocr_get_stats(const rt_ocr *o, rt_ocr_stats *st) {
  if (!st) return;
  memset(st, 0, sizeof *st);
  if (!o) return;
  *st = o->st;
  st->cache_entries = o->count;
  st->threads = o->nworkers;
}

/* ---- blob cache: open addressing on a 64-bit content key ---- */
static centry *cache_get(rt_ocr *o, uint64_t key) {
  size_t m = o->tabcap - 1;
  for (size_t i = key & m;; i = (i + 1) & m) {
    if (!o->tab[i].key) return NULL;
    if (o->tab[i].key == key) return &o->tab[i];
  }
}

static void cache_rebuild(rt_ocr *o, uint32_t keep_from_gen) {
  centry *old = o->tab;
  size_t cap = o->tabcap;
  o->tab = calloc(cap, sizeof *o->tab);
  if (!o->tab) { /* keep the old table rather than lose memory safety */
    o->tab = old;
    return;
  }
  o->count = 0;
  for (size_t i = 0; i < cap; i++) {
    if (!old[i].key) continue;
    if (old[i].gen >= keep_from_gen && o->count < CACHE_MAX / 2) {
      size_t m = cap - 1, j = old[i].key & m;
      while (o->tab[j].key) j = (j + 1) & m;
      o->tab[j] = old[i];
      o->count++;
    } else {
      centry_clear(&old[i]);
    }
  }
  free(old);
}

/* Make room for n new entries before a call hands out entry pointers (a
 * rebuild moves the entries): keep what the previous call used, else nothing. */
static void cache_reserve(rt_ocr *o, size_t n) {
  if (o->count + n > CACHE_MAX) cache_rebuild(o, o->gen > 0 ? o->gen - 1 : 0);
  if (o->count + n > CACHE_MAX) cache_rebuild(o, o->gen + 1); /* drop all */
}

/* NULL when the table is full (the caller then keeps the reading to itself). */
static centry *cache_put(rt_ocr *o, uint64_t key) {
  size_t m = o->tabcap - 1;
  size_t i = key & m;
  while (o->tab[i].key && o->tab[i].key != key) i = (i + 1) & m;
  if (o->tab[i].key) {
    centry_clear(&o->tab[i]);
  } else {
    if (o->count + 1 > CACHE_MAX) return NULL;
    o->count++;
  }
  o->tab[i].key = key;
  o->tab[i].gen = o->gen;
  return &o->tab[i];
}

/* A cached reading this call may use (counted, and kept as in use); NULL
 * when there is none or the call bypasses the cache. */
static centry *cache_hit(rt_ocr *o, centry *e, int no_cache) {
  if (!e || no_cache || e->timed_out) return NULL;
  o->st.blob_hits++;
  e->gen = o->gen;
  return e;
}

/* ---- the screen pipeline ---- */

static inline int coldiff(uint32_t a, uint32_t b) {
  if (!((a ^ b) & 0xffffff00u)) return 0; /* the common case on a screen: same colour */
  int d = 0;
  for (int s = 8; s <= 24; s += 8) {
    int x = (int)((a >> s) & 0xff) - (int)((b >> s) & 0xff);
    if (x < 0) x = -x;
    if (x > d) d = x;
  }
  return d;
}

typedef struct {
  int x0, y0, x1, y1; /* inclusive */
  int count, inner;
  int rim; /* pixels on the component's own bounding box */
  int keep;
} comp;

/* Label the 8-connected components of a 0/1 byte mask. */
static comp *label_components(const unsigned char *mask, int w, int h, int32_t *lab,
                              int *ncomp) {
  size_t cap = 256, n = 0;
  comp *c = malloc(cap * sizeof *c);
  int32_t *stack = malloc((size_t)w * h * sizeof *stack);
  if (!c || !stack) {
    free(c);
    free(stack);
    return NULL;
  }
  for (size_t i = 0; i < (size_t)w * h; i++) lab[i] = -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t p = (size_t)y * w + x;
      if (!mask[p] || lab[p] >= 0) continue;
      if (n == cap) {
        cap *= 2;
        comp *nc = realloc(c, cap * sizeof *c);
        if (!nc) {
          free(c);
          free(stack);
          return NULL;
        }
        c = nc;
      }
      comp *k = &c[n];
      k->x0 = k->x1 = x;
      k->y0 = k->y1 = y;
      k->count = 0;
      k->inner = 0;
      k->rim = 0;
      k->keep = 1;
      size_t sp = 0;
      stack[sp++] = (int32_t)p;
      lab[p] = (int32_t)n;
      while (sp) {
        int32_t q = stack[--sp];
        int qx = q % w, qy = q / w;
        k->count++;
        if (qx < k->x0) k->x0 = qx;
        if (qx > k->x1) k->x1 = qx;
        if (qy < k->y0) k->y0 = qy;
        if (qy > k->y1) k->y1 = qy;
        for (int dy = -1; dy <= 1; dy++) {
          int ny = qy + dy;
          if (ny < 0 || ny >= h) continue;
          for (int dx = -1; dx <= 1; dx++) {
            int nx = qx + dx;
            if (nx < 0 || nx >= w) continue;
            size_t r = (size_t)ny * w + nx;
            if (mask[r] && lab[r] < 0) {
              lab[r] = (int32_t)n;
              stack[sp++] = (int32_t)r;
            }
          }
        }
      }
      n++;
    }
  free(stack);
  *ncomp = (int)n;
  return c;
}

typedef struct {
  int x, y, w, h; /* window pixels */
  int lineh;      /* tallest kept component inside: about one line of text */
} blob;

/* Find text blobs: edges, components, drop rules/frames/huge things, group. */
static blob *find_blobs(PIX *p32, int *nblobs, PIX **keepmask) {
  int w = pixGetWidth(p32), h = pixGetHeight(p32);
  uint32_t *data = pixGetData(p32);
  int wpl = pixGetWpl(p32);
  *nblobs = 0;
  *keepmask = NULL;
  unsigned char *mask = calloc((size_t)w * h, 1);
  int32_t *lab = malloc((size_t)w * h * sizeof *lab);
  if (!mask || !lab) {
    free(mask);
    free(lab);
    return NULL;
  }
  /* the window's background colour: its most common colour (12-bit bins),
   * counted on every other pixel of every other row */
  uint32_t gbg;
  {
    uint32_t *hist = calloc(4096, sizeof *hist);
    if (!hist) {
      free(mask);
      free(lab);
      return NULL;
    }
    int best = 0;
    for (int y = 0; y < h; y += 2)
      for (int x = 0; x < w; x += 2) {
        uint32_t v = data[(size_t)y * wpl + x];
        int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
        if (++hist[q] > hist[best]) best = q;
      }
    gbg = (uint32_t)((best >> 8) * 17) << 24 | (uint32_t)(((best >> 4) & 0xf) * 17) << 16 |
          (uint32_t)((best & 0xf) * 17) << 8;
    free(hist);
  }
  /* edges: where two neighbours differ, the one less like the background is
   * ink (no halo, so text keeps its distance from a border beside it) */
  for (int y = 0; y < h; y++) {
    const uint32_t *row = data + (size_t)y * wpl;
    const uint32_t *next = y + 1 < h ? row + wpl : NULL;
    for (int x = 0; x < w; x++) {
      uint32_t v = row[x];
      if (x + 1 < w && coldiff(v, row[x + 1]) > EDGE_TOL) {
        if (coldiff(v, gbg) >= coldiff(row[x + 1], gbg)) mask[(size_t)y * w + x] = 1;
        else mask[(size_t)y * w + x + 1] = 1;
      }
      if (next && coldiff(v, next[x]) > EDGE_TOL) {
        if (coldiff(v, gbg) >= coldiff(next[x], gbg)) mask[(size_t)y * w + x] = 1;
        else mask[(size_t)(y + 1) * w + x] = 1;
      }
    }
  }
  /* widget borders and rules: straight runs of one colour that stand out from
   * the pixels across them (a 1-3 px line, or the edge of a filled area).
   * Their edge pixels (the line and its halo) leave the mask. Vertical runs
   * count only when long or when they meet a horizontal one (the sides of a
   * box), so the stems of large letters survive. */
  unsigned char *hl = calloc((size_t)w * h, 1);
  if (!hl) {
    free(mask);
    free(lab);
    return NULL;
  }
  for (int y = 0; y < h; y++) {
    const uint32_t *row = data + (size_t)y * wpl;
    const uint32_t *up = y > 0 ? row - wpl : NULL, *dn = y + 1 < h ? row + wpl : NULL;
    for (int x = 0; x < w;) {
      int e = x;
      while (e < w && coldiff(row[e], row[x]) <= LINE_TOL &&
             ((up && coldiff(row[e], up[e]) > EDGE_TOL) || (dn && coldiff(row[e], dn[e]) > EDGE_TOL)))
        e++;
      if (e - x >= HRUN)
        for (int k = x; k < e; k++) hl[(size_t)y * w + k] = 1;
      x = e > x ? e : x + 1;
    }
  }
  /* vertical runs, row by row (cache friendly): per column the run so far */
  int *vstart = malloc((size_t)w * sizeof *vstart);
  uint32_t *vcol = malloc((size_t)w * sizeof *vcol);
  if (!vstart || !vcol) {
    free(vstart);
    free(vcol);
    free(hl);
    free(mask);
    free(lab);
    return NULL;
  }
  for (int x = 0; x < w; x++) vstart[x] = -1;
  for (int y = 0; y <= h; y++) {
    const uint32_t *row = y < h ? data + (size_t)y * wpl : NULL;
    for (int x = 0; x < w; x++) {
      int cont = 0, line = 0;
      if (row) {
        uint32_t v = row[x];
        line = (x > 0 && coldiff(v, row[x - 1]) > EDGE_TOL) ||
               (x + 1 < w && coldiff(v, row[x + 1]) > EDGE_TOL);
        cont = line && vstart[x] >= 0 && coldiff(v, vcol[x]) <= LINE_TOL;
      }
      if (cont) continue;
      if (vstart[x] >= 0 && y - vstart[x] >= VRUN) { /* a run [vstart, y) ends */
        int y0 = vstart[x], e = y;
        int corner = e - y0 >= VRUN_ALWAYS;
        for (int yy = y0 - 2; !corner && yy <= y0 + 2; yy++)
          for (int xx = x - 2; !corner && xx <= x + 2; xx++)
            if (yy >= 0 && yy < h && xx >= 0 && xx < w && (hl[(size_t)yy * w + xx] & 1)) corner = 1;
        for (int yy = e - 3; !corner && yy <= e + 1; yy++)
          for (int xx = x - 2; !corner && xx <= x + 2; xx++)
            if (yy >= 0 && yy < h && xx >= 0 && xx < w && (hl[(size_t)yy * w + xx] & 1)) corner = 1;
        if (corner)
          for (int k = y0; k < e; k++) hl[(size_t)k * w + x] |= 2;
      }
      if (line) {
        vstart[x] = y;
        vcol[x] = row[x];
      } else {
        vstart[x] = -1;
      }
    }
  }
  free(vstart);
  free(vcol);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      unsigned char f = hl[(size_t)y * w + x];
      if (!f) continue;
      mask[(size_t)y * w + x] = 0;
      if (f & 1) {
        if (y > 0) mask[(size_t)(y - 1) * w + x] = 0;
        if (y + 1 < h) mask[(size_t)(y + 1) * w + x] = 0;
      }
      if (f & 2) {
        if (x > 0) mask[(size_t)y * w + x - 1] = 0;
        if (x + 1 < w) mask[(size_t)y * w + x + 1] = 0;
      }
    }
  free(hl);
  int nc = 0;
  comp *c = label_components(mask, w, h, lab, &nc);
  if (!c) {
    free(mask);
    free(lab);
    return NULL;
  }
  /* hollowness: edge pixels away from the component's own bbox border */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int32_t l = lab[(size_t)y * w + x];
      if (l < 0) continue;
      comp *k = &c[l];
      if (x >= k->x0 + 4 && x <= k->x1 - 4 && y >= k->y0 + 4 && y <= k->y1 - 4) k->inner++;
      if (x == k->x0 || x == k->x1 || y == k->y0 || y == k->y1) k->rim++;
    }
  free(lab);
  free(mask);

  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    /* a bare rectangle, filled or hollow (its edge runs all along its
     * bounding box, a corner or two may be cut): a text cursor, an empty
     * check box; no letter is that */
    int box = bw >= 5 && bh >= 7 && k->rim == k->count && k->count >= 2 * (bw + bh) - 6;
    if (bh > MAX_TEXT_H || box) k->keep = 0;
    else if (bh <= LINE_THIN && bw >= HLINE_MIN_W) k->keep = 0;
    else if (bw <= LINE_THIN && bh >= VLINE_MIN_H) k->keep = 0;
  }
  /* what is left of rounded or 3D button borders: tall thin strokes beside
   * clearly shorter text */
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    if (k->keep != 1 || bw > 12 || bh < 12) continue;
    int maxh = 0;
    for (int j = 0; j < nc; j++) {
      comp *q = &c[j];
      if (j == i || q->keep != 1 || q->x1 - q->x0 + 1 <= 12) continue;
      if (q->y0 > k->y1 || q->y1 < k->y0) continue;
      int gap = q->x0 > k->x1 ? q->x0 - k->x1 : k->x0 > q->x1 ? k->x0 - q->x1 : 0;
      if (gap > 30) continue;
      if (q->y1 - q->y0 + 1 > maxh) maxh = q->y1 - q->y0 + 1;
    }
    if (maxh && bh >= maxh + 3) k->keep = 0;
  }
  /* frames: hollow components (a border and its halo) around another one */
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    if (!k->keep || bw < FRAME_MIN || bh < FRAME_MIN) continue;
    if (k->inner > k->count / 20) continue;
    for (int j = 0; j < nc; j++) {
      if (j == i) continue;
      comp *q = &c[j];
      if (q->x0 > k->x0 && q->x1 < k->x1 && q->y0 > k->y0 && q->y1 < k->y1) {
        k->keep = -1; /* decided below: still a frame even if q is dropped */
        break;
      }
    }
  }
  PIX *keep = pixCreate(w, h, 1);
  if (!keep) {
    free(c);
    return NULL;
  }
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    if (k->keep != 1) continue;
    pixRasterop(keep, k->x0, k->y0, k->x1 - k->x0 + 1, k->y1 - k->y0 + 1, PIX_SET, NULL, 0,
                0);
  }
  PIX *grown = pixDilateBrick(NULL, keep, BLOB_HGAP, BLOB_VGAP);
  BOXA *ba = grown ? pixConnCompBB(grown, 8) : NULL;
  pixDestroy(&grown);
  if (!ba) {
    free(c);
    pixDestroy(&keep);
    return NULL;
  }
  int nb = boxaGetCount(ba);
  blob *b = calloc(nb ? nb : 1, sizeof *b);
  int k = 0;
  for (int i = 0; b && i < nb; i++) {
    int x, y, bw, bh;
    boxaGetBoxGeometry(ba, i, &x, &y, &bw, &bh);
    /* undo the dilation's horizontal growth */
    int g = BLOB_HGAP / 2, gv = BLOB_VGAP / 2;
    x += g;
    bw -= 2 * g;
    y += gv;
    bh -= 2 * gv;
    if (bw < 2 || bh < BLOB_MIN_H) continue;
    int lh = 0;
    for (int j = 0; j < nc; j++) {
      comp *q = &c[j];
      if (q->keep != 1) continue;
      int qx = (q->x0 + q->x1) / 2, qy = (q->y0 + q->y1) / 2;
      if (qx >= x && qx < x + bw && qy >= y && qy < y + bh && q->y1 - q->y0 + 1 > lh)
        lh = q->y1 - q->y0 + 1;
    }
    b[k++] = (blob){x, y, bw, bh, lh ? lh : bh};
  }
  /* words of one line (a space apart) are one font size: a word without
   * ascenders ("navn" beside "Fulde") takes the line height of its line
   * mates, so it is upscaled like them */
  int *lh2 = b ? malloc((k ? (size_t)k : 1) * sizeof *lh2) : NULL;
  for (int i = 0; lh2 && i < k; i++) {
    lh2[i] = b[i].lineh;
    for (int j = 0; j < k; j++) {
      if (j == i || b[j].lineh <= lh2[i] || b[j].lineh * 2 > b[i].lineh * 3) continue;
      int ov = (b[i].y + b[i].h < b[j].y + b[j].h ? b[i].y + b[i].h : b[j].y + b[j].h) -
               (b[i].y > b[j].y ? b[i].y : b[j].y);
      int mh = b[i].h < b[j].h ? b[i].h : b[j].h;
      int gap = b[i].x > b[j].x ? b[i].x - (b[j].x + b[j].w) : b[j].x - (b[i].x + b[i].w);
      if (ov * 4 >= mh * 3 && gap <= b[j].lineh * 3 / 2) lh2[i] = b[j].lineh;
    }
  }
  for (int i = 0; lh2 && i < k; i++) b[i].lineh = lh2[i];
  free(lh2);
  free(c);
  boxaDestroy(&ba);
  *nblobs = k;
  *keepmask = keep;
  return b;
}

/* Make the Tesseract input for one blob: dark text on white, other widgets'
 * pixels removed, upscaled. Returns an 8bpp PIX; *scale gets the factor. */
static PIX *blob_image(PIX *p32, PIX *keep, const blob *bl, float *scale, float *xscale) {
  int W = pixGetWidth(p32), H = pixGetHeight(p32);
  int x0 = bl->x - 1, y0 = bl->y - 1, x1 = bl->x + bl->w, y1 = bl->y + bl->h;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > W - 1) x1 = W - 1;
  if (y1 > H - 1) y1 = H - 1;
  int cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  uint32_t *data = pixGetData(p32);
  int wpl = pixGetWpl(p32);
  uint32_t *kd = pixGetData(keep);
  int kwpl = pixGetWpl(keep);

  /* background colour: the most common colour (12-bit quantised) */
  uint32_t hist[4096];
  memset(hist, 0, sizeof hist);
  int best = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      uint32_t v = data[(size_t)y * wpl + x];
      int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
      if (++hist[q] > hist[best]) best = q;
    }
  long sr = 0, sg = 0, sb = 0, sn = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      uint32_t v = data[(size_t)y * wpl + x];
      int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
      if (q != best) continue;
      sr += (v >> 24) & 0xff;
      sg += (v >> 16) & 0xff;
      sb += (v >> 8) & 0xff;
      sn++;
    }
  uint32_t bg = (uint32_t)(sr / sn) << 24 | (uint32_t)(sg / sn) << 16 | (uint32_t)(sb / sn) << 8;

  PIX *g = pixCreate(cw, ch, 8);
  if (!g) return NULL;
  uint32_t *gd = pixGetData(g);
  int gwpl = pixGetWpl(g);
  int dmax = 1;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      int d = 0;
      if (GET_DATA_BIT(kd + (size_t)y * kwpl, x)) d = coldiff(data[(size_t)y * wpl + x], bg);
      if (d > dmax) dmax = d;
      SET_DATA_BYTE(gd + (size_t)(y - y0) * gwpl, x - x0, d);
    }
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++) {
      int d = GET_DATA_BYTE(gd + (size_t)y * gwpl, x);
      int v = 255 - d * 255 / dmax;
      SET_DATA_BYTE(gd + (size_t)y * gwpl, x, v);
    }
  /* upscale so a line of text is about TARGET_H pixels tall: Tesseract reads
   * small screen fonts far better that way */
  float sc = (float)TARGET_H / (float)(bl->lineh + 4);
  if (sc > 4.0f) sc = 4.0f;
  if (sc < 1.0f) sc = 1.0f;
  if ((double)cw * ch * sc * sc > 4.0e6) sc = 1.0f;
  *scale = sc;
  *xscale = sc;
  PIX *out = sc > 1.0f ? pixScaleGrayLI(g, sc, sc) : pixClone(g);
  pixDestroy(&g);
  return out;
}

typedef struct {
  PIX *img;       /* blob image (scaled, no margin) */
  float scale, xscale; /* vertical, horizontal */
  int ox, oy;     /* window position of the blob image's top-left */
  uint64_t key;
  centry *e;      /* entry to fill by recognition (NULL: answered already) */
  centry *src;    /* entry holding this blob's words */
  centry *own;    /* entry outside the cache (table full), freed by the caller */
  int psm;        /* PSM_SINGLE_LINE, or PSM_SINGLE_BLOCK for a blob of several lines */
  int retry_only; /* 1: e holds the first reading (cache); only retries are due */
  int screen;     /* 1: e is to get a screening reading (find's phrase, see
                     rt_ocr_words), and care the careful one if it may hold it */
  centry *care;   /* the careful reading of a screened blob (not yet in the cache) */
  int care_used;  /* 1: care was filled */
  uint64_t skey;  /* cache key of the screening reading (0: none) */
  int src_screen; /* 1: src is a screening reading */
  centry *own2;   /* a careful reading outside the cache, freed by the caller */
} pending;

static int centry_add(centry *e, size_t *cap, const char *text, rt_ocr_box box, float conf,
                      int tline) {
  if ((size_t)e->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    cword *nw = realloc(e->w, nc * sizeof *nw);
    if (!nw) return -1;
    e->w = nw;
    *cap = nc;
  }
  cword *cw = &e->w[e->n];
  cw->text = strdup(text);
  if (!cw->text) return -1;
  cw->box = box;
  cw->conf = conf < 0 ? 0 : conf;
  cw->tline = tline;
  cw->tried = 0;
  e->n++;
  return 0;
}

/* Recognise one blob on its own: its image with a white margin, one
 * Tesseract call. Each blob alone, never stacked with others: in a shared
 * image Tesseract's row statistics (x-height, ascenders, descenders: they
 * decide how a line is cropped and scaled for the LSTM) and its threshold mix
 * the blobs, so the reading of an unchanged label depended on what else was
 * read with it ("Bemærkninz", "havn"). Alone it is also faster: no layout
 * analysis of a tall image. Fills p->e with blob-relative words. */
static void recognise_blob(rt_ocr *o, TessBaseAPI *api, pending *p, int deadline_ms) {
  int iw = pixGetWidth(p->img), ih = pixGetHeight(p->img);
  PIX *m = pixAddBorder(p->img, PAD, 255);
  if (!m) return;
  TessBaseAPISetImage2(api, m);
  TessBaseAPISetSourceResolution(api, 300);
  /* one line: PSM_SINGLE_LINE (a block's layout analysis drops a short word
   * such as "Run" as noise) */
  TessBaseAPISetPageSegMode(api, p->psm ? (TessPageSegMode)p->psm : PSM_SINGLE_LINE);
  ETEXT_DESC *mon = TessMonitorCreate();
  if (mon) TessMonitorSetDeadlineMSecs(mon, deadline_ms);
  int rc = TessBaseAPIRecognize(api, mon);
  if (mon) TessMonitorDelete(mon);
  __atomic_add_fetch(&o->st.recognitions, 1, __ATOMIC_RELAXED);
  p->e->timed_out = rc != 0; /* cancelled by the monitor: some lines were not read */
  size_t cap = 0;
  TessResultIterator *it = TessBaseAPIGetIterator(api);
  int tline = -1;
  if (it && p->psm == PSM_SINGLE_CHAR) { /* a lone mark: its symbol, the blob's box */
    char *t = rc == 0 ? TessResultIteratorGetUTF8Text(it, RIL_SYMBOL) : NULL;
    float conf = TessResultIteratorConfidence(it, RIL_SYMBOL);
    if (t && *t && conf >= 50) {
      t[strcspn(t, " \n")] = 0;
      if (*t)
        centry_add(p->e, &cap, t,
                   (rt_ocr_box){0, 0, (int)(iw / p->xscale + 0.5f), (int)(ih / p->scale + 0.5f)},
                   conf, 0);
    }
    if (t) TessDeleteText(t);
    TessResultIteratorDelete(it);
    it = NULL;
  }
  if (it) {
    TessPageIterator *pi = TessResultIteratorGetPageIterator(it);
    do {
      if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) tline++;
      int l, t, r, b;
      if (!TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &t, &r, &b)) continue;
      char *txt = TessResultIteratorGetUTF8Text(it, RIL_WORD);
      if (!txt) continue;
      char *a = txt;
      while (*a == ' ') a++;
      size_t len = strlen(a);
      while (len && (a[len - 1] == ' ' || a[len - 1] == '\n')) a[--len] = 0;
      if (len) {
        float s = p->scale, sx = p->xscale;
        int x0 = (int)((l - PAD) / sx), y0 = (int)((t - PAD) / s);
        int x1 = (int)((r - PAD) / sx + 0.999f), y1 = (int)((b - PAD) / s + 0.999f);
        int bw = (int)(iw / sx + 0.5f), bh = (int)(ih / s + 0.5f);
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 > bw) x1 = bw;
        if (y1 > bh) y1 = bh;
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) y1 = y0 + 1;
        centry_add(p->e, &cap, a, (rt_ocr_box){x0, y0, x1 - x0, y1 - y0},
                   TessResultIteratorConfidence(it, RIL_WORD), tline);
      }
      TessDeleteText(txt);
    } while (TessResultIteratorNext(it, RIL_WORD));
    TessResultIteratorDelete(it);
  }
  TessBaseAPIClear(api);
  pixDestroy(&m);
}

static double entry_score(const centry *e) {
  if (!e->n) return -1;
  double sum = 0, len = 0;
  for (int i = 0; i < e->n; i++) {
    double l = (double)strlen(e->w[i].text);
    sum += e->w[i].conf * l;
    len += l;
  }
  return len > 0 ? sum / len : -1;
}


static int word_letters(const char *t) {
  int letters = 0;
  for (const unsigned char *p = (const unsigned char *)t; *p; p++)
    if (isalpha(*p) || *p >= 0xC0) letters++;
  return letters;
}

static void replace_word(centry *e, int j, const centry *alt, int dx, int dy) {
  int n = e->n - 1 + alt->n;
  cword *w = malloc((size_t)(n ? n : 1) * sizeof *w);
  if (!w) return;
  int k = 0;
  for (int i = 0; i < e->n; i++) {
    if (i != j) {
      w[k++] = e->w[i];
      continue;
    }
    for (int a = 0; a < alt->n; a++) {
      w[k] = alt->w[a];
      w[k].text = strdup(alt->w[a].text);
      if (!w[k].text) continue;
      w[k].box.x += dx;
      w[k].box.y += dy;
      w[k].tline = e->w[j].tline;
      w[k].tried = e->w[j].tried;
      k++;
    }
    free(e->w[i].text);
  }
  free(e->w);
  e->w = w;
  e->n = k;
}

/* One unsure reading of a blob to try again. */
enum { RETRY_WHOLE = -1, RETRY_WHOLE_NOCROP = -2, RETRY_MARK = -3 };
typedef struct {
  int word;   /* index of the word in the blob's entry, or RETRY_* */
  int dx, dy; /* crop offset in the blob, window pixels */
} retry_ref;

/* The readings of blob q to try again in retry pass k: unsure words not yet
 * read again in that pass, a blob that read as nothing, and (pass 0) a lone
 * small mark. With a hint (the phrase find looks for) only words that could
 * be it. Fills ref (room for q->e->n or 1) when given; returns how many. */
static int retry_refs(const pending *q, int k, const char *hint, retry_ref *ref) {
  const centry *e = q->e;
  if (e->timed_out) return 0;
  int iw = pixGetWidth(q->img), ih = pixGetHeight(q->img), m = 0;
  if (e->n == 0) {
    if (e->tried_whole & (1u << k)) return 0;
    int mark = k == 0 && (int)(iw / q->xscale + 0.5f) <= 14 && (int)(ih / q->scale + 0.5f) <= 16;
    if (mark && hint && strlen(hint) > 3) return 0; /* a mark is one character */
    if (!mark && iw < 3 * ih) return 0;
    if (ref) ref[0] = (retry_ref){mark ? RETRY_MARK : RETRY_WHOLE, 0, 0};
    return 1;
  }
  for (int j = 0; j < e->n; j++) {
    const cword *w = &e->w[j];
    if (w->conf >= RETRY_CONF || (w->tried & (1u << k)) || word_letters(w->text) < 2) continue;
    /* a "word" of more than ~25 characters (xfontsel's dash-joined field
     * names) is not a misread label: reading it again costs much and gains
     * little */
    if (w->box.w > RETRY_MAX_W * w->box.h) continue;
    if (hint && !rt_ocr__could_be(w->text, hint)) continue;
    if (ref) ref[m] = (retry_ref){j, 0, 0};
    m++;
  }
  return m;
}

/* Does blob q have readings to try again (any pass)? */
static int retry_due(const rt_ocr *o, const pending *q, const char *hint) {
  for (int k = 0; k < o->napi; k++)
    if (retry_refs(q, k, hint, NULL)) return 1;
  return 0;
}

/* Read the unsure parts of blob q again with api (language k) and keep the
 * surer reading: pass 0 in the first language a little larger (RESCALE_PCT:
 * a small screen font reads best at different sizes; the bold xmessage
 * "Bemærkning:" at 32 px, most demo labels better at 28 than at 32), pass k
 * in language k. Only the unsure words are read again (a crop of the blob),
 * not the whole blob; a blob that read as nothing is read whole, and in pass
 * 0 a lone small mark ("-", "=", "." keys) as a single character. */
static void retry_blob(rt_ocr *o, TessBaseAPI *api, pending *q, int k, int deadline,
                       const char *hint) {
  centry *e = q->e;
  int iw = pixGetWidth(q->img), ih = pixGetHeight(q->img);
  retry_ref *ref = malloc((size_t)(e->n ? e->n : 1) * sizeof *ref);
  if (!ref) return;
  int m = retry_refs(q, k, hint, ref);
  if (m && e->n == 0) e->tried_whole |= 1u << k;
  for (int r = 0; r < m; r++)
    if (ref[r].word >= 0) e->w[ref[r].word].tried |= 1u << k;
  pending *retry = m ? calloc((size_t)m, sizeof *retry) : NULL;
  centry *alt = m ? calloc((size_t)m, sizeof *alt) : NULL;
  if (!retry || !alt) {
    free(retry);
    free(alt);
    free(ref);
    return;
  }
  float f = k == 0 ? RESCALE_PCT / 100.0f : 1.0f;
  for (int r = 0; r < m; r++) {
    retry[r] = *q;
    retry[r].e = &alt[r];
    if (ref[r].word == RETRY_MARK) { /* fills the blob's own entry */
      retry[r].e = e;
      retry[r].psm = PSM_SINGLE_CHAR;
      retry[r].img = pixClone(q->img);
      continue;
    }
    if (ref[r].word < 0) {
      retry[r].img = pixClone(q->img);
    } else {
      retry[r].psm = PSM_SINGLE_LINE;
      /* the word with a margin of about a third of the line height */
      const rt_ocr_box *wb = &e->w[ref[r].word].box;
      int mx = (int)(TARGET_H / 3), my = 3;
      int x0 = (int)(wb->x * q->xscale) - mx, x1 = (int)((wb->x + wb->w) * q->xscale) + mx;
      int y0 = (int)((wb->y - my) * q->scale), y1 = (int)((wb->y + wb->h + my) * q->scale);
      if (x0 < 0) x0 = 0;
      if (y0 < 0) y0 = 0;
      if (x1 > iw) x1 = iw;
      if (y1 > ih) y1 = ih;
      /* crop offsets in window pixels, whole pixels so the shift is exact */
      int dx = (int)(x0 / q->xscale), dy = (int)(y0 / q->scale);
      x0 = (int)(dx * q->xscale);
      y0 = (int)(dy * q->scale);
      BOX *bx = boxCreate(x0, y0, x1 - x0 > 0 ? x1 - x0 : 1, y1 - y0 > 0 ? y1 - y0 : 1);
      retry[r].img = bx ? pixClipRectangle(q->img, bx, NULL) : NULL;
      boxDestroy(&bx);
      if (!retry[r].img) retry[r].img = pixClone(q->img), dx = dy = 0, ref[r].word = RETRY_WHOLE_NOCROP;
      ref[r].dx = dx;
      ref[r].dy = dy;
    }
    if (f != 1.0f && retry[r].img) {
      PIX *big = pixScaleGrayLI(retry[r].img, f, f);
      if (big) {
        retry[r].scale *= (float)pixGetHeight(big) / pixGetHeight(retry[r].img);
        retry[r].xscale *= (float)pixGetWidth(big) / pixGetWidth(retry[r].img);
        pixDestroy(&retry[r].img);
        retry[r].img = big;
      }
    }
  }
  for (int r = 0; r < m; r++)
    if (retry[r].img) recognise_blob(o, api, &retry[r], deadline);
  /* take the surer reading; from the last word to the first so indices stay
   * valid while words are replaced */
  for (int r = m; r-- > 0;) {
    pixDestroy(&retry[r].img);
    if (ref[r].word == RETRY_MARK) continue;
    if (!alt[r].timed_out && alt[r].n) {
      if (ref[r].word < 0) {
        if (ref[r].word == RETRY_WHOLE && entry_score(&alt[r]) > entry_score(e)) {
          cword *w = e->w;
          int cn = e->n;
          e->w = alt[r].w;
          e->n = alt[r].n;
          alt[r].w = w;
          alt[r].n = cn;
          for (int i = 0; i < e->n; i++) e->w[i].tried = (2u << k) - 1; /* read in pass k */
        }
      } else if (entry_score(&alt[r]) > e->w[ref[r].word].conf) {
        replace_word(e, ref[r].word, &alt[r], ref[r].dx, ref[r].dy);
      }
    }
    for (int i = 0; i < alt[r].n; i++) free(alt[r].w[i].text);
    free(alt[r].w);
  }
  free(retry);
  free(alt);
  free(ref);
}

/* May a screening reading hold the phrase (a word that could be it, or
 * nothing read at all)? */
static int may_hold(const centry *e, const char *hint) {
  if (e->timed_out || e->n == 0) return 1;
  for (int i = 0; i < e->n; i++)
    if (rt_ocr__could_be(e->w[i].text, hint)) return 1;
  return 0;
}

/* The screening reading of a blob, for find: English, and one-line blobs at
 * SCREEN_H line height (never below the window's own size). It only picks the
 * blobs to read with full care, so it may be rough: at 14 px every label of
 * the benchmark still made its blob a candidate; at 18 px it costs about a
 * third less than at TARGET_H (Tesseract's work grows with the width text
 * takes in its network's rows). */
static void screen_blob(rt_ocr *o, TessBaseAPI *api, pending *p, int deadline) {
  __atomic_add_fetch(&o->st.screened, 1, __ATOMIC_RELAXED);
  float f = (float)SCREEN_H / TARGET_H;
  if (f * p->scale < 1.0f) f = 1.0f / p->scale;
  PIX *small = p->psm == PSM_SINGLE_LINE && f < 0.95f ? pixScale(p->img, f, f) : NULL;
  if (!small) {
    recognise_blob(o, api, p, deadline);
    return;
  }
  pending q = *p;
  q.img = small;
  q.scale *= (float)pixGetHeight(small) / pixGetHeight(p->img);
  q.xscale *= (float)pixGetWidth(small) / pixGetWidth(p->img);
  recognise_blob(o, api, &q, deadline);
  pixDestroy(&small);
}

typedef struct {
  rt_ocr *o;
  int worker;
  pending **list;
  int n, deadline;
  const char *hint;
  int *next; /* shared: the next blob to take */
} job;

/* A worker takes the next blob and reads it completely: the first language,
 * then its unsure words again (retry_blob). Whole blobs are the unit of work,
 * so no thread waits for the other between passes. */
static void *run_job(void *arg) {
  job *j = arg;
  rt_ocr *o = j->o;
  for (;;) {
    int i = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED);
    if (i >= j->n) break;
    pending *p = j->list[i], q;
    if (p->screen) {
      screen_blob(o, o->api[j->worker][o->screen], p, j->deadline);
      if (!p->care || !may_hold(p->e, j->hint)) continue;
      p->care_used = 1; /* it may: read it with full care */
      q = *p;
      q.e = p->care;
      q.retry_only = 0;
      p = &q;
    }
    if (!p->retry_only) recognise_blob(o, o->api[j->worker][0], p, j->deadline);
    for (int k = 0; k < o->napi; k++)
      retry_blob(o, o->api[j->worker][k], p, k, j->deadline, j->hint);
  }
  return NULL;
}

/* The longest blobs first, so no thread is left alone with a long one at the
 * end. */
static int cmp_pending_work(const void *pa, const void *pb) {
  const pending *a = *(pending *const *)pa, *b = *(pending *const *)pb;
  long wa = a->retry_only ? 0 : (long)pixGetWidth(a->img) * 64 / (pixGetHeight(a->img) + 1);
  long wb = b->retry_only ? 0 : (long)pixGetWidth(b->img) * 64 / (pixGetHeight(b->img) + 1);
  return wa < wb ? 1 : wa > wb ? -1 : 0;
}

/* Recognise every pd[] with a cache entry to fill, on the recognition
 * threads; returns how many timed out. */
static int recognise_pending(rt_ocr *o, pending *pd, int nb, int deadline, const char *hint) {
  pending **list = malloc((nb ? (size_t)nb : 1) * sizeof *list);
  int n = 0, late = 0;
  if (!list) return 0;
  for (int b = 0; b < nb; b++)
    if (pd[b].img && pd[b].e) list[n++] = &pd[b];
  qsort(list, (size_t)n, sizeof *list, cmp_pending_work);
  int nw = o->nworkers < n ? o->nworkers : n, next = 0;
  job jobs[MAX_WORKERS];
  pthread_t th[MAX_WORKERS];
  int started[MAX_WORKERS] = {0};
  for (int w = 0; w < (nw > 0 ? nw : 1); w++) jobs[w] = (job){o, w, list, n, deadline, hint, &next};
  for (int w = 1; w < nw; w++) started[w] = pthread_create(&th[w], NULL, run_job, &jobs[w]) == 0;
  run_job(&jobs[0]);
  for (int w = 1; w < nw; w++)
    if (started[w]) pthread_join(th[w], NULL);
  for (int i = 0; i < n; i++) late += list[i]->e->timed_out;
  free(list);
  return late;
}

/* Assign global line ids and sort into reading order. */
typedef struct {
  rt_ocr_word w;
  int blob, tline;
  int root;
} wtmp;

static int find_root(wtmp *a, int i) {
  while (a[i].root != i) {
    a[i].root = a[a[i].root].root;
    i = a[i].root;
  }
  return i;
}

static int cmp_line_order(const void *pa, const void *pb) {
  const wtmp *a = pa, *b = pb;
  if (a->w.line != b->w.line) return a->w.line - b->w.line;
  return a->w.box.x - b->w.box.x;
}

typedef struct {
  int root, top, bottom, left, band;
} lineinfo;

static int cmp_line_centre(const void *pa, const void *pb) {
  const lineinfo *a = pa, *b = pb;
  return (a->top + a->bottom) - (b->top + b->bottom);
}

static int cmp_line_band(const void *pa, const void *pb) {
  const lineinfo *a = pa, *b = pb;
  if (a->band != b->band) return a->band - b->band;
  return a->left - b->left;
}

static void assign_lines(wtmp *a, size_t n, int *nlines) {
  for (size_t i = 0; i < n; i++) a[i].root = (int)i;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      rt_ocr_box *p = &a[i].w.box, *q = &a[j].w.box;
      if (a[i].blob == a[j].blob) {
        if (a[i].tline != a[j].tline) continue;
      } else {
        int ov = (p->y + p->h < q->y + q->h ? p->y + p->h : q->y + q->h) -
                 (p->y > q->y ? p->y : q->y);
        int mh = p->h < q->h ? p->h : q->h, xh = p->h > q->h ? p->h : q->h;
        if (ov * 2 < mh) continue;
        int gap = p->x > q->x ? p->x - (q->x + q->w) : q->x - (p->x + p->w);
        if (gap > xh * 3 / 2) continue;
      }
      int ri = find_root(a, (int)i), rj = find_root(a, (int)j);
      if (ri != rj) a[ri > rj ? ri : rj].root = ri < rj ? ri : rj;
    }
  lineinfo *li = malloc((n ? n : 1) * sizeof *li);
  size_t nl = 0;
  for (size_t i = 0; i < n; i++) {
    int r = find_root(a, (int)i);
    size_t k;
    for (k = 0; k < nl; k++)
      if (li[k].root == r) break;
    if (k == nl) li[nl++] = (lineinfo){r, a[i].w.box.y, a[i].w.box.y + a[i].w.box.h, a[i].w.box.x, 0};
    if (a[i].w.box.y < li[k].top) li[k].top = a[i].w.box.y;
    if (a[i].w.box.y + a[i].w.box.h > li[k].bottom) li[k].bottom = a[i].w.box.y + a[i].w.box.h;
    if (a[i].w.box.x < li[k].left) li[k].left = a[i].w.box.x;
  }
  /* reading order: rows of lines (a line whose middle lies within the row
   * so far joins it), top to bottom; left to right within a row */
  qsort(li, nl, sizeof *li, cmp_line_centre);
  int band = 0, bbottom = -1;
  for (size_t k = 0; k < nl; k++) {
    int mid = (li[k].top + li[k].bottom) / 2;
    if (k > 0 && mid >= bbottom) band++;
    if (k == 0 || mid >= bbottom) bbottom = li[k].bottom;
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

void rt_ocr_result_free(rt_ocr_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) free(r->words[i].text);
  free(r->words);
  memset(r, 0, sizeof *r);
}

static int result_copy(rt_ocr_result *dst, const rt_ocr_result *src) {
  *dst = *src;
  dst->words = calloc(src->n ? src->n : 1, sizeof *dst->words);
  if (!dst->words) return -1;
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

int rt_ocr_words(rt_ocr *o, PIX *img, const rt_ocr_opts *opts, rt_ocr_result *out,
                 char *err, size_t errlen) {
  if (out) memset(out, 0, sizeof *out);
  if (!o || !img || !out) {
    seterr(err, errlen, "rt_ocr_words: missing argument");
    return RT_OCR_ERROR;
  }
  double t0 = now_ms();
  rt_ocr_opts def = {0};
  if (!opts) opts = &def;
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
  uint64_t ikey = 0;
  {
    uint32_t *d = pixGetData(p32);
    int wpl = pixGetWpl(p32);
    uint64_t h = mix64((uint64_t)W << 32 | (uint32_t)H, 0x5eed);
    for (int y = 0; y < H; y++) {
      const uint32_t *row = d + (size_t)y * wpl;
      int x = 0;
      for (; x + 2 <= W; x += 2)
        h = mix64(h, ((uint64_t)(row[x] & 0xffffff00u) << 32) | (row[x + 1] & 0xffffff00u));
      if (x < W) h = mix64(h, row[x] & 0xffffff00u);
    }
    ikey = h ? h : 1;
  }
  const char *hint = opts->hint && *opts->hint ? opts->hint : NULL;
  uint64_t hkey = hint ? rt_ocr__hash_bytes(hint, strlen(hint), 0x41) : 0;
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
      if (*c >= 0x80) screening = 0;
  }
  if (!opts->no_cache && !opts->has_region)
    for (int i = 0; i < 4; i++)
      if (o->img[i].key == ikey && o->img[i].min_conf == opts->min_conf &&
          (!o->img[i].partial || o->img[i].hint == hkey)) {
        pixDestroy(&p32);
        if (result_copy(out, &o->img[i].res) != 0) {
          seterr(err, errlen, "out of memory");
          return RT_OCR_ERROR;
        }
        o->img[i].gen = o->gen;
        o->st.image_hits++;
        out->image_cached = 1;
        out->blobs_cached = out->blobs;
        out->timed_out = 0;
        out->ms = now_ms() - t0;
        return RT_OCR_OK;
      }

  int nb = 0;
  PIX *keep = NULL;
  blob *bl = find_blobs(p32, &nb, &keep);
  if (!bl) {
    pixDestroy(&p32);
    seterr(err, errlen, "out of memory in the OCR pipeline");
    return RT_OCR_ERROR;
  }
  size_t cap = 64, n = 0;
  wtmp *a = malloc(cap * sizeof *a);
  pending *pd = calloc(nb ? (size_t)nb : 1, sizeof *pd);
  int cached = 0, timed_out = 0;
  if (!pd) {
    free(a);
    a = NULL;
  }
  cache_reserve(o, 2 * (size_t)nb); /* screening and careful readings */
  /* 1: blob images and cache look-ups */
  for (int b = 0; a && b < nb; b++) {
    if (opts->has_region &&
        (bl[b].x + bl[b].w <= opts->region.x || bl[b].x >= opts->region.x + opts->region.w ||
         bl[b].y + bl[b].h <= opts->region.y || bl[b].y >= opts->region.y + opts->region.h))
      continue;
    float scale = 1, xscale = 1;
    PIX *bi = blob_image(p32, keep, &bl[b], &scale, &xscale);
    if (!bi) continue;
    uint32_t sbits;
    memcpy(&sbits, &scale, 4);
    uint64_t key = rt_ocr__hash_bytes(pixGetData(bi), (size_t)pixGetWpl(bi) * 4 * pixGetHeight(bi),
                                      ((uint64_t)pixGetWidth(bi) << 40) ^
                                          ((uint64_t)pixGetHeight(bi) << 20) ^ sbits);
    pd[b].img = bi;
    pd[b].scale = scale;
    pd[b].xscale = xscale;
    pd[b].ox = bl[b].x - 1 < 0 ? 0 : bl[b].x - 1;
    pd[b].oy = bl[b].y - 1 < 0 ? 0 : bl[b].y - 1;
    pd[b].key = key;
    pd[b].psm = bl[b].h > bl[b].lineh * 3 / 2 + 2 ? PSM_SINGLE_BLOCK : PSM_SINGLE_LINE;
    centry *e = cache_get(o, key);
    if (e && e->gen == o->gen) { /* the same pixels again in this image */
      pd[b].e = NULL;
      pd[b].src = e;
      continue;
    }
    centry *hit = cache_hit(o, e, opts->no_cache);
    if (hit) { /* read before: at most the retries this hint wants are due */
      cached++;
      pd[b].src = pd[b].e = hit;
      pd[b].retry_only = 1;
      if (!retry_due(o, &pd[b], hint)) pd[b].e = NULL;
      continue;
    }
    uint64_t rkey = key; /* the reading to make: careful, or screening */
    if (screening) {
      rkey = pd[b].skey = (key ^ 0x5c2ee9a7d1f3b6c5ull) | 1;
      pd[b].src_screen = 1;
      centry *se = cache_get(o, rkey);
      if (se && se->gen == o->gen) { /* the same pixels again; settled below */
        pd[b].src = se;
        continue;
      }
      if ((hit = cache_hit(o, se, opts->no_cache))) {
        cached++;
        pd[b].src = hit;
        if (may_hold(hit, hint)) /* read with care */
          pd[b].care_used = (pd[b].e = pd[b].care = calloc(1, sizeof *pd[b].care)) != NULL;
        continue;
      }
      pd[b].care = calloc(1, sizeof *pd[b].care);
      pd[b].screen = 1;
    }
    e = cache_put(o, rkey);
    if (!e) e = pd[b].own = calloc(1, sizeof *e);
    pd[b].e = pd[b].src = e;
    if (!e) /* out of memory: skip the blob */
      pixDestroy(&pd[b].img);
  }
  /* 2: recognise the missing ones, blob by blob, language by language */
  if (a) timed_out = recognise_pending(o, pd, nb, deadline, hint);
  /* careful readings of screened blobs go into the cache (or stay the
   * blob's own when it is full), for every blob with those pixels */
  for (int b = 0; a && b < nb; b++) {
    if (!pd[b].care) continue;
    if (pd[b].care_used && !pd[b].care->timed_out) {
      centry *ce = cache_put(o, pd[b].key);
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
      centry_clear(pd[b].care);
      free(pd[b].care);
      pd[b].care = NULL;
    }
  }
  /* partial: a later call without a hint has unsure words to read again,
   * or screening readings to read with care */
  int partial = 0;
  for (int b = 0; hint && a && b < nb && !partial; b++)
    if (pd[b].img && pd[b].src) {
      pending q = pd[b];
      q.e = q.src;
      partial = pd[b].src_screen || retry_due(o, &q, NULL);
    }
  /* 3: collect words, window coordinates */
  for (int b = 0; a && b < nb; b++) {
    if (!pd[b].img) continue;
    centry *e = pd[b].src;
    if (!e) continue;
    int ox = pd[b].ox, oy = pd[b].oy;
    for (int i = 0; i < e->n; i++) {
      if (opts->min_conf > 0 && e->w[i].conf < opts->min_conf) continue;
      if (n == cap) {
        cap *= 2;
        wtmp *na = realloc(a, cap * sizeof *a);
        if (!na) break;
        a = na;
      }
      wtmp *t = &a[n];
      t->w.text = strdup(e->w[i].text);
      if (!t->w.text) continue;
      t->w.box = e->w[i].box;
      t->w.box.x += ox;
      t->w.box.y += oy;
      if (t->w.box.x + t->w.box.w > W) t->w.box.w = W - t->w.box.x;
      if (t->w.box.y + t->w.box.h > H) t->w.box.h = H - t->w.box.y;
      if (t->w.box.w < 1) t->w.box.w = 1;
      if (t->w.box.h < 1) t->w.box.h = 1;
      t->w.conf = e->w[i].conf;
      t->w.line = 0;
      t->blob = b;
      t->tline = e->w[i].tline;
      n++;
    }
  }
  for (int b = 0; pd && b < nb; b++) {
    pixDestroy(&pd[b].img);
    if (pd[b].own) {
      centry_clear(pd[b].own);
      free(pd[b].own);
    }
    if (pd[b].own2) {
      centry_clear(pd[b].own2);
      free(pd[b].own2);
    }
  }
  free(pd);
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
    for (size_t i = 0; i < n; i++) free(a[i].w.text);
    free(a);
    seterr(err, errlen, "out of memory");
    return RT_OCR_ERROR;
  }
  for (size_t i = 0; i < n; i++) out->words[i] = a[i].w;
  free(a);
  out->n = n;
  out->nlines = nlines;
  out->width = W;
  out->height = H;
  out->blobs = nb;
  out->blobs_cached = cached;
  out->timed_out = timed_out;
  out->ms = now_ms() - t0;

  if (!timed_out && !opts->has_region) { /* remember the whole result for an unchanged image */
    int slot = 0;
    for (int i = 1; i < 4; i++)
      if (o->img[i].gen < o->img[slot].gen) slot = i;
    rt_ocr_result_free(&o->img[slot].res);
    memset(&o->img[slot], 0, sizeof o->img[slot]);
    if (result_copy(&o->img[slot].res, out) == 0) {
      o->img[slot].key = ikey;
      o->img[slot].gen = o->gen;
      o->img[slot].min_conf = opts->min_conf;
      o->img[slot].hint = hkey;
      o->img[slot].partial = partial;
    } else {
      memset(&o->img[slot], 0, sizeof o->img[slot]);
    }
  }
  return RT_OCR_OK;
}

char *rt_ocr_result_text(const rt_ocr_result *r) {
  size_t len = 1;
  for (size_t i = 0; r && i < r->n; i++) len += strlen(r->words[i].text) + 1;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  *p = 0;
  for (size_t i = 0; r && i < r->n; i++) {
    if (i) *p++ = r->words[i].line != r->words[i - 1].line ? '\n' : ' ';
    size_t l = strlen(r->words[i].text);
    memcpy(p, r->words[i].text, l);
    p += l;
    *p = 0;
  }
  return s;
}

char *rt_ocr_read(rt_ocr *o, PIX *img, rt_ocr_box box, const rt_ocr_opts *opts, char *err,
                  size_t errlen) {
  if (!o || !img) {
    seterr(err, errlen, "rt_ocr_read: missing argument");
    return NULL;
  }
  int W = pixGetWidth(img), H = pixGetHeight(img);
  int x0 = box.x < 0 ? 0 : box.x, y0 = box.y < 0 ? 0 : box.y;
  int x1 = box.x + box.w > W ? W : box.x + box.w, y1 = box.y + box.h > H ? H : box.y + box.h;
  if (x1 <= x0 || y1 <= y0) {
    seterr(err, errlen, "rectangle %d,%d %dx%d is outside the %dx%d image", box.x, box.y,
           box.w, box.h, W, H);
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
  if (rc != RT_OCR_OK) return NULL;
  char *s = rt_ocr_result_text(&r);
  rt_ocr_result_free(&r);
  if (!s) seterr(err, errlen, "out of memory");
  return s;
}

PIX *rt_ocr_draw(PIX *img, const rt_ocr_result *res) {
  if (!img) return NULL;
  PIX *c = pixConvertTo32(img);
  for (size_t k = 0; c && res && k < res->n; k++) {
    const rt_ocr_word *w = &res->words[k];
    BOX *b = boxCreate(w->box.x, w->box.y, w->box.w, w->box.h);
    if (!b) continue;
    if (w->conf >= 60) pixRenderBoxArb(c, b, 1, 255, 0, 0);
    else pixRenderBoxArb(c, b, 1, 0, 0, 255);
    boxDestroy(&b);
  }
  return c;
}
