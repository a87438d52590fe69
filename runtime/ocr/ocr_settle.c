/* The careful readings that settle what a words pass read (ocr.c's rt_ocr_words calls
 * rt_ocr__settle after each pass): dots and case read from the line's own heights, marks
 * and bold m/n from the glyphs' ink, and, when a phrase is looked for, a caption of one
 * character or one letter read as other characters read again alone, restricted to the
 * phrase and its known confusions. Each rewrites a word's text only where the image
 * settles it; none adds or removes a word. */
#include "ocr_internal.h"
#include "rt_ocr.h"
#include "vu.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

/* ---- single glyphs: a careful reading of the known confusions ----
 *
 * A caption of one character (an xcalc key "9", "C", "-") is read alone, without the line
 * whose x-height and baseline tell 9 from g and C from c, and upscaled like every blob,
 * which makes it worse. When the phrase looked for is one such character, a word that
 * reads as one of its known confusions is a candidate, never a match: it is read again
 * from the image at its own size, as a single character restricted to the phrase and its
 * confusions, and only a reading of the phrase itself settles it. */
static const struct {
  const char *ch, *like; /* the character, and what it is read as (space-separated) */
} confusions[] = {
    {"9", "g q"}, {"g", "9"},         {"0", "O o Q D"}, {"O", "0 o Q D"},
    {"o", "0 O"}, {"1", "l I | i ]"}, {"l", "1 I |"},   {"I", "1 l |"},
    {"5", "S s"}, {"S", "5 s"},       {"s", "S 5"},     {"8", "B &"},
    {"B", "8"},   {"C", "c ("},       {"c", "C"},       {"6", "b G"},
    {"G", "6"},   {"2", "Z z"},       {"Z", "2 z"},     {"z", "Z 2"},
    {"7", "T"},   {"x", "X \u00d7"},  {"X", "x"},       {"v", "V"},
    {"V", "v"},   {"w", "W"},         {"W", "w"},       {"u", "U"},
    {"U", "u"},   {"k", "K"},         {"K", "k"},       {"p", "P"},
    {"P", "p"},   {"y", "Y"},         {"Y", "y"},       {"-", "\u2014 \u2013 _ ~ ."},
    {")", "] }"}, {"(", "[ {"},
};

/* The confusion entry of a phrase of one character (after trimming), or -1. */
static int glyph_entry(const char *hint, char *ch, size_t n)
{
  while (*hint == ' ')
    hint++;
  size_t len = strlen(hint);
  while (len && hint[len - 1] == ' ')
    len--;
  if (!len || len >= n)
    return -1;
  memcpy(ch, hint, len);
  ch[len] = 0;
  for (size_t i = 0; i < sizeof confusions / sizeof *confusions; i++)
    if (!strcmp(confusions[i].ch, ch))
      return (int)i;
  return -1;
}

/* The entry's readings, split at spaces. */
static void like_list(int ent, char out[][8], int *n)
{
  *n = 0;
  const char *p = confusions[ent].like;
  while (*p && *n < 8) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    const char *e = strchr(p, ' ');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l < 8) {
      memcpy(out[*n], p, l);
      out[*n][l] = 0;
      (*n)++;
    }
    p += l;
  }
}

size_t rt_ocr_maybe(const char *text, char *out, size_t n)
{
  size_t k = 0, found = 0;
  if (n)
    out[0] = 0;
  for (size_t i = 0; i < sizeof confusions / sizeof *confusions; i++) {
    char like[8][8];
    int nl;
    like_list((int)i, like, &nl);
    for (int j = 0; j < nl; j++)
      if (!strcmp(like[j], text) && k + strlen(confusions[i].ch) + 2 < n) {
        k += (size_t)snprintf(out + k, n - k, "%s%s", found ? " " : "", confusions[i].ch);
        found++;
        break;
      }
  }
  return found;
}

/* One careful reading of box in img (grown by pad pixels each side): a single character
 * among `allowed`, at its own size or, with tall > 0, each pixel a block so that it is at
 * least tall pixels high; with language `lang` (an index into the loaded ones; -1:
 * English's when loaded, which reads a lone digit better than Danish's). Writes the
 * reading (or "") to got. */
