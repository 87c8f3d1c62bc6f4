/* The multi loop: start transfers up to the concurrency limit, pump curl, classify finished
 * attempts, reschedule retries with a due time (no blocking sleep while others run). */
#include "transport.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"

#define OA_IDLE_MAX 64

int oa_pool_init(oa_pool *p) {
  memset(p, 0, sizeof *p);
  oa_rl_init(&p->rl);
  p->rng = oa_random_seed();
  p->multi = curl_multi_init();
  if (p->multi == NULL) return -1;
  curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  p->share = curl_share_init(); /* optional: without it only TLS resumption is lost */
  if (p->share) curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 0;
}

void oa_pool_free(oa_pool *p) {
  for (int i = 0; i < p->n_idle; i++) curl_easy_cleanup(p->idle[i]);
  free(p->idle);
  p->idle = NULL;
  p->n_idle = p->cap_idle = 0;
  if (p->multi) curl_multi_cleanup(p->multi);
  p->multi = NULL;
  if (p->share) curl_share_cleanup(p->share); /* no handle uses it any more: all were reset */
  p->share = NULL;
  oa_rl_free(&p->rl);
}

static CURL *pool_take(oa_pool *p) {
  if (p->n_idle > 0) return p->idle[--p->n_idle];
  return curl_easy_init();
}

/* Detaches the handle from the multi (its connection stays in the multi's cache) and keeps it
 * for the next request. Reset now so it holds no pointers into freed transfers. */
static void pool_give_back(oa_pool *p, CURL *e) {
  curl_multi_remove_handle(p->multi, e);
  curl_easy_reset(e);
  if (p->n_idle == p->cap_idle && p->cap_idle < OA_IDLE_MAX) {
    int cap = p->cap_idle ? p->cap_idle * 2 : 4;
    CURL **idle = realloc(p->idle, (size_t)cap * sizeof *idle);
    if (idle) {
      p->idle = idle;
      p->cap_idle = cap;
    }
  }
  if (p->n_idle < p->cap_idle) p->idle[p->n_idle++] = e;
  else curl_easy_cleanup(e);
}

/* Chains the borrowed default lines after our own: head of the list to send. */
static struct curl_slist *link_headers(oa_xfer *x) {
  if (x->headers == NULL) return x->shared_tail;
  if (x->own_last == NULL) {
    struct curl_slist *n = x->headers;
    while (n->next) n = n->next;
    x->own_last = n;
  }
  x->own_last->next = x->shared_tail;
  return x->headers;
}

static void unlink_headers(oa_xfer *x) {
  if (x->own_last) x->own_last->next = NULL;
}

void oa_xfer_free(oa_xfer *x) {
  free(x->url);
  x->url = NULL;
  unlink_headers(x);
  x->own_last = NULL;
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  if (x->retry_node) {
    x->retry_node->next = NULL;
    curl_slist_free_all(x->retry_node);
    x->retry_node = NULL;
  }
  if (x->easy) { /* only if an error path left it: not attached to a multi here */
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
  }
  oa_buf_free(&x->body_buf);
  oa_buf_free(&x->hdr_buf);
}

const char *oa_xfer_header(const oa_xfer *x, const char *name) {
  const char *found = NULL, *p = x->hdr_buf.data, *end = p + x->hdr_buf.len;
  while (p && p < end) {
    const char *value = p + strlen(p) + 1;
    if (strcmp(p, name) == 0) found = value;
    p = value + strlen(value) + 1;
  }
  return found;
}

/* --- curl callbacks: they only append to C buffers ------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  oa_xfer *x = ud;
  size_t n = size * nmemb;
  return oa_buf_append(&x->body_buf, data, n) == 0 ? n : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  oa_xfer *x = ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) { /* a new response (after 1xx): forget the old */
    oa_buf_clear(&x->hdr_buf);
    return n;
  }
  const char *colon = memchr(data, ':', n);
  if (colon == NULL || colon == data) return n; /* blank line or folded continuation */
  size_t name_len = (size_t)(colon - data);
  const char *v = colon + 1, *vend = data + n;
  while (v < vend && (*v == ' ' || *v == '\t')) v++;
  while (vend > v && (vend[-1] == '\r' || vend[-1] == '\n' || vend[-1] == ' ' || vend[-1] == '\t')) vend--;
  char lower[128];
  char *name = name_len < sizeof lower ? lower : malloc(name_len);
  if (name == NULL) return 0;
  for (size_t i = 0; i < name_len; i++) name[i] = (char)tolower((unsigned char)data[i]);
  static const char nul = '\0';
  int rc = oa_buf_append(&x->hdr_buf, name, name_len) | oa_buf_append(&x->hdr_buf, &nul, 1) |
           oa_buf_append(&x->hdr_buf, v, (size_t)(vend - v)) | oa_buf_append(&x->hdr_buf, &nul, 1);
  if (name != lower) free(name);
  return rc == 0 ? n : 0;
}

