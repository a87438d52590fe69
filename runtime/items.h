/* robot.items: resumable batches.
 *
 *   for item in robot.items("cpr-2026-11", robot.params.batch) do ... end
 *   local n = robot.items("cpr-2026-11", rows, { key = "cpr" }, function(item) ... end)
 *
 * The source is a CSV file (the header row names the fields; ',', ';' or TAB separated,
 * quotes as RFC 4180, a UTF-8 BOM is skipped) or a Lua list (of tables or strings). Each
 * item has a key: its `key` field when opts.key is given, else its whole content. The
 * state of every key within NAME is kept in SQLite ($VAGT_ITEMS_DB, set by the agent,
 * else items.db in the runs folder):
 *   pending  not yet started, or left by a drift halt (the guard sent no input);
 *   running  entered: its loop body has not returned yet;
 *   done     its loop body returned;
 *   failed   with the reason: the body raised an error, or a run ended (killed, timed
 *            out, interrupted) while the item was running, so it may be partly done.
 * A run skips items done and failed (opts.retry_failed = true retries failed ones), and
 * never enters an item a second time by itself: an item left "running" by a killed run
 * becomes failed("interrupted ...") for a person to check. Keys are done for good within
 * NAME: give each batch its own NAME (e.g. with the input file's date).
 *
 * The for form marks an item done when the loop asks for the next one (or ends); leaving
 * the loop with break or return leaves the current item pending; an error marks it failed
 * and ends the run as usual. The callback form calls fn(item) in a protected call, marks
 * the item done or failed (with the error) and goes on with the next one; it returns
 * { done =, failed =, skipped = }. A drift halt leaves the current item pending in both. */
#ifndef VAGT_ITEMS_H
#define VAGT_ITEMS_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

/* Sets robot.items in the robot table at the top of the stack (which stays). Needs from
 * the run only what rt_host_run_of(L) gives: run_dir (for the default database path) and
 * abort (to tell a drift halt from other errors). */
void rt_items_open(lua_State *L);

/* The CSV reader on its own: parses len bytes of NUL-terminated text (path names it in
 * errors) and pushes the list of items (tables keyed by the header's names), or raises a
 * Lua error naming the file and record. Needs no run. */
int rt_items_parse_csv(lua_State *L, const char *text, size_t len, const char *path);

/* Retention (`vagt prune`, the agent's retention_days): deletes, with SQLite's
 * secure_delete, the done and failed rows of the database at `path` last changed before
 * `cutoff` (Unix seconds), except in batches that still have a pending or running item:
 * such a batch is unfinished, and a later run would do its done items again without their
 * rows. Failed items thus stay for a person to check and retry until the age passes.
 * Pending and running rows never go by age. *deleted: rows deleted (with dry_run: rows
 * that would be); *kept: rows older than the cutoff kept because their batch is
 * unfinished. 0, or -1 with err (also for a file that is not a robot.items database). */
int rt_items_prune(const char *path, double cutoff, bool dry_run, long long *deleted,
                   long long *kept, char *err, size_t errlen);

#endif
