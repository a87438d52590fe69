/* fuzz_config.c - the agent's configuration loader (ag_config_load): any
 * file gives a configuration or "file:line: message" errors, never a crash.
 * The file runs in the robot sandbox (no io, os, load). */
#include "fuzz_util.h"

#include "ag_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char path[128];
    snprintf(path, sizeof path, "%s/agent.lua", fz_scratch());
    fz_write(path, data, size);
    FILE *errf = fopen("/dev/null", "w");
    if (!errf)
        abort();
    ag_config *c = ag_config_load(path, 0, errf);
    fclose(errf);
    ag_config_free(c);
    return 0;
}
