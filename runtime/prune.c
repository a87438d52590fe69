#include "prune.h"

#include "runfile.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* run.json of format 2 is a summary (kilobytes); anything much larger is not one (a format 1
 * run.json listed every step: one of a run past some ten thousand steps is left alone). */
#define PRUNE_RUN_JSON_MAX ((size_t)4 << 20)
/* Run folders are two levels deep (evidence/); a deeper tree is walked to this depth. */
#define PRUNE_MAX_DEPTH 32

static double mtime_of(const struct stat *st)
{
  return (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
}

/* dfd/run.json, read through the open folder (no path is resolved again). */
static cJSON *read_run_json(int dfd, struct stat *st, char *why, size_t whylen)
{
  int fd = openat(dfd, RT_RUN_JSON, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    snprintf(why, whylen, "%s",
             errno == ENOENT  ? "no run.json"
             : errno == ELOOP ? "run.json is a symbolic link"
                              : "run.json cannot be read");
    return NULL;
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    snprintf(why, whylen, "run.json is not a regular file");
    close(fd);
    return NULL;
  }
  if ((size_t)st->st_size > PRUNE_RUN_JSON_MAX) {
    snprintf(why, whylen, "run.json is too large for a run's summary");
    close(fd);
    return NULL;
  }
  size_t cap = (size_t)st->st_size + 1, n = 0;
  char *buf = malloc(cap + 1);
  while (buf && n < cap) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if (!buf) {
    snprintf(why, whylen, "out of memory");
    return NULL;
  }
  buf[n] = '\0';
  cJSON *j = cJSON_Parse(buf);
  free(buf);
  if (rt_runjson_version(j) == 0) {
    snprintf(why, whylen,
             "run.json has no format \"" RT_RUN_FORMAT_NAME "\" (nor format 1's layout)");
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

static char *jdup(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

/* run.lock of the open folder: 1 held by somebody (or not a plain file: never guess it
 * free), 0 free, -1 there is none. With keep, a free lock is taken and *lfd holds it. */
static int lock_state(int dfd, bool keep, int *lfd)
{
  if (lfd)
    *lfd = -1;
  int fd = openat(dfd, RT_RUN_LOCK, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return errno == ENOENT ? -1 : 1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return 1;
  }
  if (keep && lfd)
    *lfd = fd;
  else
    close(fd);
  return 0;
}

static bool exists_at(int dfd, const char *name)
{
  struct stat st;
  return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void judge(int rfd, dev_t dev, double cutoff, rt_prune_entry *e)
{
  e->kind = RT_PRUNE_FOREIGN;
  struct stat st;
  if (fstatat(rfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    snprintf(e->why, sizeof e->why, "cannot be examined: %s", strerror(errno));
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    e->is_dir = true;
    snprintf(e->why, sizeof e->why, "a symbolic link, never followed");
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(e->why, sizeof e->why, "not a folder");
    return;
  }
  e->is_dir = true;
  if (st.st_dev != dev) {
    snprintf(e->why, sizeof e->why, "on another file system (a mount point)");
    return;
  }
  e->dev = (unsigned long long)st.st_dev;
  e->ino = (unsigned long long)st.st_ino;
  int dfd = openat(rfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    snprintf(e->why, sizeof e->why, "cannot be opened: %s", strerror(errno));
    return;
  }
  struct stat jst;
  cJSON *j = read_run_json(dfd, &jst, e->why, sizeof e->why);
  if (!j) {
    close(dfd);
    return;
  }
  e->mtime = mtime_of(&jst);
  e->script = jdup(j, RT_RUNJ_SCRIPT);
  e->status = jdup(j, RT_RUNJ_STATUS);
  cJSON_Delete(j);
  bool running_status = e->status && strcmp(e->status, "running") == 0;
  int lock = lock_state(dfd, false, NULL);
  if (lock == 1 || (lock < 0 && running_status))
    e->kind = RT_PRUNE_RUNNING;
  else if (e->mtime >= cutoff)
    e->kind = RT_PRUNE_RECENT;
  else
    e->kind = RT_PRUNE_OLD;
  e->unapproved = e->status && strcmp(e->status, "drift") == 0 && exists_at(dfd, RT_ALERT_JSON) &&
                  !exists_at(dfd, RT_APPROVED_JSON);
  close(dfd);
}

static bool later(const rt_prune_entry *a, const rt_prune_entry *b)
{
  return a->mtime > b->mtime || (a->mtime == b->mtime && strcmp(a->name, b->name) > 0);
}

/* An old unapproved drift halt is kept while it is the newest halt of its script and no
 * later run of that script passed. */
static void keep_awaiting(rt_prune_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    rt_prune_entry *e = &l->v[i];
    if (e->kind != RT_PRUNE_OLD || !e->unapproved || !e->script)
      continue;
    bool superseded = false;
    for (size_t k = 0; k < l->n && !superseded; k++) {
      const rt_prune_entry *o = &l->v[k];
      if (k == i || o->kind == RT_PRUNE_FOREIGN || !o->script || !o->status ||
          strcmp(o->script, e->script) != 0 || !later(o, e))
        continue;
      superseded = strcmp(o->status, "drift") == 0 || strcmp(o->status, "passed") == 0 ||
                   strcmp(o->status, "needs_review") == 0; /* its screens passed */
    }
    if (!superseded)
      e->kind = RT_PRUNE_AWAITING;
  }
}

int rt_prune_scan(const char *runs, double cutoff, rt_prune_list *out, char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  int rfd = open(runs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat rst;
  if (rfd < 0 || fstat(rfd, &rst) != 0) {
    snprintf(err, errlen, "runs folder %s: %s", runs, strerror(errno));
    if (rfd >= 0)
      close(rfd);
    return -1;
  }
  int fd2 = dup(rfd);
  DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
  if (!d) {
    snprintf(err, errlen, "runs folder %s: %s", runs, strerror(errno));
    if (fd2 >= 0)
      close(fd2);
    close(rfd);
    return -1;
  }
  size_t cap = 0;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (out->n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      rt_prune_entry *nv = realloc(out->v, nc * sizeof *nv);
      if (!nv) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        break;
      }
      out->v = nv;
      cap = nc;
    }
    rt_prune_entry *e = &out->v[out->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(de->d_name))) {
      snprintf(err, errlen, "out of memory");
      rc = -1;
      break;
    }
    out->n++;
    judge(rfd, rst.st_dev, cutoff, e);
  }
  closedir(d);
  close(rfd);
  if (rc != 0) {
    rt_prune_list_free(out);
    return -1;
  }
  keep_awaiting(out);
  return 0;
}

void rt_prune_list_free(rt_prune_list *l)
{
  for (size_t i = 0; l && i < l->n; i++) {
    free(l->v[i].name);
    free(l->v[i].script);
    free(l->v[i].status);
  }
  if (l) {
    free(l->v);
    memset(l, 0, sizeof *l);
  }
}

/* Every entry inside the open folder dfd: sizes added to *bytes, removed when del. Never
 * follows a link, never enters another file system. 0, or -1 with err (the first problem;
 * the rest is still done). */
static int walk(int dfd, dev_t dev, bool del, int depth, long long *bytes, char *err, size_t errlen)
{
  int fd2 = dup(dfd);
  DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
  if (!d) {
    if (fd2 >= 0)
      close(fd2);
    snprintf(err, errlen, "cannot read a folder: %s", strerror(errno));
    return -1;
  }
  /* the names first: removing while reading a folder may skip entries */
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      char **nv = realloc(names, nc * sizeof *nv);
      if (!nv)
        break;
      names = nv;
      cap = nc;
    }
    if (!(names[n] = strdup(de->d_name)))
      break;
    n++;
  }
  closedir(d);
  for (size_t i = 0; i < n; i++) {
    const char *name = names[i];
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT && rc == 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        rc = -1;
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev || depth >= PRUNE_MAX_DEPTH) {
        if (rc == 0)
          snprintf(err, errlen, "%s: %s", name,
                   st.st_dev != dev ? "a mount point inside the run folder: left"
                                    : "folders nested too deep: left");
        rc = -1;
        continue;
      }
      int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (rc == 0)
          snprintf(err, errlen, "%s: %s", name, strerror(errno));
        rc = -1;
        continue;
      }
      if (walk(sub, dev, del, depth + 1, bytes, err, errlen) != 0)
        rc = -1;
      close(sub);
      if (del && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && rc == 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        rc = -1;
      }
      continue;
    }
    /* a file, or a link (removed as a link: what it points to is not touched) */
    if (del && unlinkat(dfd, name, 0) != 0) {
      if (errno != ENOENT && rc == 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        rc = -1;
      }
      continue;
    }
    if (S_ISREG(st.st_mode))
      *bytes += (long long)st.st_size;
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

