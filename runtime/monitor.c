#include "monitor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fp.h"
#include "runfolder.h"
#include "xio/capture.h"
#include "xwin.h"

/* A mismatch must persist this long before the run halts: the app may still be drawing. */
#define GRACE_SECS 1.2
#define GRACE_POLL 0.15
/* Text typed by the robot changes at most a few text lines: taller changes are not masked. */
#define TYPED_MAX_H 48

typedef struct {
  Window win;
  rt_rect r;
  fp_mask_source src;
} wmask;

struct rt_monitor {
  rt_guard guard;
  char *dir;
  bool record, replace;
  fp_options opt;
  wmask *masks;
  int nmasks, cmasks;
  char **seen;           /* keys recorded in this run (for --replace) */
  int nseen;
  /* The last type action: its window, the screen before it and the click that chose the
   * field, so the next step can mask exactly what the robot typed. */
  Window typed_win;
  PIX *typed_before;
  int click_x, click_y;
  Window click_win;
  /* Baseline entries already loaded in this run: a loop judges the same keys again and
   * again, and decoding a reference PNG costs far more than comparing against it. */
  fp_fingerprint **cache;
  int ncache;
  char **reasons;
  int nreasons;
  char ev[3][96];
  int nstep;
  int recorded, merged, matched;
};

static void add_mask(rt_monitor *m, Window w, rt_rect r, fp_mask_source src)
{
  if (r.w <= 0 || r.h <= 0)
    return;
  if (m->nmasks == m->cmasks) {
    int c = m->cmasks ? m->cmasks * 2 : 16;
    wmask *n = realloc(m->masks, (size_t)c * sizeof *n);
    if (!n)
      return;
    m->masks = n;
    m->cmasks = c;
  }
  m->masks[m->nmasks++] = (wmask){w, r, src};
}

void rt_monitor_ignore(rt_monitor *m, Window w, rt_rect r)
{
  add_mask(m, w, r, FP_MASK_DECLARED);
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

static void keep_reasons(rt_monitor *m, const fp_verdict *v, const char *prefix)
{
  clear_reasons(m);
  m->reasons = calloc((size_t)v->n_reasons + 1, sizeof *m->reasons);
  if (!m->reasons)
    return;
  for (int i = 0; i < v->n_reasons; i++) {
    size_t n = strlen(prefix) + strlen(v->reasons[i]) + 1;
    char *s = malloc(n);
    if (s)
      snprintf(s, n, "%s%s", prefix, v->reasons[i]);
    if (s)
      m->reasons[m->nreasons++] = s;
  }
}

static void one_reason(rt_monitor *m, const char *text)
{
  clear_reasons(m);
  m->reasons = calloc(1, sizeof *m->reasons);
  if (m->reasons && (m->reasons[0] = strdup(text)))
    m->nreasons = 1;
}

/* Cells (16 px) where two same-sized captures differ, grouped into connected boxes. The
 * boxes of text-line height around the clicked field become typed masks. */
static void typed_regions(rt_monitor *m, PIX *before, PIX *after)
{
  int w = (int)pixGetWidth(after), h = (int)pixGetHeight(after);
  if ((int)pixGetWidth(before) != w || (int)pixGetHeight(before) != h)
    return;
  int cols = (w + 15) / 16, rows = (h + 15) / 16;
  unsigned char *ch = calloc((size_t)cols * rows, 1);
  int *stack = malloc(sizeof(int) * (size_t)cols * rows);
  if (!ch || !stack) {
    free(ch);
    free(stack);
    return;
  }
  l_uint32 *a = pixGetData(before), *b = pixGetData(after);
  int wpl = pixGetWpl(after);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if ((a[y * wpl + x] ^ b[y * wpl + x]) & 0xffffff00)
        ch[(y / 16) * cols + x / 16] = 1;
  for (int i = 0; i < cols * rows; i++) {
    if (ch[i] != 1)
      continue;
    int x0 = cols, y0 = rows, x1 = -1, y1 = -1, sp = 0;
    stack[sp++] = i;
    ch[i] = 2;
    while (sp) {
      int c = stack[--sp], cx = c % cols, cy = c / cols;
      if (cx < x0) x0 = cx;
      if (cx > x1) x1 = cx;
      if (cy < y0) y0 = cy;
      if (cy > y1) y1 = cy;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int nx = cx + dx, ny = cy + dy;
          if (nx >= 0 && ny >= 0 && nx < cols && ny < rows && ch[ny * cols + nx] == 1) {
            ch[ny * cols + nx] = 2;
            stack[sp++] = ny * cols + nx;
          }
        }
    }
    rt_rect r = {x0 * 16, y0 * 16, (x1 - x0 + 1) * 16, (y1 - y0 + 1) * 16};
    if (r.h > TYPED_MAX_H)
      continue; /* a dialog or a redraw, not typing: never mask it */
    if (m->click_win == m->typed_win &&
        (m->click_y < r.y - 16 || m->click_y >= r.y + r.h + 16))
      continue; /* not on the row of the field the robot clicked */
    add_mask(m, m->typed_win, r, FP_MASK_TYPED);
  }
  free(ch);
  free(stack);
}

