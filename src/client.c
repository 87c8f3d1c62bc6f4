/* core.client: config validation, header assembly, submit / request / request_many / derive /
 * close, and the engine userdata's methods (poll, collect, result, cancel, host-loop hooks). */
#include "client.h"
#include "version.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retry.h"
#include "engine.h"
#include "json.h"

#define CLIENT_MT "openai_admin.core.client"
#define POOL_MT "openai_admin.core.engine"
#define BATCH_MT "openai_admin.core.batch"
#define UV_POOL 1

#define DEFAULT_USER_AGENT "openai-admin-lua/" OA_VERSION
#define DEFAULT_TIMEOUT 600.0
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_MAX_RETRIES 2
#define MAX_RETRIES_LIMIT 100
#define DEFAULT_CONCURRENCY 16

typedef struct oa_header {
  char *name;
  char *value; /* NULL: remove the header */
} oa_header;

typedef struct oa_client {
  int open;
  oa_engine *pool;                /* the engine; also user value 1, which keeps it alive */
  char *base_url;
  size_t base_len;
  char *key;                      /* the admin key: wiped and freed on close */
  size_t key_len;
  char *organization, *project, *user_agent;
  oa_header *custom;              /* config.headers (+ derive overrides) */
  int n_custom;
  struct curl_slist *defaults;    /* every default header line, shared by all requests */
  int defaults_name_ct, defaults_name_rc, defaults_name_to; /* Content-Type / Retry-Count / Timeout named */
  double timeout, connect_timeout;
  int max_retries;
  int64_t reading;                /* the transfer client:request is reading or running, or -1: one
                                   * an error left behind is released by the next call or close */
} oa_client;

/* The handles of transfers being read or run by one call, in a userdata, so a Lua error while
 * reading requests or building results cannot leak them: __gc releases every one still live
 * (by handle: after the engine is freed none is found). */
typedef struct oa_batch {
  oa_engine *e;
  int n;
  int64_t ids[1];
} oa_batch;

/* --- small helpers ------------------------------------------------------------------------ */


static char *dup_mem(lua_State *L, const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d == NULL) luaL_error(L, "openai_admin: out of memory");
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static int is_token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL); /* strchr finds the NUL terminator */
}

static int valid_header_name(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_token_char((unsigned char)s[i])) return 0;
  return 1;
}

static int valid_header_value(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 0;
  return 1;
}

/* The name part of a header line "Name: value" / "Name:" equals `name` (case-insensitive). */
static int line_names(const char *line, const char *name, size_t name_len) {
  return strncasecmp(line, name, name_len) == 0 && line[name_len] == ':';
}

static const char *type_name(lua_State *L, int idx) { return luaL_typename(L, idx); }

/* --- client lifetime ------------------------------------------------------------------------ */

static void free_custom(oa_client *c) {
  for (int i = 0; i < c->n_custom; i++) {
    free(c->custom[i].name);
    free(c->custom[i].value);
  }
  free(c->custom);
  c->custom = NULL;
  c->n_custom = 0;
}

/* Releases the transfer a raised client:request left behind (none is found once the engine
 * was freed). */
static void drop_reading(oa_client *c) {
  if (c->reading < 0) return;
  oa_xfer *x = c->pool ? oa_engine_find(c->pool, c->reading) : NULL;
  if (x) oa_engine_release(c->pool, x);
  c->reading = -1;
}

/* Idempotent: frees whatever was set, so it also cleans up a half-built client. */
static void client_release(oa_client *c) {
  drop_reading(c);
  if (c->open && c->pool && --c->pool->open_clients == 0) oa_engine_free(c->pool); /* idempotent */
  c->open = 0;
  if (c->key) {
    oa_wipe(c->key, c->key_len);
    free(c->key);
    c->key = NULL;
    c->key_len = 0;
  }
  if (c->defaults) {
    /* the Authorization line holds the key too */
    for (struct curl_slist *n = c->defaults; n; n = n->next) oa_wipe(n->data, strlen(n->data));
    curl_slist_free_all(c->defaults);
    c->defaults = NULL;
  }
  free(c->base_url);
  free(c->organization);
  free(c->project);
  free(c->user_agent);
  c->base_url = c->organization = c->project = c->user_agent = NULL;
  free_custom(c);
  c->pool = NULL;
}

static int client_close(lua_State *L) {
  oa_client *c = luaL_checkudata(L, 1, CLIENT_MT);
  client_release(c);
  return 0;
}

static oa_client *check_open(lua_State *L, int idx) {
  oa_client *c = luaL_checkudata(L, idx, CLIENT_MT);
  if (!c->open) luaL_error(L, "openai_admin: client is closed");
  return c;
}

static int pool_gc(lua_State *L) {
  oa_engine *p = luaL_checkudata(L, 1, POOL_MT);
  oa_engine_free(p);
  return 0;
}

static void batch_release(oa_batch *b) {
  for (int i = 0; i < b->n; i++) {
    oa_xfer *x = b->e ? oa_engine_find(b->e, b->ids[i]) : NULL;
    if (x) oa_engine_release(b->e, x);
    b->ids[i] = -1;
  }
}

static int batch_gc(lua_State *L) {
  batch_release(luaL_checkudata(L, 1, BATCH_MT));
  return 0;
}

/* --- config reading ---------------------------------------------------------------------- */

static void check_keys(lua_State *L, int t, const char *const allowed[], const char *what) {
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "openai_admin: %s keys must be strings, got %s", what, type_name(L, -1));
    const char *k = lua_tostring(L, -1);
    int ok = 0;
    for (int i = 0; allowed[i] && !ok; i++)
      if (strcmp(k, allowed[i]) == 0) ok = 1;
    if (!ok) luaL_error(L, "openai_admin: unknown %s key '%s'", what, k);
  }
}

/* Pushes t[key]; returns its type. */
static int field(lua_State *L, int t, const char *key) {
  lua_pushstring(L, key);
  return lua_rawget(L, t);
}

