/* fingerprint.c - compute a fingerprint from a window image, and the small
 * helpers the other files share. */
#include "fp_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fp_options_default(fp_options *o)
{
  o->threshold = 0.1;
  o->min_pixels = 2;
  o->pos_tolerance = 4;
  o->min_conf = 60.0f;
  o->theme_fraction = 0.30;
  o->max_learn_fraction = 0.25;
  o->max_region_reasons = 8;
}

char *fp__strdup(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

int fp__has_alnum(const char *s)
{
  if (!s)
    return 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c >= 0x80) /* UTF-8 letters (æøå) count */
      return 1;
  }
  return 0;
}

/* Rectangles come from files and scripts: sums are taken in 64 bits so huge
 * coordinates cannot overflow. */
int fp__rect_intersects(fp_rect a, fp_rect b)
{
  return a.w > 0 && a.h > 0 && b.w > 0 && b.h > 0 && a.x < (long long)b.x + b.w &&
         b.x < (long long)a.x + a.w && a.y < (long long)b.y + b.h && b.y < (long long)a.y + a.h;
}

fp_rect fp__rect_and(fp_rect a, fp_rect b)
{
  fp_rect r = {0, 0, 0, 0};
  if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0)
    return r;
  long long x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
  long long ax1 = (long long)a.x + a.w, bx1 = (long long)b.x + b.w;
  long long ay1 = (long long)a.y + a.h, by1 = (long long)b.y + b.h;
  long long x1 = ax1 < bx1 ? ax1 : bx1, y1 = ay1 < by1 ? ay1 : by1;
  if (x1 > x0 && y1 > y0) { /* each side at most min(a.w, b.w): fits an int */
    r.x = (int)x0;
    r.y = (int)y0;
    r.w = (int)(x1 - x0);
    r.h = (int)(y1 - y0);
  }
  return r;
}

fp_rect fp__rect_clip(fp_rect r, int w, int h)
{
  return fp__rect_and(r, (fp_rect){0, 0, w, h});
}

/* s without the punctuation OCR puts around a word ("Ærø," "(Navn)"), into buf. */
static const char *bare(const char *s, char *buf, size_t len)
{
  size_t n = strnlen(s, len - 1);
  while (n && ispunct((unsigned char)*s))
    s++, n--;
  while (n && ispunct((unsigned char)s[n - 1]))
    n--;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return buf;
}

int fp__typed_word(const char *w, const char *const *typed, int n)
{
  char a[64], b[64];
  bare(w, a, sizeof a);
  size_t la = strlen(a);
  for (int i = 0; la >= 2 && typed && i < n; i++) {
    bare(typed[i], b, sizeof b);
    size_t lb = strlen(b);
    if (lb >= 2 && fp_text_distance(a, b, 1) <= (lb >= 5 ? 1 : 0))
      return 1;
  }
  return 0;
}

void fp_data_words(const fp_word *ws, int n, const char *const *typed, int nt, uint8_t *is_data)
{
  int any = 0;
  for (int i = 0; i < n; i++) /* each word read against the typed ones once */
    any |= is_data[i] = typed && nt > 0 && fp__typed_word(ws[i].text, typed, nt);
  /* OCR's noise between two typed words of its line, each a word space or two away */
  for (int i = 0; any && i < n; i++) {
    fp_rect b = ws[i].box;
    int gap = 2 * (b.h > 8 ? b.h : 8), left = 0, right = 0;
    for (int j = 0; j < n && !is_data[i] && !(left && right); j++) {
      fp_rect o = ws[j].box;
      int y0 = b.y > o.y ? b.y : o.y, y1 = b.y + b.h < o.y + o.h ? b.y + b.h : o.y + o.h;
      if (j == i || is_data[j] != 1 || (y1 - y0) * 2 < (b.h < o.h ? b.h : o.h))
        continue;
      left |= o.x + o.w <= b.x + 2 && b.x - (o.x + o.w) <= gap;
      right |= b.x + b.w <= o.x + 2 && o.x - (b.x + b.w) <= gap;
    }
    if (!is_data[i] && left && right)
      is_data[i] = 2; /* between typed words: not itself one to stand beside */
  }
}

