/* luaopen_openai_admin_core: the module table (client, JSON functions). */
#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdio.h>

#include "client.h"
#include "retry.h"
#include "version.h"
#include "json.h"

#if LUA_VERSION_NUM != 504
#error "openai_admin.core is written for Lua 5.4"
#endif

#define OA_CORE_VERSION OA_VERSION

#define CURL_GUARD "openai_admin.core.curl_global"

/* What this process's libcurl is, probed once by the first state that opens the module, then
 * only read. This once-flag and the facts it guards are the module's only process-wide data,
 * and they are not mutable state: pthread_once writes them before any reader returns from it.
 * They have to be process-wide because what they guard is: curl_version_info fills static
 * buffers inside libcurl (two threads calling it race), and, on a libcurl built without
 * CURL_VERSION_THREADSAFE, curl_global_init must run once per process, not once per state.
 * (curl_version() is not used: besides its own static buffer it initialises libldap's globals,
 * a data race ThreadSanitizer shows when several threads open the module at once.) */
struct curl_facts {
  int threadsafe;        /* curl_global_init/cleanup may run per state, from any thread */
  CURLcode process_init; /* !threadsafe: the result of the one curl_global_init */
  char version[128];     /* "libcurl/7.88.1 OpenSSL/3.0.15", for core.curl_version */
};
static pthread_once_t curl_facts_once = PTHREAD_ONCE_INIT;
static struct curl_facts curl_facts;

static void curl_facts_probe(void) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  curl_facts.threadsafe = (v->features & CURL_VERSION_THREADSAFE) != 0;
#ifdef OA_TEST_CURL_NOT_THREADSAFE /* make embed-test: exercise the other path on this libcurl */
  curl_facts.threadsafe = 0;
#endif
  snprintf(curl_facts.version, sizeof curl_facts.version, "libcurl/%s%s%s", v->version,
           v->ssl_version ? " " : "", v->ssl_version ? v->ssl_version : "");
  /* Without thread safety, init once for the process and never clean up: a cleanup at one
   * state's close could run while another thread's state is inside curl. */
  if (!curl_facts.threadsafe) curl_facts.process_init = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Runs when the Lua state closes: after every client and pool (created later, finalized
 * earlier) and before Lua unloads this library, so libcurl's globals are released rather than
 * orphaned by dlclose. curl counts init/cleanup pairs (under its own lock when thread-safe),
 * so several states, on several threads, are fine. */
static int curl_guard_gc(lua_State *L) {
  (void)L;
  curl_global_cleanup();
  return 0;
}

/* libcurl initialised for this state. Thread-safe libcurl: curl_global_init once per Lua
 * state, paired with a cleanup at lua_close. Otherwise: the one process-wide init above. */
static const struct curl_facts *curl_init_for_state(lua_State *L) {
  pthread_once(&curl_facts_once, curl_facts_probe);
  if (!curl_facts.threadsafe) {
    if (curl_facts.process_init != CURLE_OK) luaL_error(L, "openai_admin: curl_global_init failed");
    return &curl_facts;
  }
  if (lua_getfield(L, LUA_REGISTRYINDEX, CURL_GUARD) != LUA_TNIL) {
    lua_pop(L, 1);
    return &curl_facts;
  }
  lua_pop(L, 1);
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, curl_guard_gc);
  lua_setfield(L, -2, "__gc");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) luaL_error(L, "openai_admin: curl_global_init failed");
  lua_setmetatable(L, -2); /* only now: a cleanup must follow a successful init */
  lua_setfield(L, LUA_REGISTRYINDEX, CURL_GUARD);
  return &curl_facts;
}

/* core.monotonic() -> seconds on the monotonic clock (sub-second; the engine's own clock) */
static int core_monotonic(lua_State *L) {
  lua_pushnumber(L, oa_now());
  return 1;
}

__attribute__((visibility("default"))) int luaopen_openai_admin_core(lua_State *L) {
  const struct curl_facts *facts = curl_init_for_state(L);
  oa_client_register(L);
  static const luaL_Reg functions[] = {{"client", oa_client_new}, {"monotonic", core_monotonic}, {NULL, NULL}};
  luaL_newlib(L, functions);
  lua_pushliteral(L, OA_CORE_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, facts->version);
  lua_setfield(L, -2, "curl_version");
  lua_pushboolean(L, facts->threadsafe);
  lua_setfield(L, -2, "curl_threadsafe");
  oa_json_register(L);
  return 1;
}
