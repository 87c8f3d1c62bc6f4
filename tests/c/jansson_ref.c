/*
 * jansson_ref: the reference decoder for tests/json_spec.lua's differential check (test-only,
 * not installed). decode(s) -> value | nil, message, using jansson (the library the codec used
 * before src/decode.c), building the same Lua shapes: lua_Integer for JSON integers, NULL light
 * userdata for null, and the module's array metatable (passed as the second argument) on arrays.
 */
#include <stdio.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>

#define BOX_MT "jansson_ref.box"

typedef struct { json_t *root; } box;

static int box_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, BOX_MT);
  if (b->root) json_decref(b->root);
  b->root = NULL;
  return 0;
}

static void push(lua_State *L, json_t *v, int array_mt) {
  luaL_checkstack(L, 4, "jansson_ref: nested too deeply");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *key;
    size_t klen;
    json_t *item;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_keylen_foreach(v, key, klen, item) {
      lua_pushlstring(L, key, klen);
      push(L, item, array_mt);
      lua_rawset(L, -3);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i, n = json_array_size(v);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
      push(L, json_array_get(v, i), array_mt);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushvalue(L, array_mt);
    lua_setmetatable(L, -2);
    break;
  }
  case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
  case JSON_REAL: lua_pushnumber(L, (lua_Number)json_real_value(v)); break;
  case JSON_TRUE: lua_pushboolean(L, 1); break;
  case JSON_FALSE: lua_pushboolean(L, 0); break;
  case JSON_NULL: lua_pushlightuserdata(L, NULL); break;
  }
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  json_error_t err;
  box *b;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  b = lua_newuserdatauv(L, sizeof *b, 0);
  b->root = NULL;
  luaL_setmetatable(L, BOX_MT);
  b->root = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (!b->root) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s (at byte %d)", err.text, err.position);
    return 2;
  }
  push(L, b->root, 2);
  json_decref(b->root);
  b->root = NULL;
  return 1;
}

__attribute__((visibility("default"))) int luaopen_jansson_ref(lua_State *L) {
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "decode");
  return 1;
}
