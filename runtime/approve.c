/* `vagt approve RUN_DIR`: after an operator has reviewed a drift-halted run (its report
 * shows recorded, current and diff side by side), today's screen of the halted step becomes
 * that step's baseline entry. Replacing a baseline is always this explicit. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "run.h"
#include "runfolder.h"


static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Recomputes an entry from a new reference image, keeping its windows, masks and learned
 * cells; anchors come from OCR of the new image. */
static int recompute(const char *baseline, fp_fingerprint *e, PIX *img, rt_ocr *ocr,
                     fp_error *fe)
{
  char err[1024];
  int nw;
  fp_word *words = rt_monitor_words(ocr, img, &nw, err, sizeof err);
  fp_input in = {.image = img, .win_class = e->win_class, .windows = e->windows,
                 .n_windows = e->n_windows, .words = words, .n_words = nw > 0 ? nw : 0,
                 .has_words = nw >= 0, .masks = e->masks, .n_masks = e->n_masks};
  fp_options opt;
  fp_options_default(&opt);
  fp_fingerprint *fp = NULL;
  int rc = fp_compute(&in, e->key, &opt, &fp);
  if (rc == FP_OK) {
    if (fp->cols == e->cols && fp->rows == e->rows && fp->learned && e->learned)
      memcpy(fp->learned, e->learned, (size_t)fp->cols * (size_t)fp->rows);
    fp->recordings = e->recordings;
    rc = fp_store_save(baseline, fp, fe);
  }
  fp_fingerprint_free(fp);
  rt_monitor_words_free(words, nw > 0 ? nw : 0);
  return rc;
}

static bool masked(const fp_fingerprint *e, int x, int y)
{
  for (int i = 0; e && i < e->n_masks; i++) {
    const fp_rect *r = &e->masks[i].r;
    if (x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h)
      return true;
  }
  return false;
}

/* True when the 16-px cell (cx,cy) is the same in a and b, leaving out the pixels that
 * entry e masks (a clock, a status line) and cells it learned to be volatile. */
static bool cell_equal(PIX *a, PIX *b, int cx, int cy, const fp_fingerprint *e)
{
  if (e && e->learned && cx < e->cols && cy < e->rows && e->learned[cy * e->cols + cx])
    return true;
  int w = (int)pixGetWidth(a), h = (int)pixGetHeight(a);
  int wpa = pixGetWpl(a), wpb = pixGetWpl(b);
  l_uint32 *da = pixGetData(a), *db = pixGetData(b);
  for (int y = cy * 16; y < cy * 16 + 16 && y < h; y++)
    for (int x = cx * 16; x < cx * 16 + 16 && x < w; x++)
      if (((da[y * wpa + x] ^ db[y * wpb + x]) & 0xffffff00) && !masked(e, x, y))
        return false;
  return true;
}

/* The vendor's change is the same on every screen of the window: carry it over to the
 * other steps of the same window. A cell is patched only where that step showed exactly
 * what the approved step showed before (static content), never where it held other data.
 * Returns how many entries changed. */
