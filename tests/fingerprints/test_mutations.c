/* test_mutations.c - each vendor-update kind must be a drift with the right
 * reason and coordinates; first with OCR words (explain), then on the fast
 * path (cells only). */
#include "form.h"
#include "test_util.h"

#include <stdlib.h>
#include <unistd.h>

static const form_spec BASE = {
    V_NORMAL, {"0101701234", "Jens Hansen", "Vestergade 1", "8000"}, "12:00:00", 0, 10, 10};

typedef struct {
  form base_form;
  fp_fingerprint *base;
} ctx;

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  form_make(&BASE, &c->base_form);
  fp_input in = form_input(&c->base_form, 1, 2);
  if (fp_compute(&in, "demo:step1:type", NULL, &c->base) != FP_OK)
    return -1;
  *state = c;
  return 0;
}

static int teardown(void **state)
{
  ctx *c = *state;
  fp_fingerprint_free(c->base);
  form_free(&c->base_form);
  free(c);
  return 0;
}

/* variant with other data in the fields (benign on top of the mutation) */
static void variant(enum form_variant var, form *f)
{
  form_spec s = {var, {"1212801111", "Anna Berg", "Norregade 22", "9000"}, "12:01:07", 0, 300, 200};
  form_make(&s, f);
}

/* compare with words and without; both must drift */
static void judge(ctx *c, form *f, fp_verdict *with, fp_verdict *fast)
{
  fp_input in = form_input(f, 1, 1);
  assert_int_equal(fp_compare(c->base, &in, NULL, with), FP_OK);
  assert_drift(with);
  in = form_input(f, 0, 1);
  assert_int_equal(fp_compare(c->base, &in, NULL, fast), FP_OK);
  assert_drift(fast);
}