static void read_glyph(rt_ocr *o, PIX *img, rt_ocr_box box, int pad, int tall, const char *allowed,
                       int lang, char *got, size_t n, float *conf)
{
  got[0] = 0;
  *conf = 0;
  if (lang < 0 || lang >= o->napi)
    lang = o->screen > 0 ? o->screen : 0;
  TessBaseAPI *api = o->api[0][lang];
  int W = pixGetWidth(img), H = pixGetHeight(img);
  int x0 = box.x - pad < 0 ? 0 : box.x - pad, y0 = box.y - pad < 0 ? 0 : box.y - pad;
  int x1 = box.x + box.w + pad > W ? W : box.x + box.w + pad;
  int y1 = box.y + box.h + pad > H ? H : box.y + box.h + pad;
  if (!api || x1 <= x0 || y1 <= y0)
    return;
  BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
  PIX *c = b ? pixClipRectangle(img, b, NULL) : NULL;
  boxDestroy(&b);
  PIX *g = c ? pixConvertTo8(c, 0) : NULL;
  pixDestroy(&c);
  if (!g)
    return;
  l_float32 mean = 255;
  pixGetAverageMasked(g, NULL, 0, 0, 1, L_MEAN_ABSVAL, &mean);
  if (mean < 128)
    pixInvert(g, g);                        /* light text on a dark key: dark on light */
  if (tall > 0 && pixGetHeight(g) < tall) { /* each pixel a square block: a bitmap glyph */
    PIX *e = pixExpandReplicate(g, (tall + pixGetHeight(g) - 1) / pixGetHeight(g));
    pixDestroy(&g);
    if (!(g = e))
      return;
  }
  PIX *m = pixAddBorder(g, 10, 255);
  pixDestroy(&g);
  if (!m)
    return;
  uint64_t key =
      rt_ocr__hash_bytes(allowed, strlen(allowed), 0x676c797068ull + (unsigned)lang * 64 + tall);
  key = rt_ocr__hash_bytes(pixGetData(m), (size_t)pixGetWpl(m) * 4 * pixGetHeight(m),
                           key ^ ((uint64_t)pixGetWidth(m) << 32 | pixGetHeight(m)));
  for (size_t i = 0; i < sizeof o->glyph / sizeof *o->glyph; i++)
    if (o->glyph[i].key == key) {
      snprintf(got, n, "%s", o->glyph[i].got);
      *conf = o->glyph[i].conf;
      o->st.blob_hits++;
      pixDestroy(&m);
      return;
    }
  TessBaseAPISetVariable(api, "tessedit_char_whitelist", allowed);
  TessBaseAPISetVariable(api, "lstm_choice_mode", "2"); /* each symbol's alternatives */
  TessBaseAPISetImage2(api, m);
  TessBaseAPISetSourceResolution(api, 300);
  TessBaseAPISetPageSegMode(api, PSM_SINGLE_CHAR);
  if (TessBaseAPIRecognize(api, NULL) == 0) {
    TessResultIterator *it = TessBaseAPIGetIterator(api);
    char *t = it ? TessResultIteratorGetUTF8Text(it, RIL_SYMBOL) : NULL;
    if (t) {
      t[strcspn(t, " \n")] = 0;
      /* a reading is sure only when the other allowed characters are far behind: xcalc's
       * pi key read as 7 or T is a coin toss (7 69.5, T 68.6), its 9 key is not (9 90.6,
       * g 56.9) */
      float mine = -1, other = -1;
      TessChoiceIterator *ci = TessResultIteratorGetChoiceIterator(it);
      if (ci) {
        do {
          const char *c = TessChoiceIteratorGetUTF8Text(ci);
          float cf = TessChoiceIteratorConfidence(ci);
          if (c && !strcmp(c, t))
            mine = cf > mine ? cf : mine;
          else if (c && cf > other)
            other = cf;
        } while (TessChoiceIteratorNext(ci));
        TessChoiceIteratorDelete(ci);
      }
      if (mine < 0 || mine - other >= GLYPH_MARGIN) {
        snprintf(got, n, "%s", t);
        *conf = TessResultIteratorConfidence(it, RIL_SYMBOL);
      }
      TessDeleteText(t);
    }
    if (it)
      TessResultIteratorDelete(it);
  }
  __atomic_add_fetch(&o->st.recognitions, 1, __ATOMIC_RELAXED);
  TessBaseAPIClear(api);
  TessBaseAPISetVariable(api, "tessedit_char_whitelist", "");
  TessBaseAPISetVariable(api, "lstm_choice_mode", "0");
  pixDestroy(&m);
  unsigned slot = o->glyph_next++ % (sizeof o->glyph / sizeof *o->glyph);
  o->glyph[slot].key = key;
  snprintf(o->glyph[slot].got, sizeof o->glyph[slot].got, "%s", got);
  o->glyph[slot].conf = *conf;
}

