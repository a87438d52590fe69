/* test_util.h - assertions on verdicts for the fingerprint tests */
#ifndef FP_TEST_UTIL_H
#define FP_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fp.h"

static inline void dump_verdict(const char *what, const fp_verdict *v)
{
  fprintf(stderr, "[%s] %s, %d reasons, %d/%d cells changed\n", what, v->match ? "match" : "drift",
          v->n_reasons, v->cells_changed, v->cells_checked);
  for (int i = 0; i < v->n_reasons; i++)
    fprintf(stderr, "    %s\n", v->reasons[i]);
}

static inline int has_reason(const fp_verdict *v, const char *sub)
{
  for (int i = 0; i < v->n_reasons; i++)
    if (strstr(v->reasons[i], sub))
      return 1;
  return 0;
}

#define assert_reason(v, sub)                                                                      \
  do {                                                                                             \
    if (!has_reason((v), (sub))) {                                                                 \
      dump_verdict("verdict", (v));                                                                \
      fail_msg("no reason containing \"%s\"", (sub));                                              \
    }                                                                                              \
  } while (0)

#define assert_no_reason(v, sub)                                                                   \
  do {                                                                                             \
    if (has_reason((v), (sub))) {                                                                  \
      dump_verdict("verdict", (v));                                                                \
      fail_msg("a reason contains \"%s\"", (sub));                                                 \
    }                                                                                              \
  } while (0)

#define assert_match(v)                                                                            \
  do {                                                                                             \
    if (!(v)->match) {                                                                             \
      dump_verdict("expected match", (v));                                                         \
      fail_msg("drift where a match was expected");                                                \
    }                                                                                              \
  } while (0)

#define assert_drift(v)                                                                            \
  do {                                                                                             \
    if ((v)->match) {                                                                              \
      dump_verdict("expected drift", (v));                                                         \
      fail_msg("match where a drift was expected");                                                \
    }                                                                                              \
  } while (0)

static inline int any_rect_hits(const fp_verdict *v, fp_rect r)
{
  for (int i = 0; i < v->n_changed; i++) {
    fp_rect c = v->changed[i];
    if (r.x < c.x + c.w && c.x < r.x + r.w && r.y < c.y + c.h && c.y < r.y + r.h)
      return 1;
  }
  return 0;
}

#endif
