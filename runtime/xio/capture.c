/* vagt capture; see capture.h */
#include "capture.h"

#include "xerror.h"

#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

struct rt_capture {
  Display *dpy;
  int shm_available; /* extension present and not disabled by the environment */
  int shm_on;        /* use it */
  int shm_attached;
  XShmSegmentInfo shminfo;
  size_t shm_size;
  XImage *shm_img;  /* header over the segment for the last size/visual */
  XImage *xget_img; /* the last XGetImage result (backs the last frame) */
};

rt_capture *rt_capture_new(Display *dpy)
{
  rt_capture *cap = calloc(1, sizeof *cap);
  if (!cap)
    return NULL;
  cap->dpy = dpy;
  cap->shminfo.shmid = -1;
  cap->shminfo.shmaddr = (char *)-1;
  const char *no = getenv("VAGT_NO_SHM");
  int forced_off = no && no[0] && strcmp(no, "0") != 0;
  cap->shm_available = !forced_off && dpy && XShmQueryExtension(dpy);
  cap->shm_on = cap->shm_available;
  return cap;
}

int rt_capture_using_shm(const rt_capture *cap)
{
  return cap && cap->shm_on;
}

static void drop_xget(rt_capture *cap);

static void shm_drop_image(rt_capture *cap)
{
  if (cap->shm_img) {
    cap->shm_img->data = NULL; /* the segment is not malloc'd */
    XDestroyImage(cap->shm_img);
    cap->shm_img = NULL;
  }
}

static void shm_release(rt_capture *cap)
{
  shm_drop_image(cap);
  if (cap->shm_attached) {
    rt_x_trap_begin(cap->dpy);
    XShmDetach(cap->dpy, &cap->shminfo);
    rt_x_trap_end(cap->dpy, NULL);
    cap->shm_attached = 0;
  }
  if (cap->shminfo.shmaddr != (char *)-1) {
    shmdt(cap->shminfo.shmaddr);
    cap->shminfo.shmaddr = (char *)-1;
  }
  if (cap->shminfo.shmid >= 0) {
    shmctl(cap->shminfo.shmid, IPC_RMID, NULL);
    cap->shminfo.shmid = -1;
  }
  cap->shm_size = 0;
}

void rt_capture_set_shm(rt_capture *cap, int on)
{
  if (!cap)
    return;
  if (!on && cap->shm_attached)
    shm_release(cap);
  cap->shm_on = on && cap->shm_available;
}

void rt_capture_free(rt_capture *cap)
{
  if (!cap)
    return;
  shm_release(cap);
  drop_xget(cap);
  free(cap);
}

