/* compare.c - judge a current scene against a fingerprint: L1 the scene's
 * windows, then per window L2 cell grid (fast path), L3 anchors (when OCR
 * words are given). */
#include "fp_int.h"
#include "vu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CELL_CHECK = 0, CELL_PARTIAL = 1, CELL_SKIP = 2 };

/* Masks are applied in O(cells + masks) for the grid and O(pixels + masks) for
 * the pixels of partly masked cells, whatever their number: a stored entry
 * with thousands of masks must not make one comparison take minutes. */

/* 2D difference array over a cols x rows grid: add rectangles, then read
 * coverage counts after fp__grid_sum. */
static void grid_add(int *d, int cols, int c0, int r0, int c1, int r1)
{
  int stride = cols + 1; /* cells [c0,c1] x [r0,r1], inclusive */
  d[r0 * stride + c0]++;
  d[r0 * stride + c1 + 1]--;
  d[(r1 + 1) * stride + c0]--;
  d[(r1 + 1) * stride + c1 + 1]++;
}

static void grid_sum(int *d, int cols, int rows)
{
  int stride = cols + 1;
  for (int r = 0; r <= rows; r++)
    for (int c = 0; c <= cols; c++) {
      int v = d[r * stride + c];
      if (c)
        v += d[r * stride + c - 1];
      if (r)
        v += d[(r - 1) * stride + c];
      if (r && c)
        v -= d[(r - 1) * stride + c - 1];
      d[r * stride + c] = v;
    }
}

/* Cells a mask touches get CELL_PARTIAL; cells it covers whole CELL_SKIP, except
 * that an FP_MASK_ROBOT mask never skips a cell touching a recorded anchor (its
 * cells are checked pixel by pixel, the anchor's own pixels always). */
static int mark_masks(uint8_t *state, int cols, int rows, const fp_mask *m1, int n1,
                      const fp_mask *m2, int n2, const fp_word *protect, int nprotect)
{
  if (n1 + n2 <= 0)
    return FP_OK;
  size_t gs = (size_t)(cols + 1) * (rows + 1);
  int *touch = calloc(gs, sizeof *touch), *full = calloc(gs, sizeof *full);
  int *rfull = calloc(gs, sizeof *rfull), *word = calloc(gs, sizeof *word);
  if (!touch || !full || !rfull || !word) {
    free(touch);
    free(full);
    free(rfull);
    free(word);
    return FP_ERR_NOMEM;
  }
  int gw = cols * FP_CELL, gh = rows * FP_CELL, robot = 0;
  for (int k = 0; k < n1 + n2; k++) {
    const fp_mask *m = k < n1 ? &m1[k] : &m2[k - n1];
    fp_rect r = fp__rect_clip(m->r, gw, gh);
    if (r.w <= 0 || r.h <= 0)
      continue;
    grid_add(touch, cols, r.x / FP_CELL, r.y / FP_CELL, (r.x + r.w - 1) / FP_CELL,
             (r.y + r.h - 1) / FP_CELL);
    int fc0 = (r.x + FP_CELL - 1) / FP_CELL, fr0 = (r.y + FP_CELL - 1) / FP_CELL;
    int fc1 = (r.x + r.w) / FP_CELL - 1, fr1 = (r.y + r.h) / FP_CELL - 1;
    if (fc0 <= fc1 && fr0 <= fr1)
      grid_add(m->source == FP_MASK_ROBOT ? rfull : full, cols, fc0, fr0, fc1, fr1);
    robot |= m->source == FP_MASK_ROBOT;
  }
  for (int i = 0; robot && i < nprotect; i++) {
    fp_rect b = fp__rect_clip(protect[i].box, gw, gh);
    if (b.w > 0 && b.h > 0)
      grid_add(word, cols, b.x / FP_CELL, b.y / FP_CELL, (b.x + b.w - 1) / FP_CELL,
               (b.y + b.h - 1) / FP_CELL);
  }
  grid_sum(touch, cols, rows);
  grid_sum(full, cols, rows);
  grid_sum(rfull, cols, rows);
  if (robot)
    grid_sum(word, cols, rows);
  for (int y = 0; y < rows; y++)
    for (int x = 0; x < cols; x++) {
      uint8_t *s = &state[y * cols + x];
      int g = y * (cols + 1) + x;
      if (*s == CELL_SKIP || !touch[g])
        continue;
      *s = full[g] || (rfull[g] && !word[g]) ? CELL_SKIP : CELL_PARTIAL;
    }
  free(touch);
  free(full);
  free(rfull);
  free(word);
  return FP_OK;
}

fp_rect fp_anchor_checked(fp_rect b, int w, int h)
{
  if (b.w <= 0 || b.h <= 0)
    return (fp_rect){0, 0, 0, 0};
  /* grown by a pixel each side, without overflow */
  fp_rect q = fp__rect_and(b, (fp_rect){-1, -1, w + 2, h + 2});
  if (q.w <= 0 || q.h <= 0)
    return (fp_rect){0, 0, 0, 0};
  return fp__rect_clip((fp_rect){q.x - 1, q.y - 1, q.w + 2, q.h + 2}, w, h);
}

/* Which pixels of a band of rows are masked: a sweep down the image keeps, per
 * kind (mask, robot mask, anchor with a pixel around it, the anchor's own box), a
 * difference array
 * over the columns updated by the rectangles that start or end on each row;
 * a row's coverage is its prefix sum. */
enum { RK_MASK = 0, RK_ROBOT = 1, RK_ANCHOR = 2, RK_CORE = 3, RK_N };
typedef struct {
  int x0, x1, kind, delta;
} rev;
typedef struct {
  int w, h, y; /* next row to apply */
  int *start;  /* h+1 offsets into ev, by row */
  rev *ev;
  int *col[RK_N]; /* w+1 each */
  uint8_t *band;  /* FP_CELL rows of w: 1 = masked, 2 = the ring around an anchor under a
                     robot mask (checked) */
  int band_y0;
} raster;

static void raster_free(raster *r)
{
  free(r->start);
  free(r->ev);
  for (int k = 0; k < RK_N; k++)
    free(r->col[k]);
  free(r->band);
}

static int raster_init(raster *r, int w, int h, const fp_mask *m1, int n1, const fp_mask *m2,
                       int n2, const fp_word *p, int np)
{
  memset(r, 0, sizeof *r);
  r->w = w;
  r->h = h;
  r->band_y0 = -1;
  size_t nrect = (size_t)n1 + n2 + 2 * (size_t)np; /* an anchor: its ring and its box */
  r->start = calloc((size_t)h + 2, sizeof *r->start);
  r->ev = malloc((2 * nrect + 1) * sizeof *r->ev);
  bool cols = true;
  for (int k = 0; k < RK_N; k++)
    cols &= (r->col[k] = calloc((size_t)w + 1, sizeof *r->col[k])) != NULL;
  r->band = calloc((size_t)w * FP_CELL + 1, 1);
  if (!r->start || !r->ev || !cols || !r->band) {
    raster_free(r);
    return FP_ERR_NOMEM;
  }
  /* two passes (count per row, then place): a counting sort by row */
  for (int pass = 0; pass < 2; pass++) {
    int *fill = NULL;
    if (pass == 1) {
      for (int y = 0; y <= h; y++)
        r->start[y + 1] += r->start[y];
      if (!(fill = calloc((size_t)h + 1, sizeof *fill)))
        return raster_free(r), FP_ERR_NOMEM;
    }
    for (size_t i = 0; i < nrect; i++) {
      fp_rect q;
      int kind;
      if (i < (size_t)n1 + n2) {
        const fp_mask *m = i < (size_t)n1 ? &m1[i] : &m2[i - n1];
        q = m->r;
        kind = m->source == FP_MASK_ROBOT ? RK_ROBOT : RK_MASK;
      } else {
        size_t k = i - n1 - n2;
        fp_rect b = p[k / 2].box;
        q = k % 2 ? b : fp_anchor_checked(b, w, h);
        kind = k % 2 ? RK_CORE : RK_ANCHOR;
      }
      q = fp__rect_clip(q, w, h);
      if (q.w <= 0 || q.h <= 0)
        continue;
      int ends[2] = {q.y, q.y + q.h};
      for (int e = 0; e < 2; e++) {
        if (ends[e] >= h)
          continue;
        if (pass == 0) {
          r->start[ends[e] + 1]++;
        } else {
          rev *v = &r->ev[r->start[ends[e]] + fill[ends[e]]++];
          *v = (rev){q.x, q.x + q.w, kind, e ? -1 : 1};
        }
      }
    }
    free(fill);
  }
  return FP_OK;
}

