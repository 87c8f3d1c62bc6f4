/* The engine: a queue of transfers on one curl multi handle, driven through
 * curl_multi_socket_action. Submit returns a handle at once; poll (or a host loop's
 * ready/timer calls) moves transfers forward; completed ones are collected in any order.
 * Retries, backoff and rate-budget holds are states of a transfer with a due time: nothing here
 * sleeps except poll, and only until its caller's deadline. Never calls into Lua. */
#ifndef OPENAI_ADMIN_ENGINE_H
#define OPENAI_ADMIN_ENGINE_H
#include <stdint.h>
#include <curl/curl.h>

#include "buffer.h"
#include "json.h"
#include "ratelimit.h"

typedef enum { OA_GET, OA_POST, OA_DELETE } oa_method;
typedef enum { OA_X_QUEUED, OA_X_RUNNING, OA_X_DONE } oa_xfer_state;

typedef struct oa_xfer {
  int64_t id;
  oa_xfer_state state;
  struct oa_xfer *prev, *next;  /* the engine's queue while QUEUED */
  const void *tag;              /* who submitted it (request_many finds its own) */

  /* the request: every string owned */
  oa_method method;
  char *path, *endpoint, *body, *url;
  size_t body_len;
  struct curl_slist *headers;   /* every line but the retry count: nodes and text in one block
                                 * of headers_bytes (wiped when freed: it holds the Authorization
                                 * line); curl only reads the list */
  size_t headers_bytes;
  int retry_count_header;       /* send X-Stainless-Retry-Count: <attempt> */
  int want_events;              /* OA_EVENTS_NONE / _NOTABLE / _ALL */
  int n_events_made;            /* events it recorded (client:request then says its handle) */
  int reply_headers;            /* the answer carries its headers table */
  int decode;                   /* a 2xx body is handed over decoded (res.json) */
  long timeout_ms, connect_timeout_ms;
  int max_retries;

  /* scheduling */
  double due;                   /* monotonic time before which it must not go further */
  int booked;                   /* holds a place of the rate budget for the next attempt */
  CURL *easy;
  struct curl_slist retry_node; /* the retry-count line in front of headers, rewritten per attempt */
  char retry_line[40];
  double attempt_start;

  /* outcome of the last attempt */
  int attempts;
  double waited;                /* every wait: backoff, Retry-After, budget */
  double own_wait;              /* the waits max_wait bounds: backoff, Retry-After, holds after a 429 */
  double hold_seen;             /* holds of the budget until then are counted in own_wait */
  double retry_after;           /* > 0: the server (or the budget) said when to try again */
  const char *err_code;         /* "tls", "response_too_large", "budget" or NULL */
  int too_large;
  curl_off_t max_body;           /* max_response_bytes of the running attempt */
  CURLcode code;
  long status;
  oa_buf body_buf;
  oa_buf hdr_buf;               /* "name\0value\0" pairs, names lowercased, last response only */
  char errbuf[CURL_ERROR_SIZE];
} oa_xfer;

typedef enum { OA_EV_ATTEMPT, OA_EV_WAIT } oa_event_type;
/* Which events a transfer records: none; the notable ones (waits, retried attempts, the last
 * attempt of a retried call), which is what a log above debug can show; or every attempt. */
enum { OA_EVENTS_NONE = 0, OA_EVENTS_NOTABLE = 1, OA_EVENTS_ALL = 2 };

typedef struct oa_event {
  oa_event_type type;
  int64_t handle;
  oa_method method;
  char *path, *endpoint, *error; /* owned */
  int attempt, curl_code;
  long status;
  char request_id[96];
  char retry[32];               /* why the attempt is retried ("" when final) */
  const char *reason;           /* wait: "budget", "backoff", "retry_after" */
  double elapsed_ms, seconds;
} oa_event;

typedef struct oa_sock {
  curl_socket_t fd;
  int what;                     /* CURL_POLL_IN / OUT / INOUT */
  long serial;                  /* a new socket on a reused fd number gets a new serial */
} oa_sock;

typedef struct oa_slot {
  oa_xfer *x;
  uint32_t gen;
} oa_slot;

/* Settings of the connection layer (config keys of core.client, shared by derived clients). */
/* Finished transfers an engine keeps for the next ones (their reply buffers are reused). */
#define OA_ENGINE_SPARES 16

