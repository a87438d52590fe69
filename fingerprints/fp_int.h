/* Internal helpers shared by the fingerprint engine's files (not public). */
#ifndef VAGT_FP_INT_H
#define VAGT_FP_INT_H

#include "fp.h"

#define FP_ALPHA_MASK 0xffffff00u /* Leptonica RGBA word: RGB bits only */

char *fp__strdup(const char *s);
int fp__has_alnum(const char *s);

int fp__rect_intersects(fp_rect a, fp_rect b);
fp_rect fp__rect_and(fp_rect a, fp_rect b);
/* r bounded to the image {0, 0, w, h} (empty: w or h 0). */
fp_rect fp__rect_clip(fp_rect r, int w, int h);
long fp__rect_area(fp_rect r);
int fp__rect_contains_point(fp_rect r, int x, int y);

/* Fills err (may be NULL) with code and the message; returns code. */
int fp__seterr(fp_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int fp__verdict_reason(fp_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fp__verdict_rect(fp_verdict *v, fp_rect r);

int fp__copy_words(fp_word **dst, int *ndst, const fp_word *src, int n);
void fp__free_words(fp_word *w, int n);

/* Words joined into phrases along their line (a gap of at most their height, or 8 px),
 * not across a line drawn between them on pix (NULL: format 2's rule, which did not
 * look): the unit of anchors ("Gem journal"). *out malloc'd with its texts; returns the
 * count, -1 if no memory. */
int fp__phrases(const fp_word *w, int n, PIX *pix, fp_word **out);
/* Whether OCR word w reads as one of the n words the robot typed (edge punctuation
 * aside, a slip tolerated in a long one). */
int fp__typed_word(const char *w, const char *const *typed, int n);

/* Whether a line is drawn on pix between box a and box b to its right (NULL: no). */
int fp__divided(PIX *pix, fp_rect a, fp_rect b);

/* 32 bpp view of pix: a clone when already 32 bpp, else a conversion. */
PIX *fp__to32(PIX *pix);

/* pixelmatch-style YIQ squared distance between two Leptonica RGB words. */
double fp__yiq_delta(uint32_t a, uint32_t b);
/* threshold (0..1) -> maximum allowed delta. */
double fp__max_delta(double threshold);

/* Cell-grid comparison of two equally sized 32 bpp images with masks.
 * changed (cols*rows) gets 1 for changed cells; skipped (may be NULL) 1 for
 * masked or learned cells. FP_MASK_ROBOT masks skip whole cells, except
 * cells that touch a box in protect (the recorded anchors). Fills the cell
 * counts in v. */
int fp__compare_cells(PIX *ref, PIX *cur, const uint8_t *learned, const fp_mask *m1, int n1,
                      const fp_mask *m2, int n2, const fp_word *protect, int nprotect,
                      const fp_options *opt, uint8_t *changed, uint8_t *skipped, fp_verdict *v);
/* Merge changed cells into rectangles (8-connected), appended to v. */
int fp__cells_to_rects(const uint8_t *changed, int cols, int rows, int w, int h, fp_verdict *v);

/* What identifies a window of a scene when two scenes are paired. */
typedef struct fp__winkey {
  fp_win_role role;
  const char *cls, *name;
  int x, y, w, h, front;
} fp__winkey;
/* Pairs base windows with current ones (both front-most first): same role,
 * class, size and title; then same role, class and size; then same role and
 * class. bm[i] = index into c or -1; cm[j] = index into b or -1. */
void fp__match_layers(const fp__winkey *b, int nb, const fp__winkey *c, int nc, int *bm, int *cm);
/* name when the baseline holds it as a title (its own or a layer's), else NULL: a title
 * not recorded may name a citizen or a case, so reasons quote only recorded ones. */
const char *fp__static_title(const fp_fingerprint *base, const char *name);
/* Appends the reasons, rectangles and cell counts of a window's verdict to v:
 * reasons prefixed with label (none when NULL or ""), rectangles offset by
 * (dx, dy). */
int fp__verdict_absorb(fp_verdict *v, const fp_verdict *sub, const char *label, int dx, int dy);

/* A regular file of at most limit bytes, read without blocking on a FIFO;
 * *data is NUL-terminated, malloc'd. */
int fp__file_read(const char *path, size_t limit, char **data, size_t *size, fp_error *err);

/* Test hook of fp_recording_commit (and so fp_store_save): called with "entries
 * staged" (before the switch), "recording switched" (after it) and "entry moved"
 * (the first entry moved into place); a nonzero return stops the commit there, as
 * a crash would, and leaves the staging folder. NULL in production. */
extern int (*fp__store_fault)(const char *step);

/* Most frequent colour (0xRRGGBB) of an image, sampled. */
uint32_t fp__mode_colour(PIX *pix32);

#endif
