#include "items.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "allow.h"
#include "host.h"
#include "items_fleet.h"
#include "run.h"
#include "runfolder.h"

#define BATCH_MT "robot.ItemBatch"

typedef struct {
  sqlite3 *db;
  unsigned char hkey[RT_ITEMS_KEY_LEN]; /* the installation's key for content keys */
  bool keyfield;                        /* opts.key named a field: keys are its values */
  char *name;
  int items_ref;      /* Lua list of items */
  int keys_ref;       /* Lua list of their keys */
  lua_Integer n, pos; /* pos: index of the current item, 0 before the first */
  char *cur;          /* key of the item being worked on, NULL when none */
  bool retry_failed;
  int done, failed; /* entered in this run: done, failed now */
  int waiting;      /* failed before (or interrupted), not retried: for a person */
  int skipped_done; /* done before */
  int fleet;        /* the agent's socket in a fleet (items_fleet.h), -1 on one machine */
  bool sent;        /* fleet: "input sent" is recorded for the current item */
  bool lost;        /* fleet: the current item is no longer this run's */
  bool fleet_done;  /* fleet: nothing was pending at the last claim */
} batch;

/* ---- keys: an item's content is never stored, only its HMAC under the installation's key */

void rt_items_hash(const unsigned char key[RT_ITEMS_KEY_LEN], const char *content, size_t len,
                   char hex[RT_ITEMS_HASH_HEX])
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (!content) /* an empty value as SQLite gives it */
    content = "";
  if (!HMAC(EVP_sha256(), key, RT_ITEMS_KEY_LEN, (const unsigned char *)content, len, mac,
            &maclen) ||
      maclen != 32) {
    /* only on allocation failure inside OpenSSL: never fall back to anything weaker */
    fputs("vagt: HMAC-SHA256 failed\n", stderr);
    abort();
  }
  for (unsigned int i = 0; i < maclen; i++)
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

static int part_cmp(const void *a, const void *b)
{
  const rt_items_part *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

char *rt_items_canonical(rt_items_part *parts, size_t n, size_t *outlen)
{
  qsort(parts, n, sizeof *parts, part_cmp);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += parts[i].len + (i > 0);
  char *out = malloc(len + 1);
  if (!out)
    return NULL;
  char *p = out;
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      *p++ = '\x1f';
    memcpy(p, parts[i].s, parts[i].len);
    p += parts[i].len;
  }
  *p = '\0';
  *outlen = len;
  return out;
}

/* The key file's path: $VAGT_ITEMS_KEY_FILE, else items.key beside the database. */
static void key_path(const char *dbpath, char *out, size_t n)
{
  const char *env = getenv("VAGT_ITEMS_KEY_FILE");
  if (env && *env) {
    snprintf(out, n, "%s", env);
    return;
  }
  const char *slash = strrchr(dbpath, '/');
  if (slash)
    snprintf(out, n, "%.*sitems.key", (int)(slash + 1 - dbpath), dbpath);
  else
    snprintf(out, n, "items.key");
}

/* 0; 1 refused, with err; -errno when it cannot be opened. */
static int read_key(const char *path, unsigned char key[RT_ITEMS_KEY_LEN], char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -errno;
  struct stat st;
  int rc = 1;
  if (fstat(fd, &st) != 0)
    snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    snprintf(err, errlen, "key file %s is not a regular file", path);
  else if (st.st_mode & 077)
    snprintf(err, errlen,
             "key file %s may be read or written by group or others (mode %03o);"
             " it must be owner-only (chmod 600)",
             path, (unsigned)(st.st_mode & 0777));
  else if (st.st_uid != geteuid())
    snprintf(err, errlen, "key file %s is not owned by the user vagt runs as", path);
  else if (st.st_size != RT_ITEMS_KEY_LEN)
    snprintf(err, errlen, "key file %s is %lld bytes, not %d", path, (long long)st.st_size,
             RT_ITEMS_KEY_LEN);
  else if (read(fd, key, RT_ITEMS_KEY_LEN) != RT_ITEMS_KEY_LEN)
    snprintf(err, errlen, "cannot read key file %s", path);
  else
    rc = 0;
  close(fd);
  return rc;
}

/* Writes a new random key to a temporary file (O_EXCL, 0600, fsync) and links it to `path`,
 * so no reader ever sees a partial key and two runs starting at once agree on one. 0, 1 when
 * another process made it first (read that one), -1 with err. */
