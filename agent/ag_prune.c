#include "ag_prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ag_util.h"
#include "items.h"
#include "prune.h"
#include "vu.h"

typedef struct {
  char **v;
  size_t n, cap;
} strs;

static bool strs_add(strs *s, char *p)
{
  if (!p)
    return false;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    char **nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) {
      free(p);
      return false;
    }
    s->v = nv;
    s->cap = nc;
  }
  s->v[s->n++] = p;
  return true;
}

static void strs_free(strs *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
}

typedef struct {
  long long *v;
  size_t n, cap;
} ids;

static void ids_add(ids *s, long long id)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i] == id)
      return;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    long long *nv = realloc(s->v, nc * sizeof *nv);
    if (!nv)
      return;
    s->v = nv;
    s->cap = nc;
  }
  s->v[s->n++] = id;
}

static char *join(const char *a, const char *b)
{
  char *s = NULL;
  return ag_asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/* The old run folders of every robot (STATE/runs/ROBOT/...): deleted, their paths in gone. */
static void prune_folders(ag_ctx *x, ag_journal *j, double cutoff, strs *gone, ag_prune_result *res,
                          volatile sig_atomic_t *stop)
{
  DIR *d = opendir(x->runs);
  if (!d) {
    fprintf(stderr, "vagt agent: retention: cannot read %s: %s\n", x->runs, strerror(errno));
    res->errors++;
    return;
  }
  struct dirent *de;
  char err[1024];
  while ((de = readdir(d)) && !(stop && *stop)) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
      continue; /* a robot's runs folder is a real folder; anything else is not ours */
    char *rdir = join(x->runs, de->d_name);
    rt_prune_list l;
    if (!rdir || rt_prune_scan(rdir, cutoff, &l, err, sizeof err) != 0) {
      fprintf(stderr, "vagt agent: retention: %s\n", rdir ? err : "out of memory");
      res->errors++;
      free(rdir);
      continue;
    }
    for (size_t i = 0; i < l.n && !(stop && *stop); i++) {
      rt_prune_entry *e = &l.v[i];
      if (e->kind == RT_PRUNE_AWAITING)
        res->kept_approval++;
      if (e->kind != RT_PRUNE_OLD)
        continue;
      char *path = join(rdir, e->name);
      if (!path)
        continue;
      if (j->ops->alert_pending_in(j, path)) {
        res->kept_alert++;
        free(path);
        continue;
      }
      int rc = rt_prune_remove(rdir, e, &res->bytes, err, sizeof err);
      if (rc == 1) {
        fprintf(stderr, "vagt agent: retention: kept %s\n", err);
        free(path);
        continue;
      }
      if (rc < 0) { /* what is left is no run any more: its row goes all the same */
        fprintf(stderr, "vagt agent: retention: %s\n", err);
        res->errors++;
      } else {
        res->folders++;
      }
      strs_add(gone, path);
    }
    rt_prune_list_free(&l);
    free(rdir);
  }
  closedir(d);
}

/* The rows to delete: those of the folders deleted now, and those that ended before the
 * cutoff whose folder is gone (or never was), unless an alert of theirs waits. *extra:
 * how many of the latter (runs deleted now that had no folder left). */
static void add_id(void *cls, long long id)
{
  ids_add(cls, id);
}

static void add_if_gone(void *cls, long long id, const char *dir)
{
  struct stat sb;
  if (!*dir || (lstat(dir, &sb) != 0 && errno == ENOENT))
    ids_add(cls, id);
}

static void rows_to_delete(ag_journal *j, double cutoff, const strs *gone, ids *out,
                           long long *extra)
{
  for (size_t i = 0; i < gone->n; i++)
    j->ops->runs_in(j, gone->v[i], add_id, out);
  size_t from_folders = out->n;
  j->ops->runs_ended_before(j, cutoff, add_if_gone, out);
  *extra = (long long)(out->n - from_folders);
}