/* t[key] as a positive finite number (seconds); returns `dflt` when nil. */
static double get_seconds(lua_State *L, int t, const char *key, const char *what, double dflt) {
  int ty = field(L, t, key);
  double v = dflt;
  if (ty != LUA_TNIL) {
    v = lua_tonumber(L, -1);
    if (ty != LUA_TNUMBER || !(v > 0) || !isfinite(v))
      luaL_error(L, "openai_admin: %s.%s must be a positive number, got %s", what, key,
                 ty == LUA_TNUMBER ? lua_tostring(L, -1) : type_name(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

static int get_retries(lua_State *L, int t, const char *key, const char *what, int dflt) {
  int ty = field(L, t, key);
  int v = dflt;
  if (ty != LUA_TNIL) {
    lua_Integer n = 0;
    int isint = 0;
    if (ty == LUA_TNUMBER) {
      n = lua_tointegerx(L, -1, &isint);
    }
    if (!isint || n < 0 || n > MAX_RETRIES_LIMIT)
      luaL_error(L, "openai_admin: %s.%s must be an integer from 0 to %d, got %s", what, key,
                 MAX_RETRIES_LIMIT, ty == LUA_TNUMBER ? lua_tostring(L, -1) : type_name(L, -1));
    v = (int)n;
  }
  lua_pop(L, 1);
  return v;
}

/* t[key] as a string without CR/LF; NULL when nil (or false, with *is_false set, when
 * allow_false). The pointer stays valid while the table holds the string. */
static const char *get_string(lua_State *L, int t, const char *key, const char *what, int required,
                              int allow_false, int *is_false, size_t *len) {
  int ty = field(L, t, key);
  const char *s = NULL;
  if (is_false) *is_false = 0;
  if (ty == LUA_TSTRING) {
    s = lua_tolstring(L, -1, len);
    if (!valid_header_value(s, *len))
      luaL_error(L, "openai_admin: %s.%s must not contain line breaks", what, key);
  } else if (ty == LUA_TBOOLEAN && !lua_toboolean(L, -1) && allow_false) {
    *is_false = 1;
  } else if (ty != LUA_TNIL || required) {
    luaL_error(L, "openai_admin: %s.%s must be a string%s, got %s", what, key,
               allow_false ? " or false" : "", type_name(L, -1));
  }
  lua_pop(L, 1);
  return s;
}

static void set_string(lua_State *L, char **slot, const char *s, size_t n) {
  char *d = s ? dup_mem(L, s, n) : NULL;
  free(*slot);
  *slot = d;
}

/* Merges t.headers (name -> string | false) into c->custom, overriding by name. */
static void merge_headers(lua_State *L, oa_client *c, int t, const char *what) {
  int ty = field(L, t, "headers");
  if (ty == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (ty != LUA_TTABLE) luaL_error(L, "openai_admin: %s.headers must be a table, got %s", what, type_name(L, -1));
  int h = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, h) != 0) {
    size_t nlen, vlen = 0;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "openai_admin: %s.headers keys must be strings", what);
    const char *name = lua_tolstring(L, -2, &nlen);
    if (!valid_header_name(name, nlen)) luaL_error(L, "openai_admin: %s.headers has an invalid header name", what);
    const char *value = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      value = lua_tolstring(L, -1, &vlen);
      if (!valid_header_value(value, vlen))
        luaL_error(L, "openai_admin: %s.headers[\"%s\"] must not contain line breaks", what, name);
    } else if (!(lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
      luaL_error(L, "openai_admin: %s.headers[\"%s\"] must be a string or false, got %s", what, name,
                 type_name(L, -1));
    }
    int i;
    for (i = 0; i < c->n_custom; i++)
      if (strcasecmp(c->custom[i].name, name) == 0) break;
    if (i == c->n_custom) {
      oa_header *grown = realloc(c->custom, (size_t)(c->n_custom + 1) * sizeof *grown);
      if (grown == NULL) luaL_error(L, "openai_admin: out of memory");
      c->custom = grown;
      c->custom[i].name = c->custom[i].value = NULL;
      c->n_custom++;
      c->custom[i].name = dup_mem(L, name, nlen);
    }
    set_string(L, &c->custom[i].value, value, vlen);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Writes "Name: value" (or "Name:", which suppresses a header curl would add) and its NUL to
 * out, which has room for nlen + vlen + 3 bytes; returns the length without the NUL. */
static size_t put_line(char *out, const char *name, size_t nlen, const char *value, size_t vlen) {
  memcpy(out, name, nlen);
  out[nlen] = ':';
  size_t n = nlen + 1;
  if (value) {
    out[n++] = ' ';
    memcpy(out + n, value, vlen);
    n += vlen;
  }
  out[n] = '\0';
  return n;
}

/* Appends "Name: value" (or "Name:") to *list. */
static void append_line(lua_State *L, struct curl_slist **list, const char *name, size_t nlen,
                        const char *value, size_t vlen) {
  char stackbuf[256];
  size_t need = nlen + vlen + 3;
  char *line = need <= sizeof stackbuf ? stackbuf : malloc(need);
  if (line == NULL) luaL_error(L, "openai_admin: out of memory");
  put_line(line, name, nlen, value, vlen);
  struct curl_slist *grown = curl_slist_append(*list, line);
  if (line != stackbuf) free(line);
  if (grown == NULL) luaL_error(L, "openai_admin: out of memory");
  *list = grown;
}

static const oa_header *custom_named(const oa_client *c, const char *name) {
  for (int i = 0; i < c->n_custom; i++)
    if (strcasecmp(c->custom[i].name, name) == 0) return &c->custom[i];
  return NULL;
}

/* Builds c->defaults from the settings: internal headers unless the custom ones name them,
 * then the custom ones (a false value becomes "Name:", which also stops curl adding it). */
static void build_defaults(lua_State *L, oa_client *c) {
  struct curl_slist *old = c->defaults;
  c->defaults = NULL;
  if (old) {
    for (struct curl_slist *n = old; n; n = n->next) oa_wipe(n->data, strlen(n->data));
    curl_slist_free_all(old);
  }
  struct { const char *name; const char *value; } internal[] = {
      {"Authorization", NULL}, {"OpenAI-Organization", c->organization}, {"OpenAI-Project", c->project},
      {"User-Agent", c->user_agent}, {"Accept", "application/json"}, {"Expect", NULL}};
  for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
    const char *name = internal[i].name;
    if (custom_named(c, name)) continue;
    size_t nlen = strlen(name);
    if (i == 0) {
      /* composed in a temporary that is wiped before anything can raise */
      size_t len = 22 + c->key_len;
      char *line = malloc(len + 1);
      if (line == NULL) luaL_error(L, "openai_admin: out of memory");
      memcpy(line, "Authorization: Bearer ", 22);
      memcpy(line + 22, c->key, c->key_len);
      line[len] = '\0';
      struct curl_slist *grown = curl_slist_append(c->defaults, line);
      oa_wipe(line, len);
      free(line);
      if (grown == NULL) luaL_error(L, "openai_admin: out of memory");
      c->defaults = grown;
    } else if (i == 5) {
      append_line(L, &c->defaults, name, nlen, NULL, 0); /* no Expect: 100-continue round trip */
    } else if (internal[i].value) {
      append_line(L, &c->defaults, name, nlen, internal[i].value, strlen(internal[i].value));
    }
  }
  for (int i = 0; i < c->n_custom; i++) {
    const oa_header *h = &c->custom[i];
    append_line(L, &c->defaults, h->name, strlen(h->name), h->value, h->value ? strlen(h->value) : 0);
  }
  c->defaults_name_ct = custom_named(c, "Content-Type") != NULL;
  c->defaults_name_rc = custom_named(c, "X-Stainless-Retry-Count") != NULL;
  c->defaults_name_to = custom_named(c, "X-Stainless-Timeout") != NULL;
}

static void read_rate_limit(lua_State *L, oa_engine *p, int t) {
  int ty = field(L, t, "rate_limit");
  oa_ratelimit *rl = &p->rl;
  if (ty == LUA_TNIL || (ty == LUA_TBOOLEAN && lua_toboolean(L, -1))) {
    rl->mode = OA_RL_ADAPTIVE;
  } else if (ty == LUA_TBOOLEAN) {
    rl->mode = OA_RL_OFF;
  } else if (ty == LUA_TTABLE) {
    static const char *const keys[] = {"requests", "window", "burst", "per_endpoint", "max_wait", NULL};
    int r = lua_gettop(L);
    check_keys(L, r, keys, "config.rate_limit");
    rl->window = get_seconds(L, r, "window", "config.rate_limit", 60);
    rl->max_wait = get_seconds(L, r, "max_wait", "config.rate_limit", 120);
    double requests = 0, burst = 0;
    if (field(L, r, "requests") != LUA_TNIL) {
      requests = lua_tonumber(L, -1);
      if (lua_type(L, -1) != LUA_TNUMBER || !(requests > 0) || !isfinite(requests))
        luaL_error(L, "openai_admin: config.rate_limit.requests must be a positive number, got %s",
                   lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : type_name(L, -1));
    }
    lua_pop(L, 1);
    if (field(L, r, "burst") != LUA_TNIL) {
      burst = lua_tonumber(L, -1);
      if (lua_type(L, -1) != LUA_TNUMBER || !(burst >= 1) || !isfinite(burst))
        luaL_error(L, "openai_admin: config.rate_limit.burst must be a number >= 1, got %s",
                   lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : type_name(L, -1));
    }
    lua_pop(L, 1);
    int pt = field(L, r, "per_endpoint");
    if (pt != LUA_TNIL && pt != LUA_TBOOLEAN)
      luaL_error(L, "openai_admin: config.rate_limit.per_endpoint must be a boolean, got %s", type_name(L, -1));
    rl->per_endpoint = pt == LUA_TNIL ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    rl->mode = requests > 0 ? OA_RL_FIXED : OA_RL_ADAPTIVE;
    rl->requests = requests;
    rl->burst = burst;
  } else {
    luaL_error(L, "openai_admin: config.rate_limit must be false or a table, got %s", type_name(L, -1));
  }
  lua_pop(L, 1);
  oa_rl_configure(rl);
}

static char *opt_string(lua_State *L, int t, const char *key) {
  size_t n;
  const char *v = get_string(L, t, key, "config", 0, 0, NULL, &n);
  if (v == NULL) return NULL;
  if (n == 0 || strlen(v) != n) luaL_error(L, "openai_admin: config.%s must be a non-empty string", key);
  return dup_mem(L, v, n);
}

/* TLS, proxy and size settings of the connection layer (checked for the user by the Lua layer;
 * here only the contract). */
static void read_conn_conf(lua_State *L, oa_engine *e, int t) {
  oa_conn_conf *cf = &e->conf;
  cf->ca_file = opt_string(L, t, "ca_file");
  cf->ca_path = opt_string(L, t, "ca_path");
  cf->proxy = opt_string(L, t, "proxy");
  cf->no_proxy = opt_string(L, t, "no_proxy");
  int ty = field(L, t, "insecure");
  if (ty != LUA_TNIL && ty != LUA_TBOOLEAN) luaL_error(L, "openai_admin: config.insecure must be a boolean");
  cf->insecure = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (field(L, t, "max_response_bytes") != LUA_TNIL) {
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 1) luaL_error(L, "openai_admin: config.max_response_bytes must be a positive integer");
    cf->max_response_bytes = (curl_off_t)v;
  }
  lua_pop(L, 1);
  if (field(L, t, "max_host_connections") != LUA_TNIL) {
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 1 || v > 1024)
      luaL_error(L, "openai_admin: config.max_host_connections must be an integer from 1 to 1024");
    cf->max_host_connections = (long)v;
  }
  lua_pop(L, 1);
  curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, cf->max_host_connections);
  curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, cf->max_host_connections > 16 ? cf->max_host_connections : 16L);
}

