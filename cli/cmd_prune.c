/* vagt prune: retention for runs outside the agent (README "Citizens' data").
 *
 *   vagt prune --older-than 30d [--runs DIR] [--items-db FILE] [--dry-run]
 *
 * Deletes the run folders in DIR (default runs/) whose run ended before the age, as
 * runtime/prune.h judges them (only vagt run folders; never a link; not a run that still
 * runs; not a drift halt that still waits for `vagt approve`), and the finished robot.items
 * rows of FILE (default DIR/items.db when there is one) last changed before it. Prints what
 * it deleted and a count. Exit 0; 2 for a bad argument (named); 4 when something could not
 * be deleted (each named). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "items.h"
#include "prune.h"
#include "run.h"

static void prune_usage(FILE *f)
{
  fputs("usage: vagt prune --older-than AGE [--runs DIR] [--items-db FILE] [--dry-run]\n"
        "  AGE: days or hours, e.g. 30d or 12h. Deletes the run folders in DIR (default\n"
        "  runs/) that ended before then and the done and failed robot.items rows of FILE\n"
        "  (default DIR/items.db) last changed before then. Never deletes what is not a vagt\n"
        "  run folder, a symbolic link, a run still running, or the drift halt a script's\n"
        "  approval still needs. --dry-run: only say what would go.\n",
        f);
}

int cli_prune(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"older-than", required_argument, 0, 'o'},
      {"runs", required_argument, 0, 'r'},
      {"items-db", required_argument, 0, 'i'},
      {"dry-run", no_argument, 0, 'n'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  const char *age = NULL, *runs = "runs", *items = NULL;
  bool dry = false;
  optind = 1;
  opterr = 0;
  int o;
  while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (o) {
      case 'o': age = optarg; break;
      case 'r': runs = optarg; break;
      case 'i': items = optarg; break;
      case 'n': dry = true; break;
      case 'h': prune_usage(stdout); return 0;
      default:
        if (optopt == 'o' || optopt == 'r' || optopt == 'i')
          fprintf(stderr, "vagt prune: %s needs a value\n", argv[optind - 1]);
        else
          fprintf(stderr, "vagt prune: unknown argument '%s'\n", argv[optind - 1]);
        prune_usage(stderr);
        return RT_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vagt prune: unexpected argument '%s'\n", argv[optind]);
    prune_usage(stderr);
    return RT_EXIT_USAGE;
  }
  double secs;
  if (!age) {
    fprintf(stderr, "vagt prune: --older-than is required (e.g. --older-than 30d)\n");
    return RT_EXIT_USAGE;
  }
  if (!rt_prune_parse_age(age, &secs)) {
    fprintf(stderr,
            "vagt prune: --older-than '%s': expected a whole number of days or hours "
            "with its unit, e.g. 30d or 12h (1h to 3650d)\n",
            age);
    return RT_EXIT_USAGE;
  }
  char runs_buf[4096];
  snprintf(runs_buf, sizeof runs_buf, "%s", runs); /* "runs/" is printed as "runs" */
  for (size_t n = strlen(runs_buf); n > 1 && runs_buf[n - 1] == '/'; n--)
    runs_buf[n - 1] = '\0';
  runs = runs_buf;
  struct stat st;
  if (stat(runs, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "vagt prune: --runs '%s': no such folder\n", runs);
    return RT_EXIT_USAGE;
  }
  char defitems[4096];
  if (items) {
    if (stat(items, &st) != 0 || !S_ISREG(st.st_mode)) {
      fprintf(stderr, "vagt prune: --items-db '%s': no such file\n", items);
      return RT_EXIT_USAGE;
    }
  } else {
    snprintf(defitems, sizeof defitems, "%s/items.db", runs);
    if (lstat(defitems, &st) == 0 && S_ISREG(st.st_mode))
      items = defitems;
  }

  double cutoff = (double)time(NULL) - secs;
  char err[1024];
  rt_prune_list l;
  if (rt_prune_scan(runs, cutoff, &l, err, sizeof err) != 0) {
    fprintf(stderr, "vagt prune: %s\n", err);
    return RT_EXIT_ENV;
  }
  const char *would = dry ? "would delete" : "deleted";
  long long bytes = 0, deleted = 0, recent = 0, running = 0, awaiting = 0, foreign = 0;
  int rc = 0;
  for (size_t i = 0; i < l.n; i++) {
    rt_prune_entry *e = &l.v[i];
    switch (e->kind) {
      case RT_PRUNE_OLD:
        if (dry) {
          bytes += rt_prune_size(runs, e);
          deleted++;
          printf("would delete %s/%s\n", runs, e->name);
          break;
        }
        switch (rt_prune_remove(runs, e, &bytes, err, sizeof err)) {
          case 0:
            deleted++;
            printf("deleted %s/%s\n", runs, e->name);
            break;
          case 1: printf("kept %s\n", err); break;
          default: fprintf(stderr, "vagt prune: %s\n", err); rc = RT_EXIT_ENV;
        }
        break;
      case RT_PRUNE_RECENT: recent++; break;
      case RT_PRUNE_RUNNING:
        running++;
        printf("kept %s/%s: its run is still running\n", runs, e->name);
        break;
      case RT_PRUNE_AWAITING:
        awaiting++;
        printf("kept %s/%s: the drift halt that approving the new screens needs (vagt approve "
               "%s/%s)\n",
               runs, e->name, runs, e->name);
        break;
      case RT_PRUNE_FOREIGN:
        foreign++;
        if (e->is_dir)
          printf("left alone %s/%s: not a vagt run folder (%s)\n", runs, e->name, e->why);
        break;
    }
  }
  rt_prune_list_free(&l);
  long long irows = 0, ikept = 0;
  if (items && rt_items_prune(items, cutoff, dry, &irows, &ikept, err, sizeof err) != 0) {
    fprintf(stderr, "vagt prune: %s\n", err);
    rc = RT_EXIT_ENV;
  }
  if (ikept > 0)
    printf("kept %lld work-item row%s older than %s in %s: their batch still has pending "
           "items\n",
           ikept, ikept == 1 ? "" : "s", age, items);
  printf("vagt prune: %s %lld run folder%s (%lld bytes) and %lld work-item row%s older than "
         "%s; kept %lld recent, %lld running, %lld awaiting approval; left alone %lld "
         "entr%s that %s not vagt run folders\n",
         would, deleted, deleted == 1 ? "" : "s", bytes, irows, irows == 1 ? "" : "s", age, recent,
         running, awaiting, foreign, foreign == 1 ? "y" : "ies", foreign == 1 ? "is" : "are");
  return rc;
}
