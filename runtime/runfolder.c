#include "runfolder.h"
#include "vu.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What the report needs, bounded: counts per step key, the last steps, the steps that
 * kept evidence. */
#define RECENT_STEPS 200
#define EVIDENCE_STEPS 32
#define MAX_KEYS 4096
#define REPORT_KEY_ROWS 250 /* with RECENT_STEPS and the evidence: under 500 step rows */
enum { V_MATCH, V_RECORDED, V_DRIFT, V_ERROR, V_OTHER, V_N };
static const char *const verdict_names[V_N] = {"match", "recorded", "drift", "error", "other"};

typedef struct {
  char *key;
  long n, v[V_N];
  double ms;
} keystat;

struct rt_steplog {
  cJSON *root;
  int fd;      /* steps.jsonl */
  int lock_fd; /* run.lock, held (flock) while the run lives */
  char *path;
  size_t count;
  unsigned long long bytes;
  cJSON *last;     /* the last step */
  cJSON *recent;   /* the last RECENT_STEPS steps */
  cJSON *evidence; /* the first EVIDENCE_STEPS steps with evidence */
  keystat *keys;
  size_t nkeys, ckeys, keys_dropped;
  double settle, capture, guard, input;
};

/* Every write to a run folder passes this gate, so the watchdog can stop the run's own
 * writes (rt_runfolder_freeze) before it writes the end of the run itself. */
static pthread_mutex_t write_gate = PTHREAD_MUTEX_INITIALIZER;
static volatile int frozen;

static void gate_enter(void)
{
  pthread_mutex_lock(&write_gate);
}

static void gate_leave(void)
{
  pthread_mutex_unlock(&write_gate);
}

void rt_runfolder_freeze(double wait)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)wait;
  ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  /* Not got in time: a write of the run is stuck (a full disk); write the end anyway. */
  pthread_mutex_timedlock(&write_gate, &ts);
  frozen = 1;
}

/* Room kept for the end of the run in its folder: a full disk must not cost the run its
 * final status or its alert. Freed when a write of the run's record (steps, run.json,
 * report, alert; not evidence images) meets a full disk, and when the run ends. */
#define RESERVE_BYTES ((off_t)4 << 20)
static char reserve_path[4096];

/* Test hook: VAGT_TEST_ENOSPC_AFTER=N makes the run folder's writes fail with ENOSPC once
 * N bytes are written, as a full disk would (freeing the reserve gives its bytes back), so
 * tests need no full file system. */
static long long fault_limit = -2, fault_written;

static ssize_t fs_write(int fd, const void *buf, size_t n)
{
  if (fault_limit == -2) {
    const char *e = getenv("VAGT_TEST_ENOSPC_AFTER");
    fault_limit = e && *e ? atoll(e) : -1;
  }
  if (fault_limit >= 0) {
    long long room = fault_limit - fault_written;
    if (room <= 0) {
      errno = ENOSPC;
      return -1;
    }
    if ((long long)n > room)
      n = (size_t)room; /* a short write, as the kernel's */
  }
  ssize_t w = write(fd, buf, n);
  if (w > 0)
    fault_written += w;
  return w;
}

static void reserve_take(const char *dir)
{
  snprintf(reserve_path, sizeof reserve_path, "%s/.reserve", dir);
  int fd = open(reserve_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0 && posix_fallocate(fd, 0, RESERVE_BYTES) == 0) {
    close(fd);
    return;
  }
  if (fd >= 0) { /* the disk is full already: no reserve */
    close(fd);
    unlink(reserve_path);
  }
  reserve_path[0] = '\0';
}

static bool reserve_release(void)
{
  if (!reserve_path[0])
    return false;
  unlink(reserve_path);
  reserve_path[0] = '\0';
  if (fault_limit >= 0)
    fault_limit += RESERVE_BYTES;
  return true;
}

