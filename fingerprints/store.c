/* store.c - the baseline folder: one <stem>.json (cJSON, pretty) and one
 * <stem>.png (Leptonica) per step key; atomic writes, owner-only files.
 *
 * <stem> = fp_sanitize_key(key): [A-Za-z0-9._-], at most 48 characters, then
 * '-' and the FNV-1a 32 of the whole key; the real key is inside the JSON.
 * Entry (format version 2), every field required unless marked optional:
 *   format "vagt-fingerprint", version 2, key, recordings (>= 1), cell_size 16,
 *   window {class, name (optional), width, height, image (file name beside
 *     the JSON), image_fnv1a64 (digest of the PNG bytes), anchors, masks,
 *     learned},
 *   layers [{role "popup"|"dialog"|"over", front (bool), class, name, x, y
 *     (relative to the target), width, height, image, image_fnv1a64,
 *     anchors, masks, learned}]  (the scene's other windows, front-most
 *     first; each layer's PNG is <stem>.<n>.png)
 * where anchors [{text, x, y, w, h, conf, kind "label"|"button"|"entry"}]
 * (conf and kind optional), masks [{x, y, w, h, source "declared"|"typed"|
 * "learned"|"robot"|"occluded"}], learned [{x, y, w, h}] (cell-aligned
 * rectangles of volatile cells).
 * Format 1 (read, never written): image, image_fnv1a64, anchors, masks and
 * learned at the top level, window {class, width, height}, toplevels [...]
 * (ignored), no layers. Its learned cells may come from guessed text fields,
 * so fp_entry_load marks it version 1 and the runtime refuses to judge with it.
 * Cell descriptors are not stored: they are recomputed from the PNG.
 *
 * Writing is all or nothing for a whole recording (fp_recording_*; a save is
 * a recording of one entry): see "A recording" below. PNGs are named by their
 * content (<stem>.<image_fnv1a64>.png), so a new entry's never overwrite the
 * entry in use. Entries written before this (<stem>.png, <stem>.<n>.png) are
 * read as they are and replaced like any other. */
#include "fp_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_JSON_BYTES (16 * 1024 * 1024)
#define MAX_PNG_BYTES (256 * 1024 * 1024)

char *fp_sanitize_key(const char *key)
{
  if (!key)
    return NULL;
  uint32_t h = 2166136261u; /* FNV-1a of the whole key */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    h ^= *p;
    h *= 16777619u;
  }
  char stem[64];
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)key; *p && n < 48; p++) {
    char c = (char)*p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.';
    if (!ok)
      c = '_';
    if (c == '_' && n > 0 && stem[n - 1] == '_')
      continue;
    if (n == 0 && c == '.')
      c = '_';
    stem[n++] = c;
  }
  while (n > 0 && (stem[n - 1] == '_' || stem[n - 1] == '.'))
    n--;
  if (n == 0)
    stem[n++] = 'k';
  stem[n] = 0;
  char *out = malloc(n + 16);
  if (out)
    snprintf(out, n + 16, "%.*s-%08x", (int)n, stem, h);
  return out;
}

static char *join(const char *dir, const char *stem, const char *ext)
{
  size_t n = strlen(dir) + strlen(stem) + strlen(ext) + 3;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s%s", dir, stem, ext);
  return p;
}

/* FNV-1a 64 of the PNG's bytes: the JSON records it, so a PNG replaced by
 * hand or left from an interrupted write is an error, not a silent change. */
static void digest_hex(const unsigned char *p, size_t n, char out[17])
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ---- writing ---- */

static cJSON *rect_json(fp_rect r, const char *wkey, const char *hkey)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddNumberToObject(o, "x", r.x);
  cJSON_AddNumberToObject(o, "y", r.y);
  cJSON_AddNumberToObject(o, wkey, r.w);
  cJSON_AddNumberToObject(o, hkey, r.h);
  return o;
}

static const char *const mask_names[] = {"declared", "typed", "learned", "robot", "occluded"};
static const char *const role_names[] = {"target", "popup", "dialog", "over"};
static const char *const kind_names[] = {"label", "button", "entry"};