/* The median height of the confident words of res made only of letters in `set`: the
 * window's own cap height ("STO", "EXC") or x-height ("cos", "xor"); 0 when none. */
/* Letters whose words measure the window's cap height and x-height. */
#define CAP_SET "ABCDEFGHIKLMNORSTUVWXZ"
#define XH_SET "acemnorsuvwxz"

/* The median of v[0..n) (sorted in place: a handful of values), 0 when n is 0. */
static int median_height(const rt_ocr_result *res, const char *set)
{
  int h[64], n = 0;
  for (size_t w = 0; w < res->n && n < 64; w++) {
    const char *t = res->words[w].text;
    if (res->words[w].conf < 80 || strlen(t) < 2 || strspn(t, set) != strlen(t))
      continue;
    h[n++] = res->words[w].box.h;
  }
  return rt_ocr__median(h, n);
}

/* A letter read in the other case (C for c): its height against the window's cap height
 * and x-height says which it is; 1 upper, 0 lower, -1 cannot tell. */
static int upper_by(int cap, int xh, int h)
{
  if (!cap || !xh || cap - xh < 2)
    return -1;
  return abs(h - cap) < abs(h - xh) ? 1 : abs(h - xh) < abs(h - cap) ? 0 : -1;
}

/* Candidates that read as a confusion of the one-character hint are read with care; those
 * that then read as the hint take its text. */
static void settle_glyphs(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res)
{
  char ch[8], like[8][8], allowed[96];
  int ent = hint ? glyph_entry(hint, ch, sizeof ch) : -1, nl = 0;
  if (ent < 0)
    return;
  like_list(ent, like, &nl);
  size_t k = (size_t)snprintf(allowed, sizeof allowed, "%s", ch);
  for (int i = 0; i < nl && k < sizeof allowed; i++)
    k += (size_t)snprintf(allowed + k, sizeof allowed - k, "%s", like[i]);
  for (size_t w = 0; w < res->n; w++) {
    const char *t = res->words[w].text;
    if (!strcmp(t, ch))
      continue;
    /* a candidate reads as confusions of the character only ("g", or "-—" for "-") */
    bool cand = true;
    for (const char *q = t; *q && cand;) {
      size_t l = strlen(ch);
      bool hit = !strncmp(q, ch, l);
      for (int i = 0; i < nl && !hit; i++)
        if (like[i][0] && !strncmp(q, like[i], (l = strlen(like[i]))))
          hit = true;
      cand = hit;
      q += hit ? l : 1;
    }
    if (!cand || strlen(t) > 4 * strlen(ch) + 6)
      continue;
    char got[16];
    float conf = res->words[w].conf;
    unsigned char a = (unsigned char)ch[0], b = (unsigned char)t[0];
    if (!ch[1] && !t[1] && isalpha(a) && tolower(a) == tolower(b)) {
      int up = upper_by(median_height(res, CAP_SET), median_height(res, XH_SET),
                        res->words[w].box.h); /* C or c: by its size alone */
      if (up < 0 || up != (isupper(a) != 0))
        continue;
    } else {
      read_glyph(o, img, res->words[w].box, 2, 0, allowed, -1, got, sizeof got, &conf);
      if (strcmp(got, ch) != 0)
        continue;
    }
    char *nt = strdup(ch);
    if (!nt)
      continue;
    free(res->words[w].text);
    res->words[w].text = nt;
    res->words[w].conf = conf;
  }
}

/* A lone mark read as "+" (or "*", a middle dot, a bullet, a degree sign, a square dash)
 * no bigger than about half the window's x-height is a full stop: xcalc's "." key is a
 * 3x3 cross that Tesseract reads as "+" at any size, and "+" then named two keys. Its "+"
 * key is 5x5 beside an x-height of 7. A full stop a wide gap after its word (monospace:
 * "button)." in xman) is a 3x3 square read as "-". */
