#include "ag_config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <libpq-fe.h>
#include <lua.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ag_util.h"
#include "sandbox.h"
#include "spawn.h"
#include "vu.h"

#define CFG_MEM_LIMIT ((size_t)64 << 20)
#define CFG_TIME_LIMIT 5.0
#define CFG_KILL_AFTER (CFG_TIME_LIMIT + 3) /* also for what no Lua hook can stop */
#define CFG_MAX_RESULT ((size_t)16 << 20)

typedef struct {
  char **v;
  size_t n;
  const char *file;
} errlist;

static void err_add(errlist *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_add(errlist *e, int line, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *s = NULL;
  if (line > 0) {
    if (ag_asprintf(&s, "%s:%d: %s", e->file, line, msg) < 0)
      s = NULL;
  } else if (ag_asprintf(&s, "%s: %s", e->file, msg) < 0) {
    s = NULL;
  }
  char **v = realloc(e->v, (e->n + 1) * sizeof *v);
  if (!v || !s) {
    free(s);
    return;
  }
  e->v = v;
  e->v[e->n++] = s;
}

static errlist *errs_of(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.errs");
  errlist *e = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return e;
}

/* Line of the Lua code calling the C function running now. */
static int caller_line(lua_State *L)
{
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
      return ar.currentline;
  return 0;
}

/* Pushes t[k] without metamethods: a settings table is data, and code run from it after
 * the configuration's own pcall would run unprotected. */
static int rawfield(lua_State *L, int t, const char *k)
{
  t = lua_absindex(L, t);
  lua_pushstring(L, k);
  return lua_rawget(L, t);
}

/* A settings table must be a plain table: a metatable would make its values depend on code
 * the loader does not run. */
static bool plain_table(lua_State *L, int idx, errlist *e, int line, const char *what)
{
  if (!lua_getmetatable(L, idx))
    return true;
  lua_pop(L, 1);
  err_add(e, line, "%s: the table has a metatable; write plain values (no setmetatable)", what);
  return false;
}

static const char *const known_globals[] = {"state",
                                            "listen",
                                            "token_file",
                                            "max_parallel",
                                            "public_url",
                                            "allow",
                                            "retention_days",
                                            "approvals",
                                            "trusted_proxy",
                                            "database",
                                            "database_password_file",
                                            "node",
                                            "item_lease",
                                            "items_key_file",
                                            NULL};

static int l_env_newindex(lua_State *L)
{
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  for (const char *const *g = known_globals; k && *g; g++)
    if (strcmp(k, *g) == 0) {
      lua_rawset(L, 1);
      lua_getfield(L, LUA_REGISTRYINDEX, "ag.glines");
      lua_pushinteger(L, caller_line(L));
      lua_setfield(L, -2, k);
      return 0;
    }
  err_add(errs_of(L), caller_line(L),
          "unknown setting '%s' (known: state, listen, token_file, max_parallel, "
          "public_url, allow, retention_days, approvals, trusted_proxy, database, "
          "database_password_file, node, item_lease, items_key_file; use `local` for "
          "helper "
          "variables)",
          k ? k : luaL_typename(L, 2));
  return 0;
}

/* channel "x" / robot "x": records the declaration and returns the function that takes
 * its settings table. */
static int l_decl_body(lua_State *L)
{
  lua_pushvalue(L, lua_upvalueindex(1));
  const char *kind = (rawfield(L, -1, "kind"), lua_tostring(L, -1));
  lua_pop(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L,
                      "%s: expected a table of settings after the name, as in "
                      "%s \"name\" { ... }, got %s",
                      kind, kind, luaL_typename(L, 1));
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "t");
  return 0;
}

static int l_decl(lua_State *L)
{
  const char *kind = lua_tostring(L, lua_upvalueindex(1));
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "%s: expected a name, as in %s \"name\" { ... }, got %s", kind, kind,
                      luaL_typename(L, 1));
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.decls");
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "name");
  lua_pushinteger(L, caller_line(L));
  lua_setfield(L, -2, "line");
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
  lua_pushcclosure(L, l_decl_body, 1);
  return 1;
}

/* The line the configuration runs now, in memory shared with the parent (ag_config_load):
 * when the loader has to be killed, this is the line to name. */
static volatile int *g_line;

static void cfg_hook(lua_State *L, lua_Debug *ar)
{
  if (ar->event == LUA_HOOKLINE) {
    if (g_line)
      *g_line = ar->currentline;
    return;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.deadline");
  double dl = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (vu_mono() > dl)
    luaL_error(L, "the configuration took longer than %d s to run", (int)CFG_TIME_LIMIT);
}

static char *abs_path(const char *dir, const char *p)
{
  char *s = NULL;
  if (p[0] == '/')
    return strdup(p);
  if (ag_asprintf(&s, "%s/%s", dir, p) < 0)
    return NULL;
  return s;
}

static bool str_field(lua_State *L, int t, const char *k, char **out, errlist *e, int line,
                      const char *what)
{
  rawfield(L, t, k);
  bool ok = true;
  if (lua_type(L, -1) == LUA_TSTRING) {
    *out = strdup(lua_tostring(L, -1));
  } else if (!lua_isnil(L, -1)) {
    err_add(e, line, "%s: '%s' must be a string, got %s", what, k, luaL_typename(L, -1));
    ok = false;
  }
  lua_pop(L, 1);
  return ok;
}

static void bool_field(lua_State *L, int t, const char *k, bool *out, bool def, errlist *e,
                       int line, const char *what)
{
  rawfield(L, t, k);
  *out = def;
  if (lua_type(L, -1) == LUA_TBOOLEAN)
    *out = lua_toboolean(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, line, "%s: '%s' must be true or false, got %s", what, k, luaL_typename(L, -1));
  lua_pop(L, 1);
}

/* Every key of the table at t must be in `known`. */
static void check_keys(lua_State *L, int t, const char *const *known, errlist *e, int line,
                       const char *what)
{
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      err_add(e, line, "%s: unexpected %s key in the settings table", what, luaL_typename(L, -1));
      continue;
    }
    const char *k = lua_tostring(L, -1);
    bool ok = false;
    for (const char *const *n = known; *n && !ok; n++)
      ok = strcmp(*n, k) == 0;
    if (!ok) {
      char list[512] = "";
      for (const char *const *n = known; *n; n++) {
        if (list[0])
          strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, *n, sizeof list - strlen(list) - 1);
      }
      err_add(e, line, "%s: unknown key '%s' (known: %s)", what, k, list);
    }
  }
}

/* A string or a list of strings into a NULL-terminated array. */
static char **str_list(lua_State *L, int idx, errlist *e, int line, const char *what, const char *k)
{
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    char **v = calloc(2, sizeof *v);
    if (v)
      v[0] = strdup(lua_tostring(L, idx));
    return v;
  }
  if (lua_type(L, idx) != LUA_TTABLE) {
    err_add(e, line, "%s: '%s' must be a string or a list of strings, got %s", what, k,
            luaL_typename(L, idx));
    return NULL;
  }
  char w[192];
  snprintf(w, sizeof w, "%s: '%s'", what, k);
  if (!plain_table(L, idx, e, line, w))
    return NULL;
  size_t n = lua_rawlen(L, idx);
  char **v = calloc(n + 1, sizeof *v);
  for (size_t i = 1; v && i <= n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i);
    if (lua_type(L, -1) == LUA_TSTRING)
      v[i - 1] = strdup(lua_tostring(L, -1));
    else {
      err_add(e, line, "%s: '%s' item %zu must be a string, got %s", what, k, i,
              luaL_typename(L, -1));
      v[i - 1] = strdup("");
    }
    lua_pop(L, 1);
  }
  return v;
}

