/*
 * openai_admin.fake.httpd -- the HTTP/1.1 host of the fake Admin API.
 *
 * libmicrohttpd in EXTERNAL polling mode (no MHD threads), suspend/resume enabled.
 * Lua is never called from a libmicrohttpd callback:
 *
 *   - the access handler copies method, path, raw query, headers and the upload body into a
 *     `struct req` (C memory), then puts the request on the ready queue and SUSPENDS its
 *     connection;
 *   - srv:poll(timeout) runs MHD (epoll or select on MHD's fds, bounded by MHD_get_timeout and
 *     the delay timers) until the ready queue is non-empty or the timeout passes, and hands the
 *     queued requests to Lua;
 *   - srv:respond(id, ...) builds the MHD response, then resumes the connection now or, with
 *     opts.delay, puts the request on a timer heap and resumes it when due (delays overlap across
 *     connections; nothing blocks);
 *   - when MHD calls the access handler again for the resumed connection, it queues the prepared
 *     response (or returns MHD_NO for fault "drop").
 *
 * Connection deadlines (why: a client must not hold a connection slot forever). A connection
 * has to deliver a complete request within request_timeout of connecting (or, on keep-alive, of
 * its request line arriving, after at most idle_timeout idle), however slowly it drips bytes;
 * when the deadline passes the host shuts the socket down and libmicrohttpd closes it. This also
 * frees clients that half-closed after an incomplete request (libmicrohttpd's edge-triggered
 * epoll can miss their FIN and leave the socket in CLOSE-WAIT); a client that half-closed after
 * a complete request gets its answer and is then closed. While the app answers, no deadline runs.
 * Deadlines are appended in time order with one constant per list, so each list is a FIFO.
 * Beyond max_connections a small reserve is accepted only to be refused: such a connection gets
 * a 503 (code "connection_limit", Retry-After: 1, Connection: close) as soon as its request
 * header arrives, or is closed after REFUSE_TIMEOUT; beyond the reserve libmicrohttpd stops
 * accepting until a slot frees.
 *
 * Data structures, all O(1) or O(log n) per request: ready queue (doubly linked FIFO), id -> req
 * hash table (requests handed out or queued, not yet answered), binary min-heap of delayed
 * responses, doubly linked list of every live request (for shutdown).
 *
 * Lua API (see also docs/internals.md, "The fake server"):
 *
 *   local httpd = require "openai_admin.fake.httpd"     -- httpd.mhd_version, httpd._VERSION
 *   local srv, err = httpd.new{ host = "127.0.0.1", port = 0, max_body = 1048576,
 *                               max_connections = 1000, idle_timeout = 60 (s),
 *                               request_timeout = 10 (s),
 *                               signals = false,   -- true: SIGINT/SIGTERM make poll return nil
 *                               debug = false,     -- true: libmicrohttpd's error log on stderr
 *                               backend = "epoll"|"select" }  -- default epoll when available
 *   srv:port()                 -> the bound port
 *   srv:poll([timeout])        -> list of requests (empty on timeout; nil timeout = wait forever)
 *                                 | nil, "signal", signum  (signals = true only)
 *       request = { id, method, path (decoded), raw_path (as sent, undecoded, without the query),
 *                   query (raw, "" if none), headers = { lowercase
 *                   name = value, repeats joined with ", " }, body (nil when empty), conn_id,
 *                   body_too_large = true|nil }
 *   srv:respond(id, status, headers, body, { delay = s, fault = "drop"|"truncate" })
 *                              -> true | nil, "unknown or already answered request id N"
 *   srv:stats()                -> counters (requests, responses, connections, max_open_connections,
 *                                 max_delayed, max_suspended, ...; backend = "epoll"|"select")
 *   srv:close()                idempotent; also __gc and __close.   srv:is_closed()
 *   httpd.signalled()          -> the caught signal number or nil
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../version.h"
#include <time.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM != 504
#error "openai_admin.fake.httpd needs Lua 5.4"
#endif

#if MHD_VERSION < 0x00097206
#error "openai_admin.fake.httpd needs libmicrohttpd >= 0.9.72"
#endif

#define SERVER_MT "openai_admin.fake.httpd.server"
#define DEFAULT_MAX_BODY ((size_t)1048576)
#define DEFAULT_MAX_CONNECTIONS 1000u
#define DEFAULT_IDLE_TIMEOUT 60u
#define DEFAULT_REQUEST_TIMEOUT 10.0
#define CONN_RESERVE 64u      /* accepted beyond max_connections, to be refused with a 503 */
#define REFUSE_TIMEOUT 1.0    /* seconds a refused connection has to send its request header */
#define CONN_MEMORY_LIMIT ((size_t)64 * 1024)

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                   */

enum req_state {
  RS_READING = 0, /* headers/body arriving */
  RS_QUEUED,      /* complete, on the ready queue, connection suspended */
  RS_PENDING,     /* handed to Lua by poll, connection suspended */
  RS_DELAYED,     /* answered with a delay: on the timer heap, connection suspended */
  RS_RESUMED,     /* answered, connection resumed: the access handler sends the response */
  RS_DONE         /* response queued with MHD (or dropped) */
};

enum fault { FAULT_NONE = 0, FAULT_DROP, FAULT_TRUNCATE };

struct server;

/* Deadline lists: one constant timeout each, so appending keeps each sorted by due time. */
enum { DL_NONE = 0, DL_REQUEST, DL_IDLE, DL_REFUSE, DL_COUNT };