int fp_text_distance(const char *a, const char *b, int fold)
{
  int la = (int)strnlen(a, 63), lb = (int)strnlen(b, 63), d[64];
  for (int j = 0; j <= lb; j++)
    d[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = d[0];
    d[0] = i;
    for (int j = 1; j <= lb; j++) {
      unsigned char ca = (unsigned char)a[i - 1], cb = (unsigned char)b[j - 1];
      int up = d[j], v = diag + (fold ? tolower(ca) != tolower(cb) : ca != cb);
      v = up + 1 < v ? up + 1 : v;
      v = d[j - 1] + 1 < v ? d[j - 1] + 1 : v;
      d[j] = v;
      diag = up;
    }
  }
  return d[lb];
}

long fp__rect_area(fp_rect r)
{
  return (r.w > 0 && r.h > 0) ? (long)r.w * r.h : 0;
}

int fp__rect_contains_point(fp_rect r, int x, int y)
{
  return x >= r.x && x < (long long)r.x + r.w && y >= r.y && y < (long long)r.y + r.h;
}

int fp__seterr(fp_error *err, int code, const char *fmt, ...)
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

int fp__verdict_reason(fp_verdict *v, const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (v->n_reasons >= v->cap_reasons) {
    int cap = v->cap_reasons ? 2 * v->cap_reasons : 8;
    char **r = realloc(v->reasons, (size_t)cap * sizeof *r);
    if (!r)
      return FP_ERR_NOMEM;
    v->reasons = r;
    v->cap_reasons = cap;
  }
  char **r = v->reasons;
  if (!(r[v->n_reasons] = fp__strdup(buf)))
    return FP_ERR_NOMEM;
  v->n_reasons++;
  return FP_OK;
}

int fp__verdict_rect(fp_verdict *v, fp_rect rc)
{
  if (v->n_changed >= v->cap_changed) {
    int cap = v->cap_changed ? 2 * v->cap_changed : 16;
    fp_rect *r = realloc(v->changed, (size_t)cap * sizeof *r);
    if (!r)
      return FP_ERR_NOMEM;
    v->changed = r;
    v->cap_changed = cap;
  }
  v->changed[v->n_changed++] = rc;
  return FP_OK;
}

void fp_verdict_free(fp_verdict *v)
{
  if (!v)
    return;
  for (int i = 0; i < v->n_reasons; i++)
    free(v->reasons[i]);
  free(v->reasons);
  free(v->changed);
  free(v->ignored);
  memset(v, 0, sizeof *v);
}

void fp__free_words(fp_word *w, int n)
{
  for (int i = 0; w && i < n; i++)
    free(w[i].text);
  free(w);
}

int fp__copy_words(fp_word **dst, int *ndst, const fp_word *src, int n)
{
  *dst = NULL;
  *ndst = 0;
  if (n <= 0 || !src)
    return FP_OK;
  fp_word *w = calloc((size_t)n, sizeof *w);
  if (!w)
    return FP_ERR_NOMEM;
  for (int i = 0; i < n; i++) {
    w[i] = src[i];
    if (!(w[i].text = fp__strdup(src[i].text ? src[i].text : ""))) {
      fp__free_words(w, n);
      return FP_ERR_NOMEM;
    }
  }
  *dst = w;
  *ndst = n;
  return FP_OK;
}

PIX *fp__to32(PIX *pix)
{
  if (!pix)
    return NULL;
  if (pixGetDepth(pix) == 32)
    return pixClone(pix);
  return pixConvertTo32(pix);
}

/* pixelmatch's YIQ weights; max possible delta is 35215. */
double fp__yiq_delta(uint32_t a, uint32_t b)
{
  double r1 = (a >> 24) & 0xff, g1 = (a >> 16) & 0xff, b1 = (a >> 8) & 0xff;
  double r2 = (b >> 24) & 0xff, g2 = (b >> 16) & 0xff, b2 = (b >> 8) & 0xff;
  double dr = r1 - r2, dg = g1 - g2, db = b1 - b2;
  double y = dr * 0.29889531 + dg * 0.58662247 + db * 0.11448223;
  double i = dr * 0.59597799 - dg * 0.27417610 - db * 0.32180189;
  double q = dr * 0.21147017 - dg * 0.52261711 + db * 0.31114694;
  return 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q;
}

