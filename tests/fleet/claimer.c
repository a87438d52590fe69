/* A test node for the fleet's work-item claims (agent/ag_pg.c) against a real PostgreSQL:
 * it claims a batch's items one at a time, "works" on each (marks input sent, appends
 * "NODE KEY" to an output file with O_APPEND, completes it) and can die at a chosen point.
 * A bench mode times the claim+complete loop, beside the same loop on SQLite.
 *
 *   claimer [--db CONNINFO] [--password-file F] [--node N] COMMAND ...
 *     migrate                          connect (creating or upgrading the schema)
 *     enqueue BATCH COUNT [--max-attempts K] [--key-prefix P]   keys P1..PCOUNT
 *     counts BATCH
 *     agree NAME ROUNDS [--value V] [--start-at EPOCH_MS]
 *                                      agree on settings NAME-1..NAME-ROUNDS (the fleet's
 *                                      first value wins); prints "agreed A differed D"
 *     work BATCH --out FILE [--run R] [--lease S] [--pause-ms MS] [--start-at EPOCH_MS]
 *          [--die-at claimed|sent|worked --die-item K [--die-how kill|exit]]
 *          [--stall-ms MS]   (sleep between claiming the first item and marking it sent)
 *          [--patience S]    (how long to keep retrying while the database is unreachable)
 *          [--next]          (complete and claim the next item in one statement)
 *          [--fail-every K]  (complete every K-th item as failed, the reason quoting its key)
 *     bench BATCH [--start-at EPOCH_MS] [--lease S] [--with-sent] [--next]
 *     sqlite-init FILE BATCH COUNT
 *     sqlite-bench FILE BATCH [--start-at EPOCH_MS]
 * Exit: 0 done, 1 failure, 2 usage, 4 the database's schema is newer; a chosen death by
 * _exit is 3. */
#include "ag_pg.h"
#include "vu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *db_conninfo, *password_file, *node = "node";

static void nap_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static long long wall_ms(void)
{
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void wait_until(long long at_ms)
{
  long long now;
  while (at_ms > 0 && (now = wall_ms()) < at_ms)
    nap_ms(at_ms - now > 50 ? 50 : at_ms - now);
}

static int usage(void)
{
  fprintf(stderr, "usage: claimer [--db CONNINFO] [--password-file F] [--node N] "
                  "migrate|enqueue|counts|work|bench|sqlite-init|sqlite-bench ...\n");
  return 2;
}

static ag_pg *connect_db(int *exit_code)
{
  ag_pg_opts o = {
      .conninfo = db_conninfo, .password_file = password_file, .node = node, .connect_timeout = 5};
  char err[512];
  int code;
  ag_pg *pg = ag_pg_open(&o, &code, err, sizeof err);
  if (!pg) {
    fprintf(stderr, "claimer %s: %s\n", node, err);
    *exit_code = code == AG_PG_NEWER ? 4 : 1;
  }
  return pg;
}

typedef struct opts {
  const char *out, *run, *die_at, *die_how, *key_prefix;
  double lease, patience;
  long pause_ms, stall_ms;
  long long start_at;
  int die_item, max_attempts, fail_every;
  int with_sent, next;
} opts;

static int parse_opts(int argc, char **argv, int i, opts *o)
{
  for (; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--with-sent")) {
      o->with_sent = 1;
      continue;
    }
    if (!strcmp(a, "--next")) {
      o->next = 1;
      continue;
    }
    if (!v)
      return -1;
    if (!strcmp(a, "--out"))
      o->out = v;
    else if (!strcmp(a, "--run"))
      o->run = v;
    else if (!strcmp(a, "--lease"))
      o->lease = atof(v);
    else if (!strcmp(a, "--pause-ms"))
      o->pause_ms = atol(v);
    else if (!strcmp(a, "--stall-ms"))
      o->stall_ms = atol(v);
    else if (!strcmp(a, "--start-at"))
      o->start_at = atoll(v);
    else if (!strcmp(a, "--die-at"))
      o->die_at = v;
    else if (!strcmp(a, "--die-item"))
      o->die_item = atoi(v);
    else if (!strcmp(a, "--die-how"))
      o->die_how = v;
    else if (!strcmp(a, "--patience"))
      o->patience = atof(v);
    else if (!strcmp(a, "--max-attempts"))
      o->max_attempts = atoi(v);
    else if (!strcmp(a, "--key-prefix"))
      o->key_prefix = v;
    else if (!strcmp(a, "--fail-every"))
      o->fail_every = atoi(v);
    else
      return -1;
    i++;
  }
  return 0;
}