/* Text-field interiors. Framed boxes one text line high hold data: a field that another
 * citizen's data fills is not a vendor update. A box whose words sit centred is a button
 * and stays checked (its caption is an anchor); an empty box or one with left-aligned text
 * is a field. Found on the recorded screen, they become learned (volatile) cells. */
typedef struct {
  int y, x0, x1;
} hrun;

static bool is_line_px(l_uint32 p, l_uint32 bg)
{
  int dr = (int)(p >> 24) - (int)(bg >> 24), dg = (int)((p >> 16) & 255) - (int)((bg >> 16) & 255),
      db = (int)((p >> 8) & 255) - (int)((bg >> 8) & 255);
  return dr * dr + dg * dg + db * db > 60 * 60;
}

static int field_masks(PIX *img, const fp_word *words, int nw, fp_mask *out, int max)
{
  int w = (int)pixGetWidth(img), h = (int)pixGetHeight(img), wpl = pixGetWpl(img);
  l_uint32 *d = pixGetData(img);
  l_uint32 bg = d[(h / 2) * wpl + 2]; /* near the left edge: the window's background */
  int cap = 1024, n = 0, found = 0;
  hrun *runs = malloc(sizeof *runs * (size_t)cap);
  for (int y = 0; runs && y < h; y++)
    for (int x = 0; x < w;) {
      if (!is_line_px(d[y * wpl + x], bg)) {
        x++;
        continue;
      }
      int x0 = x;
      while (x < w && is_line_px(d[y * wpl + x], bg) && d[y * wpl + x] == d[y * wpl + x0])
        x++;
      if (x - x0 >= 30 && n < cap)
        runs[n++] = (hrun){y, x0, x - 1};
      if (x == x0)
        x++;
    }
  for (int i = 0; i < n && found < max; i++)
    for (int j = i + 1; j < n && found < max; j++) {
      hrun a = runs[i], b = runs[j];
      int bh = b.y - a.y;
      if (bh < 12 || bh > 48 || abs(a.x0 - b.x0) > 1 || abs(a.x1 - b.x1) > 1)
        continue;
      int edge = 0;
      for (int y = a.y; y <= b.y; y++)
        edge += is_line_px(d[y * wpl + a.x0], bg) && is_line_px(d[y * wpl + a.x1], bg);
      if (edge < (bh + 1) * 9 / 10)
        continue;
      fp_rect in = {a.x0 + 2, a.y + 2, a.x1 - a.x0 - 3, bh - 3};
      /* Words inside: centred means a button caption. */
      int wx0 = w, wx1 = -1;
      for (int k = 0; k < nw; k++) {
        int cx = words[k].box.x + words[k].box.w / 2, cy = words[k].box.y + words[k].box.h / 2;
        if (cx >= in.x && cx < in.x + in.w && cy >= in.y && cy < in.y + in.h) {
          if (words[k].box.x < wx0)
            wx0 = words[k].box.x;
          if (words[k].box.x + words[k].box.w > wx1)
            wx1 = words[k].box.x + words[k].box.w;
        }
      }
      bool button = wx1 >= 0 && abs((wx0 + wx1) / 2 - (in.x + in.w / 2)) <= 4 + in.w / 10 &&
                    wx0 - in.x > 8;
      if (!button)
        out[found++] = (fp_mask){in, FP_MASK_LEARNED};
      break;
    }
  free(runs);
  return found;
}

