/* The agent's retention (retention_days, default 30; ops/README.md "Retention"): at start
 * and then once a day, a thread with its own database connection deletes
 *   - the run folders under STATE/runs/ROBOT/ that ended before the cutoff, as
 *     runtime/prune.h judges them (only vagt run folders, never a link, never a run that
 *     still runs, not the drift halt still waiting for approval), except a run whose alert
 *     is not delivered yet (the alert must not point at nothing, and it is not lost);
 *   - the runs rows of the folders it deleted, and runs rows that ended before the cutoff
 *     whose folder is gone (or never was), with their delivered outbox rows and per-run
 *     logs (STATE/logs/ID.log); delivered outbox rows older than the cutoff; per-run logs
 *     older than the cutoff that no row names;
 *   - the finished rows of STATE/items.db (rt_items_prune: done and failed items of batches
 *     without pending or running items, last changed before the cutoff).
 * A run row and its folder go together: a row stays while its folder stays. Every prune
 * adds a row to the table prunes (when, the cutoff, what went, bytes, what was kept), and
 * the runs it deleted are added to runs_pruned per robot and status, so the pages' counts
 * and last success survive them. Rows are deleted with secure_delete and the write-ahead
 * log is truncated afterwards. Baselines are never touched. A fleet's node also deletes its
 * runs (with their files) in the fleet's database, delivered alerts, finished work items and
 * old schedule claims there (ag_pg_prune), and the copies of other nodes' runs its pages
 * fetched (STATE/fleet/runs). */
#ifndef AG_PRUNE_H
#define AG_PRUNE_H

#include <signal.h>

#include "ag_run.h"

typedef struct ag_prune_result {
  long long runs; /* runs deleted: their folder, their row or both */
  long long folders, bytes, run_rows, outbox_rows, item_rows, logs;
  long long kept_approval; /* old drift halts kept for `vagt approve` */
  long long kept_alert;    /* old runs kept: an alert of theirs is not delivered yet */
  long long kept_items;    /* old work-item rows of unfinished batches */
  long long errors;        /* what could not be deleted (each logged) */
  long long fleet_rows;    /* a fleet's node: rows deleted in the fleet's database */
} ag_prune_result;

/* One prune with the agent's clock at `now`, through j (the calling thread's journal).
 * *stop (may be NULL) ends it between two deletions. 0, or -1 when the database refused
 * to record it (the files deleted stay deleted; the rows go next time). */
int ag_prune_once(ag_ctx *x, ag_journal *j, double now, ag_prune_result *res,
                  volatile sig_atomic_t *stop);

/* The thread: prunes now, then every 24 h ($VAGT_AGENT_PRUNE_SECONDS for tests). */
int ag_prune_start(ag_ctx *x);
void ag_prune_stop(void);

#endif
