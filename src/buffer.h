/* A growable byte buffer: curl callbacks append response bytes here (never into Lua). */
#ifndef OPENAI_ADMIN_BUFFER_H
#define OPENAI_ADMIN_BUFFER_H
#include <stddef.h>

typedef struct oa_buf {
  char *data;
  size_t len, cap;
} oa_buf;

/* Appends n bytes; returns 0, or -1 when out of memory (the buffer is left unchanged). */
int oa_buf_append(oa_buf *b, const void *p, size_t n);
/* Makes room for n more bytes (len unchanged); 0, or -1 when out of memory. */
int oa_buf_reserve(oa_buf *b, size_t n);
/* Forgets the contents but keeps the memory for the next use. */
void oa_buf_clear(oa_buf *b);
void oa_buf_free(oa_buf *b);

/* Zeroes n bytes that held a secret (an Authorization line, a created key's secret) so that the
 * compiler cannot drop the stores as dead. */
void oa_wipe(void *p, size_t n);

#endif
