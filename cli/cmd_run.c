/* vagt run / vagt record: the life of one run, from the display to the last file of its
 * run folder, on every exit path (the watchdog ends it when the script does not come
 * back). Reading guide: cli_run() below, then rt_host_run() (runtime/host.c) and
 * rt_step_run() (runtime/step.c), where every action is settled, judged by the monitor
 * (runtime/monitor.c, fingerprints/) and sent; OCR is runtime/ocr/, the step log and
 * report runtime/runfolder.c; the agent (agent/) starts this same command for its runs. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xdo.h>

#include "allow.h"
#include "cmd.h"
#include "host.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "proc.h"
#include "run.h"
#include "runfolder.h"
#include "step.h"
#include "xio/appq.h"
#include "xio/capture.h"
#include "xio/damage.h"
#include "xio/input.h"
#include "xio/selection.h"
#include "watchdog.h"
#include "xvfb.h"
#include "xwin.h"
#include "vu.h"

static rt_run *g_run; /* for the signal and X I/O error handlers */
static volatile sig_atomic_t g_signals;

void cli_on_signal(int sig)
{
  (void)sig;
  /* While a script runs, the watchdog ends the run if the script does not come back. */
  if (!rt_watchdog_signal() && (++g_signals > 1 || !g_run)) {
    rt_proc_kill_all_now();
    _exit(130);
  }
  if (g_run && !g_run->abort)
    g_run->abort = RT_ABORT_INTERRUPT;
  if (g_run)
    rt_host_arm(g_run);
}

static void finish(rt_run *run, const char *status, int code);

static int on_x_io_error(Display *dpy)
{
  /* Another connection of the run (robot.clipboard's, on a thread of its own) ends its
   * thread by its exit handler; the run notices on its own connection. */
  if (g_run && g_run->dpy && dpy != g_run->dpy)
    return 0;
  if (g_run) {
    g_run->dpy = NULL;
    finish(g_run, "error", RT_EXIT_ENV);
  }
  fprintf(stderr, "vagt: the connection to the X display was lost\n");
  rt_proc_kill_all_now();
  _exit(RT_EXIT_ENV);
}

static char *stem_of(const char *path)
{
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  char *s = strdup(b);
  char *dot = s ? strrchr(s, '.') : NULL;
  if (dot && dot != s)
    *dot = '\0';
  return s;
}

/* Ends the applications, restores the keymap, writes the final run.json and report. */
static void finish(rt_run *run, const char *status, int code)
{
  rt_step_drain(run, 2.0);
  for (size_t i = 0; i < run->napps; i++) {
    rt_app *a = run->apps[i];
    if (!a->keep && !a->exited)
      rt_proc_stop(a->pid, 2.0);
    a->exited = true;
  }
  if (run->input && run->dpy)
    rt_input_restore(run->input);
  if (run->run_dir) { /* an application that printed nothing leaves no empty apps.log */
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/apps.log", run->run_dir);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
      unlink(path);
  }
  if (run->run_dir && run->steps) {
    char err[512];
    if (rt_steplog_write(run->steps, run->run_dir, status, code, run->error, err, sizeof err) !=
            0 ||
        rt_report_write(run->steps, run->run_dir, err, sizeof err) != 0)
      fprintf(stderr, "vagt: %s\n", err);
  }
}

typedef struct {
  const char *script, *display, *runs, *secrets, *screen, *baseline;
  bool xvfb, replace;
  int evidence; /* rt_evidence, or -1: the robot's choice, masked by default */
  double timeout, step_timeout;
  char **params;
  int nparams;
  char **allow; /* "p" or "f" then the entry, from --allow-program / --allow-file */
  int nallow;
} run_opts;

