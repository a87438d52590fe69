/* vagt keyboard input through XTest; see input.h */
#include "input.h"

#include "keyseq.h"
#include "xerror.h"
#include "vu.h"

#include <X11/XKBlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SLOTS 64
#define RT_MIN_SPARE 8 /* borrow function-key keycodes below this many spare ones */

typedef struct {
  KeyCode kc;
  KeySym bound;        /* NoSymbol = holds its original mapping */
  KeySym *orig;        /* per keysyms, the mapping found when first bound */
  int lost;            /* someone else changed it: never touch again */
  double last_used;    /* monotonic seconds of the last key event on it */
  unsigned long stamp; /* LRU order */
} slot_t;

struct rt_input {
  Display *dpy;
  int min_kc, max_kc, per;
  int orig_per; /* keysyms per keycode when the slots' originals were saved */
  KeySym *map;  /* core keymap snapshot */
  XModifierKeymap *modmap;
  int have_xkb;
  slot_t slots[MAX_SLOTS];
  int nslots;
  unsigned long clock;
  double grace; /* seconds */
  rt_input_watch watch;
  void *watch_ud;
};

static void sleep_s(double s)
{
  if (s <= 0)
    return;
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void sleep_us(unsigned us)
{
  if (us)
    sleep_s((double)us / 1e6);
}

static KeySym *map_at(rt_input *in, int kc)
{
  return in->map + (size_t)(kc - in->min_kc) * (size_t)in->per;
}

static int refresh_map(rt_input *in)
{
  int per = 0;
  KeySym *m = XGetKeyboardMapping(in->dpy, (KeyCode)in->min_kc, in->max_kc - in->min_kc + 1, &per);
  if (!m || per <= 0) {
    if (m)
      XFree(m);
    return -1;
  }
  if (in->map)
    XFree(in->map);
  in->map = m;
  in->per = per;
  XModifierKeymap *mm = XGetModifierMapping(in->dpy);
  if (mm) {
    if (in->modmap)
      XFreeModifiermap(in->modmap);
    in->modmap = mm;
  }
  return 0;
}

static int keycode_empty(rt_input *in, int kc)
{
  KeySym *s = map_at(in, kc);
  for (int i = 0; i < in->per; i++)
    if (s[i] != NoSymbol)
      return 0;
  return 1;
}

static int keycode_is_modifier(rt_input *in, int kc)
{
  if (!in->modmap)
    return 0;
  int n = 8 * in->modmap->max_keypermod;
  for (int i = 0; i < n; i++)
    if (in->modmap->modifiermap[i] == kc)
      return 1;
  return 0;
}

rt_input *rt_input_new(Display *dpy)
{
  int ev, er, maj, min;
  if (!dpy || !XTestQueryExtension(dpy, &ev, &er, &maj, &min))
    return NULL;
  rt_input *in = calloc(1, sizeof *in);
  if (!in)
    return NULL;
  in->dpy = dpy;
  in->grace = RT_INPUT_DEFAULT_GRACE_MS / 1000.0;
  XDisplayKeycodes(dpy, &in->min_kc, &in->max_kc);
  int xmaj = XkbMajorVersion, xmin = XkbMinorVersion, op, xev, xerr;
  in->have_xkb = XkbQueryExtension(dpy, &op, &xev, &xerr, &xmaj, &xmin);
  rt_x_trap_begin(dpy);
  int r = refresh_map(in);
  rt_x_trap_end(dpy, NULL);
  if (r != 0) {
    rt_input_free(in);
    return NULL;
  }
  /* spare keycodes: no keysyms at all, not a modifier. Keycode 8 (evdev 0, "reserved")
   * is skipped: some clients ignore it. Highest keycodes first: least likely to be
   * taken by other tools scanning upwards. */
  for (int kc = in->max_kc; kc >= in->min_kc && in->nslots < MAX_SLOTS; kc--) {
    if (kc < 9 || !keycode_empty(in, kc) || keycode_is_modifier(in, kc))
      continue;
    in->slots[in->nslots++].kc = (KeyCode)kc;
  }
  /* few of them (a full keymap): also borrow keys that only carry vendor function keysyms
   * (XF86*, F13..F35); they are put back by rt_input_restore */
  for (int kc = in->max_kc; in->nslots < RT_MIN_SPARE && kc >= 9; kc--) {
    if (kc < in->min_kc || keycode_empty(in, kc) || keycode_is_modifier(in, kc))
      continue;
    KeySym *m = map_at(in, kc);
    int rare = 1;
    for (int c = 0; c < in->per; c++)
      if (m[c] != NoSymbol &&
          !((m[c] >= 0x1008ff00UL && m[c] <= 0x1008ffffUL) || (m[c] >= XK_F13 && m[c] <= XK_F35)))
        rare = 0;
    if (rare)
      in->slots[in->nslots++].kc = (KeyCode)kc;
  }
  /* remember every slot's original mapping now */
  in->orig_per = in->per;
  for (int i = 0; i < in->nslots; i++) {
    slot_t *s = &in->slots[i];
    s->orig = calloc((size_t)in->per, sizeof(KeySym));
    if (!s->orig) {
      rt_input_free(in);
      return NULL;
    }
    memcpy(s->orig, map_at(in, s->kc), (size_t)in->per * sizeof(KeySym));
  }
  return in;
}

void rt_input_set_grace_ms(rt_input *in, unsigned ms)
{
  if (in)
    in->grace = ms / 1000.0;
}

int rt_input_scratch_capacity(const rt_input *in)
{
  int n = 0;
  for (int i = 0; in && i < in->nslots; i++)
    if (!in->slots[i].lost)
      n++;
  return n;
}

int rt_input_scratch_bound(const rt_input *in)
{
  int n = 0;
  for (int i = 0; in && i < in->nslots; i++)
    if (in->slots[i].bound != NoSymbol && !in->slots[i].lost)
      n++;
  return n;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---------- modifiers ---------- */

static int modmap_row_for(rt_input *in, KeySym a, KeySym b)
{
  /* the modifier row (0..7) containing a keycode that carries keysym a or b */
  if (!in->modmap)
    return -1;
  int k = in->modmap->max_keypermod;
  for (int row = 0; row < 8; row++) {
    for (int j = 0; j < k; j++) {
      int kc = in->modmap->modifiermap[row * k + j];
      if (kc < in->min_kc || kc > in->max_kc)
        continue;
      KeySym *s = map_at(in, kc);
      for (int c = 0; c < in->per; c++)
        if (s[c] != NoSymbol && (s[c] == a || s[c] == b))
          return row;
    }
  }
  return -1;
}

static KeyCode modmap_first(rt_input *in, int row, KeySym prefer)
{
  if (row < 0 || !in->modmap)
    return 0;
  int k = in->modmap->max_keypermod;
  KeyCode first = 0;
  for (int j = 0; j < k; j++) {
    KeyCode kc = in->modmap->modifiermap[row * k + j];
    if (!kc)
      continue;
    if (!first)
      first = kc;
    if (kc >= in->min_kc && kc <= in->max_kc && map_at(in, kc)[0] == prefer)
      return kc;
  }
  return first;
}

static KeyCode mod_keycode(rt_input *in, unsigned mod)
{
  switch (mod) {
    case RT_MOD_SHIFT: return modmap_first(in, ShiftMapIndex, XK_Shift_L);
    case RT_MOD_CTRL: return modmap_first(in, ControlMapIndex, XK_Control_L);
    case RT_MOD_ALT: return modmap_first(in, modmap_row_for(in, XK_Alt_L, XK_Alt_R), XK_Alt_L);
    case RT_MOD_SUPER:
      return modmap_first(in, modmap_row_for(in, XK_Super_L, XK_Super_R), XK_Super_L);
    case RT_MOD_META: {
      int row = modmap_row_for(in, XK_Meta_L, XK_Meta_R);
      if (row < 0)
        row = modmap_row_for(in, XK_Alt_L, XK_Alt_R);
      return modmap_first(in, row, XK_Meta_L);
    }
    default: return 0;
  }
}

int rt_input_release_modifiers(rt_input *in)
{
  if (!in || !in->modmap)
    return 0;
  char keys[32];
  XQueryKeymap(in->dpy, keys);
  int n = 0, k = in->modmap->max_keypermod;
  for (int i = 0; i < 8 * k; i++) {
    KeyCode kc = in->modmap->modifiermap[i];
    if (kc && (keys[kc / 8] & (1 << (kc % 8)))) {
      XTestFakeKeyEvent(in->dpy, kc, False, CurrentTime);
      keys[kc / 8] &= (char)~(1 << (kc % 8));
      n++;
    }
  }
  if (n)
    XSync(in->dpy, False);
  return n;
}

/* ---------- scratch keycodes ---------- */

static slot_t *slot_find(rt_input *in, KeySym ks)
{
  for (int i = 0; i < in->nslots; i++)
    if (!in->slots[i].lost && in->slots[i].bound == ks)
      return &in->slots[i];
  return NULL;
}

static int slot_still_ours(rt_input *in, slot_t *s)
{
  KeySym *m = map_at(in, s->kc);
  if (s->bound == NoSymbol) {
    /* the keymap width may have changed since: compare column by column */
    int n = in->per > in->orig_per ? in->per : in->orig_per;
    for (int c = 0; c < n; c++) {
      KeySym now = c < in->per ? m[c] : NoSymbol;
      KeySym was = c < in->orig_per ? s->orig[c] : NoSymbol;
      if (now != was)
        return 0;
    }
    return 1;
  }
  /* the server may normalise trailing columns; col 0 and every non-empty one must match */
  if (m[0] != s->bound)
    return 0;
  for (int c = 1; c < in->per; c++)
    if (m[c] != NoSymbol && m[c] != s->bound)
      return 0;
  return 1;
}

static int slot_write(rt_input *in, slot_t *s, KeySym ks, char *err, size_t errlen)
{
  KeySym syms[16];
  int per = in->per > 16 ? 16 : in->per;
  for (int c = 0; c < per; c++)
    syms[c] = ks == NoSymbol ? (c < in->orig_per ? s->orig[c] : NoSymbol) : ks;
  rt_xerror_info e;
  rt_x_trap_begin(in->dpy);
  XChangeKeyboardMapping(in->dpy, s->kc, per, syms, 1);
  if (rt_x_trap_end(in->dpy, &e)) {
    char msg[200];
    rt_xerror_format(in->dpy, &e, msg, sizeof msg);
    set_err(err, errlen, "cannot remap keycode %d: %s", s->kc, msg);
    return -1;
  }
  memcpy(map_at(in, s->kc), syms, (size_t)per * sizeof(KeySym));
  return 0;
}

/* a keycode for ks on a scratch slot, binding it if needed */
static int scratch_keycode(rt_input *in, KeySym ks, KeyCode *kc, char *err, size_t errlen)
{
  slot_t *s = slot_find(in, ks);
  if (s && !slot_still_ours(in, s)) {
    s->lost = 1; /* changed by another client since: do not touch it again */
    s = NULL;
  }
  if (s) {
    s->stamp = ++in->clock;
    *kc = s->kc;
    return 0;
  }
  /* an unbound slot, else the least recently used one */
  slot_t *best = NULL;
  for (int i = 0; i < in->nslots; i++) {
    slot_t *c = &in->slots[i];
    if (c->lost)
      continue;
    if (!slot_still_ours(in, c)) {
      c->lost = 1; /* another client took it: leave it alone */
      continue;
    }
    if (c->bound == NoSymbol) {
      best = c;
      break;
    }
    if (!best || c->stamp < best->stamp)
      best = c;
  }
  if (!best) {
    set_err(err, errlen, "no spare keycode to bind keysym 0x%lx", (unsigned long)ks);
    return -1;
  }
  if (best->bound != NoSymbol) {
    /* evicting: every event on it must have reached the server and the clients */
    XSync(in->dpy, False);
    sleep_s(best->last_used + in->grace - vu_mono());
  }
  if (slot_write(in, best, ks, err, errlen) != 0)
    return -1;
  best->bound = ks;
  best->stamp = ++in->clock;
  *kc = best->kc;
  return 0;
}

/* find ks in the keymap at level 1 (col 0) or level 2 (col 1, Shift), not on scratch */
static int keymap_lookup(rt_input *in, KeySym ks, KeyCode *kc, int *shift)
{
  for (int col = 0; col < 2 && col < in->per; col++) {
    for (int k = in->min_kc; k <= in->max_kc; k++) {
      KeySym *m = map_at(in, k);
      if (m[col] != ks)
        continue;
      int scratch = 0;
      for (int i = 0; i < in->nslots; i++)
        if (in->slots[i].kc == k && in->slots[i].bound != NoSymbol)
          scratch = 1;
      if (scratch)
        continue;
      /* col 1 only counts if the key really has two levels in group 1 */
      if (col == 1 && m[0] == NoSymbol)
        continue;
      *kc = (KeyCode)k;
      *shift = col;
      return 1;
    }
  }
  return 0;
}

/* ---------- sending ---------- */

typedef struct {
  unsigned int saved_locked;
  int saved_group;
  int changed;
} lockstate_t;

static void neutral_begin(rt_input *in, lockstate_t *ls)
{
  memset(ls, 0, sizeof *ls);
  rt_input_release_modifiers(in);
  if (!in->have_xkb)
    return;
  XkbStateRec st;
  if (XkbGetState(in->dpy, XkbUseCoreKbd, &st) != Success)
    return;
  if (st.latched_mods)
    XkbLatchModifiers(in->dpy, XkbUseCoreKbd, st.latched_mods, 0);
  /* Lock (Caps) inverts case of alphabetic keys; a locked group changes every column */
  unsigned lockmask = st.locked_mods & LockMask;
  if (lockmask) {
    ls->saved_locked = lockmask;
    XkbLockModifiers(in->dpy, XkbUseCoreKbd, lockmask, 0);
    ls->changed = 1;
  }
  if (st.locked_group != 0) {
    ls->saved_group = st.locked_group;
    XkbLockGroup(in->dpy, XkbUseCoreKbd, 0);
    ls->changed = 1;
  }
}

static void neutral_end(rt_input *in, lockstate_t *ls)
{
  if (!ls->changed)
    return;
  /* queued behind our key events: the server applies it after them */
  if (ls->saved_locked)
    XkbLockModifiers(in->dpy, XkbUseCoreKbd, ls->saved_locked, ls->saved_locked);
  if (ls->saved_group)
    XkbLockGroup(in->dpy, XkbUseCoreKbd, (unsigned)ls->saved_group);
}

#define COMBO_PAUSE_US 8000u

static void tap(rt_input *in, KeyCode kc)
{
  XTestFakeKeyEvent(in->dpy, kc, True, CurrentTime);
  XTestFakeKeyEvent(in->dpy, kc, False, CurrentTime);
}

static void mark_used(rt_input *in, KeyCode kc)
{
  for (int i = 0; i < in->nslots; i++)
    if (in->slots[i].kc == kc && in->slots[i].bound != NoSymbol)
      in->slots[i].last_used = vu_mono();
}

/* the keycode and shift level for a keysym */
static int resolve(rt_input *in, KeySym ks, KeyCode *kc, int *shift, char *err, size_t errlen)
{
  if (keymap_lookup(in, ks, kc, shift))
    return 0;
  *shift = 0;
  return scratch_keycode(in, ks, kc, err, errlen);
}

static int begin_call(rt_input *in, char *err, size_t errlen)
{
  if (err && errlen)
    err[0] = '\0';
  rt_x_trap_begin(in->dpy);
  int r = refresh_map(in);
  rt_xerror_info e;
  if (rt_x_trap_end(in->dpy, &e) || r != 0) {
    set_err(err, errlen, "cannot read the keyboard mapping");
    return -1;
  }
  return 0;
}

void rt_input_set_watch(rt_input *in, rt_input_watch fn, void *ud)
{
  if (!in)
    return;
  in->watch = fn;
  in->watch_ud = ud;
}

/* Before key i of n: 0 go on, RT_INPUT_STOPPED (+ err) when the watch says stop. */
static int watched(rt_input *in, size_t i, size_t n, char *err, size_t errlen)
{
  if (!in->watch || i == 0)
    return 0;
  char m[512] = "";
  if (!in->watch(in->watch_ud, i, n, m, sizeof m))
    return 0;
  set_err(err, errlen, "%s", m[0] ? m : "stopped");
  return RT_INPUT_STOPPED;
}

int rt_input_type(rt_input *in, const char *utf8, unsigned delay_us, char *err, size_t errlen)
{
  if (!in || !utf8) {
    set_err(err, errlen, "no input or no text");
    return -1;
  }
  if (delay_us == RT_INPUT_DELAY_DEFAULT)
    delay_us = RT_INPUT_DEFAULT_DELAY_US;
  size_t len = strlen(utf8);
  size_t cap = len ? len : 1, n = 0;
  KeySym *ks = malloc(cap * sizeof *ks);
  if (!ks) {
    set_err(err, errlen, "out of memory");
    return -1;
  }
  /* validate everything before typing anything */
  size_t off = 0;
  while (off < len) {
    size_t at = off;
    uint32_t cp;
    if (rt_utf8_next(utf8, len, &off, &cp) != 0) {
      set_err(err, errlen, "invalid UTF-8 at byte offset %zu", at);
      free(ks);
      return -1;
    }
    if (cp == '\r' && off < len && utf8[off] == '\n')
      continue; /* CRLF: one Return */
    KeySym k = rt_cp_to_keysym(cp);
    if (k == NoSymbol) {
      set_err(err, errlen, "cannot type U+%04X at byte offset %zu", (unsigned)cp, at);
      free(ks);
      return -1;
    }
    ks[n++] = k;
  }
  if (begin_call(in, err, errlen) != 0) {
    free(ks);
    return -1;
  }
  KeyCode shift_kc = mod_keycode(in, RT_MOD_SHIFT);
  lockstate_t ls;
  neutral_begin(in, &ls);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    KeyCode kc;
    int shift;
    if ((rc = watched(in, i, n, err, errlen)) != 0)
      break;
    if (resolve(in, ks[i], &kc, &shift, err, errlen) != 0) {
      rc = -1;
      break;
    }
    if (shift && !shift_kc) {
      set_err(err, errlen, "no Shift key in the keymap");
      rc = -1;
      break;
    }
    if (shift)
      XTestFakeKeyEvent(in->dpy, shift_kc, True, CurrentTime);
    tap(in, kc);
    if (shift)
      XTestFakeKeyEvent(in->dpy, shift_kc, False, CurrentTime);
    mark_used(in, kc);
    XFlush(in->dpy);
    sleep_us(delay_us);
  }
  neutral_end(in, &ls);
  XSync(in->dpy, False);
  free(ks);
  return rc;
}

int rt_input_keys_delay(rt_input *in, const char *seq, unsigned delay_us, char *err, size_t errlen)
{
  if (!in) {
    set_err(err, errlen, "no input");
    return -1;
  }
  size_t n;
  rt_keycombo *c = rt_keyseq_parse(seq, &n, err, errlen);
  if (!c)
    return -1;
  if (begin_call(in, err, errlen) != 0) {
    free(c);
    return -1;
  }
  static const unsigned order[] = {RT_MOD_CTRL, RT_MOD_ALT, RT_MOD_SHIFT, RT_MOD_SUPER,
                                   RT_MOD_META};
  /* resolve all modifier keycodes first: fail before sending anything */
  for (size_t i = 0; i < n; i++) {
    for (size_t m = 0; m < 5; m++) {
      if ((c[i].mods & order[m]) && !mod_keycode(in, order[m])) {
        char nm[32];
        set_err(err, errlen, "no keycode for modifier %s (combo at position %zu)",
                rt_mods_name(order[m], nm, sizeof nm), c[i].pos);
        free(c);
        return -1;
      }
    }
  }
  lockstate_t ls;
  neutral_begin(in, &ls);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    KeyCode kc;
    int shift;
    KeySym ks = c[i].keysym;
    if ((rc = watched(in, i, n, err, errlen)) != 0)
      break;
    if (c[i].mods & RT_MOD_SHIFT) {
      /* shift+æ is Æ with Shift held, as on a keyboard that has the key */
      KeySym lower, upper;
      XConvertCase(ks, &lower, &upper);
      if (upper != NoSymbol)
        ks = upper;
    }
    if (resolve(in, ks, &kc, &shift, err, errlen) != 0) {
      rc = -1;
      break;
    }
    unsigned mods = c[i].mods | (shift ? RT_MOD_SHIFT : 0);
    KeyCode pressed[5];
    int np = 0;
    for (size_t m = 0; m < 5; m++) {
      if (!(mods & order[m]))
        continue;
      KeyCode mk = mod_keycode(in, order[m]);
      int dup = 0;
      for (int j = 0; j < np; j++)
        if (pressed[j] == mk)
          dup = 1;
      if (!mk || dup)
        continue;
      XTestFakeKeyEvent(in->dpy, mk, True, CurrentTime);
      pressed[np++] = mk;
    }
    /* a combo at a hand's pace: the application sees the modifier down before the key
     * and the key up before the modifier (Motif's menu mnemonics ignore a burst; Tk posts
     * a menu from Alt+F and grabs while the rest of a burst is in flight) */
    if (np) {
      XSync(in->dpy, False);
      sleep_us(COMBO_PAUSE_US);
    }
    tap(in, kc);
    if (np) {
      XSync(in->dpy, False);
      sleep_us(COMBO_PAUSE_US);
    }
    while (np > 0)
      XTestFakeKeyEvent(in->dpy, pressed[--np], False, CurrentTime);
    mark_used(in, kc);
    XFlush(in->dpy);
    if (i + 1 < n)
      sleep_us(delay_us);
  }
  neutral_end(in, &ls);
  XSync(in->dpy, False);
  free(c);
  return rc;
}

