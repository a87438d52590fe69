/* test_merge.c - second recordings: data under masks merges, anchors kept
 * only when present in every recording, more-than-data refused with reasons
 * (a text that reads differently where no mask says it is data included);
 * the store's record call merges or refuses without touching the entry. */
#include "form.h"
#include "test_util.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const form_spec REC1 = {
    V_NORMAL, {"0101701234", "Jens Hansen", "Vestergade 1", "8000"}, "12:00:00", 0, 10, 10};
static const form_spec REC2 = {
    V_NORMAL, {"2412559876", "Ida Mortensen", "Algade 7", "4000"}, "12:03:41", 0, 40, 30};

/* fields masked as the robot's typing, the clock declared (masks 2), or
 * nothing masked (0): data the application shows by itself */
static fp_fingerprint *record_m(const form_spec *s, enum form_variant var, int masks)
{
  form_spec t = *s;
  t.variant = var;
  form f;
  form_make(&t, &f);
  fp_input in = form_input(&f, 1, masks);
  fp_fingerprint *fp = NULL;
  assert_int_equal(fp_compute(&in, "step", NULL, &fp), FP_OK);
  form_free(&f);
  return fp;
}

static fp_fingerprint *record(const form_spec *s, enum form_variant var)
{
  return record_m(s, var, 2);
}

/* Text that reads differently where nothing says it is data is refused: it could be a
 * renamed label, and learning it would stop watching it. */
static void test_unmasked_data_refused(void **state)
{
  (void)state;
  fp_fingerprint *a = record_m(&REC1, V_NORMAL, 0), *b = record_m(&REC2, V_NORMAL, 0), *m = NULL;
  fp_verdict why;
  assert_int_equal(fp_merge(a, b, NULL, &m, &why), FP_ERR_REFUSED);
  assert_reason(&why, "label 'Jens Hansen' now reads 'Ida Mortensen'");
  assert_reason(&why, "label '12:00:00' now reads '12:03:41'");
  assert_true(why.n_changed > 0); /* the regions a w:ignore hint names */
  fp_verdict_free(&why);
  fp_fingerprint_free(b);
  /* the same text changed by the robot's own input merges */
  form f;
  form_make(&REC2, &f);
  fp_mask robot[16];
  fp_input in = form_input(&f, 1, 2);
  for (int i = 0; i < in.n_masks; i++)
    robot[i] = (fp_mask){in.masks[i].r, FP_MASK_ROBOT};
  in.masks = robot;
  assert_int_equal(fp_compute(&in, "step", NULL, &b), FP_OK);
  form_free(&f);
  fp_fingerprint_free(a);
  form_make(&REC1, &f);
  in = form_input(&f, 1, 2);
  for (int i = 0; i < in.n_masks; i++)
    robot[i] = (fp_mask){in.masks[i].r, FP_MASK_ROBOT};
  in.masks = robot;
  assert_int_equal(fp_compute(&in, "step", NULL, &a), FP_OK);
  form_free(&f);
  assert_int_equal(fp_merge(a, b, NULL, &m, &why), FP_OK);
  fp_verdict_free(&why);
  fp_fingerprint_free(a);
  fp_fingerprint_free(b);
  fp_fingerprint_free(m);
}

/* A loop robot recorded over several iterations: the first look at a step saw data as it
 * was before the robot touched it (a calculator's display, a form from the last citizen),
 * a later iteration sees it changed by the robot's own input. It merges, and the words
 * there stop being anchors; the labels are kept. */
static void test_robot_changed_since_first_look(void **state)
{
  (void)state;
  fp_fingerprint *a = record_m(&REC1, V_NORMAL, 0), *b = NULL, *m = NULL;
  form f;
  form_make(&REC2, &f);
  fp_mask robot[16];
  fp_input in = form_input(&f, 1, 2);
  for (int i = 0; i < in.n_masks; i++)
    robot[i] = (fp_mask){in.masks[i].r, FP_MASK_ROBOT};
  in.masks = robot;
  assert_int_equal(fp_compute(&in, "step", NULL, &b), FP_OK);
  form_free(&f);
  int had = 0;
  for (int i = 0; i < a->n_anchors; i++)
    had += !strcmp(a->anchors[i].text, "Jens Hansen");
  assert_int_equal(had, 1);
  fp_verdict why;
  int rc = fp_merge(a, b, NULL, &m, &why);
  if (rc)
    dump_verdict("merge", &why);
  assert_int_equal(rc, FP_OK);
  fp_verdict_free(&why);
  int labels = 0;
  for (int i = 0; i < m->n_anchors; i++) {
    assert_string_not_equal(m->anchors[i].text, "Jens Hansen");
    labels += !strcmp(m->anchors[i].text, "CPR-nummer") || !strcmp(m->anchors[i].text, "Gem");
  }
  assert_int_equal(labels, 2);
  fp_fingerprint_free(a);
  fp_fingerprint_free(b);
  fp_fingerprint_free(m);
}

