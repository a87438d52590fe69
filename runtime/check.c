#include "check.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "host.h"
#include "run.h"
#include "runfolder.h"
#include "sandbox.h"

typedef struct {
  char *text;
  size_t len, pos;
  int line;
} lexer;

typedef enum { T_EOF, T_NAME, T_PUNCT, T_OTHER } tok_kind;

typedef struct {
  tok_kind kind;
  char s[128];
  int line;
} token;

/* Skips [[...]] / [==[...]==] starting at pos (which is at '['); false if not long. */
static bool skip_long(lexer *x)
{
  size_t p = x->pos + 1;
  int eq = 0;
  while (p < x->len && x->text[p] == '=')
    eq++, p++;
  if (p >= x->len || x->text[p] != '[')
    return false;
  for (p++; p < x->len; p++) {
    if (x->text[p] == '\n')
      x->line++;
    if (x->text[p] == ']') {
      size_t q = p + 1;
      int e = 0;
      while (q < x->len && x->text[q] == '=')
        e++, q++;
      if (e == eq && q < x->len && x->text[q] == ']') {
        x->pos = q + 1;
        return true;
      }
    }
  }
  x->pos = x->len;
  return true;
}

static token next(lexer *x)
{
  token t = {T_EOF, "", 0};
  for (;;) {
    while (x->pos < x->len && isspace((unsigned char)x->text[x->pos]))
      if (x->text[x->pos++] == '\n')
        x->line++;
    if (x->pos >= x->len)
      return t;
    char c = x->text[x->pos];
    if (c == '-' && x->pos + 1 < x->len && x->text[x->pos + 1] == '-') {
      x->pos += 2;
      if (x->pos < x->len && x->text[x->pos] == '[' && skip_long(x))
        continue;
      while (x->pos < x->len && x->text[x->pos] != '\n')
        x->pos++;
      continue;
    }
    break;
  }
  t.line = x->line;
  char c = x->text[x->pos];
  if (isalpha((unsigned char)c) || c == '_') {
    size_t n = 0;
    while (x->pos < x->len &&
           (isalnum((unsigned char)x->text[x->pos]) || x->text[x->pos] == '_')) {
      if (n < sizeof t.s - 1)
        t.s[n++] = x->text[x->pos];
      x->pos++;
    }
    t.s[n] = '\0';
    t.kind = T_NAME;
    return t;
  }
  if (c == '"' || c == '\'') {
    for (x->pos++; x->pos < x->len && x->text[x->pos] != c; x->pos++) {
      if (x->text[x->pos] == '\\' && x->pos + 1 < x->len)
        x->pos++;
      if (x->text[x->pos] == '\n')
        x->line++;
    }
    x->pos++;
    t.kind = T_OTHER;
    strcpy(t.s, "\"");
    return t;
  }
  if (c == '[' && skip_long(x)) {
    t.kind = T_OTHER;
    strcpy(t.s, "\"");
    return t;
  }
  t.kind = T_PUNCT;
  t.s[0] = c;
  t.s[1] = '\0';
  x->pos++;
  return t;
}

static const char *const actions[] = {"click", "type", "key",  "press", "release",
                                      "move",  "drag", "menu", NULL};

/* Looks robot.<parts...> up in the API; true when it names something. */
static bool api_has(lua_State *L, char parts[][128], int n)
{
  if (strcmp(parts[0], "params") == 0)
    return true; /* robot.params holds whatever --set gives */
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  lua_pushliteral(L, "robot");
  lua_rawget(L, -2);
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    if (!lua_istable(L, -1)) {
      ok = lua_isnil(L, -1) ? false : true; /* a value such as robot.version: stop here */
      break;
    }
    lua_pushstring(L, parts[i]);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    ok = !lua_isnil(L, -1);
  }
  lua_pop(L, 2);
  return ok;
}


