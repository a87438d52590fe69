/* ocr_dump: print the words rt_ocr finds in PNG files (a development aid,
 * and what `vagt inspect --png` builds on).
 * usage: ocr_dump [-l langs] [-o out.png] [-r repeats] [-h hint] FILE...
 * -r N reads each file N times more with an empty cache and prints the times;
 * -h reads with that phrase as hint, as w:find_text does. */
#include "rt_ocr.h"

#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  rt_ocr_reexec_single_thread(argv);
  const char *langs = NULL, *outpng = NULL, *hint = NULL;
  int opt, repeat = 0;
  while ((opt = getopt(argc, argv, "l:o:r:h:")) != -1) {
    if (opt == 'r') {
      repeat = atoi(optarg);
      continue;
    }
    if (opt == 'h') {
      hint = optarg;
      continue;
    }
    if (opt == 'l')
      langs = optarg;
    else if (opt == 'o')
      outpng = optarg;
    else
      return 2;
  }
  char err[512];
  rt_ocr *o = rt_ocr_new(langs, err, sizeof err);
  if (!o) {
    fprintf(stderr, "ocr_dump: %s\n", err);
    return 4;
  }
  for (int i = optind; i < argc; i++) {
    PIX *p = pixRead(argv[i]);
    if (!p) {
      fprintf(stderr, "ocr_dump: cannot read %s\n", argv[i]);
      continue;
    }
    for (int k = 0; k < repeat; k++) {
      rt_ocr_opts nc = {.no_cache = 1, .hint = hint};
      rt_ocr_result r0;
      if (rt_ocr_words(o, p, &nc, &r0, err, sizeof err) == RT_OCR_OK)
        fprintf(stderr, "repeat %d: %.1f ms\n", k, r0.ms);
      rt_ocr_result_free(&r0);
    }
    rt_ocr_result r;
    rt_ocr_opts ho = {.hint = hint};
    if (rt_ocr_words(o, p, &ho, &r, err, sizeof err) != RT_OCR_OK) {
      fprintf(stderr, "ocr_dump: %s: %s\n", argv[i], err);
      pixDestroy(&p);
      continue;
    }
    printf("# %s %dx%d: %zu words, %d lines, %d blobs, %.1f ms\n", argv[i], r.width, r.height, r.n,
           r.nlines, r.blobs, r.ms);
    for (size_t k = 0; k < r.n; k++) {
      rt_ocr_word *w = &r.words[k];
      printf("%3d  %4d %4d %3dx%-3d  c=(%d,%d)  %5.1f  %s\n", w->line, w->box.x, w->box.y, w->box.w,
             w->box.h, w->box.x + w->box.w / 2, w->box.y + w->box.h / 2, w->conf, w->text);
    }
    if (outpng) {
      PIX *c = rt_ocr_draw(p, &r);
      if (!c || pixWrite(outpng, c, IFF_PNG) != 0)
        fprintf(stderr, "ocr_dump: cannot write %s\n", outpng);
      pixDestroy(&c);
    }
    rt_ocr_result_free(&r);
    pixDestroy(&p);
  }
  rt_ocr_free(o);
  return 0;
}
