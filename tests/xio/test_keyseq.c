/* cmocka unit tests: key sequence parsing and UTF-8 -> keysym (no display) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "keyseq.h"

#include <X11/Xlib.h>
#include <X11/keysym.h>
#include <stdlib.h>
#include <string.h>

static rt_keycombo *parse_ok(const char *s, size_t expect_n)
{
  char err[128] = "";
  size_t n = 0;
  rt_keycombo *c = rt_keyseq_parse(s, &n, err, sizeof err);
  if (!c)
    fail_msg("parse '%s' failed: %s", s, err);
  assert_int_equal(n, expect_n);
  return c;
}

static void parse_err(const char *s, const char *msg)
{
  char err[128] = "";
  size_t n = 99;
  rt_keycombo *c = rt_keyseq_parse(s, &n, err, sizeof err);
  assert_null(c);
  assert_int_equal(n, 0);
  if (strcmp(err, msg) != 0)
    fail_msg("parse '%s': expected error \"%s\", got \"%s\"", s, msg, err);
}

static void test_simple(void **state)
{
  (void)state;
  rt_keycombo *c = parse_ok("ctrl+s", 1);
  assert_int_equal(c[0].mods, RT_MOD_CTRL);
  assert_int_equal(c[0].keysym, XK_s);
  free(c);
  c = parse_ok("Return", 1);
  assert_int_equal(c[0].mods, 0);
  assert_int_equal(c[0].keysym, XK_Return);
  free(c);
  c = parse_ok("alt+F4", 1);
  assert_int_equal(c[0].mods, RT_MOD_ALT);
  assert_int_equal(c[0].keysym, XK_F4);
  free(c);
  c = parse_ok("ctrl+shift+Tab", 1);
  assert_int_equal(c[0].mods, RT_MOD_CTRL | RT_MOD_SHIFT);
  assert_int_equal(c[0].keysym, XK_Tab);
  free(c);
  c = parse_ok("super+a", 1);
  assert_int_equal(c[0].mods, RT_MOD_SUPER);
  assert_int_equal(c[0].keysym, XK_a);
  free(c);
}

static void test_aliases(void **state)
{
  (void)state;
  rt_keycombo *c = parse_ok("control+x win+e meta+b Control_L+Shift_R+z CTRL+q", 5);
  assert_int_equal(c[0].mods, RT_MOD_CTRL);
  assert_int_equal(c[1].mods, RT_MOD_SUPER);
  assert_int_equal(c[1].keysym, XK_e);
  assert_int_equal(c[2].mods, RT_MOD_META);
  assert_int_equal(c[3].mods, RT_MOD_CTRL | RT_MOD_SHIFT);
  assert_int_equal(c[3].keysym, XK_z);
  assert_int_equal(c[4].mods, RT_MOD_CTRL);
  free(c);
  c = parse_ok("enter esc backspace pgdn f12 space", 6);
  assert_int_equal(c[0].keysym, XK_Return);
  assert_int_equal(c[1].keysym, XK_Escape);
  assert_int_equal(c[2].keysym, XK_BackSpace);
  assert_int_equal(c[3].keysym, XK_Next);
  assert_int_equal(c[4].keysym, XK_F12);
  assert_int_equal(c[5].keysym, XK_space);
  free(c);
  /* a modifier alone is its key */
  c = parse_ok("ctrl shift+alt Shift_L", 3);
  assert_int_equal(c[0].keysym, XK_Control_L);
  assert_int_equal(c[0].mods, 0);
  assert_int_equal(c[1].keysym, XK_Alt_L);
  assert_int_equal(c[1].mods, RT_MOD_SHIFT);
  assert_int_equal(c[2].keysym, XK_Shift_L);
  free(c);
}

static void test_sequence_and_positions(void **state)
{
  (void)state;
  rt_keycombo *c = parse_ok("  ctrl+a   BackSpace ", 2);
  assert_int_equal(c[0].keysym, XK_a);
  assert_int_equal(c[0].pos, 3);
  assert_int_equal(c[1].keysym, XK_BackSpace);
  assert_int_equal(c[1].mods, 0);
  assert_int_equal(c[1].pos, 12);
  free(c);
}