int rt_check_script(lua_State *L, const char *path, FILE *out)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  int st = rt_sandbox_loadfile(L, path, -1);
  if (st != LUA_OK) {
    fprintf(out, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 2);
    return st == LUA_ERRFILE ? 2 : 1;
  }
  lua_pop(L, 2);

  lexer x = {0};
  x.text = rt_read_file(path, &x.len);
  x.line = 1;
  if (!x.text) {
    fprintf(out, "%s: cannot read\n", path);
    return 2;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int errors = 0, warnings = 0, depth = 0;
  int stepdepth[256], nstep = 0;
  token prev2 = {0}, prev = {0}, t;
  char parts[4][128];
  while ((t = next(&x)).kind != T_EOF) {
    if (t.kind == T_PUNCT && (t.s[0] == '(' || t.s[0] == '{' || t.s[0] == '[')) {
      depth++;
      if (t.s[0] == '(' && prev.kind == T_NAME && strcmp(prev.s, "step") == 0 &&
          prev2.kind == T_PUNCT && prev2.s[0] == '.' && nstep < 256)
        stepdepth[nstep++] = depth;
    } else if (t.kind == T_PUNCT && (t.s[0] == ')' || t.s[0] == '}' || t.s[0] == ']')) {
      if (nstep && stepdepth[nstep - 1] == depth)
        nstep--;
      depth--;
    }
    /* robot.a.b... : check the path */
    if (t.kind == T_NAME && strcmp(t.s, "robot") == 0 &&
        !(prev.kind == T_PUNCT && (prev.s[0] == '.' || prev.s[0] == ':'))) {
      int n = 0, line = t.line;
      token u = next(&x);
      while (u.kind == T_PUNCT && u.s[0] == '.' && n < 4) {
        token v = next(&x);
        if (v.kind != T_NAME) {
          u = v;
          break;
        }
        strcpy(parts[n++], v.s);
        u = next(&x);
      }
      if (n && !api_has(L, parts, n)) {
        fprintf(out, "%s:%d: error: robot.%s%s%s is not part of the robot API\n", path, line,
                parts[0], n > 1 ? "." : "", n > 1 ? parts[1] : "");
        errors++;
      }
      /* u is the token after the path: account for brackets it opens or closes. */
      if (u.kind == T_PUNCT && (u.s[0] == '(' || u.s[0] == '{' || u.s[0] == '[')) {
        depth++;
        if (u.s[0] == '(' && n == 1 && strcmp(parts[0], "step") == 0 && nstep < 256)
          stepdepth[nstep++] = depth;
      } else if (u.kind == T_PUNCT && (u.s[0] == ')' || u.s[0] == '}' || u.s[0] == ']')) {
        if (nstep && stepdepth[nstep - 1] == depth)
          nstep--;
        depth--;
      }
      prev2 = prev;
      prev = u;
      continue;
    }
    if (t.kind == T_NAME && prev.kind == T_PUNCT && prev.s[0] == ':' && nstep == 0)
      for (const char *const *a = actions; *a; a++)
        if (strcmp(t.s, *a) == 0) {
          fprintf(out, "%s:%d: note: %s outside robot.step: its baseline key is '%s:%d:%s' "
                       "and changes when lines move\n", path, t.line, t.s, base, t.line, t.s);
          warnings++;
        }
    prev2 = prev;
    prev = t;
  }
  free(x.text);
  fprintf(out, "%s: %s (%d error%s, %d note%s)\n", path, errors ? "FAILED" : "ok", errors,
          errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  return errors ? 1 : 0;
}

static void list_table(lua_State *L, const char *prefix, FILE *out)
{
  /* Sorted output keeps the list diffable. */
  lua_newtable(L);
  int keys = lua_gettop(L), n = 0;
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, keys, ++n);
    }
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  lua_getfield(L, -1, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, keys);
  lua_call(L, 1, 0);
  lua_pop(L, 2);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, keys, i);
    const char *k = lua_tostring(L, -1);
    lua_getfield(L, keys - 1, k);
    char name[256];
    snprintf(name, sizeof name, "%s%s", prefix, k);
    if (lua_istable(L, -1)) {
      char sub[300];
      snprintf(sub, sizeof sub, "%s.", name);
      list_table(L, sub, out);
    } else {
      fprintf(out, "%s\n", name);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

void rt_check_print_api(lua_State *L, FILE *out)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "vagt.env");
  lua_pushliteral(L, "robot");
  lua_rawget(L, -2);
  list_table(L, "robot.", out);
  lua_pop(L, 2);
  static const struct { const char *mt, *name; } types[] = {
    {RT_WINDOW_MT, "Window:"}, {RT_APP_MT, "App:"},
  };
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    luaL_getmetatable(L, types[i].mt);
    lua_getfield(L, -1, "__index");
    lua_getupvalue(L, -1, 1);
    list_table(L, types[i].name, out);
    lua_pop(L, 3);
  }
}

int rt_check_file(const char *path, FILE *out, char *err, size_t errlen)
{
  rt_run run = {.mode = RT_MODE_CHECK, .script = path};
  if (rt_host_open(&run, NULL, 0, err, errlen) != 0) {
    rt_host_close(&run);
    return -1;
  }
  int rc = rt_check_script(run.L, path, out);
  rt_host_close(&run);
  return rc;
}

int rt_check_api(FILE *out, char *err, size_t errlen)
{
  rt_run run = {.mode = RT_MODE_CHECK};
  if (rt_host_open(&run, NULL, 0, err, errlen) != 0) {
    rt_host_close(&run);
    return -1;
  }
  rt_check_print_api(run.L, out);
  rt_host_close(&run);
  return 0;
}