static void test_label_renamed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_RENAMED, &f);
  judge(c, &f, &v, &fast);
  char want[128];
  snprintf(want, sizeof want, "label 'Navn' now reads 'Fulde navn' at (12,%d)",
           c->base_form.label_y[1]);
  assert_reason(&v, want);
  assert_int_equal(v.anchors_renamed, 1);
  assert_int_equal(v.anchors_moved, 0);
  assert_true(any_rect_hits(&fast, form_word(&c->base_form, "Navn")));
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_one_char_rename_fast_path(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_ONECHAR, &f);
  judge(c, &f, &v, &fast);
  assert_reason(&v, "label 'Navn' now reads 'Navm'");
  /* fast path: exactly the label's cells, reported as a region */
  fp_rect navn = form_word(&c->base_form, "Navn");
  assert_true(any_rect_hits(&fast, navn));
  assert_int_equal(fast.n_changed, 1);
  assert_in_range(fast.cells_changed, 1, 4);
  assert_reason(&fast, "region (");
  assert_reason(&fast, ") changed, at label 'Navn'"); /* where, by the recorded label */
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_fields_swapped(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_SWAPPED, &f);
  judge(c, &f, &v, &fast);
  char want[256];
  int y0 = c->base_form.label_y[0], y1 = c->base_form.label_y[1];
  snprintf(want, sizeof want,
           "labels 'CPR-nummer' and 'Navn' swapped: 'CPR-nummer' moved from "
           "(12,%d) to (12,%d), 'Navn' from (12,%d) to (12,%d)",
           y0, y1, y1, y0);
  assert_reason(&v, want);
  assert_int_equal(v.anchors_moved, 2);
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_field_moved_by_banner(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_BANNER, &f);
  judge(c, &f, &v, &fast);
  char want[128];
  int y0 = c->base_form.label_y[0];
  snprintf(want, sizeof want, "label 'CPR-nummer' moved from (12,%d) to (12,%d)", y0, y0 + 40);
  assert_reason(&v, want);
  assert_reason(&v, "new text 'Ny version tilgaengelig' at (12,");
  assert_reason(&v, "4 labels moved down by 40 px");
  assert_int_equal(v.anchors_moved, 4);
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_field_inserted(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_INSERTED, &f);
  judge(c, &f, &v, &fast);
  char want[128];
  snprintf(want, sizeof want, "new text 'Telefon' at (12,%d)", c->base_form.label_y[2]);
  assert_reason(&v, want);
  /* the inserted label leads: it says why the ones below it moved */
  if (v.n_reasons < 1 || strcmp(v.reasons[0], want) != 0) {
    dump_verdict("inserted", &v);
    fail_msg("the first reason is not the new text");
  }
  snprintf(want, sizeof want, "label 'Adresse' moved from (12,%d) to (12,%d)",
           c->base_form.label_y[2], c->base_form.label_y[3]);
  assert_reason(&v, want);
  assert_int_equal(v.anchors_moved, 2); /* Adresse, Postnummer */
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_field_removed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_REMOVED, &f);
  judge(c, &f, &v, &fast);
  char want[128];
  snprintf(want, sizeof want, "label 'Adresse' not found (was at (12,%d))",
           c->base_form.label_y[2]);
  assert_reason(&v, want);
  snprintf(want, sizeof want, "label 'Postnummer' moved from (12,%d) to (12,%d)",
           c->base_form.label_y[3], c->base_form.label_y[2]);
  assert_reason(&v, want);
  assert_int_equal(v.anchors_missing, 1);
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_button_removed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_NOBUTTON, &f);
  judge(c, &f, &v, &fast);
  fp_rect gem = form_word(&c->base_form, "Gem");
  char want[128];
  snprintf(want, sizeof want, "button 'Gem' missing (was at (%d,%d))", gem.x, gem.y);
  assert_reason(&v, want);
  assert_true(any_rect_hits(&fast, gem));
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_buttons_told_by_their_frame(void **state)
{
  ctx *c = *state;
  for (int i = 0; i < c->base->n_anchors; i++) {
    const fp_word *a = &c->base->anchors[i];
    int button = !strcmp(a->text, "Gem") || !strcmp(a->text, "Annuller");
    if (a->kind != (button ? FP_WORD_BUTTON : FP_WORD_LABEL))
      fail_msg("'%s' taken for a %s", a->text, a->kind == FP_WORD_BUTTON ? "button" : "label");
  }
}

static void test_new_dialog_window(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_WHATSNEW, &f);
  judge(c, &f, &v, &fast);
  assert_reason(&v, "new window in front at (120,100) 400x200");
  assert_no_reason(&v, "Nyheder"); /* a title not recorded may name a citizen */
  assert_reason(&fast, "new window in front");
  assert_int_equal(fast.windows_new, 1);
  assert_int_equal(fast.cells_changed, 0); /* L1 alone caught it */
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_font_changed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_FONT, &f);
  judge(c, &f, &v, &fast);
  assert_reason(&v, "font changed (label boxes changed size");
  assert_false(has_reason(&v, "colours/theme"));
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_colour_theme_changed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_THEME, &f);
  judge(c, &f, &v, &fast);
  assert_reason(&v, "colours/theme changed (background #d9d9d9 -> #2b3a4a");
  assert_reason(&fast, "colours/theme changed (background #d9d9d9 -> #2b3a4a");
  assert_int_equal(v.anchors_moved + v.anchors_renamed + v.anchors_missing, 0);
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_window_size_changed(void **state)
{
  ctx *c = *state;
  form f;
  fp_verdict v, fast;
  variant(V_BIGGER, &f);
  judge(c, &f, &v, &fast);
  assert_reason(&fast, "window size 640x400 -> 640x440");
  assert_int_equal(fast.size_changed, 1);
  fp_verdict_free(&v);
  fp_verdict_free(&fast);
  form_free(&f);
}

