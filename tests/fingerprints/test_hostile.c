/* test_hostile.c - baselines, alerts and scripts written to hurt: rectangles
 * with huge coordinates (bounded to the image, no integer overflow), entries
 * with very many masks (refused, or compared in O(pixels + masks)),
 * decompression bombs and FIFOs in a baseline folder (refused unread). */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define W 640
#define H 400
static const char *KEY = "hostile/step#1 click";

typedef struct {
  char tmp[64], dir[128], json[256];
  PIX *img;
  fp_fingerprint *fp;
} ctx;

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

/* a grey window with a dark bar: something for cells to compare */
static PIX *window_image(void)
{
  PIX *p = pixCreate(W, H, 32);
  pixSetAllArbitrary(p, 0xe0e0e000);
  BOX *b = boxCreate(40, 40, 200, 20);
  pixSetInRectArbitrary(p, b, 0x20202000);
  boxDestroy(&b);
  return p;
}

static fp_input input_of(PIX *img, const fp_mask *m, int n)
{
  fp_input in;
  memset(&in, 0, sizeof in);
  in.image = img;
  in.win_class = "Hostile";
  in.win_name = "hostile";
  in.role = FP_WIN_TARGET;
  in.masks = m;
  in.n_masks = n;
  return in;
}

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  snprintf(c->tmp, sizeof c->tmp, "/tmp/fp-hostile-XXXXXX");
  if (!mkdtemp(c->tmp))
    return -1;
  snprintf(c->dir, sizeof c->dir, "%s/h.baseline", c->tmp);
  c->img = window_image();
  fp_input in = input_of(c->img, NULL, 0);
  if (fp_compute(&in, KEY, NULL, &c->fp))
    return -1;
  fp_error err;
  if (fp_store_save(c->dir, c->fp, &err))
    return -1;
  char *stem = fp_sanitize_key(KEY);
  snprintf(c->json, sizeof c->json, "%s/%s.json", c->dir, stem);
  free(stem);
  *state = c;
  return 0;
}

static int teardown(void **state)
{
  ctx *c = *state;
  rm_tree(c->dir);
  rmdir(c->tmp);
  pixDestroy(&c->img);
  fp_fingerprint_free(c->fp);
  free(c);
  return 0;
}

static cJSON *read_entry(ctx *c)
{
  FILE *f = fopen(c->json, "r");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  cJSON *root = cJSON_Parse(buf);
  assert_non_null(root);
  return root;
}

static void write_entry(ctx *c, cJSON *root)
{
  char *text = cJSON_PrintUnformatted(root);
  FILE *f = fopen(c->json, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  free(text);
  cJSON_Delete(root);
}

static cJSON *rect(double x, double y, double w, double h)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "x", x);
  cJSON_AddNumberToObject(o, "y", y);
  cJSON_AddNumberToObject(o, "w", w);
  cJSON_AddNumberToObject(o, "h", h);
  return o;
}

/* window.<array> of the stored entry gets one more rectangle */
static void add_rect(ctx *c, const char *array, double x, double y, double w, double h,
                     const char *source)
{
  cJSON *root = read_entry(c);
  cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "window"), array);
  assert_non_null(arr);
  cJSON *r = rect(x, y, w, h);
  if (source)
    cJSON_AddStringToObject(r, "source", source);
  cJSON_AddItemToArray(arr, r);
  write_entry(c, root);
}

static int load(ctx *c, fp_fingerprint **out, fp_error *err)
{
  *out = NULL;
  return fp_store_load(c->dir, KEY, out, err);
}

static void expect_corrupt(ctx *c, const char *field_text)
{
  fp_fingerprint *l;
  fp_error err;
  int rc = load(c, &l, &err);
  if (rc != FP_ERR_CORRUPT)
    fail_msg("expected FP_ERR_CORRUPT, got %d: %s", rc, err.message);
  assert_null(l);
  if (!strstr(err.message, c->json) || !strstr(err.message, field_text))
    fail_msg("message \"%s\" lacks the file or \"%s\"", err.message, field_text);
}

/* today's screen: the bar is gone (a change in cells around (40..240, 40..60)) */
static PIX *changed_image(void)
{
  PIX *p = pixCreate(W, H, 32);
  pixSetAllArbitrary(p, 0xe0e0e000);
  return p;
}

/* ---- point 8: rectangles with huge coordinates ---- */

static void test_mask_coordinates_beyond_int_refused(void **state)
{
  ctx *c = *state;
  add_rect(c, "masks", 2147483000.0, 10, 2147483000.0, 10, "declared");
  expect_corrupt(c, "field 'window.masks[0].x': must be at most");
}

/* x + w wrapped to a negative number and let an outside rectangle through */
static void test_learned_bounds_check_does_not_wrap(void **state)
{
  ctx *c = *state;
  add_rect(c, "learned", 16, 0, 2147483647.0, 16, NULL);
  expect_corrupt(c, "field 'window.learned[0].w': must be at most");
}

