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

typedef struct {
  char robot[128], trigger[32], status[32], error[4096], run_dir[4096];
  double started, finished;
  int exit_code, steps;
  bool ended;
  long long fleet_id; /* 0: none yet */
} local_run;

static const char *text(sqlite3_stmt *st, int c)
{
  const unsigned char *t = sqlite3_column_text(st, c);
  return t ? (const char *)t : "";
}

static bool local_get(sqlite3 *db, long long id, local_run *lr)
{
  memset(lr, 0, sizeof *lr);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT r.robot, r.trigger, r.status, r.error, r.run_dir, r.started,"
                         " r.finished, r.exit_code, r.steps, f.fleet_id FROM runs r"
                         " LEFT JOIN fleet_runs f ON f.run_id = r.id WHERE r.id = ?",
                         -1, &st, NULL) != SQLITE_OK)
    return false;
  sqlite3_bind_int64(st, 1, id);
  bool ok = sqlite3_step(st) == SQLITE_ROW;
  if (ok) {
    snprintf(lr->robot, sizeof lr->robot, "%s", text(st, 0));
    snprintf(lr->trigger, sizeof lr->trigger, "%s", text(st, 1));
    snprintf(lr->status, sizeof lr->status, "%s", text(st, 2));
    snprintf(lr->error, sizeof lr->error, "%s", text(st, 3));
    snprintf(lr->run_dir, sizeof lr->run_dir, "%s", text(st, 4));
    lr->started = sqlite3_column_double(st, 5);
    lr->ended = sqlite3_column_type(st, 6) != SQLITE_NULL && strcmp(lr->status, "running") != 0;
    lr->finished = sqlite3_column_double(st, 6);
    lr->exit_code = sqlite3_column_int(st, 7);
    lr->steps = sqlite3_column_int(st, 8);
    lr->fleet_id = sqlite3_column_int64(st, 9);
  }
  sqlite3_finalize(st);
  return ok;
}

static void local_mark(sqlite3 *db, long long id, long long fleet_id, bool synced)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO fleet_runs(run_id, fleet_id, synced) VALUES(?1, ?2, ?3)"
                         " ON CONFLICT(run_id) DO UPDATE SET"
                         " fleet_id = coalesce(?2, fleet_id), synced = ?3",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt agent: database: %s\n", sqlite3_errmsg(db));
    return;
  }
  sqlite3_bind_int64(st, 1, id);
  if (fleet_id > 0)
    sqlite3_bind_int64(st, 2, fleet_id);
  else
    sqlite3_bind_null(st, 2);
  sqlite3_bind_int(st, 3, synced);
  if (sqlite3_step(st) != SQLITE_DONE)
    fprintf(stderr, "vagt agent: database: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
}

/* The fleet's row for the local run: *fid. */
static int put_row(ag_ctx *x, long long id, const local_run *lr, long long *fid)
{
  char aid[80] = "";
  if (lr->ended)
    ag_alert_id(x->db, lr->robot, id, lr->status, aid, sizeof aid);
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
  return ag_pg_run_put(x->pg, &pr, fid);
}

void ag_fleet_run_begin(ag_ctx *x, long long id)
{
  if (!x->pg)
    return;
  local_run lr;
  long long fid = 0;
  if (!local_get(x->db, id, &lr))
    return;
  if (put_row(x, id, &lr, &fid) != AG_PG_OK) {
    fprintf(stderr, "vagt agent: run %lld: not in the fleet's history yet: %s\n", id,
            ag_pg_error(x->pg));
    fid = 0;
  }
  local_mark(x->db, id, fid, false);
}

long long ag_fleet_run_id(ag_ctx *x, long long id)
{
  if (!x->pg)
    return 0;
  local_run lr;
  if (!local_get(x->db, id, &lr))
    return 0;
  if (lr.fleet_id > 0)
    return lr.fleet_id;
  long long fid = 0;
  if (put_row(x, id, &lr, &fid) != AG_PG_OK)
    return 0;
  local_mark(x->db, id, fid, false);
  return fid;
}

int ag_fleet_run_end(ag_ctx *x, long long id)
{
  if (!x->pg)
    return 0;
  local_run lr;
  if (!local_get(x->db, id, &lr) || !lr.ended)
    return -1;
  long long fid = 0;
  char err[512] = "";
  run_files rf = {0};
  int rc = -1;
  if (put_row(x, id, &lr, &fid) != AG_PG_OK)
    snprintf(err, sizeof err, "%s", ag_pg_error(x->pg));
  else if (lr.run_dir[0] && files_read(lr.run_dir, &rf, err, sizeof err) != 0)
    ;
  else if (ag_pg_run_files_put(x->pg, fid, rf.f, rf.n) != AG_PG_OK)
    snprintf(err, sizeof err, "%s", ag_pg_error(x->pg));
  else
    rc = 0;
  if (rc == 0)
    local_mark(x->db, id, fid, true);
  else
    fprintf(stderr, "vagt agent: run %lld: its copy in the fleet's history waits: %s\n", id, err);
  files_free(&rf);
  return rc;
}

void ag_fleet_history_due(ag_ctx *x)
{
  if (!x->pg)
    return;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(x->db,
                         "SELECT f.run_id FROM fleet_runs f JOIN runs r ON r.id = f.run_id"
                         " WHERE f.synced = 0 AND r.status <> 'running' ORDER BY f.run_id"
                         " LIMIT 5",
                         -1, &st, NULL) != SQLITE_OK)
    return;
  long long ids[5];
  int n = 0;
  while (n < 5 && sqlite3_step(st) == SQLITE_ROW)
    ids[n++] = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  for (int i = 0; i < n; i++)
    if (ag_fleet_run_end(x, ids[i]) != 0)
      break; /* the database refuses: the next loop tries again */
}
