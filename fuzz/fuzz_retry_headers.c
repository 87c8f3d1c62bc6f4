/* libFuzzer target: the response-header parsers of the retry policy (src/retry.h):
 * Retry-After (seconds or an HTTP date), retry-after-ms, x-should-retry, and the Go-style
 * durations of x-ratelimit-reset-requests. The input is split at '\n' into the header values.
 * Invariants: no crash or UB on any bytes; a wait is -1 or a positive finite number; a
 * duration is -1 or finite and >= 0; the retry decision is 0 or 1 and 2xx is never retried. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/retry.h"
#include "check.h"

/* The next '\n'-separated field of data as a NUL-terminated copy (NULL when absent). */
static char *field(const unsigned char **p, const unsigned char *end) {
  if (*p > end) return NULL;
  const unsigned char *nl = memchr(*p, '\n', (size_t)(end - *p));
  size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
  char *s = malloc(n + 1);
  FUZZ_CHECK(s != NULL, "out of memory");
  memcpy(s, *p, n);
  s[n] = '\0';
  *p = nl ? nl + 1 : end + 1;
  return s;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  const unsigned char *p = data, *end = data + size;
  char *ms = field(&p, end), *ra = field(&p, end), *sr = field(&p, end), *dur = field(&p, end);
  long status = size ? 100 + (long)(data[0] % 500) : 200;

  double w = oa_retry_after(ms, ra);
  FUZZ_CHECK(w == -1 || (isfinite(w) && w > 0), "retry_after gave %g", w);
  w = oa_retry_after(NULL, ra);
  FUZZ_CHECK(w == -1 || (isfinite(w) && w > 0), "retry_after(NULL, ra) gave %g", w);
  w = oa_retry_after(ms, NULL);
  FUZZ_CHECK(w == -1 || (isfinite(w) && w > 0), "retry_after(ms, NULL) gave %g", w);

  int r = oa_retry_status_retryable(status, sr);
  FUZZ_CHECK(r == 0 || r == 1, "status_retryable gave %d", r);
  FUZZ_CHECK(!(status >= 200 && status <= 299) || r == 0, "a %ld is retried", status);

  double d = oa_parse_duration(dur);
  FUZZ_CHECK(d == -1 || (isfinite(d) && d >= 0), "parse_duration gave %g", d);
  d = oa_parse_duration(ra);
  FUZZ_CHECK(d == -1 || (isfinite(d) && d >= 0), "parse_duration gave %g", d);

  free(ms);
  free(ra);
  free(sr);
  free(dur);
  return 0;
}
