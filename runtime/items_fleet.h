/* robot.items in a fleet: the run's side of the conversation with its agent, which claims
 * the items in the fleet's database for it (agent/ag_broker.h has the requests). The run
 * holds no database credentials, only its end of a socket pair: $VAGT_ITEMS_FD. */
#ifndef VAGT_ITEMS_FLEET_H
#define VAGT_ITEMS_FLEET_H

#include <stddef.h>

struct cJSON;
struct rt_run;

/* The socket from $VAGT_ITEMS_FD (made close-on-exec), or -1 when the run is not a fleet's.
 * -2 with err when the variable names no open socket. */
int rt_fleet_items_fd(char *err, size_t errlen);

/* Sends the request (a JSON object, not taken) and returns the agent's reply, or NULL with
 * err when the agent is gone or answers nonsense. With run given, waiting also ends when the
 * run is aborted (a request whose answer may wait long: a claim); without, it waits for the
 * answer (the end of an item, which must be recorded also in an aborting run). */
struct cJSON *rt_fleet_ask(struct rt_run *run, int fd, const struct cJSON *req, char *err,
                           size_t errlen);

#endif
