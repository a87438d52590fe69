/* xio integration driver; run under tests/lib/with-xvfb.
 *   xio_drive type --text T [--keys SEQ] --expect E [--delay US] [--grace MS]
 *                  [--stuck-shift] [--caps]
 *       starts xterm running `head -n1 > FILE`, focuses it, types T then sends SEQ, waits
 *       for xterm to exit and compares FILE with E + "\n" byte for byte. Also checks that
 *       the keyboard mapping after rt_input_restore equals the one before, and (--caps)
 *       that Caps Lock is still locked afterwards.
 *   xio_drive capture
 *       windows with known colours; checks pixels via MIT-SHM and XGetImage, root rect,
 *       off-screen clipping, the content hash, and errors for destroyed/unmapped windows.
 *   xio_drive badkeys
 *       errors of rt_input_keys/rt_input_type reach the caller, nothing is typed.
 *   xio_drive xerror
 *       error traps: nesting, foreign handlers, untrapped errors to the callback.
 *   xio_drive appq --name INSTANCE -- PROGRAM [ARGS...]
 *       starts PROGRAM, finds its window by WM_CLASS instance, and checks rt_appq on it:
 *       the window's process is found, nothing unread at rest, an event sent while the
 *       process is stopped stays unread, and is read once it continues.
 * type options: --text/--keys repeat and run in order; --fill-keymap fills every empty
 * keycode first (forces borrowing); --stuck-shift holds Shift first; --caps locks Caps.
 */
#include "appq.h"
#include "capture.h"
#include "input.h"
#include "keyseq.h"
#include "xerror.h"
#include "xio_common.h"
#include "vu.h"

#include <X11/XKBlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static KeySym *keymap_snapshot(Display *dpy, int *n, int *per)
{
  int mn, mx;
  XDisplayKeycodes(dpy, &mn, &mx);
  *n = mx - mn + 1;
  return XGetKeyboardMapping(dpy, (KeyCode)mn, *n, per);
}

static void hexdump(const char *label, const char *s, size_t n)
{
  fprintf(stderr, "%s (%zu bytes):", label, n);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, " %02x", (unsigned char)s[i]);
  fprintf(stderr, "\n");
}

