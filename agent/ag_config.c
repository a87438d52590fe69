#include "ag_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ag_util.h"
#include "sandbox.h"

#define CFG_MEM_LIMIT ((size_t)64 << 20)
#define CFG_TIME_LIMIT 5.0

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

static const char *const known_globals[] = {"state",      "listen",       "token_file",
                                            "max_parallel", "public_url", NULL};

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
          "public_url; use `local` for helper variables)",
          k ? k : luaL_typename(L, 2));
  return 0;
}

/* channel "x" / robot "x": records the declaration and returns the function that takes
 * its settings table. */
static int l_decl_body(lua_State *L)
{
  lua_pushvalue(L, lua_upvalueindex(1));
  const char *kind = (lua_getfield(L, -1, "kind"), lua_tostring(L, -1));
  lua_pop(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "%s: expected a table of settings after the name, as in "
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

static void count_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.deadline");
  double dl = lua_tonumber(L, -1);
  lua_pop(L, 1);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (ts.tv_sec + ts.tv_nsec / 1e9 > dl)
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
  lua_getfield(L, t, k);
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
  lua_getfield(L, t, k);
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
      err_add(e, line, "%s: unexpected %s key in the settings table", what,
              luaL_typename(L, -1));
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
static char **str_list(lua_State *L, int idx, errlist *e, int line, const char *what,
                       const char *k)
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

static const char *const channel_keys[] = {"webhook", "email", "syslog", NULL};
static const char *const email_keys[] = {"to", "from", "smtp", "user", "password_file", NULL};

static void load_channel(lua_State *L, int t, ag_channel *ch, ag_config *c, errlist *e)
{
  char what[128];
  snprintf(what, sizeof what, "channel '%s'", ch->name);
  int line = ch->line;
  check_keys(L, t, channel_keys, e, line, what);
  if (str_field(L, t, "webhook", &ch->webhook, e, line, what) && ch->webhook &&
      strncmp(ch->webhook, "http://", 7) != 0 && strncmp(ch->webhook, "https://", 8) != 0)
    err_add(e, line, "%s: webhook '%s' must be an http:// or https:// URL", what, ch->webhook);
  bool_field(L, t, "syslog", &ch->syslog, false, e, line, what);
  lua_getfield(L, t, "email");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int m = lua_gettop(L);
    char ew[160];
    snprintf(ew, sizeof ew, "%s email", what);
    check_keys(L, m, email_keys, e, line, ew);
    lua_getfield(L, m, "to");
    if (lua_isnil(L, -1))
      err_add(e, line, "%s: 'to' is required (an address or a list of addresses)", ew);
    else
      ch->email_to = str_list(L, -1, e, line, ew, "to");
    lua_pop(L, 1);
    str_field(L, m, "from", &ch->email_from, e, line, ew);
    str_field(L, m, "smtp", &ch->smtp, e, line, ew);
    str_field(L, m, "user", &ch->smtp_user, e, line, ew);
    char *pw = NULL;
    str_field(L, m, "password_file", &pw, e, line, ew);
    if (pw) {
      ch->smtp_password_file = abs_path(c->dir, pw);
      free(pw);
    }
    if (!ch->email_from)
      err_add(e, line, "%s: 'from' is required", ew);
    if (!ch->smtp)
      err_add(e, line, "%s: 'smtp' is required, e.g. \"smtp://mail.example:25\"", ew);
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

static const char *const robot_keys[] = {"script", "baseline", "schedule", "tz", "timeout",
                                         "params", "alert", "alert_on", "catch_up",
                                         "enabled", "screen", NULL};

static void load_robot(lua_State *L, int t, ag_robot *r, ag_config *c, errlist *e)
{
  char what[128];
  snprintf(what, sizeof what, "robot '%s'", r->name);
  int line = r->line;
  check_keys(L, t, robot_keys, e, line, what);
  char *s = NULL;
  str_field(L, t, "script", &s, e, line, what);
  if (!s) {
    lua_getfield(L, t, "script");
    if (lua_isnil(L, -1))
      err_add(e, line, "%s: 'script' is required", what);
    lua_pop(L, 1);
  } else {
    r->script = abs_path(c->dir, s);
    free(s);
    if (r->script && access(r->script, R_OK) != 0)
      err_add(e, line, "%s: cannot read script %s: %s", what, r->script, strerror(errno));
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
    err_add(e, line, "%s: unknown time zone '%s' (a name under /usr/share/zoneinfo, e.g. "
                     "\"Europe/Copenhagen\")",
            what, r->tz);
  if (r->schedule && (!r->tz || ag_tz_valid(r->tz)) && r->cron.minute &&
      ag_cron_next(&r->cron, r->tz, time(NULL)) == (time_t)-1)
    err_add(e, line, "%s: schedule '%s' never matches a real date", what, r->schedule);
  r->timeout = 3600;
  lua_getfield(L, t, "timeout");
  if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) > 0)
    r->timeout = lua_tonumber(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, line, "%s: 'timeout' must be a number of seconds > 0", what);
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

  lua_getfield(L, t, "params");
  size_t np = 0;
  if (lua_type(L, -1) == LUA_TTABLE) {
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

  lua_getfield(L, t, "alert");
  if (!lua_isnil(L, -1))
    r->alert = str_list(L, -1, e, line, what, "alert");
  lua_pop(L, 1);
  if (!r->alert)
    r->alert = calloc(1, sizeof *r->alert);

  r->alert_drift = r->alert_failure = true;
  lua_getfield(L, t, "alert_on");
  if (!lua_isnil(L, -1)) {
    char **on = str_list(L, -1, e, line, what, "alert_on");
    r->alert_drift = r->alert_failure = false;
    for (size_t i = 0; on && on[i]; i++) {
      if (strcmp(on[i], "drift") == 0)
        r->alert_drift = true;
      else if (strcmp(on[i], "failure") == 0)
        r->alert_failure = true;
      else
        err_add(e, line, "%s: alert_on: unknown '%s' (known: \"drift\", \"failure\")", what,
                on[i]);
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
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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
    snprintf(err, errlen,
             "token file %s can be read by group or others (mode %03o): chmod 600 it",
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
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0)
    n = 0;
  buf[n] = '\0';
  char *s = buf;
  while (*s && isspace((unsigned char)*s))
    s++;
  size_t len = strlen(s);
  while (len && isspace((unsigned char)s[len - 1]))
    s[--len] = '\0';
  for (size_t i = 0; i < len; i++)
    if (s[i] <= ' ' || s[i] >= 127 || strchr(";,\"\\", s[i])) {
      snprintf(err, errlen, "token file %s: the token may hold letters, digits and "
                            "-._~+/= only", path);
      return NULL;
    }
  if (len < 16) {
    snprintf(err, errlen, "token file %s holds %s token (at least 16 characters please)",
             path, len ? "too short a" : "no");
    return NULL;
  }
  return strdup(s);
}

static void globals(lua_State *L, int env, ag_config *c, errlist *e, int flags)
{
  const char *st = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
  lua_getfield(L, env, "state");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->state = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "state"), "'state' must be a folder name (string)");
  else
    c->state = strdup(st && *st ? st : "/var/lib/vagt");
  lua_pop(L, 1);

  lua_getfield(L, env, "listen");
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
      err_add(e, gline(L, "listen"), "listen '%s': expected \"ADDRESS:PORT\" with a numeric "
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

  lua_getfield(L, env, "token_file");
  if (lua_type(L, -1) == LUA_TSTRING)
    c->token_file = abs_path(c->dir, lua_tostring(L, -1));
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "token_file"), "'token_file' must be a file name (string)");
  lua_pop(L, 1);
  if (c->listen && (flags & AG_CFG_WEB)) {
    if (!c->token_file) {
      err_add(e, 0, "the operator pages (listen = \"%s\") need token_file = \"...\", an "
                    "owner-only file with the access token (or set listen = false)",
              c->listen);
    } else {
      char err[512];
      char *tok = ag_token_read(c->token_file, err, sizeof err);
      if (!tok)
        err_add(e, gline(L, "token_file"), "%s", err);
      free(tok);
    }
  }

  lua_getfield(L, env, "public_url");
  if (lua_type(L, -1) == LUA_TSTRING) {
    c->public_url = strdup(lua_tostring(L, -1));
    size_t n = strlen(c->public_url);
    while (n > 1 && c->public_url[n - 1] == '/')
      c->public_url[--n] = '\0';
  } else if (!lua_isnil(L, -1)) {
    err_add(e, gline(L, "public_url"), "'public_url' must be a string (the pages' base URL)");
  }
  lua_pop(L, 1);

  c->max_parallel = 2;
  lua_getfield(L, env, "max_parallel");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= 64)
    c->max_parallel = (int)lua_tointeger(L, -1);
  else if (!lua_isnil(L, -1))
    err_add(e, gline(L, "max_parallel"), "'max_parallel' must be a whole number 1-64");
  lua_pop(L, 1);
}

ag_config *ag_config_load(const char *path, int flags, FILE *errf)
{
  errlist e = {.file = path};
  ag_config *c = calloc(1, sizeof *c);
  lua_State *L = rt_sandbox_newstate(CFG_MEM_LIMIT);
  if (!c || !L) {
    fprintf(errf, "%s: out of memory\n", path);
    free(c);
    rt_sandbox_close(L);
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
  lua_pushlightuserdata(L, &e);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.errs");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.decls");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.glines");
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, ts.tv_sec + ts.tv_nsec / 1e9 + CFG_TIME_LIMIT);
  lua_setfield(L, LUA_REGISTRYINDEX, "ag.deadline");
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 10000);

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
  if (lua_getmetatable(L, env)) {
    lua_pushcfunction(L, l_env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
  }

  int st = rt_sandbox_loadfile(L, path, env);
  if (st == LUA_OK)
    st = lua_pcall(L, 0, 0, 0);
  if (st != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    char *s = strdup(m ? m : "error in the configuration");
    /* A missing file: "cannot open X" has no line; the rest carry file:line already. */
    char **v = realloc(e.v, (e.n + 1) * sizeof *v);
    if (v) {
      e.v = v;
      e.v[e.n++] = s;
    } else {
      free(s);
    }
    goto done;
  }
  globals(L, env, c, &e, flags);

  /* Declarations: channels first, so robots can name channels declared after them. */
  lua_getfield(L, LUA_REGISTRYINDEX, "ag.decls");
  int decls = lua_gettop(L);
  size_t nd = lua_rawlen(L, decls);
  c->robots = calloc(nd + 1, sizeof *c->robots);
  c->channels = calloc(nd + 1, sizeof *c->channels);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 1; i <= nd; i++) {
      lua_rawgeti(L, decls, (lua_Integer)i);
      int d = lua_gettop(L);
      lua_getfield(L, d, "kind");
      bool is_robot = strcmp(lua_tostring(L, -1), "robot") == 0;
      lua_getfield(L, d, "name");
      const char *name = lua_tostring(L, -1);
      lua_getfield(L, d, "line");
      int line = (int)lua_tointeger(L, -1);
      lua_getfield(L, d, "t");
      int t = lua_gettop(L);
      if (is_robot == (pass == 1)) {
        const char *kind = is_robot ? "robot" : "channel";
        if (!valid_name(name))
          err_add(&e, line, "%s name '%s': use letters, digits, '-', '_' and '.' (at most 64)",
                  kind, name);
        bool dup = is_robot ? ag_config_robot(c, name) != NULL
                            : ag_config_channel(c, name) != NULL;
        if (dup)
          err_add(&e, line, "%s '%s' is declared twice", kind, name);
        if (lua_isnil(L, t)) {
          err_add(&e, line, "%s '%s' has no settings: write %s \"%s\" { ... }", kind, name,
                  kind, name);
        } else if (is_robot && !dup) {
          ag_robot *r = &c->robots[c->nrobots++];
          r->name = strdup(name);
          r->line = line;
          load_robot(L, t, r, c, &e);
        } else if (!dup) {
          ag_channel *ch = &c->channels[c->nchannels++];
          ch->name = strdup(name);
          ch->line = line;
          load_channel(L, t, ch, c, &e);
        }
      }
      lua_settop(L, decls);
    }
  }
  for (size_t i = 0; i < c->nrobots; i++)
    for (char **a = c->robots[i].alert; a && *a; a++)
      if (!ag_config_channel(c, *a))
        err_add(&e, c->robots[i].line, "robot '%s': alert channel '%s' is not declared "
                                       "(channel \"%s\" { ... })",
                c->robots[i].name, *a, *a);

done:
  rt_sandbox_close(L);
  if (e.n) {
    for (size_t i = 0; i < e.n; i++) {
      fprintf(errf, "%s\n", e.v[i]);
      free(e.v[i]);
    }
    free(e.v);
    ag_config_free(c);
    return NULL;
  }
  free(e.v);
  return c;
}

ag_robot *ag_config_robot(ag_config *c, const char *name)
{
  for (size_t i = 0; i < c->nrobots; i++)
    if (strcmp(c->robots[i].name, name) == 0)
      return &c->robots[i];
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
  }
  free(c->robots);
  free(c->channels);
  free(c->path);
  free(c->dir);
  free(c->state);
  free(c->listen);
  free(c->token_file);
  free(c->public_url);
  free(c);
}
