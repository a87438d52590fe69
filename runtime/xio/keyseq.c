/* vagt key sequence parsing and UTF-8 -> keysym mapping; see keyseq.h */
#include "keyseq.h"

#include <X11/Xlib.h>
#include <X11/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------- UTF-8 ---------- */

int rt_utf8_next(const char *s, size_t len, size_t *off, uint32_t *cp)
{
  size_t i = *off;
  if (i >= len)
    return -1;
  const unsigned char *u = (const unsigned char *)s;
  unsigned char c = u[i];
  uint32_t v;
  size_t n;
  if (c < 0x80) {
    *cp = c;
    *off = i + 1;
    return 0;
  } else if (c >= 0xc2 && c <= 0xdf) {
    v = c & 0x1f;
    n = 1;
  } else if (c >= 0xe0 && c <= 0xef) {
    v = c & 0x0f;
    n = 2;
  } else if (c >= 0xf0 && c <= 0xf4) {
    v = c & 0x07;
    n = 3;
  } else {
    return -1; /* continuation byte, 0xc0/0xc1 (overlong), 0xf5.. */
  }
  if (n >= len - i)
    return -1; /* truncated */
  for (size_t k = 1; k <= n; k++) {
    unsigned char d = u[i + k];
    if ((d & 0xc0) != 0x80)
      return -1;
    v = (v << 6) | (d & 0x3f);
  }
  if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10ffff)))
    return -1; /* overlong or out of range */
  if (v >= 0xd800 && v <= 0xdfff)
    return -1; /* surrogate */
  *cp = v;
  *off = i + n + 1;
  return 0;
}

int rt_utf8_validate(const char *s, size_t len, size_t *bad_off)
{
  size_t off = 0;
  uint32_t cp;
  while (off < len) {
    if (rt_utf8_next(s, len, &off, &cp) != 0) {
      if (bad_off)
        *bad_off = off;
      return -1;
    }
  }
  return 0;
}

/* ---------- code point <-> keysym ---------- */

typedef struct {
  uint16_t cp;
  uint16_t ks;
} legacy_t;

/* Legacy (pre-Unicode) keysyms that keymaps commonly carry, sorted by code point. */
static const legacy_t legacy[] = {
    {0x0104, 0x01a1}, {0x0105, 0x01b1}, {0x0106, 0x01c6}, {0x0107, 0x01e6}, {0x010c, 0x01c8},
    {0x010d, 0x01e8}, {0x010e, 0x01cf}, {0x010f, 0x01ef}, {0x0118, 0x01ca}, {0x0119, 0x01ea},
    {0x011a, 0x01cc}, {0x011b, 0x01ec}, {0x013d, 0x01a5}, {0x013e, 0x01b5}, {0x0141, 0x01a3},
    {0x0142, 0x01b3}, {0x0143, 0x01d1}, {0x0144, 0x01f1}, {0x0147, 0x01d2}, {0x0148, 0x01f2},
    {0x0150, 0x01d5}, {0x0151, 0x01f5}, {0x0152, 0x13bc}, {0x0153, 0x13bd}, {0x0158, 0x01d8},
    {0x0159, 0x01f8}, {0x015a, 0x01a6}, {0x015b, 0x01b6}, {0x0160, 0x01a9}, {0x0161, 0x01b9},
    {0x0164, 0x01ab}, {0x0165, 0x01bb}, {0x016e, 0x01d9}, {0x016f, 0x01f9}, {0x0170, 0x01db},
    {0x0171, 0x01fb}, {0x0178, 0x13be}, {0x0179, 0x01ac}, {0x017a, 0x01bc}, {0x017b, 0x01af},
    {0x017c, 0x01bf}, {0x017d, 0x01ae}, {0x017e, 0x01be}, {0x2013, 0x0aaa}, {0x2014, 0x0aa9},
    {0x2018, 0x0ad0}, {0x2019, 0x0ad1}, {0x201a, 0x0afd}, {0x201c, 0x0ad2}, {0x201d, 0x0ad3},
    {0x201e, 0x0afe}, {0x2020, 0x0af1}, {0x2021, 0x0af2}, {0x2022, 0x0ae6}, {0x2026, 0x0aae},
    {0x20ac, 0x20ac}, {0x2122, 0x0ac9},
};
#define NLEGACY (sizeof legacy / sizeof legacy[0])

