/* Screen pipeline of the rt_ocr engine (Leptonica only, no Tesseract): where text is on
 * a window image (edges, components, rules and frames dropped, grouped into blobs) and
 * the image Tesseract gets for one blob. */
#include "rt_ocr.h"
#include "ocr_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the screen pipeline ---- */

static inline int coldiff(uint32_t a, uint32_t b)
{
  if (!((a ^ b) & 0xffffff00u))
    return 0; /* the common case on a screen: same colour */
  int d = 0;
  for (int s = 8; s <= 24; s += 8) {
    int x = (int)((a >> s) & 0xff) - (int)((b >> s) & 0xff);
    if (x < 0)
      x = -x;
    if (x > d)
      d = x;
  }
  return d;
}

typedef struct {
  int x0, y0, x1, y1; /* inclusive */
  int count, inner;
  int rim;   /* pixels on the component's own bounding box */
  int pairs; /* pixels with a right or lower neighbour in the component */
  int keep;
} comp;

/* Label the 8-connected components of a 0/1 byte mask. */
static comp *label_components(const unsigned char *mask, int w, int h, int32_t *lab, int *ncomp)
{
  size_t cap = 256, n = 0;
  comp *c = malloc(cap * sizeof *c);
  int32_t *stack = malloc((size_t)w * h * sizeof *stack);
  if (!c || !stack) {
    free(c);
    free(stack);
    return NULL;
  }
  for (size_t i = 0; i < (size_t)w * h; i++)
    lab[i] = -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t p = (size_t)y * w + x;
      if (!mask[p] || lab[p] >= 0)
        continue;
      if (n == cap) {
        cap *= 2;
        comp *nc = realloc(c, cap * sizeof *c);
        if (!nc) {
          free(c);
          free(stack);
          return NULL;
        }
        c = nc;
      }
      comp *k = &c[n];
      k->x0 = k->x1 = x;
      k->y0 = k->y1 = y;
      k->count = 0;
      k->inner = 0;
      k->rim = 0;
      k->pairs = 0;
      k->keep = 1;
      size_t sp = 0;
      stack[sp++] = (int32_t)p;
      lab[p] = (int32_t)n;
      while (sp) {
        int32_t q = stack[--sp];
        int qx = q % w, qy = q / w;
        k->count++;
        if (qx < k->x0)
          k->x0 = qx;
        if (qx > k->x1)
          k->x1 = qx;
        if (qy < k->y0)
          k->y0 = qy;
        if (qy > k->y1)
          k->y1 = qy;
        for (int dy = -1; dy <= 1; dy++) {
          int ny = qy + dy;
          if (ny < 0 || ny >= h)
            continue;
          for (int dx = -1; dx <= 1; dx++) {
            int nx = qx + dx;
            if (nx < 0 || nx >= w)
              continue;
            size_t r = (size_t)ny * w + nx;
            if (mask[r] && lab[r] < 0) {
              lab[r] = (int32_t)n;
              stack[sp++] = (int32_t)r;
            }
          }
        }
      }
      n++;
    }
  free(stack);
  *ncomp = (int)n;
  return c;
}

/* A component that may be the side of a button's rounded border: a thin curve, taller
 * than a line of text's letters usually are. */
static int border_side(const comp *k)
{
  int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
  return k->keep == 1 && bw <= 12 && bh >= 12 && k->count * 10 <= bw * bh * 3;
}

/* Whether horizontal border lines (hl bit 1) run from side l to side r (the columns
 * between them, 80% or more) both at or just above their tops and at or just below their
 * bottoms. */
static int joined_by_lines(const unsigned char *hl, int w, int h, const comp *l, const comp *r)
{
  int x0 = l->x1 + 1, x1 = r->x0 - 1;
  if (x1 - x0 < 4)
    return 0;
  int ends[2] = {l->y0 - 3, l->y1};
  for (int e = 0; e < 2; e++) {
    int best = 0;
    for (int y = ends[e]; y <= ends[e] + 3; y++) {
      if (y < 0 || y >= h)
        continue;
      int n = 0;
      for (int x = x0; x <= x1; x++)
        n += hl[(size_t)y * w + x] & 1;
      if (n > best)
        best = n;
    }
    if (best * 5 < (x1 - x0 + 1) * 4)
      return 0;
  }
  return 1;
}

