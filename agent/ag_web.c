/* The operator pages' server (ag_web.h): it starts libmicrohttpd with the pages' context
 * (ag_web_int.h) as the handler's closure, reads the operators' tokens, authenticates a
 * request (token, session cookie, trusted proxy), refuses a cross-site POST and routes
 * the request to its page (ag_web_pages.c) or action (ag_web_approve.c, "Run now"). */
#include "ag_web_int.h"
#include "ag_pg_store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ag_db.h"
#include "ag_util.h"
#include "runfolder.h"
#include "vu.h"

/* The pages' one context, for ag_web_stop (everything else gets it from MHD's closure). */
static ag_web *g_web;

/* ---- the sessions that protect the forms ---- */

static bool same_secret(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = (unsigned char)(la != lb);
  for (size_t i = 0; i < lb; i++)
    d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
  return d == 0;
}

/* The form token of session `sid`, or a new session (rq->new_sid) when it is unknown. */
static void session_for(ag_web *w, const char *sid, req *rq)
{
  pthread_mutex_lock(&w->sess_mu);
  size_t oldest = 0;
  for (size_t i = 0; i < NSESS; i++) {
    if (sid && w->sess[i].sid[0] && same_secret(sid, w->sess[i].sid)) {
      w->sess[i].used = vu_mono();
      snprintf(rq->form, sizeof rq->form, "%s", w->sess[i].form);
      pthread_mutex_unlock(&w->sess_mu);
      return;
    }
    if (w->sess[i].used < w->sess[oldest].used)
      oldest = i;
  }
  ag_uuid(w->sess[oldest].sid, sizeof w->sess[oldest].sid);
  ag_uuid(w->sess[oldest].form, sizeof w->sess[oldest].form);
  w->sess[oldest].used = vu_mono();
  snprintf(rq->form, sizeof rq->form, "%s", w->sess[oldest].form);
  snprintf(rq->new_sid, sizeof rq->new_sid, "%s", w->sess[oldest].sid);
  pthread_mutex_unlock(&w->sess_mu);
}

static bool form_token_ok(ag_web *w, const char *sid, const char *form)
{
  bool ok = false;
  pthread_mutex_lock(&w->sess_mu);
  for (size_t i = 0; sid && form && *form && i < NSESS && !ok; i++)
    ok =
        w->sess[i].sid[0] && same_secret(sid, w->sess[i].sid) && same_secret(form, w->sess[i].form);
  pthread_mutex_unlock(&w->sess_mu);
  return ok;
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
  (void)kind, (void)filename, (void)content_type, (void)transfer_encoding, (void)off;
  req *rq = cls;
  if (strcmp(key, "csrf") == 0) {
    if (rq->csrf_len + size >= sizeof rq->csrf)
      return MHD_NO;
    memcpy(rq->csrf + rq->csrf_len, data, size);
    rq->csrf_len += size;
    rq->csrf[rq->csrf_len] = '\0';
  }
  return MHD_YES;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  (void)cls, (void)c, (void)toe;
  req *rq = *con_cls;
  if (rq) {
    if (rq->pp)
      MHD_destroy_post_processor(rq->pp);
    free(rq->reply);
    free(rq);
  }
  *con_cls = NULL;
}

/* ---- who is asking ---- */

/* The operator whose token t is, or -1: compared with every operator's token in constant
 * time (no early end), so the time says nothing about which one nearly matched. */
static int operator_of(const ag_web *w, const char *t)
{
  int who = -1;
  if (!t)
    return -1;
  for (size_t k = 0; k < w->nops; k++) {
    const char *tok = w->ops[k].token;
    size_t a = strlen(t), b = strlen(tok);
    unsigned char d = (unsigned char)(a != b);
    for (size_t i = 0; i < b; i++)
      d |= (unsigned char)(tok[i] ^ (i < a ? t[i] : 0));
    /* branch-free select: who = k when d == 0 */
    int m = -(int)(d == 0);
    who = (who & ~m) | ((int)k & m);
  }
  return who;
}

enum { AUTH_HEADER, AUTH_QUERY, AUTH_COOKIE, AUTH_PROXY };

/* trusted_proxy: the user its header names, believed only when the connection comes from
 * the proxy's own address. True with the name in `who`. */
