/* vagt selections; see selection.h. The main thread hands one command at a time (get or
 * set) to the selection thread and waits for it; everything X happens on that thread. */
#include "selection.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "xerror.h"
#include "vu.h"

#define INCR_AT_MOST (256 * 1024) /* larger texts go by INCR (and any past the request size) */
#define CHUNK (64 * 1024)         /* bytes per INCR part we send */
#define XFER_IDLE 10.0            /* an INCR transfer whose requestor went quiet is dropped */
#define GIVE_UP 1.0               /* seconds to wait for the thread after cancelling */
#define LOOK 0.1                  /* while reading, look at the connection this often */

enum {
  A_CLIPBOARD,
  A_TARGETS,
  A_TIMESTAMP,
  A_UTF8,
  A_COMPOUND,
  A_TEXT,
  A_INCR,
  A_CSTRING,
  A_PROP,
  A_STAMP,
  A_N
};
static const char *const atom_names[A_N] = {
    "CLIPBOARD", "TARGETS", "TIMESTAMP", "UTF8_STRING",    "COMPOUND_TEXT",
    "TEXT",      "INCR",    "C_STRING",  "VAGT_SELECTION", "VAGT_TIMESTAMP",
};

/* A text being served, with its encodings; only the selection thread counts references
 * once it has been handed over. */
typedef struct sbuf {
  unsigned refs;
  char *u8;
  size_t u8len;
  char *l1; /* Latin-1, NULL when some character is not in Latin-1 */
  size_t l1len;
  unsigned char *ct; /* COMPOUND_TEXT, made when first asked for */
  size_t ctlen;
  int ct_state; /* 0 not tried, 1 made, -1 not exactly representable */
} sbuf;

/* An INCR transfer to one requestor. */
typedef struct xfer {
  struct xfer *next;
  Window req;
  Atom prop, type;
  sbuf *b;
  const unsigned char *data;
  size_t len, off;
  double idle_since;
} xfer;

enum { CMD_GET, CMD_SET };

typedef struct cmd {
  int kind;
  rt_sel_which which;
  sbuf *b; /* set: handed over to the thread */
  double timeout;
  size_t max;
  bool done, cancel, abandoned; /* under the mutex */
  int rc;
  char err[256];
  char *out;
  size_t len;
  const char *via;
} cmd;

enum { ST_TARGETS, ST_DATA, ST_INCR };

struct rt_sel {
  Display *dpy;
  Window own;
  Atom a[A_N];
  size_t incr_at;
  int wake[2];
  pthread_t th;
  bool started;
  bool (*cancelled)(void *);
  void *user;

  pthread_mutex_t mu;
  pthread_cond_t cv;
  cmd *cmd;  /* waiting or being worked on */
  bool busy; /* the thread has taken cmd */
  bool stop, dead;

  /* the thread's own */
  struct {
    sbuf *b;
    Time since;
  } owned[2];
  xfer *xfers;
  struct {
    bool active;
    cmd *c;
    Window win;
    Atom sel;
    int stage;
    Atom cand[4];
    int ncand, icand;
    Atom type;
    unsigned char *data;
    size_t len;
    double deadline;
  } g;
};

const char *rt_sel_name(rt_sel_which which)
{
  return which == RT_SEL_PRIMARY ? "PRIMARY" : "CLIPBOARD";
}

static Atom sel_atom(const rt_sel *s, rt_sel_which which)
{
  return which == RT_SEL_PRIMARY ? XA_PRIMARY : s->a[A_CLIPBOARD];
}

/* ---- text encodings ---- */

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 when ill-formed; *cp
 * gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  unsigned long v, min;
  if ((c & 0xE0) == 0xC0)
    len = 2, v = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    len = 3, v = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    len = 4, v = c & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

bool rt_utf8_valid(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  unsigned long cp;
  for (size_t i = 0; i < len;) {
    size_t k = utf8_seq(p + i, len - i, &cp);
    if (!k)
      return false;
    i += k;
  }
  return true;
}

/* UTF-8 from an owner's UTF8_STRING: well-formed sequences kept, any other byte becomes
 * U+FFFD. */
static char *utf8_repair(const unsigned char *in, size_t n, size_t *outlen)
{
  char *o = malloc(n * 3 + 1);
  if (!o)
    return NULL;
  size_t k = 0;
  unsigned long cp;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq(in + i, n - i, &cp);
    if (l) {
      memcpy(o + k, in + i, l);
      k += l;
      i += l;
    } else {
      memcpy(o + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
    }
  }
  o[k] = '\0';
  *outlen = k;
  return o;
}