static int make_key(const char *path, char *err, size_t errlen)
{
  unsigned char key[RT_ITEMS_KEY_LEN];
  if (RAND_bytes(key, sizeof key) != 1) {
    snprintf(err, errlen, "no random bytes for a key file");
    return -1;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create key file %s: %s", tmp, strerror(errno));
    OPENSSL_cleanse(key, sizeof key);
    return -1;
  }
  bool ok = write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
  int e = errno;
  OPENSSL_cleanse(key, sizeof key);
  if (close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  int rc = 0;
  if (!ok) {
    snprintf(err, errlen, "cannot write key file %s: %s", tmp, strerror(e));
    rc = -1;
  } else if (link(tmp, path) != 0) {
    if (errno == EEXIST) {
      rc = 1;
    } else {
      snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
      rc = -1;
    }
  }
  unlink(tmp);
  if (rc == 0) { /* the new name must survive a crash as the database rows written with it */
    char dirp[4200];
    snprintf(dirp, sizeof dirp, "%s", path);
    char *slash = strrchr(dirp, '/');
    if (slash == dirp)
      slash[1] = '\0';
    else if (slash)
      *slash = '\0';
    else
      snprintf(dirp, sizeof dirp, ".");
    int dfd = open(dirp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  return rc;
}

/* The key: read, or created when `create` (a database that has no rows hashed yet). */
static int load_key(const char *dbpath, bool create, unsigned char key[RT_ITEMS_KEY_LEN], char *err,
                    size_t errlen)
{
  char path[4096];
  key_path(dbpath, path, sizeof path);
  for (int tries = 0; tries < 3; tries++) {
    int rc = read_key(path, key, err, errlen);
    if (rc == 0)
      return 0;
    if (rc == 1)
      return -1;
    if (rc != -ENOENT) {
      snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(-rc));
      return -1;
    }
    if (!create) {
      snprintf(err, errlen,
               "key file %s is missing, and %s holds items hashed with it: "
               "restore it (a new key would enter every item again)",
               path, dbpath);
      return -1;
    }
    if (make_key(path, err, errlen) < 0)
      return -1;
  }
  snprintf(err, errlen, "cannot read key file %s", path);
  return -1;
}

static void key_check(const unsigned char key[RT_ITEMS_KEY_LEN], char hex[RT_ITEMS_HASH_HEX])
{
  static const char what[] = "vagt robot.items key check";
  rt_items_hash(key, what, sizeof what - 1, hex);
}

static bool has_table(sqlite3 *db, const char *name)
{
  sqlite3_stmt *st = NULL;
  bool yes = false;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    yes = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  return yes;
}

static int int_of(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  int v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Schema 0 (before user_version was set) kept each item's key as given: its content, or
 * its key field's value. Schema 1 hashes every such key string as it stands (so the content
 * key of an item hashes to the same value a run computes now, and a key field's value is
 * found by its hash, see advance()); rows of an old database thus keep their state. */
static int migrate_v0(sqlite3 *db, const unsigned char key[RT_ITEMS_KEY_LEN], long long *n)
{
  /* All hashed first, then written: an UPDATE of the key while a scan (possibly of the
   * (batch, key) index) is open could meet a row again and hash it twice. */
  sqlite3_stmt *sel = NULL, *upd = NULL;
  struct row {
    sqlite3_int64 id;
    char hex[RT_ITEMS_HASH_HEX];
  } *rows = NULL;
  size_t nr = 0, cap = 0;
  int rc = SQLITE_ERROR;
  *n = 0;
  if (sqlite3_prepare_v2(db, "SELECT rowid, key FROM items", -1, &sel, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE items SET key=? WHERE rowid=?", -1, &upd, NULL) != SQLITE_OK)
    goto out;
  while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
    if (nr == cap) {
      cap = cap ? 2 * cap : 256;
      struct row *r = realloc(rows, cap * sizeof *r);
      if (!r) {
        rc = SQLITE_NOMEM;
        goto out;
      }
      rows = r;
    }
    rows[nr].id = sqlite3_column_int64(sel, 0);
    rt_items_hash(key, (const char *)sqlite3_column_blob(sel, 1),
                  (size_t)sqlite3_column_bytes(sel, 1), rows[nr].hex);
    nr++;
  }
  if (rc != SQLITE_DONE)
    goto out;
  for (size_t i = 0; i < nr; i++) {
    sqlite3_bind_text(upd, 1, rows[i].hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(upd, 2, rows[i].id);
    if ((rc = sqlite3_step(upd)) != SQLITE_DONE)
      goto out;
    sqlite3_reset(upd);
  }
  *n = (long long)nr;
  rc = SQLITE_OK;
out:
  free(rows);
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  return rc;
}

sqlite3 *rt_items_open_db(const char *path, bool create, unsigned char key[RT_ITEMS_KEY_LEN],
                          char *err, size_t errlen)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  /* Owner-only: the WAL and shared-memory files SQLite makes take the database's mode. */
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) && st.st_uid == geteuid())
    chmod(path, st.st_mode & 0700);
  long long migrated = 0;
  bool began = false;
  char hex[RT_ITEMS_HASH_HEX], *e = NULL;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                   "PRAGMA secure_delete=ON; BEGIN IMMEDIATE",
                   NULL, NULL, &e) != SQLITE_OK)
    goto sqlerr;
  began = true;
  int version = int_of(db, "PRAGMA user_version");
  if (version > RT_ITEMS_SCHEMA) {
    snprintf(err, errlen, "%s is of a newer vagt (schema %d, this one knows %d)", path, version,
             RT_ITEMS_SCHEMA);
    goto fail;
  }
  bool old = has_table(db, "items"), meta = has_table(db, "meta");
  char check[RT_ITEMS_HASH_HEX] = "";
  if (meta) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name='key_check'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      snprintf(check, sizeof check, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  if (!create && !old) {
    snprintf(err, errlen, "%s: not a robot.items database (no table items)", path);
    goto fail;
  }
  if (load_key(path, !check[0], key, err, errlen) != 0)
    goto fail;
  key_check(key, hex);
  if (check[0] && strcmp(check, hex) != 0) {
    char kp[4096];
    key_path(path, kp, sizeof kp);
    snprintf(err, errlen, "key file %s is not the key %s was written with", kp, path);
    goto fail;
  }
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS items ("
                   " batch TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER,"
                   " state TEXT NOT NULL, reason TEXT, run TEXT, attempts INTEGER DEFAULT 0,"
                   " updated TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
                   " PRIMARY KEY(batch, key));"
                   "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);"
                   /* schema 2: which runs entered and finished each item, for a citizen's
                    * access or erasure request (vagt items who); pruned with the items */
                   "CREATE TABLE IF NOT EXISTS item_runs ("
                   " batch TEXT NOT NULL, key TEXT NOT NULL, run TEXT, state TEXT NOT NULL,"
                   " at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
                   "CREATE INDEX IF NOT EXISTS item_runs_item ON item_runs(batch, key);",
                   NULL, NULL, &e) != SQLITE_OK)
    goto sqlerr;
  if (old && version < 1 && migrate_v0(db, key, &migrated) != SQLITE_OK)
    goto sqlerr;
  if (!check[0]) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO meta(name, value) VALUES('key_check', ?)", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
      goto sqlerr;
  }
  if (version != RT_ITEMS_SCHEMA) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", RT_ITEMS_SCHEMA);
    if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
      goto sqlerr;
  }
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, &e) != SQLITE_OK)
    goto sqlerr;
  /* The content keys of the old rows are in the log's copies of the pages: reset it. */
  if (migrated > 0)
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  return db;
sqlerr:
  snprintf(err, errlen, "cannot set up %s: %s", path, e ? e : sqlite3_errmsg(db));
  sqlite3_free(e);
