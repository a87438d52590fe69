#include "monitor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp.h"
#include "runfolder.h"
#include "scene.h"
#include "vu.h"

/* What the robot's own input changed, a text line or three high (a display, a status line,
 * a field it typed into): taller changes are a new page or a dialog, never data. */
#define ROBOT_MAX_H 48
#define MAX_LABELS 12

/* What the monitor keeps about one target window for the rest of the run. */
typedef struct {
  Window win;
  rt_rect *declared; /* w:ignore, w:sensitive */
  int ndeclared;
  rt_rect *sensitive; /* w:sensitive: data, blanked in evidence */
  int nsensitive;
  uint8_t *robot; /* cells the robot's input changed */
  int cols, rows;
  bool robot_lost;     /* the window changed size after the robot changed some: where its
                    * data stands now is not known, and its evidence cannot be masked */
  PIX *prev;           /* the window before the last step's input */
  fp_word *prev_words; /* and what OCR read there (record) */
  int nprev;
  fp_rect *prev_occ; /* and the parts of it other windows covered */
  int nprev_occ;
} wstate;

struct rt_monitor {
  rt_guard guard;
  char *dir;
  bool record, replace;
  fp_options opt;
  wstate *ws;
  int nws;
  char **seen; /* keys recorded in this run (for --replace) */
  int nseen;
  /* Baseline entries already loaded in this run: a loop judges the same keys again and
   * again, and decoding a reference PNG costs far more than comparing against it. */
  fp_fingerprint **cache;
  int ncache;
  /* Entries stored in this recording and their target window, to give every entry of a
   * window the regions the robot changed in it at any step (rt_monitor_finish). */
  struct recd {
    char *key;
    Window win;
  } * recd;
  int nrecd;
  /* The step being judged: its target image and words, kept for the next step. */
  unsigned long serial;
  PIX *cur;
  fp_word *cur_words;
  int ncur;
  fp_rect *cur_occ;
  int ncur_occ;
  char **reasons;
  int nreasons;
  const char *lead; /* a reason that goes first (the step's input was stopped) */
  char ev[3][96];
  int nstep;
  int recorded, merged, matched;
  /* This recording's entries: stored together when the run passes (rt_monitor_finish),
   * else not at all. Begun at the first recorded step. */
  fp_recording *rec;
};

/* The state kept for window w, or NULL (none is made). */
static wstate *find_ws(const rt_monitor *m, Window w)
{
  for (int i = 0; i < m->nws; i++)
    if (m->ws[i].win == w)
      return &m->ws[i];
  return NULL;
}

static wstate *wstate_of(rt_monitor *m, Window w)
{
  for (int i = 0; i < m->nws; i++)
    if (m->ws[i].win == w)
      return &m->ws[i];
  wstate *n = realloc(m->ws, (size_t)(m->nws + 1) * sizeof *n);
  if (!n)
    return NULL;
  m->ws = n;
  memset(&n[m->nws], 0, sizeof *n);
  n[m->nws].win = w;
  return &n[m->nws++];
}

static void wstate_free(wstate *w)
{
  free(w->prev_occ);
  free(w->declared);
  free(w->sensitive);
  free(w->robot);
  pixDestroy(&w->prev);
  rt_monitor_words_free(w->prev_words, w->nprev);
}

void rt_monitor_ignore(rt_monitor *m, Window w, rt_rect r)
{
  wstate *s = wstate_of(m, w);
  if (!s || r.w <= 0 || r.h <= 0)
    return;
  rt_rect *n = realloc(s->declared, (size_t)(s->ndeclared + 1) * sizeof *n);
  if (!n)
    return;
  s->declared = n;
  n[s->ndeclared++] = r;
}

void rt_monitor_sensitive(rt_monitor *m, Window w, rt_rect r)
{
  wstate *s = wstate_of(m, w);
  if (!s || r.w <= 0 || r.h <= 0)
    return;
  rt_rect *n = realloc(s->sensitive, (size_t)(s->nsensitive + 1) * sizeof *n);
  if (!n)
    return;
  s->sensitive = n;
  n[s->nsensitive++] = r;
  rt_monitor_ignore(m, w, r);
}

void rt_monitor_counts(const rt_monitor *m, int *recorded, int *merged, int *matched)
{
  *recorded = m->recorded;
  *merged = m->merged;
  *matched = m->matched;
}

static void clear_reasons(rt_monitor *m)
{
  for (int i = 0; i < m->nreasons; i++)
    free(m->reasons[i]);
  free(m->reasons);
  m->reasons = NULL;
  m->nreasons = 0;
}

static void add_reason(rt_monitor *m, const char *text)
{
  char **n = realloc(m->reasons, (size_t)(m->nreasons + 1) * sizeof *n);
  if (!n)
    return;
  m->reasons = n;
  if ((n[m->nreasons] = strdup(text)))
    m->nreasons++;
}

static void keep_reasons(rt_monitor *m, const fp_verdict *v, const char *prefix)
{
  clear_reasons(m);
  for (int i = 0; i < v->n_reasons; i++) {
    size_t n = strlen(prefix) + strlen(v->reasons[i]) + 1;
    char *s = malloc(n);
    if (!s)
      continue;
    snprintf(s, n, "%s%s", prefix, v->reasons[i]);
    add_reason(m, s);
    free(s);
  }
}

fp_word *rt_monitor_words(struct rt_ocr *o, PIX *img, int *n, char *err, size_t errlen)
{
  *n = -1;
  rt_ocr_result res;
  /* a reading cut short by its deadline (a loaded machine) would miss labels: read what
   * was cut short again, with more time (such blobs are not cached) */
  for (int k = 0;; k++) {
    rt_ocr_opts ro = {.deadline_ms = 1000 << (2 * k)};
    if (rt_ocr_words(o, img, &ro, &res, err, errlen) != RT_OCR_OK)
      return NULL;
    if (!res.timed_out || k == 2)
      break;
    rt_ocr_result_free(&res);
  }
  fp_word *w = calloc(res.n ? res.n : 1, sizeof *w);
  for (size_t i = 0; w && i < res.n; i++) {
    w[i].text = res.words[i].text; /* take ownership */
    res.words[i].text = NULL;
    w[i].box =
        (fp_rect){res.words[i].box.x, res.words[i].box.y, res.words[i].box.w, res.words[i].box.h};
    w[i].conf = res.words[i].conf;
  }
  *n = w ? (int)res.n : -1;
  rt_ocr_result_free(&res);
  return w;
}

void rt_monitor_words_free(fp_word *w, int n)
{
  for (int i = 0; i < n; i++)
    free(w[i].text);
  free(w);
}

/* ---- the scene as fingerprint input ---- */

typedef struct {
  fp_input in; /* the target; in.layers = layers */
  fp_input layers[FP_MAX_LAYERS];
  PIX *img[1 + FP_MAX_LAYERS];
  fp_mask *masks[1 + FP_MAX_LAYERS];
  fp_word *words[1 + FP_MAX_LAYERS]; /* after scene_words */
  int nwords[1 + FP_MAX_LAYERS];
} scene_in;

