/* `vagt approve RUN_DIR`: after an operator has reviewed a drift-halted run (its report
 * shows recorded, current and diff side by side), today's screen of the halted step (the
 * target window and the pop-ups and dialogs of its scene) becomes that step's baseline
 * entry. Replacing a baseline is always this explicit.
 *
 * The run folder belongs to whoever ran the robot and approve may run as someone else
 * (root, the agent): nothing in it is trusted. The baseline, the step key and the image
 * come from the run's own record (run.json and its halted step) and alert.json must agree
 * with it; the image must lie in the folder's evidence/; every file read is a regular
 * file of a bounded size; approved.json is written through a file approve creates. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fp.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "run.h"
#include "runfolder.h"
#include "approve.h"
#include "vu.h"

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

/* One window of an entry (the target, or a layer) recomputed from a patched image: new
 * anchors from OCR; its place, masks and learned cells kept. The result replaces *w. */
static int recompute_window(fp_fingerprint **w, PIX *img, rt_ocr *ocr)
{
  char err[1024];
  int nw;
  fp_fingerprint *e = *w;
  fp_word *words = rt_monitor_words(ocr, img, &nw, err, sizeof err);
  fp_input in = {.image = img,
                 .win_class = e->win_class,
                 .win_name = e->win_name,
                 .role = e->role,
                 .x = e->x,
                 .y = e->y,
                 .front = e->front,
                 .words = words,
                 .n_words = nw > 0 ? nw : 0,
                 .has_words = nw >= 0,
                 .masks = e->masks,
                 .n_masks = e->n_masks};
  fp_options opt;
  fp_options_default(&opt);
  fp_fingerprint *fp = NULL;
  int rc = fp_compute(&in, e->key, &opt, &fp);
  rt_monitor_words_free(words, nw > 0 ? nw : 0);
  if (rc != FP_OK)
    return rc;
  if (fp->cols == e->cols && fp->rows == e->rows && fp->learned && e->learned)
    memcpy(fp->learned, e->learned, (size_t)fp->cols * (size_t)fp->rows);
  fp->recordings = e->recordings;
  fp->version = e->version;
  fp->layers = e->layers; /* a target keeps its layers */
  fp->n_layers = e->n_layers;
  e->layers = NULL;
  e->n_layers = 0;
  fp_fingerprint_free(e);
  *w = fp;
  return FP_OK;
}

/* The cells where the update changed a window: where its old and new images differ,
 * leaving out what its new entry masks (parts another window covered, declared regions). */
static unsigned char *changed_cells(PIX *old_img, const fp_fingerprint *now, int *n)
{
  *n = 0;
  PIX *new_img = now->image;
  int w = (int)pixGetWidth(new_img), h = (int)pixGetHeight(new_img);
  if ((int)pixGetWidth(old_img) != w || (int)pixGetHeight(old_img) != h)
    return NULL;
  int cols = (w + FP_CELL - 1) / FP_CELL, rows = (h + FP_CELL - 1) / FP_CELL;
  unsigned char *changed = calloc((size_t)cols * rows + 1, 1);
  for (int cy = 0; changed && cy < rows; cy++)
    for (int cx = 0; cx < cols; cx++)
      if (!fp_cell_equal(old_img, new_img, cx, cy, now)) {
        changed[cy * cols + cx] = 1;
        (*n)++;
      }
  return changed;
}

/* A copy of e's image with the changed cells taken from new_img where e showed exactly
 * what old_img showed (static content, never another step's data); NULL when none. */