static int cmd_type(Display *dpy, int argc, char **argv)
{
  const char *text = NULL, *expect = NULL;
  /* --text and --keys may repeat: they run in the order given */
  const char *acts[32];
  char kinds[32];
  int nacts = 0;
  unsigned delay = RT_INPUT_DELAY_DEFAULT;
  int stuck_shift = 0, caps = 0, grace = -1, fill = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--text") && i + 1 < argc && nacts < 32) {
      text = argv[++i];
      kinds[nacts] = 't';
      acts[nacts++] = text;
    } else if (!strcmp(argv[i], "--keys") && i + 1 < argc && nacts < 32) {
      kinds[nacts] = 'k';
      acts[nacts++] = argv[++i];
    } else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
      expect = argv[++i];
    else if (!strcmp(argv[i], "--delay") && i + 1 < argc)
      delay = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--grace") && i + 1 < argc)
      grace = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--stuck-shift"))
      stuck_shift = 1;
    else if (!strcmp(argv[i], "--caps"))
      caps = 1;
    else if (!strcmp(argv[i], "--fill-keymap"))
      fill = 1;
    else {
      fprintf(stderr, "type: bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!text || !expect) {
    fprintf(stderr, "type: --text and --expect needed\n");
    return 2;
  }

  int n0, per0, n1, per1;
  KeySym *before = keymap_snapshot(dpy, &n0, &per0);
  int filled[256], nfilled = 0;
  if (fill) {
    /* a keymap with no empty keycode: rt_input must borrow function-key keycodes */
    for (int i = 0; i < n0 && nfilled < 256; i++) {
      int empty = 1;
      for (int c = 0; c < per0; c++)
        empty &= before[i * per0 + c] == NoSymbol;
      if (!empty || i + 8 < 9)
        continue;
      KeySym k = XK_KP_F1;
      XChangeKeyboardMapping(dpy, i + 8, 1, &k, 1);
      filled[nfilled++] = i + 8;
    }
    XSync(dpy, False);
    XFree(before);
    before = keymap_snapshot(dpy, &n0, &per0);
  }

  char out[256], name[64];
  snprintf(out, sizeof out, "/tmp/xio_drive_%d.out", (int)getpid());
  snprintf(name, sizeof name, "xiotest%d", (int)getpid());
  unlink(out);
  pid_t pid = xc_start_xterm(name, out);
  CHECK(pid > 0, "cannot start xterm");
  if (pid <= 0)
    return 1;
  Window w = xc_wait_and_focus(dpy, name, 15000);
  CHECK(w != 0, "xterm window did not appear/focus");
  if (!w) {
    xc_wait_pid(pid, 0);
    return 1;
  }

  rt_input *in = rt_input_new(dpy);
  CHECK(in != NULL, "rt_input_new failed (no XTest?)");
  if (!in)
    return 1;
  if (grace >= 0)
    rt_input_set_grace_ms(in, (unsigned)grace);
  if (stuck_shift) {
    /* simulate a modifier left down by an earlier crash */
    KeyCode sk = XKeysymToKeycode(dpy, XK_Shift_L);
    XTestFakeKeyEvent(dpy, sk, True, CurrentTime);
    XSync(dpy, False);
  }
  if (caps) {
    XkbLockModifiers(dpy, XkbUseCoreKbd, LockMask, LockMask);
    XSync(dpy, False);
  }
  char err[256] = "";
  double t0 = vu_mono(), t1 = t0;
  size_t nchars = 0;
  for (int i = 0; i < nacts; i++) {
    if (kinds[i] == 't') {
      double a = vu_mono();
      int r = rt_input_type(in, acts[i], delay, err, sizeof err);
      t1 += vu_mono() - a;
      CHECK(r == 0, "rt_input_type: %s", err);
      for (const char *p = acts[i]; *p; p++)
        nchars += ((unsigned char)*p & 0xc0) != 0x80;
    } else {
      int r = rt_input_keys(in, acts[i], err, sizeof err);
      CHECK(r == 0, "rt_input_keys '%s': %s", acts[i], err);
    }
  }
  int st = xc_wait_pid(pid, 15000);
  CHECK(st == 0, "xterm did not finish (status %d): the line was not completed", st);
  size_t glen = 0;
  char *got = vu_read_file(out, 256u << 20, 0, &glen, NULL, 0);
  size_t elen = strlen(expect);
  char *exp = malloc(elen + 2);
  memcpy(exp, expect, elen);
  exp[elen] = '\n';
  exp[elen + 1] = '\0';
  CHECK(got != NULL, "no output file %s", out);
  if (got) {
    int same = glen == elen + 1 && memcmp(got, exp, glen) == 0;
    CHECK(same, "typed text differs:\n  expected: %s  got:      %s", exp, got);
    if (!same) {
      hexdump("expected", exp, elen + 1);
      hexdump("got", got, glen);
    }
  }
  printf("typed %zu chars in %.3f s (%.0f chars/s), scratch keycodes: %d of %d bound\n", nchars,
         t1 - t0, nchars / (t1 - t0), rt_input_scratch_bound(in), rt_input_scratch_capacity(in));

  rt_input_restore(in);
  rt_input_restore(in); /* idempotent */
  KeySym *after = keymap_snapshot(dpy, &n1, &per1);
  int same_map =
      n0 == n1 && per0 == per1 && memcmp(before, after, (size_t)n0 * per0 * sizeof(KeySym)) == 0;
  CHECK(same_map, "keyboard mapping not restored");
  if (!same_map && n0 == n1 && per0 == per1) {
    for (int i = 0; i < n0 * per0; i++)
      if (before[i] != after[i])
        fprintf(stderr, "  keycode %d col %d: %lx -> %lx\n", i / per0 + 8, i % per0, before[i],
                after[i]);
  }
  /* no key left down */
  char down[32];
  XQueryKeymap(dpy, down);
  int anydown = 0;
  for (int i = 0; i < 32; i++)
    anydown |= down[i];
  CHECK(!anydown, "a key is still held down after typing");
  if (fill) {
    CHECK(nfilled > 0 && rt_input_scratch_capacity(in) > 0, "filled %d keycodes, borrowed %d",
          nfilled, rt_input_scratch_capacity(in));
    printf("keymap filled (%d keycodes), %d function-key keycodes borrowed\n", nfilled,
           rt_input_scratch_capacity(in));
  }
  if (caps) {
    XkbStateRec s;
    XkbGetState(dpy, XkbUseCoreKbd, &s);
    CHECK(s.locked_mods & LockMask, "Caps Lock was not restored");
    XkbLockModifiers(dpy, XkbUseCoreKbd, LockMask, 0);
  }
  rt_input_free(in);
  for (int i = 0; i < nfilled; i++) {
    KeySym k = NoSymbol;
    XChangeKeyboardMapping(dpy, filled[i], 1, &k, 1);
  }
  XSync(dpy, False);
  XFree(before);
  XFree(after);
  free(got);
  free(exp);
  unlink(out);
  return failures ? 1 : 0;
}