static void free_list(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

static bool valid_name(const char *s)
{
  if (!*s || strlen(s) > 64)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
      return false;
  return true;
}

/* CR or LF in an address or URL would let a value write its own SMTP command or HTTP
 * header at delivery; no control character belongs in one. */
static bool has_ctl(const char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

static void no_ctl(const char *v, errlist *e, int line, const char *what, const char *k)
{
  if (has_ctl(v))
    err_add(e, line,
            "%s: '%s' holds a control character (CR, LF, ...): not allowed in an "
            "address or URL",
            what, k);
}

static const char *const channel_keys[] = {"webhook", "email", "syslog", NULL};
static const char *const email_keys[] = {"to",     "from", "smtp", "user", "password_file",
                                         "cainfo", NULL};
static const char *const syslog_keys[] = {"socket", NULL};

/* syslog = true | false | { socket = "/path" }: the unix datagram socket the line goes to
 * (default /dev/log; relative to the configuration's folder). */
static void load_syslog(lua_State *L, int t, ag_channel *ch, ag_config *c, errlist *e, int line,
                        const char *what)
{
  rawfield(L, t, "syslog");
  int s = lua_gettop(L);
  if (lua_type(L, s) == LUA_TBOOLEAN) {
    ch->syslog = lua_toboolean(L, s);
  } else if (lua_type(L, s) == LUA_TTABLE) {
    char sw[160];
    snprintf(sw, sizeof sw, "%s syslog", what);
    if (plain_table(L, s, e, line, sw)) {
      check_keys(L, s, syslog_keys, e, line, sw);
      char *sock = NULL;
      if (str_field(L, s, "socket", &sock, e, line, sw) && sock) {
        struct sockaddr_un sa;
        if (!sock[0] || has_ctl(sock))
          err_add(e, line, "%s: 'socket' must be the path of a unix socket, got \"%s\"", sw,
                  has_ctl(sock) ? "(a control character)" : sock);
        else if (!(ch->syslog_socket = abs_path(c->dir, sock)))
          err_add(e, line, "%s: out of memory", sw);
        else if (strlen(ch->syslog_socket) >= sizeof sa.sun_path)
          err_add(e, line, "%s: socket path '%s' is longer than a unix socket allows (%zu)", sw,
                  ch->syslog_socket, sizeof sa.sun_path - 1);
      }
      free(sock);
      ch->syslog = true;
    }
  } else if (!lua_isnil(L, s)) {
    err_add(e, line, "%s: 'syslog' must be true, false or { socket = \"/path\" }, got %s", what,
            luaL_typename(L, s));
  }
  lua_pop(L, 1);
}

static void load_channel(lua_State *L, int t, ag_channel *ch, ag_config *c, errlist *e)
{
  char what[128];
  snprintf(what, sizeof what, "channel '%s'", ch->name);
  int line = ch->line;
  if (!plain_table(L, t, e, line, what))
    return;
  check_keys(L, t, channel_keys, e, line, what);
  if (str_field(L, t, "webhook", &ch->webhook, e, line, what) && ch->webhook &&
      has_ctl(ch->webhook))
    err_add(e, line,
            "%s: webhook holds a control character (CR, LF, ...): not allowed in a "
            "URL",
            what);
  else if (ch->webhook && strncmp(ch->webhook, "http://", 7) != 0 &&
           strncmp(ch->webhook, "https://", 8) != 0)
    err_add(e, line, "%s: webhook '%s' must be an http:// or https:// URL", what, ch->webhook);
  load_syslog(L, t, ch, c, e, line, what);
  rawfield(L, t, "email");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int m = lua_gettop(L);
    char ew[160];
    snprintf(ew, sizeof ew, "%s email", what);
    if (!plain_table(L, m, e, line, ew)) {
      lua_pop(L, 1);
      return;
    }
    check_keys(L, m, email_keys, e, line, ew);
    rawfield(L, m, "to");
    if (lua_isnil(L, -1))
      err_add(e, line, "%s: 'to' is required (an address or a list of addresses)", ew);
    else
      ch->email_to = str_list(L, -1, e, line, ew, "to");
    lua_pop(L, 1);
    for (char **x = ch->email_to; x && *x; x++)
      no_ctl(*x, e, line, ew, "to");
    str_field(L, m, "from", &ch->email_from, e, line, ew);
    str_field(L, m, "smtp", &ch->smtp, e, line, ew);
    str_field(L, m, "user", &ch->smtp_user, e, line, ew);
    no_ctl(ch->email_from, e, line, ew, "from");
    no_ctl(ch->smtp_user, e, line, ew, "user");
    char *pw = NULL;
    str_field(L, m, "password_file", &pw, e, line, ew);
    if (pw) {
      ch->smtp_password_file = abs_path(c->dir, pw);
      free(pw);
    }
    char *ca = NULL;
    if (str_field(L, m, "cainfo", &ca, e, line, ew) && ca) {
      struct stat st;
      if (!ca[0] || has_ctl(ca))
        err_add(e, line, "%s: 'cainfo' must be the path of a PEM file of CA certificates", ew);
      else if (!(ch->smtp_cainfo = abs_path(c->dir, ca)))
        err_add(e, line, "%s: out of memory", ew);
      else if (stat(ch->smtp_cainfo, &st) != 0)
        err_add(e, line, "%s: cainfo %s: %s", ew, ch->smtp_cainfo, strerror(errno));
      else if (!S_ISREG(st.st_mode))
        err_add(e, line, "%s: cainfo %s is not a regular file", ew, ch->smtp_cainfo);
      else if (access(ch->smtp_cainfo, R_OK) != 0)
        err_add(e, line, "%s: cainfo %s is not readable: %s", ew, ch->smtp_cainfo, strerror(errno));
    }
    free(ca);
    if (!ch->email_from)
      err_add(e, line, "%s: 'from' is required", ew);
    if (!ch->smtp)
      err_add(e, line, "%s: 'smtp' is required, e.g. \"smtp://mail.example:25\"", ew);
    else if (has_ctl(ch->smtp))
      no_ctl(ch->smtp, e, line, ew, "smtp");
    else if (strncmp(ch->smtp, "smtp://", 7) != 0 && strncmp(ch->smtp, "smtps://", 8) != 0)
      err_add(e, line, "%s: smtp '%s' must be an smtp:// or smtps:// URL", ew, ch->smtp);
  } else if (!lua_isnil(L, -1)) {
    err_add(e, line, "%s: 'email' must be a table { to =, from =, smtp = }, got %s", what,
            luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (!ch->webhook && !ch->email_to && !ch->syslog)
    err_add(e, line, "%s: no way to deliver: give webhook, email or syslog = true", what);
}

/* An optional whole number from lo to hi, def when absent. */
static void int_field(lua_State *L, int t, const char *k, int *out, int def, int lo, int hi,
                      errlist *e, int line, const char *what)
{
  *out = def;
  rawfield(L, t, k);
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= lo && lua_tointeger(L, -1) <= hi)
    *out = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, line, "%s: '%s' must be a whole number %d-%d", what, k, lo, hi);
  lua_pop(L, 1);
}

static const char *const robot_keys[] = {"script", "baseline", "schedule", "tz",       "timeout",
                                         "params", "alert",    "alert_on", "catch_up", "enabled",
                                         "screen", "allow",    "seats",    "spread",   NULL};
static const char *const allow_keys[] = {"programs", "files", NULL};

/* allow = { programs = { "xcalc", "/opt/sag/bin/sag" }, files = { "/srv/vagt/in" } } at
 * idx: programs must exist now (found in the agent's PATH, or a path from the file's
 * folder), files and folders too; both become absolute paths. */
static void load_allow(lua_State *L, int idx, ag_allow *a, const ag_config *c, errlist *e, int line,
                       const char *owner)
{
  char what[160];
  snprintf(what, sizeof what, "%s'allow'", owner);
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) {
    err_add(e, line, "%s must be a table { programs = {...}, files = {...} }, got %s", what,
            luaL_typename(L, idx));
    return;
  }
  if (!plain_table(L, idx, e, line, what))
    return;
  check_keys(L, idx, allow_keys, e, line, what);
  a->set = true;
  rawfield(L, idx, "programs");
  a->programs = lua_isnil(L, -1) ? NULL : str_list(L, -1, e, line, what, "programs");
  lua_pop(L, 1);
  rawfield(L, idx, "files");
  a->files =
      lua_isnil(L, -1) ? calloc(1, sizeof *a->files) : str_list(L, -1, e, line, what, "files");
  lua_pop(L, 1);
  if (!a->programs || !a->programs[0])
    err_add(e, line,
            "%s: 'programs' must list at least one program (a robot that may start "
            "nothing has nothing to drive)",
            what);
  for (char **p = a->programs; p && *p; p++) {
    char path[4096], why[512];
    char *given = strchr(*p, '/') ? abs_path(c->dir, *p) : strdup(*p);
    if (given && rt_spawn_which(given, NULL, NULL, path, sizeof path, why, sizeof why) != 0)
      err_add(e, line, "%s: program '%s': %s", what, *p, why);
    else if (given) {
      free(*p);
      *p = strdup(path);
    }
    free(given);
  }
  for (char **f = a->files; f && *f; f++) {
    char *full = abs_path(c->dir, *f);
    struct stat st;
    if (full && stat(full, &st) != 0)
      err_add(e, line, "%s: file '%s': %s", what, full, strerror(errno));
    if (full) {
      free(*f);
      *f = full;
    }
  }
}

