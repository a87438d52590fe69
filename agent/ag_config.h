/* The agent's configuration (README "Nightly runs: the agent"): a Lua file run in the
 * robot sandbox with two declarations added,
 *
 *   channel "ops" { webhook = URL, email = { to =, from =, smtp =, cainfo = },
 *                   syslog = true or { socket = PATH } }
 *   robot "name" { script =, schedule =, tz =, timeout =, params = {}, alert = {"ops"}, ... }
 *   operator "anne" { token_file = "/etc/vagt/anne.token" }
 *
 * and the globals state, listen, token_file, max_parallel, public_url, allow,
 * retention_days, approvals. Unknown globals and unknown keys are errors, every mistake is reported as
 * "file:line: message" (the line of the `robot "x" {` or `channel "x" {` that holds it),
 * and all of them are collected, not just the first. Relative paths are relative to the
 * configuration file's folder. */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ag_cron.h"

typedef struct ag_channel {
  char *name;
  int line;
  char *webhook;   /* URL or NULL */
  char **email_to; /* NULL-terminated, or NULL */
  char *email_from, *smtp, *smtp_user, *smtp_password_file;
  char *smtp_cainfo; /* email.cainfo: CA certificates (PEM) to verify the server, or
                             * NULL: the system's */
  bool syslog;
  char *syslog_socket; /* syslog = { socket = PATH }: a unix datagram socket; NULL:
                             * /dev/log (syslog = true) */
} ag_channel;

/* allow = { programs = {...}, files = {...} }: what a robot may start and read (given to
 * `vagt run` as --allow-program / --allow-file; absolute paths, programs found in PATH). */
typedef struct ag_allow {
  bool set;
  char **programs; /* NULL-terminated, at least one when set */
  char **files;    /* NULL-terminated, may be empty */
} ag_allow;

typedef struct ag_robot {
  char *name;
  int line;
  char *script;   /* absolute */
  char *baseline; /* absolute or NULL: the script's default */
  char *schedule; /* NULL: only on demand (--once, the pages' Run now) */
  ag_cron cron;
  char *tz;       /* NULL: local time */
  double timeout; /* seconds, default 3600 */
  char **params;  /* "k=v", NULL-terminated */
  char **alert;   /* channel names, NULL-terminated */
  bool alert_drift, alert_failure;
  bool alert_review; /* a run that left work items for a person (needs_review) */
  bool catch_up;     /* default true */
  int seats;         /* fleet: runs of it at once across the fleet (licences); 0: any */
  int spread;        /* fleet: nodes that run each scheduled time (default 1) */
  bool enabled;      /* default true */
  char *screen;      /* Xvfb screen "WxHxD" or NULL */
  ag_allow allow;    /* its own allow-list, else the configuration's */
} ag_robot;

/* operator "anne" { token_file = ... }: who may use the pages, known by a token of their
 * own. token_file (global) is the single-operator shorthand: an operator named after the
 * agent's user ("operator" when it has no name). */
typedef struct ag_operator {
  char *name;
  int line;
  char *token_file; /* absolute */
} ag_operator;

#define AG_APPROVALS_MAX 8

#define AG_RETENTION_DEFAULT 30
#define AG_RETENTION_MAX 3650

typedef struct ag_config {
  char *path;       /* as given */
  char *dir;        /* absolute folder of the file */
  char *state;      /* absolute */
  char *listen;     /* "host:port" or NULL (pages off) */
  char *token_file; /* absolute or NULL */
  char *public_url; /* base URL of the pages for links in alerts, or NULL */
  int max_parallel;
  ag_allow allow;     /* for every robot without its own */
  int retention_days; /* runs, evidence, history rows older than this go (ag_prune.h) */
  ag_robot *robots;
  size_t nrobots;
  ag_channel *channels;
  size_t nchannels;
  ag_operator *operators; /* the declared ones, or the token_file shorthand's one */
  size_t noperators;
  int approvals;                /* different operators a new baseline needs (default 1) */
  char *proxy_address;          /* trusted_proxy: the reverse proxy's address (numeric), or NULL */
  char *proxy_header;           /* and the header that names its user */
  char *database;               /* fleet mode: PostgreSQL conninfo (no password), or NULL */
  char *database_password_file; /* absolute, or NULL (libpq's ~/.pgpass, PGPASSFILE) */
  char *node;                   /* this machine's name in the fleet (default: the host name) */
  int item_lease;               /* fleet: seconds a claimed work item stays a node's unrenewed */
  char *items_key_file;         /* the key work items' content keys are hashed under (absolute),
                               or NULL: STATE/items.key. A fleet's nodes need the same one. */
} ag_config;

#define AG_ITEM_LEASE_DEFAULT 60

/* Loads and validates. On failure returns NULL and prints every error to `errf`, one
 * "file:line: message" a line. The configuration runs in a child process with a deadline
 * (5 s for Lua, killed at 8 s: also a loop in a finalizer or a pattern that backtracks for
 * ever, where no Lua hook fires) and its settings are read with raw access under
 * lua_pcall; what it configured comes back as JSON on a pipe. The file must be regular. With AG_CFG_WEB the token file is checked too (the pages
 * need it; `--once` does not). */
enum {
  AG_CFG_WEB = 1,
  AG_CFG_ABORT_ON_CRASH = 2, /* the fuzz target's: abort when the loader child crashed */
};
ag_config *ag_config_load(const char *path, int flags, FILE *errf);
void ag_config_free(ag_config *c);

/* The agent's side of ag_config_load: reads the loader child's answer (JSON text: the
 * errors, or the configuration), as ag_config_load does. For the fuzz target. */
ag_config *ag_config_from_result(const char *path, const char *text, size_t len, FILE *errf);

ag_robot *ag_config_robot(ag_config *c, const char *name);
ag_channel *ag_config_channel(ag_config *c, const char *name);
ag_operator *ag_config_operator(ag_config *c, const char *name);

/* Reads the token file: a regular file owned by us, readable by nobody else, at most
 * AG_TOKEN_FILE_MAX bytes (read whole, never cut). Returns a malloc'd token (whitespace
 * trimmed) or NULL with err. */
#define AG_TOKEN_FILE_MAX 4096
char *ag_token_read(const char *path, char *err, size_t errlen);

#endif
