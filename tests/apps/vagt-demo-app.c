/* vagt-demo-app: a small "legacy" case-registration form (Danish), written with the Athena
 * widgets (Xaw7 + Xt), that vagt's robots and tests are run against.
 *
 * The layout (fields, labels, buttons, pixel grid, vendor-update variants) is data in
 * demo_layout.c; this file turns it into widgets and implements the behaviour:
 * --out FILE appends one TAB-separated UTF-8 line per "Gem", fsync'ed at once. */
#include "demo_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <X11/Intrinsic.h>
#include <X11/StringDefs.h>
#include <X11/Shell.h>
#include <X11/Xatom.h>
#include <X11/Xaw/AsciiText.h>
#include <X11/Xaw/Command.h>
#include <X11/Xaw/Form.h>
#include <X11/Xaw/Label.h>
#include <X11/Xaw/Text.h>

#include <cjson/cJSON.h>

#define EXIT_USAGE 2
#define EXIT_ENV 4

static struct {
  XtAppContext app;
  Display *dpy;
  Widget top, form, banner, status;
  Widget label[DEMO_NFIELDS], field[DEMO_NFIELDS]; /* NULL when not in the layout */
  Widget button[DEMO_NBUTTONS];                    /* NULL when removed */
  Widget dialog, dialog_form, dialog_title, dialog_text, dialog_ok;
  int rows[DEMO_NFIELDS]; /* field ids, top to bottom */
  int nrows;
  const struct demo_variant *v;
  int out_fd;
  int prefill, print_layout;
  const char *status_msg;
  int status_ttl;
  int sigpipe[2];
  Atom wm_protocols, wm_delete, focus_atom;
  int focus; /* focused field, -1 before the first */
  XtTranslations field_tt, label_tt, shell_tt, ok_tt;
} G = {.out_fd = 1, .focus = -1};

/* ---- locale ------------------------------------------------------------------------- */

/* Our own Xt language procedure: the environment's locale, but always a UTF-8 LC_CTYPE so
 * typed text (any Unicode) arrives and is written out as UTF-8. C.UTF-8 is aliased to
 * en_US.UTF-8 by libX11's locale.alias. */
static String language_proc(Display *dpy, String xnl, XtPointer closure)
{
  (void)dpy;
  (void)xnl;
  (void)closure;
  if (!setlocale(LC_ALL, ""))
    setlocale(LC_ALL, "C");
  const char *cs = nl_langinfo(CODESET);
  if (!cs || strcmp(cs, "UTF-8") != 0) {
    if (!setlocale(LC_CTYPE, "C.UTF-8") && !setlocale(LC_CTYPE, "en_US.UTF-8"))
      fprintf(stderr, "vagt-demo-app: warning: no UTF-8 locale available\n");
  }
  if (!XSupportsLocale())
    fprintf(stderr, "vagt-demo-app: warning: Xlib does not support locale %s\n",
            setlocale(LC_CTYPE, NULL));
  if (!XSetLocaleModifiers(""))
    XSetLocaleModifiers("@im=none");
  return setlocale(LC_CTYPE, NULL);
}

/* ---- resources ---------------------------------------------------------------------- */

static XFontSet fontset(const char *name)
{
  static struct {
    const char *name;
    XFontSet fs;
  } cache[8];
  static int n;
  for (int i = 0; i < n; i++)
    if (strcmp(cache[i].name, name) == 0)
      return cache[i].fs;
  char **missing = NULL, *def = NULL;
  int nmissing = 0;
  XFontSet fs = XCreateFontSet(G.dpy, name, &missing, &nmissing, &def);
  if (missing)
    XFreeStringList(missing); /* charsets beyond ISO 10646 (e.g. JIS) are not needed */
  if (!fs) {
    fprintf(stderr, "vagt-demo-app: font set %s not found, using \"fixed\"\n", name);
    fs = XCreateFontSet(G.dpy, "-*-fixed-*-*-*-*-13-*,*", &missing, &nmissing, &def);
    if (missing)
      XFreeStringList(missing);
    if (!fs) {
      fprintf(stderr, "vagt-demo-app: no usable font set\n");
      exit(EXIT_ENV);
    }
  }
  if (n < (int)(sizeof cache / sizeof cache[0])) {
    cache[n].name = name;
    cache[n].fs = fs;
    n++;
  }
  return fs;
}

static Pixel color(const char *name, Pixel fallback)
{
  XColor exact, screen;
  Colormap cmap = DefaultColormap(G.dpy, DefaultScreen(G.dpy));
  if (!name || !XAllocNamedColor(G.dpy, cmap, name, &screen, &exact))
    return fallback;
  return screen.pixel;
}

