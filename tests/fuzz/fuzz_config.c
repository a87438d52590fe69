/* fuzz_config.c - the agent's configuration loader, both sides of it:
 *  - an input that starts with '{' (no Lua chunk can) is a loader child's
 *    answer (JSON) for the agent's side, ag_config_from_result, fuzzed in this
 *    process;
 *  - anything else is a configuration file for ag_config_load, which runs it
 *    in the robot sandbox in a child process: any file gives a configuration
 *    or "file:line: message" errors. A child that crashed is a finding: the
 *    loader aborts on it here (AG_CFG_ABORT_ON_CRASH), since the fuzzer does
 *    not see into the child. */
#include "fuzz_util.h"

#include "ag_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 16384)
    return 0;
  char *out = NULL;
  size_t outlen = 0;
  FILE *errf = open_memstream(&out, &outlen);
  if (!errf)
    abort();
  ag_config *c;
  if (data[0] == '{') {
    c = ag_config_from_result("agent.lua", (const char *)data, size, errf);
  } else {
    char path[128];
    snprintf(path, sizeof path, "%s/agent.lua", fz_scratch());
    fz_write(path, data, size);
    c = ag_config_load(path, AG_CFG_ABORT_ON_CRASH, errf);
  }
  fclose(errf);
  free(out);
  if (c) { /* what the agent then relies on */
    for (size_t i = 0; i < c->nrobots; i++)
      if (ag_config_robot(c, c->robots[i].name) != &c->robots[i])
        abort();
    for (size_t i = 0; i < c->nchannels; i++)
      if (!ag_config_channel(c, c->channels[i].name))
        abort();
  }
  ag_config_free(c);
  return 0;
}
