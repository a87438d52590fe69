/* robot.items (runtime/l_items.c) in the real Lua host, without a display: sources (CSV
 * with quotes, ';', BOM, CRLF; Lua lists), resuming (done items skipped, failed ones too
 * unless retry_failed), an item left "running" by a killed run never entered again, a
 * drift halt leaving the current item pending, break, the callback form, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
  char cmd[256];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", rd);
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

/* "key=state[:reason]" of a batch, in item order, space separated. */
static const char *states(const char *batch)
{
  static char out[4096];
  out[0] = '\0';
  sqlite3 *db;
  sqlite3_open(dbpath, &db);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT key, state, reason FROM items WHERE batch=? ORDER BY seq", -1,
                     &st, NULL);
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

#define RUN(code, want_rc)                                                                   \
  do {                                                                                       \
    char err_[2048];                                                                         \
    int rc_ = run_script(code, err_, sizeof err_);                                           \
    if (rc_ != (want_rc))                                                                    \
      fail_msg("exit %d, wanted %d: %s", rc_, want_rc, err_);                                \
  } while (0)

static void csv(void **state)
{
  (void)state;
  char p[128];
  snprintf(p, sizeof p, "%s/in.csv", dir);
  FILE *f = fopen(p, "w");
  fputs("\xEF\xBB\xBF" "cpr;navn;note\r\n"
        "010190-1234;Søren Ærø;\"Flyttet; fra \"\"Ølstykke\"\"\"\r\n"
        "\r\n"
        "241285-4321;Åse Øberg;\"to\nlinjer\"\r\n",
        f);
  fclose(f);
  char code[512];
  snprintf(code, sizeof code,
           "for item in robot.items('csv', '%s', { key = 'cpr' }) do\n"
           "  robot.note(item.cpr .. '|' .. item.navn .. '|' .. item.note)\n"
           "end\n", p);
  RUN(code, 0);
  assert_string_equal(notes, "010190-1234|Søren Ærø|Flyttet; fra \"Ølstykke\" "
                             "241285-4321|Åse Øberg|to\nlinjer");
  assert_string_equal(states("csv"), "010190-1234=done 241285-4321=done");
  RUN(code, 0); /* all done: nothing entered again */
  assert_string_equal(notes, "");
}

static const char *ten =
    "local rows = {}\n"
    "for i = 1, 10 do rows[i] = { n = tostring(i) } end\n";

static void resume_after_error(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code, "%s"
           "for item in robot.items('b', rows, { key = 'n' }) do\n"
           "  robot.note(item.n)\n"
           "  if item.n == '5' and not robot.params.ok then error('kunne ikke gemme') end\n"
           "end\n", ten);
  RUN(code, 1);
  assert_string_equal(notes, "1 2 3 4 5");
  assert_string_equal(states("b"), "1=done 2=done 3=done 4=done 5=failed:robot.lua:5: kunne ikke ");
  char code2[1024];
  snprintf(code2, sizeof code2, "%s"
           "for item in robot.items('b', rows, { key = 'n' }) do robot.note(item.n) end\n", ten);
  RUN(code2, 0);
  assert_string_equal(notes, "6 7 8 9 10"); /* the failed one is not retried by itself */
  snprintf(code2, sizeof code2, "%s"
           "for item in robot.items('b', rows, { key = 'n', retry_failed = true }) do\n"
           "  robot.note(item.n) end\n", ten);
  RUN(code2, 0);
  assert_string_equal(notes, "5");
  assert_string_equal(states("b"), "1=done 2=done 3=done 4=done 5=done 6=done 7=done 8=done "
                                   "9=done 10=done");
}

