/* The engine: transfers queue here, start when due (after the rate budget gave them a place),
 * run on libcurl's socket interface, and after each attempt are either done or queued again
 * with a due time (retry backoff, Retry-After, a window of the budget). */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"

#define OA_IDLE_MAX 64
#define OA_SPARE_MAX OA_ENGINE_SPARES
#define OA_SPARE_BUF_MAX (1024 * 1024)
#define OA_EVENTS_MAX 4096
#define OA_HEADERS_MAX (1024 * 1024) /* response header bytes kept per attempt */


static char *dup_str(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud);
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud);

/* --- sockets and timer, as libcurl reports them ----------------------------------------- */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  (void)easy;
  (void)socketp;
  oa_engine *e = userp;
  int i;
  for (i = 0; i < e->n_socks; i++)
    if (e->socks[i].fd == fd) break;
  if (what == CURL_POLL_REMOVE) {
    if (i < e->n_socks) e->socks[i] = e->socks[--e->n_socks];
    return 0;
  }
  if (i == e->n_socks) {
    if (e->n_socks == e->cap_socks) {
      int cap = e->cap_socks ? e->cap_socks * 2 : 16;
      oa_sock *s = realloc(e->socks, (size_t)cap * sizeof *s);
      if (s == NULL) return -1;
      e->socks = s;
      e->cap_socks = cap;
    }
    e->n_socks++;
    e->socks[i].fd = fd;
    e->socks[i].serial = ++e->sock_serial;
  }
  e->socks[i].what = what;
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  oa_engine *e = userp;
  e->curl_due = timeout_ms < 0 ? -1 : oa_now() + (double)timeout_ms / 1000.0;
  return 0;
}

/* --- lifetime ---------------------------------------------------------------------------- */

int oa_engine_init(oa_engine *e) {
  memset(e, 0, sizeof *e);
  oa_rl_init(&e->rl);
  e->rng = oa_random_seed();
  e->curl_due = -1;
  e->conf.max_response_bytes = (curl_off_t)256 * 1024 * 1024;
  e->conf.max_host_connections = 16;
  e->multi = curl_multi_init();
  if (e->multi == NULL) return -1;
  curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, (void *)e);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, (void *)e);
  curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->conf.max_host_connections);
  e->share = curl_share_init(); /* optional: without it only TLS resumption is lost */
  if (e->share) curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 0;
}

static void xfer_free(oa_xfer *x);

/* What a transfer owns but its buffers, freed (the buffers are kept by recycle). */
static void xfer_clear(oa_xfer *x) {
  free(x->path);
  free(x->endpoint);
  if (x->body) oa_wipe(x->body, x->body_len); /* a created key's secret may travel in a body */
  free(x->body);
  free(x->url);
  if (x->headers) oa_wipe(x->headers, x->headers_bytes);
  free(x->headers);
  if (x->easy) curl_easy_cleanup(x->easy);
  /* the reply of a create holds the new secret: gone before the memory is reused or freed */
  if (x->body_buf.data) oa_wipe(x->body_buf.data, x->body_buf.len);
}

/* A finished transfer goes to the engine's spares with its buffers' memory (a request then
 * allocates nothing for its reply), or is freed. */
static void xfer_recycle(oa_engine *e, oa_xfer *x) {
  if (e->n_spare >= OA_SPARE_MAX) {
    xfer_free(x);
    return;
  }
  xfer_clear(x);
  oa_buf body = x->body_buf, hdr = x->hdr_buf;
  memset(x, 0, sizeof *x);
  x->body_buf = body;
  x->hdr_buf = hdr;
  oa_buf_clear(&x->body_buf);
  oa_buf_clear(&x->hdr_buf);
  if (x->body_buf.cap > OA_SPARE_BUF_MAX) oa_buf_free(&x->body_buf); /* an odd huge reply: not kept */
  e->spare[e->n_spare++] = x;
}

static void xfer_free(oa_xfer *x) {
  xfer_clear(x);
  oa_buf_free(&x->body_buf);
  oa_buf_free(&x->hdr_buf);
  free(x);
}

void oa_event_free(oa_event *ev) {
  free(ev->path);
  free(ev->endpoint);
  free(ev->error);
  ev->path = ev->endpoint = ev->error = NULL;
}