/* The application's top-level windows, front-most first: same class or same pid. */
static int app_windows(rt_run *run, const rt_winfo *target, fp_window **out)
{
  rt_winfo *all;
  size_t n;
  *out = NULL;
  if (rt_x_toplevels(run->dpy, &all, &n) != 0)
    return 0;
  fp_window *v = calloc(n ? n : 1, sizeof *v);
  int k = 0;
  for (size_t i = n; v && i-- > 0;) {
    const rt_winfo *w = &all[i];
    bool same = (w->res_class && target->res_class && strcmp(w->res_class, target->res_class) == 0) ||
                (w->pid && w->pid == target->pid);
    if (!w->viewable || !same)
      continue;
    v[k].cls = strdup(w->res_class ? w->res_class : "");
    v[k].name = strdup(w->title ? w->title : "");
    v[k].box = (fp_rect){w->x, w->y, w->w, w->h};
    k++;
  }
  rt_winfo_free(all, n);
  free(all);
  *out = v;
  return k;
}

static void free_windows(fp_window *w, int n)
{
  for (int i = 0; i < n; i++) {
    free(w[i].cls);
    free(w[i].name);
  }
  free(w);
}

/* The masks that apply to this step: declared and typed for this window, and the
 * action's own ignore = {...}. */
static int step_masks(rt_monitor *m, const rt_stepinfo *s, fp_mask **out)
{
  int n = 0;
  fp_mask *v = calloc((size_t)m->nmasks + (size_t)s->action->nignore + 1, sizeof *v);
  for (int i = 0; v && i < m->nmasks; i++)
    if (m->masks[i].win == s->win->id) {
      rt_rect r = m->masks[i].r;
      v[n++] = (fp_mask){{r.x, r.y, r.w, r.h}, m->masks[i].src};
    }
  for (int i = 0; v && i < s->action->nignore; i++) {
    rt_rect r = s->action->ignore[i];
    v[n++] = (fp_mask){{r.x, r.y, r.w, r.h}, FP_MASK_DECLARED};
  }
  *out = v;
  return n;
}

fp_word *rt_monitor_words(struct rt_ocr *o, PIX *img, int *n, char *err, size_t errlen)
{
  *n = -1;
  rt_ocr_result res;
  if (rt_ocr_words(o, img, NULL, &res, err, errlen) != RT_OCR_OK)
    return NULL;
  fp_word *w = calloc(res.n ? res.n : 1, sizeof *w);
  for (size_t i = 0; w && i < res.n; i++) {
    w[i].text = res.words[i].text; /* take ownership */
    res.words[i].text = NULL;
    w[i].box = (fp_rect){res.words[i].box.x, res.words[i].box.y, res.words[i].box.w,
                         res.words[i].box.h};
    w[i].conf = res.words[i].conf;
  }
  *n = w ? (int)res.n : -1;
  rt_ocr_result_free(&res);
  return w;
}

/* OCR words of img as fp words; *n = -1 when OCR is not available (err says why). */
static fp_word *ocr_words(rt_run *run, PIX *img, int *n, char *err, size_t errlen)
{
  *n = -1;
  rt_ocr *o = rt_ocr_get(run, err, errlen);
  return o ? rt_monitor_words(o, img, n, err, errlen) : NULL;
}