static void load_robot(lua_State *L, int t, ag_robot *r, ag_config *c, errlist *e)
{
  char what[128];
  snprintf(what, sizeof what, "robot '%s'", r->name);
  int line = r->line;
  if (!plain_table(L, t, e, line, what)) {
    r->params = calloc(1, sizeof *r->params);
    r->alert = calloc(1, sizeof *r->alert);
    return;
  }
  check_keys(L, t, robot_keys, e, line, what);
  char *s = NULL;
  str_field(L, t, "script", &s, e, line, what);
  if (!s) {
    rawfield(L, t, "script");
    if (lua_isnil(L, -1))
      err_add(e, line, "%s: 'script' is required", what);
    lua_pop(L, 1);
  } else {
    r->script = abs_path(c->dir, s);
    free(s);
    struct stat sst;
    if (r->script && access(r->script, R_OK) != 0)
      err_add(e, line, "%s: cannot read script %s: %s", what, r->script, strerror(errno));
    else if (r->script && (stat(r->script, &sst) != 0 || !S_ISREG(sst.st_mode)))
      err_add(e, line, "%s: script %s is not a regular file", what, r->script);
  }
  s = NULL;
  str_field(L, t, "baseline", &s, e, line, what);
  if (s) {
    r->baseline = abs_path(c->dir, s);
    free(s);
  }
  if (str_field(L, t, "schedule", &r->schedule, e, line, what) && r->schedule) {
    char err[256];
    if (ag_cron_parse(r->schedule, &r->cron, err, sizeof err) != 0)
      err_add(e, line, "%s: schedule '%s': %s", what, r->schedule, err);
  }
  if (str_field(L, t, "tz", &r->tz, e, line, what) && r->tz && !ag_tz_valid(r->tz))
    err_add(e, line,
            "%s: unknown time zone '%s' (a name under /usr/share/zoneinfo, e.g. "
            "\"Europe/Copenhagen\")",
            what, r->tz);
  if (r->schedule && (!r->tz || ag_tz_valid(r->tz)) && r->cron.minute &&
      ag_cron_next(&r->cron, r->tz, time(NULL)) == (time_t)-1)
    err_add(e, line, "%s: schedule '%s' never matches a real date", what, r->schedule);
  r->timeout = 3600;
  rawfield(L, t, "timeout");
  if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) > 0)
    r->timeout = lua_tonumber(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, line, "%s: 'timeout' must be a number of seconds > 0", what);
  lua_pop(L, 1);
  rawfield(L, t, "allow");
  if (!lua_isnil(L, -1)) {
    char owner[160];
    snprintf(owner, sizeof owner, "%s: ", what);
    load_allow(L, -1, &r->allow, c, e, line, owner);
  }
  lua_pop(L, 1);
  str_field(L, t, "screen", &r->screen, e, line, what);
  if (r->screen) {
    int w, h, d;
    char x;
    if (sscanf(r->screen, "%dx%dx%d%c", &w, &h, &d, &x) != 3 || w < 1 || h < 1 || d < 1)
      err_add(e, line, "%s: screen '%s' must be WIDTHxHEIGHTxDEPTH, e.g. 1920x1080x24", what,
              r->screen);
  }
  bool_field(L, t, "catch_up", &r->catch_up, true, e, line, what);
  bool_field(L, t, "enabled", &r->enabled, true, e, line, what);
  int_field(L, t, "seats", &r->seats, 0, 1, 1000, e, line, what);
  int_field(L, t, "spread", &r->spread, 1, 1, 64, e, line, what);
  if ((r->seats || r->spread > 1) && !c->database)
    err_add(e, line, "%s: 'seats' and 'spread' are for a fleet: they need 'database'", what);

  rawfield(L, t, "params");
  size_t np = 0;
  char pw[160];
  snprintf(pw, sizeof pw, "%s: 'params'", what);
  if (lua_type(L, -1) == LUA_TTABLE && !plain_table(L, -1, e, line, pw)) {
    /* reported; not read */
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    int p = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, p)) {
      np++;
      lua_pop(L, 1);
    }
    r->params = calloc(np + 1, sizeof *r->params);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, p)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      int vt = lua_type(L, -1);
      if (!k || !*k || strchr(k, '='))
        err_add(e, line, "%s: params keys must be names without '=', got %s", what,
                k ? k : luaL_typename(L, -2));
      else if (vt != LUA_TSTRING && vt != LUA_TNUMBER && vt != LUA_TBOOLEAN)
        err_add(e, line, "%s: params.%s must be a string, number or boolean, got %s", what, k,
                luaL_typename(L, -1));
      else if (r->params) {
        const char *v = vt == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false")
                                           : (lua_pushvalue(L, -1), lua_tostring(L, -1));
        if (ag_asprintf(&r->params[i], "%s=%s", k, v) < 0)
          r->params[i] = NULL;
        else
          i++;
        if (vt != LUA_TBOOLEAN)
          lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    err_add(e, line, "%s: 'params' must be a table { name = value }, got %s", what,
            luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (!r->params)
    r->params = calloc(1, sizeof *r->params);

  rawfield(L, t, "alert");
  if (!lua_isnil(L, -1))
    r->alert = str_list(L, -1, e, line, what, "alert");
  lua_pop(L, 1);
  if (!r->alert)
    r->alert = calloc(1, sizeof *r->alert);

  r->alert_drift = r->alert_failure = r->alert_review = true;
  rawfield(L, t, "alert_on");
  if (!lua_isnil(L, -1)) {
    char **on = str_list(L, -1, e, line, what, "alert_on");
    r->alert_drift = r->alert_failure = r->alert_review = false;
    for (size_t i = 0; on && on[i]; i++) {
      if (strcmp(on[i], "drift") == 0)
        r->alert_drift = true;
      else if (strcmp(on[i], "failure") == 0)
        r->alert_failure = true;
      else if (strcmp(on[i], "review") == 0)
        r->alert_review = true;
      else
        err_add(e, line,
                "%s: alert_on: unknown '%s' (known: \"drift\", \"failure\", "
                "\"review\")",
                what, on[i]);
    }
    free_list(on);
  }
  lua_pop(L, 1);
}

static int gline(lua_State *L, const char *k)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.glines");
  lua_getfield(L, -1, k);
  int line = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
  return line;
}

