/* The operator pages' responses: the headers every reply carries, the page frame. */
#include "ag_web_int.h"

#include <stdlib.h>
#include <string.h>

#include "runfolder.h"
#include "vu.h"

void web_common_headers(struct MHD_Response *r)
{
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

/* A response over buf (malloc'd: freed with the response, or now when none can be made),
 * with its type and the headers every reply carries. */
static struct MHD_Response *buffer_response(char *buf, size_t len, const char *type)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(buf);
    return NULL;
  }
  MHD_add_response_header(r, "Content-Type", type);
  web_common_headers(r);
  return r;
}

enum MHD_Result web_send_buf(struct MHD_Connection *c, unsigned code, const char *type, char *buf,
                             size_t len)
{
  struct MHD_Response *r = buffer_response(buf, len, type);
  if (!r)
    return MHD_NO;
  if (code == MHD_HTTP_UNAUTHORIZED)
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"vagt\"");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

enum MHD_Result web_send_page(struct MHD_Connection *c, const req *rq, unsigned code, char *buf,
                              size_t len)
{
  struct MHD_Response *r = buffer_response(buf, len, "text/html; charset=utf-8");
  if (!r)
    return MHD_NO;
  if (rq->new_sid[0]) {
    char cookie[128];
    snprintf(cookie, sizeof cookie, "vagt_session=%s; HttpOnly; SameSite=Strict; Path=/",
             rq->new_sid);
    MHD_add_response_header(r, "Set-Cookie", cookie);
  }
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

enum MHD_Result web_send_text(struct MHD_Connection *c, unsigned code, const char *text)
{
  char *b = strdup(text);
  return b ? web_send_buf(c, code, "text/plain; charset=utf-8", b, strlen(b)) : MHD_NO;
}

FILE *web_page(char **buf, size_t *len, const char *title)
{
  FILE *f = open_memstream(buf, len);
  if (!f)
    return NULL;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
  rt_html_esc(f, title);
  fputs("</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:"
        "collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;"
        "text-align:left}.passed{color:#060}.needs_review{color:#a60;font-weight:bold}.failed,."
        "drift,.error,.timeout,.interrupted"
        "{color:#a00;font-weight:bold}.running{color:#05a}pre{background:#f4f4f4;padding:.5em;"
        "white-space:pre-wrap}img{max-width:32%;border:1px solid #888;margin-right:1%}"
        "</style></head><body>\n",
        f);
  return f;
}

void web_signed_in(FILE *f, const req *rq)
{
  fputs("<p class=\"who\">signed in as <b>", f);
  rt_html_esc(f, rq->who);
  fputs("</b></p>\n", f);
}

void web_form_token_field(FILE *f, const req *rq)
{
  fputs("<input type=\"hidden\" name=\"csrf\" value=\"", f);
  rt_html_esc(f, rq->form);
  fputs("\">", f);
}

void web_fmt_time(double t, char *buf, size_t n)
{
  if (t <= 0) {
    snprintf(buf, n, "-");
    return;
  }
  vu_rfc3339(t, false, buf, n);
}
