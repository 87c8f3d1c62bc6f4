/* Fixed windows, as the Admin API counts: up to `limit` requests from the moment a window opens
 * (the first request after the previous one ended), none after that until it ends. A booking
 * always takes a place, in the first window with room, so a batch is released window by window;
 * the next window opens a little after ours ends (~2% + 50 ms), as the server's opened a little
 * after ours. Token buckets remain for { requests, window, burst } with an explicit burst. */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLOSED 1e300 /* `count` of a window a 429 closed: no more places, whatever the limit */

static void bucket_reset(oa_rl_bucket *b) {
  char *key = b->key;
  oa_rl_bucket *next = b->next;
  memset(b, 0, sizeof *b);
  b->key = key;
  b->next = next;
  b->start = -1;
  b->obs_wid = b->learnt_wid = b->raise_wid = b->held_wid = -1;
  b->step = 1;
  b->probe_after = 1;
}

static void bucket_fixed(const oa_ratelimit *rl, oa_rl_bucket *b, int is_client) {
  bucket_reset(b);
  if (rl->mode != OA_RL_FIXED || !(is_client ? !rl->per_endpoint : rl->per_endpoint)) return;
  if (rl->spread) {
    b->rate = rl->requests / rl->window;
    b->burst = b->tokens = rl->burst;
  } else {
    b->limit = rl->requests < 1 ? 1 : floor(rl->requests);
  }
}

void oa_rl_init(oa_ratelimit *rl) {
  memset(rl, 0, sizeof *rl);
  rl->mode = OA_RL_ADAPTIVE;
  rl->window = 60;
  rl->max_wait = 120;
  rl->per_endpoint = 1;
  bucket_reset(&rl->client);
}

