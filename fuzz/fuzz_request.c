/* libFuzzer target: what the C core builds a request from (src/client.c): core.client{} with a
 * base URL path, default headers and the admin key from the input, then c:request{} with a
 * method, a path and per-request headers from the input, sent to a closed local port (no
 * network: the host is fixed; nothing listens there, so each attempt fails at once).
 * Invariants: bad input is a Lua error with a message, never a crash; a request the core accepts
 * has a path starting with '/' and no byte a URL cannot carry raw (<= ' ', DEL, '#'), and header
 * names and values without CR, LF or NUL (no header or request smuggling); the answer is a
 * transport error table, and it never quotes the admin key. */
#include <string.h>

#include "harness.h"

/* The next '\n'-separated field. */
static const char *next_field(const char **p, const char *end, size_t *n) {
  const char *s = *p;
  if (s > end) { *n = 0; return ""; }
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  *n = nl ? (size_t)(nl - s) : (size_t)(end - s);
  *p = nl ? nl + 1 : end + 1;
  return s;
}

static int contains(const char *hay, const char *needle, size_t n) {
  size_t h = strlen(hay);
  for (size_t i = 0; i + n <= h; i++)
    if (memcmp(hay + i, needle, n) == 0) return 1;
  return 0;
}

static int clean_path(const char *s, size_t n) {
  if (n == 0 || s[0] != '/') return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '#') return 0;
  return 1;
}

static int clean_header(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lua_State *L = fuzz_state();
  const char *p = (const char *)data, *end = p + size;
  size_t nb, nk, nh, nv, np, nrh, nrv;
  const char *base = next_field(&p, end, &nb), *key = next_field(&p, end, &nk);
  const char *hn = next_field(&p, end, &nh), *hv = next_field(&p, end, &nv);
  const char *path = next_field(&p, end, &np);
  const char *rhn = next_field(&p, end, &nrh), *rhv = next_field(&p, end, &nrv);
  static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", ""};
  const char *method = methods[size ? data[0] % 5 : 0];

  /* core.client{ ... } */
  fuzz_push_core_fn(L, "client");
  lua_createtable(L, 0, 8);
  lua_pushliteral(L, "http://127.0.0.1:9");
  lua_pushlstring(L, base, nb);
  lua_concat(L, 2);
  lua_setfield(L, -2, "base_url");
  lua_pushliteral(L, "sk-admin-");
  lua_pushlstring(L, key, nk);
  lua_concat(L, 2);
  lua_setfield(L, -2, "admin_key");
  lua_createtable(L, 0, 1);
  lua_pushlstring(L, nh ? hn : "x-empty", nh ? nh : 7);
  lua_pushlstring(L, hv, nv);
  lua_rawset(L, -3);
  lua_setfield(L, -2, "headers");
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "max_retries");
  lua_pushnumber(L, 0.5);
  lua_setfield(L, -2, "connect_timeout");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "rate_limit");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TTABLE, "core.client raised a %s",
               luaL_typename(L, -1));
    return 0;
  }
  FUZZ_CHECK(nh == 0 || clean_header(hn, nh), "a header name with CR/LF/NUL was accepted");
  FUZZ_CHECK(clean_header(hv, nv), "a header value with CR/LF/NUL was accepted");
  int client = lua_gettop(L);

  /* c:request{ method, path, headers } */
  lua_getfield(L, client, "request");
  lua_pushvalue(L, client);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, method);
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, path, np);
  lua_setfield(L, -2, "path");
  lua_createtable(L, 0, 1);
  lua_pushlstring(L, rhn, nrh);
  lua_pushlstring(L, rhv, nrv);
  lua_rawset(L, -3);
  lua_setfield(L, -2, "headers");
  if (lua_pcall(L, 2, 2, 0) == LUA_OK) {
    FUZZ_CHECK(clean_path(path, np), "an unusable path was accepted: %.*s", (int)np, path);
    FUZZ_CHECK(clean_header(rhn, nrh) && clean_header(rhv, nrv), "a request header with CR/LF/NUL was accepted");
    FUZZ_CHECK(lua_istable(L, -1) || lua_istable(L, -2), "c:request returned no result and no error");
    if (lua_istable(L, -1)) { /* err: nothing listens, so every accepted request ends here */
      lua_getfield(L, -1, "message");
      const char *msg = lua_tostring(L, -1);
      FUZZ_CHECK(msg != NULL, "a transport error without a message");
      char full[64] = "sk-admin-"; /* the whole key as the client has it */
      size_t fl = 9 + (nk < sizeof full - 10 ? nk : sizeof full - 10);
      memcpy(full + 9, key, fl - 9);
      FUZZ_CHECK(nk < 4 || !contains(msg, full, fl), "the error quotes the admin key: %s", msg);
    }
  }
  lua_settop(L, client);
  lua_getfield(L, client, "close");
  lua_pushvalue(L, client);
  lua_call(L, 1, 0);
  return 0;
}
