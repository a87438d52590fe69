/* test_demo.c - real captures of tests/apps/vagt-demo-app (Xvfb, Athena
 * widgets) and real Tesseract words for them, kept as small fixtures
 * (fixtures/demo, made by capture.sh): every vendor-update variant is a
 * drift with the right reason, the benign ones match. */
#include "test_util.h"

#include <stdlib.h>

#ifndef FP_FIXTURES
#error FP_FIXTURES must name the fixtures folder
#endif

/* baseline masks: the six field interiors and the status bar (clock) */
static const fp_mask MASKS[] = {
    {{178, 26, 138, 22}, FP_MASK_TYPED},   {{178, 60, 398, 22}, FP_MASK_TYPED},
    {{178, 94, 398, 22}, FP_MASK_TYPED},   {{178, 128, 68, 22}, FP_MASK_TYPED},
    {{178, 162, 298, 22}, FP_MASK_TYPED},  {{178, 196, 438, 22}, FP_MASK_TYPED},
    {{0, 374, 640, 26}, FP_MASK_DECLARED},
};
#define NMASKS ((int)(sizeof MASKS / sizeof MASKS[0]))

typedef struct {
  fp_word w[128];
  int n;
} words;

static PIX *load_png(const char *name)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s.png", FP_FIXTURES, name);
  PIX *pix = pixRead(p);
  if (!pix)
    fail_msg("cannot read %s", p);
  return pix;
}

/* Tesseract TSV of a 2x upscaled capture -> window coordinates */
static void load_words(const char *name, words *out)
{
  char p[512], line[2048];
  snprintf(p, sizeof p, "%s/%s.tsv", FP_FIXTURES, name);
  FILE *f = fopen(p, "r");
  if (!f)
    fail_msg("cannot read %s", p);
  out->n = 0;
  while (fgets(line, sizeof line, f) && out->n < 128) {
    int level, x, y, w, h;
    float conf;
    char text[512];
    line[strcspn(line, "\r\n")] = 0;
    if (sscanf(line, "%d\t%*d\t%*d\t%*d\t%*d\t%*d\t%d\t%d\t%d\t%d\t%f\t%511[^\n]", &level, &x, &y,
               &w, &h, &conf, text) != 7)
      continue;
    fp_word *wd = &out->w[out->n++];
    wd->text = strdup(text);
    wd->box = (fp_rect){(x + 1) / 2, (y + 1) / 2, (w + 1) / 2, (h + 1) / 2};
    wd->conf = conf;
    wd->kind = FP_WORD_LABEL; /* OCR does not know; fp_compute tells buttons */
  }
  fclose(f);
}

static void free_words(words *w)
{
  for (int i = 0; i < w->n; i++)
    free(w->w[i].text);
  w->n = 0;
}

/* The "what's new" dialog of the demo app: a window of its own in front of the form. */
static const fp_rect DIALOG = {131, 116, 364, 156};

static fp_fingerprint *base;

static int setup(void **state)
{
  (void)state;
  words w;
  PIX *p = load_png("normal");
  load_words("normal", &w);
  fp_input in = {0};
  in.image = p;
  in.win_class = "VagtDemo";
  in.win_name = "Sagsregistrering";
  in.words = w.w;
  in.n_words = w.n;
  in.has_words = 1;
  in.masks = MASKS;
  in.n_masks = NMASKS;
  int rc = fp_compute(&in, "demo.lua:cpr:1:type", NULL, &base);
  pixDestroy(&p);
  free_words(&w);
  return rc;
}

static int teardown(void **state)
{
  (void)state;
  fp_fingerprint_free(base);
  return 0;
}

/* judge a capture: fast path (no words), then with words if there are any */
static void judge(const char *name, int whatsnew, fp_verdict *fast, fp_verdict *full)
{
  PIX *p = load_png(name);
  BOX *db = boxCreate(DIALOG.x, DIALOG.y, DIALOG.w, DIALOG.h);
  PIX *dp = pixClipRectangle(p, db, NULL);
  boxDestroy(&db);
  fp_input dialog = {.image = dp,
                     .win_class = "VagtDemo",
                     .win_name = "Nyheder i version 2.0",
                     .role = FP_WIN_DIALOG,
                     .x = DIALOG.x,
                     .y = DIALOG.y,
                     .front = 1};
  fp_mask cover = {DIALOG, FP_MASK_OCCLUDED};
  fp_input in = {0};
  in.image = p;
  in.win_class = "VagtDemo";
  in.win_name = "Sagsregistrering";
  if (whatsnew) {
    in.layers = &dialog;
    in.n_layers = 1;
    in.masks = &cover;
    in.n_masks = 1;
  }
  assert_int_equal(fp_compare(base, &in, NULL, fast), FP_OK);
  if (full) {
    words w;
    load_words(name, &w);
    in.words = w.w;
    in.n_words = w.n;
    in.has_words = 1;
    assert_int_equal(fp_compare(base, &in, NULL, full), FP_OK);
    free_words(&w);
  }
  pixDestroy(&dp);
  pixDestroy(&p);
}

