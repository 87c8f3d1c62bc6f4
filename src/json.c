/*
 * Lua values -> JSON with jansson, and the module's JSON functions (the decoder is decode.c).
 *
 * Why not lua-cjson: 2.1.0 (Debian's) decodes every number as a double, so ids and cents above
 * 2^53 lose digits and 1711471533 prints as 1711471533.0, and it encodes an empty array as {}.
 * Here integers stay lua_Integer (exact to 64 bits), JSON null is the NULL light userdata (the
 * same value as cjson.null), and arrays carry a shared metatable so an empty one still encodes
 * as []. With the openresty lua-cjson (array_mt, empty_array), json.lua hands us its markers
 * (json_use_cjson) and they are accepted and produced here, so the two libraries mix.
 *
 * The jansson tree being built is owned by a small "box" userdata, so a Lua memory error (a
 * longjmp) cannot leak it: the box's __gc releases it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "json.h"

#define BOX_MT "openai_admin.json.box"

typedef struct { json_t *root; } json_box;

static int box_gc(lua_State *L) {
  json_box *box = luaL_checkudata(L, 1, BOX_MT);
  if (box->root) { json_decref(box->root); box->root = NULL; }
  return 0;
}

static json_box *push_box(lua_State *L) {
  json_box *box = lua_newuserdatauv(L, sizeof *box, 1);
  box->root = NULL;
  luaL_setmetatable(L, BOX_MT);
  return box;
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (!oa_json_decode(L, s, len)) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

/* ---- encode ----------------------------------------------------------------------------- */

/* The key path of the value being encoded, as a linked list on the C stack, for error messages. */
typedef struct path_frame {
  const struct path_frame *parent;
  const char *key;      /* object key, or NULL for an array index */
  lua_Integer index;
} path_frame;

static void push_path(lua_State *L, const path_frame *f, int shown) {
  if (!f) { lua_pushliteral(L, "value"); return; }
  if (shown == 8) { lua_pushliteral(L, "..."); return; } /* keep cycle messages short */
  push_path(L, f->parent, shown + 1);
  if (f->key) lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), f->key);
  else lua_pushfstring(L, "%s[%I]", lua_tostring(L, -1), f->index);
  lua_remove(L, -2);
}

typedef struct {
  lua_State *L;
  int array_mt;
  int empty_array_mt;  /* stack index: cjson.empty_array_mt, or nil */
  int empty_array;     /* stack index: cjson.empty_array, or nil */
  int box;           /* stack index of the box; the first error message is its user value 1 */
  int failed;
  int precision;     /* digits the document's reals need to read back exactly (15..17) */
} encoder;

static json_t *fail(encoder *e, const path_frame *f, const char *what) {
  if (!e->failed) {
    /* kept off the stack: a lua_next traversal may be in progress below us */
    push_path(e->L, f, 0);
    lua_pushfstring(e->L, "cannot encode %s: %s", lua_tostring(e->L, -1), what);
    lua_remove(e->L, -2);
    lua_setiuservalue(e->L, e->box, 1);
    e->failed = 1;
  }
  return NULL;
}

static json_t *encode_value(encoder *e, int idx, const path_frame *f, int depth);

/* Returns n > 0 when the table at idx is a non-empty sequence 1..n, 0 otherwise. */
static lua_Integer sequence_length(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) { lua_pop(L, 1); return 0; }
    {
      lua_Integer k = lua_tointeger(L, -1);
      if (k < 1 || k > n) { lua_pop(L, 1); return 0; }
    }
    count++;
  }
  return count == n ? n : 0;
}

static json_t *encode_array(encoder *e, int idx, lua_Integer n, const path_frame *f, int depth,
                            json_t *out) {
  lua_State *L = e->L;
  lua_Integer i;
  for (i = 1; i <= n; i++) {
    path_frame child = { f, NULL, i };
    json_t *v;
    lua_rawgeti(L, idx, i);
    v = encode_value(e, lua_gettop(L), &child, depth + 1);
    lua_pop(L, 1);
    if (!v || json_array_append_new(out, v) != 0) { json_decref(out); return v ? fail(e, f, "out of memory") : NULL; }
  }
  return out;
}

static int table_is_empty(lua_State *L, int idx) {
  lua_pushnil(L);
  if (lua_next(L, idx)) {
    lua_pop(L, 2);
    return 0;
  }
  return 1;
}