char *ag_token_read(const char *path, char *err, size_t errlen)
{
  /* O_NONBLOCK: a FIFO put here must not hang the agent before fstat can refuse it. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open token file %s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "token file %s is not a regular file", path);
    close(fd);
    return NULL;
  }
  if (st.st_mode & 077) {
    snprintf(err, errlen, "token file %s can be read by group or others (mode %03o): chmod 600 it",
             path, (unsigned)(st.st_mode & 0777));
    close(fd);
    return NULL;
  }
  if (st.st_uid != geteuid()) {
    snprintf(err, errlen, "token file %s is not owned by the agent's user (uid %u)", path,
             (unsigned)geteuid());
    close(fd);
    return NULL;
  }
  if (st.st_size > AG_TOKEN_FILE_MAX) {
    snprintf(err, errlen, "token file %s is larger than %d bytes", path, AG_TOKEN_FILE_MAX);
    close(fd);
    return NULL;
  }
  char buf[AG_TOKEN_FILE_MAX + 2];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
    if (got == sizeof buf - 1)
      break;
  }
  close(fd);
  if (got > AG_TOKEN_FILE_MAX) { /* it grew since fstat */
    snprintf(err, errlen, "token file %s is larger than %d bytes", path, AG_TOKEN_FILE_MAX);
    return NULL;
  }
  buf[got] = '\0';
  char *s = buf;
  while (*s && isspace((unsigned char)*s))
    s++;
  size_t len = strlen(s);
  while (len && isspace((unsigned char)s[len - 1]))
    s[--len] = '\0';
  for (size_t i = 0; i < len; i++)
    if (s[i] <= ' ' || s[i] >= 127 || strchr(";,\"\\", s[i])) {
      snprintf(err, errlen,
               "token file %s: the token may hold letters, digits and "
               "-._~+/= only",
               path);
      return NULL;
    }
  if (len < 16) {
    snprintf(err, errlen, "token file %s holds %s token (at least 16 characters please)", path,
             len ? "too short a" : "no");
    return NULL;
  }
  return strdup(s);
}

/* Fleet mode: database = libpq connection string or URI (checked by libpq's own parser; a
 * password in it is refused), database_password_file = an owner-only file, node = this
 * machine's name in the fleet (default: its host name). */
static void load_fleet(lua_State *L, int env, ag_config *c, errlist *e)
{
  rawfield(L, env, "database");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *db = lua_tostring(L, -1);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(db, &perr);
    if (!opts) {
      err_add(e, gline(L, "database"),
              "'database': not a PostgreSQL connection string or "
              "URI: %s",
              perr ? perr : "out of memory");
    } else {
      bool pw = false;
      for (PQconninfoOption *o = opts; o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && *o->val)
          pw = true;
      if (pw)
        err_add(e, gline(L, "database"),
                "'database' holds a password: keep it out of the "
                "configuration (database_password_file, ~/.pgpass "
                "or PGPASSFILE)");
      else
        c->database = strdup(db);
      PQconninfoFree(opts);
    }
    PQfreemem(perr);
  } else if (!lua_isnil(L, -1)) {
    err_add(e, gline(L, "database"),
            "'database' must be a PostgreSQL connection string, "
            "e.g. \"postgresql://vagt@db/vagt?sslmode=verify-full\"");
  }
  lua_pop(L, 1);
  rawfield(L, env, "database_password_file");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->database_password_file = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "database_password_file"),
            "'database_password_file' must be a file name (string)");
  lua_pop(L, 1);
  if (c->database_password_file && !c->database)
    err_add(e, gline(L, "database_password_file"), "'database_password_file' without 'database'");
  rawfield(L, env, "node");
  if (lua_type(L, -1) == LUA_TSTRING) {
    if (valid_name(lua_tostring(L, -1)))
      c->node = strdup(lua_tostring(L, -1));
    else
      err_add(e, gline(L, "node"), "'node' must be 1-64 letters, digits, '-', '_' or '.'");
  } else if (!lua_isnil(L, -1)) {
    err_add(e, gline(L, "node"), "'node' must be a name (string)");
  } else {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0'; /* the short name */
    c->node = strdup(valid_name(host) ? host : "node");
  }
  lua_pop(L, 1);
  c->item_lease = AG_ITEM_LEASE_DEFAULT;
  rawfield(L, env, "item_lease");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 2 && lua_tointeger(L, -1) <= 3600)
    c->item_lease = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "item_lease"), "'item_lease' must be a whole number of seconds 2-3600");
  lua_pop(L, 1);
  rawfield(L, env, "items_key_file");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->items_key_file = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "items_key_file"), "'items_key_file' must be a file name (string)");
  lua_pop(L, 1);
}

static void globals(lua_State *L, int env, ag_config *c, errlist *e, int flags)
{
  (void)flags; /* the pages' tokens: operators_check */
  rawfield(L, env, "allow");
  if (!lua_isnil(L, -1))
    load_allow(L, -1, &c->allow, c, e, gline(L, "allow"), "");
  lua_pop(L, 1);

  const char *st = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
  rawfield(L, env, "state");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->state = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "state"), "'state' must be a folder name (string)");
  else
    c->state = strdup(st && *st ? st : "/var/lib/vagt");
  lua_pop(L, 1);

  rawfield(L, env, "listen");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *l = lua_tostring(L, -1);
    const char *colon = strrchr(l, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    char host[128] = "";
    if (colon && colon > l && (size_t)(colon - l) < sizeof host)
      snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
      memmove(host, host + 1, strlen(host));
      host[strlen(host) - 1] = '\0';
    }
    unsigned char addr[sizeof(struct in6_addr)];
    if (!colon || colon == l || *end || port < 1 || port > 65535 ||
        (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1))
      err_add(e, gline(L, "listen"),
              "listen '%s': expected \"ADDRESS:PORT\" with a numeric "
              "address, e.g. \"127.0.0.1:8470\" (or false for no pages)",
              l);
    c->listen = strdup(l);
  } else if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    c->listen = NULL;
  } else if (lua_isnil(L, -1)) {
    c->listen = strdup("127.0.0.1:8470");
  } else {
    err_add(e, gline(L, "listen"), "'listen' must be \"ADDRESS:PORT\" or false");
  }
  lua_pop(L, 1);

  rawfield(L, env, "token_file");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->token_file = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "token_file"), "'token_file' must be a file name (string)");
  lua_pop(L, 1);

  rawfield(L, env, "public_url");
  if (lua_type(L, -1) == LUA_TSTRING) {
    c->public_url = strdup(lua_tostring(L, -1));
    size_t n = strlen(c->public_url);
    while (n > 1 && c->public_url[n - 1] == '/')
      c->public_url[--n] = '\0';
    if (has_ctl(c->public_url))
      err_add(e, gline(L, "public_url"),
              "'public_url' holds a control character (CR, LF, "
              "...): not allowed in a URL");
  } else if (!lua_isnil(L, -1)) {
    err_add(e, gline(L, "public_url"), "'public_url' must be a string (the pages' base URL)");
  }
  lua_pop(L, 1);

  c->max_parallel = 2;
  rawfield(L, env, "max_parallel");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= 64)
    c->max_parallel = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "max_parallel"), "'max_parallel' must be a whole number 1-64");
  lua_pop(L, 1);

  load_fleet(L, env, c, e);

  c->retention_days = AG_RETENTION_DEFAULT;
  rawfield(L, env, "retention_days");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= AG_RETENTION_MAX)
    c->retention_days = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "retention_days"),
            "'retention_days' must be a whole number of days "
            "1-%d",
            AG_RETENTION_MAX);
  lua_pop(L, 1);
}

