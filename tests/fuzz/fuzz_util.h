/* fuzz_util.h - what the fuzz targets share: a private scratch folder (the
 * parsers under test read files) and writing an input into it. */
#ifndef VAGT_FUZZ_UTIL_H
#define VAGT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libFuzzer's entry point; the replay driver (replay.c) calls it too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];

static inline void fz_cleanup(void)
{
  if (!fz_dir[0])
    return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
}

/* The scratch folder, made on first use and removed at exit. */
static inline const char *fz_scratch(void)
{
  if (!fz_dir[0]) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fz_dir, sizeof fz_dir, "%s/vagt-fuzz-XXXXXX", base);
    if (!mkdtemp(fz_dir))
      abort();
    atexit(fz_cleanup);
  }
  return fz_dir;
}

/* Empties a folder of the scratch area (files only). */
#include <dirent.h>
static inline void fz_clear(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(d);
}

/* Writes size bytes to path (aborts when it cannot: the harness is broken). */
static inline int fz_write(const char *path, const void *data, size_t size)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  if (size && fwrite(data, 1, size, f) != size)
    abort();
  return fclose(f);
}

#endif
