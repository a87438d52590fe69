/* cmocka unit tests of the selection service's UTF-8 check (no display): robot.clipboard.set
 * refuses a text that is not UTF-8 before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "selection.h"

static bool valid(const char *s)
{
  return rt_utf8_valid(s, strlen(s));
}

static void test_valid(void **state)
{
  (void)state;
  assert_true(valid(""));
  assert_true(valid("Søren Ærø 010190-1234"));
  assert_true(valid("\xE2\x82\xAC"));     /* € */
  assert_true(valid("\xF0\x9F\x98\x80")); /* U+1F600 */
  assert_true(valid("\xF4\x8F\xBF\xBF")); /* U+10FFFF, the last one */
  assert_true(rt_utf8_valid("a\0b", 3));  /* NUL is a character */
}

static void test_invalid(void **state)
{
  (void)state;
  assert_false(valid("\xF8\x00\x00")); /* Latin-1 ø */
  assert_false(valid("S\xF8ren"));
  assert_false(valid("\xC3")); /* cut short */
  assert_false(valid("\xE2\x82"));
  assert_false(valid("\xC0\xAF")); /* overlong '/' */
  assert_false(valid("\xE0\x80\xAF"));
  assert_false(valid("\xED\xA0\x80"));     /* a surrogate, U+D800 */
  assert_false(valid("\xF4\x90\x80\x80")); /* past U+10FFFF */
  assert_false(valid("\x80"));             /* a continuation byte alone */
  assert_false(valid("\xFF\xFE"));
}

static void test_names(void **state)
{
  (void)state;
  assert_string_equal(rt_sel_name(RT_SEL_CLIPBOARD), "CLIPBOARD");
  assert_string_equal(rt_sel_name(RT_SEL_PRIMARY), "PRIMARY");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
