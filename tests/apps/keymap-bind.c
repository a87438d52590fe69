/* vagt-keymap-bind: bind keysym pairs to spare keycodes of the X server, and keep them.
 *
 *   vagt-keymap-bind ae:AE oslash:Oslash aring:Aring EuroSign
 *
 * A test tool for the demo app's self-test (like `xmodmap -e 'keycode 200 = ae AE'`, which
 * is not installed everywhere). xdotool types a character missing from the keymap by binding
 * it to a scratch keycode for one keystroke and unbinding it right after; an application
 * that looks the key up after the unbinding (it refetches the keymap on MappingNotify) gets
 * nothing, so under load characters get lost. With the keysyms bound for good beforehand,
 * xdotool finds them in the keymap (with Shift for the second one) and there is no race.
 * Keysyms already in the keymap are skipped. Prints "KEYSYM keycode N" per binding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xlib.h>

static int has_keysym(KeySym *map, int min, int max, int per, KeySym ks)
{
  for (int kc = min; kc <= max; kc++)
    for (int i = 0; i < per; i++)
      if (map[(kc - min) * per + i] == ks)
        return 1;
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fprintf(argc < 2 ? stderr : stdout, "usage: vagt-keymap-bind LOWER[:UPPER]...\n");
    return argc < 2 ? 2 : 0;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "vagt-keymap-bind: cannot open display\n");
    return 4;
  }
  int min, max, per;
  XDisplayKeycodes(dpy, &min, &max);
  KeySym *map = XGetKeyboardMapping(dpy, (KeyCode)min, max - min + 1, &per);
  if (!map)
    return 4;
  int kc = max, rc = 0;
  for (int a = 1; a < argc; a++) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", argv[a]);
    char *colon = strchr(buf, ':');
    if (colon)
      *colon++ = 0;
    KeySym lo = XStringToKeysym(buf), up = colon ? XStringToKeysym(colon) : NoSymbol;
    if (lo == NoSymbol || (colon && up == NoSymbol)) {
      fprintf(stderr, "vagt-keymap-bind: unknown keysym in %s\n", argv[a]);
      rc = 2;
      continue;
    }
    if (has_keysym(map, min, max, per, lo) &&
        (up == NoSymbol || has_keysym(map, min, max, per, up)))
      continue;
    /* a spare keycode: one with no keysym at all, from the top */
    for (; kc >= min; kc--) {
      int empty = 1;
      for (int i = 0; i < per; i++)
        if (map[(kc - min) * per + i] != NoSymbol)
          empty = 0;
      if (empty)
        break;
    }
    if (kc < min) {
      fprintf(stderr, "vagt-keymap-bind: no spare keycode left\n");
      rc = 4;
      break;
    }
    KeySym syms[2] = {lo, up != NoSymbol ? up : lo};
    XChangeKeyboardMapping(dpy, kc, 2, syms, 1);
    map[(kc - min) * per] = lo; /* mark it used */
    printf("%s keycode %d\n", argv[a], kc);
    kc--;
  }
  XSync(dpy, False);
  XFree(map);
  XCloseDisplay(dpy);
  return rc;
}
