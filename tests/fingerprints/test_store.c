/* test_store.c - baseline folder: round trip, permissions, key sanitising,
 * corrupt or hand-edited entries named by file and field. */
#include "form.h"
#include "test_util.h"
#include "fp_int.h" /* fp__store_fault */

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const form_spec BASE = {
    V_NORMAL, {"0101701234", "Jens Hansen", NULL, "8000"}, "12:00:00", 0, 10, 10};
static const char *KEY = "cpr-opslag/Opslag#1 click";

typedef struct {
  char dir[64];
  char json[256];
  char png[256];
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
      if (unlink(p) != 0)
        rm_tree(p); /* a staging folder a stopped save left */
    }
  closedir(d);
  rmdir(dir);
}

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  char tmpl[] = "/tmp/fp-store-XXXXXX";
  if (!mkdtemp(tmpl))
    return -1;
  snprintf(c->dir, sizeof c->dir, "%s/register.baseline", tmpl);
  form f;
  form_make(&BASE, &f);
  fp_input in = form_input(&f, 1, 2);
  /* a caller-supplied learned mask and a button anchor survive the trip */
  fp_mask extra[20];
  memcpy(extra, in.masks, (size_t)in.n_masks * sizeof *extra);
  extra[in.n_masks] = (fp_mask){{600, 370, 40, 30}, FP_MASK_LEARNED};
  in.masks = extra;
  in.n_masks++;
  if (fp_compute(&in, KEY, NULL, &c->fp))
    return -1;
  form_free(&f);
  char *stem = fp_sanitize_key(KEY);
  snprintf(c->json, sizeof c->json, "%s/%s.json", c->dir, stem);
  snprintf(c->png, sizeof c->png, "%s/%s.png", c->dir, stem);
  free(stem);
  *state = c;
  return 0;
}

static int teardown(void **state)
{
  ctx *c = *state;
  rm_tree(c->dir);
  char *slash = strrchr(c->dir, '/');
  *slash = 0;
  rmdir(c->dir);
  fp_fingerprint_free(c->fp);
  free(c);
  return 0;
}

/* the target's PNG as the saved entry names it (content-addressed) */
static void png_of_entry(ctx *c)
{
  FILE *f = fopen(c->json, "r");
  static char buf[65536];
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = 0;
  cJSON *root = cJSON_Parse(buf);
  const cJSON *img = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "window"), "image");
  if (cJSON_IsString(img))
    snprintf(c->png, sizeof c->png, "%s/%s", c->dir, img->valuestring);
  cJSON_Delete(root);
}

static int save(ctx *c)
{
  fp_error err;
  int rc = fp_store_save(c->dir, c->fp, &err);
  if (rc)
    fprintf(stderr, "save: %s\n", err.message);
  else
    png_of_entry(c);
  return rc;
}

static void test_sanitize_key(void **state)
{
  (void)state;
  char *a = fp_sanitize_key("cpr-opslag/Opslag#1 click");
  char *b = fp_sanitize_key("cpr-opslag/Opslag#1 click");
  char *c = fp_sanitize_key("cpr-opslag/Opslag#1_click");
  char *d = fp_sanitize_key("../../etc/passwd");
  char *e = fp_sanitize_key("");
  assert_string_equal(a, b);
  assert_string_not_equal(a, c); /* same stem, different hash */
  assert_int_equal(strncmp(a, "cpr-opslag_Opslag_1_click-", 26), 0);
  assert_null(strchr(d, '/'));
  assert_true(d[0] != '.');
  assert_true(strlen(e) > 0);
  for (char *p = a; *p; p++)
    assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p));
  free(a);
  free(b);
  free(c);
  free(d);
  free(e);
}

