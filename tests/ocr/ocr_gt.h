/* Ground-truth files for the OCR fixtures, shared by the tests and the benchmark.
 * A .gt file lists "x y w h text" per line ('#' comments): the text must be
 * found by rt_ocr_find with its centre inside that box. */
#ifndef OCR_GT_H
#define OCR_GT_H
#include "rt_ocr.h"
#include <stdio.h>

typedef struct {
  rt_ocr_box box;
  char text[128];
} gt_item;

typedef struct {
  gt_item *items;
  int n;
} gt_list;

int gt_load(const char *path, gt_list *out); /* 0 ok */
void gt_free(gt_list *g);

typedef struct {
  int total;
  int found;        /* plain find: one match, in the box */
  int found_region; /* ambiguous at first; found when the script narrows with region */
  int wrong_place;  /* found, but outside the box */
  int missing;      /* not found at all */
} gt_score;

/* Score res against g; prints every miss to log when log != NULL. */
void gt_score_result(const rt_ocr_result *res, const gt_list *g, gt_score *s, FILE *log);
/* The same, each label looked for as w:find_text does: img read with the label as
 * hint (the cache of o shared between labels), then found. */
struct Pix;
void gt_score_find(rt_ocr *o, struct Pix *img, const gt_list *g, gt_score *s, FILE *log);
#endif
