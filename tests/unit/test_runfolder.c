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
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runfolder.h"
#include "vu.h"

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
    rt_steprec s = {.key = key,
                    .kind = "click",
                    .name = "Borger",
                    .ordinal = (i - 1) % 12 + 1,
                    .file = "loop.lua",
                    .line = 9,
                    .window = 0x400001,
                    .detail = det,
                    .verdict = "match",
                    .t_total = 20.5};
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
  rt_steprec s = {.key = "Registrer#1:click",
                  .kind = "click",
                  .name = "Registrer",
                  .ordinal = 1,
                  .file = "scripts/demo.lua",
                  .line = 12,
                  .window = 0x400001,
                  .wclass = "VagtDemo",
                  .detail = "(10,20)",
                  .verdict = "recorded",
                  .t_total = 12.3456,
                  .settled = true,
                  .cap_w = 640,
                  .cap_h = 400,
                  .cap_hash = 0xabcdefull};
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 1);
  s.key = "demo.lua:20:type";
  s.name = NULL;
  s.kind = "type";
  s.detail = "5 bytes";
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 2);
  rt_steplog_amend(l, 2, "type: the window vanished", 1.5);
  assert_int_equal(rt_steplog_count(l), 2);
  assert_int_equal(rt_steplog_write(l, dir, "failed", 1, "demo.lua:20: boom", err, sizeof err), 0);
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

static void rm_rf(const char *dir)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static cJSON *run_json(const char *dir)
{
  char path[512];
  snprintf(path, sizeof path, "%s/run.json", dir);
  char *text = slurp(path);
  assert_non_null(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  assert_non_null(j);
  return j;
}

/* Three steps of a run that is then killed with SIGKILL (in a child process). */
static void run_and_die(const char *dir, bool die)
{
  char err[256];
  rt_steplog *l = rt_steplog_new("kill.lua", "run");
  assert_int_equal(rt_steplog_open(l, dir, err, sizeof err), 0);
  rt_steplog_set(l, "baseline", "kill.baseline");
  assert_int_equal(rt_steplog_write(l, dir, "running", 0, NULL, err, sizeof err), 0);
  for (int i = 1; i <= 3; i++) {
    char key[32];
    snprintf(key, sizeof key, "Borger#%d:click", i);
    rt_steprec s = {.key = key,
                    .kind = "click",
                    .name = "Borger",
                    .ordinal = i,
                    .file = "kill.lua",
                    .line = 4 + i,
                    .verdict = "match",
                    .t_total = 12};
    assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), (size_t)i);
  }
  if (die)
    raise(SIGKILL);
  rt_steplog_free(l);
}

/* A step whose typing was stopped part-way (a window opened) is amended to "drift" with
 * evidence: run.json's last step and the report show it, also when written again from the
 * folder's files alone (the watchdog's path). */
static void drift_amendment_is_kept(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-amend-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char err[256];
  rt_steplog *l = rt_steplog_new("amend.lua", "run");
  assert_int_equal(rt_steplog_open(l, tmpl, err, sizeof err), 0);
  rt_steprec s = {.key = "Notat#1:click",
                  .kind = "click",
                  .file = "amend.lua",
                  .line = 3,
                  .verdict = "match",
                  .t_total = 10};
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 1);
  s.key = "Notat#2:type";
  s.kind = "type";
  s.line = 4;
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 2);
  const char *ev[3] = {"evidence/step-002-recorded.png", "evidence/step-002-current.png", NULL};
  rt_steplog_amend_drift(l, 2, "a new window opened while the step was typing", ev, 3.0);
  assert_int_equal(rt_steplog_write(l, tmpl, "drift", 3, NULL, err, sizeof err), 0);
  assert_int_equal(rt_report_write(l, tmpl, err, sizeof err), 0);
  for (int pass = 0; pass < 2; pass++) {
    cJSON *j = run_json(tmpl);
    cJSON *last = cJSON_GetObjectItem(j, "last_step");
    assert_string_equal(cJSON_GetObjectItem(last, "key")->valuestring, "Notat#2:type");
    assert_string_equal(cJSON_GetObjectItem(last, "verdict")->valuestring, "drift");
    assert_string_equal(cJSON_GetObjectItem(last, "reason")->valuestring,
                        "a new window opened while the step was typing");
    cJSON *e = cJSON_GetObjectItem(last, "evidence");
    assert_non_null(e);
    assert_string_equal(cJSON_GetObjectItem(e, "current")->valuestring,
                        "evidence/step-002-current.png");
    cJSON_Delete(j);
    char path[512];
    snprintf(path, sizeof path, "%s/report.html", tmpl);
    char *report = slurp(path);
    assert_non_null(report);
    assert_non_null(strstr(report, "step-002-current.png"));
    assert_non_null(strstr(report, "a new window opened while the step was typing"));
    free(report);
    if (pass == 0) { /* again from steps.jsonl and run.json alone */
      rt_steplog_free(l);
      assert_int_equal(rt_runfolder_end(tmpl, "drift", 3, NULL, err, sizeof err), 0);
    }
  }
  rm_rf(tmpl);
}

