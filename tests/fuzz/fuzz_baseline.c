/* fuzz_baseline.c - a baseline entry as vagt reads it (fp_entry_load): the
 * input is the entry's JSON followed by its PNG (split at the PNG
 * signature). The PNG is written as e.png, and "DIGEST" in the JSON is
 * replaced by the PNG's real digest, so the fuzzer gets past the digest
 * check into the image and the comparison. A loaded entry is judged against
 * itself, merged with itself and written back. */
#include "fuzz_util.h"

#include "fp.h"

static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static void hex64(const uint8_t *p, size_t n, char out[17])
{
  uint64_t h = 14695981039346656037ull; /* FNV-1a 64, as the store */
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1 << 18))
    return 0;
  const uint8_t *png = NULL;
  for (size_t i = 0; i + sizeof SIG <= size && !png; i++)
    if (!memcmp(data + i, SIG, sizeof SIG))
      png = data + i;
  size_t jlen = png ? (size_t)(png - data) : size, plen = png ? size - jlen : 0;
  l_int32 fmt, w, h, bps, spp, cmap;
  if (png && pixReadHeaderMem(png, plen, &fmt, &w, &h, &bps, &spp, &cmap) == 0 &&
      (long long)w * h > 512 * 512)
    return 0; /* fast executions; the limits have their own tests */
  char digest[17] = "0000000000000000";
  if (png)
    hex64(png, plen, digest);
  /* the JSON with every DIGEST replaced (same length: 6 -> 16 bytes) */
  char *json = malloc(jlen * 3 + 1);
  if (!json)
    abort();
  size_t o = 0;
  for (size_t i = 0; i < jlen;) {
    if (i + 6 <= jlen && !memcmp(data + i, "DIGEST", 6)) {
      memcpy(json + o, digest, 16);
      o += 16;
      i += 6;
    } else {
      json[o++] = (char)data[i++];
    }
  }
  const char *dir = fz_scratch();
  char jp[128], pp[128], out[128];
  snprintf(jp, sizeof jp, "%s/e.json", dir);
  snprintf(pp, sizeof pp, "%s/e.png", dir);
  snprintf(out, sizeof out, "%s/saved", dir);
  fz_write(jp, json, o);
  free(json);
  unlink(pp);
  if (png)
    fz_write(pp, png, plen);
  fp_fingerprint *e = NULL;
  fp_error err;
  int rc = fp_entry_load(jp, &e, &err);
  if (rc != FP_OK) {
    if (e || !err.message[0] || !strstr(err.message, jp))
      abort(); /* a refusal names the file */
    return 0;
  }
  fp_verdict v;
  if (fp_compare_fp(e, e, NULL, &v) == FP_OK) {
    PIX *d = fp_diff_image(e->image, e->image, &v);
    pixDestroy(&d);
  }
  fp_verdict_free(&v);
  int ox, oy;
  PIX *scene = fp_scene_image(e, &ox, &oy);
  pixDestroy(&scene);
  fp_fingerprint *m = NULL;
  if (fp_merge(e, e, NULL, &m, &v) == FP_OK)
    fp_fingerprint_free(m);
  fp_verdict_free(&v);
  if (e->version >= FP_FORMAT_JUDGED && fp_store_save(out, e, &err) == FP_OK) {
    fp_fingerprint *back = NULL;
    if (fp_store_load(out, e->key, &back, &err) != FP_OK) {
      fprintf(stderr, "fuzz_baseline: saved entry not read back: %s\n", err.message);
      abort(); /* what vagt writes it must read */
    }
    fp_fingerprint_free(back);
  }
  fz_clear(out);
  fp_fingerprint_free(e);
  return 0;
}
