/* robot.items (runtime/l_items.c) in the real Lua host, without a display: sources (CSV
 * with quotes, ';', BOM, CRLF; Lua lists), resuming (done items skipped, failed ones too
 * unless retry_failed), an item left "running" by a killed run never entered again, a
 * drift halt leaving the current item pending, break, the callback form, and errors; keys:
 * content keys stored only as HMAC-SHA256 under the key file (checked here with OpenSSL
 * against the file's bytes), the key file's creation and refusals, and the migration of a
 * database written before keys were hashed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "items.h"
#include "run.h"
#include "vu.h"

static char dir[64], dbpath[128], notes[4096];

static int setup(void **state)
{
  (void)state;
  strcpy(dir, "/tmp/vagt-items-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(dbpath, sizeof dbpath, "%s/items.db", dir);
  setenv("VAGT_ITEMS_DB", dbpath, 1);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}

static int l_note(lua_State *L)
{
  if (notes[0])
    strncat(notes, " ", sizeof notes - strlen(notes) - 1);
  strncat(notes, luaL_checkstring(L, 1), sizeof notes - strlen(notes) - 1);
  return 0;
}

static int l_drift(lua_State *L)
{
  rt_run_abort(rt_host_run_of(L), RT_ABORT_DRIFT, "UI drift: label 'CPR-nummer' moved");
  rt_host_check(L);
  return 0;
}

/* Runs `code` as a robot script; returns the exit code; run errors go to *err. */
static int run_script(const char *code, char *err, size_t errlen)
{
  char path[128], rd[128];
  snprintf(path, sizeof path, "%s/robot.lua", dir);
  FILE *f = fopen(path, "w");
  fputs(code, f);
  fclose(f);
  snprintf(rd, sizeof rd, "%s/runs/20261126T000000Z-robot", dir);
  char cmd[320];
  snprintf(cmd, sizeof cmd, "mkdir -p %s && rm -f %s/log.txt", rd, rd);
  if (system(cmd) != 0)
    return -1;
  rt_run run = {.mode = RT_MODE_RUN, .script = path, .script_base = "robot.lua"};
  run.run_dir = rd;
  run.step_timeout = 600;
  run.started = vu_mono();
  char e[512];
  if (rt_host_open(&run, NULL, 0, e, sizeof e) != 0)
    fail_msg("rt_host_open: %s", e);
  lua_State *L = run.L;
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  lua_getfield(L, -1, "robot");
  rt_items_open(L);
  lua_pushcfunction(L, l_note);
  lua_setfield(L, -2, "note");
  lua_pushcfunction(L, l_drift);
  lua_setfield(L, -2, "drift");
  lua_pop(L, 2);
  notes[0] = '\0';
  int rc = rt_host_run(&run);
  snprintf(err, errlen, "%s", run.error ? run.error : "");
  rt_host_close(&run);
  free(run.error);
  free(run.error_where);
  free(run.abort_msg);
  free(run.frames);
  return rc;
}

/* Whether the last run's log.txt has a line ending in `text` (after its time stamp). */
static bool logged(const char *text)
{
  char p[160], line[4096];
  snprintf(p, sizeof p, "%s/runs/20261126T000000Z-robot/log.txt", dir);
  FILE *f = fopen(p, "r");
  bool found = false;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *sp = strchr(line, ' ');
    if (sp && strcmp(sp + 1, text) == 0)
      found = true;
  }
  if (f)
    fclose(f);
  return found;
}

/* "key=state[:reason]" of a batch, in item order, space separated. */
static const char *states(const char *batch)
{
  static char out[4096];
  out[0] = '\0';
  sqlite3 *db;
  sqlite3_open(getenv("VAGT_ITEMS_DB"), &db);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT key, state, reason FROM items WHERE batch=? ORDER BY seq", -1, &st,
                     NULL);
  sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
  while (sqlite3_step(st) == SQLITE_ROW) {
    char one[512];
    const char *reason = (const char *)sqlite3_column_text(st, 2);
    if (reason && strncmp(reason, dir, strlen(dir)) == 0)
      reason += strlen(dir) + 1; /* robot.lua:LINE: ... */
    snprintf(one, sizeof one, "%s%s=%s%s%.24s", out[0] ? " " : "", sqlite3_column_text(st, 0),
             sqlite3_column_text(st, 1), reason ? ":" : "", reason ? reason : "");
    strncat(out, one, sizeof out - strlen(out) - 1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/* HMAC-SHA256 hex of content under the key file at kpath (default: items.key beside the
 * database), computed here from the file's bytes. */
static const char *hmac_in(const char *kpath, const char *content, size_t len)
{
  static char hex[8][65];
  static int slot;
  char *out = hex[slot++ % 8];
  unsigned char key[64], mac[32];
  unsigned int ml = 0;
  FILE *f = fopen(kpath, "rb");
  assert_non_null(f);
  size_t kl = fread(key, 1, sizeof key, f);
  fclose(f);
  assert_int_equal(kl, 32);
  assert_non_null(HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)content, len, mac, &ml));
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", mac[i]);
  return out;
}