#define ADD(name, value)                                                                           \
  do {                                                                                             \
    XtSetArg(args[n], (name), (XtArgVal)(value));                                                  \
    n++;                                                                                           \
  } while (0)

/* Fixed position inside the Form: offsets from the form's edges, never moved on resize. */
static Cardinal place(Arg *args, Cardinal n, int x, int y, int w, int h, int bw)
{
  ADD(XtNhorizDistance, x);
  ADD(XtNvertDistance, y);
  ADD(XtNwidth, w);
  ADD(XtNheight, h);
  ADD(XtNborderWidth, bw);
  ADD(XtNleft, XawChainLeft);
  ADD(XtNright, XawChainLeft);
  ADD(XtNtop, XawChainTop);
  ADD(XtNbottom, XawChainTop);
  ADD(XtNresizable, False);
  return n;
}

static Cardinal colors(Arg *args, Cardinal n, const char *bg, const char *fg, const char *border)
{
  Pixel black = BlackPixel(G.dpy, DefaultScreen(G.dpy));
  Pixel white = WhitePixel(G.dpy, DefaultScreen(G.dpy));
  if (bg)
    ADD(XtNbackground, color(bg, white));
  if (fg)
    ADD(XtNforeground, color(fg, black));
  if (border)
    ADD(XtNborderColor, color(border, black));
  return n;
}

/* ---- status bar and clock ----------------------------------------------------------- */

static void status_refresh(void)
{
  char buf[160], clock[16];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(clock, sizeof clock, "%H:%M:%S", &tm);
  snprintf(buf, sizeof buf, "%s   %s", G.status_msg ? G.status_msg : "Klar", clock);
  XtVaSetValues(G.status, XtNlabel, buf, NULL);
}

static void set_status(const char *msg, int seconds)
{
  G.status_msg = msg;
  G.status_ttl = seconds;
  status_refresh();
}

static void clock_tick(XtPointer closure, XtIntervalId *id)
{
  (void)closure;
  (void)id;
  if (G.status_ttl > 0 && --G.status_ttl == 0)
    G.status_msg = NULL;
  status_refresh();
  struct timeval tv;
  gettimeofday(&tv, NULL);
  unsigned long ms = 1000 - (unsigned long)(tv.tv_usec / 1000) + 5; /* just past the second */
  XtAppAddTimeOut(G.app, ms, clock_tick, NULL);
}

/* ---- fields, focus, save ------------------------------------------------------------ */

static int field_of(Widget w)
{
  for (int f = 0; f < DEMO_NFIELDS; f++)
    if (w && (w == G.field[f] || w == G.label[f]))
      return f;
  return -1;
}

static int row_of(int f)
{
  for (int i = 0; i < G.nrows; i++)
    if (G.rows[i] == f)
      return i;
  return -1;
}

/* Test hook: the focused field's id in the property _VAGT_DEMO_FOCUS on the main window, so
 * a test can wait until a click has been processed (under a window manager that grabs clicks
 * for click-to-focus, e.g. openbox, the click reaches the app later than keys typed after it). */
static void publish_focus(void)
{
  if (!XtIsRealized(G.top) || G.focus < 0)
    return;
  const char *id = demo_fields[G.focus].id;
  XChangeProperty(G.dpy, XtWindow(G.top), G.focus_atom, XA_STRING, 8, PropModeReplace,
                  (const unsigned char *)id, (int)strlen(id));
}

/* Keyboard focus to a field. Xt redirects every key typed anywhere in the main window to it;
 * on a click we also take the X input focus (with the click's time, as ICCCM allows), so keys
 * keep arriving with no window manager even when the pointer moves away. */
static void focus_field(int f, Time t, int take_x_focus, int caret_to_end)
{
  if (f < 0 || !G.field[f])
    return;
  XtSetKeyboardFocus(G.top, G.field[f]);
  if (caret_to_end) {
    Widget src = XawTextGetSource(G.field[f]);
    XawTextPosition end = XawTextSourceScan(src, 0, XawstAll, XawsdRight, 1, True);
    XawTextSetInsertionPoint(G.field[f], end);
  }
  if (take_x_focus && XtIsRealized(G.top))
    XSetInputFocus(G.dpy, XtWindow(G.top), RevertToParent, t);
  G.focus = f;
  publish_focus();
}

