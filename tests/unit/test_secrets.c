#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secrets.h"

static char path[64];

static int setup(void **state)
{
  (void)state;
  strcpy(path, "/tmp/vagt-secrets-XXXXXX");
  int fd = mkstemp(path);
  const char *text =
      "# robot credentials\n\nsag-login = bruger1\n db-pass =  s3cret med mellemrum \n";
  if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    return -1;
  close(fd);
  chmod(path, 0600);
  unsetenv("VAGT_SECRETS_FILE");
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  unlink(path);
  return 0;
}

static void envname(void **state)
{
  (void)state;
  char n[64];
  rt_secret_envname("db-pass.v2", n, sizeof n);
  assert_string_equal(n, "VAGT_SECRET_DB_PASS_V2");
}

static void from_environment_first(void **state)
{
  (void)state;
  char *v, err[256];
  setenv("VAGT_SECRET_DB_PASS", "fra-miljø", 1);
  assert_int_equal(rt_secret_get("db-pass", path, &v, err, sizeof err), RT_SECRET_OK);
  assert_string_equal(v, "fra-miljø");
  free(v);
  unsetenv("VAGT_SECRET_DB_PASS");
}

static void from_owner_only_file(void **state)
{
  (void)state;
  char *v, err[256];
  assert_int_equal(rt_secret_get("db-pass", path, &v, err, sizeof err), RT_SECRET_OK);
  assert_string_equal(v, "s3cret med mellemrum");
  free(v);
  assert_int_equal(rt_secret_get("sag-login", path, &v, err, sizeof err), RT_SECRET_OK);
  assert_string_equal(v, "bruger1");
  free(v);
}

static void file_readable_by_others_is_refused(void **state)
{
  (void)state;
  char *v = NULL, err[256];
  chmod(path, 0644);
  assert_int_equal(rt_secret_get("db-pass", path, &v, err, sizeof err), RT_SECRET_BADFILE);
  assert_null(v);
  assert_non_null(strstr(err, "readable by others"));
  assert_non_null(strstr(err, path));
  chmod(path, 0600);
}

static void missing_secret_says_where_to_put_it(void **state)
{
  (void)state;
  char *v = NULL, err[512];
  assert_int_equal(rt_secret_get("nope", path, &v, err, sizeof err), RT_SECRET_MISSING);
  assert_non_null(strstr(err, "VAGT_SECRET_NOPE"));
  assert_non_null(strstr(err, path));
}

static void malformed_line_names_file_and_line(void **state)
{
  (void)state;
  FILE *f = fopen(path, "a");
  fputs("no equals sign here\n", f);
  fclose(f);
  char *v = NULL, err[512];
  assert_int_equal(rt_secret_get("zzz", path, &v, err, sizeof err), RT_SECRET_BADFILE);
  char want[128];
  snprintf(want, sizeof want, "%s:5", path);
  assert_non_null(strstr(err, want));
}

/* A FIFO (owner-only) as the secrets file: refused at once, never waited on. The alarm
 * only turns a hang into a failure; it bounds nothing that should take time. */
static void fifo_is_refused(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-fifo-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char fifo[128];
  snprintf(fifo, sizeof fifo, "%s/secrets", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  char *v = NULL, err[512];
  alarm(60);
  int rc = rt_secret_get("sag-login", fifo, &v, err, sizeof err);
  alarm(0);
  assert_int_equal(rc, RT_SECRET_BADFILE);
  assert_null(v);
  assert_non_null(strstr(err, fifo));
  assert_non_null(strstr(err, "not a regular file"));
  unlink(fifo);
  /* a folder neither */
  rc = rt_secret_get("sag-login", dir, &v, err, sizeof err);
  assert_int_equal(rc, RT_SECRET_BADFILE);
  assert_non_null(strstr(err, "not a regular file"));
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(envname),
      cmocka_unit_test(fifo_is_refused),
      cmocka_unit_test_setup_teardown(from_environment_first, setup, teardown),
      cmocka_unit_test_setup_teardown(from_owner_only_file, setup, teardown),
      cmocka_unit_test_setup_teardown(file_readable_by_others_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_secret_says_where_to_put_it, setup, teardown),
      cmocka_unit_test_setup_teardown(malformed_line_names_file_and_line, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