/* core.client(config) */
int oa_client_new(lua_State *L) {
  static const char *const keys[] = {"base_url", "admin_key", "organization", "project", "user_agent",
                                     "headers", "timeout", "connect_timeout", "max_retries",
                                     "rate_limit", "ca_file", "ca_path", "insecure", "proxy", "no_proxy",
                                     "max_response_bytes", "max_host_connections", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  check_keys(L, 1, keys, "config");

  /* created closed with a __gc first, so any error below frees what was allocated */
  oa_client *c = lua_newuserdatauv(L, sizeof *c, 1);
  memset(c, 0, sizeof *c);
  c->reading = -1;
  luaL_setmetatable(L, CLIENT_MT);
  oa_engine *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, POOL_MT);
  if (oa_engine_init(p) != 0) return luaL_error(L, "openai_admin: cannot create a curl multi handle");
  lua_setiuservalue(L, 2, UV_POOL);
  c->pool = p;
  read_rate_limit(L, p, 1);
  read_conn_conf(L, p, 1);

  size_t n;
  const char *s = get_string(L, 1, "base_url", "config", 1, 0, NULL, &n);
  while (n > 0 && s[n - 1] == '/') n--;
  if (n == 0 || strchr(s, ' ') != NULL)
    return luaL_error(L, "openai_admin: config.base_url must be an http(s) URL");
  if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
    return luaL_error(L, "openai_admin: config.base_url must start with http:// or https://");
  c->base_url = dup_mem(L, s, n);
  c->base_len = n;
  s = get_string(L, 1, "admin_key", "config", 1, 0, NULL, &n);
  if (n == 0) return luaL_error(L, "openai_admin: config.admin_key must not be empty");
  c->key = dup_mem(L, s, n);
  c->key_len = n;
  if ((s = get_string(L, 1, "organization", "config", 0, 0, NULL, &n))) c->organization = dup_mem(L, s, n);
  if ((s = get_string(L, 1, "project", "config", 0, 0, NULL, &n))) c->project = dup_mem(L, s, n);
  s = get_string(L, 1, "user_agent", "config", 0, 0, NULL, &n);
  c->user_agent = s ? dup_mem(L, s, n) : dup_mem(L, DEFAULT_USER_AGENT, strlen(DEFAULT_USER_AGENT));
  c->timeout = get_seconds(L, 1, "timeout", "config", DEFAULT_TIMEOUT);
  c->connect_timeout = get_seconds(L, 1, "connect_timeout", "config", DEFAULT_CONNECT_TIMEOUT);
  c->max_retries = get_retries(L, 1, "max_retries", "config", DEFAULT_MAX_RETRIES);
  merge_headers(L, c, 1, "config");
  build_defaults(L, c);
  c->open = 1;
  c->pool->open_clients++;
  lua_settop(L, 2);
  return 1;
}