/* Whether what lies between sides l and r (components centred between them) is there and
 * clearly shorter than they are, as a caption within its button's border is (and letters
 * between two slashes or parentheses are not). */
static int encloses_shorter(const comp *c, int nc, const comp *l, const comp *r)
{
  int bh = l->y1 - l->y0 + 1, inside = 0;
  for (int j = 0; j < nc; j++) {
    const comp *q = &c[j];
    int cx = (q->x0 + q->x1) / 2;
    if (q == l || q == r || q->keep != 1 || cx <= l->x1 || cx >= r->x0 || q->y1 < l->y0 ||
        q->y0 > l->y1)
      continue;
    if ((q->y1 - q->y0 + 1) * 4 > bh * 3)
      return 0;
    inside++;
  }
  return inside > 0;
}

/* The window's background colour: its most common colour (12-bit bins), counted on
 * every other pixel of every other row. -1 when out of memory. */
static int background_colour(const uint32_t *data, int wpl, int w, int h, uint32_t *gbg)
{
  uint32_t *hist = calloc(4096, sizeof *hist);
  if (!hist)
    return -1;
  int best = 0;
  for (int y = 0; y < h; y += 2)
    for (int x = 0; x < w; x += 2) {
      uint32_t v = data[(size_t)y * wpl + x];
      int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
      if (++hist[q] > hist[best])
        best = q;
    }
  *gbg = (uint32_t)((best >> 8) * 17) << 24 | (uint32_t)(((best >> 4) & 0xf) * 17) << 16 |
         (uint32_t)((best & 0xf) * 17) << 8;
  free(hist);
  return 0;
}

/* Edges: where two neighbours differ, the one less like the background is ink (no halo,
 * so text keeps its distance from a border beside it). */
static void edge_mask(const uint32_t *data, int wpl, int w, int h, uint32_t gbg,
                      unsigned char *mask)
{
  for (int y = 0; y < h; y++) {
    const uint32_t *row = data + (size_t)y * wpl;
    const uint32_t *next = y + 1 < h ? row + wpl : NULL;
    for (int x = 0; x < w; x++) {
      uint32_t v = row[x];
      if (x + 1 < w && coldiff(v, row[x + 1]) > EDGE_TOL) {
        if (coldiff(v, gbg) >= coldiff(row[x + 1], gbg))
          mask[(size_t)y * w + x] = 1;
        else
          mask[(size_t)y * w + x + 1] = 1;
      }
      if (next && coldiff(v, next[x]) > EDGE_TOL) {
        if (coldiff(v, gbg) >= coldiff(next[x], gbg))
          mask[(size_t)y * w + x] = 1;
        else
          mask[(size_t)(y + 1) * w + x] = 1;
      }
    }
  }
}

/* Widget borders and rules: straight runs of one colour that stand out from the pixels
 * across them (a 1-3 px line, or the edge of a filled area): bit 1 horizontal, bit 2
 * vertical. Vertical runs count only when long or when they meet a horizontal one (the
 * sides of a box), so the stems of large letters survive. NULL when out of memory. */