void oa_engine_free(oa_engine *e) {
  for (int i = 0; i < e->n_slots; i++) {
    oa_xfer *x = e->slots[i].x;
    if (x == NULL) continue;
    if (x->easy && e->multi) curl_multi_remove_handle(e->multi, x->easy);
    xfer_free(x);
    e->slots[i].x = NULL;
  }
  free(e->slots);
  free(e->free_slots);
  e->slots = NULL;
  e->free_slots = NULL;
  e->n_slots = e->cap_slots = e->n_free = 0;
  e->q_head = e->q_tail = NULL;
  e->n_running = e->n_live = 0;
  free(e->done);
  e->done = NULL;
  e->n_done = e->cap_done = 0;
  for (int i = 0; i < e->n_idle; i++) curl_easy_cleanup(e->idle[i]);
  free(e->idle);
  e->idle = NULL;
  e->n_idle = e->cap_idle = 0;
  for (int i = 0; i < e->n_spare; i++) xfer_free(e->spare[i]);
  e->n_spare = 0;
  if (e->multi) curl_multi_cleanup(e->multi);
  e->multi = NULL;
  free(e->socks);
  e->socks = NULL;
  e->n_socks = e->cap_socks = 0;
  if (e->share) curl_share_cleanup(e->share); /* no handle uses it any more: all were reset */
  e->share = NULL;
  for (int i = 0; i < e->n_events; i++) oa_event_free(&e->events[i]);
  free(e->events);
  e->events = NULL;
  e->n_events = e->cap_events = 0;
  free(e->conf.ca_file);
  free(e->conf.ca_path);
  free(e->conf.proxy);
  free(e->conf.no_proxy);
  e->conf.ca_file = e->conf.ca_path = e->conf.proxy = e->conf.no_proxy = NULL;
  oa_rl_free(&e->rl);
}

/* --- handles ------------------------------------------------------------------------------ */

oa_xfer *oa_engine_new_xfer(oa_engine *e) {
  int idx;
  if (e->n_free > 0) {
    idx = e->free_slots[--e->n_free];
  } else {
    if (e->n_slots == e->cap_slots) {
      int cap = e->cap_slots ? e->cap_slots * 2 : 32;
      oa_slot *s = realloc(e->slots, (size_t)cap * sizeof *s);
      if (s == NULL) return NULL;
      e->slots = s;
      int *f = realloc(e->free_slots, (size_t)cap * sizeof *f);
      if (f == NULL) return NULL;
      e->free_slots = f;
      e->cap_slots = cap;
    }
    idx = e->n_slots++;
    e->slots[idx].gen = 0;
    e->slots[idx].x = NULL;
  }
  oa_xfer *x = e->n_spare > 0 ? e->spare[--e->n_spare] : calloc(1, sizeof *x);
  if (x == NULL) {
    e->free_slots[e->n_free++] = idx;
    return NULL;
  }
  e->slots[idx].gen++;
  e->slots[idx].x = x;
  x->id = ((int64_t)(e->slots[idx].gen & 0x7fffffff) << 32) | (int64_t)idx;
  x->state = OA_X_DONE; /* not queued anywhere until submitted */
  x->retry_after = -1;
  e->n_live++;
  return x;
}

oa_xfer *oa_engine_find(const oa_engine *e, int64_t h) {
  if (h < 0) return NULL;
  int64_t idx = h & 0xffffffff;
  uint32_t gen = (uint32_t)(h >> 32);
  if (idx >= e->n_slots) return NULL;
  oa_xfer *x = e->slots[idx].x;
  if (x == NULL || (e->slots[idx].gen & 0x7fffffff) != gen) return NULL;
  return x;
}

static void q_unlink(oa_engine *e, oa_xfer *x) {
  if (x->prev) x->prev->next = x->next;
  else e->q_head = x->next;
  if (x->next) x->next->prev = x->prev;
  else e->q_tail = x->prev;
  x->prev = x->next = NULL;
}

static void q_append(oa_engine *e, oa_xfer *x) {
  x->prev = e->q_tail;
  x->next = NULL;
  if (e->q_tail) e->q_tail->next = x;
  else e->q_head = x;
  e->q_tail = x;
  x->state = OA_X_QUEUED;
}