static void clear_form(void)
{
  for (int f = 0; f < DEMO_NFIELDS; f++)
    if (G.field[f])
      XtVaSetValues(G.field[f], XtNstring, "", NULL);
  focus_field(G.rows[0], CurrentTime, 0, 0);
}

static int write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t k = write(fd, p, len);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += k;
    len -= (size_t)k;
  }
  return 0;
}

/* One line: the fields in canonical order (enum demo_field), TAB-separated, telefon last and
 * only when the layout has it. Values are kept exactly; TAB/CR/LF (reachable only by pasting,
 * the keys are bound to other actions) become spaces so a record stays one line. */
static void save_record(void)
{
  const char *val[DEMO_NFIELDS];
  size_t len = 1;
  for (int f = 0; f < DEMO_NFIELDS; f++) {
    val[f] = NULL;
    if (!G.field[f])
      continue;
    String s = NULL;
    XtVaGetValues(G.field[f], XtNstring, &s, NULL);
    val[f] = s ? s : "";
    len += strlen(val[f]) + 1;
  }
  char *line = malloc(len), *p = line;
  if (!line) {
    set_status("Fejl: ikke gemt (hukommelse)", 0);
    return;
  }
  int first = 1;
  for (int f = 0; f < DEMO_NFIELDS; f++) {
    if (!val[f])
      continue;
    if (!first)
      *p++ = '\t';
    first = 0;
    for (const char *s = val[f]; *s; s++)
      *p++ = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
  }
  *p++ = '\n';
  int rc = write_all(G.out_fd, line, (size_t)(p - line));
  int err = errno;
  free(line);
  if (rc == 0 && fsync(G.out_fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
    rc = -1, err = errno;
  if (rc != 0) {
    fprintf(stderr, "vagt-demo-app: could not save: %s\n", strerror(err));
    set_status("Fejl: sagen blev ikke gemt", 0); /* until the next successful Gem */
    return;                                      /* keep the form's data */
  }
  clear_form();
  set_status(NULL, 0); /* no "Gemt" flash: the status bar stays "Klar" so screens are the
                          same on every loop iteration whatever the robot's timing */
}

static void gem_cb(Widget w, XtPointer closure, XtPointer call)
{
  (void)w;
  (void)closure;
  (void)call;
  save_record();
}

static void annuller_cb(Widget w, XtPointer closure, XtPointer call)
{
  (void)w;
  (void)closure;
  (void)call;
  clear_form();
}

/* ---- actions ------------------------------------------------------------------------ */

static void act_noop(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)w;
  (void)ev;
  (void)params;
  (void)np;
}

static void act_focus(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)params;
  (void)np;
  Time t = (ev && ev->type == ButtonPress) ? ev->xbutton.time : CurrentTime;
  int f = field_of(w);
  if (f < 0)
    return;
  /* a click on a label puts the caret at the end of its field */
  focus_field(f, t, 1, w == G.label[f]);
}

static void act_next(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)ev;
  (void)np;
  int step = (params && *np > 0 && strcmp(params[0], "prev") == 0) ? -1 : 1;
  int r = row_of(field_of(w));
  if (r < 0)
    r = 0;
  r = (r + step + G.nrows) % G.nrows;
  focus_field(G.rows[r], CurrentTime, 0, 1);
}

static void act_save(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)w;
  (void)ev;
  (void)params;
  (void)np;
  if (G.button[B_GEM]) /* without the Gem button Ctrl+S does nothing */
    save_record();
}

static void popdown_dialog(void)
{
  if (G.dialog) {
    XtPopdown(G.dialog);
    focus_field(G.rows[0], CurrentTime, 0, 0);
  }
}

static void act_wm_protocols(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)params;
  (void)np;
  if (ev->type != ClientMessage || ev->xclient.message_type != G.wm_protocols ||
      (Atom)ev->xclient.data.l[0] != G.wm_delete)
    return;
  if (w == G.dialog)
    popdown_dialog();
  else
    XtAppSetExitFlag(G.app);
}

static void act_dialog_ok(Widget w, XEvent *ev, String *params, Cardinal *np)
{
  (void)w;
  (void)ev;
  (void)params;
  (void)np;
  popdown_dialog();
}

static void ok_cb(Widget w, XtPointer closure, XtPointer call)
{
  (void)w;
  (void)closure;
  (void)call;
  popdown_dialog();
}

static XtActionsRec actions[] = {
    {"vagt-noop", act_noop},
    {"vagt-focus", act_focus},
    {"vagt-next", act_next},
    {"vagt-save", act_save},
    {"vagt-wm-protocols", act_wm_protocols},
    {"vagt-dialog-ok", act_dialog_ok},
};

