/* The operator pages' store in fleet mode (ag_store.h over the fleet's PostgreSQL): runs,
 * approvals, deliveries and run files of every node; retention's record and the metrics
 * counters from this node's own store. */
#ifndef AG_PG_STORE_H
#define AG_PG_STORE_H

#include "ag_pg.h"
#include "ag_store.h"

/* Connects with o (its strings copied), now and, while the database is unreachable, again
 * on later calls (then they fail: the pages say the history cannot be read). Takes local
 * (this node's store, or NULL), closed with the store. NULL when out of memory (then local
 * was not taken). */
ag_store *ag_pg_store_open(const ag_pg_opts *o, ag_store *local);

#endif
