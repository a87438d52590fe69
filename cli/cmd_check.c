/* vagt check: a script's syntax and API use without a display, or the API's names. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "run.h"

int cli_check(int argc, char **argv)
{
  char err[512];
  if (argc == 2 && strcmp(argv[1], "--api") != 0 && argv[1][0] != '-') {
    int rc = rt_check_file(argv[1], stdout, err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "vagt: %s\n", err);
      return RT_EXIT_ENV;
    }
    return rc;
  }
  if (argc == 2 && strcmp(argv[1], "--api") == 0) {
    if (rt_check_api(stdout, err, sizeof err) < 0) {
      fprintf(stderr, "vagt: %s\n", err);
      return RT_EXIT_ENV;
    }
    return 0;
  }
  cli_usage(stderr);
  return RT_EXIT_USAGE;
}