/* Single-line fields: Return and the other newline keys do nothing, Tab moves on, Ctrl+S is
 * Gem, and Xaw's own dialogs (search, insert-file) are switched off. Specific entries first.
 * Beware Xt's "don't care" modifier matching: a plain "<Key>ISO_Left_Tab" also matches an
 * unshifted Tab (Shift+Tab would give that keysym), hence the explicit Shift / ~Shift. */
static const char field_translations[] = "Ctrl<Key>s: vagt-save()\n"
                                         "Ctrl<Key>r: vagt-noop()\n"
                                         "Ctrl<Key>j: vagt-noop()\n"
                                         "Ctrl<Key>m: vagt-noop()\n"
                                         "Ctrl<Key>o: vagt-noop()\n"
                                         "Ctrl<Key>i: vagt-next()\n"
                                         "Meta<Key>i: vagt-noop()\n"
                                         "Meta<Key>q: vagt-noop()\n"
                                         "Shift<Key>Tab: vagt-next(prev)\n"
                                         "Shift<Key>ISO_Left_Tab: vagt-next(prev)\n"
                                         "~Shift<Key>Tab: vagt-next()\n"
                                         "<Key>Return: vagt-noop()\n"
                                         "<Key>KP_Enter: vagt-noop()\n"
                                         "<Key>Linefeed: vagt-noop()\n"
                                         "<Btn1Down>: vagt-focus() select-start()\n";

static const char label_translations[] = "<Btn1Down>: vagt-focus()\n";
static const char shell_translations[] = "<Message>WM_PROTOCOLS: vagt-wm-protocols()\n";
static const char ok_translations[] = "<Key>Return: vagt-dialog-ok()\n"
                                      "<Key>KP_Enter: vagt-dialog-ok()\n"
                                      "<Key>space: vagt-dialog-ok()\n";

/* ---- building the window from the layout table -------------------------------------- */

