/* vagt keyboard input through XTest to the focused window.
 *
 * Characters present in the current keymap at level 1 or 2 are typed with their own
 * keycode (+Shift). Any other character is bound to a spare keycode (one with no keysyms;
 * when there are fewer than 8, keycodes carrying only XF86 vendor keysyms or F13..F35 are
 * borrowed too) in EVERY column of that keycode, so neither XKB nor the core protocol applies case
 * conversion ("Æ" stays "Æ"). Distinct characters use distinct spare keycodes; bindings
 * are cached across calls (LRU) and a keycode is re-bound only after XSync and a grace
 * period since its last key event, so no client can look up an in-flight event in a
 * changed keymap. rt_input_restore puts every remapped keycode back.
 *
 * Errors are caught with rt_x_trap_* (xerror.h); nothing here exits the process.
 */
#ifndef VAGT_RT_INPUT_H
#define VAGT_RT_INPUT_H

#include <X11/Xlib.h>
#include <stddef.h>

typedef struct rt_input rt_input;

/* delay_us value meaning "use the default inter-character delay" */
#define RT_INPUT_DELAY_DEFAULT ((unsigned)-1)
/* the default delay between characters, microseconds (measured: ~238 chars/s end to end,
 * 100% exact, into xterm on Xvfb; tests/xio/bench_xio.sh) */
#define RT_INPUT_DEFAULT_DELAY_US 4000u
/* default grace before a scratch keycode may be re-bound or restored, milliseconds. A
 * client that reads its events late (a loaded machine) looks an old key event up in the
 * keymap as it is when it reads it: typing 65 distinct non-keymap characters through 18
 * spare keycodes (2 cores, 6 busy loops, two typists at once) gave other characters in
 * 10 of 24 runs at 150 ms and in none of 24 at 400 ms. Re-binding is rare (more distinct
 * characters in a run than spare keycodes); it costs the wait once per re-bound keycode. */
#define RT_INPUT_DEFAULT_GRACE_MS 500u

/* NULL when the display has no XTest extension or memory is short. Finds spare keycodes
 * now; the display must stay open until rt_input_free. */
rt_input *rt_input_new(Display *dpy);

/* Type UTF-8 text exactly. '\n' and '\r' (and "\r\n" as one) -> Return, '\t' -> Tab.
 * The whole text is validated first: invalid UTF-8 or an untypeable character (control
 * character, U+FFFE...) gives -1 and a message naming the byte offset, and nothing is
 * typed. Held modifiers are released first; Caps Lock and a locked XKB group are unlocked
 * while typing and restored afterwards. delay_us: pause after each character
 * (RT_INPUT_DELAY_DEFAULT for the default, 0 for none). Returns 0 or -1 (+ err). */
int rt_input_type(rt_input *in, const char *utf8, unsigned delay_us, char *err, size_t errlen);

/* rt_input_type and rt_input_keys* return this when the watch stopped them. */
#define RT_INPUT_STOPPED (-3)

/* A watch asked before every character (rt_input_type) or combo (rt_input_keys*) but the
 * first, once the keys before it have reached the server: `done` of `total` were sent.
 * Non-zero stops there, nothing more is sent, and the call returns RT_INPUT_STOPPED with
 * the watch's message in err. The step engine stops typing into a window that opened
 * meanwhile (keywatch.h). NULL fn: no watch. */
typedef int (*rt_input_watch)(void *ud, size_t done, size_t total, char *err, size_t errlen);
void rt_input_set_watch(rt_input *in, rt_input_watch fn, void *ud);

/* Send an xdo-style key sequence, e.g. "ctrl+a BackSpace", "alt+F4", "shift+Tab".
 * Modifiers are pressed in order, the key tapped, modifiers released in reverse order;
 * they are always released, also on error. Returns 0 or -1 (+ err, e.g. the parse error
 * "unknown key 'Retrun' at position 1" or "no keycode for modifier super"). */
int rt_input_keys(rt_input *in, const char *seq, char *err, size_t errlen);

/* Same, with a pause between combos (microseconds). */
int rt_input_keys_delay(rt_input *in, const char *seq, unsigned delay_us, char *err, size_t errlen);

/* Release any modifier key currently down (XQueryKeymap); returns how many. */
int rt_input_release_modifiers(rt_input *in);

/* Grace period before a used scratch keycode is re-bound or restored (default
 * RT_INPUT_DEFAULT_GRACE_MS). */
void rt_input_set_grace_ms(rt_input *in, unsigned ms);

/* Restore every keycode this object remapped (waiting out the grace period of the most
 * recently used one first). Idempotent; safe to call repeatedly and on exit paths while
 * the display is still open. Scratch bindings are re-created on demand afterwards. */
void rt_input_restore(rt_input *in);

/* Number of spare keycodes available for scratch bindings, and how many are bound now. */
int rt_input_scratch_capacity(const rt_input *in);
int rt_input_scratch_bound(const rt_input *in);

/* rt_input_restore, then free. NULL is fine. */
void rt_input_free(rt_input *in);

#endif