static void test_characters(void **state)
{
  (void)state;
  rt_keycombo *c = parse_ok("a A æ € @ Æ ctrl+ø", 7);
  assert_int_equal(c[0].keysym, XK_a);
  assert_int_equal(c[1].keysym, XK_A);
  assert_int_equal(c[2].keysym, XK_ae);
  assert_int_equal(c[3].keysym, XK_EuroSign);
  assert_int_equal(c[4].keysym, XK_at);
  assert_int_equal(c[5].keysym, XK_AE);
  assert_int_equal(c[6].keysym, XK_oslash);
  assert_int_equal(c[6].mods, RT_MOD_CTRL);
  free(c);
  c = parse_ok("ctrl++ + ctrl+plus ctrl+minus", 4);
  assert_int_equal(c[0].keysym, XK_plus);
  assert_int_equal(c[0].mods, RT_MOD_CTRL);
  assert_int_equal(c[1].keysym, XK_plus);
  assert_int_equal(c[2].keysym, XK_plus);
  assert_int_equal(c[3].keysym, XK_minus);
  free(c);
  c = parse_ok("U20AC 0x1000e6 Greek_alpha", 3);
  assert_int_equal(c[0].keysym, 0x10020ac);
  assert_int_equal(c[1].keysym, 0x1000e6);
  assert_int_equal(c[2].keysym, XK_Greek_alpha);
  free(c);
}

static void test_errors(void **state)
{
  (void)state;
  parse_err("Retrun", "unknown key 'Retrun' at position 1");
  parse_err("ctrl+a Retrun", "unknown key 'Retrun' at position 8");
  parse_err("ctrl+Retrun", "unknown key 'Retrun' at position 6");
  parse_err("æø+Retrun", "unknown modifier 'æø' at position 1");
  parse_err("ctrl+", "missing key after 'ctrl+' at position 1");
  parse_err("a+b", "'a' is not a modifier at position 1");
  parse_err("cntrl+s", "unknown modifier 'cntrl' at position 1");
  parse_err("ctrl++a", "empty key name in 'ctrl++a' at position 6");
  parse_err("", "empty key sequence");
  parse_err("   ", "empty key sequence");
  parse_err(NULL, "empty key sequence");
  parse_err("ctrl+\xc3", "invalid UTF-8 in key sequence at byte offset 5");
  parse_err("é Ret", "unknown key 'Ret' at position 3");
}

static void test_utf8(void **state)
{
  (void)state;
  const char *s = "Sø€\xf0\x9f\x98\x80";
  size_t off = 0, len = strlen(s);
  uint32_t cp;
  assert_int_equal(rt_utf8_next(s, len, &off, &cp), 0);
  assert_int_equal(cp, 'S');
  assert_int_equal(rt_utf8_next(s, len, &off, &cp), 0);
  assert_int_equal(cp, 0xf8);
  assert_int_equal(rt_utf8_next(s, len, &off, &cp), 0);
  assert_int_equal(cp, 0x20ac);
  assert_int_equal(rt_utf8_next(s, len, &off, &cp), 0);
  assert_int_equal(cp, 0x1f600);
  assert_int_equal(off, len);
  assert_int_equal(rt_utf8_next(s, len, &off, &cp), -1);

  static const struct {
    const char *s;
    size_t bad;
  } bad[] = {
      {"ab\x80", 2},           /* lone continuation */
      {"a\xc3", 1},            /* truncated */
      {"a\xc3(", 1},           /* bad continuation */
      {"\xc0\xaf", 0},         /* overlong '/' */
      {"xx\xe0\x80\xaf", 2},   /* overlong 3-byte */
      {"\xed\xa0\x80", 0},     /* surrogate U+D800 */
      {"\xf4\x90\x80\x80", 0}, /* > U+10FFFF */
      {"ok\xff", 2},
      {"\xe2\x82", 0}, /* truncated euro */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t at = 999;
    if (rt_utf8_validate(bad[i].s, strlen(bad[i].s), &at) != -1 || at != bad[i].bad)
      fail_msg("case %zu: expected invalid at %zu, got %zu", i, bad[i].bad, at);
  }
  size_t at = 0;
  const char *dk = "Søren Ærø ÆØÅ æøå ü é € @ { }";
  assert_int_equal(rt_utf8_validate(dk, strlen(dk), &at), 0);
}

