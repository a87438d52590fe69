/* Fleet mode's work items for one run: the agent's side of robot.items (ag_broker.h). */
#include "ag_broker.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_fleet.h"
#include "ag_pg.h"
#include "vu.h"

#define LINE_MAX_BYTES (64u << 20) /* an "open" of a large batch: keys of ~100 bytes */
#define META_ITEMS_KEY "items_key_check"

struct ag_broker_state {
  const ag_config *cfg;
  char run[32];
  ag_pg *pg;
  bool newer; /* the database's schema is newer: nothing more */
  bool holding;
  ag_pg_held held;
  char batch[256]; /* the held item's batch */
  double renew_at; /* monotonic */
  bool lost;       /* the held item's lease ran out or was taken over */
  bool key_agreed;
};

struct ag_broker {
  ag_broker_state *s;
  int fd;
  pthread_t th;
};

ag_broker_state *ag_broker_state_new(const ag_config *cfg, long long run)
{
  ag_broker_state *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->cfg = cfg;
  snprintf(s->run, sizeof s->run, "%lld", run);
  return s;
}

void ag_broker_state_free(ag_broker_state *s)
{
  if (!s)
    return;
  ag_pg_close(s->pg);
  free(s);
}

/* ---- replies ---- */

static cJSON *reply_ok(void)
{
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "ok", true);
  return r;
}

static cJSON *refuse(const char *flag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cJSON *refuse(const char *flag, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "ok", false);
  if (flag)
    cJSON_AddBoolToObject(r, flag, true);
  cJSON_AddStringToObject(r, "error", msg);
  return r;
}

/* The database connection, opened on first use. */
static ag_pg *db(ag_broker_state *s, cJSON **why)
{
  if (s->newer) {
    *why = refuse(NULL, "the fleet database's schema is newer than this agent's");
    return NULL;
  }
  if (s->pg)
    return s->pg;
  if (!s->cfg->database) {
    *why = refuse("wait", "no fleet database is configured");
    return NULL;
  }
  char err[512];
  int code = 0;
  s->pg = ag_fleet_connect(s->cfg, &code, err, sizeof err);
  if (!s->pg) {
    if (code == AG_PG_NEWER) {
      s->newer = true;
      *why = refuse(NULL, "fleet database: %s", err);
    } else {
      *why = refuse("wait", "fleet database: %s", err);
    }
  }
  return s->pg;
}

/* A failed operation's reply. */
static cJSON *db_failed(ag_broker_state *s, int rc)
{
  if (rc == AG_PG_NEWER) {
    s->newer = true;
    return refuse(NULL, "fleet database: %s", ag_pg_error(s->pg));
  }
  if (rc == AG_PG_LOST) {
    s->lost = true;
    return refuse("lost", "fleet database: %s", ag_pg_error(s->pg));
  }
  return refuse("wait", "fleet database: %s", ag_pg_error(s->pg));
}

static const char *str_of(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool name_ok(const char *b)
{
  return b && *b && strlen(b) < sizeof((ag_broker_state *)0)->batch;
}

/* ---- operations ---- */

static cJSON *op_open(ag_broker_state *s, const cJSON *q)
{
  const char *batch = str_of(q, "batch"), *check = str_of(q, "check");
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(q, "items");
  if (!name_ok(batch) || !check || !*check || strlen(check) > 128 || !cJSON_IsArray(items))
    return refuse(NULL, "open: needs batch, check and items");
  int n = cJSON_GetArraySize(items);
  ag_pg_item_in *in = calloc((size_t)n + 1, sizeof *in);
  char(*payload)[32] = calloc((size_t)n + 1, sizeof *payload);
  if (!in || !payload) {
    free(in);
    free(payload);
    return refuse(NULL, "open: out of memory");
  }
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, items)
  {
    const cJSON *seq = cJSON_GetArrayItem(it, 0), *key = cJSON_GetArrayItem(it, 1);
    if (!cJSON_IsArray(it) || !cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
        seq->valuedouble > 1e9 || !cJSON_IsString(key) || !key->valuestring[0]) {
      free(in);
      free(payload);
      return refuse(NULL, "open: item %d is not [row, key]", i + 1);
    }
    in[i].seq = (int)seq->valuedouble;
    in[i].key = key->valuestring;
    snprintf(payload[i], sizeof payload[i], "row %d", in[i].seq);
    in[i].payload = payload[i];
    i++;
  }
  cJSON *why = NULL;
  ag_pg *pg = db(s, &why);
  int rc = AG_PG_OK;
  if (pg && !s->key_agreed) {
    bool same = false;
    char holder[80];
    rc = ag_pg_meta_agree(pg, META_ITEMS_KEY, check, &same, holder, sizeof holder);
    if (rc == AG_PG_OK && !same)
      why = refuse(NULL,
                   "this node's work-items key differs from the fleet's (first recorded "
                   "by node %s): content keys would differ, and items be done twice. "
                   "Give every node the same items_key_file",
                   holder);
    s->key_agreed = rc == AG_PG_OK && same;
  }
  size_t added = 0;
  long long retried = 0;
  if (pg && !why && rc == AG_PG_OK)
    rc = ag_pg_enqueue(pg, batch, in, (size_t)i, 0, &added);
  if (pg && !why && rc == AG_PG_OK && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "retry")))
    rc = ag_pg_retry_failed(pg, batch, s->run, &retried);
  free(in);
  free(payload);
  if (why)
    return why;
  if (rc != AG_PG_OK)
    return db_failed(s, rc);
  cJSON *r = reply_ok();
  cJSON_AddNumberToObject(r, "added", (double)added);
  cJSON_AddNumberToObject(r, "retried", (double)retried);
  return r;
}

