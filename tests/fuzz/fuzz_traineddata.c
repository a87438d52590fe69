/* fuzz_traineddata.c - the characters of a Tesseract .traineddata file (its
 * container and its unicharset component), as vagt reads them from the
 * language data folder ($TESSDATA_PREFIX may point anywhere). */
#include "fuzz_util.h"

#include "rt_ocr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1 << 20))
    return 0;
  rt_ocr_charset cs = {0};
  rt_ocr_charset_parse(data, size, &cs);
  for (size_t i = 1; i < cs.n; i++) /* sorted, without repeats */
    if (cs.cp[i - 1] >= cs.cp[i])
      abort();
  rt_ocr_charset_free(&cs);
  return 0;
}