static unsigned char *border_lines(const uint32_t *data, int wpl, int w, int h)
{
  unsigned char *hl = calloc((size_t)w * h, 1);
  if (!hl)
    return NULL;
  for (int y = 0; y < h; y++) {
    const uint32_t *row = data + (size_t)y * wpl;
    const uint32_t *up = y > 0 ? row - wpl : NULL, *dn = y + 1 < h ? row + wpl : NULL;
    for (int x = 0; x < w;) {
      int e = x;
      while (
          e < w && coldiff(row[e], row[x]) <= LINE_TOL &&
          ((up && coldiff(row[e], up[e]) > EDGE_TOL) || (dn && coldiff(row[e], dn[e]) > EDGE_TOL)))
        e++;
      if (e - x >= HRUN)
        for (int k = x; k < e; k++)
          hl[(size_t)y * w + k] = 1;
      x = e > x ? e : x + 1;
    }
  }
  /* vertical runs, row by row (cache friendly): per column the run so far */
  int *vstart = malloc((size_t)w * sizeof *vstart);
  uint32_t *vcol = malloc((size_t)w * sizeof *vcol);
  if (!vstart || !vcol) {
    free(vstart);
    free(vcol);
    free(hl);
    return NULL;
  }
  for (int x = 0; x < w; x++)
    vstart[x] = -1;
  for (int y = 0; y <= h; y++) {
    const uint32_t *row = y < h ? data + (size_t)y * wpl : NULL;
    for (int x = 0; x < w; x++) {
      int cont = 0, line = 0;
      if (row) {
        uint32_t v = row[x];
        line = (x > 0 && coldiff(v, row[x - 1]) > EDGE_TOL) ||
               (x + 1 < w && coldiff(v, row[x + 1]) > EDGE_TOL);
        cont = line && vstart[x] >= 0 && coldiff(v, vcol[x]) <= LINE_TOL;
      }
      if (cont)
        continue;
      if (vstart[x] >= 0 && y - vstart[x] >= VRUN) { /* a run [vstart, y) ends */
        int y0 = vstart[x], e = y;
        int corner = e - y0 >= VRUN_ALWAYS;
        for (int yy = y0 - 2; !corner && yy <= y0 + 2; yy++)
          for (int xx = x - 2; !corner && xx <= x + 2; xx++)
            if (yy >= 0 && yy < h && xx >= 0 && xx < w && (hl[(size_t)yy * w + xx] & 1))
              corner = 1;
        for (int yy = e - 3; !corner && yy <= e + 1; yy++)
          for (int xx = x - 2; !corner && xx <= x + 2; xx++)
            if (yy >= 0 && yy < h && xx >= 0 && xx < w && (hl[(size_t)yy * w + xx] & 1))
              corner = 1;
        if (corner)
          for (int k = y0; k < e; k++)
            hl[(size_t)k * w + x] |= 2;
      }
      if (line) {
        vstart[x] = y;
        vcol[x] = row[x];
      } else {
        vstart[x] = -1;
      }
    }
  }
  free(vstart);
  free(vcol);
  return hl;
}

/* The lines' edge pixels (the line and its halo) leave the mask. */
static void clear_lines(unsigned char *mask, const unsigned char *hl, int w, int h)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      unsigned char f = hl[(size_t)y * w + x];
      if (!f)
        continue;
      mask[(size_t)y * w + x] = 0;
      if (f & 1) {
        if (y > 0)
          mask[(size_t)(y - 1) * w + x] = 0;
        if (y + 1 < h)
          mask[(size_t)(y + 1) * w + x] = 0;
      }
      if (f & 2) {
        if (x > 0)
          mask[(size_t)y * w + x - 1] = 0;
        if (x + 1 < w)
          mask[(size_t)y * w + x + 1] = 0;
      }
    }
}

/* Per component: hollowness (edge pixels away from its own bounding box's border), the
 * pixels on that border, and those with a neighbour of their own to the right or below. */
static void comp_stats(comp *c, const int32_t *lab, int w, int h)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int32_t l = lab[(size_t)y * w + x];
      if (l < 0)
        continue;
      comp *k = &c[l];
      if (x >= k->x0 + 4 && x <= k->x1 - 4 && y >= k->y0 + 4 && y <= k->y1 - 4)
        k->inner++;
      if (x == k->x0 || x == k->x1 || y == k->y0 || y == k->y1)
        k->rim++;
      if ((x + 1 < w && lab[(size_t)y * w + x + 1] == l) ||
          (y + 1 < h && lab[(size_t)(y + 1) * w + x] == l))
        k->pairs++;
    }
}

