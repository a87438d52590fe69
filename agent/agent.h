/* The vagt agent: scheduled runs, history, alert delivery and operator pages.
 * `vagt agent ...` calls ag_main with the arguments after "agent":
 *   --config FILE            the daemon
 *   --check --config FILE    validate the configuration and the robots' scripts (exit 2)
 *   --once ROBOT --config F  one run now through the same path; exits with its status
 * Environment for tests: VAGT_BIN (the binary runs use instead of this one), VAGT_AGENT_NOW
 * (the agent's clock starts at that Unix time), VAGT_AGENT_RETRY_BASE (first retry delay,
 * seconds), VAGT_AGENT_DELIVER_SECONDS (how long --once tries to deliver),
 * VAGT_AGENT_PRUNE_SECONDS (retention runs this often instead of daily). ops/README.md
 * is the operator's guide. */
#ifndef VAGT_AGENT_H
#define VAGT_AGENT_H

int ag_main(int argc, char **argv);

#endif
