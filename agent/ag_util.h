/* Small helpers shared by the agent's parts. */
#ifndef AG_UTIL_H
#define AG_UTIL_H

#include <stddef.h>

/* Unix time now, as seconds with a fraction. $VAGT_AGENT_NOW (Unix seconds, for tests)
 * moves the agent's clock: it starts at that time when the agent starts and runs on. */
double ag_time(void);
void ag_time_init(void);

/* A random id (UUID version 4 text). */
void ag_uuid(char *buf, size_t n);

/* An id that is a function of `text` alone (128 bits of two FNV-1a lanes, written as a
 * UUID, version 8): the same input gives the same id in any process, on any machine. Not
 * a secret: for de-duplication only. */
void ag_stable_id(const char *text, char *buf, size_t n);

/* asprintf without _GNU_SOURCE. */
int ag_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
