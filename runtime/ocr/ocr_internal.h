/* Internal helpers shared by the rt_ocr sources (not a public interface). */
#ifndef RT_OCR_INTERNAL_H
#define RT_OCR_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

uint64_t rt_ocr__hash_bytes(const void *p, size_t n, uint64_t seed);

/* Could an unsure OCR reading of one word turn out to be the phrase, a word
 * of it or a delimited part of it once read again? (Case, edge punctuation
 * and the characters OCR confuses ignored; up to half the characters
 * different, at least 2 in words of 3 or more.) find's hint: only such words are read again. */
int rt_ocr__could_be(const char *word, const char *phrase);

#endif