static int propagate(const char *baseline, const char *key, PIX *old_img, PIX *new_img,
                     const char *wclass, rt_ocr *ocr)
{
  int w = (int)pixGetWidth(new_img), h = (int)pixGetHeight(new_img);
  if ((int)pixGetWidth(old_img) != w || (int)pixGetHeight(old_img) != h) {
    printf("  the window changed size (%ux%u -> %dx%d): the other steps are not carried "
           "over; re-record them after review: vagt record --replace SCRIPT\n",
           pixGetWidth(old_img), pixGetHeight(old_img), w, h);
    return 0;
  }
  int cols = (w + 15) / 16, rows = (h + 15) / 16;
  unsigned char *changed = calloc((size_t)cols * rows, 1);
  int nchanged = 0;
  for (int cy = 0; changed && cy < rows; cy++)
    for (int cx = 0; cx < cols; cx++)
      if (!cell_equal(old_img, new_img, cx, cy, NULL)) {
        changed[cy * cols + cx] = 1;
        nchanged++;
      }
  DIR *d = nchanged ? opendir(baseline) : NULL;
  int updated = 0;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", baseline, de->d_name);
    fp_fingerprint *e = NULL;
    fp_error fe = {0};
    if (fp_entry_load(path, &e, &fe) != FP_OK) {
      fprintf(stderr, "  skipped %s: %s\n", path, fe.message);
      continue;
    }
    if (strcmp(e->key, key) == 0 || strcmp(e->win_class ? e->win_class : "", wclass) != 0 ||
        e->width != w || e->height != h || !e->image) {
      fp_fingerprint_free(e);
      continue;
    }
    PIX *img = pixCopy(NULL, e->image);
    int patched = 0;
    for (int cy = 0; img && cy < rows; cy++)
      for (int cx = 0; cx < cols; cx++)
        if (changed[cy * cols + cx] && cell_equal(e->image, old_img, cx, cy, e)) {
          int cw = cx * 16 + 16 > w ? w - cx * 16 : 16, ch = cy * 16 + 16 > h ? h - cy * 16 : 16;
          pixRasterop(img, cx * 16, cy * 16, cw, ch, PIX_SRC, new_img, cx * 16, cy * 16);
          patched++;
        }
    if (patched && recompute(baseline, e, img, ocr, &fe) == FP_OK) {
      printf("  carried over to step '%s' (%d cells)\n", e->key, patched);
      updated++;
    } else if (patched) {
      fprintf(stderr, "  could not update step '%s': %s\n", e->key, fe.message);
    }
    pixDestroy(&img);
    fp_fingerprint_free(e);
  }
  if (d)
    closedir(d);
  free(changed);
  return updated;
}

