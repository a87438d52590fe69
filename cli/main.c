/* vagt: an RPA runtime that guards every step. The command line's composition root: the
 * process-wide setup every command shares, and a table of commands, each in a file of its
 * own (cmd_run.c, cmd_check.c, cmd_prune.c, cmd_items.c) or in the library that owns it (approve and
 * inspect in runtime/, agent in agent/).
 *
 * Where to read, in the order a run goes:
 *   cli/cmd_run.c        `vagt run` and `vagt record`: the display, the run folder, the
 *                        script under its watchdog, the end.
 *   runtime/run.h        one run's state; api.h and l_*.c the `robot` API scripts call.
 *   runtime/step.h       the step engine: settle, capture the scene (scene.h), judge, input
 *                        (xio/: capture, damage, XTest input, selections).
 *   runtime/monitor.h    the guard: fingerprints each step's scene when recording, judges it
 *                        when running, halts on drift and writes the evidence and alert.json.
 *   fingerprints/fp.h    the fingerprint engine, free of X11 and Lua: image in, fingerprint
 *                        out, compare, the baseline folder, diff images.
 *   runtime/ocr/rt_ocr.h OCR of window images (Tesseract), for robot's text lookups and to
 *                        explain a drift in words.
 *   runtime/runfolder.h  the run folder (steps.jsonl, run.json, report.html); runfile.h
 *                        names its files' keys and format versions.
 *   agent/agent.h        `vagt agent`: schedules (ag_cron), runs (ag_run), alerts (ag_alert),
 *                        retention (ag_prune), operator pages (ag_web); what they record
 *                        through ag_journal.h (SQLite; a fleet's node: then PostgreSQL, ag_pg.h),
 *                        what the pages read through ag_store.h. */
#include <langinfo.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "agent.h"
#include "cmd.h"
#include "inspect.h"
#include "monitor.h"
#include "ocr/rt_ocr.h"
#include "run.h"

void cli_usage(FILE *f)
{
  fputs("usage:\n"
        "  vagt run SCRIPT.lua [--baseline DIR] [--runs DIR] [--display :N | --xvfb]\n"
        "                      [--set k=v]... [--timeout SECONDS] [--step-timeout SECONDS]\n"
        "                      [--secrets FILE] [--screen WxHxD]\n"
        "                      [--evidence masked|none|full]  (default masked: data blanked)\n"
        "                      [--allow-program PROG]... [--allow-file PATH]...\n"
        "                      only these may be started / read (any of them: a list)\n"
        "  vagt record SCRIPT.lua [same options] [--replace]\n"
        "                      run and record the baseline (a second recording merges)\n"
        "  vagt approve RUN_DIR   accept the screens of a drift-halted run as the baseline\n"
        "                         (--by NAME: the operator, as the agent's pages name them)\n"
        "  vagt inspect [--window CLASS|TITLE] [--png OUT.png] [--image IN.png]\n"
        "                         windows, and the words OCR reads with their boxes\n"
        "  vagt check SCRIPT.lua      syntax and API check, no display needed\n"
        "  vagt check --api           list the robot API\n"
        "  vagt agent --config agent.lua [--check | --once ROBOT]   scheduled runs\n"
        "  vagt prune --older-than 30d [--runs DIR] [--items-db FILE] [--dry-run]\n"
        "                         delete run folders and finished work items past an age\n"
        "  vagt items list --batch NAME [--items-db FILE]\n"
        "                         a batch's work items: row, state, attempts, run, time\n"
        "  vagt items who --batch NAME [--items-db FILE] FIELD=VALUE... | --key VALUE\n"
        "                         the runs that processed one person's item (access or\n"
        "                         erasure requests); prints none of the person's data\n"
        "  vagt --version\n"
        "exit status: 0 success, 1 script failed, 2 usage or configuration error,\n"
        "             3 halted on UI drift, 4 environment error (no display, ...),\n"
        "             5 passed, but robot.items left work items for a person (needs_review)\n",
        f);
}

/* Robots type citizens' names: the runtime and the applications it starts need a UTF-8
 * LC_CTYPE whatever the environment says. */
static void ensure_utf8_locale(void)
{
  setlocale(LC_ALL, "");
  const char *cs = nl_langinfo(CODESET);
  if (!cs || strcmp(cs, "UTF-8") != 0) {
    setenv("LC_ALL", "C.UTF-8", 1);
    setlocale(LC_ALL, "C.UTF-8");
  }
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", cli_run},
    {"record", cli_record},
    {"check", cli_check},
    {"approve", rt_cmd_approve},
    {"inspect", rt_cmd_inspect},
    {"agent", ag_main},
    {"prune", cli_prune},
    {"items", cli_items},
};

/* Loading an OCR language (Tesseract) allocates and fills some 50 MB in blocks of up to a few
 * MB; glibc serves each from fresh mmap'd pages that the kernel must fault in and zero, and
 * hands them back when freed. Served from the heap, grown 16 MB at a time, the pages are
 * reused: a run's models load in ~22% less time (measured in a run's background loading,
 * dan+eng: median 158 -> 124 ms over 12 runs each). The long-lived agent keeps glibc's
 * defaults: a heap does not give back a freed block below a live one. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
#endif
}

int main(int argc, char **argv)
{
  /* Tesseract's OpenMP threads make recognition several times slower on a small machine;
   * libgomp reads the limit at load time, so set it and re-execute once. */
  rt_ocr_reexec_single_thread(argv);
  umask(077); /* screens and run files hold citizens' personal data */
  /* ... and so does this process's memory (screens, secrets): no core dump of it */
  setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ensure_utf8_locale();
  struct sigaction sa = {0};
  sa.sa_handler = cli_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (argc < 2) {
    cli_usage(stderr);
    return RT_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "agent") != 0)
    tune_malloc();
  if (strcmp(cmd, "--version") == 0) {
    printf("vagt %s\n", VAGT_VERSION);
    return 0;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    cli_usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "vagt: unknown command '%s'\n", cmd);
  cli_usage(stderr);
  return RT_EXIT_USAGE;
}