KeySym rt_cp_to_keysym(uint32_t cp)
{
  switch (cp) {
    case '\n':
    case '\r': return XK_Return;
    case '\t': return XK_Tab;
    case '\b': return XK_BackSpace;
    case 0x1b: return XK_Escape;
    case 0x7f: return XK_Delete;
    default: break;
  }
  if (cp < 0x20 || (cp >= 0x80 && cp < 0xa0))
    return NoSymbol;
  if (cp <= 0xff)
    return cp;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp & 0xfffe) == 0xfffe)
    return NoSymbol;
  size_t lo = 0, hi = NLEGACY;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (legacy[mid].cp == cp)
      return legacy[mid].ks;
    if (legacy[mid].cp < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0x01000000UL | cp;
}

uint32_t rt_keysym_to_cp(KeySym ks)
{
  switch (ks) {
    case XK_Return: return '\n';
    case XK_Tab: return '\t';
    case XK_BackSpace: return '\b';
    case XK_Escape: return 0x1b;
    case XK_Delete: return 0x7f;
    default: break;
  }
  if ((ks >= 0x20 && ks <= 0x7e) || (ks >= 0xa0 && ks <= 0xff))
    return (uint32_t)ks;
  if (ks >= 0x01000100UL && ks <= 0x0110ffffUL)
    return (uint32_t)(ks & 0xffffff);
  for (size_t i = 0; i < NLEGACY; i++)
    if (legacy[i].ks == ks)
      return legacy[i].cp;
  return 0;
}

/* ---------- key sequences ---------- */

typedef struct {
  const char *name;
  unsigned mod;
  KeySym key; /* keysym when the modifier name is used as the key itself */
} modname_t;

static const modname_t modnames[] = {
    {"ctrl", RT_MOD_CTRL, XK_Control_L}, {"control", RT_MOD_CTRL, XK_Control_L},
    {"shift", RT_MOD_SHIFT, XK_Shift_L}, {"alt", RT_MOD_ALT, XK_Alt_L},
    {"super", RT_MOD_SUPER, XK_Super_L}, {"win", RT_MOD_SUPER, XK_Super_L},
    {"meta", RT_MOD_META, XK_Meta_L},
};

static int lookup_modifier(const char *tok, unsigned *mod, KeySym *key)
{
  for (size_t i = 0; i < sizeof modnames / sizeof modnames[0]; i++) {
    if (strcasecmp(tok, modnames[i].name) == 0) {
      *mod = modnames[i].mod;
      *key = modnames[i].key;
      return 1;
    }
  }
  static const struct {
    const char *n;
    unsigned m;
  } ksmods[] = {
      {"Control_L", RT_MOD_CTRL}, {"Control_R", RT_MOD_CTRL}, {"Shift_L", RT_MOD_SHIFT},
      {"Shift_R", RT_MOD_SHIFT},  {"Alt_L", RT_MOD_ALT},      {"Alt_R", RT_MOD_ALT},
      {"Super_L", RT_MOD_SUPER},  {"Super_R", RT_MOD_SUPER},  {"Meta_L", RT_MOD_META},
      {"Meta_R", RT_MOD_META},
  };
  for (size_t i = 0; i < sizeof ksmods / sizeof ksmods[0]; i++) {
    if (strcmp(tok, ksmods[i].n) == 0) {
      *mod = ksmods[i].m;
      *key = XStringToKeysym(tok);
      return 1;
    }
  }
  return 0;
}

