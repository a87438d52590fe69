/* merge.c - fold a further recording of the same step into a baseline:
 * cells that differ become learned volatile, anchors not present in every
 * recording are dropped, and anything more than data is refused. */
#include "fp_int.h"

#include <stdlib.h>
#include <string.h>

static fp_fingerprint *clone_fp(const fp_fingerprint *s)
{
  fp_fingerprint *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  size_t ncell = (size_t)s->cols * s->rows;
  d->version = s->version;
  d->width = s->width;
  d->height = s->height;
  d->cols = s->cols;
  d->rows = s->rows;
  d->recordings = s->recordings;
  d->role = s->role;
  d->x = s->x;
  d->y = s->y;
  d->front = s->front;
  d->key = fp__strdup(s->key);
  d->win_class = fp__strdup(s->win_class ? s->win_class : "");
  d->win_name = fp__strdup(s->win_name ? s->win_name : "");
  d->image = pixCopy(NULL, s->image);
  d->learned = calloc(ncell + 1, 1);
  d->cells = calloc(ncell + 1, sizeof *d->cells);
  if ((s->key && !d->key) || !d->win_class || !d->win_name || !d->image || !d->learned ||
      !d->cells || fp__copy_words(&d->anchors, &d->n_anchors, s->anchors, s->n_anchors))
    goto fail;
  if (s->n_masks > 0) {
    if (!(d->masks = malloc((size_t)s->n_masks * sizeof *d->masks)))
      goto fail;
    memcpy(d->masks, s->masks, (size_t)s->n_masks * sizeof *d->masks);
    d->n_masks = s->n_masks;
  }
  if (ncell) {
    memcpy(d->learned, s->learned, ncell);
    memcpy(d->cells, s->cells, ncell * sizeof *d->cells);
  }
  return d;
fail:
  fp_fingerprint_free(d);
  return NULL;
}

static int same_place(fp_rect a, fp_rect b, int tol)
{
  return abs(a.x - b.x) <= tol && abs(a.y - b.y) <= tol;
}

static int box_size_differs(fp_rect a, fp_rect b)
{
  int tw = a.w * 15 / 100 > 2 ? a.w * 15 / 100 : 2;
  int th = a.h * 15 / 100 > 2 ? a.h * 15 / 100 : 2;
  return abs(a.w - b.w) > tw || abs(a.h - b.h) > th;
}

/* Does box touch a changed cell? */
static int touches_changed(fp_rect b, const uint8_t *changed, int cols, int rows)
{
  if (!changed || b.w <= 0 || b.h <= 0)
    return 0;
  int c0 = b.x < 0 ? 0 : b.x / FP_CELL, r0 = b.y < 0 ? 0 : b.y / FP_CELL;
  int c1 = (b.x + b.w - 1) / FP_CELL, r1 = (b.y + b.h - 1) / FP_CELL;
  for (int r = r0; r <= r1 && r < rows; r++)
    for (int c = c0; c <= c1 && c < cols; c++)
      if (changed[r * cols + c])
        return 1;
  return 0;
}

/* Is at least half of box under cells the robot's own input changed in rec? A word there
 * changed from step to step of this recording (a display answering the last sum): data. */
static int under_robot(fp_rect b, const fp_fingerprint *rec)
{
  long area = (long)b.w * b.h, under = 0;
  for (int y = b.y; y < b.y + b.h; y++)
    for (int x = b.x; x < b.x + b.w; x++)
      for (int i = 0; i < rec->n_masks; i++) {
        fp_rect r = rec->masks[i].r;
        if (rec->masks[i].source == FP_MASK_ROBOT && x >= r.x && x < r.x + r.w && y >= r.y &&
            y < r.y + r.h) {
          under++;
          break;
        }
      }
  return area > 0 && under * 2 >= area;
}

static const char *noun(fp_word_kind k)
{
  return k == FP_WORD_BUTTON ? "button" : k == FP_WORD_ENTRY ? "entry" : "label";
}

