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

/* 30,000 steps over 12 keys: the report holds at most 500 step rows and stays small;
 * steps.jsonl grows by the same bytes a step. */
static void long_run_report_stays_small(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-long-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char err[256];
  rt_steplog *l = rt_steplog_new("loop.lua", "run");
  assert_int_equal(rt_steplog_open(l, tmpl, err, sizeof err), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/steps.jsonl", tmpl);
  off_t at1000 = 0, at2000 = 0, at29000 = 0;
  for (int i = 1; i <= 30000; i++) {
    char key[64], det[32];
    snprintf(key, sizeof key, "Borger#%d:click", (i - 1) % 12 + 1);
    snprintf(det, sizeof det, "(%d,%d)", 100 + i % 7, 40 + i % 5);
    rt_steprec s = {.key = key, .kind = "click", .name = "Borger", .ordinal = (i - 1) % 12 + 1,
                    .file = "loop.lua", .line = 9, .window = 0x400001, .detail = det,
                    .verdict = "match", .t_total = 20.5};
    assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), (size_t)i);
    struct stat st;
    if (i == 1000 || i == 2000 || i == 29000) {
      assert_int_equal(stat(path, &st), 0);
      *(i == 1000 ? &at1000 : i == 2000 ? &at2000 : &at29000) = st.st_size;
    }
  }
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  /* bytes a step: the same at the end as at the start (within the digits of n) */
  long first = (long)(at2000 - at1000), last = (long)(st.st_size - at29000);
  assert_true(last - first <= 1000 * 2 && last >= first);
  assert_int_equal(rt_steplog_write(l, tmpl, "passed", 0, NULL, err, sizeof err), 0);
  assert_int_equal(rt_report_write(l, tmpl, err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/report.html", tmpl);
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size < 2 * 1024 * 1024);
  char *text = slurp(path);
  int rows = 0;
  for (const char *p = text; (p = strstr(p, "<tr><td>")); p++)
    rows++;
  assert_true(rows <= 500);
  assert_non_null(strstr(text, "30000 steps, 12 step keys"));
  assert_non_null(strstr(text, "The last steps"));
  free(text);
  rt_steplog_free(l);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
  assert_int_equal(system(cmd), 0);
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
  assert_int_equal(rt_steplog_open(l, dir, err, sizeof err), 0);
  rt_steprec s = {.key = "Registrer#1:click", .kind = "click", .name = "Registrer",
                  .ordinal = 1, .file = "scripts/demo.lua", .line = 12, .window = 0x400001,
                  .wclass = "VagtDemo", .detail = "(10,20)", .verdict = "recorded",
                  .t_total = 12.3456, .settled = true, .cap_w = 640, .cap_h = 400,
                  .cap_hash = 0xabcdefull};
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 1);
  s.key = "demo.lua:20:type";
  s.name = NULL;
  s.kind = "type";
  s.detail = "5 bytes";
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 2);
  rt_steplog_amend(l, 2, "type: the window vanished", 1.5);
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
  assert_string_equal(cJSON_GetObjectItem(j, "format")->valuestring, "vagt-run");
  assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, RT_RUN_FORMAT);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "failed");
  assert_int_equal(cJSON_GetObjectItem(j, "exit_code")->valueint, 1);
  assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "demo.lua:20: boom");
  assert_non_null(cJSON_GetObjectItem(j, "finished"));
  assert_int_equal(cJSON_GetObjectItem(j, "steps")->valueint, 2);
  cJSON *last = cJSON_GetObjectItem(j, "last_step");
  assert_string_equal(cJSON_GetObjectItem(last, "key")->valuestring, "demo.lua:20:type");
  assert_string_equal(cJSON_GetObjectItem(last, "verdict")->valuestring, "error");
  cJSON_Delete(j);
  free(text);

  /* one line per step, then the amendment of step 2 */
  snprintf(path, sizeof path, "%s/steps.jsonl", dir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  text = slurp(path);
  char *save = NULL, *line = strtok_r(text, "\n", &save);
  cJSON *s0 = cJSON_Parse(line);
  assert_int_equal(cJSON_GetObjectItem(s0, "n")->valueint, 1);
  assert_string_equal(cJSON_GetObjectItem(s0, "key")->valuestring, "Registrer#1:click");
  assert_string_equal(cJSON_GetObjectItem(s0, "step")->valuestring, "Registrer");
  assert_int_equal(cJSON_GetObjectItem(s0, "line")->valueint, 12);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s0, "window"), "id")->valuestring,
                      "0x400001");
  assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(s0, "ms"), "total")->valuedouble > 12.3);
  cJSON_Delete(s0);
  cJSON *s1 = cJSON_Parse(strtok_r(NULL, "\n", &save));
  assert_null(cJSON_GetObjectItem(s1, "step"));
  assert_string_equal(cJSON_GetObjectItem(s1, "detail")->valuestring, "5 bytes");
  cJSON_Delete(s1);
  cJSON *a = cJSON_Parse(strtok_r(NULL, "\n", &save));
  assert_int_equal(cJSON_GetObjectItem(a, "n")->valueint, 2);
  assert_string_equal(cJSON_GetObjectItem(a, "verdict")->valuestring, "error");
  cJSON_Delete(a);
  assert_null(strtok_r(NULL, "\n", &save));
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
    cmocka_unit_test(long_run_report_stays_small),
    cmocka_unit_test(html_is_escaped),
    cmocka_unit_test(unwritable_folder_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
