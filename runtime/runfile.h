/* The run folder's files as data: every file name and JSON key that vagt writes into a run
 * folder (runfolder.c, monitor.c, approve.c) and that its readers (the report, `vagt approve`,
 * `vagt prune`, the agent's alerts, run records and web pages) look up. A key is named once
 * here; writers and readers use the name, so a renamed key cannot leave a reader behind.
 *
 * run.json, format RT_RUN_FORMAT (2): {"format": "vagt-run", "version": 2, "vagt", "script",
 * "mode", "started", "status", "steps_file", ... "exit_code", "error", "finished", "steps"
 * (a count), "last_step" (a step record), "ms", "steps_bytes", "items_need_person"}; the
 * steps themselves are lines of steps.jsonl. Format 1 (vagt before 2026-12) had no "format"
 * and "version" and listed every step record in an array "steps"; readers accept it
 * through rt_runjson_version(), rt_runjson_last_step() and rt_runjson_steps().
 * alert.json (a drift halt, written by the monitor) and approved.json (written by
 * `vagt approve`) carry no version: each has had one layout so far. */
#ifndef VAGT_RUNFILE_H
#define VAGT_RUNFILE_H

#include <cjson/cJSON.h>

/* ---- file names inside a run folder ---- */
#define RT_RUN_JSON "run.json"
#define RT_STEPS_JSONL "steps.jsonl"
#define RT_ALERT_JSON "alert.json"
#define RT_APPROVED_JSON "approved.json"
#define RT_REPORT_HTML "report.html"
#define RT_RUN_LOCK "run.lock" /* flock()ed while the run lives */

/* ---- run.json ---- */
#define RT_RUN_FORMAT 2        /* written */
#define RT_RUN_FORMAT_OLDEST 1 /* still read */
#define RT_RUN_FORMAT_NAME "vagt-run"
#define RT_RUNJ_FORMAT "format"   /* RT_RUN_FORMAT_NAME (format 2 on) */
#define RT_RUNJ_VERSION "version" /* RT_RUN_FORMAT (format 2 on) */
#define RT_RUNJ_VAGT "vagt"       /* the writing vagt's version */
#define RT_RUNJ_SCRIPT "script"
#define RT_RUNJ_MODE "mode"
#define RT_RUNJ_STARTED "started"
#define RT_RUNJ_FINISHED "finished"
#define RT_RUNJ_STATUS "status" /* "running", then the end's (rt_exit_status) */
#define RT_RUNJ_EXIT_CODE "exit_code"
#define RT_RUNJ_ERROR "error"
#define RT_RUNJ_STEPS_FILE "steps_file"   /* RT_STEPS_JSONL */
#define RT_RUNJ_STEPS "steps"             /* format 2: a count; format 1: the step records */
#define RT_RUNJ_LAST_STEP "last_step"     /* the last step record (format 2) */
#define RT_RUNJ_MS "ms"                   /* totals: RT_STEPJ_MS_SETTLE, _CAPTURE, _GUARD, _INPUT */
#define RT_RUNJ_STEPS_BYTES "steps_bytes" /* steps.jsonl's size */
#define RT_RUNJ_BASELINE "baseline"
#define RT_RUNJ_DISPLAY "display"
#define RT_RUNJ_WINDOW_MANAGER "window_manager"
#define RT_RUNJ_NEED_PERSON "items_need_person" /* [{"batch", "seq", "run"}] */
#define RT_NEEDJ_BATCH "batch"
#define RT_NEEDJ_SEQ "seq"
#define RT_NEEDJ_RUN "run" /* the run folder that left it, or null */

/* ---- a step record: a line of steps.jsonl, run.json's last_step ---- */
#define RT_STEPJ_N "n" /* 1-based; a line with "n" and no "key" amends step n */
#define RT_STEPJ_KEY "key"
#define RT_STEPJ_ACTION "action"
#define RT_STEPJ_NAME "step" /* robot.step path */
#define RT_STEPJ_ORDINAL "ordinal"
#define RT_STEPJ_FILE "file"
#define RT_STEPJ_LINE "line"
#define RT_STEPJ_WINDOW "window" /* {"id", "class"} */
#define RT_STEPJ_WINDOW_ID "id"
#define RT_STEPJ_WINDOW_CLASS "class"
#define RT_STEPJ_DETAIL "detail"
#define RT_STEPJ_VERDICT "verdict"
#define RT_STEPJ_REASON "reason"
#define RT_STEPJ_REASONS "reasons"
#define RT_STEPJ_EVIDENCE "evidence" /* {RT_EVJ_RECORDED, _CURRENT, _DIFF} */
#define RT_STEPJ_MS "ms"
#define RT_STEPJ_MS_SETTLE "settle"
/* of settle: waiting for the application to read the robot's last input; only when it
 * took 1 ms or more (an application busy, stopped or starved of CPU) */
