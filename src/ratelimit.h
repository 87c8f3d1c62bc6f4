/* Client-side rate budget, shaped like the Admin API's own limits: fixed windows per endpoint
 * (and one for the client), shared by derived clients through the pool. Every attempt, single
 * or batched, books a place in a window first; the answer is how long to wait before sending. */
#ifndef OPENAI_ADMIN_RATELIMIT_H
#define OPENAI_ADMIN_RATELIMIT_H

typedef enum {
  OA_RL_OFF,      /* rate_limit = false: no budget, plain SDK backoff on 429 */
  OA_RL_FIXED,    /* rate_limit = { requests = N, window = s, ... } */
  OA_RL_ADAPTIVE  /* default: unlimited until a 429, then learn the window's limit and recover */
} oa_rl_mode;

typedef struct oa_rl_bucket {
  char *key;              /* endpoint (sdk_path); NULL for the client bucket */
  /* token bucket: only for { requests, window, burst } (burst given explicitly) */
  double rate, burst, tokens, last;
  /* fixed windows: `limit` requests per window (0: none), the booking window is the latest one
   * holding a booking; it may lie in the future while earlier ones are full */
  double limit;
  double start, count;    /* booking window: when it opens (-1: none yet), places taken */
  long wid;               /* its id (ids grow by one per window) */
  unsigned long long full; /* bit i: window wid - i filled up to the limit */
  /* adaptive learning, per window of the answers (the window the answer arrived in) */
  long obs_wid, learnt_wid, raise_wid, held_wid; /* held_wid: the last window a 429 closed */
  double obs_ok;          /* non-429 answers in window obs_wid */
  int obs_429;            /* a 429 arrived in window obs_wid */
  double base;            /* limit before the current probe (0: not probing) */
  double step, clean, probe_after; /* recovery: next increment, clean full windows seen, needed */
  double held_until;      /* a 429 closed the window until then (monotonic; 0: never) */
  double period;          /* the server's window as estimated from reset headers; 0 unknown */
  struct oa_rl_bucket *next;
} oa_rl_bucket;

#define OA_RL_SLOTS 128

typedef struct oa_ratelimit {
  oa_rl_mode mode;
  double requests, window, burst, max_wait;
  int per_endpoint;
  int spread;             /* FIXED with an explicit burst: token buckets instead of windows */
  oa_rl_bucket client;
  oa_rl_bucket *slots[OA_RL_SLOTS];
} oa_ratelimit;

/* Defaults: adaptive, window 60 s, max_wait 120 s, per_endpoint. */
void oa_rl_init(oa_ratelimit *rl);
/* Applies a fixed budget (requests per window, burst) after the fields were set; rl->burst > 0
 * means it was given explicitly (token-bucket spread). */
void oa_rl_configure(oa_ratelimit *rl);
void oa_rl_free(oa_ratelimit *rl);

/* Books a place for one attempt at `endpoint` (may be NULL) and returns the seconds to wait
 * before sending it (0 = now). When that wait would exceed `max`, nothing is booked and the
 * wait is returned all the same (the caller gives up). */
double oa_rl_reserve(oa_ratelimit *rl, const char *endpoint, double now, double max);

/* Feeds a 429 back. `limit`: `x-ratelimit-limit-requests` (0 if absent); `reset`: seconds until
 * the server's window reopens (`x-ratelimit-reset-requests`, else Retry-After; -1 if absent).
 * Adaptive: learns the window's limit (the header's, else the answers that got through in this
 * window) and closes the window until it reopens. Fixed windows: closes the window (the
 * server's is not ours). Returns >= 0 when a window now holds the endpoint (the retry needs no
 * backoff of its own: its booking waits), -1 when no budget took it. */
double oa_rl_observe_429(oa_ratelimit *rl, const char *endpoint, double limit, double reset, double now);

/* Seconds until the window a 429 closed for `endpoint` (or the client) reopens; 0 when none
 * holds it. This part of a wait is the server's, not the call's place in the queue. */
double oa_rl_held(oa_ratelimit *rl, const char *endpoint, double now);

/* Feeds every other HTTP answer back (adaptive windows count what got through). */
void oa_rl_observe_ok(oa_ratelimit *rl, const char *endpoint, double now);

/* Wait before retrying a 429 that carried no Retry-After when no window holds it (token-bucket
 * budgets): grows toward the window length. */
double oa_rl_429_delay(const oa_ratelimit *rl, int retries_so_far, double r);

#endif