/* Rows [y0, y1) into r->band; rows must come in order. */
static void raster_band(raster *r, int y0, int y1)
{
  int w = r->w;
  for (; r->y < y1; r->y++) {
    int y = r->y;
    for (int i = r->start[y]; i < r->start[y + 1]; i++) {
      rev *v = &r->ev[i];
      r->col[v->kind][v->x0] += v->delta;
      r->col[v->kind][v->x1] -= v->delta;
    }
    if (y < y0)
      continue;
    uint8_t *out = r->band + (size_t)(y - y0) * w;
    int a = 0, b = 0, c = 0, d = 0;
    for (int x = 0; x < w; x++) {
      a += r->col[RK_MASK][x];
      b += r->col[RK_ROBOT][x];
      c += r->col[RK_ANCHOR][x];
      d += r->col[RK_CORE][x];
      out[x] = a > 0 || (b > 0 && c == 0) ? 1 : b > 0 && d == 0 ? 2 : 0;
    }
  }
  r->band_y0 = y0;
}

/* Slow path for one cell whose bytes differ: count pixels whose YIQ distance
 * exceeds the threshold. No anti-aliasing suppression: it hides the few
 * pixels a one-character rename changes. */
static int cell_changed(PIX *ref, PIX *cur, int col, int row, const uint8_t *band, double maxd,
                        int min_pixels)
{
  int w = pixGetWidth(ref), h = pixGetHeight(ref);
  int wpla = pixGetWpl(ref), wplb = pixGetWpl(cur);
  const l_uint32 *da = pixGetData(ref), *db = pixGetData(cur);
  int count = 0;
  for (int y = row * FP_CELL; y < row * FP_CELL + FP_CELL && y < h; y++) {
    const l_uint32 *pa = da + (size_t)y * wpla, *pb = db + (size_t)y * wplb;
    for (int x = col * FP_CELL; x < col * FP_CELL + FP_CELL && x < w; x++) {
      if (!((pa[x] ^ pb[x]) & FP_ALPHA_MASK))
        continue;
      uint8_t bk = band ? band[(size_t)(y - row * FP_CELL) * w + x] : 0;
      if (bk == 1 || (bk == 2 && !((pa[x] ^ FP_BLANK_PIXEL) & FP_ALPHA_MASK)))
        continue; /* masked, or the ring a reference stored before blanked */
      if (fp__yiq_delta(pa[x], pb[x]) > maxd && ++count >= min_pixels)
        return 1;
    }
  }
  return 0;
}

int fp__compare_cells(PIX *ref, PIX *cur, const uint8_t *learned, const fp_mask *m1, int n1,
                      const fp_mask *m2, int n2, const fp_word *protect, int nprotect,
                      const fp_options *opt, uint8_t *changed, uint8_t *skipped, fp_verdict *v)
{
  int w = pixGetWidth(ref), h = pixGetHeight(ref);
  int cols = (w + FP_CELL - 1) / FP_CELL, rows = (h + FP_CELL - 1) / FP_CELL;
  int full = w / FP_CELL; /* columns with all 16 pixels */
  int wpla = pixGetWpl(ref), wplb = pixGetWpl(cur);
  const l_uint32 *da = pixGetData(ref), *db = pixGetData(cur);
  uint8_t *state = calloc((size_t)cols * rows + 1, 1);
  uint32_t *acc = malloc(((size_t)cols + 1) * sizeof *acc);
  raster ras;
  int rc = FP_ERR_NOMEM, have_ras = 0;
  if (!state || !acc)
    goto out;
  if (learned)
    for (int i = 0; i < cols * rows; i++)
      if (learned[i])
        state[i] = CELL_SKIP;
  if ((rc = mark_masks(state, cols, rows, m1, n1, m2, n2, protect, nprotect)))
    goto out;
  if (n1 + n2 > 0) {
    if ((rc = raster_init(&ras, w, h, m1, n1, m2, n2, protect, nprotect)))
      goto out;
    have_ras = 1;
  }
  double maxd = fp__max_delta(opt->threshold);
  int min_pixels = opt->min_pixels > 0 ? opt->min_pixels : 1;

  v->cells_total = cols * rows;
  /* When both images carry the same alpha byte (the usual case: same
     * capture path), whole rows can be compared with memcmp, which is
     * vectorised in libc; a band with any differing row, or differing alpha,
     * takes the per-cell loop below, which ignores the alpha byte. */
  int same_alpha = w > 0 && h > 0 && ((da[0] ^ db[0]) & ~FP_ALPHA_MASK) == 0;
  size_t rowbytes = (size_t)w * sizeof(l_uint32);
  for (int row = 0; row < rows; row++) {
    int y0 = row * FP_CELL, y1 = y0 + FP_CELL < h ? y0 + FP_CELL : h;
    memset(acc, 0, (size_t)cols * sizeof *acc);
    int band_same = same_alpha;
    for (int y = y0; band_same && y < y1; y++)
      band_same = !memcmp(da + (size_t)y * wpla, db + (size_t)y * wplb, rowbytes);
    /* Per cell: OR of XORs, branch-free over full cells. */
    for (int y = y0; !band_same && y < y1; y++) {
      const l_uint32 *pa = da + (size_t)y * wpla, *pb = db + (size_t)y * wplb;
      for (int c = 0; c < full; c++) {
        const l_uint32 *a = pa + c * FP_CELL, *b = pb + c * FP_CELL;
        uint32_t d = 0;
        for (int k = 0; k < FP_CELL; k++)
          d |= a[k] ^ b[k];
        acc[c] |= d;
      }
      if (full < cols) {
        uint32_t d = 0;
        for (int x = full * FP_CELL; x < w; x++)
          d |= pa[x] ^ pb[x];
        acc[full] |= d;
      }
    }
    for (int c = 0; c < cols; c++) {
      int idx = row * cols + c;
      if (state[idx] == CELL_SKIP) {
        if (skipped)
          skipped[idx] = 1;
        v->cells_masked++;
        continue;
      }
      v->cells_checked++;
      if (!(acc[c] & FP_ALPHA_MASK))
        continue;
      const uint8_t *band = NULL;
      if (state[idx] == CELL_PARTIAL && have_ras) {
        if (ras.band_y0 != y0)
          raster_band(&ras, y0, y1);
        band = ras.band;
      }
      if (cell_changed(ref, cur, c, row, band, maxd, min_pixels)) {
        changed[idx] = 1;
        v->cells_changed++;
      }
    }
  }
  rc = FP_OK;
out:
  if (have_ras)
    raster_free(&ras);
  free(state);
  free(acc);
  return rc;
}

