/* The brittleness monitor: the guard that records a fingerprint of every step's scene
 * (vagt record) and judges every step against it (vagt run), before any input is sent. On
 * a drift that outlasts the grace period it explains the drift with OCR and writes the
 * evidence (recorded, current and diff images of the scene) and alert.json. Dynamic
 * regions come only from evidence: declared (w:ignore, ignore = on one action), changed by
 * the robot's own input (typing, a display answering a click: a text line or three high,
 * never over a recorded label), and learned from several recordings (fingerprints/). */
#ifndef VAGT_MONITOR_H
#define VAGT_MONITOR_H

#include <stdbool.h>

#include "guard.h"

typedef struct rt_monitor rt_monitor;

/* dir: the baseline folder. record: store/merge instead of judging; replace: the first
 * recording of each key in this run replaces the stored entry. */
rt_monitor *rt_monitor_new(const char *dir, bool record, bool replace);
void rt_monitor_free(rt_monitor *m);
/* The guard to put in run->guard; valid while m lives. */
const rt_guard *rt_monitor_guard(rt_monitor *m);
/* w:ignore{...}: a region of window w ignored for the rest of the run. */
void rt_monitor_ignore(rt_monitor *m, Window w, rt_rect r);
/* w:sensitive{...}: a region of window w that holds data: not compared (as w:ignore), and
 * blanked in every evidence image unless the run keeps full evidence. */
void rt_monitor_sensitive(rt_monitor *m, Window w, rt_rect r);
/* The recorded labels of windows of class wclass known to this run (the baseline entries
 * judged so far), nearest to `like` first, with their recorded places: what an error may
 * say about a window without quoting what it shows. Nothing while recording. Returns the
 * length written to buf. */
size_t rt_monitor_labels(rt_monitor *m, const char *wclass, const char *like, char *buf, size_t n);
/* End of a recording that passed: the regions the robot changed in a window become data in
 * every entry of that window recorded in this run, and the recording's entries are stored
 * together (one switch: all or nothing). Returns how many entries the post-pass changed,
 * -1 + err (nothing stored). */
int rt_monitor_finish(rt_monitor *m, char *err, size_t errlen);
/* A recording that did not pass: its entries are dropped, the baseline stays as it was.
 * True when there was something to drop. (rt_monitor_free does the same.) */
bool rt_monitor_discard(rt_monitor *m);
/* Steps recorded, merged, matched in this run. */
void rt_monitor_counts(const rt_monitor *m, int *recorded, int *merged, int *matched);

struct rt_ocr;
struct fp_word;
/* Every OCR word of img as fingerprint words (for anchors); *n = -1 on error. */
struct fp_word *rt_monitor_words(struct rt_ocr *o, PIX *img, int *n, char *err, size_t errlen);
void rt_monitor_words_free(struct fp_word *w, int n);

/* `vagt approve RUN_DIR` (approve.c). */
int rt_cmd_approve(int argc, char **argv);

#endif