/* --- attempts --------------------------------------------------------------------------- */

static int start_attempt(oa_pool *p, oa_xfer *x, int batch) {
  CURL *e = pool_take(p);
  if (e == NULL) {
    x->code = CURLE_OUT_OF_MEMORY;
    return -1;
  }
  x->easy = e;
  oa_buf_clear(&x->body_buf);
  oa_buf_clear(&x->hdr_buf);
  x->errbuf[0] = '\0';
  x->status = 0;

  struct curl_slist *headers = link_headers(x);
  if (x->retry_count_header) {
    char line[48];
    snprintf(line, sizeof line, "X-Stainless-Retry-Count: %d", x->attempts);
    x->retry_node = curl_slist_append(NULL, line);
    if (x->retry_node == NULL) {
      x->code = CURLE_OUT_OF_MEMORY;
      return -1;
    }
    x->retry_node->next = headers; /* borrowed tail, unlinked before freeing */
    headers = x->retry_node;
  }

  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (p->share) curl_easy_setopt(e, CURLOPT_SHARE, p->share);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)x);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  if (batch) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (x->method == OA_POST || x->body != NULL) {
    /* POST without a body: an explicit empty one (Content-Length: 0), never a read callback */
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(x->body ? x->body_len : 0));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
  }
  if (x->method == OA_DELETE) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");

  CURLMcode mc = curl_multi_add_handle(p->multi, e);
  if (mc != CURLM_OK) {
    x->code = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_multi_strerror(mc));
    return -1;
  }
  x->state = OA_X_RUNNING;
  return 0;
}

static void end_attempt(oa_pool *p, oa_xfer *x) {
  if (x->easy) {
    if (x->code == CURLE_OK) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    pool_give_back(p, x->easy);
    x->easy = NULL;
  }
  if (x->retry_node) {
    x->retry_node->next = NULL;
    curl_slist_free_all(x->retry_node);
    x->retry_node = NULL;
  }
  x->attempts++;
}

/* After an attempt: DONE, or PENDING again with a due time for the retry. Every wait of a call,
 * backoff here and the rate budget's before an attempt, counts in `waited`, which never passes
 * max_wait: a wait that would is not begun, the call ends with its last answer. */
static void decide(oa_pool *p, oa_xfer *x, double now) {
  int retryable;
  double delay = -1, held = -1;
  if (x->code != CURLE_OK) {
    retryable = oa_retry_curl_retryable(x->code);
  } else {
    retryable = oa_retry_status_retryable(x->status, oa_xfer_header(x, "x-should-retry"));
    if (retryable || x->status == 429)
      delay = oa_retry_after(oa_xfer_header(x, "retry-after-ms"), oa_xfer_header(x, "retry-after"));
    if (x->status == 429) {
      /* the budget learns when the server's window reopens from its reset header, else from
       * Retry-After */
      const char *limit = oa_xfer_header(x, "x-ratelimit-limit-requests");
      double reset = oa_parse_duration(oa_xfer_header(x, "x-ratelimit-reset-requests"));
      if (!(reset > 0)) reset = delay;
      held = oa_rl_observe_429(&p->rl, x->endpoint, limit ? strtod(limit, NULL) : 0, reset, now);
    } else {
      oa_rl_observe_ok(&p->rl, x->endpoint, now);
    }
    if (!retryable) delay = -1;
  }
  int retries_so_far = x->attempts - 1;
  if (!retryable || retries_so_far >= x->max_retries) {
    x->state = OA_X_DONE;
    return;
  }
  if (held >= 0) {
    /* a window of the budget holds the endpoint until the server's reopens: the retry books its
     * place there (and waits for it) like any request */
    delay = 0;
  } else if (delay < 0) {
    double r = oa_random01(&p->rng);
    if (x->code == CURLE_OK && x->status == 429 && p->rl.mode != OA_RL_OFF)
      /* no Retry-After and no window holds it: toward the window */
      delay = oa_rl_429_delay(&p->rl, retries_so_far, r);
    else
      delay = oa_retry_backoff(retries_so_far, r);
  }
  if (x->waited + delay > p->rl.max_wait) { /* the wait budget per call is spent */
    x->state = OA_X_DONE;
    return;
  }
  x->retry_waited += delay;
  x->waited += delay;
  x->due = now + delay;
  x->reserved = 0;
  x->state = OA_X_PENDING;
}

