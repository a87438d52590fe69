/* The agent's configuration: what it loads, and that every mistake is reported with the
 * file and line, all of them at once. */
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

#include "ag_config.h"

static char dir[64];

static int setup(void **state)
{
  (void)state;
  strcpy(dir, "/tmp/vagt-agcfg-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  char p[128];
  snprintf(p, sizeof p, "%s/robot.lua", dir);
  FILE *f = fopen(p, "w");
  fputs("robot.log('hi')\n", f);
  fclose(f);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}

static const char *write_cfg(const char *name, const char *text)
{
  static char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
  return p;
}

/* Loads; returns the config (or NULL) and the error text in *errs (malloc'd). */
static ag_config *load(const char *path, int flags, char **errs)
{
  size_t len = 0;
  FILE *ef = open_memstream(errs, &len);
  ag_config *c = ag_config_load(path, flags, ef);
  fclose(ef);
  return c;
}

static void has(const char *errs, const char *want)
{
  if (!strstr(errs, want))
    fail_msg("missing error '%s' in:\n%s", want, errs);
}

static void good(void **state)
{
  (void)state;
  const char *p = write_cfg(
      "good.lua",
      "state = \"st\"\n"
      "listen = false\n"
      "max_parallel = 3\n"
      "local base = \"robot\"\n"
      "channel \"ops\" { webhook = \"https://alerts.example/vagt\", syslog = true,\n"
      "  email = { to = { \"a@x.dk\", \"b@x.dk\" }, from = \"vagt@x.dk\",\n"
      "            smtp = \"smtp://mail.x.dk:25\" } }\n"
      "robot \"nightly\" {\n"
      "  script = base .. \".lua\", schedule = \"30 2 * * 1-5\", tz = \"Europe/Copenhagen\",\n"
      "  timeout = 120, params = { batch = \"/srv/in/cpr.csv\", n = 3 }, alert = { \"ops\" },\n"
      "  catch_up = false, alert_on = { \"drift\" },\n"
      "}\n"
      "robot \"manual\" { script = \"robot.lua\" }\n");
  char *errs = NULL;
  ag_config *c = load(p, AG_CFG_WEB, &errs);
  if (!c)
    fail_msg("did not load:\n%s", errs);
  free(errs);
  assert_int_equal(c->max_parallel, 3);
  assert_int_equal(c->retention_days, 30); /* the default */
  assert_null(c->listen);
  char want[128];
  snprintf(want, sizeof want, "%s/st", dir);
  char *real = realpath(dir, NULL);
  snprintf(want, sizeof want, "%s/st", real);
  assert_string_equal(c->state, want);
  assert_int_equal(c->nrobots, 2);
  ag_robot *r = ag_config_robot(c, "nightly");
  assert_non_null(r);
  assert_int_equal(r->line, 8);
  snprintf(want, sizeof want, "%s/robot.lua", real);
  assert_string_equal(r->script, want);
  assert_string_equal(r->tz, "Europe/Copenhagen");
  assert_true(r->timeout == 120);
  assert_false(r->catch_up);
  assert_true(r->alert_drift);
  assert_false(r->alert_failure);
  assert_string_equal(r->alert[0], "ops");
  assert_null(r->alert[1]);
  int found = 0;
  for (char **kv = r->params; *kv; kv++)
    found += strcmp(*kv, "batch=/srv/in/cpr.csv") == 0 || strcmp(*kv, "n=3") == 0;
  assert_int_equal(found, 2);
  r = ag_config_robot(c, "manual");
  assert_null(r->schedule);
  assert_true(r->catch_up);
  assert_true(r->timeout == 3600);
  ag_channel *ch = ag_config_channel(c, "ops");
  assert_string_equal(ch->email_to[1], "b@x.dk");
  assert_true(ch->syslog);
  free(real);
  ag_config_free(c);
}

static void all_mistakes(void **state)
{
  (void)state;
  const char *p = write_cfg(
      "bad.lua", "state = \"st\"\n"                                                    /* 1 */
                 "max_paralel = 2\n"                                                   /* 2 */
                 "listen = \"localhost\"\n"                                            /* 3 */
                 "channel \"ops\" { webhok = \"http://x\" }\n"                         /* 4 */
                 "channel \"mail\" { email = { to = \"a@x\", smtp = \"mail:25\" } }\n" /* 5 */
                 "robot \"nightly\" {\n"                                               /* 6 */
                 "  script = \"missing.lua\",\n"
                 "  schedule = \"30 25 * * *\", tz = \"Europe/Kopenhagen\",\n"
                 "  timeout = \"1h\", alert = { \"ops\", \"pager\" }, catchup = true,\n"
                 "}\n"
                 "robot \"nightly\" { script = \"robot.lua\" }\n"                        /* 11 */
                 "robot \"x y\" { script = \"robot.lua\", schedule = \"0 0 30 2 *\" }\n" /* 12 */
                 "robot \"half\"\n");                                                    /* 13 */
  char *errs = NULL;
  ag_config *c = load(p, 0, &errs);
  assert_null(c);
  has(errs, "bad.lua:2: unknown setting 'max_paralel'");
  has(errs, "bad.lua:3: listen 'localhost': expected \"ADDRESS:PORT\"");
  has(errs, "bad.lua:4: channel 'ops': unknown key 'webhok'");
  has(errs, "bad.lua:5: channel 'mail' email: 'from' is required");
  has(errs, "bad.lua:5: channel 'mail' email: smtp 'mail:25' must be an smtp://");
  has(errs, "bad.lua:6: robot 'nightly': cannot read script");
  has(errs, "bad.lua:6: robot 'nightly': schedule '30 25 * * *': field 2 (hour) '25': 25 is "
            "out of range 0-23");
  has(errs, "bad.lua:6: robot 'nightly': unknown time zone 'Europe/Kopenhagen'");
  has(errs, "bad.lua:6: robot 'nightly': 'timeout' must be a number");
  has(errs, "bad.lua:6: robot 'nightly': unknown key 'catchup'");
  has(errs, "bad.lua:6: robot 'nightly': alert channel 'pager' is not declared");
  has(errs, "bad.lua:11: robot 'nightly' is declared twice");
  has(errs, "bad.lua:12: robot name 'x y'");
  has(errs, "bad.lua:12: robot 'x y': schedule '0 0 30 2 *' never matches");
  has(errs, "bad.lua:13: robot 'half' has no settings");
  free(errs);
}

/* retention_days: a whole number of days, 1 to 3650; a mistake names its line. */
static void retention(void **state)
{
  (void)state;
  char *errs = NULL;
  const char *p = write_cfg("ret.lua", "state = \"st\"\nlisten = false\nretention_days = 7\n");
  ag_config *c = load(p, 0, &errs);
  if (!c)
    fail_msg("did not load:\n%s", errs);
  free(errs);
  assert_int_equal(c->retention_days, 7);
  ag_config_free(c);
  static const char *const bad[] = {"0", "-1", "1.5", "\"30d\"", "3651", "true", NULL};
  for (const char *const *b = bad; *b; b++) {
    char text[128];
    snprintf(text, sizeof text, "state = \"st\"\nlisten = false\n\nretention_days = %s\n", *b);
    p = write_cfg("ret.lua", text);
    errs = NULL;
    c = load(p, 0, &errs);
    if (c)
      fail_msg("retention_days = %s was accepted", *b);
    has(errs, "ret.lua:4: 'retention_days' must be a whole number of days 1-3650");
    free(errs);
  }
}

static void lua_errors(void **state)
{
  (void)state;
  char *errs = NULL;
  const char *p = write_cfg("syntax.lua", "state = \"x\"\nrobot \"a\" {\n  script = \"r.lua\"\n");
  assert_null(load(p, 0, &errs));
  has(errs, "syntax.lua:");
  has(errs, "'}' expected");
  free(errs);
  p = write_cfg("sandbox.lua", "state = \"x\"\n\nlocal f = io.open(\"/etc/passwd\")\n");
  assert_null(load(p, 0, &errs));
  has(errs, "sandbox.lua:3: 'io' is not available");
  free(errs);
  p = write_cfg("name.lua", "robot { script = \"r.lua\" }\n");
  assert_null(load(p, 0, &errs));
  has(errs, "name.lua:1: robot: expected a name");
  free(errs);
  p = write_cfg("loop.lua", "while true do end\n");
  assert_null(load(p, 0, &errs));
  has(errs, "took longer than");
  free(errs);
  assert_null(load("/nonexistent/agent.lua", 0, &errs));
  has(errs, "cannot open /nonexistent/agent.lua");
  free(errs);
}

/* Fleet mode: the database address goes to libpq's parser, a password in it is refused
 * (and not echoed), node names are checked, the node defaults to the host name. */
static void fleet_settings(void **state)
{
  (void)state;
  char *errs = NULL;
  const char *p = write_cfg("fleet.lua",
                            "state = \"s\"\nlisten = false\n"
                            "database = \"postgresql://vagt@db.example/vagt?sslmode=verify-full\"\n"
                            "database_password_file = \"pg.pw\"\nnode = \"robot-3\"\n"
                            "robot \"a\" { script = \"robot.lua\" }\n");
  ag_config *c = load(p, 0, &errs);
  assert_non_null(c);
  assert_string_equal(c->database, "postgresql://vagt@db.example/vagt?sslmode=verify-full");
  assert_non_null(strstr(c->database_password_file, "/pg.pw"));
  assert_int_equal(c->database_password_file[0], '/');
  assert_string_equal(c->node, "robot-3");
  ag_config_free(c);
  free(errs);
  p = write_cfg("fleet2.lua", "listen = false\nrobot \"a\" { script = \"robot.lua\" }\n");
  c = load(p, 0, &errs);
  assert_non_null(c);
  assert_null(c->database);
  assert_non_null(c->node); /* the host name, or "node" */
  assert_true(c->node[0] != 0);
  ag_config_free(c);
  free(errs);
  p = write_cfg("fleetbad.lua", "listen = false\n"
                                "database = \"host=db bogus_option=1\"\n"
                                "node = \"a b\"\n"
                                "robot \"a\" { script = \"robot.lua\" }\n");
  assert_null(load(p, 0, &errs));
  has(errs, "fleetbad.lua:2: 'database': not a PostgreSQL connection string");
  has(errs, "fleetbad.lua:3: 'node' must be 1-64 letters");
  free(errs);
  p = write_cfg("fleetkv.lua",
                "listen = false\ndatabase = \"host=db dbname=vagt password=Hemmelig42\"\n"
                "robot \"a\" { script = \"robot.lua\" }\n");
  assert_null(load(p, 0, &errs));
  has(errs, "fleetkv.lua:2: 'database' holds a password");
  assert_null(strstr(errs, "Hemmelig42"));
  free(errs);
  p = write_cfg("fleetpw.lua",
                "listen = false\ndatabase = \"postgresql://vagt:Hemmelig42@db/vagt\"\n"
                "robot \"a\" { script = \"robot.lua\" }\n");
  assert_null(load(p, 0, &errs));
  has(errs, "fleetpw.lua:2: 'database' holds a password");
  assert_null(strstr(errs, "Hemmelig42"));
  free(errs);
}

static void token_file(void **state)
{
  (void)state;
  char tok[128];
  snprintf(tok, sizeof tok, "%s/token", dir);
  FILE *f = fopen(tok, "w");
  fputs("s3cret-token-0123456789\n", f);
  fclose(f);
  chmod(tok, 0644);
  const char *p = write_cfg("web.lua", "state = \"st\"\nlisten = \"127.0.0.1:8470\"\n"
                                       "token_file = \"token\"\n");
  char *errs = NULL;
  assert_null(load(p, AG_CFG_WEB, &errs));
  has(errs, "web.lua:3: token file");
  has(errs, "can be read by group or others (mode 644)");
  free(errs);
  ag_config *c = load(p, 0, &errs); /* --once: no pages, no token needed */
  assert_non_null(c);
  ag_config_free(c);
  free(errs);
  chmod(tok, 0600);
  c = load(p, AG_CFG_WEB, &errs);
  if (!c)
    fail_msg("%s", errs);
  free(errs);
  char err[256];
  char *t = ag_token_read(c->token_file, err, sizeof err);
  assert_string_equal(t, "s3cret-token-0123456789");
  free(t);
  ag_config_free(c);
  p = write_cfg("notoken.lua", "state = \"st\"\n");
  assert_null(load(p, AG_CFG_WEB, &errs));
  has(errs, "need token_file");
  free(errs);
}

/* A channel's TLS and syslog settings: email.cainfo (a readable regular file) and
 * syslog = true | { socket = PATH }; paths relative to the configuration's folder, every
 * mistake with its line. */
static void channel_tls_syslog(void **state)
{
  (void)state;
  write_cfg("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const char *p = write_cfg(
      "tls.lua", "state = \"st\"\nlisten = false\n"
                 "channel \"a\" { syslog = { socket = \"log.sock\" },\n"
                 "  email = { to = \"a@x.dk\", from = \"v@x.dk\", smtp = \"smtps://m.x.dk\", "
                 "cainfo = \"ca.pem\" } }\n"
                 "channel \"b\" { syslog = true }\n"
                 "channel \"c\" { webhook = \"http://x/\", syslog = false }\n");
  char *errs = NULL;
  ag_config *c = load(p, 0, &errs);
  if (!c)
    fail_msg("did not load:\n%s", errs);
  free(errs);
  char *real = realpath(dir, NULL), want[256];
  ag_channel *ch = ag_config_channel(c, "a");
  assert_true(ch->syslog);
  snprintf(want, sizeof want, "%s/log.sock", real);
  assert_string_equal(ch->syslog_socket, want);
  snprintf(want, sizeof want, "%s/ca.pem", real);
  assert_string_equal(ch->smtp_cainfo, want);
  ch = ag_config_channel(c, "b");
  assert_true(ch->syslog);
  assert_null(ch->syslog_socket); /* /dev/log */
  assert_null(ch->smtp_cainfo);
  assert_false(ag_config_channel(c, "c")->syslog);
  ag_config_free(c);
  free(real);

  char text[2048], longpath[160];
  memset(longpath, 'x', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = '\0';
#define MAIL "to = \"a@x\", from = \"v@x\", smtp = \"smtp://m:25\""
  snprintf(text, sizeof text,
           "state = \"st\"\nlisten = false\n"
           "channel \"a\" { syslog = \"yes\" }\n"                               /* 3 */
           "channel \"b\" { syslog = { sock = \"x\" } }\n"                      /* 4 */
           "channel \"c\" { syslog = { socket = 5 } }\n"                        /* 5 */
           "channel \"d\" { syslog = { socket = \"/%s\" } }\n"                  /* 6 */
           "channel \"e\" { email = { " MAIL ", cainfo = \"missing.pem\" } }\n" /* 7 */
           "channel \"f\" { email = { " MAIL ", cainfo = \".\" } }\n"           /* 8 */
           "channel \"g\" { email = { " MAIL ", cainfo = 1 } }\n",              /* 9 */
           longpath);
#undef MAIL
  p = write_cfg("tlsbad.lua", text);
  errs = NULL;
  c = load(p, 0, &errs);
  assert_null(c);
  has(errs, "tlsbad.lua:3: channel 'a': 'syslog' must be true, false or { socket = \"/path\" }, "
            "got string");
  has(errs, "tlsbad.lua:4: channel 'b' syslog: unknown key 'sock' (known: socket)");
  has(errs, "tlsbad.lua:5: channel 'c' syslog: 'socket' must be a string, got number");
  has(errs, "tlsbad.lua:6: channel 'd' syslog: socket path '/xxx");
  has(errs, "is longer than a unix socket allows (107)");
  has(errs, "tlsbad.lua:7: channel 'e' email: cainfo ");
  has(errs, "/missing.pem: No such file or directory");
  has(errs, "tlsbad.lua:8: channel 'f' email: cainfo ");
  has(errs, " is not a regular file");
  has(errs, "tlsbad.lua:9: channel 'g' email: 'cainfo' must be a string, got number");
  free(errs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good),
      cmocka_unit_test(all_mistakes),
      cmocka_unit_test(retention),
      cmocka_unit_test(lua_errors),
      cmocka_unit_test(fleet_settings),
      cmocka_unit_test(token_file),
      cmocka_unit_test(channel_tls_syslog),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