static void settle_dots(rt_ocr_result *res)
{
  static const char *const like[] = {"+", "*", "\u00b7", "\u2022", "\u00b0", "-", NULL};
  int xh = -1;
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    int k = 0;
    while (like[k] && strcmp(like[k], wd->text))
      k++;
    if (!like[k])
      continue;
    if (xh < 0)
      xh = median_height(res, XH_SET);
    if (!xh || wd->box.w * 5 > xh * 3 || wd->box.h * 5 > xh * 3)
      continue;
    if (!strcmp(wd->text, "-") && wd->box.w * 10 > wd->box.h * 13)
      continue; /* a dash is wider than tall; a square mark read as one is a dot */
    char *nt = strdup(".");
    if (!nt)
      continue;
    free(wd->text);
    wd->text = nt;
  }
}

/* A one-letter word whose two cases differ in size only (x X, c C, o O, ...) takes the
 * case its height says, against the window's cap height and x-height: "an X Window"
 * read "an x Window" in xman's monospace. */
static void settle_case(rt_ocr_result *res)
{
  int cap = -1, xh = -1; /* the window's, measured once and only when needed */
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    unsigned char c = (unsigned char)wd->text[0];
    if (!c || wd->text[1] || !strchr("cosuvwxzCOSUVWXZ", c))
      continue;
    if (cap < 0) {
      cap = median_height(res, CAP_SET);
      xh = median_height(res, XH_SET);
    }
    int up = upper_by(cap, xh, wd->box.h);
    if (up < 0 || up == (isupper(c) != 0))
      continue;
    wd->text[0] = (char)(up ? toupper(c) : tolower(c));
  }
}

/* The ink of box in img (40 grey levels from the box's most common grey), one byte per
 * pixel, with a pixel of margin around the box: malloc'd, *w x *h; NULL on error. */
static unsigned char *ink_mask(PIX *img, rt_ocr_box box, int *w, int *h)
{
  BOX *b = boxCreate(box.x - 1, box.y - 1, box.w + 2, box.h + 2);
  PIX *c = b ? pixClipRectangle(img, b, NULL) : NULL;
  boxDestroy(&b);
  PIX *g = c ? pixConvertTo8(c, 0) : NULL;
  pixDestroy(&c);
  if (!g)
    return NULL;
  *w = pixGetWidth(g);
  *h = pixGetHeight(g);
  unsigned char *m = malloc((size_t)*w * (size_t)*h);
  int hist[256] = {0}, bg = 0, wpl = pixGetWpl(g);
  l_uint32 *data = pixGetData(g);
  for (int y = 0; m && y < *h; y++) {
    const l_uint32 *line = data + y * wpl;
    for (int x = 0; x < *w; x++) {
      int v = GET_DATA_BYTE(line, x);
      m[y * *w + x] = (unsigned char)v;
      if (++hist[v] > hist[bg])
        bg = v;
    }
  }
  for (int i = 0; m && i < *w * *h; i++)
    m[i] = abs((int)m[i] - bg) > 40;
  pixDestroy(&g);
  return m;
}

/* The bands of rows with ink inside box of img: how many (up to max), and each one's ink
 * width in wid[]. -1 on error. */
static int ink_bands(PIX *img, rt_ocr_box box, int *wid, int max)
{
  int w, h, n = 0, in = 0;
  unsigned char *m = ink_mask(img, box, &w, &h);
  if (!m)
    return -1;
  int x0 = w, x1 = -1;
  for (int y = 0; y <= h; y++) {
    int any = 0;
    for (int x = 0; y < h && x < w; x++)
      if (m[y * w + x]) {
        any = 1;
        if (x < x0)
          x0 = x;
        if (x > x1)
          x1 = x;
      }
    if (any)
      in = 1;
    else if (in) { /* a band ends */
      if (n < max)
        wid[n] = x1 - x0 + 1;
      n++;
      in = 0;
      x0 = w;
      x1 = -1;
    }
  }
  free(m);
  return n;
}

/* Whether the glyph in columns [x0, x1) of ink mask m (w wide, h high) is an "m": three
 * feet on its bottom row, or two with ink between them below its top row (a bold bitmap
 * "m" whose middle stem is short: 7x13B's "##.##." over "######"). An "n" has nothing
 * between its feet but its arch. */