/* Components that are no text by their shape alone. */
static void drop_shapes(comp *c, int nc)
{
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    /* a bare rectangle, filled or hollow (its edge runs all along its
     * bounding box, a corner or two may be cut): a text cursor, an empty
     * check box; no letter is that */
    int box = bw >= 5 && bh >= 7 && k->rim == k->count && k->count >= 2 * (bw + bh) - 6;
    /* a stippled area (a scroll bar's thumb) cut by a region: half its box ink, joined
     * only corner to corner, where letters' strokes run side by side (a stippled,
     * insensitive caption's letters have a quarter of their box or less) */
    int texture = bw >= 8 && bh >= 8 && k->count * 10 >= bw * bh * 4 && k->pairs * 10 < k->count;
    if (bh > MAX_TEXT_H || box || texture)
      k->keep = 0;
    else if (bh <= LINE_THIN && bw >= HLINE_MIN_W)
      k->keep = 0;
    else if (bw <= LINE_THIN && bh >= VLINE_MIN_H)
      k->keep = 0;
  }
}

/* What is left of rounded or 3D button borders: tall thin strokes beside clearly shorter
 * text. */
static void drop_border_strokes(comp *c, int nc)
{
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    /* a stroke: thin, or a curve with little ink for its box (an arc: ~15%); not a
     * capital beside lower-case ones ("N" of "New": ~50%) */
    if (k->keep != 1 || bw > 12 || bh < 12 || (bw > 3 && k->count * 10 > bw * bh * 3))
      continue;
    int maxh = 0;
    for (int j = 0; j < nc; j++) {
      comp *q = &c[j];
      if (j == i || q->keep != 1 || q->x1 - q->x0 + 1 <= 12)
        continue;
      if (q->y0 > k->y1 || q->y1 < k->y0)
        continue;
      int gap = q->x0 > k->x1 ? q->x0 - k->x1 : k->x0 > q->x1 ? k->x0 - q->x1 : 0;
      if (gap > 30)
        continue;
      if (q->y1 - q->y0 + 1 > maxh)
        maxh = q->y1 - q->y0 + 1;
    }
    if (maxh && bh >= maxh + 3)
      k->keep = 0;
  }
}

/* The sides of an oval or rounded button whose caption's letters stand alone (a bitmap
 * font: no word is a component for drop_border_strokes to compare with): two strokes of
 * one height facing each other, joined by the border's straight top and bottom (hl). */
static void drop_oval_sides(comp *c, int nc, const unsigned char *hl, int w, int h)
{
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    if (!border_side(k))
      continue;
    for (int j = 0; j < nc; j++) {
      comp *q = &c[j];
      if (j == i || !border_side(q) || q->x0 <= k->x1 || abs(q->y0 - k->y0) > 1 ||
          abs(q->y1 - k->y1) > 1 || q->x0 - k->x1 > BUTTON_MAX_W)
        continue;
      if (joined_by_lines(hl, w, h, k, q) && encloses_shorter(c, nc, k, q)) {
        k->keep = 0;
        q->keep = 0;
        break;
      }
    }
  }
}

/* Frames: hollow components (a border and its halo) around another one. */
static void mark_frames(comp *c, int nc)
{
  for (int i = 0; i < nc; i++) {
    comp *k = &c[i];
    int bw = k->x1 - k->x0 + 1, bh = k->y1 - k->y0 + 1;
    if (!k->keep || bw < FRAME_MIN || bh < FRAME_MIN)
      continue;
    if (k->inner > k->count / 20)
      continue;
    for (int j = 0; j < nc; j++) {
      if (j == i)
        continue;
      comp *q = &c[j];
      if (q->x0 > k->x0 && q->x1 < k->x1 && q->y0 > k->y0 && q->y1 < k->y1) {
        k->keep = -1; /* decided below: still a frame even if q is dropped */
        break;
      }
    }
  }
}

/* Words of one line (a space apart) are one font size: a word without ascenders ("navn"
 * beside "Fulde") takes the line height of its line mates, so it is upscaled like them. */