static void test_cp_to_keysym(void **state)
{
  (void)state;
  assert_int_equal(rt_cp_to_keysym('a'), XK_a);
  assert_int_equal(rt_cp_to_keysym('@'), XK_at);
  assert_int_equal(rt_cp_to_keysym(0xc6), XK_AE);
  assert_int_equal(rt_cp_to_keysym(0xe6), XK_ae);
  assert_int_equal(rt_cp_to_keysym(0xd8), XK_Ooblique);
  assert_int_equal(rt_cp_to_keysym(0xc5), XK_Aring);
  assert_int_equal(rt_cp_to_keysym(0xa0), XK_nobreakspace);
  assert_int_equal(rt_cp_to_keysym(0x20ac), XK_EuroSign);
  assert_int_equal(rt_cp_to_keysym('\n'), XK_Return);
  assert_int_equal(rt_cp_to_keysym('\r'), XK_Return);
  assert_int_equal(rt_cp_to_keysym('\t'), XK_Tab);
  assert_int_equal(rt_cp_to_keysym(0x3b1), 0x10003b1); /* α: Unicode keysym */
  assert_int_equal(rt_cp_to_keysym(0x1f600), 0x101f600);
  assert_int_equal(rt_cp_to_keysym(7), NoSymbol);
  assert_int_equal(rt_cp_to_keysym(0x85), NoSymbol);
  assert_int_equal(rt_cp_to_keysym(0xd800), NoSymbol);
  assert_int_equal(rt_cp_to_keysym(0xfffe), NoSymbol);
  assert_int_equal(rt_cp_to_keysym(0x110000), NoSymbol);
  /* every legacy keysym we emit is the one X11 itself names for that code point:
   * check against the keysym database (XStringToKeysym of its name) */
  static const struct {
    uint32_t cp;
    const char *name;
  } legacy[] = {
      {0x20ac, "EuroSign"},
      {0x0152, "OE"},
      {0x0153, "oe"},
      {0x0178, "Ydiaeresis"},
      {0x0160, "Scaron"},
      {0x017e, "zcaron"},
      {0x0141, "Lstroke"},
      {0x0119, "eogonek"},
      {0x016f, "uring"},
      {0x0151, "odoubleacute"},
      {0x2013, "endash"},
      {0x2014, "emdash"},
      {0x2018, "leftsinglequotemark"},
      {0x201d, "rightdoublequotemark"},
      {0x201e, "doublelowquotemark"},
      {0x2026, "ellipsis"},
      {0x2122, "trademark"},
      {0x2022, "enfilledcircbullet"},
  };
  for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
    KeySym want = XStringToKeysym(legacy[i].name);
    if (want == NoSymbol || rt_cp_to_keysym(legacy[i].cp) != want)
      fail_msg("U+%04X: got 0x%lx, X11 says %s = 0x%lx", legacy[i].cp,
               rt_cp_to_keysym(legacy[i].cp), legacy[i].name, want);
    assert_int_equal(rt_keysym_to_cp(want), legacy[i].cp);
  }
  /* round trip over a range */
  for (uint32_t cp = 0x20; cp < 0x3000; cp++) {
    KeySym k = rt_cp_to_keysym(cp);
    if (k == NoSymbol)
      continue;
    if (rt_keysym_to_cp(k) != cp)
      fail_msg("round trip U+%04X -> 0x%lx -> U+%04X", cp, k, rt_keysym_to_cp(k));
  }
  char buf[64];
  assert_string_equal(rt_mods_name(RT_MOD_CTRL | RT_MOD_SHIFT, buf, sizeof buf), "ctrl+shift");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple),
      cmocka_unit_test(test_aliases),
      cmocka_unit_test(test_sequence_and_positions),
      cmocka_unit_test(test_characters),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_cp_to_keysym),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