static void remove_log(int logfd, const char *name, ag_prune_result *res)
{
  struct stat st;
  if (fstatat(logfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return;
  if (!S_ISREG(st.st_mode))
    return;
  if (unlinkat(logfd, name, 0) == 0) {
    res->logs++;
    res->bytes += (long long)st.st_size;
  } else {
    fprintf(stderr, "vagt agent: retention: cannot delete log %s: %s\n", name, strerror(errno));
    res->errors++;
  }
}

/* STATE/logs/ID.log of the rows to delete, and logs older than the cutoff no row names. */
static void prune_logs(ag_ctx *x, ag_journal *j, double cutoff, const ids *rows,
                       ag_prune_result *res)
{
  int logfd = open(x->logs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (logfd < 0)
    return;
  char name[40];
  for (size_t i = 0; i < rows->n; i++) {
    snprintf(name, sizeof name, "%lld.log", rows->v[i]);
    remove_log(logfd, name, res);
  }
  int fd2 = dup(logfd);
  DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    char *end;
    long long id = strtoll(de->d_name, &end, 10);
    struct stat st;
    if (de->d_name[0] < '0' || de->d_name[0] > '9' || strcmp(end, ".log") != 0 ||
        fstatat(logfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        (double)st.st_mtime >= cutoff || j->ops->run_exists(j, id))
      continue;
    remove_log(logfd, de->d_name, res);
  }
  if (d)
    closedir(d);
  else if (fd2 >= 0)
    close(fd2);
  close(logfd);
}

/* The rows go, counted, in one transaction with the record of this prune. */
static int delete_rows(ag_journal *j, double now, double cutoff, const ids *rows, long long extra,
                       ag_prune_result *res)
{
  ag_db_prune p = {.folders = res->folders,
                   .item_rows = res->item_rows,
                   .logs = res->logs,
                   .bytes = res->bytes,
                   .kept = res->kept_approval + res->kept_alert,
                   .first_extra = rows->n - (size_t)extra};
  int rc = j->ops->prune_rows(j, now, cutoff, rows->v, rows->n, &p);
  res->run_rows += p.run_rows;
  res->outbox_rows += p.outbox_rows;
  res->runs = p.runs;
  return rc;
}

int ag_prune_once(ag_ctx *x, ag_journal *j, double now, ag_prune_result *res,
                  volatile sig_atomic_t *stop)
{
  memset(res, 0, sizeof *res);
  int days = x->cfg->retention_days > 0 ? x->cfg->retention_days : AG_RETENTION_DEFAULT;
  double cutoff = now - (double)days * 86400;
  strs gone = {0};
  ids rows = {0};
  long long extra = 0;
  /* Folders first: a row stays while its folder stays (a page never shows a run whose
   * folder went while the row did not, except for a moment). */
  prune_folders(x, j, cutoff, &gone, res, stop);
  rows_to_delete(j, cutoff, &gone, &rows, &extra);
  prune_logs(x, j, cutoff, &rows, res);
  char err[1024];
  struct stat st;
  if (lstat(x->items_db, &st) == 0 && rt_items_prune(x->items_db, cutoff, false, &res->item_rows,
                                                     &res->kept_items, err, sizeof err) != 0) {
    fprintf(stderr, "vagt agent: retention: %s\n", err);
    res->errors++;
  }
  int rc = delete_rows(j, now, cutoff, &rows, extra, res);
  if (rc != 0) {
    fprintf(stderr,
            "vagt agent: retention: the database did not take the deletion of %zu "
            "history rows; they go at the next prune\n",
            rows.n);
    res->errors++;
  }
  res->fleet_rows = j->ops->prune_shared(j, cutoff, &res->errors);
  if (res->runs + res->run_rows + res->outbox_rows + res->item_rows + res->logs +
          res->kept_approval + res->kept_alert + res->kept_items + res->errors >
      0)
    fprintf(stderr,
            "vagt agent: retention %d days: deleted %lld run%s (%lld run folder%s, "
            "%lld bytes of files), %lld history row%s (%lld runs, %lld alerts), "
            "%lld work-item row%s, %lld log%s; kept %lld drift halt%s awaiting "
            "approval, %lld run%s with alerts not yet delivered, %lld work-item "
            "row%s of unfinished batches%s\n",
            days, res->runs, res->runs == 1 ? "" : "s", res->folders, res->folders == 1 ? "" : "s",
            res->bytes, res->run_rows + res->outbox_rows,
            res->run_rows + res->outbox_rows == 1 ? "" : "s", res->run_rows, res->outbox_rows,
            res->item_rows, res->item_rows == 1 ? "" : "s", res->logs, res->logs == 1 ? "" : "s",
            res->kept_approval, res->kept_approval == 1 ? "" : "s", res->kept_alert,
            res->kept_alert == 1 ? "" : "s", res->kept_items, res->kept_items == 1 ? "" : "s",
            res->errors ? "; with errors (above)" : "");
  strs_free(&gone);
  free(rows.v);
  return rc;
}

/* ---- the thread ---- */

static pthread_t g_thr;
static bool g_started;
static volatile sig_atomic_t g_stop;

static void *prune_thread(void *arg)
{
  ag_ctx *x = arg;
  char err[1024];
  ag_journal *j = ag_journal_open(x->cfg, x->dbpath, err, sizeof err);
  if (!j) {
    fprintf(stderr, "vagt agent: retention: %s; nothing is deleted until the agent restarts\n",
            err);
    return NULL;
  }
  const char *s = getenv("VAGT_AGENT_PRUNE_SECONDS");
  double every = s && strtod(s, NULL) > 0 ? strtod(s, NULL) : 86400;
  double next = vu_mono();
  while (!g_stop) {
    if (vu_mono() >= next) {
      ag_prune_result res;
      ag_prune_once(x, j, ag_time(), &res, &g_stop);
      next = vu_mono() + every;
    }
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
  }
  j->ops->close(j);
  return NULL;
}

int ag_prune_start(ag_ctx *x)
{
  g_stop = 0;
  if (pthread_create(&g_thr, NULL, prune_thread, x) != 0)
    return -1;
  g_started = true;
  return 0;
}

void ag_prune_stop(void)
{
  if (!g_started)
    return;
  g_stop = 1;
  pthread_join(g_thr, NULL);
  g_started = false;
}