static int cmd_badkeys(Display *dpy)
{
  rt_input *in = rt_input_new(dpy);
  CHECK(in != NULL, "rt_input_new");
  if (!in)
    return 1;
  char err[256] = "";
  int r = rt_input_keys(in, "ctrl+a Retrun", err, sizeof err);
  CHECK(r == -1 && strstr(err, "unknown key 'Retrun' at position 8"), "got %d '%s'", r, err);
  r = rt_input_type(in, "ok\xff", 0, err, sizeof err);
  CHECK(r == -1 && strstr(err, "byte offset 2"), "got %d '%s'", r, err);
  r = rt_input_type(in, "a\007b", 0, err, sizeof err);
  CHECK(r == -1 && strstr(err, "U+0007"), "got %d '%s'", r, err);
  CHECK(rt_input_scratch_capacity(in) > 0, "no spare keycodes found");
  rt_input_free(in);
  return failures ? 1 : 0;
}

static int cb_calls;
static rt_xerror_info cb_last;
static void on_untrapped(Display *dpy, const rt_xerror_info *e, void *user)
{
  (void)dpy;
  (void)user;
  cb_calls++;
  cb_last = *e;
}

static int other_calls;
static int other_handler(Display *dpy, XErrorEvent *ev)
{
  (void)dpy;
  (void)ev;
  other_calls++;
  return 0;
}

