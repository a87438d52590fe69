/* vagt key sequences (xdo syntax) and UTF-8 -> keysym mapping. Pure: no display needed.
 *
 * A sequence is space-separated combos; a combo is '+'-separated: modifiers then one key.
 *   "ctrl+s"  "Return"  "alt+F4"  "ctrl+shift+Tab"  "super+a"  "ctrl+a BackSpace"
 *   "ctrl+plus" / "ctrl++"  "æ"  "€"  "@"  "A"
 * Modifier names (case-insensitive): ctrl control shift alt super win meta, and the
 * keysym names Control_L/R Shift_L/R Alt_L/R Super_L/R Meta_L/R when not last.
 * A key is an X keysym name (XStringToKeysym, case-sensitive: "Return", "F4",
 * "BackSpace", "U20AC", "0x1000e6"), one friendly alias (case-insensitive: enter esc
 * backspace del delete ins insert pgup pageup pgdn pagedown home end up down left right
 * space tab return plus minus f1..f35), or a single UTF-8 character.
 * A modifier alone ("ctrl") is the key Control_L with no modifiers.
 */
#ifndef VAGT_RT_KEYSEQ_H
#define VAGT_RT_KEYSEQ_H

#include <X11/X.h>
#include <stddef.h>
#include <stdint.h>

/* logical modifiers of a combo; the input layer maps them to keycodes */
enum {
  RT_MOD_SHIFT = 1u << 0,
  RT_MOD_CTRL = 1u << 1,
  RT_MOD_ALT = 1u << 2,
  RT_MOD_SUPER = 1u << 3,
  RT_MOD_META = 1u << 4,
};

typedef struct {
  unsigned mods; /* RT_MOD_* */
  KeySym keysym;
  size_t pos; /* 1-based character position of the combo in the sequence */
} rt_keycombo;

/* Parse a sequence. Returns a malloc'd array (free()) of *n >= 1 combos, or NULL with a
 * message in err, e.g. "unknown key 'Retrun' at position 1", "empty key sequence",
 * "missing key after 'ctrl+' at position 1", "'a' is not a modifier at position 1".
 * Positions are 1-based character (code point) columns of the offending token. */
rt_keycombo *rt_keyseq_parse(const char *seq, size_t *n, char *err, size_t errlen);

/* Decode one UTF-8 code point from s[*off..len); advances *off. Returns 0 on success,
 * -1 on invalid UTF-8 (bad lead/continuation byte, truncation, overlong form, surrogate,
 * > U+10FFFF); *off is left at the offending byte. */
int rt_utf8_next(const char *s, size_t len, size_t *off, uint32_t *cp);

/* Check a whole string; returns 0, or -1 and the byte offset of the first bad byte. */
int rt_utf8_validate(const char *s, size_t len, size_t *bad_off);

/* Keysym to type code point cp: printable Latin-1 -> same value; '\n' and '\r' -> Return,
 * '\t' -> Tab, '\b' -> BackSpace, ESC -> Escape, DEL -> Delete; well-known legacy keysyms
 * (EuroSign, Latin-2/9 letters, typographic dashes and quotes, ...); otherwise
 * 0x01000000 | cp. Returns NoSymbol (0) for other control characters, surrogates,
 * noncharacters U+FFFE/U+FFFF and cp > U+10FFFF. */
KeySym rt_cp_to_keysym(uint32_t cp);

/* The Unicode code point a keysym produces (inverse of the above for the keysyms it
 * emits, plus Latin-1 and 0x01xxxxxx), 0 if none / unknown. */
uint32_t rt_keysym_to_cp(KeySym ks);

/* Name of a modifier mask for messages: "ctrl+shift" (buf) */
const char *rt_mods_name(unsigned mods, char *buf, size_t len);

#endif
