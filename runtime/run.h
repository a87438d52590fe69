/* The state of one `vagt run`: everything a robot's actions touch lives in one rt_run,
 * reachable from Lua through the registry. One run = one process = one display = one run
 * folder; keeping it so is what lets the same run work under the agent, a systemd timer or
 * a container job. */
#ifndef VAGT_RUN_H
#define VAGT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <X11/Xlib.h>

struct lua_State;
struct xdo;
struct rt_input;
struct rt_capture;
struct rt_steplog;
struct rt_guard;
struct rt_ocr;
struct rt_monitor;
struct rt_damage;
struct rt_appq;
struct rt_sel;

/* Exit status, as `vagt --help` and README list them. */
enum {
  RT_EXIT_OK = 0,
  RT_EXIT_SCRIPT = 1,
  RT_EXIT_USAGE = 2,
  RT_EXIT_DRIFT = 3,
  RT_EXIT_ENV = 4,
  /* The script passed, but robot.items left work items for a person (failed, not
   * retried): run.json's status "needs_review", its items_need_person lists them. */
  RT_EXIT_REVIEW = 5,
};

typedef enum { RT_MODE_RUN, RT_MODE_RECORD, RT_MODE_CHECK } rt_mode;

/* Why the script must stop now. Once set it is never cleared: the count hook re-raises on
 * every instruction and every API call refuses, so `pcall` cannot swallow it. */
typedef enum {
  RT_ABORT_NONE = 0,
  RT_ABORT_SCRIPT_TIMEOUT,
  RT_ABORT_STEP_TIMEOUT,
  RT_ABORT_DRIFT,
  RT_ABORT_INTERRUPT,
  RT_ABORT_DISPLAY,
  RT_ABORT_CONFIG, /* a corrupt baseline and the like: exit 2 */
} rt_abort;

typedef struct rt_app {
  pid_t pid;
  bool keep;
  bool exited;
  int status;
  char *name;
  Window *known; /* top-level windows that existed when it started */
  size_t nknown;
} rt_app;

typedef struct rt_step_frame {
  char *name;   /* full path "outer/inner" */
  int ordinal;  /* unnamed actions so far inside this invocation */
  char **names; /* the action names (key = ...) used in this invocation */
  int nnames;
  double deadline; /* monotonic seconds, 0 = none */
} rt_step_frame;

/* What evidence images keep of the screen (robot.evidence, vagt run --evidence). */
typedef enum {
  RT_EVIDENCE_MASKED = 0, /* data regions blanked when the image is written (default) */
  RT_EVIDENCE_NONE,       /* no images */
  RT_EVIDENCE_FULL,       /* the screen as it was: an operator's explicit choice */
} rt_evidence;

typedef struct rt_run {
  rt_mode mode;
  const char *script;      /* path as given */
  const char *script_base; /* file name part, used in step keys */
  char *stem;

  Display *dpy;
  struct xdo *xdo;
  struct rt_input *input;
  struct rt_capture *capture;
  struct rt_ocr *ocr;             /* loaded on first use, with robot.ocr.lang */
  struct rt_ocr_preload *ocr_pre; /* the default languages loading since the run began */
  rt_evidence evidence;           /* robot.evidence (api.c), unless --evidence was given */
  bool evidence_fixed;            /* --evidence given: the operator's choice stands */
  bool ewmh;                      /* an EWMH window manager answers _NET_ACTIVE_WINDOW */
  struct rt_damage *damage;       /* the server's drawing signals; NULL: compare captures */
  struct rt_appq *appq;           /* whether the target's client read its input (step.c) */
  unsigned long appq_win;         /* the window appq was found for; 0: none looked up */
  struct rt_sel *sel;             /* robot.clipboard's connection and thread, from first use */
  const struct rt_guard *guard;   /* judges every step; NULL = record only */
  struct rt_monitor *monitor;     /* the guard behind it, for w:ignore */

  char *run_dir; /* NULL in check mode */
  struct rt_steplog *steps;

  rt_app **apps;
  size_t napps;
  struct rt_allow *allow; /* what robots may start and read; NULL: anything the user may */

  rt_step_frame *frames;
  size_t nframes, cframes;
  /* Every step key acted on in this run, with the script line and target of its action:
   * a key that changes both changed its meaning (step.c). */
  struct rt_keyline {
    char *key, *file, *sig;
    int line;
    bool told;
  } * keylines;
  size_t nkeylines;

  char **secrets; /* values handed out, redacted from every output */
  size_t nsecrets;
  /* the words the robot typed in this run (memory only, wiped at the end): data wherever
   * an application shows them again (a name copied into a dialog), never an anchor */
  char **typed;
  size_t ntyped;
  const char *secrets_file;

  double started;         /* monotonic */
  double script_deadline; /* monotonic, 0 = none */
  double step_timeout;    /* default per named step */

  unsigned buttons_held; /* mouse buttons the robot pressed and has not released (bits) */
  unsigned long nlooks;  /* guarded steps begun, for the guard's per-step state */

  volatile rt_abort abort;
  char *abort_msg;
  bool halted_in_input; /* the drift halt came part-way through a step's input (keywatch.h) */
  bool end_drift;       /* the drift halt came at the look after the last step */
  Window last_win;      /* the window of the last step that sent input, for the end look */
  char last_file[512];  /* and its script position */
  int last_line;
  int exit_code;     /* what the run ends with when the script fails */
  char *error;       /* final message, redacted */
  char *error_where; /* "file:line" of the failure */

  int items_need_person; /* work items robot.items left failed for a person (l_items.c) */
  /* Asked right before a step sends its input (after the guard judged the screen): nonzero
   * refuses, with the reason in err, and the step fails without sending anything. A fleet's
   * robot.items records "input sent" for its item here first (l_items.c). */
  int (*input_gate)(struct rt_run *run, void *ud, const char *where, char *err, size_t n);
  void *input_gate_ud;

  unsigned long long log_script_bytes; /* what robot.log and print have written */
  bool log_capped; /* RT_LOG_SCRIPT_MAX reached: the script's messages are dropped */

  struct lua_State *L;
} rt_run;

