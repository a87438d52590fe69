/* rt_ocr: screen OCR for GUI windows (Leptonica + Tesseract C API).
 *
 * No X11 and no Lua in here: a Leptonica PIX (a window image, any depth; 32bpp
 * RGB is what capture gives) goes in, words with window-relative boxes and
 * Tesseract confidences come out. rt_ocr_find() locates a word or a phrase in
 * such a result with the robot API's rules (nth, near, region, ignore_case,
 * ambiguity is an error, never a guess).
 *
 * Make one rt_ocr per process: it loads the languages once (one Tesseract
 * instance per language and recognition thread; 2 threads on a machine with 2+
 * CPUs, VAGT_OCR_THREADS=n overrides; rt_ocr_new returns when the first thread's
 * are loaded, the others load behind it at a lower priority and join when ready)
 * and keeps a cache keyed by the pixel
 * content of each text blob, so the unchanged parts of a screen cost nothing
 * the next time. An rt_ocr is not thread-safe: call it from one thread (or
 * lock around it); it runs its own recognition threads inside a call.
 *
 * The pipeline: edges of the window image; widget borders (long straight
 * runs, box sides, hollow frames, the arcs of oval buttons) and bare
 * rectangles (text cursors, empty boxes) removed; the rest grouped into text
 * blobs; each blob normalised to dark text on white against its own
 * background colour (so light-on-dark text reads too), upscaled to ~28 px
 * line height, and each blob recognised on its own (PSM_SINGLE_LINE, or
 * PSM_SINGLE_BLOCK for a blob of several lines) with a deadline (TessMonitor),
 * the recognition threads taking blobs as they get free. A blob is never read
 * together with others: Tesseract's row statistics and threshold would mix
 * them, and an unchanged label would read differently depending on what else
 * was new on the screen. Unsure words are read again a little larger, lone
 * small marks as PSM_SINGLE_CHAR, and still unsure words in the next language;
 * the surer reading is kept ("full care"); a blob and its retries are one unit
 * of work for a thread.
 *
 * Finding one phrase (rt_ocr_opts.hint) needs less: only unsure words that
 * could be the phrase are read again, and a phrase of plain ASCII is first
 * screened in English when "eng" is loaded but not first (its model reads 36
 * px rows, the Danish one 48: a third cheaper), at a smaller size, only the
 * blobs whose screening may hold the phrase then read with full care. Matches and
 * ambiguity come from careful readings; screening readings are cached apart,
 * and a later call without a hint reads with full care what was skipped. A window
 * dense with text is not read whole: with a hint whose words have 3 characters or
 * more, a blob (a blob of several lines: each line) narrower than the phrase's
 * narrowest word can be in any screen font is not read at all, and when what was read
 * holds no match better than one with slips, the skipped blobs are read too (so
 * not-found, slips and ambiguity are what a full reading gives).
 *
 * Threads: Debian's Tesseract links OpenMP, and its default thread count makes
 * recognition several times slower. libgomp reads OMP_THREAD_LIMIT when it is
 * loaded, i.e. before main(); rt_ocr_new() setenv()s it when unset (that helps
 * child processes only). Call rt_ocr_reexec_single_thread(argv) first thing in
 * main() to make it effective for the process itself.
 */
#ifndef RT_OCR_H
#define RT_OCR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct Pix; /* Leptonica's PIX */

typedef struct rt_ocr rt_ocr;

typedef struct {
  int x, y, w, h;
} rt_ocr_box;

typedef struct {
  char *text;     /* UTF-8, never empty */
  rt_ocr_box box; /* window-relative pixels */
  float conf;     /* Tesseract word confidence, 0-100 */
  int line;       /* text line id, 0..nlines-1, in reading order */
} rt_ocr_word;

typedef struct {
  rt_ocr_word *words; /* reading order: lines top to bottom, words left to right */
  size_t n;
  int nlines;
  int width, height; /* of the image */
  int blobs;         /* text blobs found by the screen pipeline */
  int blobs_cached;  /* of which answered from the cache */
  int timed_out;     /* number of blobs whose recognition hit the deadline */
  int image_cached;  /* 1: the whole image was unchanged since a recent call */
  double ms;         /* wall time of the call */
} rt_ocr_result;

