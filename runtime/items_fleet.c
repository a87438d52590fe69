#include "items_fleet.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run.h"
#include "vu.h"

#define REPLY_MAX (16u << 20)

int rt_fleet_items_fd(char *err, size_t errlen)
{
  const char *v = getenv("VAGT_ITEMS_FD");
  if (!v || !*v)
    return -1;
  char *end;
  long fd = strtol(v, &end, 10);
  int type = 0;
  socklen_t len = sizeof type;
  if (*end || fd < 3 || fd > 65535 || getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_STREAM) {
    snprintf(err, errlen, "$VAGT_ITEMS_FD names no socket from the agent");
    return -2;
  }
  fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  return (int)fd;
}

cJSON *rt_fleet_ask(rt_run *run, int fd, const cJSON *req, char *err, size_t errlen)
{
  char *txt = cJSON_PrintUnformatted(req);
  bool sent = txt && vu_send_all(fd, txt, strlen(txt)) && vu_send_all(fd, "\n", 1);
  free(txt);
  if (!sent) {
    snprintf(err, errlen, "the agent does not take work-item requests (%s)",
             errno ? strerror(errno) : "out of memory");
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      snprintf(err, errlen, "out of memory");
      return NULL;
    }
    char *nl = memchr(buf, '\n', len);
    if (nl) {
      *nl = '\0';
      cJSON *r = nl + 1 == buf + len ? cJSON_Parse(buf) : NULL;
      free(buf);
      if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        snprintf(err, errlen, "the agent's answer about work items is not understood");
        return NULL;
      }
      return r;
    }
    if (run && run->abort) {
      free(buf);
      snprintf(err, errlen, "the run was stopped while waiting for the agent");
      return NULL;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 200); /* the run's abort (a signal, a deadline) is seen within this */
    if (n < 0 && errno != EINTR) {
      free(buf);
      snprintf(err, errlen, "waiting for the agent: %s", strerror(errno));
      return NULL;
    }
    if (n <= 0)
      continue;
    if (len + 1 >= cap) {
      char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        free(buf);
        snprintf(err, errlen, "the agent's answer about work items is too long");
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      free(buf);
      snprintf(err, errlen, "the agent closed the work-items connection");
      return NULL;
    }
    len += (size_t)r;
  }
}