static void test_other_window_many_labels_missing(void **state)
{
  /* a different (blank) window in the target's place: one summary reason,
     * not a line per label */
  ctx *c = *state;
  PIX *blank = pixCreate(640, 400, 32);
  pixSetAllArbitrary(blank, 0xf0f0f000);
  fp_input in = form_input(&c->base_form, 0, 0);
  in.image = blank;
  in.has_words = 1; /* OCR ran and found nothing */
  in.words = NULL;
  in.n_words = 0;
  fp_verdict v;
  assert_int_equal(fp_compare(c->base, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  assert_reason(&v, "7 of 7 labels not found: 'Borgerregister' (12,8), 'CPR-nummer' (12,44)");
  assert_false(has_reason(&v, "label 'Navn' not found"));
  assert_int_equal(v.anchors_missing, 7);
  fp_verdict_free(&v);
  pixDestroy(&blank);
}

static void test_class_changed(void **state)
{
  ctx *c = *state;
  fp_verdict v;
  fp_input in = form_input(&c->base_form, 0, 1);
  in.win_class = "Xmessage";
  assert_int_equal(fp_compare(c->base, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  assert_reason(&v, "window class 'Borgerregister' -> 'Xmessage'");
  fp_verdict_free(&v);
}

/* Real anti-aliased text (ImageMagick, DejaVu Sans 13 pt): a one-character
 * rename must be caught on the fast path, an identical render must match. */
static void test_antialiased_one_char_rename(void **state)
{
  (void)state;
  if (system("command -v convert >/dev/null 2>&1") != 0)
    skip();
  char dir[] = "/tmp/fp-aa-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cmd[1024];
  const char *names[3] = {"CPR-nummer", "CPR-nummer", "CPR-numner"};
  for (int i = 0; i < 3; i++) {
    snprintf(cmd, sizeof cmd,
             "convert -size 320x120 xc:'#d9d9d9' -font DejaVu-Sans -pointsize 13 "
             "-fill black -draw \"text 12,40 '%s'\" -draw \"text 12,80 'Navn'\" "
             "-type TrueColor PNG24:%s/%d.png",
             names[i], dir, i);
    if (system(cmd) != 0) {
      skip();
    }
  }
  PIX *img[3];
  for (int i = 0; i < 3; i++) {
    snprintf(cmd, sizeof cmd, "%s/%d.png", dir, i);
    img[i] = pixRead(cmd);
    assert_non_null(img[i]);
    unlink(cmd);
  }
  rmdir(dir);
  fp_input in = {0};
  in.image = img[0];
  fp_fingerprint *base = NULL;
  assert_int_equal(fp_compute(&in, "aa", NULL, &base), FP_OK);
  fp_verdict v;
  in.image = img[1];
  assert_int_equal(fp_compare(base, &in, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  in.image = img[2];
  assert_int_equal(fp_compare(base, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  /* "m" -> "n" is at about x 70..80, y 30..40 */
  fp_rect where = {60, 28, 30, 16};
  assert_true(any_rect_hits(&v, where));
  fp_verdict_free(&v);
  fp_fingerprint_free(base);
  for (int i = 0; i < 3; i++)
    pixDestroy(&img[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_label_renamed),
      cmocka_unit_test(test_one_char_rename_fast_path),
      cmocka_unit_test(test_fields_swapped),
      cmocka_unit_test(test_field_moved_by_banner),
      cmocka_unit_test(test_field_inserted),
      cmocka_unit_test(test_field_removed),
      cmocka_unit_test(test_button_removed),
      cmocka_unit_test(test_buttons_told_by_their_frame),
      cmocka_unit_test(test_new_dialog_window),
      cmocka_unit_test(test_font_changed),
      cmocka_unit_test(test_colour_theme_changed),
      cmocka_unit_test(test_window_size_changed),
      cmocka_unit_test(test_other_window_many_labels_missing),
      cmocka_unit_test(test_class_changed),
      cmocka_unit_test(test_antialiased_one_char_rename),
  };
  return cmocka_run_group_tests_name("fp_mutations", tests, setup, teardown);
}
