/* A robot's fleet-wide state, kept in the fleet's PostgreSQL (ag_pg.h): the baseline every
 * node judges against, and the pause a drift halt puts on the robot on every node.
 *
 * Baselines. A node remembers which fleet version its baseline folder holds
 * (STATE/fleet/ROBOT.baseline: "VERSION DIGEST"; the digest is SHA-256 over the folder's
 * files, names and contents, in name order). Before each run:
 *   - no version published yet: this node's folder (when it has one) becomes version 1;
 *   - the folder is the fleet's current version: run;
 *   - the folder is what this node last had from the fleet (or missing, or never synced) and
 *     the fleet has a newer version: it is installed (written beside, then swapped in);
 *   - the folder changed since this node last synced (an approval or a recording on this
 *     node): it is published as the next version.
 * A run therefore never judges against a baseline older than the fleet's.
 *
 * Drift. The first node to record a drift halt of a robot pauses it for the fleet and sends
 * the one alert; later drift halts of the same robot (on any node, before the pause was
 * seen) send none. A paused robot starts on no node. Publishing a new baseline version (an
 * approval on any node's pages, or a changed folder found before a run) ends the pause. */
#ifndef AG_FLEET_H
#define AG_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "ag_config.h"

/* A fleet node's databases, as its journal (ag_journal_fleet.c) holds them. */
typedef struct ag_fleet_node {
  const ag_config *cfg;
  struct sqlite3 *db; /* this node's record (STATE/vagt.db, ag_db.h) */
  struct ag_pg *pg;   /* the fleet's database, NULL while not connected */
} ag_fleet_node;

/* A connection to the configuration's fleet database (ag_pg_open with its database,
 * password file and node); NULL with *code and err as ag_pg_open gives them. */
struct ag_pg *ag_fleet_connect(const ag_config *c, int *code, char *err, size_t errlen);

/* Registers the node's name as this state folder's in the fleet (x->pg connected): the
 * folder's random id (STATE/fleet/node-id, made at its first connection), the machine's id
 * (/etc/machine-id, as a SHA-256 digest with the path) and the folder's path, so that a copy of the folder (a cloned machine)
 * is another folder. 0; 1 the name is another folder's (err says what to do: two folders under one name would overwrite
 * each other's runs); -1 with err. */
int ag_fleet_register(ag_fleet_node *x, char *err, size_t errlen);

/* The robot's baseline folder (its `baseline`, else the script's default); malloc'd. */
char *ag_fleet_baseline_dir(const ag_robot *r);

/* Before a run of r: 0 to start it; 1 when the robot is paused (why says by what run);
 * -1 when the fleet cannot say (database unreachable, a baseline that cannot be written):
 * the run must not start (why says why). Logs what it installed or published. */
int ag_fleet_before_run(ag_fleet_node *n, const ag_robot *r, char *why, size_t whylen);

/* After a drift halt of run `run_id`: pauses the robot fleet-wide. True when this node
 * should send the alert (it paused it, or the database could not say). */
bool ag_fleet_on_drift(ag_fleet_node *n, const ag_robot *r, long long run_id, const char *alert_id);

/* Around an approval on this node's pages: brings r's baseline folder and the fleet to one
 * version (a folder changed here since this node last synced, by the approval or by
 * `vagt approve` on the command line, is published as the fleet's next version, which ends
 * the pause). Opens a connection of its own (any thread). 0; 1 (want_resumed) the robot is
 * still paused afterwards (msg says by what run: no new version came of it); -1 with msg. */
int ag_fleet_publish(const ag_config *c, const ag_robot *r, bool want_resumed, char *msg,
                     size_t msglen);

/* An operator's dismissal of a drift halt that was not the application's change (a node set
 * up wrongly, a test): ends r's pause if run fleet_run (the fleet's id) holds it, with the
 * baseline unchanged. 0 (msg: resumed); 1 nothing to do (msg: not paused, or another run
 * holds the pause); -1 the database cannot (msg). Opens a connection of its own. */
int ag_fleet_resume(const ag_config *c, const ag_robot *r, long long fleet_run, char *msg,
                    size_t msglen);

/* Whose is the robot's run scheduled at t (unix seconds)? 1 this node's (always without a
 * fleet connection: n->pg NULL), 0 another node's (holder names it), -1 the database cannot say
 * (holder says why). The claim is one row per robot and time, by the database's clock. */
int ag_fleet_sched_claim(ag_fleet_node *n, const ag_robot *r, long long t, const char *trigger,
                         char *holder, size_t holder_len);
/* The latest scheduled time any node started (or skipped) the robot for: true with *t;
 * false when none is known (or without a fleet). */
bool ag_fleet_sched_last(ag_fleet_node *n, const ag_robot *r, long long *t);

/* ---- the fleet's history (ag_fleet_history.c) ----
 * Every run of a node is copied into the fleet's database: its row when it starts, and
 * when it has ended its row, alert id and files (run.json, alert.json, approved.json,
 * report.html and evidence/, as the run kept them), so that every node's pages show every
 * node's runs. STATE/vagt.db stays this node's record (its table fleet_runs says what was
 * copied); a copy the database refused is tried again by ag_fleet_history_due. No-ops
 * while not connected (n->pg NULL). */

/* After run `id` was added to this node's history. */
void ag_fleet_run_begin(ag_fleet_node *n, long long id);
/* The run's id in the fleet (the pages' and the alert links' id), adding its row if its
 * start could not: 0 when not in a fleet or the database cannot say. */
long long ag_fleet_run_id(ag_fleet_node *n, long long id);
/* After the run's end was recorded here: copies its row and files. 0, or -1 (logged; left
 * for ag_fleet_history_due). */
int ag_fleet_run_end(ag_fleet_node *n, long long id);
/* Ended runs whose copy the database refused before: tried again, a few per call. */
void ag_fleet_history_due(ag_fleet_node *n);

#endif