struct conn {
  long long id;
  int fd;
  int refused;  /* accepted beyond max_connections: answered 503 */
  int dl;       /* the deadline list it is on (DL_NONE: none) */
  double due;   /* monotonic seconds */
  struct conn *dprev, *dnext;
};

struct dlist {
  struct conn *head, *tail;
};

struct req {
  struct server *srv;
  struct MHD_Connection *conn;
  lua_Integer id; /* 0 until queued */
  int state;
  int started;     /* first access-handler call seen */
  int too_large;   /* body exceeded max_body: not buffered */
  int suspended;
  int fault;
  long long conn_id;
  struct conn *cn; /* its connection's context (NULL if it could not be allocated) */
  char *uri;    /* raw request target (from the URI log callback) */
  char *method; /* copies */
  char *path;   /* decoded path, as MHD gives it */
  char *hdrs;   /* "name\0value\0" pairs, names lowercased */
  size_t hdrs_len, hdrs_cap;
  char *body;
  size_t body_len, body_cap;
  struct MHD_Response *resp;
  unsigned int status;
  double due;      /* monotonic seconds, RS_DELAYED only */
  size_t heap_idx; /* index in srv->heap, RS_DELAYED only */
  struct req *qprev, *qnext; /* ready queue */
  struct req *hnext;         /* id hash chain */
  struct req *aprev, *anext; /* all live requests */
};

struct server {
  struct MHD_Daemon *d;
  char host[64];
  int port;
  int epoll_fd; /* -1: select mode */
  int catches_signals;
  int closing; /* server_stop running: new requests are refused (no new suspensions) */
  size_t max_body;
  unsigned int max_conn;
  double timeouts[DL_COUNT]; /* seconds per deadline list */
  struct dlist dl[DL_COUNT];
  lua_Integer next_id;
  long long next_conn_id;
  /* ready queue */
  struct req *q_head, *q_tail;
  size_t q_len;
  /* id -> req (queued or pending) */
  struct req **buckets;
  size_t nbuckets, nhashed;
  /* delayed responses: binary min-heap on due */
  struct req **heap;
  size_t heap_len, heap_cap;
  /* every live request */
  struct req *all;
  /* statistics */
  lua_Integer st_requests, st_responses, st_drops, st_truncates, st_too_large, st_delayed;
  lua_Integer st_connections, st_open, st_max_open, st_max_delayed, st_max_suspended;
  lua_Integer st_suspended, st_refused, st_timed_out, st_half_closed;
};

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- connection deadlines --- */

static void dl_unlink(struct server *s, struct conn *cn) {
  struct dlist *l;
  if (cn->dl == DL_NONE) return;
  l = &s->dl[cn->dl];
  if (cn->dprev) cn->dprev->dnext = cn->dnext; else l->head = cn->dnext;
  if (cn->dnext) cn->dnext->dprev = cn->dprev; else l->tail = cn->dprev;
  cn->dprev = cn->dnext = NULL;
  cn->dl = DL_NONE;
}

/* Puts cn on list `which` due now + that list's timeout (replacing any deadline it had). */
static void dl_set(struct server *s, struct conn *cn, int which, double now) {
  struct dlist *l = &s->dl[which];
  dl_unlink(s, cn);
  cn->dl = which;
  cn->due = now + s->timeouts[which];
  cn->dnext = NULL;
  cn->dprev = l->tail;
  if (l->tail) l->tail->dnext = cn; else l->head = cn;
  l->tail = cn;
}

/* Earliest deadline over all lists, or HUGE_VAL. */
static double dl_next_due(const struct server *s) {
  double due = HUGE_VAL;
  int i;
  for (i = 1; i < DL_COUNT; i++)
    if (s->dl[i].head && s->dl[i].head->due < due) due = s->dl[i].head->due;
  return due;
}

/* Shuts down every connection whose deadline passed; libmicrohttpd then sees the end of the
 * stream on its next run and closes the connection (its own bookkeeping stays consistent). */
static void dl_expire(struct server *s, double now) {
  int i;
  for (i = 1; i < DL_COUNT; i++) {
    while (s->dl[i].head && s->dl[i].head->due <= now) {
      struct conn *cn = s->dl[i].head;
      dl_unlink(s, cn);
      if (cn->fd >= 0) shutdown(cn->fd, SHUT_RDWR);
      s->st_timed_out++;
    }
  }
}

/* True when the peer has shut down its sending side and sent nothing more (a FIN waits).
 * libmicrohttpd's sockets are non-blocking, so the peek never waits. */
static int peer_half_closed(int fd) {
  char ch;
  return fd >= 0 && recv(fd, &ch, 1, MSG_PEEK) == 0;
}

static struct conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? (struct conn *)ci->socket_context : NULL;
}

/* --- ready queue --- */

static void q_push(struct server *s, struct req *r) {
  r->qnext = NULL;
  r->qprev = s->q_tail;
  if (s->q_tail) s->q_tail->qnext = r; else s->q_head = r;
  s->q_tail = r;
  s->q_len++;
}

static void q_remove(struct server *s, struct req *r) {
  if (r->qprev) r->qprev->qnext = r->qnext; else s->q_head = r->qnext;
  if (r->qnext) r->qnext->qprev = r->qprev; else s->q_tail = r->qprev;
  r->qprev = r->qnext = NULL;
  s->q_len--;
}

/* --- id hash --- */

