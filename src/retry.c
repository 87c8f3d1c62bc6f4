/* Retry policy: classification of failures, Retry-After parsing, backoff, sleeping. */
#include "retry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

double oa_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void oa_sleep(double seconds) {
  if (!(seconds > 0)) return;
  struct timespec req, rem;
  req.tv_sec = (time_t)seconds;
  req.tv_nsec = (long)((seconds - (double)req.tv_sec) * 1e9);
  if (req.tv_nsec >= 1000000000L) req.tv_nsec = 999999999L;
  while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
}

double oa_random01(uint64_t *s) {
  uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}

uint64_t oa_random_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t s = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  return s ? s : 1;
}

int oa_retry_curl_retryable(CURLcode code) {
  switch (code) {
  case CURLE_OK:
  /* mistakes in the request or the build: another attempt gives the same answer */
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
  case CURLE_NOT_BUILT_IN:
  case CURLE_BAD_FUNCTION_ARGUMENT:
  case CURLE_UNKNOWN_OPTION:
  case CURLE_OUT_OF_MEMORY:
  case CURLE_WRITE_ERROR:          /* our buffer could not grow */
  case CURLE_ABORTED_BY_CALLBACK:
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_LOGIN_DENIED:
  case CURLE_TOO_MANY_REDIRECTS:
    return 0;
  default:
    /* connection refused/reset, resolve failures, send/recv errors, empty replies,
     * truncated bodies (PARTIAL_FILE), HTTP/2 stream errors, timeouts */
    return 1;
  }
}

int oa_retry_status_retryable(long status, const char *should_retry) {
  if (status >= 200 && status <= 299) return 0; /* success is final, whatever the header says */
  if (should_retry != NULL) {
    if (strcasecmp(should_retry, "true") == 0) return 1;
    if (strcasecmp(should_retry, "false") == 0) return 0;
  }
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

double oa_retry_after(const char *retry_after_ms, const char *retry_after) {
  double s = -1;
  char *end;
  if (retry_after_ms != NULL && *retry_after_ms) {
    double ms = strtod(retry_after_ms, &end);
    if (end != retry_after_ms && *end == '\0' && isfinite(ms)) s = ms / 1000.0;
  }
  if (s < 0 && retry_after != NULL && *retry_after) {
    double v = strtod(retry_after, &end);
    if (end != retry_after && *end == '\0' && isfinite(v)) {
      s = v;
    } else {
      time_t at = curl_getdate(retry_after, NULL);
      if (at != (time_t)-1) s = difftime(at, time(NULL));
    }
  }
  if (s > 0 && isfinite(s)) return s; /* the caller decides what a long wait means (max_wait) */
  return -1;
}

double oa_parse_duration(const char *s) {
  if (s == NULL || *s == '\0') return -1;
  double total = 0;
  while (*s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0) return -1;
    s = end;
    if (s[0] == 'm' && s[1] == 's') { total += v / 1000.0; s += 2; }
    else if (s[0] == 'h') { total += v * 3600.0; s++; }
    else if (s[0] == 'm') { total += v * 60.0; s++; }
    else if (s[0] == 's') { total += v; s++; }
    else return -1;
  }
  /* "1e308h" parses, but as a wait it is infinite: unusable (found by fuzz/fuzz_retry_headers) */
  return isfinite(total) ? total : -1;
}

double oa_retry_backoff(int n, double r) {
  double base = n >= 5 ? 8.0 : 0.5 * (double)(1 << n);
  if (base > 8.0) base = 8.0;
  return base * (1.0 - 0.25 * r);
}
