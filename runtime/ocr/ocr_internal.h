/* Internal helpers shared by the rt_ocr sources (not a public interface). */
#ifndef RT_OCR_INTERNAL_H
#define RT_OCR_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "rt_ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Pipeline constants, in window pixels. */
enum {
  EDGE_TOL = 40,      /* colour step (max channel) that makes an edge */
  MAX_TEXT_H = 72,    /* taller components are not text */
  LINE_THIN = 5,      /* rules: at most this thick ... */
  HLINE_MIN_W = 24,   /* ... and this long (horizontal) */
  VLINE_MIN_H = 30,   /* ... (vertical) */
  FRAME_MIN = 10,     /* frames (borders around labels) are at least this big */
  BUTTON_MAX_W = 400, /* the widest button whose rounded sides are paired (ocr_blobs.c) */
  HRUN = 16,          /* horizontal one-colour runs this long are borders, not text */
  VRUN = 16,          /* vertical ditto, when they meet a horizontal one */
  VRUN_ALWAYS = 60,   /* vertical runs this long are borders anyway */
  LINE_TOL = 24,      /* colour tolerance along a line */
  BLOB_HGAP = 7,      /* components closer than this join one blob ... */
  BLOB_VGAP = 3,      /* ... and this, vertically (accents, i dots) */
  BLOB_MIN_H = 1,
  PAD = 10,          /* white margin around a blob image given to Tesseract */
  TARGET_H = 28,     /* a line of text is upscaled to about this height ... */
  SCREEN_H = 18,     /* ... and screened at this one (find's English look) */
  RESCALE_PCT = 115, /* a blob with a word read less surely than RETRY_CONF is read
                         again this much larger (percent) */
  NARROW_MAX_H = 30, /* find leaves unread blobs too narrow for the phrase up to this line
                         height (rt_ocr_words) */
  CACHE_MAX = 8192,  /* blob cache entries */
  MAX_LANGS = 4,
  MAX_WORKERS = 4,   /* recognition threads (each with its own Tesseract instances) */
  RETRY_CONF = 85,   /* a blob read less surely is read again in the next language */
  RETRY_MAX_W = 16,  /* ... unless the word is wider than this many times its height */
  GLYPH_MARGIN = 10, /* a careful single-glyph reading settles a confusion only when its
                         character's confidence leads every other allowed one by this */
};

typedef struct {
  char *text;
  rt_ocr_box box; /* blob-relative, window pixels */
  float conf;
  int tline;      /* Tesseract's line index within the blob */
  unsigned tried; /* bit k: read again in retry pass k already */
} cword;

typedef struct {
  uint64_t key; /* 0 = empty slot */
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
  uint64_t hint; /* hash of the hint it was read with (0: none) */
  int partial;   /* 1: some unsure words were not read again (the hint) */
  int skipped;   /* blobs too narrow for the hint, not read */
  rt_ocr_result res;
} img_entry;

struct rt_ocr {
  TessBaseAPI *api[MAX_WORKERS][MAX_LANGS]; /* [worker][language] */
  int napi, nworkers;
  /* the workers' instances load on threads of their own; rt_ocr_new returns once worker
   * 0's are loaded, and the others take blobs from when they are ready */
  struct rt_ocr_loader {
    struct rt_ocr *o;
    int worker;
    pthread_t th;
    int started;
    int ready; /* set (release) when api[worker][*] are loaded */
    int failed;
    char lang[64]; /* the language that failed */
  } ld[MAX_WORKERS];
  char dir[512]; /* the language data's directory */
  int screen;    /* index of "eng" among the languages when it is not the first,
                          else -1: the screening language of find (see rt_ocr_words) */
  char langs[128];
  rt_ocr_charset charset; /* what the models can produce (charset_ok: known) */
  int charset_ok;
  centry *tab;
  size_t tabcap, count;
  uint32_t gen;
  img_entry img[4];
  /* careful single-glyph readings (settle_glyphs), by the glyph's pixels and the allowed
   * characters: a guard polling a keypad reads each key once, not on every poll */
  struct {
    uint64_t key;
    char got[16];
    float conf;
  } glyph[64];
  unsigned glyph_next;
  rt_ocr_stats st;
};

typedef struct {
  int x, y, w, h; /* window pixels */
  int lineh;      /* tallest kept component inside: about one line of text */
} blob;

typedef struct {
  PIX *img;            /* blob image (scaled, no margin) */
  float scale, xscale; /* vertical, horizontal */
  int ox, oy;          /* window position of the blob image's top-left */
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

static inline uint64_t mix64(uint64_t h, uint64_t v)
{
  h ^= v * 0x9E3779B97F4A7C15ull;
  h = (h << 27) | (h >> 37);
  return h * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
}

uint64_t rt_ocr__hash_bytes(const void *p, size_t n, uint64_t seed);

/* Could an unsure OCR reading of one word turn out to be the phrase, a word
 * of it or a delimited part of it once read again? (Case, edge punctuation
 * and the characters OCR confuses ignored; up to half the characters
 * different, at least 2 in words of 3 or more.) find's hint: only such words are read again. */
int rt_ocr__could_be(const char *word, const char *phrase);

/* ocr_cache.c: the blob cache (entries move when the table is rebuilt: reserve first). */
void rt_ocr__centry_clear(centry *e);
centry *rt_ocr__cache_get(rt_ocr *o, uint64_t key);
void rt_ocr__cache_reserve(rt_ocr *o, size_t n);
centry *rt_ocr__cache_put(rt_ocr *o, uint64_t key);
centry *rt_ocr__cache_hit(rt_ocr *o, centry *e, int no_cache);

/* ocr_blobs.c: text blobs of a 32 bpp window image (*keepmask: the pixels that belong
 * to text), and one blob's Tesseract input. */
blob *rt_ocr__find_blobs(PIX *p32, int *nblobs, PIX **keepmask);
PIX *rt_ocr__blob_image(PIX *p32, PIX *keep, const blob *bl, float *scale, float *xscale);

/* ocr_recognise.c: reads every pending blob with an entry to fill on the worker threads
 * (returns how many timed out); whether a blob has readings to try again; whether a
 * screening reading may hold the phrase. */
int rt_ocr__recognise_pending(rt_ocr *o, pending *pd, int nb, int deadline, const char *hint);
int rt_ocr__retry_due(const rt_ocr *o, const pending *q, const char *hint);
int rt_ocr__may_hold(const centry *e, const char *hint);

/* ocr_settle.c: the careful readings after a words pass (hint: the phrase looked for, or
 * NULL), in place. */
void rt_ocr__settle(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res);

/* The median of v[0..n) (sorts v; 0 when n is 0). */
int rt_ocr__median(int *v, int n);

/* Adds the characters of the traineddata file at path; -1 when it cannot be read. */
int rt_ocr__charset_load(rt_ocr_charset *cs, const char *path);

#endif