static size_t h_slot(const struct server *s, lua_Integer id) {
  uint64_t x = (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(x >> 20) & (s->nbuckets - 1);
}

static int h_grow(struct server *s) {
  size_t n = s->nbuckets ? s->nbuckets * 2 : 256, i;
  struct req **nb = calloc(n, sizeof *nb), **old = s->buckets;
  size_t oldn = s->nbuckets;
  if (!nb) return -1;
  s->buckets = nb;
  s->nbuckets = n;
  for (i = 0; i < oldn; i++) {
    struct req *r = old[i];
    while (r) {
      struct req *next = r->hnext;
      size_t k = h_slot(s, r->id);
      r->hnext = nb[k];
      nb[k] = r;
      r = next;
    }
  }
  free(old);
  return 0;
}

static int h_insert(struct server *s, struct req *r) {
  size_t k;
  if (s->nhashed + 1 > s->nbuckets && h_grow(s) != 0) return -1;
  k = h_slot(s, r->id);
  r->hnext = s->buckets[k];
  s->buckets[k] = r;
  s->nhashed++;
  return 0;
}

static struct req *h_find(const struct server *s, lua_Integer id) {
  struct req *r;
  if (!s->nbuckets) return NULL;
  for (r = s->buckets[h_slot(s, id)]; r; r = r->hnext)
    if (r->id == id) return r;
  return NULL;
}

static void h_remove(struct server *s, struct req *r) {
  struct req **pp;
  if (!s->nbuckets) return;
  for (pp = &s->buckets[h_slot(s, r->id)]; *pp; pp = &(*pp)->hnext) {
    if (*pp == r) {
      *pp = r->hnext;
      r->hnext = NULL;
      s->nhashed--;
      return;
    }
  }
}

/* --- timer heap --- */

static void heap_set(struct server *s, size_t i, struct req *r) {
  s->heap[i] = r;
  r->heap_idx = i;
}

static void heap_up(struct server *s, size_t i) {
  struct req *r = s->heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (s->heap[p]->due <= r->due) break;
    heap_set(s, i, s->heap[p]);
    i = p;
  }
  heap_set(s, i, r);
}

static void heap_down(struct server *s, size_t i) {
  struct req *r = s->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->heap_len) break;
    if (c + 1 < s->heap_len && s->heap[c + 1]->due < s->heap[c]->due) c++;
    if (r->due <= s->heap[c]->due) break;
    heap_set(s, i, s->heap[c]);
    i = c;
  }
  heap_set(s, i, r);
}

static int heap_push(struct server *s, struct req *r) {
  if (s->heap_len == s->heap_cap) {
    size_t n = s->heap_cap ? s->heap_cap * 2 : 64;
    struct req **nh = realloc(s->heap, n * sizeof *nh);
    if (!nh) return -1;
    s->heap = nh;
    s->heap_cap = n;
  }
  heap_set(s, s->heap_len++, r);
  heap_up(s, s->heap_len - 1);
  if ((lua_Integer)s->heap_len > s->st_max_delayed) s->st_max_delayed = (lua_Integer)s->heap_len;
  return 0;
}

static void heap_remove(struct server *s, struct req *r) {
  size_t i = r->heap_idx;
  struct req *last;
  if (i >= s->heap_len || s->heap[i] != r) return;
  last = s->heap[--s->heap_len];
  if (i < s->heap_len) {
    heap_set(s, i, last);
    heap_down(s, i);
    heap_up(s, last->heap_idx);
  }
}

/* --- request objects --- */

static struct req *req_new(struct server *s, struct MHD_Connection *c) {
  struct req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->srv = s;
  r->conn = c;
  r->anext = s->all;
  if (s->all) s->all->aprev = r;
  s->all = r;
  return r;
}

static void req_free_input(struct req *r) {
  free(r->uri);
  free(r->method);
  free(r->path);
  free(r->hdrs);
  free(r->body);
  r->uri = r->method = r->path = r->hdrs = r->body = NULL;
  r->hdrs_len = r->hdrs_cap = r->body_len = r->body_cap = 0;
}

/* Unlinks r from every structure it is on and frees it. */
static void req_destroy(struct server *s, struct req *r) {
  switch (r->state) {
  case RS_QUEUED: q_remove(s, r); h_remove(s, r); break;
  case RS_PENDING: h_remove(s, r); break;
  case RS_DELAYED: heap_remove(s, r); break;
  default: break;
  }
  if (r->suspended) {
    r->suspended = 0;
    s->st_suspended--;
  }
  if (r->resp) MHD_destroy_response(r->resp);
  if (r->aprev) r->aprev->anext = r->anext; else s->all = r->anext;
  if (r->anext) r->anext->aprev = r->aprev;
  req_free_input(r);
  free(r);
}

static char *dup_str(const char *p) {
  size_t n = strlen(p) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, p, n);
  return d;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
  if (*len + n > *cap) {
    size_t nc = *cap ? *cap : 256;
    char *nb;
    while (nc < *len + n) nc *= 2;
    nb = realloc(*buf, nc);
    if (!nb) return -1;
    *buf = nb;
    *cap = nc;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  return 0;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
  struct req *r = cls;
  size_t kl = strlen(key), vl = value ? strlen(value) : 0, i, start = r->hdrs_len;
  (void)kind;
  if (buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, key, kl + 1) != 0) return MHD_NO;
  for (i = start; i < start + kl; i++) {
    char ch = r->hdrs[i];
    if (ch >= 'A' && ch <= 'Z') r->hdrs[i] = (char)(ch - 'A' + 'a');
  }
  if (buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, value ? value : "", vl + 1) != 0)
    return MHD_NO;
  return MHD_YES;
}

