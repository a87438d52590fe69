/* The run's log: secrets are masked before a long message is cut, and what a script logs
 * is capped per run with one line saying so. */
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

#include "run.h"

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *b = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  if (len)
    *len = (size_t)n;
  return b;
}

static int count(const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

static char secret[] = "S3CRET-4711-VALUE";
static char *secrets[] = {secret};

static void setup_run(rt_run *run, char *dir)
{
  memset(run, 0, sizeof *run);
  assert_non_null(mkdtemp(dir));
  run->run_dir = dir;
  run->secrets = secrets;
  run->nsecrets = 1;
  /* the messages also go to stderr: keep the test's output small */
  assert_non_null(freopen("/dev/null", "w", stderr));
}

static void remove_run(const char *dir)
{
  char path[256];
  snprintf(path, sizeof path, "%s/log.txt", dir);
  unlink(path);
  rmdir(dir);
}

/* A secret that straddles the 4,096-byte cut: masked whole, no part of it in the log. */
static void secret_masked_before_the_cut(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-log-XXXXXX";
  rt_run run;
  setup_run(&run, dir);
  for (size_t pad = 4070; pad <= 4100; pad += 3) {
    char *msg = malloc(pad + 1);
    memset(msg, 'a', pad);
    msg[pad] = '\0';
    rt_log(&run, "%s%s tail", msg, secret);
    rt_log_script(&run, "s.lua", 3, msg);
    free(msg);
  }
  char path[256];
  snprintf(path, sizeof path, "%s/log.txt", dir);
  char *log = slurp(path, NULL);
  assert_non_null(log);
  assert_null(strstr(log, "S3C")); /* not even the first characters of the secret */
  assert_non_null(strstr(log, "***"));
  assert_non_null(strstr(log, "bytes cut)"));
  for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
    assert_true(strlen(line) <= RT_LOG_LINE_MAX + 32); /* the time stamp */
  free(log);
  remove_run(dir);
}

/* A script that logs in a loop: the log stops at the cap, says so once, and vagt's own
 * messages still get through. */
static void script_log_is_capped(void **state)
{
  (void)state;
  char dir[] = "/tmp/vagt-cap-XXXXXX";
  rt_run run;
  setup_run(&run, dir);
  char line[1025];
  memset(line, 'x', 1024);
  line[1024] = '\0';
  for (int i = 0; i < 20000; i++) /* 20 MB asked for */
    rt_log_script(&run, "loop.lua", 2, line);
  rt_log(&run, "vagt: own message after the cap");
  char path[256];
  snprintf(path, sizeof path, "%s/log.txt", dir);
  size_t len = 0;
  char *log = slurp(path, &len);
  assert_non_null(log);
  assert_true(len <= RT_LOG_SCRIPT_MAX + 256 * 1024); /* with time stamps */
  assert_true(len >= RT_LOG_SCRIPT_MAX / 2);
  assert_int_equal(count(log, "robot.log and print say nothing more"), 1);
  assert_non_null(strstr(log, "vagt: own message after the cap"));
  assert_true(run.log_capped);
  free(log);
  remove_run(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(secret_masked_before_the_cut),
      cmocka_unit_test(script_log_is_capped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