static void die_now(const opts *o, const char *point, const ag_pg_held *c)
{
  printf("%s dying at %s on %s\n", node, point, c->key);
  fflush(stdout);
  if (o->die_how && !strcmp(o->die_how, "exit"))
    _exit(3);
  kill(getpid(), SIGKILL);
  _exit(9);
}

/* Retries a call while it fails with AG_PG_ERR (the database unreachable) for up to
 * o->patience seconds: a node pauses instead of guessing. */
#define PATIENTLY(rc, call)                                                                        \
  do {                                                                                             \
    double t0_ = vu_mono();                                                                        \
    while (((rc) = (call)) == AG_PG_ERR && vu_mono() - t0_ < o->patience) {                        \
      fprintf(stderr, "claimer %s: %s (retrying)\n", node, ag_pg_error(pg));                       \
      nap_ms(200);                                                                                 \
    }                                                                                              \
  } while (0)

#define BAD(rc) ((rc) == AG_PG_ERR || (rc) == AG_PG_NEWER)

static int work(ag_pg *pg, const char *batch, const opts *o)
{
  int fd = open(o->out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "claimer %s: %s: %s\n", node, o->out, strerror(errno));
    return 1;
  }
  wait_until(o->start_at);
  int k = 0, done = 0, lost = 0, rc, have = 0;
  ag_pg_held c;
  for (;;) {
    if (have) /* claimed with the previous completion */
      rc = AG_PG_OK, have = 0;
    else
      PATIENTLY(rc, ag_pg_claim(pg, batch, o->run, o->lease, &c));
    if (BAD(rc))
      goto fail;
    if (rc == AG_PG_NONE) {
      ag_pg_counts n;
      PATIENTLY(rc, ag_pg_counts_get(pg, batch, &n));
      if (BAD(rc))
        goto fail;
      if (n.pending == 0 && n.claimed == 0)
        break;
      nap_ms(100); /* others hold items: one may come back when its lease runs out */
      continue;
    }
    k++;
    if (o->die_at && !strcmp(o->die_at, "claimed") && k == o->die_item)
      die_now(o, "claimed", &c);
    if (o->stall_ms && k == 1)
      nap_ms(o->stall_ms);
    PATIENTLY(rc, ag_pg_input_sent(pg, &c, "work"));
    if (BAD(rc))
      goto fail;
    if (rc == AG_PG_LOST) {
      printf("%s lost %s before input\n", node, c.key);
      lost++;
      continue;
    }
    if (o->die_at && !strcmp(o->die_at, "sent") && k == o->die_item)
      die_now(o, "sent", &c);
    /* the work: pause, renewing the lease every third of it */
    double slice = o->lease / 3 * 1000, left = (double)o->pause_ms;
    int holds = 1;
    while (left > 0 && holds) {
      double d = left < slice ? left : slice;
      nap_ms((long)d);
      left -= d;
      if (left > 0) {
        PATIENTLY(rc, ag_pg_renew(pg, &c, o->lease));
        if (BAD(rc))
          goto fail;
        holds = rc == AG_PG_OK;
      }
    }
    if (!holds) {
      printf("%s lost %s after input\n", node, c.key);
      lost++;
      continue;
    }
    char line[300];
    int len = snprintf(line, sizeof line, "%s %s\n", node, c.key);
    if (write(fd, line, (size_t)len) != len) {
      fprintf(stderr, "claimer %s: write: %s\n", node, strerror(errno));
      goto fail;
    }
    if (o->die_at && !strcmp(o->die_at, "worked") && k == o->die_item)
      die_now(o, "worked", &c);
    if (o->fail_every > 0 && k % o->fail_every == 0) {
      /* a failure whose message quotes the item's key: stored without it */
      char why[400];
      snprintf(why, sizeof why, "could not save citizen %s: field rejected", c.key);
      PATIENTLY(rc, ag_pg_complete(pg, &c, false, why));
      if (BAD(rc))
        goto fail;
      continue;
    }
    if (o->next) {
      char key[sizeof c.key];
      snprintf(key, sizeof key, "%s", c.key);
      PATIENTLY(rc, ag_pg_complete_claim(pg, &c, true, NULL, batch, o->run, o->lease));
      if (BAD(rc))
        goto fail;
      if (rc == AG_PG_LOST) {
        printf("%s lost %s at completion\n", node, key);
        lost++;
        continue;
      }
      have = rc == AG_PG_OK;
    } else {
      PATIENTLY(rc, ag_pg_complete(pg, &c, true, NULL));
      if (BAD(rc))
        goto fail;
      if (rc == AG_PG_LOST) {
        printf("%s lost %s at completion\n", node, c.key);
        lost++;
        continue;
      }
    }
    done++;
  }
  close(fd);
  printf("%s finished: done=%d lost=%d reconnects=%d\n", node, done, lost, ag_pg_reconnects(pg));
  return 0;
