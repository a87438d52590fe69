/* fuzz_image.c - vagt's handling of decoded images: fp_image_read_mem (the
 * header checked before decoding), then what the engine does with a window
 * image from outside: fingerprint it, judge it against itself and a changed
 * copy, diff image, changed regions. */
#include "fuzz_util.h"

#include "fp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  l_int32 fmt, w, h, bps, spp, cmap;
  /* keep executions fast: the size limits themselves are checked by
     * fp_image_read_mem and its tests */
  if (pixReadHeaderMem(data, size, &fmt, &w, &h, &bps, &spp, &cmap) == 0 &&
      (long long)w * h > 512 * 512)
    return 0;
  PIX *p = NULL;
  fp_error err;
  int rc = fp_image_read_mem(data, size, "fuzz.png", &p, &err);
  if (rc != FP_OK) {
    if (p || !err.message[0])
      abort();
    return 0;
  }
  fp_mask m = {{(int)size % 50, (int)size % 30, 40, 20}, FP_MASK_TYPED};
  fp_input in = {.image = p,
                 .win_class = "Fuzz",
                 .win_name = "fuzz",
                 .role = FP_WIN_TARGET,
                 .masks = &m,
                 .n_masks = 1};
  fp_fingerprint *f = NULL;
  if (fp_compute(&in, "fuzz", NULL, &f) == FP_OK) {
    fp_verdict v;
    fp_input cur = in;
    cur.n_masks = 0;
    if (fp_compare(f, &cur, NULL, &v) != FP_OK || !v.match)
      abort(); /* an image matches its own fingerprint */
    fp_verdict_free(&v);
    PIX *p32 = pixConvertTo32(p), *inv = p32 ? pixInvert(NULL, p32) : NULL;
    if (inv) {
      cur.image = inv;
      if (fp_compare(f, &cur, NULL, &v) == FP_OK) {
        PIX *d = fp_diff_image(f->image, inv, &v);
        pixDestroy(&d);
        fp_verdict_free(&v);
      }
      fp_rect *rs = NULL;
      int n = fp_changed_regions(p32, inv, &m.r, 1, 64, &rs);
      (void)n;
      free(rs);
    }
    pixDestroy(&inv);
    pixDestroy(&p32);
  }
  fp_fingerprint_free(f);
  pixDestroy(&p);
  return 0;
}