int fp__cells_to_rects(const uint8_t *changed, int cols, int rows, int w, int h, fp_verdict *v)
{
  int n = cols * rows;
  uint8_t *seen = calloc((size_t)n + 1, 1);
  int *stack = malloc(((size_t)n + 1) * sizeof *stack);
  int rc = FP_OK;
  if (!seen || !stack) {
    rc = FP_ERR_NOMEM;
    goto out;
  }
  for (int i = 0; i < n && rc == FP_OK; i++) {
    if (!changed[i] || seen[i])
      continue;
    int sp = 0, c0 = cols, c1 = -1, r0 = rows, r1 = -1;
    stack[sp++] = i;
    seen[i] = 1;
    while (sp) {
      int k = stack[--sp], r = k / cols, c = k % cols;
      if (c < c0)
        c0 = c;
      if (c > c1)
        c1 = c;
      if (r < r0)
        r0 = r;
      if (r > r1)
        r1 = r;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int rr = r + dy, cc = c + dx;
          if (rr < 0 || rr >= rows || cc < 0 || cc >= cols)
            continue;
          int j = rr * cols + cc;
          if (changed[j] && !seen[j]) {
            seen[j] = 1;
            stack[sp++] = j;
          }
        }
    }
    fp_rect rc_ = {c0 * FP_CELL, r0 * FP_CELL, (c1 - c0 + 1) * FP_CELL, (r1 - r0 + 1) * FP_CELL};
    if (rc_.x + rc_.w > w)
      rc_.w = w - rc_.x;
    if (rc_.y + rc_.h > h)
      rc_.h = h - rc_.y;
    rc = fp__verdict_rect(v, rc_);
  }
out:
  free(seen);
  free(stack);
  return rc;
}

/* ---- L1: the scene's windows ---- */

void fp__match_layers(const fp__winkey *b, int nb, const fp__winkey *c, int nc, int *bm, int *cm)
{
  for (int i = 0; i < nb; i++)
    bm[i] = -1;
  for (int j = 0; j < nc; j++)
    cm[j] = -1;
  for (int pass = 0; pass < 3; pass++)
    for (int i = 0; i < nb; i++) {
      if (bm[i] >= 0)
        continue;
      for (int j = 0; j < nc; j++) {
        if (cm[j] >= 0 || b[i].role != c[j].role ||
            strcmp(b[i].cls ? b[i].cls : "", c[j].cls ? c[j].cls : ""))
          continue;
        if (pass < 2 && (b[i].w != c[j].w || b[i].h != c[j].h))
          continue;
        if (pass == 0 && strcmp(b[i].name ? b[i].name : "", c[j].name ? c[j].name : ""))
          continue;
        bm[i] = j;
        cm[j] = i;
        break;
      }
    }
}

const char *fp__static_title(const fp_fingerprint *base, const char *name)
{
  if (!base || !name || !*name)
    return NULL;
  if (base->win_name && !strcmp(base->win_name, name))
    return name;
  for (int i = 0; i < base->n_layers; i++)
    if (base->layers[i]->win_name && !strcmp(base->layers[i]->win_name, name))
      return name;
  return NULL;
}

int fp__verdict_absorb(fp_verdict *v, const fp_verdict *sub, const char *label, int dx, int dy)
{
  int rc = FP_OK;
  for (int i = 0; i < sub->n_reasons && !rc; i++)
    rc = label && *label ? fp__verdict_reason(v, "%s: %s", label, sub->reasons[i])
                         : fp__verdict_reason(v, "%s", sub->reasons[i]);
  for (int i = 0; i < sub->n_changed && !rc; i++) {
    fp_rect r = sub->changed[i];
    r.x += dx;
    r.y += dy;
    rc = fp__verdict_rect(v, r);
  }
  fp_rect *n = NULL;
  if (!rc && sub->n_ignored > 0 &&
      !(n = realloc(v->ignored, ((size_t)v->n_ignored + sub->n_ignored) * sizeof *n)))
    return FP_ERR_NOMEM;
  if (n)
    v->ignored = n;
  for (int i = 0; i < sub->n_ignored && !rc; i++) {
    n[v->n_ignored] = sub->ignored[i];
    n[v->n_ignored].x += dx;
    n[v->n_ignored].y += dy;
    v->n_ignored++;
  }
  v->cells_total += sub->cells_total;
  v->cells_checked += sub->cells_checked;
  v->cells_masked += sub->cells_masked;
  v->anchors_checked += sub->anchors_checked;
  return rc;
}

/* ---- L3: anchors ---- */

typedef struct {
  const fp_word *w;
  int used;
} cword;

static int near_pos(fp_rect a, fp_rect b, int tol)
{
  return abs(a.x - b.x) <= tol && abs(a.y - b.y) <= tol;
}

static int size_differs(fp_rect a, fp_rect b)
{
  int tw = a.w * 15 / 100 > 2 ? a.w * 15 / 100 : 2;
  int th = a.h * 15 / 100 > 2 ? a.h * 15 / 100 : 2;
  return abs(a.w - b.w) > tw || abs(a.h - b.h) > th;
}

static int vert_overlap(fp_rect a, fp_rect b)
{
  int y0 = a.y > b.y ? a.y : b.y;
  int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
  int m = a.h < b.h ? a.h : b.h;
  return m > 0 && (y1 - y0) * 2 >= m;
}

/* Join unused words on the same line starting at word s, left to right. */
static void phrase_from(cword *cw, int n, int s, PIX *img, char *buf, size_t len, fp_rect *box,
                        int mark)
{
  fp_rect b = cw[s].w->box;
  snprintf(buf, len, "%s", cw[s].w->text);
  if (mark)
    cw[s].used = 1;
  for (;;) {
    int best = -1;
    int gapmax = b.h > 8 ? b.h : 8;
    for (int i = 0; i < n; i++) {
      if (cw[i].used || i == s || !vert_overlap(b, cw[i].w->box))
        continue;
      int gap = cw[i].w->box.x - (b.x + b.w);
      if (gap < -2 || gap > gapmax || fp__divided(img, b, cw[i].w->box))
        continue;
      if (best < 0 || cw[i].w->box.x < cw[best].w->box.x)
        best = i;
    }
    if (best < 0)
      break;
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, " %s", cw[best].w->text);
    fp_rect nb = cw[best].w->box;
    int x1 = nb.x + nb.w, y0 = b.y < nb.y ? b.y : nb.y;
    int y1 = b.y + b.h > nb.y + nb.h ? b.y + b.h : nb.y + nb.h;
    b.w = x1 - b.x;
    b.y = y0;
    b.h = y1 - y0;
    cw[best].used = 1; /* always consume to terminate */
    if (!mark)
      cw[best].used = 2;
  }
  if (!mark)
    for (int i = 0; i < n; i++)
      if (cw[i].used == 2)
        cw[i].used = 0;
  if (box)
    *box = b;
}

static const char *noun(fp_word_kind k)
{
  return k == FP_WORD_BUTTON ? "button" : k == FP_WORD_ENTRY ? "entry" : "label";
}

typedef struct {
  int state; /* 0 ok, 1 moved, 2 renamed, 3 missing, 4 outside region,
                  5 pixels unchanged */
  fp_rect now;
  int size_changed;
  int reported;
} astate;

static int in_region(fp_rect region, fp_rect b)
{
  if (region.w <= 0 || region.h <= 0)
    return 1;
  return fp__rect_contains_point(region, b.x + b.w / 2, b.y + b.h / 2);
}

static int rect_touches_changed(fp_rect r, const fp_verdict *v, int nrects)
{
  for (int i = 0; i < nrects; i++)
    if (fp__rect_intersects(r, v->changed[i]))
      return 1;
  return 0;
}

/* Mostly hidden by another window today. */
static int covered(fp_rect b, const fp_mask *m, int n)
{
  long area = fp__rect_area(b), hidden = 0;
  for (int i = 0; i < n; i++)
    if (m[i].source == FP_MASK_OCCLUDED)
      hidden += fp__rect_area(fp__rect_and(b, m[i].r));
  return area > 0 && hidden * 2 >= area;
}