fail:
  fprintf(stderr, "claimer %s: %s\n", node, ag_pg_error(pg));
  close(fd);
  return rc == AG_PG_NEWER ? 4 : 1;
}

static int bench(ag_pg *pg, const char *batch, const opts *o)
{
  wait_until(o->start_at);
  long long last = 0;
  int done = 0;
  ag_pg_held c;
  int rc = ag_pg_claim(pg, batch, o->run, o->lease, &c);
  while (rc == AG_PG_OK) {
    if (o->with_sent)
      rc = ag_pg_input_sent(pg, &c, NULL);
    if (rc != AG_PG_OK)
      break;
    done++;
    if (o->next) {
      rc = ag_pg_complete_claim(pg, &c, true, NULL, batch, o->run, o->lease);
    } else {
      rc = ag_pg_complete(pg, &c, true, NULL);
      if (rc == AG_PG_OK)
        rc = ag_pg_claim(pg, batch, o->run, o->lease, &c);
    }
  }
  if (rc != AG_PG_NONE) {
    fprintf(stderr, "claimer %s: %s\n", node, ag_pg_error(pg));
    return 1;
  }
  last = wall_ms();
  printf("%s done=%d last_ms=%lld\n", node, done, last);
  return 0;
}

/* ---- the same loop on SQLite, as robot.items keeps its state (WAL, synchronous=FULL) ---- */

static sqlite3 *sq_open(const char *file)
{
  sqlite3 *db = NULL;
  if (sqlite3_open(file, &db) != SQLITE_OK) {
    fprintf(stderr, "claimer: %s: %s\n", file, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 30000);
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) !=
      SQLITE_OK) {
    fprintf(stderr, "claimer: %s: %s\n", file, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

static int sq_exec(sqlite3 *db, const char *sql)
{
  char *e = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &e) == SQLITE_OK)
    return 0;
  fprintf(stderr, "claimer: sqlite: %s\n", e ? e : "?");
  sqlite3_free(e);
  return -1;
}

static int sqlite_init(const char *file, const char *batch, int count)
{
  sqlite3 *db = sq_open(file);
  if (!db)
    return 1;
  sqlite3_stmt *st = NULL;
  int rc = 1;
  if (sq_exec(db, "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, batch TEXT NOT NULL,"
                  " key TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',"
                  " owner TEXT, attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL,"
                  " UNIQUE (batch, key));"
                  "CREATE INDEX IF NOT EXISTS items_pending ON items (batch, state, seq);"
                  "BEGIN") != 0)
    goto out;
  if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO items (batch, key, seq) VALUES (?, ?, ?)", -1,
                         &st, NULL) != SQLITE_OK)
    goto out;
  for (int i = 1; i <= count; i++) {
    char key[32];
    snprintf(key, sizeof key, "k%d", i);
    sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, i);
    if (sqlite3_step(st) != SQLITE_DONE)
      goto out;
    sqlite3_reset(st);
  }
  rc = sq_exec(db, "COMMIT") == 0 ? 0 : 1;
