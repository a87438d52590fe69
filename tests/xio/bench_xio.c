/* bench_xio: capture and typing benchmarks (run by bench_xio.sh under a 1920x1080 Xvfb)
 *   bench_xio capture [N]            full-screen capture, MIT-SHM vs XGetImage, N each
 *   bench_xio import [N]             ImageMagick `import -window root` of the same screen
 *   bench_xio type FILE [DELAY_US]   vagt typing of FILE's first line into xterm
 *   bench_xio xdotool FILE [DELAY_MS] `xdotool type` of the same line into xterm
 * Typing is timed end to end: from the first key event until xterm's `head -n1` has
 * written the whole line; exactness = 1 - edit distance / length (in characters).
 */
#include "capture.h"
#include "input.h"
#include "keyseq.h"
#include "xerror.h"
#include "xio_common.h"
#include "vu.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void stats(const char *label, double *ms, int n, double *median_out)
{
  qsort(ms, (size_t)n, sizeof *ms, cmp_d);
  double med = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  int i95 = (int)(0.95 * (n - 1) + 0.5);
  printf("  %-40s median %8.2f ms   p95 %8.2f ms   min %8.2f ms   (n=%d)\n", label, med, ms[i95],
         ms[0], n);
  if (median_out)
    *median_out = med;
}

static int bench_capture(Display *dpy, int n)
{
  char err[256];
  double *ms = calloc((size_t)n, sizeof *ms);
  double med[2][3] = {{0}};
  printf("capture of the full screen %dx%d, %d runs each:\n", DisplayWidth(dpy, 0),
         DisplayHeight(dpy, 0), n);
  static const char *what[3] = {"-> 32 bpp PIX (rt_capture_screen)",
                                "raw frame (rt_capture_screen_frame)", "raw frame + rt_frame_hash"};
  for (int mode = 0; mode < 2; mode++) {
    rt_capture *cap = rt_capture_new(dpy);
    rt_capture_set_shm(cap, mode == 0);
    if (mode == 0 && !rt_capture_using_shm(cap))
      printf("  (MIT-SHM not available)\n");
    printf(" %s:\n", mode == 0 ? "MIT-SHM (XShmGetImage)" : "XGetImage");
    PIX *warm = rt_capture_screen(cap, err, sizeof err); /* segment creation */
    if (!warm) {
      fprintf(stderr, "capture failed: %s\n", err);
      return 1;
    }
    pixDestroy(&warm);
    for (int kind = 0; kind < 3; kind++) {
      volatile uint64_t sink = 0;
      for (int i = 0; i < n; i++) {
        double t0 = vu_mono();
        if (kind == 0) {
          PIX *p = rt_capture_screen(cap, err, sizeof err);
          ms[i] = (vu_mono() - t0) * 1000;
          if (!p) {
            fprintf(stderr, "capture failed: %s\n", err);
            return 1;
          }
          pixDestroy(&p);
        } else {
          rt_frame f;
          if (rt_capture_screen_frame(cap, &f, err, sizeof err) != 0) {
            fprintf(stderr, "capture failed: %s\n", err);
            return 1;
          }
          if (kind == 2)
            sink ^= rt_frame_hash(&f);
          ms[i] = (vu_mono() - t0) * 1000;
        }
      }
      (void)sink;
      char label[80];
      snprintf(label, sizeof label, "  %s", what[kind]);
      stats(label, ms, n, &med[mode][kind]);
    }
    rt_capture_free(cap);
  }
  rt_capture *cap = rt_capture_new(dpy);
  PIX *p = rt_capture_screen(cap, err, sizeof err);
  volatile uint64_t sink = 0;
  for (int i = 0; i < n; i++) {
    double t0 = vu_mono();
    sink ^= rt_pix_hash(p);
    ms[i] = (vu_mono() - t0) * 1000;
  }
  (void)sink;
  stats("rt_pix_hash of a 1080p PIX alone", ms, n, NULL);
  pixDestroy(&p);
  rt_capture_free(cap);
  printf("  XGetImage / MIT-SHM ratio: %.1fx (PIX), %.1fx (raw frame)\n", med[1][0] / med[0][0],
         med[1][1] / med[0][1]);
  printf("RESULT capture_shm_pix_ms=%.3f capture_shm_frame_ms=%.3f capture_xgetimage_pix_ms=%.3f "
         "capture_xgetimage_frame_ms=%.3f\n",
         med[0][0], med[0][1], med[1][0], med[1][1]);
  free(ms);
  return 0;
}

static int bench_import(int n)
{
  double *ms = calloc((size_t)n, sizeof *ms);
  char *argv[] = {"import", "-silent", "-window", "root", "rgb:/dev/null", NULL};
  for (int i = 0; i < n; i++) {
    double t0 = vu_mono();
    pid_t pid;
    if (posix_spawnp(&pid, "import", NULL, NULL, argv, environ) != 0) {
      fprintf(stderr, "cannot run import (ImageMagick)\n");
      return 1;
    }
    int st;
    waitpid(pid, &st, 0);
    ms[i] = (vu_mono() - t0) * 1000;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "import failed\n");
      return 1;
    }
  }
  double med;
  printf("ImageMagick `import -window root rgb:/dev/null` (whole process):\n");
  stats("import", ms, n, &med);
  printf("RESULT import_median_ms=%.3f\n", med);
  free(ms);
  return 0;
}

