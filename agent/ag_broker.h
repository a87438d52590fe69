/* Fleet mode's work items for one run. A run (`vagt run`) never holds the fleet database's
 * credentials: its robot.items asks its agent over a socket pair ($VAGT_ITEMS_FD in the
 * run), and a thread of the agent claims, leases and completes items in PostgreSQL for it
 * (ag_pg.h), renewing the lease of the item the run holds.
 *
 * The run sends one JSON object a line; the agent answers each with one JSON object a line:
 *   {"op":"open","batch":B,"check":HEX,"items":[[SEQ,KEY],...]}  enqueue (idempotent)
 *       -> {"ok":true,"added":N}   check: HMAC of a fixed text under the items key, so
 *          nodes hashing content keys under different keys are refused (vagt_meta)
 *   {"op":"claim","batch":B}  -> {"ok":true,"seq":S,"key":K,"attempt":A} | {"ok":true,
 *       "none":true} (nothing pending, nothing held: the batch is over) | {"ok":true,
 *       "later":true,"held":N} (nothing pending while other runs hold N: ask again soon)
 *   {"op":"sent","step":"file:line"}  before the held item's first input
 *   {"op":"end","state":"done"|"failed"|"pending","reason":R}  done / failed: completes;
 *       pending: gives it back (needs_review when input was sent under it)
 *   {"op":"review","batch":B}  -> {"ok":true,"items":[[SEQ,STATE,NODE,RUN],...]}: the
 *       batch's items waiting for a person, but for those this run left
 * A refusal is {"ok":false,"error":MSG} with "wait":true when the database cannot answer now
 * (the run pauses before its next item and asks again) or "lost":true when the held item is
 * no longer this run's (it must send no input for it). Messages never hold keys.
 *
 * A run holds one item at a time. When the run ends inside an item, nothing is given back:
 * the lease runs out and ag_pg_expire settles it (pending again, or needs_review when its
 * input was sent). */
#ifndef AG_BROKER_H
#define AG_BROKER_H

#include <stddef.h>

#include "ag_config.h"

typedef struct ag_broker ag_broker;

/* Serves the run's end `fd` of the socket pair (taken over: closed by ag_broker_finish) on a
 * thread of its own, with its own database connection (opened on the first request). run:
 * the run's name in claims (the agent's run id). NULL with err when no thread starts. */
ag_broker *ag_broker_start(const ag_config *cfg, int fd, long long run, char *err, size_t errlen);

/* After the run ended: waits for the thread (it ends when the run's end of the socket is
 * closed) and frees everything. NULL is fine. */
void ag_broker_finish(ag_broker *b);

/* Handles one request line (NUL-terminated) and returns the reply object; for tests and
 * the fuzz target: with pg NULL every database operation answers "wait". */
struct cJSON;
struct ag_pg;
typedef struct ag_broker_state ag_broker_state;
ag_broker_state *ag_broker_state_new(const ag_config *cfg, long long run);
void ag_broker_state_free(ag_broker_state *s);
struct cJSON *ag_broker_handle(ag_broker_state *s, const char *line);

#endif