typedef struct {
  int deadline_ms; /* per text blob and reading; 0 = 1000 ms. Blobs cut short are
                      counted in timed_out and not cached */
  int min_conf;    /* drop words below this confidence; 0 = keep all */
  int no_cache;    /* 1: bypass the cache (it is still filled) */
  int has_region;  /* 1: read only the text blobs that overlap region (cheaper than the
                      whole window when a script searches a known area) */
  rt_ocr_box region;
  const char *hint; /* the phrase the caller will rt_ocr_find: unsure words that could
                       not be it are not read again now (a call without a hint does
                       that later); cheaper, and the same matches for that phrase */
} rt_ocr_opts;

/* Return codes of rt_ocr_words/rt_ocr_find. */
enum {
  RT_OCR_OK = 0,
  RT_OCR_NOT_FOUND = 1, /* rt_ocr_find: no match (err says what was seen) */
  RT_OCR_AMBIGUOUS = 2, /* rt_ocr_find: several equally good matches (err lists them) */
  RT_OCR_ERROR = -1     /* bad argument, no image, ... (err says) */
};

/* Default languages: Danish and English. Danish is read first: its model
 * also knows the English alphabet, so most labels need one pass; a blob read
 * with less than 85% confidence is read again in the next language and the
 * surer reading is kept. */
#define RT_OCR_DEFAULT_LANGS "dan+eng"

/* langs: Tesseract language codes joined with '+', tried in that order;
 * NULL or "" = RT_OCR_DEFAULT_LANGS.
 * Data comes from $TESSDATA_PREFIX or Debian's /usr/share/tesseract-ocr/5/tessdata.
 * On failure returns NULL and writes a message to err, e.g.
 *   "OCR language data 'dan' not found (/usr/share/.../dan.traineddata):
 *    install the Debian package tesseract-ocr-dan"
 * rt_ocr_missing_language() tells a caller the failure was missing data
 * (exit status 4 in vagt). */
rt_ocr *rt_ocr_new(const char *langs, char *err, size_t errlen);
void rt_ocr_free(rt_ocr *ocr);
const char *rt_ocr_langs(const rt_ocr *ocr);
/* 1 if the last rt_ocr_new() failure was missing language data. */
int rt_ocr_missing_language(void);

/* If OMP_THREAD_LIMIT is unset: set it to 1 and execv("/proc/self/exe", argv).
 * Returns only when no re-exec was needed (or it failed: -1). */
int rt_ocr_reexec_single_thread(char **argv);

/* Every word in img. out is filled (free it with rt_ocr_result_free) on
 * RT_OCR_OK; on RT_OCR_ERROR out is empty and err says why. opts may be NULL. */
int rt_ocr_words(rt_ocr *ocr, struct Pix *img, const rt_ocr_opts *opts, rt_ocr_result *out,
                 char *err, size_t errlen);
void rt_ocr_result_free(rt_ocr_result *res);
/* All words, a space between words of one row and a newline between rows (malloc'd). A
 * row may hold several lines (words a wide gap apart: two spaces after a full stop, a
 * label and its value); they are joined by a space. */
char *rt_ocr_result_text(const rt_ocr_result *res);

/* A 32 bpp copy of img with every word's box drawn (red; blue below conf 60),
 * for `vagt inspect --png`. NULL on failure. Free with pixDestroy. */
struct Pix *rt_ocr_draw(struct Pix *img, const rt_ocr_result *res);

/* Text inside a rectangle of img (clipped to it), rows joined with '\n' (as
 * rt_ocr_result_text).
 * malloc'd, "" when nothing is there; NULL on error (err says). */
char *rt_ocr_read(rt_ocr *ocr, struct Pix *img, rt_ocr_box box, const rt_ocr_opts *opts, char *err,
                  size_t errlen);

