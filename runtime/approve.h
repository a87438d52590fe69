/* What `vagt approve` takes from a drift-halted run folder before it touches an image or a
 * baseline: run.json's record of the halted step, alert.json's agreement with it, and the
 * scene's windows and masks bounded to the screen. Pure functions of the parsed JSON (no
 * files, no OCR), so that every run folder a user can write is a fuzzed input. */
#ifndef VAGT_APPROVE_H
#define VAGT_APPROVE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "fp.h"

typedef struct rt_approve_win {
  fp_rect r; /* in the screen image, inside it */
  fp_win_role role;
  bool front;
  const char *win_class, *win_name; /* into the alert's JSON */
  fp_mask *masks;                   /* bounded to the window; owned */
  int nmasks;
} rt_approve_win;

typedef struct rt_approve_plan {
  const char *baseline, *key, *current; /* into run.json's JSON */
  int nw;
  rt_approve_win w[1 + FP_MAX_LAYERS]; /* the target first */
} rt_approve_plan;

/* run.json: a drift halt with its baseline, step key and an evidence/NAME.png image. -1
 * with err ("field 'x' ...") otherwise. Initialises p. */
int rt_approve_record(const cJSON *run, rt_approve_plan *p, char *err, size_t n);
/* alert.json names the same baseline, step and image as the record, where it names them. */
int rt_approve_agree(const cJSON *alert, const rt_approve_plan *p, char *err, size_t n);
/* alert.json's scene: 1 to 1 + FP_MAX_LAYERS windows inside a W x H screen, the target
 * first, masks clipped to their window. On -1 free p all the same. */
int rt_approve_scene(const cJSON *alert, int W, int H, rt_approve_plan *p, char *err, size_t n);
void rt_approve_plan_free(rt_approve_plan *p);

#endif