/* One window: *out is the merged window, or NULL with reasons in v. */
static int merge_window(const fp_fingerprint *base, const fp_fingerprint *rec,
                        const fp_options *opt, fp_fingerprint **out, fp_verdict *v)
{
  *out = NULL;
  int rc = FP_OK;
  uint8_t *changed = NULL, *keep = NULL;

  if (base->role == FP_WIN_TARGET && base->win_class && rec->win_class &&
      strcmp(base->win_class, rec->win_class)) {
    v->class_changed = 1;
    fp__verdict_reason(v, "window class '%s' -> '%s'", base->win_class, rec->win_class);
  }
  if (base->width != rec->width || base->height != rec->height) {
    v->size_changed = 1;
    fp__verdict_reason(v, "%s size %dx%d -> %dx%d",
                       base->role == FP_WIN_POPUP ? "pop-up" : "window", base->width, base->height,
                       rec->width, rec->height);
  }

  /* cells */
  if (!v->size_changed) {
    size_t ncell = (size_t)base->cols * base->rows;
    uint8_t *learned = calloc(ncell + 1, 1);
    changed = calloc(ncell + 1, 1);
    if (!learned || !changed) {
      free(learned);
      rc = FP_ERR_NOMEM;
      goto out;
    }
    for (size_t i = 0; i < ncell; i++)
      learned[i] = base->learned[i] || (rec->learned && rec->learned[i]);
    rc = fp__compare_cells(base->image, rec->image, learned, base->masks, base->n_masks, rec->masks,
                           rec->n_masks, base->anchors, base->n_anchors, opt, changed, NULL, v);
    free(learned);
    if (rc)
      goto out;
    if (v->cells_changed &&
        (rc = fp__cells_to_rects(changed, base->cols, base->rows, base->width, base->height, v)))
      goto out;
    if (v->cells_checked > 0 && v->cells_changed > opt->max_learn_fraction * v->cells_checked)
      fp__verdict_reason(v, "%d of %d cells changed (%.0f%%): more than data", v->cells_changed,
                         v->cells_checked, 100.0 * v->cells_changed / v->cells_checked);
  }

  /* anchors: keep those at the same place in both, or whose pixels did not
     * change (OCR varies, pixels do not); a label that moved, now reads
     * differently or is gone where its pixels changed is a vendor change,
     * not data: merging would learn its cells and stop watching it */
  keep = calloc((size_t)base->n_anchors + 1, 1);
  if (!keep) {
    rc = FP_ERR_NOMEM;
    goto out;
  }
  int sized = 0, seen = 0; /* anchors found again, for the font test */
  for (int a = 0; a < base->n_anchors; a++) {
    const fp_word *an = &base->anchors[a];
    int here = -1, elsewhere = -1, over = -1;
    for (int i = 0; i < rec->n_anchors; i++) {
      if (strcmp(rec->anchors[i].text, an->text)) {
        if (over < 0 && fp__rect_intersects(rec->anchors[i].box, an->box))
          over = i;
        continue;
      }
      if (same_place(rec->anchors[i].box, an->box, opt->pos_tolerance)) {
        here = i;
        break;
      }
      int claimed = 0; /* the same word where another recorded one stands */
      for (int b = 0; b < base->n_anchors && !claimed; b++)
        claimed = b != a && !strcmp(base->anchors[b].text, an->text) &&
                  same_place(rec->anchors[i].box, base->anchors[b].box, opt->pos_tolerance);
      if (elsewhere < 0 && !claimed)
        elsewhere = i;
    }
    int touched = touches_changed(an->box, changed, base->cols, base->rows);
    if (here < 0 && under_robot(an->box, rec))
      continue; /* dropped: data the robot changed, learned below */
    if (here >= 0) {
      keep[a] = 1;
      seen++;
      if (box_size_differs(an->box, rec->anchors[here].box))
        sized++;
    } else if (!v->size_changed && !touched) {
      keep[a] = 1; /* same pixels: read differently this time */
    } else if (elsewhere >= 0) {
      v->anchors_moved++;
      seen++;
      if (box_size_differs(an->box, rec->anchors[elsewhere].box))
        sized++;
      fp__verdict_reason(v, "%s '%s' moved from (%d,%d) to (%d,%d)", noun(an->kind), an->text,
                         an->box.x, an->box.y, rec->anchors[elsewhere].box.x,
                         rec->anchors[elsewhere].box.y);
    } else if (over >= 0) {
      v->anchors_renamed++;
      fp__verdict_reason(v, "%s '%s' now reads '%s' at (%d,%d)", noun(an->kind), an->text,
                         rec->anchors[over].text, rec->anchors[over].box.x,
                         rec->anchors[over].box.y);
    } else {
      v->anchors_missing++;
      fp__verdict_reason(v, "%s '%s' not found (was at (%d,%d))", noun(an->kind), an->text,
                         an->box.x, an->box.y);
    }
  }
  if (sized >= 2 && sized * 2 >= seen)
    fp__verdict_reason(v, "font changed (label boxes changed size)");

  if (v->n_reasons > 0) {
    v->match = 0;
    goto out;
  }
  fp_fingerprint *m = clone_fp(base);
  if (!m) {
    rc = FP_ERR_NOMEM;
    goto out;
  }
  size_t ncell = (size_t)m->cols * m->rows;
  for (size_t i = 0; i < ncell; i++)
    if (changed[i] || (rec->learned && rec->learned[i]))
      m->learned[i] = 1;
  /* a word that changed in part (a clock's seconds) is volatile as a
     * whole: learn the cells of every word box touching a changed cell */
  for (int pass = 0; pass < 2; pass++) {
    const fp_word *ws = pass ? rec->anchors : base->anchors;
    int nw = pass ? rec->n_anchors : base->n_anchors;
    for (int i = 0; i < nw; i++) {
      int same = 0; /* the word reads the same in both: a label */
      if (!pass)
        same = keep[i];
      for (int a = 0; pass && a < base->n_anchors && !same; a++)
        same = keep[a] && !strcmp(base->anchors[a].text, ws[i].text) &&
               same_place(base->anchors[a].box, ws[i].box, opt->pos_tolerance);
      if (same)
        continue;
      for (int k = 0; k < v->n_changed; k++)
        if (fp__rect_intersects(ws[i].box, v->changed[k])) {
          fp_learn_rect(m, ws[i].box);
          break;
        }
    }
  }
  /* drop anchors not in every recording */
  int n = 0;
  for (int a = 0; a < m->n_anchors; a++) {
    if (keep[a])
      m->anchors[n++] = m->anchors[a];
    else
      free(m->anchors[a].text);
  }
  m->n_anchors = n;
  /* union of declared/typed/robot/occluded masks */
  if (rec->n_masks > 0) {
    fp_mask *nm = realloc(m->masks, (size_t)(m->n_masks + rec->n_masks) * sizeof *nm);
    if (!nm) {
      fp_fingerprint_free(m);
      rc = FP_ERR_NOMEM;
      goto out;
    }
    m->masks = nm;
    for (int i = 0; i < rec->n_masks; i++) {
      int dup = 0;
      for (int j = 0; j < m->n_masks && !dup; j++)
        dup = !memcmp(&m->masks[j].r, &rec->masks[i].r, sizeof(fp_rect)) &&
              m->masks[j].source == rec->masks[i].source;
      if (!dup)
        m->masks[m->n_masks++] = rec->masks[i];
    }
  }
  m->recordings = base->recordings + (rec->recordings > 0 ? rec->recordings : 1);
  *out = m;
  v->match = 1;
out:
  free(changed);
  free(keep);
  return rc;
}