void oa_engine_submit(oa_engine *e, oa_xfer *x) {
  x->due = oa_now();
  x->booked = 0;
  x->attempts = 0;
  x->waited = x->own_wait = 0;
  x->code = CURLE_OK;
  x->status = 0;
  q_append(e, x);
}

static void done_remove(oa_engine *e, int64_t id) {
  for (int i = e->n_done - 1; i >= 0; i--)
    if (e->done[i] == id) {
      memmove(e->done + i, e->done + i + 1, (size_t)(e->n_done - i - 1) * sizeof *e->done);
      e->n_done--;
      return;
    }
}

void oa_engine_take(oa_engine *e, oa_xfer *x) { done_remove(e, x->id); }

/* A new easy handle with the options that are the same for every transfer of this engine
 * (set once: curl_easy_reset and setting them again per request cost more than the rest of
 * the request's own work; docs/performance.md). */
static CURL *new_handle(oa_engine *e) {
  CURL *h = curl_easy_init();
  if (h == NULL) return NULL;
  const oa_conn_conf *cf = &e->conf;
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  /* gzip: a big pull moves 3-17x fewer bytes for a few percent more CPU (docs/performance.md,
   * gzip); one encoding, as the header curl writes per request is cheaper the shorter it is */
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
  if (e->share) curl_easy_setopt(h, CURLOPT_SHARE, e->share);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, cf->max_response_bytes);
  if (cf->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, cf->ca_file);
  if (cf->ca_path) curl_easy_setopt(h, CURLOPT_CAPATH, cf->ca_path);
  if (cf->insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (cf->proxy) curl_easy_setopt(h, CURLOPT_PROXY, cf->proxy);
  if (cf->no_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, cf->no_proxy);
  return h;
}

/* Clears what points into a transfer, so an idle handle holds no pointer into freed memory. */
static void unbind(CURL *h) {
  curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
}

/* Detaches the handle from the multi (its connection stays in the multi's cache) and keeps it
 * for the next request. */
static void give_back(oa_engine *e, CURL *h) {
  curl_multi_remove_handle(e->multi, h);
  unbind(h);
  if (e->n_idle == e->cap_idle && e->cap_idle < OA_IDLE_MAX) {
    int cap = e->cap_idle ? e->cap_idle * 2 : 4;
    CURL **idle = realloc(e->idle, (size_t)cap * sizeof *idle);
    if (idle) {
      e->idle = idle;
      e->cap_idle = cap;
    }
  }
  if (e->n_idle < e->cap_idle) e->idle[e->n_idle++] = h;
  else curl_easy_cleanup(h);
}

void oa_engine_release(oa_engine *e, oa_xfer *x) {
  if (x->state == OA_X_QUEUED) q_unlink(e, x);
  else if (x->state == OA_X_DONE) done_remove(e, x->id);
  if (x->easy) {
    if (e->multi) give_back(e, x->easy);
    else curl_easy_cleanup(x->easy);
    x->easy = NULL;
    e->n_running--;
  }
  int idx = (int)(x->id & 0xffffffff);
  e->slots[idx].x = NULL;
  e->free_slots[e->n_free++] = idx;
  e->n_live--;
  xfer_recycle(e, x);
}

void oa_engine_drop_xfer(oa_engine *e, oa_xfer *x) {
  x->state = OA_X_DONE; /* on no list (never submitted): release only frees */
  int idx = (int)(x->id & 0xffffffff);
  e->slots[idx].x = NULL;
  e->free_slots[e->n_free++] = idx;
  e->n_live--;
  xfer_recycle(e, x);
}

const char *oa_headers_find(const oa_buf *hdrs, const char *name) {
  if (hdrs->data == NULL) return NULL; /* no header yet (NULL + 0 is undefined: fuzz finding) */
  const char *found = NULL, *p = hdrs->data, *end = p + hdrs->len;
  while (p && p < end) {
    const char *value = p + strlen(p) + 1;
    if (strcmp(p, name) == 0) found = value;
    p = value + strlen(value) + 1;
  }
  return found;
}

const char *oa_xfer_header(const oa_xfer *x, const char *name) { return oa_headers_find(&x->hdr_buf, name); }

/* --- events ------------------------------------------------------------------------------- */

