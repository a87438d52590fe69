/* bench_ocr: figures for the screen-OCR engine (not a test: it prints, it does not judge).
 *
 *   bench_ocr [-l langs] [-d fixture-dir] [-r repeats] [--no-cli]
 *
 * For each fixture PNG with a .gt ground-truth file: label recall through rt_ocr_find
 * (and, for comparison, through the same find API on the `tesseract` command's own
 * words), find_text time cold (empty cache), when unchanged (cache), the `tesseract`
 * command on the same image and the ratio; RSS with the languages loaded. */
#include "ocr_gt.h"
#include "rt_ocr.h"
#include "vu.h"

#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef OCR_FIXTURE_DIR
#define OCR_FIXTURE_DIR "tests/ocr/fixtures"
#endif

static double cpu_self_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_children_ms(void)
{
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long status_kb(const char *key)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t kl = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':')
      v = atol(line + kl + 1);
  if (f)
    fclose(f);
  return v;
}

static void cpu_name(char *buf, size_t len)
{
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  int n = 0;
  snprintf(buf, len, "unknown");
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      if (!n) {
        char *c = strchr(line, ':');
        if (c) {
          c++;
          while (*c == ' ')
            c++;
          c[strcspn(c, "\n")] = 0;
          snprintf(buf, len, "%s", c);
        }
      }
      n++;
    }
  }
  if (f)
    fclose(f);
  size_t l = strlen(buf);
  snprintf(buf + l, len - l, ", %d logical CPUs", n);
}

static void loadavg(char *buf, size_t len)
{
  FILE *f = fopen("/proc/loadavg", "r");
  snprintf(buf, len, "?");
  if (f && fgets(buf, (int)len, f))
    buf[strcspn(buf, "\n")] = 0;
  if (f)
    fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n ? v[n / 2] : 0;
}

/* Run the tesseract command; its TSV words go into res (for the same find API). */
static double g_cli_cpu; /* CPU time of the last run_cli */
static double run_cli(const char *png, const char *langs, int single_thread, rt_ocr_result *res)
{
  double cc0 = cpu_children_ms();
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s tesseract '%s' stdout -l %s tsv 2>/dev/null",
           single_thread ? "OMP_THREAD_LIMIT=1" : "env -u OMP_THREAD_LIMIT", png, langs);
  memset(res, 0, sizeof *res);
  double t0 = (vu_mono() * 1e3);
  FILE *p = popen(cmd, "r");
  if (!p)
    return -1;
  char line[2048];
  size_t cap = 0;
  int lastkey = -1;
  while (fgets(line, sizeof line, p)) {
    int level, page, block, par, ln, word, x, y, w, h;
    float conf;
    int used = 0;
    if (sscanf(line, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%f\t%n", &level, &page, &block, &par,
               &ln, &word, &x, &y, &w, &h, &conf, &used) < 11 ||
        level != 5)
      continue;
    char *t = line + used;
    t[strcspn(t, "\r\n")] = 0;
    if (!*t || strspn(t, " ") == strlen(t))
      continue;
    if (res->n == cap) {
      cap = cap ? cap * 2 : 64;
      rt_ocr_word *nw = realloc(res->words, cap * sizeof *nw);
      if (!nw)
        break;
      res->words = nw;
    }
    int key = block * 10000 + par * 100 + ln;
    if (key != lastkey) {
      res->nlines++;
      lastkey = key;
    }
    res->words[res->n++] = (rt_ocr_word){strdup(t), {x, y, w, h}, conf, res->nlines - 1};
  }
  int st = pclose(p);
  double dt = (vu_mono() * 1e3) - t0;
  g_cli_cpu = cpu_children_ms() - cc0;
  return (st == 0) ? dt : -1;
}

typedef struct {
  char app[32];
  int total, found, found_region, cli_total, cli_found;
} app_sum;