static int cmd_xerror(Display *dpy)
{
  Window bogus = (Window)0x7fffff0;
  XWindowAttributes a;
  rt_xerror_info e;
  char msg[256];
  rt_x_trap_begin(dpy);
  XGetWindowAttributes(dpy, bogus, &a);
  int code = rt_x_trap_end(dpy, &e);
  CHECK(code == BadWindow && e.error_code == BadWindow && e.resourceid == bogus, "trap: code %d",
        code);
  rt_xerror_format(dpy, &e, msg, sizeof msg);
  CHECK(strstr(msg, "BadWindow") && strstr(msg, "X_GetWindowAttributes"), "format: %s", msg);
  /* nesting: the inner trap gets the error, the outer one stays clean */
  rt_x_trap_begin(dpy);
  XSync(dpy, False);
  rt_x_trap_begin(dpy);
  XMapWindow(dpy, bogus);
  CHECK(rt_x_trap_end(dpy, NULL) == BadWindow, "inner trap missed the error");
  XSync(dpy, False);
  CHECK(rt_x_trap_end(dpy, &e) == 0, "outer trap got %d", e.error_code);
  /* an error before a trap is not blamed on it */
  XMapWindow(dpy, bogus);
  rt_xerror_set_callback(on_untrapped, NULL);
  rt_x_trap_begin(dpy);
  CHECK(rt_x_trap_end(dpy, NULL) == 0, "earlier error blamed on the trap");
  CHECK(cb_calls == 1 && cb_last.error_code == BadWindow, "callback: %d calls", cb_calls);
  /* untrapped errors go to the callback and the process lives on */
  XUnmapWindow(dpy, bogus);
  XSync(dpy, False);
  CHECK(cb_calls == 2, "callback not called for an untrapped error");
  rt_xerror_info last = rt_xerror_last(1);
  CHECK(last.error_code == BadWindow, "rt_xerror_last: %d", last.error_code);
  CHECK(rt_xerror_last(0).error_code == 0, "rt_xerror_last(1) did not clear");
  /* a handler installed by someone else afterwards: traps still work and it comes back */
  XErrorHandler mine = XSetErrorHandler(other_handler);
  rt_x_trap_begin(dpy);
  XMapWindow(dpy, bogus);
  CHECK(rt_x_trap_end(dpy, NULL) == BadWindow, "trap under a foreign handler missed it");
  CHECK(other_calls == 0, "foreign handler saw a trapped error");
  XMapWindow(dpy, bogus);
  XSync(dpy, False);
  CHECK(other_calls == 1, "foreign handler not restored after the trap");
  XSetErrorHandler(mine);
  rt_xerror_set_callback(NULL, NULL);
  return failures ? 1 : 0;
}

/* ---------- capture ---------- */

static unsigned long rgb(Display *dpy, unsigned r, unsigned g, unsigned b)
{
  XColor c = {0};
  c.red = (unsigned short)(r * 257);
  c.green = (unsigned short)(g * 257);
  c.blue = (unsigned short)(b * 257);
  XAllocColor(dpy, DefaultColormap(dpy, DefaultScreen(dpy)), &c);
  return c.pixel;
}

static Window mkwin(Display *dpy, Window parent, int x, int y, int w, int h, unsigned long bg)
{
  XSetWindowAttributes a;
  a.background_pixel = bg;
  a.override_redirect = True; /* no window manager moves or decorates it */
  Window win = XCreateWindow(dpy, parent, x, y, (unsigned)w, (unsigned)h, 0, CopyFromParent,
                             InputOutput, CopyFromParent, CWBackPixel | CWOverrideRedirect, &a);
  XMapWindow(dpy, win);
  return win;
}

static void check_px(PIX *pix, int x, int y, unsigned r, unsigned g, unsigned b, const char *what)
{
  l_int32 pr = -1, pg = -1, pb = -1;
  pixGetRGBPixel(pix, x, y, &pr, &pg, &pb);
  CHECK(pr == (l_int32)r && pg == (l_int32)g && pb == (l_int32)b,
        "%s: pixel (%d,%d) = %d,%d,%d, expected %u,%u,%u", what, x, y, pr, pg, pb, r, g, b);
}

static void check_pattern(PIX *pix, int ox, int oy, const char *what)
{
  /* window: 200x100 red; right half (100..199) blue child; green 10x10 at (30,40) */
  check_px(pix, ox + 0, oy + 0, 255, 0, 0, what);
  check_px(pix, ox + 99, oy + 99, 255, 0, 0, what);
  check_px(pix, ox + 100, oy + 0, 0, 0, 255, what);
  check_px(pix, ox + 199, oy + 99, 0, 0, 255, what);
  check_px(pix, ox + 30, oy + 40, 0, 255, 0, what);
  check_px(pix, ox + 39, oy + 49, 0, 255, 0, what);
  check_px(pix, ox + 40, oy + 50, 255, 0, 0, what);
  check_px(pix, ox + 29, oy + 39, 255, 0, 0, what);
}

