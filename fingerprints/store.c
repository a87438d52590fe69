/* store.c - the baseline folder: one <stem>.json (cJSON, pretty) and one
 * <stem>.png (Leptonica) per step key; atomic writes, owner-only files.
 *
 * <stem> = fp_sanitize_key(key): [A-Za-z0-9._-], at most 48 characters, then
 * '-' and the FNV-1a 32 of the whole key; the real key is inside the JSON.
 * Entry (format version 1), every field required:
 *   format "vagt-fingerprint", version 1, key, image (file name beside the
 *   JSON), image_fnv1a64 (digest of the PNG bytes), recordings (>= 1),
 *   cell_size 16, window {class, width, height},
 *   toplevels [{class, name, x, y, width, height}],
 *   anchors [{text, x, y, w, h, conf, kind "label"|"button"}] (conf and kind
 *   optional), masks [{x, y, w, h, source "declared"|"typed"|"learned"}],
 *   learned [{x, y, w, h}] (cell-aligned rectangles of volatile cells).
 * Cell descriptors are not stored: they are recomputed from the PNG. */
#include "fp_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON_BYTES (16 * 1024 * 1024)
#define MAX_PNG_BYTES (256 * 1024 * 1024)

static int seterr(fp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int seterr(fp_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

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
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '.';
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

static const char *mask_source_name(fp_mask_source s)
{
    return s == FP_MASK_TYPED ? "typed" : s == FP_MASK_LEARNED ? "learned" : "declared";
}

static char *entry_json(const fp_fingerprint *fp, const char *png_name,
                        const char *digest)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", "vagt-fingerprint");
    cJSON_AddNumberToObject(root, "version", FP_FORMAT_VERSION);
    cJSON_AddStringToObject(root, "key", fp->key);
    cJSON_AddStringToObject(root, "image", png_name);
    cJSON_AddStringToObject(root, "image_fnv1a64", digest);
    cJSON_AddNumberToObject(root, "recordings", fp->recordings > 0 ? fp->recordings : 1);
    cJSON_AddNumberToObject(root, "cell_size", FP_CELL);
    cJSON *win = cJSON_AddObjectToObject(root, "window");
    if (win) {
        cJSON_AddStringToObject(win, "class", fp->win_class ? fp->win_class : "");
        cJSON_AddNumberToObject(win, "width", fp->width);
        cJSON_AddNumberToObject(win, "height", fp->height);
    }
    cJSON *tl = cJSON_AddArrayToObject(root, "toplevels");
    for (int i = 0; tl && i < fp->n_windows; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "class", fp->windows[i].cls);
        cJSON_AddStringToObject(o, "name", fp->windows[i].name);
        cJSON_AddNumberToObject(o, "x", fp->windows[i].box.x);
        cJSON_AddNumberToObject(o, "y", fp->windows[i].box.y);
        cJSON_AddNumberToObject(o, "width", fp->windows[i].box.w);
        cJSON_AddNumberToObject(o, "height", fp->windows[i].box.h);
        cJSON_AddItemToArray(tl, o);
    }
    cJSON *an = cJSON_AddArrayToObject(root, "anchors");
    for (int i = 0; an && i < fp->n_anchors; i++) {
        const fp_word *w = &fp->anchors[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "text", w->text);
        cJSON_AddNumberToObject(o, "x", w->box.x);
        cJSON_AddNumberToObject(o, "y", w->box.y);
        cJSON_AddNumberToObject(o, "w", w->box.w);
        cJSON_AddNumberToObject(o, "h", w->box.h);
        cJSON_AddNumberToObject(o, "conf", (int)(w->conf + 0.5f));
        cJSON_AddStringToObject(o, "kind", w->kind == FP_WORD_BUTTON ? "button" : "label");
        cJSON_AddItemToArray(an, o);
    }
    cJSON *ma = cJSON_AddArrayToObject(root, "masks");
    for (int i = 0; ma && i < fp->n_masks; i++) {
        cJSON *o = rect_json(fp->masks[i].r, "w", "h");
        if (!o)
            break;
        cJSON_AddStringToObject(o, "source", mask_source_name(fp->masks[i].source));
        cJSON_AddItemToArray(ma, o);
    }
    /* learned volatile cells as cell-aligned rectangles: runs per row,
     * extended downwards while the next row has the same run */
    cJSON *le = cJSON_AddArrayToObject(root, "learned");
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
                    ok = fp->learned[(r1 + 1) * fp->cols + k] &&
                         !done[(r1 + 1) * fp->cols + k];
                if (!ok)
                    break;
                r1++;
            }
            for (int y = r; y <= r1; y++)
                for (int x = c; x <= c1; x++)
                    done[y * fp->cols + x] = 1;
            fp_rect rc = {c * FP_CELL, r * FP_CELL, (c1 - c + 1) * FP_CELL,
                          (r1 - r + 1) * FP_CELL};
            if (rc.x + rc.w > fp->width) rc.w = fp->width - rc.x;
            if (rc.y + rc.h > fp->height) rc.h = fp->height - rc.y;
            cJSON *o = rect_json(rc, "w", "h");
            if (o)
                cJSON_AddItemToArray(le, o);
        }
    free(done);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
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