double fp__max_delta(double threshold)
{
  return 35215.0 * threshold * threshold;
}

static inline int luma(uint32_t p)
{
  return (int)((((p >> 24) & 0xff) * 77 + ((p >> 16) & 0xff) * 150 + ((p >> 8) & 0xff) * 29) >> 8);
}

uint64_t fp_cell_descriptor(PIX *pix, int col, int row)
{
  int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
  const l_uint32 *data = pixGetData(pix);
  uint64_t d = 0;
  for (int sy = 0; sy < 4; sy++) {
    for (int sx = 0; sx < 4; sx++) {
      int sum = 0, n = 0;
      for (int y = row * FP_CELL + sy * 4; y < row * FP_CELL + sy * 4 + 4 && y < h; y++)
        for (int x = col * FP_CELL + sx * 4; x < col * FP_CELL + sx * 4 + 4 && x < w; x++) {
          sum += luma(data[(size_t)y * wpl + x]);
          n++;
        }
      uint64_t nib = n ? (uint64_t)(sum / n) >> 4 : 0;
      d |= nib << (4 * (sy * 4 + sx));
    }
  }
  return d;
}

int fp_descriptor_distance(uint64_t a, uint64_t b)
{
  int s = 0;
  for (int i = 0; i < 16; i++) {
    int x = (int)((a >> (4 * i)) & 0xf), y = (int)((b >> (4 * i)) & 0xf);
    s += x > y ? x - y : y - x;
  }
  return s;
}

void fp_learn_rect(fp_fingerprint *fp, fp_rect r)
{
  if (!fp || !fp->learned)
    return;
  r = fp__rect_clip(r, fp->cols * FP_CELL, fp->rows * FP_CELL);
  if (r.w <= 0 || r.h <= 0)
    return;
  int c0 = r.x / FP_CELL, r0 = r.y / FP_CELL;
  int c1 = (r.x + r.w - 1) / FP_CELL, r1 = (r.y + r.h - 1) / FP_CELL;
  for (int y = r0; y <= r1; y++)
    for (int x = c0; x <= c1; x++)
      fp->learned[y * fp->cols + x] = 1;
}

void fp_fingerprint_free(fp_fingerprint *fp)
{
  if (!fp)
    return;
  for (int i = 0; i < fp->n_layers; i++)
    fp_fingerprint_free(fp->layers[i]);
  free(fp->layers);
  free(fp->key);
  free(fp->win_class);
  free(fp->win_name);
  fp__free_words(fp->anchors, fp->n_anchors);
  free(fp->masks);
  free(fp->learned);
  free(fp->cells);
  pixDestroy(&fp->image);
  free(fp);
}

/* A word is data, not a label, when a mask covers most of it. */
static int word_masked(const fp_word *w, const fp_mask *m, int n)
{
  long area = fp__rect_area(w->box);
  for (int i = 0; i < n; i++) {
    long a = fp__rect_area(fp__rect_and(w->box, m[i].r));
    if (a > 0 && a * 2 >= area)
      return 1;
  }
  return 0;
}

/* Is the word framed like a button: a closed rectangle of one colour, other
 * than the background, close around it (at most 48 px aside, 16 above and
 * below)? Only changes how reasons name the word. */