static void test_round_trip_and_permissions(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  struct stat st;
  assert_int_equal(stat(c->dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(c->json, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(c->png, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_true(st.st_size < 16000);

  fp_fingerprint *l = NULL;
  fp_error err;
  assert_int_equal(fp_store_load(c->dir, KEY, &l, &err), FP_OK);
  assert_string_equal(l->key, KEY);
  assert_string_equal(l->win_class, "Borgerregister");
  assert_int_equal(l->width, 640);
  assert_int_equal(l->height, 400);
  assert_int_equal(l->version, FP_FORMAT_VERSION);
  assert_int_equal(l->n_layers, 0);
  assert_string_equal(l->win_name, "Borgerregister");
  assert_int_equal(l->n_anchors, c->fp->n_anchors);
  for (int i = 0; i < l->n_anchors; i++) {
    assert_string_equal(l->anchors[i].text, c->fp->anchors[i].text);
    assert_memory_equal(&l->anchors[i].box, &c->fp->anchors[i].box, sizeof(fp_rect));
    assert_int_equal(l->anchors[i].kind, c->fp->anchors[i].kind);
  }
  assert_int_equal(l->n_masks, c->fp->n_masks);
  assert_int_equal(l->masks[0].source, FP_MASK_DECLARED);
  assert_int_equal(l->masks[1].source, FP_MASK_TYPED);
  assert_memory_equal(l->learned, c->fp->learned, (size_t)l->cols * l->rows);
  assert_memory_equal(l->cells, c->fp->cells, (size_t)l->cols * l->rows * 8);
  assert_int_equal(l->learned[24 * 40 + 38], 1); /* cell of (608,384) */
  /* the reloaded entry judges its own image a match */
  fp_verdict v;
  assert_int_equal(fp_compare_fp(l, c->fp, NULL, &v), FP_OK);
  assert_match(&v);
  fp_verdict_free(&v);
  fp_fingerprint_free(l);

  /* readable JSON with the real key */
  FILE *f = fopen(c->json, "r");
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  assert_non_null(strstr(buf, "\"key\":\t\"cpr-opslag/Opslag#1 click\""));
  assert_non_null(strstr(buf, "\"CPR-nummer\""));
  assert_non_null(strstr(buf, "\"source\":\t\"typed\""));
  assert_non_null(strstr(buf, "\"learned\":"));
  /* no temp files left behind */
  DIR *d = opendir(c->dir);
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      files++;
    else
      assert_true(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."));
  closedir(d);
  assert_int_equal(files, 2);
}

static void test_missing_entry(void **state)
{
  ctx *c = *state;
  fp_fingerprint *l = NULL;
  fp_error err;
  assert_int_equal(fp_store_load(c->dir, "no such step", &l, &err), FP_ERR_NOTFOUND);
  assert_null(l);
  assert_non_null(strstr(err.message, "no baseline for step 'no such step'"));
}

/* rewrite the saved JSON replacing `from` with `to` */
static void edit(ctx *c, const char *from, const char *to)
{
  FILE *f = fopen(c->json, "r");
  static char buf[65536], out[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strstr(buf, from);
  assert_non_null(p);
  snprintf(out, sizeof out, "%.*s%s%s", (int)(p - buf), buf, to, p + strlen(from));
  f = fopen(c->json, "w");
  fputs(out, f);
  fclose(f);
}

static void expect_corrupt(ctx *c, const char *field_text)
{
  fp_fingerprint *l = NULL;
  fp_error err;
  int rc = fp_store_load(c->dir, KEY, &l, &err);
  if (rc != FP_ERR_CORRUPT)
    fail_msg("expected FP_ERR_CORRUPT, got %d: %s", rc, err.message);
  assert_null(l);
  if (!strstr(err.message, c->json) || !strstr(err.message, field_text))
    fail_msg("message \"%s\" lacks file or \"%s\"", err.message, field_text);
}

/* An entry written by vagt before layers (format 1): its image, anchors, masks and
 * learned cells at the top level, the app's top-levels beside them. It is read (and says
 * format 1, so the runtime can refuse to judge with it), never rewritten in place. */
static void test_format1_is_read(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  FILE *f = fopen(c->json, "r");
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  cJSON *root = cJSON_Parse(buf), *win = cJSON_GetObjectItem(root, "window");
  const char *move[] = {"image", "image_fnv1a64", "anchors", "masks", "learned"};
  for (int i = 0; i < 5; i++)
    cJSON_AddItemToObject(root, move[i], cJSON_DetachItemFromObject(win, move[i]));
  cJSON_DeleteItemFromObject(win, "name");
  cJSON_DeleteItemFromObject(root, "layers");
  cJSON_AddItemToObject(root, "toplevels", cJSON_CreateArray());
  cJSON_ReplaceItemInObject(root, "version", cJSON_CreateNumber(1));
  char *text = cJSON_Print(root);
  f = fopen(c->json, "w");
  fputs(text, f);
  fclose(f);
  free(text);
  cJSON_Delete(root);
  fp_fingerprint *l = NULL;
  fp_error err;
  assert_int_equal(fp_store_load(c->dir, KEY, &l, &err), FP_OK);
  assert_int_equal(l->version, 1);
  assert_int_equal(l->n_layers, 0);
  assert_int_equal(l->n_anchors, c->fp->n_anchors);
  assert_int_equal(l->n_masks, c->fp->n_masks);
  fp_fingerprint_free(l);
}

static void test_corrupt_bad_json(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"window\":", "\"window\" ");
  expect_corrupt(c, "not valid JSON (error near line");
}

static void test_corrupt_missing_field(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"width\":\t640", "\"breadth\":\t640");
  expect_corrupt(c, "field 'window.width': missing");
}

static void test_corrupt_wrong_type(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"x\":\t12,", "\"x\":\t\"twelve\",");
  expect_corrupt(c, "field 'window.anchors[0].x': expected a number");
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"source\":\t\"typed\"", "\"source\":\t\"typo\"");
  expect_corrupt(c, "field 'window.masks[1].source'");
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"layers\":\t[", "\"layers\":\t7, \"old_layers\": [");
  expect_corrupt(c, "field 'layers': expected an array");
}

static void test_corrupt_png_missing(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  assert_int_equal(unlink(c->png), 0);
  expect_corrupt(c, "field 'window.image': reference image");
}

static void test_corrupt_png_size_mismatch(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  edit(c, "\"height\":\t400", "\"height\":\t440");
  expect_corrupt(c, "field 'window.image': size 640x440 does not match");
}

static void test_corrupt_png_garbage(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  FILE *f = fopen(c->png, "w");
  fputs("not a png", f);
  fclose(f);
  expect_corrupt(c, "field 'window.image_fnv1a64'");
}

static void test_corrupt_png_replaced(void **state)
{
  /* a valid PNG of the right size, swapped in by hand */
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  form f;
  form_spec s = BASE;
  s.variant = V_RENAMED;
  form_make(&s, &f);
  assert_int_equal(pixWrite(c->png, f.pix, IFF_PNG), 0);
  form_free(&f);
  expect_corrupt(c, "was changed after it was stored");
}

static void test_corrupt_key_mismatch(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  edit(c, "Opslag#1 click", "Opslag#2 click");
  expect_corrupt(c, "field 'key'");
}

static void test_api_arguments(void **state)
{
  (void)state;
  fp_fingerprint *fp = NULL;
  fp_verdict v;
  fp_input in = {0};
  assert_int_equal(fp_compute(&in, "k", NULL, &fp), FP_ERR_ARG);
  assert_null(fp);
  assert_int_equal(fp_compute(NULL, "k", NULL, &fp), FP_ERR_ARG);
  assert_int_equal(fp_compare(NULL, &in, NULL, &v), FP_ERR_ARG);
  assert_int_equal(v.n_reasons, 0);
  fp_error err;
  assert_int_equal(fp_store_save("/tmp", NULL, &err), FP_ERR_ARG);
  assert_int_equal(fp_store_load(NULL, "k", &fp, &err), FP_ERR_ARG);
  fp_verdict_free(NULL);
  fp_fingerprint_free(NULL);
  /* an 8 bpp grey image is converted, and judged like its 32 bpp twin */
  PIX *g = pixCreate(100, 40, 8);
  pixSetAllArbitrary(g, 200);
  in.image = g;
  assert_int_equal(fp_compute(&in, "k", NULL, &fp), FP_OK);
  assert_int_equal(pixGetDepth(fp->image), 32);
  assert_int_equal(fp->cols, 7);
  assert_int_equal(fp->rows, 3);
  PIX *g2 = pixCopy(NULL, g);
  pixSetPixel(g2, 99, 39, 0);
  pixSetPixel(g2, 98, 39, 0);
  in.image = g2;
  assert_int_equal(fp_compare(fp, &in, NULL, &v), FP_OK);
  assert_drift(&v);
  assert_int_equal(v.n_changed, 1);
  assert_int_equal(v.changed[0].x, 96); /* partial edge cell, clipped */
  assert_int_equal(v.changed[0].w, 4);
  assert_int_equal(v.changed[0].h, 8);
  fp_verdict_free(&v);
  pixDestroy(&g);
  pixDestroy(&g2);
  fp_fingerprint_free(fp);
}

/* ---- replacing an entry is all or nothing ---- */

static const char *stop_at;
static int stop_hook(const char *step)
{
  return stop_at && !strcmp(step, stop_at);
}

/* the key's PNG files in the folder */
static int count_pngs(ctx *c)
{
  char *stem = fp_sanitize_key(KEY);
  DIR *d = opendir(c->dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    n += !strncmp(e->d_name, stem, strlen(stem)) && strstr(e->d_name, ".png");
  if (d)
    closedir(d);
  free(stem);
  return n;
}

static void expect_entry_is(ctx *c, const fp_fingerprint *want)
{
  fp_fingerprint *l = NULL;
  fp_error err;
  int rc = fp_store_load(c->dir, KEY, &l, &err);
  if (rc != FP_OK)
    fail_msg("entry unreadable (%d): %s", rc, err.message);
  l_int32 same = 0;
  pixEqual(l->image, want->image, &same);
  assert_true(same);
  assert_int_equal(l->n_anchors, want->n_anchors);
  fp_fingerprint_free(l);
}

static fp_fingerprint *other_fp(const char *key, enum form_variant variant)
{
  const form_spec other = {variant, {"0202802345", "Mette Hansen", NULL, "8200"}, "13:00:00", 0, 10,
                           10};
  form f;
  form_make(&other, &f);
  fp_input in = form_input(&f, 1, 2);
  fp_fingerprint *fp = NULL;
  assert_int_equal(fp_compute(&in, key, NULL, &fp), FP_OK);
  form_free(&f);
  return fp;
}

/* A save stopped (a crash, simulated by the hook) before its switch leaves the
 * old entry; stopped after it, the new one; never a mix. The next save finishes
 * what a stopped one switched. */
static void test_replace_is_all_or_nothing(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  fp_fingerprint *nw = other_fp(KEY, V_RENAMED);
  fp_error err;
  fp__store_fault = stop_hook;
  stop_at = "entries staged";
  assert_int_equal(fp_store_save(c->dir, nw, &err), FP_ERR_IO);
  expect_entry_is(c, c->fp); /* the old one, whole */
  assert_int_equal(count_pngs(c), 1);
  stop_at = "recording switched";
  assert_int_equal(fp_store_save(c->dir, nw, &err), FP_ERR_IO);
  expect_entry_is(c, nw); /* the new one, whole */
  fp__store_fault = NULL;
  stop_at = NULL;
  assert_int_equal(save(c), FP_OK); /* moves the switched one in, then its own */
  expect_entry_is(c, c->fp);
  assert_int_equal(count_pngs(c), 1);
  fp_fingerprint_free(nw);
}

/* Several steps of one recording switch together. */
static void test_recording_is_all_or_nothing(void **state)
{
  ctx *c = *state;
  const char *k2 = "cpr-opslag/Opslag#2 type";
  fp_fingerprint *old2 = other_fp(k2, V_NORMAL), *new1 = other_fp(KEY, V_RENAMED),
                 *new2 = other_fp(k2, V_SWAPPED);
  fp_error err;
  assert_int_equal(save(c), FP_OK);
  assert_int_equal(fp_store_save(c->dir, old2, &err), FP_OK);
  const char *stops[] = {"entries staged", "recording switched", "entry moved", NULL};
  for (int i = 0; i < 4; i++) {
    fp_recording *r = NULL;
    assert_int_equal(fp_recording_begin(c->dir, &r, &err), FP_OK);
    assert_int_equal(fp_recording_save(r, new1, &err), FP_OK);
    assert_int_equal(fp_recording_save(r, new2, &err), FP_OK);
    expect_entry_is(c, c->fp);   /* nothing visible before the commit */
    fp_fingerprint *mine = NULL; /* but the recording sees its own */
    assert_int_equal(fp_recording_load(r, k2, &mine, &err), FP_OK);
    l_int32 eq = 0;
    pixEqual(mine->image, new2->image, &eq);
    assert_true(eq);
    fp_fingerprint_free(mine);
    fp__store_fault = stops[i] ? stop_hook : NULL;
    stop_at = stops[i];
    int rc = fp_recording_commit(r, &err);
    fp__store_fault = NULL;
    assert_int_equal(rc, stops[i] ? FP_ERR_IO : FP_OK);
    int is_new = i > 0;
    expect_entry_is(c, is_new ? new1 : c->fp);
    fp_fingerprint *l = NULL;
    assert_int_equal(fp_store_load(c->dir, k2, &l, &err), FP_OK);
    l_int32 same = 0;
    pixEqual(l->image, (is_new ? new2 : old2)->image, &same);
    assert_true(same);
    fp_fingerprint_free(l);
    /* back to the old pair for the next round (finishes a stopped commit) */
    fp_recording *back = NULL;
    assert_int_equal(fp_recording_begin(c->dir, &back, &err), FP_OK);
    assert_int_equal(fp_recording_save(back, c->fp, &err), FP_OK);
    assert_int_equal(fp_recording_save(back, old2, &err), FP_OK);
    assert_int_equal(fp_recording_commit(back, &err), FP_OK);
    expect_entry_is(c, c->fp);
  }
  struct stat st;
  char cdir[200];
  snprintf(cdir, sizeof cdir, "%s/.fp-commit", c->dir);
  assert_int_equal(stat(cdir, &st), -1); /* every commit finished */
  assert_int_equal(count_pngs(c), 1);
  /* an aborted recording leaves nothing */
  fp_recording *r = NULL;
  assert_int_equal(fp_recording_begin(c->dir, &r, &err), FP_OK);
  assert_int_equal(fp_recording_save(r, new1, &err), FP_OK);
  fp_recording_abort(r);
  expect_entry_is(c, c->fp);
  fp_fingerprint_free(old2);
  fp_fingerprint_free(new1);
  fp_fingerprint_free(new2);
}

/* Entries written before content-named PNGs (<stem>.png) are read as they are,
 * and replaced like any other. */
static void test_entry_with_old_png_name(void **state)
{
  ctx *c = *state;
  assert_int_equal(save(c), FP_OK);
  char *stem = fp_sanitize_key(KEY);
  char old[300], oldname[128];
  snprintf(oldname, sizeof oldname, "%s.png", stem);
  snprintf(old, sizeof old, "%s/%s", c->dir, oldname);
  free(stem);
  assert_int_equal(rename(c->png, old), 0);
  const char *slash = strrchr(c->png, '/');
  edit(c, slash + 1, oldname);
  expect_entry_is(c, c->fp);
  assert_int_equal(save(c), FP_OK);
  expect_entry_is(c, c->fp);
  struct stat st;
  assert_int_equal(stat(old, &st), -1); /* replaced, and removed */
  assert_int_equal(count_pngs(c), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sanitize_key),
      cmocka_unit_test(test_api_arguments),
      cmocka_unit_test_setup_teardown(test_round_trip_and_permissions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_format1_is_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_bad_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_missing_field, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_wrong_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_png_missing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_png_size_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_png_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_png_replaced, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_key_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_is_all_or_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_recording_is_all_or_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_with_old_png_name, setup, teardown),
  };
  return cmocka_run_group_tests_name("fp_store", tests, NULL, NULL);
}