static PIX *patched(const fp_fingerprint *e, PIX *old_img, PIX *new_img,
                    const unsigned char *changed, int *count)
{
  *count = 0;
  int w = (int)pixGetWidth(new_img), h = (int)pixGetHeight(new_img);
  if (!e->image || e->width != w || e->height != h)
    return NULL;
  int cols = (w + FP_CELL - 1) / FP_CELL, rows = (h + FP_CELL - 1) / FP_CELL;
  PIX *img = pixCopy(NULL, e->image);
  for (int cy = 0; img && cy < rows; cy++)
    for (int cx = 0; cx < cols; cx++)
      if (changed[cy * cols + cx] && fp_cell_equal(e->image, old_img, cx, cy, e)) {
        int x = cx * FP_CELL, y = cy * FP_CELL;
        int cw = x + FP_CELL > w ? w - x : FP_CELL, ch = y + FP_CELL > h ? h - y : FP_CELL;
        pixRasterop(img, x, y, cw, ch, PIX_SRC, new_img, x, y);
        (*count)++;
      }
  if (!*count)
    pixDestroy(&img);
  return img;
}

static bool same_window(const fp_fingerprint *a, const fp_fingerprint *b)
{
  return a->role == b->role &&
         !strcmp(a->win_class ? a->win_class : "", b->win_class ? b->win_class : "") &&
         a->width == b->width && a->height == b->height;
}

/* The vendor's change is the same on every screen of the window: carry it over to the
 * other steps of the same window, and to the same pop-up or dialog where those steps show
 * it. A cell is patched only where that step showed exactly what the approved step showed
 * before (static content), never where it held other data. Returns how many entries
 * changed. */
static void entry_files(const char *baseline, const char *key, cJSON *files);

static int propagate(const char *baseline, const fp_fingerprint *old, const fp_fingerprint *now,
                     rt_ocr *ocr, cJSON *files)
{
  if (old->width != now->width || old->height != now->height) {
    printf("  the window changed size (%dx%d -> %dx%d): the other steps are not carried "
           "over; re-record them after review: vagt record --replace SCRIPT\n",
           old->width, old->height, now->width, now->height);
    return 0;
  }
  /* the windows of the approved step, old and new, paired */
  const fp_fingerprint *po[1 + FP_MAX_LAYERS], *pn[1 + FP_MAX_LAYERS];
  unsigned char *ch[1 + FP_MAX_LAYERS];
  int np = 0, total = 0;
  bool used[FP_MAX_LAYERS] = {0};
  for (int i = -1; i < old->n_layers && np <= FP_MAX_LAYERS; i++) {
    const fp_fingerprint *o = i < 0 ? old : old->layers[i], *n = i < 0 ? now : NULL;
    for (int j = 0; !n && j < now->n_layers; j++)
      if (!used[j] && same_window(o, now->layers[j])) {
        used[j] = true;
        n = now->layers[j];
      }
    if (!n)
      continue;
    int c;
    po[np] = o;
    pn[np] = n;
    ch[np] = changed_cells(o->image, n, &c);
    total += c;
    np++;
  }
  DIR *d = total ? opendir(baseline) : NULL;
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
    if (e->version < FP_FORMAT_JUDGED) {
      fprintf(stderr, "  skipped step '%s': format %d, re-record it (vagt record --replace)\n",
              e->key, e->version);
      fp_fingerprint_free(e);
      continue;
    }
    if (strcmp(e->key, now->key) == 0 || !same_window(e, now)) {
      fp_fingerprint_free(e);
      continue;
    }
    int cells = 0, rc = FP_OK;
    for (int k = 0; k < np && rc == FP_OK; k++) {
      if (!ch[k])
        continue;
      for (int i = -1; i < e->n_layers && rc == FP_OK; i++) {
        fp_fingerprint **w = i < 0 ? &e : &e->layers[i];
        if ((k == 0) != (i < 0) || !same_window(*w, po[k]))
          continue;
        int c;
        PIX *img = patched(*w, po[k]->image, pn[k]->image, ch[k], &c);
        if (img) {
          rc = recompute_window(w, img, ocr);
          cells += c;
        }
        pixDestroy(&img);
      }
    }
    if (cells && rc == FP_OK && fp_store_save(baseline, e, &fe) == FP_OK) {
      printf("  carried over to step '%s' (%d cells)\n", e->key, cells);
      entry_files(baseline, e->key, files);
      updated++;
    } else if (cells) {
      fprintf(stderr, "  could not update step '%s': %s\n", e->key,
              fe.message[0] ? fe.message : "fingerprint error");
    }
    fp_fingerprint_free(e);
  }
  if (d)
    closedir(d);
  for (int k = 0; k < np; k++)
    free(ch[k]);
  return updated;
}