static void share_line_heights(blob *b, int k)
{
  int *lh2 = malloc((k ? (size_t)k : 1) * sizeof *lh2);
  for (int i = 0; lh2 && i < k; i++) {
    lh2[i] = b[i].lineh;
    for (int j = 0; j < k; j++) {
      if (j == i || b[j].lineh <= lh2[i] || b[j].lineh * 2 > b[i].lineh * 3)
        continue;
      int ov = (b[i].y + b[i].h < b[j].y + b[j].h ? b[i].y + b[i].h : b[j].y + b[j].h) -
               (b[i].y > b[j].y ? b[i].y : b[j].y);
      int mh = b[i].h < b[j].h ? b[i].h : b[j].h;
      int gap = b[i].x > b[j].x ? b[i].x - (b[j].x + b[j].w) : b[j].x - (b[i].x + b[i].w);
      if (ov * 4 >= mh * 3 && gap <= b[j].lineh * 3 / 2)
        lh2[i] = b[j].lineh;
    }
  }
  for (int i = 0; lh2 && i < k; i++)
    b[i].lineh = lh2[i];
  free(lh2);
}

/* The components kept, grown into blobs (components closer than BLOB_HGAP, BLOB_VGAP
 * join), each with the height of its tallest glyph; *keepmask the kept components' boxes.
 * NULL when out of memory (nothing held). */
static blob *group_blobs(const comp *c, int nc, int w, int h, int *nblobs, PIX **keepmask)
{
  PIX *keep = pixCreate(w, h, 1);
  if (!keep)
    return NULL;
  for (int i = 0; i < nc; i++) {
    const comp *k = &c[i];
    if (k->keep != 1)
      continue;
    pixRasterop(keep, k->x0, k->y0, k->x1 - k->x0 + 1, k->y1 - k->y0 + 1, PIX_SET, NULL, 0, 0);
  }
  PIX *grown = pixDilateBrick(NULL, keep, BLOB_HGAP, BLOB_VGAP);
  BOXA *ba = grown ? pixConnCompBB(grown, 8) : NULL;
  pixDestroy(&grown);
  if (!ba) {
    pixDestroy(&keep);
    return NULL;
  }
  int nb = boxaGetCount(ba);
  blob *b = calloc(nb ? nb : 1, sizeof *b);
  int k = 0;
  for (int i = 0; b && i < nb; i++) {
    int x, y, bw, bh;
    boxaGetBoxGeometry(ba, i, &x, &y, &bw, &bh);
    /* undo the dilation's horizontal growth */
    int g = BLOB_HGAP / 2, gv = BLOB_VGAP / 2;
    x += g;
    bw -= 2 * g;
    y += gv;
    bh -= 2 * gv;
    if (bw < 2 || bh < BLOB_MIN_H)
      continue;
    int lh = 0;
    for (int j = 0; j < nc; j++) {
      const comp *q = &c[j];
      if (q->keep != 1)
        continue;
      int qx = (q->x0 + q->x1) / 2, qy = (q->y0 + q->y1) / 2;
      if (qx >= x && qx < x + bw && qy >= y && qy < y + bh && q->y1 - q->y0 + 1 > lh)
        lh = q->y1 - q->y0 + 1;
    }
    b[k++] = (blob){x, y, bw, bh, lh ? lh : bh};
  }
  boxaDestroy(&ba);
  if (!b) {
    pixDestroy(&keep);
    return NULL;
  }
  share_line_heights(b, k);
  *nblobs = k;
  *keepmask = keep;
  return b;
}

/* Find text blobs: edges, components, drop rules/frames/huge things, group. */
blob *rt_ocr__find_blobs(PIX *p32, int *nblobs, PIX **keepmask)
{
  int w = pixGetWidth(p32), h = pixGetHeight(p32);
  const uint32_t *data = pixGetData(p32);
  int wpl = pixGetWpl(p32);
  *nblobs = 0;
  *keepmask = NULL;
  uint32_t gbg;
  if (background_colour(data, wpl, w, h, &gbg) != 0)
    return NULL;
  unsigned char *mask = calloc((size_t)w * h, 1);
  int32_t *lab = malloc((size_t)w * h * sizeof *lab);
  unsigned char *hl = mask && lab ? border_lines(data, wpl, w, h) : NULL;
  if (!hl) {
    free(mask);
    free(lab);
    return NULL;
  }
  edge_mask(data, wpl, w, h, gbg, mask);
  clear_lines(mask, hl, w, h);
  int nc = 0;
  comp *c = label_components(mask, w, h, lab, &nc);
  free(mask);
  if (!c) {
    free(hl);
    free(lab);
    return NULL;
  }
  comp_stats(c, lab, w, h);
  free(lab);
  drop_shapes(c, nc);
  drop_border_strokes(c, nc);
  drop_oval_sides(c, nc, hl, w, h);
  free(hl);
  mark_frames(c, nc);
  blob *b = group_blobs(c, nc, w, h, nblobs, keepmask);
  free(c);
  return b;
}

