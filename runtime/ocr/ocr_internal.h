/* Internal helpers shared by the rt_ocr sources (not a public interface). */
#ifndef RT_OCR_INTERNAL_H
#define RT_OCR_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

uint64_t rt_ocr__hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
