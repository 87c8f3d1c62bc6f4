/* HTTP transport on curl's multi interface: one request is a batch of one. The pool owns the
 * multi handle (and with it the connection cache) and idle easy handles for reuse. */
#ifndef OPENAI_ADMIN_TRANSPORT_H
#define OPENAI_ADMIN_TRANSPORT_H
#include <stdint.h>
#include <curl/curl.h>

#include "buffer.h"
#include "ratelimit.h"

typedef struct oa_pool {
  CURLM *multi;
  CURLSH *share;        /* TLS sessions shared by all handles: new connections resume them */
  CURL **idle;          /* easy handles ready for reuse (reset, detached) */
  int n_idle, cap_idle;
  uint64_t rng;         /* jitter */
  int open_clients;     /* the last close releases the connections at once, not at GC */
  oa_ratelimit rl;
} oa_pool;

typedef enum { OA_GET, OA_POST, OA_DELETE } oa_method;
typedef enum { OA_X_PENDING, OA_X_RUNNING, OA_X_DONE } oa_xfer_state;

typedef struct oa_xfer {
  /* the request, filled in by the caller; strings point into Lua values kept alive by it */
  oa_method method;
  const char *path, *endpoint;
  const char *body;
  size_t body_len;
  char *url;                    /* owned */
  struct curl_slist *headers;   /* owned lines (per-request ones) */
  struct curl_slist *shared_tail; /* borrowed: the client's default lines, sent after ours */
  struct curl_slist *own_last;  /* while linked: our last node, whose next is shared_tail */
  int retry_count_header;       /* send X-Stainless-Retry-Count: <attempt> */
  long timeout_ms, connect_timeout_ms;
  int max_retries;

  /* scheduling */
  oa_xfer_state state;
  double due;                   /* monotonic time before which it must not start */
  int reserved;                 /* holds a rate-limit token for the next attempt */
  CURL *easy;
  struct curl_slist *retry_node;

  /* outcome of the last attempt */
  int attempts;
  double waited, retry_waited;
  CURLcode code;
  long status;
  oa_buf body_buf;
  oa_buf hdr_buf;               /* "name\0value\0" pairs, names lowercased, last response only */
  char errbuf[CURL_ERROR_SIZE];
} oa_xfer;

/* 0 on success, -1 when curl cannot make a multi handle. */
int oa_pool_init(oa_pool *p);
void oa_pool_free(oa_pool *p);

/* Runs every transfer to completion (with retries and rate-limit waits), at most `concurrency`
 * at a time. Never calls into Lua. On return no easy handle is attached to a transfer. */
void oa_transport_run(oa_pool *p, oa_xfer *xs, int n, int concurrency);

/* The last value of response header `name` (lowercase), or NULL. */
const char *oa_xfer_header(const oa_xfer *x, const char *name);

/* Frees what the transfer owns (idempotent). */
void oa_xfer_free(oa_xfer *x);

#endif
