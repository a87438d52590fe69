/* form.h - synthetic legacy-form window images for the fingerprint tests,
 * drawn with Leptonica (rectangles and bitmap-font text), plus the OCR words,
 * field masks and the other windows of the scene a capture would come with. */
#ifndef FP_TEST_FORM_H
#define FP_TEST_FORM_H

#include "fp.h"

enum form_variant {
  V_NORMAL,
  V_RENAMED,
  V_SWAPPED,
  V_BANNER,
  V_INSERTED,
  V_REMOVED,
  V_NOBUTTON,
  V_WHATSNEW,
  V_FONT,
  V_THEME,
  V_BIGGER,
  V_ONECHAR
};

typedef struct form_spec {
  enum form_variant variant;
  const char *data[5]; /* field contents, NULL = empty */
  const char *clock;   /* NULL = "12:00:00" */
  int caret;           /* draw a caret in the first field */
  int win_x, win_y;    /* window position on the screen */
} form_spec;

#define FORM_MAX_WORDS 64
/* Words are all given as FP_WORD_LABEL, as OCR gives them: fp_compute must
 * tell the framed ones (Gem, Annuller) as buttons itself. */
typedef struct form {
  PIX *pix;
  fp_word words[FORM_MAX_WORDS];
  int n_words;
  fp_mask masks[16]; /* field interiors (typed) + clock (declared) */
  int n_masks;
  fp_rect clock; /* clock region */
  char *title;   /* the target's title */
  PIX *dialog;   /* V_WHATSNEW: a dialog in front, as a layer */
  fp_input layers[1];
  int n_layers;
  int label_x, label_y[6]; /* label box top-left per row (for asserts) */
} form;

void form_make(const form_spec *spec, form *f);
void form_free(form *f);
/* fp_input for this form; masks: 0 none, 1 fields only, 2 fields + clock */
fp_input form_input(const form *f, int with_words, int masks);
/* word box of a text in f (first match), or {0} */
fp_rect form_word(const form *f, const char *text);

#endif