/* client:derive{...}: a new client with overridden defaults, sharing the pool. */
static int client_derive(lua_State *L) {
  static const char *const keys[] = {"timeout", "connect_timeout", "max_retries", "headers",
                                     "organization", "project", NULL};
  oa_client *parent = check_open(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  check_keys(L, 2, keys, "options");

  oa_client *c = lua_newuserdatauv(L, sizeof *c, 1);
  memset(c, 0, sizeof *c);
  c->reading = -1;
  luaL_setmetatable(L, CLIENT_MT);
  lua_getiuservalue(L, 1, UV_POOL);
  lua_setiuservalue(L, 3, UV_POOL);
  c->pool = parent->pool;
  c->base_url = dup_mem(L, parent->base_url, parent->base_len);
  c->base_len = parent->base_len;
  c->key = dup_mem(L, parent->key, parent->key_len);
  c->key_len = parent->key_len;
  if (parent->organization) c->organization = dup_mem(L, parent->organization, strlen(parent->organization));
  if (parent->project) c->project = dup_mem(L, parent->project, strlen(parent->project));
  c->user_agent = dup_mem(L, parent->user_agent, strlen(parent->user_agent));
  if (parent->n_custom > 0) {
    c->custom = calloc((size_t)parent->n_custom, sizeof *c->custom);
    if (c->custom == NULL) return luaL_error(L, "openai_admin: out of memory");
    for (int i = 0; i < parent->n_custom; i++) {
      c->n_custom = i + 1;
      c->custom[i].name = dup_mem(L, parent->custom[i].name, strlen(parent->custom[i].name));
      if (parent->custom[i].value)
        c->custom[i].value = dup_mem(L, parent->custom[i].value, strlen(parent->custom[i].value));
    }
  }
  c->timeout = get_seconds(L, 2, "timeout", "options", parent->timeout);
  c->connect_timeout = get_seconds(L, 2, "connect_timeout", "options", parent->connect_timeout);
  c->max_retries = get_retries(L, 2, "max_retries", "options", parent->max_retries);
  size_t n;
  int is_false;
  const char *s = get_string(L, 2, "organization", "options", 0, 1, &is_false, &n);
  if (s || is_false) set_string(L, &c->organization, s, n);
  s = get_string(L, 2, "project", "options", 0, 1, &is_false, &n);
  if (s || is_false) set_string(L, &c->project, s, n);
  merge_headers(L, c, 2, "options");
  build_defaults(L, c);
  c->open = 1;
  c->pool->open_clients++;
  return 1;
}

/* --- requests ------------------------------------------------------------------------------ */

static oa_batch *new_batch(lua_State *L, oa_engine *e, int n) {
  size_t size = sizeof(oa_batch) + (size_t)(n > 1 ? n - 1 : 0) * sizeof(int64_t);
  oa_batch *b = lua_newuserdatauv(L, size, 0);
  b->e = e;
  b->n = 0;
  luaL_setmetatable(L, BATCH_MT);
  for (int i = 0; i < n; i++) b->ids[i] = -1;
  b->n = n;
  return b;
}

static long to_ms(double s) {
  double ms = ceil(s * 1000.0);
  return ms > 1e12 ? (long)1e12 : (long)ms;
}

typedef struct req_header {
  const char *name, *value; /* value NULL: remove */
  size_t nlen, vlen;
} req_header;

static int req_names(const req_header *rh, int n, const char *line_or_name, int is_line) {
  for (int i = 0; i < n; i++) {
    if (is_line ? line_names(line_or_name, rh[i].name, rh[i].nlen)
                : (strlen(line_or_name) == rh[i].nlen && strncasecmp(line_or_name, rh[i].name, rh[i].nlen) == 0))
      return 1;
  }
  return 0;
}

/* Header lines gathered for one request: "line\0line\0...", n of them. */
typedef struct line_buf {
  char stack[1024];
  char *data;
  size_t len, cap;
  int n;
} line_buf;

static void lb_init(line_buf *b) {
  b->data = b->stack;
  b->len = 0;
  b->cap = sizeof b->stack;
  b->n = 0;
}

static void lb_reserve(lua_State *L, line_buf *b, size_t more) {
  if (more <= b->cap - b->len) return;
  size_t cap = b->cap * 2;
  while (cap - b->len < more) cap *= 2;
  /* left on the stack (read_request's settop drops it): collected, so no leak on an error */
  luaL_checkstack(L, 1, "openai_admin: request headers");
  char *d = lua_newuserdatauv(L, cap, 0);
  memcpy(d, b->data, b->len);
  oa_wipe(b->data, b->len);
  b->data = d;
  b->cap = cap;
}

static void lb_add(lua_State *L, line_buf *b, const char *line, size_t n) {
  lb_reserve(L, b, n + 1);
  memcpy(b->data + b->len, line, n);
  b->data[b->len + n] = '\0';
  b->len += n + 1;
  b->n++;
}

static void lb_line(lua_State *L, line_buf *b, const char *name, size_t nlen, const char *value, size_t vlen) {
  lb_reserve(L, b, nlen + vlen + 3);
  b->len += put_line(b->data + b->len, name, nlen, value, vlen) + 1;
  b->n++;
}

/* One block: n list nodes, then the text they point into. NULL when there are no lines or no
 * memory (the caller tells them apart by b->n). */
static struct curl_slist *lb_to_list(const line_buf *b, size_t *bytes) {
  if (b->n == 0) return NULL;
  size_t nodes = (size_t)b->n * sizeof(struct curl_slist);
  struct curl_slist *l = malloc(nodes + b->len);
  if (l == NULL) return NULL;
  char *text = (char *)l + nodes;
  memcpy(text, b->data, b->len);
  for (int i = 0; i < b->n; i++) {
    l[i].data = text;
    l[i].next = i + 1 < b->n ? &l[i + 1] : NULL;
    text += strlen(text) + 1;
  }
  *bytes = nodes + b->len;
  return l;
}

static void lb_wipe(line_buf *b) { oa_wipe(b->data, b->len); }

/* Checks the request's path (already percent-encoded, with its query). */
static void check_path(lua_State *L, const char *path, size_t plen, const char *what) {
  if (path[0] != '/') luaL_error(L, "openai_admin: %s.path must start with '/'", what);
  for (size_t i = 0; i < plen; i++)
    if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f || path[i] == '#')
      luaL_error(L, "openai_admin: %s.path must be percent-encoded", what);
}

/* log: true records every attempt; "notable" only what a log above debug shows (waits,
 * retried and given-up attempts): a plain first attempt then costs no event at all */
static int want_events(lua_State *L, int idx, const char *what) {
  int lt = lua_type(L, idx);
  if (lt == LUA_TSTRING && strcmp(lua_tostring(L, idx), "notable") == 0) return OA_EVENTS_NOTABLE;
  if (lt == LUA_TNIL || lt == LUA_TNONE || lt == LUA_TBOOLEAN) return lua_toboolean(L, idx) ? OA_EVENTS_ALL : OA_EVENTS_NONE;
  return luaL_error(L, "openai_admin: %s.log must be a boolean or \"notable\"", what);
}

