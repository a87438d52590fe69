/* bench_fp.c - guard check timing at 1920x1080 (not a ctest).
 *
 * Draws a large form (labels, fields, buttons) with Leptonica, writes the
 * recorded image and two current images (identical; one label changed by
 * one character) as PNGs, then times:
 *   - fp_compare on the fast path (cells only, field masks, no OCR), and
 *     PNG read + fp_compare for a like-for-like comparison with a tool;
 *   - ImageMagick `compare -metric AE a.png b.png null:` on the same files.
 * Usage: bench_fp [ITERATIONS]   (default 300)
 */
#include "fp.h"
#include "vu.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void stats(double *t, int n, double *med, double *p95)
{
  qsort(t, (size_t)n, sizeof *t, cmp_d);
  *med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
  int k = (int)(0.95 * (n - 1) + 0.5);
  *p95 = t[k];
}

static void box(PIX *p, int x, int y, int w, int h, l_uint32 c)
{
  BOX *b = boxCreate(x, y, w, h);
  pixSetInRectArbitrary(p, b, c);
  boxDestroy(&b);
}

#define MAXMASK 128
static fp_mask masks[MAXMASK];
static int nmask;

static PIX *draw_form(int variant)
{
  PIX *p = pixCreate(1920, 1080, 32);
  pixSetSpp(p, 3);
  pixSetAllArbitrary(p, 0xd9d9d900);
  L_BMF *f = bmfCreate(NULL, 4);
  static const char *names[] = {"CPR-nummer", "Navn",    "Adresse", "Postnummer",
                                "By",         "Telefon", "E-mail",  "Sagsnummer"};
  nmask = 0;
  pixSetTextline(p, f, "Borgerregister - sagsbehandling", 0x10101000, 12, 24, NULL, NULL);
  for (int col = 0; col < 3; col++)
    for (int row = 0; row < 24; row++) {
      int x = 20 + col * 620, y = 50 + row * 40;
      char label[64];
      snprintf(label, sizeof label, "%s %d", names[(row + col) % 8], row + 1);
      if (variant == 1 && col == 1 && row == 12)
        label[1] ^= 1; /* one character differs */
      pixSetTextline(p, f, label, 0x10101000, x, y + 16, NULL, NULL);
      box(p, x + 180, y, 400, 24, 0x7a7a7a00);
      box(p, x + 181, y + 1, 398, 22, 0xffffff00);
      pixSetTextline(p, f, "data", 0x20202000, x + 186, y + 16, NULL, NULL);
      if (nmask < MAXMASK)
        masks[nmask++] = (fp_mask){{x + 181, y + 1, 398, 22}, FP_MASK_TYPED};
    }
  box(p, 1600, 1020, 120, 30, 0x7a7a7a00);
  box(p, 1601, 1021, 118, 28, 0xe8e8e800);
  pixSetTextline(p, f, "Gem", 1640, 1040, 0x10101000, NULL, NULL);
  bmfDestroy(&f);
  return p;
}

