/* Growable byte buffer (doubling, so appends are amortised O(1)). */
#include "buffer.h"

#include <stdlib.h>
#include <string.h>

int oa_buf_reserve(oa_buf *b, size_t n) {
  if (n > b->cap - b->len) {
    size_t need = b->len + n, cap = b->cap ? b->cap : 4096;
    if (need < b->len) return -1; /* overflow */
    while (cap < need) {
      if (cap > ((size_t)-1) / 2) { cap = need; break; }
      cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (d == NULL) return -1;
    b->data = d;
    b->cap = cap;
  }
  return 0;
}

int oa_buf_append(oa_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (oa_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void oa_buf_clear(oa_buf *b) { b->len = 0; }

void oa_buf_free(oa_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void oa_wipe(void *p, size_t n) {
  if (n == 0) return;
  memset(p, 0, n);
#if defined(__GNUC__) || defined(__clang__)
  /* the memory is "used" after the memset: the stores stay (what explicit_bzero does) */
  __asm__ __volatile__("" : : "r"(p) : "memory");
#else
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
#endif
}