static int framed(PIX *pix, fp_rect b)
{
  int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
  const l_uint32 *d = pixGetData(pix);
  int cy = b.y + b.h / 2;
  if (b.x < 3 || cy < 0 || cy >= h || b.x + b.w >= w - 2)
    return 0;
#define PX(x, y) (d[(size_t)(y)*wpl + (x)] & FP_ALPHA_MASK)
  l_uint32 bg = PX(b.x - 2, cy);
  double maxd = fp__max_delta(0.1);
  int top = -1, bottom = -1, left = -1, right = -1;
  for (int dy = 1; dy <= 16 && top < 0 && b.y - dy >= 0; dy++) {
    int y = b.y - dy, ok = 1;
    l_uint32 c = PX(b.x, y);
    if (fp__yiq_delta(c, bg) <= maxd)
      continue;
    for (int x = b.x; x < b.x + b.w && ok; x++)
      ok = PX(x, y) == c;
    if (ok)
      top = y;
  }
  for (int dy = 0; dy <= 16 && bottom < 0 && b.y + b.h + dy < h; dy++) {
    int y = b.y + b.h + dy, ok = 1;
    l_uint32 c = PX(b.x, y);
    if (fp__yiq_delta(c, bg) <= maxd)
      continue;
    for (int x = b.x; x < b.x + b.w && ok; x++)
      ok = PX(x, y) == c;
    if (ok)
      bottom = y;
  }
  if (top < 0 || bottom < 0)
    return 0;
  for (int dx = 1; dx <= 48 && left < 0 && b.x - dx >= 0; dx++) {
    int x = b.x - dx, ok = 1;
    l_uint32 c = PX(x, cy);
    if (fp__yiq_delta(c, bg) <= maxd)
      continue;
    for (int y = top + 1; y < bottom && ok; y++)
      ok = PX(x, y) == c;
    if (ok)
      left = x;
    else
      break; /* something else in the way: not a frame */
  }
  for (int dx = 0; dx <= 48 && right < 0 && b.x + b.w + dx < w; dx++) {
    int x = b.x + b.w + dx, ok = 1;
    l_uint32 c = PX(x, cy);
    if (fp__yiq_delta(c, bg) <= maxd)
      continue;
    for (int y = top + 1; y < bottom && ok; y++)
      ok = PX(x, y) == c;
    if (ok)
      right = x;
    else
      break;
  }
#undef PX
  return left >= 0 && right >= 0;
}

