/* test_changed.c - fp_changed_regions, what the robot's input changed between two looks:
 * a line or two typed, also two lines the application drew at once (a busy machine), but
 * never a dialog or a paragraph that appeared. */
#include "test_util.h"

#include <stdlib.h>

#define BG 0xd9d9d900u
#define INK 0x10101000u

static PIX *blank(void)
{
  PIX *p = pixCreate(320, 240, 32);
  pixSetAllArbitrary(p, BG);
  return p;
}

static void bar(PIX *p, int x, int y, int w, int h)
{
  BOX *b = boxCreate(x, y, w, h);
  pixSetInRectArbitrary(p, b, INK);
  boxDestroy(&b);
}

static int regions(PIX *before, PIX *after, const fp_rect *keep, int nkeep, fp_rect **rs)
{
  int n = fp_changed_regions(before, after, keep, nkeep, 48, rs);
  for (int i = 0; i < n; i++)
    fprintf(stderr, "  region %d: (%d,%d) %dx%d\n", i, (*rs)[i].x, (*rs)[i].y, (*rs)[i].w,
            (*rs)[i].h);
  return n;
}

static int covers(fp_rect r, int x, int y, int w, int h)
{
  return r.x <= x && r.y <= y && r.x + r.w >= x + w && r.y + r.h >= y + h;
}

static void test_one_line(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  bar(b, 50, 100, 80, 12);
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, NULL, 0, &rs), 1);
  assert_true(covers(rs[0], 50, 100, 80, 12));
  free(rs);
  pixDestroy(&a);
  pixDestroy(&b);
}

/* Two entries typed into, drawn in one go: cells of both lines touch (one group 64 px
 * high), and the 8 unchanged pixel rows between them part the group into two lines, each
 * as tall and wide as its own change. */
static void test_two_lines_at_once(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  bar(b, 50, 100, 80, 20);
  bar(b, 50, 128, 40, 20);
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, NULL, 0, &rs), 2);
  assert_true(covers(rs[0], 50, 100, 80, 20) && rs[0].h == 20);
  assert_true(covers(rs[1], 50, 128, 40, 20) && rs[1].h == 20 && rs[1].w == 40);
  free(rs);
  pixDestroy(&a);
  pixDestroy(&b);
}

/* A dialog or pane: every row changed, nothing of it is the robot's data. */
static void test_dialog_is_not_data(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  BOX *box = boxCreate(40, 40, 200, 150);
  pixSetInRectArbitrary(b, box, 0xffffff00u);
  boxDestroy(&box);
  bar(b, 60, 60, 100, 12);
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, NULL, 0, &rs), 0);
  assert_null(rs);
  pixDestroy(&a);
  pixDestroy(&b);
}

/* A paragraph that appeared: its lines are closer than two entries, one change too tall. */
static void test_paragraph_is_not_data(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  for (int i = 0; i < 4; i++)
    bar(b, 50, 100 + 15 * i, 150, 12);
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, NULL, 0, &rs), 0);
  pixDestroy(&a);
  pixDestroy(&b);
}

/* Two lines with a tall change beside them in the same group: the lines count, the tall
 * part (a list that filled) does not. */
static void test_tall_band_left_out(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  bar(b, 50, 20, 80, 14);
  bar(b, 50, 44, 60, 100); /* touches the line's cells, 10 rows below it */
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, NULL, 0, &rs), 1);
  assert_true(covers(rs[0], 50, 20, 80, 14) && rs[0].h == 14);
  free(rs);
  pixDestroy(&a);
  pixDestroy(&b);
}

/* A label that reads the same before and after (keep) is not part of any change. */
static void test_keep(void **state)
{
  (void)state;
  PIX *a = blank(), *b = blank();
  bar(b, 50, 100, 80, 20);
  bar(b, 50, 128, 40, 20);
  fp_rect keep = {48, 96, 100, 32};
  fp_rect *rs = NULL;
  assert_int_equal(regions(a, b, &keep, 1, &rs), 1);
  assert_true(covers(rs[0], 50, 128, 40, 20));
  assert_true(rs[0].y >= 128);
  free(rs);
  pixDestroy(&a);
  pixDestroy(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_line),           cmocka_unit_test(test_two_lines_at_once),
      cmocka_unit_test(test_dialog_is_not_data), cmocka_unit_test(test_paragraph_is_not_data),
      cmocka_unit_test(test_tall_band_left_out), cmocka_unit_test(test_keep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