int rt_remove_tree(const char *path, char *err, size_t errlen)
{
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (dfd < 0 || fstat(dfd, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    if (dfd >= 0)
      close(dfd);
    return -1;
  }
  long long bytes = 0;
  char werr[512] = "";
  int rc = walk(dfd, st.st_dev, true, 0, &bytes, werr, sizeof werr);
  close(dfd);
  if (rc == 0 && rmdir(path) != 0) {
    snprintf(werr, sizeof werr, "%s", strerror(errno));
    rc = -1;
  }
  if (rc != 0)
    snprintf(err, errlen, "%s: deleted in part only: %s", path, werr);
  return rc;
}

/* Opens the entry judged, refusing anything that is no longer that folder. */
static int open_judged(const char *runs, const rt_prune_entry *e, int *rfd, dev_t *dev, char *err,
                       size_t errlen)
{
  *rfd = open(runs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat rst, st;
  if (*rfd < 0 || fstat(*rfd, &rst) != 0) {
    snprintf(err, errlen, "runs folder %s: %s", runs, strerror(errno));
    return -1;
  }
  *dev = rst.st_dev;
  int dfd = openat(*rfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 || fstat(dfd, &st) != 0 || st.st_dev != rst.st_dev ||
      (unsigned long long)st.st_dev != e->dev || (unsigned long long)st.st_ino != e->ino) {
    snprintf(err, errlen, "%s/%s: changed since it was judged: left", runs, e->name);
    if (dfd >= 0)
      close(dfd);
    return -2;
  }
  return dfd;
}

int rt_prune_remove(const char *runs, const rt_prune_entry *e, long long *bytes, char *err,
                    size_t errlen)
{
  if (e->kind != RT_PRUNE_OLD) {
    snprintf(err, errlen, "%s/%s: not judged old: left", runs, e->name);
    return 1;
  }
  int rfd;
  dev_t dev;
  int dfd = open_judged(runs, e, &rfd, &dev, err, errlen);
  if (dfd < 0) {
    if (rfd >= 0)
      close(rfd);
    return dfd == -2 ? 1 : -1;
  }
  /* Held while it goes: a run or a reaper cannot take the folder meanwhile. */
  int lfd = -1;
  if (lock_state(dfd, true, &lfd) == 1) {
    snprintf(err, errlen, "%s/%s: its run.lock is held (a run or a reaper): left", runs, e->name);
    close(dfd);
    close(rfd);
    return 1;
  }
  char werr[512] = "";
  int rc = walk(dfd, dev, true, 0, bytes, werr, sizeof werr);
  close(dfd);
  if (unlinkat(rfd, e->name, AT_REMOVEDIR) != 0 && rc == 0) {
    snprintf(werr, sizeof werr, "%s", strerror(errno));
    rc = -1;
  }
  if (lfd >= 0)
    close(lfd);
  close(rfd);
  if (rc != 0)
    snprintf(err, errlen, "%s/%s: deleted in part only: %s", runs, e->name, werr);
  return rc;
}

long long rt_prune_size(const char *runs, const rt_prune_entry *e)
{
  int rfd;
  dev_t dev;
  char err[256];
  int dfd = open_judged(runs, e, &rfd, &dev, err, sizeof err);
  long long bytes = 0;
  if (dfd >= 0) {
    walk(dfd, dev, false, 0, &bytes, err, sizeof err);
    close(dfd);
  }
  if (rfd >= 0)
    close(rfd);
  return bytes;
}

bool rt_prune_parse_age(const char *s, double *secs)
{
  if (!s || *s < '0' || *s > '9')
    return false;
  char *end;
  errno = 0;
  long long n = strtoll(s, &end, 10);
  if (errno != 0 || n < 1 || end[0] == '\0' || end[1] != '\0')
    return false;
  if (end[0] == 'd' && n <= 3650)
    *secs = (double)n * 86400;
  else if (end[0] == 'h' && n <= 3650LL * 24)
    *secs = (double)n * 3600;
  else
    return false;
  return true;
}