fail:
  if (began)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  OPENSSL_cleanse(key, RT_ITEMS_KEY_LEN);
  sqlite3_close(db);
  return NULL;
}

/* ---- the database ---- */

static sqlite3 *items_db(lua_State *L, unsigned char key[RT_ITEMS_KEY_LEN])
{
  rt_run *run = rt_host_run_of(L);
  const char *env = getenv("VAGT_ITEMS_DB");
  char path[4096];
  if (env && *env) {
    snprintf(path, sizeof path, "%s", env);
  } else if (run && run->run_dir) {
    snprintf(path, sizeof path, "%s", run->run_dir);
    char *slash = strrchr(path, '/');
    if (slash)
      snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "items.db");
    else
      snprintf(path, sizeof path, "items.db");
  } else {
    rt_raise(L, "robot.items needs a run folder or $VAGT_ITEMS_DB");
  }
  char err[4096 + 512];
  sqlite3 *db = rt_items_open_db(path, true, key, err, sizeof err);
  if (!db)
    rt_raise(L, "robot.items: %s", err);
  return db;
}

/* Appends to the item's history (item_runs): the run and the state it gave the item. */
static int add_history(batch *b, const char *key, const char *run, const char *state)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(b->db,
                              "INSERT INTO item_runs(batch, key, run, state) "
                              "VALUES(?,?,?,?)",
                              -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (run && *run)
      sqlite3_bind_text(st, 3, run, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return rc;
}

/* The item's state ("" when it has no row), and in `run` the run folder that last
 * changed it ("" when none). */
static const char *get_state(batch *b, const char *key, char *run, size_t runlen)
{
  static char state[16];
  sqlite3_stmt *st = NULL;
  state[0] = '\0';
  run[0] = '\0';
  if (sqlite3_prepare_v2(b->db, "SELECT state, run FROM items WHERE batch=? AND key=?", -1, &st,
                         NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) {
    snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 0));
    if (sqlite3_column_type(st, 1) == SQLITE_TEXT)
      snprintf(run, runlen, "%s", (const char *)sqlite3_column_text(st, 1));
  }
  sqlite3_finalize(st);
  return state;
}

/* An item left failed by a run that ended inside it: the row keeps that run's folder, and
 * the history gets the end of that run's work on it. */
static void mark_interrupted(lua_State *L, batch *b, const char *key, const char *leftby)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      b->db,
      "UPDATE items SET state='failed', reason=?, updated=strftime('%Y-%m-%dT%H:%M:%SZ','now') "
      "WHERE batch=? AND key=?",
      -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1,
                      "interrupted: a run ended while this item was in progress, so "
                      "it may be partly done; check it, then retry it with "
                      "retry_failed = true",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_DONE)
    rc = add_history(b, key, leftby, "failed");
  if (rc != SQLITE_DONE) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(b->db));
    sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    rt_raise(L, "robot.items: cannot record item state: %s", msg);
  }
}

/* An item left failed, for a person: counted for the run's status, listed in run.json
 * and the log by batch and row number, never by its data. */
static void need_person(lua_State *L, batch *b, lua_Integer seq, const char *leftby, bool now)
{
  rt_run *run = rt_host_run_of(L);
  if (!run)
    return;
  run->items_need_person++;
  if (run->steps)
    rt_steplog_need_person(run->steps, b->name, (long long)seq, leftby && *leftby ? leftby : NULL);
  if (now)
    rt_log(run, "robot.items %s: row %lld failed in this run; it waits for a person", b->name,
           (long long)seq);
  else
    rt_log(run,
           "robot.items %s: row %lld waits for a person: failed before (run %s), not "
           "retried (retry_failed = true retries it)",
           b->name, (long long)seq, leftby && *leftby ? leftby : "unknown");
}

/* Upserts the item's state; raises when the database refuses (a state we cannot record
 * must stop the batch, or an item could be entered twice). */
static void set_state(lua_State *L, batch *b, const char *key, lua_Integer seq, const char *state,
                      const char *reason, bool entering)
{
  rt_run *run = rt_host_run_of(L);
  sqlite3_stmt *st = NULL;
  bool own = sqlite3_get_autocommit(b->db); /* the row and its history: one transaction */
  if (own && sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    rt_raise(L, "robot.items: cannot lock the item database: %s", sqlite3_errmsg(b->db));
  const char *sql =
      "INSERT INTO items(batch, key, seq, state, reason, run, attempts) VALUES(?,?,?,?,?,?,?) "
      "ON CONFLICT(batch, key) DO UPDATE SET state=excluded.state, reason=excluded.reason, "
      "run=excluded.run, attempts=attempts+excluded.attempts, "
      "updated=strftime('%Y-%m-%dT%H:%M:%SZ','now')";
  int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    if (reason)
      sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(st, 5);
    if (run && run->run_dir)
      sqlite3_bind_text(st, 6, run->run_dir, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(st, 6);
    sqlite3_bind_int(st, 7, entering ? 1 : 0);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
  }
  if (rc == SQLITE_DONE)
    rc = add_history(b, key, run ? run->run_dir : NULL, state);
  if (rc == SQLITE_DONE && own && sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    rc = SQLITE_ERROR;
  if (rc != SQLITE_DONE) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(b->db));
    if (!sqlite3_get_autocommit(b->db))
      sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    rt_raise(L, "robot.items: cannot record item state: %s", msg);
  }
}