static oa_event *new_event(oa_engine *e, oa_xfer *x, oa_event_type type) {
  if (!x->want_events) return NULL;
  if (e->n_events >= OA_EVENTS_MAX) { /* nobody drains them: keep memory bounded */
    e->events_dropped++;
    return NULL;
  }
  if (e->n_events == e->cap_events) {
    int cap = e->cap_events ? e->cap_events * 2 : 16;
    oa_event *ev = realloc(e->events, (size_t)cap * sizeof *ev);
    if (ev == NULL) return NULL;
    e->events = ev;
    e->cap_events = cap;
  }
  oa_event *ev = &e->events[e->n_events++];
  x->n_events_made++;
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  ev->handle = x->id;
  ev->method = x->method;
  ev->path = dup_str(x->path);
  ev->endpoint = dup_str(x->endpoint);
  return ev;
}

static void wait_event(oa_engine *e, oa_xfer *x, double seconds, const char *reason) {
  oa_event *ev = new_event(e, x, OA_EV_WAIT);
  if (ev == NULL) return;
  ev->attempt = x->attempts + 1;
  ev->seconds = seconds;
  ev->reason = reason;
}

/* --- curl callbacks: they only append to C buffers ------------------------------------- */

/* Appends to the body unless that passes max_response_bytes: then the attempt ends (the
 * caller turns it into its own error, never unbounded memory). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  oa_xfer *x = ud;
  size_t n = size * nmemb;
  if ((curl_off_t)(x->body_buf.len + n) > x->max_body) {
    x->too_large = 1;
    return 0;
  }
  return oa_buf_append(&x->body_buf, data, n) == 0 ? n : 0;
}

int oa_header_line(oa_buf *hdrs, const char *data, size_t n) {
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) { /* a new response (after 1xx): forget the old */
    oa_buf_clear(hdrs);
    return 0;
  }
  if (hdrs->len + n > OA_HEADERS_MAX) return -1;
  /* a NUL byte would end the value early and make the rest read as another header ("x: a\0
   * retry-after\0 99" set a Retry-After): such a line is not a header (fuzz finding) */
  if (memchr(data, '\0', n) != NULL) return 0;
  const char *colon = memchr(data, ':', n);
  if (colon == NULL || colon == data) return 0; /* blank line or folded continuation */
  size_t name_len = (size_t)(colon - data);
  const char *v = colon + 1, *vend = data + n;
  while (v < vend && (*v == ' ' || *v == '\t')) v++;
  while (vend > v && (vend[-1] == '\r' || vend[-1] == '\n' || vend[-1] == ' ' || vend[-1] == '\t')) vend--;
  size_t vlen = (size_t)(vend - v);
  if (oa_buf_reserve(hdrs, name_len + vlen + 2) != 0) return -1;
  /* "name\0value\0", the name lowercased (ASCII: header names are tokens) */
  char *out = hdrs->data + hdrs->len;
  for (size_t i = 0; i < name_len; i++) {
    unsigned char c = (unsigned char)data[i];
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out[name_len] = '\0';
  memcpy(out + name_len + 1, v, vlen);
  out[name_len + 1 + vlen] = '\0';
  hdrs->len += name_len + vlen + 2;
  return 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  oa_xfer *x = ud;
  size_t n = size * nmemb;
  return oa_header_line(&x->hdr_buf, data, n) == 0 ? n : 0;
}

/* --- attempts --------------------------------------------------------------------------- */

static void finish(oa_engine *e, oa_xfer *x) {
  x->state = OA_X_DONE;
  if (e->n_done == e->cap_done) {
    int cap = e->cap_done ? e->cap_done * 2 : 32;
    int64_t *d = realloc(e->done, (size_t)cap * sizeof *d);
    if (d == NULL) { /* cannot report it: keep trying at the next completion */
      x->state = OA_X_QUEUED;
      q_append(e, x);
      x->due = oa_now() + 0.01;
      return;
    }
    e->done = d;
    e->cap_done = cap;
  }
  e->done[e->n_done++] = x->id;
  e->n_completed++;
}

static int is_tls_code(CURLcode c) {
  switch (c) {
  case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER: case CURLE_USE_SSL_FAILED: case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
    return 1;
  default:
    return 0;
  }
}

static void fail_now(oa_engine *e, oa_xfer *x, CURLcode code, const char *msg) {
  x->code = code;
  if (msg) snprintf(x->errbuf, sizeof x->errbuf, "%s", msg);
  else if (x->errbuf[0] == '\0') snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror(code));
  x->attempts++;
  finish(e, x);
}