static bool glyph_m(const unsigned char *m, int w, int h, int x0, int x1)
{
  int y0 = -1, y1 = -1;
  for (int y = 0; y < h; y++)
    for (int x = x0; x < x1; x++)
      if (m[y * w + x]) {
        if (y0 < 0)
          y0 = y;
        y1 = y;
      }
  if (y0 < 0 || y1 - y0 < 4)
    return false;
  int feet = 0, l_end = -1, r_start = -1; /* the left foot's last column, the right's first */
  for (int x = x0; x < x1; x++) {
    bool on = m[y1 * w + x], was = x > x0 && m[y1 * w + x - 1];
    if (on && !was) {
      feet++;
      r_start = x;
    }
    if (!on && was && feet == 1)
      l_end = x - 1;
  }
  if (feet == 3)
    return true;
  if (feet != 2 || l_end < 0 || r_start - l_end < 2)
    return false;
  int rows = 0;
  for (int y = y0 + 1; y <= y1; y++) {
    bool any = false;
    for (int x = l_end + 1; x < r_start && !any; x++)
      any = m[y * w + x];
    rows += any;
  }
  return rows >= 2;
}

/* The runs of columns with ink in mask m (w x h) into seg ([start, end) each, at most 64):
 * a word's glyphs where they stand apart, as in bitmap fonts. Their number. */
static int glyph_columns(const unsigned char *m, int w, int h, int seg[64][2])
{
  int ns = 0;
  for (int x = 0, in = 0; x <= w && ns < 64; x++) {
    bool any = false;
    for (int y = 0; x < w && y < h && !any; y++)
      any = m[y * w + x];
    if (any && !in)
      seg[ns][0] = x;
    if (!any && in)
      seg[ns++][1] = x;
    in = any;
  }
  return ns;
}

/* The language a careful reading of letter c uses: English's model has no Æ Ø Å, so a
 * letter beyond ASCII goes to the first other language loaded; -1: read_glyph's choice. */
static int letter_lang(const rt_ocr *o, unsigned char c)
{
  if (c < 0x80)
    return -1;
  bool eng_first = !strncmp(o->langs, "eng", 3) && (o->langs[3] == 0 || o->langs[3] == '+');
  return eng_first ? (o->napi > 1 ? 1 : -1) : 0;
}

/* One letter of the phrase read as one to three other characters (xmessage's bold "Ændr"
 * read "findr": Æ as "fi"): where the word's glyphs stand apart and are exactly as many as
 * the phrase word's letters, and the reading differs from it in that one place, the glyph
 * there is read again with care, among the letter and what it was read as. Only a reading
 * of the letter itself settles it; anything else leaves the word as read. */
static void settle_letter(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res)
{
  for (const char *hw = hint; *hw;) {
    hw += strspn(hw, " ");
    size_t hl = strcspn(hw, " ");
    if (!hl)
      break;
    if (vu_utf8_chars(hw, hl) < 2) { /* a lone glyph is settle_glyphs' */
      hw += hl;
      continue;
    }
    for (size_t i = 0; i < res->n; i++) {
      rt_ocr_word *wd = &res->words[i];
      const char *t = wd->text;
      size_t tl = strlen(t), p = 0, q = 0;
      if (tl == hl && !memcmp(t, hw, hl))
        continue;
      while (p < hl && p < tl && t[p] == hw[p])
        p++;
      while (p && ((unsigned char)hw[p] & 0xC0) == 0x80) /* back to a character's start */
        p--;
      while (q < hl - p && q < tl - p && t[tl - 1 - q] == hw[hl - 1 - q])
        q++;
      while (q && ((unsigned char)hw[hl - q] & 0xC0) == 0x80)
        q--;
      size_t cl = hl - p - q, dl = tl - p - q;
      if (vu_utf8_chars(hw + p, cl) != 1 || dl == 0 || vu_utf8_chars(t + p, dl) > 3)
        continue;
      int w, h, seg[64][2];
      unsigned char *m = ink_mask(img, wd->box, &w, &h);
      if (!m)
        continue;
      int ns = glyph_columns(m, w, h, seg);
      free(m);
      size_t k = vu_utf8_chars(hw, p);
      if ((size_t)ns != vu_utf8_chars(hw, hl) || k >= (size_t)ns)
        continue;
      char allowed[16], got[16];
      if (cl + dl >= sizeof allowed)
        continue;
      memcpy(allowed, hw + p, cl);
      memcpy(allowed + cl, t + p, dl);
      allowed[cl + dl] = 0;
      rt_ocr_box gb = {wd->box.x - 1 + seg[k][0], wd->box.y, seg[k][1] - seg[k][0], wd->box.h};
      float conf = 0;
      read_glyph(o, img, gb, 1, 40, allowed, letter_lang(o, (unsigned char)hw[p]), got, sizeof got,
                 &conf);
      if (strlen(got) != cl || memcmp(got, hw + p, cl))
        continue;
      char *nt = malloc(p + cl + q + 1);
      if (!nt)
        continue;
      memcpy(nt, t, p);
      memcpy(nt + p, hw + p, cl);
      memcpy(nt + p + cl, t + tl - q, q);
      nt[p + cl + q] = 0;
      free(wd->text);
      wd->text = nt;
      if (conf < wd->conf)
        wd->conf = conf;
    }
    hw += hl;
  }
}

