/* A robot's fleet-wide baseline and drift pause (ag_fleet.h). */
#include "ag_fleet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ag_pg.h"
#include "ag_util.h"
#include "run.h"
#include "prune.h"
#include "runfolder.h"
#include "vu.h"

#define FILE_MAX (64u << 20) /* one file of a baseline folder */
#define DIGEST_HEX 65

ag_pg *ag_fleet_connect(const ag_config *c, int *code, char *err, size_t errlen)
{
  ag_pg_opts o = {
      .conninfo = c->database, .password_file = c->database_password_file, .node = c->node};
  return ag_pg_open(&o, code, err, errlen);
}

char *ag_fleet_baseline_dir(const ag_robot *r)
{
  return r->baseline ? strdup(r->baseline) : rt_baseline_default(r->script);
}

/* ---- a baseline folder's files ---- */

typedef struct {
  char **names;
  unsigned char **data;
  size_t *len;
  size_t n, cap;
} folder;

static void folder_free(folder *f)
{
  for (size_t i = 0; i < f->n; i++) {
    free(f->names[i]);
    free(f->data[i]);
  }
  free(f->names);
  free(f->data);
  free(f->len);
  memset(f, 0, sizeof *f);
}

static int add_file(folder *f, const char *name, const unsigned char *data, size_t len)
{
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 32;
    char **nn = realloc(f->names, cap * sizeof *nn);
    if (nn)
      f->names = nn;
    unsigned char **nd = realloc(f->data, cap * sizeof *nd);
    if (nd)
      f->data = nd;
    size_t *nl = realloc(f->len, cap * sizeof *nl);
    if (nl)
      f->len = nl;
    if (!nn || !nd || !nl)
      return -1;
    f->cap = cap;
  }
  f->names[f->n] = strdup(name);
  f->data[f->n] = malloc(len ? len : 1);
  if (!f->names[f->n] || !f->data[f->n]) {
    free(f->names[f->n]);
    free(f->data[f->n]);
    return -1;
  }
  memcpy(f->data[f->n], data, len);
  f->len[f->n] = len;
  f->n++;
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the folder's regular files (not its hidden staging folders). 0 (a missing folder is
 * empty), or -1 with err; err also when a recording is being committed there. */
static int folder_read(const char *dir, folder *f, char *err, size_t errlen)
{
  memset(f, 0, sizeof *f);
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    snprintf(err, errlen, "baseline %s: %s", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.') {
      if (!strcmp(e->d_name, ".fp-commit")) {
        snprintf(err, errlen, "baseline %s: a recording is being committed", dir);
        rc = -1;
      }
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        rc = -1;
        snprintf(err, errlen, "out of memory");
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = -1;
      snprintf(err, errlen, "out of memory");
      break;
    }
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n && rc == 0; i++) {
    char *path = NULL;
    if (ag_asprintf(&path, "%s/%s", dir, names[i]) < 0) {
      rc = -1;
      snprintf(err, errlen, "out of memory");
      break;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      size_t len = 0;
      char *data = vu_read_file(path, FILE_MAX, VU_NOFOLLOW, &len, err, errlen);
      if (!data || add_file(f, names[i], (unsigned char *)data, len) != 0) {
        if (data)
          snprintf(err, errlen, "out of memory");
        rc = -1;
      }
      free(data);
    }
    free(path);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  if (rc != 0)
    folder_free(f);
  return rc;
}