static fp__winkey key_of(const fp_fingerprint *f)
{
  return (fp__winkey){f->role, f->win_class, f->win_name, f->x,
                      f->y,    f->width,     f->height,   f->front};
}

int fp_merge(const fp_fingerprint *base, const fp_fingerprint *rec, const fp_options *opt,
             fp_fingerprint **out, fp_verdict *refusal)
{
  fp_options defo;
  fp_verdict local;
  if (!opt) {
    fp_options_default(&defo);
    opt = &defo;
  }
  fp_verdict *v = refusal ? refusal : &local;
  memset(v, 0, sizeof *v);
  if (!out || !base || !rec || !base->image || !rec->image)
    return FP_ERR_ARG;
  *out = NULL;
  int nb = base->n_layers, nr = rec->n_layers;
  fp__winkey *bk = calloc((size_t)nb + 1, sizeof *bk), *rk = calloc((size_t)nr + 1, sizeof *rk);
  int *bm = calloc((size_t)nb + 1, sizeof *bm), *rm = calloc((size_t)nr + 1, sizeof *rm);
  fp_fingerprint **layers = calloc((size_t)nb + 1, sizeof *layers);
  fp_fingerprint *m = NULL;
  int rc = FP_OK;
  if (!bk || !rk || !bm || !rm || !layers) {
    rc = FP_ERR_NOMEM;
    goto out;
  }
  for (int i = 0; i < nb; i++)
    bk[i] = key_of(base->layers[i]);
  for (int j = 0; j < nr; j++)
    rk[j] = key_of(rec->layers[j]);
  fp__match_layers(bk, nb, rk, nr, bm, rm);
  char label[512];
  for (int j = 0; j < nr; j++)
    if (rm[j] < 0) {
      v->windows_new++;
      fp_layer_label(rk[j].role, rk[j].cls, fp__static_title(base, rk[j].name), rk[j].x, rk[j].y,
                     label, sizeof label);
      fp__verdict_rect(v, (fp_rect){rk[j].x, rk[j].y, rk[j].w, rk[j].h});
      fp__verdict_reason(v, "new %s%s, %dx%d", label, rk[j].front ? " in front" : "", rk[j].w,
                         rk[j].h);
    }
  for (int i = 0; i < nb; i++) {
    fp_layer_label(bk[i].role, bk[i].cls, bk[i].name, bk[i].x, bk[i].y, label, sizeof label);
    int j = bm[i];
    if (j < 0) {
      v->windows_missing++;
      fp__verdict_reason(v, "%s %dx%d gone", label, bk[i].w, bk[i].h);
      continue;
    }
    if (bk[i].role == FP_WIN_POPUP &&
        !same_place((fp_rect){bk[i].x, bk[i].y, 1, 1}, (fp_rect){rk[j].x, rk[j].y, 1, 1},
                    opt->pos_tolerance)) {
      v->windows_moved++;
      fp__verdict_reason(v, "%s: placed at (%d,%d) this time", label, rk[j].x, rk[j].y);
    }
    fp_verdict sub;
    memset(&sub, 0, sizeof sub);
    rc = merge_window(base->layers[i], rec->layers[j], opt, &layers[i], &sub);
    if (!rc)
      rc = fp__verdict_absorb(v, &sub, label, rk[j].x, rk[j].y);
    fp_verdict_free(&sub);
    if (rc)
      goto out;
  }
  fp_verdict target;
  memset(&target, 0, sizeof target);
  rc = merge_window(base, rec, opt, &m, &target);
  if (!rc)
    rc = fp__verdict_absorb(v, &target, "", 0, 0);
  v->size_changed = target.size_changed;
  v->class_changed = target.class_changed;
  fp_verdict_free(&target);
  if (rc)
    goto out;
  if (v->n_reasons > 0 || !m) {
    v->match = 0;
    rc = FP_ERR_REFUSED;
    goto out;
  }
  m->layers = layers;
  m->n_layers = nb;
  layers = NULL;
  if (rec->key && (!m->key || strcmp(m->key, rec->key))) {
    free(m->key);
    m->key = fp__strdup(rec->key);
  }
  *out = m;
  m = NULL;
  v->match = 1;
out:
  for (int i = 0; layers && i < nb; i++)
    fp_fingerprint_free(layers[i]);
  free(layers);
  fp_fingerprint_free(m);
  free(bk);
  free(rk);
  free(bm);
  free(rm);
  if (!refusal)
    fp_verdict_free(&local);
  else if (rc != FP_ERR_REFUSED && rc != FP_OK)
    fp_verdict_free(v);
  return rc;
}
