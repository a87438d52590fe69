/* The agent's journal: what the daemon loop, its runs, the alert deliverer and retention
 * record and consult (the operator pages read the history through ag_store.h). One
 * interface, two implementations, chosen by the configuration's `database`:
 *   - one machine (ag_journal_db.c): the state folder's vagt.db (SQLite, ag_db.h) holds
 *     runs, the schedule's last times, the alert outbox and what retention deleted;
 *   - a fleet's node (ag_journal_fleet.c): vagt.db stays this node's record, written first;
 *     what the fleet shares goes to its PostgreSQL (ag_pg.h, ag_fleet.h) after it: every
 *     run's copy, the schedule's claims, seats, the pause after a drift halt, the fleet's
 *     baselines and scripts, the outbox every node delivers from, retention there.
 * The callers hold no storage logic of their own: whatever they ask, the journal answers
 * for one machine or for the fleet.
 *
 * A journal belongs to one thread: each thread opens its own (ag_journal_open). No call
 * exits; calls log what they could not do (the agent's log is its operators' record). */
#ifndef AG_JOURNAL_H
#define AG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ag_config.h"

/* How a run ended, as its end is recorded. */
typedef struct ag_runinfo {
  const char *status; /* passed, failed, drift, error, timeout, interrupted */
  int exit_code;
  const char *run_dir; /* NULL when none was found */
  int steps;
  const char *error;
  double finished;
  long long link_id; /* the run's id in the pages its alert links to (a fleet's), 0: its
                       * own, -1: none known (the links name the run's folder) */
} ag_runinfo;

/* A run left "running" by an agent that died. */
typedef struct ag_db_running {
  long long id;
  char *robot;
  double started;
} ag_db_running;

/* One prune's deletion of history rows, in one transaction with the record of the prune. */
typedef struct ag_db_prune {
  /* in: what the prune deleted or kept besides */
  long long folders, item_rows, logs, bytes, kept;
  size_t first_extra; /* ids from here on: runs whose folder was gone before this prune */
  /* out */
  long long runs; /* folders + those of the extra runs whose row went */
  long long run_rows, outbox_rows;
} ag_db_prune;

/* An alert's delivery to one channel, handed to the deliverer. */
typedef struct ag_outbox_msg {
  const char *alert_id, *channel, *kind;
  const char *target;  /* JSON: where to deliver */
  const char *payload; /* JSON: the alert */
  const char *attach;  /* a file to attach (the diff image), or NULL */
  int attempts;        /* the failed attempts before this one */
  const char *where;   /* for the log: "" (this node's outbox) or " (the fleet's outbox)" */
} ag_outbox_msg;

/* Delivers m: 0, or -1 with err and *retry_in (seconds until the next attempt). */
typedef int (*ag_outbox_send)(void *cls, const ag_outbox_msg *m, double *retry_in, char *err,
                              size_t errlen);

typedef struct ag_journal ag_journal;