static KeySym lookup_alias(const char *tok)
{
  static const struct {
    const char *n;
    KeySym k;
  } aliases[] = {
      {"enter", XK_Return},  {"return", XK_Return},       {"esc", XK_Escape},
      {"escape", XK_Escape}, {"backspace", XK_BackSpace}, {"del", XK_Delete},
      {"delete", XK_Delete}, {"ins", XK_Insert},          {"insert", XK_Insert},
      {"pgup", XK_Prior},    {"pageup", XK_Prior},        {"pgdn", XK_Next},
      {"pagedown", XK_Next}, {"home", XK_Home},           {"end", XK_End},
      {"up", XK_Up},         {"down", XK_Down},           {"left", XK_Left},
      {"right", XK_Right},   {"space", XK_space},         {"tab", XK_Tab},
      {"plus", XK_plus},     {"minus", XK_minus},         {"menu", XK_Menu},
  };
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcasecmp(tok, aliases[i].n) == 0)
      return aliases[i].k;
  if ((tok[0] == 'f' || tok[0] == 'F') && tok[1] >= '1' && tok[1] <= '9') {
    char *end;
    long n = strtol(tok + 1, &end, 10);
    if (*end == '\0' && n >= 1 && n <= 35)
      return XK_F1 + (KeySym)(n - 1);
  }
  return NoSymbol;
}

/* resolve the final token of a combo */
static KeySym resolve_key(const char *tok, unsigned *extra_mods_unused)
{
  (void)extra_mods_unused;
  size_t len = strlen(tok);
  size_t off = 0;
  uint32_t cp;
  /* a single UTF-8 character */
  if (rt_utf8_next(tok, len, &off, &cp) == 0 && off == len) {
    if (cp > 0x20 && cp != 0x7f)
      return rt_cp_to_keysym(cp);
  }
  KeySym ks = XStringToKeysym(tok);
  if (ks != NoSymbol)
    return ks;
  return lookup_alias(tok);
}

static size_t char_pos(const char *s, size_t byte_off)
{
  size_t pos = 1;
  for (size_t i = 0; i < byte_off; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80)
      pos++;
  return pos;
}

static void set_err(char *err, size_t errlen, const char *fmt, const char *tok, size_t pos)
{
  if (!err || errlen == 0)
    return;
  if (tok) {
    char t[64];
    size_t n = strlen(tok);
    if (n >= sizeof t) {
      memcpy(t, tok, sizeof t - 4);
      strcpy(t + sizeof t - 4, "...");
    } else {
      memcpy(t, tok, n + 1);
    }
    snprintf(err, errlen, fmt, t, pos);
  } else {
    snprintf(err, errlen, fmt, pos);
  }
}

