/* libFuzzer target: response-header parsing as the engine does it (src/engine.c
 * oa_header_line, oa_headers_find) on header lines split from the input at '\n', then the
 * retry-policy parsers on what it found (Retry-After, retry-after-ms, x-should-retry,
 * x-ratelimit-reset-requests).
 * Invariants: no crash or UB; every lookup gives what a plain reference parse of the same lines
 * gives (the last line of that name, value trimmed), so no header can smuggle in another; the
 * parsers' answers stay in range. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/engine.h"
#include "../src/retry.h"
#include "check.h"

static const char *const NAMES[] = {"retry-after", "retry-after-ms", "x-should-retry",
                                    "x-ratelimit-reset-requests", "x-request-id", "content-type"};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

/* The reference: for each name, the trimmed value of the last line "Name: value" since the last
 * status line, as a malloc'd string (NULL when none). A value holding a NUL byte cannot be a C
 * string: the reference then expects the header to be ignored. */
static void reference(const unsigned char *data, size_t size, char **want) {
  for (size_t k = 0; k < NNAMES; k++) want[k] = NULL;
  const unsigned char *p = data, *end = data + size;
  while (p < end) {
    const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    const unsigned char *line = p;
    p += n;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
      for (size_t k = 0; k < NNAMES; k++) { free(want[k]); want[k] = NULL; }
      continue;
    }
    const unsigned char *colon = memchr(line, ':', n);
    if (!colon || colon == line) continue;
    size_t nl_len = (size_t)(colon - line);
    const unsigned char *v = colon + 1, *vend = line + n;
    while (v < vend && (*v == ' ' || *v == '\t')) v++;
    while (vend > v && (vend[-1] == '\r' || vend[-1] == '\n' || vend[-1] == ' ' || vend[-1] == '\t')) vend--;
    if (memchr(line, '\0', n)) continue;
    for (size_t k = 0; k < NNAMES; k++) {
      if (strlen(NAMES[k]) != nl_len) continue;
      size_t i = 0;
      while (i < nl_len && tolower(line[i]) == NAMES[k][i]) i++;
      if (i < nl_len) continue;
      free(want[k]);
      want[k] = malloc((size_t)(vend - v) + 1);
      FUZZ_CHECK(want[k] != NULL, "out of memory");
      memcpy(want[k], v, (size_t)(vend - v));
      want[k][vend - v] = '\0';
    }
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (size > 8192) return 0; /* OA_HEADERS_MAX is far larger; keep the reference cheap */
  oa_buf hdrs = {0};
  const unsigned char *p = data, *end = data + size;
  while (p < end) {
    const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    FUZZ_CHECK(oa_header_line(&hdrs, (const char *)p, n) == 0, "a header line was refused");
    p += n;
  }
  char *want[NNAMES];
  reference(data, size, want);
  for (size_t k = 0; k < NNAMES; k++) {
    const char *got = oa_headers_find(&hdrs, NAMES[k]);
    FUZZ_CHECK((got == NULL) == (want[k] == NULL) && (!got || strcmp(got, want[k]) == 0),
               "%s: parsed \"%s\", the lines say \"%s\"", NAMES[k], got ? got : "(none)",
               want[k] ? want[k] : "(none)");
  }
  double w = oa_retry_after(oa_headers_find(&hdrs, "retry-after-ms"), oa_headers_find(&hdrs, "retry-after"));
  FUZZ_CHECK(w == -1 || (isfinite(w) && w > 0), "retry_after gave %g", w);
  int r = oa_retry_status_retryable(503, oa_headers_find(&hdrs, "x-should-retry"));
  FUZZ_CHECK(r == 0 || r == 1, "status_retryable gave %d", r);
  double d = oa_parse_duration(oa_headers_find(&hdrs, "x-ratelimit-reset-requests"));
  FUZZ_CHECK(d == -1 || (isfinite(d) && d >= 0), "parse_duration gave %g", d);
  for (size_t k = 0; k < NNAMES; k++) free(want[k]);
  oa_buf_free(&hdrs);
  return 0;
}