/* ---- operators (operator "x" { token_file = ... }, or the token_file shorthand) and
 * approvals ---- */

static const char *const operator_keys[] = {"token_file", NULL};

static void load_operator(lua_State *L, int t, ag_operator *op, ag_config *c, errlist *e)
{
  char what[128];
  snprintf(what, sizeof what, "operator '%s'", op->name);
  if (!plain_table(L, t, e, op->line, what))
    return;
  check_keys(L, t, operator_keys, e, op->line, what);
  char *tf = NULL;
  if (str_field(L, t, "token_file", &tf, e, op->line, what) && !tf)
    err_add(e, op->line,
            "%s: 'token_file' is required: an owner-only file with the "
            "operator's own token",
            what);
  if (tf)
    op->token_file = abs_path(c->dir, tf);
  free(tf);
}

/* The shorthand's operator is named after the agent's user. */
static char *shorthand_name(void)
{
  struct passwd *pw = getpwuid(geteuid());
  return strdup(pw && pw->pw_name && valid_name(pw->pw_name) ? pw->pw_name : "operator");
}

static const char *const proxy_keys[] = {"address", "header", NULL};

/* trusted_proxy = { address = "127.0.0.1", header = "X-Remote-User" }: the user a reverse
 * proxy names in that header, believed only from that peer address. */
static void load_proxy(lua_State *L, int env, ag_config *c, errlist *e)
{
  rawfield(L, env, "trusted_proxy");
  int line = gline(L, "trusted_proxy");
  const char *what = "trusted_proxy";
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  if (lua_type(L, -1) != LUA_TTABLE) {
    err_add(e, line,
            "'trusted_proxy' must be a table: { address = \"127.0.0.1\", header = "
            "\"X-Remote-User\" }");
    lua_pop(L, 1);
    return;
  }
  int t = lua_gettop(L);
  if (plain_table(L, t, e, line, what)) {
    check_keys(L, t, proxy_keys, e, line, what);
    str_field(L, t, "address", &c->proxy_address, e, line, what);
    str_field(L, t, "header", &c->proxy_header, e, line, what);
    unsigned char addr[sizeof(struct in6_addr)];
    if (!c->proxy_address || (inet_pton(AF_INET, c->proxy_address, addr) != 1 &&
                              inet_pton(AF_INET6, c->proxy_address, addr) != 1))
      err_add(e, line,
              "trusted_proxy: 'address' must be the proxy's numeric address (e.g. "
              "\"127.0.0.1\")");
    bool hok = c->proxy_header && *c->proxy_header && strlen(c->proxy_header) <= 64;
    for (const char *p = c->proxy_header; hok && *p; p++)
      hok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
    if (!hok)
      err_add(e, line,
              "trusted_proxy: 'header' must be a header name (letters, digits, '-'), "
              "e.g. \"X-Remote-User\"");
  }
  lua_settop(L, t - 1);
}

/* After the declarations: the token_file shorthand, every operator's token (with the
 * pages: readable, owner-only, and none shared by two operators), and approvals. */
static void operators_check(lua_State *L, int env, ag_config *c, errlist *e, int flags)
{
  if (c->token_file && c->noperators) {
    err_add(e, gline(L, "token_file"),
            "token_file is the shorthand for one operator: with "
            "operator \"name\" { token_file = ... } declarations, "
            "declare every operator that way");
  } else if (c->token_file) {
    ag_operator *op = &c->operators[c->noperators++];
    op->name = shorthand_name();
    op->line = gline(L, "token_file");
    op->token_file = strdup(c->token_file);
  }
  load_proxy(L, env, c, e);
  c->approvals = 1;
  rawfield(L, env, "approvals");
  int aline = gline(L, "approvals");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= AG_APPROVALS_MAX)
    c->approvals = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, aline,
            "'approvals' must be a whole number 1-%d (how many different operators "
            "a new baseline needs)",
            AG_APPROVALS_MAX);
  lua_pop(L, 1);
  if (c->approvals > 1 && c->noperators < (size_t)c->approvals && !c->proxy_address)
    err_add(e, aline,
            "approvals = %d needs %d different operators, and %zu %s declared%s: "
            "declare each with operator \"name\" { token_file = ... }",
            c->approvals, c->approvals, c->noperators, c->noperators == 1 ? "is" : "are",
            c->token_file ? " (token_file is the shorthand for one operator)" : "");
  if (!c->listen || !(flags & AG_CFG_WEB))
    return;
  if (!c->noperators && !c->proxy_address) {
    err_add(e, 0,
            "the operator pages (listen = \"%s\") need token_file = \"...\", an "
            "owner-only file with the access token, or operator \"name\" { token_file "
            "= ... } declarations (or set listen = false)",
            c->listen);
    return;
  }
  char **tok = calloc(c->noperators, sizeof *tok);
  for (size_t i = 0; tok && i < c->noperators; i++) {
    ag_operator *op = &c->operators[i];
    char err[512];
    if (!op->token_file)
      continue;
    tok[i] = ag_token_read(op->token_file, err, sizeof err);
    if (!tok[i]) {
      if (c->token_file)
        err_add(e, op->line, "%s", err);
      else
        err_add(e, op->line, "operator '%s': %s", op->name, err);
      continue;
    }
    for (size_t j = 0; j < i; j++)
      if (tok[j] && strcmp(tok[j], tok[i]) == 0)
        err_add(e, op->line,
                "operator '%s' has the same token as operator '%s' (line %d): "
                "every operator needs a token of their own",
                op->name, c->operators[j].name, c->operators[j].line);
  }
  for (size_t i = 0; tok && i < c->noperators; i++)
    free(tok[i]);
  free(tok);
}

typedef struct {
  ag_config *c;
  errlist *e;
  int flags;
} extract_args;

/* Reads the settings out of the Lua state: arg 1 the args, arg 2 the environment. Runs under
 * lua_pcall, so whatever goes wrong in here is an error with a message, not a panic. */
