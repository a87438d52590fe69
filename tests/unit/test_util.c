/* util/vu.c: times, reading files, creating folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu.h"

static void rfc3339_of_a_known_time(void **state)
{
  (void)state;
  char buf[40];
  vu_rfc3339(1795140000.25, false, buf, sizeof buf);
  assert_string_equal(buf, "2026-11-20T02:00:00Z");
  vu_rfc3339(1795140000.25, true, buf, sizeof buf);
  assert_string_equal(buf, "2026-11-20T02:00:00.250Z");
}

static void clocks_move_forward(void **state)
{
  (void)state;
  double a = vu_mono();
  usleep(2000);
  assert_true(vu_mono() - a >= 0.002);
  assert_true(vu_wall() > 1.7e9);
}

static void read_file_limits(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-vu-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], link[256], err[512];
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(link, sizeof link, "%s/l", dir);
  FILE *f = fopen(path, "w");
  fputs("hello", f);
  fclose(f);
  assert_int_equal(symlink(path, link), 0);
  size_t n = 0;
  char *t = vu_read_file(link, 100, 0, &n, err, sizeof err);
  assert_non_null(t);
  assert_int_equal(n, 5);
  assert_string_equal(t, "hello");
  free(t);
  assert_null(vu_read_file(link, 100, VU_NOFOLLOW, NULL, err, sizeof err));
  assert_non_null(strstr(err, "symbolic link"));
  assert_null(vu_read_file(path, 4, 0, NULL, err, sizeof err));
  assert_non_null(strstr(err, "more than the 4"));
  assert_null(vu_read_file(dir, 100, 0, NULL, NULL, 0)); /* no err buffer: still refused */
  unlink(link);
  unlink(path);
  rmdir(dir);
}

static void mkdir_p_creates_owner_only(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-vu-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], err[512];
  snprintf(path, sizeof path, "%s/a/b", dir);
  assert_int_equal(vu_mkdir_p(path, err, sizeof err), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(vu_mkdir_p("", err, sizeof err), -1);
  rmdir(path);
  snprintf(path, sizeof path, "%s/a", dir);
  rmdir(path);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc3339_of_a_known_time),
      cmocka_unit_test(clocks_move_forward),
      cmocka_unit_test(read_file_limits),
      cmocka_unit_test(mkdir_p_creates_owner_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