static void build_form(void)
{
  const struct demo_variant *v = G.v;
  const struct demo_theme *th = v->theme;
  XFontSet fs = fontset(DEMO_FONTSET);
  XFontSet label_fs = fontset(v->label_fontset ? v->label_fontset : DEMO_FONTSET);
  Arg args[40];
  Cardinal n;

  n = 0;
  ADD(XtNwidth, DEMO_WIN_W);
  ADD(XtNheight, DEMO_WIN_H);
  ADD(XtNborderWidth, 0);
  ADD(XtNdefaultDistance, 0);
  if (th)
    n = colors(args, n, th->window_bg, NULL, NULL);
  G.form = XtCreateManagedWidget("form", formWidgetClass, G.top, args, n);

  int y0 = DEMO_MARGIN_TOP;
  if (v->banner) {
    n = place(args, 0, 16, 8, DEMO_WIN_W - 32 - 2, 26, 1);
    ADD(XtNinternational, True);
    ADD(XtNfontSet, fs);
    ADD(XtNlabel, demo_banner_text);
    ADD(XtNjustify, XtJustifyLeft);
    ADD(XtNinternalWidth, 8);
    n = colors(args, n, "#ffffcc", NULL, NULL);
    G.banner = XtCreateManagedWidget("banner", labelWidgetClass, G.form, args, n);
    y0 += DEMO_BANNER_SHIFT;
  }

  G.nrows = 0;
  for (const int *o = v->order; *o != F_END; o++) {
    int f = *o, row = G.nrows;
    int y = y0 + row * DEMO_ROW_PITCH;
    const struct demo_field_def *fd = &demo_fields[f];
    const char *text = (v->relabel.field == f) ? v->relabel.label : fd->label;
    char name[64];
    G.rows[G.nrows++] = f;

    snprintf(name, sizeof name, "label_%s", fd->id);
    n = place(args, 0, DEMO_LABEL_X, y, DEMO_LABEL_W, DEMO_ROW_H + 2, 0);
    ADD(XtNinternational, True);
    ADD(XtNfontSet, label_fs);
    ADD(XtNlabel, text);
    ADD(XtNjustify, XtJustifyLeft);
    ADD(XtNinternalWidth, 0);
    if (th)
      n = colors(args, n, th->window_bg, th->label_fg, NULL);
    G.label[f] = XtCreateManagedWidget(name, labelWidgetClass, G.form, args, n);
    XtOverrideTranslations(G.label[f], G.label_tt);

    snprintf(name, sizeof name, "field_%s", fd->id);
    n = place(args, 0, DEMO_FIELD_X, y, fd->width, DEMO_ROW_H, 1);
    ADD(XtNinternational, True);
    ADD(XtNfontSet, fs);
    ADD(XtNtype, XawAsciiString);
    ADD(XtNeditType, XawtextEdit);
    ADD(XtNstring, G.prefill ? fd->prefill : "");
    ADD(XtNwrap, XawtextWrapNever);
    ADD(XtNscrollHorizontal, XawtextScrollNever);
    ADD(XtNscrollVertical, XawtextScrollNever);
    ADD(XtNresize, XawtextResizeNever);
    ADD(XtNdisplayCaret, True);
    ADD(XtNleftMargin, 4);
    ADD(XtNtopMargin, 5);
    ADD(XtNbottomMargin, 2);
    if (th)
      n = colors(args, n, th->field_bg, th->field_fg, th->border);
    G.field[f] = XtCreateManagedWidget(name, asciiTextWidgetClass, G.form, args, n);
    XtOverrideTranslations(G.field[f], G.field_tt);
    if (G.prefill) { /* caret after the previous case's text, as if it had been typed */
      Widget src = XawTextGetSource(G.field[f]);
      XawTextSetInsertionPoint(G.field[f],
                               XawTextSourceScan(src, 0, XawstAll, XawsdRight, 1, True));
    }
  }

  int by = y0 + (G.nrows - 1) * DEMO_ROW_PITCH + DEMO_ROW_H + 2 + DEMO_BUTTON_GAP;
  for (int b = 0; b < DEMO_NBUTTONS; b++) {
    if (b == B_GEM && v->no_gem)
      continue;
    const struct demo_button_def *bd = &demo_buttons[b];
    n = place(args, 0, bd->x, by, bd->width, DEMO_BUTTON_H, 1);
    ADD(XtNinternational, True);
    ADD(XtNfontSet, fs);
    ADD(XtNlabel, bd->label);
    if (th)
      n = colors(args, n, th->button_bg, th->button_fg, th->border);
    G.button[b] = XtCreateManagedWidget(bd->id, commandWidgetClass, G.form, args, n);
    XtAddCallback(G.button[b], XtNcallback, b == B_GEM ? gem_cb : annuller_cb, NULL);
  }

  n = place(args, 0, 0, DEMO_WIN_H - DEMO_STATUS_H - 2, DEMO_WIN_W - 2, DEMO_STATUS_H, 1);
  ADD(XtNinternational, True);
  ADD(XtNfontSet, fs);
  ADD(XtNlabel, "Klar   00:00:00");
  ADD(XtNjustify, XtJustifyLeft);
  ADD(XtNinternalWidth, 8);
  if (th)
    n = colors(args, n, th->status_bg, th->status_fg, th->border);
  G.status = XtCreateManagedWidget("status", labelWidgetClass, G.form, args, n);
}

enum { DLG_W = 380, DLG_H = 170 };

static void build_dialog(void)
{
  Arg args[40];
  Cardinal n = 0;
  ADD(XtNtitle, demo_whatsnew_title);
  ADD(XtNiconName, demo_whatsnew_title);
  ADD(XtNtransientFor, G.top);
  ADD(XtNinput, True);
  ADD(XtNallowShellResize, False);
  ADD(XtNminWidth, DLG_W);
  ADD(XtNmaxWidth, DLG_W);
  ADD(XtNminHeight, DLG_H);
  ADD(XtNmaxHeight, DLG_H);
  G.dialog = XtCreatePopupShell("whatsnew", transientShellWidgetClass, G.top, args, n);
  XtOverrideTranslations(G.dialog, G.shell_tt);

  n = 0;
  ADD(XtNwidth, DLG_W);
  ADD(XtNheight, DLG_H);
  ADD(XtNborderWidth, 0);
  ADD(XtNdefaultDistance, 16); /* Form shrink-wraps its children plus this margin */
  G.dialog_form = XtCreateManagedWidget("form", formWidgetClass, G.dialog, args, n);

  n = place(args, 0, 16, 12, DLG_W - 32, 24, 0);
  ADD(XtNinternational, True);
  ADD(XtNfontSet, fontset(DEMO_BOLD_FONTSET));
  ADD(XtNlabel, demo_whatsnew_title);
  ADD(XtNjustify, XtJustifyLeft);
  ADD(XtNinternalWidth, 0);
  G.dialog_title = XtCreateManagedWidget("title", labelWidgetClass, G.dialog_form, args, n);

  n = place(args, 0, 16, 44, DLG_W - 32, 66, 0);
  ADD(XtNinternational, True);
  ADD(XtNfontSet, fontset(DEMO_FONTSET));
  ADD(XtNlabel, demo_whatsnew_text);
  ADD(XtNjustify, XtJustifyLeft);
  ADD(XtNinternalWidth, 0);
  G.dialog_text = XtCreateManagedWidget("text", labelWidgetClass, G.dialog_form, args, n);

  n = place(args, 0, (DLG_W - 82) / 2, DLG_H - 30 - 16, 80, 28, 1);
  ADD(XtNinternational, True);
  ADD(XtNfontSet, fontset(DEMO_FONTSET));
  ADD(XtNlabel, "OK");
  G.dialog_ok = XtCreateManagedWidget("ok", commandWidgetClass, G.dialog_form, args, n);
  XtAddCallback(G.dialog_ok, XtNcallback, ok_cb, NULL);
  XtOverrideTranslations(G.dialog_ok, G.ok_tt);
  XtSetKeyboardFocus(G.dialog, G.dialog_ok);
}