/* The earliest deadline in force (the script's, the steps'), 0 when none. */
double rt_run_deadline(const rt_run *run);
/* Sleep up to `secs`, waking early when the run is aborted. Returns false when aborted. */
bool rt_sleep(rt_run *run, double secs);

/* Mark the run as aborted (first reason wins) and keep the message. */
void rt_run_abort(rt_run *run, rt_abort why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rt_abort_exit_code(rt_abort why);
/* run.json's status for a run ending with `code`: "passed", "needs_review" (5: passed,
 * with work items left for a person), "failed", "timeout" (the script deadline), "drift",
 * "interrupted" (130), "error". */
const char *rt_run_status(const rt_run *run, int code);

/* The run's OCR engine with robot.ocr.lang, loaded on first use (l_ocr.c); NULL + err
 * when the language data is missing (run->exit_code is then 4). Never raises. */
struct rt_ocr *rt_ocr_get(rt_run *run, char *err, size_t errlen);

/* Starts loading the default OCR languages on a thread of its own, so that loading
 * overlaps with starting the application and waiting for its window; rt_ocr_get takes
 * the result (waiting for it if need be) when robot.ocr.lang is the default. Without a
 * thread, nothing happens and rt_ocr_get loads as before. */
void rt_ocr_preload(rt_run *run);

/* Waits for a load still running and frees the run's engines. */
void rt_ocr_release(rt_run *run);

/* Replace every secret handed out to the script by "***"; returns a malloc'd string. */
/* Notes the words of text the robot types (at most RT_TYPED_MAX, in memory only). */
#define RT_TYPED_MAX 1024
void rt_note_typed(rt_run *run, const char *text);
/* Wipes and frees them. */
void rt_typed_free(rt_run *run);

/* True when s holds one of the secrets handed out to the script (robot.secret). */
bool rt_holds_secret(const rt_run *run, const char *s);
char *rt_redact(const rt_run *run, const char *s);

/* Logging to stderr and the run folder's log, always redacted (secrets are masked before a
 * message longer than RT_LOG_LINE_MAX is cut). */
#define RT_LOG_LINE_MAX 4096
void rt_log(rt_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the script logs (robot.log, print), as "[file:line] text": at most
 * RT_LOG_SCRIPT_MAX bytes a run, then one line says the log is full and the rest is
 * dropped, so a logging loop cannot fill the disk. */
#define RT_LOG_SCRIPT_MAX ((unsigned long long)4 << 20)
void rt_log_script(rt_run *run, const char *file, int line, const char *text);

/* The baseline folder a script uses when none is given: SCRIPT_STEM.baseline beside it
 * (malloc'd, NULL when out of memory). */
char *rt_baseline_default(const char *script);

#endif
