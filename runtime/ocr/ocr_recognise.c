/* Recognition in the rt_ocr engine: Tesseract on each blob alone, unsure words read
 * again in the next language or larger, find's cheaper screening look, and the worker
 * threads that share the blobs of one call. */
#include "rt_ocr.h"
#include "ocr_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int centry_add(centry *e, size_t *cap, const char *text, rt_ocr_box box, float conf,
                      int tline)
{
  if ((size_t)e->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    cword *nw = realloc(e->w, nc * sizeof *nw);
    if (!nw)
      return -1;
    e->w = nw;
    *cap = nc;
  }
  cword *cw = &e->w[e->n];
  cw->text = strdup(text);
  if (!cw->text)
    return -1;
  cw->box = box;
  cw->conf = conf < 0 ? 0 : conf;
  cw->tline = tline;
  cw->tried = 0;
  e->n++;
  return 0;
}

/* Recognise one blob on its own: its image with a white margin, one
 * Tesseract call. Each blob alone, never stacked with others: in a shared
 * image Tesseract's row statistics (x-height, ascenders, descenders: they
 * decide how a line is cropped and scaled for the LSTM) and its threshold mix
 * the blobs, so the reading of an unchanged label depended on what else was
 * read with it ("Bemærkninz", "havn"). Alone it is also faster: no layout
 * analysis of a tall image. Fills p->e with blob-relative words. */
static void recognise_blob(rt_ocr *o, TessBaseAPI *api, pending *p, int deadline_ms)
{
  int iw = pixGetWidth(p->img), ih = pixGetHeight(p->img);
  PIX *m = pixAddBorder(p->img, PAD, 255);
  if (!m)
    return;
  TessBaseAPISetImage2(api, m);
  TessBaseAPISetSourceResolution(api, 300);
  /* one line: PSM_SINGLE_LINE (a block's layout analysis drops a short word
   * such as "Run" as noise) */
  TessBaseAPISetPageSegMode(api, p->psm ? (TessPageSegMode)p->psm : PSM_SINGLE_LINE);
  ETEXT_DESC *mon = TessMonitorCreate();
  if (mon)
    TessMonitorSetDeadlineMSecs(mon, deadline_ms);
  int rc = TessBaseAPIRecognize(api, mon);
  if (mon)
    TessMonitorDelete(mon);
  __atomic_add_fetch(&o->st.recognitions, 1, __ATOMIC_RELAXED);
  p->e->timed_out = rc != 0; /* cancelled by the monitor: some lines were not read */
  size_t cap = 0;
  TessResultIterator *it = TessBaseAPIGetIterator(api);
  int tline = -1;
  if (it && p->psm == PSM_SINGLE_CHAR) { /* a lone mark: its symbol, the blob's box */
    char *t = rc == 0 ? TessResultIteratorGetUTF8Text(it, RIL_SYMBOL) : NULL;
    float conf = TessResultIteratorConfidence(it, RIL_SYMBOL);
    if (t && *t && conf >= 50) {
      t[strcspn(t, " \n")] = 0;
      if (*t)
        centry_add(p->e, &cap, t,
                   (rt_ocr_box){0, 0, (int)(iw / p->xscale + 0.5f), (int)(ih / p->scale + 0.5f)},
                   conf, 0);
    }
    if (t)
      TessDeleteText(t);
    TessResultIteratorDelete(it);
    it = NULL;
  }
  if (it) {
    TessPageIterator *pi = TessResultIteratorGetPageIterator(it);
    do {
      if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE))
        tline++;
      int l, t, r, b;
      if (!TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &t, &r, &b))
        continue;
      char *txt = TessResultIteratorGetUTF8Text(it, RIL_WORD);
      if (!txt)
        continue;
      char *a = txt;
      while (*a == ' ')
        a++;
      size_t len = strlen(a);
      while (len && (a[len - 1] == ' ' || a[len - 1] == '\n'))
        a[--len] = 0;
      if (len) {
        float s = p->scale, sx = p->xscale;
        int x0 = (int)((l - PAD) / sx), y0 = (int)((t - PAD) / s);
        int x1 = (int)((r - PAD) / sx + 0.999f), y1 = (int)((b - PAD) / s + 0.999f);
        int bw = (int)(iw / sx + 0.5f), bh = (int)(ih / s + 0.5f);
        if (x0 < 0)
          x0 = 0;
        if (y0 < 0)
          y0 = 0;
        if (x1 > bw)
          x1 = bw;
        if (y1 > bh)
          y1 = bh;
        if (x1 <= x0)
          x1 = x0 + 1;
        if (y1 <= y0)
          y1 = y0 + 1;
        centry_add(p->e, &cap, a, (rt_ocr_box){x0, y0, x1 - x0, y1 - y0},
                   TessResultIteratorConfidence(it, RIL_WORD), tline);
      }
      TessDeleteText(txt);
    } while (TessResultIteratorNext(it, RIL_WORD));
    TessResultIteratorDelete(it);
  }
  TessBaseAPIClear(api);
  pixDestroy(&m);
}