/* An "m" read as "n" (bold bitmap fonts: xmessage's "Gem" read "Gen", xman's "Xman"
 * "Xnan"): where a word's glyphs stand apart (a blank column between each two, as in
 * bitmap fonts) and are as many as its characters, each "n" is looked at. */
static void settle_mn(PIX *img, rt_ocr_result *res)
{
  for (size_t i = 0; i < res->n; i++) {
    rt_ocr_word *wd = &res->words[i];
    if (!strchr(wd->text, 'n'))
      continue;
    int w, h, nch = (int)vu_utf8_chars(wd->text, strlen(wd->text));
    unsigned char *m = ink_mask(img, wd->box, &w, &h);
    if (!m)
      continue;
    int seg[64][2], ns = glyph_columns(m, w, h, seg);
    int k = 0;
    for (char *q = wd->text; ns == nch && *q; q++) {
      if (((unsigned char)*q & 0xC0) == 0x80)
        continue;
      if (*q == 'n' && glyph_m(m, w, h, seg[k][0], seg[k][1]))
        *q = 'm';
      k++;
    }
    free(m);
  }
}

static int dash_like(const char *t)
{
  return !strcmp(t, "-") || !strcmp(t, "\u2014") || !strcmp(t, "\u2013") || !strcmp(t, "_") ||
         !strcmp(t, "~");
}

/* Marks that are parts of symbols the models cannot produce, so that they do not pass
 * for the characters they resemble (xcalc's keys):
 * - "=" whose ink is three bands, the outer two less than half as wide as the middle
 *   one, is a division sign (÷), not "=" (two bars of one width);
 * - a dash whose top is the top of the word just before it on its line, at most 12 px
 *   away and three times as tall, is the overline of a radical (√ drawn as two
 *   glyphs), not "-". */
static void settle_marks(PIX *img, rt_ocr_result *res)
{
  for (size_t w = 0; w < res->n; w++) {
    rt_ocr_word *wd = &res->words[w];
    const char *nt = NULL;
    if (!strcmp(wd->text, "=")) {
      int wid[4];
      int n = ink_bands(img, wd->box, wid, 4);
      if (n == 3 && wid[0] * 2 < wid[1] && wid[2] * 2 < wid[1])
        nt = "\u00f7";
    } else if (dash_like(wd->text) && w > 0) {
      const rt_ocr_word *pv = &res->words[w - 1];
      int gap = wd->box.x - (pv->box.x + pv->box.w);
      if (pv->line == wd->line && gap >= 0 && gap <= 12 && abs(pv->box.y - wd->box.y) <= 2 &&
          pv->box.h >= 3 * wd->box.h)
        nt = "\u203e";
    }
    char *d = nt ? strdup(nt) : NULL;
    if (!d)
      continue;
    free(wd->text);
    wd->text = d;
  }
}

void rt_ocr__settle(rt_ocr *o, PIX *img, const char *hint, rt_ocr_result *res)
{
  settle_dots(res);
  settle_case(res);
  settle_marks(img, res);
  settle_mn(img, res);
  if (hint) {
    settle_glyphs(o, img, hint, res);
    settle_letter(o, img, hint, res);
  }
}