static char *latin1_to_utf8(const unsigned char *in, size_t n, size_t *outlen)
{
  char *o = malloc(n * 2 + 1);
  if (!o)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i] < 0x80) {
      o[k++] = (char)in[i];
    } else {
      o[k++] = (char)(0xC0 | (in[i] >> 6));
      o[k++] = (char)(0x80 | (in[i] & 0x3F));
    }
  }
  o[k] = '\0';
  *outlen = k;
  return o;
}

/* Latin-1 of valid UTF-8, NULL when a character is past U+00FF (or memory is short). */
static char *utf8_to_latin1(const char *in, size_t n, size_t *outlen)
{
  char *o = malloc(n + 1);
  if (!o)
    return NULL;
  size_t k = 0;
  unsigned long cp;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq((const unsigned char *)in + i, n - i, &cp);
    if (!l || cp > 0xFF) {
      free(o);
      return NULL;
    }
    o[k++] = (char)cp;
    i += l;
  }
  o[k] = '\0';
  *outlen = k;
  return o;
}

static void sbuf_unref(sbuf *b)
{
  if (!b || --b->refs > 0)
    return;
  free(b->u8);
  free(b->l1);
  if (b->ct)
    XFree(b->ct);
  free(b);
}

/* COMPOUND_TEXT of the text, when Xlib can encode every character of it. */
static bool sbuf_ct(rt_sel *s, sbuf *b)
{
  if (b->ct_state == 0) {
    b->ct_state = -1;
    /* Xlib takes NUL-terminated strings: a text with a NUL in it is not offered so */
    if (strlen(b->u8) == b->u8len) {
      XTextProperty tp = {0};
      char *list[1] = {b->u8};
      if (Xutf8TextListToTextProperty(s->dpy, list, 1, XCompoundTextStyle, &tp) == Success &&
          tp.value && tp.format == 8) {
        b->ct = tp.value;
        b->ctlen = tp.nitems;
        b->ct_state = 1;
      } else if (tp.value) {
        XFree(tp.value);
      }
    }
  }
  return b->ct_state == 1;
}

/* ---- commands: the main thread waits, the selection thread completes ---- */

static void wake(rt_sel *s)
{
  ssize_t r;
  do
    r = write(s->wake[1], "x", 1);
  while (r < 0 && errno == EINTR);
}

static void cmd_free(cmd *c)
{
  if (!c)
    return;
  free(c->out);
  free(c);
}

/* On the selection thread: the command is finished. */
static void complete(rt_sel *s, cmd *c, int rc, const char *fmt, ...)
{
  pthread_mutex_lock(&s->mu);
  c->rc = rc;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
  }
  c->done = true;
  if (s->cmd == c)
    s->cmd = NULL;
  s->busy = false;
  bool gone = c->abandoned;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (gone)
    cmd_free(c);
}

/* ---- reading (the getter) ---- */

static void get_end(rt_sel *s, int rc, const char *fmt, const char *arg, double num)
{
  cmd *c = s->g.c;
  if (s->g.win)
    XDestroyWindow(s->dpy, s->g.win);
  free(s->g.data);
  memset(&s->g, 0, sizeof s->g);
  if (!fmt) {
    complete(s, c, rc, NULL);
    return;
  }
  char msg[256];
  snprintf(msg, sizeof msg, fmt, rt_sel_name(c->which), arg ? arg : "", num);
  complete(s, c, rc, "%s", msg);
}

static void get_next(rt_sel *s)
{
  if (s->g.icand >= s->g.ncand) {
    get_end(s, RT_SEL_NOTEXT, "the owner of %s%s refused to give it as text", NULL, 0);
    return;
  }
  s->g.stage = ST_DATA;
  s->g.deadline = vu_mono() + s->g.c->timeout;
  XConvertSelection(s->dpy, s->g.sel, s->g.cand[s->g.icand], s->a[A_PROP], s->g.win, CurrentTime);
}

static void get_start(rt_sel *s, cmd *c)
{
  Atom sel = sel_atom(s, c->which);
  if (XGetSelectionOwner(s->dpy, sel) == None) {
    complete(s, c, RT_SEL_NOOWNER, "nobody owns %s", rt_sel_name(c->which));
    return;
  }
  XSetWindowAttributes wa = {.event_mask = PropertyChangeMask};
  Window w = XCreateWindow(s->dpy, DefaultRootWindow(s->dpy), -10, -10, 1, 1, 0, 0, InputOnly,
                           CopyFromParent, CWEventMask, &wa);
  memset(&s->g, 0, sizeof s->g);
  s->g.active = true;
  s->g.c = c;
  s->g.win = w;
  s->g.sel = sel;
  s->g.stage = ST_TARGETS;
  s->g.deadline = vu_mono() + c->timeout;
  XConvertSelection(s->dpy, sel, s->a[A_TARGETS], s->a[A_PROP], w, CurrentTime);
}