static void set_wm_protocols(Widget shell)
{
  XSetWMProtocols(G.dpy, XtWindow(shell), &G.wm_delete, 1);
}

/* Centre the dialog over the main window (a window manager may still place it itself). */
static void show_dialog(void)
{
  Position rx = 0, ry = 0;
  XtTranslateCoords(G.top, (DEMO_WIN_W - DLG_W) / 2, (DEMO_WIN_H - DLG_H) / 2, &rx, &ry);
  XtVaSetValues(G.dialog, XtNx, rx, XtNy, ry, NULL);
  XtRealizeWidget(G.dialog);
  set_wm_protocols(G.dialog);
  XtPopup(G.dialog, XtGrabExclusive);
}

/* ---- --print-layout ----------------------------------------------------------------- */

/* The widget's outer box (border included), relative to its shell window's origin. */
static void widget_box(Widget w, int box[4])
{
  Position x, y;
  Dimension wd, ht, bw;
  XtVaGetValues(w, XtNx, &x, XtNy, &y, XtNwidth, &wd, XtNheight, &ht, XtNborderWidth, &bw, NULL);
  int ax = x, ay = y;
  for (Widget p = XtParent(w); p && !XtIsShell(p); p = XtParent(p)) {
    Position px, py;
    Dimension pbw;
    XtVaGetValues(p, XtNx, &px, XtNy, &py, XtNborderWidth, &pbw, NULL);
    ax += px + pbw;
    ay += py + pbw;
  }
  box[0] = ax;
  box[1] = ay;
  box[2] = wd + 2 * bw;
  box[3] = ht + 2 * bw;
}

static void print_item(const char *type, const char *id, const char *text, Widget w,
                       const char *window)
{
  int b[4];
  widget_box(w, b);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", type);
  if (id)
    cJSON_AddStringToObject(o, "id", id);
  if (text)
    cJSON_AddStringToObject(o, "text", text);
  cJSON_AddNumberToObject(o, "x", b[0]);
  cJSON_AddNumberToObject(o, "y", b[1]);
  cJSON_AddNumberToObject(o, "w", b[2]);
  cJSON_AddNumberToObject(o, "h", b[3]);
  cJSON_AddNumberToObject(o, "cx", b[0] + b[2] / 2);
  cJSON_AddNumberToObject(o, "cy", b[1] + b[3] / 2);
  if (window)
    cJSON_AddStringToObject(o, "window", window);
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    puts(s);
    cJSON_free(s);
  }
  cJSON_Delete(o);
}

static void print_window(const char *title, Widget shell, const char *window)
{
  Dimension wd, ht;
  XtVaGetValues(shell, XtNwidth, &wd, XtNheight, &ht, NULL);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "window");
  cJSON_AddStringToObject(o, "class", DEMO_CLASS);
  cJSON_AddStringToObject(o, "title", title);
  if (shell == G.top)
    cJSON_AddStringToObject(o, "variant", G.v->name);
  cJSON_AddNumberToObject(o, "w", wd);
  cJSON_AddNumberToObject(o, "h", ht);
  if (window)
    cJSON_AddStringToObject(o, "window", window);
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    puts(s);
    cJSON_free(s);
  }
  cJSON_Delete(o);
}