int rt_cmd_approve(int argc, char **argv)
{
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: vagt approve RUN_DIR\n"
                    "  accept today's screen of a drift-halted run as the step's baseline\n");
    return RT_EXIT_USAGE;
  }
  const char *dir = argv[1];
  char path[4096];
  snprintf(path, sizeof path, "%s/alert.json", dir);
  char *text = rt_read_file(path, NULL);
  if (!text) {
    fprintf(stderr, "vagt approve: %s: no alert.json: not a run that halted on drift\n", dir);
    return RT_EXIT_USAGE;
  }
  cJSON *a = cJSON_Parse(text);
  free(text);
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(a, "evidence");
  const char *baseline = jstr(a, "baseline"), *key = jstr(step, "key");
  const char *current = jstr(ev, "current"), *wclass = jstr(step, "window_class");
  if (!a || !baseline || !key || !current) {
    fprintf(stderr, "vagt approve: %s: field %s missing or not a string\n", path,
            !a ? "(JSON)" : !baseline ? "baseline" : !key ? "step.key" : "evidence.current");
    cJSON_Delete(a);
    return RT_EXIT_USAGE;
  }
  snprintf(path, sizeof path, "%s/%s", dir, current);
  PIX *img = pixRead(path);
  if (!img) {
    fprintf(stderr, "vagt approve: cannot read the screen %s\n", path);
    cJSON_Delete(a);
    return RT_EXIT_USAGE;
  }
  /* Anchors come from OCR of the approved screen, as when recording. */
  char err[1024];
  rt_ocr *ocr = rt_ocr_new(NULL, err, sizeof err);
  if (!ocr) {
    fprintf(stderr, "vagt approve: OCR: %s\n", err);
    pixDestroy(&img);
    cJSON_Delete(a);
    return RT_EXIT_ENV;
  }
  int nw;
  fp_word *words = rt_monitor_words(ocr, img, &nw, err, sizeof err);
  const cJSON *jw = cJSON_GetObjectItemCaseSensitive(a, "windows");
  const cJSON *jm = cJSON_GetObjectItemCaseSensitive(a, "masks");
  int nwin = cJSON_GetArraySize(jw), nmask = cJSON_GetArraySize(jm);
  fp_window *wins = calloc((size_t)nwin + 1, sizeof *wins);
  fp_mask *masks = calloc((size_t)nmask + 1, sizeof *masks);
  int k = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, jw) {
    wins[k].cls = (char *)(jstr(it, "class") ? jstr(it, "class") : "");
    wins[k].name = (char *)(jstr(it, "name") ? jstr(it, "name") : "");
    wins[k].box = (fp_rect){jint(it, "x"), jint(it, "y"), jint(it, "w"), jint(it, "h")};
    k++;
  }
  k = 0;
  cJSON_ArrayForEach(it, jm) {
    masks[k].r = (fp_rect){jint(it, "x"), jint(it, "y"), jint(it, "w"), jint(it, "h")};
    masks[k].source = FP_MASK_DECLARED;
    k++;
  }
  fp_input in = {.image = img, .win_class = wclass ? wclass : "", .windows = wins,
                 .n_windows = nwin, .words = words, .n_words = nw > 0 ? nw : 0,
                 .has_words = nw >= 0, .masks = masks, .n_masks = nmask};
  fp_options opt;
  fp_options_default(&opt);
  fp_fingerprint *fp = NULL, *old = NULL;
  int rc = fp_compute(&in, key, &opt, &fp);
  fp_error fe = {0};
  if (rc == FP_OK) {
    /* Keep what earlier recordings learned to be volatile when the window kept its size. */
    if (fp_store_load(baseline, key, &old, &fe) == FP_OK && old->cols == fp->cols &&
        old->rows == fp->rows && old->learned && fp->learned)
      memcpy(fp->learned, old->learned, (size_t)fp->cols * (size_t)fp->rows);
    memset(&fe, 0, sizeof fe);
    rc = fp_store_save(baseline, fp, &fe);
  }
  int code = RT_EXIT_OK;
  if (rc != FP_OK) {
    fprintf(stderr, "vagt approve: cannot write the baseline entry for '%s' in %s: %s\n", key,
            baseline, fe.message[0] ? fe.message : "fingerprint error");
    code = RT_EXIT_ENV;
  } else {
    char now[40];
    rt_rfc3339(now, sizeof now);
    cJSON *ap = cJSON_CreateObject();
    cJSON_AddStringToObject(ap, "approved", now);
    cJSON_AddStringToObject(ap, "step", key);
    cJSON_AddStringToObject(ap, "baseline", baseline);
    const char *user = getenv("SUDO_USER") ? getenv("SUDO_USER") : getenv("USER");
    cJSON_AddStringToObject(ap, "by", user ? user : "");
    char *t = cJSON_Print(ap);
    if (t && rt_write_file_atomic(dir, "approved.json", t, strlen(t), err, sizeof err) != 0)
      fprintf(stderr, "vagt approve: %s\n", err);
    cJSON_free(t);
    cJSON_Delete(ap);
    printf("approved: step '%s' now expects the screen of %s (baseline %s)\n", key, dir,
           baseline);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(a, "reasons"))
      if (cJSON_IsString(r))
        printf("  accepted: %s\n", r->valuestring);
    printf("  note: robots click where the script says; if fields moved or swapped, fix the "
           "script's coordinates or labels too\n");
    if (old && old->image) {
      int n = propagate(baseline, key, old->image, img, wclass ? wclass : "", ocr);
      printf("  %d other step%s of this window updated\n", n, n == 1 ? "" : "s");
    }
  }
  fp_fingerprint_free(old);
  fp_fingerprint_free(fp);
  rt_monitor_words_free(words, nw > 0 ? nw : 0);
  free(wins);
  free(masks);
  rt_ocr_free(ocr);
  pixDestroy(&img);
  cJSON_Delete(a);
  return code;
}