/* Reads and deletes the property: 0 read (*data malloc'd, *n bytes for format 8, items
 * otherwise), -1 no such property, 1 larger than `max` bytes (deleted unread). */
static int take_prop(rt_sel *s, Window w, Atom prop, size_t max, Atom *type, int *fmt,
                     unsigned char **data, unsigned long *n)
{
  unsigned long after = 0, items = 0;
  unsigned char *p = NULL;
  *data = NULL;
  *n = 0;
  if (XGetWindowProperty(s->dpy, w, prop, 0, 0, False, AnyPropertyType, type, fmt, &items, &after,
                         &p) != Success)
    return -1;
  if (p)
    XFree(p);
  if (*type == None)
    return -1;
  if (after > max) {
    XDeleteProperty(s->dpy, w, prop);
    return 1;
  }
  p = NULL;
  if (XGetWindowProperty(s->dpy, w, prop, 0, (long)((after + 3) / 4), True, AnyPropertyType, type,
                         fmt, &items, &after, &p) != Success)
    return -1;
  size_t unit = *fmt == 32 ? sizeof(long) : *fmt == 16 ? sizeof(short) : 1;
  unsigned char *copy = malloc(items * unit + 1);
  if (copy) {
    if (p)
      memcpy(copy, p, items * unit);
    copy[items * unit] = 0;
  }
  if (p)
    XFree(p);
  *data = copy;
  *n = items;
  return copy ? 0 : -1;
}

static void get_done(rt_sel *s)
{
  cmd *c = s->g.c;
  size_t n = s->g.len;
  const unsigned char *d = s->g.data ? s->g.data : (const unsigned char *)"";
  while (n > 0 && d[n - 1] == 0) /* some owners count a terminating NUL */
    n--;
  Atom t = s->g.type;
  char *out = NULL;
  size_t len = 0;
  const char *via = NULL;
  Atom asked = s->g.cand[s->g.icand];
  via = asked == s->a[A_UTF8]       ? "UTF8_STRING"
        : asked == XA_STRING        ? "STRING"
        : asked == s->a[A_COMPOUND] ? "COMPOUND_TEXT"
                                    : "TEXT";
  if (t == s->a[A_UTF8] || (t == s->a[A_TEXT] && rt_utf8_valid((const char *)d, n))) {
    out = utf8_repair(d, n, &len);
  } else if (t == XA_STRING || t == s->a[A_CSTRING] || t == s->a[A_TEXT]) {
    out = latin1_to_utf8(d, n, &len);
  } else if (t == s->a[A_COMPOUND]) {
    XTextProperty tp = {(unsigned char *)d, t, 8, n};
    char **list = NULL;
    int cnt = 0;
    int rc = Xutf8TextPropertyToTextList(s->dpy, &tp, &list, &cnt);
    if (rc >= Success && list) {
      size_t total = 0;
      for (int i = 0; i < cnt; i++)
        total += strlen(list[i]) + 1;
      out = malloc(total + 1);
      if (out) {
        for (int i = 0; i < cnt; i++) {
          if (i)
            out[len++] = '\n';
          size_t l = strlen(list[i]);
          memcpy(out + len, list[i], l);
          len += l;
        }
        out[len] = '\0';
      }
    }
    if (list)
      XFreeStringList(list);
    if (!out) {
      get_end(s, RT_SEL_NOTEXT,
              "the owner of %s%s gave COMPOUND_TEXT that Xlib cannot "
              "convert in this locale",
              NULL, 0);
      return;
    }
  } else {
    char *name = XGetAtomName(s->dpy, t);
    char nb[64];
    snprintf(nb, sizeof nb, " (as type %.40s)", name ? name : "?");
    if (name)
      XFree(name);
    get_end(s, RT_SEL_NOTEXT, "the owner of %s gave no text%s", nb, 0);
    return;
  }
  if (!out) {
    get_end(s, RT_SEL_FAILED, "out of memory reading %s%s", NULL, 0);
    return;
  }
  if (len > c->max) {
    free(out);
    get_end(s, RT_SEL_TOOBIG, "%s%s holds more than %.0f bytes of text", NULL, (double)c->max);
    return;
  }
  c->out = out;
  c->len = len;
  c->via = via;
  get_end(s, RT_SEL_OK, NULL, NULL, 0);
}