static void suspend_req(struct server *s, struct req *r) {
  MHD_suspend_connection(r->conn);
  r->suspended = 1;
  s->st_suspended++;
  if (s->st_suspended > s->st_max_suspended) s->st_max_suspended = s->st_suspended;
}

static void resume_req(struct server *s, struct req *r) {
  r->state = RS_RESUMED;
  if (r->suspended) {
    r->suspended = 0;
    s->st_suspended--;
    MHD_resume_connection(r->conn);
  }
}

/* Completes reading: assigns an id, puts r on the ready queue, suspends its connection. */
static enum MHD_Result queue_req(struct server *s, struct req *r) {
  if (r->cn) dl_unlink(s, r->cn); /* no deadline while the app answers */
  r->id = ++s->next_id;
  if (h_insert(s, r) != 0) return MHD_NO;
  r->state = RS_QUEUED;
  q_push(s, r);
  s->st_requests++;
  suspend_req(s, r);
  return MHD_YES;
}

/* ------------------------------------------------------------------------------------------ */
/* libmicrohttpd callbacks (no Lua in here)                                                   */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  struct server *s = cls;
  struct req *r = req_new(s, c);
  struct conn *cn = conn_of(c);
  /* a keep-alive connection's next request line: from now on it has request_timeout */
  if (cn && cn->dl == DL_IDLE) dl_set(s, cn, DL_REQUEST, mono_now());
  if (r) {
    r->uri = dup_str(uri ? uri : "");
    r->cn = cn;
  }
  return r;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  struct server *s = cls;
  struct conn *cn;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->st_connections++;
    if (++s->st_open > s->st_max_open) s->st_max_open = s->st_open;
    cn = calloc(1, sizeof *cn);
    *socket_context = cn;
    if (!cn) return; /* no deadline and no id for it; everything else works */
    cn->id = ++s->next_conn_id;
    cn->fd = ci ? (int)ci->connect_fd : -1;
    cn->refused = (lua_Integer)s->max_conn < s->st_open;
    dl_set(s, cn, cn->refused ? DL_REFUSE : DL_REQUEST, mono_now());
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    s->st_open--;
    cn = *socket_context;
    if (cn) {
      dl_unlink(s, cn);
      free(cn);
      *socket_context = NULL;
    }
  }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct server *s = cls;
  struct req *r = *con_cls;
  struct conn *cn = conn_of(c);
  if (cn && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
    if (peer_half_closed(cn->fd)) { /* answered; the client sends nothing more: close now */
      dl_unlink(s, cn);
      shutdown(cn->fd, SHUT_RDWR);
      s->st_half_closed++;
    } else {
      dl_set(s, cn, DL_IDLE, mono_now()); /* keep-alive: idle until the next request line */
    }
  }
  if (!r) return;
  *con_cls = NULL;
  req_destroy(s, r);
}

/* The refusal of a connection beyond max_connections, shaped like an API error. */
static enum MHD_Result refuse(struct server *s, struct MHD_Connection *c, struct req *r) {
  char body[256];
  struct MHD_Response *resp;
  enum MHD_Result ret;
  int n = snprintf(body, sizeof body,
                   "{\"error\":{\"message\":\"The fake server is at its connection limit (%u); "
                   "retry later.\",\"type\":\"server_error\",\"param\":null,"
                   "\"code\":\"connection_limit\"}}",
                   s->max_conn);
  r->state = RS_DONE;
  resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "application/json");
  MHD_add_response_header(resp, "Retry-After", "1");
  MHD_add_response_header(resp, "Connection", "close");
  ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
  MHD_destroy_response(resp);
  s->st_refused++;
  return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  struct server *s = cls;
  struct req *r = *con_cls;
  (void)version;
  if (!r) { /* no URI log call (should not happen): make the request object now */
    r = req_new(s, c);
    if (!r) return MHD_NO;
    *con_cls = r;
  }
  switch (r->state) {
  case RS_RESUMED: {
    enum MHD_Result ret;
    r->state = RS_DONE;
    if (r->fault == FAULT_DROP || !r->resp) {
      s->st_drops++;
      return MHD_NO; /* closes the connection without a response */
    }
    ret = MHD_queue_response(c, r->status, r->resp);
    MHD_destroy_response(r->resp); /* MHD keeps its own reference */
    r->resp = NULL;
    s->st_responses++;
    return ret;
  }
  case RS_READING:
    if (s->closing) return MHD_NO; /* e.g. a keep-alive request read while stopping */
    break;
  case RS_DONE: return MHD_NO;
  default: return MHD_YES; /* suspended states: not called by MHD */
  }

  if (!r->started) {
    const char *cl;
    if (r->cn && r->cn->refused) return refuse(s, c, r);
    r->started = 1;
    r->method = dup_str(method ? method : "");
    r->path = dup_str(url ? url : "/");
    if (!r->uri) r->uri = dup_str(url ? url : "/");
    if (!r->method || !r->path || !r->uri) return MHD_NO;
    if (MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r) < 0) return MHD_NO;
    r->conn_id = r->cn ? r->cn->id : 0;
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
      char *end = NULL;
      unsigned long long n;
      errno = 0;
      n = strtoull(cl, &end, 10);
      if (errno == 0 && end != cl && n > (unsigned long long)s->max_body) {
        /* Declared too large: answer before reading it (no 100-continue is sent). */
        r->too_large = 1;
        s->st_too_large++;
        return queue_req(s, r);
      }
    }
    return MHD_YES;
  }

  if (*upload_data_size) {
    if (!r->too_large) {
      if (r->body_len + *upload_data_size > s->max_body) {
        r->too_large = 1;
        s->st_too_large++;
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
      } else if (buf_append(&r->body, &r->body_len, &r->body_cap, upload_data,
                            *upload_data_size) != 0) {
        return MHD_NO;
      }
    }
    *upload_data_size = 0; /* consumed (or discarded when too large) */
    return MHD_YES;
  }
  return queue_req(s, r);
}