/* The halted step's scene, rebuilt from evidence "current" and the plan's windows: each
 * window cropped from the image, with its OCR words and the masks that belong to the
 * baseline. */
typedef struct {
  fp_input in;
  fp_input layers[FP_MAX_LAYERS];
  PIX *img[1 + FP_MAX_LAYERS];
  fp_mask *masks[1 + FP_MAX_LAYERS];
  fp_word *words[1 + FP_MAX_LAYERS];
  int nwords[1 + FP_MAX_LAYERS];
} approved;

static void approved_free(approved *sc)
{
  for (int i = 0; i <= FP_MAX_LAYERS; i++) {
    pixDestroy(&sc->img[i]);
    free(sc->masks[i]);
    rt_monitor_words_free(sc->words[i], sc->nwords[i] > 0 ? sc->nwords[i] : 0);
  }
}

int rt_approve_scene(const cJSON *a, int W, int H, rt_approve_plan *p, char *err, size_t n)
{
  const cJSON *scene = cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_SCENE);
  const cJSON *wins = cJSON_GetObjectItemCaseSensitive(scene, RT_ALERTJ_WINDOWS);
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_STEP);
  int nw = scene ? cJSON_GetArraySize(wins) : 1;
  if (nw < 1 || nw > 1 + FP_MAX_LAYERS) {
    snprintf(err, n, "field 'scene.windows' must list 1 to %d windows", 1 + FP_MAX_LAYERS);
    return -1;
  }
  static const char *const roles[] = {"target", "popup", "dialog", "over"};
  for (int i = 0; i < nw; i++) {
    const cJSON *w = scene ? cJSON_GetArrayItem(wins, i) : NULL;
    rt_approve_win *pw = &p->w[i];
    fp_rect r = {0, 0, W, H};
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(w ? w : a, RT_ALERTJ_WIN_MASKS);
    if (w) {
      r = (fp_rect){jint(w, RT_ALERTJ_X), jint(w, RT_ALERTJ_Y), jint(w, RT_ALERTJ_W),
                    jint(w, RT_ALERTJ_H)};
      const char *role = jstr(w, RT_ALERTJ_WIN_ROLE);
      int k = 0;
      while (k < 4 && (!role || strcmp(role, roles[k])))
        k++;
      if (k == 4 || (i == 0) != (k == 0)) {
        snprintf(err, n, "field 'scene.windows[%d].role': %s", i,
                 i ? "expected \"popup\", \"dialog\" or \"over\"" : "expected \"target\"");
        return -1;
      }
      pw->role = (fp_win_role)k;
      pw->front = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, RT_ALERTJ_WIN_FRONT));
      pw->win_class = jstr(w, RT_ALERTJ_WIN_CLASS) ? jstr(w, RT_ALERTJ_WIN_CLASS) : "";
      pw->win_name = jstr(w, RT_ALERTJ_WIN_NAME) ? jstr(w, RT_ALERTJ_WIN_NAME) : "";
    } else {
      pw->role = FP_WIN_TARGET;
      pw->win_class =
          jstr(step, RT_ALERTJ_STEP_WINDOW_CLASS) ? jstr(step, RT_ALERTJ_STEP_WINDOW_CLASS) : "";
      pw->win_name = "";
    }
    if (r.w <= 0 || r.h <= 0 || r.x < 0 || r.y < 0 || (int64_t)r.x + r.w > W ||
        (int64_t)r.y + r.h > H) {
      snprintf(err, n, "field 'scene.windows[%d]': (%d,%d) %dx%d is not inside the %dx%d image", i,
               r.x, r.y, r.w, r.h, W, H);
      return -1;
    }
    pw->r = r;
    int nm = cJSON_GetArraySize(ms), k = 0;
    if (nm > FP_MAX_MASKS) {
      snprintf(err, n, "field 'scene.windows[%d].masks': more than %d masks", i, FP_MAX_MASKS);
      return -1;
    }
    if (!(pw->masks = calloc((size_t)nm + 1, sizeof(fp_mask)))) {
      snprintf(err, n, "out of memory");
      return -1;
    }
    p->nw = i + 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, ms)
    {
      const char *src = jstr(it, RT_ALERTJ_MASK_SOURCE);
      /* bounded to the window: nothing outside it, no arithmetic that overflows */
      int64_t x0 = jint(it, RT_ALERTJ_X), y0 = jint(it, RT_ALERTJ_Y);
      int64_t x1 = x0 + jint(it, RT_ALERTJ_W), y1 = y0 + jint(it, RT_ALERTJ_H);
      x0 = x0 < 0 ? 0 : x0;
      y0 = y0 < 0 ? 0 : y0;
      x1 = x1 > r.w ? r.w : x1;
      y1 = y1 > r.h ? r.h : y1;
      if (x1 <= x0 || y1 <= y0)
        continue;
      pw->masks[k].r = (fp_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
      pw->masks[k].source = src && !strcmp(src, "occluded") ? FP_MASK_OCCLUDED : FP_MASK_DECLARED;
      k++;
    }
    pw->nmasks = k;
  }
  return 0;
}

