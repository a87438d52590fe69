/* run.json's versions, for readers (runfile.h). */
#include "runfile.h"

#include <string.h>

int rt_runjson_version(const cJSON *run)
{
  if (!cJSON_IsObject(run))
    return 0;
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_FORMAT);
  if (f) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_VERSION);
    if (!cJSON_IsString(f) || strcmp(f->valuestring, RT_RUN_FORMAT_NAME) != 0 ||
        !cJSON_IsNumber(v) || v->valuedouble < 2 || v->valuedouble > RT_RUN_FORMAT)
      return 0;
    return (int)v->valuedouble;
  }
  /* format 1 had no name: the writing vagt's version and the step records */
  return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_VAGT)) &&
                 cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_STEPS))
             ? 1
             : 0;
}

const cJSON *rt_runjson_last_step(const cJSON *run)
{
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_STEPS);
  if (cJSON_IsArray(steps))
    return cJSON_GetArraySize(steps) > 0 ? cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1)
                                         : NULL;
  return cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_LAST_STEP);
}

int rt_runjson_steps(const cJSON *run)
{
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(run, RT_RUNJ_STEPS);
  return cJSON_IsArray(steps)    ? cJSON_GetArraySize(steps)
         : cJSON_IsNumber(steps) ? (int)steps->valuedouble
                                 : 0;
}
