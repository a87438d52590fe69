/* Blob cache of the rt_ocr engine: readings kept by the content of the blob image
 * (open addressing on a 64-bit key), and the content hash. */
#include "rt_ocr.h"
#include "ocr_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- hashing (64-bit multiply-xorshift over words; not cryptographic) ---- */
uint64_t rt_ocr__hash_bytes(const void *p, size_t n, uint64_t seed)
{
  const unsigned char *b = p;
  uint64_t h = seed ^ (n * 0xD6E8FEB86659FD93ull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, b + i, 8);
    h = mix64(h, v);
  }
  uint64_t t = 0;
  for (size_t k = 0; i < n; i++, k++)
    t |= (uint64_t)b[i] << (8 * k);
  h = mix64(h, t);
  h ^= h >> 31;
  return h ? h : 1;
}

void rt_ocr__centry_clear(centry *e)
{
  for (int i = 0; i < e->n; i++)
    free(e->w[i].text);
  free(e->w);
  memset(e, 0, sizeof *e);
}

/* ---- blob cache: open addressing on a 64-bit content key ---- */
centry *rt_ocr__cache_get(rt_ocr *o, uint64_t key)
{
  size_t m = o->tabcap - 1;
  for (size_t i = key & m;; i = (i + 1) & m) {
    if (!o->tab[i].key)
      return NULL;
    if (o->tab[i].key == key)
      return &o->tab[i];
  }
}

static void cache_rebuild(rt_ocr *o, uint32_t keep_from_gen)
{
  centry *old = o->tab;
  size_t cap = o->tabcap;
  o->tab = calloc(cap, sizeof *o->tab);
  if (!o->tab) { /* keep the old table rather than lose memory safety */
    o->tab = old;
    return;
  }
  o->count = 0;
  for (size_t i = 0; i < cap; i++) {
    if (!old[i].key)
      continue;
    if (old[i].gen >= keep_from_gen && o->count < CACHE_MAX / 2) {
      size_t m = cap - 1, j = old[i].key & m;
      while (o->tab[j].key)
        j = (j + 1) & m;
      o->tab[j] = old[i];
      o->count++;
    } else {
      rt_ocr__centry_clear(&old[i]);
    }
  }
  free(old);
}

/* Make room for n new entries before a call hands out entry pointers (a
 * rebuild moves the entries): keep what the previous call used, else nothing. */
void rt_ocr__cache_reserve(rt_ocr *o, size_t n)
{
  if (o->count + n > CACHE_MAX)
    cache_rebuild(o, o->gen > 0 ? o->gen - 1 : 0);
  if (o->count + n > CACHE_MAX)
    cache_rebuild(o, o->gen + 1); /* drop all */
}

/* NULL when the table is full (the caller then keeps the reading to itself). */
centry *rt_ocr__cache_put(rt_ocr *o, uint64_t key)
{
  size_t m = o->tabcap - 1;
  size_t i = key & m;
  while (o->tab[i].key && o->tab[i].key != key)
    i = (i + 1) & m;
  if (o->tab[i].key) {
    rt_ocr__centry_clear(&o->tab[i]);
  } else {
    if (o->count + 1 > CACHE_MAX)
      return NULL;
    o->count++;
  }
  o->tab[i].key = key;
  o->tab[i].gen = o->gen;
  return &o->tab[i];
}

/* A cached reading this call may use (counted, and kept as in use); NULL
 * when there is none or the call bypasses the cache. */
centry *rt_ocr__cache_hit(rt_ocr *o, centry *e, int no_cache)
{
  if (!e || no_cache || e->timed_out)
    return NULL;
  o->st.blob_hits++;
  e->gen = o->gen;
  return e;
}