/* Truncated response: full Content-Length, only half of the body, then the connection closes. */
struct trunc_body {
  char *data;
  size_t send;
};

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  struct trunc_body *t = cls;
  size_t n;
  if (pos >= t->send) return MHD_CONTENT_READER_END_WITH_ERROR;
  n = t->send - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, t->data + pos, n);
  return (ssize_t)n;
}

static void trunc_free(void *cls) {
  struct trunc_body *t = cls;
  free(t->data);
  free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* Signals: SIGINT/SIGTERM set a flag and write to a self-pipe that poll() watches.           */

static volatile sig_atomic_t g_signalled = 0;
static int g_sigpipe[2] = {-1, -1};
static int g_sig_refs = 0;
static struct sigaction g_old_int, g_old_term;

static void on_signal(int sig) {
  int saved = errno;
  if (g_signalled) { /* second signal: the default action (the loop may be stuck in Lua) */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  g_signalled = sig;
  if (g_sigpipe[1] >= 0) {
    ssize_t w = write(g_sigpipe[1], "s", 1);
    (void)w;
  }
  errno = saved;
}

static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) return -1;
  return 0;
}

static int signals_acquire(void) {
  struct sigaction sa;
  if (g_sig_refs++ > 0) return 0;
  if (g_sigpipe[0] < 0) {
    if (pipe(g_sigpipe) != 0) { g_sig_refs--; return -1; }
    set_nonblock_cloexec(g_sigpipe[0]);
    set_nonblock_cloexec(g_sigpipe[1]);
  }
  g_signalled = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: poll()/select() return EINTR */
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
  return 0;
}

static void signals_release(void) {
  if (g_sig_refs <= 0 || --g_sig_refs > 0) return;
  sigaction(SIGINT, &g_old_int, NULL);
  sigaction(SIGTERM, &g_old_term, NULL);
}