/* make sure a segment of at least size bytes is attached; 0 ok, -1 = give up SHM */
static int shm_ensure(rt_capture *cap, size_t size)
{
  if (cap->shm_attached && cap->shm_size >= size)
    return 0;
  shm_release(cap);
  /* some headroom so small growth does not re-create the segment */
  size_t want = size + size / 8 + 4096;
  int id = shmget(IPC_PRIVATE, want, IPC_CREAT | 0600);
  if (id < 0)
    return -1;
  void *addr = shmat(id, NULL, 0);
  if (addr == (void *)-1) {
    shmctl(id, IPC_RMID, NULL);
    return -1;
  }
  cap->shminfo.shmid = id;
  cap->shminfo.shmaddr = addr;
  cap->shminfo.readOnly = False;
  rt_x_trap_begin(cap->dpy);
  Status ok = XShmAttach(cap->dpy, &cap->shminfo);
  int e = rt_x_trap_end(cap->dpy, NULL);
  /* the server has attached (or failed): mark for removal now so nothing leaks even if
   * this process dies; the segment lives until both sides detach */
  shmctl(id, IPC_RMID, NULL);
  cap->shminfo.shmid = -1;
  if (!ok || e) {
    shmdt(addr);
    cap->shminfo.shmaddr = (char *)-1;
    return -1;
  }
  cap->shm_attached = 1;
  cap->shm_size = want;
  return 0;
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

static void xerr_msg(Display *dpy, const rt_xerror_info *e, const char *what, Window w, char *err,
                     size_t errlen)
{
  char m[200];
  rt_xerror_format(dpy, e, m, sizeof m);
  if (e->error_code == BadWindow || e->error_code == BadDrawable)
    set_err(err, errlen, "%s: window 0x%lx does not exist (%s)", what, (unsigned long)w, m);
  else
    set_err(err, errlen, "%s of window 0x%lx failed: %s", what, (unsigned long)w, m);
}

/* ---------- pixel conversion ---------- */

typedef struct {
  int shift, bits;
} chan_t;

static chan_t chan_of(unsigned long mask)
{
  chan_t c = {0, 0};
  if (!mask)
    return c;
  while (!(mask & 1)) {
    mask >>= 1;
    c.shift++;
  }
  while (mask & 1) {
    mask >>= 1;
    c.bits++;
  }
  return c;
}

static inline uint32_t scale8(uint32_t v, int bits)
{
  if (bits >= 8)
    return v >> (bits - 8);
  if (bits <= 0)
    return 0;
  /* replicate the top bits: 5-bit 31 -> 255 */
  uint32_t r = v << (8 - bits);
  return r | (r >> bits);
}

static int host_is_lsb(void)
{
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

static int frame_supported(const rt_frame *f)
{
  return (f->bits_per_pixel == 32 || f->bits_per_pixel == 24) && f->red_mask && f->green_mask &&
         f->blue_mask;
}

/* the common case: 0x00RRGGBB words in host order -> Leptonica 0xRRGGBBAA */
static void convert_fast(const unsigned char *src0, int bpl, l_uint32 *dst0, int wpl, int w, int h)
{
  for (int y = 0; y < h; y++) {
    const uint32_t *src = (const uint32_t *)(const void *)(src0 + (size_t)y * bpl);
    l_uint32 *dst = dst0 + (size_t)y * wpl;
    for (int x = 0; x < w; x++)
      dst[x] = (src[x] << 8) | 0xff;
  }
}

PIX *rt_frame_to_pix(const rt_frame *f, char *err, size_t errlen)
{
  if (!f || f->width == 0 || f->height == 0) {
    set_err(err, errlen, "empty frame");
    return NULL;
  }
  if (f->vis_w && !frame_supported(f)) {
    set_err(err, errlen, "unsupported pixel format (%d bpp)", f->bits_per_pixel);
    return NULL;
  }
  int full = f->vis_x == 0 && f->vis_y == 0 && f->vis_w == f->width && f->vis_h == f->height;
  /* fully visible: every pixel is written below, no need to clear */
  PIX *pix = full ? pixCreateNoInit((l_int32)f->width, (l_int32)f->height, 32)
                  : pixCreate((l_int32)f->width, (l_int32)f->height, 32);
  if (!pix) {
    set_err(err, errlen, "cannot allocate a %ux%u image", f->width, f->height);
    return NULL;
  }
  if (!f->vis_w || !f->vis_h)
    return pix;
  int wpl = pixGetWpl(pix);
  l_uint32 *dst0 = pixGetData(pix) + (size_t)f->vis_y * wpl + f->vis_x;
  int w = (int)f->vis_w, h = (int)f->vis_h;
  int native = (f->byte_order == LSBFirst) == host_is_lsb();
  if (f->bits_per_pixel == 32 && native && f->red_mask == 0xff0000 && f->green_mask == 0xff00 &&
      f->blue_mask == 0xff) {
    convert_fast(f->data, f->bytes_per_line, dst0, wpl, w, h);
    return pix;
  }
  unsigned long rm = f->red_mask, gm = f->green_mask, bm = f->blue_mask;
  chan_t cr = chan_of(rm), cg = chan_of(gm), cb = chan_of(bm);
  int bytes = f->bits_per_pixel / 8;
  for (int y = 0; y < h; y++) {
    const unsigned char *row = f->data + (size_t)y * f->bytes_per_line;
    l_uint32 *dst = dst0 + (size_t)y * wpl;
    for (int x = 0; x < w; x++) {
      const unsigned char *p = row + (size_t)x * bytes;
      uint32_t v;
      if (f->byte_order == LSBFirst)
        v = bytes == 4
                ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
      else
        v = bytes == 4
                ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3]
                : (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[2];
      uint32_t r = scale8((uint32_t)((v & rm) >> cr.shift), cr.bits);
      uint32_t g = scale8((uint32_t)((v & gm) >> cg.shift), cg.bits);
      uint32_t b = scale8((uint32_t)((v & bm) >> cb.shift), cb.bits);
      dst[x] = r << 24 | g << 16 | b << 8 | 0xff;
    }
  }
  return pix;
}

/* ---------- grabbing ---------- */

static void drop_xget(rt_capture *cap)
{
  if (cap->xget_img) {
    XDestroyImage(cap->xget_img);
    cap->xget_img = NULL;
  }
}

/* grab (x,y,w,h) of drawable d (viewable, rect on screen); the image stays owned by cap */
static XImage *grab(rt_capture *cap, Drawable d, Visual *vis, int depth, int x, int y, int w, int h,
                    char *err, size_t errlen)
{
  Display *dpy = cap->dpy;
  rt_xerror_info e;
  drop_xget(cap);
  if (cap->shm_on) {
    XImage *img = cap->shm_img;
    if (!img || img->width != w || img->height != h || img->depth != depth ||
        img->red_mask != vis->red_mask || img->green_mask != vis->green_mask ||
        img->blue_mask != vis->blue_mask) {
      shm_drop_image(cap);
      img = XShmCreateImage(dpy, vis, (unsigned)depth, ZPixmap, NULL, &cap->shminfo, (unsigned)w,
                            (unsigned)h);
      if (!img) {
        set_err(err, errlen, "XShmCreateImage failed");
        return NULL;
      }
    }
    size_t need = (size_t)img->bytes_per_line * (size_t)h;
    if (img != cap->shm_img || need > cap->shm_size) {
      cap->shm_img = NULL; /* shm_ensure may drop the cached header */
      if (shm_ensure(cap, need) != 0) {
        img->data = NULL;
        XDestroyImage(img);
        img = NULL;
        cap->shm_on = 0; /* remote display or no SysV shm: XGetImage from now on */
      } else {
        img->data = cap->shminfo.shmaddr;
        cap->shm_img = img;
      }
    }
    if (img) {
      rt_x_trap_begin(dpy);
      Status ok = XShmGetImage(dpy, d, img, x, y, AllPlanes);
      /* XShmGetImage waits for its reply: an error has been handled on return */
      if (rt_x_trap_end_nosync(dpy, &e) || !ok) {
        if (e.error_code)
          xerr_msg(dpy, &e, "capture", d, err, errlen);
        else
          set_err(err, errlen, "capture of window 0x%lx failed", (unsigned long)d);
        return NULL;
      }
      return img;
    }
  }
  rt_x_trap_begin(dpy);
  XImage *img = XGetImage(dpy, d, x, y, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
  int code = rt_x_trap_end_nosync(dpy, &e);
  if (!img || code) {
    if (img)
      XDestroyImage(img);
    if (code)
      xerr_msg(dpy, &e, "capture", d, err, errlen);
    else
      set_err(err, errlen, "capture of window 0x%lx failed", (unsigned long)d);
    return NULL;
  }
  cap->xget_img = img;
  return img;
}

/* ---------- public capture calls ---------- */

/* capture rect (x,y,w,h) of window win (relative to win) into a frame; parts outside
 * the screen are not captured (vis_* says which part was) */
static int capture_frame(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                         int whole, rt_frame *f, char *err, size_t errlen)
{
  if (err && errlen)
    err[0] = '\0';
  memset(f, 0, sizeof *f);
  if (!cap || !cap->dpy) {
    set_err(err, errlen, "no capture context");
    return -1;
  }
  Display *dpy = cap->dpy;
  XWindowAttributes a;
  rt_xerror_info e;
  rt_x_trap_begin(dpy);
  Status ok = XGetWindowAttributes(dpy, win, &a);
  if (rt_x_trap_end_nosync(dpy, &e) || !ok) {
    if (e.error_code)
      xerr_msg(dpy, &e, "capture", win, err, errlen);
    else
      set_err(err, errlen, "capture: window 0x%lx does not exist", (unsigned long)win);
    return -1;
  }
  if (a.class == InputOnly) {
    set_err(err, errlen, "capture: window 0x%lx is InputOnly", (unsigned long)win);
    return -1;
  }
  if (a.map_state != IsViewable) {
    set_err(err, errlen, "capture: window 0x%lx is not viewable (%s)", (unsigned long)win,
            a.map_state == IsUnmapped ? "unmapped" : "an ancestor is unmapped");
    return -1;
  }
  if (a.visual->class != TrueColor && a.visual->class != DirectColor) {
    set_err(err, errlen, "capture: window 0x%lx has a non-TrueColor visual", (unsigned long)win);
    return -1;
  }
  if (whole) {
    x = 0;
    y = 0;
    w = (unsigned)a.width;
    h = (unsigned)a.height;
  }
  if (w == 0 || h == 0 || x < 0 || y < 0 || (long)x + (long)w > a.width ||
      (long)y + (long)h > a.height) {
    set_err(err, errlen, "capture: rectangle %ux%u+%d+%d is not inside window 0x%lx (%dx%d)", w, h,
            x, y, (unsigned long)win, a.width, a.height);
    return -1;
  }
  /* the part of the rectangle that is on the screen */
  int rx = 0, ry = 0;
  Window child;
  if (win != a.root) {
    rt_x_trap_begin(dpy);
    Bool t = XTranslateCoordinates(dpy, win, a.root, 0, 0, &rx, &ry, &child);
    if (rt_x_trap_end_nosync(dpy, &e) || !t) {
      if (e.error_code)
        xerr_msg(dpy, &e, "capture", win, err, errlen);
      else
        set_err(err, errlen, "capture: window 0x%lx is on another screen", (unsigned long)win);
      return -1;
    }
  }
  int sw = a.screen ? WidthOfScreen(a.screen) : a.width;
  int sh = a.screen ? HeightOfScreen(a.screen) : a.height;
  long x0 = x, y0 = y, x1 = (long)x + w, y1 = (long)y + h;
  if (rx + x0 < 0)
    x0 = -rx;
  if (ry + y0 < 0)
    y0 = -ry;
  if (rx + x1 > sw)
    x1 = sw - rx;
  if (ry + y1 > sh)
    y1 = sh - ry;
  f->width = w;
  f->height = h;
  f->red_mask = a.visual->red_mask;
  f->green_mask = a.visual->green_mask;
  f->blue_mask = a.visual->blue_mask;
  if (x1 <= x0 || y1 <= y0)
    return 0; /* entirely off-screen */
  XImage *img = grab(cap, win, a.visual, a.depth, (int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0),
                     err, errlen);
  if (!img)
    return -1;
  f->vis_x = (int)(x0 - x);
  f->vis_y = (int)(y0 - y);
  f->vis_w = (unsigned)(x1 - x0);
  f->vis_h = (unsigned)(y1 - y0);
  f->data = (const unsigned char *)img->data;
  f->bytes_per_line = img->bytes_per_line;
  f->bits_per_pixel = img->bits_per_pixel;
  f->byte_order = img->byte_order;
  if (!frame_supported(f)) {
    set_err(err, errlen, "capture: unsupported pixel format (%d bpp, depth %d)",
            img->bits_per_pixel, a.depth);
    return -1;
  }
  return 0;
}

static PIX *capture_pix(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                        int whole, char *err, size_t errlen)
{
  rt_frame f;
  if (capture_frame(cap, win, x, y, w, h, whole, &f, err, errlen) != 0)
    return NULL;
  return rt_frame_to_pix(&f, err, errlen);
}

int rt_capture_window_frame(rt_capture *cap, Window win, rt_frame *out, char *err, size_t errlen)
{
  return capture_frame(cap, win, 0, 0, 0, 0, 1, out, err, errlen);
}

int rt_capture_window_rect_frame(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                                 rt_frame *out, char *err, size_t errlen)
{
  return capture_frame(cap, win, x, y, w, h, 0, out, err, errlen);
}

int rt_capture_screen_frame(rt_capture *cap, rt_frame *out, char *err, size_t errlen)
{
  if (!cap || !cap->dpy) {
    set_err(err, errlen, "no capture context");
    return -1;
  }
  return capture_frame(cap, DefaultRootWindow(cap->dpy), 0, 0, 0, 0, 1, out, err, errlen);
}

PIX *rt_capture_window(rt_capture *cap, Window win, char *err, size_t errlen)
{
  return capture_pix(cap, win, 0, 0, 0, 0, 1, err, errlen);
}

PIX *rt_capture_window_rect(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                            char *err, size_t errlen)
{
  return capture_pix(cap, win, x, y, w, h, 0, err, errlen);
}

PIX *rt_capture_root_rect(rt_capture *cap, int x, int y, unsigned w, unsigned h, char *err,
                          size_t errlen)
{
  if (!cap || !cap->dpy) {
    set_err(err, errlen, "no capture context");
    return NULL;
  }
  return capture_pix(cap, DefaultRootWindow(cap->dpy), x, y, w, h, 0, err, errlen);
}

PIX *rt_capture_screen(rt_capture *cap, char *err, size_t errlen)
{
  if (!cap || !cap->dpy) {
    set_err(err, errlen, "no capture context");
    return NULL;
  }
  return capture_pix(cap, DefaultRootWindow(cap->dpy), 0, 0, 0, 0, 1, err, errlen);
}

/* ---------- content hash ---------- */

#define P1 0x9E3779B97F4A7C15ULL
#define P2 0xC2B2AE3D27D4EB4FULL

static inline uint64_t rotl64(uint64_t v, int r)
{
  return (v << r) | (v >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

typedef struct {
  uint64_t h[4];
} hstate;

static void hs_init(hstate *s, uint64_t seed)
{
  s->h[0] = P1 ^ seed;
  s->h[1] = P2 + seed;
  s->h[2] = rotl64(P1, 17) ^ seed;
  s->h[3] = rotl64(P2, 41) - seed;
}

/* n bytes, every byte ANDed with the repeating 8-byte mask m */
static void hs_bytes(hstate *s, const unsigned char *p, size_t n, uint64_t m)
{
  uint64_t h0 = s->h[0], h1 = s->h[1], h2 = s->h[2], h3 = s->h[3];
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t v[4];
    memcpy(v, p + i, 32);
    h0 = rotl64((h0 ^ (v[0] & m)) * P1, 29);
    h1 = rotl64((h1 ^ (v[1] & m)) * P1, 29);
    h2 = rotl64((h2 ^ (v[2] & m)) * P1, 29);
    h3 = rotl64((h3 ^ (v[3] & m)) * P1, 29);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    h0 = rotl64((h0 ^ (v & m)) * P2, 31);
  }
  if (i < n) {
    uint64_t v = 0, mm = 0;
    memcpy(&v, p + i, n - i);
    memcpy(&mm, &m, n - i);
    h1 = rotl64((h1 ^ (v & mm) ^ (uint64_t)(n - i)) * P2, 31);
  }
  s->h[0] = h0;
  s->h[1] = h1;
  s->h[2] = h2 ^ 0x5bd1e995u; /* row separator */
  s->h[3] = h3;
}

static uint64_t hs_final(const hstate *s, uint64_t extra)
{
  uint64_t r = rotl64(s->h[0], 1) + rotl64(s->h[1], 7) + rotl64(s->h[2], 12) + rotl64(s->h[3], 18);
  return fmix64(r ^ extra);
}

uint64_t rt_pix_hash(PIX *pix)
{
  if (!pix)
    return 0;
  l_int32 w, h, d;
  pixGetDimensions(pix, &w, &h, &d);
  int wpl = pixGetWpl(pix);
  const l_uint32 *data = pixGetData(pix);
  hstate s;
  hs_init(&s, (uint64_t)w << 40 ^ (uint64_t)h << 16 ^ (uint64_t)d);
  /* words of 32-bit pixels; the alpha byte (lowest in the word) is ignored */
  uint32_t wm = d == 32 ? 0xffffff00u : 0xffffffffu;
  uint64_t m;
  uint32_t mm[2] = {wm, wm};
  memcpy(&m, mm, 8);
  long bits = (long)w * d;
  size_t full = (size_t)(bits / 32);
  int rem = (int)(bits % 32);
  uint32_t lastmask = rem ? (uint32_t)(0xffffffffu << (32 - rem)) : 0;
  for (int y = 0; y < h; y++) {
    const l_uint32 *row = data + (size_t)y * wpl;
    hs_bytes(&s, (const unsigned char *)row, full * 4, m);
    if (rem)
      s.h[3] = rotl64((s.h[3] ^ (row[full] & lastmask)) * P1, 23);
  }
  return hs_final(&s, (uint64_t)w << 32 | (uint64_t)h);
}

/* the colour bits of a frame's pixels as an 8-byte mask repeating every pixel */
static uint64_t colour_mask(const rt_frame *f)
{
  uint32_t cm = (uint32_t)(f->red_mask | f->green_mask | f->blue_mask);
  unsigned char mb[8];
  int bytes = f->bits_per_pixel / 8;
  for (int i = 0; i < 8; i++) {
    int k = i % bytes; /* byte k of a pixel */
    int shift = f->byte_order == LSBFirst ? 8 * k : 8 * (bytes - 1 - k);
    mb[i] = (unsigned char)(cm >> shift);
  }
  uint64_t m;
  memcpy(&m, mb, 8);
  if (bytes != 4 && bytes != 2 && bytes != 1)
    m = ~(uint64_t)0; /* 24 bpp packed: the mask would not repeat every 8 bytes */
  return m;
}

uint64_t rt_frame_hash_rect(const rt_frame *f, int x, int y, int w, int h, uint64_t seed)
{
  if (!f)
    return 0;
  hstate s;
  hs_init(&s, seed ^ (uint64_t)(unsigned)x << 48 ^ (uint64_t)(unsigned)y << 32 ^
                  (uint64_t)(unsigned)w << 16 ^ (uint64_t)(unsigned)h);
  /* clip to the visible part */
  int x0 = x > f->vis_x ? x : f->vis_x, y0 = y > f->vis_y ? y : f->vis_y;
  int x1 = x + w < f->vis_x + (int)f->vis_w ? x + w : f->vis_x + (int)f->vis_w;
  int y1 = y + h < f->vis_y + (int)f->vis_h ? y + h : f->vis_y + (int)f->vis_h;
  if (f->data && x1 > x0 && y1 > y0) {
    uint64_t m = colour_mask(f);
    int bytes = f->bits_per_pixel / 8;
    for (int yy = y0; yy < y1; yy++)
      hs_bytes(&s,
               f->data + (size_t)(yy - f->vis_y) * f->bytes_per_line +
                   (size_t)(x0 - f->vis_x) * bytes,
               (size_t)(x1 - x0) * bytes, m);
  }
  return hs_final(&s, (uint64_t)(unsigned)x0 << 32 ^ (uint64_t)(unsigned)y1);
}

uint64_t rt_frame_hash(const rt_frame *f)
{
  if (!f)
    return 0;
  hstate s;
  hs_init(&s, (uint64_t)f->width << 40 ^ (uint64_t)f->height << 16 ^ (uint64_t)f->bits_per_pixel);
  if (f->vis_w && f->vis_h && f->data) {
    /* only the colour bits of each pixel */
    uint64_t m = colour_mask(f);
    int bytes = f->bits_per_pixel / 8;
    size_t rowbytes = (size_t)f->vis_w * (size_t)bytes;
    for (unsigned y = 0; y < f->vis_h; y++)
      hs_bytes(&s, f->data + (size_t)y * f->bytes_per_line, rowbytes, m);
  }
  return hs_final(&s, (uint64_t)f->vis_x << 48 ^ (uint64_t)f->vis_y << 32 ^
                          (uint64_t)f->vis_w << 16 ^ f->vis_h);
}