void rt_approve_plan_free(rt_approve_plan *p)
{
  for (int i = 0; i < p->nw; i++)
    free(p->w[i].masks);
  p->nw = 0;
}

static int scene_from(rt_approve_plan *p, PIX *cur, rt_ocr *ocr, approved *sc, char *err, size_t n)
{
  memset(sc, 0, sizeof *sc);
  int tx = p->w[0].r.x, ty = p->w[0].r.y;
  for (int i = 0; i < p->nw; i++) {
    rt_approve_win *pw = &p->w[i];
    fp_input *in = i ? &sc->layers[i - 1] : &sc->in;
    in->role = pw->role;
    in->front = pw->front;
    in->win_class = pw->win_class;
    in->win_name = pw->win_name;
    in->x = pw->r.x - tx;
    in->y = pw->r.y - ty;
    BOX *b = boxCreate(pw->r.x, pw->r.y, pw->r.w, pw->r.h);
    sc->img[i] = b ? pixClipRectangle(cur, b, NULL) : NULL;
    boxDestroy(&b);
    if (!sc->img[i]) {
      snprintf(err, n, "cannot cut window %d out of the image", i);
      return -1;
    }
    in->image = sc->img[i];
    sc->masks[i] = pw->masks; /* the scene owns them from here */
    pw->masks = NULL;
    in->masks = sc->masks[i];
    in->n_masks = pw->nmasks;
    char oerr[512];
    sc->words[i] = rt_monitor_words(ocr, sc->img[i], &sc->nwords[i], oerr, sizeof oerr);
    in->words = sc->words[i];
    in->n_words = sc->nwords[i] > 0 ? sc->nwords[i] : 0;
    in->has_words = sc->nwords[i] >= 0;
  }
  sc->in.layers = sc->layers;
  sc->in.n_layers = p->nw - 1;
  return 0;
}

#define RUN_JSON_MAX ((size_t)64 << 20) /* the previous layout held every step */
#define ALERT_MAX ((size_t)4 << 20)
#define PNG_MAX ((size_t)256 << 20)

/* A JSON object from a regular file of the run folder of at most max bytes; NULL with a
 * message naming the file. */