static int word_in_masks(fp_rect b, const fp_mask *m, int n)
{
  long area = fp__rect_area(b);
  for (int i = 0; i < n; i++) {
    long a = fp__rect_area(fp__rect_and(b, m[i].r));
    if (a > 0 && a * 2 >= area)
      return 1;
  }
  return 0;
}

/* An anchor whose cells were (mostly) compared and none changed is where it
 * was, whatever OCR reads there now (OCR varies; pixels do not). */
static int pixel_stable(fp_rect b, const uint8_t *changed, const uint8_t *skipped, int cols,
                        int rows)
{
  if (!changed || !skipped)
    return 0;
  if (b.w <= 0 || b.h <= 0 || b.x < 0 || b.y < 0 ||
      (long long)b.x + b.w > (long long)cols * FP_CELL ||
      (long long)b.y + b.h > (long long)rows * FP_CELL)
    return 0; /* not wholly on the grid: judged by OCR */
  int c0 = b.x / FP_CELL, r0 = b.y / FP_CELL;
  int c1 = (b.x + b.w - 1) / FP_CELL, r1 = (b.y + b.h - 1) / FP_CELL;
  int total = 0, seen = 0;
  for (int r = r0; r <= r1; r++)
    for (int c = c0; c <= c1; c++) {
      if (changed[r * cols + c])
        return 0;
      total++;
      seen += !skipped[r * cols + c];
    }
  return seen * 2 >= total; /* mostly compared by pixels, none changed */
}

/* What the phases of L3 share: the recorded anchors and their state, today's phrases,
 * and the boxes the reasons explain. */
typedef struct {
  const fp_fingerprint *base;
  const fp_input *cur;
  PIX *img; /* today's image where phrases end at lines (format 3), or NULL */
  const fp_options *opt;
  fp_verdict *v;
  int na, nw, tol;
  astate *as;
  cword *cw;
  fp_rect *explained;
  int nexp, sized, matched;
  char *font_example;
  size_t fe_len;
  char buf[512];
  /* the renamed reasons (from reason r0 on) that read almost as before: bit k, reason r0+k */
  int r0;
  uint64_t slight;
} anchors;

static void explain(anchors *x, fp_rect r)
{
  x->explained[x->nexp++] = r;
}

/* Anchors out of view today (state 4) or whose pixels did not change (5): the latter own
 * whatever OCR read over them. */
static void anchors_in_view(anchors *x, const uint8_t *changed, const uint8_t *skipped)
{
  const fp_fingerprint *base = x->base;
  for (int a = 0; a < x->na; a++) {
    fp_rect ab = base->anchors[a].box;
    if (!in_region(x->cur->words_region, ab) || covered(ab, x->cur->masks, x->cur->n_masks)) {
      x->as[a].state = 4; /* not in view today: judged by the window in front */
    } else if (pixel_stable(ab, changed, skipped, base->cols, base->rows)) {
      x->as[a].state = 5; /* checked by pixels: unchanged */
      for (int i = 0; i < x->nw; i++) {
        long wa = fp__rect_area(x->cw[i].w->box);
        long ov = fp__rect_area(fp__rect_and(x->cw[i].w->box, ab));
        if (!x->cw[i].used && wa > 0 && ov * 2 >= wa)
          x->cw[i].used = 1;
      }
    } else {
      x->as[a].state = -1; /* undecided */
    }
  }
}

/* Anchor a is today's phrase i: state 0 (in place) or 1 (moved). */
static void anchor_found(anchors *x, int a, int i, int state)
{
  const fp_word *an = &x->base->anchors[a];
  x->cw[i].used = 1;
  x->as[a].state = state;
  x->as[a].now = x->cw[i].w->box;
  x->matched++;
  if (size_differs(an->box, x->as[a].now)) {
    x->as[a].size_changed = 1;
    if (!x->sized++)
      snprintf(x->font_example, x->fe_len, "'%s' %dx%d -> %dx%d", an->text, an->box.w, an->box.h,
               x->as[a].now.w, x->as[a].now.h);
  }
}

/* 1: the same text at the same place; 2: the same text elsewhere (the nearest). */
static void anchors_same_text(anchors *x)
{
  for (int a = 0; a < x->na; a++) {
    if (x->as[a].state != -1)
      continue;
    const fp_word *an = &x->base->anchors[a];
    for (int i = 0; i < x->nw; i++)
      if (!x->cw[i].used && !strcmp(x->cw[i].w->text, an->text) &&
          near_pos(x->cw[i].w->box, an->box, x->tol)) {
        anchor_found(x, a, i, 0);
        break;
      }
  }
  for (int a = 0; a < x->na; a++) {
    if (x->as[a].state != -1)
      continue;
    const fp_word *an = &x->base->anchors[a];
    int best = -1;
    long bd = 0;
    for (int i = 0; i < x->nw; i++) {
      if (x->cw[i].used || strcmp(x->cw[i].w->text, an->text))
        continue;
      long dx = x->cw[i].w->box.x - an->box.x, dy = x->cw[i].w->box.y - an->box.y;
      long d = dx * dx + dy * dy;
      if (best < 0 || d < bd) {
        best = i;
        bd = d;
      }
    }
    if (best >= 0)
      anchor_found(x, a, best, 1);
  }
}

/* 3: other text where the anchor was: renamed. */
static void anchors_renamed(anchors *x)
{
  x->r0 = x->v->n_reasons;
  for (int a = 0; a < x->na; a++) {
    if (x->as[a].state != -1)
      continue;
    const fp_word *an = &x->base->anchors[a];
    int start = -1;
    for (int i = 0; i < x->nw; i++) {
      const fp_rect wb = x->cw[i].w->box;
      if (x->cw[i].used || !fp__rect_intersects(wb, an->box) || !vert_overlap(wb, an->box))
        continue;
      if (start < 0 || wb.x < x->cw[start].w->box.x)
        start = i;
    }
    if (start < 0)
      continue;
    fp_rect pb; /* extended to the left while words touch the line start */
    phrase_from(x->cw, x->nw, start, x->img, x->buf, sizeof x->buf, &pb, 1);
    x->as[a].state = 2;
    x->as[a].now = pb;
    x->v->anchors_renamed++;
    int k = x->v->n_reasons - x->r0;
    /* a letter or two: a label half covered (a taller menu) or read a little otherwise */
    if (k < 64 && fp_text_distance(an->text, x->buf, 0) <= 2)
      x->slight |= 1ull << k;
    fp__verdict_reason(x->v, "%s '%s' now reads '%s' at (%d,%d)", noun(an->kind), an->text, x->buf,
                       pb.x, pb.y);
    explain(x, an->box);
    explain(x, pb);
  }
}

/* 4: missing; many at once (another window, a blank screen) are told in one reason. */
static void anchors_missing(anchors *x)
{
  fp_verdict *v = x->v;
  int nmiss = 0, nconsidered = 0;
  for (int a = 0; a < x->na; a++) {
    nmiss += x->as[a].state == -1;
    nconsidered += x->as[a].state != 4;
  }
  if (nmiss >= 3 && nmiss * 2 >= nconsidered) {
    char list[512] = "";
    size_t l = 0;
    int shown = 0;
    for (int a = 0; a < x->na && l < sizeof list; a++) {
      if (x->as[a].state != -1)
        continue;
      const fp_word *an = &x->base->anchors[a];
      x->as[a].state = 3;
      v->anchors_missing++;
      explain(x, an->box);
      if (shown++ < 4)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s'%s' (%d,%d)", shown > 1 ? ", " : "",
                              an->text, an->box.x, an->box.y);
    }
    fp__verdict_reason(v, "%d of %d labels not found: %s%s", nmiss, nconsidered, list,
                       nmiss > 4 ? ", ..." : "");
  }
  for (int a = 0; a < x->na; a++) {
    if (x->as[a].state != -1)
      continue;
    const fp_word *an = &x->base->anchors[a];
    x->as[a].state = 3;
    v->anchors_missing++;
    if (an->kind == FP_WORD_LABEL)
      fp__verdict_reason(v, "label '%s' not found (was at (%d,%d))", an->text, an->box.x,
                         an->box.y);
    else
      fp__verdict_reason(v, "%s '%s' missing (was at (%d,%d))", noun(an->kind), an->text, an->box.x,
                         an->box.y);
    explain(x, an->box);
  }
}