char *rt_runfolder_create(const char *runs, const char *stem, char *err, size_t errlen)
{
  if (vu_mkdir_p(runs, err, errlen) != 0)
    return NULL;
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
  size_t n = strlen(runs) + strlen(stem) + 48;
  char *dir = malloc(n);
  if (!dir)
    return NULL;
  for (int i = 1; i < 1000; i++) {
    if (i == 1)
      snprintf(dir, n, "%s/%s-%s", runs, ts, stem);
    else
      snprintf(dir, n, "%s/%s-%s-%d", runs, ts, stem, i);
    if (mkdir(dir, 0700) == 0) {
      char ev[4096];
      snprintf(ev, sizeof ev, "%s/evidence", dir);
      if (mkdir(ev, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", ev, strerror(errno));
        free(dir);
        return NULL;
      }
      return dir;
    }
    if (errno != EEXIST) {
      snprintf(err, errlen, "cannot create run folder %s: %s", dir, strerror(errno));
      free(dir);
      return NULL;
    }
  }
  snprintf(err, errlen, "cannot create a unique run folder under %s", runs);
  free(dir);
  return NULL;
}

rt_steplog *rt_steplog_new(const char *script, const char *mode)
{
  rt_steplog *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->fd = -1;
  l->lock_fd = -1;
  l->root = cJSON_CreateObject();
  l->recent = cJSON_CreateArray();
  l->evidence = cJSON_CreateArray();
  char now[40];
  vu_rfc3339(vu_wall(), true, now, sizeof now);
  cJSON_AddStringToObject(l->root, RT_RUNJ_FORMAT, RT_RUN_FORMAT_NAME);
  cJSON_AddNumberToObject(l->root, RT_RUNJ_VERSION, RT_RUN_FORMAT);
  cJSON_AddStringToObject(l->root, RT_RUNJ_VAGT, VAGT_VERSION);
  cJSON_AddStringToObject(l->root, RT_RUNJ_SCRIPT, script);
  cJSON_AddStringToObject(l->root, RT_RUNJ_MODE, mode);
  cJSON_AddStringToObject(l->root, RT_RUNJ_STARTED, now);
  cJSON_AddStringToObject(l->root, RT_RUNJ_STATUS, "running");
  cJSON_AddStringToObject(l->root, RT_RUNJ_STEPS_FILE, RT_STEPS_JSONL);
  return l;
}

void rt_steplog_free(rt_steplog *l)
{
  if (!l)
    return;
  if (l->fd >= 0)
    close(l->fd);
  if (l->lock_fd >= 0)
    close(l->lock_fd);
  free(l->path);
  cJSON_Delete(l->root);
  cJSON_Delete(l->last);
  cJSON_Delete(l->recent);
  cJSON_Delete(l->evidence);
  for (size_t i = 0; i < l->nkeys; i++)
    free(l->keys[i].key);
  free(l->keys);
  free(l);
}

int rt_steplog_open(rt_steplog *l, const char *dir, char *err, size_t errlen)
{
  size_t n = strlen(dir) + 16;
  l->path = malloc(n);
  if (!l->path) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(l->path, n, "%s/" RT_STEPS_JSONL, dir);
  l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (l->fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", l->path, strerror(errno));
    return -1;
  }
  /* Held until the process ends, however it ends: a "running" run.json whose lock is free
   * belongs to a run that died without writing its end (rt_runfolder_reap). */
  char lp[4096];
  snprintf(lp, sizeof lp, "%s/" RT_RUN_LOCK, dir);
  l->lock_fd = open(lp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (l->lock_fd < 0 || flock(l->lock_fd, LOCK_EX) != 0) {
    snprintf(err, errlen, "cannot create %s: %s", lp, strerror(errno));
    return -1;
  }
  char pid[24];
  int pl = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  ssize_t w = write(l->lock_fd, pid, (size_t)pl); /* for people only: the flock is the lock */
  (void)w;
  reserve_take(dir);
  return 0;
}

void rt_steplog_set(rt_steplog *l, const char *field, const char *value)
{
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, field);
  if (value)
    cJSON_AddStringToObject(l->root, field, value);
}

void rt_steplog_need_person(rt_steplog *l, const char *batch, long long seq, const char *run)
{
  cJSON *a = cJSON_GetObjectItemCaseSensitive(l->root, RT_RUNJ_NEED_PERSON);
  if (!cJSON_IsArray(a))
    a = cJSON_AddArrayToObject(l->root, RT_RUNJ_NEED_PERSON);
  cJSON *o = cJSON_CreateObject();
  if (!a || !o) {
    cJSON_Delete(o);
    return;
  }
  cJSON_AddStringToObject(o, RT_NEEDJ_BATCH, batch);
  cJSON_AddNumberToObject(o, RT_NEEDJ_SEQ, (double)seq);
  if (run)
    cJSON_AddStringToObject(o, RT_NEEDJ_RUN, run);
  else
    cJSON_AddNullToObject(o, RT_NEEDJ_RUN);
  cJSON_AddItemToArray(a, o);
}

size_t rt_steplog_count(const rt_steplog *l)
{
  return l->count;
}

static double ms(double v)
{
  return (double)(long)(v * 1000.0 + 0.5) / 1000.0;
}

static int verdict_index(const char *v)
{
  for (int i = 0; v && i < V_OTHER; i++)
    if (!strcmp(v, verdict_names[i]))
      return i;
  return V_OTHER;
}

static keystat *keystat_of(rt_steplog *l, const char *key)
{
  for (size_t i = l->nkeys; i-- > 0;) /* loops repeat recent keys */
    if (!strcmp(l->keys[i].key, key))
      return &l->keys[i];
  if (l->nkeys == MAX_KEYS) {
    l->keys_dropped++;
    return NULL;
  }
  if (l->nkeys == l->ckeys) {
    size_t c = l->ckeys ? l->ckeys * 2 : 64;
    keystat *k = realloc(l->keys, c * sizeof *k);
    if (!k)
      return NULL;
    l->keys = k;
    l->ckeys = c;
  }
  keystat *k = &l->keys[l->nkeys];
  memset(k, 0, sizeof *k);
  if (!(k->key = strdup(key)))
    return NULL;
  l->nkeys++;
  return k;
}

/* Writes one line to steps.jsonl: one write(2), so a killed process leaves whole lines. */
static int append_line(rt_steplog *l, const cJSON *o, char *err, size_t errlen)
{
  if (l->fd < 0)
    return 0;
  char *text = cJSON_PrintUnformatted(o);
  if (!text) {
    snprintf(err, errlen, "out of memory writing %s", l->path);
    return -1;
  }
  size_t len = strlen(text);
  text[len] = '\n'; /* replaces the terminator: the buffer holds len + 1 bytes */
  size_t off = 0;
  int rc = 0;
  gate_enter();
  while (off < len + 1) {
    ssize_t w = fs_write(l->fd, text + off, len + 1 - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == ENOSPC && reserve_release())
      continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(errno));
      /* no half line: the next step's line must start a line of its own */
      if (ftruncate(l->fd, (off_t)l->bytes) != 0)
        snprintf(err, errlen, "cannot write %s: %s (a part line is left)", l->path,
                 strerror(errno));
      off = 0;
      rc = -1;
      break;
    }
    off += (size_t)w;
  }
  gate_leave();
  l->bytes += off;
  cJSON_free(text);
  return rc;
}