static int compute_one(const fp_input *in, const char *key, const fp_options *opt,
                       fp_fingerprint **out)
{
  *out = NULL;
  if (!in || !in->image)
    return FP_ERR_ARG;
  fp_fingerprint *fp = calloc(1, sizeof *fp);
  if (!fp)
    return FP_ERR_NOMEM;
  int rc = FP_ERR_NOMEM;
  PIX *p32 = fp__to32(in->image);
  if (!p32)
    goto fail;
  fp->image = pixCopy(NULL, p32); /* own copy: the caller reuses buffers */
  pixDestroy(&p32);
  if (!fp->image)
    goto fail;
  pixSetSpp(fp->image, 3); /* the alpha byte of a capture is meaningless */
  fp->version = FP_FORMAT_VERSION;
  fp->recordings = 1;
  fp->width = pixGetWidth(fp->image);
  fp->height = pixGetHeight(fp->image);
  fp->role = in->role;
  fp->x = in->role == FP_WIN_TARGET ? 0 : in->x;
  fp->y = in->role == FP_WIN_TARGET ? 0 : in->y;
  fp->front = in->role == FP_WIN_TARGET ? 0 : !!in->front;
  if (key && !(fp->key = fp__strdup(key)))
    goto fail;
  if (!(fp->win_class = fp__strdup(in->win_class ? in->win_class : "")) ||
      !(fp->win_name = fp__strdup(in->win_name ? in->win_name : "")))
    goto fail;
  fp->cols = (fp->width + FP_CELL - 1) / FP_CELL;
  fp->rows = (fp->height + FP_CELL - 1) / FP_CELL;
  size_t ncell = (size_t)fp->cols * fp->rows;
  fp->learned = calloc(ncell ? ncell : 1, 1);
  fp->cells = calloc(ncell ? ncell : 1, sizeof *fp->cells);
  if (!fp->learned || !fp->cells)
    goto fail;
  /* Masks: declared/typed/robot/occluded ones are kept as rectangles;
     * learned ones given by the caller become learned cells. */
  if (in->n_masks > 0) {
    fp->masks = calloc((size_t)in->n_masks, sizeof *fp->masks);
    if (!fp->masks)
      goto fail;
    for (int i = 0; i < in->n_masks; i++) {
      /* a script's or alert's rectangle is bounded to the window here */
      fp_mask m = in->masks[i];
      m.r = fp__rect_clip(m.r, fp->width, fp->height);
      if (m.r.w <= 0 || m.r.h <= 0)
        continue;
      if (m.source == FP_MASK_LEARNED)
        fp_learn_rect(fp, m.r);
      else
        fp->masks[fp->n_masks++] = m;
    }
  }
  /* Anchors: confident phrases with letters or digits, outside masks ("Gem
     * journal" is one anchor: a renamed or moved entry is told by its caption). */
  fp_word *ph = NULL, *lw = NULL;
  int nph = 0, nlw = 0;
  if (in->has_words && in->n_words > 0 && in->words) {
    /* a data word (in a mask, or one the robot typed shown again) never joins a label's
     * phrase ("Navn Jens Hansen"): a reason would quote it */
    uint8_t *typed = calloc((size_t)in->n_words + 1, 1);
    if (!typed || !(lw = malloc((size_t)in->n_words * sizeof *lw))) {
      free(typed);
      goto fail;
    }
    fp_data_words(in->words, in->n_words, in->data_words, in->n_data_words, typed);
    for (int i = 0; i < in->n_words; i++)
      if (!typed[i] && !word_masked(&in->words[i], in->masks, in->n_masks))
        lw[nlw++] = in->words[i]; /* shallow */
    nph = fp__phrases(lw, nlw, fp->image, &ph);
    free(lw);
    free(typed);
  }
  if (nph < 0)
    goto fail;
  if (nph > 0) {
    fp->anchors = calloc((size_t)nph, sizeof *fp->anchors);
    if (!fp->anchors) {
      fp__free_words(ph, nph);
      goto fail;
    }
    for (int i = 0; i < nph; i++) {
      const fp_word *w = &ph[i];
      if (w->conf < opt->min_conf || !fp__has_alnum(w->text) || w->box.w <= 0 || w->box.h <= 0 ||
          word_masked(w, in->masks, in->n_masks))
        continue;
      fp_word *a = &fp->anchors[fp->n_anchors];
      *a = *w;
      if (in->role == FP_WIN_POPUP)
        a->kind = FP_WORD_ENTRY;
      else if (a->kind == FP_WORD_LABEL && framed(fp->image, a->box))
        a->kind = FP_WORD_BUTTON;
      ph[i].text = NULL; /* moved */
      fp->n_anchors++;
    }
    fp__free_words(ph, nph);
  }
  for (int r = 0; r < fp->rows; r++)
    for (int c = 0; c < fp->cols; c++)
      fp->cells[r * fp->cols + c] = fp_cell_descriptor(fp->image, c, r);
  *out = fp;
  return FP_OK;
fail:
  fp_fingerprint_free(fp);
  return rc;
}

static int vert_overlap(fp_rect a, fp_rect b)
{
  int y0 = a.y > b.y ? a.y : b.y;
  int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
  int m = a.h < b.h ? a.h : b.h;
  return m > 0 && (y1 - y0) * 2 >= m;
}

/* Whether a line stands between word a and word b (b to the right) on pix: a column of the
 * gap one colour over the words' common height and unlike another column of it, as a
 * button's frame or a toolbar's divider. Xaw's buttons stand a word space apart
 * ("Quit Save Load"): one phrase for them would be one anchor for three buttons. */
int fp__divided(PIX *pix, fp_rect a, fp_rect b)
{
  if (!pix || pixGetDepth(pix) != 32)
    return 0;
  int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
  const l_uint32 *d = pixGetData(pix);
  long long ax1 = (long long)a.x + a.w, ay1 = (long long)a.y + a.h, by1 = (long long)b.y + b.h;
  long long y0 = a.y > b.y ? a.y : b.y, y1 = ay1 < by1 ? ay1 : by1;
  if (ax1 < 0 || b.x > w || b.x - ax1 < 2 || y0 < 0 || y1 > h || y1 - y0 < 4)
    return 0;
  int x0 = (int)ax1, x1 = b.x;
#define PX(x, y) (d[(size_t)(y)*wpl + (x)] & FP_ALPHA_MASK)
  double maxd = fp__max_delta(0.1);
  int first = -1, split = 0; /* the first column of one colour, and one unlike it */
  for (int x = x0; x < x1 && !split; x++) {
    l_uint32 c = PX(x, y0);
    int one = 1;
    for (int y = y0 + 1; y < y1 && one; y++)
      one = PX(x, y) == c;
    if (!one)
      continue; /* ink of its own (a dash OCR skipped): neither gap nor line */
    if (first < 0)
      first = x;
    else
      split = fp__yiq_delta(c, PX(first, y0)) > maxd;
  }
#undef PX
  return split;
}