static double entry_score(const centry *e)
{
  if (!e->n)
    return -1;
  double sum = 0, len = 0;
  for (int i = 0; i < e->n; i++) {
    double l = (double)strlen(e->w[i].text);
    sum += e->w[i].conf * l;
    len += l;
  }
  return len > 0 ? sum / len : -1;
}

/* Letters in t; with any, every character but spaces (UTF-8 lead bytes). */
static int word_letters(const char *t, int any)
{
  int letters = 0;
  for (const unsigned char *p = (const unsigned char *)t; *p; p++)
    if (isalpha(*p) || *p >= 0xC0 || (any && *p != ' ' && (*p < 0x80 || *p >= 0xC0)))
      letters++;
  return letters;
}

static void replace_word(centry *e, int j, const centry *alt, int dx, int dy)
{
  int n = e->n - 1 + alt->n;
  cword *w = malloc((size_t)(n ? n : 1) * sizeof *w);
  if (!w)
    return;
  int k = 0;
  for (int i = 0; i < e->n; i++) {
    if (i != j) {
      w[k++] = e->w[i];
      continue;
    }
    for (int a = 0; a < alt->n; a++) {
      w[k] = alt->w[a];
      w[k].text = strdup(alt->w[a].text);
      if (!w[k].text)
        continue;
      w[k].box.x += dx;
      w[k].box.y += dy;
      w[k].tline = e->w[j].tline;
      w[k].tried = e->w[j].tried;
      k++;
    }
    free(e->w[i].text);
  }
  free(e->w);
  e->w = w;
  e->n = k;
}

/* One unsure reading of a blob to try again. */
enum { RETRY_WHOLE = -1, RETRY_WHOLE_NOCROP = -2, RETRY_MARK = -3 };
typedef struct {
  int word;   /* index of the word in the blob's entry, or RETRY_* */
  int dx, dy; /* crop offset in the blob, window pixels */
} retry_ref;

/* The readings of blob q to try again in retry pass k: unsure words not yet
 * read again in that pass, a blob that read as nothing, and (pass 0) a lone
 * small mark. With a hint (the phrase find looks for) only words that could
 * be it. Fills ref (room for q->e->n or 1) when given; returns how many. */
