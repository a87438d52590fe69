#include "items.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "allow.h"
#include "host.h"
#include "run.h"

#define BATCH_MT "robot.ItemBatch"

typedef struct {
  sqlite3 *db;
  char *name;
  int items_ref;      /* Lua list of items */
  int keys_ref;       /* Lua list of their keys */
  lua_Integer n, pos; /* pos: index of the current item, 0 before the first */
  char *cur;          /* key of the item being worked on, NULL when none */
  bool retry_failed;
  int done, failed, skipped;
} batch;

/* ---- the database ---- */

static sqlite3 *items_db(lua_State *L)
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
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
      SQLITE_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    rt_raise(L, "robot.items: cannot open %s: %s", path, msg);
  }
  sqlite3_busy_timeout(db, 10000);
  char *err = NULL;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                   "CREATE TABLE IF NOT EXISTS items ("
                   " batch TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER,"
                   " state TEXT NOT NULL, reason TEXT, run TEXT, attempts INTEGER DEFAULT 0,"
                   " updated TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
                   " PRIMARY KEY(batch, key));",
                   NULL, NULL, &err) != SQLITE_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    rt_raise(L, "robot.items: cannot set up %s: %s", path, msg);
  }
  return db;
}

static const char *get_state(batch *b, const char *key)
{
  static char state[16];
  sqlite3_stmt *st = NULL;
  state[0] = '\0';
  if (sqlite3_prepare_v2(b->db, "SELECT state FROM items WHERE batch=? AND key=?", -1, &st,
                         NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return state;
}

/* Upserts the item's state; raises when the database refuses (a state we cannot record
 * must stop the batch, or an item could be entered twice). */
static void set_state(lua_State *L, batch *b, const char *key, lua_Integer seq,
                      const char *state, const char *reason, bool entering)
{
  rt_run *run = rt_host_run_of(L);
  sqlite3_stmt *st = NULL;
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
    return rt_raise(L, "robot.items: %s is not in the allow-list of files this robot may "
                       "read", path);
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
      return rt_raise(L, "robot.items: %s record %lld has %lld fields, the header %lld",
                      path, (long long)(ni + 1), (long long)nf, (long long)nh);
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

/* The key of the item at idx: opts.key's field, else its content. */
static void push_key(lua_State *L, int idx, const char *keyfield, lua_Integer i)
{
  idx = lua_absindex(L, idx);
  if (keyfield) {
    if (lua_type(L, idx) != LUA_TTABLE)
      rt_raise(L, "robot.items: item %lld is not a table, so it has no '%s' field",
               (long long)i, keyfield);
    lua_getfield(L, idx, keyfield);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      rt_raise(L, "robot.items: item %lld has no '%s' (the key) field", (long long)i,
               keyfield);
    lua_tostring(L, -1);
    return;
  }
  if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
    lua_pushvalue(L, idx);
    lua_tostring(L, -1);
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    rt_raise(L, "robot.items: item %lld is a %s; items are tables or strings", (long long)i,
             luaL_typename(L, idx));
  /* Content key: "k=v" of the string and number fields, sorted, joined with 0x1f. */
  lua_newtable(L);
  int parts = lua_gettop(L);
  lua_Integer np = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if ((lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER) &&
        (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ||
         lua_type(L, -1) == LUA_TBOOLEAN)) {
      int kv = lua_gettop(L);
      luaL_tolstring(L, kv - 1, NULL); /* key */
      lua_pushliteral(L, "=");
      luaL_tolstring(L, kv, NULL);     /* value */
      lua_concat(L, 3);
      lua_rawseti(L, parts, ++np);
    }
    lua_pop(L, 1);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.tablesort");
  lua_pushvalue(L, parts);
  lua_call(L, 1, 0);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (lua_Integer k = 1; k <= np; k++) {
    if (k > 1)
      luaL_addchar(&b, '\x1f');
    lua_rawgeti(L, parts, k);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_remove(L, parts);
}

/* ---- the batch ---- */

static int l_batch_gc(lua_State *L)
{
  batch *b = luaL_checkudata(L, 1, BATCH_MT);
  luaL_unref(L, LUA_REGISTRYINDEX, b->items_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, b->keys_ref);
  b->items_ref = b->keys_ref = LUA_NOREF;
  if (b->db)
    sqlite3_close(b->db);
  b->db = NULL;
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
    rt_log(run, "robot.items %s: %d done, %d failed, %d skipped (done or failed before)",
           b->name, b->done, b->failed, b->skipped);
}

/* Ends the current item as `state`. */
static void finish_current(lua_State *L, batch *b, const char *state, const char *reason)
{
  if (!b->cur)
    return;
  set_state(L, b, b->cur, b->pos, state, reason, false);
  if (strcmp(state, "done") == 0)
    b->done++;
  else if (strcmp(state, "failed") == 0)
    b->failed++;
  free(b->cur);
  b->cur = NULL;
}

/* Moves to the next item to work on and marks it running; pushes it, or nothing. */
static bool advance(lua_State *L, batch *b)
{
  while (b->pos < b->n) {
    b->pos++;
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->keys_ref);
    lua_rawgeti(L, -1, b->pos);
    const char *key = lua_tostring(L, -1);
    /* Claim it atomically: two runs working on the same NAME never enter one item both. */
    if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      rt_raise(L, "robot.items: cannot lock the item database: %s", sqlite3_errmsg(b->db));
    const char *state = get_state(b, key);
    if (!state) {
      sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      rt_raise(L, "robot.items: cannot read item state: %s", sqlite3_errmsg(b->db));
    }
    bool enter = true;
    if (strcmp(state, "done") == 0) {
      enter = false;
    } else if (strcmp(state, "running") == 0) {
      /* Left by a run that ended inside it: it may be partly done. Never again by itself. */
      set_state(L, b, key, b->pos, "failed",
                "interrupted: a run ended while this item was in progress, so it may be "
                "partly done; check it, then retry it with retry_failed = true",
                false);
      enter = b->retry_failed;
    } else if (strcmp(state, "failed") == 0) {
      enter = b->retry_failed;
    }
    if (enter)
      set_state(L, b, key, b->pos, "running", NULL, true);
    if (sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      rt_raise(L, "robot.items: cannot record item state: %s", sqlite3_errmsg(b->db));
    }
    if (!enter) {
      b->skipped++;
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
  lua_createtable(L, (int)n, 0);
  int keys = lua_gettop(L);
  lua_newtable(L);
  int seen = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, items, i);
    push_key(L, -1, keyfield, i);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) != LUA_TNIL)
      return rt_raise(L, "robot.items: items %lld and %lld have the same key '%s'%s",
                      (long long)lua_tointeger(L, -1), (long long)i, lua_tostring(L, -2),
                      keyfield ? "" : " (the same content); give opts.key");
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushinteger(L, i);
    lua_rawset(L, seen);
    lua_rawseti(L, keys, i);
    lua_pop(L, 1);
  }
  batch *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->items_ref = b->keys_ref = LUA_NOREF;
  luaL_setmetatable(L, BATCH_MT);
  int bi = lua_gettop(L);
  b->name = strdup(name);
  b->n = n;
  b->retry_failed = retry;
  b->db = items_db(L);
  lua_pushvalue(L, items);
  b->items_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, keys);
  b->keys_ref = luaL_ref(L, LUA_REGISTRYINDEX);

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
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, b->done);
  lua_setfield(L, -2, "done");
  lua_pushinteger(L, b->failed);
  lua_setfield(L, -2, "failed");
  lua_pushinteger(L, b->skipped);
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
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_setfield(L, LUA_REGISTRYINDEX, "vagt.tablesort");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_items);
  lua_setfield(L, -2, "items");
}

/* ---- retention ---- */

/* The rows that go: done and failed ones last changed before the cutoff, of batches with no
 * pending or running item. */
#define PRUNABLE                                                                              \
  "FROM items WHERE state IN ('done','failed') AND updated < ?1 AND batch NOT IN "           \
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
  if (count_of(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='items'",
               cut) != 1) {
    snprintf(err, errlen, "%s: not a robot.items database (no table items)", path);
    goto out;
  }
  if (sqlite3_exec(db, "PRAGMA secure_delete=ON; BEGIN IMMEDIATE", NULL, NULL, NULL) !=
      SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    goto out;
  }
  *kept = count_of(db, "SELECT count(*) FROM items WHERE updated < ?1 AND batch IN "
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