/* anchors, masks and learned cells of one window into o */
static void window_json(cJSON *o, const fp_fingerprint *fp, const char *png_name,
                        const char *digest)
{
  cJSON_AddStringToObject(o, "class", fp->win_class ? fp->win_class : "");
  cJSON_AddStringToObject(o, "name", fp->win_name ? fp->win_name : "");
  cJSON_AddNumberToObject(o, "width", fp->width);
  cJSON_AddNumberToObject(o, "height", fp->height);
  cJSON_AddStringToObject(o, "image", png_name);
  cJSON_AddStringToObject(o, "image_fnv1a64", digest);
  cJSON *an = cJSON_AddArrayToObject(o, "anchors");
  for (int i = 0; an && i < fp->n_anchors; i++) {
    const fp_word *w = &fp->anchors[i];
    cJSON *a = cJSON_CreateObject();
    if (!a)
      break;
    cJSON_AddStringToObject(a, "text", w->text);
    cJSON_AddNumberToObject(a, "x", w->box.x);
    cJSON_AddNumberToObject(a, "y", w->box.y);
    cJSON_AddNumberToObject(a, "w", w->box.w);
    cJSON_AddNumberToObject(a, "h", w->box.h);
    cJSON_AddNumberToObject(a, "conf", (int)(w->conf + 0.5f));
    cJSON_AddStringToObject(a, "kind", kind_names[w->kind <= FP_WORD_ENTRY ? w->kind : 0]);
    cJSON_AddItemToArray(an, a);
  }
  cJSON *ma = cJSON_AddArrayToObject(o, "masks");
  for (int i = 0; ma && i < fp->n_masks; i++) {
    cJSON *m = rect_json(fp->masks[i].r, "w", "h");
    if (!m)
      break;
    unsigned src = fp->masks[i].source;
    cJSON_AddStringToObject(m, "source", mask_names[src <= FP_MASK_OCCLUDED ? src : 0]);
    cJSON_AddItemToArray(ma, m);
  }
  /* learned volatile cells as cell-aligned rectangles: runs per row,
     * extended downwards while the next row has the same run */
  cJSON *le = cJSON_AddArrayToObject(o, "learned");
  uint8_t *done = calloc((size_t)fp->cols * fp->rows + 1, 1);
  for (int r = 0; le && done && r < fp->rows; r++)
    for (int c = 0; c < fp->cols; c++) {
      int i = r * fp->cols + c;
      if (!fp->learned[i] || done[i])
        continue;
      int c1 = c;
      while (c1 + 1 < fp->cols && fp->learned[r * fp->cols + c1 + 1] &&
             !done[r * fp->cols + c1 + 1])
        c1++;
      int r1 = r;
      for (;;) {
        int ok = r1 + 1 < fp->rows;
        for (int k = c; ok && k <= c1; k++)
          ok = fp->learned[(r1 + 1) * fp->cols + k] && !done[(r1 + 1) * fp->cols + k];
        if (!ok)
          break;
        r1++;
      }
      for (int y = r; y <= r1; y++)
        for (int x = c; x <= c1; x++)
          done[y * fp->cols + x] = 1;
      fp_rect rc = {c * FP_CELL, r * FP_CELL, (c1 - c + 1) * FP_CELL, (r1 - r + 1) * FP_CELL};
      if (rc.x + rc.w > fp->width)
        rc.w = fp->width - rc.x;
      if (rc.y + rc.h > fp->height)
        rc.h = fp->height - rc.y;
      cJSON *m = rect_json(rc, "w", "h");
      if (m)
        cJSON_AddItemToArray(le, m);
    }
  free(done);
}

/* png_names/digests: [0] the target, [1..] its layers */
static char *entry_json(const fp_fingerprint *fp, char **png_names, char (*digests)[17])
{
  cJSON *root = cJSON_CreateObject();
  if (!root)
    return NULL;
  cJSON_AddStringToObject(root, "format", "vagt-fingerprint");
  /* an entry merged into keeps its format: its anchors were read by that format's rule */
  cJSON_AddNumberToObject(root, "version",
                          fp->version >= FP_FORMAT_JUDGED && fp->version <= FP_FORMAT_VERSION
                              ? fp->version
                              : FP_FORMAT_VERSION);
  cJSON_AddStringToObject(root, "key", fp->key);
  cJSON_AddNumberToObject(root, "recordings", fp->recordings > 0 ? fp->recordings : 1);
  cJSON_AddNumberToObject(root, "cell_size", FP_CELL);
  cJSON *win = cJSON_AddObjectToObject(root, "window");
  if (win)
    window_json(win, fp, png_names[0], digests[0]);
  cJSON *ls = cJSON_AddArrayToObject(root, "layers");
  for (int i = 0; ls && i < fp->n_layers; i++) {
    const fp_fingerprint *l = fp->layers[i];
    cJSON *o = cJSON_CreateObject();
    if (!o)
      break;
    cJSON_AddStringToObject(o, "role", role_names[l->role <= FP_WIN_OVER ? l->role : 2]);
    cJSON_AddBoolToObject(o, "front", l->front);
    cJSON_AddNumberToObject(o, "x", l->x);
    cJSON_AddNumberToObject(o, "y", l->y);
    window_json(o, l, png_names[i + 1], digests[i + 1]);
    cJSON_AddItemToArray(ls, o);
  }
  char *s = cJSON_Print(root);
  cJSON_Delete(root);
  return s;
}

/* Test hook: called at each step of a commit; nonzero stops it there as a
 * crash would (nothing after it happens, nothing is undone). */
int (*fp__store_fault)(const char *step);

static int fault(const char *step)
{
  return fp__store_fault && fp__store_fault(step);
}

static void fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* write a temp file in dir via cb, fsync, rename to final */
typedef int (*write_cb)(FILE *f, const void *arg);

static int atomic_write(const char *dir, const char *final, write_cb cb, const void *arg,
                        fp_error *err)
{
  size_t n = strlen(dir) + 32;
  char *tmp = malloc(n);
  if (!tmp)
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  snprintf(tmp, n, "%s/.fp-tmp-XXXXXX", dir);
  int fd = mkstemp(tmp); /* mode 0600 */
  if (fd < 0) {
    int e = errno;
    free(tmp);
    return fp__seterr(err, FP_ERR_IO, "%s: cannot create a file: %s", dir, strerror(e));
  }
  fchmod(fd, 0600);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(tmp);
    free(tmp);
    return fp__seterr(err, FP_ERR_IO, "%s: fdopen failed", dir);
  }
  int ok = cb(f, arg) == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int e = errno;
  if (fclose(f) != 0)
    ok = 0;
  if (!ok || rename(tmp, final) != 0) {
    if (ok)
      e = errno;
    unlink(tmp);
    free(tmp);
    return fp__seterr(err, FP_ERR_IO, "%s: cannot write: %s", final, strerror(e));
  }
  free(tmp);
  return FP_OK;
}

typedef struct {
  const unsigned char *data;
  size_t size;
} membuf;

static int write_buf_cb(FILE *f, const void *arg)
{
  const membuf *m = arg;
  return fwrite(m->data, 1, m->size, f) == m->size ? 0 : -1;
}

static int write_text_cb(FILE *f, const void *arg)
{
  const char *s = arg;
  size_t n = strlen(s);
  if (fwrite(s, 1, n, f) != n || fputc('\n', f) == EOF)
    return -1;
  return 0;
}