/* What the summary and the report keep of a step (o, owned from here on). */
static void account(rt_steplog *l, cJSON *o, double settle, double capture, double guard,
                    double total)
{
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_KEY);
  const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_VERDICT);
  l->settle += settle;
  l->capture += capture;
  l->guard += guard;
  keystat *k = cJSON_IsString(key) ? keystat_of(l, key->valuestring) : NULL;
  if (k) {
    k->n++;
    k->v[verdict_index(cJSON_IsString(verdict) ? verdict->valuestring : NULL)]++;
    k->ms += total;
  }
  cJSON_Delete(l->last);
  l->last = cJSON_Duplicate(o, 1);
  if (cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_EVIDENCE) &&
      cJSON_GetArraySize(l->evidence) < EVIDENCE_STEPS)
    cJSON_AddItemToArray(l->evidence, cJSON_Duplicate(o, 1));
  cJSON_AddItemToArray(l->recent, o);
  if (cJSON_GetArraySize(l->recent) > RECENT_STEPS)
    cJSON_DeleteItemFromArray(l->recent, 0);
}

/* An evidence object {"recorded", "current", "diff"} for the paths given, or NULL. */
static cJSON *evidence_json(const char *const ev[3])
{
  if (!ev || !(ev[0] || ev[1] || ev[2]))
    return NULL;
  static const char *const names[3] = {RT_EVJ_RECORDED, RT_EVJ_CURRENT, RT_EVJ_DIFF};
  cJSON *e = cJSON_CreateObject();
  for (int i = 0; e && i < 3; i++)
    if (ev[i])
      cJSON_AddStringToObject(e, names[i], ev[i]);
  return e;
}

size_t rt_steplog_add(rt_steplog *l, const rt_steprec *s, char *err, size_t errlen)
{
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    snprintf(err, errlen, "out of memory");
    return 0;
  }
  size_t n = ++l->count;
  cJSON_AddNumberToObject(o, RT_STEPJ_N, (double)n);
  cJSON_AddStringToObject(o, RT_STEPJ_KEY, s->key);
  cJSON_AddStringToObject(o, RT_STEPJ_ACTION, s->kind);
  if (s->name) {
    cJSON_AddStringToObject(o, RT_STEPJ_NAME, s->name);
    cJSON_AddNumberToObject(o, RT_STEPJ_ORDINAL, s->ordinal);
  }
  if (s->file)
    cJSON_AddStringToObject(o, RT_STEPJ_FILE, s->file);
  if (s->line > 0)
    cJSON_AddNumberToObject(o, RT_STEPJ_LINE, s->line);
  if (s->window) {
    char id[24];
    snprintf(id, sizeof id, "0x%lx", s->window);
    cJSON *w = cJSON_AddObjectToObject(o, RT_STEPJ_WINDOW);
    cJSON_AddStringToObject(w, RT_STEPJ_WINDOW_ID, id);
    if (s->wclass)
      cJSON_AddStringToObject(w, RT_STEPJ_WINDOW_CLASS, s->wclass);
  }
  if (s->detail)
    cJSON_AddStringToObject(o, RT_STEPJ_DETAIL, s->detail);
  cJSON_AddStringToObject(o, RT_STEPJ_VERDICT, s->verdict ? s->verdict : "none");
  if (s->reason)
    cJSON_AddStringToObject(o, RT_STEPJ_REASON, s->reason);
  if (s->nreasons > 0) {
    cJSON *r = cJSON_AddArrayToObject(o, RT_STEPJ_REASONS);
    for (int i = 0; i < s->nreasons; i++)
      cJSON_AddItemToArray(r, cJSON_CreateString(s->reasons[i]));
  }
  cJSON *ev = evidence_json(s->evidence);
  if (ev)
    cJSON_AddItemToObject(o, RT_STEPJ_EVIDENCE, ev);
  cJSON *t = cJSON_AddObjectToObject(o, RT_STEPJ_MS);
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_SETTLE, ms(s->t_settle));
  if (s->t_read >= 1.0)
    cJSON_AddNumberToObject(t, RT_STEPJ_MS_READ, ms(s->t_read));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_CAPTURE, ms(s->t_capture));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_GUARD, ms(s->t_guard));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_TOTAL, ms(s->t_total));
  cJSON_AddBoolToObject(o, RT_STEPJ_SETTLED, s->settled);
  if (s->cap_w > 0) {
    cJSON *c = cJSON_AddObjectToObject(o, RT_STEPJ_CAPTURE);
    cJSON_AddNumberToObject(c, RT_STEPJ_CAPTURE_W, s->cap_w);
    cJSON_AddNumberToObject(c, RT_STEPJ_CAPTURE_H, s->cap_h);
    char h[24];
    snprintf(h, sizeof h, "%016llx", (unsigned long long)s->cap_hash);
    cJSON_AddStringToObject(c, RT_STEPJ_CAPTURE_HASH, h);
  }
  int rc = append_line(l, o, err, errlen);
  account(l, o, s->t_settle, s->t_capture, s->t_guard, s->t_total);
  return rc == 0 ? n : 0;
}

