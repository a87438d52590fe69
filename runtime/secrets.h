/* Credentials for robot.secret(NAME): from the environment (VAGT_SECRET_<NAME>) or from an
 * owner-only secrets file ("name = value" lines). A file that group or others can read is
 * refused: it would leak the very thing it holds. Values are never logged; the run redacts
 * them from every message it writes. */
#ifndef VAGT_SECRETS_H
#define VAGT_SECRETS_H

#include <stddef.h>

enum { RT_SECRET_OK = 0, RT_SECRET_MISSING = 1, RT_SECRET_BADFILE = 2 };

/* file: explicit path or NULL (then $VAGT_SECRETS_FILE, then ~/.config/vagt/secrets if it
 * exists). On success *value is malloc'd. */
int rt_secret_get(const char *name, const char *file, char **value, char *err, size_t errlen);

/* The environment variable consulted for `name`, e.g. "db-pass" -> VAGT_SECRET_DB_PASS. */
void rt_secret_envname(const char *name, char *out, size_t n);

#endif