typedef struct ag_journal_ops {
  void (*close)(ag_journal *j);
  /* Reaches what the journal shares (a fleet's database) now: 0; 1 its schema is newer
   * than this agent's (err names both); 2 this node may not join as configured: its name
   * is another state folder's in the fleet, or its address or password file is wrong
   * (err); -1 it cannot be reached (err). Until then, and
   * without a fleet, the journal records on this node only; what it owes the fleet is
   * copied later (sync). */
  int (*connect)(ag_journal *j, char *err, size_t errlen);

  /* ---- before a run ---- */
  /* May robot r start here now? 0 yes (in a fleet: its script and baseline are the
   * fleet's current ones, installed or published as needed); 1 it is paused after a drift
   * halt (why says by what run); -1 the fleet cannot say now (why). */
  int (*ready)(ag_journal *j, const ag_robot *r, char *why, size_t whylen);
  /* Whose is r's run scheduled at t? 1 this node's (always for t <= 0: a run asked for, not
   * scheduled), 0 another node's (holder names it), -1 the fleet cannot say now (holder says
   * why). One claim per robot and time. */
  int (*sched_claim)(ag_journal *j, const ag_robot *r, time_t t, const char *trigger, char *holder,
                     size_t holder_len);
  /* The last scheduled time r was started (or skipped) for: this node's, or in a fleet the
   * later of this node's and any node's. A robot this node never scheduled before starts
   * from `first` (recorded as its last). */
  time_t (*sched_last)(ag_journal *j, const ag_robot *r, time_t first);
  /* r's run scheduled at t was started or skipped here. 0, or -1. */
  int (*sched_set)(ag_journal *j, const ag_robot *r, time_t t);
  /* Takes one of r's `seats` for its next run into *seat and holder (48 bytes): 1 taken
   * (or none to take: *seat 0), 0 every seat is held now, -1 the fleet cannot say (err). */
  int (*seat_take)(ag_journal *j, const ag_robot *r, int *seat, char *holder, char *err,
                   size_t errlen);
  /* Keeps the seat: 0, or -1 with err. */
  int (*seat_renew)(ag_journal *j, const ag_robot *r, int seat, const char *holder, char *err,
                    size_t errlen);
  /* Gives the seat back: 0, or -1 with err (it goes when its lease runs out). */
  int (*seat_release)(ag_journal *j, const ag_robot *r, int seat, const char *holder, char *err,
                      size_t errlen);

  /* ---- runs ---- */
  /* Records a run in status "running" started at `started` (the agent's clock): its id, or
   * -1 when the journal refused it. */
  long long (*run_begin)(ag_journal *j, const ag_robot *r, const char *trigger, time_t scheduled,
                         double started);
  /* Records the run's process id (for the pages and recovery). */
  int (*run_pid)(ag_journal *j, long long id, int pid);
  /* Records the end of run id, once, with its alert (r NULL: a robot no longer
   * configured, no alert) in one transaction. In a fleet a drift halt pauses the robot on
   * every node and only the first node to halt alerts. Fills ri->link_id. 1 recorded now
   * (*alerts: outbox rows added), 0 recorded before, -1 refused (busy, full: nothing
   * written, the caller tries again). */
  int (*run_end)(ag_journal *j, long long id, const ag_robot *r, ag_runinfo *ri, int *alerts);
  /* The runs still "running" (an agent that died left them) into *out (malloc'd; free each
   * robot and the array): their number, -1 when the journal failed. */
  int (*runs_running)(ag_journal *j, ag_db_running **out);
  /* Copies what the fleet refused before (runs' copies): a few per call. */
  void (*sync)(ag_journal *j);

  /* ---- alerts ---- */
  /* Hands every delivery due at `now` (in a fleet: this node's rows go to the fleet's
   * outbox, and the rows this node can claim there are delivered under a lease) to send
   * once, and records each outcome. Returns how many were delivered; *pending (may be
   * NULL): this node's deliveries not yet made. */
  int (*outbox_deliver)(ag_journal *j, double now, ag_outbox_send send, void *cls, int *pending);

  /* ---- retention (ag_prune.c decides, and deletes files first) ---- */
  /* Whether an alert of the run in folder dir waits for delivery (true when unsure). */
  bool (*alert_pending_in)(ag_journal *j, const char *dir);
  /* The ended runs whose folder is dir, each id to `each`: 0, or -1. */
  int (*runs_in)(ag_journal *j, const char *dir, void (*each)(void *cls, long long id), void *cls);
  /* The ended runs that ended (or began) before cutoff and have no alert waiting, each
   * with its folder ("" when none) to `each`: 0, or -1. */
  int (*runs_ended_before)(ag_journal *j, double cutoff,
                           void (*each)(void *cls, long long id, const char *dir), void *cls);
  /* Whether run id is in the history (true when unsure). */
  bool (*run_exists)(ag_journal *j, long long id);
  /* Deletes the rows of runs ids[0..n) (ag_db_prune_rows) and records the prune: 0, or -1
   * (nothing deleted). */
  int (*prune_rows)(ag_journal *j, double now, double cutoff, const long long *ids, size_t n,
                    ag_db_prune *p);
  /* What retention deletes beyond this node's record (a fleet's rows of this node's runs
   * and what else ended there before cutoff, the copies of other nodes' runs): the rows
   * deleted, logged; *errors counts what failed. */
  long long (*prune_shared)(ag_journal *j, double cutoff, long long *errors);
} ag_journal_ops;

struct ag_journal {
  const ag_journal_ops *ops;
};

/* Opens the journal of configuration c over its state folder's database at dbpath (a
 * fleet's node's one is not connected yet: ops->connect). NULL with err. Closed by
 * ops->close. */
ag_journal *ag_journal_open(const ag_config *c, const char *dbpath, char *err, size_t errlen);

#endif
