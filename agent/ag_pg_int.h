/* Inside the fleet's PostgreSQL layer (ag_pg.h): the connection and the statement helpers
 * that ag_pg.c (claims, schedule, baselines, outbox), ag_pg_history.c (runs and their
 * evidence) and ag_pg_store.c (the pages' store) share. Not for other callers. */
#ifndef AG_PG_INT_H
#define AG_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "ag_pg.h"

struct ag_pg {
  PGconn *conn;
  char err[512];
  char node[128];
  int reconnects;
  bool reset_tried; /* this operation has reset the connection once already */
  bool migrating;
  int newer;         /* a newer schema was found after a reconnection: refuse all */
  double next_sweep; /* monotonic seconds: when ag_pg_claim settles expired leases */
};

/* The last error: "OP: message" (libpq's primary message only: details may quote values). */
void agpg_seterr(ag_pg *pg, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One parameterised statement, once: NULL on failure (pg->err, SQLSTATE into sqlstate). */
PGresult *agpg_raw(ag_pg *pg, const char *op, const char *sql, int n, const char *const *vals,
                   char sqlstate[6]);
/* One autocommitted statement, retried after a reconnection, serialization failure or
 * deadlock: NULL on failure. */
PGresult *agpg_exec1(ag_pg *pg, const char *op, const char *sql, int n, const char *const *vals);

/* What a transaction's body returns: TX_OK to commit, TX_FAIL after a failed statement
 * (its sqlstate in st), or an AG_PG_ code to roll back and return it. */
enum { TX_OK = -100, TX_FAIL = -101 }; /* apart from every AG_PG_ code */
typedef int (*tx_body)(ag_pg *pg, const char *op, void *arg, char st[6]);
/* body in one transaction, retried as a whole: AG_PG_OK, the body's code or AG_PG_ERR. */
int agpg_in_tx(ag_pg *pg, const char *op, tx_body body, void *arg);

/* Starts an operation (clears the error): AG_PG_NEWER once a newer schema was seen. */
int agpg_begin_op(ag_pg *pg, const char *op);
/* The code of a failed operation: AG_PG_NEWER or AG_PG_ERR. */
int agpg_failed(const ag_pg *pg);
/* A robot's current version of something versioned (sql selects version, digest, node for
 * robot $1, the highest first): AG_PG_OK, AG_PG_NONE when there is none. */
int agpg_current(ag_pg *pg, const char *op, const char *sql, const char *robot, int *version,
                 char *digest, size_t dlen, char *node, size_t nlen);
/* fn for every row of r (column 0 a file's name, column 1 its bytea content), in order:
 * AG_PG_OK, or AG_PG_ERR ("cannot keep file N of WHAT") when fn refused one. */
int agpg_files_each(ag_pg *pg, const char *op, PGresult *r, const char *what, ag_pg_file_fn fn,
                    void *ud);
/* A robot's pause ($1 the robot) with the holding run's id in the fleet's history (column
 * 3, NULL while the run is not in it), and the holder of a row of it as "node N's run R, at
 * T" into by; the fleet's id into *fleet_run (0: none). The agent's refusal and the pages
 * both read it so. */
#define AGPG_PAUSE_SQL                                                                             \
  "SELECT p.node, p.run, to_char(p.since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'),"       \
  " v.id FROM vagt_pause p"                                                                        \
  " LEFT JOIN vagt_run v ON v.node = p.node AND v.local_id::text = p.run WHERE p.robot = $1"
void agpg_pause_holder(PGresult *r, long long *fleet_run, char *by, size_t bylen);

/* Bytes as a bytea parameter's text (free with PQfreemem), or NULL. */
char *agpg_bytea_param(ag_pg *pg, const unsigned char *d, size_t n);

#endif
