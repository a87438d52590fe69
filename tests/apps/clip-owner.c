/* vagt-clip-owner: a selection owner that offers one kind of text only, for the tests of
 * robot.clipboard.get (tests/integration/clipboard.sh). Real toolkits offer UTF8_STRING
 * beside everything else, so reading Latin-1 STRING or COMPOUND_TEXT needs an owner that
 * offers nothing better, as old applications do.
 *
 *   vagt-clip-owner SELECTION TARGET FILE
 *
 * Owns SELECTION (CLIPBOARD or PRIMARY) with the UTF-8 text in FILE, and answers TARGETS
 * with TARGET alone and TARGET with the text:
 *   STRING         converted to ISO 8859-1 with iconv (the text must fit)
 *   COMPOUND_TEXT  converted by Xlib (Xutf8TextListToTextProperty)
 *   mute           answers nothing at all (a hung owner)
 * Prints "ready" once it owns the selection; exits 0 when another client takes it, or on
 * SIGTERM. Exit 2 for bad arguments, 4 when the display, the file or the conversion fails. */
#include <iconv.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      char *nb = realloc(b, cap * 2 + 1);
      if (!nb) {
        free(b);
        b = NULL;
        break;
      }
      b = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (b)
    b[n] = '\0';
  *len = n;
  return b;
}

static char *to_latin1(char *in, size_t n, size_t *outlen)
{
  iconv_t cd = iconv_open("ISO-8859-1", "UTF-8");
  if (cd == (iconv_t)-1)
    return NULL;
  char *out = malloc(n + 1), *o = out, *i = in;
  size_t left = n, room = n;
  if (!out || iconv(cd, &i, &left, &o, &room) == (size_t)-1) {
    free(out);
    iconv_close(cd);
    return NULL;
  }
  iconv_close(cd);
  *outlen = (size_t)(o - out);
  return out;
}

int main(int argc, char **argv)
{
  if (argc != 4 || (strcmp(argv[1], "CLIPBOARD") && strcmp(argv[1], "PRIMARY")) ||
      (strcmp(argv[2], "STRING") && strcmp(argv[2], "COMPOUND_TEXT") && strcmp(argv[2], "mute"))) {
    fprintf(stderr, "usage: vagt-clip-owner CLIPBOARD|PRIMARY STRING|COMPOUND_TEXT|mute FILE\n");
    return 2;
  }
  setlocale(LC_ALL, "");
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "vagt-clip-owner: cannot open the display\n");
    return 4;
  }
  size_t len = 0;
  char *text = slurp(argv[3], &len);
  if (!text) {
    fprintf(stderr, "vagt-clip-owner: cannot read %s\n", argv[3]);
    return 4;
  }
  bool mute = strcmp(argv[2], "mute") == 0;
  Atom sel = XInternAtom(dpy, argv[1], False);
  Atom targets = XInternAtom(dpy, "TARGETS", False);
  Atom target = mute ? None : XInternAtom(dpy, argv[2], False);
  unsigned char *data = NULL;
  size_t dlen = 0;
  if (target == XA_STRING) {
    data = (unsigned char *)to_latin1(text, len, &dlen);
  } else if (!mute) {
    XTextProperty tp = {0};
    char *list[1] = {text};
    if (Xutf8TextListToTextProperty(dpy, list, 1, XCompoundTextStyle, &tp) == Success) {
      data = tp.value;
      dlen = tp.nitems;
    }
  }
  if (!mute && !data) {
    fprintf(stderr, "vagt-clip-owner: the text cannot be converted to %s\n", argv[2]);
    return 4;
  }
  Window w = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 1, 1, 0, 0, 0);
  XSetSelectionOwner(dpy, sel, w, CurrentTime);
  if (XGetSelectionOwner(dpy, sel) != w) {
    fprintf(stderr, "vagt-clip-owner: could not own %s\n", argv[1]);
    return 4;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    XEvent ev;
    XNextEvent(dpy, &ev);
    if (ev.type == SelectionClear)
      return 0;
    if (ev.type != SelectionRequest || mute)
      continue;
    XSelectionRequestEvent *rq = &ev.xselectionrequest;
    Atom prop = rq->property != None ? rq->property : rq->target;
    XEvent r = {0};
    r.xselection.type = SelectionNotify;
    r.xselection.requestor = rq->requestor;
    r.xselection.selection = rq->selection;
    r.xselection.target = rq->target;
    r.xselection.time = rq->time;
    r.xselection.property = None;
    if (rq->target == targets) {
      long list[2] = {(long)targets, (long)target};
      XChangeProperty(dpy, rq->requestor, prop, XA_ATOM, 32, PropModeReplace, (unsigned char *)list,
                      2);
      r.xselection.property = prop;
    } else if (rq->target == target) {
      XChangeProperty(dpy, rq->requestor, prop, target, 8, PropModeReplace, data, (int)dlen);
      r.xselection.property = prop;
    }
    XSendEvent(dpy, rq->requestor, False, NoEventMask, &r);
    XFlush(dpy);
  }
}