static bool proxy_user(const ag_web *w, struct MHD_Connection *c, char *who, size_t n)
{
  const ag_config *cfg = w->x->cfg;
  if (!cfg->proxy_address || !cfg->proxy_header)
    return false;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr)
    return false;
  const struct sockaddr *sa = ci->client_addr;
  unsigned char peer[16], want[16];
  size_t plen = 0;
  if (sa->sa_family == AF_INET) {
    memcpy(peer, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    plen = 4;
  } else if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
      memcpy(peer, (const unsigned char *)a6 + 12, 4);
      plen = 4;
    } else {
      memcpy(peer, a6, 16);
      plen = 16;
    }
  } else {
    return false;
  }
  bool same =
      plen == 4 ? inet_pton(AF_INET, cfg->proxy_address, want) == 1 && memcmp(peer, want, 4) == 0
                : inet_pton(AF_INET6, cfg->proxy_address, want) == 1 && memcmp(peer, want, 16) == 0;
  if (!same)
    return false;
  const char *u = MHD_lookup_connection_value(c, MHD_HEADER_KIND, cfg->proxy_header);
  size_t ul = u ? strlen(u) : 0;
  if (!ul || ul > 64 || ul >= n)
    return false;
  for (const char *p = u; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-_.@", *p))
      return false;
  snprintf(who, n, "%s", u);
  return true;
}

static const char *request_token(struct MHD_Connection *c, int *how)
{
  *how = AUTH_HEADER;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  if (h && strncasecmp(h, "Bearer ", 7) == 0)
    return h + 7;
  const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
  if (q) {
    *how = AUTH_QUERY;
    return q;
  }
  *how = AUTH_COOKIE;
  return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_token");
}

/* A POST must come from the pages themselves: a browser names the page a form was sent
 * from (Origin, Sec-Fetch-Site), and one that authenticated by cookie must carry the
 * session's form token. A client that sends the token itself (Authorization) needs no form
 * token: a page on another site cannot make a browser send that header. NULL when the
 * request may go on, else why not. */
static const char *post_refused(struct MHD_Connection *c, int how, const req *rq)
{
  const char *sfs = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
  if (sfs && strcmp(sfs, "same-origin") != 0)
    return "403: this form was sent from another site (Sec-Fetch-Site)\n";
  const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  if (origin) {
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *o = strncmp(origin, "http://", 7) == 0 ? origin + 7 : NULL;
    if (!host || !o || strcasecmp(o, host) != 0)
      return "403: this form was sent from another origin\n";
  }
  /* a proxy's user, like a cookie, is sent by the browser for any page that asks */
  if ((how == AUTH_COOKIE || how == AUTH_PROXY) &&
      !form_token_ok(rq->w, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_session"),
                     rq->csrf))
    return "403: the form's token is missing or stale: reload the page and try again\n";
  return NULL;
}

/* ---- routing ---- */

/* "Run now": asks the scheduler loop for a manual run of the robot. */
static enum MHD_Result do_run_now(ag_web *w, struct MHD_Connection *c, const char *name, size_t len)
{
  char n[128];
  if (len >= sizeof n)
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  memcpy(n, name, len);
  n[len] = '\0';
  ag_robot *r = ag_config_robot(w->x->cfg, n);
  if (!r)
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "no such robot\n");
  long long prun = 0;
  char by[256], msg[512];
  if (w->store->ops->paused(w->store, r->name, &prun, by, sizeof by) == 1) {
    snprintf(msg, sizeof msg,
             "409: robot %s is paused on every node since its drift halt (%s): approve that "
             "run (a new baseline), or resume it there if the halt was not the application's "
             "change; then run it\n",
             r->name, by);
    return web_send_text(c, MHD_HTTP_CONFLICT, msg);
  }
  ag_request_run(r);
  fprintf(stderr, "vagt agent: robot %s: run requested on the pages\n", r->name);
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "Location", "/");
  web_common_headers(resp);
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Sets the token's cookie and sends the browser back to the page without ?token=, so the
 * token stays out of the address bar and the history. */
static enum MHD_Result token_to_cookie(struct MHD_Connection *c, const char *url, const char *tok)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!r)
    return MHD_NO;
  char *cookie = NULL;
  if (ag_asprintf(&cookie, "vagt_token=%s; HttpOnly; SameSite=Strict; Path=/", tok) < 0) {
    MHD_destroy_response(r);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Set-Cookie", cookie);
  free(cookie);
  MHD_add_response_header(r, "Location", url);
  web_common_headers(r);
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
  MHD_destroy_response(r);
  return ret;
}