/* The steps still held (the last, the recent ones, those with evidence) numbered n get
 * the amendment's verdict, reason and evidence; a step that now has evidence joins the
 * evidence list. */
static void amend_held(rt_steplog *l, size_t n, const char *verdict, const char *reason,
                       const cJSON *ev)
{
  cJSON *lists[2] = {l->recent, l->evidence}, *it;
  bool listed = false;
  for (int i = 0; i < 3; i++) {
    cJSON *o = i == 2 ? l->last : NULL;
    if (i < 2)
      cJSON_ArrayForEach(it, lists[i])
      {
        const cJSON *nn = cJSON_GetObjectItemCaseSensitive(it, RT_STEPJ_N);
        if (cJSON_IsNumber(nn) && (size_t)nn->valuedouble == n)
          o = it;
      }
    const cJSON *nn = o ? cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_N) : NULL;
    if (!o || !cJSON_IsNumber(nn) || (size_t)nn->valuedouble != n)
      continue;
    listed |= i == 1;
    cJSON_ReplaceItemInObjectCaseSensitive(o, RT_STEPJ_VERDICT, cJSON_CreateString(verdict));
    cJSON_DeleteItemFromObjectCaseSensitive(o, RT_STEPJ_REASON);
    cJSON_AddStringToObject(o, RT_STEPJ_REASON, reason);
    if (ev) {
      cJSON_DeleteItemFromObjectCaseSensitive(o, RT_STEPJ_EVIDENCE);
      cJSON_AddItemToObject(o, RT_STEPJ_EVIDENCE, cJSON_Duplicate(ev, 1));
    }
    if (i == 2 && ev && !listed && cJSON_GetArraySize(l->evidence) < EVIDENCE_STEPS)
      cJSON_AddItemToArray(l->evidence, cJSON_Duplicate(o, 1));
  }
}

static void amend_account(rt_steplog *l, size_t n, const char *verdict, const char *reason,
                          const cJSON *ev, double input_ms);

static void amend(rt_steplog *l, size_t n, const char *verdict, const char *reason,
                  const char *const evidence[3], double input_ms)
{
  char err[256];
  cJSON *o = cJSON_CreateObject();
  if (!o || !n) {
    cJSON_Delete(o);
    return;
  }
  cJSON_AddNumberToObject(o, RT_STEPJ_N, (double)n);
  cJSON_AddStringToObject(o, RT_STEPJ_VERDICT, verdict);
  cJSON_AddStringToObject(o, RT_STEPJ_REASON, reason ? reason : "");
  cJSON *ev = evidence_json(evidence);
  if (ev)
    cJSON_AddItemToObject(o, RT_STEPJ_EVIDENCE, ev);
  cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, RT_STEPJ_MS), RT_STEPJ_MS_INPUT, ms(input_ms));
  append_line(l, o, err, sizeof err);
  amend_account(l, n, verdict, reason ? reason : "", ev, input_ms);
  cJSON_Delete(o);
}

void rt_steplog_amend(rt_steplog *l, size_t n, const char *reason, double input_ms)
{
  amend(l, n, "error", reason, NULL, input_ms);
}

void rt_steplog_amend_drift(rt_steplog *l, size_t n, const char *reason,
                            const char *const evidence[3], double input_ms)
{
  amend(l, n, "drift", reason, evidence, input_ms);
}

static void amend_account(rt_steplog *l, size_t n, const char *verdict, const char *reason,
                          const cJSON *ev, double input_ms)
{
  l->input += input_ms;
  const cJSON *key = l->last ? cJSON_GetObjectItemCaseSensitive(l->last, RT_STEPJ_KEY) : NULL;
  const cJSON *v = l->last ? cJSON_GetObjectItemCaseSensitive(l->last, RT_STEPJ_VERDICT) : NULL;
  const cJSON *ln = l->last ? cJSON_GetObjectItemCaseSensitive(l->last, RT_STEPJ_N) : NULL;
  if (cJSON_IsString(key) && cJSON_IsNumber(ln) && (size_t)ln->valuedouble == n) {
    keystat *k = keystat_of(l, key->valuestring);
    if (k) {
      k->v[verdict_index(cJSON_IsString(v) ? v->valuestring : NULL)]--;
      k->v[verdict_index(verdict)]++;
    }
  }
  amend_held(l, n, verdict, reason, ev);
}