static cJSON *op_claim(ag_broker_state *s, const cJSON *q)
{
  const char *batch = str_of(q, "batch");
  if (!name_ok(batch))
    return refuse(NULL, "claim: needs a batch");
  if (s->holding)
    return refuse(NULL, "claim: this run holds an item already (one at a time)");
  cJSON *why = NULL;
  ag_pg *pg = db(s, &why);
  if (!pg)
    return why;
  int rc = ag_pg_claim(pg, batch, s->run, s->cfg->item_lease, &s->held);
  if (rc == AG_PG_NONE) {
    /* Nothing pending, but other runs may still hold items: one whose node dies comes back
     * when its lease runs out, so the batch is not over until they are settled. */
    ag_pg_counts n;
    rc = ag_pg_counts_get(pg, batch, &n);
    if (rc != AG_PG_OK)
      return db_failed(s, rc);
    cJSON *r = reply_ok();
    cJSON_AddBoolToObject(r, n.claimed > 0 ? "later" : "none", true);
    if (n.claimed > 0)
      cJSON_AddNumberToObject(r, "held", (double)n.claimed);
    return r;
  }
  if (rc != AG_PG_OK)
    return db_failed(s, rc);
  s->holding = true;
  s->lost = false;
  snprintf(s->batch, sizeof s->batch, "%s", batch);
  s->renew_at = vu_mono() + s->cfg->item_lease / 3.0;
  cJSON *r = reply_ok();
  cJSON_AddNumberToObject(r, "seq", s->held.seq);
  cJSON_AddStringToObject(r, "key", s->held.key);
  cJSON_AddNumberToObject(r, "attempt", s->held.attempt);
  return r;
}

/* Tries op on the held item until it answers or the lease must have run out. */
typedef int (*held_op)(ag_broker_state *s, const cJSON *q, bool *review);

static int do_sent(ag_broker_state *s, const cJSON *q, bool *review)
{
  (void)review;
  const char *step = str_of(q, "step");
  char st[200];
  snprintf(st, sizeof st, "%s", step ? step : "");
  return ag_pg_input_sent(s->pg, &s->held, st[0] ? st : NULL);
}

static int do_end(ag_broker_state *s, const cJSON *q, bool *review)
{
  const char *state = str_of(q, "state"), *reason = str_of(q, "reason");
  if (state && !strcmp(state, "pending"))
    return ag_pg_release(s->pg, &s->held, reason, review);
  return ag_pg_complete(s->pg, &s->held, state && !strcmp(state, "done"), reason);
}

static cJSON *on_held(ag_broker_state *s, const cJSON *q, const char *op, held_op fn, bool ends)
{
  if (!s->holding)
    return refuse(NULL, "%s: this run holds no item", op);
  if (s->lost)
    return refuse("lost", "%s: the item's lease ran out or it was taken over", op);
  cJSON *why = NULL;
  double until = vu_mono() + s->cfg->item_lease * 0.8;
  bool review = false;
  int rc = AG_PG_ERR;
  for (;;) {
    if (db(s, &why)) {
      rc = fn(s, q, &review);
      if (rc != AG_PG_ERR)
        break;
    }
    if (s->newer || vu_mono() > until)
      break;
    cJSON_Delete(why);
    why = NULL;
    usleep(500 * 1000);
  }
  if (rc == AG_PG_OK) {
    cJSON_Delete(why);
    if (ends)
      s->holding = false;
    cJSON *r = reply_ok();
    if (review)
      cJSON_AddBoolToObject(r, "review", true);
    return r;
  }
  if (ends || rc == AG_PG_LOST)
    s->holding = rc != AG_PG_LOST; /* a lost item is no longer held */
  if (why && rc == AG_PG_ERR)
    return why;
  cJSON_Delete(why);
  return db_failed(s, rc);
}

typedef struct {
  cJSON *list;
  const char *node, *run;
} review_arg;