/* ---- sources ---- */

/* One CSV record from *p into a new Lua list on the stack; false at the end of input. */
static bool csv_record(lua_State *L, const char **p, const char *end, char sep)
{
  if (*p >= end)
    return false;
  lua_newtable(L);
  luaL_Buffer buf;
  lua_Integer nf = 0;
  const char *s = *p;
  for (;;) {
    luaL_buffinit(L, &buf);
    if (s < end && *s == '"') {
      s++;
      while (s < end) {
        if (*s == '"') {
          if (s + 1 < end && s[1] == '"') {
            luaL_addchar(&buf, '"');
            s += 2;
            continue;
          }
          s++;
          break;
        }
        luaL_addchar(&buf, *s++);
      }
      while (s < end && *s != sep && *s != '\n' && *s != '\r')
        luaL_addchar(&buf, *s++); /* tolerate text after the closing quote */
    } else {
      while (s < end && *s != sep && *s != '\n' && *s != '\r')
        luaL_addchar(&buf, *s++);
    }
    luaL_pushresult(&buf);
    lua_rawseti(L, -2, ++nf);
    if (s < end && *s == sep) {
      s++;
      continue;
    }
    if (s < end && *s == '\r')
      s++;
    if (s < end && *s == '\n')
      s++;
    break;
  }
  *p = s;
  return true;
}

static int l_readcsv(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  rt_run *run = rt_host_run_of(L);
  char real[4096];
  if (run->allow && !rt_allow_file(run->allow, path, real, sizeof real))
    return rt_raise(L,
                    "robot.items: %s is not in the allow-list of files this robot may "
                    "read",
                    path);
  /* non-blocking and checked on the descriptor: a FIFO or a device would hang the run */
  int fd = open(run->allow ? real : path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0)
    return rt_raise(L, "robot.items: cannot read %s: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return rt_raise(L, "robot.items: %s is not a regular file", path);
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    close(fd);
    return rt_raise(L, "robot.items: cannot read %s: %s", path, strerror(errno));
  }
  luaL_Buffer all;
  luaL_buffinit(L, &all);
  char tmp[8192];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
    luaL_addlstring(&all, tmp, n);
  fclose(f);
  luaL_pushresult(&all);
  size_t len;
  const char *text = lua_tolstring(L, -1, &len);
  rt_items_parse_csv(L, text, len, path);
  return 1;
}

int rt_items_parse_csv(lua_State *L, const char *text, size_t len, const char *path)
{
  const char *s = text;
  const char *end = s + len;
  if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
    s += 3;
  size_t hl = strcspn(s, "\r\n");
  int commas = 0, semis = 0, tabs = 0;
  for (size_t i = 0; i < hl; i++)
    commas += s[i] == ',', semis += s[i] == ';', tabs += s[i] == '\t';
  char sep = tabs > commas && tabs > semis ? '\t' : semis > commas ? ';' : ',';
  lua_pushnil(L); /* becomes the list */
  int data = lua_gettop(L);
  if (!csv_record(L, &s, end, sep))
    return rt_raise(L, "robot.items: %s is empty (a header row names the fields)", path);
  int header = lua_gettop(L);
  lua_Integer nh = (lua_Integer)lua_rawlen(L, header);
  lua_newtable(L);
  int items = lua_gettop(L);
  lua_Integer ni = 0, line = 1;
  while (csv_record(L, &s, end, sep)) {
    line++;
    int rec = lua_gettop(L);
    lua_Integer nf = (lua_Integer)lua_rawlen(L, rec);
    if (nf == 1) { /* an empty line */
      lua_rawgeti(L, rec, 1);
      bool empty = lua_rawlen(L, -1) == 0;
      lua_pop(L, 1);
      if (empty) {
        lua_pop(L, 1);
        continue;
      }
    }
    if (nf != nh)
      return rt_raise(L, "robot.items: %s record %lld has %lld fields, the header %lld", path,
                      (long long)(ni + 1), (long long)nf, (long long)nh);
    lua_createtable(L, 0, (int)nh);
    for (lua_Integer i = 1; i <= nh; i++) {
      lua_rawgeti(L, header, i);
      lua_rawgeti(L, rec, i);
      lua_rawset(L, -3);
    }
    lua_rawseti(L, items, ++ni);
    lua_pop(L, 1);
  }
  (void)line;
  lua_replace(L, data);
  lua_settop(L, data);
  return 1;
}

