/* image.c - reading PNG files that come from outside (baselines, evidence,
 * `vagt inspect --png`): the header is checked before anything is decoded,
 * so a small file that claims 60000x60000 pixels (a decompression bomb) is
 * refused instead of taking gigabytes. */
#include "fp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (256 * 1024 * 1024)

int fp_image_read_mem(const void *data, size_t size, const char *name, PIX **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!out)
    return fp__seterr(err, FP_ERR_ARG, "fp_image_read_mem: bad arguments");
  *out = NULL;
  if (!name)
    name = "image";
  l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
  if (!data || size == 0 ||
      pixReadHeaderMem((const l_uint8 *)data, size, &format, &w, &h, &bps, &spp, &cmap))
    return fp__seterr(err, FP_ERR_CORRUPT, "%s: not a readable image", name);
  if (format != IFF_PNG)
    return fp__seterr(err, FP_ERR_CORRUPT, "%s: not a PNG image", name);
  if (w <= 0 || h <= 0 || w > FP_MAX_IMAGE_SIDE || h > FP_MAX_IMAGE_SIDE ||
      (long long)w * h > FP_MAX_IMAGE_PIXELS)
    return fp__seterr(
        err, FP_ERR_CORRUPT, "%s: image of %dx%d pixels refused (at most %dx%d and %d megapixels)",
        name, w, h, FP_MAX_IMAGE_SIDE, FP_MAX_IMAGE_SIDE, FP_MAX_IMAGE_PIXELS / (1024 * 1024));
  PIX *p = pixReadMem((const l_uint8 *)data, size);
  if (!p)
    return fp__seterr(err, FP_ERR_CORRUPT, "%s: not a readable PNG", name);
  if ((int)pixGetWidth(p) != w || (int)pixGetHeight(p) != h) {
    pixDestroy(&p);
    return fp__seterr(err, FP_ERR_CORRUPT, "%s: size differs from its header", name);
  }
  *out = p;
  return FP_OK;
}

int fp__file_read(const char *path, size_t limit, char **data, size_t *size, fp_error *err)
{
  *data = NULL;
  *size = 0;
  /* non-blocking: a FIFO planted in a folder must not hang the reader */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return fp__seterr(err, e == ENOENT ? FP_ERR_NOTFOUND : FP_ERR_IO, "%s: cannot read: %s", path,
                      strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fp__seterr(err, FP_ERR_IO, "%s: not a regular file", path);
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size > limit) {
    close(fd);
    return fp__seterr(err, FP_ERR_IO, "%s: larger than %zu bytes", path, limit);
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    close(fd);
    return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
  }
  for (;;) {
    if (n + 1 == cap) { /* the file grew while read: bounded still */
      if (cap > limit) {
        free(buf);
        close(fd);
        return fp__seterr(err, FP_ERR_IO, "%s: larger than %zu bytes", path, limit);
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        close(fd);
        return fp__seterr(err, FP_ERR_NOMEM, "out of memory");
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return fp__seterr(err, FP_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  *data = buf;
  *size = n;
  return FP_OK;
}

int fp_image_read(const char *path, PIX **out, fp_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
  if (!path || !out)
    return fp__seterr(err, FP_ERR_ARG, "fp_image_read: bad arguments");
  *out = NULL;
  char *data;
  size_t size;
  int rc = fp__file_read(path, MAX_FILE_BYTES, &data, &size, err);
  if (rc)
    return rc;
  rc = fp_image_read_mem(data, size, path, out, err);
  free(data);
  return rc;
}
