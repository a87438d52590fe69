/* test_toolbar.c - how words become anchors: buttons a word space apart with a line
 * between them (Xaw's "Quit | Save | Load") are each an anchor, so a relabelled one is
 * named; words a space apart with no line between them stay one phrase ("Gem journal");
 * an entry of format 2 is judged by its own rule; data beside a label is never part of
 * it, nor quoted. */
#include "test_util.h"

#include <stdlib.h>

#define BG 0xd9d9d900u
#define INK 0x10101000u

typedef struct {
  PIX *pix;
  fp_word w[8];
  int n;
} bar;

static void rect(PIX *p, int x, int y, int w, int h, l_uint32 rgb)
{
  BOX *b = boxCreate(x, y, w, h);
  pixSetInRectArbitrary(p, b, rgb);
  boxDestroy(&b);
}

/* words left to right from x; a 1-px line in the middle of each gap when lines */
static void make(bar *b, const char *const *words, int lines)
{
  memset(b, 0, sizeof *b);
  b->pix = pixCreate(320, 60, 32);
  pixSetAllArbitrary(b->pix, BG);
  pixSetSpp(b->pix, 3);
  L_BMF *f = bmfCreate(NULL, 6);
  assert_non_null(f);
  int x = 4;
  for (int i = 0; words[i]; i++) {
    int width = 0, ovf = 0;
    pixSetTextline(b->pix, f, words[i], INK, x, 30, &width, &ovf);
    fp_word *w = &b->w[b->n++];
    w->text = strdup(words[i]);
    w->box = (fp_rect){x, 30 - f->lineheight * 3 / 4, width, f->lineheight};
    w->conf = 95.0f;
    w->kind = FP_WORD_LABEL;
    x += width + f->spacewidth;
    if (lines) /* a frame line in the word space */
      rect(b->pix, x - f->spacewidth / 2 - 1, 2, 1, 56, INK);
  }
  bmfDestroy(&f);
}

static void bar_free(bar *b)
{
  for (int i = 0; i < b->n; i++)
    free(b->w[i].text);
  pixDestroy(&b->pix);
}

static fp_input input(const bar *b)
{
  fp_input in = {0};
  in.image = b->pix;
  in.words = (fp_word *)b->w;
  in.n_words = b->n;
  in.has_words = 1;
  in.win_class = "Xedit";
  in.win_name = "xedit";
  return in;
}

static int has_anchor(const fp_fingerprint *f, const char *text)
{
  for (int i = 0; i < f->n_anchors; i++)
    if (!strcmp(f->anchors[i].text, text))
      return 1;
  return 0;
}

static void test_lines_end_phrases(void **state)
{
  (void)state;
  static const char *const rec[] = {"Quit", "Save", "Load", NULL};
  bar b;
  make(&b, rec, 1);
  fp_input in = input(&b);
  fp_fingerprint *f = NULL;
  assert_int_equal(fp_compute(&in, "k", NULL, &f), FP_OK);
  assert_int_equal(f->version, FP_FORMAT_VERSION);
  for (int i = 0; i < f->n_anchors; i++)
    fprintf(stderr, "  anchor %d: '%s' at (%d,%d) %dx%d\n", i, f->anchors[i].text,
            f->anchors[i].box.x, f->anchors[i].box.y, f->anchors[i].box.w, f->anchors[i].box.h);
  assert_true(has_anchor(f, "Quit") && has_anchor(f, "Save") && has_anchor(f, "Load"));
  assert_int_equal(f->n_anchors, 3);
  /* the vendor relabels one button: the reason names it */
  static const char *const upd[] = {"Quit", "Gem", "Load", NULL};
  bar c;
  make(&c, upd, 1);
  fp_input cur = input(&c);
  fp_verdict v;
  assert_int_equal(fp_compare(f, &cur, NULL, &v), FP_OK);
  assert_false(v.match);
  assert_reason(&v, "label 'Save' now reads 'Gem'");
  assert_no_reason(&v, "Quit");
  fp_verdict_free(&v);
  /* an entry of format 2 keeps its rule: today's words are one phrase, and the judge
   * still halts */
  f->version = 2;
  assert_int_equal(fp_compare(f, &cur, NULL, &v), FP_OK);
  assert_false(v.match);
  fp_verdict_free(&v);
  fp_fingerprint_free(f);
  bar_free(&b);
  bar_free(&c);
}