static cJSON *read_json(const char *dir, const char *name, size_t max)
{
  char path[4096], err[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = vu_read_file(path, max, VU_NOFOLLOW, NULL, err, sizeof err);
  if (!text) {
    fprintf(stderr, "vagt approve: %s\n", err);
    return NULL;
  }
  cJSON *j = cJSON_Parse(text);
  free(text);
  if (!cJSON_IsObject(j)) {
    fprintf(stderr, "vagt approve: %s: not a JSON object\n", path);
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

/* "evidence/NAME.png" with a plain file name: nothing outside the folder's evidence/. */
static bool evidence_name_ok(const char *p)
{
  if (strncmp(p, "evidence/", 9) != 0 || p[9] == '.' || p[9] == '\0')
    return false;
  size_t n = strlen(p);
  if (n < 14 || strcmp(p + n - 4, ".png") != 0)
    return false;
  for (const char *c = p + 9; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
      return false;
  return true;
}

/* The halted step's screen: a regular PNG file in the folder's own evidence/ (no symlink
 * on the way), of bounded size and dimensions, checked before it is decoded. */
static PIX *read_evidence(const char *dir, const char *rel)
{
  char path[4096], err[4200];
  snprintf(path, sizeof path, "%s/evidence", dir);
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "vagt approve: %s is not a folder (a symlink is refused)\n", path);
    return NULL;
  }
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  size_t len = 0;
  char *data = vu_read_file(path, PNG_MAX, VU_NOFOLLOW, &len, err, sizeof err);
  if (!data) {
    fprintf(stderr, "vagt approve: %s\n", err);
    return NULL;
  }
  PIX *img = NULL;
  fp_error fe = {0};
  if (fp_image_read_mem(data, len, path, &img, &fe) != FP_OK) /* size checked first */
    fprintf(stderr, "vagt approve: %s\n", fe.message[0] ? fe.message : path);
  free(data);
  return img;
}

int rt_approve_record(const cJSON *run, rt_approve_plan *p, char *err, size_t n)
{
  memset(p, 0, sizeof *p);
  const char *status = jstr(run, RT_RUNJ_STATUS);
  const cJSON *hs = rt_runjson_last_step(run);
  p->baseline = jstr(run, RT_RUNJ_BASELINE);
  p->key = jstr(hs, RT_STEPJ_KEY);
  p->current = jstr(cJSON_GetObjectItemCaseSensitive(hs, RT_STEPJ_EVIDENCE), RT_EVJ_CURRENT);
  if (!status || strcmp(status, "drift") != 0) {
    snprintf(err, n,
             "field 'status' is '%.64s': only a run that halted on drift can be "
             "approved",
             status ? status : "(missing)");
    return -1;
  }
  const char *field = NULL, *why = "is missing or not a string";
  if (!p->baseline || !*p->baseline)
    field = "baseline";
  else if (!p->key || !*p->key)
    field = "last_step.key";
  else if (strcmp(jstr(hs, RT_STEPJ_VERDICT) ? jstr(hs, RT_STEPJ_VERDICT) : "", "drift") != 0)
    field = "last_step.verdict", why = "is not \"drift\": the run did not halt on this step";
  else if (!p->current)
    field = "last_step.evidence.current";
  else if (!evidence_name_ok(p->current))
    field = "last_step.evidence.current",
    why = "must name a PNG file in the run's evidence/ folder: refused";
  if (field) {
    snprintf(err, n, "field '%s' %s", field, why);
    return -1;
  }
  return 0;
}

int rt_approve_agree(const cJSON *a, const rt_approve_plan *p, char *err, size_t n)
{
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_STEP);
  const char *abase = jstr(a, RT_ALERTJ_BASELINE), *akey = jstr(step, RT_ALERTJ_STEP_KEY);
  const char *acur = jstr(cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_EVIDENCE), RT_EVJ_CURRENT);
  const char *bad = abase && strcmp(abase, p->baseline) ? "baseline"
                    : !akey || strcmp(akey, p->key)     ? "step.key"
                    : acur && strcmp(acur, p->current)  ? "evidence.current"
                                                        : NULL;
  if (bad) {
    snprintf(err, n, "field '%s' does not match the run's record (run.json): refused", bad);
    return -1;
  }
  return 0;
}