void oa_rl_configure(oa_ratelimit *rl) {
  rl->spread = rl->mode == OA_RL_FIXED && rl->burst >= 1;
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

/* How long our windows last: the server's (learnt from reset headers, else the configured one)
 * plus the margin by which the server's window opened after ours. */
static double win_len(const oa_ratelimit *rl, const oa_rl_bucket *b) {
  double w = b->period > 0 ? b->period : rl->window;
  return w * 1.02 + 0.05;
}

/* --- booking ------------------------------------------------------------------------------- */

/* Takes a token unless the wait for it would exceed `max`; returns that wait. */
static double token_reserve(oa_rl_bucket *b, double now, double max) {
  double tokens = b->tokens;
  if (b->last > 0) {
    tokens += (now - b->last) * b->rate;
    if (tokens > b->burst) tokens = b->burst;
  }
  tokens -= 1;
  double wait = tokens >= 0 ? 0 : -tokens / b->rate;
  if (wait > max) return wait;
  b->tokens = tokens;
  b->last = now;
  return wait;
}

/* The wait of the next place; commits it when `commit`. */
static double window_book(const oa_ratelimit *rl, oa_rl_bucket *b, double now, int commit) {
  double L = win_len(rl, b), s = b->start, c = b->count;
  int advance = 0;
  if (s < 0 || now >= s + L) { /* the booking window is over: the next request opens one */
    s = now;
    c = 0;
    advance = 1;
  }
  if (b->limit > 0 && c >= b->limit) { /* full: the place is in the next window */
    s += L;
    c = 0;
    advance++;
  }
  if (commit) {
    for (; advance > 0; advance--) {
      b->wid++;
      b->full <<= 1;
    }
    b->start = s;
    b->count = c + 1;
    if (b->limit > 0 && b->count >= b->limit) b->full |= 1;
  }
  return s > now ? s - now : 0;
}

double oa_rl_reserve(oa_ratelimit *rl, const char *endpoint, double now, double max) {
  if (rl->mode == OA_RL_OFF) return 0;
  oa_rl_bucket *eb = (endpoint != NULL && *endpoint) ? endpoint_bucket(rl, endpoint) : NULL;
  /* adaptive: the client's bucket is the one of requests without an endpoint */
  oa_rl_bucket *cb = (eb == NULL || (rl->mode == OA_RL_FIXED && !rl->per_endpoint)) ? &rl->client : NULL;
  if (rl->spread) { /* token buckets; only one of the two is limited */
    oa_rl_bucket *b = eb && eb->rate > 0 ? eb : cb && cb->rate > 0 ? cb : NULL;
    return b ? token_reserve(b, now, max) : 0;
  }
  double we = eb ? window_book(rl, eb, now, 0) : 0, wc = cb ? window_book(rl, cb, now, 0) : 0;
  double wait = we > wc ? we : wc;
  if (wait > max) return wait;
  if (eb) window_book(rl, eb, now, 1);
  if (cb) window_book(rl, cb, now, 1);
  return wait;
}

/* --- learning (adaptive) ------------------------------------------------------------------- */

/* The window an answer arriving now belongs to: the booking window once it has opened (an
 * answer after it ended still belongs to it: nothing was sent since), else an earlier one. */
static long answer_wid(const oa_ratelimit *rl, const oa_rl_bucket *b, double now) {
  if (b->start < 0 || now >= b->start) return b->wid;
  return b->wid - (long)ceil((b->start - now) / win_len(rl, b));
}

static int window_full(const oa_rl_bucket *b, long w) {
  long d = b->wid - w;
  return d >= 0 && d < 64 && ((b->full >> d) & 1ull);
}

/* Answers for window j begin: closes the books of the previous observed window. A window that
 * filled up to the limit without a 429 lets the limit grow (after `probe_after` of them): by
 * `step`, which doubles while the probes go through. */
static void observe_window(oa_rl_bucket *b, long j) {
  if (j <= b->obs_wid) return;
  long w = b->obs_wid;
  if (w >= 0 && b->limit > 0 && w > b->learnt_wid && !b->obs_429 && window_full(b, w)) {
    if (b->base > 0 && w >= b->raise_wid) { /* the probe went through */
      b->base = 0;
      b->probe_after = 1;
    }
    b->clean += 1;
    if (b->clean >= b->probe_after) {
      b->base = b->limit;
      b->limit += b->step;
      b->step *= 2;
      b->raise_wid = b->wid;
      b->clean = 0;
    }
  }
  b->obs_wid = j;
  b->obs_ok = 0;
  b->obs_429 = 0;
}

void oa_rl_observe_ok(oa_ratelimit *rl, const char *endpoint, double now) {
  if (rl->mode != OA_RL_ADAPTIVE) return;
  oa_rl_bucket *b = (endpoint != NULL && *endpoint) ? endpoint_bucket(rl, endpoint) : &rl->client;
  if (b == NULL) return;
  long j = answer_wid(rl, b, now);
  observe_window(b, j);
  if (j != b->obs_wid) return; /* a late answer of an older window */
  b->obs_ok += 1;
  /* answers of the window that taught the limit still arriving: it was at least that */
  if (b->limit > 0 && j == b->learnt_wid && b->obs_ok > b->limit) b->limit = b->obs_ok;
}

/* Closes window j, the one the 429 arrived in, until the server's reopens: `reset` seconds from
 * now when known, else at the end of our window, or a whole window from now when `realign` (the
 * server's window is not ours: it began at the latest now). Once per window: the other 429s of
 * the same wave change nothing. Places booked ahead stay unless the server's window ends after
 * they open. Keeps the ids. */
static double hold(const oa_ratelimit *rl, oa_rl_bucket *b, long j, double reset, double now, int realign) {
  double L = win_len(rl, b), reopen;
  if (j <= b->held_wid) return b->start > now ? b->start - now : 0;
  b->held_wid = j;
  int ahead = b->start > now; /* the booking window lies in the future: the current one is full */
  int ended = b->start < 0 || now >= b->start + L;
  if (reset > 0) reopen = now + reset + 0.05;
  else if (realign || ended) reopen = now + L;
  else reopen = ahead ? b->start : b->start + L;
  if (ahead && reopen <= b->start) return b->start - now;
  b->start = reopen - L;
  b->count = CLOSED;
  if (reopen > b->held_until) b->held_until = reopen;
  return reopen - now;
}

double oa_rl_observe_429(oa_ratelimit *rl, const char *endpoint, double limit, double reset, double now) {
  int named = endpoint != NULL && *endpoint;
  if (rl->mode == OA_RL_OFF || rl->spread) return -1;
  if (rl->mode == OA_RL_FIXED) {
    oa_rl_bucket *b = rl->per_endpoint ? (named ? endpoint_bucket(rl, endpoint) : NULL) : &rl->client;
    if (b == NULL || !(b->limit > 0)) return -1;
    return hold(rl, b, answer_wid(rl, b, now), reset, now, 1);
  }
  oa_rl_bucket *b = named ? endpoint_bucket(rl, endpoint) : &rl->client;
  if (b == NULL) return -1;
  /* a drained budget resets after about one window, so the longest reset seen estimates it */
  if (reset > 0 && limit > 0 && reset > b->period) b->period = reset < rl->window ? reset : rl->window;
  long j = answer_wid(rl, b, now);
  if (j < b->obs_wid && b->limit > 0) /* a late 429 of an older window: the budget has moved on */
    return b->start > now ? b->start - now : 0;
  observe_window(b, j);
  double seen = b->obs_ok >= 1 ? b->obs_ok : 1;
  if (j == b->obs_wid) b->obs_429 = 1;
  int realign = 0;
  if (limit > 0) { /* the server says */
    b->limit = floor(limit);
    b->base = 0;
    b->step = 1;
    b->clean = 0;
    b->learnt_wid = j;
  } else if (!(b->limit > 0)) { /* the first 429: the window's limit is what got through */
    b->limit = seen;
    b->learnt_wid = j;
  } else if (j == b->learnt_wid) {
    /* another 429 of the window that taught the limit */
  } else if (b->base > 0 && j >= b->raise_wid) { /* the probe failed: back, and probe less often */
    b->limit = seen > b->base ? seen : b->base;
    b->base = 0;
    b->step = 1;
    b->clean = 0;
    b->probe_after = b->probe_after < 64 ? b->probe_after * 2 : 64;
    b->learnt_wid = j;
  } else { /* refused inside the budget: the limit went down, or the server's window is not ours */
    double half = floor(b->limit / 2);
    b->limit = seen > half ? seen : half;
    if (b->limit < 1) b->limit = 1;
    b->base = 0;
    b->step = 1;
    b->clean = 0;
    b->learnt_wid = j;
    realign = 1;
  }
  return hold(rl, b, j, reset, now, realign);
}

double oa_rl_429_delay(const oa_ratelimit *rl, int n, double r) {
  double w = rl->window / 4.0 * pow(2.0, n);
  if (w > rl->window) w = rl->window;
  return w * (1.0 - 0.25 * r);
}

static double held_left(const oa_rl_bucket *b, double now) {
  return b && b->held_until > now ? b->held_until - now : 0;
}

double oa_rl_held(oa_ratelimit *rl, const char *endpoint, double now) {
  if (rl->mode == OA_RL_OFF || rl->spread) return 0;
  oa_rl_bucket *eb = (endpoint != NULL && *endpoint) ? endpoint_bucket(rl, endpoint) : NULL;
  double a = held_left(eb, now), c = held_left(&rl->client, now);
  return a > c ? a : c;
}