static double run_im(const char *a, const char *b)
{
  char *argv[] = {"compare", "-metric", "AE", (char *)a, (char *)b, "null:", NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
  double t0 = (vu_mono() * 1e3);
  pid_t pid;
  if (posix_spawnp(&pid, "compare", &fa, NULL, argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -1;
  }
  int st;
  waitpid(pid, &st, 0);
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
    return -1;
  return (vu_mono() * 1e3) - t0;
}

int main(int argc, char **argv)
{
  int iters = argc > 1 ? atoi(argv[1]) : 300;
  if (iters < 10)
    iters = 10;
  char dir[] = "/tmp/bench-fp-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char pa[64], pb[64], pc[64];
  snprintf(pa, sizeof pa, "%s/recorded.png", dir);
  snprintf(pb, sizeof pb, "%s/same.png", dir);
  snprintf(pc, sizeof pc, "%s/onechar.png", dir);
  PIX *a = draw_form(0), *b = draw_form(0), *c = draw_form(1);
  pixWrite(pa, a, IFF_PNG);
  pixWrite(pb, b, IFF_PNG);
  pixWrite(pc, c, IFF_PNG);

  fp_input in = {0};
  in.image = a;
  in.win_class = "Borgerregister";
  in.masks = masks;
  in.n_masks = nmask;
  fp_fingerprint *base = NULL;
  if (fp_compute(&in, "bench", NULL, &base)) {
    fprintf(stderr, "fp_compute failed\n");
    return 1;
  }
  double *t = malloc((size_t)iters * sizeof *t);
  const char *label[2] = {"unchanged", "one small change"};
  PIX *cur[2] = {b, c};
  const char *file[2] = {pb, pc};
  double fp_med[2], fp_p95[2], io_med[2], io_p95[2], im_med[2], im_p95[2];
  int drift[2] = {0, 0};
  char reason[2][160] = {"", ""};
  for (int k = 0; k < 2; k++) {
    fp_input ci = {0};
    ci.image = cur[k];
    ci.win_class = "Borgerregister";
    fp_verdict v;
    for (int i = 0; i < 5; i++) { /* warm up */
      fp_compare(base, &ci, NULL, &v);
      fp_verdict_free(&v);
    }
    for (int i = 0; i < iters; i++) {
      double t0 = (vu_mono() * 1e3);
      fp_compare(base, &ci, NULL, &v);
      t[i] = (vu_mono() * 1e3) - t0;
      if (i == 0) {
        drift[k] = !v.match;
        if (v.n_reasons)
          snprintf(reason[k], sizeof reason[k], "%s", v.reasons[0]);
      }
      fp_verdict_free(&v);
    }
    stats(t, iters, &fp_med[k], &fp_p95[k]);
    int n = iters / 10 > 10 ? iters / 10 : 10;
    for (int i = 0; i < n; i++) {
      double t0 = (vu_mono() * 1e3);
      PIX *p = pixRead(file[k]);
      ci.image = p;
      fp_compare(base, &ci, NULL, &v);
      fp_verdict_free(&v);
      pixDestroy(&p);
      t[i] = (vu_mono() * 1e3) - t0;
    }
    stats(t, n, &io_med[k], &io_p95[k]);
    int m = 0;
    for (int i = 0; i < 10; i++) {
      double d = run_im(pa, file[k]);
      if (d >= 0)
        t[m++] = d;
    }
    if (m)
      stats(t, m, &im_med[k], &im_p95[k]);
    else
      im_med[k] = im_p95[k] = -1;
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  printf("bench_fp: 1920x1080 window, %d cells of %dpx, %d field masks, %ld CPUs, "
         "%d iterations\n\n",
         base->cols * base->rows, FP_CELL, nmask, ncpu, iters);
  printf("%-18s %-8s %22s %24s %26s %8s\n", "case", "verdict", "fp_compare med/p95 ms",
         "PNG read+fp med/p95 ms", "IM compare -metric AE ms", "ratio");
  for (int k = 0; k < 2; k++) {
    printf("%-18s %-8s %10.3f / %-9.3f %11.2f / %-10.2f %12.1f / %-11.1f %7.0fx\n", label[k],
           drift[k] ? "drift" : "match", fp_med[k], fp_p95[k], io_med[k], io_p95[k], im_med[k],
           im_p95[k], im_med[k] > 0 ? im_med[k] / fp_med[k] : 0.0);
    if (reason[k][0])
      printf("%-18s first reason: %s\n", "", reason[k]);
  }
  printf("\nratio = ImageMagick median / fp_compare median (IM includes process start "
         "and PNG decoding; the PNG read+fp column is the like-for-like figure: "
         "%.1fx faster)\n",
         im_med[0] > 0 ? im_med[0] / io_med[0] : 0.0);
  printf("target: fp_compare median <= 2 ms when nothing changed: %s\n",
         fp_med[0] <= 2.0 ? "met" : "NOT met");
  free(t);
  fp_fingerprint_free(base);
  pixDestroy(&a);
  pixDestroy(&b);
  pixDestroy(&c);
  unlink(pa);
  unlink(pb);
  unlink(pc);
  rmdir(dir);
  return 0;
}