static void drain_sigpipe(void) {
  char buf[64];
  if (g_sigpipe[0] < 0) return;
  while (read(g_sigpipe[0], buf, sizeof buf) > 0) {
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The server                                                                                 */

static void server_stop(struct server *s) {
  struct req *r;
  if (!s->d) return;
  s->closing = 1;
  /* MHD_stop_daemon must not see suspended connections: resume them all to be dropped. */
  for (r = s->all; r; r = r->anext) {
    if (r->resp) {
      MHD_destroy_response(r->resp);
      r->resp = NULL;
    }
    r->fault = FAULT_DROP;
    if (r->state == RS_QUEUED) q_remove(s, r);
    if (r->state == RS_QUEUED || r->state == RS_PENDING) h_remove(s, r);
    if (r->state == RS_DELAYED) heap_remove(s, r);
    if (r->state == RS_QUEUED || r->state == RS_PENDING || r->state == RS_DELAYED)
      resume_req(s, r);
  }
  MHD_run(s->d); /* let the resumed connections close (MHD_stop_daemon also resumes them) */
  MHD_stop_daemon(s->d);
  s->d = NULL;
  while (s->all) req_destroy(s, s->all); /* anything MHD did not report as completed */
  free(s->buckets);
  s->buckets = NULL;
  s->nbuckets = s->nhashed = 0;
  free(s->heap);
  s->heap = NULL;
  s->heap_len = s->heap_cap = 0;
  s->q_head = s->q_tail = NULL;
  s->q_len = 0;
  if (s->catches_signals) {
    s->catches_signals = 0;
    signals_release();
  }
}

/* Waits for activity on MHD's fds (or the signal pipe) for at most ms milliseconds (-1: no
 * limit). Returns 0, or -1 with errno set on a real error. */
static int wait_fds(struct server *s, int ms) {
  int sigfd = s->catches_signals ? g_sigpipe[0] : -1;
  if (s->epoll_fd >= 0) {
    struct pollfd p[2];
    int n = 1, rc;
    p[0].fd = s->epoll_fd;
    p[0].events = POLLIN;
    p[0].revents = 0;
    if (sigfd >= 0) {
      p[1].fd = sigfd;
      p[1].events = POLLIN;
      p[1].revents = 0;
      n = 2;
    }
    rc = poll(p, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR) return -1;
  } else {
    fd_set rs, ws, es;
    MHD_socket maxfd = 0;
    struct timeval tv, *tvp = NULL;
    int rc;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    if (MHD_get_fdset2(s->d, &rs, &ws, &es, &maxfd, FD_SETSIZE) != MHD_YES) {
      errno = EMFILE;
      return -1;
    }
    if (sigfd >= 0 && sigfd < FD_SETSIZE) {
      FD_SET(sigfd, &rs);
      if (sigfd > maxfd) maxfd = sigfd;
    }
    if (ms >= 0) {
      tv.tv_sec = ms / 1000;
      tv.tv_usec = (ms % 1000) * 1000;
      tvp = &tv;
    }
    rc = select(maxfd + 1, &rs, &ws, &es, tvp);
    if (rc < 0 && errno != EINTR) return -1;
  }
  return 0;
}

static void fire_timers(struct server *s, double now) {
  while (s->heap_len && s->heap[0]->due <= now) {
    struct req *r = s->heap[0];
    heap_remove(s, r);
    resume_req(s, r);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Lua binding                                                                                */

typedef struct {
  struct server *s; /* NULL when closed */
} server_ud;

static struct server *check_open(lua_State *L) {
  server_ud *u = luaL_checkudata(L, 1, SERVER_MT);
  if (!u->s) luaL_error(L, "attempt to use a closed openai_admin.fake.httpd server");
  return u->s;
}

static int opt_int_field(lua_State *L, int t, const char *k, lua_Integer def, lua_Integer lo,
                         lua_Integer hi) {
  lua_Integer v = def;
  int isnum;
  if (lua_getfield(L, t, k) != LUA_TNIL) {
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v < lo || v > hi)
      return luaL_error(L, "httpd.new: option '%s' must be an integer in [%I, %I]", k, lo, hi);
  }
  lua_pop(L, 1);
  return (int)(v > INT32_MAX ? INT32_MAX : v);
}

/* httpd.new{ host = "127.0.0.1", port = 0, max_body = 1048576, max_connections = 1000,
 *            idle_timeout = 60, request_timeout = 10, signals = false, debug = false }
 *   -> srv | nil, message */
static int l_new(lua_State *L) {
  server_ud *u;
  struct server *s;
  struct sockaddr_in sa;
  const char *host = "127.0.0.1";
  int port, signals = 0, debug = 0, use_select = 0;
  lua_Integer max_body = (lua_Integer)DEFAULT_MAX_BODY;
  unsigned int max_conn, idle;
  double request_timeout = DEFAULT_REQUEST_TIMEOUT;
  unsigned int flags;
  const union MHD_DaemonInfo *di;
  int isnum;

  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "host") != LUA_TNIL) host = luaL_checkstring(L, -1);
  lua_pop(L, 1);
  if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
  port = opt_int_field(L, 1, "port", 0, 0, 65535);
  max_conn = (unsigned int)opt_int_field(L, 1, "max_connections", DEFAULT_MAX_CONNECTIONS, 1,
                                         1000000);
  idle = (unsigned int)opt_int_field(L, 1, "idle_timeout", DEFAULT_IDLE_TIMEOUT, 1, 86400 * 365);
  if (lua_getfield(L, 1, "request_timeout") != LUA_TNIL) {
    request_timeout = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(request_timeout > 0) || request_timeout > 86400.0 * 365)
      return luaL_error(L, "httpd.new: option 'request_timeout' must be a positive number of seconds");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "max_body") != LUA_TNIL) {
    max_body = lua_tointegerx(L, -1, &isnum);
    if (!isnum || max_body < 0)
      return luaL_error(L, "httpd.new: option 'max_body' must be a non-negative integer");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "signals");
  signals = lua_toboolean(L, -1);
  lua_getfield(L, 1, "debug");
  debug = lua_toboolean(L, -1);
  lua_pop(L, 2);
  if (lua_getfield(L, 1, "backend") != LUA_TNIL) {
    const char *b = luaL_checkstring(L, -1);
    if (strcmp(b, "select") == 0) use_select = 1;
    else if (strcmp(b, "epoll") != 0)
      return luaL_error(L, "httpd.new: option 'backend' must be \"epoll\" or \"select\"");
  }
  lua_pop(L, 1);

  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    lua_pushnil(L);
    lua_pushfstring(L, "httpd.new: host must be an IPv4 address (got '%s')", host);
    return 2;
  }

  /* Created closed, then opened (liolib style): a failure below leaves a closed userdata. */
  u = lua_newuserdatauv(L, sizeof *u, 0);
  u->s = NULL;
  luaL_setmetatable(L, SERVER_MT);

  s = calloc(1, sizeof *s);
  if (!s) return luaL_error(L, "httpd.new: out of memory");
  s->epoll_fd = -1;
  s->max_body = (size_t)max_body;
  s->max_conn = max_conn;
  s->timeouts[DL_REQUEST] = request_timeout;
  s->timeouts[DL_IDLE] = (double)idle;
  s->timeouts[DL_REFUSE] = request_timeout < REFUSE_TIMEOUT ? request_timeout : REFUSE_TIMEOUT;
  snprintf(s->host, sizeof s->host, "%s", host);

  flags = MHD_ALLOW_SUSPEND_RESUME;
  if (!use_select && MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) flags |= MHD_USE_EPOLL;
  if (debug) flags |= MHD_USE_ERROR_LOG;
  s->d = MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, on_access, s,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
      MHD_OPTION_CONNECTION_LIMIT, max_conn + CONN_RESERVE,
      MHD_OPTION_CONNECTION_TIMEOUT, idle,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
      MHD_OPTION_END);
  if (!s->d) {
    int e = errno;
    free(s);
    lua_pushnil(L);
    lua_pushfstring(L, "httpd.new: cannot listen on %s:%d: %s", host, port,
                    e ? strerror(e) : "libmicrohttpd failed to start");
    return 2;
  }
  if (flags & MHD_USE_EPOLL) {
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (di) s->epoll_fd = di->epoll_fd;
  }
  di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? (int)di->port : port;
  if (signals) {
    if (signals_acquire() != 0) {
      MHD_stop_daemon(s->d);
      free(s);
      lua_pushnil(L);
      lua_pushstring(L, "httpd.new: cannot create the signal pipe");
      return 2;
    }
    s->catches_signals = 1;
  }
  u->s = s;
  return 1;
}