static int start_attempt(oa_engine *e, oa_xfer *x) {
  CURL *h = e->n_idle > 0 ? e->idle[--e->n_idle] : new_handle(e);
  if (h == NULL) return -1;
  oa_buf_clear(&x->body_buf);
  oa_buf_clear(&x->hdr_buf);
  x->errbuf[0] = '\0';
  x->status = 0;
  x->too_large = 0;
  x->err_code = NULL;
  x->max_body = e->conf.max_response_bytes;

  /* the list sent: the retry count first (a node of the transfer, rewritten per attempt), then
   * the request's own lines */
  struct curl_slist *sent = x->headers;
  if (x->retry_count_header) {
    snprintf(x->retry_line, sizeof x->retry_line, "X-Stainless-Retry-Count: %d", x->attempts);
    x->retry_node.data = x->retry_line;
    x->retry_node.next = x->headers;
    sent = &x->retry_node;
  }

  curl_easy_setopt(h, CURLOPT_URL, x->url);
  curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)x);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)x);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, sent);
  /* over TLS, wait for a connection that may speak HTTP/2 rather than open one per transfer;
   * plain http is HTTP/1.1 here: a transfer takes a free connection or opens its own */
  curl_easy_setopt(h, CURLOPT_PIPEWAIT, strncmp(x->url, "https:", 6) == 0 ? 1L : 0L);
  /* the handle is reused: every method sets all that the last one may have set */
  if (x->method == OA_POST || x->body != NULL) {
    /* POST without a body: an explicit empty one (Content-Length: 0), never a read callback */
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(x->body ? x->body_len : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body ? x->body : "");
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method == OA_DELETE ? "DELETE" : NULL);

  CURLMcode mc = curl_multi_add_handle(e->multi, h);
  if (mc != CURLM_OK) {
    curl_easy_cleanup(h);
    fail_now(e, x, mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT, curl_multi_strerror(mc));
    return 0;
  }
  x->easy = h;
  x->state = OA_X_RUNNING;
  x->attempt_start = oa_now();
  e->n_running++;
  return 0;
}