/* The rest of a request once its fields are read: the header lines (its own first, then the
 * client's defaults it does not override; the transfer owns them all) and the URL. May push
 * scratch userdata (the caller's settop drops them). */
static void finish_request(lua_State *L, oa_client *c, oa_xfer *x, const char *path, size_t plen, double timeout,
                           const req_header *rh, int nrh) {
  int names_ct = c->defaults_name_ct || req_names(rh, nrh, "Content-Type", 0);
  int names_to = c->defaults_name_to || req_names(rh, nrh, "X-Stainless-Timeout", 0);
  int names_rc = c->defaults_name_rc || req_names(rh, nrh, "X-Stainless-Retry-Count", 0);
  int overrides_default = 0;
  for (struct curl_slist *d = c->defaults; d && !overrides_default; d = d->next)
    if (req_names(rh, nrh, d->data, 1)) overrides_default = 1;

  /* the lines are gathered as "line\0line\0..." in a scratch buffer (the stack, or a userdata
   * when they are long: nothing to free on an error), then become one block of list nodes and
   * text, the transfer's (one allocation per request instead of two per line) */
  line_buf lb;
  lb_init(&lb);
  if (!names_ct) {
    if (x->body) lb_line(L, &lb, "Content-Type", 12, "application/json", 16);
    else if (x->method == OA_POST) lb_line(L, &lb, "Content-Type", 12, NULL, 0);
  }
  if (!names_to && timeout > 0) {
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)timeout);
    lb_line(L, &lb, "X-Stainless-Timeout", 19, v, strlen(v));
  }
  for (int i = 0; i < nrh; i++) lb_line(L, &lb, rh[i].name, rh[i].nlen, rh[i].value, rh[i].vlen);
  for (struct curl_slist *d = c->defaults; d; d = d->next)
    if (!overrides_default || !req_names(rh, nrh, d->data, 1)) lb_add(L, &lb, d->data, strlen(d->data));
  x->headers = lb_to_list(&lb, &x->headers_bytes);
  lb_wipe(&lb); /* before anything can raise: it holds the Authorization line */
  if (x->headers == NULL && lb.n > 0) luaL_error(L, "openai_admin: out of memory");
  x->retry_count_header = !names_rc;

  /* the URL */
  size_t ulen = c->base_len + plen;
  x->url = malloc(ulen + 1);
  if (x->url == NULL) luaL_error(L, "openai_admin: out of memory");
  memcpy(x->url, c->base_url, c->base_len);
  memcpy(x->url + c->base_len, path, plen + 1);
}

/* Fills x from the request table at index t. Strings point into the table (kept alive by
 * the caller's stack for the whole call). */
static void read_request(lua_State *L, oa_client *c, int t, oa_xfer *x, const char *what) {
  static const char *const keys[] = {"method", "path", "body", "headers", "timeout", "connect_timeout",
                                     "max_retries", "endpoint", "log", "reply_headers", "decode", NULL};
  if (lua_type(L, t) != LUA_TTABLE) luaL_error(L, "openai_admin: %s must be a table, got %s", what, type_name(L, t));
  check_keys(L, t, keys, what);

  size_t n;
  const char *method = get_string(L, t, "method", what, 1, 0, NULL, &n);
  if (strcmp(method, "GET") == 0) x->method = OA_GET;
  else if (strcmp(method, "POST") == 0) x->method = OA_POST;
  else if (strcmp(method, "DELETE") == 0) x->method = OA_DELETE;
  else luaL_error(L, "openai_admin: %s.method must be GET, POST or DELETE, got '%s'", what, method);
  size_t plen;
  const char *path = get_string(L, t, "path", what, 1, 0, NULL, &plen);
  check_path(L, path, plen, what);
  x->path = dup_mem(L, path, plen);
  const char *endpoint = get_string(L, t, "endpoint", what, 0, 0, NULL, &n);
  if (endpoint) x->endpoint = dup_mem(L, endpoint, n);
  /* reply_headers = false: the answer comes without its headers table (the Lua layer reads only
   * what the core takes out of them: request_id, retry_after), which is a tenth of a call's own
   * cost */
  x->reply_headers = field(L, t, "reply_headers") == LUA_TNIL || lua_toboolean(L, -1);
  lua_pop(L, 1);
  x->decode = field(L, t, "decode") != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 1);
  field(L, t, "log");
  x->want_events = want_events(L, -1, what);
  lua_pop(L, 1);
  int bt = field(L, t, "body");
  if (bt == LUA_TSTRING) {
    const char *body = lua_tolstring(L, -1, &x->body_len);
    x->body = dup_mem(L, body, x->body_len);
  } else if (bt != LUA_TNIL) {
    luaL_error(L, "openai_admin: %s.body must be a string, got %s", what, type_name(L, -1));
  }
  lua_pop(L, 1);
  double timeout = get_seconds(L, t, "timeout", what, 0);
  x->timeout_ms = to_ms(timeout > 0 ? timeout : c->timeout);
  x->connect_timeout_ms = to_ms(get_seconds(L, t, "connect_timeout", what, c->connect_timeout));
  x->max_retries = get_retries(L, t, "max_retries", what, c->max_retries);

  /* per-request headers: counted first, then read into a stack array or a userdata */
  req_header local[8], *rh = local;
  int nrh = 0;
  int ht = field(L, t, "headers");
  int h = lua_gettop(L);
  if (ht == LUA_TTABLE) {
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      lua_pop(L, 1);
      count++;
    }
    if (count > 8) rh = lua_newuserdatauv(L, (size_t)count * sizeof *rh, 0); /* at h + 1 */
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "openai_admin: %s.headers keys must be strings", what);
      req_header e;
      e.name = lua_tolstring(L, -2, &e.nlen);
      if (!valid_header_name(e.name, e.nlen)) luaL_error(L, "openai_admin: %s.headers has an invalid header name", what);
      e.value = NULL;
      e.vlen = 0;
      if (lua_type(L, -1) == LUA_TSTRING) {
        e.value = lua_tolstring(L, -1, &e.vlen);
        if (!valid_header_value(e.value, e.vlen))
          luaL_error(L, "openai_admin: %s.headers[\"%s\"] must not contain line breaks", what, e.name);
      } else if (!(lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
        luaL_error(L, "openai_admin: %s.headers[\"%s\"] must be a string or false, got %s", what, e.name,
                   type_name(L, -1));
      }
      lua_pop(L, 1);
      if (nrh < count) rh[nrh++] = e;
    }
  } else if (ht != LUA_TNIL) {
    luaL_error(L, "openai_admin: %s.headers must be a table, got %s", what, type_name(L, -1));
  }

  finish_request(L, c, x, path, plen, timeout, rh, nrh);
  lua_settop(L, h - 1);
}

/* --- results ------------------------------------------------------------------------------ */

