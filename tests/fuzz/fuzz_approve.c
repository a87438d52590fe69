/* fuzz_approve.c - what `vagt approve` reads from a run folder that anyone who ran the
 * robot could have written: run.json (the record of the halted step), then, after the
 * first NUL byte, alert.json (its scene: windows and masks). Both go through the checks
 * approve makes before it reads an image or writes a baseline, on a 1024x768 screen. */
#include "fuzz_util.h"

#include <string.h>

#include "approve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1 << 20))
    return 0;
  const char *text = (const char *)data;
  const char *nul = memchr(text, '\0', size);
  size_t rlen = nul ? (size_t)(nul - text) : size;
  cJSON *run = cJSON_ParseWithLength(text, rlen);
  cJSON *alert = nul ? cJSON_ParseWithLength(nul + 1, size - rlen - 1) : NULL;
  char err[1024];
  rt_approve_plan p;
  if (run && rt_approve_record(run, &p, err, sizeof err) == 0 && alert &&
      rt_approve_agree(alert, &p, err, sizeof err) == 0) {
    if (rt_approve_scene(alert, 1024, 768, &p, err, sizeof err) == 0) {
      /* what approve then relies on */
      if (p.nw < 1 || p.w[0].role != FP_WIN_TARGET)
        abort();
      for (int i = 0; i < p.nw; i++) {
        fp_rect r = p.w[i].r;
        if (r.x < 0 || r.y < 0 || r.w < 1 || r.h < 1 || r.x + r.w > 1024 || r.y + r.h > 768)
          abort();
        for (int k = 0; k < p.w[i].nmasks; k++) {
          fp_rect m = p.w[i].masks[k].r;
          if (m.x < 0 || m.y < 0 || m.w < 1 || m.h < 1 || m.x + m.w > r.w || m.y + m.h > r.h)
            abort();
        }
      }
      if (strncmp(p.current, "evidence/", 9) != 0 || strstr(p.current, "/.."))
        abort();
    }
    rt_approve_plan_free(&p);
  }
  cJSON_Delete(alert);
  cJSON_Delete(run);
  return 0;
}