static bool append(rt_sel *s, const unsigned char *p, size_t n)
{
  unsigned char *d = realloc(s->g.data, s->g.len + n + 1);
  if (!d)
    return false;
  memcpy(d + s->g.len, p, n);
  s->g.len += n;
  d[s->g.len] = 0;
  s->g.data = d;
  return true;
}

static void on_targets(rt_sel *s, const XSelectionEvent *ev)
{
  const Atom order[4] = {s->a[A_UTF8], XA_STRING, s->a[A_COMPOUND], s->a[A_TEXT]};
  Atom type;
  int fmt;
  unsigned char *p = NULL;
  unsigned long n = 0;
  bool listed = ev->property != None &&
                take_prop(s, s->g.win, ev->property, 1 << 20, &type, &fmt, &p, &n) == 0 &&
                fmt == 32 && n > 0;
  const long *offered = (const long *)p;
  s->g.ncand = 0;
  for (int k = 0; k < 4; k++) {
    bool ok = !listed;
    for (unsigned long i = 0; listed && i < n; i++)
      if ((Atom)offered[i] == order[k])
        ok = true;
    if (ok)
      s->g.cand[s->g.ncand++] = order[k];
  }
  if (listed && s->g.ncand == 0) {
    /* name what it offers (format names, never contents) */
    char names[160] = "";
    size_t used = 0;
    for (unsigned long i = 0; i < n && i < 8 && used < sizeof names - 48; i++) {
      char *nm = XGetAtomName(s->dpy, (Atom)offered[i]);
      used += (size_t)snprintf(names + used, sizeof names - used, "%s%.40s", i ? ", " : "",
                               nm ? nm : "?");
      if (nm)
        XFree(nm);
    }
    free(p);
    char arg[200];
    snprintf(arg, sizeof arg, " (it offers %s)", names);
    get_end(s, RT_SEL_NOTEXT, "the owner of %s offers no text%s", arg, 0);
    return;
  }
  free(p);
  s->g.icand = 0;
  get_next(s);
}

static void on_data(rt_sel *s, const XSelectionEvent *ev)
{
  cmd *c = s->g.c;
  if (ev->property == None) { /* refused: the next target, if any */
    s->g.icand++;
    get_next(s);
    return;
  }
  Atom type;
  int fmt;
  unsigned char *p = NULL;
  unsigned long n = 0;
  int r = take_prop(s, s->g.win, ev->property, c->max, &type, &fmt, &p, &n);
  if (r == 1) {
    get_end(s, RT_SEL_TOOBIG, "%s%s holds more than %.0f bytes of text", NULL, (double)c->max);
    return;
  }
  if (r < 0) {
    s->g.icand++;
    get_next(s);
    return;
  }
  if (type == s->a[A_INCR]) {
    unsigned long announced = fmt == 32 && n >= 1 ? (unsigned long)((long *)p)[0] : 0;
    free(p);
    if (announced > c->max) {
      get_end(s, RT_SEL_TOOBIG, "%s%s holds more than %.0f bytes of text", NULL, (double)c->max);
      return;
    }
    /* deleting the property (done) asks the owner for the first part */
    s->g.stage = ST_INCR;
    s->g.type = None;
    s->g.deadline = vu_mono() + c->timeout;
    return;
  }
  if (fmt != 8) {
    free(p);
    s->g.icand++;
    get_next(s);
    return;
  }
  s->g.type = type;
  bool ok = append(s, p, n);
  free(p);
  if (!ok) {
    get_end(s, RT_SEL_FAILED, "out of memory reading %s%s", NULL, 0);
    return;
  }
  get_done(s);
}

static void on_incr_part(rt_sel *s)
{
  cmd *c = s->g.c;
  Atom type;
  int fmt;
  unsigned char *p = NULL;
  unsigned long n = 0;
  size_t room = c->max >= s->g.len ? c->max - s->g.len : 0;
  int r = take_prop(s, s->g.win, s->a[A_PROP], room, &type, &fmt, &p, &n);
  if (r < 0)
    return; /* not there (yet, or any more) */
  if (r == 1) {
    get_end(s, RT_SEL_TOOBIG, "%s%s holds more than %.0f bytes of text", NULL, (double)c->max);
    return;
  }
  s->g.deadline = vu_mono() + c->timeout;
  if (n == 0) { /* the empty part ends the transfer */
    free(p);
    if (s->g.type == None)
      s->g.type = type;
    get_done(s);
    return;
  }
  if (fmt != 8) {
    free(p);
    get_end(s, RT_SEL_NOTEXT, "the owner of %s%s sent parts that are not text", NULL, 0);
    return;
  }
  s->g.type = type;
  bool ok = append(s, p, n);
  free(p);
  if (!ok)
    get_end(s, RT_SEL_FAILED, "out of memory reading %s%s", NULL, 0);
}

