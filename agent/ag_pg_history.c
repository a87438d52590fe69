/* The fleet's run history and evidence in PostgreSQL: see ag_pg.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_pg.h"
#include "ag_pg_int.h"
#include "vu.h"

static void num(char *buf, size_t n, double v, bool set)
{
  if (set)
    snprintf(buf, n, "%.6f", v);
  else
    buf[0] = 0;
}

int ag_pg_run_put(ag_pg *pg, const ag_pg_run *r, long long *id)
{
  int rc0 = agpg_begin_op(pg, "history");
  if (rc0 != AG_PG_OK)
    return rc0;
  char local[24], code[16], started[40], finished[40], steps[16];
  snprintf(local, sizeof local, "%lld", r->local_id);
  snprintf(code, sizeof code, "%d", r->exit_code);
  snprintf(steps, sizeof steps, "%d", r->steps);
  num(started, sizeof started, r->started, true);
  num(finished, sizeof finished, r->finished, r->ended);
  const char *p[] = {pg->node,
                     local,
                     r->robot,
                     r->trigger ? r->trigger : "",
                     r->status,
                     r->ended ? code : NULL,
                     started,
                     r->ended ? finished : NULL,
                     steps,
                     r->error ? r->error : "",
                     r->run_dir ? r->run_dir : "",
                     r->alert_id};
  /* an ended run's row is never set back to running (a late first write after the end) */
  PGresult *res = agpg_exec1(
      pg, "history",
      /* the update first: an INSERT ... ON CONFLICT would use up a number of the id
       * sequence at every write, and the pages' run numbers would skip */
      "WITH up AS (UPDATE vagt_run SET"
      "  status = CASE WHEN $6::integer IS NULL AND exit_code IS NOT NULL"
      "   THEN status ELSE $5::text END,"
      "  exit_code = coalesce($6::integer, exit_code),"
      "  finished = coalesce($8::float8, finished),"
      "  steps = greatest($9::integer, steps),"
      "  error = CASE WHEN $10::text <> '' THEN $10::text ELSE error END,"
      "  run_dir = CASE WHEN $11::text <> '' THEN $11::text ELSE run_dir END,"
      "  alert_id = coalesce($12::text, alert_id)"
      "  WHERE node = $1::text AND local_id = $2::bigint RETURNING id),"
      " ins AS (INSERT INTO vagt_run (node, local_id, robot, trigger, status, exit_code, started,"
      "  finished, steps, error, run_dir, alert_id)"
      "  SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::integer, $7::float8,"
      "   $8::float8, $9::integer,"
      "   $10::text, $11::text, $12::text WHERE NOT EXISTS (SELECT 1 FROM up)"
      "  ON CONFLICT (node, local_id) DO UPDATE SET"
      "  status = CASE WHEN EXCLUDED.exit_code IS NULL AND vagt_run.exit_code IS NOT NULL"
      "   THEN vagt_run.status ELSE EXCLUDED.status END,"
      "  exit_code = coalesce(EXCLUDED.exit_code, vagt_run.exit_code),"
      "  finished = coalesce(EXCLUDED.finished, vagt_run.finished),"
      "  steps = greatest(EXCLUDED.steps, vagt_run.steps),"
      "  error = CASE WHEN EXCLUDED.error <> '' THEN EXCLUDED.error ELSE vagt_run.error END,"
      "  run_dir = CASE WHEN EXCLUDED.run_dir <> '' THEN EXCLUDED.run_dir ELSE vagt_run.run_dir"
      "   END,"
      "  alert_id = coalesce(EXCLUDED.alert_id, vagt_run.alert_id)"
      "  RETURNING id)"
      " SELECT id FROM up UNION ALL SELECT id FROM ins",
      12, p);
  if (!res)
    return agpg_failed(pg);
  *id = atoll(PQgetvalue(res, 0, 0));
  PQclear(res);
  return AG_PG_OK;
}

typedef struct {
  long long id;
  const ag_pg_file *files;
  size_t n;
} files_arg;

