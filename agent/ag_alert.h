/* Alerts: a drift halt (exit 3) or a failure (exit 1, 2, 4, timeout, interrupted) of a
 * robot with `alert = { ... }` becomes one alert with an id derived from the run's identity
 * and status (ag_alert_id: a retry, a restart or another node makes the same), written to
 * the outbox table once per channel and way of delivery, in the same transaction that
 * records the run's end. A delivery thread then sends what is due (webhook: JSON POST; e-mail: SMTP,
 * with the diff image attached only when alert.json's evidence_mode is "full" and only over
 * TLS (smtps://, or STARTTLS required; without STARTTLS the mail goes without the image);
 * syslog: a datagram to the channel's socket, /dev/log by default) and retries failures with exponential backoff
 * (30 s doubling up to an hour; $VAGT_AGENT_RETRY_BASE seconds for tests) until delivered.
 * A row is marked delivered only after the receiver accepted it, so a SIGKILL at any moment
 * loses nothing; a receiver may see an alert twice and drops duplicates by its id. */
#ifndef AG_ALERT_H
#define AG_ALERT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "ag_config.h"
#include "ag_db.h"

/* The alert id of run `run_id` (its row gives when it started) ending with `status`. */
void ag_alert_id(sqlite3 *db, const char *robot, long long run_id, const char *status, char *buf,
                 size_t n);

/* Builds the alert of a finished run and adds it to the outbox when the robot's alert_on
 * and channels call for one. Run it inside the transaction that finishes the run.
 * Returns the number of outbox rows added (0: no alert), -1 on a database error. */
int ag_alert_enqueue(sqlite3 *db, const ag_config *c, const ag_robot *r, long long run_id,
                     const ag_runinfo *ri, double now);

/* Tries every delivery the journal has due at `now` once. Returns how many were
 * delivered; *pending (may be NULL) gets the number still undelivered (due later).
 * A fleet's node (ag_journal_fleet.c) hands its undelivered rows to the fleet's outbox
 * (each alert id once per channel and kind across the fleet), then delivers the fleet's due
 * rows it can take: a row is held under a lease ($VAGT_AGENT_OUTBOX_LEASE seconds, default
 * 300: longer than a delivery's own timeout) and marked delivered once a receiver accepted
 * it, so a node that dies while delivering leaves it to another node after the lease. */
int ag_outbox_deliver(ag_journal *j, double now, int *pending);

/* The background delivery thread, with its own journal over `dbpath` (in a fleet also its
 * own connection to the fleet's database). */
int ag_outbox_start(const char *dbpath, const ag_config *c);
void ag_outbox_kick(void); /* deliver now (a new alert was added) */
void ag_outbox_stop(void);

#endif