int fp__phrases(const fp_word *w, int n, PIX *pix, fp_word **out)
{
  *out = NULL;
  if (n <= 0)
    return 0;
  fp_word *p = calloc((size_t)n, sizeof *p);
  uint8_t *used = calloc((size_t)n, 1);
  int np = 0;
  if (!p || !used)
    goto nomem;
  for (;;) {
    /* the next phrase starts at the top-left unused word that has no unused word
         * just before it on its line */
    int s = -1;
    for (int i = 0; i < n; i++) {
      if (used[i] || !w[i].text)
        continue;
      if (s < 0 || w[i].box.y + w[i].box.h / 2 < w[s].box.y + w[s].box.h / 2 - 2 ||
          (vert_overlap(w[i].box, w[s].box) && w[i].box.x < w[s].box.x))
        s = i;
    }
    if (s < 0)
      break;
    fp_rect b = w[s].box;
    size_t len = strlen(w[s].text) + 1;
    char *t = malloc(len);
    if (!t)
      goto nomem;
    memcpy(t, w[s].text, len);
    used[s] = 1;
    float conf = w[s].conf;
    for (;;) {
      int best = -1, gapmax = b.h > 8 ? b.h : 8;
      for (int i = 0; i < n; i++) {
        if (used[i] || !w[i].text || !vert_overlap(b, w[i].box))
          continue;
        int gap = w[i].box.x - (b.x + b.w);
        if (gap < -2 || gap > gapmax || fp__divided(pix, b, w[i].box))
          continue;
        if (best < 0 || w[i].box.x < w[best].box.x)
          best = i;
      }
      if (best < 0)
        break;
      size_t add = strlen(w[best].text);
      char *nt = realloc(t, len + add + 1);
      if (!nt) {
        free(t);
        goto nomem;
      }
      t = nt;
      t[len - 1] = ' ';
      memcpy(t + len, w[best].text, add + 1);
      len += add + 1;
      fp_rect nb = w[best].box;
      int x1 = nb.x + nb.w > b.x + b.w ? nb.x + nb.w : b.x + b.w;
      int y0 = b.y < nb.y ? b.y : nb.y;
      int y1 = b.y + b.h > nb.y + nb.h ? b.y + b.h : nb.y + nb.h;
      b = (fp_rect){b.x, y0, x1 - b.x, y1 - y0};
      if (w[best].conf < conf)
        conf = w[best].conf;
      used[best] = 1;
    }
    p[np++] = (fp_word){t, b, conf, w[s].kind};
  }
  free(used);
  *out = p;
  return np;
nomem:
  fp__free_words(p, np);
  free(used);
  return -1;
}

int fp_compute(const fp_input *in, const char *key, const fp_options *opt, fp_fingerprint **out)
{
  fp_options defo;
  if (!opt) {
    fp_options_default(&defo);
    opt = &defo;
  }
  if (!out)
    return FP_ERR_ARG;
  *out = NULL;
  if (!in || !in->image || in->n_layers > FP_MAX_LAYERS)
    return FP_ERR_ARG;
  fp_fingerprint *fp = NULL;
  int rc = compute_one(in, key, opt, &fp);
  if (rc)
    return rc;
  if (in->n_layers > 0) {
    fp->layers = calloc((size_t)in->n_layers, sizeof *fp->layers);
    if (!fp->layers) {
      fp_fingerprint_free(fp);
      return FP_ERR_NOMEM;
    }
    for (int i = 0; i < in->n_layers; i++) {
      fp_input l = in->layers[i];
      if (l.role == FP_WIN_TARGET)
        l.role = FP_WIN_DIALOG;
      if ((rc = compute_one(&l, NULL, opt, &fp->layers[i]))) {
        fp_fingerprint_free(fp);
        return rc;
      }
      fp->n_layers++;
    }
  }
  *out = fp;
  return FP_OK;
}