/* Moved anchors: a common shift summed up first, then each, swaps told as such. */
static void anchors_moved(anchors *x)
{
  const fp_fingerprint *base = x->base;
  fp_verdict *v = x->v;
  astate *as = x->as;
  int na = x->na, best_n = 0, bdx = 0, bdy = 0;
  for (int a = 0; a < na; a++) {
    if (as[a].state != 1)
      continue;
    int dx = as[a].now.x - base->anchors[a].box.x;
    int dy = as[a].now.y - base->anchors[a].box.y, n = 0;
    for (int b = 0; b < na; b++)
      if (as[b].state == 1 && abs(as[b].now.x - base->anchors[b].box.x - dx) <= 2 &&
          abs(as[b].now.y - base->anchors[b].box.y - dy) <= 2)
        n++;
    if (n > best_n) {
      best_n = n;
      bdx = dx;
      bdy = dy;
    }
  }
  if (best_n >= 3) {
    char dir[96] = "";
    if (bdy)
      snprintf(dir, sizeof dir, "%s by %d px", bdy > 0 ? "down" : "up", abs(bdy));
    if (bdx) {
      size_t l = strlen(dir);
      snprintf(dir + l, sizeof dir - l, "%s%s by %d px", l ? " and " : "",
               bdx > 0 ? "right" : "left", abs(bdx));
    }
    fp__verdict_reason(v, "%d %s moved %s", best_n,
                       base->role == FP_WIN_POPUP ? "entries" : "labels", dir);
  }
  for (int a = 0; a < na; a++) {
    if (as[a].state != 1 || as[a].reported)
      continue;
    const fp_word *an = &base->anchors[a];
    v->anchors_moved++;
    as[a].reported = 1;
    explain(x, an->box);
    explain(x, as[a].now);
    int partner = -1;
    for (int b = 0; b < na; b++) {
      if (b == a || as[b].state != 1 || as[b].reported)
        continue;
      const fp_word *bn = &base->anchors[b];
      if (near_pos(as[a].now, bn->box, x->tol * 2 + 2) &&
          near_pos(as[b].now, an->box, x->tol * 2 + 2)) {
        partner = b;
        break;
      }
    }
    if (partner >= 0) {
      const fp_word *bn = &base->anchors[partner];
      as[partner].reported = 1;
      v->anchors_moved++;
      fp__verdict_reason(v,
                         "%s '%s' and '%s' swapped: '%s' moved from "
                         "(%d,%d) to (%d,%d), '%s' from (%d,%d) to (%d,%d)",
                         an->kind == FP_WORD_ENTRY ? "entries" : "labels", an->text, bn->text,
                         an->text, an->box.x, an->box.y, as[a].now.x, as[a].now.y, bn->text,
                         bn->box.x, bn->box.y, as[partner].now.x, as[partner].now.y);
    } else {
      fp__verdict_reason(v, "%s '%s' moved from (%d,%d) to (%d,%d)", noun(an->kind), an->text,
                         an->box.x, an->box.y, as[a].now.x, as[a].now.y);
    }
  }
}

/* New text: unmatched confident words in changed cells, outside masks. */
static void anchors_new_text(anchors *x)
{
  fp_verdict *v = x->v;
  cword *cw = x->cw;
  int nw = x->nw, shown = 0;
  for (int i = 0; i < nw; i++) {
    if (cw[i].used || cw[i].w->conf < x->opt->min_conf || !fp__has_alnum(cw[i].w->text))
      continue;
    fp_rect b = cw[i].w->box;
    if (word_in_masks(b, x->base->masks, x->base->n_masks) ||
        word_in_masks(b, x->cur->masks, x->cur->n_masks))
      continue;
    if (!v->size_changed && !rect_touches_changed(b, v, v->n_changed))
      continue;
    /* start the phrase at the leftmost unused word of this run */
    int s = i;
    for (int moved = 1; moved;) {
      moved = 0;
      for (int j = 0; j < nw; j++) {
        if (cw[j].used || j == s)
          continue;
        fp_rect sb = cw[s].w->box, jb = cw[j].w->box;
        int gap = sb.x - (jb.x + jb.w);
        if (vert_overlap(sb, jb) && gap >= -2 && gap <= (sb.h > 8 ? sb.h : 8) &&
            !fp__divided(x->img, jb, sb)) {
          s = j;
          moved = 1;
          break;
        }
      }
    }
    fp_rect pb;
    phrase_from(cw, nw, s, x->img, x->buf, sizeof x->buf, &pb, 1);
    explain(x, pb);
    if (shown++ < 5)
      fp__verdict_reason(v, "new text '%s' at (%d,%d)", x->buf, pb.x, pb.y);
  }
}

/* Where region r lies by the nearest recorded label of base (the vendor's words, as the
 * other reasons quote them): ", at label 'Navn'" (over it), ", right of label 'Navn'"; ""
 * when none lies within 160 px. An operator finds a place by its label, not by its
 * coordinates. */
static void region_place(const fp_fingerprint *base, fp_rect r, char *buf, size_t len)
{
  buf[0] = '\0';
  long long best = 160LL * 160 + 1;
  const char *rel = NULL;
  const fp_word *near = NULL;
  for (int i = 0; i < base->n_anchors; i++) {
    const fp_word *a = &base->anchors[i];
    fp_rect b = a->box;
    if (!a->text || !a->text[0])
      continue;
    fp_rect o = fp__rect_and(r, b);
    if (o.w > 0 && o.h > 0 && (long long)o.w * o.h * 2 < (long long)b.w * b.h)
      continue; /* partly under the change: neither at it nor beside it */
    long long bx1 = (long long)b.x + b.w, rx1 = (long long)r.x + r.w;
    long long by1 = (long long)b.y + b.h, ry1 = (long long)r.y + r.h;
    long long dx = bx1 <= r.x ? r.x - bx1 : rx1 <= b.x ? b.x - rx1 : 0;
    long long dy = by1 <= r.y ? r.y - by1 : ry1 <= b.y ? b.y - ry1 : 0;
    if (dx > 160 || dy > 160)
      continue;
    long long d = dx * dx + dy * dy;
    if (d >= best)
      continue;
    best = d;
    near = a;
    if (o.w > 0 && o.h > 0) /* over the label itself */
      rel = "at";
    else if (dy == 0 || vert_overlap(r, b))
      rel = b.x < r.x ? "right of" : "left of";
    else if (dx == 0)
      rel = b.y < r.y ? "below" : "above";
    else
      rel = "near";
  }
  if (near)
    snprintf(buf, len, ", %s %s '%s'", rel, noun(near->kind), near->text);
}

/* Move the last reason to position pos (earlier reasons shift down). */
static void move_last_reason(fp_verdict *v, int pos)
{
  if (v->n_reasons <= 0 || pos < 0 || pos >= v->n_reasons - 1)
    return;
  char *last = v->reasons[v->n_reasons - 1];
  memmove(&v->reasons[pos + 1], &v->reasons[pos],
          (size_t)(v->n_reasons - 1 - pos) * sizeof *v->reasons);
  v->reasons[pos] = last;
}

