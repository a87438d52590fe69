/* appq.c - see appq.h */
#include "appq.h"

#include "xerror.h"

#include <X11/extensions/XRes.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 4 /* X connections of one process summed (a toolkit may open a second) */

struct rt_appq {
  int nl; /* NETLINK_SOCK_DIAG */
  long pid;
  unsigned ino[MAX_CONN];
  int n;
  uint32_t seq;
};

typedef struct {
  unsigned peer;
  long rqueue;
  char name[108];
  size_t name_len;
} sockinfo;

/* One unix socket by inode: its peer, receive queue and bound name. 0, or -1 when the
 * kernel does not know it (gone) or cannot say. */
static int diag(rt_appq *q, unsigned ino, sockinfo *si)
{
  struct {
    struct nlmsghdr h;
    struct unix_diag_req r;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = ++q->seq;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = ~0u;
  req.r.udiag_ino = ino;
  req.r.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_NAME;
  req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(q->nl, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0)
    return -1;
  memset(si, 0, sizeof *si);
  si->rqueue = -1;
  /* an answer to an older request (one that timed out) is skipped by its number */
  for (;;) {
    long buf[1024];
    ssize_t len = recv(q->nl, buf, sizeof buf, 0);
    if (len < 0)
      return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != q->seq)
        continue;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
        return -1; /* NLMSG_ERROR: no such socket */
      struct unix_diag_msg *m = NLMSG_DATA(h);
      int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        size_t pl = RTA_PAYLOAD(a);
        if (a->rta_type == UNIX_DIAG_PEER && pl >= sizeof(uint32_t)) {
          memcpy(&si->peer, RTA_DATA(a), sizeof(uint32_t));
        } else if (a->rta_type == UNIX_DIAG_RQLEN && pl >= sizeof(struct unix_diag_rqlen)) {
          struct unix_diag_rqlen rq;
          memcpy(&rq, RTA_DATA(a), sizeof rq);
          si->rqueue = rq.udiag_rqueue;
        } else if (a->rta_type == UNIX_DIAG_NAME) {
          si->name_len = pl < sizeof si->name ? pl : sizeof si->name;
          memcpy(si->name, RTA_DATA(a), si->name_len);
        }
      }
      return 0;
    }
  }
}

/* The display's number, from ":57" or "unix:57.0"; -1 for a remote one. */
static int display_number(Display *dpy)
{
  const char *s = DisplayString(dpy);
  const char *c = s ? strrchr(s, ':') : NULL;
  if (!c || (c != s && strncmp(s, "unix:", 5) != 0))
    return -1;
  char *end;
  long n = strtol(c + 1, &end, 10);
  return end == c + 1 || n < 0 || n > 65535 ? -1 : (int)n;
}

/* Whether a bound name is the X server's socket of display dn ("/tmp/.X11-unix/X57", also
 * in the abstract namespace, which starts with a zero byte). */
static int is_x_socket(const sockinfo *si, int dn)
{
  char want[32];
  int wl = snprintf(want, sizeof want, "/.X11-unix/X%d", dn);
  if (si->name_len < (size_t)wl)
    return 0;
  const char *tail = si->name + si->name_len - wl;
  return !memcmp(tail, want, (size_t)wl);
}

static long owner_pid(Display *dpy, Window w)
{
  int ev, er, major = 0, minor = 0;
  long pid = 0;
  rt_x_trap_begin(dpy);
  if (XResQueryExtension(dpy, &ev, &er) && XResQueryVersion(dpy, &major, &minor) &&
      (major > 1 || (major == 1 && minor >= 2))) {
    XResClientIdSpec spec = {.client = w, .mask = XRES_CLIENT_ID_PID_MASK};
    long n = 0;
    XResClientIdValue *ids = NULL;
    if (XResQueryClientIds(dpy, 1, &spec, &n, &ids) == Success) {
      for (long i = 0; i < n && !pid; i++)
        if (ids[i].spec.mask == XRES_CLIENT_ID_PID_MASK)
          pid = XResGetClientPid(&ids[i]);
      XResClientIdsDestroy(n, ids);
    }
  }
  if (rt_x_trap_end(dpy, NULL))
    pid = 0;
  return pid > 0 ? pid : 0;
}

rt_appq *rt_appq_new(Display *dpy, Window w)
{
  int dn = display_number(dpy);
  long pid = dn < 0 ? 0 : owner_pid(dpy, w);
  if (!pid || pid == (long)getpid())
    return NULL;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/fd", pid);
  DIR *d = opendir(path);
  if (!d)
    return NULL;
  rt_appq *q = calloc(1, sizeof *q);
  if (!q || (q->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0) {
    free(q);
    closedir(d);
    return NULL;
  }
  /* a kernel that does not answer in time is as good as none */
  struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
  setsockopt(q->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  q->pid = pid;
  for (struct dirent *e; q->n < MAX_CONN && (e = readdir(d));) {
    char link[320], target[64];
    snprintf(link, sizeof link, "%s/%s", path, e->d_name);
    ssize_t l = readlink(link, target, sizeof target - 1);
    unsigned ino;
    if (l <= 0)
      continue;
    target[l] = '\0';
    if (sscanf(target, "socket:[%u]", &ino) != 1)
      continue;
    sockinfo me, peer;
    if (diag(q, ino, &me) != 0 || !me.peer || diag(q, me.peer, &peer) != 0)
      continue;
    if (is_x_socket(&peer, dn))
      q->ino[q->n++] = ino;
  }
  closedir(d);
  if (!q->n) {
    rt_appq_free(q);
    return NULL;
  }
  return q;
}

void rt_appq_free(rt_appq *q)
{
  if (!q)
    return;
  close(q->nl);
  free(q);
}

long rt_appq_unread(rt_appq *q)
{
  long sum = 0;
  for (int i = 0; q && i < q->n; i++) {
    sockinfo si;
    if (diag(q, q->ino[i], &si) != 0 || si.rqueue < 0)
      return -1;
    sum += si.rqueue;
  }
  return q ? sum : -1;
}

long rt_appq_pid(const rt_appq *q)
{
  return q ? q->pid : 0;
}