/* The place of a decision in the event: why the attempt is retried. */
static void attempt_event(oa_engine *e, oa_xfer *x, double now, const char *retry) {
  /* a first attempt that is final is a debug line: below debug it is not worth an event */
  if (x->want_events == OA_EVENTS_NOTABLE && retry == NULL && x->attempts <= 1) return;
  oa_event *ev = new_event(e, x, OA_EV_ATTEMPT);
  if (ev == NULL) return;
  ev->attempt = x->attempts;
  ev->elapsed_ms = (now - x->attempt_start) * 1000.0;
  if (x->code == CURLE_OK) {
    ev->status = x->status;
    const char *rid = oa_xfer_header(x, "x-request-id");
    if (rid) snprintf(ev->request_id, sizeof ev->request_id, "%s", rid);
  } else {
    ev->curl_code = (int)x->code;
    ev->error = dup_str(x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
  }
  if (retry) snprintf(ev->retry, sizeof ev->retry, "%s", retry);
}

static void requeue(oa_engine *e, oa_xfer *x, double now, double delay, const char *reason) {
  x->waited += delay;
  x->due = now + delay;
  x->booked = 0;
  if (delay > 0) wait_event(e, x, delay, reason);
  q_append(e, x);
}

/* After an attempt: done, or queued again with a due time. max_wait bounds the waits an answer
 * imposes on the call (backoff, Retry-After, a window a 429 closed, counted from the 429 to its
 * reopening), never its place in the budget's queue behind requests queued before it. */
static void decide(oa_engine *e, oa_xfer *x, double now) {
  int retryable;
  double delay = -1, held = -1;
  const char *why = NULL;
  char whybuf[32];
  if (x->code != CURLE_OK) {
    retryable = oa_retry_curl_retryable(x->code);
    if (is_tls_code(x->code)) x->err_code = "tls";
    if (x->too_large || x->code == CURLE_FILESIZE_EXCEEDED) {
      x->err_code = "response_too_large";
      retryable = 0;
      snprintf(x->errbuf, sizeof x->errbuf, "the reply is larger than max_response_bytes (%lld bytes)",
               (long long)e->conf.max_response_bytes);
    }
    why = x->code == CURLE_OPERATION_TIMEDOUT ? "timeout" : "connection";
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
      held = oa_rl_observe_429(&e->rl, x->endpoint, limit ? strtod(limit, NULL) : 0, reset, now);
    } else {
      oa_rl_observe_ok(&e->rl, x->endpoint, now);
    }
    snprintf(whybuf, sizeof whybuf, "status %ld", x->status);
    why = whybuf;
    if (!retryable) delay = -1;
  }
  int retries_so_far = x->attempts - 1;
  if (!retryable || retries_so_far >= x->max_retries) {
    attempt_event(e, x, now, NULL);
    finish(e, x);
    return;
  }
  const char *reason = "backoff";
  if (held >= 0) {
    /* a window of the budget holds the endpoint until the server's reopens: the retry books its
     * place there like any request; only the hold itself counts toward max_wait */
    held = oa_rl_held(&e->rl, x->endpoint, now);
    if (delay > held) held = delay;
    if (x->own_wait + held > e->rl.max_wait) {
      x->retry_after = held;
      attempt_event(e, x, now, NULL);
      finish(e, x);
      return;
    }
    x->own_wait += held;
    x->hold_seen = now + held;
    attempt_event(e, x, now, why);
    requeue(e, x, now, 0, "budget");
    return;
  }
  if (delay >= 0) {
    reason = "retry_after";
  } else {
    double r = oa_random01(&e->rng);
    if (x->code == CURLE_OK && x->status == 429 && e->rl.mode != OA_RL_OFF)
      delay = oa_rl_429_delay(&e->rl, retries_so_far, r); /* no Retry-After, no window holds it */
    else
      delay = oa_retry_backoff(retries_so_far, r);
  }
  if (x->own_wait + delay > e->rl.max_wait) { /* the call may not wait that long: it ends now */
    if (reason[0] == 'r' || x->status == 429) x->retry_after = delay;
    attempt_event(e, x, now, NULL);
    finish(e, x);
    return;
  }
  x->own_wait += delay;
  attempt_event(e, x, now, why);
  requeue(e, x, now, delay, reason);
}

/* The budget refuses before anything was sent: the endpoint is held (a 429 closed its window)
 * for longer than max_wait. */
static void refuse_by_budget(oa_engine *e, oa_xfer *x, double held) {
  x->code = CURLE_OK;
  x->status = 0;
  x->err_code = "budget";
  x->retry_after = held;
  snprintf(x->errbuf, sizeof x->errbuf,
           "client rate budget: the endpoint is held for %.1f s by the server's rate limit, past max_wait "
           "(%.1f s); nothing was sent, retry after %.1f s",
           held, e->rl.max_wait, held);
  finish(e, x);
}

/* Collects finished attempts from libcurl. Returns how many. */
static int read_finished(oa_engine *e) {
  int n = 0, left;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE) continue;
    oa_xfer *x = NULL;
    CURLcode code = msg->data.result;
    CURL *h = msg->easy_handle;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
    x->code = code;
    if (code == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
    give_back(e, h); /* invalidates msg */
    x->easy = NULL;
    e->n_running--;
    x->attempts++;
    n++;
    decide(e, x, oa_now());
  }
  return n;
}

/* Moves queued transfers forward: books their place in the budget (a wait becomes their due
 * time), starts those due. In submission order, so the budget's places go first come first. */
static int start_due(oa_engine *e, double now) {
  int started = 0;
  oa_xfer *x = e->q_head;
  while (x) {
    oa_xfer *next = x->next;
    if (x->due <= now) {
      if (!x->booked) {
        /* the part of a hold not yet counted for this call (a 429's retry counted its own) */
        double held = oa_rl_held(&e->rl, x->endpoint, now);
        double extra = now + held - (x->hold_seen > now ? x->hold_seen : now);
        if (extra < 0) extra = 0;
        if (extra > 0 && x->own_wait + extra > e->rl.max_wait) {
          q_unlink(e, x);
          if (x->attempts == 0) refuse_by_budget(e, x, held);
          else { /* after an answer: that answer stays the outcome */
            x->retry_after = held;
            finish(e, x);
          }
          x = next;
          continue;
        }
        x->own_wait += extra;
        if (now + held > x->hold_seen) x->hold_seen = now + held;
        /* a place only in a window open now: one booked windows ahead would stay booked
         * when the budget learns a lower limit meanwhile; waiting unbooked, it asks again when
         * the window it waits for opens, in queue order */
        double w = oa_rl_reserve(&e->rl, x->endpoint, now, 0);
        if (w > 0) {
          x->due = now + w;
          x->waited += w;
          wait_event(e, x, w, "budget");
          x = next;
          continue;
        }
        x->booked = 1;
      }
      q_unlink(e, x);
      if (start_attempt(e, x) != 0) fail_now(e, x, CURLE_OUT_OF_MEMORY, NULL);
      started++;
    }
    x = next;
  }
  return started;
}

