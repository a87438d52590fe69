#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "stepkey.h"

static void named_step_key(void **state)
{
  (void)state;
  char k[128];
  assert_int_equal(rt_stepkey(k, sizeof k, "Registrer borger", 3, "demo.lua", 41, "type"),
                   (int)strlen("Registrer borger#3:type"));
  assert_string_equal(k, "Registrer borger#3:type");
}

static void named_step_ignores_line(void **state)
{
  (void)state;
  char a[128], b[128];
  /* The same action on another line (an edit moved it) keeps its key. */
  rt_stepkey(a, sizeof a, "Gem", 1, "demo.lua", 10, "click");
  rt_stepkey(b, sizeof b, "Gem", 1, "demo.lua", 57, "click");
  assert_string_equal(a, b);
}

static void fallback_is_file_line(void **state)
{
  (void)state;
  char k[128];
  rt_stepkey(k, sizeof k, NULL, 0, "demo.lua", 12, "click");
  assert_string_equal(k, "demo.lua:12:click");
}

static void bad_arguments(void **state)
{
  (void)state;
  char k[64];
  assert_int_equal(rt_stepkey(k, sizeof k, "s", 0, "f.lua", 1, "type"), -1);
  assert_int_equal(rt_stepkey(k, sizeof k, NULL, 0, NULL, 1, "type"), -1);
  assert_int_equal(rt_stepkey(k, sizeof k, NULL, 0, "f.lua", 0, "type"), -1);
  assert_int_equal(rt_stepkey(k, sizeof k, "s", 1, "f.lua", 1, ""), -1);
}

static void nested_path(void **state)
{
  (void)state;
  char *p = rt_stepkey_path("Borger", "Adresse");
  assert_string_equal(p, "Borger/Adresse");
  free(p);
  p = rt_stepkey_path(NULL, "Borger");
  assert_string_equal(p, "Borger");
  free(p);
}

static void truncation_reports_length(void **state)
{
  (void)state;
  char k[8];
  int n = rt_stepkey(k, sizeof k, "Registrer", 1, NULL, 0, "type");
  assert_int_equal(n, (int)strlen("Registrer#1:type"));
  assert_int_equal(strlen(k), 7);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(named_step_key),        cmocka_unit_test(named_step_ignores_line),
      cmocka_unit_test(fallback_is_file_line), cmocka_unit_test(bad_arguments),
      cmocka_unit_test(nested_path),           cmocka_unit_test(truncation_reports_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
