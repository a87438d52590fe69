/* Retention: deleting run folders past their age (README "Citizens' data", `vagt prune`,
 * the agent's retention_days). Shared by `vagt prune` (cli/cmd_prune.c) and the agent
 * (agent/ag_prune.c), which adds its own database rows.
 *
 * What counts as a run folder, and so may be deleted: a real folder (never a symbolic
 * link: the link and what it points to are left alone) directly inside the runs folder,
 * holding a regular run.json that vagt wrote: "format" "vagt-run" (run.json format 2 on) or
 * format 1's layout (runfile.h). Anything else in the runs folder is left alone and reported. A run folder is
 * old when its run.json was last written (the run's end) before the cutoff. An old run
 * folder is still kept when
 *   - its run still runs: somebody holds run.lock (or, from a vagt without run.lock, its
 *     run.json says "running");
 *   - it waits for approval: it halted on drift (status "drift", alert.json present), it
 *     has no approved.json, it is the newest drift halt of its script in this runs folder
 *     and no later run of that script passed. That is the one folder `vagt approve` needs
 *     to accept the new screens; older halts of the same script, and a halt that a later
 *     passing run made moot, go.
 * Deleting never follows a symbolic link (the whole tree is walked with openat and
 * O_NOFOLLOW, links are unlinked as links), never leaves the file system the runs folder
 * is on, and holds run.lock while it deletes, so a reaper or a run cannot start on the
 * folder meanwhile. */
#ifndef VAGT_PRUNE_H
#define VAGT_PRUNE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  RT_PRUNE_OLD,      /* past the cutoff: to delete */
  RT_PRUNE_RECENT,   /* a run folder younger than the cutoff */
  RT_PRUNE_RUNNING,  /* its run still runs */
  RT_PRUNE_AWAITING, /* an unapproved drift halt still needed for `vagt approve` */
  RT_PRUNE_FOREIGN,  /* not a vagt run folder: left alone */
} rt_prune_kind;

typedef struct rt_prune_entry {
  char *name; /* the entry's name in the runs folder */
  rt_prune_kind kind;
  char why[160];               /* FOREIGN: why it is not taken for a run folder */
  bool is_dir;                 /* FOREIGN: a folder (or a link), not a plain file */
  double mtime;                /* run.json's modification time (Unix seconds) */
  char *script;                /* run.json's "script", or NULL */
  char *status;                /* run.json's "status", or NULL */
  bool unapproved;             /* a drift halt (alert.json) without approved.json */
  unsigned long long dev, ino; /* the folder judged, so a folder put in its place is not */
} rt_prune_entry;

typedef struct rt_prune_list {
  rt_prune_entry *v;
  size_t n;
} rt_prune_list;

/* Judges every entry of the folder `runs` against `cutoff` (Unix seconds). 0, or -1 with
 * err when the folder cannot be read. */
int rt_prune_scan(const char *runs, double cutoff, rt_prune_list *out, char *err, size_t errlen);
void rt_prune_list_free(rt_prune_list *l);

/* Deletes one entry that rt_prune_scan judged RT_PRUNE_OLD, judging again what can have
 * changed since (a run starting on it, a link put in its place); adds the sizes of the
 * files it removed to *bytes. 0 when deleted, 1 when it was kept after all (err says why),
 * -1 with err when it could be deleted only in part. */
int rt_prune_remove(const char *runs, const rt_prune_entry *e, long long *bytes, char *err,
                    size_t errlen);

/* Deletes the folder at path and everything in it, as rt_prune_remove deletes a run
 * folder: links removed as links, never followed, nothing on another file system. 0, or -1
 * with err. */
int rt_remove_tree(const char *path, char *err, size_t errlen);

/* Sizes of the files of an entry (what rt_prune_remove would free), for --dry-run. */
long long rt_prune_size(const char *runs, const rt_prune_entry *e);

/* "30d", "12h": seconds into *secs. false for anything else (no unit, zero, negative, past
 * 10 years, trailing text). */
bool rt_prune_parse_age(const char *s, double *secs);

#endif