static void test_masked_data_merges(void **state)
{
  (void)state;
  fp_fingerprint *a = record(&REC1, V_NORMAL), *b = record(&REC2, V_NORMAL), *m = NULL;
  int anchors_before = a->n_anchors;
  fp_verdict why;
  int rc = fp_merge(a, b, NULL, &m, &why);
  if (rc)
    dump_verdict("merge", &why);
  assert_int_equal(rc, FP_OK);
  fp_verdict_free(&why);
  assert_int_equal(m->recordings, 2);
  /* data words and the clock were never anchors; labels and buttons kept */
  assert_int_equal(m->n_anchors, anchors_before);
  int labels = 0;
  for (int i = 0; i < m->n_anchors; i++) {
    assert_string_not_equal(m->anchors[i].text, "Jens");
    assert_string_not_equal(m->anchors[i].text, "12:00:00");
    if (!strcmp(m->anchors[i].text, "CPR-nummer") || !strcmp(m->anchors[i].text, "Gem"))
      labels++;
  }
  assert_int_equal(labels, 2);
  /* third data set: a match */
  form_spec s3 = {V_NORMAL, {"0909091111", "Bo Ek", "Torvet 3", "5000"}, "17:59:13", 0, 0, 0};
  form f;
  form_make(&s3, &f);
  fp_input in = form_input(&f, 1, 2);
  fp_verdict v;
  assert_int_equal(fp_compare(m, &in, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  form_free(&f);
  /* still watching the labels */
  s3.variant = V_RENAMED;
  form_make(&s3, &f);
  in = form_input(&f, 1, 2);
  assert_int_equal(fp_compare(m, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  assert_reason(&v, "label 'Navn' now reads 'Fulde navn'");
  fp_verdict_free(&v);
  form_free(&f);
  fp_fingerprint_free(a);
  fp_fingerprint_free(b);
  fp_fingerprint_free(m);
}

static void refused(enum form_variant var, const char *reason)
{
  fp_fingerprint *a = record(&REC1, V_NORMAL), *b = record(&REC2, var), *m = NULL;
  fp_verdict why;
  assert_int_equal(fp_merge(a, b, NULL, &m, &why), FP_ERR_REFUSED);
  assert_null(m);
  assert_false(why.match);
  assert_reason(&why, reason);
  fp_verdict_free(&why);
  fp_fingerprint_free(a);
  fp_fingerprint_free(b);
}

static void test_refuse_moved_labels(void **state)
{
  (void)state;
  refused(V_BANNER, "label 'CPR-nummer' moved from (12,44) to (12,84)");
}

static void test_refuse_new_window(void **state)
{
  (void)state;
  refused(V_WHATSNEW, "new window of class");
}

static void test_refuse_size(void **state)
{
  (void)state;
  refused(V_BIGGER, "window size 640x400 -> 640x440");
}

static void test_refuse_theme(void **state)
{
  (void)state;
  refused(V_THEME, "cells changed (");
}

static void test_refuse_font(void **state)
{
  (void)state;
  refused(V_FONT, "font changed");
}

static void rm_tree(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(d);
  rmdir(dir);
}

static void test_store_record_merge_and_refuse(void **state)
{
  (void)state;
  char dir[] = "/tmp/fp-merge-XXXXXX";
  assert_non_null(mkdtemp(dir));
  fp_fingerprint *a = record(&REC1, V_NORMAL), *b = record(&REC2, V_NORMAL),
                 *c = record(&REC2, V_SWAPPED), *l = NULL;
  fp_error err;
  fp_verdict why;
  assert_int_equal(fp_store_record(dir, a, NULL, &why, &err), FP_OK);
  fp_verdict_free(&why);
  assert_int_equal(fp_store_record(dir, b, NULL, &why, &err), FP_OK);
  fp_verdict_free(&why);
  assert_int_equal(fp_store_load(dir, "step", &l, &err), FP_OK);
  assert_int_equal(l->recordings, 2);
  fp_fingerprint_free(l);

  /* swapped fields: refused, the stored entry unchanged */
  assert_int_equal(fp_store_record(dir, c, NULL, &why, &err), FP_ERR_REFUSED);
  assert_reason(&why, "label 'CPR-nummer' moved from (12,44) to (12,84)");
  assert_non_null(strstr(err.message, "recording of step 'step' refused"));
  assert_non_null(strstr(err.message, "label 'Navn' moved"));
  fp_verdict_free(&why);
  assert_int_equal(fp_store_load(dir, "step", &l, &err), FP_OK);
  assert_int_equal(l->recordings, 2);
  fp_fingerprint_free(l);

  /* replace is explicit */
  assert_int_equal(fp_store_save(dir, c, &err), FP_OK);
  assert_int_equal(fp_store_load(dir, "step", &l, &err), FP_OK);
  assert_int_equal(l->recordings, 1);
  fp_verdict v;
  assert_int_equal(fp_compare_fp(l, c, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(l);

  fp_fingerprint_free(a);
  fp_fingerprint_free(b);
  fp_fingerprint_free(c);
  rm_tree(dir);
}

static void test_diff_image(void **state)
{
  (void)state;
  form fa, fb;
  form_spec s = REC1;
  form_make(&s, &fa);
  s.variant = V_NOBUTTON;
  form_make(&s, &fb);
  fp_input in = form_input(&fa, 0, 2);
  fp_fingerprint *base = NULL;
  assert_int_equal(fp_compute(&in, "d", NULL, &base), FP_OK);
  in = form_input(&fb, 0, 2);
  fp_verdict v;
  assert_int_equal(fp_compare(base, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  assert_int_equal(v.n_changed, 1);
  PIX *d = fp_diff_image(fa.pix, fb.pix, &v);
  assert_non_null(d);
  assert_int_equal(pixGetWidth(d), 640 * 3 + 16);
  assert_int_equal(pixGetHeight(d), 400);
  /* red outline just outside the changed region on the current panel */
  fp_rect r = v.changed[0];
  l_uint32 px = 0;
  pixGetPixel(d, 648 + r.x - 2, r.y + r.h / 2, &px);
  assert_int_equal(px & 0xffffff00, 0xff000000);
  /* the recorded panel is the recorded image, untouched */
  l_uint32 pa = 0, pr = 0;
  pixGetPixel(d, r.x - 2, r.y + r.h / 2, &pr);
  pixGetPixel(fa.pix, r.x - 2, r.y + r.h / 2, &pa);
  assert_int_equal(pr & 0xffffff00, pa & 0xffffff00);
  /* changed pixels are red in the diff panel */
  fp_rect gem = form_word(&fa, "Gem");
  int red = 0;
  for (int y = gem.y; y < gem.y + gem.h; y++)
    for (int x = gem.x; x < gem.x + gem.w; x++) {
      pixGetPixel(d, 2 * 648 + x, y, &px);
      red += (px & 0xffffff00) == 0xff000000;
    }
  assert_true(red > 10);
  pixDestroy(&d);
  /* different sizes: still one image, tall enough for both */
  form fc;
  s.variant = V_BIGGER;
  form_make(&s, &fc);
  d = fp_diff_image(fa.pix, fc.pix, NULL);
  assert_non_null(d);
  assert_int_equal(pixGetHeight(d), 440);
  pixDestroy(&d);
  form_free(&fc);
  fp_verdict_free(&v);
  fp_fingerprint_free(base);
  form_free(&fa);
  form_free(&fb);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unmasked_data_refused),
      cmocka_unit_test(test_masked_data_merges),
      cmocka_unit_test(test_robot_changed_since_first_look),
      cmocka_unit_test(test_refuse_moved_labels),
      cmocka_unit_test(test_refuse_new_window),
      cmocka_unit_test(test_refuse_size),
      cmocka_unit_test(test_refuse_theme),
      cmocka_unit_test(test_refuse_font),
      cmocka_unit_test(test_store_record_merge_and_refuse),
      cmocka_unit_test(test_diff_image),
  };
  return cmocka_run_group_tests_name("fp_merge", tests, NULL, NULL);
}