typedef struct oa_conn_conf {
  char *ca_file, *ca_path, *proxy, *no_proxy;
  int insecure;
  curl_off_t max_response_bytes;
  long max_host_connections;
} oa_conn_conf;

typedef struct oa_engine {
  CURLM *multi;
  CURLSH *share;        /* TLS sessions shared by all handles: new connections resume them */
  CURL **idle;          /* easy handles ready for reuse (configured once, detached) */
  int n_idle, cap_idle;
  uint64_t rng;         /* jitter */
  int open_clients;     /* the last close releases the connections at once, not at GC */
  oa_ratelimit rl;
  oa_conn_conf conf;

  oa_slot *slots;       /* handle -> transfer: index in the low 32 bits, generation above */
  int n_slots, cap_slots;
  int *free_slots;
  int n_free;
  oa_xfer *q_head, *q_tail; /* QUEUED transfers in submission order */
  int n_running, n_live;
  int64_t *done;        /* completed, not yet collected */
  int n_done, cap_done;
  long n_completed;     /* completions ever: poll waits for this to move */
  oa_sock *socks;
  int n_socks, cap_socks;
  long sock_serial;
  double curl_due;      /* when libcurl's timer expires (monotonic), < 0: none */
  oa_event *events;
  int n_events, cap_events;
  long events_dropped;
  oa_json_hints hints;  /* reply shapes seen by this engine's decodes (src/json.h) */
  struct oa_xfer *spare[OA_ENGINE_SPARES]; /* finished transfers kept for reuse, buffers and all */
  int n_spare;
} oa_engine;

/* 0 on success, -1 when curl cannot make a multi handle. */
int oa_engine_init(oa_engine *e);
/* Cancels every transfer and releases libcurl's handles (idempotent). */
void oa_engine_free(oa_engine *e);

/* A new transfer, zeroed but for its id; the caller fills the request fields, then submits.
 * NULL when out of memory. */
oa_xfer *oa_engine_new_xfer(oa_engine *e);
/* Frees a transfer that was made by oa_engine_new_xfer and never submitted. */
void oa_engine_drop_xfer(oa_engine *e, oa_xfer *x);
/* Queues it (due now); the engine starts it at its next step. */
void oa_engine_submit(oa_engine *e, oa_xfer *x);

/* The live transfer of a handle, or NULL. */
oa_xfer *oa_engine_find(const oa_engine *e, int64_t h);
/* Takes a completed transfer off the done list; the caller reads it, then calls oa_engine_release. */
void oa_engine_take(oa_engine *e, oa_xfer *x);
/* Frees a transfer and its handle (whatever its state: a running one is detached from curl). */
void oa_engine_release(oa_engine *e, oa_xfer *x);

/* Runs until at least one more transfer completed or `timeout` seconds passed (< 0: no deadline; 0:
 * one non-blocking step). Returns the number of completed transfers not yet collected. */
int oa_engine_poll(oa_engine *e, double timeout);
/* A host loop saw `fd` ready (CURL_CSELECT_IN/OUT/ERR bits), or its timer fired (fd =
 * CURL_SOCKET_TIMEOUT). Never blocks. */
void oa_engine_action(oa_engine *e, curl_socket_t fd, int ev_bitmask);
/* Seconds until the engine needs a step (0 = now), or -1 when nothing is in it. */
double oa_engine_timeout(const oa_engine *e);

/* The last value of response header `name` (lowercase), or NULL. */
const char *oa_xfer_header(const oa_xfer *x, const char *name);

/* The response-header parser behind the header callback, non-static for fuzz/fuzz_headers.c:
 * adds one header line as libcurl hands it over (with its CR LF) to hdrs, "name\0value\0"
 * pairs with lowercased names and trimmed values; a status line starts over. 0, or -1 when the
 * headers grow past OA_HEADERS_MAX or memory runs out. oa_headers_find: the last value of a
 * (lowercase) name, or NULL. */
int oa_header_line(oa_buf *hdrs, const char *data, size_t n);
const char *oa_headers_find(const oa_buf *hdrs, const char *name);

/* Frees the strings of an event. */
void oa_event_free(oa_event *ev);

#endif
