#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <string.h>

#include "sandbox.h"

/* Runs code in a fresh sandbox; returns the status and leaves the error (or nothing). */
static int run(lua_State *L, const char *code)
{
  rt_sandbox_push_env(L);
  int st = rt_sandbox_loadstring(L, code, "=t", -1);
  if (st == LUA_OK)
    st = lua_pcall(L, 0, 1, 0);
  lua_remove(L, -2);
  return st;
}

static void want_error(const char *code, const char *fragment)
{
  lua_State *L = rt_sandbox_newstate(0);
  int st = run(L, code);
  if (st == LUA_OK)
    fail_msg("expected an error from: %s", code);
  const char *msg = lua_tostring(L, -1);
  if (!msg || !strstr(msg, fragment))
    fail_msg("error '%s' lacks '%s'", msg ? msg : "(nil)", fragment);
  rt_sandbox_close(L);
}

static void want_value(const char *code, const char *want)
{
  lua_State *L = rt_sandbox_newstate(0);
  int st = run(L, code);
  if (st != LUA_OK)
    fail_msg("%s: %s", code, lua_tostring(L, -1));
  const char *got = luaL_tolstring(L, -1, NULL);
  assert_string_equal(got, want);
  rt_sandbox_close(L);
}

static void removed_globals_are_errors(void **state)
{
  (void)state;
  want_error("return io.open('/etc/passwd')", "'io' is not available");
  want_error("return require('os')", "'require' is not available");
  want_error("return package.loaded", "'package' is not available");
  want_error("return debug.getregistry()", "'debug' is not available");
  want_error("return dofile('/etc/passwd')", "'dofile' is not available");
  want_error("return loadfile('/etc/passwd')", "'loadfile' is not available");
  want_error("return load('return 1')", "'load' is not available");
}

static void os_is_reduced(void **state)
{
  (void)state;
  want_error("return os.execute('true')", "'os.execute' is not available");
  want_error("return os.getenv('HOME')", "'os.getenv' is not available");
  want_error("return os.remove('/tmp/x')", "'os.remove' is not available");
  want_value("return type(os.time()) .. type(os.clock()) .. type(os.date())", "numbernumberstring");
}

static void env_is_locked(void **state)
{
  (void)state;
  want_value("return getmetatable(_G)", "locked");
  want_error("setmetatable(_G, nil)", "protected metatable");
  want_value("return _G == _ENV", "true");
  /* Through the string metatable a script reaches the real string table: no dump there. */
  want_value("return tostring(getmetatable('').__index.dump)", "nil");
  want_value("return tostring(string.dump)", "nil");
  /* Reaching io through rawget on the environment finds nothing either. */
  want_value("return tostring(rawget(_G, 'io'))", "nil");
}

static void ordinary_lua_works(void **state)
{
  (void)state;
  want_value("local t = {} for i = 1, 3 do t[#t+1] = i * 2 end return table.concat(t, ',')",
             "2,4,6");
  want_value("return ('Søren'):upper() .. utf8.len('æøå')", "SøREN3");
  want_value("x = 5 return x", "5");
  want_value("return tostring(undefined_name)", "nil");
}

static void bytecode_is_refused(void **state)
{
  (void)state;
  lua_State *L = rt_sandbox_newstate(0);
  rt_sandbox_push_env(L);
  int st = rt_sandbox_loadstring(L, "\x1bLua\x54", "=bin", -1);
  assert_int_not_equal(st, LUA_OK);
  assert_non_null(strstr(lua_tostring(L, -1), "binary"));
  rt_sandbox_close(L);
}

static void memory_is_capped(void **state)
{
  (void)state;
  lua_State *L = rt_sandbox_newstate(8u << 20);
  int st = run(L, "local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(100) .. i end");
  assert_int_equal(st, LUA_ERRMEM);
  rt_sandbox_close(L);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(removed_globals_are_errors),
      cmocka_unit_test(os_is_reduced),
      cmocka_unit_test(env_is_locked),
      cmocka_unit_test(ordinary_lua_works),
      cmocka_unit_test(bytecode_is_refused),
      cmocka_unit_test(memory_is_capped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