void fp_layer_label(fp_win_role role, const char *cls, const char *name, int x, int y, char *buf,
                    size_t n)
{
  if (role == FP_WIN_POPUP)
    snprintf(buf, n, "pop-up%s%s%s at (%d,%d)", cls && *cls ? " (" : "", cls && *cls ? cls : "",
             cls && *cls ? ")" : "", x, y);
  else if (name && *name)
    snprintf(buf, n, "window '%s'", name);
  else
    snprintf(buf, n, "window of class %s at (%d,%d)", cls && *cls ? cls : "?", x, y);
}

int fp_cell_equal(PIX *a, PIX *b, int col, int row, const fp_fingerprint *e)
{
  if (e && e->learned && col < e->cols && row < e->rows && e->learned[row * e->cols + col])
    return 1;
  int w = pixGetWidth(a), h = pixGetHeight(a);
  if (w != (int)pixGetWidth(b) || h != (int)pixGetHeight(b))
    return 0;
  int wpa = pixGetWpl(a), wpb = pixGetWpl(b);
  const l_uint32 *da = pixGetData(a), *db = pixGetData(b);
  for (int y = row * FP_CELL; y < row * FP_CELL + FP_CELL && y < h; y++)
    for (int x = col * FP_CELL; x < col * FP_CELL + FP_CELL && x < w; x++) {
      if (!((da[(size_t)y * wpa + x] ^ db[(size_t)y * wpb + x]) & FP_ALPHA_MASK))
        continue;
      int masked = 0;
      for (int i = 0; e && i < e->n_masks && !masked; i++)
        masked = fp__rect_contains_point(e->masks[i].r, x, y);
      if (!masked)
        return 0;
    }
  return 1;
}

/* Unchanged pixel rows that part two lines changed at once: more than a paragraph's line
 * spacing, less than the space between two entries of a form. */
#define SPLIT_GAP 6

/* A change taller than max_h in one look can be several lines the application drew at once
 * (a busy machine: the answers to two inputs in one drawing). Splits r at runs of at least
 * SPLIT_GAP pixel rows where none of its changed cells' pixels differ, and appends each band
 * no taller than max_h, as wide as its own changes. A dialog or a page changes every row
 * and stays one band, left out; so does a paragraph, whose lines are closer than that. */
static int split_tall(PIX *before, PIX *after, const uint8_t *ch, int cols, fp_rect r, int max_h,
                      fp_rect **out, int *n)
{
  int w = pixGetWidth(after), wpla = pixGetWpl(before), wplb = pixGetWpl(after);
  const l_uint32 *da = pixGetData(before), *db = pixGetData(after);
  int c0 = r.x / FP_CELL, c1 = (r.x + r.w - 1) / FP_CELL;
  int y0 = -1, last = -1, x0 = w, x1 = -1; /* the band being grown */
  for (int y = r.y; y <= r.y + r.h; y++) {
    int any = 0;
    for (int c = c0; y < r.y + r.h && c <= c1; c++) {
      if (!ch[(y / FP_CELL) * cols + c])
        continue;
      for (int x = c * FP_CELL; x < c * FP_CELL + FP_CELL && x < w; x++)
        if ((da[(size_t)y * wpla + x] ^ db[(size_t)y * wplb + x]) & FP_ALPHA_MASK) {
          any = 1;
          x0 = x < x0 ? x : x0;
          x1 = x > x1 ? x : x1;
        }
    }
    if (any) {
      if (y0 < 0)
        y0 = y;
      last = y;
      continue;
    }
    if (y0 < 0 || (y < r.y + r.h && y - last < SPLIT_GAP))
      continue;
    if (last - y0 + 1 <= max_h) {
      fp_rect *m = realloc(*out, (size_t)(*n + 1) * sizeof *m);
      if (!m)
        return -1;
      *out = m;
      m[(*n)++] = (fp_rect){x0, y0, x1 - x0 + 1, last - y0 + 1};
    }
    y0 = last = -1;
    x0 = w;
    x1 = -1;
  }
  return 0;
}

