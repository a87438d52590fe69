/* The agent's state in SQLite (STATE/vagt.db, WAL): run history, the last scheduled time
 * of every robot (so a restart knows what it missed), the alert outbox, and what retention
 * deleted (prunes, runs_pruned: ag_prune.h). Every query of it is here (the pages' in
 * ag_db_store.c); the agent reaches them through its journal (ag_journal.h: ag_journal_db.c
 * on one machine, ag_journal_fleet.c on a fleet's node). Every thread opens its own
 * connection, with secure_delete on. */
#ifndef AG_DB_H
#define AG_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ag_journal.h"
#include "ag_store.h"

/* Opens (creating) the database and its tables. NULL with err on failure. */
sqlite3 *ag_db_open(const char *path, char *err, size_t errlen);
void ag_db_close(sqlite3 *db);
/* The operator pages' store (ag_store.h) over its own connection to the database at path;
 * NULL with err. Closed by its ops->close. */
ag_store *ag_db_store_open(const char *path, char *err, size_t errlen);

/* ---- the one-machine journal (ag_journal_db.c), and what a fleet node's builds on ---- */
/* The journal (ag_journal.h) over its own connection to the database at path. */
ag_journal *ag_journal_db_open(const ag_config *c, const char *path, char *err, size_t errlen);
/* Its connection (a fleet node's journal keeps this node's record in it). */
sqlite3 *ag_journal_db_handle(ag_journal *j);
/* Records the end of run id and, when alert and r, its alert in one transaction (see
 * ag_journal_ops.run_end; ri->link_id as the caller set it). */
int ag_journal_db_end(sqlite3 *db, const ag_config *c, long long id, const ag_robot *r,
                      const ag_runinfo *ri, bool alert, int *alerts);

/* Column c of a result row as text, "" when NULL. */
const char *ag_db_col(sqlite3_stmt *st, int c);

/* Executes SQL without results; logs and returns -1 on error. */
int ag_db_exec(sqlite3 *db, const char *sql);

/* Inserts a run in status "running"; returns its id or -1. */
long long ag_db_run_insert(sqlite3 *db, const char *robot, const char *trigger, time_t scheduled,
                           double started, int pid);

/* Records the end of a run still "running": returns 1, or 0 when its end was recorded
 * already (it is written once), -1 on a database error. */
int ag_db_run_finish(sqlite3 *db, long long id, const ag_runinfo *ri);

/* Records the run's process id (for the pages and ag_run_recover). */
int ag_db_run_pid(sqlite3 *db, long long id, int pid);

/* A run of this node's history, and the id of its copy in a fleet's history. */
typedef struct ag_db_run {
  char robot[128], trigger[32], status[32], error[4096], run_dir[4096];
  double started, finished;
  int exit_code, steps;
  bool ended;         /* its end is recorded */
  long long fleet_id; /* 0: not copied yet */
} ag_db_run;
bool ag_db_run_get(sqlite3 *db, long long id, ag_db_run *r);
/* The runs still "running" (an agent that died left them) into *out (malloc'd; free each
 * robot and the array): their number, -1 on a database error. */
int ag_db_runs_running(sqlite3 *db, ag_db_running **out);
/* Fleet mode: what was copied into the fleet's history (table fleet_runs). */
void ag_db_fleet_mark(sqlite3 *db, long long id, long long fleet_id, bool synced);
/* Up to max ended runs whose copy is not complete, oldest first: their number. */
int ag_db_fleet_unsynced(sqlite3 *db, long long *ids, int max);

/* The last scheduled time we started (or skipped) the robot for; false when none. */
bool ag_db_sched_get(sqlite3 *db, const char *robot, time_t *t);
int ag_db_sched_set(sqlite3 *db, const char *robot, time_t t);

/* Adds an outbox row (part of the caller's transaction, if any). */
int ag_db_outbox_add(sqlite3 *db, const char *alert_id, long long run_id, const char *robot,
                     const char *channel, const char *kind, const char *target, const char *payload,
                     const char *attach, double now);

/* An undelivered outbox row (ag_alert.c delivers it); attach NULL: none. */
typedef struct ag_db_outbox_row {
  long long id;
  char *alert_id, *robot, *channel, *kind, *target, *payload, *attach;
  int attempts;
} ag_db_outbox_row;
#define AG_DB_OUTBOX_BATCH 50
/* Up to AG_DB_OUTBOX_BATCH undelivered rows, oldest first: those due at `now`, or every
 * one when now < 0. Copies into *out (free with ag_db_outbox_rows_free(*out, n)): their
 * number, -1 on a database error or when memory is short. */
int ag_db_outbox_due(sqlite3 *db, double now, ag_db_outbox_row **out);
void ag_db_outbox_rows_free(ag_db_outbox_row *rows, int n);
/* One attempt's outcome: delivered at t, or not (err) with the next attempt at `next`. */
int ag_db_outbox_result(sqlite3 *db, long long id, bool delivered, double t, const char *err,
                        double next);
/* The row left this outbox at t for another (a fleet's), with a note saying where. */
int ag_db_outbox_handed(sqlite3 *db, long long id, double t, const char *note);
/* Undelivered rows (0 on a database error). */
long long ag_db_outbox_pending(sqlite3 *db);

/* ---- retention's queries (ag_prune.c decides, and deletes files first) ---- */
/* Whether an alert of the run in folder dir waits for delivery (true when unsure). */
bool ag_db_alert_pending_in(sqlite3 *db, const char *dir);
/* The ended runs whose folder is dir, each id to `each`: 0, or -1 on a database error. */
int ag_db_runs_in(sqlite3 *db, const char *dir, void (*each)(void *cls, long long id), void *cls);
/* The ended runs that ended (or began) before cutoff and have no alert waiting, each with
 * its folder ("" when none) to `each`: 0, or -1 on a database error. */
int ag_db_runs_ended_before(sqlite3 *db, double cutoff,
                            void (*each)(void *cls, long long id, const char *dir), void *cls);
/* Whether run id is in the history (true when unsure). */
bool ag_db_run_exists(sqlite3 *db, long long id);
/* Deletes the rows of runs ids[0..n) (not a running one, not one with an alert waiting),
 * their delivered alerts and every alert delivered before cutoff, tallies the deleted runs
 * per robot and status, and records the prune: 0, or -1 (nothing deleted) on a database
 * error. */
int ag_db_prune_rows(sqlite3 *db, double now, double cutoff, const long long *ids, size_t n,
                     ag_db_prune *p);

#endif