static int cmd_capture(Display *dpy)
{
  Window root = DefaultRootWindow(dpy);
  Window w = mkwin(dpy, root, 300, 200, 200, 100, rgb(dpy, 255, 0, 0));
  mkwin(dpy, w, 100, 0, 100, 100, rgb(dpy, 0, 0, 255));
  mkwin(dpy, w, 30, 40, 10, 10, rgb(dpy, 0, 255, 0));
  XSync(dpy, False);
  xc_sleep_ms(200);
  char err[256];
  for (int mode = 0; mode < 2; mode++) {
    rt_capture *cap = rt_capture_new(dpy);
    CHECK(cap != NULL, "rt_capture_new");
    const char *env = getenv("VAGT_NO_SHM");
    int env_off = env && env[0] == '1';
    if (mode == 1)
      rt_capture_set_shm(cap, 0);
    const char *m = rt_capture_using_shm(cap) ? "shm" : "xgetimage";
    if (mode == 0 && !env_off)
      CHECK(rt_capture_using_shm(cap), "MIT-SHM expected on a local Xvfb");
    if (env_off)
      CHECK(!rt_capture_using_shm(cap), "VAGT_NO_SHM=1 must disable MIT-SHM");
    for (int rep = 0; rep < 3; rep++) { /* segment reuse */
      PIX *p = rt_capture_window(cap, w, err, sizeof err);
      CHECK(p != NULL, "%s: capture window: %s", m, err);
      if (!p)
        continue;
      CHECK(pixGetWidth(p) == 200 && pixGetHeight(p) == 100 && pixGetDepth(p) == 32,
            "%s: size %dx%dx%d", m, pixGetWidth(p), pixGetHeight(p), pixGetDepth(p));
      check_pattern(p, 0, 0, m);
      pixDestroy(&p);
    }
    /* a root rectangle around the window, then a window rectangle (new sizes) */
    PIX *r = rt_capture_root_rect(cap, 290, 190, 220, 120, err, sizeof err);
    CHECK(r != NULL, "%s: root rect: %s", m, err);
    if (r) {
      check_pattern(r, 10, 10, m);
      pixDestroy(&r);
    }
    PIX *s = rt_capture_screen(cap, err, sizeof err);
    CHECK(s != NULL, "%s: screen: %s", m, err);
    if (s) {
      CHECK(pixGetWidth(s) == DisplayWidth(dpy, 0) && pixGetHeight(s) == DisplayHeight(dpy, 0),
            "%s: screen size", m);
      check_pattern(s, 300, 200, m);
      pixDestroy(&s);
    }
    PIX *wr = rt_capture_window_rect(cap, w, 25, 35, 20, 20, err, sizeof err);
    CHECK(wr != NULL, "%s: window rect: %s", m, err);
    if (wr) {
      check_px(wr, 5, 5, 0, 255, 0, m);
      check_px(wr, 0, 0, 255, 0, 0, m);
      pixDestroy(&wr);
    }
    PIX *bad = rt_capture_window_rect(cap, w, 150, 50, 100, 100, err, sizeof err);
    CHECK(bad == NULL && strstr(err, "not inside"), "%s: rect outside window: '%s'", m, err);
    pixDestroy(&bad);
    /* hash: stable for the same content, changes with one pixel */
    PIX *a = rt_capture_window(cap, w, err, sizeof err);
    PIX *b = rt_capture_window(cap, w, err, sizeof err);
    if (a && b) {
      CHECK(rt_pix_hash(a) == rt_pix_hash(b), "%s: hash of identical captures differs", m);
      pixSetRGBPixel(b, 150, 60, 0, 0, 254);
      CHECK(rt_pix_hash(a) != rt_pix_hash(b), "%s: hash ignores a changed pixel", m);
    }
    pixDestroy(&a);
    pixDestroy(&b);
    /* zero-copy frames: pattern via rt_frame_to_pix, hash stable, hash sees a change */
    rt_frame f;
    CHECK(rt_capture_window_frame(cap, w, &f, err, sizeof err) == 0, "%s: frame: %s", m, err);
    CHECK(f.width == 200 && f.height == 100 && f.vis_w == 200 && f.vis_h == 100,
          "%s: frame geometry %ux%u vis %ux%u", m, f.width, f.height, f.vis_w, f.vis_h);
    uint64_t fh1 = rt_frame_hash(&f);
    PIX *fp = rt_frame_to_pix(&f, err, sizeof err);
    CHECK(fp != NULL, "%s: frame to pix: %s", m, err);
    if (fp) {
      check_pattern(fp, 0, 0, m);
      pixDestroy(&fp);
    }
    CHECK(rt_capture_window_frame(cap, w, &f, err, sizeof err) == 0, "%s: frame: %s", m, err);
    CHECK(rt_frame_hash(&f) == fh1, "%s: frame hash of identical captures differs", m);
    Window dot = mkwin(dpy, w, 150, 60, 1, 1, rgb(dpy, 0, 0, 254));
    XSync(dpy, False);
    CHECK(rt_capture_window_frame(cap, w, &f, err, sizeof err) == 0, "%s: frame: %s", m, err);
    CHECK(rt_frame_hash(&f) != fh1, "%s: frame hash ignores a changed pixel", m);
    XDestroyWindow(dpy, dot);
    XSync(dpy, False);
    CHECK(rt_capture_window_frame(cap, w, &f, err, sizeof err) == 0, "%s: frame: %s", m, err);
    CHECK(rt_frame_hash(&f) == fh1, "%s: frame hash not back after the change was undone", m);
    rt_capture_free(cap);
  }
  /* both paths give identical pixels */
  {
    rt_capture *c1 = rt_capture_new(dpy), *c2 = rt_capture_new(dpy);
    rt_capture_set_shm(c2, 0);
    PIX *a = rt_capture_screen(c1, err, sizeof err);
    PIX *b = rt_capture_screen(c2, err, sizeof err);
    CHECK(a && b && rt_pix_hash(a) == rt_pix_hash(b), "SHM and XGetImage screens differ");
    pixDestroy(&a);
    pixDestroy(&b);
    rt_capture_free(c1);
    rt_capture_free(c2);
  }
  rt_capture *cap = rt_capture_new(dpy);
  /* partly off-screen: the visible part is captured, the rest is black */
  XMoveWindow(dpy, w, -50, -20);
  XSync(dpy, False);
  xc_sleep_ms(100);
  PIX *off = rt_capture_window(cap, w, err, sizeof err);
  CHECK(off != NULL, "off-screen capture: %s", err);
  if (off) {
    check_px(off, 10, 10, 0, 0, 0, "off-screen part");
    check_px(off, 60, 30, 255, 0, 0, "visible part");
    check_px(off, 150, 30, 0, 0, 255, "visible part");
    pixDestroy(&off);
  }
  /* unmapped window */
  XUnmapWindow(dpy, w);
  XSync(dpy, False);
  PIX *un = rt_capture_window(cap, w, err, sizeof err);
  CHECK(un == NULL && strstr(err, "not viewable"), "unmapped window: '%s'", err);
  pixDestroy(&un);
  /* destroyed window: an error, and the process goes on */
  XDestroyWindow(dpy, w);
  XSync(dpy, False);
  PIX *gone = rt_capture_window(cap, w, err, sizeof err);
  CHECK(gone == NULL && strstr(err, "does not exist"), "destroyed window: '%s'", err);
  printf("destroyed window -> %s\n", err);
  pixDestroy(&gone);
  gone = rt_capture_window(cap, (Window)0x7ffffff, err, sizeof err);
  CHECK(gone == NULL, "bogus window id captured");
  pixDestroy(&gone);
  /* capture still works afterwards */
  PIX *s = rt_capture_screen(cap, err, sizeof err);
  CHECK(s != NULL, "capture after errors: %s", err);
  pixDestroy(&s);
  rt_xerror_info last = rt_xerror_last(1);
  CHECK(last.error_code == 0, "an X error escaped the traps (code %d, request %d)", last.error_code,
        last.request_code);
  rt_capture_free(cap);
  return failures ? 1 : 0;
}