void rt_steplog_input(rt_steplog *l, double input_ms)
{
  l->input += input_ms;
}

/* A temporary file beside dst that did not exist before (O_EXCL: never a planted file or
 * symlink), 0600; its name into tmp. */
static int open_temp(const char *dst, char *tmp, size_t n)
{
  static unsigned long seq; /* under the write gate */
  const char *slash = strrchr(dst, '/');
  int dl = slash ? (int)(slash - dst + 1) : 0;
  for (int i = 0; i < 100; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int k = snprintf(tmp, n, "%.*s.%s.%ld-%lu-%lx.tmp", dl, dst, dst + dl, (long)getpid(), ++seq,
                     (unsigned long)ts.tv_nsec);
    if (k < 0 || (size_t)k >= n) {
      errno = ENAMETOOLONG;
      return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

static int write_atomic_once(const char *dir, const char *name, const char *data, size_t len,
                             char *err, size_t errlen)
{
  char tmp[4096], dst[4096];
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open_temp(dst, tmp, sizeof tmp);
  struct stat ds;
  /* root (an operator's approve, a reaper) leaves the folder's files to the folder's owner */
  if (fd >= 0 && geteuid() == 0 && stat(dir, &ds) == 0 && ds.st_uid != 0 &&
      fchown(fd, ds.st_uid, ds.st_gid) != 0) {
    close(fd);
    unlink(tmp);
    fd = -1;
  }
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = fs_write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
      close(fd);
      unlink(tmp);
      errno = e;
      return -1;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
    int e = errno;
    snprintf(err, errlen, "cannot write %s: %s", dst, strerror(e));
    unlink(tmp);
    errno = e;
    return -1;
  }
  return 0;
}

/* A whole new file or none: never an empty or cut one. The run's record may use the
 * reserve on a full disk; evidence images may not (an image is worth less than the
 * record that says what happened). */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len, char *err,
                        size_t errlen)
{
  int rc = write_atomic_once(dir, name, data, len, err, errlen);
  if (rc != 0 && (errno == ENOSPC || errno == EDQUOT) && strncmp(name, "evidence/", 9) != 0 &&
      reserve_release())
    rc = write_atomic_once(dir, name, data, len, err, errlen);
  return rc;
}

int rt_write_file_atomic(const char *dir, const char *name, const char *data, size_t len, char *err,
                         size_t errlen)
{
  gate_enter();
  int rc = write_atomic(dir, name, data, len, err, errlen);
  gate_leave();
  return rc;
}

static int steplog_write(rt_steplog *l, const char *dir, const char *status, int exit_code,
                         const char *error, char *err, size_t errlen)
{
  rt_steplog_set(l, RT_RUNJ_STATUS, status);
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, RT_RUNJ_EXIT_CODE);
  cJSON_AddNumberToObject(l->root, RT_RUNJ_EXIT_CODE, exit_code);
  rt_steplog_set(l, RT_RUNJ_ERROR, error);
  bool over = strcmp(status, "running") != 0;
  if (over) {
    char now[40];
    vu_rfc3339(vu_wall(), true, now, sizeof now);
    rt_steplog_set(l, RT_RUNJ_FINISHED, now);
    if (l->fd >= 0 && fsync(l->fd) != 0) {
      snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(errno));
      return -1;
    }
  }
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, RT_RUNJ_STEPS);
  cJSON_AddNumberToObject(l->root, RT_RUNJ_STEPS, (double)l->count);
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, RT_RUNJ_LAST_STEP);
  if (l->last)
    cJSON_AddItemToObject(l->root, RT_RUNJ_LAST_STEP, cJSON_Duplicate(l->last, 1));
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, RT_RUNJ_MS);
  cJSON *t = cJSON_AddObjectToObject(l->root, RT_RUNJ_MS);
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_SETTLE, ms(l->settle));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_CAPTURE, ms(l->capture));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_GUARD, ms(l->guard));
  cJSON_AddNumberToObject(t, RT_STEPJ_MS_INPUT, ms(l->input));
  cJSON_DeleteItemFromObjectCaseSensitive(l->root, RT_RUNJ_STEPS_BYTES);
  cJSON_AddNumberToObject(l->root, RT_RUNJ_STEPS_BYTES, (double)l->bytes);
  char *text = cJSON_Print(l->root);
  if (!text) {
    snprintf(err, errlen, "out of memory writing run.json");
    return -1;
  }
  int rc = write_atomic(dir, RT_RUN_JSON, text, strlen(text), err, errlen);
  cJSON_free(text);
  if (over && rc == 0) { /* the end is written: the room kept for it goes back */
    char rp[4096];
    snprintf(rp, sizeof rp, "%s/.reserve", dir);
    unlink(rp);
    if (!strcmp(rp, reserve_path))
      reserve_path[0] = '\0';
  }
  return rc;
}

