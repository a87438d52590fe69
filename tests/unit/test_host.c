/* The Lua host without a display: deadlines the script cannot swallow, errors with the
 * script's line and a traceback, parameters and secret redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "vu.h"

typedef struct {
  rt_run run;
  char path[64];
  int code;
} fixture;

static void run_script(fixture *f, const char *code, double timeout, char **params, int np)
{
  memset(f, 0, sizeof *f);
  strcpy(f->path, "/tmp/vagt-host-XXXXXX.lua");
  int fd = mkstemps(f->path, 4);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, code, strlen(code)), (ssize_t)strlen(code));
  close(fd);
  f->run.script = f->path;
  f->run.step_timeout = 600;
  f->run.started = vu_mono();
  f->run.script_deadline = f->run.started + timeout;
  char err[256];
  assert_int_equal(rt_host_open(&f->run, params, np, err, sizeof err), 0);
  f->code = rt_host_run(&f->run);
}

static bool global_is_set(fixture *f, const char *name)
{
  lua_State *L = f->run.L;
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  bool set = !lua_isnil(L, -1);
  lua_pop(L, 2);
  return set;
}

static void done(fixture *f)
{
  rt_host_close(&f->run);
  unlink(f->path);
  for (size_t i = 0; i < f->run.nsecrets; i++)
    free(f->run.secrets[i]);
  free(f->run.secrets);
  free(f->run.frames);
  free(f->run.abort_msg);
  free(f->run.error);
  free(f->run.error_where);
}

static void assert_has(const char *hay, const char *needle)
{
  if (!hay || !strstr(hay, needle))
    fail_msg("'%s' does not contain '%s'", hay ? hay : "(null)", needle);
}

static void endless_loop_is_stopped(void **state)
{
  (void)state;
  fixture f;
  double t = vu_mono();
  run_script(&f, "local n = 0\nwhile true do n = n + 1 end\n", 0.3, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, "script timeout");
  assert_has(f.run.error, ":2:");
  assert_true(vu_mono() - t < 5.0);
  done(&f);
}

static void pcall_cannot_swallow_the_deadline(void **state)
{
  (void)state;
  fixture f;
  run_script(&f,
             "while true do\n"
             "  local ok = pcall(function() while true do end end)\n"
             "  escaped = true\n"
             "end\n",
             0.3, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, "script timeout");
  assert_false(global_is_set(&f, "escaped"));
  done(&f);
}

static void coroutines_cannot_swallow_it_either(void **state)
{
  (void)state;
  fixture f;
  run_script(&f,
             "local co = coroutine.wrap(function() while true do end end)\n"
             "while true do pcall(co) escaped = true end\n",
             0.3, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_false(global_is_set(&f, "escaped"));
  done(&f);
}

static void step_deadline(void **state)
{
  (void)state;
  fixture f;
  run_script(&f,
             "robot.step('langsom', { timeout = 0.2 }, function()\n"
             "  while true do end\n"
             "end)\n",
             60, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, "step 'langsom' exceeded its deadline");
  done(&f);
}

static void sleep_is_cut_by_the_deadline(void **state)
{
  (void)state;
  fixture f;
  double t = vu_mono();
  run_script(&f, "robot.sleep(100)\nafter = true\n", 0.3, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_true(vu_mono() - t < 3.0);
  assert_false(global_is_set(&f, "after"));
  done(&f);
}

static void error_names_line_and_traceback(void **state)
{
  (void)state;
  fixture f;
  run_script(&f, "local t = nil\nlocal v = t.field\n", 60, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, ":2: attempt to index a nil value");
  assert_has(f.run.error, "stack traceback");
  assert_has(f.run.error_where, ":2");
  done(&f);
}

static void error_inside_step_keeps_its_line(void **state)
{
  (void)state;
  fixture f;
  run_script(&f,
             "local function helper()\n"
             "  error('boom')\n"
             "end\n"
             "robot.step('ydre', function()\n"
             "  robot.step('indre', function() helper() end)\n"
             "end)\n",
             60, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, ":2: boom");
  assert_has(f.run.error, "helper");
  assert_has(f.run.error_where, ":2");
  assert_int_equal(f.run.nframes, 0);
  done(&f);
}

static void non_string_errors(void **state)
{
  (void)state;
  fixture f;
  run_script(&f, "error({ code = 7 })\n", 60, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, "error object is a table value");
  done(&f);
}

static void sandbox_violation_exit_1(void **state)
{
  (void)state;
  fixture f;
  run_script(&f, "local f = io.open('/etc/passwd')\n", 60, NULL, 0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, ":1: 'io' is not available");
  done(&f);
}

static void params_reach_the_script(void **state)
{
  (void)state;
  fixture f;
  char *params[] = {"batch=/srv/in/cpr.csv", "dry=1"};
  run_script(&f,
             "assert(robot.params.batch == '/srv/in/cpr.csv')\n"
             "assert(robot.params.dry == '1')\nok = true\n",
             60, params, 2);
  assert_int_equal(f.code, 0);
  assert_true(global_is_set(&f, "ok"));
  done(&f);
}

static void bad_param_is_usage_error(void **state)
{
  (void)state;
  rt_run run = {0};
  char err[256];
  char *params[] = {"novalue"};
  assert_int_equal(rt_host_open(&run, params, 1, err, sizeof err), 2);
  assert_has(err, "--set novalue");
  rt_host_close(&run);
}

static void secrets_are_redacted(void **state)
{
  (void)state;
  setenv("VAGT_SECRET_DB_PASS", "hemmelig-42", 1);
  fixture f;
  run_script(&f, "local p = robot.secret('db-pass')\nerror('login failed with ' .. p)\n", 60, NULL,
             0);
  assert_int_equal(f.code, 1);
  assert_has(f.run.error, "login failed with ***");
  assert_null(strstr(f.run.error, "hemmelig"));
  done(&f);
  unsetenv("VAGT_SECRET_DB_PASS");
}

static void steps_nest_and_return_values(void **state)
{
  (void)state;
  fixture f;
  run_script(&f,
             "local a, b = robot.step('ydre', function()\n"
             "  return robot.step('indre', function() return 1, 2 end)\n"
             "end)\n"
             "assert(a == 1 and b == 2)\n"
             "local ok = pcall(robot.step, 'fejl', function() error('x') end)\n"
             "assert(not ok)\nfine = true\n",
             60, NULL, 0);
  if (f.code != 0)
    fail_msg("%s", f.run.error);
  assert_true(global_is_set(&f, "fine"));
  assert_int_equal(f.run.nframes, 0);
  done(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(endless_loop_is_stopped),
      cmocka_unit_test(pcall_cannot_swallow_the_deadline),
      cmocka_unit_test(coroutines_cannot_swallow_it_either),
      cmocka_unit_test(step_deadline),
      cmocka_unit_test(sleep_is_cut_by_the_deadline),
      cmocka_unit_test(error_names_line_and_traceback),
      cmocka_unit_test(error_inside_step_keeps_its_line),
      cmocka_unit_test(non_string_errors),
      cmocka_unit_test(sandbox_violation_exit_1),
      cmocka_unit_test(params_reach_the_script),
      cmocka_unit_test(bad_param_is_usage_error),
      cmocka_unit_test(secrets_are_redacted),
      cmocka_unit_test(steps_nest_and_return_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
