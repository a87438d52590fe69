/* The vagt agent: scheduled runs, history, alert delivery and operator pages.
 * `vagt agent ...` calls ag_main with the arguments after "agent". */
#ifndef VAGT_AGENT_H
#define VAGT_AGENT_H

int ag_main(int argc, char **argv);

#endif