static fp_input *win_in(scene_in *si, int i)
{
  return i ? &si->layers[i - 1] : &si->in;
}

static int push_mask(fp_mask **v, int n, fp_rect r, fp_mask_source src)
{
  fp_mask *nv = realloc(*v, (size_t)(n + 1) * sizeof *nv);
  if (!nv)
    return n;
  *v = nv;
  nv[n] = (fp_mask){r, src};
  return n + 1;
}

/* Whether the robot's input changed some cell of the window (at its grid's size). */
static bool robot_changed_any(const wstate *w)
{
  for (int i = 0; w->robot && i < w->cols * w->rows; i++)
    if (w->robot[i])
      return true;
  return false;
}

/* Whether the window changed size since the robot changed cells in it (now width x
 * height): where that data stands today is not known. */
static bool robot_moved(const wstate *w, int width, int height)
{
  if (!w)
    return false;
  if (w->robot_lost)
    return true;
  return (w->cols != (width + FP_CELL - 1) / FP_CELL ||
          w->rows != (height + FP_CELL - 1) / FP_CELL) &&
         robot_changed_any(w);
}

/* Robot-changed cells as row runs. */
static int push_robot(fp_mask **v, int n, const wstate *w, int width, int height)
{
  if (!w || !w->robot || w->cols != (width + FP_CELL - 1) / FP_CELL ||
      w->rows != (height + FP_CELL - 1) / FP_CELL)
    return n;
  for (int r = 0; r < w->rows; r++)
    for (int c = 0; c < w->cols; c++) {
      if (!w->robot[r * w->cols + c])
        continue;
      int c1 = c;
      while (c1 + 1 < w->cols && w->robot[r * w->cols + c1 + 1])
        c1++;
      n = push_mask(v, n, (fp_rect){c * FP_CELL, r * FP_CELL, (c1 - c + 1) * FP_CELL, FP_CELL},
                    FP_MASK_ROBOT);
      c = c1;
    }
  return n;
}

/* Window i's masks: what covers it, what the script declared (the target's regions hold
 * for its pop-ups too, in the target's coordinates), what the robot changed (the target). */
static void window_masks(rt_monitor *m, const rt_stepinfo *s, scene_in *si, int i)
{
  const rt_scene *sc = s->scene;
  wstate *w = wstate_of(m, sc->win[0].id);
  fp_input *in = win_in(si, i);
  free(si->masks[i]);
  si->masks[i] = NULL;
  int n = rt_scene_occluded(sc, i, &si->masks[i], 0);
  for (int k = 0; w && k < w->ndeclared; k++) {
    rt_rect r = w->declared[k];
    n = push_mask(&si->masks[i], n, (fp_rect){r.x - in->x, r.y - in->y, r.w, r.h},
                  FP_MASK_DECLARED);
  }
  for (int k = 0; k < s->action->nignore; k++) {
    rt_rect r = s->action->ignore[k];
    n = push_mask(&si->masks[i], n, (fp_rect){r.x - in->x, r.y - in->y, r.w, r.h},
                  FP_MASK_DECLARED);
  }
  if (i == 0) {
    n = push_robot(&si->masks[i], n, w, sc->win[0].w, sc->win[0].h);
  } else {
    /* a window the robot acted on before (the form behind today's dialog): its own
     * declared regions and the cells the robot's input changed in it, in its coordinates */
    const wstate *lw = find_ws(m, sc->win[i].id);
    for (int k = 0; lw && lw != w && k < lw->ndeclared; k++) {
      rt_rect r = lw->declared[k];
      n = push_mask(&si->masks[i], n, (fp_rect){r.x, r.y, r.w, r.h}, FP_MASK_DECLARED);
    }
    if (lw != w)
      n = push_robot(&si->masks[i], n, lw, sc->win[i].w, sc->win[i].h);
  }
  in->masks = si->masks[i];
  in->n_masks = n;
}

/* The fingerprint input of the step's scene: every window's image, class, title, place
 * and masks. */
static void scene_input(rt_monitor *m, const rt_run *run, const rt_stepinfo *s, scene_in *si)
{
  memset(si, 0, sizeof *si);
  const rt_scene *sc = s->scene;
  for (int i = 0; i < sc->n && i <= FP_MAX_LAYERS; i++) {
    const rt_scene_win *sw = &sc->win[i];
    fp_input *in = win_in(si, i);
    si->img[i] = rt_scene_image(sc, i);
    in->image = si->img[i];
    in->win_class = sw->cls ? sw->cls : "";
    in->win_name = sw->title ? sw->title : "";
    in->role = sw->role;
    in->x = sw->x - sc->win[0].x;
    in->y = sw->y - sc->win[0].y;
    in->front = sw->front;
    in->data_words = (const char *const *)run->typed;
    in->n_data_words = (int)run->ntyped;
    window_masks(m, s, si, i);
  }
  si->in.layers = si->layers;
  si->in.n_layers = sc->n - 1 < FP_MAX_LAYERS ? sc->n - 1 : FP_MAX_LAYERS;
}

static void scene_in_free(scene_in *si)
{
  for (int i = 0; i <= FP_MAX_LAYERS; i++) {
    pixDestroy(&si->img[i]);
    free(si->masks[i]);
    rt_monitor_words_free(si->words[i], si->nwords[i]);
  }
}

/* OCR of the whole frame once; each word goes to the front-most window under its centre,
 * in that window's coordinates. -1 when OCR is not available (err says why). */
static int scene_words(rt_run *run, const rt_scene *sc, scene_in *si, char *err, size_t n)
{
  rt_ocr *o = rt_ocr_get(run, err, n);
  int nw;
  fp_word *all = o ? rt_monitor_words(o, sc->frame, &nw, err, n) : NULL;
  if (!all)
    return -1;
  int nwin = 1 + si->in.n_layers;
  for (int i = 0; i < nwin; i++) {
    si->words[i] = calloc((size_t)nw + 1, sizeof(fp_word));
    si->nwords[i] = 0;
  }
  for (int k = 0; k < nw; k++) {
    int tx, ty;
    fp_word wd = all[k];
    rt_scene_to_target(sc, wd.box.x + wd.box.w / 2, wd.box.y + wd.box.h / 2, &tx, &ty);
    int i = rt_scene_window_at(sc, tx, ty);
    if (i < 0 || i >= nwin || !si->words[i]) {
      free(wd.text);
      continue;
    }
    rt_scene_to_target(sc, wd.box.x, wd.box.y, &wd.box.x, &wd.box.y);
    wd.box.x -= win_in(si, i)->x;
    wd.box.y -= win_in(si, i)->y;
    si->words[i][si->nwords[i]++] = wd;
  }
  free(all);
  for (int i = 0; i < nwin; i++) {
    fp_input *in = win_in(si, i);
    in->words = si->words[i];
    in->n_words = si->nwords[i];
    in->has_words = 1;
  }
  return 0;
}

static void mark(wstate *w, fp_rect r)
{
  for (int y = r.y < 0 ? 0 : r.y / FP_CELL; y < w->rows && y * FP_CELL < r.y + r.h; y++)
    for (int x = r.x < 0 ? 0 : r.x / FP_CELL; x < w->cols && x * FP_CELL < r.x + r.w; x++)
      w->robot[y * w->cols + x] = 1;
}