rt_keycombo *rt_keyseq_parse(const char *seq, size_t *n, char *err, size_t errlen)
{
  *n = 0;
  if (err && errlen)
    err[0] = '\0';
  if (!seq) {
    set_err(err, errlen, "empty key sequence", NULL, 0);
    return NULL;
  }
  size_t slen = strlen(seq);
  size_t bad;
  if (rt_utf8_validate(seq, slen, &bad) != 0) {
    if (err && errlen)
      snprintf(err, errlen, "invalid UTF-8 in key sequence at byte offset %zu", bad);
    return NULL;
  }
  size_t cap = 4, cnt = 0;
  rt_keycombo *out = malloc(cap * sizeof *out);
  if (!out) {
    set_err(err, errlen, "out of memory", NULL, 0);
    return NULL;
  }
  size_t i = 0;
  while (i < slen) {
    while (i < slen && (seq[i] == ' ' || seq[i] == '\t' || seq[i] == '\n'))
      i++;
    if (i >= slen)
      break;
    size_t start = i;
    while (i < slen && seq[i] != ' ' && seq[i] != '\t' && seq[i] != '\n')
      i++;
    size_t clen = i - start;
    /* split the combo on '+'; a '+' that is the whole last part is the plus key */
    unsigned mods = 0;
    KeySym key = NoSymbol;
    size_t p = start;
    const size_t cend = start + clen;
    int done = 0;
    while (!done) {
      size_t q = p;
      while (q < cend && seq[q] != '+')
        q++;
      char tok[128];
      size_t tlen = q - p;
      int last = (q >= cend);
      if (tlen == 0) {
        /* empty part: "++" at the end (ctrl++), or a bare "+" */
        if (q < cend && q + 1 == cend) {
          key = XK_plus;
          done = 1;
          break;
        }
        if (q < cend) {
          char combo[128];
          size_t m = clen < sizeof combo - 1 ? clen : sizeof combo - 1;
          memcpy(combo, seq + start, m);
          combo[m] = '\0';
          set_err(err, errlen, "empty key name in '%s' at position %zu", combo, char_pos(seq, p));
          free(out);
          return NULL;
        }
        /* trailing '+': "ctrl+" */
        char combo[128];
        size_t m = clen < sizeof combo - 1 ? clen : sizeof combo - 1;
        memcpy(combo, seq + start, m);
        combo[m] = '\0';
        set_err(err, errlen, "missing key after '%s' at position %zu", combo, char_pos(seq, start));
        free(out);
        return NULL;
      }
      if (tlen >= sizeof tok) {
        set_err(err, errlen, "key name too long at position %zu", NULL, char_pos(seq, p));
        free(out);
        return NULL;
      }
      memcpy(tok, seq + p, tlen);
      tok[tlen] = '\0';
      if (!last) {
        unsigned m;
        KeySym mk;
        if (!lookup_modifier(tok, &m, &mk)) {
          if (resolve_key(tok, NULL) != NoSymbol)
            set_err(err, errlen, "'%s' is not a modifier at position %zu", tok, char_pos(seq, p));
          else
            set_err(err, errlen, "unknown modifier '%s' at position %zu", tok, char_pos(seq, p));
          free(out);
          return NULL;
        }
        mods |= m;
        p = q + 1;
        continue;
      }
      unsigned m;
      KeySym mk;
      /* a bare modifier name is a key ("ctrl" alone, or "shift+ctrl"); keysym names
       * like Shift_L resolve below through XStringToKeysym */
      if (strchr(tok, '_') == NULL && lookup_modifier(tok, &m, &mk)) {
        key = mk;
      } else {
        key = resolve_key(tok, NULL);
        if (key == NoSymbol) {
          set_err(err, errlen, "unknown key '%s' at position %zu", tok, char_pos(seq, p));
          free(out);
          return NULL;
        }
      }
      done = 1;
    }
    if (cnt == cap) {
      cap *= 2;
      rt_keycombo *no = realloc(out, cap * sizeof *out);
      if (!no) {
        free(out);
        set_err(err, errlen, "out of memory", NULL, 0);
        return NULL;
      }
      out = no;
    }
    out[cnt].mods = mods;
    out[cnt].keysym = key;
    out[cnt].pos = char_pos(seq, start);
    cnt++;
  }
  if (cnt == 0) {
    free(out);
    set_err(err, errlen, "empty key sequence", NULL, 0);
    return NULL;
  }
  *n = cnt;
  return out;
}

const char *rt_mods_name(unsigned mods, char *buf, size_t len)
{
  static const struct {
    unsigned m;
    const char *n;
  } names[] = {
      {RT_MOD_CTRL, "ctrl"},   {RT_MOD_SHIFT, "shift"}, {RT_MOD_ALT, "alt"},
      {RT_MOD_SUPER, "super"}, {RT_MOD_META, "meta"},
  };
  if (len == 0)
    return buf;
  buf[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(mods & names[i].m))
      continue;
    int w = snprintf(buf + used, len - used, "%s%s", used ? "+" : "", names[i].n);
    if (w < 0 || (size_t)w >= len - used)
      break;
    used += (size_t)w;
  }
  return buf;
}