static int atomic_write(const char *dir, const char *final, write_cb cb,
                        const void *arg, fp_error *err)
{
    size_t n = strlen(dir) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return seterr(err, FP_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s/.fp-tmp-XXXXXX", dir);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return seterr(err, FP_ERR_IO, "%s: cannot create a file: %s", dir, strerror(e));
    }
    fchmod(fd, 0600);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return seterr(err, FP_ERR_IO, "%s: fdopen failed", dir);
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
        return seterr(err, FP_ERR_IO, "%s: cannot write: %s", final, strerror(e));
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
        return seterr(err, FP_ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return seterr(err, FP_ERR_IO, "%s: not a folder", dir);
    return FP_OK;
}

int fp_store_save(const char *dir, const fp_fingerprint *fp, fp_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!dir || !fp || !fp->key || !fp->image)
        return seterr(err, FP_ERR_ARG, "fp_store_save: fingerprint without key or image");
    int rc = ensure_dir(dir, err);
    if (rc)
        return rc;
    char *stem = fp_sanitize_key(fp->key);
    char *png = stem ? join(dir, stem, ".png") : NULL;
    char *js = stem ? join(dir, stem, ".json") : NULL;
    char *pngname = stem ? malloc(strlen(stem) + 5) : NULL;
    char *text = NULL;
    l_uint8 *pngdata = NULL;
    size_t pngsize = 0;
    char digest[17];
    if (!stem || !png || !js || !pngname) {
        rc = seterr(err, FP_ERR_NOMEM, "out of memory");
        goto out;
    }
    sprintf(pngname, "%s.png", stem);
    if (pixWriteMem(&pngdata, &pngsize, fp->image, IFF_PNG) || !pngdata) {
        rc = seterr(err, FP_ERR_NOMEM, "%s: cannot encode the reference image", png);
        goto out;
    }
    digest_hex(pngdata, pngsize, digest);
    if (!(text = entry_json(fp, pngname, digest))) {
        rc = seterr(err, FP_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* PNG first, JSON last: the JSON names the entry and the PNG's digest */
    membuf mb = {pngdata, pngsize};
    if ((rc = atomic_write(dir, png, write_buf_cb, &mb, err)))
        goto out;
    if ((rc = atomic_write(dir, js, write_text_cb, text, err)))
        goto out;
    fsync_dir(dir);
out:
    lept_free(pngdata);
    free(text);
    free(stem);
    free(png);
    free(js);
    free(pngname);
    return rc;
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
        c->rc = seterr(c->err, FP_ERR_CORRUPT, "%s: field '%s': %s", c->file, field, what);
    return 0;
}

static cJSON *jget(jctx *c, const cJSON *o, const char *name, const char *path)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it)
        jfail(c, path, "missing");
    return it;
}

static int jint(jctx *c, const cJSON *o, const char *name, const char *prefix,
                int *out, int min)
{
    char path[160];
    snprintf(path, sizeof path, "%s%s", prefix, name);
    cJSON *it = jget(c, o, name, path);
    if (!it)
        return 0;
    if (!cJSON_IsNumber(it))
        return jfail(c, path, "expected a number");
    double d = it->valuedouble;
    if (d != (double)(int)d)
        return jfail(c, path, "expected a whole number");
    if ((int)d < min) {
        char m[64];
        snprintf(m, sizeof m, "must be at least %d", min);
        return jfail(c, path, m);
    }
    *out = (int)d;
    return 1;
}