/* The key of the item at idx: opts.key's field, else the HMAC of its content. */
static void push_key(lua_State *L, int idx, const char *keyfield, lua_Integer i,
                     const unsigned char hkey[RT_ITEMS_KEY_LEN])
{
  idx = lua_absindex(L, idx);
  if (keyfield) {
    if (lua_type(L, idx) != LUA_TTABLE)
      rt_raise(L, "robot.items: item %lld is not a table, so it has no '%s' field", (long long)i,
               keyfield);
    lua_getfield(L, idx, keyfield);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      rt_raise(L, "robot.items: item %lld has no '%s' (the key) field", (long long)i, keyfield);
    lua_tostring(L, -1);
    return;
  }
  char hex[RT_ITEMS_HASH_HEX];
  if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
    size_t len;
    lua_pushvalue(L, idx);
    const char *s = lua_tolstring(L, -1, &len);
    rt_items_hash(hkey, s, len, hex);
    lua_pop(L, 1);
    lua_pushstring(L, hex);
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    rt_raise(L, "robot.items: item %lld is a %s; items are tables or strings", (long long)i,
             luaL_typename(L, idx));
  /* Content: "k=v" of the string and number fields, sorted by bytes, joined with 0x1f. The
   * strings stay referenced by `strs` while `parts` points into them. */
  lua_newtable(L);
  int strs = lua_gettop(L);
  size_t np = 0, cap = 0;
  rt_items_part *parts = NULL;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if ((lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER) &&
        (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ||
         lua_type(L, -1) == LUA_TBOOLEAN)) {
      int kv = lua_gettop(L);
      luaL_tolstring(L, kv - 1, NULL); /* key */
      lua_pushliteral(L, "=");
      luaL_tolstring(L, kv, NULL); /* value */
      lua_concat(L, 3);
      if (np == cap) {
        cap = cap ? 2 * cap : 16;
        rt_items_part *p = realloc(parts, cap * sizeof *p);
        if (!p) {
          free(parts);
          rt_raise(L, "robot.items: out of memory");
        }
        parts = p;
      }
      parts[np].s = lua_tolstring(L, -1, &parts[np].len);
      np++;
      lua_rawseti(L, strs, (lua_Integer)np);
    }
    lua_pop(L, 1);
  }
  size_t len = 0;
  char *content = rt_items_canonical(parts, np, &len);
  free(parts);
  if (!content)
    rt_raise(L, "robot.items: out of memory");
  rt_items_hash(hkey, content, len, hex);
  OPENSSL_cleanse(content, len);
  free(content);
  lua_pop(L, 1); /* strs */
  lua_pushstring(L, hex);
}

/* ---- in a fleet: the items are claimed through the agent (items_fleet.h) ---- */

/* Asks the agent; raises when it cannot answer at all. wait: abortable (a claim). */
static cJSON *fleet_ask(lua_State *L, batch *b, cJSON *req, bool wait)
{
  char err[512];
  cJSON *r = rt_fleet_ask(wait ? rt_host_run_of(L) : NULL, b->fleet, req, err, sizeof err);
  cJSON_Delete(req);
  if (!r)
    rt_raise(L, "robot.items %s: %s", b->name, err);
  return r;
}

static bool flag(const cJSON *r, const char *k)
{
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, k));
}

static const char *errmsg(const cJSON *r)
{
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
  return cJSON_IsString(e) ? e->valuestring : "refused";
}

/* Asks until the fleet's database answers: while it is unreachable the robot pauses before
 * its next item instead of guessing. The reply is ok (the caller frees it). */
static cJSON *fleet_ask_patiently(lua_State *L, batch *b, cJSON *req)
{
  rt_run *run = rt_host_run_of(L);
  bool told = false;
  for (;;) {
    cJSON *r = fleet_ask(L, b, cJSON_Duplicate(req, true), true);
    if (flag(r, "ok")) {
      if (told && run)
        rt_log(run, "robot.items %s: the fleet database answers again", b->name);
      cJSON_Delete(req);
      return r;
    }
    if (!flag(r, "wait")) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", errmsg(r));
      cJSON_Delete(r);
      cJSON_Delete(req);
      rt_raise(L, "robot.items %s: %s", b->name, msg);
    }
    if (!told && run)
      rt_log(run, "robot.items %s: waiting before the next item: %s", b->name, errmsg(r));
    told = true;
    cJSON_Delete(r);
    if (!rt_sleep(run, 2.0)) {
      cJSON_Delete(req);
      rt_raise(L,
               "robot.items %s: the run was stopped while the fleet database was "
               "unreachable",
               b->name);
    }
  }
}

/* Enqueues the batch's keys (the fleet adds only those it has not seen). */
static void fleet_open(lua_State *L, batch *b)
{
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "open");
  cJSON_AddStringToObject(req, "batch", b->name);
  char check[RT_ITEMS_HASH_HEX];
  key_check(b->hkey, check);
  cJSON_AddStringToObject(req, "check", check);
  if (b->retry_failed) /* failed items of earlier runs: pending again (never needs_review) */
    cJSON_AddTrueToObject(req, "retry");
  cJSON *items = cJSON_AddArrayToObject(req, "items");
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->keys_ref);
  for (lua_Integer i = 1; i <= b->n; i++) {
    lua_rawgeti(L, -1, i);
    cJSON *it = cJSON_CreateArray();
    cJSON_AddItemToArray(it, cJSON_CreateNumber((double)i));
    cJSON_AddItemToArray(it, cJSON_CreateString(lua_tostring(L, -1)));
    cJSON_AddItemToArray(items, it);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  cJSON_Delete(fleet_ask_patiently(L, b, req));
}

/* The input gate while an item is held: "input sent" is committed before its first input. */
static int fleet_gate(rt_run *run, void *ud, const char *where, char *err, size_t n)
{
  (void)run;
  batch *b = ud;
  if (b->sent)
    return 0;
  if (b->lost) {
    snprintf(err, n,
             "robot.items %s: row %lld is no longer this run's (its lease ran out): "
             "no input sent",
             b->name, (long long)b->pos);
    return -1;
  }
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "sent");
  cJSON_AddStringToObject(req, "step", where);
  char e[512];
  cJSON *r = rt_fleet_ask(NULL, b->fleet, req, e, sizeof e);
  cJSON_Delete(req);
  if (r && flag(r, "ok")) {
    b->sent = true;
    cJSON_Delete(r);
    return 0;
  }
  if (r && flag(r, "lost"))
    b->lost = true;
  snprintf(err, n,
           "robot.items %s: row %lld: cannot record that its input is sent, so none "
           "is: %s",
           b->name, (long long)b->pos, r ? errmsg(r) : e);
  cJSON_Delete(r);
  return -1;
}

