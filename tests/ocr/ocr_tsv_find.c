/* ocr_tsv_find: the tesseract command's words, found with vagt's own find rules (for the
 * caption benchmark, tests/bench/captions.sh: the peer scored the same way).
 *
 *   ocr_tsv_find TSV-FILE CAPTIONS-FILE
 *
 * TSV-FILE is `tesseract IMAGE stdout tsv` output; CAPTIONS-FILE one caption a line. For
 * each caption, one line on stdout:
 *   found<TAB>x<TAB>y<TAB>w<TAB>h<TAB>text      exactly one best match (rt_ocr_find)
 *   none<TAB><TAB><TAB><TAB><TAB>               not found
 *   ambiguous<TAB><TAB><TAB><TAB><TAB>what      several equally good matches */
#include "rt_ocr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_tsv(const char *path, rt_ocr_result *res)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  memset(res, 0, sizeof *res);
  char line[4096];
  size_t cap = 0;
  long lastkey = -1;
  while (fgets(line, sizeof line, f)) {
    int level, page, block, par, ln, word, x, y, w, h, used = 0;
    float conf;
    if (sscanf(line, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%f\t%n", &level, &page, &block, &par,
               &ln, &word, &x, &y, &w, &h, &conf, &used) < 11 ||
        level != 5 || !used)
      continue;
    char *t = line + used;
    t[strcspn(t, "\r\n")] = 0;
    if (!*t || strspn(t, " ") == strlen(t))
      continue;
    long key = ((long)block * 1000 + par) * 1000 + ln;
    if (key != lastkey) {
      res->nlines++;
      lastkey = key;
    }
    if (res->n == cap) {
      cap = cap ? cap * 2 : 64;
      rt_ocr_word *nw = realloc(res->words, cap * sizeof *nw);
      if (!nw) {
        fclose(f);
        return -1;
      }
      res->words = nw;
    }
    rt_ocr_word *wd = &res->words[res->n++];
    wd->text = strdup(t);
    wd->box = (rt_ocr_box){x, y, w, h};
    wd->conf = conf;
    wd->line = res->nlines - 1;
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: ocr_tsv_find TSV-FILE CAPTIONS-FILE\n");
    return 2;
  }
  rt_ocr_result res;
  if (load_tsv(argv[1], &res) != 0) {
    fprintf(stderr, "ocr_tsv_find: cannot read %s\n", argv[1]);
    return 2;
  }
  FILE *c = fopen(argv[2], "r");
  if (!c) {
    fprintf(stderr, "ocr_tsv_find: cannot read %s\n", argv[2]);
    return 2;
  }
  char cap[1024], err[2048];
  while (fgets(cap, sizeof cap, c)) {
    cap[strcspn(cap, "\r\n")] = 0;
    if (!*cap)
      continue;
    rt_ocr_match m;
    int rc = rt_ocr_find(&res, cap, NULL, &m, err, sizeof err);
    if (rc == RT_OCR_OK)
      printf("found\t%d\t%d\t%d\t%d\t%s\n", m.box.x, m.box.y, m.box.w, m.box.h, m.text);
    else if (rc == RT_OCR_AMBIGUOUS) {
      err[strcspn(err, "\n")] = 0;
      printf("ambiguous\t\t\t\t\t%s\n", err);
    } else
      printf("none\t\t\t\t\t\n");
  }
  fclose(c);
  rt_ocr_result_free(&res);
  return 0;
}