static void test_learned_outside_window_refused(void **state)
{
  ctx *c = *state;
  add_rect(c, "learned", 16, 0, 999000, 16, NULL);
  expect_corrupt(c, "field 'window.learned[0]': outside the window");
}

static void test_anchor_huge_box_refused(void **state)
{
  ctx *c = *state;
  cJSON *root = read_entry(c);
  cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "window"), "anchors");
  cJSON *a = rect(10, 10, 2147483647.0, 2147483647.0);
  cJSON_AddStringToObject(a, "text", "Gem");
  cJSON_AddItemToArray(arr, a);
  write_entry(c, root);
  expect_corrupt(c, "field 'window.anchors[0].w': must be at most");
}

/* in range but far larger than the window: bounded to it, and it masks it all */
static void test_stored_mask_bounded_to_window(void **state)
{
  ctx *c = *state;
  add_rect(c, "masks", -100000, -100000, 1000000, 1000000, "declared");
  fp_fingerprint *l;
  fp_error err;
  assert_int_equal(load(c, &l, &err), FP_OK);
  assert_int_equal(l->n_masks, 1);
  assert_int_equal(l->masks[0].r.x, 0);
  assert_int_equal(l->masks[0].r.y, 0);
  assert_int_equal(l->masks[0].r.w, W);
  assert_int_equal(l->masks[0].r.h, H);
  PIX *now = changed_image();
  fp_input in = input_of(now, NULL, 0);
  fp_verdict v;
  assert_int_equal(fp_compare(l, &in, NULL, &v), FP_OK);
  assert_match(&v);
  assert_int_equal(v.cells_checked, 0);
  fp_verdict_free(&v);
  pixDestroy(&now);
  fp_fingerprint_free(l);
}

/* w:ignore{} and alert.json masks reach fp_compute/fp_compare as they are:
 * x + w overflowed in the cell marking (the mask was lost: a drift) and in
 * the rectangle intersection. */
static void test_script_masks_with_huge_coordinates(void **state)
{
  ctx *c = *state;
  const fp_mask huge[] = {
      {{5, 5, INT_MAX, INT_MAX}, FP_MASK_DECLARED},
      {{INT_MAX - 1, INT_MAX - 1, INT_MAX, INT_MAX}, FP_MASK_TYPED},
      {{INT_MIN, INT_MIN, INT_MAX, INT_MAX}, FP_MASK_ROBOT},
      {{30, INT_MAX - 3, INT_MAX, 3}, FP_MASK_ROBOT},
  };
  PIX *now = changed_image();
  fp_input in = input_of(now, huge, 4);
  fp_verdict v;
  assert_int_equal(fp_compare(c->fp, &in, NULL, &v), FP_OK);
  assert_match(&v); /* (5,5) onwards is ignored: the bar's change with it */
  fp_verdict_free(&v);
  /* the same masks, stored by a recording: bounded to the window */
  fp_fingerprint *rec = NULL;
  assert_int_equal(fp_compute(&in, KEY, NULL, &rec), FP_OK);
  assert_int_equal(rec->n_masks, 1);
  assert_int_equal(rec->masks[0].r.x, 5);
  assert_int_equal(rec->masks[0].r.w, W - 5);
  assert_int_equal(rec->masks[0].r.h, H - 5);
  fp_fingerprint_free(rec);
  /* without them, the change is seen */
  in.n_masks = 0;
  assert_int_equal(fp_compare(c->fp, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  fp_verdict_free(&v);
  pixDestroy(&now);
}

/* ---- point 9: many masks ---- */

static void test_too_many_masks_refused(void **state)
{
  ctx *c = *state;
  cJSON *root = read_entry(c);
  cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "window"), "masks");
  for (int i = 0; i < FP_MAX_MASKS + 1; i++) {
    cJSON *r = rect(i % W, 0, 1, 1);
    cJSON_AddStringToObject(r, "source", "declared");
    cJSON_AddItemToArray(arr, r);
  }
  write_entry(c, root);
  expect_corrupt(c, "field 'window.masks': more than 4096 masks");
}

/* Strips one pixel wide: no mask covers a whole cell, so every pixel of every
 * cell is judged against the masks (per pixel and per mask before: 4096 x
 * 256,000 tests). Every column is masked but hole_x. */
static fp_mask *strips(int n, int hole_x)
{
  fp_mask *m = calloc((size_t)n, sizeof *m);
  for (int i = 0; i < n; i++) {
    int x = i % W;
    if (x == hole_x)
      x = (x + 1) % W;
    m[i] = (fp_mask){{x, 0, 1, H}, i % 3 ? FP_MASK_DECLARED : FP_MASK_TYPED};
  }
  return m;
}

