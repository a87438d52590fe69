/* vagt window and screen capture into Leptonica PIX (32 bpp RGB, window-relative).
 *
 * MIT-SHM (XShmGetImage into one segment, reused across captures and re-created when a
 * capture needs more room) with a fallback to XGetImage when SHM is unavailable: no
 * MIT-SHM extension, a remote display (XShmAttach fails), or VAGT_NO_SHM=1 in the
 * environment. TrueColor/DirectColor visuals of depth 24 or 32 (masks taken from the
 * visual, either byte order). X errors (BadWindow, BadMatch, ...) become a NULL result
 * and a message; nothing here exits. XGetImage/XShmGetImage do not include the cursor.
 */
#ifndef VAGT_RT_CAPTURE_H
#define VAGT_RT_CAPTURE_H

#include <X11/Xlib.h>
#include <leptonica/allheaders.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rt_capture rt_capture;

/* NULL only when out of memory. */
rt_capture *rt_capture_new(Display *dpy);

/* 1 when captures go through MIT-SHM (may turn 0 after the first capture when the
 * segment cannot be attached, e.g. on a remote display). */
int rt_capture_using_shm(const rt_capture *cap);

/* Force XGetImage (on = 0) or allow MIT-SHM again (on = 1, if available). */
void rt_capture_set_shm(rt_capture *cap, int on);

/* The whole window (its own area, without frame), window-relative, 32 bpp.
 * Parts of the window outside the screen come back black. Returns NULL and a message on
 * a vanished window (BadWindow), an unmapped/unviewable one, an InputOnly window or an
 * unsupported visual. The caller pixDestroy()s the result. */
PIX *rt_capture_window(rt_capture *cap, Window win, char *err, size_t errlen);

/* A rectangle of a window, window-relative (must lie within the window). */
PIX *rt_capture_window_rect(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                            char *err, size_t errlen);

/* A rectangle of the default screen's root window (must lie within the screen). */
PIX *rt_capture_root_rect(rt_capture *cap, int x, int y, unsigned w, unsigned h, char *err,
                          size_t errlen);

/* The whole default screen. */
PIX *rt_capture_screen(rt_capture *cap, char *err, size_t errlen);

void rt_capture_free(rt_capture *cap);

/* ---- zero-copy frames: the raw X image, for fast "settled" checks ----
 * A frame points into the capture's own buffer (the MIT-SHM segment, or the last
 * XGetImage result): valid until the next capture call on the same rt_capture or
 * rt_capture_free. Converting to a PIX costs a full pass over the pixels; hashing a frame
 * does not need it. */
typedef struct {
  unsigned width, height;    /* the requested rectangle */
  int vis_x, vis_y;          /* the part that was on the screen, inside it */
  unsigned vis_w, vis_h;     /* 0 x 0 when the rectangle is entirely off-screen */
  const unsigned char *data; /* vis_h rows of bytes_per_line bytes (X ZPixmap) */
  int bytes_per_line, bits_per_pixel, byte_order; /* byte_order: LSBFirst/MSBFirst */
  unsigned long red_mask, green_mask, blue_mask;
} rt_frame;

/* Like rt_capture_window / _window_rect / _screen, into a frame. 0, or -1 + err. */
int rt_capture_window_frame(rt_capture *cap, Window win, rt_frame *out, char *err, size_t errlen);
int rt_capture_window_rect_frame(rt_capture *cap, Window win, int x, int y, unsigned w, unsigned h,
                                 rt_frame *out, char *err, size_t errlen);
int rt_capture_screen_frame(rt_capture *cap, rt_frame *out, char *err, size_t errlen);

/* A 32 bpp PIX of the frame (width x height; off-screen parts black). NULL + err. */
PIX *rt_frame_to_pix(const rt_frame *f, char *err, size_t errlen);

/* 64-bit content hash of a frame (geometry and the colour bits of every visible pixel).
 * Frame hashes compare with frame hashes only, not with rt_pix_hash values. */
uint64_t rt_frame_hash(const rt_frame *f);

/* Hash of a rectangle of a frame (frame coordinates, clipped to its visible part),
 * mixed with seed. */
uint64_t rt_frame_hash_rect(const rt_frame *f, int x, int y, int w, int h, uint64_t seed);

/* A cheap 64-bit content hash of a PIX (size, depth and pixels; the alpha byte of
 * 32 bpp images is ignored) for "has the window settled" checks. Not cryptographic. */
uint64_t rt_pix_hash(PIX *pix);

#endif
