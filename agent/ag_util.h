/* Small helpers shared by the agent's parts. */
#ifndef AG_UTIL_H
#define AG_UTIL_H

#include <stddef.h>

/* Unix time now, as seconds with a fraction. $VAGT_AGENT_NOW (Unix seconds, for tests)
 * moves the agent's clock: it starts at that time when the agent starts and runs on. */
double ag_time(void);
void ag_time_init(void);

/* RFC 3339 UTC ("2026-11-26T02:30:00Z") of Unix time t. */
void ag_rfc3339(double t, char *buf, size_t n);

/* A random id (UUID version 4 text). */
void ag_uuid(char *buf, size_t n);

/* An id that is a function of `text` alone (128 bits of two FNV-1a lanes, written as a
 * UUID, version 8): the same input gives the same id in any process, on any machine. Not
 * a secret: for de-duplication only. */
void ag_stable_id(const char *text, char *buf, size_t n);

/* Reads a regular file, at most `max` bytes of it, NUL-terminated; NULL on error or when
 * the path is not a regular file (a FIFO or device is never opened for blocking reads). */
char *ag_read_file(const char *path, size_t max, size_t *len);



/* asprintf without _GNU_SOURCE. */
int ag_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