static int parse_run_opts(int argc, char **argv, run_opts *o)
{
  static const struct option longopts[] = {
      {"display", required_argument, 0, 'd'},
      {"xvfb", no_argument, 0, 'x'},
      {"runs", required_argument, 0, 'r'},
      {"set", required_argument, 0, 's'},
      {"timeout", required_argument, 0, 't'},
      {"step-timeout", required_argument, 0, 'T'},
      {"secrets", required_argument, 0, 'S'},
      {"screen", required_argument, 0, 'g'},
      {"baseline", required_argument, 0, 'b'},
      {"help", no_argument, 0, 'h'},
      {"replace", no_argument, 0, 'R'},
      {"evidence", required_argument, 0, 'e'},
      {"allow-program", required_argument, 0, 'P'},
      {"allow-file", required_argument, 0, 'F'},
      {0, 0, 0, 0},
  };
  memset(o, 0, sizeof *o);
  o->runs = "runs";
  o->screen = "1920x1080x24";
  o->timeout = 3600;
  o->step_timeout = 600;
  o->evidence = -1;
  o->params = calloc((size_t)argc, sizeof *o->params);
  o->allow = calloc((size_t)argc * 2, sizeof *o->allow);
  if (!o->params || !o->allow)
    return RT_EXIT_ENV;
  optind = 1;
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': o->display = optarg; break;
      case 'x': o->xvfb = true; break;
      case 'r': o->runs = optarg; break;
      case 's': o->params[o->nparams++] = optarg; break;
      case 'S': o->secrets = optarg; break;
      case 'g': o->screen = optarg; break;
      case 'b': o->baseline = optarg; break;
      case 'R': o->replace = true; break;
      case 'P':
      case 'F':
        o->allow[o->nallow++] = c == 'P' ? "p" : "f";
        o->allow[o->nallow++] = optarg;
        break;
      case 'e':
        o->evidence = !strcmp(optarg, "masked") ? RT_EVIDENCE_MASKED
                      : !strcmp(optarg, "none") ? RT_EVIDENCE_NONE
                      : !strcmp(optarg, "full") ? RT_EVIDENCE_FULL
                                                : -1;
        if (o->evidence < 0) {
          fprintf(stderr, "vagt: --evidence: expected masked, none or full, got '%s'\n", optarg);
          return RT_EXIT_USAGE;
        }
        break;
      case 't':
      case 'T': {
        double v = strtod(optarg, &end);
        if (*end || v <= 0) {
          fprintf(stderr, "vagt: --%s: expected a number of seconds > 0, got '%s'\n",
                  c == 't' ? "timeout" : "step-timeout", optarg);
          return RT_EXIT_USAGE;
        }
        *(c == 't' ? &o->timeout : &o->step_timeout) = v;
        break;
      }
      case 'h': cli_usage(stdout); exit(0);
      default: cli_usage(stderr); return RT_EXIT_USAGE;
    }
  }
  if (o->xvfb && o->display) {
    fprintf(stderr, "vagt: give --display or --xvfb, not both\n");
    return RT_EXIT_USAGE;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vagt: expected one SCRIPT.lua\n");
    cli_usage(stderr);
    return RT_EXIT_USAGE;
  }
  o->script = argv[optind];
  return 0;
}

/* --allow-program / --allow-file: any of them puts the run under an allow-list (what is
 * not listed may not be started or read). NULL and *ok false on a bad entry. */
static rt_allow *allow_list(const run_opts *o, bool *ok)
{
  *ok = true;
  if (!o->nallow)
    return NULL;
  rt_allow *a = rt_allow_new();
  char err[1024] = "out of memory";
  for (int i = 0; a && i < o->nallow; i += 2) {
    bool prog = o->allow[i][0] == 'p';
    int rc = prog ? rt_allow_add_program(a, o->allow[i + 1], err, sizeof err)
                  : rt_allow_add_file(a, o->allow[i + 1], err, sizeof err);
    if (rc != 0) {
      fprintf(stderr, "vagt: --allow-%s %s: %s\n", prog ? "program" : "file", o->allow[i + 1], err);
      rt_allow_free(a);
      *ok = false;
      return NULL;
    }
  }
  if (!a) {
    fprintf(stderr, "vagt: out of memory\n");
    *ok = false;
  }
  return a;
}

