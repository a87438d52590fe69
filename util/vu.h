/* Generic helpers shared by every part of vagt: clocks, RFC 3339 times, reading a file
 * whole and creating folders. They never print or exit; errors come back as text. */
#ifndef VU_H
#define VU_H

#include <stdbool.h>
#include <stddef.h>

/* The characters (UTF-8 lead bytes) of s[0..n). */
size_t vu_utf8_chars(const char *s, size_t n);

/* Seconds on the monotonic clock: for deadlines and durations, never for dates. */
double vu_mono(void);
/* Unix time now, in seconds with a fraction. */
double vu_wall(void);
/* RFC 3339 UTC of Unix time t: "2026-11-26T02:30:00Z", with milliseconds
 * ("...:00.123Z") when ms is true. */
void vu_rfc3339(double t, bool ms, char *buf, size_t n);

/* vu_read_file's flags. */
enum {
  VU_NOFOLLOW = 1 /* refuse a symbolic link (files in folders others may write to) */
};
/* Reads a regular file whole, NUL-terminated (length in *len when len is not NULL).
 * Refused with a message in err (when not NULL) naming the path: a missing or unreadable
 * file, anything but a regular file (a FIFO or device is never opened for a blocking
 * read), more than max bytes, a file that grows while read, and with VU_NOFOLLOW a
 * symbolic link. The caller frees the result. */
char *vu_read_file(const char *path, size_t max, int flags, size_t *len, char *err, size_t errlen);

/* mkdir -p with mode 0700 for each folder it creates; -1 with a message in err. */
int vu_mkdir_p(const char *path, char *err, size_t errlen);

/* Sends all n bytes on a socket (no SIGPIPE when the peer is gone), retrying after
 * signals; false with errno on failure. */
bool vu_send_all(int fd, const char *p, size_t n);
/* The same with write(2), for files and pipes. */
bool vu_write_all(int fd, const char *p, size_t n);

#endif
