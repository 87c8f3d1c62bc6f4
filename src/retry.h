/* Retry policy, as the official OpenAI SDKs: what to retry and how long to wait. */
#ifndef OPENAI_ADMIN_RETRY_H
#define OPENAI_ADMIN_RETRY_H
#include <stdint.h>
#include <curl/curl.h>

/* Monotonic clock in seconds. */
double oa_now(void);
/* Sleeps for `seconds`, resuming after signals (EINTR) until the time has passed. */
void oa_sleep(double seconds);
/* Uniform random number in [0, 1) from a xorshift state (seeded by oa_random_seed). */
double oa_random01(uint64_t *state);
uint64_t oa_random_seed(void);

/* 1 when a transport failure is worth another attempt (connection trouble, timeouts,
 * truncated bodies); 0 for failures that will not change (bad URL, out of memory...). */
int oa_retry_curl_retryable(CURLcode code);

/* 1 when an HTTP answer should be retried: never a 2xx; else `x-should-retry` true/false decides
 * when present, else 408, 409, 429 and >= 500. `should_retry` may be NULL. */
int oa_retry_status_retryable(long status, const char *should_retry);

/* The server's requested wait in seconds from `retry-after-ms` / `retry-after` (seconds or an
 * HTTP date), or -1 when absent, unparsable or not positive. Either may be NULL. */
double oa_retry_after(const char *retry_after_ms, const char *retry_after);

/* A Go-style duration as in `x-ratelimit-reset-requests` ("1s", "6m0s", "20ms", "1m30.5s")
 * in seconds, or -1 when absent or unparsable. */
double oa_parse_duration(const char *s);

/* SDK backoff before retry number `retries_so_far + 1`: min(0.5 * 2^n, 8) * (1 - 0.25 * r). */
double oa_retry_backoff(int retries_so_far, double r);

#endif
