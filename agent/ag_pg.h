/* Fleet mode's shared work items in PostgreSQL (libpq): the claims core.
 *
 * Every node's agent connects to one PostgreSQL. A batch's items are enqueued once (batch +
 * idempotency key); a node claims one item at a time with SELECT ... FOR UPDATE SKIP LOCKED
 * under a lease whose expiry the database's clock computes; it marks "input sent" (committed
 * before the robot's first input for the item), renews the lease while it works and completes
 * the item. A lease that runs out makes the item claimable again only while no input was sent;
 * an item whose input may have been sent is never redone automatically: it becomes
 * "needs_review" with the node and run that held it, for a person.
 *
 * Every claim is logged (vagt_claims: item, node, run, attempt, claimed_at, lease_until,
 * input_sent_at, released_at, outcome), so it can be shown that no item was held by two
 * claimers at once. A claim is identified by its id, the fencing token every later call
 * carries: a node whose claim was taken over can no longer mark, renew or complete it.
 *
 * Every operation reconnects a broken connection once (PQreset) and retries itself; after a
 * reconnection it checks the schema version again, and once it has seen a newer one every
 * operation returns AG_PG_NEWER. Serialization failures and deadlocks are retried.
 *
 * Not thread-safe: one ag_pg per thread. No call prints; errors come back as messages that
 * name the operation (and never an item's data). */
#ifndef AG_PG_H
#define AG_PG_H

#include <stdbool.h>
#include <stddef.h>

/* The schema version this agent reads and writes. */
#define AG_PG_SCHEMA_VERSION 5

enum {
  AG_PG_OK = 0,
  AG_PG_ERR = -1,
  AG_PG_NONE = 1,   /* claim: no pending item in the batch now */
  AG_PG_LOST = 2,   /* the claim is no longer this node's (lease ran out, taken over) */
  AG_PG_NEWER = 3,  /* open: the database's schema is newer than this agent */
  AG_PG_CONFIG = 4, /* open: the address or the password file is wrong (not the database) */
};

typedef struct ag_pg ag_pg;

typedef struct ag_pg_opts {
  /* libpq connection string or URI ("host=/run/pg dbname=vagt sslmode=verify-full" or
   * "postgresql://vagt@db/vagt?sslmode=verify-full"). A password in it is refused: use
   * ~/.pgpass, PGPASSFILE or password_file. */
  const char *conninfo;
  /* Optional: a file (owner-only, not a symlink) whose first line is the password. */
  const char *password_file;
  const char *node;    /* this node's name (claims record it) */
  int connect_timeout; /* seconds; 0: 10 */
} ag_pg_opts;

/* Connects and brings the schema to AG_PG_SCHEMA_VERSION (creating it in an empty database,
 * upgrading an older one inside a transaction under pg_advisory_xact_lock). Refuses a newer
 * schema (*code = AG_PG_NEWER) naming both versions; an address that holds a password or
 * does not parse, or a password file that is not owner-only, is AG_PG_CONFIG. NULL with
 * err on failure. */
ag_pg *ag_pg_open(const ag_pg_opts *o, int *code, char *err, size_t errlen);
void ag_pg_close(ag_pg *pg);

/* Whether the password file would be used: owner-only, a regular file, a password on its
 * first line. 0, or -1 with err (as connecting would say it). The password is not kept. */
int ag_pg_password_check(const char *path, char *err, size_t errlen);

/* The last error's message ("claim: ..."), empty when none. */
const char *ag_pg_error(const ag_pg *pg);

/* Reconnections made so far (a broken connection is reset and the operation retried once). */
int ag_pg_reconnects(const ag_pg *pg);

/* Registers this connection's node name as the state folder with the random id `instance`
 * (last seen now): AG_PG_OK when the name is free or already this folder's; AG_PG_LOST when
 * another folder holds it (*since: when it registered it, UTC). */
int ag_pg_node_register(ag_pg *pg, const char *instance, char *since, size_t since_len);