static int l_port(lua_State *L) {
  lua_pushinteger(L, check_open(L)->port);
  return 1;
}

static void push_request(lua_State *L, struct req *r) {
  const char *q;
  size_t off;
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, r->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, r->method ? r->method : "");
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->path ? r->path : "/");
  lua_setfield(L, -2, "path");
  if (r->uri) { /* the request target as sent, up to the query or fragment */
    lua_pushlstring(L, r->uri, strcspn(r->uri, "?#"));
    lua_setfield(L, -2, "raw_path");
  }
  q = r->uri ? strchr(r->uri, '?') : NULL;
  if (q) {
    const char *hash = strchr(q + 1, '#');
    lua_pushlstring(L, q + 1, hash ? (size_t)(hash - q - 1) : strlen(q + 1));
  } else {
    lua_pushliteral(L, "");
  }
  lua_setfield(L, -2, "query");
  lua_createtable(L, 0, 8);
  for (off = 0; off < r->hdrs_len;) {
    const char *k = r->hdrs + off;
    size_t kl = strlen(k);
    const char *v = k + kl + 1;
    size_t vl = strlen(v);
    off += kl + vl + 2;
    if (lua_getfield(L, -1, k) == LUA_TSTRING) { /* repeated header: join with ", " */
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, v, vl);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, v, vl);
    }
    lua_setfield(L, -2, k);
  }
  lua_setfield(L, -2, "headers");
  if (r->body_len > 0) {
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");
  }
  lua_pushinteger(L, (lua_Integer)r->conn_id);
  lua_setfield(L, -2, "conn_id");
  if (r->too_large) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "body_too_large");
  }
}

/* srv:poll([timeout_seconds]) -> list of requests (maybe empty) | nil, "signal", signum
 * nil or a negative timeout: wait until a request arrives (or a signal). */
static int l_poll(lua_State *L) {
  struct server *s = check_open(L);
  double timeout = luaL_optnumber(L, 2, -1.0), deadline, now;
  lua_Integer n = 0;
  if (timeout != timeout) return luaL_argerror(L, 2, "timeout is NaN");
  now = mono_now();
  deadline = timeout < 0 ? HUGE_VAL : now + timeout;
  for (;;) {
    double wait;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    int ms;
    if (s->catches_signals && g_signalled) {
      drain_sigpipe();
      lua_pushnil(L);
      lua_pushliteral(L, "signal");
      lua_pushinteger(L, (lua_Integer)g_signalled);
      return 3;
    }
    fire_timers(s, now);
    dl_expire(s, now);
    MHD_run(s->d);
    if (s->q_len) break;
    now = mono_now();
    if (now >= deadline) break;
    wait = deadline - now;
    if (s->heap_len && s->heap[0]->due - now < wait) wait = s->heap[0]->due - now;
    if (dl_next_due(s) - now < wait) wait = dl_next_due(s) - now;
    if (wait < 0) wait = 0;
    if (MHD_get_timeout(s->d, &mhd_ms) == MHD_YES && (double)mhd_ms / 1000.0 < wait)
      wait = (double)mhd_ms / 1000.0;
    if (wait == HUGE_VAL) ms = -1;
    else if (wait > 3600.0) ms = 3600000;
    else ms = (int)ceil(wait * 1000.0);
    if (ms != 0 && wait_fds(s, ms) != 0)
      return luaL_error(L, "httpd poll: %s", strerror(errno));
    now = mono_now();
  }
  lua_createtable(L, (int)s->q_len, 0);
  while (s->q_head) {
    struct req *r = s->q_head;
    q_remove(s, r);
    r->state = RS_PENDING; /* stays in the id hash until answered */
    push_request(L, r);
    lua_rawseti(L, -2, ++n);
    req_free_input(r);
  }
  return 1;
}

static int fault_from_string(lua_State *L, int idx) {
  const char *f = lua_tostring(L, idx);
  if (!f) return luaL_error(L, "respond: opts.fault must be a string");
  if (strcmp(f, "drop") == 0) return FAULT_DROP;
  if (strcmp(f, "truncate") == 0) return FAULT_TRUNCATE;
  return luaL_error(L, "respond: unknown opts.fault '%s' (expected \"drop\" or \"truncate\")", f);
}

/* srv:respond(id, status, headers, body, opts) -> true | nil, message
 * opts.delay (seconds): held back that long without blocking anything else;
 * opts.fault: "drop" (close without a response) or "truncate" (half the body, then close). */
