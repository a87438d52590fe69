/* A run's folder (README "Running a robot"): runs/<UTC time>-<stem>/ created 0700, with
 * steps.jsonl (one line per step, appended before the step's input, so a kill -9 loses no
 * step that was acted on; synced at the end), run.json (the summary, format 2: status,
 * exit code, step count, the last step, timing totals; rewritten atomically when the
 * status changes and at the end), log.txt, report.html and evidence/. What a run keeps in
 * memory is bounded whatever its length (per-key counts, the last steps, the steps with
 * evidence). Text a robot types is never written, only its length.
 * The files' names, keys and format versions: runfile.h. */
#ifndef VAGT_RUNFOLDER_H
#define VAGT_RUNFOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runfile.h" /* RT_RUN_FORMAT, the files' keys */

typedef struct rt_steplog rt_steplog;

typedef struct rt_steprec {
  const char *key, *kind, *name; /* name: robot.step path, NULL outside named steps */
  int ordinal;
  const char *file;
  int line;
  unsigned long window;
  const char *wclass;
  const char *detail;   /* e.g. "17 chars", "ctrl+s", "(120,40)" */
  const char *verdict;  /* "recorded", "match", "drift", "error" */
  const char *reason;   /* first reason when not a match, or error text */
  char *const *reasons; /* every reason the guard gave */
  int nreasons;
  const char *evidence[3]; /* recorded, current, diff (relative to the run folder) */
  double t_settle, t_capture, t_guard, t_input, t_total; /* milliseconds */
  double t_read; /* of t_settle: until the application had read its input */
  bool settled;
  int cap_w, cap_h;
  uint64_t cap_hash;
} rt_steprec;

/* mkdir -p `runs` (0700) and a fresh `<runs>/<YYYYmmddTHHMMSSZ>-<stem>`; malloc'd path. */
char *rt_runfolder_create(const char *runs, const char *stem, char *err, size_t errlen);

rt_steplog *rt_steplog_new(const char *script, const char *mode);
void rt_steplog_free(rt_steplog *l);
/* Opens dir/steps.jsonl (0600) for the steps; without it steps are counted, not written. */
int rt_steplog_open(rt_steplog *l, const char *dir, char *err, size_t errlen);
void rt_steplog_set(rt_steplog *l, const char *field, const char *value);
/* Adds {"batch", "seq", "run"} to run.json's items_need_person: a robot.items item left
 * failed for a person, by batch name and row number (never its data), with the folder of
 * the run that left it (NULL: unknown). report.html lists them. */
void rt_steplog_need_person(rt_steplog *l, const char *batch, long long seq, const char *run);
/* Appends a step (one line of steps.jsonl); returns its number (1-based), 0 when the
 * line could not be written (err says why; the step is still counted). */
size_t rt_steplog_add(rt_steplog *l, const rt_steprec *s, char *err, size_t errlen);
/* A step's input failed after its line was written: appends {"n":, "verdict": "error",
 * "reason":} for step n (readers apply it to that step). */
void rt_steplog_amend(rt_steplog *l, size_t n, const char *reason, double input_ms);
/* A step's input was stopped part-way because the screen changed under it (a window
 * opened while typing): {"n":, "verdict": "drift", "reason":, "evidence":} for step n. */
void rt_steplog_amend_drift(rt_steplog *l, size_t n, const char *reason,
                            const char *const evidence[3], double input_ms);
/* Time spent sending a step's input, for the summary. */
void rt_steplog_input(rt_steplog *l, double ms);
size_t rt_steplog_count(const rt_steplog *l);
/* status: "running", "passed", "failed", "drift", "error". Writes dir/run.json atomically
 * (temp file, fsync, rename), mode 0600; when the run is over, syncs steps.jsonl first. */
int rt_steplog_write(rt_steplog *l, const char *dir, const char *status, int exit_code,
                     const char *error, char *err, size_t errlen);
/* Writes dir/report.html from the same record: the steps folded by key (with counts), the
 * last steps, and every step with evidence; at most 500 step rows whatever the run's length. */
int rt_report_write(rt_steplog *l, const char *dir, char *err, size_t errlen);

/* Every run holds an exclusive flock on dir/run.lock while it lives (taken by
 * rt_steplog_open). A run.json that says "running" while nobody holds the lock belongs to
 * a run that died without writing its end (SIGKILL, a crash, the machine stopped): this
 * marks it "killed" (exit code RT_EXIT_KILLED) from what steps.jsonl holds, and writes
 * its report. Returns 1 when it marked the folder, 0 when there was nothing to do (the
 * run ended, still runs, or was written by a vagt without run.lock), -1 with err. Any
 * reader of run folders may call it (approve, the agent, its pages); concurrent reapers
 * and the run itself are safe. */
#define RT_EXIT_KILLED 137
int rt_runfolder_reap(const char *dir, char *err, size_t errlen);

/* The final run.json and report.html written from the folder's files alone (run.json and
 * steps.jsonl), for the watchdog, which cannot trust the run's memory. Call it after
 * rt_runfolder_freeze. */
int rt_runfolder_end(const char *dir, const char *status, int exit_code, const char *error,
                     char *err, size_t errlen);

/* Stops every later write of this process to its run folder (steps, run.json, report,
 * alert, evidence: they block for good), waiting up to `wait` seconds for one in progress;
 * the watchdog then writes the end itself and exits. */
void rt_runfolder_freeze(double wait);

/* Writes `data` to dir/name atomically with mode 0600, through a temporary file of its own
 * (O_EXCL: a planted file or symlink is never opened); `name` may hold a sub-folder. */
int rt_write_file_atomic(const char *dir, const char *name, const char *data, size_t len, char *err,
                         size_t errlen);

/* Writes s to f with HTML's special characters escaped. */
void rt_html_esc(FILE *f, const char *s);

/* run.json's items_need_person as an HTML section (batch, row, the run that left it; never
 * an item's data); nothing when the list is empty or absent. For report.html and the pages. */
struct cJSON;
void rt_html_items_need_person(FILE *f, const struct cJSON *need);

#endif