/* The rate budget would make the call wait past max_wait: it ends now. With an answer already
 * (the 429 that made it wait, typically) that answer is the outcome; before any attempt, a 429
 * made here, so the caller sees the same rate_limit error. */
static void fail_by_budget(oa_pool *p, oa_xfer *x, double wait) {
  if (x->attempts == 0) {
    char body[320];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"message\":\"Client rate budget: the request would wait %.1f s for "
                     "its window, past max_wait (%.1f s, %.1f s waited).\",\"type\":\"requests\","
                     "\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
                     x->waited + wait, p->rl.max_wait, x->waited);
    oa_buf_clear(&x->body_buf);
    oa_buf_clear(&x->hdr_buf);
    if (n > 0 && (size_t)n < sizeof body) oa_buf_append(&x->body_buf, body, (size_t)n);
    x->code = CURLE_OK;
    x->status = 429;
  }
  x->state = OA_X_DONE;
}

static void fail_to_start(oa_xfer *x) {
  if (x->easy) { /* not attached (add failed) */
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
  }
  if (x->retry_node) {
    x->retry_node->next = NULL;
    curl_slist_free_all(x->retry_node);
    x->retry_node = NULL;
  }
  if (x->errbuf[0] == '\0') snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror(x->code));
  x->attempts++;
  x->state = OA_X_DONE;
}

void oa_transport_run(oa_pool *p, oa_xfer *xs, int n, int concurrency) {
  if (concurrency < 1) concurrency = 1;
  if (p->multi == NULL) { /* released pool: cannot happen through the Lua API, fail safely */
    for (int i = 0; i < n; i++) {
      xs[i].code = CURLE_FAILED_INIT;
      fail_to_start(&xs[i]);
    }
    return;
  }
  int batch = n > 1;
  curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, batch ? (long)concurrency : 0L);
  curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)(concurrency > 16 ? concurrency : 16));

  double now = oa_now();
  for (int i = 0; i < n; i++) {
    oa_xfer *x = &xs[i];
    x->state = OA_X_PENDING;
    x->due = now;
    x->reserved = 0;
    x->attempts = 0;
    x->waited = x->retry_waited = 0;
    x->code = CURLE_OK;
    x->status = 0;
  }
  int remaining = n, running = 0;
  int fresh = 0;    /* items before this index have started at least once */
  int delayed = 0;  /* items waiting for a due time (retry or rate limit) */

  while (remaining > 0) {
    now = oa_now();
    double next_due = INFINITY;

    /* start what may start: delayed items need a full scan, fresh ones come in order */
    for (int i = delayed > 0 ? 0 : fresh; i < n && running < concurrency; i++) {
      oa_xfer *x = &xs[i];
      if (x->state != OA_X_PENDING) continue;
      int was_delayed = i < fresh || x->reserved;
      if (x->due > now) {
        if (x->due < next_due) next_due = x->due;
        continue;
      }
      if (!x->reserved) {
        double room = p->rl.max_wait - x->waited;
        double w = oa_rl_reserve(&p->rl, x->endpoint, now, room);
        if (w > room) { /* not booked: the call may not wait that long */
          if (was_delayed) delayed--;
          if (i >= fresh) fresh = i + 1;
          fail_by_budget(p, x, w);
          remaining--;
          continue;
        }
        x->reserved = 1;
        if (w > 0) {
          x->due = now + w;
          x->waited += w;
          if (x->due < next_due) next_due = x->due;
          if (i >= fresh) fresh = i + 1;
          if (!was_delayed) delayed++;
          continue;
        }
      }
      if (i >= fresh) fresh = i + 1;
      if (was_delayed) delayed--;
      if (start_attempt(p, x, batch) == 0) {
        running++;
      } else {
        fail_to_start(x);
        remaining--;
      }
    }
    if (remaining == 0) break;

    if (running == 0) { /* everyone is waiting: sleep to the first due time */
      if (isfinite(next_due)) oa_sleep(next_due - oa_now());
      continue;
    }

    int still = 0;
    curl_multi_perform(p->multi, &still);
    int finished = 0, left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      oa_xfer *x = NULL;
      CURLcode code = msg->data.result;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      x->code = code;
      end_attempt(p, x); /* invalidates msg */
      running--;
      finished++;
      decide(p, x, oa_now());
      if (x->state == OA_X_DONE) remaining--;
      else delayed++;
    }
    if (finished || remaining == 0) continue;

    double wait_ms = 1000;
    if (isfinite(next_due)) {
      double d = (next_due - oa_now()) * 1000.0;
      if (d < wait_ms) wait_ms = d < 0 ? 0 : d;
    }
    curl_multi_poll(p->multi, NULL, 0, (int)ceil(wait_ms), NULL);
  }
}