static const char *method_name(oa_method m) {
  return m == OA_GET ? "GET" : m == OA_POST ? "POST" : "DELETE";
}

/* Pushes the res table (an HTTP answer) or the err table (a transport failure, or a refusal of
 * the rate budget: nothing sent); returns 1 for res. */
static int push_outcome(lua_State *L, oa_engine *e, const oa_xfer *x) {
  int is_res = x->code == CURLE_OK && x->status > 0;
  if (is_res) {
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, x->status);
    lua_setfield(L, -2, "status");
    if (x->reply_headers) {
      lua_createtable(L, 0, 8);
      const char *p = x->hdr_buf.data, *end = p + x->hdr_buf.len;
      while (p && p < end) {
        size_t nlen = strlen(p);
        const char *v = p + nlen + 1;
        size_t vlen = strlen(v);
        lua_pushlstring(L, p, nlen);
        lua_pushlstring(L, v, vlen);
        lua_rawset(L, -3); /* last value wins */
        p = v + vlen + 1;
      }
      lua_setfield(L, -2, "headers");
    }
    /* decode = true: a 2xx body is decoded here, straight from the receive buffer (res.json;
     * no body string to copy and hand back); on invalid JSON the body stays, with json_error */
    int decoded = 0;
    if (x->decode && x->status >= 200 && x->status <= 299 && x->body_buf.len > 0) {
      if (oa_json_decode_hinted(L, x->body_buf.data, x->body_buf.len, &e->hints)) {
        lua_setfield(L, -2, "json");
        decoded = 1;
      } else {
        lua_setfield(L, -2, "json_error");
      }
    }
    if (!decoded) {
      lua_pushlstring(L, x->body_buf.data ? x->body_buf.data : "", x->body_buf.len);
      lua_setfield(L, -2, "body");
    }
    const char *rid = oa_xfer_header(x, "x-request-id");
    if (rid) {
      lua_pushstring(L, rid);
      lua_setfield(L, -2, "request_id");
    }
  } else {
    lua_createtable(L, 0, 10);
    const char *kind = x->err_code && strcmp(x->err_code, "budget") == 0 ? "rate_limit"
                       : x->code == CURLE_OPERATION_TIMEDOUT             ? "timeout"
                                                                         : "connection";
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
    lua_setfield(L, -2, "message");
    if (x->code != CURLE_OK) {
      lua_pushinteger(L, (lua_Integer)x->code);
      lua_setfield(L, -2, "curl_code");
    }
    if (x->err_code) {
      lua_pushstring(L, x->err_code);
      lua_setfield(L, -2, "code");
    }
    lua_pushstring(L, method_name(x->method));
    lua_setfield(L, -2, "method");
    lua_pushstring(L, x->path);
    lua_setfield(L, -2, "path");
    if (x->endpoint) {
      lua_pushstring(L, x->endpoint);
      lua_setfield(L, -2, "endpoint");
    }
  }
  if (x->retry_after > 0) {
    lua_pushnumber(L, x->retry_after);
    lua_setfield(L, -2, "retry_after");
  }
  lua_pushinteger(L, x->attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushnumber(L, x->waited);
  lua_setfield(L, -2, "waited");
  return is_res;
}

/* A blocking call's transfer: a new one, kept as the client's `reading` (after releasing one an
 * earlier raised call left behind). */
static oa_xfer *begin_call(lua_State *L, oa_client *c) {
  drop_reading(c);
  oa_xfer *x = oa_engine_new_xfer(c->pool);
  if (x == NULL) luaL_error(L, "openai_admin: out of memory");
  c->reading = x->id;
  return x;
}

/* Submits it and polls until it completes (others completing meanwhile stay collected for their
 * owners), then takes it off the done list. */
static void run_call(oa_engine *e, oa_xfer *x) {
  oa_engine_submit(e, x);
  while (x->state != OA_X_DONE) oa_engine_poll(e, -1);
  oa_engine_take(e, x);
}

/* The end of a blocking call that pushed n values (1: res; 2: nil + err or obj + id): done with
 * its transfer, and its handle after them, padded to the third place, when it recorded events. */
static int end_call(lua_State *L, oa_client *c, int n, int made, int64_t id) {
  c->reading = -1;
  if (made == 0) return n;
  if (n == 1) lua_pushnil(L);
  lua_pushinteger(L, (lua_Integer)id);
  return 3;
}

/* Reads the request table at t into a new transfer whose handle is slot i of batch b (so an
 * error while reading releases it). */
static oa_xfer *read_into(lua_State *L, oa_client *c, oa_batch *b, int i, int t, const char *what) {
  oa_xfer *x = oa_engine_new_xfer(c->pool);
  if (x == NULL) luaL_error(L, "openai_admin: out of memory");
  b->ids[i] = x->id;
  read_request(L, c, t, x, what);
  x->tag = b;
  return x;
}

/* Pushes the outcome of a completed transfer (res, or nil + err) and releases it; returns the
 * number of values pushed. */