/* code point arrays and edit distance */
static size_t to_cps(const char *s, uint32_t **out)
{
  size_t len = strlen(s), off = 0, n = 0;
  uint32_t *v = malloc((len + 1) * sizeof *v);
  while (off < len) {
    uint32_t cp;
    if (rt_utf8_next(s, len, &off, &cp) != 0) {
      cp = 0xfffd;
      off++;
    }
    v[n++] = cp;
  }
  *out = v;
  return n;
}

static size_t edit_distance(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
  size_t *prev = malloc((m + 1) * sizeof *prev), *cur = malloc((m + 1) * sizeof *cur);
  for (size_t j = 0; j <= m; j++)
    prev[j] = j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
      if (prev[j] + 1 < c)
        c = prev[j] + 1;
      if (cur[j - 1] + 1 < c)
        c = cur[j - 1] + 1;
      cur[j] = c;
    }
    size_t *t = prev;
    prev = cur;
    cur = t;
  }
  size_t d = prev[m];
  free(prev);
  free(cur);
  return d;
}

static int bench_type(Display *dpy, const char *file, int use_xdotool, long delay)
{
  size_t tl;
  char *text = vu_read_file(file, 256u << 20, 0, &tl, NULL, 0);
  if (!text) {
    fprintf(stderr, "cannot read %s\n", file);
    return 1;
  }
  char *nl = strchr(text, '\n');
  if (nl)
    *nl = '\0';
  char out[256], name[64];
  snprintf(out, sizeof out, "/tmp/bench_xio_%d.out", (int)getpid());
  snprintf(name, sizeof name, "xiobench%d", (int)getpid());
  unlink(out);
  pid_t xt = xc_start_xterm(name, out);
  Window w = xt > 0 ? xc_wait_and_focus(dpy, name, 15000) : 0;
  if (!w) {
    fprintf(stderr, "xterm did not start\n");
    return 1;
  }
  rt_input *in = rt_input_new(dpy);
  char err[256] = "";
  double t0 = vu_mono();
  int rc = 0;
  if (!use_xdotool) {
    rc = rt_input_type(in, text, delay < 0 ? RT_INPUT_DELAY_DEFAULT : (unsigned)delay, err,
                       sizeof err);
    if (rc == 0)
      rc = rt_input_keys(in, "Return", err, sizeof err);
  } else {
    char dl[32];
    snprintf(dl, sizeof dl, "%ld", delay < 0 ? 12L : delay);
    char *argv[] = {"xdotool", "type", "--delay", dl, text, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "xdotool", NULL, NULL, argv, environ) != 0) {
      fprintf(stderr, "cannot run xdotool\n");
      return 1;
    }
    int st;
    waitpid(pid, &st, 0);
    rc = rt_input_keys(in, "Return", err, sizeof err);
  }
  if (rc != 0)
    fprintf(stderr, "typing failed: %s\n", err);
  /* end: head has written the line and exited */
  int st = -1;
  double t1 = 0, end = vu_mono() + 120;
  while (vu_mono() < end) {
    if (waitpid(xt, &st, WNOHANG) == xt) {
      t1 = vu_mono();
      break;
    }
    xc_sleep_ms(2);
  }
  if (!t1) {
    xc_wait_pid(xt, 0);
    t1 = vu_mono();
  }
  rt_input_free(in);
  size_t gl = 0;
  char *got = vu_read_file(out, 256u << 20, 0, &gl, NULL, 0);
  if (got && gl && got[gl - 1] == '\n')
    got[gl - 1] = '\0';
  uint32_t *a, *b;
  size_t n = to_cps(text, &a);
  size_t m = to_cps(got ? got : "", &b);
  size_t d = edit_distance(a, n, b, m);
  double exact = n ? 100.0 * (1.0 - (double)d / (double)n) : 100.0;
  if (exact < 0)
    exact = 0;
  const char *who = use_xdotool ? "xdotool type" : "vagt rt_input_type";
  printf("%-20s %5zu chars in %7.3f s = %7.1f chars/s, exactness %6.2f%% (%zu edits)%s\n", who, n,
         t1 - t0, n / (t1 - t0), exact, d, got && strcmp(got, text) == 0 ? ", identical" : "");
  if (got && strcmp(got, text) != 0) {
    /* show the first difference */
    size_t i = 0;
    while (i < n && i < m && a[i] == b[i])
      i++;
    printf("  first difference at character %zu: expected U+%04X, got U+%04X\n", i,
           i < n ? a[i] : 0, i < m ? b[i] : 0);
  }
  printf("RESULT %s chars_per_s=%.1f exactness_pct=%.2f\n", use_xdotool ? "xdotool" : "vagt",
         n / (t1 - t0), exact);
  free(a);
  free(b);
  free(got);
  free(text);
  unlink(out);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: bench_xio capture [N] | import [N] | type FILE [DELAY_US] | "
                    "xdotool FILE [DELAY_MS]\n");
    return 2;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "bench_xio: cannot open display\n");
    return 4;
  }
  rt_xerror_install();
  int r = 2;
  if (!strcmp(argv[1], "capture"))
    r = bench_capture(dpy, argc > 2 ? atoi(argv[2]) : 100);
  else if (!strcmp(argv[1], "import"))
    r = bench_import(argc > 2 ? atoi(argv[2]) : 10);
  else if (!strcmp(argv[1], "type") && argc > 2)
    r = bench_type(dpy, argv[2], 0, argc > 3 ? atol(argv[3]) : -1);
  else if (!strcmp(argv[1], "xdotool") && argc > 2)
    r = bench_type(dpy, argv[2], 1, argc > 3 ? atol(argv[3]) : -1);
  XCloseDisplay(dpy);
  return r;
}