/* Make the Tesseract input for one blob: dark text on white, other widgets'
 * pixels removed, upscaled. Returns an 8bpp PIX; *scale gets the factor. */
PIX *rt_ocr__blob_image(PIX *p32, PIX *keep, const blob *bl, float *scale, float *xscale)
{
  int W = pixGetWidth(p32), H = pixGetHeight(p32);
  int x0 = bl->x - 1, y0 = bl->y - 1, x1 = bl->x + bl->w, y1 = bl->y + bl->h;
  if (x0 < 0)
    x0 = 0;
  if (y0 < 0)
    y0 = 0;
  if (x1 > W - 1)
    x1 = W - 1;
  if (y1 > H - 1)
    y1 = H - 1;
  int cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  uint32_t *data = pixGetData(p32);
  int wpl = pixGetWpl(p32);
  uint32_t *kd = pixGetData(keep);
  int kwpl = pixGetWpl(keep);

  /* background colour: the most common colour (12-bit quantised) of the pixels
   * outside the text's components (all pixels when there are none). Counted over the
   * whole crop, a gradient (Swing's Metal buttons: a colour a row) loses the vote to
   * the text's one colour, and the text would come out white on grey */
  uint32_t hist[4096];
  int best = -1;
  for (int pass = 0; pass < 2 && best < 0; pass++) {
    memset(hist, 0, sizeof hist);
    for (int y = y0; y <= y1; y++)
      for (int x = x0; x <= x1; x++) {
        if (!pass && GET_DATA_BIT(kd + (size_t)y * kwpl, x))
          continue;
        uint32_t v = data[(size_t)y * wpl + x];
        int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
        hist[q]++;
        if (best < 0 || hist[q] > hist[best])
          best = q;
      }
  }
  long sr = 0, sg = 0, sb = 0, sn = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      uint32_t v = data[(size_t)y * wpl + x];
      int q = (int)(((v >> 28) & 0xf) << 8 | ((v >> 20) & 0xf) << 4 | ((v >> 12) & 0xf));
      if (q != best)
        continue;
      sr += (v >> 24) & 0xff;
      sg += (v >> 16) & 0xff;
      sb += (v >> 8) & 0xff;
      sn++;
    }
  uint32_t bg = (uint32_t)(sr / sn) << 24 | (uint32_t)(sg / sn) << 16 | (uint32_t)(sb / sn) << 8;

  PIX *g = pixCreate(cw, ch, 8);
  if (!g)
    return NULL;
  uint32_t *gd = pixGetData(g);
  int gwpl = pixGetWpl(g);
  int dmax = 1;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      int d = 0;
      if (GET_DATA_BIT(kd + (size_t)y * kwpl, x))
        d = coldiff(data[(size_t)y * wpl + x], bg);
      if (d > dmax)
        dmax = d;
      SET_DATA_BYTE(gd + (size_t)(y - y0) * gwpl, x - x0, d);
    }
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++) {
      int d = GET_DATA_BYTE(gd + (size_t)y * gwpl, x);
      int v = 255 - d * 255 / dmax;
      SET_DATA_BYTE(gd + (size_t)y * gwpl, x, v);
    }
  /* upscale so a line of text is about TARGET_H pixels tall: Tesseract reads
   * small screen fonts far better that way */
  float sc = (float)TARGET_H / (float)(bl->lineh + 4);
  if (sc > 4.0f)
    sc = 4.0f;
  if (sc < 1.0f)
    sc = 1.0f;
  if ((double)cw * ch * sc * sc > 4.0e6)
    sc = 1.0f;
  *scale = sc;
  *xscale = sc;
  PIX *out = sc > 1.0f ? pixScaleGrayLI(g, sc, sc) : pixClone(g);
  pixDestroy(&g);
  return out;
}
