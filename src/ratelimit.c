/* Token buckets with reservation: a reservation always takes a token (the balance may go
 * negative) and returns when it becomes valid, so a batch spreads itself out evenly. */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void bucket_reset(oa_rl_bucket *b, int limited, double rate, double burst) {
  b->limited = limited;
  b->rate = rate;
  b->burst = burst;
  b->tokens = burst;
  b->last = 0;
  b->win_start = -1;
  b->prev_count = b->win_count = 0;
  b->ceiling = 0;
  b->adjusted = 0;
}

static void bucket_fixed(const oa_ratelimit *rl, oa_rl_bucket *b, int is_client) {
  int limited = rl->mode == OA_RL_FIXED && (is_client ? !rl->per_endpoint : rl->per_endpoint);
  bucket_reset(b, limited, rl->requests / rl->window, rl->burst);
}

void oa_rl_init(oa_ratelimit *rl) {
  memset(rl, 0, sizeof *rl);
  rl->mode = OA_RL_ADAPTIVE;
  rl->window = 60;
  rl->max_wait = 120;
  rl->per_endpoint = 1;
  rl->requests = 0;
  rl->burst = 1;
  bucket_reset(&rl->client, 0, 0, 1);
}

void oa_rl_configure(oa_ratelimit *rl) {
  if (rl->mode == OA_RL_FIXED && !(rl->burst >= 1)) rl->burst = rl->requests >= 1 ? rl->requests : 1;
  bucket_fixed(rl, &rl->client, 1);
}

void oa_rl_free(oa_ratelimit *rl) {
  for (int i = 0; i < OA_RL_SLOTS; i++) {
    oa_rl_bucket *b = rl->slots[i];
    while (b) {
      oa_rl_bucket *next = b->next;
      free(b->key);
      free(b);
      b = next;
    }
    rl->slots[i] = NULL;
  }
}

static unsigned hash(const char *s) {
  unsigned h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The endpoint's bucket, created on first use; NULL when out of memory (then: no limit). */
static oa_rl_bucket *endpoint_bucket(oa_ratelimit *rl, const char *endpoint) {
  unsigned slot = hash(endpoint) % OA_RL_SLOTS;
  for (oa_rl_bucket *b = rl->slots[slot]; b; b = b->next)
    if (strcmp(b->key, endpoint) == 0) return b;
  oa_rl_bucket *b = calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  size_t n = strlen(endpoint) + 1;
  b->key = malloc(n);
  if (b->key == NULL) { free(b); return NULL; }
  memcpy(b->key, endpoint, n);
  bucket_fixed(rl, b, 0);
  b->next = rl->slots[slot];
  rl->slots[slot] = b;
  return b;
}

static void count_request(const oa_ratelimit *rl, oa_rl_bucket *b, double now) {
  if (b->win_start < 0) b->win_start = now;
  if (now - b->win_start >= rl->window) {
    /* a whole idle window or more since: the previous count no longer says anything */
    b->prev_count = now - b->win_start >= 2 * rl->window ? 0 : b->win_count;
    b->win_count = 0;
    b->win_start = now;
  }
  b->win_count += 1;
}

/* Requests per second seen recently. */
static double observed_rate(const oa_ratelimit *rl, const oa_rl_bucket *b, double now) {
  double elapsed = b->win_start < 0 ? 0 : now - b->win_start;
  if (b->prev_count > 0) return (b->prev_count + b->win_count) / (rl->window + elapsed);
  return b->win_count / (elapsed > 1.0 ? elapsed : 1.0);
}

static double bucket_reserve(const oa_ratelimit *rl, oa_rl_bucket *b, double now) {
  if (rl->mode == OA_RL_ADAPTIVE) {
    count_request(rl, b, now);
    if (b->limited && now > b->adjusted) {
      /* recover gradually: the rate doubles per quiet window, and the limit goes away once
       * it is well above what triggered it */
      b->rate *= pow(2.0, (now - b->adjusted) / rl->window);
      b->adjusted = now;
      if (b->rate >= 2 * b->ceiling) b->limited = 0;
    }
  }
  if (!b->limited || !(b->rate > 0)) return 0;
  if (b->last > 0) {
    b->tokens += (now - b->last) * b->rate;
    if (b->tokens > b->burst) b->tokens = b->burst;
  }
  b->last = now;
  b->tokens -= 1;
  return b->tokens >= 0 ? 0 : -b->tokens / b->rate;
}

double oa_rl_reserve(oa_ratelimit *rl, const char *endpoint, double now) {
  if (rl->mode == OA_RL_OFF) return 0;
  double wait = 0;
  if (endpoint != NULL && *endpoint) {
    oa_rl_bucket *b = endpoint_bucket(rl, endpoint);
    if (b) wait = bucket_reserve(rl, b, now);
  }
  double w = bucket_reserve(rl, &rl->client, now);
  return w > wait ? w : wait;
}

void oa_rl_observe_429(oa_ratelimit *rl, const char *endpoint, double limit, double reset, double now) {
  if (rl->mode != OA_RL_ADAPTIVE) return;
  oa_rl_bucket *b = (endpoint != NULL && *endpoint) ? endpoint_bucket(rl, endpoint) : &rl->client;
  if (b == NULL) return;
  double floor = 1.0 / rl->window, target;
  if (limit > 0 && reset > 0) {
    /* a drained budget resets after about one window, so the longest reset seen estimates it */
    if (reset > b->period) b->period = reset < rl->window ? reset : rl->window;
    target = limit / b->period;
    if (b->limited && b->rate < target) target = b->rate;
  } else if (!b->limited) {
    target = observed_rate(rl, b, now) * 0.5;
  } else if (now - b->adjusted >= 1.0 / b->rate) {
    /* one cut per token interval, so a burst of 429s from one wave does not collapse it */
    target = b->rate * 0.5;
  } else {
    target = b->rate;
  }
  if (!b->limited) {
    double obs = observed_rate(rl, b, now);
    b->ceiling = obs > target ? obs : target;
  }
  b->limited = 1;
  b->rate = target > floor ? target : floor;
  b->burst = 1;
  b->last = now;
  b->adjusted = now;
  /* closed until the server's window resets (or for one token interval) */
  double closed = reset > 0 && reset <= rl->window ? -reset * b->rate : 0;
  if (b->tokens > closed) b->tokens = closed;
}

double oa_rl_429_delay(const oa_ratelimit *rl, int n, double r) {
  double w = rl->window / 4.0 * pow(2.0, n);
  if (w > rl->window) w = rl->window;
  return w * (1.0 - 0.25 * r);
}
