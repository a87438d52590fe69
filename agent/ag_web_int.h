/* Inside the operator pages (ag_web.h): the server's context, a request, and what the
 * parts share. ag_web.c starts the server, authenticates and routes a request;
 * ag_web_reply.c writes responses and the pages' frame; ag_web_pages.c the pages read from
 * the store; ag_web_approve.c the approvals. The context reaches every handler through
 * libmicrohttpd's closure argument; nothing is global. */
#ifndef AG_WEB_INT_H
#define AG_WEB_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "ag_store.h"
#include "ag_web.h"

/* An operator and their token (read at start). */
typedef struct {
  char *name, *token;
} web_op;

/* A browser session (the cookie vagt_session) and its form token. The token is written into
 * every form; a POST that authenticated by cookie must carry it back, so another site
 * cannot submit the forms in an operator's browser (SameSite=Strict does not stop a page
 * served from another port of the same host: same site). Kept in memory: after a restart
 * the next page view starts a new session. */
#define NSESS 64
typedef struct {
  char sid[40], form[40];
  double used;
} web_session;

typedef struct ag_web {
  struct MHD_Daemon *d;
  ag_ctx *x;
  ag_store *store; /* one connection, shared by the pool's threads and the approvals */
  web_op *ops;
  size_t nops;
  char *state_real; /* realpath of the state folder */
  pthread_mutex_t pending_mu;
  int pending;                    /* approvals running in their threads */
  volatile sig_atomic_t stopping; /* ag_web_stop: end them now */
  pthread_mutex_t approve_mu;     /* one `vagt approve` at a time */
  pthread_mutex_t fetch_mu;       /* one copy of another node's run at a time */
  web_session sess[NSESS];
  pthread_mutex_t sess_mu;
} ag_web;

/* One request: what its body's form said (the form token), and the session its pages
 * carry. Lives from MHD's first call for the request to its completion notice. */
typedef struct {
  ag_web *w;
  struct MHD_PostProcessor *pp;
  char csrf[80];
  size_t csrf_len;
  char form[40];    /* the session's form token for the forms of this page */
  char new_sid[40]; /* a session made for this request: set its cookie */
  char who[72];     /* the operator whose token the request carries */
  /* Approve runs in a thread of its own while MHD holds the connection suspended; the
   * thread leaves the reply here and resumes it. */
  struct MHD_Connection *conn;
  long long approve_id;
  bool reply_ready;
  unsigned reply_code;
  const char *reply_type;
  char *reply;
  size_t reply_len;
} req;

/* ---- ag_web_reply.c ---- */
void web_common_headers(struct MHD_Response *r);
/* Sends buf (malloc'd; freed whatever happens). */
enum MHD_Result web_send_buf(struct MHD_Connection *c, unsigned code, const char *type, char *buf,
                             size_t len);
/* An HTML page with forms: sends the cookie of a session made for it. */
enum MHD_Result web_send_page(struct MHD_Connection *c, const req *rq, unsigned code, char *buf,
                              size_t len);
enum MHD_Result web_send_text(struct MHD_Connection *c, unsigned code, const char *text);
/* A page's head into a memory stream over *buf; NULL when out of memory. */
FILE *web_page(char **buf, size_t *len, const char *title);
/* "signed in as anne" at the top of a page. */
void web_signed_in(FILE *f, const req *rq);
/* The hidden field every form carries. */
void web_form_token_field(FILE *f, const req *rq);
/* A time for the pages; "-" for 0. */
void web_fmt_time(double t, char *buf, size_t n);

/* ---- ag_web_pages.c ---- */
enum MHD_Result web_page_index(struct MHD_Connection *c, const req *rq);
enum MHD_Result web_page_robot(struct MHD_Connection *c, const char *name, const req *rq);
enum MHD_Result web_page_run(struct MHD_Connection *c, long long id, const req *rq);
/* Makes r->run_dir a folder on this machine: the run's own when this node ran it, else (a
 * fleet's node) a copy of the fleet's files in STATE/fleet/runs/ID, fetched once. false
 * (run_dir "") when there is none (a run still running elsewhere, the database down). */
bool web_run_here(ag_web *w, ag_run_row *r);
/* A file of a run's folder: report.html, run.json or evidence/NAME. Never outside the
 * state folder. */
enum MHD_Result web_serve_run_file(ag_web *w, struct MHD_Connection *c, long long id,
                                   const char *rel);
enum MHD_Result web_page_metrics(ag_web *w, struct MHD_Connection *c);
/* The approvals (audit trail) of run `id`, or of a robot when robot != NULL. */
void web_approvals_table(ag_web *w, FILE *f, long long id, const char *robot);

/* ---- ag_web_approve.c ---- */
/* POST /runs/ID/approve: suspends the connection while a thread records the approval and,
 * with enough of them, runs `vagt approve`. */
enum MHD_Result web_approve(struct MHD_Connection *c, long long id, req *rq);
/* A fleet's drift halt dismissed: the robot's pause ends, the baseline as it is. */
enum MHD_Result web_resume(struct MHD_Connection *c, long long id, req *rq);
/* Waits (up to 30 s) for the approvals' threads, which end their `vagt approve` now. */
void web_approvals_stop(ag_web *w);
void web_free_names(char **v, size_t n);

#endif