/* ---- owning (the server) ---- */

static int which_of(const rt_sel *s, Atom sel)
{
  return sel == XA_PRIMARY ? RT_SEL_PRIMARY : sel == s->a[A_CLIPBOARD] ? RT_SEL_CLIPBOARD : -1;
}

static void xfer_drop(rt_sel *s, xfer *x)
{
  xfer **pp = &s->xfers;
  while (*pp && *pp != x)
    pp = &(*pp)->next;
  if (*pp)
    *pp = x->next;
  bool other = false;
  for (xfer *y = s->xfers; y; y = y->next)
    other |= y->req == x->req;
  /* our own getter's window keeps its mask: it is the same client's */
  if (!other && x->req != s->g.win)
    XSelectInput(s->dpy, x->req, NoEventMask);
  sbuf_unref(x->b);
  free(x);
}

/* Puts the text on the requestor's property, or starts an INCR transfer. */
static bool serve(rt_sel *s, Window req, Atom prop, Atom type, sbuf *b, const void *data,
                  size_t len)
{
  if (len <= s->incr_at) {
    XChangeProperty(s->dpy, req, prop, type, 8, PropModeReplace, data, (int)len);
    return true;
  }
  xfer *x = calloc(1, sizeof *x);
  if (!x)
    return false;
  x->req = req;
  x->prop = prop;
  x->type = type;
  x->b = b;
  b->refs++;
  x->data = data;
  x->len = len;
  x->idle_since = vu_mono();
  x->next = s->xfers;
  s->xfers = x;
  /* watch for the requestor deleting the property before telling it anything */
  XSelectInput(s->dpy, req, PropertyChangeMask);
  long size = (long)len;
  XChangeProperty(s->dpy, req, prop, s->a[A_INCR], 32, PropModeReplace, (unsigned char *)&size, 1);
  return true;
}

static void on_request(rt_sel *s, const XSelectionRequestEvent *ev)
{
  int w = which_of(s, ev->selection);
  sbuf *b = w >= 0 ? s->owned[w].b : NULL;
  Atom prop = ev->property != None ? ev->property : ev->target; /* obsolete requestors */
  bool ok = false;
  if (b && ev->owner == s->own && (ev->time == CurrentTime || ev->time >= s->owned[w].since)) {
    Atom t = ev->target;
    if (t == s->a[A_TARGETS]) {
      long list[6];
      int n = 0;
      list[n++] = (long)s->a[A_TARGETS];
      list[n++] = (long)s->a[A_TIMESTAMP];
      list[n++] = (long)s->a[A_UTF8];
      if (b->l1)
        list[n++] = (long)XA_STRING;
      if (sbuf_ct(s, b))
        list[n++] = (long)s->a[A_COMPOUND];
      list[n++] = (long)s->a[A_TEXT];
      XChangeProperty(s->dpy, ev->requestor, prop, XA_ATOM, 32, PropModeReplace,
                      (unsigned char *)list, n);
      ok = true;
    } else if (t == s->a[A_TIMESTAMP]) {
      long ts = (long)s->owned[w].since;
      XChangeProperty(s->dpy, ev->requestor, prop, XA_INTEGER, 32, PropModeReplace,
                      (unsigned char *)&ts, 1);
      ok = true;
    } else if (t == s->a[A_UTF8]) {
      ok = serve(s, ev->requestor, prop, s->a[A_UTF8], b, b->u8, b->u8len);
    } else if (t == XA_STRING) {
      ok = b->l1 && serve(s, ev->requestor, prop, XA_STRING, b, b->l1, b->l1len);
    } else if (t == s->a[A_COMPOUND]) {
      ok = sbuf_ct(s, b) && serve(s, ev->requestor, prop, s->a[A_COMPOUND], b, b->ct, b->ctlen);
    } else if (t == s->a[A_TEXT]) {
      /* ICCCM: the owner picks the encoding; the most widely understood one that holds it */
      if (b->l1)
        ok = serve(s, ev->requestor, prop, XA_STRING, b, b->l1, b->l1len);
      else if (sbuf_ct(s, b))
        ok = serve(s, ev->requestor, prop, s->a[A_COMPOUND], b, b->ct, b->ctlen);
      else
        ok = serve(s, ev->requestor, prop, s->a[A_UTF8], b, b->u8, b->u8len);
    }
  }
  XEvent r = {0};
  r.xselection.type = SelectionNotify;
  r.xselection.display = s->dpy;
  r.xselection.requestor = ev->requestor;
  r.xselection.selection = ev->selection;
  r.xselection.target = ev->target;
  r.xselection.property = ok ? prop : None;
  r.xselection.time = ev->time;
  XSendEvent(s->dpy, ev->requestor, False, NoEventMask, &r);
}