static const char *H(const char *content)
{
  char kp[160];
  snprintf(kp, sizeof kp, "%s/items.key", dir);
  return hmac_in(kp, content, strlen(content));
}

/* Whether any of the database's files (items.db, -wal, -shm) holds `needle`. */
static bool db_files_hold(const char *db, const char *needle)
{
  static const char *suffix[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
    char p[256];
    snprintf(p, sizeof p, "%s%s", db, suffix[i]);
    FILE *f = fopen(p, "rb");
    if (!f)
      continue;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t k = 0; k + strlen(needle) <= n; k++)
      if (memcmp(buf + k, needle, strlen(needle)) == 0)
        return true;
  }
  return false;
}

#define RUN(code, want_rc)                                                                         \
  do {                                                                                             \
    char err_[2048];                                                                               \
    int rc_ = run_script(code, err_, sizeof err_);                                                 \
    if (rc_ != (want_rc))                                                                          \
      fail_msg("exit %d, wanted %d: %s", rc_, want_rc, err_);                                      \
  } while (0)

static void csv(void **state)
{
  (void)state;
  char p[128];
  snprintf(p, sizeof p, "%s/in.csv", dir);
  FILE *f = fopen(p, "w");
  fputs("\xEF\xBB\xBF"
        "cpr;navn;note\r\n"
        "010190-1234;Søren Ærø;\"Flyttet; fra \"\"Ølstykke\"\"\"\r\n"
        "\r\n"
        "241285-4321;Åse Øberg;\"to\nlinjer\"\r\n",
        f);
  fclose(f);
  char code[512];
  snprintf(code, sizeof code,
           "for item in robot.items('csv', '%s', { key = 'cpr' }) do\n"
           "  robot.note(item.cpr .. '|' .. item.navn .. '|' .. item.note)\n"
           "end\n",
           p);
  RUN(code, 0);
  assert_string_equal(notes, "010190-1234|Søren Ærø|Flyttet; fra \"Ølstykke\" "
                             "241285-4321|Åse Øberg|to\nlinjer");
  assert_string_equal(states("csv"), "010190-1234=done 241285-4321=done");
  RUN(code, 0); /* all done: nothing entered again */
  assert_string_equal(notes, "");
}

static const char *ten = "local rows = {}\n"
                         "for i = 1, 10 do rows[i] = { n = tostring(i) } end\n";

static void resume_after_error(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code,
           "%s"
           "for item in robot.items('b', rows, { key = 'n' }) do\n"
           "  robot.note(item.n)\n"
           "  if item.n == '5' and not robot.params.ok then error('kunne ikke gemme') end\n"
           "end\n",
           ten);
  RUN(code, 1);
  assert_string_equal(notes, "1 2 3 4 5");
  assert_string_equal(states("b"), "1=done 2=done 3=done 4=done 5=failed:robot.lua:5: kunne ikke ");
  char code2[1024];
  snprintf(code2, sizeof code2,
           "%s"
           "for item in robot.items('b', rows, { key = 'n' }) do robot.note(item.n) end\n",
           ten);
  /* the failed one is not retried by itself, and the run says a person must look at it */
  RUN(code2, RT_EXIT_REVIEW);
  assert_string_equal(notes, "6 7 8 9 10");
  char want[512];
  snprintf(want, sizeof want,
           "robot.items b: row 5 waits for a person: failed before (run "
           "%s/runs/20261126T000000Z-robot), not retried (retry_failed = true retries it)",
           dir);
  assert_true(logged(want));
  assert_true(logged("robot.items b: 5 done, 0 failed now, 1 waiting for a person (failed "
                     "before, not retried), 4 skipped because done"));
  snprintf(code2, sizeof code2,
           "%s"
           "for item in robot.items('b', rows, { key = 'n', retry_failed = true }) do\n"
           "  robot.note(item.n) end\n",
           ten);
  RUN(code2, 0);
  assert_string_equal(notes, "5");
  assert_true(logged("robot.items b: 1 done, 0 failed now, 0 waiting for a person (failed "
                     "before, not retried), 9 skipped because done"));
  assert_string_equal(states("b"), "1=done 2=done 3=done 4=done 5=done 6=done 7=done 8=done "
                                   "9=done 10=done");
}