static void killed_mid_item(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code, "%s"
           "for item in robot.items('k', rows, { key = 'n' }) do\n"
           "  robot.note(item.n) if item.n == '3' then break end\n"
           "end\n", ten);
  RUN(code, 0);
  assert_string_equal(notes, "1 2 3");
  /* break leaves the current item pending: it is entered on the next run. */
  assert_string_equal(states("k"), "1=done 2=done 3=pending:the loop was left (break");
  /* A SIGKILL inside item 3 leaves it "running": */
  sqlite3 *db;
  sqlite3_open(dbpath, &db);
  sqlite3_exec(db, "UPDATE items SET state='running', reason=NULL WHERE batch='k' AND key='3'",
               NULL, NULL, NULL);
  sqlite3_close(db);
  snprintf(code, sizeof code, "%s"
           "for item in robot.items('k', rows, { key = 'n' }) do robot.note(item.n) end\n", ten);
  RUN(code, 0);
  assert_string_equal(notes, "4 5 6 7 8 9 10"); /* never entered twice */
  assert_string_equal(states("k"), "1=done 2=done 3=failed:interrupted: a run ended 4=done 5=done "
                                   "6=done 7=done 8=done 9=done 10=done");
}

static void drift_leaves_pending(void **state)
{
  (void)state;
  char code[1024];
  snprintf(code, sizeof code, "%s"
           "for item in robot.items('d', rows, { key = 'n' }) do\n"
           "  robot.note(item.n)\n"
           "  if item.n == '3' then pcall(robot.drift) end\n" /* even when caught */
           "end\n", ten);
  RUN(code, 3);
  assert_string_equal(notes, "1 2 3");
  assert_string_equal(states("d"), "1=done 2=done 3=pending:the run halted on UI dri");
  snprintf(code, sizeof code, "%s"
           "for item in robot.items('d', rows, { key = 'n' }) do robot.note(item.n) end\n", ten);
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
      0);
  assert_string_equal(notes, "a b c done=2 failed=1 skipped=0");
  assert_string_equal(states("cb"), "a=done b=failed:robot.lua:3: no b c=done");
  RUN("local r = robot.items('cb', { 'a', 'b', 'c' }, { retry_failed = true }, function(item)\n"
      "  robot.note(item) end)\n"
      "robot.note(('done=%d skipped=%d'):format(r.done, r.skipped))\n",
      0);
  assert_string_equal(notes, "b done=1 skipped=2");
  /* A drift inside the callback stops the batch and the run. */
  RUN("robot.items('cbd', { 'x', 'y' }, function(item) robot.note(item) robot.drift() end)\n",
      3);
  assert_string_equal(notes, "x");
  assert_string_equal(states("cbd"), "x=pending:the run halted on UI dri");
}

static void content_keys(void **state)
{
  (void)state;
  /* Without opts.key the item's content is its key: the same rows are the same items. */
  RUN("for it in robot.items('c', { { a = 1, b = 'x' }, { a = 2, b = 'x' } }) do\n"
      "  robot.note(it.a) end\n", 0);
  assert_string_equal(notes, "1 2");
  assert_string_equal(states("c"), "a=1\x1f" "b=x=done a=2\x1f" "b=x=done");
  RUN("for it in robot.items('c', { { b = 'x', a = 2 }, { a = 3, b = 'x' } }) do\n"
      "  robot.note(it.a) end\n", 0);
  assert_string_equal(notes, "3");
}

static void mistakes(void **state)
{
  (void)state;
  char err[2048];
  assert_int_equal(run_script("for i in robot.items('m', { 'a', 'a' }) do end\n", err,
                              sizeof err), 1);
  assert_non_null(strstr(err, "robot.lua:1: robot.items: items 1 and 2 have the same key 'a'"));
  assert_int_equal(run_script("for i in robot.items('m', { { x = 1 } }, { key = 'id' }) do end\n",
                              err, sizeof err), 1);
  assert_non_null(strstr(err, "item 1 has no 'id' (the key) field"));
  assert_int_equal(run_script("for i in robot.items('m', '/nonexistent.csv') do end\n", err,
                              sizeof err), 1);
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
    cmocka_unit_test(csv),           cmocka_unit_test(resume_after_error),
    cmocka_unit_test(killed_mid_item), cmocka_unit_test(drift_leaves_pending),
    cmocka_unit_test(callback_form), cmocka_unit_test(content_keys),
    cmocka_unit_test(mistakes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