/* Polls rt_appq_unread until want(unread) or timeout_ms; the last value. */
static long unread_until(rt_appq *q, int zero, unsigned timeout_ms)
{
  double until = vu_mono() + timeout_ms / 1000.0;
  long n;
  while ((n = rt_appq_unread(q)) >= 0 && (zero ? n != 0 : n == 0) && vu_mono() < until)
    xc_sleep_ms(5);
  return n;
}

static int cmd_appq(Display *dpy, int argc, char **argv)
{
  const char *name = NULL;
  int i = 0;
  for (; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "--name") && i + 1 < argc)
      name = argv[++i];
  if (!name || i + 1 >= argc) {
    fprintf(stderr, "usage: xio_drive appq --name INSTANCE -- PROGRAM [ARGS...]\n");
    return 2;
  }
  char **prog = argv + i + 1;
  pid_t pid = fork();
  if (pid == 0) {
    execvp(prog[0], prog);
    _exit(127);
  }
  CHECK(pid > 0, "fork");
  Window w = 0;
  for (int t = 0; pid > 0 && !w && t < 3000; t++) { /* up to 30 s: a JVM starts slowly */
    w = xc_find_client(dpy, name);
    if (!w)
      xc_sleep_ms(10);
  }
  CHECK(w, "no window of instance %s", name);
  rt_appq *q = w ? rt_appq_new(dpy, w) : NULL;
  CHECK(q, "rt_appq_new found no X connection for %s's window", name);
  if (q) {
    pid_t owner = (pid_t)rt_appq_pid(q);
    CHECK(owner > 0, "no owner process");
    long n = unread_until(q, 1, 5000);
    CHECK(n == 0, "%s at rest: %ld bytes unread", name, n);
    kill(owner, SIGSTOP);
    xc_sleep_ms(50);
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = XInternAtom(dpy, "_VAGT_TEST_PING", False);
    ev.xclient.format = 32;
    XSendEvent(dpy, w, False, NoEventMask, &ev); /* to the window's own client */
    XSync(dpy, False);
    n = rt_appq_unread(q);
    CHECK(n >= 32, "%s stopped: %ld bytes unread after one event, want >= 32", name, n);
    kill(owner, SIGCONT);
    n = unread_until(q, 1, 5000);
    CHECK(n == 0, "%s continued: %ld bytes still unread after 5 s", name, n);
    printf("appq %s: process %ld, its X connection found, unread 0 -> >= 32 stopped -> 0\n", name,
           (long)owner);
    rt_appq_free(q);
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    if (xc_wait_pid(pid, 5000) < 0)
      CHECK(0, "%s did not end on SIGTERM", name);
  }
  return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: xio_drive type|capture|badkeys ...\n");
    return 2;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "xio_drive: cannot open display\n");
    return 4;
  }
  rt_xerror_install();
  int r;
  if (!strcmp(argv[1], "type"))
    r = cmd_type(dpy, argc - 2, argv + 2);
  else if (!strcmp(argv[1], "capture"))
    r = cmd_capture(dpy);
  else if (!strcmp(argv[1], "xerror"))
    r = cmd_xerror(dpy);
  else if (!strcmp(argv[1], "badkeys"))
    r = cmd_badkeys(dpy);
  else if (!strcmp(argv[1], "appq"))
    r = cmd_appq(dpy, argc - 2, argv + 2);
  else {
    fprintf(stderr, "unknown command %s\n", argv[1]);
    r = 2;
  }
  XCloseDisplay(dpy);
  if (r == 0)
    printf("xio_drive %s: OK\n", argv[1]);
  return r;
}