/* Ends the held item as done, failed or pending (given back). */
static void fleet_end(lua_State *L, batch *b, const char *state, const char *reason)
{
  rt_run *run = rt_host_run_of(L);
  if (run && run->input_gate == fleet_gate && run->input_gate_ud == b) {
    run->input_gate = NULL;
    run->input_gate_ud = NULL;
  }
  if (b->lost) {
    if (run)
      rt_log(run, "robot.items %s: row %lld was no longer this run's when it ended", b->name,
             (long long)b->pos);
    return;
  }
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "end");
  cJSON_AddStringToObject(req, "state", state);
  if (reason)
    cJSON_AddStringToObject(req, "reason", reason);
  cJSON *r = fleet_ask(L, b, req, false);
  bool ok = flag(r, "ok"), review = flag(r, "review");
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", ok ? "" : errmsg(r));
  cJSON_Delete(r);
  if (!ok)
    rt_raise(L, "robot.items %s: cannot record the end of row %lld: %s", b->name, (long long)b->pos,
             msg);
  if (review && run)
    rt_log(run,
           "robot.items %s: row %lld was given back after its input was sent: it waits "
           "for a person",
           b->name, (long long)b->pos);
}

/* Claims the next item from the fleet; pushes it, or nothing when none is pending. */
static bool fleet_advance(lua_State *L, batch *b)
{
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "claim");
  cJSON_AddStringToObject(req, "batch", b->name);
  cJSON *r;
  bool told = false;
  while (flag(r = fleet_ask_patiently(L, b, cJSON_Duplicate(req, true)), "later")) {
    /* other runs hold the last items: one whose node died comes back after its lease */
    rt_run *run = rt_host_run_of(L);
    if (!told && run)
      rt_log(run, "robot.items %s: nothing pending; waiting while other runs hold %d rows", b->name,
             cJSON_GetObjectItemCaseSensitive(r, "held")
                 ? (int)cJSON_GetObjectItemCaseSensitive(r, "held")->valuedouble
                 : 0);
    told = true;
    cJSON_Delete(r);
    if (!rt_sleep(run, 1.0)) {
      cJSON_Delete(req);
      rt_raise(L, "robot.items %s: the run was stopped", b->name);
    }
  }
  cJSON_Delete(req);
  if (flag(r, "none")) {
    cJSON_Delete(r);
    return false;
  }
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(r, "seq");
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(r, "key");
  lua_Integer pos = cJSON_IsNumber(seq) ? (lua_Integer)seq->valuedouble : 0;
  bool same = false;
  if (pos >= 1 && pos <= b->n && cJSON_IsString(key)) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->keys_ref);
    lua_rawgeti(L, -1, pos);
    same = lua_tostring(L, -1) && !strcmp(lua_tostring(L, -1), key->valuestring);
    lua_pop(L, 2);
  }
  b->pos = pos;
  b->cur = strdup(same ? key->valuestring : "");
  b->sent = b->lost = false;
  cJSON_Delete(r);
  if (!same) {
    /* give it back untouched: this node's input is not the one the batch was made from */
    fleet_end(L, b, "pending", "a node's input differed");
    free(b->cur);
    b->cur = NULL;
    rt_raise(L,
             "robot.items %s: the fleet's row %lld is another item than this node's input "
             "holds there: every node must read the same input for a batch name",
             b->name, (long long)pos);
  }
  rt_run *run = rt_host_run_of(L);
  if (run) {
    run->input_gate = fleet_gate;
    run->input_gate_ud = b;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->items_ref);
  lua_rawgeti(L, -1, pos);
  lua_remove(L, -2);
  return true;
}

/* The batch's items other runs left for a person: counted and listed like one machine's. */
static void fleet_review(lua_State *L, batch *b)
{
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "review");
  cJSON_AddStringToObject(req, "batch", b->name);
  cJSON *r = fleet_ask_patiently(L, b, req);
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "items"))
  {
    const cJSON *seq = cJSON_GetArrayItem(it, 0), *node = cJSON_GetArrayItem(it, 2),
                *run = cJSON_GetArrayItem(it, 3);
    char by[160];
    snprintf(by, sizeof by, "node %s, run %s", cJSON_IsString(node) ? node->valuestring : "?",
             cJSON_IsString(run) ? run->valuestring : "?");
    b->waiting++;
    need_person(L, b, cJSON_IsNumber(seq) ? (lua_Integer)seq->valuedouble : 0, by, false);
  }
  cJSON_Delete(r);
}

/* ---- the batch ---- */

static int l_batch_gc(lua_State *L)
{
  batch *b = luaL_checkudata(L, 1, BATCH_MT);
  rt_run *run = rt_host_run_of(L);
  if (run && run->input_gate_ud == b) {
    run->input_gate = NULL;
    run->input_gate_ud = NULL;
  }
  luaL_unref(L, LUA_REGISTRYINDEX, b->items_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, b->keys_ref);
  b->items_ref = b->keys_ref = LUA_NOREF;
  if (b->db)
    sqlite3_close(b->db);
  b->db = NULL;
  OPENSSL_cleanse(b->hkey, sizeof b->hkey);
  free(b->name);
  b->name = NULL;
  free(b->cur);
  b->cur = NULL;
  return 0;
}

static void log_summary(lua_State *L, batch *b)
{
  rt_run *run = rt_host_run_of(L);
  if (run)
    rt_log(run,
           "robot.items %s: %d done, %d failed now, %d waiting for a person (failed "
           "before, not retried), %d skipped because done",
           b->name, b->done, b->failed, b->waiting, b->skipped_done);
}

/* Ends the current item as `state`. */
static void finish_current(lua_State *L, batch *b, const char *state, const char *reason)
{
  if (!b->cur)
    return;
  if (b->fleet >= 0)
    fleet_end(L, b, state, reason);
  else
    set_state(L, b, b->cur, b->pos, state, reason, false);
  if (strcmp(state, "done") == 0) {
    b->done++;
  } else if (strcmp(state, "failed") == 0) {
    b->failed++;
    rt_run *run = rt_host_run_of(L);
    need_person(L, b, b->pos, run ? run->run_dir : NULL, true);
  }
  free(b->cur);
  b->cur = NULL;
}