static int l_extract(lua_State *L)
{
  extract_args *a = lua_touserdata(L, 1);
  ag_config *c = a->c;
  errlist *e = a->e;
  globals(L, 2, c, e, a->flags);

  /* Declarations: channels first, so robots can name channels declared after them. */
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.decls");
  int decls = lua_gettop(L);
  size_t nd = lua_rawlen(L, decls);
  c->robots = calloc(nd + 1, sizeof *c->robots);
  c->channels = calloc(nd + 1, sizeof *c->channels);
  c->operators = calloc(nd + 1, sizeof *c->operators);
  if (!c->robots || !c->channels || !c->operators)
    return luaL_error(L, "out of memory");
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 1; i <= nd; i++) {
      lua_rawgeti(L, decls, (lua_Integer)i);
      int d = lua_gettop(L);
      lua_getfield(L, d, "kind");
      bool is_robot = strcmp(lua_tostring(L, -1), "robot") == 0;
      bool is_operator = strcmp(lua_tostring(L, -1), "operator") == 0;
      lua_getfield(L, d, "name");
      const char *name = lua_tostring(L, -1);
      lua_getfield(L, d, "line");
      int line = (int)lua_tointeger(L, -1);
      lua_getfield(L, d, "t");
      int t = lua_gettop(L);
      if (is_operator && pass == 0) {
        if (!valid_name(name))
          err_add(e, line,
                  "operator name '%s': use letters, digits, '-', '_' and '.' (at "
                  "most 64)",
                  name);
        bool dup = ag_config_operator(c, name) != NULL;
        if (dup)
          err_add(e, line, "operator '%s' is declared twice", name);
        if (lua_isnil(L, t)) {
          err_add(e, line,
                  "operator '%s' has no settings: write operator \"%s\" { "
                  "token_file = ... }",
                  name, name);
        } else if (!dup) {
          ag_operator *op = &c->operators[c->noperators++];
          op->name = strdup(name);
          op->line = line;
          load_operator(L, t, op, c, e);
        }
      } else if (!is_operator && is_robot == (pass == 1)) {
        const char *kind = is_robot ? "robot" : "channel";
        if (!valid_name(name))
          err_add(e, line, "%s name '%s': use letters, digits, '-', '_' and '.' (at most 64)", kind,
                  name);
        bool dup = is_robot ? ag_config_robot(c, name) != NULL : ag_config_channel(c, name) != NULL;
        if (dup)
          err_add(e, line, "%s '%s' is declared twice", kind, name);
        if (lua_isnil(L, t)) {
          err_add(e, line, "%s '%s' has no settings: write %s \"%s\" { ... }", kind, name, kind,
                  name);
        } else if (is_robot && !dup) {
          ag_robot *r = &c->robots[c->nrobots++];
          r->name = strdup(name);
          r->line = line;
          load_robot(L, t, r, c, e);
        } else if (!dup) {
          ag_channel *ch = &c->channels[c->nchannels++];
          ch->name = strdup(name);
          ch->line = line;
          load_channel(L, t, ch, c, e);
        }
      }
      lua_settop(L, decls);
    }
  }
  for (size_t i = 0; i < c->nrobots; i++)
    for (char **a2 = c->robots[i].alert; a2 && *a2; a2++)
      if (!ag_config_channel(c, *a2))
        err_add(e, c->robots[i].line,
                "robot '%s': alert channel '%s' is not declared "
                "(channel \"%s\" { ... })",
                c->robots[i].name, *a2, *a2);
  operators_check(L, 2, c, e, a->flags);
  return 0;
}

static void err_take(errlist *e, const char *m)
{
  char **v = realloc(e->v, (e->n + 1) * sizeof *v);
  if (!v)
    return;
  e->v = v;
  char *s = strdup(m ? m : "error in the configuration");
  if (s)
    e->v[e->n++] = s;
}

/* Runs the configuration and reads it: the loader's child process (ag_config_load). The
 * Lua state is left to the process's exit: closing it would run the script's finalizers. */
static ag_config *load_here(const char *path, int flags, errlist *e)
{
  ag_config *c = calloc(1, sizeof *c);
  lua_State *L = rt_sandbox_newstate(CFG_MEM_LIMIT);
  if (!c || !L) {
    err_add(e, 0, "out of memory");
    free(c);
    return NULL;
  }
  c->path = strdup(path);
  char *rp = realpath(path, NULL);
  if (rp) {
    char *slash = strrchr(rp, '/');
    if (slash == rp)
      slash[1] = '\0';
    else
      *slash = '\0';
    c->dir = rp;
  } else {
    c->dir = strdup(".");
  }
  lua_pushlightuserdata(L, e);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.errs");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.decls");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.glines");
  lua_pushnumber(L, vu_mono() + CFG_TIME_LIMIT);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.deadline");
  lua_sethook(L, cfg_hook, LUA_MASKCOUNT | LUA_MASKLINE, 10000);

  rt_sandbox_push_env(L);
  int env = lua_gettop(L);
  lua_pushliteral(L, "channel");
  lua_pushliteral(L, "channel");
  lua_pushcclosure(L, l_decl, 1);
  lua_rawset(L, env);
  lua_pushliteral(L, "robot");
  lua_pushliteral(L, "robot");
  lua_pushcclosure(L, l_decl, 1);
  lua_rawset(L, env);
  lua_pushliteral(L, "operator");
  lua_pushliteral(L, "operator");
  lua_pushcclosure(L, l_decl, 1);
  lua_rawset(L, env);
  if (lua_getmetatable(L, env)) {
    lua_pushcfunction(L, l_env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
  }

  int st = rt_sandbox_loadfile(L, path, env);
  if (st == LUA_OK)
    st = lua_pcall(L, 0, 0, 0);
  if (st != LUA_OK) {
    /* A missing file: "cannot open X" has no line; the rest carry file:line already. */
    err_take(e, lua_tostring(L, -1));
    return c;
  }
  extract_args a = {c, e, flags};
  lua_pushcfunction(L, l_extract);
  lua_pushlightuserdata(L, &a);
  lua_pushvalue(L, env);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    err_add(e, 0, "reading the settings failed: %s",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : "error object is not a string");
  return c;
}

/* ---- the loader's child process and what it hands back (JSON on a pipe) ---- */

static void j_str(cJSON *o, const char *k, const char *v)
{
  if (v)
    cJSON_AddStringToObject(o, k, v);
}

static void j_list(cJSON *o, const char *k, char **v)
{
  if (!v)
    return;
  cJSON *a = cJSON_AddArrayToObject(o, k);
  for (; *v; v++)
    cJSON_AddItemToArray(a, cJSON_CreateString(*v));
}

static void j_allow(cJSON *o, const ag_allow *a)
{
  if (!a->set)
    return;
  cJSON *x = cJSON_AddObjectToObject(o, "allow");
  j_list(x, "programs", a->programs);
  j_list(x, "files", a->files);
}

static cJSON *config_to_json(const ag_config *c)
{
  cJSON *o = cJSON_CreateObject();
  j_str(o, "path", c->path);
  j_str(o, "dir", c->dir);
  j_str(o, "state", c->state);
  j_str(o, "listen", c->listen);
  j_str(o, "token_file", c->token_file);
  j_str(o, "public_url", c->public_url);
  cJSON_AddNumberToObject(o, "max_parallel", c->max_parallel);
  j_allow(o, &c->allow);
  cJSON_AddNumberToObject(o, "retention_days", c->retention_days);
  j_str(o, "database", c->database);
  j_str(o, "database_password_file", c->database_password_file);
  j_str(o, "node", c->node);
  cJSON_AddNumberToObject(o, "item_lease", c->item_lease);
  j_str(o, "items_key_file", c->items_key_file);
  cJSON *rs = cJSON_AddArrayToObject(o, "robots");
  for (size_t i = 0; i < c->nrobots; i++) {
    const ag_robot *r = &c->robots[i];
    cJSON *x = cJSON_CreateObject();
    j_str(x, "name", r->name);
    cJSON_AddNumberToObject(x, "line", r->line);
    j_str(x, "script", r->script);
    j_str(x, "baseline", r->baseline);
    j_str(x, "schedule", r->schedule);
    j_str(x, "tz", r->tz);
    cJSON_AddNumberToObject(x, "timeout", r->timeout);
    j_list(x, "params", r->params);
    j_list(x, "alert", r->alert);
    cJSON_AddBoolToObject(x, "alert_drift", r->alert_drift);
    cJSON_AddBoolToObject(x, "alert_failure", r->alert_failure);
    cJSON_AddBoolToObject(x, "alert_review", r->alert_review);
    cJSON_AddBoolToObject(x, "catch_up", r->catch_up);
    cJSON_AddNumberToObject(x, "seats", r->seats);
    cJSON_AddNumberToObject(x, "spread", r->spread);
    cJSON_AddBoolToObject(x, "enabled", r->enabled);
    j_str(x, "screen", r->screen);
    j_allow(x, &r->allow);
    cJSON_AddItemToArray(rs, x);
  }
  cJSON *cs = cJSON_AddArrayToObject(o, "channels");
  for (size_t i = 0; i < c->nchannels; i++) {
    const ag_channel *ch = &c->channels[i];
    cJSON *x = cJSON_CreateObject();
    j_str(x, "name", ch->name);
    cJSON_AddNumberToObject(x, "line", ch->line);
    j_str(x, "webhook", ch->webhook);
    j_list(x, "email_to", ch->email_to);
    j_str(x, "email_from", ch->email_from);
    j_str(x, "smtp", ch->smtp);
    j_str(x, "smtp_user", ch->smtp_user);
    j_str(x, "smtp_password_file", ch->smtp_password_file);
    j_str(x, "smtp_cainfo", ch->smtp_cainfo);
    cJSON_AddBoolToObject(x, "syslog", ch->syslog);
    j_str(x, "syslog_socket", ch->syslog_socket);
    cJSON_AddItemToArray(cs, x);
  }
  cJSON *os = cJSON_AddArrayToObject(o, "operators");
  for (size_t i = 0; i < c->noperators; i++) {
    cJSON *x = cJSON_CreateObject();
    j_str(x, "name", c->operators[i].name);
    cJSON_AddNumberToObject(x, "line", c->operators[i].line);
    j_str(x, "token_file", c->operators[i].token_file);
    cJSON_AddItemToArray(os, x);
  }
  cJSON_AddNumberToObject(o, "approvals", c->approvals);
  j_str(o, "proxy_address", c->proxy_address);
  j_str(o, "proxy_header", c->proxy_header);
  return o;
}