typedef struct {
  int ignore_case; /* case-insensitive (ASCII and Latin-1 letters: æøå/ÆØÅ) */
  int nth;         /* 1-based: the nth match in reading order; 0 = unset */
  int has_near;    /* 1: take the match whose centre is nearest (near_x, near_y) */
  int near_x, near_y;
  int has_region; /* 1: only matches whose centre lies inside region */
  rt_ocr_box region;
  int whole_entry; /* 1: a menu entry: of equally good matches, those that are the whole
                      text of their entry (nothing beside them on their line closer than
                      twice their height: an accelerator lies farther) are preferred, so
                      "Save" is File > Save, not "Save As..." */
} rt_ocr_find_opts;

typedef struct {
  rt_ocr_box box; /* union of the matched words' boxes */
  int cx, cy;     /* centre of box: where a click goes */
  float conf;     /* lowest confidence among the matched words */
  int line;
  size_t first_word; /* index into res->words */
  size_t nwords;
  char text[256]; /* the matched words as read, joined with spaces */
  int tier;       /* how it matched: 0 exact, 1 edge punctuation ignored,
                        2 a delimited part of a word, 3 OCR confusions tolerated */
} rt_ocr_match;

/* Find phrase (one or more words; whitespace between words) in res. A phrase
 * matches consecutive words on one line. Matches are ranked, and only the best
 * rank counts: 0 exact; 1 punctuation at the edges ignored ("Navn:" for
 * "Navn"); 2 a part of a word between delimiters ("wght" in "fmly-wght-slant");
 * 3 equal but for characters OCR confuses (I l 1 |, O 0: "In" for "ln"), or
 * one misread character per 5, for phrases of 5 or more characters
 * ("Bemærkninz" for "Bemærkning"). Returns RT_OCR_OK and fills *out;
 * RT_OCR_NOT_FOUND (err lists what the window shows); RT_OCR_AMBIGUOUS when
 * several matches are equally good and neither nth nor near decides (err lists
 * the candidates and their positions, never a guess); RT_OCR_ERROR.
 * opts may be NULL. */
int rt_ocr_find(const rt_ocr_result *res, const char *phrase, const rt_ocr_find_opts *opts,
                rt_ocr_match *out, char *err, size_t errlen);

/* All best-tier matches in reading order (honours region and ignore_case,
 * not nth/near). Returns how many there are; fills up to max. */
size_t rt_ocr_find_all(const rt_ocr_result *res, const char *phrase, const rt_ocr_find_opts *opts,
                       rt_ocr_match *out, size_t max);

/* Cache control and counters. */
void rt_ocr_cache_clear(rt_ocr *ocr);
typedef struct {
  unsigned long recognitions; /* Tesseract calls made */
  unsigned long screened;     /* of which screening readings (find's English look) */
  unsigned long blob_hits;    /* blobs answered from the cache */
  unsigned long image_hits;   /* whole images answered from the cache */
  size_t cache_entries;
  int omp_limited; /* 0: OMP_THREAD_LIMIT was not set when rt_ocr_new ran, so
                                 Tesseract uses all OpenMP threads (several times slower);
                                 call rt_ocr_reexec_single_thread(argv) in main() */
  int threads;     /* recognition threads */
} rt_ocr_stats;
void rt_ocr_get_stats(const rt_ocr *ocr, rt_ocr_stats *st);

/* The characters the loaded models can produce (ocr_charset.c): sorted code points. */
typedef struct {
  uint32_t *cp;
  size_t n, cap;
} rt_ocr_charset;
/* Adds the characters of a .traineddata file's unicharset held in memory (LSTM, else
 * legacy). -1 when the data is not such a file. */
int rt_ocr_charset_parse(const unsigned char *data, size_t len, rt_ocr_charset *cs);
void rt_ocr_charset_free(rt_ocr_charset *cs);
/* 1 when phrase holds a character none of ocr's models can produce (spaces aside): the
 * first such character (UTF-8) is written to ch. 0 also when the models' characters are
 * not known. */
int rt_ocr_unreadable(const rt_ocr *ocr, const char *phrase, char *ch, size_t n);
/* What a word read as one character may really be (its known confusions: "9" for "g"),
 * space-separated into out; returns how many. A phrase of one of them is read again with
 * care when looked for (rt_ocr_opts.hint). */
size_t rt_ocr_maybe(const char *text, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
