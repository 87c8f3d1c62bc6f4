/*
 * The module's JSON functions: json_decode (src/decode.c), json_encode (src/encode.c), the
 * null value, the array metatable, and json_use_cjson.
 *
 * Why not lua-cjson itself: 2.1.0 (Debian's) decodes every number as a double, so ids and cents
 * above 2^53 lose digits and 1711471533 prints as 1711471533.0, and it encodes an empty array as
 * {}. Here integers stay lua_Integer (exact to 64 bits), JSON null is the NULL light userdata
 * (the same value as cjson.null), and arrays carry a shared metatable so an empty one still
 * encodes as []. With the openresty lua-cjson (array_mt, empty_array), json.lua hands us its
 * markers (json_use_cjson) and they are accepted and produced here, so the two libraries mix.
 */
#include <string.h>

#include <lauxlib.h>

#include "json.h"

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (!oa_json_decode_hinted(L, s, len, lua_touserdata(L, lua_upvalueindex(1)))) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

static int l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  if (!oa_json_encode(L, 1)) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

/* json_use_cjson(cjson): adopts lua-cjson's array markers where it has them (the openresty
 * fork's array_mt, empty_array_mt, empty_array), for this lua_State, and returns the array
 * metatable now in use. Debian's 2.1.0 has none of them: nothing changes. */
static int l_use_cjson(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_getfield(L, 1, "array_mt") == LUA_TTABLE) lua_setfield(L, LUA_REGISTRYINDEX, OA_JSON_ARRAY_MT);
  else lua_pop(L, 1);
  if (lua_getfield(L, 1, "empty_array_mt") == LUA_TTABLE) lua_setfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY_MT);
  else lua_pop(L, 1);
  if (lua_getfield(L, 1, "empty_array") == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) != NULL)
    lua_setfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY);
  else lua_pop(L, 1);
  luaL_getmetatable(L, OA_JSON_ARRAY_MT);
  return 1;
}

void oa_json_register(lua_State *L) {
  /* a second open in the same state (package.loaded cleared) keeps the adopted metatable */
  if (lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_ARRAY_MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    luaL_newmetatable(L, OA_JSON_ARRAY_MT);
  }
  lua_setfield(L, -2, "json_array_mt");
  lua_pushcfunction(L, l_use_cjson);
  lua_setfield(L, -2, "json_use_cjson");
  oa_json_hints *hints = lua_newuserdatauv(L, sizeof *hints, 0); /* this state's, no global */
  memset(hints, 0, sizeof *hints);
  lua_pushcclosure(L, l_decode, 1);
  lua_setfield(L, -2, "json_decode");
  lua_pushcfunction(L, l_encode);
  lua_setfield(L, -2, "json_encode");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
}