static void on_property(rt_sel *s, const XPropertyEvent *ev)
{
  if (ev->state == PropertyDelete) {
    for (xfer *x = s->xfers; x; x = x->next) {
      if (x->req != ev->window || x->prop != ev->atom)
        continue;
      size_t n = x->len - x->off;
      if (n > CHUNK)
        n = CHUNK;
      XChangeProperty(s->dpy, x->req, x->prop, x->type, 8, PropModeReplace, x->data + x->off,
                      (int)n);
      x->off += n;
      x->idle_since = vu_mono();
      if (n == 0) /* the empty part was the last */
        xfer_drop(s, x);
      break;
    }
  }
  if (s->g.active && s->g.stage == ST_INCR && ev->window == s->g.win && ev->atom == s->a[A_PROP] &&
      ev->state == PropertyNewValue)
    on_incr_part(s);
}

static Bool is_stamp(Display *d, XEvent *ev, XPointer arg)
{
  (void)d;
  const rt_sel *s = (const rt_sel *)arg;
  return ev->type == PropertyNotify && ev->xproperty.window == s->own &&
         ev->xproperty.atom == s->a[A_STAMP];
}

static void set_start(rt_sel *s, cmd *c)
{
  /* ICCCM: own with a real timestamp, from a zero-length append to our own window */
  XChangeProperty(s->dpy, s->own, s->a[A_STAMP], XA_STRING, 8, PropModeAppend,
                  (const unsigned char *)"", 0);
  XEvent ev;
  XIfEvent(s->dpy, &ev, is_stamp, (XPointer)s);
  Time t = ev.xproperty.time;
  Atom sel = sel_atom(s, c->which);
  XSetSelectionOwner(s->dpy, sel, s->own, t);
  sbuf *b = c->b;
  c->b = NULL;
  if (XGetSelectionOwner(s->dpy, sel) != s->own) {
    sbuf_unref(b);
    complete(s, c, RT_SEL_FAILED, "could not take %s: another client keeps it",
             rt_sel_name(c->which));
    return;
  }
  sbuf_unref(s->owned[c->which].b);
  s->owned[c->which].b = b;
  s->owned[c->which].since = t;
  complete(s, c, RT_SEL_OK, NULL);
}

static void dispatch(rt_sel *s, XEvent *ev)
{
  switch (ev->type) {
    case SelectionRequest: on_request(s, &ev->xselectionrequest); break;
    case SelectionClear: {
      int w = which_of(s, ev->xselectionclear.selection);
      if (w >= 0 && ev->xselectionclear.window == s->own && s->owned[w].b &&
          (ev->xselectionclear.time == CurrentTime ||
           ev->xselectionclear.time >= s->owned[w].since)) {
        sbuf_unref(s->owned[w].b); /* another client took it */
        s->owned[w].b = NULL;
      }
      break;
    }
    case SelectionNotify:
      if (!s->g.active || ev->xselection.requestor != s->g.win ||
          ev->xselection.selection != s->g.sel)
        break; /* a late answer to an earlier request */
      if (s->g.stage == ST_TARGETS && ev->xselection.target == s->a[A_TARGETS])
        on_targets(s, &ev->xselection);
      else if (s->g.stage == ST_DATA && ev->xselection.target == s->g.cand[s->g.icand])
        on_data(s, &ev->xselection);
      break;
    case PropertyNotify: on_property(s, &ev->xproperty); break;
    default: break;
  }
}

/* ---- the thread ---- */

static void on_xerror(Display *dpy, const rt_xerror_info *e, void *user)
{
  /* A requestor that vanished mid-transfer (BadWindow on its property): the transfer
   * idles out. Nothing to tell the main thread. */
  (void)dpy;
  (void)e;
  (void)user;
}

static void on_io_lost(Display *dpy, void *user)
{
  (void)dpy;
  rt_sel *s = user;
  pthread_mutex_lock(&s->mu);
  s->dead = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_exit(NULL); /* this connection's thread only; the run learns on its own */
}