static void curl_timeout_action(oa_engine *e) {
  int running;
  e->curl_due = -1;
  curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* One round of work without blocking: libcurl's expired timer, finished attempts, due starts,
 * until nothing more moves right now. */
static void step(oa_engine *e) {
  if (e->multi == NULL) return;
  for (int round = 0; round < 8; round++) {
    double now = oa_now();
    if (e->curl_due >= 0 && e->curl_due <= now) curl_timeout_action(e);
    int moved = read_finished(e);
    moved += start_due(e, oa_now());
    if (e->curl_due >= 0 && e->curl_due <= oa_now()) {
      curl_timeout_action(e);
      moved += read_finished(e);
    }
    if (!moved) break;
  }
}

void oa_engine_action(oa_engine *e, curl_socket_t fd, int ev) {
  if (e->multi == NULL) return;
  if (fd != CURL_SOCKET_TIMEOUT) {
    int running;
    curl_multi_socket_action(e->multi, fd, ev, &running);
  } else {
    curl_timeout_action(e);
  }
  step(e);
}

double oa_engine_timeout(const oa_engine *e) {
  if (e->multi == NULL || (e->q_head == NULL && e->n_running == 0)) return -1;
  double now = oa_now(), due = INFINITY;
  if (e->curl_due >= 0) due = e->curl_due;
  for (const oa_xfer *x = e->q_head; x; x = x->next)
    if (x->due < due) due = x->due;
  if (!isfinite(due)) return e->n_running > 0 ? 1.0 : -1; /* a running transfer: check back */
  return due > now ? due - now : 0;
}

int oa_engine_poll(oa_engine *e, double timeout) {
  if (e->multi == NULL) return e->n_done;
  double deadline = timeout < 0 ? INFINITY : oa_now() + timeout;
  struct pollfd local[16], *fds = local;
  int cap = 16;
  long before = e->n_completed;
  int events_before = e->n_events;
  step(e);
  /* back with a completion, or with events to hand to a log (a call that retries says so now) */
  while (e->n_completed == before && e->n_events == events_before) {
    double t = oa_engine_timeout(e);
    if (t < 0) break; /* nothing in the engine can complete */
    double now = oa_now();
    if (now >= deadline) break;
    double wait = now + t < deadline ? t : deadline - now;
    if (wait > 1.0) wait = 1.0; /* a safety net: libcurl's timer governs */
    if (e->n_socks > cap) {
      struct pollfd *g = fds == local ? malloc((size_t)e->n_socks * sizeof *g)
                                      : realloc(fds, (size_t)e->n_socks * sizeof *g);
      if (g == NULL) break;
      fds = g;
      cap = e->n_socks;
    }
    int n = e->n_socks;
    for (int i = 0; i < n; i++) {
      fds[i].fd = e->socks[i].fd;
      fds[i].events = (short)(((e->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                              ((e->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
      fds[i].revents = 0;
    }
    int ms = (int)ceil(wait * 1000.0);
    int rc = poll(fds, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR) break;
    if (rc > 0) {
      for (int i = 0; i < n; i++) {
        if (fds[i].revents == 0) continue;
        int ev = 0;
        if (fds[i].revents & POLLIN) ev |= CURL_CSELECT_IN;
        if (fds[i].revents & POLLOUT) ev |= CURL_CSELECT_OUT;
        if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) ev |= CURL_CSELECT_ERR;
        int running;
        curl_multi_socket_action(e->multi, fds[i].fd, ev, &running);
      }
    }
    step(e);
  }
  if (fds != local) free(fds);
  return e->n_done;
}