static int cmd_run(int argc, char **argv, bool record)
{
  run_opts o;
  int rc = parse_run_opts(argc, argv, &o);
  if (rc) {
    free(o.params);
    free(o.allow);
    return rc;
  }
  if (o.replace && !record) {
    fprintf(stderr, "vagt: --replace belongs to vagt record\n");
    free(o.params);
    free(o.allow);
    return RT_EXIT_USAGE;
  }
  if (access(o.script, R_OK) != 0) {
    fprintf(stderr, "vagt: cannot read script %s: %m\n", o.script);
    free(o.params);
    free(o.allow);
    return RT_EXIT_USAGE;
  }
  bool allow_ok;
  rt_allow *allow = allow_list(&o, &allow_ok);
  if (!allow_ok) {
    free(o.params);
    free(o.allow);
    return RT_EXIT_USAGE;
  }
  rt_run run = {.mode = record ? RT_MODE_RECORD : RT_MODE_RUN,
                .script = o.script,
                .secrets_file = o.secrets,
                .allow = allow};
  char *baseline = o.baseline ? strdup(o.baseline) : rt_baseline_default(o.script);
  rt_monitor *mon = baseline ? rt_monitor_new(baseline, record, o.replace) : NULL;
  if (!mon) {
    fprintf(stderr, "vagt: out of memory\n");
    free(baseline);
    free(o.params);
    free(o.allow);
    rt_allow_free(allow);
    return RT_EXIT_ENV;
  }
  run.guard = rt_monitor_guard(mon);
  run.monitor = mon;
  run.stem = stem_of(o.script);
  run.step_timeout = o.step_timeout;
  if (o.evidence >= 0) {
    run.evidence = (rt_evidence)o.evidence;
    run.evidence_fixed = true;
  }
  g_run = &run;
  char err[1024] = "";
  int code = RT_EXIT_OK;
  pid_t xvfb = -1;
  char dname[64];
  const char *display = o.display;

  if (o.xvfb) {
    xvfb = rt_xvfb_start(o.screen, dname, sizeof dname, err, sizeof err);
    if (xvfb < 0) {
      fprintf(stderr, "vagt: %s\n", err);
      code = RT_EXIT_ENV;
      goto out;
    }
    display = dname;
    setenv("DISPLAY", dname, 1); /* the applications the robot starts use it too */
  } else if (display) {
    setenv("DISPLAY", display, 1);
  }
  XSetIOErrorHandler(on_x_io_error);
  run.dpy = rt_x_open(display, err, sizeof err);
  if (!run.dpy) {
    fprintf(stderr, "vagt: %s\n", err);
    code = RT_EXIT_ENV;
    goto out;
  }
  run.xdo = xdo_new_with_opened_display(run.dpy, NULL, 0);
  run.input = rt_input_new(run.dpy);
  run.capture = rt_capture_new(run.dpy);
  if (!run.xdo || !run.input || !run.capture) {
    fprintf(stderr, "vagt: the display %s lacks the XTEST extension (or memory is short)\n",
            DisplayString(run.dpy));
    code = RT_EXIT_ENV;
    goto out;
  }
  run.xdo->quiet = 1;
  run.ewmh = rt_x_ewmh(run.dpy);
  /* settle by the server's drawing signals; VAGT_NO_DAMAGE=1 compares captures instead */
  const char *nd = getenv("VAGT_NO_DAMAGE");
  if (!nd || !*nd || strcmp(nd, "0") == 0)
    run.damage = rt_damage_new(run.dpy);

  rt_ocr_preload(&run); /* overlaps with the script's start of its application */
  run.run_dir = rt_runfolder_create(o.runs, run.stem, err, sizeof err);
  if (!run.run_dir) {
    fprintf(stderr, "vagt: %s\n", err);
    code = RT_EXIT_ENV;
    goto out;
  }
  run.steps = rt_steplog_new(o.script, record ? "record" : "run");
  if (!run.steps || rt_steplog_open(run.steps, run.run_dir, err, sizeof err) != 0) {
    fprintf(stderr, "vagt: %s\n", run.steps ? err : "out of memory");
    code = RT_EXIT_ENV;
    goto out;
  }
  rt_steplog_set(run.steps, RT_RUNJ_BASELINE, baseline);
  rt_steplog_set(run.steps, RT_RUNJ_DISPLAY, DisplayString(run.dpy));
  rt_steplog_set(run.steps, RT_RUNJ_WINDOW_MANAGER, run.ewmh ? "ewmh" : "none or non-EWMH");
  if (rt_steplog_write(run.steps, run.run_dir, "running", 0, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "vagt: %s\n", err);
    code = RT_EXIT_ENV;
    goto out;
  }
  run.started = vu_mono();
  run.script_deadline = run.started + o.timeout;
  rt_watchdog_start(run.run_dir, run.script_deadline, o.timeout);
  bool ran = false;
  code = rt_host_open(&run, o.params, o.nparams, err, sizeof err);
  if (code != RT_EXIT_OK) {
    run.error = strdup(err);
    fprintf(stderr, "vagt: %s\n", err);
  } else {
    rt_log(&run, "vagt %s: running %s on %s%s, run folder %s", VAGT_VERSION, o.script,
           DisplayString(run.dpy), xvfb > 0 ? " (private Xvfb)" : "", run.run_dir);
    code = rt_host_run(&run);
    ran = true;
    if (code == RT_EXIT_OK || code == RT_EXIT_REVIEW) {
      /* what the last input did is judged too: a look after the last step */
      rt_step_result res;
      rt_step_status st = rt_step_end_look(&run, &res);
      if (st == RT_STEP_STOPPED && run.abort) {
        code = rt_abort_exit_code(run.abort);
        free(run.error);
        run.error = run.abort_msg ? rt_redact(&run, run.abort_msg) : NULL;
      } else if (st == RT_STEP_FAILED) {
        rt_log(&run, "vagt: the look after the last step could not be made: %s", res.msg);
      }
    }
  }
  rt_host_close(&run); /* finalizers run here: still the script's time */
  rt_watchdog_disarm();
  bool stored = false;
  if (record && ran && (code == RT_EXIT_OK || code == RT_EXIT_REVIEW)) {
    int n = rt_monitor_finish(mon, err, sizeof err);
    if (n < 0) {
      rt_log(&run, "vagt: %s", err);
      code = RT_EXIT_ENV;
    }
    stored = n >= 0;
  } else if (record) {
    rt_monitor_discard(mon);
  }
  finish(&run, rt_run_status(&run, code), code);
  if (code != RT_EXIT_OK && code != RT_EXIT_DRIFT && run.error)
    fprintf(stderr, "vagt: %s\n", run.error);
  int nrec, nmerged, nmatch;
  rt_monitor_counts(mon, &nrec, &nmerged, &nmatch);
  if (record && stored)
    fprintf(stderr, "vagt: baseline %s: %d step%s recorded, %d merged\n", baseline, nrec,
            nrec == 1 ? "" : "s", nmerged);
  else if (record)
    fprintf(stderr,
            "vagt: baseline %s left as it was: a recording is stored only when its "
            "run passes\n",
            baseline);
  if (code == RT_EXIT_DRIFT)
    fprintf(stderr, "vagt: HALTED %s: %s\nvagt: report: %s/report.html\n",
            run.end_drift         ? "after the last step (its input was sent; what it did "
                                    "differs from the recording)"
            : run.halted_in_input ? "part-way through a step's input"
                                  : "before sending input",
            run.abort_msg ? run.abort_msg : "UI drift", run.run_dir);
  if (code == RT_EXIT_REVIEW)
    fprintf(stderr,
            "vagt: %d work item%s of robot.items wait%s for a person (failed, not "
            "retried): run.json's items_need_person, %s/report.html\n",
            run.items_need_person, run.items_need_person == 1 ? "" : "s",
            run.items_need_person == 1 ? "s" : "", run.run_dir);
  if (code == RT_EXIT_DRIFT && record)
    fprintf(stderr,
            "vagt: the screen differs from the stored baseline by more than data; "
            "after review: vagt record --replace %s\n",
            o.script);
  fprintf(stderr, "vagt: %s (exit %d), %zu step%s, run folder %s\n", rt_run_status(&run, code),
          code, rt_steplog_count(run.steps), rt_steplog_count(run.steps) == 1 ? "" : "s",
          run.run_dir);

out:
  g_run = NULL;
  rt_host_close(&run);
  rt_sel_close(run.sel); /* the selections set by the robot are served until here */
  rt_ocr_release(&run);
  rt_input_free(run.input);
  rt_capture_free(run.capture);
  if (run.dpy)
    rt_damage_free(run.damage);
  rt_appq_free(run.appq);
  if (run.xdo)
    xdo_free(run.xdo);
  if (run.dpy)
    XCloseDisplay(run.dpy);
  if (xvfb > 0)
    rt_xvfb_stop(xvfb);
  for (size_t i = 0; i < run.napps; i++) {
    free(run.apps[i]->name);
    free(run.apps[i]->known);
    free(run.apps[i]);
  }
  free(run.apps);
  for (size_t i = 0; i < run.nsecrets; i++) {
    memset(run.secrets[i], 0, strlen(run.secrets[i]));
    free(run.secrets[i]);
  }
  free(run.secrets);
  rt_typed_free(&run);
  free(run.frames);
  for (size_t i = 0; i < run.nkeylines; i++) {
    free(run.keylines[i].key);
    free(run.keylines[i].file);
    free(run.keylines[i].sig);
  }
  free(run.keylines);
  free(run.abort_msg);
  free(run.error);
  free(run.error_where);
  free(run.run_dir);
  free(run.stem);
  rt_steplog_free(run.steps);
  rt_monitor_free(mon);
  free(baseline);
  free(o.params);
  free(o.allow);
  rt_allow_free(allow);
  return code;
}

int cli_run(int argc, char **argv)
{
  return cmd_run(argc, argv, false);
}

int cli_record(int argc, char **argv)
{
  return cmd_run(argc, argv, true);
}