static void *thread_main(void *arg)
{
  rt_sel *s = arg;
  int xfd = ConnectionNumber(s->dpy);
  for (;;) {
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    cmd *c = s->cmd && !s->busy ? s->cmd : NULL;
    if (c)
      s->busy = true;
    bool cancel = s->g.active && s->g.c->cancel;
    pthread_mutex_unlock(&s->mu);
    if (stop)
      break;
    if (cancel)
      get_end(s, RT_SEL_CANCELLED, "reading %s%s was cancelled", NULL, 0);
    if (c && c->kind == CMD_GET)
      get_start(s, c);
    else if (c)
      set_start(s, c);
    while (XPending(s->dpy)) {
      XEvent ev;
      XNextEvent(s->dpy, &ev);
      dispatch(s, &ev);
    }
    double now = vu_mono();
    if (s->g.active && now >= s->g.deadline) {
      if (s->g.stage == ST_INCR)
        get_end(s, RT_SEL_TIMEOUT, "the owner of %s%s stopped sending for %.1f s", NULL,
                s->g.c->timeout);
      else
        get_end(s, RT_SEL_TIMEOUT, "the owner of %s%s did not answer within %.1f s", NULL,
                s->g.c->timeout);
    }
    for (xfer *x = s->xfers, *nx; x; x = nx) {
      nx = x->next;
      if (now - x->idle_since > XFER_IDLE)
        xfer_drop(s, x);
    }
    XFlush(s->dpy);
    int ms = -1;
    if (s->g.active) {
      /* Not only when the socket says so: with the socket alone to wake it, an INCR read
       * from Tk stalled after a part in about one run of three (the next part never
       * came); looking every LOOK seconds, it never did in 100 runs. */
      double left = s->g.deadline - now;
      if (left > LOOK)
        left = LOOK;
      ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
    }
    if (s->xfers && (ms < 0 || ms > 1000))
      ms = 1000;
    struct pollfd pf[2] = {{xfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    if (poll(pf, 2, ms) > 0 && (pf[1].revents & POLLIN)) {
      char buf[64];
      while (read(s->wake[0], buf, sizeof buf) > 0) {}
    }
  }
  return NULL;
}

rt_sel *rt_sel_open(const char *display, char *err, size_t errlen)
{
  rt_sel *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->wake[0] = s->wake[1] = -1;
  s->dpy = XOpenDisplay(display);
  if (!s->dpy) {
    snprintf(err, errlen, "cannot open display '%s' for the selections", display ? display : "");
    free(s);
    return NULL;
  }
  if (rt_xerror_route(s->dpy, on_xerror, s) != 0 || pipe(s->wake) != 0) {
    snprintf(err, errlen, "cannot set up the selection service");
    rt_sel_close(s);
    return NULL;
  }
  for (int i = 0; i < 2; i++)
    fcntl(s->wake[i], F_SETFL, O_NONBLOCK), fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
  XInternAtoms(s->dpy, (char **)atom_names, A_N, False, s->a);
  long maxreq = XExtendedMaxRequestSize(s->dpy);
  if (maxreq <= 0)
    maxreq = XMaxRequestSize(s->dpy);
  s->incr_at = (size_t)maxreq * 4 - 1024;
  if (s->incr_at > INCR_AT_MOST)
    s->incr_at = INCR_AT_MOST;
  XSetWindowAttributes wa = {.event_mask = PropertyChangeMask};
  s->own = XCreateWindow(s->dpy, DefaultRootWindow(s->dpy), -10, -10, 1, 1, 0, 0, InputOnly,
                         CopyFromParent, CWEventMask, &wa);
  XStoreName(s->dpy, s->own, "vagt selections");
  XSync(s->dpy, False);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&s->mu, NULL);
  /* From here on only the thread touches the connection. Signals stay with the main
   * thread (the watchdog and the run's handlers expect them there). */
  XSetIOErrorExitHandler(s->dpy, on_io_lost, s);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_create(&s->th, NULL, thread_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    snprintf(err, errlen, "cannot start the selection thread: %s", strerror(rc));
    XSetIOErrorExitHandler(s->dpy, NULL, NULL);
    rt_sel_close(s);
    return NULL;
  }
  s->started = true;
  return s;
}

void rt_sel_close(rt_sel *s)
{
  if (!s)
    return;
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    wake(s);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
  }
  /* the thread is gone: its state is ours now */
  while (s->xfers)
    xfer_drop(s, s->xfers);
  for (int i = 0; i < 2; i++)
    sbuf_unref(s->owned[i].b);
  free(s->g.data);
  if (s->g.active && s->g.c)
    cmd_free(s->g.c); /* only when abandoned: a waiting caller would hold the lock */
  if (s->dpy && !s->dead)
    XCloseDisplay(s->dpy); /* the selections we own go with the window */
  if (s->dpy)
    rt_xerror_unroute(s->dpy);
  for (int i = 0; i < 2; i++)
    if (s->wake[i] >= 0)
      close(s->wake[i]);
  free(s);
}