typedef struct ag_pg_item_in {
  const char *key;     /* idempotency key, unique within the batch */
  int seq;             /* row number in the source (order of claiming) */
  const char *payload; /* a reference to the item's data (row, file), not the data */
} ag_pg_item_in;

/* Adds the items not yet in the batch (by key), in one transaction; *added = how many were
 * new. Enqueueing the same batch again adds nothing twice. max_attempts <= 0: 3. */
int ag_pg_enqueue(ag_pg *pg, const char *batch, const ag_pg_item_in *items, size_t n,
                  int max_attempts, size_t *added);

typedef struct ag_pg_held {
  long long item;  /* the item's id */
  long long claim; /* this claim's id: the fencing token for the calls below */
  int seq;
  int attempt;   /* 1 for the first claim of the item */
  char key[256]; /* truncated when longer (the database keeps it whole) */
  char payload[512];
  double lease_left; /* seconds of lease, by the database's clock, when claimed */
} ag_pg_held;

/* Claims the batch's first pending item (by seq) for node + run under a lease of lease_s
 * seconds: AG_PG_OK and *c, AG_PG_NONE when there is none now, AG_PG_ERR. Expired leases
 * of the batch are settled first when due (see ag_pg_expire). */
int ag_pg_claim(ag_pg *pg, const char *batch, const char *run, double lease_s, ag_pg_held *c);

/* Extends the lease to now() + lease_s: AG_PG_OK, or AG_PG_LOST when it had run out or the
 * item is no longer this claim's. */
int ag_pg_renew(ag_pg *pg, const ag_pg_held *c, double lease_s);

/* Records that the robot is about to send the item's first input (step: optional name of
 * the step, kept for a person). Only while the lease holds: AG_PG_LOST otherwise, and then
 * the robot must not send any input for the item. Repeating it is harmless. */
int ag_pg_input_sent(ag_pg *pg, const ag_pg_held *c, const char *step);

/* Finishes the claim: done (reason NULL) or failed with a reason. The reason is stored with
 * the item's key replaced by "[key]" and cut at 500 bytes; it must not quote item data.
 * AG_PG_LOST when the item is no longer this claim's. Repeating it is harmless. */
int ag_pg_complete(ag_pg *pg, const ag_pg_held *c, bool done, const char *reason);

/* Completes *c as ag_pg_complete does and claims the batch's next item in the same
 * statement (one round trip, one commit instead of two): AG_PG_OK with *c the next claim,
 * AG_PG_NONE when completed and nothing is pending now, AG_PG_LOST when the completion was
 * refused (nothing claimed then), AG_PG_ERR (*c unchanged; as with ag_pg_complete, repeating
 * the call is harmless). */
int ag_pg_complete_claim(ag_pg *pg, ag_pg_held *c, bool done, const char *reason, const char *batch,
                         const char *run, double lease_s);

/* Settles claims whose lease ran out (batch NULL: every batch): no input sent -> pending
 * again, or failed "attempts exhausted" after max_attempts claims; input sent ->
 * needs_review. *n (optional) = how many were settled. */
int ag_pg_expire(ag_pg *pg, const char *batch, int *n);

/* Gives the claim back without an outcome (the run stopped inside the item, e.g. on a drift
 * halt): pending again when no input was sent under it (the attempt is not counted), else
 * needs_review with the reason, for a person. *review (optional): it went to a person.
 * AG_PG_LOST when the claim is no longer this node's. */
int ag_pg_release(ag_pg *pg, const ag_pg_held *c, const char *reason, bool *review);

/* A setting every node of the fleet must share (vagt_meta): the first node to ask records
 * `value`; later askers learn whether theirs is the same (*same) and which node recorded it
 * (holder). Holds no secret: give a check value, never a key. */
int ag_pg_meta_agree(ag_pg *pg, const char *name, const char *value, bool *same, char *holder,
                     size_t holder_len);

/* robot.items' retry_failed in a fleet: the batch's failed items (a script's error,
 * attempts exhausted) that runs other than node + run failed become pending again with
 * their attempts counted afresh. Never an item that needs review (its input may have been
 * sent: a person puts it back). *n (optional): how many. */
