/* test_tool.c - the fp-compare debugging tool: exit status and output. */
#include "form.h"
#include "test_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FP_COMPARE_BIN
#error FP_COMPARE_BIN must name the fp-compare executable
#endif

static char dir[] = "/tmp/fp-tool-XXXXXX";

static int run(const char *args, char *out, size_t len)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", FP_COMPARE_BIN, args);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, len - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_tool(void **state)
{
  (void)state;
  assert_non_null(mkdtemp(dir));
  form_spec s = {V_NORMAL, {"0101701234", NULL, NULL, NULL}, NULL, 0, 0, 0};
  form f;
  char a[128], b[128], d[128], args[512], out[4096];
  snprintf(a, sizeof a, "%s/a.png", dir);
  snprintf(b, sizeof b, "%s/b.png", dir);
  snprintf(d, sizeof d, "%s/diff.png", dir);
  form_make(&s, &f);
  assert_int_equal(pixWrite(a, f.pix, IFF_PNG), 0);
  form_free(&f);
  s.variant = V_ONECHAR;
  form_make(&s, &f);
  assert_int_equal(pixWrite(b, f.pix, IFF_PNG), 0);
  fp_rect navn = form_word(&f, "Navm");
  form_free(&f);

  snprintf(args, sizeof args, "%s %s", a, a);
  assert_int_equal(run(args, out, sizeof out), 0);
  assert_non_null(strstr(out, "match"));

  snprintf(args, sizeof args, "--diff %s %s %s", d, a, b);
  assert_int_equal(run(args, out, sizeof out), 3);
  assert_non_null(strstr(out, "drift"));
  assert_non_null(strstr(out, "reason: region ("));
  struct stat st;
  assert_int_equal(stat(d, &st), 0);

  /* masking the changed label turns it into a match */
  snprintf(args, sizeof args, "--mask %d,%d,%d,%d %s %s", navn.x - 16, navn.y - 16, navn.w + 32,
           navn.h + 32, a, b);
  assert_int_equal(run(args, out, sizeof out), 0);

  /* a stored baseline entry as the recorded side */
  {
    PIX *pa = pixRead(a);
    fp_input in = {0};
    in.image = pa;
    fp_fingerprint *fp = NULL;
    fp_error err;
    assert_int_equal(fp_compute(&in, "tool step", NULL, &fp), FP_OK);
    char bdir[160];
    snprintf(bdir, sizeof bdir, "%s/b.baseline", dir);
    assert_int_equal(fp_store_save(bdir, fp, &err), FP_OK);
    char *stem = fp_sanitize_key("tool step");
    snprintf(args, sizeof args, "--entry %s/%s.json %s", bdir, stem, b);
    assert_int_equal(run(args, out, sizeof out), 3);
    snprintf(args, sizeof args, "--entry %s/%s.json %s", bdir, stem, a);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "rm -rf %s", bdir);
    assert_int_equal(system(args), 0);
    free(stem);
    fp_fingerprint_free(fp);
    pixDestroy(&pa);
  }

  snprintf(args, sizeof args, "%s %s/missing.png", a, dir);
  assert_int_equal(run(args, out, sizeof out), 2);
  assert_non_null(strstr(out, "cannot read"));
  assert_int_equal(run("--bogus", out, sizeof out), 2);

  unlink(a);
  unlink(b);
  unlink(d);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_tool)};
  return cmocka_run_group_tests_name("fp_tool", tests, NULL, NULL);
}