static void test_entry_with_most_masks_compares_fast(void **state)
{
  ctx *c = *state;
  PIX *now = changed_image();
  for (int hole = -1; hole <= 50; hole += 51) {
    fp_mask *m = strips(FP_MAX_MASKS, hole);
    fp_input rin = input_of(c->img, m, FP_MAX_MASKS);
    fp_fingerprint *rec = NULL;
    fp_error err;
    assert_int_equal(fp_compute(&rin, KEY, NULL, &rec), FP_OK);
    assert_int_equal(fp_store_save(c->dir, rec, &err), FP_OK);
    fp_fingerprint_free(rec);
    fp_fingerprint *l;
    assert_int_equal(load(c, &l, &err), FP_OK);
    assert_int_equal(l->n_masks, FP_MAX_MASKS);
    fp_input in = input_of(now, NULL, 0);
    fp_verdict v;
    assert_int_equal(fp_compare(l, &in, NULL, &v), FP_OK);
    fprintf(stderr, "%d masks (%s): %.1f ms\n", FP_MAX_MASKS,
            hole < 0 ? "all columns" : "column 50 open", v.elapsed_ms);
    if (hole < 0) {
      assert_match(&v);
    } else {
      assert_drift(&v);                     /* the bar's pixels in column 50 */
      assert_int_equal(v.cells_changed, 2); /* rows 40..59: two cells high */
      assert_int_equal(v.changed[0].x, 48);
      assert_int_equal(v.changed[0].y, 32);
    }
    fp_verdict_free(&v);
    fp_fingerprint_free(l);
    free(m);
  }
  pixDestroy(&now);
}

/* a script's masks are not stored, so not bounded in number: 100,000 of them */
static void test_hundred_thousand_script_masks(void **state)
{
  ctx *c = *state;
  PIX *now = changed_image();
  fp_mask *m = strips(100000, 100);
  fp_input in = input_of(now, m, 100000);
  fp_verdict v;
  assert_int_equal(fp_compare(c->fp, &in, NULL, &v), FP_OK);
  fprintf(stderr, "100000 script masks: %.1f ms\n", v.elapsed_ms);
  assert_drift(&v);
  assert_int_equal(v.cells_changed, 2); /* rows 40..59: two cells high */
  assert_int_equal(v.changed[0].x, 96);
  fp_verdict_free(&v);
  free(m);
  pixDestroy(&now);
}

/* ---- decoded images ---- */

static void test_decompression_bomb_refused(void **state)
{
  (void)state;
  PIX *p = NULL;
  fp_error err;
  int rc = fp_image_read(FP_HOSTILE "/bomb-60000x60000.png", &p, &err);
  assert_int_equal(rc, FP_ERR_CORRUPT);
  assert_null(p);
  if (!strstr(err.message, "bomb-60000x60000.png") || !strstr(err.message, "60000x60000"))
    fail_msg("message \"%s\"", err.message);
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* a bomb as a baseline's reference image, with a matching digest: refused by
 * its header, never decoded */
static void test_bomb_in_baseline_refused(void **state)
{
  ctx *c = *state;
  FILE *f = fopen(FP_HOSTILE "/bomb-60000x60000.png", "rb");
  assert_non_null(f);
  static unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char png[300], digest[17];
  snprintf(png, sizeof png, "%s/bomb.png", c->dir);
  f = fopen(png, "wb");
  fwrite(buf, 1, n, f);
  fclose(f);
  snprintf(digest, sizeof digest, "%016llx", (unsigned long long)fnv1a64(buf, n));
  cJSON *root = read_entry(c);
  cJSON *win = cJSON_GetObjectItem(root, "window");
  cJSON_ReplaceItemInObject(win, "image", cJSON_CreateString("bomb.png"));
  cJSON_ReplaceItemInObject(win, "image_fnv1a64", cJSON_CreateString(digest));
  write_entry(c, root);
  expect_corrupt(c, "(60000x60000)");
}

/* a FIFO planted as the entry: refused at once, not waited on */
static void test_fifo_entry_refused(void **state)
{
  ctx *c = *state;
  assert_int_equal(unlink(c->json), 0);
  assert_int_equal(mkfifo(c->json, 0600), 0);
  fp_fingerprint *l;
  fp_error err;
  assert_int_equal(load(c, &l, &err), FP_ERR_IO);
  assert_non_null(strstr(err.message, "not a regular file"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_mask_coordinates_beyond_int_refused),
      T(test_learned_bounds_check_does_not_wrap),
      T(test_learned_outside_window_refused),
      T(test_anchor_huge_box_refused),
      T(test_stored_mask_bounded_to_window),
      T(test_script_masks_with_huge_coordinates),
      T(test_too_many_masks_refused),
      T(test_entry_with_most_masks_compares_fast),
      T(test_hundred_thousand_script_masks),
      T(test_decompression_bomb_refused),
      T(test_bomb_in_baseline_refused),
      T(test_fifo_entry_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