static void print_layout(void)
{
  print_window(DEMO_TITLE, G.top, NULL);
  if (G.banner)
    print_item("banner", "banner", demo_banner_text, G.banner, NULL);
  for (int i = 0; i < G.nrows; i++) {
    int f = G.rows[i];
    const char *text = (G.v->relabel.field == f) ? G.v->relabel.label : demo_fields[f].label;
    print_item("label", demo_fields[f].id, text, G.label[f], NULL);
    print_item("field", demo_fields[f].id, NULL, G.field[f], NULL);
  }
  for (int b = 0; b < DEMO_NBUTTONS; b++)
    if (G.button[b])
      print_item("button", demo_buttons[b].id, demo_buttons[b].label, G.button[b], NULL);
  print_item("status", "status", NULL, G.status, NULL);
  if (G.dialog) {
    XtRealizeWidget(G.dialog);
    print_window(demo_whatsnew_title, G.dialog, "whatsnew");
    print_item("label", "whatsnew_title", demo_whatsnew_title, G.dialog_title, "whatsnew");
    print_item("button", "ok", "OK", G.dialog_ok, "whatsnew");
  }
  fflush(stdout);
}

/* ---- signals ------------------------------------------------------------------------ */

static void on_signal(int sig)
{
  int saved = errno;
  unsigned char c = (unsigned char)sig;
  if (write(G.sigpipe[1], &c, 1) < 0) {
    /* nothing to do: the pipe is full, so an exit is already pending */
  }
  errno = saved;
}

static void signal_input(XtPointer closure, int *fd, XtInputId *id)
{
  (void)closure;
  (void)id;
  unsigned char c;
  while (read(*fd, &c, 1) > 0) {}
  XtAppSetExitFlag(G.app);
}

static int setup_signals(void)
{
  if (pipe(G.sigpipe) != 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    fcntl(G.sigpipe[i], F_SETFL, O_NONBLOCK);
    fcntl(G.sigpipe[i], F_SETFD, FD_CLOEXEC);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  XtAppAddInput(G.app, G.sigpipe[0], (XtPointer)XtInputReadMask, signal_input, NULL);
  return 0;
}

/* ---- command line ------------------------------------------------------------------- */

static void usage(FILE *to)
{
  fprintf(
      to,
      "usage: vagt-demo-app [--out FILE] [--variant NAME] [--prefill] [--print-layout]\n"
      "                     [Xt options: -geometry +X+Y, -display :N, -xrm ...]\n"
      "A legacy Danish case-registration form (Athena widgets), window class \"" DEMO_CLASS "\",\n"
      "title \"" DEMO_TITLE "\", fixed size %dx%d.\n"
      "  --out FILE       \"Gem\" (or Ctrl+S) appends one line to FILE: cpr, navn, adresse,\n"
      "                   postnr, by, bemærkning (+ telefon in variant inserted), TAB-separated,\n"
      "                   UTF-8, fsync'ed; then the form is cleared. Default: standard output.\n"
      "  --variant NAME   a \"vendor update\" of the layout (default normal), see below\n"
      "  --prefill        start with a previous case's data in the fields\n"
      "  --print-layout   print the window-relative boxes of labels, fields and buttons as JSON\n"
      "                   lines once the window is realized (it is not shown), then exit\n"
      "  --list-variants  print the variant names and exit\n"
      "  --help           this text\n"
      "variants:\n",
      DEMO_WIN_W, DEMO_WIN_H);
  for (int i = 0; i < demo_nvariants; i++)
    fprintf(to, "  %-9s %s\n", demo_variants[i].name, demo_variants[i].help);
  fprintf(to, "exit status: 0 closed normally (window closed, SIGTERM), 2 usage error,\n"
              "4 environment error (no display, output file cannot be opened, no font)\n");
}

static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
  size_t len = strlen(opt);
  if (strncmp(argv[*i], opt, len) == 0 && argv[*i][len] == '=')
    return argv[*i] + len + 1;
  if (*i + 1 >= argc) {
    fprintf(stderr, "vagt-demo-app: %s needs a value\n", opt);
    exit(EXIT_USAGE);
  }
  return argv[++*i];
}

static int is_opt(const char *arg, const char *opt)
{
  size_t len = strlen(opt);
  return strncmp(arg, opt, len) == 0 && (arg[len] == 0 || arg[len] == '=');
}