static int ensure_dir(const char *dir, fp_error *err)
{
  if (mkdir(dir, 0700) == 0)
    return FP_OK;
  if (errno != EEXIST)
    return fp__seterr(err, FP_ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return fp__seterr(err, FP_ERR_IO, "%s: not a folder", dir);
  return FP_OK;
}

/* Is name one of this stem's PNG names: <stem>.png, <stem>.<n>.png (before
 * content names) or <stem>.<16 hex digits>.png? Other keys' files never match:
 * their stems end in '-' and eight hex digits of their own. */
static int stem_png(const char *name, const char *stem)
{
  size_t sl = strlen(stem);
  if (strncmp(name, stem, sl))
    return 0;
  const char *p = name + sl;
  if (!strcmp(p, ".png"))
    return 1;
  if (*p++ != '.')
    return 0;
  size_t n = strspn(p, "0123456789abcdef");
  if (n == 0 || strcmp(p + n, ".png"))
    return 0;
  return n == 16 || strspn(p, "0123456789") == n;
}

/* After an entry was switched: this key's PNGs in dir that the entry no
 * longer names (the replaced entry's). */
static void remove_unnamed(const char *dir, const char *stem, char **names, int n)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!stem_png(e->d_name, stem))
      continue;
    int named = 0;
    for (int i = 0; i < n && !named; i++)
      named = names[i] && !strcmp(e->d_name, names[i]);
    if (named)
      continue;
    char *p = join(dir, e->d_name, "");
    if (p)
      unlink(p);
    free(p);
  }
  closedir(d);
}

/* A recording writes each entry (JSON and PNGs, PNGs named by their content)
 * into a staging folder of its own, DIR/.fp-stage-XXXXXX, where no reader
 * looks. Committing renames that folder to DIR/.fp-commit: the one switch
 * for every entry of the recording. Readers look in .fp-commit first, so from
 * that rename on they see the whole new recording; the entries are then moved
 * into DIR one by one (PNGs linked first, then the JSON renamed: an entry is
 * whole in one place or the other at every moment), and .fp-commit removed.
 * A crash before the switch leaves the old baseline; after it, the next
 * commit (any save) finishes the move. Commits in one folder are serialised
 * by a lock on the folder; fp_store_save is a recording of one entry. */
#define COMMIT_DIR ".fp-commit"

struct fp_recording {
  char *dir, *stage;
};

static int lock_dir(const char *dir, fp_error *err)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    fp__seterr(err, FP_ERR_IO, "%s: cannot lock the folder: %s", dir, strerror(e));
    return -1;
  }
  return fd;
}

/* The image file names an entry's JSON names (target and layers). */
static int entry_images(const char *json_path, char **names, int max)
{
  fp_error fe;
  char *text = NULL;
  size_t len = 0;
  int n = 0;
  if (fp__file_read(json_path, MAX_JSON_BYTES, &text, &len, &fe))
    return 0;
  cJSON *root = cJSON_ParseWithLength(text, len);
  free(text);
  const cJSON *win = cJSON_GetObjectItemCaseSensitive(root, "window"), *l;
  const cJSON *img = cJSON_GetObjectItemCaseSensitive(win, "image");
  if (cJSON_IsString(img) && n < max)
    names[n++] = fp__strdup(img->valuestring);
  img = cJSON_GetObjectItemCaseSensitive(root, "image"); /* format 1 */
  if (cJSON_IsString(img) && n < max)
    names[n++] = fp__strdup(img->valuestring);
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(root, "layers"))
  {
    img = cJSON_GetObjectItemCaseSensitive(l, "image");
    if (cJSON_IsString(img) && n < max)
      names[n++] = fp__strdup(img->valuestring);
  }
  cJSON_Delete(root);
  return n;
}

/* Moves the entries of a committed recording (DIR/.fp-commit) into DIR.
 * Called with the folder locked. */
static int roll_forward(const char *dir, fp_error *err)
{
  char *cdir = join(dir, COMMIT_DIR, "");
  if (!cdir)
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  DIR *d = opendir(cdir);
  if (!d) {
    free(cdir);
    return FP_OK; /* nothing committed and not yet moved */
  }
  int rc = FP_OK, moved = 0;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || e->d_name[0] == '.' || strcmp(e->d_name + l - 5, ".json"))
      continue;
    char *from = join(cdir, e->d_name, ""), *to = join(dir, e->d_name, "");
    char *names[1 + FP_MAX_LAYERS + 1] = {0};
    int n = from ? entry_images(from, names, 1 + FP_MAX_LAYERS + 1) : 0;
    for (int i = 0; i < n && !rc; i++) {
      if (!names[i] || strchr(names[i], '/') || names[i][0] == '.')
        continue;
      char *pf = join(cdir, names[i], ""), *pt = join(dir, names[i], "");
      if (pf && pt && link(pf, pt) != 0 && errno != EEXIST && errno != ENOENT)
        rc = fp__seterr(err, FP_ERR_IO, "%s: cannot move into the baseline: %s", pf,
                        strerror(errno));
      free(pf);
      free(pt);
    }
    fsync_dir(dir);
    if (!rc && (!from || !to || rename(from, to) != 0))
      rc = fp__seterr(err, FP_ERR_IO, "%s: cannot move into the baseline: %s", from ? from : cdir,
                      strerror(errno));
    if (!rc) {
      fsync_dir(dir);
      char *stem = strndup(e->d_name, l - 5);
      if (stem)
        remove_unnamed(dir, stem, names, n);
      free(stem);
      if (!moved++ && fault("entry moved"))
        rc = fp__seterr(err, FP_ERR_IO, "%s: stopped after moving an entry (test)", dir);
    }
    for (int i = 0; i < n; i++)
      free(names[i]);
    free(from);
    free(to);
  }
  closedir(d);
  if (!rc) { /* what is left: the moved entries' PNGs, temp files */
    if ((d = opendir(cdir))) {
      while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
          char *p = join(cdir, e->d_name, "");
          if (p)
            unlink(p);
          free(p);
        }
      closedir(d);
    }
    if (rmdir(cdir) != 0)
      rc = fp__seterr(err, FP_ERR_IO, "%s: cannot remove: %s", cdir, strerror(errno));
    fsync_dir(dir);
  }
  free(cdir);
  return rc;
}