/* When the screen changed otherwise too (an entry new, gone or moved), renamed reasons
 * [r0, r1) that read almost as before (slight: bit k for reason r0 + k) go last: what
 * leads is what an operator can act on (a menu's new entry, not the label it covers). */
static void slight_last(fp_verdict *v, int r0, int r1, uint64_t slight)
{
  if (!slight || r1 >= v->n_reasons || r1 - r0 > 64 || r0 < 0)
    return;
  char *keep[64];
  int n = 0;
  for (int i = r0; i < r1; i++)
    if (slight >> (i - r0) & 1)
      keep[n++] = v->reasons[i];
  int w = r0;
  for (int i = r0; i < v->n_reasons; i++)
    if (i >= r1 || !(slight >> (i - r0) & 1))
      v->reasons[w++] = v->reasons[i];
  for (int i = 0; i < n; i++)
    v->reasons[w++] = keep[i];
}

/* Whether word box b lies mostly in data: a mask of base or cur other than a covering
 * window's, or base's learned cells. */
static int in_data(fp_rect b, const fp_fingerprint *base, const fp_input *cur)
{
  long area = fp__rect_area(b), data = 0;
  if (area <= 0)
    return 0;
  const fp_mask *ms[2] = {base->masks, cur->masks};
  int ns[2] = {base->n_masks, cur->n_masks};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < ns[k]; i++)
      if (ms[k][i].source != FP_MASK_OCCLUDED &&
          fp__rect_area(fp__rect_and(b, ms[k][i].r)) * 2 >= area)
        return 1;
  for (int r = b.y / FP_CELL; base->learned && r < base->rows && r * FP_CELL < b.y + b.h; r++)
    for (int c = b.x / FP_CELL; c < base->cols && c * FP_CELL < b.x + b.w; c++)
      if (r >= 0 && c >= 0 && base->learned[r * base->cols + c])
        data +=
            fp__rect_area(fp__rect_and(b, (fp_rect){c * FP_CELL, r * FP_CELL, FP_CELL, FP_CELL}));
  return data * 2 >= area;
}

/* Today's words less those in data (or typed by the robot in this run) that stand where no
 * recorded label does: what a reason may quote is the vendor's words, never a citizen's (a
 * label's new caption joined to the name beside it, a name an application copied into a
 * dialog). Words over a recorded label stay: the label is judged by them. NULL (and *n
 * -1) when out of memory. */
static fp_word *vendor_words(const fp_fingerprint *base, const fp_input *cur, int *n)
{
  fp_word *w = malloc(((size_t)cur->n_words + 1) * sizeof *w);
  uint8_t *typed = calloc((size_t)cur->n_words + 1, 1);
  *n = w && typed ? 0 : -1;
  if (*n < 0) {
    free(w);
    free(typed);
    return NULL;
  }
  fp_data_words(cur->words, cur->n_words, cur->data_words, cur->n_data_words, typed);
  for (int i = 0; i < cur->n_words; i++) {
    if (typed[i])
      continue; /* typed by the robot, wherever it shows: never quoted */
    fp_rect b = cur->words[i].box;
    int at_label = 0;
    for (int a = 0; a < base->n_anchors && !at_label; a++)
      at_label = fp__rect_intersects(b, base->anchors[a].box);
    if (at_label || !in_data(b, base, cur))
      w[(*n)++] = cur->words[i]; /* shallow: the texts stay cur's */
  }
  free(typed);
  return w;
}

/* L3. Appends reasons; boxes the reasons explain go to *explained; *sized
 * counts anchors whose box changed size (font hint) out of *matched. */
static int compare_anchors(const fp_fingerprint *base, const fp_input *cur, PIX *img,
                           const uint8_t *changed, const uint8_t *skipped, const fp_options *opt,
                           fp_verdict *v, fp_rect **explained, int *nexp, int *sized, int *matched,
                           char *font_example, size_t fe_len)
{
  /* anchors are phrases ("Gem journal"): read today's words the same way */
  fp_word *ph = NULL;
  int nv;
  fp_word *vw = vendor_words(base, cur, &nv);
  img = base->version >= 3 ? img : NULL; /* format 2's phrases did not look for lines */
  int na = base->n_anchors, nw = vw ? fp__phrases(vw, nv, img, &ph) : -1;
  free(vw);
  if (nw < 0) {
    *explained = NULL;
    *nexp = *sized = *matched = 0;
    return FP_ERR_NOMEM;
  }
  anchors x = {.base = base,
               .cur = cur,
               .img = img,
               .opt = opt,
               .v = v,
               .na = na,
               .nw = nw,
               .tol = opt->pos_tolerance,
               .font_example = font_example,
               .fe_len = fe_len};
  x.as = calloc((size_t)na + 1, sizeof *x.as);
  x.cw = calloc((size_t)nw + 1, sizeof *x.cw);
  /* each anchor explains at most two boxes, each phrase one */
  x.explained = calloc((size_t)(2 * na + nw) + 1, sizeof *x.explained);
  if (!x.as || !x.cw || !x.explained) {
    free(x.as);
    free(x.cw);
    free(x.explained);
    fp__free_words(ph, nw);
    *explained = NULL;
    *nexp = *sized = *matched = 0;
    return FP_ERR_NOMEM;
  }
  for (int i = 0; i < nw; i++) {
    x.cw[i].w = &ph[i];
    /* empty, punctuation-only or very unsure words explain nothing */
    if (!fp__has_alnum(ph[i].text) || ph[i].conf < 20.0f)
      x.cw[i].used = 1;
  }
  anchors_in_view(&x, changed, skipped);
  anchors_same_text(&x);
  anchors_renamed(&x);
  int r1 = v->n_reasons;
  anchors_missing(&x);
  anchors_moved(&x);
  for (int a = 0; a < na; a++)
    if (x.as[a].state != 4)
      v->anchors_checked++;
  int n0 = v->n_reasons;
  anchors_new_text(&x);
  /* an entry inserted pushes the ones below it: the new text says why they moved (each
   * in turn to r1, so they keep their order) */
  if (n0 > r1)
    for (int i = n0; i < v->n_reasons; i++)
      move_last_reason(v, r1);
  slight_last(v, x.r0, r1, x.slight);
  *explained = x.explained;
  *nexp = x.nexp;
  *sized = x.sized;
  *matched = x.matched;
  free(x.as);
  free(x.cw);
  fp__free_words(ph, nw);
  return FP_OK;
}

static int rect_explained(fp_rect r, const fp_rect *e, int n)
{
  for (int i = 0; i < n; i++)
    if (fp__rect_intersects(r, e[i]))
      return 1;
  return 0;
}

/* v->ignored has room (list_ignored made it) */
static int add_ignored(fp_verdict *v, fp_rect r)
{
  v->ignored[v->n_ignored++] = r;
  return FP_OK;
}