/* Under the sanitizer build: keep ASan and UBSan, but not leak reports, which Xt's own
 * never-freed allocations at exit would turn into a failing exit status. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
  return "detect_leaks=0";
}

int main(int argc, char **argv)
{
  const char *out = NULL, *variant = "normal";
  /* Kept in a static: it lives as long as the process, whichever way main returns. */
  static char **xargv;
  xargv = calloc((size_t)argc + 1, sizeof *xargv);
  int xargc = 0;
  if (!xargv)
    return 1;
  xargv[xargc++] = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (is_opt(a, "--out")) {
      out = option_value(argc, argv, &i, "--out");
    } else if (is_opt(a, "--variant")) {
      variant = option_value(argc, argv, &i, "--variant");
    } else if (strcmp(a, "--prefill") == 0) {
      G.prefill = 1;
    } else if (strcmp(a, "--print-layout") == 0) {
      G.print_layout = 1;
    } else if (strcmp(a, "--list-variants") == 0) {
      for (int k = 0; k < demo_nvariants; k++)
        puts(demo_variants[k].name);
      return 0;
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "vagt-demo-app: unknown option %s (try --help)\n", a);
      return EXIT_USAGE;
    } else {
      xargv[xargc++] = argv[i]; /* for Xt: -geometry, -display, -xrm, ... */
    }
  }
  G.v = demo_find_variant(variant);
  if (!G.v) {
    fprintf(stderr, "vagt-demo-app: unknown variant \"%s\"; one of:", variant);
    for (int k = 0; k < demo_nvariants; k++)
      fprintf(stderr, " %s", demo_variants[k].name);
    fprintf(stderr, "\n");
    return EXIT_USAGE;
  }

  XtSetLanguageProc(NULL, language_proc, NULL);
  XtToolkitInitialize();
  G.app = XtCreateApplicationContext();
  G.dpy = XtOpenDisplay(G.app, NULL, NULL, DEMO_CLASS, NULL, 0, &xargc, xargv);
  if (!G.dpy) {
    fprintf(stderr, "vagt-demo-app: cannot open display %s\n", XDisplayName(NULL));
    return EXIT_ENV;
  }
  if (xargc > 1) {
    fprintf(stderr, "vagt-demo-app: unknown option %s (try --help)\n", xargv[1]);
    return EXIT_USAGE;
  }

  if (out && !G.print_layout) {
    G.out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (G.out_fd < 0) {
      fprintf(stderr, "vagt-demo-app: cannot open %s: %s\n", out, strerror(errno));
      return EXIT_ENV;
    }
  }

  G.wm_protocols = XInternAtom(G.dpy, "WM_PROTOCOLS", False);
  G.wm_delete = XInternAtom(G.dpy, "WM_DELETE_WINDOW", False);
  G.focus_atom = XInternAtom(G.dpy, "_VAGT_DEMO_FOCUS", False);
  XtAppAddActions(G.app, actions, XtNumber(actions));
  G.field_tt = XtParseTranslationTable(field_translations);
  G.label_tt = XtParseTranslationTable(label_translations);
  G.shell_tt = XtParseTranslationTable(shell_translations);
  G.ok_tt = XtParseTranslationTable(ok_translations);

  Arg args[16];
  Cardinal n = 0;
  ADD(XtNtitle, DEMO_TITLE);
  ADD(XtNiconName, DEMO_TITLE);
  ADD(XtNinput, True);
  ADD(XtNallowShellResize, False);
  ADD(XtNminWidth, DEMO_WIN_W);
  ADD(XtNmaxWidth, DEMO_WIN_W);
  ADD(XtNminHeight, DEMO_WIN_H);
  ADD(XtNmaxHeight, DEMO_WIN_H);
  ADD(XtNwidth, DEMO_WIN_W);
  ADD(XtNheight, DEMO_WIN_H);
  if (G.print_layout)
    ADD(XtNmappedWhenManaged, False);
  G.top = XtAppCreateShell(NULL, DEMO_CLASS, applicationShellWidgetClass, G.dpy, args, n);
  XtOverrideTranslations(G.top, G.shell_tt);

  build_form();
  if (G.v->whatsnew)
    build_dialog();
  focus_field(G.rows[0], CurrentTime, 0, 0);
  XtRealizeWidget(G.top);
  set_wm_protocols(G.top);
  publish_focus();

  if (G.print_layout) {
    print_layout();
    XtCloseDisplay(G.dpy);
    return 0;
  }

  if (setup_signals() != 0) {
    fprintf(stderr, "vagt-demo-app: pipe: %s\n", strerror(errno));
    return EXIT_ENV;
  }
  clock_tick(NULL, NULL);
  if (G.dialog)
    show_dialog();

  XtAppMainLoop(G.app); /* returns once the exit flag is set */

  if (G.out_fd > 2)
    close(G.out_fd);
  XtDestroyApplicationContext(G.app);
  free(xargv);
  return 0;
}