static void killed_mid_item(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code,
           "%s"
           "for item in robot.items('k', rows, { key = 'n' }) do\n"
           "  robot.note(item.n) if item.n == '3' then break end\n"
           "end\n",
           ten);
  RUN(code, 0);
  assert_string_equal(notes, "1 2 3");
  /* break leaves the current item pending: it is entered on the next run. */
  assert_string_equal(states("k"), "1=done 2=done 3=pending:the loop was left (break");
  /* A SIGKILL inside item 3 leaves it "running": */
  sqlite3 *db;
  sqlite3_open(dbpath, &db);
  sqlite3_exec(db,
               "UPDATE items SET state='running', reason=NULL, run='/runs/killed' "
               "WHERE batch='k' AND key='3'",
               NULL, NULL, NULL);
  sqlite3_close(db);
  snprintf(code, sizeof code,
           "%s"
           "for item in robot.items('k', rows, { key = 'n' }) do robot.note(item.n) end\n",
           ten);
  RUN(code, RT_EXIT_REVIEW);                    /* passed, but row 3 needs a person */
  assert_string_equal(notes, "4 5 6 7 8 9 10"); /* never entered twice */
  assert_true(logged("robot.items k: row 3 waits for a person: failed before (run "
                     "/runs/killed), not retried (retry_failed = true retries it)"));
  assert_true(logged("robot.items k: 7 done, 0 failed now, 1 waiting for a person (failed "
                     "before, not retried), 2 skipped because done"));
  sqlite3_open(dbpath, &db);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT run FROM items WHERE batch='k' AND key='3'", -1, &st, NULL);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal(sqlite3_column_text(st, 0), "/runs/killed"); /* who left it */
  sqlite3_finalize(st);
  /* the history: entered by the first run, then its end as the killed run's */
  sqlite3_prepare_v2(db,
                     "SELECT group_concat(state || '@' || coalesce(run, '-'), ' ') FROM "
                     "(SELECT state, run FROM item_runs WHERE batch='k' AND key='3' "
                     "ORDER BY rowid)",
                     -1, &st, NULL);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  char hist[512];
  snprintf(hist, sizeof hist,
           "running@%s/runs/20261126T000000Z-robot pending@%s/runs/"
           "20261126T000000Z-robot failed@/runs/killed",
           dir, dir);
  assert_string_equal(sqlite3_column_text(st, 0), hist);
  sqlite3_finalize(st);
  sqlite3_close(db);
  assert_string_equal(states("k"), "1=done 2=done 3=failed:interrupted: a run ended 4=done 5=done "
                                   "6=done 7=done 8=done 9=done 10=done");
}

static void drift_leaves_pending(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code,
           "%s"
           "for item in robot.items('d', rows, { key = 'n' }) do\n"
           "  robot.note(item.n)\n"
           "  if item.n == '3' then pcall(robot.drift) end\n" /* even when caught */
           "end\n",
           ten);
  RUN(code, 3);
  assert_string_equal(notes, "1 2 3");
  assert_string_equal(states("d"), "1=done 2=done 3=pending:the run halted on UI dri");
  snprintf(code, sizeof code,
           "%s"
           "for item in robot.items('d', rows, { key = 'n' }) do robot.note(item.n) end\n",
           ten);
  RUN(code, 0);
  assert_string_equal(notes, "3 4 5 6 7 8 9 10");
}