static int retry_refs(const pending *q, int k, const char *hint, retry_ref *ref)
{
  const centry *e = q->e;
  if (e->timed_out)
    return 0;
  int iw = pixGetWidth(q->img), ih = pixGetHeight(q->img), m = 0;
  if (e->n == 0) {
    if (e->tried_whole & (1u << k))
      return 0;
    int mark = k == 0 && (int)(iw / q->xscale + 0.5f) <= 14 && (int)(ih / q->scale + 0.5f) <= 16;
    if (mark && hint && strlen(hint) > 3)
      return 0; /* a mark is one character */
    if (!mark && iw < 3 * ih)
      return 0;
    if (ref)
      ref[0] = (retry_ref){mark ? RETRY_MARK : RETRY_WHOLE, 0, 0};
    return 1;
  }
  for (int j = 0; j < e->n; j++) {
    const cword *w = &e->w[j];
    /* without a hint, numbers and marks are not read again (data, mostly); a word that
     * could be the phrase is ("+l1" for the caption "+1": English reads "+1"), lone
     * characters aside (the mark reading and settle_glyphs see to them) */
    if (w->conf >= RETRY_CONF || (w->tried & (1u << k)) || word_letters(w->text, hint != NULL) < 2)
      continue;
    /* a "word" of more than ~25 characters (xfontsel's dash-joined field
     * names) is not a misread label: reading it again costs much and gains
     * little */
    if (w->box.w > RETRY_MAX_W * w->box.h)
      continue;
    if (hint && *hint && !rt_ocr__could_be(w->text, hint))
      continue; /* "": any phrase */
    if (ref)
      ref[m] = (retry_ref){j, 0, 0};
    m++;
  }
  return m;
}

/* Does blob q have readings to try again (any pass)? */
int rt_ocr__retry_due(const rt_ocr *o, const pending *q, const char *hint)
{
  for (int k = 0; k < o->napi; k++)
    if (retry_refs(q, k, hint, NULL))
      return 1;
  return 0;
}

/* Read the unsure parts of blob q again with api (language k) and keep the
 * surer reading: pass 0 in the first language a little larger (RESCALE_PCT:
 * a small screen font reads best at different sizes; the bold xmessage
 * "Bemærkning:" at 32 px, most demo labels better at 28 than at 32), pass k
 * in language k. Only the unsure words are read again (a crop of the blob),
 * not the whole blob; a blob that read as nothing is read whole, and in pass
 * 0 a lone small mark ("-", "=", "." keys) as a single character. */