/* masks and learned cells (as row runs), for the evidence image */
static int list_ignored(const fp_fingerprint *base, const fp_input *cur, fp_verdict *v)
{
  /* room for all at once: growing by one per mask is quadratic in the masks */
  size_t runs = 0;
  for (int r = 0; r < base->rows; r++)
    for (int c = 0; c < base->cols; c++)
      runs +=
          base->learned[r * base->cols + c] && (c == 0 || !base->learned[r * base->cols + c - 1]);
  size_t want = (size_t)v->n_ignored + (size_t)base->n_masks + (size_t)cur->n_masks + runs;
  fp_rect *room = realloc(v->ignored, (want + 1) * sizeof *room);
  if (!room)
    return FP_ERR_NOMEM;
  v->ignored = room;
  int rc = FP_OK;
  for (int i = 0; i < base->n_masks && !rc; i++)
    rc = add_ignored(v, base->masks[i].r);
  for (int i = 0; i < cur->n_masks && !rc; i++)
    rc = add_ignored(v, cur->masks[i].r);
  for (int r = 0; r < base->rows && !rc; r++)
    for (int c = 0; c < base->cols && !rc; c++) {
      if (!base->learned[r * base->cols + c])
        continue;
      int c1 = c;
      while (c1 + 1 < base->cols && base->learned[r * base->cols + c1 + 1])
        c1++;
      fp_rect q = {c * FP_CELL, r * FP_CELL, (c1 - c + 1) * FP_CELL, FP_CELL};
      rc = add_ignored(v, q);
      c = c1;
    }
  return rc;
}

/* One window: class, size, cells, anchors. */
static int compare_window(const fp_fingerprint *base, const fp_input *cur, const fp_options *opt,
                          fp_verdict *v)
{
  PIX *img = fp__to32(cur->image);
  if (!img)
    return FP_ERR_NOMEM;
  int rc = FP_OK;
  int w = pixGetWidth(img), h = pixGetHeight(img);
  uint8_t *changed = NULL, *skipped = NULL;
  fp_rect *explained = NULL;
  int nexp = 0;

  if (base->role == FP_WIN_TARGET && cur->win_class && base->win_class && *base->win_class &&
      strcmp(cur->win_class, base->win_class)) {
    v->class_changed = 1;
    fp__verdict_reason(v, "window class '%s' -> '%s'", base->win_class, cur->win_class);
  }
  /* a pop-up grows with an inserted entry: the entries say more than the size, so its
     * size is told last */
  int popup_size = 0;
  if (w != base->width || h != base->height) {
    v->size_changed = 1;
    if (base->role == FP_WIN_POPUP && cur->has_words)
      popup_size = 1;
    else
      fp__verdict_reason(v, "%s size %dx%d -> %dx%d",
                         base->role == FP_WIN_POPUP ? "pop-up" : "window", base->width,
                         base->height, w, h);
  }
  int n_l1 = v->n_reasons;

  /* L2: cells */
  if (!v->size_changed) {
    changed = calloc((size_t)base->cols * base->rows + 1, 1);
    skipped = calloc((size_t)base->cols * base->rows + 1, 1);
    if (!changed || !skipped) {
      rc = FP_ERR_NOMEM;
      goto out;
    }
    if ((rc = fp__compare_cells(base->image, img, base->learned, base->masks, base->n_masks,
                                cur->masks, cur->n_masks, base->anchors, base->n_anchors, opt,
                                changed, skipped, v)))
      goto out;
    if (v->cells_changed && (rc = fp__cells_to_rects(changed, base->cols, base->rows, w, h, v)))
      goto out;
  } else {
    v->cells_total = v->cells_changed = (w / FP_CELL) * (h / FP_CELL);
    fp_rect all = {0, 0, w, h};
    fp__verdict_rect(v, all);
  }

  /* L3: anchors, only when the caller ran OCR */
  int sized = 0, matched = 0;
  char font_example[256] = "";
  if (cur->has_words) {
    if ((rc = compare_anchors(base, cur, img, changed, skipped, opt, v, &explained, &nexp, &sized,
                              &matched, font_example, sizeof font_example)))
      goto out;
  }
  /* Font and theme are told first (after L1): they explain the rest. */
  int font = sized >= 2 && sized * 2 >= matched;
  if (font) {
    fp__verdict_reason(v, "font changed (label boxes changed size, e.g. %s)", font_example);
    move_last_reason(v, n_l1++);
  }
  /* Theme: many cells changed and the dominant colour with them; or many
     * cells while every anchor stayed */
  int theme = 0;
  int layout = v->anchors_moved || v->anchors_renamed || v->anchors_missing;
  if (!v->size_changed && v->cells_checked > 0 &&
      v->cells_changed >= opt->theme_fraction * v->cells_checked) {
    uint32_t c0 = fp__mode_colour(base->image), c1 = fp__mode_colour(img);
    if (c0 != c1) {
      theme = 1;
      fp__verdict_reason(v,
                         "colours/theme changed (background #%06x -> #%06x, "
                         "%d of %d cells)",
                         c0, c1, v->cells_changed, v->cells_checked);
      move_last_reason(v, n_l1++);
    } else if (!font) {
      fp__verdict_reason(v, "%d of %d cells changed (%s)", v->cells_changed, v->cells_checked,
                         cur->has_words && !layout ? "labels unchanged: colours or font"
                                                   : "large change");
      if (!layout) /* else the anchors' reasons come first */
        move_last_reason(v, n_l1++);
    }
  }

  /* Region reasons for changes nothing above explains */
  if (!v->size_changed && !theme && !font) {
    int listed = 0, more = 0;
    for (int i = 0; i < v->n_changed; i++) {
      fp_rect r = v->changed[i];
      if (rect_explained(r, explained, nexp))
        continue;
      if (listed < opt->max_region_reasons) {
        char place[320];
        region_place(base, r, place, sizeof place);
        fp__verdict_reason(v, "region (%d,%d,%d,%d) changed%s", r.x, r.y, r.w, r.h, place);
        listed++;
      } else {
        more++;
      }
    }
    if (more)
      fp__verdict_reason(v, "and %d more changed regions", more);
  }

  if (popup_size)
    fp__verdict_reason(v, "pop-up size %dx%d -> %dx%d", base->width, base->height, w, h);
  if ((rc = list_ignored(base, cur, v)))
    goto out;
  v->match = !(v->class_changed || v->size_changed || v->cells_changed || v->anchors_moved ||
               v->anchors_renamed || v->anchors_missing || font);
out:
  free(changed);
  free(skipped);
  free(explained);
  pixDestroy(&img);
  return rc;
}

static fp__winkey key_of_fp(const fp_fingerprint *f)
{
  return (fp__winkey){f->role, f->win_class, f->win_name, f->x,
                      f->y,    f->width,     f->height,   f->front};
}

static fp__winkey key_of_input(const fp_input *in)
{
  int w = in->image ? (int)pixGetWidth(in->image) : 0;
  int h = in->image ? (int)pixGetHeight(in->image) : 0;
  return (fp__winkey){in->role == FP_WIN_TARGET ? FP_WIN_DIALOG : in->role,
                      in->win_class,
                      in->win_name,
                      in->x,
                      in->y,
                      w,
                      h,
                      in->front};
}

/* L1 and the layers: new and gone windows, pop-ups placed elsewhere, and each
 * matched pair judged in its own coordinates. */
