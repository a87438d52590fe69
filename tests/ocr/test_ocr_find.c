/* ocr_find: rt_ocr_find on hand-made word lists (no Tesseract, no images). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"
#include "rt_ocr.h"

/* words: text, x, y, w, h, line */
typedef struct {
  const char *t;
  int x, y, w, h, line;
} W;

static rt_ocr_result make(const W *w, size_t n)
{
  rt_ocr_result r = {0};
  r.words = calloc(n, sizeof *r.words);
  r.n = n;
  for (size_t i = 0; i < n; i++) {
    r.words[i].text = strdup(w[i].t);
    r.words[i].box = (rt_ocr_box){w[i].x, w[i].y, w[i].w, w[i].h};
    r.words[i].conf = 90;
    r.words[i].line = w[i].line;
    if (w[i].line + 1 > r.nlines)
      r.nlines = w[i].line + 1;
  }
  r.width = 640;
  r.height = 400;
  return r;
}

static const W form[] = {
    {"CPR-nummer:", 20, 30, 70, 10, 0},  {"010203-1234", 180, 30, 80, 12, 0},
    {"Gem", 200, 100, 20, 10, 1},        {"sag", 225, 100, 20, 10, 1},
    {"Gem", 400, 100, 20, 10, 1},        {"Bemærkning", 20, 150, 70, 12, 2},
    {"ÆNDR", 300, 150, 30, 10, 2},       {"Gemt", 20, 200, 30, 10, 3},
    {"Bemærkninz", 200, 200, 70, 12, 3}, {"-fndry-fmly-wght-", 20, 250, 170, 10, 4},
    {"Save", 20, 300, 30, 10, 5},        {"Save", 100, 300, 30, 10, 5},
};

