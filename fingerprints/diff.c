/* diff.c - evidence image: recorded | current | difference, side by side,
 * changed regions outlined in red on the current image. */
#include "fp_int.h"

#define GAP 8

static void outline(PIX *out, fp_rect r, int dx, int maxw, int maxh)
{
    /* one pixel outside the region so the outline does not hide it */
    int x0 = r.x - 2, y0 = r.y - 2, w = r.w + 4, h = r.h + 4;
    if (x0 < 0) { w += x0; x0 = 0; }
    if (y0 < 0) { h += y0; y0 = 0; }
    if (x0 + w > maxw) w = maxw - x0;
    if (y0 + h > maxh) h = maxh - y0;
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
            int l = (int)((((pa >> 24) & 0xff) * 77 + ((pa >> 16) & 0xff) * 150 +
                           ((pa >> 8) & 0xff) * 29) >> 8);
            l = 255 - (255 - l) / 4;
            if (ign) /* ignored: faded, tinted blue */
                po[x] = ((l_uint32)(l * 3 / 4) << 24) | ((l_uint32)(l * 3 / 4) << 16) |
                        ((l_uint32)l << 8);
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
