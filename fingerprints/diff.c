/* diff.c - evidence images: a scene as the screen showed it, and recorded |
 * current | difference side by side, changed regions outlined in red on the
 * current image. */
#include "fp_int.h"

#include <stdlib.h>
#include <string.h>

#define GAP 8

static void outline(PIX *out, fp_rect r, int dx, int maxw, int maxh)
{
  /* one pixel outside the region so the outline does not hide it */
  int x0 = r.x - 2, y0 = r.y - 2, w = r.w + 4, h = r.h + 4;
  if (x0 < 0) {
    w += x0;
    x0 = 0;
  }
  if (y0 < 0) {
    h += y0;
    y0 = 0;
  }
  if (x0 + w > maxw)
    w = maxw - x0;
  if (y0 + h > maxh)
    h = maxh - y0;
  if (w <= 0 || h <= 0)
    return;
  BOX *b = boxCreate(x0 + dx, y0, w, h);
  if (b) {
    pixRenderBoxArb(out, b, 2, 255, 0, 0);
    boxDestroy(&b);
  }
}

PIX *fp_diff_image(PIX *recorded, PIX *current, const fp_verdict *v)
{
  PIX *a = fp__to32(recorded), *b = fp__to32(current), *out = NULL;
  if (!a || !b)
    goto done;
  int wa = pixGetWidth(a), ha = pixGetHeight(a);
  int wb = pixGetWidth(b), hb = pixGetHeight(b);
  int wd = wa > wb ? wa : wb, hd = ha > hb ? ha : hb;
  int W = wa + GAP + wb + GAP + wd, H = hd;
  if (!(out = pixCreate(W, H, 32)))
    goto done;
  pixSetSpp(out, 3);
  pixSetAllArbitrary(out, 0x60606000);
  pixRasterop(out, 0, 0, wa, ha, PIX_SRC, a, 0, 0);
  int xb = wa + GAP, xd = wa + GAP + wb + GAP;
  pixRasterop(out, xb, 0, wb, hb, PIX_SRC, b, 0, 0);

  /* difference panel: faded recorded image, changed pixels red, area that
     * exists in only one of the two images yellow */
  double maxd = fp__max_delta(0.1);
  int wpla = pixGetWpl(a), wplb = pixGetWpl(b), wplo = pixGetWpl(out);
  l_uint32 *da = pixGetData(a), *db = pixGetData(b), *dout = pixGetData(out);
  for (int y = 0; y < hd; y++) {
    l_uint32 *po = dout + (size_t)y * wplo + xd;
    for (int x = 0; x < wd; x++) {
      int ina = x < wa && y < ha, inb = x < wb && y < hb;
      if (!ina || !inb) {
        po[x] = 0xffe08000;
        continue;
      }
      l_uint32 pa = da[(size_t)y * wpla + x], pb = db[(size_t)y * wplb + x];
      int ign = 0;
      for (int i = 0; v && i < v->n_ignored && !ign; i++)
        ign = x >= v->ignored[i].x && x < v->ignored[i].x + v->ignored[i].w &&
              y >= v->ignored[i].y && y < v->ignored[i].y + v->ignored[i].h;
      int l =
          (int)((((pa >> 24) & 0xff) * 77 + ((pa >> 16) & 0xff) * 150 + ((pa >> 8) & 0xff) * 29) >>
                8);
      l = 255 - (255 - l) / 4;
      if (ign) /* ignored: faded, tinted blue */
        po[x] = ((l_uint32)(l * 3 / 4) << 24) | ((l_uint32)(l * 3 / 4) << 16) | ((l_uint32)l << 8);
      else if (((pa ^ pb) & FP_ALPHA_MASK) && fp__yiq_delta(pa, pb) > maxd)
        po[x] = 0xff000000;
      else
        po[x] = ((l_uint32)l << 24) | ((l_uint32)l << 16) | ((l_uint32)l << 8);
    }
  }
  if (v)
    for (int i = 0; i < v->n_changed; i++) {
      outline(out, v->changed[i], xb, wb, hb);
      outline(out, v->changed[i], xd, wd, hd);
    }
done:
  pixDestroy(&a);
  pixDestroy(&b);
  return out;
}

/* A window of a scene to paint: image, place relative to the target, stacking. */
typedef struct {
  PIX *img;
  int x, y, front;
} pane;

static void paint(PIX *out, const pane *p, int minx, int miny)
{
  PIX *a = fp__to32(p->img);
  if (a)
    pixRasterop(out, p->x - minx, p->y - miny, pixGetWidth(a), pixGetHeight(a), PIX_SRC, a, 0, 0);
  pixDestroy(&a);
}