/* A run killed with SIGKILL leaves run.json "running" and its lock free: the reaper marks
 * it "killed" from steps.jsonl, once; the steps that acted stay in steps.jsonl. */
static void killed_run_is_reaped(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-reap-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    run_and_die(tmpl, true);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  cJSON *j = run_json(tmpl);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "running");
  cJSON_Delete(j);
  char path[512];
  snprintf(path, sizeof path, "%s/steps.jsonl", tmpl);
  char *before = slurp(path);

  char err[256] = "";
  assert_int_equal(rt_runfolder_reap(tmpl, err, sizeof err), 1);
  j = run_json(tmpl);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "killed");
  assert_int_equal(cJSON_GetObjectItem(j, "exit_code")->valueint, RT_EXIT_KILLED);
  assert_int_equal(cJSON_GetObjectItem(j, "steps")->valueint, 3);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_step"), "key")->valuestring,
                      "Borger#3:click");
  assert_string_equal(cJSON_GetObjectItem(j, "baseline")->valuestring, "kill.baseline");
  assert_non_null(cJSON_GetObjectItem(j, "finished"));
  cJSON_Delete(j);
  char *after = slurp(path);
  assert_string_equal(before, after);
  free(before);
  free(after);
  snprintf(path, sizeof path, "%s/report.html", tmpl);
  char *report = slurp(path);
  assert_non_null(report);
  assert_non_null(strstr(report, "killed"));
  assert_non_null(strstr(report, "Borger#3:click"));
  free(report);
  /* a second reader finds nothing to do */
  assert_int_equal(rt_runfolder_reap(tmpl, err, sizeof err), 0);
  rm_rf(tmpl);
}

/* A live run holds its lock: the reaper leaves it alone; a finished run too. */
static void live_run_is_not_reaped(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-live-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char err[256];
  rt_steplog *l = rt_steplog_new("live.lua", "run");
  assert_int_equal(rt_steplog_open(l, tmpl, err, sizeof err), 0);
  assert_int_equal(rt_steplog_write(l, tmpl, "running", 0, NULL, err, sizeof err), 0);
  assert_int_equal(rt_runfolder_reap(tmpl, err, sizeof err), 0);
  cJSON *j = run_json(tmpl);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "running");
  cJSON_Delete(j);
  assert_int_equal(rt_steplog_write(l, tmpl, "passed", 0, NULL, err, sizeof err), 0);
  rt_steplog_free(l);
  assert_int_equal(rt_runfolder_reap(tmpl, err, sizeof err), 0);
  j = run_json(tmpl);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "passed");
  cJSON_Delete(j);
  /* a folder without run.lock (an older vagt) is not judged */
  char tmpl2[] = "/tmp/vagt-old-XXXXXX";
  assert_non_null(mkdtemp(tmpl2));
  l = rt_steplog_new("old.lua", "run");
  assert_int_equal(rt_steplog_write(l, tmpl2, "running", 0, NULL, err, sizeof err), 0);
  rt_steplog_free(l);
  assert_int_equal(rt_runfolder_reap(tmpl2, err, sizeof err), 0);
  rm_rf(tmpl);
  rm_rf(tmpl2);
}

/* Symlinks planted in a run folder (at the old fixed temporary name and at the file
 * itself) are replaced, never followed: the files they point at stay as they were. */
static void atomic_write_follows_no_planted_symlink(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-plant-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char victim[512], victim2[512], link[512], path[512], err[256];
  snprintf(victim, sizeof victim, "%s/victim", tmpl);
  snprintf(victim2, sizeof victim2, "%s/victim2", tmpl);
  FILE *f = fopen(victim, "w");
  fputs("precious\n", f);
  fclose(f);
  f = fopen(victim2, "w");
  fputs("precious2\n", f);
  fclose(f);
  char run[256];
  snprintf(run, sizeof run, "%s/run", tmpl);
  assert_int_equal(mkdir(run, 0700), 0);
  snprintf(link, sizeof link, "%s/.approved.json.tmp", run);
  assert_int_equal(symlink(victim, link), 0);
  snprintf(link, sizeof link, "%s/approved.json", run);
  assert_int_equal(symlink(victim2, link), 0);
  assert_int_equal(rt_write_file_atomic(run, "approved.json", "{}\n", 3, err, sizeof err), 0);
  char *v = slurp(victim);
  assert_string_equal(v, "precious\n");
  free(v);
  v = slurp(victim2);
  assert_string_equal(v, "precious2\n");
  free(v);
  struct stat st;
  snprintf(path, sizeof path, "%s/approved.json", run);
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  v = slurp(path);
  assert_string_equal(v, "{}\n");
  free(v);
  rm_rf(tmpl);
}

/* Files read from a run folder: regular files of a bounded size only, never a FIFO (which
 * would hang), a device or a symlink (/dev/zero would eat memory). */