static void remove_tree1(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      char *p = join(dir, e->d_name, "");
      if (p)
        unlink(p);
      free(p);
    }
  if (d)
    closedir(d);
  rmdir(dir);
}

/* Staging folders of recordings that crashed (a day old: a recording in
 * progress is younger, a run ends within hours). Called with the folder locked. */
static void remove_stale_stages(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  time_t day_ago = time(NULL) - 86400;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, ".fp-stage-", 10))
      continue;
    char *p = join(dir, e->d_name, "");
    struct stat st;
    if (p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime < day_ago)
      remove_tree1(p);
    free(p);
  }
  if (d)
    closedir(d);
}

int fp_recording_begin(const char *dir, fp_recording **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!dir || !out)
    return fp__seterr(err, FP_ERR_ARG, "fp_recording_begin: bad arguments");
  *out = NULL;
  int rc = ensure_dir(dir, err);
  if (rc)
    return rc;
  fp_recording *r = calloc(1, sizeof *r);
  size_t n = strlen(dir) + 32;
  if (!r || !(r->dir = fp__strdup(dir)) || !(r->stage = malloc(n))) {
    if (r)
      free(r->dir);
    free(r);
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  }
  snprintf(r->stage, n, "%s/.fp-stage-XXXXXX", dir);
  if (!mkdtemp(r->stage)) { /* mode 0700 */
    int e = errno;
    free(r->stage);
    free(r->dir);
    free(r);
    return fp__seterr(err, FP_ERR_IO, "%s: cannot create a staging folder: %s", dir, strerror(e));
  }
  *out = r;
  return FP_OK;
}

void fp_recording_abort(fp_recording *r)
{
  if (!r)
    return;
  remove_tree1(r->stage);
  free(r->stage);
  free(r->dir);
  free(r);
}

int fp_recording_commit(fp_recording *r, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!r)
    return fp__seterr(err, FP_ERR_ARG, "fp_recording_commit: no recording");
  int lockfd = lock_dir(r->dir, err), rc = FP_OK;
  char *cdir = join(r->dir, COMMIT_DIR, "");
  if (lockfd < 0) {
    rc = err ? err->code : FP_ERR_IO;
  } else if (!cdir) {
    rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  } else if (!(rc = roll_forward(r->dir, err))) { /* an earlier commit, if unfinished */
    fsync_dir(r->stage);
    if (fault("entries staged"))
      rc = fp__seterr(err, FP_ERR_IO, "%s: stopped before the switch (test)", r->dir);
    else if (rename(r->stage, cdir) != 0)
      rc = fp__seterr(err, FP_ERR_IO, "%s: cannot commit the recording: %s", r->dir,
                      strerror(errno));
    else {
      fsync_dir(r->dir);
      if (fault("recording switched"))
        rc = fp__seterr(err, FP_ERR_IO, "%s: stopped after the switch (test)", r->dir);
      else
        rc = roll_forward(r->dir, err);
    }
  }
  if (lockfd >= 0 && !rc)
    remove_stale_stages(r->dir);
  if (lockfd >= 0)
    close(lockfd);
  free(cdir);
  if (rc && rc != FP_ERR_NOMEM && !fp__store_fault)
    remove_tree1(r->stage); /* not switched: nothing of it is visible */
  free(r->stage);
  free(r->dir);
  free(r);
  return rc;
}

/* The entry's JSON and PNGs into the recording's staging folder. */
int fp_recording_save(fp_recording *r, const fp_fingerprint *fp, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!r || !fp || !fp->key || !fp->image || fp->n_layers < 0 || fp->n_layers > FP_MAX_LAYERS)
    return fp__seterr(err, FP_ERR_ARG, "fp_store_save: fingerprint without key or image");
  for (int i = 0; i < fp->n_layers; i++)
    if (!fp->layers[i] || !fp->layers[i]->image)
      return fp__seterr(err, FP_ERR_ARG, "fp_store_save: layer without image");
  for (int i = -1; i < fp->n_layers; i++) {
    const fp_fingerprint *w = i < 0 ? fp : fp->layers[i];
    if (w->n_masks > FP_MAX_MASKS || w->n_anchors > FP_MAX_ANCHORS)
      return fp__seterr(err, FP_ERR_ARG,
                        "step '%s': %d masks and %d anchors, more than a baseline entry "
                        "may hold (%d, %d)",
                        fp->key, w->n_masks, w->n_anchors, FP_MAX_MASKS, FP_MAX_ANCHORS);
  }
  const char *dir = r->stage;
  int rc = FP_OK, nimg = 1 + fp->n_layers;
  char *stem = fp_sanitize_key(fp->key);
  char *js = stem ? join(dir, stem, ".json") : NULL;
  char *names[1 + FP_MAX_LAYERS] = {0}, digests[1 + FP_MAX_LAYERS][17];
  l_uint8 *data[1 + FP_MAX_LAYERS] = {0};
  size_t size[1 + FP_MAX_LAYERS] = {0};
  char *text = NULL;
  if (!stem || !js) {
    rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nimg; i++) {
    const fp_fingerprint *w = i ? fp->layers[i - 1] : fp;
    size_t n = strlen(stem) + 32;
    if (!(names[i] = malloc(n))) {
      rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
      goto out;
    }
    if (pixWriteMem(&data[i], &size[i], w->image, IFF_PNG) || !data[i]) {
      rc = fp__seterr(err, FP_ERR_NOMEM,
                      "%s: cannot encode the reference image of step "
                      "'%s'",
                      r->dir, fp->key);
      goto out;
    }
    digest_hex(data[i], size[i], digests[i]);
    snprintf(names[i], n, "%s.%s.png", stem, digests[i]);
  }
  if (!(text = entry_json(fp, names, digests))) {
    rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nimg; i++) {
    char *png = join(dir, names[i], "");
    membuf mb = {data[i], size[i]};
    rc = png ? atomic_write(dir, png, write_buf_cb, &mb, err)
             : fp__seterr(err, FP_ERR_NOMEM, "out of memory");
    free(png);
    if (rc)
      goto out;
  }
  /* an entry saved twice in one recording: the second wins; its PNGs of
     * the first are left for the commit to drop */
  rc = atomic_write(dir, js, write_text_cb, text, err);