out:
  if (rc)
    fprintf(stderr, "claimer: sqlite-init: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}

static int sqlite_bench(const char *file, const char *batch, const opts *o)
{
  sqlite3 *db = sq_open(file);
  if (!db)
    return 1;
  sqlite3_stmt *cl = NULL, *co = NULL;
  int rc = 1, done = 0;
  if (sqlite3_prepare_v2(db,
                         "UPDATE items SET state = 'claimed', owner = ?1, attempts = attempts + 1,"
                         " lease_until = unixepoch('now') + ?2"
                         " WHERE id = (SELECT id FROM items WHERE batch = ?3 AND state = 'pending'"
                         "             ORDER BY seq LIMIT 1) RETURNING id",
                         -1, &cl, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "UPDATE items SET state = 'done' WHERE id = ?1 AND owner = ?2"
                         " AND state = 'claimed'",
                         -1, &co, NULL) != SQLITE_OK)
    goto out;
  wait_until(o->start_at);
  for (;;) {
    if (sq_exec(db, "BEGIN IMMEDIATE") != 0)
      goto out;
    sqlite3_bind_text(cl, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_double(cl, 2, o->lease);
    sqlite3_bind_text(cl, 3, batch, -1, SQLITE_STATIC);
    int s = sqlite3_step(cl);
    long long id = s == SQLITE_ROW ? sqlite3_column_int64(cl, 0) : 0;
    while (s == SQLITE_ROW)
      s = sqlite3_step(cl);
    sqlite3_reset(cl);
    if (s != SQLITE_DONE)
      goto out;
    if (sq_exec(db, "COMMIT") != 0)
      goto out;
    if (!id)
      break;
    if (sq_exec(db, "BEGIN IMMEDIATE") != 0)
      goto out;
    sqlite3_bind_int64(co, 1, id);
    sqlite3_bind_text(co, 2, node, -1, SQLITE_STATIC);
    if (sqlite3_step(co) != SQLITE_DONE || sqlite3_changes(db) != 1)
      goto out;
    sqlite3_reset(co);
    if (sq_exec(db, "COMMIT") != 0)
      goto out;
    done++;
  }
  printf("%s done=%d last_ms=%lld\n", node, done, wall_ms());
  rc = 0;
out:
  if (rc)
    fprintf(stderr, "claimer %s: sqlite-bench: %s\n", node, sqlite3_errmsg(db));
  sqlite3_finalize(cl);
  sqlite3_finalize(co);
  sqlite3_close(db);
  return rc;
}

/* Settings every node must share (the work-items key): many nodes recording the first value
 * at once must all read it back, the same one, never "differs" for lack of a row. */
static int agree(const char *name, int argc, char **argv, int i)
{
  const char *value = "same";
  long long start_at = 0;
  if (i >= argc)
    return usage();
  int rounds = atoi(argv[i++]);
  for (; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--value"))
      value = argv[i + 1];
    else if (!strcmp(argv[i], "--start-at"))
      start_at = atoll(argv[i + 1]);
    else
      return usage();
  }
  if (rounds <= 0 || i != argc)
    return usage();
  int code = 0;
  ag_pg *pg = connect_db(&code);
  if (!pg)
    return code;
  wait_until(start_at);
  int agreed = 0, differed = 0, failed = 0;
  for (int k = 1; k <= rounds; k++) {
    char key[96], holder[80];
    snprintf(key, sizeof key, "%s-%d", name, k);
    bool same = false;
    if (ag_pg_meta_agree(pg, key, value, &same, holder, sizeof holder) != AG_PG_OK) {
      fprintf(stderr, "claimer %s: %s\n", node, ag_pg_error(pg));
      failed++;
    } else if (same) {
      agreed++;
    } else {
      differed++;
      if (!holder[0])
        fprintf(stderr, "claimer %s: %s differs from a value recorded by nobody\n", node, key);
    }
  }
  printf("agreed %d differed %d\n", agreed, differed);
  ag_pg_close(pg);
  return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  db_conninfo = getenv("VAGT_PG");
  int i = 1;
  for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (!strcmp(argv[i], "--db"))
      db_conninfo = argv[i + 1];
    else if (!strcmp(argv[i], "--password-file"))
      password_file = argv[i + 1];
    else if (!strcmp(argv[i], "--node"))
      node = argv[i + 1];
    else
      return usage();
  }
  if (i >= argc)
    return usage();
  const char *cmd = argv[i++];
  opts o = {.run = "run", .lease = 30, .patience = 30, .die_how = "kill", .key_prefix = "k"};

  if (!strcmp(cmd, "sqlite-init")) {
    if (argc - i != 3)
      return usage();
    return sqlite_init(argv[i], argv[i + 1], atoi(argv[i + 2]));
  }
  if (!strcmp(cmd, "sqlite-bench")) {
    if (argc - i < 2 || parse_opts(argc, argv, i + 2, &o) != 0)
      return usage();
    return sqlite_bench(argv[i], argv[i + 1], &o);
  }
  if (!db_conninfo) {
    fprintf(stderr, "claimer: --db or VAGT_PG names the database\n");
    return 2;
  }
  int code = 0;
  if (!strcmp(cmd, "migrate")) {
    if (argc != i)
      return usage();
    ag_pg *pg = connect_db(&code);
    if (!pg)
      return code;
    printf("schema %d\n", AG_PG_SCHEMA_VERSION);
    ag_pg_close(pg);
    return 0;
  }
  if (i >= argc)
    return usage();
  const char *batch = argv[i++];
  if (!strcmp(cmd, "enqueue")) {
    if (i >= argc)
      return usage();
    int count = atoi(argv[i++]);
    if (count <= 0 || parse_opts(argc, argv, i, &o) != 0)
      return usage();
    ag_pg_item_in *items = calloc((size_t)count, sizeof *items);
    char(*keys)[64] = calloc((size_t)count, sizeof *keys);
    char(*refs)[64] = calloc((size_t)count, sizeof *refs);
    if (!items || !keys || !refs)
      return 1;
    for (int k = 0; k < count; k++) {
      snprintf(keys[k], sizeof keys[k], "%s%d", o.key_prefix, k + 1);
      snprintf(refs[k], sizeof refs[k], "row %d", k + 1);
      items[k] = (ag_pg_item_in){keys[k], k + 1, refs[k]};
    }
    ag_pg *pg = connect_db(&code);
    int rc = 1;
    if (pg) {
      size_t added = 0;
      if (ag_pg_enqueue(pg, batch, items, (size_t)count, o.max_attempts, &added) == AG_PG_OK) {
        printf("added %zu\n", added);
        rc = 0;
      } else {
        fprintf(stderr, "claimer %s: %s\n", node, ag_pg_error(pg));
      }
      ag_pg_close(pg);
    } else {
      rc = code;
    }
    free(items);
    free(keys);
    free(refs);
    return rc;
  }
  if (!strcmp(cmd, "agree"))
    return agree(batch, argc, argv, i);
  if (parse_opts(argc, argv, i, &o) != 0)
    return usage();
  ag_pg *pg = connect_db(&code);
  if (!pg)
    return code;
  int rc = 2;
  if (!strcmp(cmd, "counts")) {
    ag_pg_counts n;
    rc = 1;
    if (ag_pg_counts_get(pg, batch, &n) == AG_PG_OK) {
      printf("pending=%lld claimed=%lld done=%lld failed=%lld needs_review=%lld total=%lld\n",
             n.pending, n.claimed, n.done, n.failed, n.needs_review, n.total);
      rc = 0;
    } else {
      fprintf(stderr, "claimer %s: %s\n", node, ag_pg_error(pg));
    }
  } else if (!strcmp(cmd, "work")) {
    rc = o.out ? work(pg, batch, &o) : usage();
  } else if (!strcmp(cmd, "bench")) {
    rc = bench(pg, batch, &o);
  } else {
    rc = usage();
  }
  ag_pg_close(pg);
  return rc;
}