static PIX *compose(const pane *p, int n, int minx, int miny, int maxx, int maxy)
{
  PIX *out = pixCreate(maxx - minx, maxy - miny, 32);
  if (!out)
    return NULL;
  pixSetSpp(out, 3);
  pixSetAllArbitrary(out, 0x60606000);
  /* p[0] is the target; p[1..] front-most first: the layers behind it
     * (back to front), the target, then those in front (back to front) */
  for (int i = n - 1; i >= 1; i--)
    if (!p[i].front)
      paint(out, &p[i], minx, miny);
  paint(out, &p[0], minx, miny);
  for (int i = n - 1; i >= 1; i--)
    if (p[i].front)
      paint(out, &p[i], minx, miny);
  return out;
}

static void extent(const pane *p, int n, int *minx, int *miny, int *maxx, int *maxy)
{
  for (int i = 0; i < n; i++) {
    if (!p[i].img)
      continue;
    int x1 = p[i].x + (int)pixGetWidth(p[i].img), y1 = p[i].y + (int)pixGetHeight(p[i].img);
    if (p[i].x < *minx)
      *minx = p[i].x;
    if (p[i].y < *miny)
      *miny = p[i].y;
    if (x1 > *maxx)
      *maxx = x1;
    if (y1 > *maxy)
      *maxy = y1;
  }
}

static int panes_fp(const fp_fingerprint *fp, pane *p)
{
  int n = 0;
  p[n++] = (pane){fp->image, 0, 0, 0};
  for (int i = 0; i < fp->n_layers && i < FP_MAX_LAYERS; i++)
    p[n++] = (pane){fp->layers[i]->image, fp->layers[i]->x, fp->layers[i]->y, fp->layers[i]->front};
  return n;
}

static int panes_input(const fp_input *in, pane *p)
{
  int n = 0;
  p[n++] = (pane){in->image, 0, 0, 0};
  for (int i = 0; i < in->n_layers && i < FP_MAX_LAYERS; i++)
    p[n++] = (pane){in->layers[i].image, in->layers[i].x, in->layers[i].y, in->layers[i].front};
  return n;
}

static PIX *scene(const pane *p, int n, int *ox, int *oy)
{
  if (!p[0].img)
    return NULL;
  int minx = 0, miny = 0, maxx = 0, maxy = 0;
  extent(p, n, &minx, &miny, &maxx, &maxy);
  *ox = -minx;
  *oy = -miny;
  return compose(p, n, minx, miny, maxx, maxy);
}

PIX *fp_scene_image(const fp_fingerprint *fp, int *ox, int *oy)
{
  pane p[1 + FP_MAX_LAYERS];
  return fp && fp->image ? scene(p, panes_fp(fp, p), ox, oy) : NULL;
}

PIX *fp_input_scene_image(const fp_input *in, int *ox, int *oy)
{
  pane p[1 + FP_MAX_LAYERS];
  return in && in->image ? scene(p, panes_input(in, p), ox, oy) : NULL;
}

PIX *fp_diff_scene(const fp_fingerprint *base, const fp_input *cur, const fp_verdict *v)
{
  pane pb[1 + FP_MAX_LAYERS], pc[1 + FP_MAX_LAYERS];
  if (!base || !base->image || !cur || !cur->image)
    return NULL;
  int nb = panes_fp(base, pb), nc = panes_input(cur, pc);
  /* one origin for both, so the difference panel lines up */
  int minx = 0, miny = 0, maxx = 0, maxy = 0;
  extent(pb, nb, &minx, &miny, &maxx, &maxy);
  extent(pc, nc, &minx, &miny, &maxx, &maxy);
  PIX *a = compose(pb, nb, minx, miny, maxx, maxy);
  PIX *b = compose(pc, nc, minx, miny, maxx, maxy);
  fp_verdict shifted;
  memset(&shifted, 0, sizeof shifted);
  if (v) {
    shifted = *v;
    shifted.changed = v->n_changed ? malloc((size_t)v->n_changed * sizeof(fp_rect)) : NULL;
    shifted.ignored = v->n_ignored ? malloc((size_t)v->n_ignored * sizeof(fp_rect)) : NULL;
    shifted.n_changed = shifted.changed ? v->n_changed : 0;
    shifted.n_ignored = shifted.ignored ? v->n_ignored : 0;
    shifted.cap_changed = shifted.n_changed;
    for (int i = 0; i < shifted.n_changed; i++) {
      shifted.changed[i] = v->changed[i];
      shifted.changed[i].x -= minx;
      shifted.changed[i].y -= miny;
    }
    for (int i = 0; i < shifted.n_ignored; i++) {
      shifted.ignored[i] = v->ignored[i];
      shifted.ignored[i].x -= minx;
      shifted.ignored[i].y -= miny;
    }
  }
  PIX *d = a && b ? fp_diff_image(a, b, v ? &shifted : NULL) : NULL;
  free(shifted.changed);
  free(shifted.ignored);
  pixDestroy(&a);
  pixDestroy(&b);
  return d;
}