int rt_steplog_write(rt_steplog *l, const char *dir, const char *status, int exit_code,
                     const char *error, char *err, size_t errlen)
{
  gate_enter();
  int rc = steplog_write(l, dir, status, exit_code, error, err, errlen);
  gate_leave();
  return rc;
}

void rt_html_esc(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&#39;", f); break;
      default: fputc(*s, f);
    }
  }
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

void rt_html_items_need_person(FILE *f, const cJSON *need)
{
  if (cJSON_GetArraySize(need) <= 0)
    return;
  const cJSON *it;
  fprintf(f,
          "<h2>Work items for a person</h2>\n<p>%d item%s of robot.items failed and "
          "%s not retried by itself: check each in the application, then retry with "
          "<code>retry_failed = true</code>.</p>\n<table><tr><th>batch</th><th>row</th>"
          "<th>left by run</th></tr>\n",
          cJSON_GetArraySize(need), cJSON_GetArraySize(need) == 1 ? "" : "s",
          cJSON_GetArraySize(need) == 1 ? "is" : "are");
  cJSON_ArrayForEach(it, need)
  {
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, RT_NEEDJ_SEQ);
    fputs("<tr><td>", f);
    rt_html_esc(f, jstr(it, RT_NEEDJ_BATCH) ? jstr(it, RT_NEEDJ_BATCH) : "?");
    fprintf(f, "</td><td>%lld</td><td>", cJSON_IsNumber(seq) ? (long long)seq->valuedouble : -1LL);
    rt_html_esc(f, jstr(it, RT_NEEDJ_RUN) ? jstr(it, RT_NEEDJ_RUN) : "?");
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static int report_write(rt_steplog *l, const char *dir, char *err, size_t errlen)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    snprintf(err, errlen, "out of memory writing report.html");
    return -1;
  }
  const char *status = jstr(l->root, RT_RUNJ_STATUS);
  fputs("<!DOCTYPE html>\n<html lang=\"da\"><head><meta charset=\"utf-8\">\n<title>vagt run ", f);
  rt_html_esc(f, jstr(l->root, RT_RUNJ_SCRIPT));
  fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
        "collapse}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}"
        ".passed{color:#060}.failed,.drift,.error{color:#a00}.needs_review{color:#a60}"
        "img{max-width:48%;border:1px solid #888;margin-right:1%}img.wide{max-width:100%}"
        ".cap{display:flex;max-width:100%}.cap span{flex:1;font-weight:bold}"
        "pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}"
        "</style></head><body>\n",
        f);
  fputs("<h1>vagt run: ", f);
  rt_html_esc(f, jstr(l->root, RT_RUNJ_SCRIPT));
  fputs("</h1>\n<p>Status: <b class=\"", f);
  rt_html_esc(f, status);
  fputs("\">", f);
  rt_html_esc(f, status);
  fputs("</b>", f);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(l->root, RT_RUNJ_EXIT_CODE);
  if (cJSON_IsNumber(ec))
    fprintf(f, " (exit code %d)", ec->valueint);
  fputs(". Started ", f);
  rt_html_esc(f, jstr(l->root, RT_RUNJ_STARTED));
  if (jstr(l->root, RT_RUNJ_FINISHED)) {
    fputs(", finished ", f);
    rt_html_esc(f, jstr(l->root, RT_RUNJ_FINISHED));
  }
  fputs(".</p>\n", f);
  if (jstr(l->root, RT_RUNJ_ERROR)) {
    fputs("<pre>", f);
    rt_html_esc(f, jstr(l->root, RT_RUNJ_ERROR));
    fputs("</pre>\n", f);
  }
  rt_html_items_need_person(f, cJSON_GetObjectItemCaseSensitive(l->root, RT_RUNJ_NEED_PERSON));
  /* The steps folded by key: a 30,000-step run is a few dozen rows here. */
  fprintf(f, "<p>%zu step%s, %zu step key%s.</p>\n", l->count, l->count == 1 ? "" : "s",
          l->nkeys + l->keys_dropped, l->nkeys + l->keys_dropped == 1 ? "" : "s");
  if (l->nkeys > 0) {
    fputs("<table><tr><th>step key</th><th>steps</th><th>match</th><th>recorded</th>"
          "<th>drift</th><th>error</th><th>ms (mean)</th></tr>\n",
          f);
    size_t shown = 0;
    for (size_t i = 0; i < l->nkeys && shown < REPORT_KEY_ROWS; i++, shown++) {
      const keystat *k = &l->keys[i];
      fputs("<tr><td>", f);
      rt_html_esc(f, k->key);
      fprintf(f,
              "</td><td>%ld</td><td>%ld</td><td>%ld</td><td>%ld</td><td>%ld</td>"
              "<td>%.1f</td></tr>\n",
              k->n, k->v[V_MATCH], k->v[V_RECORDED], k->v[V_DRIFT], k->v[V_ERROR],
              k->n ? k->ms / (double)k->n : 0.0);
    }
    fputs("</table>\n", f);
    if (l->nkeys + l->keys_dropped > shown)
      fprintf(f, "<p>and %zu more step keys (steps.jsonl has every step).</p>\n",
              l->nkeys + l->keys_dropped - shown);
  }
  int nrecent = cJSON_GetArraySize(l->recent);
  if (nrecent > 0) {
    fprintf(f, "<h2>%s steps</h2>\n", (size_t)nrecent < l->count ? "The last" : "All");
    fputs("<table><tr><th>#</th><th>step key</th><th>line</th><th>action</th><th>verdict</th>"
          "<th>ms</th></tr>\n",
          f);
    const cJSON *s;
    cJSON_ArrayForEach(s, l->recent)
    {
      const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_N);
      fprintf(f, "<tr><td>%.0f</td><td>", cJSON_IsNumber(n) ? n->valuedouble : 0.0);
      rt_html_esc(f, jstr(s, RT_STEPJ_KEY));
      const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_LINE);
      fprintf(f, "</td><td>%d</td><td>", cJSON_IsNumber(line) ? line->valueint : 0);
      rt_html_esc(f, jstr(s, RT_STEPJ_ACTION));
      if (jstr(s, RT_STEPJ_DETAIL)) {
        fputs(" ", f);
        rt_html_esc(f, jstr(s, RT_STEPJ_DETAIL));
      }
      fputs("</td><td>", f);
      rt_html_esc(f, jstr(s, RT_STEPJ_VERDICT));
      if (jstr(s, RT_STEPJ_REASON)) {
        fputs(": ", f);
        rt_html_esc(f, jstr(s, RT_STEPJ_REASON));
      }
      const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_MS);
      const cJSON *tot = cJSON_GetObjectItemCaseSensitive(t, RT_STEPJ_MS_TOTAL);
      fprintf(f, "</td><td>%.1f</td></tr>\n", cJSON_IsNumber(tot) ? tot->valuedouble : 0.0);
    }
    fputs("</table>\n", f);
  }
  const cJSON *s;
  /* Evidence: for every step the guard stopped, the recorded screen, today's screen and
   * the difference side by side, with the reasons in words. */
  cJSON_ArrayForEach(s, l->evidence)
  {
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_EVIDENCE);
    if (!ev)
      continue;
    fputs("<h2>", f);
    rt_html_esc(f, jstr(s, RT_STEPJ_VERDICT));
    fputs(" at step <code>", f);
    rt_html_esc(f, jstr(s, RT_STEPJ_KEY));
    fputs("</code>", f);
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_LINE);
    if (cJSON_IsNumber(line)) {
      fputs(" (", f);
      rt_html_esc(f, jstr(s, RT_STEPJ_FILE));
      fprintf(f, ":%d)", line->valueint);
    }
    fputs("</h2>\n<ul>\n", f);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, RT_STEPJ_REASONS))
    {
      fputs("<li>", f);
      rt_html_esc(f, cJSON_IsString(r) ? r->valuestring : "");
      fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
    /* The diff image already holds recorded | today | difference side by side; without
     * one (no baseline for the step) show what there is. */
    const char *diff = jstr(ev, RT_EVJ_DIFF);
    if (diff) {
      fputs("<p class=\"cap\"><span>recorded (baseline)</span><span>today</span>"
            "<span>difference</span></p>\n<p><a href=\"",
            f);
      rt_html_esc(f, diff);
      fputs("\"><img class=\"wide\" alt=\"recorded, today and the difference\" src=\"", f);
      rt_html_esc(f, diff);
      fputs("\"></a></p>\n", f);
    }
    fputs("<p>", f);
    static const char *const names[2] = {RT_EVJ_RECORDED, RT_EVJ_CURRENT};
    static const char *const titles[2] = {"recorded screen", "today's screen"};
    for (int k = 0; k < 2; k++) {
      const char *p = jstr(ev, names[k]);
      if (!p)
        continue;
      if (diff) {
        fputs("<a href=\"", f);
        rt_html_esc(f, p);
        fprintf(f, "\">%s (full size)</a> ", titles[k]);
        continue;
      }
      fputs("<a href=\"", f);
      rt_html_esc(f, p);
      fprintf(f, "\"><img alt=\"%s\" title=\"%s\" src=\"", titles[k], titles[k]);
      rt_html_esc(f, p);
      fputs("\"></a>", f);
    }
    fputs("</p>\n", f);
  }
  fputs("</body></html>\n", f);
  fclose(f);
  int rc = write_atomic(dir, RT_REPORT_HTML, buf, len, err, errlen);
  free(buf);
  return rc;
}