static char *g_str(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static char **g_list(const cJSON *o, const char *k)
{
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k), *x;
  if (!cJSON_IsArray(a))
    return NULL;
  char **v = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *v);
  size_t n = 0;
  cJSON_ArrayForEach(x, a) if (v && cJSON_IsString(x)) v[n++] = strdup(x->valuestring);
  return v;
}

static double g_num(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool g_bool(const cJSON *o, const char *k)
{
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void g_allow(const cJSON *o, ag_allow *a)
{
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "allow");
  if (!cJSON_IsObject(x))
    return;
  a->set = true;
  a->programs = g_list(x, "programs");
  a->files = g_list(x, "files");
  if (!a->programs)
    a->programs = calloc(1, sizeof *a->programs);
  if (!a->files)
    a->files = calloc(1, sizeof *a->files);
}

static ag_config *config_from_json(const cJSON *o)
{
  ag_config *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->path = g_str(o, "path");
  c->dir = g_str(o, "dir");
  c->state = g_str(o, "state");
  c->listen = g_str(o, "listen");
  c->token_file = g_str(o, "token_file");
  c->public_url = g_str(o, "public_url");
  c->max_parallel = (int)g_num(o, "max_parallel");
  g_allow(o, &c->allow);
  c->retention_days = (int)g_num(o, "retention_days");
  c->database = g_str(o, "database");
  c->database_password_file = g_str(o, "database_password_file");
  c->node = g_str(o, "node");
  c->item_lease = (int)g_num(o, "item_lease");
  c->items_key_file = g_str(o, "items_key_file");
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "robots"), *x;
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "channels");
  c->robots = calloc((size_t)cJSON_GetArraySize(rs) + 1, sizeof *c->robots);
  c->channels = calloc((size_t)cJSON_GetArraySize(cs) + 1, sizeof *c->channels);
  if (!c->robots || !c->channels) {
    ag_config_free(c);
    return NULL;
  }
  cJSON_ArrayForEach(x, rs)
  {
    ag_robot *r = &c->robots[c->nrobots++];
    r->name = g_str(x, "name");
    r->line = (int)g_num(x, "line");
    r->script = g_str(x, "script");
    r->baseline = g_str(x, "baseline");
    r->schedule = g_str(x, "schedule");
    char err[256];
    if (r->schedule)
      ag_cron_parse(r->schedule, &r->cron, err, sizeof err);
    r->tz = g_str(x, "tz");
    r->timeout = g_num(x, "timeout");
    r->params = g_list(x, "params");
    r->alert = g_list(x, "alert");
    r->alert_drift = g_bool(x, "alert_drift");
    r->alert_failure = g_bool(x, "alert_failure");
    r->alert_review = cJSON_GetObjectItemCaseSensitive(x, "alert_review")
                          ? g_bool(x, "alert_review")
                          : r->alert_failure; /* written before the field was */
    r->catch_up = g_bool(x, "catch_up");
    r->seats = (int)g_num(x, "seats");
    r->spread = (int)g_num(x, "spread");
    r->enabled = g_bool(x, "enabled");
    r->screen = g_str(x, "screen");
    g_allow(x, &r->allow);
    if (!r->params)
      r->params = calloc(1, sizeof *r->params);
    if (!r->alert)
      r->alert = calloc(1, sizeof *r->alert);
  }
  cJSON_ArrayForEach(x, cs)
  {
    ag_channel *ch = &c->channels[c->nchannels++];
    ch->name = g_str(x, "name");
    ch->line = (int)g_num(x, "line");
    ch->webhook = g_str(x, "webhook");
    ch->email_to = g_list(x, "email_to");
    ch->email_from = g_str(x, "email_from");
    ch->smtp = g_str(x, "smtp");
    ch->smtp_user = g_str(x, "smtp_user");
    ch->smtp_password_file = g_str(x, "smtp_password_file");
    ch->smtp_cainfo = g_str(x, "smtp_cainfo");
    ch->syslog = g_bool(x, "syslog");
    ch->syslog_socket = g_str(x, "syslog_socket");
  }
  const cJSON *os = cJSON_GetObjectItemCaseSensitive(o, "operators");
  c->operators = calloc((size_t)cJSON_GetArraySize(os) + 1, sizeof *c->operators);
  if (!c->operators) {
    ag_config_free(c);
    return NULL;
  }
  cJSON_ArrayForEach(x, os)
  {
    ag_operator *op = &c->operators[c->noperators++];
    op->name = g_str(x, "name");
    op->line = (int)g_num(x, "line");
    op->token_file = g_str(x, "token_file");
  }
  c->approvals = (int)g_num(o, "approvals");
  c->proxy_address = g_str(o, "proxy_address");
  c->proxy_header = g_str(o, "proxy_header");
  return c;
}

static void write_all(int fd, const char *s, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

static _Noreturn void loader_child(const char *path, int flags, int fd)
{
  errlist e = {.file = path};
  ag_config *c = load_here(path, flags, &e);
  cJSON *o = cJSON_CreateObject();
  cJSON *errs = cJSON_AddArrayToObject(o, "errors");
  for (size_t i = 0; i < e.n; i++)
    cJSON_AddItemToArray(errs, cJSON_CreateString(e.v[i]));
  if (c && !e.n)
    cJSON_AddItemToObject(o, "config", config_to_json(c));
  char *text = cJSON_PrintUnformatted(o);
  if (text)
    write_all(fd, text, strlen(text));
  _exit(text ? 0 : 3);
}

/* Every robot and channel has a name, a robot a script, and the names are unique: what the
 * rest of the agent takes for granted, checked on the answer it came in. */
static bool result_sane(const ag_config *c)
{
  if (!c->path || !c->dir || !c->state || c->max_parallel < 1 || c->max_parallel > 64 ||
      (c->allow.set && !c->allow.programs[0]))
    return false;
  for (size_t i = 0; i < c->nrobots; i++) {
    const ag_robot *r = &c->robots[i];
    ag_cron cron;
    char err[256];
    if (!r->name || !r->script || !r->params || !r->alert || !(r->timeout > 0) ||
        (r->schedule && ag_cron_parse(r->schedule, &cron, err, sizeof err) != 0) ||
        (r->tz && !ag_tz_valid(r->tz)) || (r->allow.set && !r->allow.programs[0]))
      return false;
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->robots[i].name, c->robots[j].name) == 0)
        return false;
  }
  if (c->approvals < 1 || c->approvals > AG_APPROVALS_MAX || !c->proxy_address != !c->proxy_header)
    return false;
  for (size_t i = 0; i < c->noperators; i++) {
    if (!c->operators[i].name || !c->operators[i].token_file)
      return false;
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->operators[i].name, c->operators[j].name) == 0)
        return false;
  }
  for (size_t i = 0; i < c->nchannels; i++) {
    if (!c->channels[i].name)
      return false;
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->channels[i].name, c->channels[j].name) == 0)
        return false;
  }
  return true;
}