/* The files of the baseline entry for `key` (DIR/<stem>.json and its PNGs), by name, added
 * to `files`: what an approval replaced. */
static void entry_files(const char *baseline, const char *key, cJSON *files)
{
  char *stem = fp_sanitize_key(key);
  DIR *d = stem && files ? opendir(baseline) : NULL;
  size_t sl = stem ? strlen(stem) : 0;
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strncmp(de->d_name, stem, sl) == 0 &&
        (de->d_name[sl] == '.' || de->d_name[sl] == '-' || de->d_name[sl] == '_'))
      cJSON_AddItemToArray(files, cJSON_CreateString(de->d_name));
  if (d)
    closedir(d);
  free(stem);
}

/* Who approves on the command line: the login user (SUDO_USER under sudo, else the user of
 * the real uid), never $USER, which anyone can set. */
static void login_user(char *buf, size_t n)
{
  const char *su = getenv("SUDO_USER");
  struct passwd *pw = getpwuid(getuid());
  if (su && *su)
    snprintf(buf, n, "%s", su);
  else if (pw && pw->pw_name)
    snprintf(buf, n, "%s", pw->pw_name);
  else
    snprintf(buf, n, "uid %u", (unsigned)getuid());
}

#define APPROVE_MAX_BY 16

int rt_cmd_approve(int argc, char **argv)
{
  /* --by NAME (repeatable): the operators who approved on the agent's pages, in order. The
   * agent's word, not proof: whoever runs `vagt approve` may write any name here. */
  /* --baseline DIR: the folder to write instead of the one run.json names (a fleet's node
   * approving a run another node ran, in a copy of its folder). */
  const char *by[APPROVE_MAX_BY], *into = NULL;
  int nby = 0, ai = 1;
  for (;;) {
    if (ai + 1 < argc && strcmp(argv[ai], "--by") == 0 && nby < APPROVE_MAX_BY)
      by[nby++] = argv[ai + 1];
    else if (ai + 1 < argc && strcmp(argv[ai], "--baseline") == 0 && !into)
      into = argv[ai + 1];
    else
      break;
    ai += 2;
  }
  bool by_ok = true;
  for (int i = 0; i < nby; i++)
    for (const char *p = by[i]; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        by_ok = false;
  if (argc != ai + 1 || argv[ai][0] == '-' || !by_ok) {
    fprintf(stderr, "usage: vagt approve [--by NAME]... [--baseline DIR] RUN_DIR\n"
                    "  accept today's screen of a drift-halted run as the step's baseline\n"
                    "  --by NAME  the operator(s) who approved on the agent's pages (the agent "
                    "passes it;\n"
                    "             recorded as the agent's word, beside the login user)\n"
                    "  --baseline DIR  write this baseline folder, not the one run.json names\n"
                    "             (a fleet's node approving a run another node ran)\n");
    return RT_EXIT_USAGE;
  }
  const char *dir = argv[ai];
  char path[4096];
  char rerr[512];
  /* A run that died without writing its end is marked so, and is no drift to approve. */
  if (rt_runfolder_reap(dir, rerr, sizeof rerr) < 0)
    fprintf(stderr, "vagt approve: %s\n", rerr);
  cJSON *run = read_json(dir, RT_RUN_JSON, RUN_JSON_MAX);
  if (!run)
    return RT_EXIT_USAGE;
  char err[1024];
  rt_approve_plan plan;
  snprintf(path, sizeof path, "%s/run.json", dir);
  if (rt_approve_record(run, &plan, err, sizeof err) != 0) {
    fprintf(stderr, "vagt approve: %s: %s\n", path, err);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  const char *baseline = into ? into : plan.baseline, *key = plan.key, *current = plan.current;
  struct stat bst;
  if (stat(baseline, &bst) != 0 || !S_ISDIR(bst.st_mode)) {
    if (into)
      fprintf(stderr, "vagt approve: --baseline %s is not a folder\n", baseline);
    else
      fprintf(stderr, "vagt approve: %s: field 'baseline': %s is not a folder\n", path, baseline);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  cJSON *a = read_json(dir, RT_ALERT_JSON, ALERT_MAX);
  if (!a) {
    fprintf(stderr, "vagt approve: %s: a run that halted on drift has an alert.json\n", dir);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  /* alert.json describes the scene; where it names the baseline, the step or the image it
   * must say what the run recorded. */
  if (rt_approve_agree(a, &plan, err, sizeof err) != 0) {
    fprintf(stderr, "vagt approve: %s/alert.json: %s\n", dir, err);
    cJSON_Delete(a);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  PIX *img = read_evidence(dir, current);
  if (!img) {
    cJSON_Delete(a);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  if (rt_approve_scene(a, (int)pixGetWidth(img), (int)pixGetHeight(img), &plan, err, sizeof err) !=
      0) {
    fprintf(stderr, "vagt approve: %s/alert.json: %s\n", dir, err);
    rt_approve_plan_free(&plan);
    pixDestroy(&img);
    cJSON_Delete(a);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  /* Anchors come from OCR of the approved screen, as when recording. */
  rt_ocr *ocr = rt_ocr_new(NULL, err, sizeof err);
  if (!ocr) {
    fprintf(stderr, "vagt approve: OCR: %s\n", err);
    rt_approve_plan_free(&plan);
    pixDestroy(&img);
    cJSON_Delete(a);
    cJSON_Delete(run);
    return RT_EXIT_ENV;
  }
  approved sc;
  int sr = scene_from(&plan, img, ocr, &sc, err, sizeof err);
  rt_approve_plan_free(&plan); /* what it held is the scene's now */
  if (sr != 0) {
    fprintf(stderr, "vagt approve: %s/alert.json: %s\n", dir, err);
    approved_free(&sc);
    rt_ocr_free(ocr);
    pixDestroy(&img);
    cJSON_Delete(a);
    cJSON_Delete(run);
    return RT_EXIT_USAGE;
  }
  fp_options opt;
  fp_options_default(&opt);
  fp_fingerprint *fp = NULL, *old = NULL;
  fp_error fe = {0};
  /* What the robot typed into or changed while recording stays data (same window size) */
  if (fp_store_load(baseline, key, &old, &fe) == FP_OK && old->version >= FP_FORMAT_JUDGED &&
      old->width == (int)pixGetWidth(sc.img[0]) && old->height == (int)pixGetHeight(sc.img[0])) {
    fp_mask *all = realloc(sc.masks[0], (size_t)(sc.in.n_masks + old->n_masks + 1) * sizeof *all);
    if (all) {
      sc.masks[0] = all;
      for (int i = 0; i < old->n_masks; i++)
        if (old->masks[i].source == FP_MASK_ROBOT || old->masks[i].source == FP_MASK_TYPED)
          all[sc.in.n_masks++] = old->masks[i];
      sc.in.masks = all;
    }
  }
  fp_fingerprint_free(old);
  old = NULL;
  memset(&fe, 0, sizeof fe);
  int rc = fp_compute(&sc.in, key, &opt, &fp);
  cJSON *replaced = cJSON_CreateArray(); /* the entry's files before (approved.json) */
  if (rc == FP_OK) {
    /* Keep what earlier recordings learned to be volatile when the window kept its size. */
    if (fp_store_load(baseline, key, &old, &fe) == FP_OK && old->version >= FP_FORMAT_JUDGED &&
        old->cols == fp->cols && old->rows == fp->rows && old->learned && fp->learned)
      memcpy(fp->learned, old->learned, (size_t)fp->cols * (size_t)fp->rows);
    memset(&fe, 0, sizeof fe);
    entry_files(baseline, key, replaced);
    rc = fp_store_save(baseline, fp, &fe);
  }
  int code = RT_EXIT_OK;
  if (rc != FP_OK) {
    fprintf(stderr, "vagt approve: cannot write the baseline entry for '%s' in %s: %s\n", key,
            baseline, fe.message[0] ? fe.message : "fingerprint error");
    code = RT_EXIT_ENV;
  } else {
    char now[40];
    vu_rfc3339(vu_wall(), true, now, sizeof now);
    cJSON *ap = cJSON_CreateObject();
    cJSON_AddStringToObject(ap, RT_APPRJ_APPROVED, now);
    cJSON_AddStringToObject(ap, RT_APPRJ_STEP, key);
    cJSON_AddStringToObject(ap, RT_APPRJ_BASELINE, baseline);
    char login[256];
    login_user(login, sizeof login);
    /* who: the operators the agent names (--by), else the login user */
    cJSON_AddStringToObject(ap, RT_APPRJ_BY, nby ? by[nby - 1] : login);
    cJSON_AddStringToObject(ap, RT_APPRJ_BY_SOURCE, nby ? "agent" : "login");
    cJSON *who = cJSON_AddArrayToObject(ap, RT_APPRJ_APPROVERS);
    for (int i = 0; i < nby; i++)
      cJSON_AddItemToArray(who, cJSON_CreateString(by[i]));
    if (!nby)
      cJSON_AddItemToArray(who, cJSON_CreateString(login));
    cJSON_AddStringToObject(ap, RT_APPRJ_LOGIN_USER, login);
    cJSON_AddStringToObject(ap, RT_APPRJ_RUN, dir);
    const cJSON *r;
    cJSON *reasons = cJSON_AddArrayToObject(ap, RT_APPRJ_REASONS);
    cJSON_ArrayForEach(
        r, cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_REASONS)) if (cJSON_IsString(r))
        cJSON_AddItemToArray(reasons, cJSON_CreateString(r->valuestring));
    cJSON_AddItemToObject(ap, RT_APPRJ_FILES_REPLACED, replaced);
    replaced = NULL;
    cJSON *files = cJSON_AddArrayToObject(ap, RT_APPRJ_FILES);
    entry_files(baseline, key, files);
    cJSON *also = cJSON_AddArrayToObject(ap, RT_APPRJ_CARRIED_OVER);
    int carried = -1;
    if (old && old->image) {
      printf("approved: step '%s' now expects the screen of %s (baseline %s)\n", key, dir,
             baseline);
      carried = propagate(baseline, old, fp, ocr, also);
    }
    char *t = cJSON_Print(ap);
    if (t && rt_write_file_atomic(dir, RT_APPROVED_JSON, t, strlen(t), err, sizeof err) != 0)
      fprintf(stderr, "vagt approve: %s\n", err);
    cJSON_free(t);
    cJSON_Delete(ap);
    if (carried < 0)
      printf("approved: step '%s' now expects the screen of %s (baseline %s)\n", key, dir,
             baseline);
    printf("  approved by %s (%s)\n", nby ? by[nby - 1] : login,
           nby ? "named by the agent" : "login user");
    cJSON_ArrayForEach(
        r, cJSON_GetObjectItemCaseSensitive(a, RT_ALERTJ_REASONS)) if (cJSON_IsString(r))
        printf("  accepted: %s\n", r->valuestring);
    printf("  note: robots click where the script says; if fields moved or swapped, fix the "
           "script's coordinates or labels too\n");
    if (carried >= 0)
      printf("  %d other step%s of this window updated\n", carried, carried == 1 ? "" : "s");
  }
  cJSON_Delete(replaced);
  fp_fingerprint_free(old);
  fp_fingerprint_free(fp);
  approved_free(&sc);
  rt_ocr_free(ocr);
  pixDestroy(&img);
  cJSON_Delete(a);
  cJSON_Delete(run);
  return code;
}