bool rt_sel_lost(rt_sel *s)
{
  pthread_mutex_lock(&s->mu);
  bool dead = s->dead;
  pthread_mutex_unlock(&s->mu);
  return dead;
}

/* Hands the command to the thread and waits for it; a cancelled wait gives the thread a
 * moment to stop, then leaves the command to it. Returns the command when it completed
 * (the caller frees it), NULL when it was abandoned (err says why). */
static cmd *submit(rt_sel *s, cmd *c, char *err, size_t errlen)
{
  pthread_mutex_lock(&s->mu);
  if (s->dead || s->cmd) {
    pthread_mutex_unlock(&s->mu);
    snprintf(err, errlen,
             s->dead ? "the selection service lost its display connection"
                     : "the selection service is busy");
    sbuf_unref(c->b);
    cmd_free(c);
    return NULL;
  }
  s->cmd = c;
  pthread_mutex_unlock(&s->mu);
  wake(s);
  double give_up = 0;
  pthread_mutex_lock(&s->mu);
  while (!c->done && !s->dead) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
      ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    if (c->done || s->dead)
      break;
    if (!c->cancel && s->cancelled) {
      pthread_mutex_unlock(&s->mu);
      bool stop = s->cancelled(s->user);
      pthread_mutex_lock(&s->mu);
      if (stop && !c->done) {
        c->cancel = true;
        give_up = vu_mono() + GIVE_UP;
        wake(s);
      }
    } else if (c->cancel && vu_mono() > give_up) {
      break;
    }
  }
  if (c->done) {
    pthread_mutex_unlock(&s->mu);
    return c;
  }
  /* cancelled and the thread did not come back, or the connection is gone */
  if (s->cmd == c && !s->busy) {
    s->cmd = NULL;
    pthread_mutex_unlock(&s->mu);
    sbuf_unref(c->b);
    cmd_free(c);
  } else {
    c->abandoned = true; /* the thread frees it when it completes */
    pthread_mutex_unlock(&s->mu);
  }
  snprintf(err, errlen, "%s",
           s->dead ? "the selection service lost its display connection" : "cancelled");
  return NULL;
}

int rt_sel_get(rt_sel *s, rt_sel_which which, const rt_sel_get_opts *o, char **out, size_t *len,
               const char **via, char *err, size_t errlen)
{
  *out = NULL;
  *len = 0;
  if (via)
    *via = NULL;
  cmd *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, errlen, "out of memory");
    return RT_SEL_FAILED;
  }
  c->kind = CMD_GET;
  c->which = which;
  c->timeout = o->timeout > 0 ? o->timeout : 0.001;
  c->max = o->max;
  s->cancelled = o->cancelled;
  s->user = o->user;
  c = submit(s, c, err, errlen);
  if (!c)
    return strcmp(err, "cancelled") == 0 ? RT_SEL_CANCELLED : RT_SEL_FAILED;
  int rc = c->rc;
  if (rc == RT_SEL_OK) {
    *out = c->out;
    *len = c->len;
    c->out = NULL;
    if (via)
      *via = c->via;
  } else {
    snprintf(err, errlen, "%s", c->err);
  }
  cmd_free(c);
  return rc;
}

int rt_sel_set(rt_sel *s, rt_sel_which which, const char *utf8, size_t len, char *err,
               size_t errlen)
{
  if (!rt_utf8_valid(utf8, len)) {
    snprintf(err, errlen, "the text is not UTF-8");
    return RT_SEL_FAILED;
  }
  sbuf *b = calloc(1, sizeof *b);
  cmd *c = calloc(1, sizeof *c);
  if (b)
    b->u8 = malloc(len + 1);
  if (!b || !c || !b->u8) {
    if (b)
      free(b->u8);
    free(b);
    free(c);
    snprintf(err, errlen, "out of memory");
    return RT_SEL_FAILED;
  }
  b->refs = 1;
  memcpy(b->u8, utf8, len);
  b->u8[len] = '\0';
  b->u8len = len;
  b->l1 = utf8_to_latin1(utf8, len, &b->l1len);
  c->kind = CMD_SET;
  c->which = which;
  c->b = b;
  s->cancelled = NULL; /* taking a selection is quick: no cancelling half-way */
  c = submit(s, c, err, errlen);
  if (!c)
    return RT_SEL_FAILED;
  int rc = c->rc;
  if (rc != RT_SEL_OK)
    snprintf(err, errlen, "%s", c->err);
  cmd_free(c);
  return rc;
}