/* The loader's answer: its errors, printed, or the configuration. */
static ag_config *read_result(const char *path, const cJSON *o, FILE *errf)
{
  const cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors"), *x;
  int nerr = 0;
  cJSON_ArrayForEach(x, errs) if (cJSON_IsString(x))
  {
    fprintf(errf, "%s\n", x->valuestring);
    nerr++;
  }
  const cJSON *cj = cJSON_GetObjectItemCaseSensitive(o, "config");
  ag_config *c = nerr == 0 && cJSON_IsObject(cj) ? config_from_json(cj) : NULL;
  if (c && !result_sane(c)) {
    fprintf(errf,
            "%s: loading the configuration failed (a malformed answer from the "
            "loader)\n",
            path);
    ag_config_free(c);
    return NULL;
  }
  if (!c && nerr == 0)
    fprintf(errf, "%s: loading the configuration failed (%s)\n", path,
            cJSON_IsObject(cj) ? "out of memory" : "no configuration in the answer");
  return c;
}

/* The configuration is a program: it runs in a child process with a deadline, so a loop in
 * a finalizer or a pattern that backtracks for ever (where no Lua hook fires), or anything
 * that crashes Lua, ends as an error with the line it was at, never as a hung or aborted
 * agent. What it configured comes back as JSON on a pipe. */
ag_config *ag_config_load(const char *path, int flags, FILE *errf)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat fst;
  if (fd < 0) {
    fprintf(errf, "%s: cannot open %s: %s\n", path, path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
    fprintf(errf, "%s: not a regular file\n", path);
    close(fd);
    return NULL;
  }
  close(fd);
  int *line = mmap(NULL, sizeof *line, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int pfd[2];
  if (line == MAP_FAILED || pipe(pfd) != 0) {
    fprintf(errf, "%s: cannot start the configuration loader: %s\n", path, strerror(errno));
    if (line != MAP_FAILED)
      munmap(line, sizeof *line);
    return NULL;
  }
  *line = 0;
  fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    g_line = line;
    loader_child(path, flags, pfd[1]);
  }
  close(pfd[1]);
  if (pid < 0) {
    fprintf(errf, "%s: cannot start the configuration loader: %s\n", path, strerror(errno));
    close(pfd[0]);
    munmap(line, sizeof *line);
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  double end = vu_mono() + CFG_KILL_AFTER;
  bool timed_out = false, too_big = false;
  for (;;) {
    double left = end - vu_mono();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pf = {pfd[0], POLLIN, 0};
    int pr = poll(&pf, 1, (int)(left * 1000) + 1);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0)
      continue;
    char tmp[8192];
    ssize_t n = read(pfd[0], tmp, sizeof tmp);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (len + (size_t)n > CFG_MAX_RESULT) {
      too_big = true;
      break;
    }
    if (mem)
      fwrite(tmp, 1, (size_t)n, mem);
  }
  close(pfd[0]);
  if (timed_out || too_big)
    kill(pid, SIGKILL);
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
    ;
  if (mem)
    fclose(mem);
  int at = *line;
  munmap(line, sizeof *line);
  char where[64] = "";
  if (at > 0)
    snprintf(where, sizeof where, "%d:", at);
  cJSON *o = !timed_out && !too_big && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && buf
                 ? cJSON_Parse(buf)
                 : NULL;
  free(buf);
  if (!o) {
    if (timed_out)
      fprintf(errf,
              "%s:%s the configuration did not finish within %d s (a loop in a __gc "
              "finalizer, or a pattern that backtracks without end?); it was last at "
              "this line\n",
              path, where, (int)CFG_KILL_AFTER);
    else if (WIFSIGNALED(ws) && (flags & AG_CFG_ABORT_ON_CRASH))
      abort();
    else if (WIFSIGNALED(ws))
      fprintf(errf,
              "%s:%s loading the configuration crashed (signal %d); it was last at "
              "this line\n",
              path, where, WTERMSIG(ws));
    else
      fprintf(errf, "%s:%s loading the configuration failed (%s)\n", path, where,
              too_big ? "too large a result" : "no result");
    return NULL;
  }
  ag_config *c = read_result(path, o, errf);
  cJSON_Delete(o);
  return c;
}

ag_config *ag_config_from_result(const char *path, const char *text, size_t len, FILE *errf)
{
  cJSON *o = cJSON_ParseWithLength(text, len);
  if (!o) {
    fprintf(errf, "%s: loading the configuration failed (no result)\n", path);
    return NULL;
  }
  ag_config *c = read_result(path, o, errf);
  cJSON_Delete(o);
  return c;
}

ag_robot *ag_config_robot(ag_config *c, const char *name)
{
  for (size_t i = 0; i < c->nrobots; i++)
    if (strcmp(c->robots[i].name, name) == 0)
      return &c->robots[i];
  return NULL;
}

ag_operator *ag_config_operator(ag_config *c, const char *name)
{
  for (size_t i = 0; i < c->noperators; i++)
    if (strcmp(c->operators[i].name, name) == 0)
      return &c->operators[i];
  return NULL;
}

ag_channel *ag_config_channel(ag_config *c, const char *name)
{
  for (size_t i = 0; i < c->nchannels; i++)
    if (strcmp(c->channels[i].name, name) == 0)
      return &c->channels[i];
  return NULL;
}

void ag_config_free(ag_config *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->nrobots; i++) {
    ag_robot *r = &c->robots[i];
    free(r->name);
    free(r->script);
    free(r->baseline);
    free(r->schedule);
    free(r->tz);
    free(r->screen);
    free_list(r->params);
    free_list(r->alert);
    free_list(r->allow.programs);
    free_list(r->allow.files);
  }
  for (size_t i = 0; i < c->nchannels; i++) {
    ag_channel *ch = &c->channels[i];
    free(ch->name);
    free(ch->webhook);
    free_list(ch->email_to);
    free(ch->email_from);
    free(ch->smtp);
    free(ch->smtp_user);
    free(ch->smtp_password_file);
    free(ch->smtp_cainfo);
    free(ch->syslog_socket);
  }
  for (size_t i = 0; i < c->noperators; i++) {
    free(c->operators[i].name);
    free(c->operators[i].token_file);
  }
  free(c->operators);
  free(c->proxy_address);
  free(c->proxy_header);
  free(c->robots);
  free(c->channels);
  free(c->path);
  free(c->dir);
  free(c->state);
  free(c->listen);
  free(c->token_file);
  free(c->public_url);
  free(c->database);
  free(c->database_password_file);
  free(c->node);
  free(c->items_key_file);
  free_list(c->allow.programs);
  free_list(c->allow.files);
  free(c);
}
