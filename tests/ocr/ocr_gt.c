#include "ocr_gt.h"

#include <stdlib.h>
#include <string.h>

int gt_load(const char *path, gt_list *out)
{
  out->items = NULL;
  out->n = 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[512];
  int cap = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#')
      continue;
    gt_item it;
    int used = 0;
    if (sscanf(line, "%d %d %d %d %n", &it.box.x, &it.box.y, &it.box.w, &it.box.h, &used) < 4 ||
        !line[used])
      continue;
    snprintf(it.text, sizeof it.text, "%s", line + used);
    if (out->n == cap) {
      cap = cap ? cap * 2 : 16;
      gt_item *ni = realloc(out->items, (size_t)cap * sizeof *ni);
      if (!ni)
        break;
      out->items = ni;
    }
    out->items[out->n++] = it;
  }
  fclose(f);
  return 0;
}

void gt_free(gt_list *g)
{
  free(g->items);
  g->items = NULL;
  g->n = 0;
}

static int inside(const rt_ocr_box *b, int x, int y)
{
  return x >= b->x && x < b->x + b->w && y >= b->y && y < b->y + b->h;
}

void gt_score_result(const rt_ocr_result *res, const gt_list *g, gt_score *s, FILE *log)
{
  memset(s, 0, sizeof *s);
  for (int i = 0; i < g->n; i++) {
    const gt_item *it = &g->items[i];
    rt_ocr_match m;
    char err[512];
    s->total++;
    int rc = rt_ocr_find(res, it->text, NULL, &m, err, sizeof err);
    if (rc == RT_OCR_OK && inside(&it->box, m.cx, m.cy)) {
      s->found++;
      continue;
    }
    if (rc == RT_OCR_AMBIGUOUS) {
      rt_ocr_find_opts o = {
          .has_region = 1,
          .region = {it->box.x - 10, it->box.y - 10, it->box.w + 20, it->box.h + 20}};
      char err2[512];
      if (rt_ocr_find(res, it->text, &o, &m, err2, sizeof err2) == RT_OCR_OK &&
          inside(&it->box, m.cx, m.cy)) {
        s->found_region++;
        continue;
      }
    }
    if (rc == RT_OCR_OK) {
      s->wrong_place++;
      if (log)
        fprintf(log, "    '%s': found at (%d,%d), expected in %d,%d %dx%d\n", it->text, m.cx, m.cy,
                it->box.x, it->box.y, it->box.w, it->box.h);
    } else {
      s->missing++;
      if (log) {
        /* what is there instead */
        char seen[256] = "";
        size_t p = 0;
        for (size_t k = 0; k < res->n && p + 40 < sizeof seen; k++) {
          const rt_ocr_word *w = &res->words[k];
          int cx = w->box.x + w->box.w / 2, cy = w->box.y + w->box.h / 2;
          if (inside(&it->box, cx, cy))
            p += (size_t)snprintf(seen + p, sizeof seen - p, " '%s'(%.0f)", w->text, w->conf);
        }
        fprintf(log, "    '%s': %s; in its box:%s\n", it->text,
                rc == RT_OCR_AMBIGUOUS ? "ambiguous" : "not found", p ? seen : " nothing");
      }
    }
  }
}

void gt_score_find(rt_ocr *o, struct Pix *img, const gt_list *g, gt_score *s, FILE *log)
{
  memset(s, 0, sizeof *s);
  for (int i = 0; i < g->n; i++) {
    rt_ocr_opts opts = {.hint = g->items[i].text};
    rt_ocr_result res;
    char err[512];
    gt_list one = {&g->items[i], 1};
    gt_score s1 = {0};
    if (rt_ocr_words(o, img, &opts, &res, err, sizeof err) == RT_OCR_OK) {
      gt_score_result(&res, &one, &s1, log);
      rt_ocr_result_free(&res);
    } else {
      s1.total = 1;
      s1.missing = 1;
      if (log)
        fprintf(log, "    '%s': %s\n", g->items[i].text, err);
    }
    s->total += s1.total;
    s->found += s1.found;
    s->found_region += s1.found_region;
    s->wrong_place += s1.wrong_place;
    s->missing += s1.missing;
  }
}