/* Cells that changed in the target since the last step's input (before it), grouped;
 * changes a text line or three high are the robot's doing. At recording, words that read
 * the same at the same place before and after are labels, never robot-changed. */
static void learn_robot(rt_monitor *m, const rt_scene *sc, PIX *cur, const fp_word *words,
                        int nwords, const fp_mask *masks, int nmasks)
{
  wstate *w = wstate_of(m, sc->win[0].id);
  if (!w || !w->prev || !cur)
    return;
  int cols = (sc->win[0].w + FP_CELL - 1) / FP_CELL, rows = (sc->win[0].h + FP_CELL - 1) / FP_CELL;
  if (w->cols != cols || w->rows != rows) {
    w->robot_lost = w->robot_lost || robot_changed_any(w);
    free(w->robot);
    w->robot = calloc((size_t)cols * rows + 1, 1);
    w->cols = cols;
    w->rows = rows;
  }
  /* what other windows covered, now or before the input, is not this window's content
   * (a menu that closed, a dialog that moved) */
  fp_rect *keep = calloc((size_t)(nwords + nmasks + w->nprev_occ) + 1, sizeof *keep);
  int nkeep = 0;
  for (int i = 0; keep && i < nmasks; i++)
    if (masks[i].source == FP_MASK_OCCLUDED)
      keep[nkeep++] = masks[i].r;
  for (int i = 0; keep && i < w->nprev_occ; i++)
    keep[nkeep++] = w->prev_occ[i];
  int nocc = nkeep;
  for (int i = 0; keep && i < nwords; i++)
    for (int j = 0; j < w->nprev; j++)
      if (!strcmp(words[i].text, w->prev_words[j].text) &&
          abs(words[i].box.x - w->prev_words[j].box.x) <= 2 &&
          abs(words[i].box.y - w->prev_words[j].box.y) <= 2) {
        keep[nkeep++] = words[i].box;
        break;
      }
  fp_rect *rs = NULL;
  int n = fp_changed_regions(w->prev, cur, keep, nkeep, ROBOT_MAX_H, &rs);
  for (int i = 0; w->robot && i < n; i++)
    mark(w, rs[i]);
  /* a word that changed in part (a clock's seconds) changed as a whole */
  for (int i = 0; w->robot && i < nwords; i++) {
    bool kept = false, touched = false;
    for (int k = nocc; k < nkeep && !kept; k++)
      kept = !memcmp(&keep[k], &words[i].box, sizeof(fp_rect));
    for (int k = 0; k < n && !touched && !kept; k++)
      touched = words[i].box.x < rs[k].x + rs[k].w && rs[k].x < words[i].box.x + words[i].box.w &&
                words[i].box.y < rs[k].y + rs[k].h && rs[k].y < words[i].box.y + words[i].box.h;
    if (touched && words[i].box.h <= ROBOT_MAX_H)
      mark(w, words[i].box);
  }
  free(rs);
  free(keep);
}

/* ---- evidence and alert.json ---- */

/* Evidence images show the screen with its data blanked (robot.evidence = "masked", the
 * default): by region, never by matching strings, so a misread value cannot slip through.
 * Data is what the robot's input changed (typing, a display answering it), what a baseline
 * learned or keeps as such, and what the script declared sensitive. */
static bool data_source(fp_mask_source s)
{
  return s == FP_MASK_ROBOT || s == FP_MASK_TYPED || s == FP_MASK_LEARNED;
}

static void blank(PIX *p, fp_rect r)
{
  long w = pixGetWidth(p), h = pixGetHeight(p);
  long x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
  long x1 = (long)r.x + r.w < w ? (long)r.x + r.w : w,
       y1 = (long)r.y + r.h < h ? (long)r.y + r.h : h;
  if (x1 <= x0 || y1 <= y0)
    return;
  BOX *b = boxCreate((l_int32)x0, (l_int32)y0, (l_int32)(x1 - x0), (l_int32)(y1 - y0));
  if (b)
    pixSetInRectArbitrary(p, b, FP_BLANK_PIXEL); /* nothing of what was there */
  boxDestroy(&b);
}

/* Puts back what orig shows where f's anchors are checked: recorded labels are the vendor's
 * words, compared pixel by pixel wherever they lie (and approve reads them again). */
static void keep_anchors(PIX *p, PIX *orig, const fp_fingerprint *f)
{
  for (int i = 0; f && orig && i < f->n_anchors; i++) {
    fp_rect b = fp_anchor_checked(f->anchors[i].box, pixGetWidth(p), pixGetHeight(p));
    if (b.w > 0 && b.h > 0)
      pixRasterop(p, b.x, b.y, b.w, b.h, PIX_SRC, orig, b.x, b.y);
  }
}

/* Blanks f's data in p: its data masks and learned cells. */
static void blank_fp(PIX *p, const fp_fingerprint *f)
{
  if (!f)
    return;
  for (int i = 0; i < f->n_masks; i++)
    if (data_source(f->masks[i].source))
      blank(p, f->masks[i].r);
  for (int r = 0; f->learned && r < f->rows; r++)
    for (int c = 0; c < f->cols; c++)
      if (f->learned[r * f->cols + c]) {
        int c1 = c;
        while (c1 + 1 < f->cols && f->learned[r * f->cols + c1 + 1])
          c1++;
        blank(p, (fp_rect){c * FP_CELL, r * FP_CELL, (c1 - c + 1) * FP_CELL, FP_CELL});
        c = c1;
      }
}

/* A window image with its data blanked: its own data masks, what the matching baseline
 * window (may be NULL) holds as data, and the target's sensitive regions (the window lies
 * at x,y relative to the target). NULL when it cannot be done. */
static PIX *masked_image(PIX *img, const fp_mask *ms, int nms, const fp_fingerprint *f,
                         const wstate *w, int x, int y)
{
  PIX *p = img ? pixCopy(NULL, img) : NULL;
  if (!p)
    return NULL;
  for (int i = 0; i < nms; i++)
    if (data_source(ms[i].source))
      blank(p, ms[i].r);
  blank_fp(p, f);
  keep_anchors(p, img, f);
  for (int i = 0; w && i < w->nsensitive; i++)
    blank(p, (fp_rect){w->sensitive[i].x - x, w->sensitive[i].y - y, w->sensitive[i].w,
                       w->sensitive[i].h});
  return p;
}

/* Blanks in p (window image of in) the words the robot typed that it shows again (a name
 * an application copied into a dialog). Evidence only: they are compared like any pixels,
 * so a vendor's word that happens to equal typed text stays guarded. */
static void blank_typed(PIX *p, const fp_input *in)
{
  uint8_t *typed =
      p && in->has_words && in->n_data_words > 0 ? calloc((size_t)in->n_words + 1, 1) : NULL;
  if (!typed)
    return;
  fp_data_words(in->words, in->n_words, in->data_words, in->n_data_words, typed);
  for (int k = 0; k < in->n_words; k++)
    if (typed[k]) {
      fp_rect b = in->words[k].box;
      blank(p, (fp_rect){b.x - 2, b.y - 2, b.w + 4, b.h + 4});
    }
  free(typed);
}