int rt_report_write(rt_steplog *l, const char *dir, char *err, size_t errlen)
{
  gate_enter();
  int rc = report_write(l, dir, err, errlen);
  gate_leave();
  return rc;
}

/* ---- the end of a run written from its files ---- */

#define RUN_JSON_MAX ((size_t)64 << 20) /* the previous layout held every step */
#define STEP_LINE_MAX ((size_t)1 << 20)

static double jnum_in(const cJSON *o, const char *obj, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, obj), k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static void replay_line(rt_steplog *l, const char *line)
{
  cJSON *o = cJSON_Parse(line);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return;
  }
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_N);
  if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_KEY))) {
    l->count++;
    account(l, o, jnum_in(o, RT_STEPJ_MS, RT_STEPJ_MS_SETTLE),
            jnum_in(o, RT_STEPJ_MS, RT_STEPJ_MS_CAPTURE),
            jnum_in(o, RT_STEPJ_MS, RT_STEPJ_MS_GUARD), jnum_in(o, RT_STEPJ_MS, RT_STEPJ_MS_TOTAL));
    return;
  }
  /* an amendment: the step's input failed ("error") or was stopped by what the screen
   * did meanwhile ("drift", with evidence) */
  if (cJSON_IsNumber(n) && n->valuedouble >= 1)
    amend_account(l, (size_t)n->valuedouble,
                  jstr(o, RT_STEPJ_VERDICT) ? jstr(o, RT_STEPJ_VERDICT) : "error",
                  jstr(o, RT_STEPJ_REASON) ? jstr(o, RT_STEPJ_REASON) : "",
                  cJSON_GetObjectItemCaseSensitive(o, RT_STEPJ_EVIDENCE),
                  jnum_in(o, RT_STEPJ_MS, RT_STEPJ_MS_INPUT));
  cJSON_Delete(o);
}

