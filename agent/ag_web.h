/* The operator pages (libmicrohttpd: epoll in a pool of two threads, connections up to the
 * descriptor limit (at most 4000), 16 KiB and a 15 s idle timeout each; Approve in a thread
 * of its own while its connection is suspended; one database connection):
 *   /                 robots (schedule, next run, last status) and the latest runs
 *   /runs/ID          a run: status, error, links; its report.html and evidence images
 *                     at /runs/ID/report.html and /runs/ID/evidence/NAME.png
 *   POST /runs/ID/approve   runs `vagt approve RUN_DIR` for a drift-halted run
 *   POST /robots/NAME/run   asks the scheduler for a run now ("manual")
 *   /metrics          Prometheus text format
 *   /robots/NAME      a robot: its runs and the approvals of its baselines (audit trail)
 * Every request needs an operator's token (each operator has their own; the pages name
 * who is signed in and record who approved): "Authorization: Bearer TOKEN", or "?token=TOKEN" once
 * (which sets an HttpOnly, SameSite=Strict cookie) for a browser. A POST is refused (403)
 * when Origin or Sec-Fetch-Site say another origin sent it, and, when it authenticated by
 * cookie, unless its form carries the session's form token (csrf, written into every form
 * of the pages; the session is the HttpOnly cookie vagt_session). Files are served only
 * from inside the state folder: the path is canonicalised with realpath and its prefix
 * checked, and ".." is refused outright. */
#ifndef AG_WEB_H
#define AG_WEB_H

#include "ag_run.h"

/* Starts listening on cfg->listen. Returns 0, or -1 with err. */
/* Implemented by the scheduler (agent.c): queue a manual run of r. Thread-safe. */
void ag_request_run(ag_robot *r);

/* Reads every operator's token (x->cfg->operators); a request's token names its operator. */
int ag_web_start(ag_ctx *x, char *err, size_t errlen);
void ag_web_stop(void);

#endif