int rt_input_keys(rt_input *in, const char *seq, char *err, size_t errlen)
{
  return rt_input_keys_delay(in, seq, RT_INPUT_DEFAULT_DELAY_US, err, errlen);
}

void rt_input_restore(rt_input *in)
{
  if (!in || !in->dpy)
    return;
  double latest = 0;
  int any = 0;
  for (int i = 0; i < in->nslots; i++) {
    slot_t *s = &in->slots[i];
    if (s->bound != NoSymbol && !s->lost) {
      any = 1;
      if (s->last_used > latest)
        latest = s->last_used;
    }
  }
  if (!any)
    return;
  XSync(in->dpy, False);
  sleep_s(latest + in->grace - vu_mono());
  rt_x_trap_begin(in->dpy);
  int r = refresh_map(in);
  rt_x_trap_end(in->dpy, NULL);
  for (int i = 0; i < in->nslots; i++) {
    slot_t *s = &in->slots[i];
    if (s->bound == NoSymbol || s->lost)
      continue;
    /* only put back what still holds our binding */
    if (r != 0 || slot_still_ours(in, s))
      slot_write(in, s, NoSymbol, NULL, 0);
    s->bound = NoSymbol;
  }
  XSync(in->dpy, False);
}

void rt_input_free(rt_input *in)
{
  if (!in)
    return;
  if (in->map)
    rt_input_restore(in);
  for (int i = 0; i < in->nslots; i++)
    free(in->slots[i].orig);
  if (in->map)
    XFree(in->map);
  if (in->modmap)
    XFreeModifiermap(in->modmap);
  free(in);
}