static int compare_layers(const fp_fingerprint *base, const fp_input *cur, const fp_options *opt,
                          fp_verdict *v)
{
  int nb = base->n_layers, nc = cur->n_layers > 0 ? cur->n_layers : 0;
  if (nb == 0 && nc == 0)
    return FP_OK;
  fp__winkey *bk = calloc((size_t)nb + 1, sizeof *bk), *ck = calloc((size_t)nc + 1, sizeof *ck);
  int *bm = calloc((size_t)nb + 1, sizeof *bm), *cm = calloc((size_t)nc + 1, sizeof *cm);
  int rc = FP_OK;
  if (!bk || !ck || !bm || !cm) {
    rc = FP_ERR_NOMEM;
    goto out;
  }
  for (int i = 0; i < nb; i++)
    bk[i] = key_of_fp(base->layers[i]);
  for (int j = 0; j < nc; j++)
    ck[j] = key_of_input(&cur->layers[j]);
  fp__match_layers(bk, nb, ck, nc, bm, cm);
  char label[512];
  for (int j = 0; j < nc && !rc; j++) {
    if (cm[j] >= 0)
      continue;
    v->windows_new++;
    fp__verdict_rect(v, (fp_rect){ck[j].x, ck[j].y, ck[j].w, ck[j].h});
    if (ck[j].role == FP_WIN_POPUP)
      rc = fp__verdict_reason(
          v, "new pop-up%s%s%s at (%d,%d) %dx%d in front", ck[j].cls && *ck[j].cls ? " (" : "",
          ck[j].cls && *ck[j].cls ? ck[j].cls : "", ck[j].cls && *ck[j].cls ? ")" : "", ck[j].x,
          ck[j].y, ck[j].w, ck[j].h);
    else if (fp__static_title(base, ck[j].name))
      rc = fp__verdict_reason(v, "new window '%s'%s at (%d,%d) %dx%d (class %s)", ck[j].name,
                              ck[j].front ? " in front" : "", ck[j].x, ck[j].y, ck[j].w, ck[j].h,
                              ck[j].cls && *ck[j].cls ? ck[j].cls : "?");
    else
      rc = fp__verdict_reason(v, "new window%s at (%d,%d) %dx%d (class %s)",
                              ck[j].front ? " in front" : "", ck[j].x, ck[j].y, ck[j].w, ck[j].h,
                              ck[j].cls && *ck[j].cls ? ck[j].cls : "?");
  }
  for (int i = 0; i < nb && !rc; i++) {
    if (bm[i] >= 0)
      continue;
    v->windows_missing++;
    fp_layer_label(bk[i].role, bk[i].cls, bk[i].name, bk[i].x, bk[i].y, label, sizeof label);
    rc = fp__verdict_reason(v, "%s %dx%d gone (it was there when recorded)", label, bk[i].w,
                            bk[i].h);
  }
  for (int i = 0; i < nb && !rc; i++) {
    int j = bm[i];
    if (j < 0)
      continue;
    const fp_fingerprint *bl = base->layers[i];
    fp_layer_label(bk[i].role, bk[i].cls, bk[i].name, bk[i].x, bk[i].y, label, sizeof label);
    /* a pop-up is placed by the application relative to its window: where it
         * drops decides what a click at a window-relative point hits */
    if (bk[i].role == FP_WIN_POPUP &&
        !near_pos((fp_rect){bk[i].x, bk[i].y, 1, 1}, (fp_rect){ck[j].x, ck[j].y, 1, 1},
                  opt->pos_tolerance)) {
      v->windows_moved++;
      fp__verdict_rect(v, (fp_rect){ck[j].x, ck[j].y, ck[j].w, ck[j].h});
      rc = fp__verdict_reason(v, "%s: moved to (%d,%d) relative to the window", label, ck[j].x,
                              ck[j].y);
    }
    fp_verdict sub;
    memset(&sub, 0, sizeof sub);
    if (!rc)
      rc = compare_window(bl, &cur->layers[j], opt, &sub);
    if (!rc)
      rc = fp__verdict_absorb(v, &sub, label, ck[j].x, ck[j].y);
    v->windows_changed += !sub.match;
    v->cells_changed += sub.cells_changed;
    v->anchors_moved += sub.anchors_moved;
    v->anchors_renamed += sub.anchors_renamed;
    v->anchors_missing += sub.anchors_missing;
    fp_verdict_free(&sub);
  }
out:
  free(bk);
  free(ck);
  free(bm);
  free(cm);
  return rc;
}

int fp_compare(const fp_fingerprint *base, const fp_input *cur, const fp_options *opt,
               fp_verdict *v)
{
  double t0 = (vu_mono() * 1e3);
  fp_options defo;
  if (!opt) {
    fp_options_default(&defo);
    opt = &defo;
  }
  if (!v)
    return FP_ERR_ARG;
  memset(v, 0, sizeof *v);
  if (!base || !base->image || !cur || !cur->image)
    return FP_ERR_ARG;
  for (int j = 0; j < cur->n_layers; j++)
    if (!cur->layers[j].image)
      return FP_ERR_ARG;
  /* L1 first: a new dialog in front explains the rest */
  fp_verdict target;
  memset(&target, 0, sizeof target);
  int rc = FP_OK;
  /* Another window than the recorded one (a dialog with the same class in front): its
     * title and size say so first. Only the recorded title is quoted: today's may name a
     * citizen or a case. */
  int w = pixGetWidth(cur->image), h = pixGetHeight(cur->image);
  if ((w != base->width || h != base->height) && base->win_name && cur->win_name &&
      *base->win_name && *cur->win_name && strcmp(base->win_name, cur->win_name))
    rc = fp__verdict_reason(v,
                            "the window is another one (its title differs) %dx%d, "
                            "recorded was '%s' %dx%d",
                            w, h, base->win_name, base->width, base->height);
  if (!rc)
    rc = compare_layers(base, cur, opt, v);
  if (!rc)
    rc = compare_window(base, cur, opt, &target);
  if (!rc) {
    /* the target's own reasons come after the scene's (unprefixed) */
    for (int i = 0; i < target.n_reasons && !rc; i++)
      rc = fp__verdict_reason(v, "%s", target.reasons[i]);
    for (int i = 0; i < target.n_changed && !rc; i++)
      rc = fp__verdict_rect(v, target.changed[i]);
    if (!rc && target.n_ignored > 0) { /* at once: one by one is quadratic */
      fp_rect *n = realloc(v->ignored, ((size_t)v->n_ignored + target.n_ignored) * sizeof *n);
      if (!n) {
        rc = FP_ERR_NOMEM;
      } else {
        v->ignored = n;
        memcpy(n + v->n_ignored, target.ignored, (size_t)target.n_ignored * sizeof *n);
        v->n_ignored += target.n_ignored;
      }
    }
    v->cells_total += target.cells_total;
    v->cells_checked += target.cells_checked;
    v->cells_masked += target.cells_masked;
    v->cells_changed += target.cells_changed;
    v->anchors_checked += target.anchors_checked;
    v->anchors_moved += target.anchors_moved;
    v->anchors_renamed += target.anchors_renamed;
    v->anchors_missing += target.anchors_missing;
    v->size_changed = target.size_changed;
    v->class_changed = target.class_changed;
    v->match = target.match &&
               !(v->windows_new || v->windows_missing || v->windows_moved || v->windows_changed);
  }
  fp_verdict_free(&target);
  v->elapsed_ms = (vu_mono() * 1e3) - t0;
  if (rc)
    fp_verdict_free(v);
  return rc;
}

/* A fingerprint seen as an input: its image, anchors as words, masks and
 * layers. layers must hold base->n_layers entries. */
static void input_of(const fp_fingerprint *f, fp_input *in, fp_input *layers)
{
  memset(in, 0, sizeof *in);
  in->image = f->image;
  in->win_class = f->win_class;
  in->win_name = f->win_name;
  in->role = f->role;
  in->x = f->x;
  in->y = f->y;
  in->front = f->front;
  in->words = f->anchors;
  in->n_words = f->n_anchors;
  in->has_words = f->n_anchors > 0;
  in->masks = f->masks;
  in->n_masks = f->n_masks;
  for (int i = 0; layers && i < f->n_layers; i++)
    input_of(f->layers[i], &layers[i], NULL);
  in->layers = layers;
  in->n_layers = layers ? f->n_layers : 0;
}

int fp_compare_fp(const fp_fingerprint *base, const fp_fingerprint *cur, const fp_options *opt,
                  fp_verdict *out)
{
  if (!cur)
    return FP_ERR_ARG;
  fp_input layers[FP_MAX_LAYERS];
  if (cur->n_layers > FP_MAX_LAYERS)
    return FP_ERR_ARG;
  fp_input in;
  input_of(cur, &in, layers);
  return fp_compare(base, &in, opt, out);
}