static int push_result(lua_State *L, oa_engine *e, oa_xfer *x) {
  int is_res = push_outcome(L, e, x);
  oa_engine_release(e, x);
  if (is_res) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* client:request{...} -> res | nil, err: submit, then poll until that transfer completes
 * (other transfers completing meanwhile stay collected for their owners). When the transfer
 * recorded events (request.log), its handle follows: res, nil, handle | nil, err, handle, so
 * the caller can take them from eng:events(). */
static int client_request(lua_State *L) {
  oa_client *c = check_open(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  oa_engine *e = c->pool;
  /* no batch userdata per call (a finalizer per request): the client keeps the one handle */
  oa_xfer *x = begin_call(L, c);
  read_request(L, c, 2, x, "request");
  run_call(e, x);
  int64_t id = x->id;
  int made = x->n_events_made;
  return end_call(L, c, push_result(L, e, x), made, id);
}

/* client:get(method, path, endpoint, log) -> obj, request_id [, handle] | nil, res|err [, handle]
 * The blocking call of the Lua layer's hot path (a call of path arguments only): the request of
 * client:request{ method, path, endpoint, log, reply_headers = false, decode = true } without its
 * table, and a 2xx JSON object handed over as itself with its request id, without a res table.
 * Anything else (another status, a body that is not a JSON object, a transport error) comes as
 * client:request's outcome table after nil. The handle follows when events were recorded. */
static int client_get(lua_State *L) {
  oa_client *c = check_open(L, 1);
  size_t mlen, plen, elen = 0;
  const char *method = luaL_checklstring(L, 2, &mlen);
  const char *path = luaL_checklstring(L, 3, &plen);
  const char *endpoint = luaL_optlstring(L, 4, NULL, &elen);
  lua_settop(L, 5);
  oa_method m;
  if (strcmp(method, "GET") == 0) m = OA_GET;
  else if (strcmp(method, "POST") == 0) m = OA_POST;
  else if (strcmp(method, "DELETE") == 0) m = OA_DELETE;
  else return luaL_error(L, "openai_admin: get: method must be GET, POST or DELETE, got '%s'", method);
  int want = want_events(L, 5, "get");
  check_path(L, path, plen, "get"); /* what can be refused, before a transfer exists */
  oa_engine *e = c->pool;
  oa_xfer *x = begin_call(L, c);
  x->method = m;
  x->path = dup_mem(L, path, plen);
  if (endpoint) x->endpoint = dup_mem(L, endpoint, elen);
  x->want_events = want;
  x->reply_headers = 0;
  x->decode = 1;
  x->timeout_ms = to_ms(c->timeout);
  x->connect_timeout_ms = to_ms(c->connect_timeout);
  x->max_retries = c->max_retries;
  finish_request(L, c, x, path, plen, 0, NULL, 0);
  lua_settop(L, 5);
  run_call(e, x);
  int64_t id = x->id;
  int made = x->n_events_made;
  if (x->code == CURLE_OK && x->status >= 200 && x->status <= 299 && x->body_buf.len > 0 &&
      oa_json_decode_hinted(L, x->body_buf.data, x->body_buf.len, &e->hints) && lua_type(L, -1) == LUA_TTABLE) {
    const char *rid = oa_xfer_header(x, "x-request-id");
    if (rid) lua_pushstring(L, rid);
    else lua_pushnil(L);
  } else {
    lua_settop(L, 5); /* what the decode pushed, if it ran */
    x->decode = 0;    /* the body as it came: the Lua layer says what is wrong with it */
    lua_pushnil(L);
    push_outcome(L, e, x);
  }
  oa_engine_release(e, x);
  return end_call(L, c, 2, made, id);
}

/* client:submit{...} -> handle: queued at once; eng:poll/collect/result take it from there */
static int client_submit(lua_State *L) {
  oa_client *c = check_open(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  oa_engine *e = c->pool;
  oa_batch *b = new_batch(L, e, 1);
  oa_xfer *x = read_into(L, c, b, 0, 2, "request");
  x->tag = NULL;
  oa_engine_submit(e, x);
  b->ids[0] = -1; /* the engine owns it now */
  lua_pushinteger(L, (lua_Integer)x->id);
  return 1;
}

/* client:request_many(reqs, {concurrency = 16}) -> { res | err, ... } in input order; keeps
 * `concurrency` transfers in flight, starting the next one as each completes */
static int client_request_many(lua_State *L) {
  static const char *const keys[] = {"concurrency", NULL};
  oa_client *c = check_open(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int concurrency = DEFAULT_CONCURRENCY;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    check_keys(L, 3, keys, "options");
    if (field(L, 3, "concurrency") != LUA_TNIL) {
      int isint = 0;
      lua_Integer n = lua_tointegerx(L, -1, &isint);
      if (!isint || n < 1 || n > 1024)
        return luaL_error(L, "openai_admin: options.concurrency must be an integer from 1 to 1024, got %s",
                          lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : type_name(L, -1));
      concurrency = (int)n;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
  if (n > 1000000) return luaL_error(L, "openai_admin: too many requests in one batch");
  lua_createtable(L, (int)n, 0); /* index 3: the results */
  if (n == 0) return 1;
  oa_engine *e = c->pool;
  oa_batch *b = new_batch(L, e, (int)n); /* index 4 */
  char what[48];
  /* every request is read (and checked) before any is sent */
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    snprintf(what, sizeof what, "requests[%lld]", (long long)i);
    read_into(L, c, b, (int)(i - 1), lua_gettop(L), what);
    lua_pop(L, 1);
  }
  int next = 0, left = (int)n, inflight = 0;
  while (left > 0) {
    while (inflight < concurrency && next < (int)n) {
      oa_engine_submit(e, oa_engine_find(e, b->ids[next++]));
      inflight++;
    }
    oa_engine_poll(e, -1);
    for (int k = e->n_done - 1; k >= 0; k--) {
      if (k >= e->n_done) continue;
      oa_xfer *x = oa_engine_find(e, e->done[k]);
      if (x == NULL || x->tag != b) continue;
      int i = -1;
      for (int j = 0; j < next; j++)
        if (b->ids[j] == x->id) {
          i = j;
          break;
        }
      oa_engine_take(e, x);
      push_outcome(L, e, x);
      lua_rawseti(L, 3, i + 1);
      b->ids[i] = -1;
      oa_engine_release(e, x);
      inflight--;
      left--;
    }
    if (e->multi == NULL) break; /* cannot happen while the client is open */
  }
  lua_settop(L, 3);
  return 1;
}

/* client:engine() -> the engine userdata shared with derived clients */
static int client_engine(lua_State *L) {
  check_open(L, 1);
  lua_getiuservalue(L, 1, UV_POOL);
  return 1;
}

/* --- the engine's methods ------------------------------------------------------------------- */

static oa_engine *check_engine(lua_State *L) { return luaL_checkudata(L, 1, POOL_MT); }

static oa_xfer *check_handle(lua_State *L, oa_engine *e, int idx) {
  lua_Integer h = luaL_checkinteger(L, idx);
  oa_xfer *x = oa_engine_find(e, (int64_t)h);
  if (x == NULL) luaL_error(L, "openai_admin: unknown transfer handle %I", h);
  return x;
}

/* eng:poll(timeout|nil) -> number of completed transfers waiting to be collected */
static int engine_poll(lua_State *L) {
  oa_engine *e = check_engine(L);
  double t = -1;
  if (!lua_isnoneornil(L, 2)) {
    t = luaL_checknumber(L, 2);
    if (!(t >= 0)) return luaL_error(L, "openai_admin: poll timeout must be >= 0 seconds");
  }
  lua_pushinteger(L, oa_engine_poll(e, t));
  return 1;
}

/* eng:collect() -> { h, ... } completed since the last collect */
static int engine_collect(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_createtable(L, e->n_done, 0);
  int k = 0;
  for (int i = 0; i < e->n_done; i++) {
    oa_xfer *x = oa_engine_find(e, e->done[i]);
    if (x == NULL || x->tag != NULL) { /* a blocking call's own: it takes it itself */
      e->done[k++] = e->done[i];
      continue;
    }
    lua_pushinteger(L, (lua_Integer)e->done[i]);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  }
  e->n_done = k;
  return 1;
}

/* eng:result(h) -> res | nil, err (a completed handle, once) */
static int engine_result(lua_State *L) {
  oa_engine *e = check_engine(L);
  oa_xfer *x = check_handle(L, e, 2);
  if (x->state != OA_X_DONE) return luaL_error(L, "openai_admin: transfer %I has not completed", (lua_Integer)x->id);
  return push_result(L, e, x);
}

/* eng:live(h) -> true while the handle is known (queued, running or completed, not yet taken) */
static int engine_live(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_pushboolean(L, oa_engine_find(e, (int64_t)luaL_checkinteger(L, 2)) != NULL);
  return 1;
}

/* eng:done(h) -> true when the handle has completed */
static int engine_done(lua_State *L) {
  oa_engine *e = check_engine(L);
  oa_xfer *x = oa_engine_find(e, (int64_t)luaL_checkinteger(L, 2));
  lua_pushboolean(L, x != NULL && x->state == OA_X_DONE);
  return 1;
}

static int engine_cancel(lua_State *L) {
  oa_engine *e = check_engine(L);
  oa_xfer *x = oa_engine_find(e, (int64_t)luaL_checkinteger(L, 2));
  int cancelled = x != NULL && x->tag == NULL;
  if (cancelled) oa_engine_release(e, x); /* frees x */
  lua_pushboolean(L, cancelled);
  return 1;
}

static int engine_pending(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_pushinteger(L, e->n_live);
  return 1;
}

static int engine_sockets(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_createtable(L, 0, e->n_socks);
  lua_createtable(L, 0, e->n_socks);
  for (int i = 0; i < e->n_socks; i++) {
    int w = e->socks[i].what;
    lua_pushstring(L, w == CURL_POLL_INOUT ? "rw" : w == CURL_POLL_OUT ? "w" : "r");
    lua_rawseti(L, -3, (lua_Integer)e->socks[i].fd);
    lua_pushinteger(L, e->socks[i].serial);
    lua_rawseti(L, -2, (lua_Integer)e->socks[i].fd);
  }
  return 2; /* fd -> interest, fd -> serial (a new serial: a new socket on that fd number) */
}

static int engine_timeout(lua_State *L) {
  oa_engine *e = check_engine(L);
  double t = oa_engine_timeout(e);
  if (t < 0) lua_pushnil(L);
  else lua_pushnumber(L, t);
  return 1;
}

static int engine_ready(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_Integer fd = luaL_checkinteger(L, 2);
  const char *what = luaL_optstring(L, 3, "rw");
  int ev = 0;
  if (strchr(what, 'r')) ev |= CURL_CSELECT_IN;
  if (strchr(what, 'w')) ev |= CURL_CSELECT_OUT;
  if (strchr(what, 'e')) ev |= CURL_CSELECT_ERR;
  oa_engine_action(e, (curl_socket_t)fd, ev);
  return 0;
}

static int engine_timer(lua_State *L) {
  oa_engine_action(check_engine(L), CURL_SOCKET_TIMEOUT, 0);
  return 0;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v == NULL || *v == '\0') return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* eng:events() -> { event, ... } recorded since the last call (docs/internals.md) */
static int engine_events(lua_State *L) {
  oa_engine *e = check_engine(L);
  lua_createtable(L, e->n_events, 0);
  for (int i = 0; i < e->n_events; i++) {
    oa_event *ev = &e->events[i];
    lua_createtable(L, 0, 10);
    set_str(L, "type", ev->type == OA_EV_ATTEMPT ? "attempt" : "wait");
    lua_pushinteger(L, (lua_Integer)ev->handle);
    lua_setfield(L, -2, "handle");
    set_str(L, "method", method_name(ev->method));
    set_str(L, "path", ev->path);
    set_str(L, "endpoint", ev->endpoint);
    lua_pushinteger(L, ev->attempt);
    lua_setfield(L, -2, "attempt");
    if (ev->type == OA_EV_ATTEMPT) {
      if (ev->status) {
        lua_pushinteger(L, ev->status);
        lua_setfield(L, -2, "status");
      }
      set_str(L, "request_id", ev->request_id);
      if (ev->curl_code) {
        lua_pushinteger(L, ev->curl_code);
        lua_setfield(L, -2, "curl_code");
      }
      set_str(L, "error", ev->error);
      lua_pushnumber(L, ev->elapsed_ms);
      lua_setfield(L, -2, "elapsed_ms");
      set_str(L, "retry", ev->retry);
    } else {
      lua_pushnumber(L, ev->seconds);
      lua_setfield(L, -2, "seconds");
      set_str(L, "reason", ev->reason);
    }
    lua_rawseti(L, -2, i + 1);
    oa_event_free(ev);
  }
  e->n_events = 0;
  return 1;
}

static int client_tostring(lua_State *L) {
  oa_client *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (!c->open) {
    lua_pushliteral(L, "openai_admin.core.client (closed)");
    return 1;
  }
  /* at most the first 5 characters of a long key, the rest never leaves C */
  char hint[8] = "";
  if (c->key_len >= 16) {
    memcpy(hint, c->key, 5);
    hint[5] = '\0';
  }
  lua_pushfstring(L, "openai_admin.core.client (%s, key %s...redacted)", c->base_url, hint);
  return 1;
}

/* client:info() -> the settings, without the key */
static int client_info(lua_State *L) {
  oa_client *c = check_open(L, 1);
  lua_createtable(L, 0, 8);
  lua_pushlstring(L, c->base_url, c->base_len);
  lua_setfield(L, -2, "base_url");
  lua_pushnumber(L, c->timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushnumber(L, c->connect_timeout);
  lua_setfield(L, -2, "connect_timeout");
  lua_pushinteger(L, c->max_retries);
  lua_setfield(L, -2, "max_retries");
  lua_pushstring(L, c->user_agent);
  lua_setfield(L, -2, "user_agent");
  if (c->organization) {
    lua_pushstring(L, c->organization);
    lua_setfield(L, -2, "organization");
  }
  if (c->project) {
    lua_pushstring(L, c->project);
    lua_setfield(L, -2, "project");
  }
  static const char *const modes[] = {"off", "fixed", "adaptive"};
  lua_pushstring(L, modes[c->pool->rl.mode]);
  lua_setfield(L, -2, "rate_limit");
  return 1;
}

static int client_is_open(lua_State *L) {
  oa_client *c = luaL_checkudata(L, 1, CLIENT_MT);
  lua_pushboolean(L, c->open);
  return 1;
}

void oa_client_register(lua_State *L) {
  static const luaL_Reg methods[] = {{"request", client_request}, {"get", client_get},
                                     {"request_many", client_request_many},
                                     {"submit", client_submit},   {"engine", client_engine},
                                     {"derive", client_derive},   {"close", client_close},
                                     {"info", client_info},       {"is_open", client_is_open},
                                     {NULL, NULL}};
  static const luaL_Reg engine_methods[] = {
      {"poll", engine_poll},       {"collect", engine_collect}, {"result", engine_result},
      {"live", engine_live},       {"done", engine_done},       {"cancel", engine_cancel},
      {"pending", engine_pending}, {"sockets", engine_sockets}, {"timeout", engine_timeout},
      {"ready", engine_ready},     {"timer", engine_timer},     {"events", engine_events},
      {NULL, NULL}};
  if (luaL_newmetatable(L, CLIENT_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, client_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "openai_admin.core.client");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, POOL_MT)) {
    lua_pushcfunction(L, pool_gc);
    lua_setfield(L, -2, "__gc");
    luaL_newlib(L, engine_methods);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "openai_admin.core.engine");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, BATCH_MT)) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