static const char *jstr(jctx *c, const cJSON *o, const char *name, const char *prefix)
{
    char path[160];
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

static cJSON *jarray(jctx *c, const cJSON *o, const char *name)
{
    cJSON *it = jget(c, o, name, name);
    if (it && !cJSON_IsArray(it)) {
        jfail(c, name, "expected an array");
        return NULL;
    }
    return it;
}

static int jrect(jctx *c, const cJSON *o, const char *prefix, const char *wk,
                 const char *hk, fp_rect *r)
{
    if (!cJSON_IsObject(o)) {
        char p[160];
        snprintf(p, sizeof p, "%.*s", (int)strlen(prefix) - 1, prefix);
        return jfail(c, p, "expected an object");
    }
    return jint(c, o, "x", prefix, &r->x, -100000) &&
           jint(c, o, "y", prefix, &r->y, -100000) &&
           jint(c, o, wk, prefix, &r->w, 0) && jint(c, o, hk, prefix, &r->h, 0);
}

static char *read_file(const char *path, size_t limit, size_t *len, int *eno)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *eno = errno;
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > limit) {
                *eno = EFBIG;
                goto fail;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                *eno = ENOMEM;
                goto fail;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096) {
            if (ferror(f)) {
                *eno = EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

int fp_entry_load(const char *path, fp_fingerprint **out, fp_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!path || !out)
        return seterr(err, FP_ERR_ARG, "fp_entry_load: bad arguments");
    *out = NULL;
    size_t len = 0;
    int eno = 0;
    char *text = read_file(path, MAX_JSON_BYTES, &len, &eno);
    if (!text)
        return seterr(err, eno == ENOENT ? FP_ERR_NOTFOUND : FP_ERR_IO,
                      "%s: cannot read: %s", path, strerror(eno));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        int line = 1;
        const char *at = end ? end : cJSON_GetErrorPtr();
        if (at && at >= text && at <= text + len)
            for (const char *p = text; p < at; p++)
                line += *p == '\n';
        free(text);
        return seterr(err, FP_ERR_CORRUPT, "%s: not valid JSON (error near line %d)",
                      path, line);
    }
    free(text);
    jctx c = {path, err, 0};
    fp_fingerprint *fp = calloc(1, sizeof *fp);
    char *pngpath = NULL;
    if (!fp) {
        cJSON_Delete(root);
        return seterr(err, FP_ERR_NOMEM, "out of memory");
    }
    if (!cJSON_IsObject(root)) {
        jfail(&c, "(top level)", "expected an object");
        goto out;
    }
    int version = 0, cell = 0;
    const char *key, *image, *cls, *format, *digest;
    if (!(format = jstr(&c, root, "format", "")))
        goto out;
    if (strcmp(format, "vagt-fingerprint")) {
        jfail(&c, "format", "expected \"vagt-fingerprint\"");
        goto out;
    }
    if (!jint(&c, root, "version", "", &version, 1))
        goto out;
    if (version > FP_FORMAT_VERSION) {
        jfail(&c, "version", "newer than this vagt understands");
        goto out;
    }
    if (!(key = jstr(&c, root, "key", "")) || !(image = jstr(&c, root, "image", "")))
        goto out;
    if (!(digest = jstr(&c, root, "image_fnv1a64", "")))
        goto out;
    if (!*image || strchr(image, '/') || image[0] == '.') {
        jfail(&c, "image", "must be a file name in the baseline folder");
        goto out;
    }
    if (!jint(&c, root, "recordings", "", &fp->recordings, 1) ||
        !jint(&c, root, "cell_size", "", &cell, 1))
        goto out;
    if (cell != FP_CELL) {
        jfail(&c, "cell_size", "must be 16");
        goto out;
    }
    cJSON *win = jget(&c, root, "window", "window");
    if (!win)
        goto out;
    if (!cJSON_IsObject(win)) {
        jfail(&c, "window", "expected an object");
        goto out;
    }
    if (!(cls = jstr(&c, win, "class", "window.")) ||
        !jint(&c, win, "width", "window.", &fp->width, 1) ||
        !jint(&c, win, "height", "window.", &fp->height, 1))
        goto out;
    if (fp->width > 16384 || fp->height > 16384) {
        jfail(&c, fp->width > 16384 ? "window.width" : "window.height",
              "larger than 16384");
        goto out;
    }
    fp->version = FP_FORMAT_VERSION;
    fp->key = fp__strdup(key);
    fp->win_class = fp__strdup(cls);
    fp->cols = (fp->width + FP_CELL - 1) / FP_CELL;
    fp->rows = (fp->height + FP_CELL - 1) / FP_CELL;
    size_t ncell = (size_t)fp->cols * fp->rows;
    fp->learned = calloc(ncell, 1);
    fp->cells = calloc(ncell, sizeof *fp->cells);
    if (!fp->key || !fp->win_class || !fp->learned || !fp->cells) {
        c.rc = seterr(err, FP_ERR_NOMEM, "out of memory");
        goto out;
    }
    char pfx[64];
    cJSON *arr, *it;
    int i;
    /* toplevels */
    if (!(arr = jarray(&c, root, "toplevels")))
        goto out;
    fp->windows = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *fp->windows);
    if (!fp->windows)
        goto nomem;
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        snprintf(pfx, sizeof pfx, "toplevels[%d].", i);
        fp_window *w = &fp->windows[i];
        if (!jrect(&c, it, pfx, "width", "height", &w->box))
            goto out;
        const char *wc = jstr(&c, it, "class", pfx), *wn = wc ? jstr(&c, it, "name", pfx) : NULL;
        if (!wc || !wn)
            goto out;
        w->cls = fp__strdup(wc);
        w->name = fp__strdup(wn);
        fp->n_windows = ++i;
        if (!w->cls || !w->name)
            goto nomem;
    }
    /* anchors */
    if (!(arr = jarray(&c, root, "anchors")))
        goto out;
    fp->anchors = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *fp->anchors);
    if (!fp->anchors)
        goto nomem;
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        snprintf(pfx, sizeof pfx, "anchors[%d].", i);
        fp_word *w = &fp->anchors[i];
        if (!jrect(&c, it, pfx, "w", "h", &w->box))
            goto out;
        const char *t = jstr(&c, it, "text", pfx);
        if (!t)
            goto out;
        int conf = 100;
        if (cJSON_GetObjectItemCaseSensitive(it, "conf") &&
            !jint(&c, it, "conf", pfx, &conf, 0))
            goto out;
        w->conf = (float)conf;
        cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "kind");
        if (k) {
            char path[96];
            snprintf(path, sizeof path, "%skind", pfx);
            if (!cJSON_IsString(k) || (strcmp(k->valuestring, "label") &&
                                       strcmp(k->valuestring, "button"))) {
                jfail(&c, path, "expected \"label\" or \"button\"");
                goto out;
            }
            w->kind = strcmp(k->valuestring, "button") ? FP_WORD_LABEL : FP_WORD_BUTTON;
        }
        w->text = fp__strdup(t);
        fp->n_anchors = ++i;
        if (!w->text)
            goto nomem;
    }
    /* masks */
    if (!(arr = jarray(&c, root, "masks")))
        goto out;
    fp->masks = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *fp->masks);
    if (!fp->masks)
        goto nomem;
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        snprintf(pfx, sizeof pfx, "masks[%d].", i);
        fp_mask *m = &fp->masks[i];
        if (!jrect(&c, it, pfx, "w", "h", &m->r))
            goto out;
        const char *s = jstr(&c, it, "source", pfx);
        if (!s)
            goto out;
        if (!strcmp(s, "declared"))
            m->source = FP_MASK_DECLARED;
        else if (!strcmp(s, "typed"))
            m->source = FP_MASK_TYPED;
        else if (!strcmp(s, "learned"))
            m->source = FP_MASK_LEARNED;
        else {
            char path[96];
            snprintf(path, sizeof path, "%ssource", pfx);
            jfail(&c, path, "expected \"declared\", \"typed\" or \"learned\"");
            goto out;
        }
        fp->n_masks = ++i;
    }
    /* learned cells */
    if (!(arr = jarray(&c, root, "learned")))
        goto out;
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        snprintf(pfx, sizeof pfx, "learned[%d].", i++);
        fp_rect r;
        if (!jrect(&c, it, pfx, "w", "h", &r))
            goto out;
        if (r.x < 0 || r.y < 0 || r.x + r.w > fp->width || r.y + r.h > fp->height) {
            char path[96];
            snprintf(path, sizeof path, "%.*s", (int)strlen(pfx) - 1, pfx);
            jfail(&c, path, "outside the window");
            goto out;
        }
        fp_learn_rect(fp, r);
    }
    /* the reference image, beside the JSON */
    {
        const char *slash = strrchr(path, '/');
        size_t dl = slash ? (size_t)(slash - path) : 1;
        pngpath = malloc(dl + strlen(image) + 2);
        if (!pngpath)
            goto nomem;
        if (slash)
            snprintf(pngpath, dl + strlen(image) + 2, "%.*s/%s", (int)dl, path, image);
        else
            snprintf(pngpath, dl + strlen(image) + 2, "%s", image);
        size_t plen = 0;
        int peno = 0;
        char *pdata = read_file(pngpath, MAX_PNG_BYTES, &plen, &peno);
        if (!pdata) {
            c.rc = seterr(err, FP_ERR_CORRUPT,
                          "%s: field 'image': reference image %s is %s", path, pngpath,
                          peno == ENOENT ? "missing" : strerror(peno));
            goto out;
        }
        char have[17];
        digest_hex((const unsigned char *)pdata, plen, have);
        if (strcmp(have, digest)) {
            free(pdata);
            c.rc = seterr(err, FP_ERR_CORRUPT,
                          "%s: field 'image_fnv1a64': %s was changed after it was "
                          "stored (digest %s, entry says %s)",
                          path, pngpath, have, digest);
            goto out;
        }
        PIX *p = pixReadMem((const l_uint8 *)pdata, plen);
        free(pdata);
        if (!p) {
            c.rc = seterr(err, FP_ERR_CORRUPT,
                          "%s: field 'image': %s is not a readable PNG", path, pngpath);
            goto out;
        }
        fp->image = fp__to32(p);
        pixDestroy(&p);
        if (!fp->image)
            goto nomem;
        if (pixGetWidth(fp->image) != fp->width || pixGetHeight(fp->image) != fp->height) {
            c.rc = seterr(err, FP_ERR_CORRUPT,
                          "%s: field 'window': size %dx%d does not match %s (%dx%d)",
                          path, fp->width, fp->height, pngpath,
                          pixGetWidth(fp->image), pixGetHeight(fp->image));
            goto out;
        }
    }
    for (int r = 0; r < fp->rows; r++)
        for (int cc = 0; cc < fp->cols; cc++)
            fp->cells[r * fp->cols + cc] = fp_cell_descriptor(fp->image, cc, r);
    goto out;