/* An authenticated request to its page or action. */
static enum MHD_Result route(struct MHD_Connection *c, const char *url, bool get, bool post,
                             int how, req *rq)
{
  ag_web *w = rq->w;
  /* Pages with forms, seen in a browser, belong to a session (see post_refused). */
  const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "vagt_session");
  if (post && strncmp(url, "/robots/", 8) == 0 && strlen(url) > 12 &&
      strcmp(url + strlen(url) - 4, "/run") == 0)
    return do_run_now(w, c, url + 8, strlen(url) - 12);
  if (get && strcmp(url, "/") == 0) {
    if (how != AUTH_HEADER)
      session_for(w, sid, rq);
    return web_page_index(c, rq);
  }
  if (get && strcmp(url, "/metrics") == 0)
    return web_page_metrics(w, c);
  if (get && strncmp(url, "/robots/", 8) == 0 && url[8] && !strchr(url + 8, '/')) {
    if (how != AUTH_HEADER)
      session_for(w, sid, rq);
    return web_page_robot(c, url + 8, rq);
  }
  long long id;
  int n = 0;
  if (sscanf(url, "/runs/%lld%n", &id, &n) == 1 && id > 0) {
    const char *rest = url + n;
    if (get && (!*rest || strcmp(rest, "/") == 0)) {
      if (how != AUTH_HEADER)
        session_for(w, sid, rq);
      return web_page_run(c, id, rq);
    }
    if (post && strcmp(rest, "/approve") == 0)
      return web_approve(c, id, rq);
    if (post && strcmp(rest, "/resume") == 0)
      return web_resume(c, id, rq);
    if (get && strcmp(rest, "/report.html") == 0)
      return web_serve_run_file(w, c, id, RT_REPORT_HTML);
    if (get && strcmp(rest, "/run.json") == 0)
      return web_serve_run_file(w, c, id, RT_RUN_JSON);
    if (get && strncmp(rest, "/evidence/", 10) == 0 && rest[10] && !strchr(rest + 10, '/'))
      return web_serve_run_file(w, c, id, rest + 1);
  }
  return web_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* MHD's access handler; cls is the pages' context. A request's first call makes its req,
 * the next ones take its form body, the last one authenticates it and routes it (or sends
 * the reply an approval's thread left). */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
  (void)version;
  ag_web *w = cls;
  req *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    rq->w = w;
    *con_cls = rq;
    if (strcmp(method, "POST") == 0)
      rq->pp = MHD_create_post_processor(c, 1024, form_field, rq); /* NULL: not a form */
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (rq->pp && MHD_post_process(rq->pp, upload_data, *upload_data_size) != MHD_YES) {
      MHD_destroy_post_processor(rq->pp);
      rq->pp = NULL;
      rq->csrf[0] = '\0';
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->reply_ready) { /* an approval's thread has finished */
    char *b = rq->reply;
    rq->reply = NULL;
    rq->reply_ready = false;
    return b ? web_send_buf(c, rq->reply_code, rq->reply_type, b, rq->reply_len) : MHD_NO;
  }
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return web_send_text(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
  bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  bool post = strcmp(method, "POST") == 0;
  if (!get && !post)
    return web_send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
  int how;
  const char *tok = request_token(c, &how);
  bool from_query = how == AUTH_QUERY;
  int op = operator_of(w, tok);
  if (op >= 0) {
    snprintf(rq->who, sizeof rq->who, "%s", w->ops[op].name);
  } else if (proxy_user(w, c, rq->who, sizeof rq->who)) {
    how = AUTH_PROXY;
    from_query = false;
  } else {
    return web_send_text(c, MHD_HTTP_UNAUTHORIZED,
                         "401: this page needs an operator's token: send \"Authorization: "
                         "Bearer TOKEN\", or open it once with ?token=TOKEN in a browser\n");
  }
  if (from_query && get)
    return token_to_cookie(c, url, tok);
  if (strstr(url, ".."))
    return web_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
  if (post) {
    const char *why = post_refused(c, how, rq);
    if (why) {
      fprintf(stderr, "vagt agent: pages: POST %s refused: %s", url, why + 5);
      return web_send_text(c, MHD_HTTP_FORBIDDEN, why);
    }
  }
  return route(c, url, get, post, how, rq);
}

#define WEB_THREADS 2
#define WEB_IDLE_SECONDS 15
#define WEB_CONN_MEMORY (16 * 1024)

/* As many connections as the descriptor limit leaves room for (raised to its hard limit,
 * up to 8192), keeping 128 for the database, logs and runs; at most 4000. */
static unsigned connection_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 64;
  rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 8192 ? 8192 : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t n = rl.rlim_cur == RLIM_INFINITY ? 8192 : rl.rlim_cur;
  n = n > 128 + 64 ? n - 128 : 64;
  return n > 4000 ? 4000 : (unsigned)n;
}

static void ops_free(ag_web *w)
{
  for (size_t i = 0; i < w->nops; i++) {
    free(w->ops[i].name);
    free(w->ops[i].token);
  }
  free(w->ops);
  w->ops = NULL;
  w->nops = 0;
}