static void callback_form(void **state)
{
  (void)state;
  RUN("local r = robot.items('cb', { 'a', 'b', 'c' }, function(item)\n"
      "  robot.note(item)\n"
      "  if item == 'b' then error('no b') end\n"
      "end)\n"
      "robot.note(('done=%d failed=%d skipped=%d'):format(r.done, r.failed, r.skipped))\n",
      RT_EXIT_REVIEW); /* the script went on: it passed, but b waits for a person */
  assert_string_equal(notes, "a b c done=2 failed=1 skipped=0");
  assert_true(logged("robot.items cb: row 2 failed in this run; it waits for a person"));
  assert_true(logged("robot.items cb: 2 done, 1 failed now, 0 waiting for a person (failed "
                     "before, not retried), 0 skipped because done"));
  char want[512];
  snprintf(want, sizeof want, "%s=done %s=failed:robot.lua:3: no b %s=done", H("a"), H("b"),
           H("c"));
  assert_string_equal(states("cb"), want);
  RUN("local r = robot.items('cb', { 'a', 'b', 'c' }, { retry_failed = true }, function(item)\n"
      "  robot.note(item) end)\n"
      "robot.note(('done=%d skipped=%d waiting=%d skipped_done=%d'):format(r.done, "
      "r.skipped, r.waiting, r.skipped_done))\n",
      0);
  assert_string_equal(notes, "b done=1 skipped=2 waiting=0 skipped_done=2");
  RUN("local r = robot.items('cb', { 'a', 'b', 'c', 'd' }, function(item) robot.note(item) "
      "end)\n"
      "robot.note(('done=%d skipped=%d waiting=%d skipped_done=%d'):format(r.done, "
      "r.skipped, r.waiting, r.skipped_done))\n",
      0);
  assert_string_equal(notes, "d done=1 skipped=3 waiting=0 skipped_done=3");
  /* A drift inside the callback stops the batch and the run. */
  RUN("robot.items('cbd', { 'x', 'y' }, function(item) robot.note(item) robot.drift() end)\n", 3);
  assert_string_equal(notes, "x");
  snprintf(want, sizeof want, "%s=pending:the run halted on UI dri", H("x"));
  assert_string_equal(states("cbd"), want);
}