void rt_monitor_words_free(fp_word *w, int n)
{
  for (int i = 0; i < n; i++)
    free(w[i].text);
  free(w);
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

static void save_png(rt_run *run, rt_monitor *m, int k, const char *what, PIX *p)
{
  if (!p || !run->run_dir)
    return;
  snprintf(m->ev[k], sizeof m->ev[k], "evidence/step-%03d-%s.png", m->nstep, what);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", run->run_dir, m->ev[k]);
  if (pixWrite(path, p, IFF_PNG) != 0)
    m->ev[k][0] = '\0';
}

static void write_alert(rt_run *run, rt_monitor *m, const rt_stepinfo *s, const fp_input *in)
{
  if (!run->run_dir)
    return;
  cJSON *a = cJSON_CreateObject();
  char now[40];
  rt_rfc3339(now, sizeof now);
  cJSON_AddStringToObject(a, "status", "drift");
  cJSON_AddNumberToObject(a, "exit_code", RT_EXIT_DRIFT);
  cJSON_AddStringToObject(a, "script", run->script);
  cJSON_AddStringToObject(a, "baseline", m->dir);
  cJSON *st = cJSON_AddObjectToObject(a, "step");
  cJSON_AddStringToObject(st, "key", s->key);
  cJSON_AddStringToObject(st, "action", s->kind);
  if (s->name)
    cJSON_AddStringToObject(st, "name", s->name);
  if (s->file)
    cJSON_AddStringToObject(st, "file", s->file);
  cJSON_AddNumberToObject(st, "line", s->line);
  cJSON_AddStringToObject(st, "window_class", s->win->res_class ? s->win->res_class : "");
  cJSON *r = cJSON_AddArrayToObject(a, "reasons");
  for (int i = 0; i < m->nreasons; i++)
    cJSON_AddItemToArray(r, cJSON_CreateString(m->reasons[i]));
  cJSON_AddStringToObject(a, "time", now);
  cJSON_AddStringToObject(a, "run", run->run_dir);
  char report[4096];
  snprintf(report, sizeof report, "%s/report.html", run->run_dir);
  cJSON_AddStringToObject(a, "report", report);
  /* What `vagt approve` needs to turn today's screen into the baseline entry. */
  cJSON *wins = cJSON_AddArrayToObject(a, "windows");
  for (int i = 0; i < in->n_windows; i++) {
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "class", in->windows[i].cls ? in->windows[i].cls : "");
    cJSON_AddStringToObject(w, "name", in->windows[i].name ? in->windows[i].name : "");
    cJSON_AddNumberToObject(w, "x", in->windows[i].box.x);
    cJSON_AddNumberToObject(w, "y", in->windows[i].box.y);
    cJSON_AddNumberToObject(w, "w", in->windows[i].box.w);
    cJSON_AddNumberToObject(w, "h", in->windows[i].box.h);
    cJSON_AddItemToArray(wins, w);
  }
  cJSON *masks = cJSON_AddArrayToObject(a, "masks");
  for (int i = 0; i < in->n_masks; i++) {
    if (in->masks[i].source != FP_MASK_DECLARED)
      continue; /* typed regions belong to this run's data, not to the baseline */
    cJSON *mk = cJSON_CreateObject();
    cJSON_AddNumberToObject(mk, "x", in->masks[i].r.x);
    cJSON_AddNumberToObject(mk, "y", in->masks[i].r.y);
    cJSON_AddNumberToObject(mk, "w", in->masks[i].r.w);
    cJSON_AddNumberToObject(mk, "h", in->masks[i].r.h);
    cJSON_AddItemToArray(masks, mk);
  }
  cJSON *ev = cJSON_AddObjectToObject(a, "evidence");
  static const char *const names[3] = {"recorded", "current", "diff"};
  for (int k = 0; k < 3; k++)
    if (m->ev[k][0])
      cJSON_AddStringToObject(ev, names[k], m->ev[k]);
  char *text = cJSON_Print(a);
  char err[512];
  if (text && rt_write_file_atomic(run->run_dir, "alert.json", text, strlen(text), err,
                                   sizeof err) != 0)
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

static rt_guard_verdict halt(rt_run *run, rt_monitor *m, const rt_stepinfo *s,
                             const fp_input *in, rt_guard_out *out, PIX *recorded,
                             PIX *current, const fp_verdict *v)
{
  save_png(run, m, 0, "recorded", recorded);
  save_png(run, m, 1, "current", current);
  if (recorded && current && v) {
    PIX *d = fp_diff_image(recorded, current, v);
    save_png(run, m, 2, "diff", d);
    pixDestroy(&d);
  }
  write_alert(run, m, s, in);
  fill_out(m, out, "drift");
  return RT_GUARD_HALT;
}

static rt_guard_verdict do_record(rt_run *run, rt_monitor *m, const rt_stepinfo *s, PIX *img,
                                  fp_input *in, rt_guard_out *out)
{
  char err[1024];
  int nw;
  fp_word *words = ocr_words(run, img, &nw, err, sizeof err);
  if (nw < 0) {
    rt_run_abort(run, RT_ABORT_DISPLAY, "cannot record fingerprints: OCR: %s", err);
    snprintf(out->reason, sizeof out->reason, "OCR: %.1000s", err);
    return RT_GUARD_ERROR;
  }
  in->words = words;
  in->n_words = nw;
  in->has_words = 1;
  /* The step's masks plus the text-field interiors of this screen. */
  fp_mask *all = calloc((size_t)in->n_masks + 64, sizeof *all);
  const fp_mask *given = in->masks;
  int ngiven = in->n_masks;
  if (all) {
    memcpy(all, given, (size_t)ngiven * sizeof *all);
    in->n_masks = ngiven + field_masks(img, words, nw, all + ngiven, 64);
    in->masks = all;
  }
  fp_fingerprint *fp = NULL;
  int rc = fp_compute(in, s->key, &m->opt, &fp);
  in->masks = given;
  in->n_masks = ngiven;
  free(all);
  if (rc != FP_OK) {
    rt_monitor_words_free(words, nw);
    in->words = NULL;
    snprintf(out->reason, sizeof out->reason, "cannot compute the fingerprint (error %d)", rc);
    return RT_GUARD_ERROR;
  }
  fp_error e = {0};
  fp_verdict why = {0};
  fp_fingerprint *old = NULL; /* the stored entry, loaded once: for merging and evidence */
  if (m->replace && !seen_key(m, s->key)) {
    rc = fp_store_save(m->dir, fp, &e);
    m->recorded++;
    out->verdict = "recorded";
  } else {
    seen_key(m, s->key);
    bool existed = fp_store_load(m->dir, s->key, &old, &e) == FP_OK;
    memset(&e, 0, sizeof e);
    /* A label that now reads differently (or is gone) where its pixels changed is a vendor
     * change, not data: merging would learn its cells and stop watching it. Fields and
     * declared regions are masked, so what is left here is the application's own text. */
    if (existed && fp_compare(old, in, &m->opt, &why) == FP_OK &&
        (why.anchors_renamed > 0 || why.anchors_missing > 0)) {
      rc = FP_ERR_REFUSED;
    } else {
      fp_verdict_free(&why);
      memset(&why, 0, sizeof why);
      rc = fp_store_record(m->dir, fp, &m->opt, &why, &e);
      if (existed)
        m->merged++;
      else
        m->recorded++;
      out->verdict = existed ? "merged" : "recorded";
    }
  }
  rt_monitor_words_free(words, nw);
  in->words = NULL;
  fp_fingerprint_free(fp);
  rt_guard_verdict g = RT_GUARD_GO;
  if (rc == FP_ERR_REFUSED) {
    /* Show what differs from the stored baseline, as for a drift. */
    keep_reasons(m, &why, "recording refused: ");
    g = halt(run, m, s, in, out, old ? old->image : NULL, img, &why);
  } else if (rc != FP_OK) {
    rt_run_abort(run, RT_ABORT_CONFIG, "baseline %s: %s", m->dir, e.message);
    snprintf(out->reason, sizeof out->reason, "%s", e.message);
    g = RT_GUARD_ERROR;
  }
  fp_verdict_free(&why);
  fp_fingerprint_free(old);
  return g;
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

static rt_guard_verdict do_judge(rt_run *run, rt_monitor *m, const rt_stepinfo *s, PIX *img,
                                 fp_input *in, rt_guard_out *out)
{
  fp_fingerprint *base = NULL;
  fp_error e = {0};
  int rc = load_cached(m, s->key, &base, &e);
  if (rc == FP_ERR_NOTFOUND) {
    char msg[1200];
    snprintf(msg, sizeof msg, "no baseline for step '%s' in %s (record it first: vagt record)",
             s->key, m->dir);
    one_reason(m, msg);
    return halt(run, m, s, in, out, NULL, img, NULL);
  }
  if (rc != FP_OK) {
    rt_run_abort(run, RT_ABORT_CONFIG, "%s", e.message);
    snprintf(out->reason, sizeof out->reason, "%s", e.message);
    return RT_GUARD_ERROR;
  }
  fp_verdict v = {0};
  rc = fp_compare(base, in, &m->opt, &v);
  PIX *cur = pixClone(img);
  double until = rt_now() + GRACE_SECS;
  char err[1024];
  /* A mismatch may be the app still drawing: look again for a moment before halting. */
  while (rc == FP_OK && !v.match && rt_now() < until && !run->abort) {
    rt_sleep(run, GRACE_POLL);
    PIX *again = rt_capture_window(run->capture, s->win->id, err, sizeof err);
    if (!again)
      break;
    pixDestroy(&cur);
    cur = again;
    in->image = cur;
    fp_verdict_free(&v);
    rc = fp_compare(base, in, &m->opt, &v);
  }
  if (rc != FP_OK) {
    snprintf(out->reason, sizeof out->reason, "fingerprint comparison failed (error %d)", rc);
    fp_verdict_free(&v);
    pixDestroy(&cur);
    return RT_GUARD_ERROR;
  }
  if (v.match) {
    m->matched++;
    fp_verdict_free(&v);
    pixDestroy(&cur);
    out->verdict = "match";
    return RT_GUARD_GO;
  }
  /* Explain it: full OCR of today's window against the recorded anchors. */
  int nw;
  fp_word *words = ocr_words(run, cur, &nw, err, sizeof err);
  if (nw >= 0) {
    in->words = words;
    in->n_words = nw;
    in->has_words = 1;
    fp_verdict v2 = {0};
    if (fp_compare(base, in, &m->opt, &v2) == FP_OK && !v2.match) {
      fp_verdict_free(&v);
      v = v2;
    } else {
      fp_verdict_free(&v2);
    }
    rt_monitor_words_free(words, nw);
    in->words = NULL;
  }
  keep_reasons(m, &v, "");
  if (m->nreasons == 0)
    one_reason(m, "the window differs from the recorded one");
  rt_guard_verdict g = halt(run, m, s, in, out, base->image, cur, &v);
  fp_verdict_free(&v);
  pixDestroy(&cur);
  return g;
}

static rt_guard_verdict check(void *ud, rt_run *run, const rt_stepinfo *s, PIX *img,
                              rt_guard_out *out)
{
  rt_monitor *m = ud;
  m->nstep++;
  for (int k = 0; k < 3; k++)
    m->ev[k][0] = '\0';
  clear_reasons(m);
  if (m->typed_before) {
    if (m->typed_win == s->win->id)
      typed_regions(m, m->typed_before, img);
    pixDestroy(&m->typed_before);
  }
  fp_window *wins;
  int nwins = app_windows(run, s->win, &wins);
  fp_mask *masks;
  int nmasks = step_masks(m, s, &masks);
  fp_input in = {.image = img, .win_class = s->win->res_class ? s->win->res_class : "",
                 .windows = wins, .n_windows = nwins, .masks = masks, .n_masks = nmasks};
  rt_guard_verdict g = m->record ? do_record(run, m, s, img, &in, out)
                                 : do_judge(run, m, s, img, &in, out);
  free_windows(wins, nwins);
  free(masks);
  if (g == RT_GUARD_GO && strcmp(s->kind, "type") == 0) {
    m->typed_win = s->win->id;
    m->typed_before = pixClone(img);
  }
  if (g != RT_GUARD_HALT)
    fill_out(m, out, out->verdict ? out->verdict : "match");
  return g;
}

static void after(void *ud, rt_run *run, const rt_stepinfo *s, int rc)
{
  (void)run;
  rt_monitor *m = ud;
  if (rc == 0 && strcmp(s->kind, "click") == 0) {
    m->click_win = s->win->id;
    m->click_x = s->action->x;
    m->click_y = s->action->y;
  }
  if (rc != 0)
    pixDestroy(&m->typed_before);
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
  m->guard = (rt_guard){check, after, m};
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
  clear_reasons(m);
  for (int i = 0; i < m->ncache; i++)
    fp_fingerprint_free(m->cache[i]);
  free(m->cache);
  for (int i = 0; i < m->nseen; i++)
    free(m->seen[i]);
  free(m->seen);
  free(m->masks);
  pixDestroy(&m->typed_before);
  free(m->dir);
  free(m);
}