/* Blanks an entry's data in its own reference images (target and layers) before it is
 * stored: a baseline keeps the vendor's screen, not what a recording typed. Comparing never
 * looks at those pixels (masked, or learned cells) but around anchors, which are kept. */
static void blank_entry(fp_fingerprint *f)
{
  for (int i = 0; f && f->image && i <= f->n_layers; i++) {
    fp_fingerprint *l = i ? f->layers[i - 1] : f;
    PIX *orig = l && l->image ? pixCopy(NULL, l->image) : NULL;
    if (!orig)
      continue;
    blank_fp(l->image, l);
    keep_anchors(l->image, orig, l);
    pixDestroy(&orig);
  }
}

/* Shallow copies of a scene input and a baseline entry whose images are masked copies
 * (owned here); everything else is borrowed. */
typedef struct {
  fp_input in, layers[FP_MAX_LAYERS];
  fp_fingerprint fp, fl[FP_MAX_LAYERS], *flp[FP_MAX_LAYERS];
  PIX *img[2 * (1 + FP_MAX_LAYERS)];
  int nimg;
  bool ok;
  const char *why; /* when not ok */
} masked;

static PIX *own(masked *mk, PIX *p)
{
  if (!p)
    mk->ok = false;
  mk->img[mk->nimg++] = p;
  return p;
}

static void masked_free(masked *mk)
{
  for (int i = 0; i < mk->nimg; i++)
    pixDestroy(&mk->img[i]);
}

/* in and base (each may be NULL) with their data blanked; mk->ok false when some window
 * could not be masked (no image is then kept). */
static void mask_scene(const rt_monitor *m, const rt_scene *sc, const fp_input *in,
                       const fp_fingerprint *base, masked *mk)
{
  memset(mk, 0, sizeof *mk);
  mk->ok = true;
  const wstate *w = find_ws(m, sc->win[0].id);
  if (in && in->image && robot_moved(w, pixGetWidth(in->image), pixGetHeight(in->image))) {
    mk->ok = false; /* what the robot typed has moved: it cannot be blanked */
    mk->why = "the window changed size after the robot's input changed it";
    return;
  }
  if (in) {
    mk->in = *in;
    mk->in.image = own(mk, masked_image(in->image, in->masks, in->n_masks, base, w, 0, 0));
    blank_typed(mk->in.image, in);
    int n = in->n_layers < FP_MAX_LAYERS ? in->n_layers : FP_MAX_LAYERS;
    for (int i = 0; i < n; i++) {
      const fp_input *l = &in->layers[i];
      mk->layers[i] = *l;
      mk->layers[i].image =
          own(mk, masked_image(l->image, l->masks, l->n_masks, NULL, w, l->x, l->y));
      blank_typed(mk->layers[i].image, l);
      /* and what the script declared sensitive in that window itself (the form behind) */
      const wstate *lw = i + 1 < sc->n ? find_ws(m, sc->win[i + 1].id) : NULL;
      for (int k = 0; lw && lw != w && mk->layers[i].image && k < lw->nsensitive; k++)
        blank(mk->layers[i].image, (fp_rect){lw->sensitive[k].x, lw->sensitive[k].y,
                                             lw->sensitive[k].w, lw->sensitive[k].h});
    }
    mk->in.layers = mk->layers;
    mk->in.n_layers = n;
  }
  if (base) {
    if (base->n_layers > FP_MAX_LAYERS) {
      mk->ok = false;
      return;
    }
    mk->fp = *base;
    mk->fp.image = own(mk, masked_image(base->image, NULL, 0, base, w, 0, 0));
    for (int i = 0; i < base->n_layers; i++) {
      const fp_fingerprint *l = base->layers[i];
      mk->fl[i] = *l;
      mk->fl[i].image = own(mk, masked_image(l->image, NULL, 0, l, w, l->x, l->y));
      mk->flp[i] = &mk->fl[i];
    }
    mk->fp.layers = mk->flp;
  }
}

/* Says why a step keeps no evidence image (its data could not be blanked). */
static void no_image(rt_run *run, const rt_stepinfo *s, const masked *mk)
{
  if (mk && !mk->ok && run->run_dir && run->evidence != RT_EVIDENCE_NONE)
    rt_log(run, "vagt: step '%s': no evidence image kept: its data could not be blanked (%s)",
           s->key, mk->why ? mk->why : "out of memory or too many windows");
}

static void save_png(rt_run *run, rt_monitor *m, int k, const char *what, PIX *p)
{
  if (!p || !run->run_dir || run->evidence == RT_EVIDENCE_NONE)
    return;
  snprintf(m->ev[k], sizeof m->ev[k], "evidence/step-%03d-%s.png", m->nstep, what);
  /* a whole image or none (a full disk once left empty PNGs the report pointed at) */
  l_uint8 *data = NULL;
  size_t size = 0;
  char err[512];
  if (pixWriteMem(&data, &size, p, IFF_PNG) != 0 || !data) {
    rt_log(run, "vagt: cannot encode %s", m->ev[k]);
    m->ev[k][0] = '\0';
  } else if (rt_write_file_atomic(run->run_dir, m->ev[k], (const char *)data, size, err,
                                  sizeof err) != 0) {
    rt_log(run, "vagt: %s", err);
    m->ev[k][0] = '\0';
  }
  lept_free(data);
}

static void json_rect(cJSON *o, fp_rect r)
{
  cJSON_AddNumberToObject(o, RT_ALERTJ_X, r.x);
  cJSON_AddNumberToObject(o, RT_ALERTJ_Y, r.y);
  cJSON_AddNumberToObject(o, RT_ALERTJ_W, r.w);
  cJSON_AddNumberToObject(o, RT_ALERTJ_H, r.h);
}

static const char *const role_names[] = {"target", "popup", "dialog", "over"};

/* What `vagt approve` needs to turn today's scene into the baseline entry: where each
 * window lies in evidence "current" and its masks: declared and covered parts, and what the
 * robot's input changed ("robot": blanked in the evidence, so approve declares it data
 * in the new entry; what the stored entry learned is carried over by approve). */