static int files_tx(ag_pg *pg, const char *op, void *arg, char st[6])
{
  files_arg *a = arg;
  char id[24];
  snprintf(id, sizeof id, "%lld", a->id);
  const char *p[] = {id};
  PGresult *r = agpg_raw(pg, op, "DELETE FROM vagt_run_file WHERE run = $1::bigint", 1, p, st);
  if (!r)
    return TX_FAIL;
  PQclear(r);
  for (size_t i = 0; i < a->n; i++) {
    char *esc = agpg_bytea_param(pg, a->files[i].data, a->files[i].len);
    if (!esc) {
      agpg_seterr(pg, op, "out of memory");
      return AG_PG_ERR;
    }
    const char *q[] = {id, a->files[i].name, esc};
    r = agpg_raw(pg, op,
                 "INSERT INTO vagt_run_file (run, name, content)"
                 " VALUES ($1::bigint, $2, $3::bytea)",
                 3, q, st);
    PQfreemem(esc);
    if (!r)
      return TX_FAIL;
    PQclear(r);
  }
  return TX_OK;
}

int ag_pg_run_files_put(ag_pg *pg, long long id, const ag_pg_file *files, size_t n)
{
  int rc0 = agpg_begin_op(pg, "evidence");
  if (rc0 != AG_PG_OK)
    return rc0;
  files_arg a = {id, files, n};
  int rc = agpg_in_tx(pg, "evidence", files_tx, &a);
  return rc == AG_PG_OK ? AG_PG_OK : agpg_failed(pg);
}

static int files_each(ag_pg *pg, long long id, ag_pg_file_fn fn, void *ud)
{
  int rc0 = agpg_begin_op(pg, "evidence");
  if (rc0 != AG_PG_OK)
    return rc0;
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", id);
  const char *p[] = {sid};
  PGresult *r = agpg_exec1(
      pg, "evidence",
      "SELECT name, content FROM vagt_run_file WHERE run = $1::bigint ORDER BY name", 1, p);
  if (!r)
    return agpg_failed(pg);
  char what[40];
  snprintf(what, sizeof what, "run %lld", id);
  int rc = agpg_files_each(pg, "evidence", r, what, fn, ud);
  PQclear(r);
  return rc;
}

typedef struct {
  const char *dir;
  char *err;
  size_t errlen;
  bool failed; /* writing failed (err says why), not the database */
} to_ctx;