out:
  for (int i = 0; i < nimg; i++) {
    lept_free(data[i]);
    free(names[i]);
  }
  free(text);
  free(stem);
  free(js);
  return rc;
}

int fp_store_save(const char *dir, const fp_fingerprint *fp, fp_error *err)
{
  fp_recording *r = NULL;
  int rc = fp_recording_begin(dir, &r, err);
  if (rc)
    return rc;
  if ((rc = fp_recording_save(r, fp, err))) {
    fp_recording_abort(r);
    return rc;
  }
  return fp_recording_commit(r, err);
}

/* ---- reading ---- */

typedef struct {
  const char *file;
  fp_error *err;
  int rc;
} jctx;

static int jfail(jctx *c, const char *field, const char *what)
{
  if (!c->rc)
    c->rc = fp__seterr(c->err, FP_ERR_CORRUPT, "%s: field '%s': %s", c->file, field, what);
  return 0;
}

static cJSON *jget(jctx *c, const cJSON *o, const char *name, const char *path)
{
  cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!it)
    jfail(c, path, "missing");
  return it;
}

/* Coordinates and sizes in an entry lie within this bound, so sums of two
 * never overflow an int; rectangles are then bounded to their window. */
#define COORD_MAX 1000000

static int jint_range(jctx *c, const cJSON *o, const char *name, const char *prefix, int *out,
                      int min, int max)
{
  char path[256];
  snprintf(path, sizeof path, "%s%s", prefix, name);
  cJSON *it = jget(c, o, name, path);
  if (!it)
    return 0;
  if (!cJSON_IsNumber(it))
    return jfail(c, path, "expected a number");
  double d = it->valuedouble;
  char m[64];
  if (d < min) {
    snprintf(m, sizeof m, "must be at least %d", min);
    return jfail(c, path, m);
  }
  if (d > max) {
    snprintf(m, sizeof m, "must be at most %d", max);
    return jfail(c, path, m);
  }
  if (d != (double)(int)d)
    return jfail(c, path, "expected a whole number");
  *out = (int)d;
  return 1;
}

static int jint(jctx *c, const cJSON *o, const char *name, const char *prefix, int *out, int min)
{
  return jint_range(c, o, name, prefix, out, min, COORD_MAX);
}

static const char *jstr(jctx *c, const cJSON *o, const char *name, const char *prefix)
{
  char path[256];
  snprintf(path, sizeof path, "%s%s", prefix, name);
  cJSON *it = jget(c, o, name, path);
  if (!it)
    return NULL;
  if (!cJSON_IsString(it) || !it->valuestring) {
    jfail(c, path, "expected a string");
    return NULL;
  }
  return it->valuestring;
}

static cJSON *jarray(jctx *c, const cJSON *o, const char *name, const char *prefix)
{
  char path[256];
  snprintf(path, sizeof path, "%s%s", prefix, name);
  cJSON *it = jget(c, o, name, path);
  if (it && !cJSON_IsArray(it)) {
    jfail(c, path, "expected an array");
    return NULL;
  }
  return it;
}

/* one of names[0..n) -> its index, or -1 after reporting the field */
static int jenum(jctx *c, const cJSON *o, const char *name, const char *prefix,
                 const char *const *names, int n, int first)
{
  const char *s = jstr(c, o, name, prefix);
  if (!s)
    return -1;
  for (int i = first; i < n; i++)
    if (!strcmp(s, names[i]))
      return i;
  char path[256], what[160];
  snprintf(path, sizeof path, "%s%s", prefix, name);
  size_t l = (size_t)snprintf(what, sizeof what, "expected");
  for (int i = first; i < n && l < sizeof what; i++)
    l += (size_t)snprintf(what + l, sizeof what - l, "%s \"%s\"",
                          i == first   ? ""
                          : i == n - 1 ? " or"
                                       : ",",
                          names[i]);
  jfail(c, path, what);
  return -1;
}

static int jrect(jctx *c, const cJSON *o, const char *prefix, const char *wk, const char *hk,
                 fp_rect *r)
{
  if (!cJSON_IsObject(o)) {
    char p[160];
    snprintf(p, sizeof p, "%.*s", (int)strlen(prefix) - 1, prefix);
    return jfail(c, p, "expected an object");
  }
  return jint(c, o, "x", prefix, &r->x, -100000) && jint(c, o, "y", prefix, &r->y, -100000) &&
         jint(c, o, wk, prefix, &r->w, 0) && jint(c, o, hk, prefix, &r->h, 0);
}

/* The reference PNG `image` beside the JSON at json_path, checked against its
 * digest and the window size. */