/* Moves to the next item to work on and marks it running; pushes it, or nothing. */
static bool advance(lua_State *L, batch *b)
{
  if (b->fleet >= 0) {
    if (b->fleet_done)
      return false;
    if (fleet_advance(L, b))
      return true;
    fleet_review(L, b);
    b->fleet_done = true;
    return false;
  }
  while (b->pos < b->n) {
    b->pos++;
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->keys_ref);
    lua_rawgeti(L, -1, b->pos);
    const char *key = lua_tostring(L, -1);
    /* Claim it atomically: two runs working on the same NAME never enter one item both. */
    if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      rt_raise(L, "robot.items: cannot lock the item database: %s", sqlite3_errmsg(b->db));
    char leftby[4096];
    const char *state = get_state(b, key, leftby, sizeof leftby);
    char hex[RT_ITEMS_HASH_HEX];
    if (state && !state[0] && b->keyfield) {
      /* A key field's value written before schema 1 was hashed by the migration. */
      rt_items_hash(b->hkey, key, lua_rawlen(L, -1), hex);
      state = get_state(b, hex, leftby, sizeof leftby);
      if (state && state[0])
        key = hex;
      else if (state)
        state = get_state(b, key, leftby, sizeof leftby);
    }
    if (!state) {
      sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      rt_raise(L, "robot.items: cannot read item state: %s", sqlite3_errmsg(b->db));
    }
    bool enter = true, waits = false;
    if (strcmp(state, "done") == 0) {
      enter = false;
      b->skipped_done++;
    } else if (strcmp(state, "running") == 0) {
      /* Left by a run that ended inside it: it may be partly done. Never again by itself. */
      mark_interrupted(L, b, key, leftby);
      enter = b->retry_failed;
      waits = !enter;
    } else if (strcmp(state, "failed") == 0) {
      enter = b->retry_failed;
      waits = !enter;
    }
    if (enter)
      set_state(L, b, key, b->pos, "running", NULL, true);
    if (sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      rt_raise(L, "robot.items: cannot record item state: %s", sqlite3_errmsg(b->db));
    }
    if (!enter) {
      if (waits) {
        b->waiting++;
        need_person(L, b, b->pos, leftby, false);
      }
      lua_pop(L, 2);
      continue;
    }
    b->cur = strdup(key);
    lua_pop(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->items_ref);
    lua_rawgeti(L, -1, b->pos);
    lua_remove(L, -2);
    return true;
  }
  return false;
}

/* The state an item takes when an error leaves it: pending after a drift halt (no input
 * was sent for the drifting step), failed otherwise. */
static void finish_on_error(lua_State *L, batch *b, int erridx)
{
  rt_run *run = rt_host_run_of(L);
  if (run && run->abort == RT_ABORT_DRIFT) {
    finish_current(L, b, "pending", "the run halted on UI drift in this item");
    return;
  }
  const char *msg = lua_tostring(L, erridx);
  char reason[1024];
  if (run && run->abort)
    snprintf(reason, sizeof reason, "interrupted: %s (the item may be partly done)",
             run->abort_msg ? run->abort_msg : "the run was stopped");
  else
    snprintf(reason, sizeof reason, "%.*s", (int)strcspn(msg ? msg : "error", "\n"),
             msg ? msg : "error");
  finish_current(L, b, "failed", reason);
}

static int l_batch_iter(lua_State *L)
{
  rt_host_check(L);
  batch *b = luaL_checkudata(L, 1, BATCH_MT);
  if (!b->db)
    return 0;
  finish_current(L, b, "done", NULL);
  if (advance(L, b))
    return 1;
  log_summary(L, b);
  lua_pushnil(L);
  return 1;
}

static int l_batch_close(lua_State *L)
{
  batch *b = luaL_checkudata(L, 1, BATCH_MT);
  if (!b->db || !b->cur)
    return 0;
  if (lua_isnil(L, 2))
    finish_current(L, b, "pending", "the loop was left (break or return) inside this item");
  else
    finish_on_error(L, b, 2);
  log_summary(L, b);
  return 0;
}