static void alert_scene(cJSON *a, const fp_input *in, int ox, int oy)
{
  cJSON *sc = cJSON_AddObjectToObject(a, RT_ALERTJ_SCENE);
  if (!sc)
    return;
  cJSON *ws = cJSON_AddArrayToObject(sc, RT_ALERTJ_WINDOWS);
  for (int i = 0; ws && i <= in->n_layers; i++) {
    const fp_input *w = i ? &in->layers[i - 1] : in;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, RT_ALERTJ_WIN_ROLE,
                            role_names[w->role <= FP_WIN_OVER ? w->role : 0]);
    cJSON_AddBoolToObject(o, RT_ALERTJ_WIN_FRONT, w->front);
    cJSON_AddStringToObject(o, RT_ALERTJ_WIN_CLASS, w->win_class ? w->win_class : "");
    cJSON_AddStringToObject(o, RT_ALERTJ_WIN_NAME, w->win_name ? w->win_name : "");
    json_rect(o, (fp_rect){ox + w->x, oy + w->y, (int)pixGetWidth(w->image),
                           (int)pixGetHeight(w->image)});
    cJSON *ms = cJSON_AddArrayToObject(o, RT_ALERTJ_WIN_MASKS);
    for (int k = 0; ms && k < w->n_masks; k++) {
      fp_mask_source src = w->masks[k].source;
      if (src == FP_MASK_LEARNED)
        continue; /* the stored entry's, carried over by approve */
      cJSON *mk = cJSON_CreateObject();
      json_rect(mk, w->masks[k].r);
      cJSON_AddStringToObject(mk, RT_ALERTJ_MASK_SOURCE,
                              src == FP_MASK_DECLARED   ? "declared"
                              : src == FP_MASK_OCCLUDED ? "occluded"
                                                        : "robot");
      cJSON_AddItemToArray(ms, mk);
    }
    cJSON_AddItemToArray(ws, o);
  }
}

static void write_alert(rt_run *run, rt_monitor *m, const rt_stepinfo *s, const fp_input *in,
                        int ox, int oy)
{
  if (!run->run_dir)
    return;
  cJSON *a = cJSON_CreateObject();
  char now[40];
  vu_rfc3339(vu_wall(), true, now, sizeof now);
  cJSON_AddStringToObject(a, RT_ALERTJ_STATUS, "drift");
  cJSON_AddNumberToObject(a, RT_ALERTJ_EXIT_CODE, RT_EXIT_DRIFT);
  cJSON_AddStringToObject(a, RT_ALERTJ_SCRIPT, run->script);
  cJSON_AddStringToObject(a, RT_ALERTJ_BASELINE, m->dir);
  cJSON *st = cJSON_AddObjectToObject(a, RT_ALERTJ_STEP);
  cJSON_AddStringToObject(st, RT_ALERTJ_STEP_KEY, s->key);
  cJSON_AddStringToObject(st, RT_ALERTJ_STEP_ACTION, s->kind);
  if (s->name)
    cJSON_AddStringToObject(st, RT_ALERTJ_STEP_NAME, s->name);
  if (s->file)
    cJSON_AddStringToObject(st, RT_ALERTJ_STEP_FILE, s->file);
  cJSON_AddNumberToObject(st, RT_ALERTJ_STEP_LINE, s->line);
  cJSON_AddStringToObject(st, RT_ALERTJ_STEP_WINDOW_CLASS, in->win_class ? in->win_class : "");
  cJSON *r = cJSON_AddArrayToObject(a, RT_ALERTJ_REASONS);
  for (int i = 0; i < m->nreasons; i++)
    cJSON_AddItemToArray(r, cJSON_CreateString(m->reasons[i]));
  cJSON_AddStringToObject(a, RT_ALERTJ_TIME, now);
  cJSON_AddStringToObject(a, RT_ALERTJ_RUN, run->run_dir);
  char report[4096];
  snprintf(report, sizeof report, "%s/report.html", run->run_dir);
  cJSON_AddStringToObject(a, RT_ALERTJ_REPORT, report);
  alert_scene(a, in, ox, oy);
  /* what the images below keep: the agent attaches one to an e-mail only when "full" */
  cJSON_AddStringToObject(a, RT_ALERTJ_EVIDENCE_MODE,
                          run->evidence == RT_EVIDENCE_FULL   ? "full"
                          : run->evidence == RT_EVIDENCE_NONE ? "none"
                                                              : "masked");
  cJSON *ev = cJSON_AddObjectToObject(a, RT_ALERTJ_EVIDENCE);
  static const char *const names[3] = {RT_EVJ_RECORDED, RT_EVJ_CURRENT, RT_EVJ_DIFF};
  for (int k = 0; k < 3; k++)
    if (m->ev[k][0])
      cJSON_AddStringToObject(ev, names[k], m->ev[k]);
  char *text = cJSON_Print(a);
  char err[512];
  if (text &&
      rt_write_file_atomic(run->run_dir, RT_ALERT_JSON, text, strlen(text), err, sizeof err) != 0)
    rt_log(run, "vagt: %s", err);
  cJSON_free(text);
  cJSON_Delete(a);
}

static void fill_out(rt_monitor *m, rt_guard_out *out, const char *verdict)
{
  out->verdict = verdict;
  out->reasons = m->reasons;
  out->nreasons = m->nreasons;
  for (int k = 0; k < 3; k++)
    out->evidence[k] = m->ev[k][0] ? m->ev[k] : NULL;
  if (m->nreasons)
    snprintf(out->reason, sizeof out->reason, "%s", m->reasons[0]);
}

/* Recorded, current and diff images of the scene, and alert.json. */
static rt_guard_verdict halt(rt_run *run, rt_monitor *m, const rt_stepinfo *s, const fp_input *in,
                             rt_guard_out *out, const fp_fingerprint *base, const fp_verdict *v)
{
  int bx, by, ox = 0, oy = 0;
  masked mk;
  bool full = run->evidence == RT_EVIDENCE_FULL;
  if (!full)
    mask_scene(m, s->scene, in, base, &mk);
  const fp_input *ein = full ? in : &mk.in;
  const fp_fingerprint *ebase = full || !base ? base : &mk.fp;
  bool keep = full || mk.ok;
  no_image(run, s, full ? NULL : &mk);
  PIX *rec = keep && ebase ? fp_scene_image(ebase, &bx, &by) : NULL;
  PIX *cur = keep ? fp_input_scene_image(ein, &ox, &oy) : NULL;
  save_png(run, m, 0, "recorded", rec);
  save_png(run, m, 1, "current", cur);
  if (keep && base && v) {
    PIX *d = fp_diff_scene(ebase, ein, v);
    save_png(run, m, 2, "diff", d);
    pixDestroy(&d);
  }
  pixDestroy(&rec);
  pixDestroy(&cur);
  if (!full)
    masked_free(&mk);
  if (!cur) { /* where the target lies in the scene, for approve */
    PIX *at = fp_input_scene_image(in, &ox, &oy);
    pixDestroy(&at);
  }
  int had = m->nreasons;
  if (m->lead && (add_reason(m, m->lead), m->nreasons > had)) { /* first, whatever else */
    char *lead = m->reasons[had];
    memmove(m->reasons + 1, m->reasons, (size_t)had * sizeof *m->reasons);
    m->reasons[0] = lead;
  }
  write_alert(run, m, s, in, ox, oy);
  fill_out(m, out, "drift");
  return RT_GUARD_HALT;
}

/* ---- baseline entries ---- */

/* An entry of an older format cannot be judged with: its learned cells may come from
 * guessed text fields that hide changes. Exit 2 with the command that re-records it. */
