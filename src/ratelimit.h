/* Client-side rate budget: token buckets per endpoint and one for the whole client
 * (shared by derived clients through the pool). Every attempt, single or batched, reserves a
 * token first; the answer is how long to wait before sending. */
#ifndef OPENAI_ADMIN_RATELIMIT_H
#define OPENAI_ADMIN_RATELIMIT_H

typedef enum {
  OA_RL_OFF,      /* rate_limit = false: no budget, plain SDK backoff on 429 */
  OA_RL_FIXED,    /* rate_limit = { requests = N, window = s, ... } */
  OA_RL_ADAPTIVE  /* default: unlimited until a 429, then learn and recover */
} oa_rl_mode;

typedef struct oa_rl_bucket {
  char *key;              /* endpoint (sdk_path); NULL for the client bucket */
  int limited;            /* 0: no limit (adaptive before any 429) */
  double rate, burst, tokens, last;
  /* adaptive learning */
  double win_start, prev_count, win_count; /* requests seen in the current and previous window */
  double ceiling;         /* rate when first limited (observed or stated): unlimited again above 2x */
  double period;          /* the server's window as estimated from reset headers; 0 unknown */
  double adjusted;        /* when rate was last changed */
  struct oa_rl_bucket *next;
} oa_rl_bucket;

#define OA_RL_SLOTS 128

typedef struct oa_ratelimit {
  oa_rl_mode mode;
  double requests, window, burst, max_wait;
  int per_endpoint;
  oa_rl_bucket client;
  oa_rl_bucket *slots[OA_RL_SLOTS];
} oa_ratelimit;

/* Defaults: adaptive, window 60 s, max_wait 120 s, per_endpoint. */
void oa_rl_init(oa_ratelimit *rl);
/* Applies a fixed budget (requests per window, burst) after the fields were set. */
void oa_rl_configure(oa_ratelimit *rl);
void oa_rl_free(oa_ratelimit *rl);

/* Takes a token for one attempt at `endpoint` (may be NULL) and returns the seconds to wait
 * before sending it (0 = now). */
double oa_rl_reserve(oa_ratelimit *rl, const char *endpoint, double now);

/* Feeds a 429 back (adaptive mode): the endpoint's rate is set from the server's
 * `x-ratelimit-limit-requests` (`limit`, 0 if absent) over the window estimated from
 * `x-ratelimit-reset-requests` (`reset` seconds, -1 if absent), else from half the rate
 * observed; the bucket is closed until `reset`. Never speeds up on a 429. */
void oa_rl_observe_429(oa_ratelimit *rl, const char *endpoint, double limit, double reset, double now);

/* Wait before retrying a 429 that carried no Retry-After: grows toward the window length. */
double oa_rl_429_delay(const oa_ratelimit *rl, int retries_so_far, double r);

#endif