#define RT_STEPJ_MS_READ "read"
#define RT_STEPJ_MS_CAPTURE "capture"
#define RT_STEPJ_MS_GUARD "guard"
#define RT_STEPJ_MS_INPUT "input"
#define RT_STEPJ_MS_TOTAL "total"
#define RT_STEPJ_SETTLED "settled"
#define RT_STEPJ_CAPTURE "capture" /* {"w", "h", "hash"} */
#define RT_STEPJ_CAPTURE_W "w"
#define RT_STEPJ_CAPTURE_H "h"
#define RT_STEPJ_CAPTURE_HASH "hash"

/* evidence images, relative to the run folder (step records and alert.json) */
#define RT_EVJ_RECORDED "recorded"
#define RT_EVJ_CURRENT "current"
#define RT_EVJ_DIFF "diff"

/* ---- alert.json ---- */
#define RT_ALERTJ_STATUS "status" /* "drift" */
#define RT_ALERTJ_EXIT_CODE "exit_code"
#define RT_ALERTJ_SCRIPT "script"
#define RT_ALERTJ_BASELINE "baseline"
#define RT_ALERTJ_STEP "step" /* {"key", "action", "name", "file", "line", "window_class"} */
#define RT_ALERTJ_STEP_KEY "key"
#define RT_ALERTJ_STEP_ACTION "action"
#define RT_ALERTJ_STEP_NAME "name"
#define RT_ALERTJ_STEP_FILE "file"
#define RT_ALERTJ_STEP_LINE "line"
#define RT_ALERTJ_STEP_WINDOW_CLASS "window_class"
#define RT_ALERTJ_REASONS "reasons"
#define RT_ALERTJ_TIME "time"
#define RT_ALERTJ_RUN "run"
#define RT_ALERTJ_REPORT "report"
#define RT_ALERTJ_EVIDENCE_MODE "evidence_mode" /* "full", "masked", "none" */
#define RT_ALERTJ_EVIDENCE "evidence"           /* {RT_EVJ_RECORDED, _CURRENT, _DIFF} */
#define RT_ALERTJ_SCENE "scene"                 /* {"windows": [...]} */
#define RT_ALERTJ_WINDOWS "windows"
#define RT_ALERTJ_WIN_ROLE "role" /* "target", "popup", "dialog", "over" */
#define RT_ALERTJ_WIN_FRONT "front"
#define RT_ALERTJ_WIN_CLASS "class"
#define RT_ALERTJ_WIN_NAME "name"
#define RT_ALERTJ_WIN_MASKS "masks"    /* [{x, y, w, h, "source"}] */
#define RT_ALERTJ_MASK_SOURCE "source" /* "declared", "occluded", "robot" */
#define RT_ALERTJ_X "x"                /* a window's or mask's rectangle */
#define RT_ALERTJ_Y "y"
#define RT_ALERTJ_W "w"
#define RT_ALERTJ_H "h"

/* ---- approved.json ---- */
#define RT_APPRJ_APPROVED "approved" /* when */
#define RT_APPRJ_STEP "step"         /* the step's key */
#define RT_APPRJ_BASELINE "baseline"
#define RT_APPRJ_BY "by"
#define RT_APPRJ_BY_SOURCE "by_source" /* "agent", "login" */
#define RT_APPRJ_APPROVERS "approvers"
#define RT_APPRJ_LOGIN_USER "login_user"
#define RT_APPRJ_RUN "run"
#define RT_APPRJ_REASONS "reasons"
#define RT_APPRJ_FILES_REPLACED "files_replaced"
#define RT_APPRJ_FILES "files"
#define RT_APPRJ_CARRIED_OVER "carried_over"

/* run.json's format: RT_RUN_FORMAT or an older one still read (format 1: no "format", a
 * "vagt" version and an array "steps"), 0 when `run` is no run.json vagt wrote (or one of
 * a newer format than this vagt reads). */
int rt_runjson_version(const cJSON *run);
/* The last step record (format 2's "last_step", format 1's last of "steps"), or NULL. */
const cJSON *rt_runjson_last_step(const cJSON *run);
/* How many steps the run took (format 2 counts them, format 1 listed them); 0 unknown. */
int rt_runjson_steps(const cJSON *run);

#endif