static void bounded_read_refuses_fifo_device_and_symlink(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-read-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/fifo", tmpl);
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_null(vu_read_file(path, 1 << 20, VU_NOFOLLOW, NULL, err, sizeof err));
  assert_non_null(strstr(err, "not a regular file"));
  assert_non_null(strstr(err, path));
  snprintf(path, sizeof path, "%s/zero", tmpl);
  assert_int_equal(symlink("/dev/zero", path), 0);
  assert_null(vu_read_file(path, 1 << 20, VU_NOFOLLOW, NULL, err, sizeof err));
  assert_non_null(strstr(err, "symbolic link"));
  assert_null(vu_read_file("/dev/zero", 1 << 20, VU_NOFOLLOW, NULL, err, sizeof err));
  snprintf(path, sizeof path, "%s/big", tmpl);
  FILE *f = fopen(path, "w");
  for (int i = 0; i < 2000; i++)
    fputs("0123456789", f);
  fclose(f);
  assert_null(vu_read_file(path, 1000, VU_NOFOLLOW, NULL, err, sizeof err));
  assert_non_null(strstr(err, "more than"));
  size_t n = 0;
  char *t = vu_read_file(path, 20000, VU_NOFOLLOW, &n, err, sizeof err);
  assert_non_null(t);
  assert_int_equal(n, 20000);
  free(t);
  rm_rf(tmpl);
}

/* The readers' view of run.json: format 2 as vagt writes it, format 1 (vagt before 2026-12:
 * no "format", every step listed) still read, anything else refused. */
static void run_json_formats_are_read(void **state)
{
  (void)state;
  char tmpl[] = "/tmp/vagt-runs-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char err[256];
  char *dir = rt_runfolder_create(tmpl, "demo", err, sizeof err);
  assert_non_null(dir);
  rt_steplog *l = rt_steplog_new("demo.lua", "run");
  assert_int_equal(rt_steplog_open(l, dir, err, sizeof err), 0);
  rt_steprec s = {.key = "demo.lua:3:click",
                  .kind = "click",
                  .file = "demo.lua",
                  .line = 3,
                  .verdict = "match"};
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 1);
  s.key = "demo.lua:4:key";
  s.line = 4;
  s.verdict = "drift";
  assert_int_equal(rt_steplog_add(l, &s, err, sizeof err), 2);
  assert_int_equal(rt_steplog_write(l, dir, "drift", 3, NULL, err, sizeof err), 0);
  rt_steplog_free(l);
  cJSON *j = run_json(dir);
  assert_int_equal(rt_runjson_version(j), 2);
  assert_int_equal(rt_runjson_steps(j), 2);
  assert_string_equal(cJSON_GetObjectItem(rt_runjson_last_step(j), "key")->valuestring,
                      "demo.lua:4:key");
  cJSON_Delete(j);

  /* a run.json as vagt 0.x wrote it */
  j = cJSON_Parse("{\"vagt\": \"0.4.0\", \"script\": \"demo.lua\", \"mode\": \"run\", "
                  "\"started\": \"2026-11-02T08:00:00Z\", \"status\": \"drift\", "
                  "\"steps\": [{\"key\": \"demo.lua:3:click\", \"line\": 3}, "
                  "{\"key\": \"demo.lua:4:key\", \"step\": \"Gem\", \"line\": 4, "
                  "\"verdict\": \"drift\"}], \"exit_code\": 3, "
                  "\"finished\": \"2026-11-02T08:00:09Z\"}");
  assert_int_equal(rt_runjson_version(j), 1);
  assert_int_equal(rt_runjson_steps(j), 2);
  assert_string_equal(cJSON_GetObjectItem(rt_runjson_last_step(j), "step")->valuestring, "Gem");
  cJSON_Delete(j);

  static const char *const foreign[] = {
      "{\"status\": \"passed\"}",
      "{\"format\": \"vagt-run\", \"version\": 3, \"steps\": 1}",
      "{\"format\": \"other\", \"version\": 2}",
      "{\"format\": 1, \"vagt\": \"0.4.0\", \"steps\": []}",
      "[1, 2]",
  };
  for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
    j = cJSON_Parse(foreign[i]);
    assert_non_null(j);
    assert_int_equal(rt_runjson_version(j), 0);
    cJSON_Delete(j);
  }
  rm_rf(tmpl);
  free(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(drift_amendment_is_kept),
      cmocka_unit_test(killed_run_is_reaped),
      cmocka_unit_test(live_run_is_not_reaped),
      cmocka_unit_test(atomic_write_follows_no_planted_symlink),
      cmocka_unit_test(bounded_read_refuses_fifo_device_and_symlink),
      cmocka_unit_test(run_json_has_steps_and_modes),
      cmocka_unit_test(run_json_formats_are_read),
      cmocka_unit_test(long_run_report_stays_small),
      cmocka_unit_test(html_is_escaped),
      cmocka_unit_test(unwritable_folder_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
