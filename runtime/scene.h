/* A step's scene: everything the input aimed at a window can reach, as the screen shows it.
 * That is the target window, every other window of the same X client (pop-up menus and
 * combo lists, which are override-redirect and carry no WM_CLASS in Xaw and Motif; dialogs
 * of any class), and every window of another client stacked over the target. They are
 * captured together from the root window (a capture of the target alone shows a posted
 * menu as a black box) into one frame; each window is then judged in its own coordinates,
 * with the parts that other windows cover masked, so a dialog centred on the screen and a
 * main window that moved raise no alarm. OCR reads the frame, so menu entries and list
 * items are found by text like any other word. */
#ifndef VAGT_SCENE_H
#define VAGT_SCENE_H

#include <leptonica/allheaders.h>
#include <stdbool.h>
#include <stdint.h>

#include "fp.h"
#include "ocr/rt_ocr.h"
#include "run.h"
#include "xio/capture.h"
#include "xwin.h"

typedef struct rt_scene_win {
  Window id;         /* the application's window */
  fp_win_role role;  /* FP_WIN_TARGET for win[0] */
  bool front;        /* stacked over the target */
  int x, y, w, h;    /* its area, root coordinates */
  size_t stack;      /* index into the scene's stack (bottom first) */
  char *cls, *title; /* after rt_scene_describe ("" when it has none) */
} rt_scene_win;

typedef struct rt_scene {
  rt_scene_win *win; /* [0] the target, then the others front-most first */
  int n;
  rt_xtop *stack; /* every viewable root child, bottom to top (for occlusion) */
  size_t nstack;
  bool app_popup; /* a pop-up of the target's application is mapped */
  int x, y, w, h; /* the frame's area on the screen (root coordinates) */
  PIX *frame;     /* what the screen shows there; outside the scene's windows grey */
  uint64_t hash;  /* windows, places and pixels: equal hashes = nothing changed */
  rt_frame raw;   /* the last grab, valid until the next capture (rt_scene_pix) */
  bool have_raw;
} rt_scene;

/* Lists the scene of `target` (no pixels yet). 0, or -1 + err when the target is gone. */
int rt_scene_list(rt_run *run, Window target, rt_scene *s, char *err, size_t errlen);
/* Captures the listed scene's pixels: sets hash, and frame when `pix` (the conversion
 * costs a pass over the pixels; a settle loop hashes raw looks). 0 or -1 + err. */
int rt_scene_grab(rt_run *run, rt_scene *s, bool pix, char *err, size_t errlen);
/* The image of the last rt_scene_grab, with no new capture (no capture call in between). */
int rt_scene_pix(rt_scene *s, char *err, size_t errlen);
/* Fills cls and title of every window (a few round trips each). */
void rt_scene_describe(rt_run *run, rt_scene *s);
/* Window i's image in its own coordinates (off-screen parts black). Caller destroys. */
PIX *rt_scene_image(const rt_scene *s, int i);
/* Rectangles of window i that windows stacked over it cover, in its own coordinates, as
 * FP_MASK_OCCLUDED masks appended to *m (realloc'd); returns the new count. */
int rt_scene_occluded(const rt_scene *s, int i, fp_mask **m, int n);
/* Frame coordinates <-> the target's window-relative coordinates. */
void rt_scene_to_target(const rt_scene *s, int fx, int fy, int *x, int *y);
void rt_scene_from_target(const rt_scene *s, int x, int y, int *fx, int *fy);
/* The scene window under a target-relative point (front-most), or -1. */
int rt_scene_window_at(const rt_scene *s, int x, int y);
/* Drops the words (boxes target-relative) that another window of the application behind
 * the target shows beside it: the target's text is what the target and the windows in
 * front of it (its pop-ups, dialogs, any window over it) show. A d:click{ text = "OK" }
 * never lands in the main window behind dialog d. */
void rt_scene_drop_behind(const rt_scene *s, rt_ocr_result *res);
/* Index of the front-most pop-up, or -1. */
int rt_scene_newest_popup(const rt_scene *s);
void rt_scene_free(rt_scene *s);

#endif