static bool too_old(rt_run *run, rt_monitor *m, const fp_fingerprint *e, rt_guard_out *out)
{
  if (e->version >= FP_FORMAT_JUDGED)
    return false;
  rt_run_abort(run, RT_ABORT_CONFIG,
               "baseline %s: the entry for step '%s' has format %d (an older vagt, whose "
               "guesses about text fields may hide changes); after review, re-record the "
               "baseline: vagt record --replace %s",
               m->dir, e->key, e->version, run->script);
  snprintf(out->reason, sizeof out->reason, "baseline entry of format %d", e->version);
  return true;
}

/* The baseline entry for key, loaded once per run. The cache owns it. */
static int load_cached(rt_monitor *m, const char *key, fp_fingerprint **out, fp_error *e)
{
  for (int i = 0; i < m->ncache; i++)
    if (strcmp(m->cache[i]->key, key) == 0) {
      *out = m->cache[i];
      return FP_OK;
    }
  int rc = fp_store_load(m->dir, key, out, e);
  if (rc != FP_OK)
    return rc;
  fp_fingerprint **n = realloc(m->cache, (size_t)(m->ncache + 1) * sizeof *n);
  if (!n) {
    fp_fingerprint_free(*out);
    *out = NULL;
    return FP_ERR_NOMEM;
  }
  m->cache = n;
  m->cache[m->ncache++] = *out;
  return FP_OK;
}

static bool seen_key(rt_monitor *m, const char *key)
{
  for (int i = 0; i < m->nseen; i++)
    if (strcmp(m->seen[i], key) == 0)
      return true;
  char **n = realloc(m->seen, (size_t)(m->nseen + 1) * sizeof *n);
  if (n) {
    m->seen = n;
    m->seen[m->nseen++] = strdup(key);
  }
  return false;
}

/* The regions behind a refusal, as the w:ignore lines that would declare them data. */
static void ignore_hint(rt_run *run, rt_monitor *m, const fp_verdict *v)
{
  char hint[1024];
  size_t l = (size_t)snprintf(hint, sizeof hint,
                              "if %s data, declare %s: ", v->n_changed == 1 ? "it is" : "they are",
                              v->n_changed == 1 ? "it" : "them");
  int shown = 0;
  for (int i = 0; i < v->n_changed && shown < 4 && l < sizeof hint; i++, shown++)
    l += (size_t)snprintf(hint + l, sizeof hint - l, "%sw:ignore{ x = %d, y = %d, w = %d, h = %d }",
                          shown ? "; " : "", v->changed[i].x, v->changed[i].y, v->changed[i].w,
                          v->changed[i].h);
  if (v->n_changed > 0) {
    add_reason(m, hint);
    rt_log(run, "vagt: %s", hint); /* places only: on the terminal too, not just the report */
  }
  add_reason(m, "to replace the stored screens after review: vagt record --replace");
}

static rt_guard_verdict do_record(rt_run *run, rt_monitor *m, const rt_stepinfo *s, scene_in *si,
                                  rt_guard_out *out)
{
  char err[1024] = "OCR not available";
  if (!si->in.has_words && scene_words(run, s->scene, si, err, sizeof err) != 0) {
    rt_run_abort(run, RT_ABORT_DISPLAY, "cannot record fingerprints: OCR: %s", err);
    snprintf(out->reason, sizeof out->reason, "OCR: %.1000s", err);
    return RT_GUARD_ERROR;
  }
  fp_fingerprint *fp = NULL;
  int rc = fp_compute(&si->in, s->key, &m->opt, &fp);
  if (rc != FP_OK) {
    snprintf(out->reason, sizeof out->reason, "cannot compute the fingerprint (error %d)", rc);
    return RT_GUARD_ERROR;
  }
  fp_error e = {0};
  fp_verdict why = {0};
  fp_fingerprint *old = NULL; /* the stored entry, for the evidence of a refusal */
  blank_entry(fp);
  if (!m->rec && (rc = fp_recording_begin(m->dir, &m->rec, &e)) != FP_OK) {
    fp_fingerprint_free(fp);
    rt_run_abort(run, RT_ABORT_CONFIG, "baseline %s: %s", m->dir, e.message);
    snprintf(out->reason, sizeof out->reason, "%s", e.message);
    return RT_GUARD_ERROR;
  }
  if (m->replace && !seen_key(m, s->key)) {
    rc = fp_recording_save(m->rec, fp, &e);
    m->recorded++;
    out->verdict = "recorded";
  } else {
    seen_key(m, s->key);
    bool existed = fp_recording_load(m->rec, s->key, &old, &e) == FP_OK;
    memset(&e, 0, sizeof e);
    if (existed && too_old(run, m, old, out)) {
      fp_fingerprint_free(fp);
      fp_fingerprint_free(old);
      return RT_GUARD_ERROR;
    }
    rc = fp_recording_record(m->rec, fp, &m->opt, &why, &e);
    fp_fingerprint *merged = NULL;
    if (rc == FP_OK && existed && fp_recording_load(m->rec, s->key, &merged, &e) == FP_OK) {
      blank_entry(merged); /* cells the merge learned hold data from one recording */
      rc = fp_recording_save(m->rec, merged, &e);
    }
    fp_fingerprint_free(merged);
    if (rc == FP_OK) {
      if (existed)
        m->merged++;
      else
        m->recorded++;
      out->verdict = existed ? "merged" : "recorded";
    }
  }
  fp_fingerprint_free(fp);
  if (rc == FP_OK) {
    struct recd *n = realloc(m->recd, (size_t)(m->nrecd + 1) * sizeof *n);
    if (n) {
      m->recd = n;
      n[m->nrecd].win = s->scene->win[0].id;
      if ((n[m->nrecd].key = strdup(s->key)))
        m->nrecd++;
    }
  }
  rt_guard_verdict g = RT_GUARD_GO;
  if (rc == FP_ERR_REFUSED) {
    /* Show what differs from the stored baseline, as for a drift. */
    keep_reasons(m, &why, "recording refused: ");
    ignore_hint(run, m, &why);
    g = halt(run, m, s, &si->in, out, old, &why);
  } else if (rc != FP_OK) {
    rt_run_abort(run, RT_ABORT_CONFIG, "baseline %s: %s", m->dir, e.message);
    snprintf(out->reason, sizeof out->reason, "%s", e.message);
    g = RT_GUARD_ERROR;
  }
  fp_verdict_free(&why);
  fp_fingerprint_free(old);
  return g;
}