int ag_pg_retry_failed(ag_pg *pg, const char *batch, const char *run, long long *n);

/* The batch's items that wait for a person (failed, needs_review), by row number, with the
 * node and run that last held them (never their key or data). */
typedef void (*ag_pg_person_fn)(void *ud, int seq, const char *state, const char *node,
                                const char *run);
int ag_pg_need_person(ag_pg *pg, const char *batch, ag_pg_person_fn fn, void *ud);

typedef struct ag_pg_counts {
  long long pending, claimed, done, failed, needs_review, total;
} ag_pg_counts;

int ag_pg_counts_get(ag_pg *pg, const char *batch, ag_pg_counts *out);

/* Schedules fire once per fleet: claims the robot's run at the cron time `scheduled` (Unix
 * seconds) for this node. *won: this node runs it; else holder names the node that does.
 * Claiming the same time again answers the same. AG_PG_ERR when the database cannot say
 * (then nobody may assume the run is theirs: try again later). */
int ag_pg_sched_claim(ag_pg *pg, const char *robot, long long scheduled, const char *trigger,
                      int spread, bool *won, char *holder, size_t holder_len);
/* (spread > 1: up to that many nodes claim the time, one slot each; holder then names the
 * nodes that hold it, in slot order.) */

/* Seats: at most `seats` runs of the robot at once across the fleet (licences, sessions).
 * Takes a free seat (or one whose lease ran out) for the run under a lease: AG_PG_OK and
 * *seat, AG_PG_NONE when every seat is held now. Renew it while the run lasts
 * (AG_PG_LOST: it ran out and was taken), release it at its end. */
int ag_pg_seat_take(ag_pg *pg, const char *robot, int seats, const char *run, double lease_s,
                    int *seat);
int ag_pg_seat_renew(ag_pg *pg, const char *robot, int seat, const char *run, double lease_s);
int ag_pg_seat_release(ag_pg *pg, const char *robot, int seat, const char *run);
/* The latest scheduled time any node claimed for the robot: AG_PG_OK and *last,
 * AG_PG_NONE when none ever was. */
int ag_pg_sched_last(ag_pg *pg, const char *robot, long long *last);

/* ---- the fleet's baselines and drift pauses ---- */

/* The robot's current baseline version (the highest published), its digest and the node
 * that published it: AG_PG_OK, or AG_PG_NONE when none was published. */
int ag_pg_baseline_current(ag_pg *pg, const char *robot, int *version, char *digest, size_t dlen,
                           char *node, size_t nlen);

/* One file of a baseline folder. */
typedef struct ag_pg_file {
  const char *name;
  const unsigned char *data;
  size_t len;
} ag_pg_file;
/* Calls fn for every file of the version (by name); fn returns nonzero to stop (AG_PG_ERR). */
typedef int (*ag_pg_file_fn)(void *ud, const char *name, const unsigned char *data, size_t len);
int ag_pg_baseline_get(ag_pg *pg, const char *robot, int version, ag_pg_file_fn fn, void *ud);

/* Publishes the files as version prev_version + 1 (*version), in one transaction that also
 * ends the robot's drift pause. AG_PG_LOST when the current version is no longer
 * prev_version (another node published first: read it, then decide again). */
int ag_pg_baseline_put(ag_pg *pg, const char *robot, int prev_version, const char *digest,
                       const ag_pg_file *files, size_t n, int *version);

/* Pauses the robot fleet-wide after a drift halt of `run` (this node's). *first: this call
 * paused it (its alert is the fleet's one); else it was paused already, by `holder` ("node
 * N, run R"). The pause lasts until a baseline is published. */
int ag_pg_pause(ag_pg *pg, const char *robot, const char *run, const char *alert_id, bool *first,
                char *holder, size_t hlen);
/* Ends the robot's pause if run fleet_run (the fleet's id) holds it, without a new baseline:
 * AG_PG_OK; AG_PG_LOST another run holds it; AG_PG_NONE the robot is not paused. */