static int load_png(jctx *c, const char *json_path, const char *image, const char *digest,
                    const char *field, fp_fingerprint *fp)
{
  char dfield[300];
  snprintf(dfield, sizeof dfield, "%s_fnv1a64", field);
  if (!*image || strchr(image, '/') || image[0] == '.')
    return jfail(c, field, "must be a file name in the baseline folder");
  const char *slash = strrchr(json_path, '/');
  size_t dl = slash ? (size_t)(slash - json_path) : 0, n = dl + strlen(image) + 2;
  char *pngpath = malloc(n);
  if (!pngpath) {
    c->rc = fp__seterr(c->err, FP_ERR_NOMEM, "out of memory");
    return 0;
  }
  if (slash)
    snprintf(pngpath, n, "%.*s/%s", (int)dl, json_path, image);
  else
    snprintf(pngpath, n, "%s", image);
  size_t plen = 0;
  int ok = 0;
  char *pdata = NULL;
  fp_error fe = {0};
  int rc = fp__file_read(pngpath, MAX_PNG_BYTES, &pdata, &plen, &fe);
  char have[17];
  PIX *p = NULL;
  if (rc) {
    if (rc == FP_ERR_NOTFOUND)
      c->rc = fp__seterr(c->err, FP_ERR_CORRUPT, "%s: field '%s': reference image %s is missing",
                         json_path, field, pngpath);
    else
      c->rc = fp__seterr(c->err, rc == FP_ERR_NOMEM ? rc : FP_ERR_CORRUPT,
                         "%s: field '%s': reference image: %s", json_path, field, fe.message);
    goto out;
  }
  digest_hex((const unsigned char *)pdata, plen, have);
  if (strcmp(have, digest)) {
    c->rc = fp__seterr(c->err, FP_ERR_CORRUPT,
                       "%s: field '%s': %s was changed after it was stored (digest %s, "
                       "entry says %s)",
                       json_path, dfield, pngpath, have, digest);
    goto out;
  }
  /* the header's size must be the entry's before anything is decoded */
  l_int32 fmt = 0, hw = 0, hh = 0, bps = 0, spp = 0, cmap = 0;
  if (pixReadHeaderMem((const l_uint8 *)pdata, plen, &fmt, &hw, &hh, &bps, &spp, &cmap) ||
      fmt != IFF_PNG) {
    c->rc = fp__seterr(c->err, FP_ERR_CORRUPT, "%s: field '%s': %s is not a readable PNG",
                       json_path, field, pngpath);
    goto out;
  }
  if (hw != fp->width || hh != fp->height) {
    c->rc =
        fp__seterr(c->err, FP_ERR_CORRUPT, "%s: field '%s': size %dx%d does not match %s (%dx%d)",
                   json_path, field, fp->width, fp->height, pngpath, hw, hh);
    goto out;
  }
  if ((rc = fp_image_read_mem(pdata, plen, pngpath, &p, &fe))) {
    c->rc = fp__seterr(c->err, rc == FP_ERR_NOMEM ? rc : FP_ERR_CORRUPT, "%s: field '%s': %s",
                       json_path, field, fe.message);
    goto out;
  }
  if (!(fp->image = fp__to32(p))) {
    c->rc = fp__seterr(c->err, FP_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((int)pixGetWidth(fp->image) != fp->width || (int)pixGetHeight(fp->image) != fp->height) {
    c->rc = fp__seterr(
        c->err, FP_ERR_CORRUPT, "%s: field '%s': size %dx%d does not match %s (%dx%d)", json_path,
        field, fp->width, fp->height, pngpath, pixGetWidth(fp->image), pixGetHeight(fp->image));
    goto out;
  }
  for (int r = 0; r < fp->rows; r++)
    for (int cc = 0; cc < fp->cols; cc++)
      fp->cells[r * fp->cols + cc] = fp_cell_descriptor(fp->image, cc, r);
  ok = 1;
out:
  pixDestroy(&p);
  free(pdata);
  free(pngpath);
  return ok;
}

/* One window: class, name and size from meta; image, anchors, masks and
 * learned cells from data (the same object in format 2). Field paths in
 * messages start with mpfx / dpfx. */
static int load_window(jctx *c, const cJSON *meta, const char *mpfx, const cJSON *data,
                       const char *dpfx, const char *json_path, int version, fp_fingerprint *fp)
{
  if (!cJSON_IsObject(meta) || !cJSON_IsObject(data)) {
    char p[160];
    snprintf(p, sizeof p, "%.*s", (int)strlen(mpfx) - 1, mpfx);
    return jfail(c, p, "expected an object");
  }
  const char *cls = jstr(c, meta, "class", mpfx), *name = "";
  if (!cls || !jint(c, meta, "width", mpfx, &fp->width, 1) ||
      !jint(c, meta, "height", mpfx, &fp->height, 1))
    return 0;
  if (cJSON_GetObjectItemCaseSensitive(meta, "name") && !(name = jstr(c, meta, "name", mpfx)))
    return 0;
  if (fp->width > 16384 || fp->height > 16384) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", mpfx, fp->width > 16384 ? "width" : "height");
    return jfail(c, p, "larger than 16384");
  }
  fp->win_class = fp__strdup(cls);
  fp->win_name = fp__strdup(name);
  fp->cols = (fp->width + FP_CELL - 1) / FP_CELL;
  fp->rows = (fp->height + FP_CELL - 1) / FP_CELL;
  size_t ncell = (size_t)fp->cols * fp->rows;
  fp->learned = calloc(ncell, 1);
  fp->cells = calloc(ncell, sizeof *fp->cells);
  if (!fp->win_class || !fp->win_name || !fp->learned || !fp->cells)
    goto nomem;
  char pfx[200], path[240];
  cJSON *arr, *it;
  int i;
  /* anchors */
  if (!(arr = jarray(c, data, "anchors", dpfx)))
    return 0;
  if (cJSON_GetArraySize(arr) > FP_MAX_ANCHORS) {
    snprintf(path, sizeof path, "%sanchors", dpfx);
    return jfail(c, path, "more than " FP_STR(FP_MAX_ANCHORS) " anchors");
  }
  fp->anchors = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *fp->anchors);
  if (!fp->anchors)
    goto nomem;
  i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    snprintf(pfx, sizeof pfx, "%sanchors[%d].", dpfx, i);
    fp_word *w = &fp->anchors[i];
    if (!jrect(c, it, pfx, "w", "h", &w->box))
      return 0;
    const char *t = jstr(c, it, "text", pfx);
    if (!t)
      return 0;
    int conf = 100;
    if (cJSON_GetObjectItemCaseSensitive(it, "conf") && !jint(c, it, "conf", pfx, &conf, 0))
      return 0;
    w->conf = (float)conf;
    if (cJSON_GetObjectItemCaseSensitive(it, "kind")) {
      int k = jenum(c, it, "kind", pfx, kind_names, version >= 2 ? 3 : 2, 0);
      if (k < 0)
        return 0;
      w->kind = (fp_word_kind)k;
    }
    w->text = fp__strdup(t);
    fp->n_anchors = ++i;
    if (!w->text)
      goto nomem;
  }
  /* masks */
  if (!(arr = jarray(c, data, "masks", dpfx)))
    return 0;
  if (cJSON_GetArraySize(arr) > FP_MAX_MASKS) {
    snprintf(path, sizeof path, "%smasks", dpfx);
    return jfail(c, path, "more than " FP_STR(FP_MAX_MASKS) " masks");
  }
  fp->masks = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *fp->masks);
  if (!fp->masks)
    goto nomem;
  i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    snprintf(pfx, sizeof pfx, "%smasks[%d].", dpfx, i);
    fp_mask *m = &fp->masks[i];
    if (!jrect(c, it, pfx, "w", "h", &m->r))
      return 0;
    int k = jenum(c, it, "source", pfx, mask_names, version >= 2 ? 5 : 3, 0);
    if (k < 0)
      return 0;
    m->source = (fp_mask_source)k;
    /* bounded to the window: only the part on it means anything */
    m->r = fp__rect_clip(m->r, fp->width, fp->height);
    fp->n_masks = ++i;
  }
  /* learned cells */
  if (!(arr = jarray(c, data, "learned", dpfx)))
    return 0;
  i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    snprintf(pfx, sizeof pfx, "%slearned[%d].", dpfx, i++);
    fp_rect r;
    if (!jrect(c, it, pfx, "w", "h", &r))
      return 0;
    if (r.x < 0 || r.y < 0 || (long long)r.x + r.w > fp->width ||
        (long long)r.y + r.h > fp->height) {
      snprintf(path, sizeof path, "%.*s", (int)strlen(pfx) - 1, pfx);
      return jfail(c, path, "outside the window");
    }
    fp_learn_rect(fp, r);
  }
  const char *image = jstr(c, data, "image", dpfx);
  const char *digest = image ? jstr(c, data, "image_fnv1a64", dpfx) : NULL;
  if (!image || !digest)
    return 0;
  snprintf(path, sizeof path, "%simage", dpfx);
  return load_png(c, json_path, image, digest, path, fp);
