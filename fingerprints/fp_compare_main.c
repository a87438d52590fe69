/* fp-compare: compare two window images (PNG) and print the verdict.
 * A debugging aid for the fingerprint engine; not installed.
 *
 *   fp-compare [options] RECORDED.png CURRENT.png
 *   fp-compare [options] --entry BASELINE/STEM.json CURRENT.png
 *     --mask x,y,w,h     ignore a window-relative rectangle (repeatable)
 *     --threshold T      YIQ threshold 0..1 (default 0.1)
 *     --min-pixels N     changed pixels that make a cell changed (default 2)
 *     --diff OUT.png     write recorded | current | diff
 *     --words-a TSV      OCR words of the recorded image (tesseract ... tsv)
 *     --words-b TSV      OCR words of the current image: explains a drift
 *     --ocr-scale S      the OCR ran on an image scaled by S (default 1)
 * Exit status: 0 match, 3 drift, 2 usage or file error.
 */
#include "fp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  fp_word *w;
  int n;
} wordlist;

static void free_words(wordlist *l)
{
  for (int i = 0; i < l->n; i++)
    free(l->w[i].text);
  free(l->w);
}

/* Tesseract TSV: level page block par line word left top width height conf text */
static int read_tsv(const char *path, double scale, wordlist *out)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    int level, x, y, w, h;
    float conf;
    char text[1024];
    line[strcspn(line, "\r\n")] = 0;
    if (sscanf(line, "%d\t%*d\t%*d\t%*d\t%*d\t%*d\t%d\t%d\t%d\t%d\t%f\t%1023[^\n]", &level, &x, &y,
               &w, &h, &conf, text) != 7 ||
        level != 5 || conf < 0)
      continue;
    fp_word *nw = realloc(out->w, (size_t)(out->n + 1) * sizeof *nw);
    if (!nw)
      break;
    out->w = nw;
    fp_word *wd = &out->w[out->n++];
    memset(wd, 0, sizeof *wd);
    wd->text = strdup(text);
    wd->box.x = (int)(x / scale + 0.5);
    wd->box.y = (int)(y / scale + 0.5);
    wd->box.w = (int)(w / scale + 0.5);
    wd->box.h = (int)(h / scale + 0.5);
    wd->conf = conf;
  }
  fclose(f);
  return 0;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: fp-compare [--mask x,y,w,h]... [--threshold T] [--min-pixels N]\n"
          "                  [--diff OUT.png] [--words-a TSV] [--words-b TSV] [--ocr-scale S]\n"
          "                  (RECORDED.png | --entry FILE.json) CURRENT.png\n");
}

int main(int argc, char **argv)
{
  fp_options opt;
  fp_options_default(&opt);
  fp_mask masks[64];
  int nmask = 0;
  const char *diff = NULL, *entry = NULL, *files[2], *wa = NULL, *wb = NULL;
  double scale = 1.0;
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--mask") && i + 1 < argc && nmask < 64) {
      fp_rect r;
      if (sscanf(argv[++i], "%d,%d,%d,%d", &r.x, &r.y, &r.w, &r.h) != 4) {
        usage();
        return 2;
      }
      masks[nmask].r = r;
      masks[nmask++].source = FP_MASK_DECLARED;
    } else if (!strcmp(a, "--threshold") && i + 1 < argc) {
      opt.threshold = atof(argv[++i]);
    } else if (!strcmp(a, "--min-pixels") && i + 1 < argc) {
      opt.min_pixels = atoi(argv[++i]);
    } else if (!strcmp(a, "--diff") && i + 1 < argc) {
      diff = argv[++i];
    } else if (!strcmp(a, "--words-a") && i + 1 < argc) {
      wa = argv[++i];
    } else if (!strcmp(a, "--words-b") && i + 1 < argc) {
      wb = argv[++i];
    } else if (!strcmp(a, "--ocr-scale") && i + 1 < argc) {
      scale = atof(argv[++i]);
      if (scale <= 0) {
        usage();
        return 2;
      }
    } else if (!strcmp(a, "--entry") && i + 1 < argc) {
      entry = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      usage();
      return 2;
    } else if (nfiles < 2) {
      files[nfiles++] = a;
    } else {
      usage();
      return 2;
    }
  }
  if (nfiles != (entry ? 1 : 2)) {
    usage();
    return 2;
  }
  wordlist la = {0}, lb = {0};
  const char *bad = (wa && read_tsv(wa, scale, &la))   ? wa
                    : (wb && read_tsv(wb, scale, &lb)) ? wb
                                                       : NULL;
  if (bad) {
    fprintf(stderr, "fp-compare: cannot read %s\n", bad);
    free_words(&la);
    free_words(&lb);
    return 2;
  }
  fp_fingerprint *base = NULL;
  const char *curfile = files[entry ? 0 : 1];
  if (entry) {
    fp_error err;
    if (fp_entry_load(entry, &base, &err)) {
      fprintf(stderr, "fp-compare: %s\n", err.message);
      free_words(&la);
      free_words(&lb);
      return 2;
    }
  } else {
    PIX *a = pixRead(files[0]);
    if (!a) {
      fprintf(stderr, "fp-compare: cannot read %s\n", files[0]);
      free_words(&la);
      free_words(&lb);
      return 2;
    }
    fp_input in = {0};
    in.image = a;
    in.words = la.w;
    in.n_words = la.n;
    in.has_words = wa != NULL;
    in.masks = masks;
    in.n_masks = nmask;
    int rc = fp_compute(&in, files[0], &opt, &base);
    pixDestroy(&a);
    if (rc) {
      fprintf(stderr, "fp-compare: cannot fingerprint %s (code %d)\n", files[0], rc);
      free_words(&la);
      free_words(&lb);
      return 2;
    }
  }
  PIX *b = pixRead(curfile);
  if (!b) {
    fprintf(stderr, "fp-compare: cannot read %s\n", curfile);
    fp_fingerprint_free(base);
    free_words(&la);
    free_words(&lb);
    return 2;
  }
  fp_input cur = {0};
  cur.image = b;
  cur.masks = masks;
  cur.n_masks = nmask;
  cur.words = lb.w;
  cur.n_words = lb.n;
  cur.has_words = wb != NULL;
  fp_verdict v;
  int rc = fp_compare(base, &cur, &opt, &v);
  if (rc) {
    fprintf(stderr, "fp-compare: compare failed (code %d)\n", rc);
    pixDestroy(&b);
    fp_fingerprint_free(base);
    free_words(&la);
    free_words(&lb);
    return 2;
  }
  printf("%s\n", v.match ? "match" : "drift");
  for (int i = 0; i < v.n_reasons; i++)
    printf("  reason: %s\n", v.reasons[i]);
  for (int i = 0; i < v.n_changed; i++)
    printf("  changed: (%d,%d,%d,%d)\n", v.changed[i].x, v.changed[i].y, v.changed[i].w,
           v.changed[i].h);
  printf("cells: %d total, %d checked, %d masked, %d changed; %.3f ms\n", v.cells_total,
         v.cells_checked, v.cells_masked, v.cells_changed, v.elapsed_ms);
  int status = v.match ? 0 : 3;
  if (diff) {
    PIX *d = fp_diff_image(base->image, b, &v);
    if (!d || pixWrite(diff, d, IFF_PNG)) {
      fprintf(stderr, "fp-compare: cannot write %s\n", diff);
      status = 2;
    }
    pixDestroy(&d);
  }
  fp_verdict_free(&v);
  pixDestroy(&b);
  fp_fingerprint_free(base);
  free_words(&la);
  free_words(&lb);
  return status;
}
