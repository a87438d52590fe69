/* replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on every file of the
 * folders given (the seed corpus and the past findings), so the gcc builds
 * replay them as ordinary tests. A crash fails the test; so does a missing
 * or empty folder given as the first argument (the corpus must be there). */
#include "fuzz_util.h"

#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf)
      abort();
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap)
      break;
    buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  /* a copy of exactly the input's size, so reads past its end are caught */
  uint8_t *in = malloc(n ? n : 1);
  if (!in)
    abort();
  memcpy(in, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(in, n);
  free(in);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR [MORE_DIRS...]\n", argv[0]);
    return 2;
  }
  int files = 0;
  for (int a = 1; a < argc; a++) {
    DIR *d = opendir(argv[a]);
    if (!d) {
      if (a == 1) {
        fprintf(stderr, "replay: no corpus folder %s\n", argv[a]);
        return 1;
      }
      continue; /* no past findings for this target */
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      struct stat st;
      if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        continue;
      if (run_file(path) != 0) {
        closedir(d);
        return 1;
      }
      files++;
    }
    closedir(d);
  }
  printf("replayed %d inputs\n", files);
  if (files == 0) {
    fprintf(stderr, "replay: the corpus is empty\n");
    return 1;
  }
  return 0;
}
