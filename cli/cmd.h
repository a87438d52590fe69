/* The vagt command line: one file per command (cmd_*.c), dispatched by main.c, the
 * composition root that links the runtime (runtime/) and the agent (agent/); neither
 * library knows the command line or the other's commands. */
#ifndef VAGT_CLI_CMD_H
#define VAGT_CLI_CMD_H

#include <stdio.h>

/* Each takes argv from the command name on and returns the exit status. */
int cli_run(int argc, char **argv);    /* vagt run */
int cli_record(int argc, char **argv); /* vagt record */
int cli_check(int argc, char **argv);  /* vagt check */
int cli_prune(int argc, char **argv);  /* vagt prune */
int cli_items(int argc, char **argv);  /* vagt items list|who */

/* SIGINT/SIGTERM/SIGHUP: ends the run in progress (cmd_run.c). */
void cli_on_signal(int sig);

void cli_usage(FILE *f);

#endif
