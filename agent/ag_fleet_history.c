/* Fleet mode's history (ag_fleet.h): every run of this node is copied into the fleet's
 * database, its row when it starts and, when it has ended, its row, alert id and files,
 * so any node's pages show it and approve it. This node's own history (STATE/vagt.db)
 * stays the record of what ran here: the table fleet_runs says which runs were copied,
 * and a copy the database refused is tried again from the daemon loop. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_alert.h"
#include "ag_db.h"
#include "ag_fleet.h"
#include "ag_pg.h"
#include "ag_util.h"
#include "runfile.h"
#include "vu.h"

#define RUN_FILE_MAX (32u << 20)   /* one file of a run folder */
#define RUN_FILES_MAX (128u << 20) /* all of them */
#define RUN_FILES_N 512

/* ---- the run folder's files that the pages serve and `vagt approve` reads ---- */

typedef struct {
  ag_pg_file f[RUN_FILES_N];
  size_t n, bytes;
} run_files;

static void files_free(run_files *rf)
{
  for (size_t i = 0; i < rf->n; i++) {
    free((char *)rf->f[i].name);
    free((unsigned char *)rf->f[i].data);
  }
  rf->n = 0;
}

/* Adds dir/rel when it is a regular file (never a link). 0, or -1 with err. */
static int add_file(run_files *rf, const char *dir, const char *rel, char *err, size_t errlen)
{
  char *path = NULL;
  if (ag_asprintf(&path, "%s/%s", dir, rel) < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  struct stat st;
  int rc = 0;
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
    size_t len = 0;
    char *data = vu_read_file(path, RUN_FILE_MAX, VU_NOFOLLOW, &len, err, errlen);
    if (!data)
      rc = -1;
    else if (rf->n == RUN_FILES_N || rf->bytes + len > RUN_FILES_MAX) {
      snprintf(err, errlen, "the run folder holds more than %d files or %u MiB", RUN_FILES_N,
               RUN_FILES_MAX >> 20);
      rc = -1;
    } else if (!(rf->f[rf->n].name = strdup(rel))) {
      snprintf(err, errlen, "out of memory");
      rc = -1;
    } else {
      rf->f[rf->n].data = (unsigned char *)data;
      rf->f[rf->n++].len = len;
      rf->bytes += len;
      data = NULL;
    }
    free(data);
  }
  free(path);
  return rc;
}

/* run.json, alert.json, approved.json, report.html and evidence/ (the images as the run
 * kept them: masked unless the robot asked for full evidence). The step log and the
 * script's log stay on the node. */
static int files_read(const char *dir, run_files *rf, char *err, size_t errlen)
{
  static const char *const top[] = {RT_RUN_JSON, RT_ALERT_JSON, RT_APPROVED_JSON, RT_REPORT_HTML};
  memset(rf, 0, sizeof *rf);
  for (size_t i = 0; i < sizeof top / sizeof *top; i++)
    if (add_file(rf, dir, top[i], err, errlen) != 0)
      goto fail;
  char *ev = NULL;
  if (ag_asprintf(&ev, "%s/evidence", dir) < 0)
    goto fail;
  DIR *d = opendir(ev);
  free(ev);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char rel[300];
    snprintf(rel, sizeof rel, "evidence/%s", e->d_name);
    if (add_file(rf, dir, rel, err, errlen) != 0) {
      closedir(d);
      goto fail;
    }
  }
  if (d)
    closedir(d);
  return 0;
fail:
  files_free(rf);
  return -1;
}

/* ---- this node's history row and its copy ---- */

/* The fleet's row for the local run: *fid. */
static int put_row(ag_fleet_node *n, long long id, const ag_db_run *lr, long long *fid)
{
  char aid[80] = ""; /* a passed run raised none: it names no alert */
  if (lr->ended && strcmp(lr->status, "passed") != 0)
    ag_alert_id(n->db, lr->robot, id, lr->status, aid, sizeof aid);
  ag_pg_run pr = {.local_id = id,
                  .robot = lr->robot,
                  .trigger = lr->trigger,
                  .status = lr->status,
                  .exit_code = lr->exit_code,
                  .ended = lr->ended,
                  .started = lr->started,
                  .finished = lr->finished,
                  .steps = lr->steps,
                  .error = lr->error,
                  .run_dir = lr->run_dir,
                  .alert_id = aid[0] ? aid : NULL};
  return ag_pg_run_put(n->pg, &pr, fid);
}

void ag_fleet_run_begin(ag_fleet_node *n, long long id)
{
  if (!n->pg)
    return;
  ag_db_fleet_mark(n->db, id, 0, false); /* to be copied: ag_fleet_history_due tries again */
  if (!ag_fleet_run_id(n, id))
    fprintf(stderr, "vagt agent: run %lld: not in the fleet's history yet: %s\n", id,
            ag_pg_error(n->pg));
}

long long ag_fleet_run_id(ag_fleet_node *n, long long id)
{
  if (!n->pg)
    return 0;
  ag_db_run lr;
  if (!ag_db_run_get(n->db, id, &lr))
    return 0;
  if (lr.fleet_id > 0)
    return lr.fleet_id;
  long long fid = 0;
  if (put_row(n, id, &lr, &fid) != AG_PG_OK)
    return 0;
  ag_db_fleet_mark(n->db, id, fid, false);
  return fid;
}

int ag_fleet_run_end(ag_fleet_node *n, long long id)
{
  if (!n->pg)
    return 0;
  ag_db_run lr;
  if (!ag_db_run_get(n->db, id, &lr) || !lr.ended)
    return -1;
  long long fid = 0;
  char err[512] = "";
  run_files rf = {0};
  int rc = -1;
  char ferr[512];
  if (lr.run_dir[0] && files_read(lr.run_dir, &rf, ferr, sizeof ferr) != 0)
    /* this folder's files never will be copied (too many, too large, unreadable): its row
     * is, and other nodes' pages show the run without its report and evidence */
    fprintf(stderr, "vagt agent: run %lld: its files stay on this node only: %s\n", id, ferr);
  if (put_row(n, id, &lr, &fid) != AG_PG_OK)
    snprintf(err, sizeof err, "%s", ag_pg_error(n->pg));
  else if (ag_pg_run_files_put(n->pg, fid, rf.f, rf.n) != AG_PG_OK)
    snprintf(err, sizeof err, "%s", ag_pg_error(n->pg));
  else
    rc = 0;
  if (rc == 0)
    ag_db_fleet_mark(n->db, id, fid, true);
  else
    fprintf(stderr, "vagt agent: run %lld: its copy in the fleet's history waits: %s\n", id, err);
  files_free(&rf);
  return rc;
}

void ag_fleet_history_due(ag_fleet_node *n)
{
  if (!n->pg)
    return;
  long long ids[5];
  int due = ag_db_fleet_unsynced(n->db, ids, 5);
  for (int i = 0; i < due; i++)
    if (ag_fleet_run_end(n, ids[i]) != 0)
      break; /* the database refuses (or the run is gone): the next loop tries again */
}
