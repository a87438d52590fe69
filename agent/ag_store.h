/* The agent's history as the operator pages read it and their approvals write it: runs,
 * approvals (the audit trail of baselines), alert deliveries and what retention deleted.
 * One interface, so the pages hold no SQL: SQLite implements it (ag_db_store.c, over the
 * state folder's vagt.db: this node's runs), and PostgreSQL in fleet mode (ag_pg_store.c:
 * every node's runs, with their evidence files).
 * A store is used by several threads at once (the pages' pool and the approvals'). Rows
 * handed to a callback (the `each` functions) are valid during the call only; their text
 * fields are "" where the history has none. */
#ifndef AG_STORE_H
#define AG_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* A run in a list of runs. */
typedef struct ag_run_brief {
  long long id;
  const char *robot, *trigger, *status;
  const char *exit_code;    /* as text: "" while the run runs */
  double started, finished; /* Unix seconds; finished 0 while the run runs */
  int steps;
  const char *node; /* the fleet's node that ran it; "" in a one-machine history */
} ag_run_brief;

/* One run, whole. */
typedef struct ag_run_row {
  long long id;
  char robot[128], status[32], run_dir[PATH_MAX], error[4096], trigger[32];
  int exit_code, steps;
  double started, finished, approved; /* approved: 0 when not */
  char approve_result[4096];
  char node[128]; /* the fleet's node that ran it; "" in a one-machine history */
} ag_run_row;

/* One operator's approval of a drift-halted run. */
typedef struct ag_approval_row {
  long long run_id;
  const char *step, *by, *state; /* state: pending, approved, failed */
  const char *changed;           /* vagt approve's approved.json, or NULL */
  double at;
} ag_approval_row;

/* One delivery of a run's alert (the outbox). */
typedef struct ag_delivery_row {
  const char *alert_id, *channel, *kind, *last_error;
  int attempts;
  double delivered; /* 0: not yet */
} ag_delivery_row;

/* The last prune. */
typedef struct ag_prune_last {
  double at;
  long long runs, folders, rows, item_rows, bytes, kept; /* rows: history and outbox rows */
} ag_prune_last;

/* Every prune's deletions summed (the prunes table is never pruned). */
typedef struct ag_prune_sums {
  long long runs, run_rows, outbox_rows, item_rows, bytes, prunes;
  double last; /* when the last prune ran, 0 never */
} ag_prune_sums;

typedef struct ag_store ag_store;

typedef struct ag_store_ops {
  void (*close)(ag_store *s);
  /* The newest `limit` runs, newest first, of `robot` (NULL: of every robot). The number
   * of rows, -1 when the store failed. */
  int (*runs_latest)(ag_store *s, const char *robot, int limit,
                     void (*each)(void *cls, const ag_run_brief *r), void *cls);
  /* Run `id`; false when there is none (or the store failed). */
  bool (*run_get)(ag_store *s, long long id, ag_run_row *r);
  /* When the robot's last passed run finished, from the history or, once retention
   * deleted it, from the counts it kept: 1 with *t, 0 never, -1 when the store failed. */
  int (*last_success)(ag_store *s, const char *robot, double *t);
  /* Whether the robot is paused on every node after a drift halt (a fleet's): 1 with the
   * holding run's id on the pages (*run, 0 when not in the history) and by ("node N's run
   * R, at T"); 0 not paused (always on one machine); -1 when the store failed. */
  int (*paused)(ag_store *s, const char *robot, long long *run, char *by, size_t bylen);
  /* Runs of `robot` with `status`, with those retention deleted when with_pruned (so a
   * counter never goes down); -1 when the store failed. */
  long long (*runs_count)(ag_store *s, const char *robot, const char *status, bool with_pruned);
  /* The approvals of run `run_id` or (robot != NULL) of a robot, newest first, at most
   * 200. The number of rows, -1 when the store failed. */
  int (*approvals)(ag_store *s, long long run_id, const char *robot,
                   void (*each)(void *cls, const ag_approval_row *a), void *cls);
  /* The operators whose approvals of the run wait for more (state pending), in order:
   * malloc'd names into names[0..max). */
  size_t (*approvals_pending)(ag_store *s, long long run_id, char **names, size_t max);
  /* Records an operator's approval (changed: approved.json, or NULL). */
  void (*approval_add)(ag_store *s, const ag_run_row *run, const char *step, const char *by,
                       double at, const char *state, const char *changed);
  /* The run's pending approvals become approved, with what changed (NULL: unknown). */
  void (*approvals_approved)(ag_store *s, long long run_id, const char *changed);
  /* The run was approved at `at`; `result` is vagt approve's account. */
  void (*run_approved)(ag_store *s, long long run_id, double at, const char *result);
  /* The deliveries of the run's alerts, oldest first. Rows, or -1 when the store failed. */
  int (*deliveries)(ag_store *s, long long run_id,
                    void (*each)(void *cls, const ag_delivery_row *d), void *cls);
  /* Deliveries not yet made (0 when the store failed). */
  long long (*deliveries_pending)(ag_store *s);
  /* false when there was no prune or the store failed. */
  bool (*prune_last)(ag_store *s, ag_prune_last *p);
  /* false (and zeros) when the store failed. */
  bool (*prune_sums)(ag_store *s, ag_prune_sums *p);
  /* Writes the files the store keeps of run `id` (run.json, alert.json, report.html,
   * evidence/) into dir (a fresh one: the caller empties it first): 0, or -1 with err. NULL: the store keeps
   * no files (every run's folder is on this machine). */
  int (*run_files_to)(ag_store *s, long long id, const char *dir, char *err, size_t errlen);
} ag_store_ops;

struct ag_store {
  const ag_store_ops *ops;
};

#endif
