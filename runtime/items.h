/* robot.items: resumable batches.
 *
 *   for item in robot.items("cpr-2026-11", robot.params.batch) do ... end
 *   local n = robot.items("cpr-2026-11", rows, { key = "cpr" }, function(item) ... end)
 *
 * The source is a CSV file (the header row names the fields; ',', ';' or TAB separated,
 * quotes as RFC 4180, a UTF-8 BOM is skipped) or a Lua list (of tables or strings). Each
 * item has a key: its `key` field's value when opts.key is given (the script chose to
 * store it), else the HMAC-SHA256 (hex) of its content under the installation's secret
 * key, so the database never holds a citizen's data it was not told to. The content is a
 * string item itself, or a table's "field=value" pairs (string, number and boolean values)
 * sorted by their bytes and joined with 0x1f. The key file is $VAGT_ITEMS_KEY_FILE, else
 * items.key beside the database: 32 random bytes, created owner-only on first use, refused
 * when group or others may read it or it is not a regular file; the database records a
 * check of it (table meta) and refuses another key. The state of every key within NAME is
 * kept in SQLite ($VAGT_ITEMS_DB, set by the agent, else items.db in the runs folder):
 *   pending  not yet started, or left by a drift halt (the guard sent no input);
 *   running  entered: its loop body has not returned yet;
 *   done     its loop body returned;
 *   failed   with the reason: the body raised an error, or a run ended (killed, timed
 *            out, interrupted) while the item was running, so it may be partly done.
 * A run skips items done and failed (opts.retry_failed = true retries failed ones), and
 * never enters an item a second time by itself: an item left "running" by a killed run
 * becomes failed("interrupted ...", keeping that run's folder) for a person to check. Each
 * failed item a run skips (or fails now) is for a person: counted in run->items_need_person
 * (a run that passes then ends RT_EXIT_REVIEW, "needs_review"), listed in run.json's
 * items_need_person by batch and row number and logged, never by its data. Every entering
 * and end of an item is appended to item_runs (vagt items who). Keys are done for good
 * within NAME: give each batch its own NAME (e.g. with the input file's date).
 *
 * In a fleet ($VAGT_ITEMS_FD set by the agent, items_fleet.h) the state is the fleet's:
 * the keys are entered once in the fleet's database, each item is claimed through the agent
 * under a lease, "input sent" is recorded before the item's first input (rt_run's
 * input_gate), and the end is done, failed or given back (pending, or needs_review when
 * input was sent). Items other runs left for a person are counted and listed as above, by
 * row, node and run. retry_failed is refused there.
 *
 * The for form marks an item done when the loop asks for the next one (or ends); leaving
 * the loop with break or return leaves the current item pending; an error marks it failed
 * and ends the run as usual. The callback form calls fn(item) in a protected call, marks
 * the item done or failed (with the error) and goes on with the next one; it returns
 * { done =, failed =, waiting =, skipped_done =, skipped = } (failed: now; waiting: failed
 * before, not retried; skipped: both kinds of skipped, as before). A drift halt leaves the
 * current item pending in both (in a fleet: given back). */
#ifndef VAGT_ITEMS_H
#define VAGT_ITEMS_H

#include <lua.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define RT_ITEMS_KEY_LEN 32  /* bytes of the key file */
#define RT_ITEMS_HASH_HEX 65 /* a hashed key in hex, with its NUL */
/* PRAGMA user_version of items.db: 0 keys as given (content or key field), 1 hashed,
 * 2 with the history item_runs (batch, key, run, state, at): every entering and end of an
 * item by a run. */
#define RT_ITEMS_SCHEMA 2

/* Sets robot.items in the robot table at the top of the stack (which stays). Needs from
 * the run only what rt_host_run_of(L) gives: run_dir (for the default database path) and
 * abort (to tell a drift halt from other errors). */
void rt_items_open(lua_State *L);

/* Opens (with `create`, creates) the items database at `path`, loads its key (creating the
 * key file for a database that has none recorded yet) and brings the schema up to date in
 * one transaction: an older database's keys are hashed (their content never stays in the
 * files). The key goes to `key`. NULL with err. */
sqlite3 *rt_items_open_db(const char *path, bool create, unsigned char key[RT_ITEMS_KEY_LEN],
                          char *err, size_t errlen);

/* HMAC-SHA256 of len bytes under key, as lowercase hex. */
void rt_items_hash(const unsigned char key[RT_ITEMS_KEY_LEN], const char *content, size_t len,
                   char hex[RT_ITEMS_HASH_HEX]);

/* An item's content from its "field=value" parts (sorted here, by bytes): a malloc'd string
 * of *outlen bytes, or NULL when out of memory. */
typedef struct {
  const char *s;
  size_t len;
} rt_items_part;
char *rt_items_canonical(rt_items_part *parts, size_t n, size_t *outlen);

/* The CSV reader on its own: parses len bytes of NUL-terminated text (path names it in
 * errors) and pushes the list of items (tables keyed by the header's names), or raises a
 * Lua error naming the file and record. Needs no run. */
int rt_items_parse_csv(lua_State *L, const char *text, size_t len, const char *path);

/* Retention (`vagt prune`, the agent's retention_days): deletes, with SQLite's
 * secure_delete, the done and failed rows of the database at `path` last changed before
 * `cutoff` (Unix seconds), except in batches that still have a pending or running item:
 * such a batch is unfinished, and a later run would do its done items again without their
 * rows. Failed items thus stay for a person to check and retry until the age passes. The
 * history (item_runs) of the deleted items is deleted with them.
 * Pending and running rows never go by age. *deleted: rows deleted (with dry_run: rows
 * that would be); *kept: rows older than the cutoff kept because their batch is
 * unfinished. 0, or -1 with err (also for a file that is not a robot.items database). */
int rt_items_prune(const char *path, double cutoff, bool dry_run, long long *deleted,
                   long long *kept, char *err, size_t errlen);

#endif