int main(int argc, char **argv)
{
  rt_ocr_reexec_single_thread(argv);
  const char *langs = NULL, *dir = OCR_FIXTURE_DIR;
  int repeats = 5, cli = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-l") && i + 1 < argc)
      langs = argv[++i];
    else if (!strcmp(argv[i], "-d") && i + 1 < argc)
      dir = argv[++i];
    else if (!strcmp(argv[i], "-r") && i + 1 < argc)
      repeats = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-cli"))
      cli = 0;
    else {
      fprintf(stderr, "usage: bench_ocr [-l langs] [-d fixture-dir] [-r repeats] [--no-cli]\n");
      return 2;
    }
  }
  if (repeats < 1)
    repeats = 1;
  char cpu[256];
  cpu_name(cpu, sizeof cpu);
  char la[128];
  loadavg(la, sizeof la);
  printf("bench_ocr: CPU %s; OMP_THREAD_LIMIT=%s; load average at start: %s\n", cpu,
         getenv("OMP_THREAD_LIMIT") ? getenv("OMP_THREAD_LIMIT") : "(unset)", la);
  long rss0 = status_kb("VmRSS");
  double t0 = (vu_mono() * 1e3);
  char err[512];
  rt_ocr *o = rt_ocr_new(langs, err, sizeof err);
  if (!o) {
    fprintf(stderr, "bench_ocr: %s\n", err);
    return 4;
  }
  const char *L = rt_ocr_langs(o);
  printf("languages %s loaded in %.0f ms; RSS %.1f MB (before %.1f MB)\n\n", L,
         (vu_mono() * 1e3) - t0, status_kb("VmRSS") / 1024.0, rss0 / 1024.0);

  static const char *fx[] = {"demo",      "demo-prefill", "demo-theme",
                             "demo-font", "demo-renamed", "demo-renamed-prefill",
                             "xgc",       "xedit",        "xterm",
                             "xcalc",     "xfontsel",     "xmessage",
                             "xclipboard"};
  app_sum apps[16];
  int napps = 0;
  printf("%-20s %7s %5s | %7s %7s %7s %7s %5s | %7s %7s %7s %6s %6s | %s\n", "fixture", "size",
         "blobs", "find ms", "cpu ms", "warm ms", "all ms", "words", "cli1 ms", "cpu ms", "cli ms",
         "ratio", "cpu r.", "labels found (cli)");
  for (size_t f = 0; f < sizeof fx / sizeof *fx; f++) {
    char png[1024], gtp[1024];
    snprintf(png, sizeof png, "%s/%s.png", dir, fx[f]);
    snprintf(gtp, sizeof gtp, "%s/%s.gt", dir, fx[f]);
    PIX *img = pixRead(png);
    gt_list gt;
    if (!img || gt_load(gtp, &gt) != 0) {
      printf("%-20s (missing %s)\n", fx[f], img ? gtp : png);
      pixDestroy(&img);
      continue;
    }
    const char *probe = gt.n ? gt.items[0].text : "x";
    double cold[32], warm[32], coldcpu[32], full[32], cli1[32], cli1cpu[32];
    int nr = repeats > 32 ? 32 : repeats, ncli = 0;
    rt_ocr_result res = {0};
    rt_ocr_opts hinted = {.hint = probe};
    gt_score csc = {0};
    double c0 = -1;
    /* ours and the tesseract command in turn, so both see the same machine */
    for (int r = 0; r < nr; r++) {
      /* cold find, as w:find_text does it: empty cache, the words read with
       * the phrase as hint, one find */
      rt_ocr_cache_clear(o);
      rt_ocr_result_free(&res);
      double a = (vu_mono() * 1e3), ac = cpu_self_ms();
      rt_ocr_words(o, img, &hinted, &res, err, sizeof err);
      rt_ocr_match m;
      rt_ocr_find(&res, probe, NULL, &m, err, sizeof err);
      cold[r] = (vu_mono() * 1e3) - a;
      coldcpu[r] = cpu_self_ms() - ac;
      /* every word with full care (w:words, vagt inspect), empty cache */
      rt_ocr_cache_clear(o);
      rt_ocr_result_free(&res);
      a = (vu_mono() * 1e3);
      rt_ocr_words(o, img, NULL, &res, err, sizeof err);
      full[r] = (vu_mono() * 1e3) - a;
      if (cli && r < 3) {
        rt_ocr_result cr;
        cli1[ncli] = run_cli(png, L, 1, &cr);
        cli1cpu[ncli++] = g_cli_cpu;
        if (r == 0)
          gt_score_result(&cr, &gt, &csc, NULL);
        rt_ocr_result_free(&cr);
      }
    }
    if (cli) {
      rt_ocr_result cr;
      c0 = run_cli(png, L, 0, &cr);
      rt_ocr_result_free(&cr);
    }
    for (int r = 0; r < nr; r++) { /* unchanged window: cache */
      rt_ocr_result r2;
      double a = (vu_mono() * 1e3);
      rt_ocr_words(o, img, &hinted, &r2, err, sizeof err);
      rt_ocr_match m;
      rt_ocr_find(&r2, probe, NULL, &m, err, sizeof err);
      warm[r] = (vu_mono() * 1e3) - a;
      rt_ocr_result_free(&r2);
    }
    /* labels as scripts find them: one w:find_text per label, cache shared */
    rt_ocr_cache_clear(o);
    gt_score sc;
    gt_score_find(o, img, &gt, &sc, NULL);
    double c1 = ncli ? median(cli1, ncli) : -1, c1cpu = ncli ? median(cli1cpu, ncli) : -1;
    double cm = median(cold, nr), wm = median(warm, nr), ccpu = median(coldcpu, nr);
    double fm = median(full, nr);
    char size[32];
    snprintf(size, sizeof size, "%dx%d", res.width, res.height);
    printf("%-20s %7s %5d | %7.1f %7.1f %7.2f %7.1f %5zu | %7.0f %7.0f %7.0f %5.1fx %5.1fx | %d/%d",
           fx[f], size, res.blobs, cm, ccpu, wm, fm, res.n, c1, c1cpu, c0,
           c1 > 0 && cm > 0 ? c1 / cm : 0, c1cpu > 0 && ccpu > 0 ? c1cpu / ccpu : 0,
           sc.found + sc.found_region, sc.total);
    if (sc.found_region)
      printf(" (%d of them with region)", sc.found_region);
    if (cli)
      printf(" (cli %d/%d)", csc.found + csc.found_region, csc.total);
    printf("\n");
    rt_ocr_cache_clear(o);
    gt_score_find(o, img, &gt, &sc, stdout);
    /* per-app sums: the demo variants are one app */
    char app[32];
    snprintf(app, sizeof app, "%s", fx[f]);
    app[strcspn(app, "-")] = 0;
    int k;
    for (k = 0; k < napps; k++)
      if (!strcmp(apps[k].app, app))
        break;
    if (k == napps) {
      memset(&apps[k], 0, sizeof apps[k]);
      snprintf(apps[k].app, sizeof apps[k].app, "%s", app);
      napps++;
    }
    apps[k].total += sc.total;
    apps[k].found += sc.found;
    apps[k].found_region += sc.found_region;
    apps[k].cli_total += csc.total;
    apps[k].cli_found += csc.found + csc.found_region;
    rt_ocr_result_free(&res);
    gt_free(&gt);
    pixDestroy(&img);
  }
  printf("\nlabel recall per app (find at the right place; plain find + found with region):\n");
  for (int k = 0; k < napps; k++)
    printf("  %-10s %3d/%-3d = %5.1f%%   (plain %d, region %d)\n", apps[k].app,
           apps[k].found + apps[k].found_region, apps[k].total,
           100.0 * (apps[k].found + apps[k].found_region) / (apps[k].total ? apps[k].total : 1),
           apps[k].found, apps[k].found_region);
  if (cli)
    for (int k = 0; k < napps; k++)
      printf("  %-10s tesseract command + same find: %d/%d = %.1f%%\n", apps[k].app,
             apps[k].cli_found, apps[k].cli_total,
             100.0 * apps[k].cli_found / (apps[k].cli_total ? apps[k].cli_total : 1));

  /* a changed window: the labels stay cached, only the fields are new */
  {
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/demo.png", dir);
    snprintf(b, sizeof b, "%s/demo-prefill.png", dir);
    PIX *pa = pixRead(a), *pb = pixRead(b);
    if (pa && pb) {
      rt_ocr_result r;
      rt_ocr_cache_clear(o);
      rt_ocr_words(o, pa, NULL, &r, err, sizeof err);
      rt_ocr_result_free(&r);
      rt_ocr_words(o, pb, NULL, &r, err, sizeof err);
      printf("\npartly changed window (demo, then demo with data typed in): %.1f ms, %d of %d "
             "blobs from the cache\n",
             r.ms, r.blobs_cached, r.blobs);
      rt_ocr_result_free(&r);
    }
    pixDestroy(&pa);
    pixDestroy(&pb);
  }
  rt_ocr_stats st;
  rt_ocr_get_stats(o, &st);
  printf("RSS now %.1f MB, peak %.1f MB (limit 150 MB); recognition threads %d; OpenMP limited "
         "to 1 thread: %s; Tesseract calls %lu, blob cache hits %lu, image cache hits %lu\n",
         status_kb("VmRSS") / 1024.0, status_kb("VmHWM") / 1024.0, st.threads,
         st.omp_limited ? "yes" : "NO", st.recognitions, st.blob_hits, st.image_hits);
  printf("find = w:find_text cold: empty cache, the words read with the phrase as hint + one "
         "find (median of %d); warm = the same again (window unchanged); all = every word read "
         "with full care, empty cache (w:words); cli1 = `tesseract IMG stdout -l %s tsv` with "
         "OMP_THREAD_LIMIT=1 (median of 3, run in turn with ours), cli = default threads; "
         "ratio = cli1 / find (wall), cpu r. = the same in CPU time (ours: both threads); labels "
         "found = one find per label as a script does it\n",
         repeats > 32 ? 32 : repeats, L);
  loadavg(la, sizeof la);
  printf("load average at the end: %s (other work on the machine slows every figure above)\n", la);
  rt_ocr_free(o);
  return 0;
}