static void test_no_line_one_phrase(void **state)
{
  (void)state;
  static const char *const rec[] = {"Gem", "journal", NULL};
  bar b;
  make(&b, rec, 0);
  fp_input in = input(&b);
  fp_fingerprint *f = NULL;
  assert_int_equal(fp_compute(&in, "k", NULL, &f), FP_OK);
  assert_int_equal(f->n_anchors, 1);
  assert_string_equal(f->anchors[0].text, "Gem journal");
  fp_fingerprint_free(f);
  bar_free(&b);
}

/* a label and the data beside it a word space away (no frame): the data is no part of
 * the anchor, and a renamed label's reason quotes the label's new words, never the data */
static void test_data_never_joins(void **state)
{
  (void)state;
  static const char *const rec[] = {"Navn", "Jens", NULL};
  bar b;
  make(&b, rec, 0);
  fp_input in = input(&b);
  fp_mask m = {{b.w[1].box.x - 1, 0, 320 - b.w[1].box.x + 1, 60}, FP_MASK_TYPED};
  in.masks = &m;
  in.n_masks = 1;
  fp_fingerprint *f = NULL;
  assert_int_equal(fp_compute(&in, "k", NULL, &f), FP_OK);
  assert_int_equal(f->n_anchors, 1);
  assert_string_equal(f->anchors[0].text, "Navn");
  static const char *const upd[] = {"Fulde", "Karen", NULL};
  bar c;
  make(&c, upd, 0);
  fp_input cur = input(&c);
  fp_verdict v;
  assert_int_equal(fp_compare(f, &cur, NULL, &v), FP_OK);
  assert_false(v.match);
  assert_reason(&v, "label 'Navn' now reads 'Fulde'");
  for (int i = 0; i < v.n_reasons; i++)
    if (strstr(v.reasons[i], "Karen")) {
      dump_verdict("verdict", &v);
      fail_msg("a reason quotes the data");
    }
  fp_verdict_free(&v);
  fp_fingerprint_free(f);
  bar_free(&b);
  bar_free(&c);
}

/* a name the robot typed elsewhere that the application shows again (copied into a
 * dialog): data, with OCR noise inside it ("Jens r Hansen,"), never an anchor; the label
 * before it stays */
static void test_typed_elsewhere(void **state)
{
  (void)state;
  static const char *const rec[] = {"Navn", "Jens", "r", "Hansen,", NULL};
  static const char *const typed[] = {"Jens", "Hansen"};
  bar b;
  make(&b, rec, 0);
  b.w[1].box.x += 40; /* the value a little away from its label */
  b.w[2].box.x += 40;
  b.w[3].box.x += 40;
  uint8_t d[8];
  fp_data_words(b.w, b.n, typed, 2, d);
  assert_false(d[0]);
  for (int i = 1; i < 4; i++)
    assert_true(d[i]);
  fp_data_words(b.w, b.n, NULL, 0, d);
  assert_false(d[1]);
  fp_input in = input(&b);
  in.data_words = typed;
  in.n_data_words = 2;
  fp_fingerprint *f = NULL;
  assert_int_equal(fp_compute(&in, "k", NULL, &f), FP_OK);
  assert_int_equal(f->n_anchors, 1);
  assert_string_equal(f->anchors[0].text, "Navn");
  fp_fingerprint_free(f);
  bar_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_end_phrases),
      cmocka_unit_test(test_no_line_one_phrase),
      cmocka_unit_test(test_data_never_joins),
      cmocka_unit_test(test_typed_elsewhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
