/* `vagt inspect`: what the robot sees. Lists the windows (pop-up menus and lists too); for
 * one window, its scene as a step judges it (the window, its application's pop-ups and
 * dialogs, windows stacked over it) and every OCR word with its box (window-relative, as
 * scripts count), confidence and the window it lies in, optionally drawn into a PNG; or
 * the same for a PNG file. This is how a script writer finds labels and coordinates. */
#include "inspect.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/rt_ocr.h"
#include "run.h"
#include "scene.h"
#include "xio/capture.h"
#include "xwin.h"

static void usage(FILE *f)
{
  fputs("usage: vagt inspect [--display :N] [--window CLASS|TITLE-PART] [--png OUT.png]\n"
        "       vagt inspect --image IN.png [--png OUT.png] [--lang dan+eng]\n"
        "  no --window: list the windows and open pop-ups; with it: the window's scene (its\n"
        "  pop-up menus and lists, dialogs, windows over it) and every word OCR reads there,\n"
        "  window-relative\n",
        f);
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
           all[i].res_class ? all[i].res_class : "", all[i].res_name ? all[i].res_name : "", geo,
           all[i].title ? all[i].title : "");
  }
  rt_winfo_free(all, n);
  free(all);
  /* menus, combo lists, tooltips: override-redirect, often without a class */
  rt_xtop *st;
  size_t ns;
  if (rt_x_stack(dpy, &st, &ns) == 0) {
    Screen *scr = DefaultScreenOfDisplay(dpy);
    for (size_t i = ns; i-- > 0;) {
      if (!st[i].popup || st[i].x + st[i].w <= 0 || st[i].y + st[i].h <= 0 ||
          st[i].x >= WidthOfScreen(scr) || st[i].y >= HeightOfScreen(scr))
        continue;
      rt_winfo wi;
      bool ok = rt_x_winfo(dpy, st[i].client, &wi);
      char geo[64];
      snprintf(geo, sizeof geo, "%dx%d+%d+%d", st[i].cw, st[i].ch, st[i].cx, st[i].cy);
      printf("0x%-8lx %-16s %-16s %-22s (pop-up of client 0x%lx)\n", (unsigned long)st[i].client,
             ok && wi.res_class ? wi.res_class : "", ok && wi.res_name ? wi.res_name : "", geo,
             (unsigned long)st[i].owner);
      if (ok)
        rt_winfo_free(&wi, 1);
    }
    free(st);
  }
  return 0;
}

/* "behind": another window of the application under the target, judged with its scene
 * but not where the target's text is looked for (rt_scene_drop_behind). */
static const char *role_name(const rt_scene_win *w)
{
  return w->role == FP_WIN_TARGET   ? "window"
         : !w->front                ? "behind"
         : w->role == FP_WIN_POPUP  ? "pop-up"
         : w->role == FP_WIN_DIALOG ? "dialog"
                                    : "over";
}

/* What a script writer should know about a reading: unsure (confidence below 60), or a
 * lone character that may really be another ("g" for the key "9"). */
static void word_note(const rt_ocr_word *w, char *note, size_t n)
{
  char maybe[48], first[16];
  note[0] = 0;
  if (rt_ocr_maybe(w->text, maybe, sizeof maybe)) {
    snprintf(first, sizeof first, "%.*s", (int)strcspn(maybe, " "), maybe);
    snprintf(note, n, "   [may be %s: find_text(\"%s\") reads it again with care]", maybe, first);
  } else if (w->conf < 60)
    snprintf(note, n, "   [unsure: confidence %.0f]", (double)w->conf);
}

/* The scene of one window: its windows, then every word of the frame (window-relative),
 * with the scene window it lies in. */
