#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runfolder.h"

static char *slurp(const char *path)
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
  return b;
}

static void run_json_has_steps_and_modes(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-runs-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char runs[256];
  snprintf(runs, sizeof runs, "%s/nested/runs", tmpl);
  char err[256];
  char *dir = rt_runfolder_create(runs, "demo", err, sizeof err);
  assert_non_null(dir);
  assert_non_null(strstr(dir, "-demo"));
  struct stat st;
  assert_int_equal(stat(dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);

  rt_steplog *l = rt_steplog_new("scripts/demo.lua", "run");
  rt_steprec s = {.key = "Registrer#1:click", .kind = "click", .name = "Registrer",
                  .ordinal = 1, .file = "scripts/demo.lua", .line = 12, .window = 0x400001,
                  .wclass = "VagtDemo", .detail = "(10,20)", .verdict = "recorded",
                  .t_total = 12.3456, .settled = true, .cap_w = 640, .cap_h = 400,
                  .cap_hash = 0xabcdefull};
  rt_steplog_add(l, &s);
  s.key = "demo.lua:20:type";
  s.name = NULL;
  s.kind = "type";
  s.detail = "5 bytes";
  rt_steplog_add(l, &s);
  assert_int_equal(rt_steplog_count(l), 2);
  assert_int_equal(rt_steplog_write(l, dir, "failed", 1, "demo.lua:20: boom", err, sizeof err),
                   0);
  assert_int_equal(rt_report_write(l, dir, err, sizeof err), 0);

  char path[512];
  snprintf(path, sizeof path, "%s/run.json", dir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char *text = slurp(path);
  cJSON *j = cJSON_Parse(text);
  assert_non_null(j);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "failed");
  assert_int_equal(cJSON_GetObjectItem(j, "exit_code")->valueint, 1);
  assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "demo.lua:20: boom");
  assert_non_null(cJSON_GetObjectItem(j, "finished"));
  cJSON *steps = cJSON_GetObjectItem(j, "steps");
  assert_int_equal(cJSON_GetArraySize(steps), 2);
  cJSON *s0 = cJSON_GetArrayItem(steps, 0);
  assert_string_equal(cJSON_GetObjectItem(s0, "key")->valuestring, "Registrer#1:click");
  assert_string_equal(cJSON_GetObjectItem(s0, "step")->valuestring, "Registrer");
  assert_int_equal(cJSON_GetObjectItem(s0, "line")->valueint, 12);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s0, "window"), "id")->valuestring,
                      "0x400001");
  assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(s0, "ms"), "total")->valuedouble > 12.3);
  cJSON *s1 = cJSON_GetArrayItem(steps, 1);
  assert_null(cJSON_GetObjectItem(s1, "step"));
  assert_string_equal(cJSON_GetObjectItem(s1, "detail")->valuestring, "5 bytes");
  cJSON_Delete(j);
  free(text);

  snprintf(path, sizeof path, "%s/report.html", dir);
  text = slurp(path);
  assert_non_null(strstr(text, "Registrer#1:click"));
  assert_non_null(strstr(text, "failed"));
  free(text);

  /* No temporary file is left behind by the atomic writes. */
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)))
    assert_null(strstr(e->d_name, ".tmp"));
  closedir(d);

  /* A second folder in the same second gets its own name. */
  char *dir2 = rt_runfolder_create(runs, "demo", err, sizeof err);
  assert_non_null(dir2);
  assert_string_not_equal(dir, dir2);
  rt_steplog_free(l);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
  assert_int_equal(system(cmd), 0);
  free(dir);
  free(dir2);
}

static void html_is_escaped(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-html-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  rt_steplog *l = rt_steplog_new("<script>.lua", "run");
  char err[256];
  rt_steplog_write(l, tmpl, "failed", 1, "x <b>y</b> & z", err, sizeof err);
  assert_int_equal(rt_report_write(l, tmpl, err, sizeof err), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/report.html", tmpl);
  char *text = slurp(path);
  assert_null(strstr(text, "<script>"));
  assert_non_null(strstr(text, "&lt;b&gt;y&lt;/b&gt; &amp; z"));
  free(text);
  rt_steplog_free(l);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
  assert_int_equal(system(cmd), 0);
}

static void unwritable_folder_is_an_error(void **state)
{
  (void)state;
  char err[256] = "";
  char *dir = rt_runfolder_create("/proc/vagt-cannot", "demo", err, sizeof err);
  assert_null(dir);
  assert_non_null(strstr(err, "/proc/vagt-cannot"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(run_json_has_steps_and_modes),
    cmocka_unit_test(html_is_escaped),
    cmocka_unit_test(unwritable_folder_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