static void content_keys(void **state)
{
  (void)state;
  /* Without opts.key the item's content is its key, stored as its HMAC under the key file
   * created beside the database: the same rows are the same items. */
  RUN("for it in robot.items('c', { { a = 1, b = 'x' }, { a = 2, b = 'x' } }) do\n"
      "  robot.note(it.a) end\n",
      0);
  assert_string_equal(notes, "1 2");
  char kp[160], want[512];
  snprintf(kp, sizeof kp, "%s/items.key", dir);
  struct stat st;
  assert_int_equal(lstat(kp, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 32);
  snprintf(want, sizeof want, "%s=done %s=done",
           H("a=1\x1f"
             "b=x"),
           H("a=2\x1f"
             "b=x"));
  assert_string_equal(states("c"), want);
  RUN("for it in robot.items('c', { { b = 'x', a = 2 }, { a = 3, b = 'x' } }) do\n"
      "  robot.note(it.a) end\n",
      0);
  assert_string_equal(notes, "3");
  /* sorted by bytes: "a=" < "a_b=" < "ab=" whatever the locale's collation */
  RUN("for it in robot.items('c2', { { ab = 1, a_b = 2, a = 3, [4] = 'n', t = true } }) do\n"
      "  end\n",
      0);
  snprintf(want, sizeof want, "%s=done",
           H("4=n\x1f"
             "a=3\x1f"
             "a_b=2\x1f"
             "ab=1\x1f"
             "t=true"));
  assert_string_equal(states("c2"), want);
}

/* A CSV of citizens without opts.key: no CPR number nor name in the database files, before
 * or after a checkpoint; the next run skips them all. */
static void no_citizen_data_stored(void **state)
{
  (void)state;
  char p[128], code[512], sub[128], db[160], kp[160];
  snprintf(sub, sizeof sub, "%s/nodata", dir); /* other tests store key fields' values */
  mkdir(sub, 0700);
  snprintf(db, sizeof db, "%s/items.db", sub);
  snprintf(kp, sizeof kp, "%s/items.key", sub);
  setenv("VAGT_ITEMS_DB", db, 1);
  snprintf(p, sizeof p, "%s/borgere.csv", dir);
  FILE *f = fopen(p, "w");
  fputs("cpr;navn\n010190-1234;Søren Ærø\n241285-4321;Åse Øberg\n", f);
  fclose(f);
  snprintf(code, sizeof code,
           "for item in robot.items('borgere', '%s') do robot.note(item.cpr) end\n", p);
  RUN(code, 0);
  assert_string_equal(notes, "010190-1234 241285-4321");
  const char *c1 = "cpr=010190-1234\x1fnavn=Søren Ærø", *c2 = "cpr=241285-4321\x1fnavn=Åse Øberg";
  char want[512];
  snprintf(want, sizeof want, "%s=done %s=done", hmac_in(kp, c1, strlen(c1)),
           hmac_in(kp, c2, strlen(c2)));
  assert_string_equal(states("borgere"), want);
  static const char *data[] = {"010190-1234", "241285-4321", "0101901234",
                               "Søren",       "Øberg",       "S\xc3\xb8ren"};
  for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
    assert_false(db_files_hold(db, data[i]));
  sqlite3 *d;
  sqlite3_open(db, &d);
  assert_int_equal(sqlite3_exec(d, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(d);
  for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
    assert_false(db_files_hold(db, data[i]));
  RUN(code, 0);
  assert_string_equal(notes, ""); /* the same results: done, skipped */
  assert_string_equal(states("borgere"), want);
  setenv("VAGT_ITEMS_DB", dbpath, 1);
}

/* The key file: refused when others may read it, when it is not a regular file, when it
 * is not the key the database was written with, when it is missing for a database that
 * has hashed rows; $VAGT_ITEMS_KEY_FILE names another one. None of them changes a row. */
static void key_file(void **state)
{
  (void)state;
  char sub[128], db[160], kp[160], other[160], err[2048];
  snprintf(sub, sizeof sub, "%s/kf", dir);
  mkdir(sub, 0700);
  snprintf(db, sizeof db, "%s/items.db", sub);
  snprintf(kp, sizeof kp, "%s/items.key", sub);
  snprintf(other, sizeof other, "%s/other.key", sub);
  setenv("VAGT_ITEMS_DB", db, 1);
  const char *code = "for it in robot.items('k', { 'a', 'b' }) do robot.note(it) end\n";
  RUN(code, 0);
  assert_string_equal(notes, "a b");
  chmod(kp, 0640);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  char want[512];
  snprintf(want, sizeof want,
           "robot.items: key file %s may be read or written by group or "
           "others (mode 640); it must be owner-only (chmod 600)",
           kp);
  assert_non_null(strstr(err, want));
  chmod(kp, 0604);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  assert_non_null(strstr(err, "(mode 604)"));
  chmod(kp, 0600);
  /* another key: 32 bytes, owner-only, but not the one the rows were hashed with */
  FILE *f = fopen(other, "wb");
  fputs("0123456789abcdef0123456789abcdef", f);
  fclose(f);
  chmod(other, 0600);
  setenv("VAGT_ITEMS_KEY_FILE", other, 1);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  snprintf(want, sizeof want, "robot.items: key file %s is not the key %s was written with", other,
           db);
  assert_non_null(strstr(err, want));
  f = fopen(other, "wb"); /* a short one */
  fputs("0123456789abcdef0123456789abcde", f);
  fclose(f);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  snprintf(want, sizeof want, "robot.items: key file %s is 31 bytes, not 32", other);
  assert_non_null(strstr(err, want));
  setenv("VAGT_ITEMS_KEY_FILE", sub, 1); /* a folder */
  assert_int_equal(run_script(code, err, sizeof err), 1);
  snprintf(want, sizeof want, "robot.items: key file %s is not a regular file", sub);
  assert_non_null(strstr(err, want));
  unsetenv("VAGT_ITEMS_KEY_FILE");
  char moved[160];
  snprintf(moved, sizeof moved, "%s/moved.key", sub);
  rename(kp, moved);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  snprintf(want, sizeof want,
           "robot.items: key file %s is missing, and %s holds items hashed "
           "with it: restore it (a new key would enter every item again)",
           kp, db);
  assert_non_null(strstr(err, want));
  assert_int_equal(access(kp, F_OK), -1); /* not made anew */
  /* the key given by $VAGT_ITEMS_KEY_FILE: the moved one works, nothing entered twice */
  setenv("VAGT_ITEMS_KEY_FILE", moved, 1);
  RUN("for it in robot.items('k', { 'a', 'b', 'c' }) do robot.note(it) end\n", 0);
  assert_string_equal(notes, "c");
  /* a database of its own with a key file of its own given: created there, owner-only */
  char db2[160], k2[160];
  snprintf(db2, sizeof db2, "%s/two.db", sub);
  snprintf(k2, sizeof k2, "%s/two.key", sub);
  setenv("VAGT_ITEMS_DB", db2, 1);
  setenv("VAGT_ITEMS_KEY_FILE", k2, 1);
  RUN(code, 0);
  struct stat st;
  assert_int_equal(stat(k2, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(access(kp, F_OK), -1);
  sqlite3 *d;
  sqlite3_open(db2, &d);
  sqlite3_stmt *q;
  sqlite3_prepare_v2(d, "SELECT key FROM items ORDER BY seq", -1, &q, NULL);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal(sqlite3_column_text(q, 0), hmac_in(k2, "a", 1));
  sqlite3_finalize(q);
  sqlite3_close(d);
  unsetenv("VAGT_ITEMS_KEY_FILE");
  setenv("VAGT_ITEMS_DB", dbpath, 1);
}

/* A database written before keys were hashed (user_version 0, keys as given): opened, its
 * keys are hashed in place, nothing is entered twice, and its files hold no old key. */
static void migrate_old_db(void **state)
{
  (void)state;
  char sub[128], db[160];
  snprintf(sub, sizeof sub, "%s/old", dir);
  mkdir(sub, 0700);
  snprintf(db, sizeof db, "%s/items.db", sub);
  sqlite3 *d;
  assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(d,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                   "CREATE TABLE IF NOT EXISTS items ("
                   " batch TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER,"
                   " state TEXT NOT NULL, reason TEXT, run TEXT, attempts INTEGER DEFAULT 0,"
                   " updated TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
                   " PRIMARY KEY(batch, key));"
                   "INSERT INTO items(batch, key, seq, state, attempts) VALUES"
                   " ('m1', 'cpr=010190-1234' || char(31) || 'navn=Søren Ærø', 1, 'done', 1),"
                   " ('m1', 'cpr=020290-2345' || char(31) || 'navn=Åse Øberg', 2, 'failed', 1),"
                   " ('m2', '030390-3456', 1, 'done', 1),"
                   " ('m3', 'plain item', 1, 'done', 1);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(d);
  assert_true(db_files_hold(db, "010190-1234"));
  setenv("VAGT_ITEMS_DB", db, 1);
  RUN("local rows = { { cpr = '010190-1234', navn = 'Søren Ærø' },\n"
      "  { cpr = '020290-2345', navn = 'Åse Øberg' }, { cpr = '050590-5678', navn = 'Bo' } }\n"
      "for it in robot.items('m1', rows) do robot.note(it.cpr) end\n"
      "for it in robot.items('m2', { { cpr = '030390-3456' }, { cpr = '040490-4567' } },\n"
      "                      { key = 'cpr' }) do robot.note(it.cpr) end\n"
      "for it in robot.items('m3', { 'plain item', 'new item' }) do robot.note(it) end\n",
      RT_EXIT_REVIEW); /* the migrated failed row waits for a person */
  /* done and failed rows of before stay done and failed: only the new ones are entered */
  assert_string_equal(notes, "050590-5678 040490-4567 new item");
  char kp[160];
  snprintf(kp, sizeof kp, "%s/items.key", sub);
  sqlite3_open(db, &d);
  sqlite3_stmt *q;
  sqlite3_prepare_v2(d, "SELECT batch, key, state, attempts FROM items ORDER BY batch, seq", -1, &q,
                     NULL);
  char got[2048] = "", want[2048];
  while (sqlite3_step(q) == SQLITE_ROW) {
    char one[256];
    snprintf(one, sizeof one, "%s%s:%s:%s:%d", got[0] ? " " : "", sqlite3_column_text(q, 0),
             sqlite3_column_text(q, 1), sqlite3_column_text(q, 2), sqlite3_column_int(q, 3));
    strncat(got, one, sizeof got - strlen(got) - 1);
  }
  sqlite3_finalize(q);
  const char *c1 = "cpr=010190-1234\x1fnavn=Søren Ærø", *c2 = "cpr=020290-2345\x1fnavn=Åse Øberg",
             *c3 = "cpr=050590-5678\x1fnavn=Bo";
  snprintf(want, sizeof want,
           "m1:%s:done:1 m1:%s:failed:1 m1:%s:done:1 m2:%s:done:1 m2:040490-4567:done:1 "
           "m3:%s:done:1 m3:%s:done:1",
           hmac_in(kp, c1, strlen(c1)), hmac_in(kp, c2, strlen(c2)), hmac_in(kp, c3, strlen(c3)),
           hmac_in(kp, "030390-3456", 11), hmac_in(kp, "plain item", 10),
           hmac_in(kp, "new item", 8));
  assert_string_equal(got, want);
  sqlite3_prepare_v2(d, "PRAGMA user_version", -1, &q, NULL);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), RT_ITEMS_SCHEMA);
  sqlite3_finalize(q);
  sqlite3_exec(d, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(d);
  static const char *old[] = {"010190-1234", "020290-2345", "Søren",
                              "Øberg",       "030390-3456", "plain item"};
  for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
    assert_false(db_files_hold(db, old[i]));
  /* a second run: the same, nothing entered; retry_failed finds the migrated failed row */
  RUN("local rows = { { cpr = '010190-1234', navn = 'Søren Ærø' },\n"
      "  { cpr = '020290-2345', navn = 'Åse Øberg' }, { cpr = '050590-5678', navn = 'Bo' } }\n"
      "for it in robot.items('m1', rows, { retry_failed = true }) do robot.note(it.cpr) end\n"
      "for it in robot.items('m2', { { cpr = '030390-3456' }, { cpr = '040490-4567' } },\n"
      "                      { key = 'cpr' }) do robot.note(it.cpr) end\n",
      0);
  assert_string_equal(notes, "020290-2345");
  setenv("VAGT_ITEMS_DB", dbpath, 1);
}

static void mistakes(void **state)
{
  (void)state;
  char err[2048];
  assert_int_equal(run_script("for i in robot.items('m', { 'a', 'a' }) do end\n", err, sizeof err),
                   1);
  assert_non_null(strstr(err, "robot.lua:1: robot.items: items 1 and 2 have the same content; "
                              "give opts.key"));
  assert_int_equal(
      run_script("for i in robot.items('m', { { cpr = '0101901234', n = 'Bo' },\n"
                 "  { cpr = '0202902345' }, { n = 'Bo', cpr = '0101901234' } }) do end",
                 err, sizeof err),
      1);
  assert_non_null(strstr(err, "robot.lua:1: robot.items: items 1 and 3 have the same content; "
                              "give opts.key"));
  assert_null(strstr(err, "0101901234"));
  assert_null(strstr(err, "Bo"));
  assert_int_equal(run_script("for i in robot.items('m', { { cpr = '0101901234' },\n"
                              "  { cpr = '0101901234' } }, { key = 'cpr' }) do end",
                              err, sizeof err),
                   1);
  assert_non_null(strstr(err, "robot.items: items 1 and 2 have the same 'cpr' (the key field)"));
  assert_null(strstr(err, "0101901234"));
  assert_int_equal(run_script("for i in robot.items('m', { { x = 1 } }, { key = 'id' }) do end\n",
                              err, sizeof err),
                   1);
  assert_non_null(strstr(err, "item 1 has no 'id' (the key) field"));
  assert_int_equal(
      run_script("for i in robot.items('m', '/nonexistent.csv') do end\n", err, sizeof err), 1);
  assert_non_null(strstr(err, "cannot read /nonexistent.csv"));
  char p[128];
  snprintf(p, sizeof p, "%s/short.csv", dir);
  FILE *f = fopen(p, "w");
  fputs("a,b\n1,2\n3\n", f);
  fclose(f);
  char code[256];
  snprintf(code, sizeof code, "for i in robot.items('m', '%s') do end\n", p);
  assert_int_equal(run_script(code, err, sizeof err), 1);
  assert_non_null(strstr(err, "record 2 has 1 fields, the header 2"));
  assert_int_equal(run_script("robot.items('m', 42)\n", err, sizeof err), 1);
  assert_non_null(strstr(err, "expected a CSV file name or a list of items"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(csv),
      cmocka_unit_test(resume_after_error),
      cmocka_unit_test(killed_mid_item),
      cmocka_unit_test(drift_leaves_pending),
      cmocka_unit_test(callback_form),
      cmocka_unit_test(content_keys),
      cmocka_unit_test(no_citizen_data_stored),
      cmocka_unit_test(key_file),
      cmocka_unit_test(migrate_old_db),
      cmocka_unit_test(mistakes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