int fp_changed_regions(PIX *before, PIX *after, const fp_rect *keep, int nkeep, int max_h,
                       fp_rect **out)
{
  *out = NULL;
  if (!before || !after || pixGetDepth(before) != 32 || pixGetDepth(after) != 32)
    return -1;
  int w = pixGetWidth(after), h = pixGetHeight(after);
  if ((int)pixGetWidth(before) != w || (int)pixGetHeight(before) != h)
    return -1;
  int cols = (w + FP_CELL - 1) / FP_CELL, rows = (h + FP_CELL - 1) / FP_CELL;
  uint8_t *ch = calloc((size_t)cols * rows + 1, 1);
  if (!ch)
    return -1;
  int wpla = pixGetWpl(before), wplb = pixGetWpl(after);
  const l_uint32 *da = pixGetData(before), *db = pixGetData(after);
  for (int r = 0; r < rows; r++) {
    /* a band of unchanged rows costs one memcmp a row (the usual case) */
    int same = 1;
    for (int y = r * FP_CELL; same && y < r * FP_CELL + FP_CELL && y < h; y++)
      same = !memcmp(da + (size_t)y * wpla, db + (size_t)y * wplb, (size_t)w * 4);
    for (int c = 0; !same && c < cols; c++)
      ch[r * cols + c] = !fp_cell_equal(before, after, c, r, NULL);
  }
  for (int i = 0; i < nkeep; i++) {
    fp_rect k = fp__rect_clip(keep[i], w, h);
    if (k.w <= 0 || k.h <= 0)
      continue;
    int c0 = k.x / FP_CELL, r0 = k.y / FP_CELL;
    int c1 = (k.x + k.w - 1) / FP_CELL, r1 = (k.y + k.h - 1) / FP_CELL;
    for (int r = r0; r <= r1; r++)
      for (int c = c0; c <= c1; c++)
        ch[r * cols + c] = 0;
  }
  fp_verdict v;
  memset(&v, 0, sizeof v);
  int rc = fp__cells_to_rects(ch, cols, rows, w, h, &v);
  fp_rect *rs = NULL;
  int n = 0;
  for (int i = 0; rc == FP_OK && i < v.n_changed; i++) {
    if (max_h <= 0 || v.changed[i].h <= max_h) {
      fp_rect *m = realloc(rs, (size_t)(n + 1) * sizeof *m);
      if (!m)
        rc = FP_ERR_NOMEM;
      else
        (rs = m)[n++] = v.changed[i];
    } else if (split_tall(before, after, ch, cols, v.changed[i], max_h, &rs, &n) != 0) {
      rc = FP_ERR_NOMEM;
    }
  }
  free(ch);
  fp_verdict_free(&v);
  if (rc != FP_OK || !n) {
    free(rs);
    return rc != FP_OK ? -1 : 0;
  }
  *out = rs;
  return n;
}

uint32_t fp__mode_colour(PIX *pix)
{
  int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
  const l_uint32 *data = pixGetData(pix);
  int *hist = calloc(4096, sizeof *hist);
  uint32_t *rep = calloc(4096, sizeof *rep);
  uint32_t best = 0;
  if (hist && rep) {
    int bi = -1;
    for (int y = 0; y < h; y += 3)
      for (int x = 0; x < w; x += 3) {
        uint32_t p = data[(size_t)y * wpl + x];
        int bin = (int)(((p >> 28) << 8) | (((p >> 20) & 0xf) << 4) | ((p >> 12) & 0xf));
        if (!hist[bin]++)
          rep[bin] = p >> 8;
        if (bi < 0 || hist[bin] > hist[bi])
          bi = bin;
      }
    if (bi >= 0)
      best = rep[bi];
  }
  free(hist);
  free(rep);
  return best;
}
