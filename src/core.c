/* luaopen_openai_admin_core: the module table (client, JSON functions). */
#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "client.h"
#include "json.h"

#if LUA_VERSION_NUM != 504
#error "openai_admin.core is written for Lua 5.4"
#endif

#define OA_CORE_VERSION "0.1.0"

#define CURL_GUARD "openai_admin.core.curl_global"

/* Runs when the Lua state closes: after every client and pool (created later, finalized
 * earlier) and before Lua unloads this library, so libcurl's globals are released rather than
 * orphaned by dlclose. curl counts init/cleanup pairs, so several states are fine. */
static int curl_guard_gc(lua_State *L) {
  (void)L;
  curl_global_cleanup();
  return 0;
}

/* curl_global_init once per Lua state (it is not thread-safe: open the module from one thread
 * at a time), paired with a cleanup at lua_close. */
static void curl_init_once(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, CURL_GUARD) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, curl_guard_gc);
  lua_setfield(L, -2, "__gc");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) luaL_error(L, "openai_admin: curl_global_init failed");
  lua_setmetatable(L, -2); /* only now: a cleanup must follow a successful init */
  lua_setfield(L, LUA_REGISTRYINDEX, CURL_GUARD);
}

__attribute__((visibility("default"))) int luaopen_openai_admin_core(lua_State *L) {
  curl_init_once(L);
  oa_client_register(L);
  static const luaL_Reg functions[] = {{"client", oa_client_new}, {NULL, NULL}};
  luaL_newlib(L, functions);
  lua_pushliteral(L, OA_CORE_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  oa_json_register(L);
  return 1;
}