nomem:
  c->rc = fp__seterr(c->err, FP_ERR_NOMEM, "out of memory");
  return 0;
}

int fp_entry_load(const char *path, fp_fingerprint **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!path || !out)
    return fp__seterr(err, FP_ERR_ARG, "fp_entry_load: bad arguments");
  *out = NULL;
  size_t len = 0;
  char *text = NULL;
  int frc = fp__file_read(path, MAX_JSON_BYTES, &text, &len, err);
  if (frc)
    return frc;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!root) {
    int line = 1;
    const char *at = end ? end : cJSON_GetErrorPtr();
    if (at && at >= text && at <= text + len)
      for (const char *p = text; p < at; p++)
        line += *p == '\n';
    free(text);
    return fp__seterr(err, FP_ERR_CORRUPT, "%s: not valid JSON (error near line %d)", path, line);
  }
  free(text);
  jctx c = {path, err, 0};
  fp_fingerprint *fp = calloc(1, sizeof *fp);
  if (!fp) {
    cJSON_Delete(root);
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  }
  if (!cJSON_IsObject(root)) {
    jfail(&c, "(top level)", "expected an object");
    goto out;
  }
  int version = 0, cell = 0;
  const char *key, *format;
  if (!(format = jstr(&c, root, "format", "")))
    goto out;
  if (strcmp(format, "vagt-fingerprint")) {
    jfail(&c, "format", "expected \"vagt-fingerprint\"");
    goto out;
  }
  if (!jint(&c, root, "version", "", &version, FP_FORMAT_OLDEST))
    goto out;
  if (version > FP_FORMAT_VERSION) {
    jfail(&c, "version", "newer than this vagt understands");
    goto out;
  }
  if (!(key = jstr(&c, root, "key", "")) || !jint(&c, root, "recordings", "", &fp->recordings, 1) ||
      !jint(&c, root, "cell_size", "", &cell, 1))
    goto out;
  if (cell != FP_CELL) {
    jfail(&c, "cell_size", "must be 16");
    goto out;
  }
  fp->version = version;
  fp->role = FP_WIN_TARGET;
  if (!(fp->key = fp__strdup(key))) {
    c.rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
    goto out;
  }
  cJSON *win = jget(&c, root, "window", "window");
  if (!win)
    goto out;
  if (version == 1) {
    /* the previous layout: one window, its data at the top level */
    if (!jarray(&c, root, "toplevels", "") ||
        !load_window(&c, win, "window.", root, "", path, version, fp))
      goto out;
    goto out;
  }
  if (!load_window(&c, win, "window.", win, "window.", path, version, fp))
    goto out;
  cJSON *arr = jarray(&c, root, "layers", ""), *it;
  if (!arr)
    goto out;
  int n = cJSON_GetArraySize(arr);
  if (n > FP_MAX_LAYERS) {
    jfail(&c, "layers", "more than 16 windows");
    goto out;
  }
  fp->layers = calloc((size_t)n + 1, sizeof *fp->layers);
  if (!fp->layers) {
    c.rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
    goto out;
  }
  int i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    char pfx[64];
    snprintf(pfx, sizeof pfx, "layers[%d].", i);
    fp_fingerprint *l = calloc(1, sizeof *l);
    if (!l) {
      c.rc = fp__seterr(err, FP_ERR_NOMEM, "out of memory");
      goto out;
    }
    fp->layers[fp->n_layers++] = l;
    l->version = version;
    l->recordings = fp->recordings;
    if (!cJSON_IsObject(it)) {
      jfail(&c, "layers[]", "expected an object");
      goto out;
    }
    int role = jenum(&c, it, "role", pfx, role_names, 4, 1);
    if (role < 0 || !jint(&c, it, "x", pfx, &l->x, -100000) ||
        !jint(&c, it, "y", pfx, &l->y, -100000))
      goto out;
    char fpath[96];
    snprintf(fpath, sizeof fpath, "%sfront", pfx);
    cJSON *front = jget(&c, it, "front", fpath);
    if (!front)
      goto out;
    if (!cJSON_IsBool(front)) {
      jfail(&c, fpath, "expected true or false");
      goto out;
    }
    l->role = (fp_win_role)role;
    l->front = cJSON_IsTrue(front);
    if (!load_window(&c, it, pfx, it, pfx, path, version, l))
      goto out;
    i++;
  }