nomem:
    c.rc = seterr(err, FP_ERR_NOMEM, "out of memory");
out:
    cJSON_Delete(root);
    free(pngpath);
    if (c.rc) {
        fp_fingerprint_free(fp);
        return c.rc;
    }
    *out = fp;
    return FP_OK;
}

int fp_store_load(const char *dir, const char *key, fp_fingerprint **out,
                  fp_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!dir || !key || !out)
        return seterr(err, FP_ERR_ARG, "fp_store_load: bad arguments");
    *out = NULL;
    char *stem = fp_sanitize_key(key);
    char *js = stem ? join(dir, stem, ".json") : NULL;
    free(stem);
    if (!js)
        return seterr(err, FP_ERR_NOMEM, "out of memory");
    struct stat st;
    if (stat(js, &st) != 0 && errno == ENOENT) {
        seterr(err, FP_ERR_NOTFOUND, "no baseline for step '%s' (%s)", key, js);
        free(js);
        return FP_ERR_NOTFOUND;
    }
    int rc = fp_entry_load(js, out, err);
    if (rc == FP_OK && strcmp((*out)->key, key)) {
        rc = seterr(err, FP_ERR_CORRUPT,
                    "%s: field 'key': '%s' is not the step key '%s'", js,
                    (*out)->key, key);
        fp_fingerprint_free(*out);
        *out = NULL;
    }
    free(js);
    return rc;
}

int fp_store_record(const char *dir, const fp_fingerprint *rec,
                    const fp_options *opt, fp_verdict *refusal, fp_error *err)
{
    if (refusal)
        memset(refusal, 0, sizeof *refusal);
    if (!rec || !rec->key)
        return seterr(err, FP_ERR_ARG, "fp_store_record: recording without key");
    fp_fingerprint *base = NULL;
    int rc = fp_store_load(dir, rec->key, &base, err);
    if (rc == FP_ERR_NOTFOUND)
        return fp_store_save(dir, rec, err);
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
                                    "than data):", rec->key);
        for (int i = 0; i < v.n_reasons && n < sizeof msg; i++)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s %s", i ? ";" : "",
                                  v.reasons[i]);
        seterr(err, FP_ERR_REFUSED, "%s", msg);
        if (refusal)
            *refusal = v;
        else
            fp_verdict_free(&v);
        return rc;
    }
    fp_verdict_free(&v);
    if (rc)
        return seterr(err, rc, "merge failed (code %d)", rc);
    rc = fp_store_save(dir, merged, err);
    fp_fingerprint_free(merged);
    return rc;
}