static int inspect_scene(Display *dpy, Window win, const char *lang, const char *png_out)
{
  char err[1024];
  rt_run run = {.dpy = dpy, .capture = rt_capture_new(dpy)};
  rt_scene sc;
  if (!run.capture || rt_scene_list(&run, win, &sc, err, sizeof err) != 0 ||
      rt_scene_grab(&run, &sc, true, err, sizeof err) != 0) {
    fprintf(stderr, "vagt inspect: cannot capture the window: %s\n", run.capture ? err : "");
    rt_capture_free(run.capture);
    return RT_EXIT_ENV;
  }
  rt_scene_describe(&run, &sc);
  printf("# scene: %d window%s (window-relative places)\n", sc.n, sc.n == 1 ? "" : "s");
  for (int i = 0; i < sc.n; i++) {
    const rt_scene_win *w = &sc.win[i];
    printf("#   %-8s 0x%-8lx %-16s %4d %4d %4dx%-4d %s\n", role_name(w), (unsigned long)w->id,
           w->cls, w->x - sc.win[0].x, w->y - sc.win[0].y, w->w, w->h, w->title);
  }
  rt_ocr *ocr = rt_ocr_new(lang, err, sizeof err);
  if (!ocr) {
    fprintf(stderr, "vagt inspect: %s\n", err);
    rt_scene_free(&sc);
    rt_capture_free(run.capture);
    return rt_ocr_missing_language() ? RT_EXIT_ENV : RT_EXIT_USAGE;
  }
  rt_ocr_result res;
  int rc = 0;
  if (rt_ocr_words(ocr, sc.frame, NULL, &res, err, sizeof err) != RT_OCR_OK) {
    fprintf(stderr, "vagt inspect: OCR: %s\n", err);
    rc = RT_EXIT_ENV;
  } else {
    printf("# %zu words in %.0f ms; x y w h conf line window text [note]\n", res.n, res.ms);
    for (size_t i = 0; i < res.n; i++) {
      const rt_ocr_word *w = &res.words[i];
      int x, y, cx, cy;
      rt_scene_to_target(&sc, w->box.x, w->box.y, &x, &y);
      rt_scene_to_target(&sc, w->box.x + w->box.w / 2, w->box.y + w->box.h / 2, &cx, &cy);
      int k = rt_scene_window_at(&sc, cx, cy);
      char note[160];
      word_note(w, note, sizeof note);
      printf("%4d %4d %4d %4d %5.1f %3d %-7s %s%s\n", x, y, w->box.w, w->box.h, (double)w->conf,
             w->line + 1, k < 0 ? "-" : role_name(&sc.win[k]), w->text, note);
    }
    if (png_out) {
      PIX *out = rt_ocr_draw(sc.frame, &res);
      if (!out || pixWrite(png_out, out, IFF_PNG) != 0) {
        fprintf(stderr, "vagt inspect: cannot write %s\n", png_out);
        rc = RT_EXIT_USAGE;
      } else {
        fprintf(stderr,
                "vagt inspect: boxes drawn into %s (the scene; the window's origin at "
                "(%d,%d))\n",
                png_out, sc.win[0].x - sc.x, sc.win[0].y - sc.y);
      }
      pixDestroy(&out);
    }
    rt_ocr_result_free(&res);
  }
  rt_ocr_free(ocr);
  rt_scene_free(&sc);
  rt_capture_free(run.capture);
  return rc;
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
  printf("# %zu words in %.0f ms (%dx%d); x y w h conf line text [note]\n", res.n, res.ms,
         res.width, res.height);
  for (size_t i = 0; i < res.n; i++) {
    const rt_ocr_word *w = &res.words[i];
    char note[160];
    word_note(w, note, sizeof note);
    printf("%4d %4d %4d %4d %5.1f %3d %s%s\n", w->box.x, w->box.y, w->box.w, w->box.h,
           (double)w->conf, w->line + 1, w->text, note);
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
      {"display", required_argument, 0, 'd'},
      {"window", required_argument, 0, 'w'},
      {"png", required_argument, 0, 'p'},
      {"image", required_argument, 0, 'i'},
      {"lang", required_argument, 0, 'l'},
      {"help", no_argument, 0, 'h'},
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
    PIX *img = NULL;
    fp_error fe = {0};
    if (fp_image_read(image, &img, &fe) != FP_OK) { /* size checked before decoding */
      fprintf(stderr, "vagt inspect: %s\n", fe.message[0] ? fe.message : image);
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
               all[i].res_class ? all[i].res_class : "", all[i].title ? all[i].title : "", all[i].w,
               all[i].h, all[i].x, all[i].y);
      }
    rt_winfo_free(all, n);
    free(all);
  }
  if (!hit) {
    fprintf(stderr, "vagt inspect: no window with class '%s' or a title containing it\n", pattern);
    list_windows(dpy);
    XCloseDisplay(dpy);
    return RT_EXIT_SCRIPT;
  }
  rc = inspect_scene(dpy, hit, lang, png);
  XCloseDisplay(dpy);
  return rc;
}