static json_t *encode_table(encoder *e, int idx, const path_frame *f, int depth) {
  lua_State *L = e->L;
  json_t *out;
  lua_Integer n;
  int empty_marked = 0;
  if (depth >= OA_JSON_MAX_DEPTH) return fail(e, f, "nested deeper than " OA_JSON_MAX_DEPTH_TEXT " levels (a cycle?)");
  if (!lua_checkstack(L, 6)) return fail(e, f, "nested too deeply for the Lua stack");
  if (lua_getmetatable(L, idx)) {
    int is_array = lua_rawequal(L, -1, e->array_mt);
    empty_marked = lua_rawequal(L, -1, e->empty_array_mt);
    lua_pop(L, 1);
    if (is_array) {
      out = json_array();
      return out ? encode_array(e, idx, (lua_Integer)lua_rawlen(L, idx), f, depth, out) : fail(e, f, "out of memory");
    }
  }
  n = sequence_length(L, idx);
  if (n > 0 || (empty_marked && table_is_empty(L, idx))) {
    out = json_array();
    return out ? encode_array(e, idx, n, f, depth, out) : fail(e, f, "out of memory");
  }
  out = json_object();
  if (!out) return fail(e, f, "out of memory");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t klen;
    const char *key;
    json_t *v;
    path_frame child = { f, NULL, 0 };
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      json_decref(out);
      return fail(e, f, "a table mixing array and non-string keys (object keys must be strings)");
    }
    key = lua_tolstring(L, -2, &klen);
    child.key = key;
    v = encode_value(e, lua_gettop(L), &child, depth + 1);
    if (!v) { lua_pop(L, 2); json_decref(out); return NULL; }
    if (json_object_setn_new(out, key, klen, v) != 0) {
      lua_pop(L, 2);
      json_decref(out);
      return fail(e, &child, "invalid UTF-8 in key");
    }
    lua_pop(L, 1);
  }
  return out;
}

static json_t *encode_value(encoder *e, int idx, const path_frame *f, int depth) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return json_null();
  case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
    {
      lua_Number d = lua_tonumber(L, idx);
      if (isnan(d) || isinf(d)) return fail(e, f, "NaN or infinity has no JSON form");
      /* 100.0 goes out as 100: the API's integer fields reject a fraction part */
      if (d == floor(d) && fabs(d) < 9007199254740992.0) return json_integer((json_int_t)d);
      /* jansson prints every real with one precision: use the fewest digits that read back
       * exactly, so 18.5812 stays 18.5812 rather than 18.581199999999999 */
      while (e->precision < 17) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.*g", e->precision, d);
        if (strtod(tmp, NULL) == d) break;
        e->precision++;
      }
      return json_real(d);
    }
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    json_t *v = json_stringn(s, len);
    return v ? v : fail(e, f, "string is not valid UTF-8");
  }
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) return json_null();
    if (lua_rawequal(L, idx, e->empty_array)) {
      json_t *v = json_array();
      return v ? v : fail(e, f, "out of memory");
    }
    return fail(e, f, "light userdata (only openai_admin.null, cjson.null and cjson.empty_array are allowed)");
  case LUA_TTABLE: return encode_table(e, idx, f, depth);
  default: return fail(e, f, luaL_typename(L, idx));
  }
}

static int l_encode(lua_State *L) {
  encoder e;
  json_box *box;
  char *text;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  luaL_getmetatable(L, OA_JSON_ARRAY_MT);                   /* 2 */
  box = push_box(L);                                        /* 3 */
  lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY_MT); /* 4 */
  lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY);    /* 5 */
  e.L = L;
  e.array_mt = 2;
  e.box = 3;
  e.empty_array_mt = 4;
  e.empty_array = 5;
  e.failed = 0;
  e.precision = 15;
  box->root = encode_value(&e, 1, NULL, 0);
  if (!box->root) {
    lua_pushnil(L);
    if (e.failed) lua_getiuservalue(L, 3, 1);
    else lua_pushliteral(L, "cannot encode value");
    return 2;
  }
  text = json_dumps(box->root, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(e.precision));
  json_decref(box->root);
  box->root = NULL;
  if (!text) return luaL_error(L, "openai_admin.json: out of memory");
  lua_pushstring(L, text);
  free(text);
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
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  /* a second open in the same state (package.loaded cleared) keeps the adopted metatable */
  if (lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_ARRAY_MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    luaL_newmetatable(L, OA_JSON_ARRAY_MT);
  }
  lua_setfield(L, -2, "json_array_mt");
  lua_pushcfunction(L, l_use_cjson);
  lua_setfield(L, -2, "json_use_cjson");
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "json_decode");
  lua_pushcfunction(L, l_encode);
  lua_setfield(L, -2, "json_encode");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
}