static void retry_blob(rt_ocr *o, TessBaseAPI *api, pending *q, int k, int deadline,
                       const char *hint)
{
  centry *e = q->e;
  int iw = pixGetWidth(q->img), ih = pixGetHeight(q->img);
  retry_ref *ref = malloc((size_t)(e->n ? e->n : 1) * sizeof *ref);
  if (!ref)
    return;
  int m = retry_refs(q, k, hint, ref);
  if (m && e->n == 0)
    e->tried_whole |= 1u << k;
  for (int r = 0; r < m; r++)
    if (ref[r].word >= 0)
      e->w[ref[r].word].tried |= 1u << k;
  pending *retry = m ? calloc((size_t)m, sizeof *retry) : NULL;
  centry *alt = m ? calloc((size_t)m, sizeof *alt) : NULL;
  if (!retry || !alt) {
    free(retry);
    free(alt);
    free(ref);
    return;
  }
  float f = k == 0 ? RESCALE_PCT / 100.0f : 1.0f;
  for (int r = 0; r < m; r++) {
    retry[r] = *q;
    retry[r].e = &alt[r];
    if (ref[r].word == RETRY_MARK) { /* fills the blob's own entry */
      retry[r].e = e;
      retry[r].psm = PSM_SINGLE_CHAR;
      retry[r].img = pixClone(q->img);
      continue;
    }
    if (ref[r].word < 0) {
      retry[r].img = pixClone(q->img);
    } else {
      retry[r].psm = PSM_SINGLE_LINE;
      /* the word with a margin of about a third of the line height */
      const rt_ocr_box *wb = &e->w[ref[r].word].box;
      int mx = (int)(TARGET_H / 3), my = 3;
      int x0 = (int)(wb->x * q->xscale) - mx, x1 = (int)((wb->x + wb->w) * q->xscale) + mx;
      int y0 = (int)((wb->y - my) * q->scale), y1 = (int)((wb->y + wb->h + my) * q->scale);
      if (x0 < 0)
        x0 = 0;
      if (y0 < 0)
        y0 = 0;
      if (x1 > iw)
        x1 = iw;
      if (y1 > ih)
        y1 = ih;
      /* crop offsets in window pixels, whole pixels so the shift is exact */
      int dx = (int)(x0 / q->xscale), dy = (int)(y0 / q->scale);
      x0 = (int)(dx * q->xscale);
      y0 = (int)(dy * q->scale);
      BOX *bx = boxCreate(x0, y0, x1 - x0 > 0 ? x1 - x0 : 1, y1 - y0 > 0 ? y1 - y0 : 1);
      retry[r].img = bx ? pixClipRectangle(q->img, bx, NULL) : NULL;
      boxDestroy(&bx);
      if (!retry[r].img)
        retry[r].img = pixClone(q->img), dx = dy = 0, ref[r].word = RETRY_WHOLE_NOCROP;
      ref[r].dx = dx;
      ref[r].dy = dy;
    }
    if (f != 1.0f && retry[r].img) {
      PIX *big = pixScaleGrayLI(retry[r].img, f, f);
      if (big) {
        retry[r].scale *= (float)pixGetHeight(big) / pixGetHeight(retry[r].img);
        retry[r].xscale *= (float)pixGetWidth(big) / pixGetWidth(retry[r].img);
        pixDestroy(&retry[r].img);
        retry[r].img = big;
      }
    }
  }
  for (int r = 0; r < m; r++)
    if (retry[r].img)
      recognise_blob(o, api, &retry[r], deadline);
  /* take the surer reading; from the last word to the first so indices stay
   * valid while words are replaced */
  for (int r = m; r-- > 0;) {
    pixDestroy(&retry[r].img);
    if (ref[r].word == RETRY_MARK)
      continue;
    if (!alt[r].timed_out && alt[r].n) {
      if (ref[r].word < 0) {
        if (ref[r].word == RETRY_WHOLE && entry_score(&alt[r]) > entry_score(e)) {
          cword *w = e->w;
          int cn = e->n;
          e->w = alt[r].w;
          e->n = alt[r].n;
          alt[r].w = w;
          alt[r].n = cn;
          for (int i = 0; i < e->n; i++)
            e->w[i].tried = (2u << k) - 1; /* read in pass k */
        }
      } else if (entry_score(&alt[r]) > e->w[ref[r].word].conf) {
        replace_word(e, ref[r].word, &alt[r], ref[r].dx, ref[r].dy);
      }
    }
    for (int i = 0; i < alt[r].n; i++)
      free(alt[r].w[i].text);
    free(alt[r].w);
  }
  free(retry);
  free(alt);
  free(ref);
}

/* May a screening reading hold the phrase (a word that could be it, or
 * nothing read at all)? */
int rt_ocr__may_hold(const centry *e, const char *hint)
{
  if (e->timed_out || e->n == 0)
    return 1;
  for (int i = 0; i < e->n; i++)
    if (rt_ocr__could_be(e->w[i].text, hint))
      return 1;
  return 0;
}

/* The screening reading of a blob, for find: English, and one-line blobs at
 * SCREEN_H line height (never below the window's own size). It only picks the
 * blobs to read with full care, so it may be rough: at 14 px every label of
 * the benchmark still made its blob a candidate; at 18 px it costs about a
 * third less than at TARGET_H (Tesseract's work grows with the width text
 * takes in its network's rows). */