static int l_respond(lua_State *L) {
  struct server *s = check_open(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  lua_Integer status = luaL_checkinteger(L, 3);
  size_t blen = 0;
  const char *body;
  double delay = 0;
  int fault = FAULT_NONE;
  struct req *r;
  struct MHD_Response *resp = NULL;

  if (status < 100 || status > 999) return luaL_argerror(L, 3, "status must be in [100, 999]");
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
  body = luaL_optlstring(L, 5, "", &blen);
  if (!lua_isnoneornil(L, 6)) {
    luaL_checktype(L, 6, LUA_TTABLE);
    if (lua_getfield(L, 6, "delay") != LUA_TNIL) {
      int isnum;
      delay = lua_tonumberx(L, -1, &isnum);
      if (!isnum || delay != delay) return luaL_error(L, "respond: opts.delay must be a number");
      if (delay < 0) delay = 0;
      if (delay > 86400) delay = 86400;
    }
    if (lua_getfield(L, 6, "fault") != LUA_TNIL) fault = fault_from_string(L, -1);
    lua_pop(L, 2);
  }

  r = h_find(s, id);
  if (!r || (r->state != RS_PENDING && r->state != RS_QUEUED)) {
    lua_pushnil(L);
    lua_pushfstring(L, "respond: unknown or already answered request id %I", id);
    return 2;
  }

  if (fault != FAULT_DROP) {
    if (fault == FAULT_TRUNCATE) {
      struct trunc_body *t = malloc(sizeof *t);
      if (!t) return luaL_error(L, "respond: out of memory");
      t->data = malloc(blen ? blen : 1);
      if (!t->data) {
        free(t);
        return luaL_error(L, "respond: out of memory");
      }
      memcpy(t->data, body, blen);
      t->send = blen / 2;
      resp = MHD_create_response_from_callback(blen ? (uint64_t)blen : 1, 4096, trunc_reader, t,
                                               trunc_free);
      if (!resp) trunc_free(t);
      s->st_truncates++;
    } else {
      resp = MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) return luaL_error(L, "respond: cannot create the response");
    if (!lua_isnoneornil(L, 4)) {
      lua_pushnil(L);
      while (lua_next(L, 4)) {
        const char *k, *v;
        if (lua_type(L, -2) != LUA_TSTRING ||
            (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
          MHD_destroy_response(resp);
          return luaL_error(L, "respond: headers must map names to strings");
        }
        k = lua_tostring(L, -2);
        lua_pushvalue(L, -1);
        v = lua_tostring(L, -1); /* converts a copy, not the key being traversed */
        if (strcasecmp(k, "content-length") != 0 && MHD_add_response_header(resp, k, v) != MHD_YES) {
          MHD_destroy_response(resp);
          return luaL_error(L, "respond: invalid header '%s'", k);
        }
        lua_pop(L, 2);
      }
    }
  }

  if (r->state == RS_QUEUED) q_remove(s, r);
  h_remove(s, r);
  req_free_input(r);
  r->resp = resp;
  r->status = (unsigned int)status;
  r->fault = fault;
  if (delay > 0) {
    r->due = mono_now() + delay;
    r->state = RS_DELAYED;
    if (heap_push(s, r) != 0) {
      resume_req(s, r);
    } else {
      s->st_delayed++;
    }
  } else {
    resume_req(s, r);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_stats(lua_State *L) {
  struct server *s = check_open(L);
  lua_createtable(L, 0, 16);
#define STAT(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
  STAT("requests", s->st_requests);
  STAT("responses", s->st_responses);
  STAT("drops", s->st_drops);
  STAT("truncates", s->st_truncates);
  STAT("too_large", s->st_too_large);
  STAT("delayed", s->st_delayed);
  STAT("connections", s->st_connections);
  STAT("open_connections", s->st_open);
  STAT("max_open_connections", s->st_max_open);
  STAT("max_delayed", s->st_max_delayed);
  STAT("max_suspended", s->st_max_suspended);
  STAT("suspended", s->st_suspended);
  STAT("queued", s->q_len);
  STAT("pending", s->nhashed - s->q_len);
  STAT("waiting", s->heap_len);
  STAT("refused", s->st_refused);
  STAT("timed_out", s->st_timed_out);
  STAT("half_closed", s->st_half_closed);
  STAT("max_connections", s->max_conn);
#undef STAT
  lua_pushstring(L, s->epoll_fd >= 0 ? "epoll" : "select");
  lua_setfield(L, -2, "backend");
  return 1;
}

static int l_close(lua_State *L) {
  server_ud *u = luaL_checkudata(L, 1, SERVER_MT);
  if (u->s) {
    struct server *s = u->s;
    u->s = NULL;
    server_stop(s);
    free(s);
  }
  return 0;
}

static int l_is_closed(lua_State *L) {
  server_ud *u = luaL_checkudata(L, 1, SERVER_MT);
  lua_pushboolean(L, u->s == NULL);
  return 1;
}

static int l_tostring(lua_State *L) {
  server_ud *u = luaL_checkudata(L, 1, SERVER_MT);
  if (u->s) lua_pushfstring(L, "openai_admin.fake.httpd server (http://%s:%d)", u->s->host, u->s->port);
  else lua_pushliteral(L, "openai_admin.fake.httpd server (closed)");
  return 1;
}

static int l_signalled(lua_State *L) {
  if (g_signalled) lua_pushinteger(L, (lua_Integer)g_signalled);
  else lua_pushnil(L);
  return 1;
}

static const luaL_Reg server_methods[] = {
    {"port", l_port},       {"poll", l_poll},           {"respond", l_respond},
    {"stats", l_stats},     {"close", l_close},         {"is_closed", l_is_closed},
    {NULL, NULL}};

static const luaL_Reg server_meta[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"new", l_new}, {"signalled", l_signalled}, {NULL, NULL}};

__attribute__((visibility("default"))) int luaopen_openai_admin_fake_httpd(lua_State *L) {
  luaL_newmetatable(L, SERVER_MT);
  luaL_setfuncs(L, server_meta, 0);
  luaL_newlib(L, server_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, SERVER_MT);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newlib(L, module_funcs);
  lua_pushstring(L, MHD_get_version());
  lua_setfield(L, -2, "mhd_version");
  lua_pushliteral(L, OA_VERSION);
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