int ag_pg_resume(ag_pg *pg, const char *robot, long long fleet_run);
/* Whether the robot is paused, and by what ("run F on the pages: node N's run R, at TIME",
 * F the fleet's id; without "run F on the pages: " while the run is not in the fleet's
 * history). */
int ag_pg_paused(ag_pg *pg, const char *robot, bool *paused, char *by, size_t blen);

/* ---- the fleet's run history and evidence (ag_pg_history.c) ---- */

/* A run of this node, as the fleet's history keeps it (by node and local id). */
typedef struct ag_pg_run {
  long long local_id; /* the run's id in this node's own history */
  const char *robot, *trigger, *status;
  int exit_code;
  bool ended;               /* exit_code and finished are known */
  double started, finished; /* Unix seconds */
  int steps;
  const char *error, *run_dir, *alert_id; /* NULL: none */
} ag_pg_run;

/* Adds this node's run, or brings its row up to date: *id is its id in the fleet. */
int ag_pg_run_put(ag_pg *pg, const ag_pg_run *r, long long *id);
/* The run's files in the fleet (its masked evidence, run.json, alert.json, report.html)
 * become these, in one transaction. */
int ag_pg_run_files_put(ag_pg *pg, long long id, const ag_pg_file *files, size_t n);
/* Writes the run's files into dir (created owner-only, with evidence/; the caller empties an
 * earlier copy first), for the pages and `vagt approve` of a node that did not run it.
 * AG_PG_OK, or AG_PG_ERR with err (the database's error or the file's). */
int ag_pg_run_files_to(ag_pg *pg, long long id, const char *dir, char *err, size_t errlen);
/* Retention in the fleet's database, for rows that ended before `before` (Unix seconds):
 * this node's runs with their files (not the drift halt that holds its robot's pause, not a
 * run whose alert is not delivered yet; approvals stay: the audit trail), delivered outbox
 * rows, finished work items of batches nothing is pending or claimed in any more (with their
 * claims; items for a person stay), and schedule claims older than each robot's latest. */
typedef struct ag_pg_pruned {
  long long runs, outbox, items, schedule;
} ag_pg_pruned;
int ag_pg_prune(ag_pg *pg, double before, ag_pg_pruned *out);

/* ---- the robots' scripts (ag_pg_history.c) ---- */

/* The fleet's current version of the robot's script: its digest and the node that
 * published it. AG_PG_OK, or AG_PG_NONE when none was published. */
int ag_pg_script_current(ag_pg *pg, const char *robot, int *version, char *digest, size_t dlen,
                         char *node, size_t nlen);
/* Publishes digest as version prev + 1 (*version): AG_PG_LOST when the current version is no
 * longer prev (another node published first). */
int ag_pg_script_put(ag_pg *pg, const char *robot, int prev, const char *digest, int *version);

/* ---- the fleet's alert outbox ---- */

/* One alert delivery: an outbox row (the node's own outbox hands its rows over). */
typedef struct ag_pg_alert {
  long long id; /* the fleet row's (claim) */
  const char *alert_id, *robot, *channel, *kind, *target, *payload;
  const unsigned char *attach; /* the diff image for an e-mail, or NULL */
  size_t attach_len;
  const char *attach_name;
  int attempts; /* including this one (claim) */
} ag_pg_alert;

/* Adds the row once per (alert id, channel, kind) across the fleet; *added: it was new. */
int ag_pg_outbox_add(ag_pg *pg, const ag_pg_alert *a, bool *added);
/* Takes up to 20 due rows for this node under a lease of lease_s seconds (a node that dies
 * while delivering lets them go when it runs out) and calls fn for each. */
typedef void (*ag_pg_alert_fn)(void *ud, const ag_pg_alert *a);
int ag_pg_outbox_claim(ag_pg *pg, double lease_s, ag_pg_alert_fn fn, void *ud);
/* The outcome of a claimed row: delivered, or failed (due again in retry_s seconds). */
int ag_pg_outbox_result(ag_pg *pg, long long id, bool delivered, const char *error, double retry_s);
/* Rows this node added that are not delivered yet. */
int ag_pg_outbox_pending(ag_pg *pg, long long *n);

#endif