static void test_anchors_from_real_ocr(void **state)
{
  (void)state;
  /* confident words outside masks: labels and buttons, not the clock;
     * the Xaw Command widgets' frames make their words buttons */
  int found = 0, buttons = 0;
  for (int i = 0; i < base->n_anchors; i++) {
    const fp_word *a = &base->anchors[i];
    assert_string_not_equal(a->text, "Klar");
    if (!strcmp(a->text, "CPR-nummer")) {
      found++;
      assert_int_equal(a->kind, FP_WORD_LABEL);
    }
    if (!strcmp(a->text, "Annuller") || !strcmp(a->text, "Gen")) {
      buttons++;
      assert_int_equal(a->kind, FP_WORD_BUTTON);
    }
  }
  assert_int_equal(found, 1);
  assert_int_equal(buttons, 2);
  for (int i = 0; i < base->n_anchors; i++)
    if (base->anchors[i].kind == FP_WORD_BUTTON)
      assert_true(!strcmp(base->anchors[i].text, "Annuller") ||
                  !strcmp(base->anchors[i].text, "Gen"));
}

static void test_benign_second_start(void **state)
{
  (void)state;
  fp_verdict fast;
  judge("normal2", 0, &fast, NULL); /* another start, clock moved on */
  assert_match(&fast);
  fp_verdict_free(&fast);
}

static void test_benign_prefilled_data_and_ocr_noise(void **state)
{
  (void)state;
  fp_verdict fast, full;
  judge("prefill", 0, &fast, &full);
  assert_match(&fast);
  assert_match(&full); /* OCR reads the button differently: pixels decide */
  fp_verdict_free(&fast);
  fp_verdict_free(&full);
}

#define MUTATION(fn, name, wn, r1, r2)                                                             \
  static void fn(void **state)                                                                     \
  {                                                                                                \
    (void)state;                                                                                   \
    fp_verdict fast, full;                                                                         \
    judge(name, wn, &fast, &full);                                                                 \
    assert_drift(&fast);                                                                           \
    assert_drift(&full);                                                                           \
    assert_reason(&full, r1);                                                                      \
    if (r2)                                                                                        \
      assert_reason(&full, (const char *)r2);                                                      \
    fp_verdict_free(&fast);                                                                        \
    fp_verdict_free(&full);                                                                        \
  }

MUTATION(test_swapped, "swapped", 0,
         "labels 'Navn' and 'Adresse' swapped: 'Navn' moved from (25,68) to (25,102), "
         "'Adresse' from (25,102) to (25,68)",
         NULL)
MUTATION(test_renamed, "renamed", 0, "label 'Navn' now reads 'Fulde navn' at (25,68)", NULL)
MUTATION(test_banner, "banner", 0, "7 labels moved down by 40 px",
         "label 'CPR-nummer' moved from (25,34) to (25,74)")
MUTATION(test_inserted, "inserted", 0, "new text 'Telefon' at (26,102)",
         "label 'Adresse' moved from (25,102) to (25,136)")
MUTATION(test_nobutton, "nobutton", 0, "button 'Gen' missing (was at (212,258))", NULL)
MUTATION(test_whatsnew, "whatsnew", 1, "new window in front at (131,116) 364x156", NULL)
MUTATION(test_font, "font", 0,
         "font changed (label boxes changed size, e.g. 'CPR-nummer' 69x9 -> 88x10)", NULL)
MUTATION(test_theme, "theme", 0, "colours/theme changed (background #ffffff -> #2f4f7f", NULL)

static void test_first_reason_is_the_cause(void **state)
{
  (void)state;
  /* the alert's one-line summary uses the first reason */
  fp_verdict fast, full;
  judge("theme", 0, &fast, &full);
  assert_non_null(strstr(full.reasons[0], "colours/theme changed"));
  assert_non_null(strstr(fast.reasons[0], "colours/theme changed"));
  fp_verdict_free(&fast);
  fp_verdict_free(&full);
  judge("whatsnew", 1, &fast, &full);
  assert_non_null(strstr(full.reasons[0], "new window"));
  fp_verdict_free(&fast);
  fp_verdict_free(&full);
  judge("font", 0, &fast, &full);
  assert_non_null(strstr(full.reasons[0], "font changed"));
  fp_verdict_free(&fast);
  fp_verdict_free(&full);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_anchors_from_real_ocr),
      cmocka_unit_test(test_benign_second_start),
      cmocka_unit_test(test_benign_prefilled_data_and_ocr_noise),
      cmocka_unit_test(test_swapped),
      cmocka_unit_test(test_renamed),
      cmocka_unit_test(test_banner),
      cmocka_unit_test(test_inserted),
      cmocka_unit_test(test_nobutton),
      cmocka_unit_test(test_whatsnew),
      cmocka_unit_test(test_font),
      cmocka_unit_test(test_theme),
      cmocka_unit_test(test_first_reason_is_the_cause),
  };
  return cmocka_run_group_tests_name("fp_demo_captures", tests, setup, teardown);
}
