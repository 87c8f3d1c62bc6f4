/* Shared by the libFuzzer targets: one Lua state with openai_admin.core opened (linked in
 * statically), kept for the whole run (a fresh state per input would spend the run creating
 * states). Targets reach the core through its Lua API, so they follow the decoder and the
 * engine through rewrites. Any broken invariant abort()s: libFuzzer reports it as a crash. */
#ifndef OPENAI_ADMIN_FUZZ_HARNESS_H
#define OPENAI_ADMIN_FUZZ_HARNESS_H
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

int luaopen_openai_admin_core(lua_State *L);

/* The state, with the core module at registry key "core"; created at the first call. */
static inline lua_State *fuzz_state(void) {
  static lua_State *L; /* the harness's one state: libFuzzer runs inputs one after another */
  if (L == NULL) {
    L = luaL_newstate();
    FUZZ_CHECK(L != NULL, "cannot create a Lua state");
    luaL_openlibs(L);
    luaL_requiref(L, "openai_admin.core", luaopen_openai_admin_core, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "core");
    /* same(a, b): equal JSON values (same subtypes, same array-ness, same keys; order aside:
     * object key order follows Lua's table order, which is not the text's) */
    FUZZ_CHECK(luaL_dostring(L,
      "local function same(a, b)\n"
      "  if type(a) ~= type(b) then return false end\n"
      "  if type(a) == 'number' then -- 100.0 is sent as 100 on purpose (src/json.c)\n"
      "    return a == b or (a ~= a and b ~= b)\n"
      "  end\n"
      "  if type(a) ~= 'table' then return a == b end\n"
      "  if getmetatable(a) ~= getmetatable(b) then return false end\n"
      "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
      "  for k in pairs(b) do if a[k] == nil then return false end end\n"
      "  return true\n"
      "end\n"
      "return same") == LUA_OK, "harness: %s", lua_tostring(L, -1));
    lua_setfield(L, LUA_REGISTRYINDEX, "same");
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT); /* what the last input allocated is freed before the next one */
  return L;
}

/* Pushes core[name] (a function). */
static inline void fuzz_push_core_fn(lua_State *L, const char *name) {
  lua_getfield(L, LUA_REGISTRYINDEX, "core");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  FUZZ_CHECK(lua_isfunction(L, -1), "core.%s is not a function", name);
}

/* Pops two values; 1 when they are the same JSON value. */
static inline int fuzz_same(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "same");
  lua_insert(L, -3);
  FUZZ_CHECK(lua_pcall(L, 2, 1, 0) == LUA_OK, "same: %s", lua_tostring(L, -1));
  int r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

/* json_decode(s): pushes the value and returns 1, or pushes the message and returns 0. A Lua
 * error (not a bad-input answer) is a broken contract: decode never raises for bad input. */
static inline int fuzz_decode(lua_State *L, const char *s, size_t n) {
  fuzz_push_core_fn(L, "json_decode");
  lua_pushlstring(L, s, n);
  int rc = lua_pcall(L, 1, 2, 0);
  FUZZ_CHECK(rc == LUA_OK, "json_decode raised: %s", lua_tostring(L, -1));
  if (lua_isnil(L, -2) && lua_type(L, -1) == LUA_TSTRING) {
    lua_remove(L, -2);
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

/* json_encode(value at the top): replaces it with the string and returns 1, or with the
 * message and returns 0. Raising is allowed only for what the contract lets it raise for (it
 * never should for a decoded value); the caller decides. */
static inline int fuzz_encode(lua_State *L, int *raised) {
  fuzz_push_core_fn(L, "json_encode");
  lua_insert(L, -2);
  int rc = lua_pcall(L, 1, 2, 0);
  *raised = rc != LUA_OK;
  if (rc != LUA_OK) return 0;
  if (lua_type(L, -2) == LUA_TSTRING) {
    lua_pop(L, 1);
    return 1;
  }
  lua_remove(L, -2);
  return 0;
}

#endif