static rt_guard_verdict do_judge(rt_run *run, rt_monitor *m, const rt_stepinfo *s, scene_in *si,
                                 bool final, rt_guard_out *out)
{
  fp_fingerprint *base = NULL;
  fp_error e = {0};
  int rc = load_cached(m, s->key, &base, &e);
  if (rc == FP_ERR_NOTFOUND) {
    char msg[1200];
    snprintf(msg, sizeof msg, "no baseline for step '%s' in %s (record it first: vagt record)",
             s->key, m->dir);
    clear_reasons(m);
    add_reason(m, msg);
    return halt(run, m, s, &si->in, out, NULL, NULL);
  }
  if (rc != FP_OK) {
    rt_run_abort(run, RT_ABORT_CONFIG, "%s", e.message);
    snprintf(out->reason, sizeof out->reason, "%s", e.message);
    return RT_GUARD_ERROR;
  }
  if (too_old(run, m, base, out))
    return RT_GUARD_ERROR;
  fp_verdict v = {0};
  rc = fp_compare(base, &si->in, &m->opt, &v);
  if (rc != FP_OK) {
    snprintf(out->reason, sizeof out->reason, "fingerprint comparison failed (error %d)", rc);
    return RT_GUARD_ERROR;
  }
  if (v.match) {
    m->matched++;
    fp_verdict_free(&v);
    out->verdict = "match";
    return RT_GUARD_GO;
  }
  if (!final) {
    fp_verdict_free(&v);
    out->verdict = "drift";
    return RT_GUARD_DRIFT;
  }
  /* Explain it: OCR of today's scene against the recorded anchors. */
  char err[1024];
  if (scene_words(run, s->scene, si, err, sizeof err) == 0) {
    fp_verdict v2 = {0};
    if (fp_compare(base, &si->in, &m->opt, &v2) == FP_OK && !v2.match) {
      fp_verdict_free(&v);
      v = v2;
    } else {
      fp_verdict_free(&v2);
    }
  }
  keep_reasons(m, &v, "");
  if (m->nreasons == 0)
    add_reason(m, "the window differs from the recorded one");
  rt_guard_verdict g = halt(run, m, s, &si->in, out, base, &v);
  fp_verdict_free(&v);
  return g;
}

/* The static labels of the step's recorded screen, for a message that must not quote
 * what the screen shows today. */
static void labels_of(rt_monitor *m, const char *key, char *buf, size_t n)
{
  buf[0] = '\0';
  fp_fingerprint *base = NULL;
  fp_error e = {0};
  if (load_cached(m, key, &base, &e) != FP_OK)
    return;
  size_t l = 0;
  int shown = 0;
  for (int w = 0; w <= base->n_layers && l < n; w++) {
    const fp_fingerprint *f = w ? base->layers[w - 1] : base;
    for (int i = 0; i < f->n_anchors && l < n && shown < MAX_LABELS; i++, shown++)
      l += (size_t)snprintf(buf + l, n - l, "%s'%s'", shown ? ", " : "", f->anchors[i].text);
  }
}

size_t rt_monitor_labels(rt_monitor *m, const char *wclass, const char *like, char *buf, size_t n)
{
  typedef struct {
    const fp_word *w;
    int d;
  } cand;
  cand c[MAX_LABELS];
  int nc = 0;
  if (n)
    buf[0] = '\0';
  if (!m || m->record || !wclass)
    return 0;
  for (int e = 0; e < m->ncache; e++) {
    const fp_fingerprint *f = m->cache[e];
    if (!f || !f->win_class || strcmp(f->win_class, wclass))
      continue;
    for (int i = 0; i < f->n_anchors; i++) {
      const fp_word *a = &f->anchors[i];
      bool dup = false;
      for (int k = 0; k < nc && !dup; k++)
        dup = !strcmp(c[k].w->text, a->text) && c[k].w->box.x == a->box.x &&
              c[k].w->box.y == a->box.y;
      if (dup)
        continue;
      int d = like ? fp_text_distance(a->text, like, 1) : 0, at = nc;
      if (nc == MAX_LABELS) {
        if (d >= c[nc - 1].d)
          continue;
        at = --nc;
      }
      while (at > 0 && c[at - 1].d > d) {
        c[at] = c[at - 1];
        at--;
      }
      c[at] = (cand){a, d};
      nc++;
    }
  }
  size_t l = 0;
  for (int k = 0; k < nc && l < n; k++)
    l += (size_t)snprintf(buf + l, n - l, "%s'%s' at (%d,%d)", k ? ", " : "", c[k].w->text,
                          c[k].w->box.x, c[k].w->box.y);
  return l < n ? l : n - 1;
}

/* Every look of a step begins here: the step counted (evidence names), no evidence kept
 * from the last look, the scene's input built. The reasons stay: a failed step's line
 * still points at those of its last judgement. */
static void look_begin(rt_monitor *m, const rt_run *run, const rt_stepinfo *s, scene_in *si)
{
  if (s->serial != m->serial) {
    m->serial = s->serial;
    m->nstep++;
  }
  for (int k = 0; k < 3; k++)
    m->ev[k][0] = '\0';
  scene_input(m, run, s, si);
}

static rt_guard_verdict check(void *ud, rt_run *run, const rt_stepinfo *s, bool final,
                              rt_guard_out *out)
{
  rt_monitor *m = ud;
  clear_reasons(m);
  scene_in si;
  look_begin(m, run, s, &si);
  rt_guard_verdict g;
  if (m->record) {
    /* robot-changed cells need the words of this look: labels stay checked */
    char err[1024];
    if (scene_words(run, s->scene, &si, err, sizeof err) == 0)
      learn_robot(m, s->scene, si.img[0], si.words[0], si.nwords[0], si.masks[0], si.in.n_masks);
    window_masks(m, s, &si, 0);
    g = do_record(run, m, s, &si, out);
  } else {
    learn_robot(m, s->scene, si.img[0], NULL, 0, si.masks[0], si.in.n_masks);
    window_masks(m, s, &si, 0);
    g = do_judge(run, m, s, &si, final, out);
  }
  /* kept for the next step: the target before this step's input */
  pixDestroy(&m->cur);
  rt_monitor_words_free(m->cur_words, m->ncur);
  m->cur = si.img[0];
  si.img[0] = NULL;
  m->cur_words = si.words[0];
  m->ncur = si.nwords[0];
  si.words[0] = NULL;
  si.nwords[0] = 0;
  free(m->cur_occ);
  m->cur_occ = calloc((size_t)si.in.n_masks + 1, sizeof *m->cur_occ);
  m->ncur_occ = 0;
  for (int i = 0; m->cur_occ && i < si.in.n_masks; i++)
    if (si.masks[0][i].source == FP_MASK_OCCLUDED)
      m->cur_occ[m->ncur_occ++] = si.masks[0][i].r;
  scene_in_free(&si);
  if (g != RT_GUARD_HALT)
    fill_out(m, out, out->verdict ? out->verdict : "match");
  return g;
}

static bool has(void *ud, const char *key)
{
  rt_monitor *m = ud;
  fp_fingerprint *base = NULL;
  fp_error e = {0};
  return load_cached(m, key, &base, &e) != FP_ERR_NOTFOUND;
}

static void after(void *ud, rt_run *run, const rt_stepinfo *s, int rc)
{
  (void)run;
  rt_monitor *m = ud;
  wstate *w = wstate_of(m, s->scene->win[0].id);
  if (!w)
    return;
  pixDestroy(&w->prev);
  rt_monitor_words_free(w->prev_words, w->nprev);
  w->prev = NULL;
  w->prev_words = NULL;
  w->nprev = 0;
  if (rc != 0)
    return;
  w->prev = m->cur;
  w->prev_words = m->cur_words;
  w->nprev = m->ncur;
  free(w->prev_occ);
  w->prev_occ = m->cur_occ;
  w->nprev_occ = m->ncur_occ;
  m->cur = NULL;
  m->cur_words = NULL;
  m->ncur = 0;
  m->cur_occ = NULL;
  m->ncur_occ = 0;
}