static int write_one(void *ud, const char *name, const unsigned char *data, size_t len)
{
  to_ctx *c = ud;
  c->failed = true;
  /* run.json and the like, or evidence/NAME: never a path out of the folder */
  const char *base = !strncmp(name, "evidence/", 9) ? name + 9 : name;
  if (!base[0] || base[0] == '.' || strchr(base, '/')) {
    snprintf(c->err, c->errlen, "a stored file name is not a plain name");
    return -1;
  }
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", c->dir, name) >= sizeof path) {
    snprintf(c->err, c->errlen, "a stored file's path is too long");
    return -1;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && vu_write_all(fd, (const char *)data, len);
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  if (!ok) {
    snprintf(c->err, c->errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  c->failed = false;
  return 0;
}

int ag_pg_run_files_to(ag_pg *pg, long long id, const char *dir, char *err, size_t errlen)
{
  char ev[4096];
  snprintf(ev, sizeof ev, "%s/evidence", dir);
  if (vu_mkdir_p(ev, err, errlen) != 0)
    return AG_PG_ERR;
  to_ctx c = {dir, err, errlen, false};
  int rc = files_each(pg, id, write_one, &c);
  if (rc != AG_PG_OK && !c.failed)
    snprintf(err, errlen, "%s", ag_pg_error(pg));
  return rc;
}

typedef struct {
  const char *before;
  ag_pg_pruned *out;
} prune_arg;

static int prune_tx(ag_pg *pg, const char *op, void *arg, char st[6])
{
  prune_arg *a = arg;
  static const char *const sql[] = {
      "DELETE FROM vagt_run r WHERE r.node = $1 AND r.finished IS NOT NULL"
      " AND r.finished < $2::float8"
      " AND NOT EXISTS (SELECT 1 FROM vagt_pause p WHERE p.robot = r.robot AND p.node = r.node"
      "  AND p.run = r.local_id::text)"
      " AND NOT EXISTS (SELECT 1 FROM vagt_outbox o WHERE o.alert_id = r.alert_id"
      "  AND o.delivered_at IS NULL)",
      "DELETE FROM vagt_outbox WHERE delivered_at IS NOT NULL"
      " AND created_at < to_timestamp($2::float8) AND $1::text IS NOT NULL",
      "DELETE FROM vagt_items i WHERE i.state IN ('done', 'failed')"
      " AND i.updated_at < to_timestamp($2::float8) AND $1::text IS NOT NULL"
      " AND NOT EXISTS (SELECT 1 FROM vagt_items o WHERE o.batch = i.batch"
      "  AND o.state IN ('pending', 'claimed'))",
      "DELETE FROM vagt_schedule s WHERE s.scheduled < $2::float8 AND $1::text IS NOT NULL"
      " AND s.scheduled < (SELECT max(scheduled) FROM vagt_schedule l WHERE l.robot = s.robot)",
  };
  long long *counts[] = {&a->out->runs, &a->out->outbox, &a->out->items, &a->out->schedule};
  const char *p[] = {pg->node, a->before};
  for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
    PGresult *r = agpg_raw(pg, op, sql[i], 2, p, st);
    if (!r)
      return TX_FAIL;
    *counts[i] = atoll(PQcmdTuples(r));
    PQclear(r);
  }
  return TX_OK;
}

int ag_pg_prune(ag_pg *pg, double before, ag_pg_pruned *out)
{
  int rc0 = agpg_begin_op(pg, "retention");
  if (rc0 != AG_PG_OK)
    return rc0;
  char b[40];
  snprintf(b, sizeof b, "%.6f", before);
  ag_pg_pruned dummy;
  prune_arg a = {b, out ? out : &dummy};
  memset(a.out, 0, sizeof *a.out);
  int rc = agpg_in_tx(pg, "retention", prune_tx, &a);
  return rc == AG_PG_OK ? AG_PG_OK : agpg_failed(pg);
}

/* ---- the robots' scripts ---- */

int ag_pg_script_current(ag_pg *pg, const char *robot, int *version, char *digest, size_t dlen,
                         char *node, size_t nlen)
{
  return agpg_current(pg, "script",
                      "SELECT version, digest, node FROM vagt_script WHERE robot = $1"
                      " ORDER BY version DESC LIMIT 1",
                      robot, version, digest, dlen, node, nlen);
}

int ag_pg_script_put(ag_pg *pg, const char *robot, int prev, const char *digest, int *version)
{
  int rc0 = agpg_begin_op(pg, "script");
  if (rc0 != AG_PG_OK)
    return rc0;
  char sprev[16], snext[16];
  snprintf(sprev, sizeof sprev, "%d", prev);
  snprintf(snext, sizeof snext, "%d", prev + 1);
  const char *p[] = {robot, sprev, snext, digest, pg->node};
  /* only while prev is still the highest version: the primary key refuses a second
   * publisher of prev + 1, and the NOT EXISTS one that is behind */
  PGresult *r = agpg_exec1(pg, "script",
                           "INSERT INTO vagt_script (robot, version, digest, node)"
                           " SELECT $1, $3::integer, $4, $5"
                           " WHERE coalesce((SELECT max(version) FROM vagt_script"
                           "  WHERE robot = $1), 0) = $2::integer"
                           " ON CONFLICT (robot, version) DO NOTHING",
                           5, p);
  if (!r)
    return agpg_failed(pg);
  int added = atoi(PQcmdTuples(r));
  PQclear(r);
  if (!added)
    return AG_PG_LOST;
  *version = prev + 1;
  return AG_PG_OK;
}