/* SHA-256 over every file's name, length and content, in name order; "" for no files. */
static void folder_digest(const folder *f, char hex[DIGEST_HEX])
{
  hex[0] = 0;
  if (f->n == 0)
    return;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char md[32];
  unsigned mdlen = 0;
  if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
    for (size_t i = 0; i < f->n; i++) {
      char head[64];
      int hl = snprintf(head, sizeof head, "%zu:", f->len[i]);
      EVP_DigestUpdate(c, f->names[i], strlen(f->names[i]) + 1);
      EVP_DigestUpdate(c, head, (size_t)hl);
      EVP_DigestUpdate(c, f->data[i], f->len[i]);
    }
    EVP_DigestFinal_ex(c, md, &mdlen);
  }
  EVP_MD_CTX_free(c);
  for (unsigned i = 0; i < mdlen && i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int keep_file(void *ud, const char *name, const unsigned char *data, size_t len)
{
  if (!name[0] || name[0] == '.' || strchr(name, '/'))
    return -1; /* only plain names: never a path out of the folder */
  return add_file(ud, name, data, len);
}

/* Replaces the folder by the files: written into a folder beside it, then swapped in. */
static int folder_install(const char *dir, const folder *f, char *err, size_t errlen)
{
  char *fresh = NULL, *old = NULL, rmerr[256]; /* cleaning up: its failure is not the news */
  if (ag_asprintf(&fresh, "%s.fleet-XXXXXX", dir) < 0 ||
      ag_asprintf(&old, "%s.old-XXXXXX", dir) < 0) {
    free(fresh);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = -1;
  if (!mkdtemp(fresh)) {
    snprintf(err, errlen, "cannot make %s: %s", fresh, strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < f->n; i++)
    if (rt_write_file_atomic(fresh, f->names[i], (const char *)f->data[i], f->len[i], err,
                             errlen) != 0) {
      rt_remove_tree(fresh, rmerr, sizeof rmerr);
      goto out;
    }
  /* an empty folder is replaced by rename: the old one moves there, then the new one in */
  bool had = access(dir, F_OK) == 0;
  if (had && (!mkdtemp(old) || rename(dir, old) != 0)) {
    snprintf(err, errlen, "cannot move %s aside: %s", dir, strerror(errno));
    rt_remove_tree(fresh, rmerr, sizeof rmerr);
    goto out;
  }
  if (rename(fresh, dir) != 0) {
    snprintf(err, errlen, "cannot put the fleet's baseline in %s: %s", dir, strerror(errno));
    if (had)
      rename(old, dir);
    rt_remove_tree(fresh, rmerr, sizeof rmerr);
    goto out;
  }
  if (had)
    rt_remove_tree(old, rmerr, sizeof rmerr);
  rc = 0;
out:
  free(fresh);
  free(old);
  return rc;
}

/* ---- this node's name ---- */

/* The state folder's id (STATE/fleet/node-id) into id[64], made at the first call: the
 * agent's threads connect each on their own, and every one of them must read the same id,
 * so a new id is written beside and linked into place only if none is there yet. */
static int node_id(const char *dir, char *id, char *err, size_t errlen)
{
  char *path = NULL, *tmp = NULL;
  int rc = -1;
  if (ag_asprintf(&path, "%s/node-id", dir) < 0 ||
      ag_asprintf(&tmp, "%s/.node-id.%ld", dir, (long)syscall(SYS_gettid)) < 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (int tries = 0; tries < 2 && rc != 0; tries++) {
    char *t = vu_read_file(path, 256, VU_NOFOLLOW, NULL, NULL, 0);
    if (t && sscanf(t, "%63s", id) == 1 && strlen(id) == 36) {
      rc = 0;
    } else if (!t && tries == 0) { /* this state folder's first connection to a fleet */
      char line[40], fresh[64];
      ag_uuid(fresh, sizeof fresh);
      int len = snprintf(line, sizeof line, "%s\n", fresh);
      int fd = vu_mkdir_p(dir, err, errlen) == 0
                   ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)
                   : -1;
      bool ok = fd >= 0 && vu_write_all(fd, line, (size_t)len) && fsync(fd) == 0;
      if (fd >= 0)
        close(fd);
      if (ok && link(tmp, path) != 0 && errno != EEXIST) /* EEXIST: another thread's won */
        ok = false;
      unlink(tmp);
      if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(t);
        goto out;
      }
    } else {
      snprintf(err, errlen, "%s: not a node id (delete it to make a new one)", path);
      free(t);
      goto out;
    }
    free(t);
  }
out:
  free(tmp);
  free(path);
  return rc;
}

int ag_fleet_register(ag_fleet_node *n, char *err, size_t errlen)
{
  char *dir = NULL, id[64] = "";
  int rc = -1;
  if (ag_asprintf(&dir, "%s/fleet", n->cfg->state) < 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  if (node_id(dir, id, err, errlen) != 0)
    goto out;
  /* the folder's id, the machine and the folder's path: a copy of the folder (a cloned
   * machine, a state folder copied beside) keeps the id but not both of the others */
  char *mid = vu_read_file("/etc/machine-id", 128, 0, NULL, NULL, 0), *real = NULL;
  if (!mid)
    mid = vu_read_file("/var/lib/dbus/machine-id", 128, 0, NULL, NULL, 0);
  if (mid)
    mid[strcspn(mid, "\r\n")] = 0;
  real = realpath(n->cfg->state, NULL);
  /* the machine id is kept out of the shared database: a digest of it with the path */
  char *where = NULL, *instance = NULL, hex[DIGEST_HEX];
  folder one = {0};
  int a = ag_asprintf(&where, "%s %s", mid && *mid ? mid : "-", real ? real : n->cfg->state);
  free(mid);
  free(real);
  if (a >= 0 && add_file(&one, "where", (const unsigned char *)where, strlen(where)) == 0) {
    folder_digest(&one, hex);
    a = ag_asprintf(&instance, "%s %s", id, hex);
  } else {
    a = -1;
  }
  folder_free(&one);
  free(where);
  if (a < 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  char since[64];
  int r = ag_pg_node_register(n->pg, instance, since, sizeof since);
  free(instance);
  rc = r == AG_PG_OK ? 0 : r == AG_PG_LOST ? 1 : -1;
  if (rc == 1)
    snprintf(err, errlen,
             "node name '%s' belongs to another state folder (registered %s; this one is %s): "
             "give every node its own `node` in its configuration (the default is the host "
             "name); a node set up anew, or a copy of a node's machine or state folder, takes "
             "a new name",
             n->cfg->node, since, n->cfg->state);
  else if (rc < 0)
    snprintf(err, errlen, "%s", ag_pg_error(n->pg));
out:
  free(dir);
  return rc;
}

/* ---- what this node last had from the fleet ---- */

static char *mark_dir(const ag_fleet_node *n)
{
  char *p = NULL;
  return ag_asprintf(&p, "%s/fleet", n->cfg->state) < 0 ? NULL : p;
}

/* STATE/fleet/ROBOT.KIND ("baseline", "script"): the fleet's version this node last had. */
static void mark_read(const ag_fleet_node *n, const ag_robot *r, const char *kind, int *version,
                      char digest[DIGEST_HEX])
{
  *version = 0;
  digest[0] = 0;
  char *dir = mark_dir(n), *path = NULL;
  if (dir && ag_asprintf(&path, "%s/%s.%s", dir, r->name, kind) >= 0) {
    char *t = vu_read_file(path, 256, VU_NOFOLLOW, NULL, NULL, 0);
    char d[DIGEST_HEX + 1] = "";
    if (t && sscanf(t, "%d %64s", version, d) == 2 && strlen(d) == 64)
      snprintf(digest, DIGEST_HEX, "%s", d);
    else
      *version = 0;
    free(t);
  }
  free(path);
  free(dir);
}

static int mark_write(const ag_fleet_node *n, const ag_robot *r, const char *kind, int version,
                      const char *digest, char *err, size_t errlen)
{
  char *dir = mark_dir(n), *name = NULL, text[128];
  int len = snprintf(text, sizeof text, "%d %s\n", version, digest);
  int rc = -1;
  if (dir && ag_asprintf(&name, "%s.%s", r->name, kind) >= 0 && vu_mkdir_p(dir, err, errlen) == 0)
    rc = rt_write_file_atomic(dir, name, text, (size_t)len, err, errlen);
  free(name);
  free(dir);
  return rc;
}

/* ---- sync ---- */

static int publish(ag_pg *pg, const ag_fleet_node *n, const ag_robot *r, const folder *f,
                   const char *digest, int prev, char *msg, size_t msglen)
{
  ag_pg_file *files = calloc(f->n + 1, sizeof *files);
  if (!files) {
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < f->n; i++)
    files[i] = (ag_pg_file){f->names[i], f->data[i], f->len[i]};
  int version = 0;
  int rc = ag_pg_baseline_put(pg, r->name, prev, digest, files, f->n, &version);
  free(files);
  if (rc != AG_PG_OK) {
    snprintf(msg, msglen, "cannot publish the baseline of robot %s: %s", r->name, ag_pg_error(pg));
    return rc == AG_PG_LOST ? 1 : -1;
  }
  fprintf(stderr, "vagt agent: robot %s: this node's baseline is the fleet's version %d now\n",
          r->name, version);
  snprintf(msg, msglen,
           "published as the fleet's baseline version %d of robot %s: every node judges against "
           "it from its next run, and the robot's pause (if any) has ended",
           version, r->name);
  return mark_write(n, r, "baseline", version, digest, msg, msglen) == 0 ? 0 : -1;
}

/* Brings the folder and the fleet to one version (see ag_fleet.h). */
static int sync_baseline(ag_pg *pg, const ag_fleet_node *n, const ag_robot *r, bool publish_local,
                         char *msg, size_t msglen)
{
  char *dir = ag_fleet_baseline_dir(r);
  if (!dir) {
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  int rc = -1;
  for (int tries = 0; tries < 3 && rc != 0; tries++) {
    folder f;
    if (folder_read(dir, &f, msg, msglen) != 0)
      break;
    char digest[DIGEST_HEX], had[DIGEST_HEX], fleet_digest[DIGEST_HEX] = "", node[80] = "";
    folder_digest(&f, digest);
    int mine, fleet = 0;
    mark_read(n, r, "baseline", &mine, had);
    int c = ag_pg_baseline_current(pg, r->name, &fleet, fleet_digest, sizeof fleet_digest, node,
                                   sizeof node);
    if (c != AG_PG_OK && c != AG_PG_NONE) {
      snprintf(msg, msglen, "the fleet database cannot say which baseline is current: %s",
               ag_pg_error(pg));
      folder_free(&f);
      break;
    }
    if (c == AG_PG_NONE) {
      rc = f.n ? publish(pg, n, r, &f, digest, 0, msg, msglen) : 0; /* nothing yet: recording */
    } else if (f.n && !strcmp(digest, fleet_digest)) {
      rc = mine == fleet ? 0 : mark_write(n, r, "baseline", fleet, digest, msg, msglen);
    } else if (f.n && mine > 0 && strcmp(digest, had) != 0 && publish_local) {
      /* changed here since this node last synced: an approval or a recording here */
      rc = publish(pg, n, r, &f, digest, fleet, msg, msglen);
    } else {
      folder nf = {0};
      int g = ag_pg_baseline_get(pg, r->name, fleet, keep_file, &nf);
      char got[DIGEST_HEX];
      folder_digest(&nf, got);
      if (g != AG_PG_OK)
        snprintf(msg, msglen, "cannot fetch the fleet's baseline: %s", ag_pg_error(pg));
      else if (strcmp(got, fleet_digest) != 0)
        snprintf(msg, msglen, "the fleet's baseline version %d does not match its digest", fleet);
      else if (folder_install(dir, &nf, msg, msglen) == 0 &&
               mark_write(n, r, "baseline", fleet, got, msg, msglen) == 0) {
        fprintf(stderr,
                "vagt agent: robot %s: installed the fleet's baseline version %d "
                "(published by node %s)\n",
                r->name, fleet, node);
        rc = 0;
      }
      folder_free(&nf);
      if (rc != 0) {
        folder_free(&f);
        break;
      }
    }
    folder_free(&f);
    if (rc < 0)
      break;
    /* rc 1: another node published meanwhile; look again */
  }
  free(dir);
  return rc == 0 ? 0 : -1;
}

/* The robot's script against the fleet's (see ag_fleet.h): 0 run, 1 stale here, -1 the
 * database cannot say. */
static int script_check(ag_fleet_node *n, const ag_robot *r, char *why, size_t whylen)
{
  char err[256];
  size_t len = 0;
  char *text = vu_read_file(r->script, FILE_MAX, 0, &len, err, sizeof err);
  if (!text) {
    snprintf(why, whylen, "its script: %s", err);
    return 1;
  }
  folder one = {0};
  char digest[DIGEST_HEX], had[DIGEST_HEX], fleet_digest[DIGEST_HEX] = "", node[80] = "";
  int rc = add_file(&one, "script", (unsigned char *)text, len);
  free(text);
  if (rc != 0) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  folder_digest(&one, digest);
  folder_free(&one);
  int mine, fleet = 0;
  mark_read(n, r, "script", &mine, had);
  for (int tries = 0; tries < 3; tries++) {
    int c = ag_pg_script_current(n->pg, r->name, &fleet, fleet_digest, sizeof fleet_digest, node,
                                 sizeof node);
    if (c != AG_PG_OK && c != AG_PG_NONE) {
      snprintf(why, whylen, "the fleet database cannot say which script is current: %s",
               ag_pg_error(n->pg));
      return -1;
    }
    if (c == AG_PG_OK && !strcmp(digest, fleet_digest))
      return mine == fleet ? 0 : mark_write(n, r, "script", fleet, digest, why, whylen) ? -1 : 0;
    /* the first script, or one deployed here since this node last ran the fleet's: the
     * fleet's next version */
    if (c == AG_PG_NONE || (mine > 0 && strcmp(digest, had) != 0)) {
      int v = 0;
      int p = ag_pg_script_put(n->pg, r->name, fleet, digest, &v);
      if (p == AG_PG_LOST)
        continue; /* another node published meanwhile: look again */
      if (p != AG_PG_OK) {
        snprintf(why, whylen, "cannot publish its script: %s", ag_pg_error(n->pg));
        return -1;
      }
      fprintf(stderr, "vagt agent: robot %s: this node's script is the fleet's version %d now\n",
              r->name, v);
      return mark_write(n, r, "script", v, digest, why, whylen) ? -1 : 0;
    }
    char since[80] = "";
    if (mine > 0)
      snprintf(since, sizeof since, ", unchanged here since this node ran version %d", mine);
    snprintf(why, whylen,
             "its script %s is not the fleet's current version %d (published by node %s)%s: "
             "deploy that script on this node",
             r->script, fleet, node, since);
    return 1;
  }
  snprintf(why, whylen, "other nodes keep publishing its script: try again");
  return -1;
}

int ag_fleet_before_run(ag_fleet_node *n, const ag_robot *r, char *why, size_t whylen)
{
  if (!n->pg)
    return 0;
  bool paused = false;
  char by[200];
  if (ag_pg_paused(n->pg, r->name, &paused, by, sizeof by) != AG_PG_OK) {
    snprintf(why, whylen, "the fleet database cannot say whether it is paused: %s",
             ag_pg_error(n->pg));
    return -1;
  }
  if (paused) {
    snprintf(why, whylen,
             "it is paused on every node since its drift halt (%s): approve a new "
             "baseline on any node's pages, or resume it there if the halt was not the "
             "application's change",
             by);
    return 1;
  }
  int sc = script_check(n, r, why, whylen);
  if (sc != 0)
    return sc;
  return sync_baseline(n->pg, n, r, true, why, whylen) == 0 ? 0 : -1;
}

bool ag_fleet_on_drift(ag_fleet_node *n, const ag_robot *r, long long run_id, const char *alert_id)
{
  if (!n->pg)
    return true;
  char run[32], holder[160];
  snprintf(run, sizeof run, "%lld", run_id);
  bool first = false;
  if (ag_pg_pause(n->pg, r->name, run, alert_id, &first, holder, sizeof holder) != AG_PG_OK) {
    fprintf(stderr,
            "vagt agent: robot %s: cannot pause it in the fleet (%s): alerting from "
            "here\n",
            r->name, ag_pg_error(n->pg));
    return true;
  }
  char me[160];
  snprintf(me, sizeof me, "node %s, run %s", n->cfg->node, run);
  if (!first && !strcmp(holder, me))
    return true; /* this run's end recorded again (the history was busy): still its alert */
  if (first)
    fprintf(stderr,
            "vagt agent: robot %s: paused on every node until a new baseline is "
            "approved\n",
            r->name);
  else
    fprintf(stderr,
            "vagt agent: robot %s: paused already (%s), which alerted: no second "
            "alert\n",
            r->name, holder);
  return first;
}

int ag_fleet_publish(const ag_config *c, const ag_robot *r, bool want_resumed, char *msg,
                     size_t msglen)
{
  if (!c->database)
    return 0;
  int code = 0;
  ag_pg *pg = ag_fleet_connect(c, &code, msg, msglen);
  if (!pg)
    return -1;
  ag_fleet_node n = {.cfg = c, .pg = pg};
  int rc = sync_baseline(pg, &n, r, true, msg, msglen);
  bool paused = false;
  char by[200];
  if (rc == 0 && want_resumed && ag_pg_paused(pg, r->name, &paused, by, sizeof by) == AG_PG_OK &&
      paused) {
    snprintf(msg, msglen,
             "robot %s stays paused on every node: no new baseline version came of this "
             "approval (the baseline already accepts these screens), and the pause is another "
             "drift halt's (%s). Open that run: if its node still shows the screens from before "
             "the update, install the update there and resume the robot from that run's page; "
             "approve it only if its screens are the right ones",
             r->name, by);
    rc = 1;
  }
  ag_pg_close(pg);
  return rc;
}

int ag_fleet_resume(const ag_config *c, const ag_robot *r, long long fleet_run, char *msg,
                    size_t msglen)
{
  int code = 0;
  ag_pg *pg = c->database ? ag_fleet_connect(c, &code, msg, msglen) : NULL;
  if (!pg)
    return -1;
  int rc = ag_pg_resume(pg, r->name, fleet_run);
  bool paused = false;
  char by[200] = "";
  if (rc == AG_PG_LOST)
    ag_pg_paused(pg, r->name, &paused, by, sizeof by);
  if (rc == AG_PG_OK)
    snprintf(msg, msglen,
             "robot %s runs again on every node, judged against the fleet's baseline as it is",
             r->name);
  else if (rc == AG_PG_LOST)
    snprintf(msg, msglen,
             "robot %s is paused by another drift halt (%s): approve or resume that run", r->name,
             by);
  else if (rc == AG_PG_NONE)
    snprintf(msg, msglen, "robot %s is not paused", r->name);
  else
    snprintf(msg, msglen, "the fleet's database cannot resume it now: %s", ag_pg_error(pg));
  ag_pg_close(pg);
  return rc == AG_PG_OK ? 0 : rc == AG_PG_LOST || rc == AG_PG_NONE ? 1 : -1;
}

int ag_fleet_sched_claim(ag_fleet_node *n, const ag_robot *r, long long t, const char *trigger,
                         char *holder, size_t holder_len)
{
  if (!n->pg || t <= 0)
    return 1;
  bool won = false;
  if (ag_pg_sched_claim(n->pg, r->name, t, trigger, r->spread, &won, holder, holder_len) !=
      AG_PG_OK) {
    snprintf(holder, holder_len, "%s", ag_pg_error(n->pg));
    return -1;
  }
  return won ? 1 : 0;
}

bool ag_fleet_sched_last(ag_fleet_node *n, const ag_robot *r, long long *t)
{
  return n->pg && ag_pg_sched_last(n->pg, r->name, t) == AG_PG_OK;
}
