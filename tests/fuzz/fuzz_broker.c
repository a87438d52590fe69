/* fuzz_broker.c - the agent's reader of a run's work-item requests (ag_broker_handle):
 * each line of the input is one request. Without a fleet database every operation that
 * would reach it answers "wait", so what is fuzzed is the reading and checking. Every
 * request gets a reply object with "ok". */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "ag_broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  char *text = malloc(size + 1);
  if (!text)
    abort();
  memcpy(text, data, size);
  text[size] = 0;
  ag_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.node = "fuzz";
  cfg.item_lease = 2;
  ag_broker_state *s = ag_broker_state_new(&cfg, 1);
  if (!s)
    abort();
  char *line = text, *next;
  for (; line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    cJSON *r = ag_broker_handle(s, line);
    if (!r || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "ok")))
      abort(); /* every request is answered */
    cJSON_Delete(r);
  }
  ag_broker_state_free(s);
  free(text);
  return 0;
}
