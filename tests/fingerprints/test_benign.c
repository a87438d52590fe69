/* test_benign.c - ordinary differences must match: data in masked fields, a
 * clock (declared or learned), caret blink, window position / pointer. Each
 * has a control showing the same difference is caught without its mask. */
#include "form.h"
#include "test_util.h"

#include <stdlib.h>

static const form_spec BASE = {
    V_NORMAL, {"0101701234", "Jens Hansen", "Vestergade 1", "8000"}, "12:00:00", 0, 10, 10};

static fp_fingerprint *baseline(int masks)
{
  form f;
  fp_fingerprint *fp = NULL;
  form_make(&BASE, &f);
  fp_input in = form_input(&f, 1, masks);
  assert_int_equal(fp_compute(&in, "k", NULL, &fp), FP_OK);
  form_free(&f);
  return fp;
}

static void judge(fp_fingerprint *base, const form_spec *s, int with_words, int cur_masks,
                  fp_verdict *v)
{
  form f;
  form_make(s, &f);
  fp_input in = form_input(&f, with_words, cur_masks);
  assert_int_equal(fp_compare(base, &in, NULL, v), FP_OK);
  form_free(&f);
}

static void test_identical_fast_path(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(2);
  fp_verdict v;
  judge(b, &BASE, 0, 0, &v);
  assert_match(&v);
  assert_int_equal(v.n_reasons, 0);
  assert_int_equal(v.cells_changed, 0);
  assert_int_equal(v.cells_total, 40 * 25);
  fp_verdict_free(&v);
  judge(b, &BASE, 1, 0, &v); /* with OCR: every anchor found in place */
  assert_match(&v);
  assert_int_equal(v.anchors_checked, 7);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

static void test_different_data_in_masked_fields(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(2);
  form_spec s = BASE;
  s.data[0] = "3112999999";
  s.data[1] = "Karen Margrethe Kristiansen";
  s.data[2] = NULL;
  s.data[3] = "2100";
  fp_verdict v;
  judge(b, &s, 1, 1, &v); /* masks come from the baseline and the run */
  assert_match(&v);
  fp_verdict_free(&v);
  judge(b, &s, 0, 0, &v); /* baseline masks alone suffice */
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
  /* control: without field masks the same data is a drift */
  b = baseline(0);
  judge(b, &s, 0, 0, &v);
  assert_drift(&v);
  assert_true(v.cells_changed > 0);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

static void test_clock_declared_region(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(2);
  form_spec s = BASE;
  s.clock = "23:59:58";
  fp_verdict v;
  judge(b, &s, 1, 0, &v);
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
  /* control: fields masked but the clock not */
  b = baseline(1);
  judge(b, &s, 0, 0, &v);
  assert_drift(&v);
  assert_reason(&v, "region (560,0,");
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

static void test_clock_declared_by_run(void **state)
{
  (void)state;
  /* the script's w:ignore{} arrives with the current input, not the baseline */
  fp_fingerprint *b = baseline(1);
  form_spec s = BASE;
  s.clock = "08:15:00";
  fp_verdict v;
  judge(b, &s, 0, 2, &v);
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

/* A clock nobody declared reads differently at the second recording: refused, naming it
 * (it could be a renamed label); declared, it merges and stays out of the way, and the
 * rest is still watched. */
static void test_clock_refused_until_declared(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(1), *rec = NULL, *merged = NULL;
  form f;
  form_spec s = BASE;
  s.clock = "12:07:31";
  form_make(&s, &f);
  fp_input in = form_input(&f, 1, 1);
  assert_int_equal(fp_compute(&in, "k", NULL, &rec), FP_OK);
  form_free(&f);
  fp_verdict why;
  assert_int_equal(fp_merge(b, rec, NULL, &merged, &why), FP_ERR_REFUSED);
  assert_reason(&why, "now reads '12:07:31'");
  fp_verdict_free(&why);
  fp_fingerprint_free(rec);
  fp_fingerprint_free(b);
  b = baseline(2);
  form_make(&s, &f);
  in = form_input(&f, 1, 2);
  assert_int_equal(fp_compute(&in, "k", NULL, &rec), FP_OK);
  form_free(&f);
  assert_int_equal(fp_merge(b, rec, NULL, &merged, &why), FP_OK);
  fp_verdict_free(&why);
  assert_int_equal(merged->recordings, 2);
  s.clock = "19:48:02";
  fp_verdict v;
  judge(merged, &s, 0, 0, &v);
  assert_match(&v);
  fp_verdict_free(&v);
  /* the declared clock did not weaken the rest: a rename still drifts */
  s.variant = V_ONECHAR;
  judge(merged, &s, 0, 0, &v);
  assert_drift(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(merged);
  fp_fingerprint_free(rec);
  fp_fingerprint_free(b);
}

static void test_caret_blink_inside_field_mask(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(2);
  form_spec s = BASE;
  s.caret = 1;
  fp_verdict v;
  judge(b, &s, 0, 0, &v);
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
  b = baseline(0); /* control */
  judge(b, &s, 0, 0, &v);
  assert_drift(&v);
  assert_in_range(v.cells_changed, 1, 2);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

static void test_window_position_and_pointer(void **state)
{
  (void)state;
  /* A capture is window-relative and XGetImage has no cursor: another
     * screen position gives the same window image; only the top-level
     * list's coordinates differ. */
  fp_fingerprint *b = baseline(2);
  form_spec s = BASE;
  s.win_x = 733;
  s.win_y = 411;
  fp_verdict v;
  judge(b, &s, 1, 1, &v);
  assert_match(&v);
  assert_int_equal(v.windows_new + v.windows_missing, 0);
  fp_verdict_free(&v);
  fp_fingerprint_free(b);
}

static void test_alpha_byte_ignored(void **state)
{
  (void)state;
  /* captures may carry 0 or 255 in the unused byte: not a change */
  fp_fingerprint *b = baseline(2);
  form f;
  form_make(&BASE, &f);
  pixSetComponentArbitrary(f.pix, L_ALPHA_CHANNEL, 0x5a);
  fp_input in = form_input(&f, 0, 0);
  fp_verdict v;
  assert_int_equal(fp_compare(b, &in, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  form_free(&f);
  /* and a real change is still seen on that path */
  form_spec s = BASE;
  s.variant = V_ONECHAR;
  form_make(&s, &f);
  pixSetComponentArbitrary(f.pix, L_ALPHA_CHANNEL, 0x5a);
  in = form_input(&f, 0, 0);
  assert_int_equal(fp_compare(b, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  fp_verdict_free(&v);
  form_free(&f);
  fp_fingerprint_free(b);
}

static void test_title_with_data_is_not_a_new_window(void **state)
{
  (void)state;
  fp_fingerprint *b = baseline(2);
  form f;
  form_make(&BASE, &f);
  free(f.title);
  f.title = strdup("Borgerregister - Jens Hansen");
  fp_input in = form_input(&f, 0, 0);
  fp_verdict v;
  assert_int_equal(fp_compare(b, &in, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  form_free(&f);
  fp_fingerprint_free(b);
}

static void test_row_check_region(void **state)
{
  (void)state;
  /* the step's own label row: words from one row, anchors elsewhere are
     * not reported missing */
  fp_fingerprint *b = baseline(2);
  form f;
  form_make(&BASE, &f);
  fp_word row[8];
  int n = 0;
  for (int i = 0; i < f.n_words && n < 8; i++)
    if (f.words[i].box.y == f.label_y[1])
      row[n++] = f.words[i];
  assert_true(n >= 1);
  fp_input in = form_input(&f, 0, 0);
  in.words = row;
  in.n_words = 1; /* the label only */
  in.has_words = 1;
  in.words_region = (fp_rect){0, f.label_y[1] - 4, 640, 26};
  fp_verdict v;
  assert_int_equal(fp_compare(b, &in, NULL, &v), FP_OK);
  assert_match(&v);
  assert_int_equal(v.anchors_checked, 1);
  fp_verdict_free(&v);
  form_free(&f);
  fp_fingerprint_free(b);
}

/* A stored reference blanks the data under the robot's masks (FP_BLANK_PIXEL) but keeps
 * the pixels the comparison checks around an anchor those masks touch (fp_anchor_checked):
 * the unchanged screen matches. References stored before kept the anchor's box only (the
 * ring grey): they match too. A label there that changes by a letter still drifts. */
static void test_blanked_reference_matches(void **state)
{
  (void)state;
  form f;
  form_make(&BASE, &f);
  fp_rect navn = form_word(&f, "Navn");
  assert_true(navn.w > 0);
  /* the robot's input changed a band down to the label's top rows (a list opened above
   * it): a label less than half under it stays an anchor */
  fp_mask robot = {{0, navn.y - 20, pixGetWidth(f.pix), 23}, FP_MASK_ROBOT};
  fp_input in = form_input(&f, 1, 0);
  in.masks = &robot;
  in.n_masks = 1;
  for (int ring = 0; ring < 2; ring++) {
    fp_fingerprint *fp = NULL;
    assert_int_equal(fp_compute(&in, "k", NULL, &fp), FP_OK);
    PIX *orig = pixCopy(NULL, fp->image);
    BOX *b = boxCreate(robot.r.x, robot.r.y, robot.r.w, robot.r.h);
    pixSetInRectArbitrary(fp->image, b, FP_BLANK_PIXEL);
    boxDestroy(&b);
    for (int i = 0; i < fp->n_anchors; i++) {
      fp_rect k = ring
                      ? fp_anchor_checked(fp->anchors[i].box, pixGetWidth(orig), pixGetHeight(orig))
                      : fp->anchors[i].box;
      pixRasterop(fp->image, k.x, k.y, k.w, k.h, PIX_SRC, orig, k.x, k.y);
    }
    pixDestroy(&orig);
    fp_verdict v;
    fp_input cur = form_input(&f, 1, 0);
    assert_int_equal(fp_compare(fp, &cur, NULL, &v), FP_OK);
    assert_match(&v);
    fp_verdict_free(&v);
    form g;
    form_spec rs = BASE;
    rs.variant = V_ONECHAR; /* "Navm" */
    form_make(&rs, &g);
    cur = form_input(&g, 1, 0);
    assert_int_equal(fp_compare(fp, &cur, NULL, &v), FP_OK);
    assert_drift(&v);
    fp_verdict_free(&v);
    form_free(&g);
    fp_fingerprint_free(fp);
  }
  form_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identical_fast_path),
      cmocka_unit_test(test_different_data_in_masked_fields),
      cmocka_unit_test(test_clock_declared_region),
      cmocka_unit_test(test_clock_declared_by_run),
      cmocka_unit_test(test_clock_refused_until_declared),
      cmocka_unit_test(test_caret_blink_inside_field_mask),
      cmocka_unit_test(test_window_position_and_pointer),
      cmocka_unit_test(test_alpha_byte_ignored),
      cmocka_unit_test(test_title_with_data_is_not_a_new_window),
      cmocka_unit_test(test_row_check_region),
      cmocka_unit_test(test_blanked_reference_matches),
  };
  return cmocka_run_group_tests_name("fp_benign", tests, NULL, NULL);
}