/* Every whole line of steps.jsonl (a line cut by a kill is no step). */
static void replay(rt_steplog *l, int fd)
{
  char *buf = malloc(STEP_LINE_MAX + 1);
  size_t have = 0;
  bool skipping = false; /* inside a line longer than any vagt writes */
  for (;;) {
    if (!buf)
      return;
    ssize_t r = read(fd, buf + have, STEP_LINE_MAX - have);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    l->bytes += (unsigned long long)r;
    have += (size_t)r;
    size_t start = 0;
    char *nl;
    while ((nl = memchr(buf + start, '\n', have - start))) {
      *nl = '\0';
      if (!skipping)
        replay_line(l, buf + start);
      skipping = false;
      start = (size_t)(nl - buf) + 1;
    }
    memmove(buf, buf + start, have - start);
    have -= start;
    if (have == STEP_LINE_MAX) {
      skipping = true;
      have = 0;
    }
  }
  free(buf);
}

/* The record of a run as its files hold it: run.json's fields, and for the current layout
 * every step of steps.jsonl replayed. */
static rt_steplog *steplog_load(const char *dir, char *err, size_t errlen)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/" RT_RUN_JSON, dir);
  char *text = vu_read_file(path, RUN_JSON_MAX, VU_NOFOLLOW, NULL, err, errlen);
  if (!text)
    return NULL;
  cJSON *root = cJSON_Parse(text);
  free(text);
  rt_steplog *l = cJSON_IsObject(root) ? calloc(1, sizeof *l) : NULL;
  if (!l) {
    snprintf(err, errlen, "%s: %s", path, root ? "out of memory" : "not a JSON object");
    cJSON_Delete(root);
    return NULL;
  }
  l->fd = l->lock_fd = -1;
  l->root = root;
  l->recent = cJSON_CreateArray();
  l->evidence = cJSON_CreateArray();
  snprintf(path, sizeof path, "%s/" RT_STEPS_JSONL, dir);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    replay(l, fd);
  if (fd >= 0)
    close(fd);
  return l;
}

static int end_from_files(const char *dir, const char *status, int exit_code, const char *error,
                          char *err, size_t errlen)
{
  rt_steplog *l = steplog_load(dir, err, errlen);
  if (!l)
    return -1;
  int rc = steplog_write(l, dir, status, exit_code, error, err, errlen);
  if (rc == 0)
    rc = report_write(l, dir, err, errlen);
  rt_steplog_free(l);
  return rc;
}

int rt_runfolder_end(const char *dir, const char *status, int exit_code, const char *error,
                     char *err, size_t errlen)
{
  return end_from_files(dir, status, exit_code, error, err, errlen);
}

int rt_runfolder_reap(const char *dir, char *err, size_t errlen)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/" RT_RUN_LOCK, dir);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) /* a vagt before run.lock, or no run at all: nothing to judge */
      return 0;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) { /* the run (or another reaper) holds it */
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
      return 0;
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return -1;
  }
  /* Read under the lock: a second reaper finds the folder already marked. */
  snprintf(path, sizeof path, "%s/" RT_RUN_JSON, dir);
  char *text = vu_read_file(path, RUN_JSON_MAX, VU_NOFOLLOW, NULL, err, errlen);
  bool unreadable = !text && access(path, F_OK) == 0; /* none: it died before writing one */
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  free(text);
  const char *status = jstr(root, RT_RUNJ_STATUS);
  int rc = unreadable ? -1 : 0;
  if (status && strcmp(status, "running") == 0) {
    rc = end_from_files(dir, "killed", RT_EXIT_KILLED,
                        "the run ended without writing its end (killed with SIGKILL, a "
                        "crash, the machine stopped or the disk was full); steps.jsonl holds "
                        "every step that acted",
                        err, errlen) == 0
             ? 1
             : -1;
  }
  cJSON_Delete(root);
  close(fd);
  return rc;
}