static void add_review(void *ud, int seq, const char *state, const char *node, const char *run)
{
  review_arg *a = ud;
  if (!strcmp(node, a->node) && !strcmp(run, a->run))
    return; /* this run's own: it counted them when it ended them */
  cJSON *it = cJSON_CreateArray();
  cJSON_AddItemToArray(it, cJSON_CreateNumber(seq));
  cJSON_AddItemToArray(it, cJSON_CreateString(state));
  cJSON_AddItemToArray(it, cJSON_CreateString(node));
  cJSON_AddItemToArray(it, cJSON_CreateString(run));
  cJSON_AddItemToArray(a->list, it);
}

static cJSON *op_review(ag_broker_state *s, const cJSON *q)
{
  const char *batch = str_of(q, "batch");
  if (!name_ok(batch))
    return refuse(NULL, "review: needs a batch");
  cJSON *why = NULL;
  ag_pg *pg = db(s, &why);
  if (!pg)
    return why;
  review_arg a = {cJSON_CreateArray(), s->cfg->node, s->run};
  int rc = ag_pg_need_person(pg, batch, add_review, &a);
  if (rc != AG_PG_OK) {
    cJSON_Delete(a.list);
    return db_failed(s, rc);
  }
  cJSON *r = reply_ok();
  cJSON_AddItemToObject(r, "items", a.list);
  return r;
}

cJSON *ag_broker_handle(ag_broker_state *s, const char *line)
{
  cJSON *q = cJSON_Parse(line);
  const char *op = q ? str_of(q, "op") : NULL;
  cJSON *r;
  if (!op)
    r = refuse(NULL, "not a request (a JSON object with \"op\")");
  else if (!strcmp(op, "open"))
    r = op_open(s, q);
  else if (!strcmp(op, "claim"))
    r = op_claim(s, q);
  else if (!strcmp(op, "sent"))
    r = on_held(s, q, "sent", do_sent, false);
  else if (!strcmp(op, "end"))
    r = on_held(s, q, "end", do_end, true);
  else if (!strcmp(op, "review"))
    r = op_review(s, q);
  else
    r = refuse(NULL, "unknown request '%.40s'", op);
  cJSON_Delete(q);
  return r;
}

/* Renews the held item's lease when due. */
static void renew(ag_broker_state *s)
{
  if (!s->holding || s->lost || vu_mono() < s->renew_at || !s->pg)
    return;
  int rc = ag_pg_renew(s->pg, &s->held, s->cfg->item_lease);
  if (rc == AG_PG_LOST)
    s->lost = true;
  /* an error: try again soon, the lease has two thirds left */
  s->renew_at = vu_mono() + (rc == AG_PG_OK ? s->cfg->item_lease / 3.0 : 1.0);
}

/* ---- the thread ---- */

static bool answer(ag_broker *b, char *line)
{
  cJSON *r = ag_broker_handle(b->s, line);
  char *txt = r ? cJSON_PrintUnformatted(r) : NULL;
  cJSON_Delete(r);
  bool ok = txt && vu_send_all(b->fd, txt, strlen(txt)) && vu_send_all(b->fd, "\n", 1);
  free(txt);
  return ok;
}

static void *serve(void *arg)
{
  ag_broker *b = arg;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    int wait = -1;
    if (b->s->holding && !b->s->lost) {
      double left = b->s->renew_at - vu_mono();
      wait = left <= 0 ? 0 : (int)(left * 1000) + 1;
    }
    struct pollfd p = {b->fd, POLLIN, 0};
    int n = poll(&p, 1, wait);
    if (n < 0 && errno != EINTR)
      break;
    renew(b->s);
    if (n <= 0)
      continue;
    if (len + 4096 + 1 > cap) {
      if (cap >= LINE_MAX_BYTES)
        break; /* a line this long is no request: end the conversation */
      char *nb = realloc(buf, cap * 2);
      if (!nb)
        break;
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(b->fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break; /* the run ended */
    len += (size_t)r;
    char *start = buf, *nl;
    bool ok = true;
    while (ok && (nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
      *nl = '\0';
      ok = answer(b, start);
      start = nl + 1;
    }
    if (!ok)
      break;
    len -= (size_t)(start - buf);
    memmove(buf, start, len);
  }
  free(buf);
  return NULL;
}

ag_broker *ag_broker_start(const ag_config *cfg, int fd, long long run, char *err, size_t errlen)
{
  ag_broker *b = calloc(1, sizeof *b);
  if (b && !(b->s = ag_broker_state_new(cfg, run))) {
    free(b);
    b = NULL;
  }
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  b->fd = fd;
  int rc = pthread_create(&b->th, NULL, serve, b);
  if (rc != 0) {
    snprintf(err, errlen, "cannot start the work-items thread: %s", strerror(rc));
    ag_broker_state_free(b->s);
    free(b);
    return NULL;
  }
  return b;
}

void ag_broker_finish(ag_broker *b)
{
  if (!b)
    return;
  pthread_join(b->th, NULL);
  close(b->fd);
  ag_broker_state_free(b->s);
  free(b);
}