/* The step's input was stopped part-way (keywatch.h): today's scene judged against the
 * recorded one for the evidence and the reasons, the stop's reason first; halts also when
 * the scene matches (the window that opened may be gone already). */
static void stopped(void *ud, rt_run *run, const rt_stepinfo *s, const char *reason,
                    rt_guard_out *out)
{
  rt_monitor *m = ud;
  clear_reasons(m);
  scene_in si;
  look_begin(m, run, s, &si);
  learn_robot(m, s->scene, si.img[0], NULL, 0, si.masks[0], si.in.n_masks);
  window_masks(m, s, &si, 0);
  m->lead = reason;
  rt_guard_verdict g = m->record ? RT_GUARD_GO : do_judge(run, m, s, &si, true, out);
  if (g != RT_GUARD_HALT) {
    fp_fingerprint *base = NULL;
    fp_error e = {0};
    if (load_cached(m, s->key, &base, &e) != FP_OK)
      base = NULL;
    clear_reasons(m);
    halt(run, m, s, &si.in, out, base, NULL);
  }
  m->lead = NULL;
  scene_in_free(&si);
}

/* A step that failed otherwise (exit 1): its frame, and the recorded one when there is
 * one, as evidence. */
static void failed(void *ud, rt_run *run, const rt_stepinfo *s, rt_guard_out *out)
{
  rt_monitor *m = ud;
  scene_in si;
  look_begin(m, run, s, &si);
  int ox, oy;
  fp_fingerprint *base = NULL;
  fp_error e = {0};
  if (load_cached(m, s->key, &base, &e) != FP_OK)
    base = NULL;
  masked mk;
  bool full = run->evidence == RT_EVIDENCE_FULL;
  if (!full)
    mask_scene(m, s->scene, &si.in, base, &mk);
  no_image(run, s, full ? NULL : &mk);
  if (full || mk.ok) {
    PIX *cur = fp_input_scene_image(full ? &si.in : &mk.in, &ox, &oy);
    save_png(run, m, 1, "current", cur);
    pixDestroy(&cur);
    if (base) {
      int bx, by;
      PIX *rec = fp_scene_image(full ? base : &mk.fp, &bx, &by);
      save_png(run, m, 0, "recorded", rec);
      pixDestroy(&rec);
    }
  }
  if (!full)
    masked_free(&mk);
  if (base)
    labels_of(m, s->key, out->labels, sizeof out->labels);
  scene_in_free(&si);
  for (int k = 0; k < 3; k++)
    out->evidence[k] = m->ev[k][0] ? m->ev[k] : NULL;
}

/* What the robot typed into or changed in a window is data at every step of that window,
 * also at the steps before it did so (a form that opens with another citizen's data in its
 * fields): each entry recorded in this run gets the window's robot-changed cells. They never
 * cover the entry's anchors (fp_compare checks those cells whatever the masks). */
int rt_monitor_finish(rt_monitor *m, char *err, size_t errlen)
{
  if (!m->record || !m->rec)
    return 0;
  int updated = 0;
  for (int i = 0; i < m->nrecd; i++) {
    bool dup = false;
    for (int j = 0; j < i && !dup; j++)
      dup = !strcmp(m->recd[j].key, m->recd[i].key);
    wstate *w = wstate_of(m, m->recd[i].win);
    fp_fingerprint *e = NULL;
    fp_error fe = {0};
    if (dup || !w || !w->robot || fp_recording_load(m->rec, m->recd[i].key, &e, &fe) != FP_OK) {
      fp_fingerprint_free(e);
      continue;
    }
    fp_mask *add = NULL;
    int n = push_robot(&add, 0, w, e->width, e->height), k = 0;
    fp_mask *nm = n ? realloc(e->masks, (size_t)(e->n_masks + n) * sizeof *nm) : NULL;
    if (nm) {
      e->masks = nm;
      for (int a = 0; a < n; a++) {
        bool have = false;
        for (int b = 0; b < e->n_masks && !have; b++)
          have = e->masks[b].source == FP_MASK_ROBOT &&
                 !memcmp(&e->masks[b].r, &add[a].r, sizeof(fp_rect));
        if (!have) {
          e->masks[e->n_masks++] = add[a];
          k++;
        }
      }
    }
    free(add);
    /* a word there changed from step to step while recording: data, not an anchor */
    int na = 0;
    for (int a = 0; a < e->n_anchors; a++) {
      fp_rect b = e->anchors[a].box;
      long area = (long)b.w * b.h, under = 0;
      for (int y = b.y; y < b.y + b.h; y++)
        for (int x = b.x; x < b.x + b.w; x++) {
          int c = x / FP_CELL, r = y / FP_CELL;
          under += x >= 0 && y >= 0 && c < w->cols && r < w->rows && w->robot[r * w->cols + c];
        }
      if (area > 0 && under * 2 >= area) {
        free(e->anchors[a].text);
        k++;
      } else {
        e->anchors[na++] = e->anchors[a];
      }
    }
    e->n_anchors = na;
    if (k)
      blank_entry(e);
    if (k && fp_recording_save(m->rec, e, &fe) != FP_OK) {
      snprintf(err, errlen, "baseline %s: %s", m->dir, fe.message);
      fp_fingerprint_free(e);
      return -1;
    }
    updated += k > 0;
    fp_fingerprint_free(e);
  }
  fp_error fe = {0};
  int rc = fp_recording_commit(m->rec, &fe);
  m->rec = NULL;
  if (rc != FP_OK) {
    snprintf(err, errlen, "baseline %s: %s", m->dir, fe.message);
    return -1;
  }
  return updated;
}

bool rt_monitor_discard(rt_monitor *m)
{
  if (!m || !m->rec)
    return false;
  fp_recording_abort(m->rec);
  m->rec = NULL;
  return true;
}

rt_monitor *rt_monitor_new(const char *dir, bool record, bool replace)
{
  rt_monitor *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->dir = strdup(dir);
  m->record = record;
  m->replace = replace;
  fp_options_default(&m->opt);
  m->guard = (rt_guard){check, after, failed, stopped, has, m};
  return m;
}

const rt_guard *rt_monitor_guard(rt_monitor *m)
{
  return &m->guard;
}

void rt_monitor_free(rt_monitor *m)
{
  if (!m)
    return;
  rt_monitor_discard(m);
  clear_reasons(m);
  for (int i = 0; i < m->ncache; i++)
    fp_fingerprint_free(m->cache[i]);
  free(m->cache);
  for (int i = 0; i < m->nseen; i++)
    free(m->seen[i]);
  free(m->seen);
  for (int i = 0; i < m->nws; i++)
    wstate_free(&m->ws[i]);
  for (int i = 0; i < m->nrecd; i++)
    free(m->recd[i].key);
  free(m->recd);
  free(m->ws);
  pixDestroy(&m->cur);
  rt_monitor_words_free(m->cur_words, m->ncur);
  free(m->cur_occ);
  free(m->dir);
  free(m);
}