/* robot.items(name, source [, opts] [, fn]) */
static int l_items(lua_State *L)
{
  rt_host_check(L);
  const char *name = luaL_checkstring(L, 1);
  luaL_argcheck(L, *name, 1, "a batch needs a name");
  int opts = 0, fn = 0;
  for (int i = 3; i <= 4 && i <= lua_gettop(L); i++) {
    if (lua_type(L, i) == LUA_TTABLE && !opts && !fn)
      opts = i;
    else if (lua_type(L, i) == LUA_TFUNCTION && !fn)
      fn = i;
    else if (!lua_isnil(L, i))
      return luaL_argerror(L, i, "expected an options table or a function");
  }
  const char *keyfield = NULL;
  bool retry = false;
  if (opts) {
    lua_getfield(L, opts, "key");
    keyfield = lua_tostring(L, -1);
    lua_getfield(L, opts, "retry_failed");
    retry = lua_toboolean(L, -1);
    lua_pop(L, 1); /* keep "key" on the stack: keyfield points into it */
  }
  /* The list of items. */
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushcfunction(L, l_readcsv);
    lua_pushvalue(L, 2);
    lua_call(L, 1, 1);
  } else if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushvalue(L, 2);
  } else {
    return luaL_argerror(L, 2, "expected a CSV file name or a list of items");
  }
  int items = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, items);
  batch *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->items_ref = b->keys_ref = LUA_NOREF;
  b->fleet = -1;
  luaL_setmetatable(L, BATCH_MT);
  int bi = lua_gettop(L);
  b->name = strdup(name);
  b->n = n;
  b->retry_failed = retry;
  b->keyfield = keyfield != NULL;
  char ferr[256];
  b->fleet = rt_fleet_items_fd(ferr, sizeof ferr);
  if (b->fleet == -2)
    return rt_raise(L, "robot.items: %s", ferr);
  b->db = items_db(L, b->hkey); /* first: content keys are hashed with its key */
  lua_createtable(L, (int)n, 0);
  int keys = lua_gettop(L);
  lua_newtable(L);
  int seen = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, items, i);
    push_key(L, -1, keyfield, i, b->hkey);
    lua_pushvalue(L, -1);
    /* never the key in the message: it is a citizen's data (or its hash) */
    if (lua_rawget(L, seen) != LUA_TNIL) {
      if (keyfield)
        return rt_raise(L,
                        "robot.items: items %lld and %lld have the same '%s' (the key "
                        "field)",
                        (long long)lua_tointeger(L, -1), (long long)i, keyfield);
      return rt_raise(L,
                      "robot.items: items %lld and %lld have the same content; give "
                      "opts.key",
                      (long long)lua_tointeger(L, -1), (long long)i);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushinteger(L, i);
    lua_rawset(L, seen);
    lua_rawseti(L, keys, i);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, items);
  b->items_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, keys);
  b->keys_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (b->fleet >= 0)
    fleet_open(L, b);

  if (!fn) {
    lua_pushcfunction(L, l_batch_iter);
    lua_pushvalue(L, bi);
    lua_pushnil(L);
    lua_pushvalue(L, bi); /* to-be-closed: ends the current item when the loop is left */
    return 4;
  }
  for (;;) {
    finish_current(L, b, "done", NULL);
    if (!advance(L, b))
      break;
    int item = lua_gettop(L);
    lua_pushvalue(L, fn);
    lua_pushvalue(L, item);
    if (rt_host_pcall(L, 1, 0) != LUA_OK) {
      int err = lua_gettop(L);
      finish_on_error(L, b, err);
      rt_run *run = rt_host_run_of(L);
      if (run && run->abort) {
        log_summary(L, b);
        return lua_error(L);
      }
      rt_log(run, "robot.items %s: item %lld failed: %.*s", b->name, (long long)b->pos,
             (int)strcspn(lua_tostring(L, err) ? lua_tostring(L, err) : "error", "\n"),
             lua_tostring(L, err) ? lua_tostring(L, err) : "error");
    }
    lua_settop(L, item - 1);
  }
  log_summary(L, b);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, b->done);
  lua_setfield(L, -2, "done");
  lua_pushinteger(L, b->failed);
  lua_setfield(L, -2, "failed");
  lua_pushinteger(L, b->waiting);
  lua_setfield(L, -2, "waiting");
  lua_pushinteger(L, b->skipped_done);
  lua_setfield(L, -2, "skipped_done");
  lua_pushinteger(L, b->waiting + b->skipped_done); /* as before: done or failed before */
  lua_setfield(L, -2, "skipped");
  return 1;
}

void rt_items_open(lua_State *L)
{
  if (luaL_newmetatable(L, BATCH_MT)) {
    lua_pushcfunction(L, l_batch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_batch_close);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_items);
  lua_setfield(L, -2, "items");
}

/* ---- retention ---- */

/* The rows that go: done and failed ones last changed before the cutoff, of batches with no
 * pending or running item. */
#define PRUNABLE                                                                                   \
  "FROM items WHERE state IN ('done','failed') AND updated < ?1 AND batch NOT IN "                 \
  "(SELECT batch FROM items WHERE state IN ('pending','running'))"

static long long count_of(sqlite3 *db, const char *sql, const char *cut)
{
  sqlite3_stmt *st = NULL;
  long long n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, cut, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return n;
}

int rt_items_prune(const char *path, double cutoff, bool dry_run, long long *deleted,
                   long long *kept, char *err, size_t errlen)
{
  *deleted = *kept = 0;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 10000);
  char cut[32];
  time_t t = (time_t)cutoff;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(cut, sizeof cut, "%Y-%m-%dT%H:%M:%SZ", &tm); /* as `updated` is written */
  int rc = -1;
  if (count_of(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='items'", cut) !=
      1) {
    snprintf(err, errlen, "%s: not a robot.items database (no table items)", path);
    goto out;
  }
  if (sqlite3_exec(db, "PRAGMA secure_delete=ON; BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    goto out;
  }
  *kept = count_of(db,
                   "SELECT count(*) FROM items WHERE updated < ?1 AND batch IN "
                   "(SELECT batch FROM items WHERE state IN ('pending','running'))",
                   cut);
  if (dry_run) {
    *deleted = count_of(db, "SELECT count(*) " PRUNABLE, cut);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    rc = *deleted < 0 || *kept < 0 ? -1 : 0;
    if (rc)
      snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    goto out;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "DELETE " PRUNABLE, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, cut, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE)
      rc = 0;
  }
  sqlite3_finalize(st);
  if (rc == 0) {
    *deleted = sqlite3_changes(db);
    /* the history of the deleted items goes with them (schema 2; none before) */
    if (count_of(db,
                 "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                 "name='item_runs'",
                 cut) == 1 &&
        sqlite3_exec(db,
                     "DELETE FROM item_runs WHERE NOT EXISTS (SELECT 1 FROM items i "
                     "WHERE i.batch = item_runs.batch AND i.key = item_runs.key)",
                     NULL, NULL, NULL) != SQLITE_OK)
      rc = -1;
  }
  if (rc == 0) {
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      rc = -1;
  }
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    *deleted = 0;
    goto out;
  }
  if (*kept < 0)
    *kept = 0;
  /* Old versions of the deleted pages stay in the write-ahead log until it is reset. */
  if (*deleted > 0)
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
out:
  sqlite3_close(db);
  return rc;
}
