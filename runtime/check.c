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
#include "vu.h"

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
    while (x->pos < x->len && (isalnum((unsigned char)x->text[x->pos]) || x->text[x->pos] == '_')) {
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
  if (strcmp(parts[0], "evidence") == 0 && n == 1)
    return true; /* a setting: read and written through the metatable */
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

/* ---- where actions run: a walk over the script's tokens with a stack of brackets and
 * blocks (function, if, loops, do), which knows whether an action lies in the body of a
 * robot.step, in a named helper function (then: where is that called from?), in a loop,
 * or conditionally inside a step. What the walk cannot see (a helper passed as a value,
 * or never called in this file) is said as "cannot tell". */

typedef enum { F_BRACKET, F_FUNC, F_IF, F_LOOP, F_DO, F_REPEAT } frame_kind;

typedef struct {
  frame_kind kind;
  char open; /* for F_BRACKET: ( { [ */
  bool step; /* the argument list of a robot.step call */
  int step_id;
  int func;  /* F_FUNC: index into the named functions, -1 anonymous */
  int if_id; /* F_IF: which if statement, and the branch the walk is in */
  int branch;
} frame;

typedef struct {
  char name[128];
  int line;
  bool value_use; /* used other than by calling it: cannot tell where it runs */
} func_def;

typedef struct {
  int func; /* the called function (index into defs) */
  int line;
  bool in_step;
  int caller; /* the named function the call lies in, -1 none */
} call_site;

typedef struct {
  const char *what; /* the action's name (actions[]) */
  int line;
  size_t tok;
  bool in_step, in_loop, named;
  int step_id, func;
  int outer_if, inner_if, branch; /* the if statements around it inside its step, or -1 */
} action_site;

typedef struct {
  token *t;
  size_t n, cap;
} tokens;

static bool is_punct(const token *t, char c)
{
  return t->kind == T_PUNCT && t->s[0] == c;
}

static bool is_name(const token *t, const char *s)
{
  return t->kind == T_NAME && strcmp(t->s, s) == 0;
}

/* Every name that is not a keyword or a field, method or action. */
static bool plain_name(const tokens *tk, size_t i)
{
  static const char *const kw[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                   "false", "for",   "function", "goto",  "if",     "in",
                                   "local", "nil",   "not",      "or",    "repeat", "return",
                                   "then",  "true",  "until",    "while", NULL};
  if (tk->t[i].kind != T_NAME)
    return false;
  for (const char *const *k = kw; *k; k++)
    if (strcmp(tk->t[i].s, *k) == 0)
      return false;
  return !(i > 0 && (is_punct(&tk->t[i - 1], '.') || is_punct(&tk->t[i - 1], ':')));
}

static int find_def(const func_def *defs, int n, const char *name)
{
  for (int i = n - 1; i >= 0; i--)
    if (strcmp(defs[i].name, name) == 0)
      return i;
  return -1;
}

/* Where helper f runs: 1 always inside a step, 0 at some call outside (its line in *at),
 * -1 cannot tell. */
static int helper_in_step(int f, const func_def *defs, const call_site *calls, int ncalls,
                          unsigned char *visiting, int *at)
{
  if (defs[f].value_use || visiting[f])
    return -1;
  visiting[f] = 1;
  int result = 1, seen = 0;
  for (int i = 0; i < ncalls && result != 0; i++) {
    if (calls[i].func != f)
      continue;
    seen++;
    if (calls[i].in_step)
      continue;
    if (calls[i].caller < 0) {
      *at = calls[i].line;
      result = 0;
    } else {
      int r = helper_in_step(calls[i].caller, defs, calls, ncalls, visiting, at);
      if (r == 0 && *at == 0)
        *at = calls[i].line;
      if (r <= 0)
        result = r;
    }
  }
  visiting[f] = 0;
  return seen ? result : -1;
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
  x.text = vu_read_file(path, 64u << 20, 0, &x.len, NULL, 0);
  x.line = 1;
  if (!x.text) {
    fprintf(out, "%s: cannot read\n", path);
    return 2;
  }
  tokens tk = {0};
  for (;;) {
    if (tk.n == tk.cap) {
      size_t cap = tk.cap ? 2 * tk.cap : 1024;
      token *nt = realloc(tk.t, cap * sizeof *nt);
      if (!nt) {
        free(tk.t);
        free(x.text);
        fprintf(out, "%s: out of memory\n", path);
        return 2;
      }
      tk.t = nt;
      tk.cap = cap;
    }
    tk.t[tk.n] = next(&x);
    if (tk.t[tk.n].kind == T_EOF)
      break;
    tk.n++;
  }
  free(x.text);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int errors = 0, warnings = 0;

  /* robot.a.b...: each path must name something of the API */
  char parts[4][128];
  for (size_t i = 0; i < tk.n; i++) {
    if (!is_name(&tk.t[i], "robot") || !plain_name(&tk, i))
      continue;
    int n = 0;
    size_t j = i + 1;
    while (n < 4 && j + 1 < tk.n && is_punct(&tk.t[j], '.') && tk.t[j + 1].kind == T_NAME) {
      snprintf(parts[n++], sizeof parts[0], "%s", tk.t[j + 1].s);
      j += 2;
    }
    if (n && !api_has(L, parts, n)) {
      fprintf(out, "%s:%d: error: robot.%s%s%s is not part of the robot API\n", path, tk.t[i].line,
              parts[0], n > 1 ? "." : "", n > 1 ? parts[1] : "");
      errors++;
    }
  }

  /* the walk */
  size_t cap = tk.n + 1;
  frame *stack = calloc(cap, sizeof *stack);
  func_def *defs = calloc(cap, sizeof *defs);
  call_site *calls = calloc(cap, sizeof *calls);
  action_site *acts = calloc(cap, sizeof *acts);
  int nstack = 0, ndefs = 0, ncalls = 0, nacts = 0, nsteps = 0, nifs = 0;
  size_t *if_end = calloc(cap, sizeof *if_end);
  bool pending_loop = false;
  if (!stack || !defs || !calls || !acts || !if_end) {
    fprintf(out, "%s: out of memory\n", path);
    errors++;
    tk.n = 0;
  }
  for (size_t i = 0; i < tk.n; i++) {
    token *t = &tk.t[i];
    if (t->kind == T_PUNCT && strchr("({[", t->s[0])) {
      frame f = {F_BRACKET, t->s[0], false, -1, -1, -1, 0};
      f.step = t->s[0] == '(' && i >= 3 && is_name(&tk.t[i - 1], "step") &&
               is_punct(&tk.t[i - 2], '.') && is_name(&tk.t[i - 3], "robot");
      if (f.step)
        f.step_id = nsteps++;
      stack[nstack++] = f;
      continue;
    }
    if (t->kind == T_PUNCT && strchr(")}]", t->s[0])) {
      while (nstack > 0 && stack[nstack - 1].kind != F_BRACKET)
        nstack--;
      if (nstack > 0)
        nstack--;
      continue;
    }
    if (t->kind != T_NAME)
      continue;
    if (is_name(t, "function")) {
      frame f = {F_FUNC, 0, false, -1, -1, -1, 0};
      const char *name = NULL;
      if (i + 1 < tk.n && tk.t[i + 1].kind == T_NAME) { /* function a.b:c( */
        size_t j = i + 1;
        name = tk.t[j].s;
        while (j + 2 < tk.n && (is_punct(&tk.t[j + 1], '.') || is_punct(&tk.t[j + 1], ':')) &&
               tk.t[j + 2].kind == T_NAME) {
          j += 2;
          name = tk.t[j].s;
        }
      } else if (i >= 2 && is_punct(&tk.t[i - 1], '=') && tk.t[i - 2].kind == T_NAME &&
                 !(i >= 3 && (is_punct(&tk.t[i - 3], '.') || is_punct(&tk.t[i - 3], ':') ||
                              is_punct(&tk.t[i - 3], ',')))) {
        name = tk.t[i - 2].s; /* [local] name = function( */
      }
      if (name) {
        f.func = ndefs;
        snprintf(defs[ndefs].name, sizeof defs[0].name, "%s", name);
        defs[ndefs++].line = t->line;
      }
      stack[nstack++] = f;
      continue;
    }
    if (is_name(t, "if")) {
      stack[nstack++] = (frame){F_IF, 0, false, -1, -1, nifs++, 0};
      continue;
    }
    if (is_name(t, "else") || is_name(t, "elseif")) {
      if (nstack > 0 && stack[nstack - 1].kind == F_IF)
        stack[nstack - 1].branch++;
      continue;
    }
    if (is_name(t, "while") || is_name(t, "for")) {
      pending_loop = true;
      continue;
    }
    if (is_name(t, "do")) {
      stack[nstack++] = (frame){pending_loop ? F_LOOP : F_DO, 0, false, -1, -1, -1, 0};
      pending_loop = false;
      continue;
    }
    if (is_name(t, "repeat")) {
      stack[nstack++] = (frame){F_REPEAT, 0, false, -1, -1, -1, 0};
      continue;
    }
    if (is_name(t, "end") || is_name(t, "until")) {
      while (nstack > 0 && stack[nstack - 1].kind == F_BRACKET)
        nstack--; /* not in a valid script: brackets close before their block ends */
      if (nstack > 0 && stack[nstack - 1].kind == F_IF)
        if_end[stack[nstack - 1].if_id] = i;
      if (nstack > 0)
        nstack--;
      continue;
    }
    /* where this token lies: the innermost named function, a step around it, a loop or a
     * condition between it and that step or function */
    int func = -1, step_id = -1, outer_if = -1, inner_if = -1, branch = 0;
    bool in_loop = false;
    for (int k = nstack - 1; k >= 0; k--) {
      if (stack[k].step) {
        step_id = stack[k].step_id;
        break;
      }
      if (stack[k].kind == F_FUNC && stack[k].func >= 0) {
        func = stack[k].func;
        break;
      }
      if (stack[k].kind == F_LOOP || stack[k].kind == F_REPEAT)
        in_loop = true;
      if (stack[k].kind == F_IF) {
        if (inner_if < 0) {
          inner_if = stack[k].if_id;
          branch = stack[k].branch;
        }
        outer_if = stack[k].if_id;
      }
    }
    bool called = i + 1 < tk.n && (is_punct(&tk.t[i + 1], '(') || is_punct(&tk.t[i + 1], '{') ||
                                   (tk.t[i + 1].kind == T_OTHER && tk.t[i + 1].s[0] == '"'));
    if (i > 0 && is_punct(&tk.t[i - 1], ':') && called) {
      for (const char *const *a = actions; *a; a++)
        if (strcmp(t->s, *a) == 0) {
          action_site *as = &acts[nacts++];
          as->what = *a;
          as->line = t->line;
          as->in_step = step_id >= 0;
          as->step_id = step_id;
          as->func = func;
          as->in_loop = in_loop;
          as->tok = i;
          as->outer_if = outer_if;
          as->inner_if = inner_if;
          as->branch = branch;
          /* key = "..." among its arguments names it */
          int d = 0;
          for (size_t j = i + 1; j < tk.n; j++) {
            if (tk.t[j].kind == T_PUNCT && strchr("({[", tk.t[j].s[0]))
              d++;
            else if (tk.t[j].kind == T_PUNCT && strchr(")}]", tk.t[j].s[0]) && --d <= 0)
              break;
            if (d <= 2 && is_name(&tk.t[j], "key") && j + 2 < tk.n && is_punct(&tk.t[j + 1], '=') &&
                !is_punct(&tk.t[j + 2], '='))
              as->named = true;
            if (d == 0)
              break;
          }
        }
      continue;
    }
    if (!plain_name(&tk, i))
      continue;
    int def = find_def(defs, ndefs, t->s);
    if (def < 0 || (i > 0 && is_name(&tk.t[i - 1], "function")) ||
        (i + 1 < tk.n && is_punct(&tk.t[i + 1], '=') &&
         !(i + 2 < tk.n && is_punct(&tk.t[i + 2], '='))))
      continue; /* not a helper, or its definition */
    if (called)
      calls[ncalls++] = (call_site){def, t->line, step_id >= 0, func};
    else
      defs[def].value_use = true;
  }
  /* a name used before its definition in the file: calls were matched by the walk only to
   * definitions already seen, so look again for the later ones */
  for (size_t i = 0; i < tk.n; i++) {
    if (!plain_name(&tk, i))
      continue;
    int def = find_def(defs, ndefs, tk.t[i].s);
    if (def >= 0 && defs[def].line > tk.t[i].line && !is_name(&tk.t[i > 0 ? i - 1 : 0], "function"))
      defs[def].value_use = true; /* seen before it was defined: cannot tell */
  }

  unsigned char *visiting = calloc((size_t)ndefs + 1, 1);
  for (int i = 0; i < nacts && visiting; i++) {
    action_site *as = &acts[i];
    if (as->named)
      continue;
    if (as->in_step) {
      /* an unnamed action that runs only on a condition shifts the numbers of the step's
       * unnamed actions after its if statement, and shares its number with a like action
       * in another branch: either way one key comes to mean two controls */
      bool shifts = false;
      for (int k = 0; k < nacts && as->outer_if >= 0 && !shifts; k++) {
        const action_site *o = &acts[k];
        if (k == i || !o->in_step || o->step_id != as->step_id || o->named)
          continue;
        shifts =
            o->tok > if_end[as->outer_if] ||
            (o->inner_if == as->inner_if && o->branch != as->branch && !strcmp(o->what, as->what));
      }
      if (shifts) {
        fprintf(out,
                "%s:%d: note: %s runs on a condition inside robot.step: the numbers in "
                "the keys of the step's unnamed actions change with it, so one key can "
                "mean two controls; name it: key = \"...\"\n",
                path, as->line, as->what);
        warnings++;
      }
      continue;
    }
    if (as->func >= 0) {
      int at = 0;
      int r = helper_in_step(as->func, defs, calls, ncalls, visiting, &at);
      if (r == 1)
        continue;
      if (r == 0)
        fprintf(out,
                "%s:%d: note: %s in function '%s', which is called outside robot.step "
                "at line %d: there its baseline key is '%s:%d:%s' and changes when lines "
                "move\n",
                path, as->line, as->what, defs[as->func].name, at, base, as->line, as->what);
      else
        fprintf(out,
                "%s:%d: note: %s in function '%s': cannot tell whether it runs inside "
                "robot.step (it is %s); vagt record says so when it does not\n",
                path, as->line, as->what, defs[as->func].name,
                defs[as->func].value_use ? "passed as a value" : "not called in this file");
      warnings++;
      continue;
    }
    if (as->in_loop)
      fprintf(out,
              "%s:%d: note: %s in a loop outside robot.step: every pass shares the key "
              "'%s:%d:%s' (one baseline for whatever it acts on); wrap the body in "
              "robot.step\n",
              path, as->line, as->what, base, as->line, as->what);
    else
      fprintf(out,
              "%s:%d: note: %s outside robot.step: its baseline key is '%s:%d:%s' "
              "and changes when lines move\n",
              path, as->line, as->what, base, as->line, as->what);
    warnings++;
  }
  free(visiting);
  free(if_end);
  free(stack);
  free(defs);
  free(calls);
  free(acts);
  free(tk.t);
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
  static const struct {
    const char *mt, *name;
  } types[] = {
      {RT_WINDOW_MT, "Window:"},
      {RT_APP_MT, "App:"},
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