out:
  cJSON_Delete(root);
  if (c.rc) {
    fp_fingerprint_free(fp);
    return c.rc;
  }
  *out = fp;
  return FP_OK;
}

int fp_store_load(const char *dir, const char *key, fp_fingerprint **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!dir || !key || !out)
    return fp__seterr(err, FP_ERR_ARG, "fp_store_load: bad arguments");
  *out = NULL;
  char *stem = fp_sanitize_key(key);
  char *cdir = join(dir, COMMIT_DIR, "");
  /* a committed recording not yet moved into place holds the newest entry */
  char *js = stem && cdir ? join(cdir, stem, ".json") : NULL;
  struct stat st;
  if (js && stat(js, &st) != 0) {
    free(js);
    js = stem ? join(dir, stem, ".json") : NULL;
  }
  free(stem);
  free(cdir);
  if (!js)
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  if (stat(js, &st) != 0 && errno == ENOENT) {
    fp__seterr(err, FP_ERR_NOTFOUND, "no baseline for step '%s' (%s)", key, js);
    free(js);
    return FP_ERR_NOTFOUND;
  }
  int rc = fp_entry_load(js, out, err);
  if (rc == FP_OK && strcmp((*out)->key, key)) {
    rc = fp__seterr(err, FP_ERR_CORRUPT, "%s: field 'key': '%s' is not the step key '%s'", js,
                    (*out)->key, key);
    fp_fingerprint_free(*out);
    *out = NULL;
  }
  free(js);
  return rc;
}

int fp_recording_load(fp_recording *r, const char *key, fp_fingerprint **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!r || !key || !out)
    return fp__seterr(err, FP_ERR_ARG, "fp_recording_load: bad arguments");
  *out = NULL;
  char *stem = fp_sanitize_key(key);
  char *staged = stem ? join(r->stage, stem, ".json") : NULL;
  free(stem);
  struct stat st;
  int rc = staged && stat(staged, &st) == 0 ? fp_entry_load(staged, out, err)
                                            : fp_store_load(r->dir, key, out, err);
  free(staged);
  return rc;
}

int fp_recording_record(fp_recording *r, const fp_fingerprint *rec, const fp_options *opt,
                        fp_verdict *refusal, fp_error *err)
{
  if (refusal)
    memset(refusal, 0, sizeof *refusal);
  if (!r || !rec || !rec->key)
    return fp__seterr(err, FP_ERR_ARG, "fp_store_record: recording without key");
  fp_fingerprint *base = NULL;
  /* the same step met again in this recording (a loop over items) merges
     * with what this recording staged for it */
  int rc = fp_recording_load(r, rec->key, &base, err);
  if (rc == FP_ERR_NOTFOUND)
    return fp_recording_save(r, rec, err);
  if (rc)
    return rc;
  fp_fingerprint *merged = NULL;
  fp_verdict v;
  rc = fp_merge(base, rec, opt, &merged, &v);
  fp_fingerprint_free(base);
  if (rc == FP_ERR_REFUSED) {
    char msg[sizeof err->message];
    size_t n = (size_t)snprintf(msg, sizeof msg,
                                "recording of step '%s' refused (differs by more "
                                "than data):",
                                rec->key);
    for (int i = 0; i < v.n_reasons && n < sizeof msg; i++)
      n += (size_t)snprintf(msg + n, sizeof msg - n, "%s %s", i ? ";" : "", v.reasons[i]);
    fp__seterr(err, FP_ERR_REFUSED, "%s", msg);
    if (refusal)
      *refusal = v;
    else
      fp_verdict_free(&v);
    return rc;
  }
  fp_verdict_free(&v);
  if (rc)
    return fp__seterr(err, rc, "merge failed (code %d)", rc);
  rc = fp_recording_save(r, merged, err);
  fp_fingerprint_free(merged);
  return rc;
}

int fp_store_record(const char *dir, const fp_fingerprint *rec, const fp_options *opt,
                    fp_verdict *refusal, fp_error *err)
{
  if (refusal)
    memset(refusal, 0, sizeof *refusal);
  if (!rec || !rec->key)
    return fp__seterr(err, FP_ERR_ARG, "fp_store_record: recording without key");
  fp_recording *r = NULL;
  int rc = fp_recording_begin(dir, &r, err);
  if (rc)
    return rc;
  if ((rc = fp_recording_record(r, rec, opt, refusal, err))) {
    fp_recording_abort(r);
    return rc;
  }
  return fp_recording_commit(r, err);
}
