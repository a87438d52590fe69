/* `vagt inspect`: what the robot sees. Lists the top-level windows; for one window (or a
 * PNG file) every OCR word with its box and confidence, optionally drawn into a PNG. This
 * is how a script writer finds labels and coordinates. */
#include "inspect.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/rt_ocr.h"
#include "run.h"
#include "xio/capture.h"
#include "xwin.h"

static void usage(FILE *f)
{
  fputs("usage: vagt inspect [--display :N] [--window CLASS|TITLE-PART] [--png OUT.png]\n"
        "       vagt inspect --image IN.png [--png OUT.png] [--lang dan+eng]\n"
        "  no --window: list the windows; with it: every word OCR reads, window-relative\n", f);
}

static bool win_matches(const rt_winfo *w, const char *pat)
{
  return (w->res_class && strcmp(w->res_class, pat) == 0) ||
         (w->res_name && strcmp(w->res_name, pat) == 0) || (w->title && strstr(w->title, pat));
}

static int list_windows(Display *dpy)
{
  rt_winfo *all;
  size_t n;
  if (rt_x_toplevels(dpy, &all, &n) != 0) {
    fprintf(stderr, "vagt inspect: cannot list windows\n");
    return RT_EXIT_ENV;
  }
  printf("%-10s %-16s %-16s %-22s %s\n", "id", "class", "instance", "geometry", "title");
  for (size_t i = n; i-- > 0;) {
    if (!all[i].viewable)
      continue;
    char geo[64];
    snprintf(geo, sizeof geo, "%dx%d+%d+%d", all[i].w, all[i].h, all[i].x, all[i].y);
    printf("0x%-8lx %-16s %-16s %-22s %s\n", (unsigned long)all[i].id,
           all[i].res_class ? all[i].res_class : "", all[i].res_name ? all[i].res_name : "",
           geo, all[i].title ? all[i].title : "");
  }
  rt_winfo_free(all, n);
  free(all);
  return 0;
}

static int print_words(PIX *img, const char *lang, const char *png_out)
{
  char err[1024];
  rt_ocr *ocr = rt_ocr_new(lang, err, sizeof err);
  if (!ocr) {
    fprintf(stderr, "vagt inspect: %s\n", err);
    return rt_ocr_missing_language() ? RT_EXIT_ENV : RT_EXIT_USAGE;
  }
  rt_ocr_result res;
  if (rt_ocr_words(ocr, img, NULL, &res, err, sizeof err) != RT_OCR_OK) {
    fprintf(stderr, "vagt inspect: OCR: %s\n", err);
    rt_ocr_free(ocr);
    return RT_EXIT_ENV;
  }
  printf("# %zu words in %.0f ms (%dx%d); x y w h conf line text\n", res.n, res.ms,
         res.width, res.height);
  for (size_t i = 0; i < res.n; i++) {
    const rt_ocr_word *w = &res.words[i];
    printf("%4d %4d %4d %4d %5.1f %3d %s\n", w->box.x, w->box.y, w->box.w, w->box.h,
           (double)w->conf, w->line + 1, w->text);
  }
  int rc = 0;
  if (png_out) {
    PIX *out = rt_ocr_draw(img, &res);
    if (!out || pixWrite(png_out, out, IFF_PNG) != 0) {
      fprintf(stderr, "vagt inspect: cannot write %s\n", png_out);
      rc = RT_EXIT_USAGE;
    } else {
      fprintf(stderr, "vagt inspect: boxes drawn into %s\n", png_out);
    }
    pixDestroy(&out);
  }
  rt_ocr_result_free(&res);
  rt_ocr_free(ocr);
  return rc;
}

int rt_cmd_inspect(int argc, char **argv)
{
  static const struct option longopts[] = {
    {"display", required_argument, 0, 'd'}, {"window", required_argument, 0, 'w'},
    {"png", required_argument, 0, 'p'},     {"image", required_argument, 0, 'i'},
    {"lang", required_argument, 0, 'l'},    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  const char *display = NULL, *pattern = NULL, *png = NULL, *image = NULL, *lang = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': display = optarg; break;
    case 'w': pattern = optarg; break;
    case 'p': png = optarg; break;
    case 'i': image = optarg; break;
    case 'l': lang = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return RT_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return RT_EXIT_USAGE;
  }
  if (image) {
    PIX *img = pixRead(image);
    if (!img) {
      fprintf(stderr, "vagt inspect: cannot read image %s\n", image);
      return RT_EXIT_USAGE;
    }
    int rc = print_words(img, lang, png);
    pixDestroy(&img);
    return rc;
  }
  char err[1024];
  Display *dpy = rt_x_open(display, err, sizeof err);
  if (!dpy) {
    fprintf(stderr, "vagt inspect: %s\n", err);
    return RT_EXIT_ENV;
  }
  int rc = 0;
  if (!pattern) {
    rc = list_windows(dpy);
    XCloseDisplay(dpy);
    return rc;
  }
  rt_winfo *all;
  size_t n;
  Window hit = None;
  if (rt_x_toplevels(dpy, &all, &n) == 0) {
    for (size_t i = n; i-- > 0 && !hit;)
      if (all[i].viewable && win_matches(&all[i], pattern)) {
        hit = all[i].id;
        printf("# window 0x%lx %s '%s' %dx%d+%d+%d\n", (unsigned long)hit,
               all[i].res_class ? all[i].res_class : "", all[i].title ? all[i].title : "",
               all[i].w, all[i].h, all[i].x, all[i].y);
      }
    rt_winfo_free(all, n);
    free(all);
  }
  if (!hit) {
    fprintf(stderr, "vagt inspect: no window with class '%s' or a title containing it\n",
            pattern);
    list_windows(dpy);
    XCloseDisplay(dpy);
    return RT_EXIT_SCRIPT;
  }
  rt_capture *cap = rt_capture_new(dpy);
  PIX *img = cap ? rt_capture_window(cap, hit, err, sizeof err) : NULL;
  if (!img) {
    fprintf(stderr, "vagt inspect: cannot capture the window: %s\n", err);
    rc = RT_EXIT_ENV;
  } else {
    rc = print_words(img, lang, png);
  }
  pixDestroy(&img);
  rt_capture_free(cap);
  XCloseDisplay(dpy);
  return rc;
}