static void web_free(ag_web *w)
{
  ops_free(w);
  if (w->store)
    w->store->ops->close(w->store);
  free(w->state_real);
  pthread_mutex_destroy(&w->pending_mu);
  pthread_mutex_destroy(&w->approve_mu);
  pthread_mutex_destroy(&w->fetch_mu);
  pthread_mutex_destroy(&w->sess_mu);
  free(w);
}

/* Every operator's token, checked as the configuration's loader did (owner-only, regular,
 * read whole), and none shared: the token is who the operator is. */
static int ops_read(ag_web *w, const ag_config *cfg, char *err, size_t errlen)
{
  if (!cfg->noperators && !cfg->proxy_address) {
    snprintf(err, errlen, "the operator pages need token_file or operator declarations");
    return -1;
  }
  if (!cfg->noperators)
    return 0;
  w->ops = calloc(cfg->noperators, sizeof *w->ops);
  if (!w->ops) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < cfg->noperators; i++) {
    char e[512];
    char *tok = ag_token_read(cfg->operators[i].token_file, e, sizeof e);
    if (!tok) {
      snprintf(err, errlen, "operator '%s': %s", cfg->operators[i].name, e);
      ops_free(w);
      return -1;
    }
    w->ops[w->nops].name = strdup(cfg->operators[i].name);
    w->ops[w->nops++].token = tok;
    for (size_t j = 0; j + 1 < w->nops; j++)
      if (strcmp(w->ops[j].token, tok) == 0) {
        snprintf(err, errlen, "operators '%s' and '%s' have the same token", w->ops[j].name,
                 cfg->operators[i].name);
        ops_free(w);
        return -1;
      }
  }
  return 0;
}

int ag_web_start(ag_ctx *x, char *err, size_t errlen)
{
  const char *l = x->cfg->listen;
  const char *colon = strrchr(l, ':');
  char host[256];
  snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
  if (host[0] == '[') { /* [::1] */
    memmove(host, host + 1, strlen(host));
    host[strcspn(host, "]")] = '\0';
  }
  int port = atoi(colon + 1);
  struct sockaddr_in a4 = {0};
  struct sockaddr_in6 a6 = {0};
  struct sockaddr *sa = NULL;
  /* epoll in a small pool of threads: an idle or slow connection costs a descriptor and a
   * little memory, not a thread, so hundreds of them (a robot on this machine sending a
   * byte at a time) do not lock the operator out. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    sa = (struct sockaddr *)&a4;
  } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    sa = (struct sockaddr *)&a6;
    flags |= MHD_USE_IPv6;
  } else {
    snprintf(err, errlen, "listen '%s': give a numeric address (127.0.0.1, ::1, 0.0.0.0)", l);
    return -1;
  }
  ag_web *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  w->x = x;
  pthread_mutex_init(&w->pending_mu, NULL);
  pthread_mutex_init(&w->approve_mu, NULL);
  pthread_mutex_init(&w->fetch_mu, NULL);
  pthread_mutex_init(&w->sess_mu, NULL);
  if (ops_read(w, x->cfg, err, errlen) != 0) {
    web_free(w);
    return -1;
  }
  w->state_real = realpath(x->cfg->state, NULL);
  w->store = ag_db_store_open(x->dbpath, err, errlen);
  if (w->store && x->cfg->database) { /* a fleet's node: every node's runs */
    ag_pg_opts o = {.conninfo = x->cfg->database,
                    .password_file = x->cfg->database_password_file,
                    .node = x->cfg->node};
    ag_store *fleet = ag_pg_store_open(&o, w->store);
    if (!fleet) {
      w->store->ops->close(w->store);
      snprintf(err, errlen, "out of memory");
    }
    w->store = fleet;
  }
  if (!w->store) {
    web_free(w);
    return -1;
  }
  unsigned limit = connection_limit();
  w->d =
      MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, w, MHD_OPTION_SOCK_ADDR, sa,
                       MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_THREAD_POOL_SIZE,
                       (unsigned)WEB_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
                       (unsigned)WEB_IDLE_SECONDS, MHD_OPTION_CONNECTION_LIMIT, limit,
                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY, MHD_OPTION_END);
  if (!w->d) {
    snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this machine)", l);
    web_free(w);
    return -1;
  }
  g_web = w;
  fprintf(stderr, "vagt agent: operator pages on http://%s/ (up to %u connections)\n", l, limit);
  return 0;
}

void ag_web_stop(void)
{
  ag_web *w = g_web;
  if (!w)
    return;
  web_approvals_stop(w);
  MHD_stop_daemon(w->d);
  g_web = NULL;
  web_free(w);
}