static void screen_blob(rt_ocr *o, TessBaseAPI *api, pending *p, int deadline)
{
  __atomic_add_fetch(&o->st.screened, 1, __ATOMIC_RELAXED);
  float f = (float)SCREEN_H / TARGET_H;
  if (f * p->scale < 1.0f)
    f = 1.0f / p->scale;
  PIX *small = p->psm == PSM_SINGLE_LINE && f < 0.95f ? pixScale(p->img, f, f) : NULL;
  if (!small) {
    recognise_blob(o, api, p, deadline);
    return;
  }
  pending q = *p;
  q.img = small;
  q.scale *= (float)pixGetHeight(small) / pixGetHeight(p->img);
  q.xscale *= (float)pixGetWidth(small) / pixGetWidth(p->img);
  recognise_blob(o, api, &q, deadline);
  pixDestroy(&small);
}

typedef struct {
  rt_ocr *o;
  int worker;
  pending **list;
  int n, deadline;
  const char *hint;
  int *next; /* shared: the next blob to take */
} job;

/* A worker takes the next blob and reads it completely: the first language,
 * then its unsure words again (retry_blob). Whole blobs are the unit of work,
 * so no thread waits for the other between passes. */
static void *run_job(void *arg)
{
  job *j = arg;
  rt_ocr *o = j->o;
  for (;;) {
    int i = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED);
    if (i >= j->n)
      break;
    pending *p = j->list[i], q;
    if (p->screen) {
      screen_blob(o, o->api[j->worker][o->screen], p, j->deadline);
      if (!p->care || !rt_ocr__may_hold(p->e, j->hint))
        continue;
      p->care_used = 1; /* it may: read it with full care */
      q = *p;
      q.e = p->care;
      q.retry_only = 0;
      p = &q;
    }
    if (!p->retry_only)
      recognise_blob(o, o->api[j->worker][0], p, j->deadline);
    for (int k = 0; k < o->napi; k++)
      retry_blob(o, o->api[j->worker][k], p, k, j->deadline, j->hint);
  }
  return NULL;
}

/* The longest blobs first, so no thread is left alone with a long one at the
 * end. */
static int cmp_pending_work(const void *pa, const void *pb)
{
  const pending *a = *(pending *const *)pa, *b = *(pending *const *)pb;
  long wa = a->retry_only ? 0 : (long)pixGetWidth(a->img) * 64 / (pixGetHeight(a->img) + 1);
  long wb = b->retry_only ? 0 : (long)pixGetWidth(b->img) * 64 / (pixGetHeight(b->img) + 1);
  return wa < wb ? 1 : wa > wb ? -1 : 0;
}

/* Recognise every pd[] with a cache entry to fill, on the recognition
 * threads; returns how many timed out. */
int rt_ocr__recognise_pending(rt_ocr *o, pending *pd, int nb, int deadline, const char *hint)
{
  pending **list = malloc((nb ? (size_t)nb : 1) * sizeof *list);
  int n = 0, late = 0;
  if (!list)
    return 0;
  for (int b = 0; b < nb; b++)
    if (pd[b].img && pd[b].e)
      list[n++] = &pd[b];
  qsort(list, (size_t)n, sizeof *list, cmp_pending_work);
  /* the workers whose instances are loaded (worker 0's always are) */
  int ready[MAX_WORKERS], nr = 0;
  for (int w = 0; w < o->nworkers; w++)
    if (w == 0 || __atomic_load_n(&o->ld[w].ready, __ATOMIC_ACQUIRE))
      ready[nr++] = w;
  int nw = nr < n ? nr : n, next = 0;
  job jobs[MAX_WORKERS];
  pthread_t th[MAX_WORKERS];
  int started[MAX_WORKERS] = {0};
  for (int w = 0; w < (nw > 0 ? nw : 1); w++)
    jobs[w] = (job){o, ready[w], list, n, deadline, hint, &next};
  for (int w = 1; w < nw; w++)
    started[w] = pthread_create(&th[w], NULL, run_job, &jobs[w]) == 0;
  run_job(&jobs[0]);
  for (int w = 1; w < nw; w++)
    if (started[w])
      pthread_join(th[w], NULL);
  for (int i = 0; i < n; i++)
    late += list[i]->e->timed_out;
  free(list);
  return late;
}
