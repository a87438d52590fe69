#include "scene.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xio/capture.h"

/* Neutral grey for what the frame shows that belongs to no window of the scene (the
 * desktop, other applications' windows beside or behind it): OCR and the judge see a
 * plain area there. */
#define OUTSIDE 0x80808000u

static bool intersects(int ax, int ay, int aw, int ah, int bx, int by, int bw, int bh)
{
  return aw > 0 && ah > 0 && bw > 0 && bh > 0 && ax < bx + bw && bx < ax + aw && ay < by + bh &&
         by < ay + ah;
}

void rt_scene_free(rt_scene *s)
{
  for (int i = 0; s->win && i < s->n; i++) {
    free(s->win[i].cls);
    free(s->win[i].title);
  }
  free(s->win);
  free(s->stack);
  pixDestroy(&s->frame);
  memset(s, 0, sizeof *s);
}

int rt_scene_list(rt_run *run, Window target, rt_scene *s, char *err, size_t errlen)
{
  memset(s, 0, sizeof *s);
  if (rt_x_stack(run->dpy, &s->stack, &s->nstack) != 0) {
    snprintf(err, errlen, "cannot list the windows on the display");
    return -1;
  }
  size_t ti = s->nstack;
  for (size_t i = 0; i < s->nstack; i++)
    if (s->stack[i].client == target)
      ti = i;
  if (ti == s->nstack) {
    snprintf(err, errlen, "window 0x%lx no longer exists (closed or unmapped)",
             (unsigned long)target);
    rt_scene_free(s);
    return -1;
  }
  s->win = calloc(s->nstack + 1, sizeof *s->win);
  if (!s->win) {
    snprintf(err, errlen, "out of memory");
    rt_scene_free(s);
    return -1;
  }
  const rt_xtop *t = &s->stack[ti];
  s->win[s->n++] =
      (rt_scene_win){target, FP_WIN_TARGET, false, t->cx, t->cy, t->cw, t->ch, ti, NULL, NULL};
  Screen *scr = DefaultScreenOfDisplay(run->dpy);
  int sw = WidthOfScreen(scr), sh = HeightOfScreen(scr);
  /* front-most first */
  for (size_t k = s->nstack; k-- > 0;) {
    const rt_xtop *o = &s->stack[k];
    if (k == ti || !o->client || !intersects(o->cx, o->cy, o->cw, o->ch, 0, 0, sw, sh))
      continue;
    bool mine = o->owner == t->owner,
         over = k > ti && intersects(o->x, o->y, o->w, o->h, t->x, t->y, t->w, t->h);
    if (!mine && !over)
      continue;
    if (s->n > FP_MAX_LAYERS) /* more windows than a step judges: the rest stay unseen */
      break;
    fp_win_role role = o->popup ? FP_WIN_POPUP : mine ? FP_WIN_DIALOG : FP_WIN_OVER;
    s->win[s->n++] =
        (rt_scene_win){o->client, role, k > ti, o->cx, o->cy, o->cw, o->ch, k, NULL, NULL};
    if (mine && o->popup)
      s->app_popup = true;
  }
  /* the frame: every window of the scene, clipped to the screen */
  int x0 = sw, y0 = sh, x1 = 0, y1 = 0;
  for (int i = 0; i < s->n; i++) {
    const rt_scene_win *w = &s->win[i];
    if (w->x < x0)
      x0 = w->x;
    if (w->y < y0)
      y0 = w->y;
    if (w->x + w->w > x1)
      x1 = w->x + w->w;
    if (w->y + w->h > y1)
      y1 = w->y + w->h;
  }
  if (x0 < 0)
    x0 = 0;
  if (y0 < 0)
    y0 = 0;
  if (x1 > sw)
    x1 = sw;
  if (y1 > sh)
    y1 = sh;
  s->x = x0;
  s->y = y0;
  s->w = x1 > x0 ? x1 - x0 : 0;
  s->h = y1 > y0 ? y1 - y0 : 0;
  return 0;
}

static void paint(unsigned char *own, const rt_scene *s, int x, int y, int w, int h,
                  unsigned char v)
{
  int xa = x - s->x, ya = y - s->y, xb = xa + w, yb = ya + h;
  if (xa < 0)
    xa = 0;
  if (ya < 0)
    ya = 0;
  if (xb > s->w)
    xb = s->w;
  if (yb > s->h)
    yb = s->h;
  for (int yy = ya; yy < yb && xb > xa; yy++)
    memset(own + (size_t)yy * s->w + xa, v, (size_t)(xb - xa));
}

/* The topmost root child at every frame pixel belongs to the scene (1) or not (0). */
static unsigned char *ownership(const rt_scene *s)
{
  unsigned char *own = calloc((size_t)s->w * s->h + 1, 1);
  if (!own)
    return NULL;
  for (size_t k = 0; k < s->nstack; k++) {
    const rt_xtop *o = &s->stack[k];
    unsigned char v = 0;
    for (int i = 0; i < s->n && !v; i++)
      v = s->win[i].stack == k;
    /* the whole root child, then for a scene window its client area: the frame around it
     * is the window manager's */
    paint(own, s, o->x, o->y, o->w, o->h, 0);
    if (v)
      paint(own, s, o->cx, o->cy, o->cw, o->ch, 1);
  }
  return own;
}