static void test_exact_and_punctuation(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  /* "CPR-nummer" matches the screen's "CPR-nummer:" (edge punctuation) */
  assert_int_equal(rt_ocr_find(&r, "CPR-nummer", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.box.x, 20);
  assert_int_equal(m.cx, 55);
  assert_int_equal(m.cy, 35);
  assert_int_equal(m.tier, 1);
  assert_string_equal(m.text, "CPR-nummer:");
  /* and "CPR-nummer:" exactly */
  assert_int_equal(rt_ocr_find(&r, "CPR-nummer:", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.tier, 0);
  /* "Gem" must not match "Gemt" (whole words), but "Gemt" does */
  assert_int_equal(rt_ocr_find(&r, "Gemt", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cy, 205);
  rt_ocr_result_free(&r);
}

static void test_phrase_across_words(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  assert_int_equal(rt_ocr_find(&r, "Gem sag", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.box.x, 200);
  assert_int_equal(m.box.w, 45); /* 200 .. 245: both words */
  assert_int_equal(m.nwords, 2);
  assert_string_equal(m.text, "Gem sag");
  /* extra spaces in the phrase do not matter */
  assert_int_equal(rt_ocr_find(&r, "  Gem   sag ", NULL, &m, err, sizeof err), RT_OCR_OK);
  /* words on different lines never form a phrase */
  assert_int_equal(rt_ocr_find(&r, "sag Bemærkning", NULL, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  rt_ocr_result_free(&r);
}

static void test_ambiguous_names_candidates(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  assert_int_equal(rt_ocr_find(&r, "Save", NULL, &m, err, sizeof err), RT_OCR_AMBIGUOUS);
  assert_non_null(strstr(err, "ambiguous"));
  assert_non_null(strstr(err, "(35,305)"));
  assert_non_null(strstr(err, "(115,305)"));
  /* "Gem" twice (one inside the phrase "Gem sag"): also ambiguous, never a guess */
  assert_int_equal(rt_ocr_find(&r, "Gem", NULL, &m, err, sizeof err), RT_OCR_AMBIGUOUS);
  assert_non_null(strstr(err, "(210,105)"));
  assert_non_null(strstr(err, "(410,105)"));
  rt_ocr_result_free(&r);
}

static void test_nth_near_region(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  rt_ocr_find_opts o = {.nth = 2};
  assert_int_equal(rt_ocr_find(&r, "Save", &o, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cx, 115);
  o.nth = 3;
  assert_int_equal(rt_ocr_find(&r, "Save", &o, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  assert_non_null(strstr(err, "only 2"));
  rt_ocr_find_opts n = {.has_near = 1, .near_x = 390, .near_y = 90};
  assert_int_equal(rt_ocr_find(&r, "Gem", &n, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cx, 410);
  /* near with a tie is still ambiguous: (310,105) is 100 px from both */
  rt_ocr_find_opts tie = {.has_near = 1, .near_x = 310, .near_y = 105};
  assert_int_equal(rt_ocr_find(&r, "Gem", &tie, &m, err, sizeof err), RT_OCR_AMBIGUOUS);
  /* near + nth: the second nearest */
  n.nth = 2;
  assert_int_equal(rt_ocr_find(&r, "Gem", &n, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cx, 210);
  rt_ocr_find_opts g = {.has_region = 1, .region = {0, 280, 60, 40}};
  assert_int_equal(rt_ocr_find(&r, "Save", &g, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cx, 35);
  rt_ocr_find_opts out = {.has_region = 1, .region = {500, 0, 100, 100}};
  assert_int_equal(rt_ocr_find(&r, "Save", &out, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  assert_non_null(strstr(err, "region"));
  rt_ocr_result_free(&r);
}

static void test_ignore_case_danish(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  assert_int_equal(rt_ocr_find(&r, "Ændr", NULL, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  rt_ocr_find_opts ic = {.ignore_case = 1};
  assert_int_equal(rt_ocr_find(&r, "Ændr", &ic, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cx, 315);
  assert_int_equal(rt_ocr_find(&r, "BEMÆRKNING", &ic, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cy, 156);
  assert_int_equal(m.tier, 0); /* exact (folded) beats the misread one below */
  rt_ocr_result_free(&r);
}

static void test_not_found_says_what_it_saw(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  assert_int_equal(rt_ocr_find(&r, "Telefon", NULL, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  assert_non_null(strstr(err, "'Telefon' not found"));
  assert_non_null(strstr(err, "CPR-nummer:"));
  assert_int_equal(rt_ocr_find(&r, "   ", NULL, &m, err, sizeof err), RT_OCR_ERROR);
  rt_ocr_result_free(&r);
}

static void test_part_of_word_and_slips(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match m;
  char err[512];
  /* a delimited part of a word, box estimated within it */
  assert_int_equal(rt_ocr_find(&r, "wght", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.tier, 2);
  assert_string_equal(m.text, "wght");
  assert_true(m.cx > 20 + 170 * 12 / 17 && m.cx < 20 + 170 * 16 / 17);
  /* no part-of-word match for short needles (one "C" inside "CE/C" is not the C key) */
  assert_int_equal(rt_ocr_find(&r, "fm", NULL, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  /* only a misread copy: found (tier 3) when no exact one exists */
  W one[] = {{"Bemærkninz", 200, 200, 70, 12, 0}, {"Gen", 10, 10, 20, 10, 1}};
  rt_ocr_result r2 = make(one, 2);
  assert_int_equal(rt_ocr_find(&r2, "Bemærkning", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.tier, 3);
  /* short words are never matched with slips ... */
  assert_int_equal(rt_ocr_find(&r2, "Gem", NULL, &m, err, sizeof err), RT_OCR_NOT_FOUND);
  rt_ocr_result_free(&r2);
  /* ... only with the characters OCR confuses (I l 1 |, O 0), and only when
   * nothing better is there */
  W calc[] = {{"In", 10, 10, 12, 10, 0}, {"l0", 50, 10, 12, 10, 0}, {"10", 90, 10, 12, 10, 1}};
  r2 = make(calc, 3);
  assert_int_equal(rt_ocr_find(&r2, "ln", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.tier, 3);
  assert_int_equal(m.cx, 16);
  assert_int_equal(rt_ocr_find(&r2, "10", NULL, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.tier, 0); /* the exact one, not "l0" */
  assert_int_equal(m.cx, 96);
  rt_ocr_result_free(&r2);
  rt_ocr_result_free(&r);
}

static void test_find_all(void **st)
{
  (void)st;
  rt_ocr_result r = make(form, sizeof form / sizeof *form);
  rt_ocr_match ms[4];
  assert_int_equal(rt_ocr_find_all(&r, "Save", NULL, ms, 4), 2);
  assert_int_equal(ms[0].cx, 35);
  assert_int_equal(ms[1].cx, 115);
  char *t = rt_ocr_result_text(&r);
  assert_non_null(strstr(t, "Gem sag Gem\nBemærkning ÆNDR\n"));
  free(t);
  rt_ocr_result_free(&r);
}

/* find's hint: which unsure readings are read again for a phrase */
static void test_could_be(void **st)
{
  (void)st;
  assert_true(rt_ocr__could_be("Bemærkninz", "Bemærkning"));
  assert_true(rt_ocr__could_be("(Gen)", "Gem")); /* a button's border as brackets */
  assert_true(rt_ocr__could_be("Gog)", "Søg"));  /* short words: 2 slips allowed */
  assert_true(rt_ocr__could_be("BEMÆRKNING:", "bemærkning"));
  assert_true(rt_ocr__could_be("Gemsag", "Gem sag"));       /* two words read as one */
  assert_true(rt_ocr__could_be("sag", "Gem sag"));          /* one word of the phrase */
  assert_true(rt_ocr__could_be("fmly-wgth-slant", "wght")); /* a delimited part */
  assert_true(rt_ocr__could_be("ln", "In"));                /* I l 1 | are one */
  assert_false(rt_ocr__could_be("Control-S", "Save"));
  assert_false(rt_ocr__could_be("Annuller", "Gem"));
  assert_false(rt_ocr__could_be("Tidligere", "Navn"));
  assert_false(rt_ocr__could_be("", "Navn"));
}

/* A menu's entries (NEdit's File): "Save" is File > Save, whose accelerator lies far to
 * its right, not the first word of "Save As..."; elsewhere both are equally good. */
static void test_whole_entry(void **st)
{
  (void)st;
  static const W menu[] = {{"Open...", 8, 4, 44, 11, 0},         {"Ctrl+O", 120, 4, 40, 11, 0},
                           {"Save", 8, 24, 28, 11, 1},           {"Ctrl+S", 120, 24, 40, 11, 1},
                           {"Save", 8, 44, 28, 11, 2},           {"As...", 40, 44, 30, 11, 2},
                           {"Shift+Ctrl+S", 120, 44, 76, 11, 2}, {"Save", 8, 64, 28, 11, 3},
                           {"Copy", 40, 64, 28, 11, 3}};
  rt_ocr_result r = make(menu, sizeof menu / sizeof *menu);
  rt_ocr_match m;
  char err[512];
  assert_int_equal(rt_ocr_find(&r, "Save", NULL, &m, err, sizeof err), RT_OCR_AMBIGUOUS);
  rt_ocr_find_opts we = {.whole_entry = 1};
  assert_int_equal(rt_ocr_find(&r, "Save", &we, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cy, 29);
  assert_int_equal(rt_ocr_find(&r, "Save As...", &we, &m, err, sizeof err), RT_OCR_OK);
  assert_int_equal(m.cy, 49);
  rt_ocr_result_free(&r);
  /* two whole entries stay ambiguous */
  static const W two[] = {{"Save", 8, 24, 28, 11, 0}, {"Save", 8, 44, 28, 11, 1}};
  r = make(two, 2);
  assert_int_equal(rt_ocr_find(&r, "Save", &we, &m, err, sizeof err), RT_OCR_AMBIGUOUS);
  rt_ocr_result_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_could_be),
      cmocka_unit_test(test_exact_and_punctuation),
      cmocka_unit_test(test_phrase_across_words),
      cmocka_unit_test(test_ambiguous_names_candidates),
      cmocka_unit_test(test_nth_near_region),
      cmocka_unit_test(test_ignore_case_danish),
      cmocka_unit_test(test_not_found_says_what_it_saw),
      cmocka_unit_test(test_part_of_word_and_slips),
      cmocka_unit_test(test_find_all),
      cmocka_unit_test(test_whole_entry),
  };
  return cmocka_run_group_tests_name("ocr_find", tests, NULL, NULL);
}