int rt_scene_grab(rt_run *run, rt_scene *s, bool pix, char *err, size_t errlen)
{
  pixDestroy(&s->frame);
  s->have_raw = false;
  if (s->w <= 0 || s->h <= 0) {
    snprintf(err, errlen, "the window is off the screen");
    return -1;
  }
  rt_frame f;
  if (rt_capture_window_rect_frame(run->capture, DefaultRootWindow(run->dpy), s->x, s->y,
                                   (unsigned)s->w, (unsigned)s->h, &f, err, errlen) != 0)
    return -1;
  /* windows, places and the pixels of each window's area (not the desktop between them:
   * another application's clock there must not keep the step from settling) */
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)s->n;
  for (int i = 0; i < s->n; i++) {
    const rt_scene_win *w = &s->win[i];
    uint64_t seed =
        (uint64_t)w->id * 0x100000001b3ULL ^ (uint64_t)w->role << 56 ^ (uint64_t)w->front << 60;
    h = h * 31 + rt_frame_hash_rect(&f, w->x - s->x, w->y - s->y, w->w, w->h, seed);
  }
  s->hash = h;
  s->raw = f;
  s->have_raw = true;
  return pix ? rt_scene_pix(s, err, errlen) : 0;
}

int rt_scene_pix(rt_scene *s, char *err, size_t errlen)
{
  pixDestroy(&s->frame);
  if (!s->have_raw) {
    snprintf(err, errlen, "no capture to convert");
    return -1;
  }
  s->frame = rt_frame_to_pix(&s->raw, err, errlen);
  s->have_raw = false; /* the capture buffer is the next grab's */
  if (!s->frame)
    return -1;
  unsigned char *own = ownership(s);
  if (own) {
    l_uint32 *d = pixGetData(s->frame);
    int wpl = pixGetWpl(s->frame);
    for (int y = 0; y < s->h; y++)
      for (int x = 0; x < s->w; x++)
        if (!own[(size_t)y * s->w + x])
          d[(size_t)y * wpl + x] = OUTSIDE;
    free(own);
  }
  return 0;
}

void rt_scene_describe(rt_run *run, rt_scene *s)
{
  for (int i = 0; i < s->n; i++) {
    free(s->win[i].cls);
    free(s->win[i].title);
    rt_x_names(run->dpy, s->win[i].id, &s->win[i].cls, &s->win[i].title);
  }
}

PIX *rt_scene_image(const rt_scene *s, int i)
{
  const rt_scene_win *w = &s->win[i];
  PIX *p = pixCreate(w->w > 0 ? w->w : 1, w->h > 0 ? w->h : 1, 32);
  if (!p)
    return NULL;
  pixSetSpp(p, 3);
  pixSetAllArbitrary(p, 0);
  if (s->frame)
    pixRasterop(p, s->x - w->x, s->y - w->y, s->w, s->h, PIX_SRC, s->frame, 0, 0);
  return p;
}

int rt_scene_occluded(const rt_scene *s, int i, fp_mask **m, int n)
{
  const rt_scene_win *w = &s->win[i];
  for (size_t k = w->stack + 1; k < s->nstack; k++) {
    const rt_xtop *o = &s->stack[k];
    if (!intersects(o->x, o->y, o->w, o->h, w->x, w->y, w->w, w->h))
      continue;
    int x0 = o->x > w->x ? o->x : w->x, y0 = o->y > w->y ? o->y : w->y;
    int x1 = o->x + o->w < w->x + w->w ? o->x + o->w : w->x + w->w;
    int y1 = o->y + o->h < w->y + w->h ? o->y + o->h : w->y + w->h;
    fp_mask *nm = realloc(*m, (size_t)(n + 1) * sizeof *nm);
    if (!nm)
      return n;
    *m = nm;
    nm[n++] = (fp_mask){{x0 - w->x, y0 - w->y, x1 - x0, y1 - y0}, FP_MASK_OCCLUDED};
  }
  return n;
}

void rt_scene_to_target(const rt_scene *s, int fx, int fy, int *x, int *y)
{
  *x = fx + s->x - s->win[0].x;
  *y = fy + s->y - s->win[0].y;
}

void rt_scene_from_target(const rt_scene *s, int x, int y, int *fx, int *fy)
{
  *fx = x + s->win[0].x - s->x;
  *fy = y + s->win[0].y - s->y;
}

int rt_scene_window_at(const rt_scene *s, int x, int y)
{
  int rx = x + s->win[0].x, ry = y + s->win[0].y, best = -1;
  size_t top = 0;
  for (int i = 0; i < s->n; i++) {
    const rt_scene_win *w = &s->win[i];
    if (rx >= w->x && ry >= w->y && rx < w->x + w->w && ry < w->y + w->h &&
        (best < 0 || w->stack > top)) {
      best = i;
      top = w->stack;
    }
  }
  return best;
}

void rt_scene_drop_behind(const rt_scene *s, rt_ocr_result *res)
{
  size_t k = 0;
  for (size_t i = 0; i < res->n; i++) {
    const rt_ocr_word *w = &res->words[i];
    int at = rt_scene_window_at(s, w->box.x + w->box.w / 2, w->box.y + w->box.h / 2);
    if (at == 0 || (at > 0 && s->win[at].front))
      res->words[k++] = *w;
    else
      free(w->text);
  }
  res->n = k;
}

int rt_scene_newest_popup(const rt_scene *s)
{
  for (int i = 1; i < s->n; i++) /* front-most first */
    if (s->win[i].role == FP_WIN_POPUP)
      return i;
  return -1;
}
