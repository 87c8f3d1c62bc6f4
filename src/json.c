/*
 * JSON <-> Lua values with jansson.
 *
 * Why not lua-cjson: 2.1.0 (Debian's) decodes every number as a double, so ids and cents above
 * 2^53 lose digits and 1711471533 prints as 1711471533.0, and it encodes an empty array as {}.
 * Here integers stay lua_Integer (exact to 64 bits), JSON null is one light userdata, and arrays
 * carry a shared metatable so an empty one still encodes as [].
 *
 * jansson trees are owned by a small "box" userdata while Lua values are built from them, so a
 * Lua memory error (a longjmp) cannot leak the tree: the box's __gc releases it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "json.h"

#define ARRAY_MT "openai_admin.json.array"
#define BOX_MT "openai_admin.json.box"
#define MAX_DEPTH 512

static const char null_sentinel = 0; /* its address is json null */

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

/* ---- decode ----------------------------------------------------------------------------- */

/* Pushes the Lua value of v; array_mt is the stack index of the array metatable. */
static void push_value(lua_State *L, json_t *v, int array_mt, int depth) {
  luaL_checkstack(L, 4, "JSON nested too deeply");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *key;
    json_t *item;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_foreach(v, key, item) {
      push_value(L, item, array_mt, depth + 1);
      lua_setfield(L, -2, key);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i, n = json_array_size(v);
    lua_createtable(L, n > (size_t)0x7fffffff ? 0 : (int)n, 0);
    for (i = 0; i < n; i++) {
      push_value(L, json_array_get(v, i), array_mt, depth + 1);
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
  case JSON_NULL: lua_pushlightuserdata(L, (void *)&null_sentinel); break;
  }
}

int oa_json_push_decoded(lua_State *L, const char *s, size_t len, char *err, size_t errlen) {
  json_error_t jerr;
  json_box *box;
  int top = lua_gettop(L);
  json_t *root = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (!root) {
    if (err && errlen)
      snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return 0;
  }
  luaL_getmetatable(L, ARRAY_MT);               /* top+1 */
  box = push_box(L);                            /* top+2: owns root until we are done */
  box->root = root;
  push_value(L, root, top + 1, 0);              /* top+3 */
  json_decref(root);
  box->root = NULL;
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return 1;
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char err[256];
  if (!oa_json_push_decoded(L, s, len, err, sizeof err)) {
    lua_pushnil(L);
    lua_pushstring(L, err);
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

static json_t *encode_table(encoder *e, int idx, const path_frame *f, int depth) {
  lua_State *L = e->L;
  json_t *out;
  lua_Integer n;
  if (depth > MAX_DEPTH) return fail(e, f, "nested too deeply (a cycle?)");
  luaL_checkstack(L, 6, "JSON nested too deeply");
  if (lua_getmetatable(L, idx)) {
    int is_array = lua_rawequal(L, -1, e->array_mt);
    lua_pop(L, 1);
    if (is_array) {
      out = json_array();
      return out ? encode_array(e, idx, (lua_Integer)lua_rawlen(L, idx), f, depth, out) : fail(e, f, "out of memory");
    }
  }
  n = sequence_length(L, idx);
  if (n > 0) {
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
    if (lua_touserdata(L, idx) == (void *)&null_sentinel) return json_null();
    return fail(e, f, "light userdata (only openai_admin.null is allowed)");
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
  luaL_getmetatable(L, ARRAY_MT); /* 2 */
  box = push_box(L);              /* 3 */
  e.L = L;
  e.array_mt = 2;
  e.box = 3;
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

void oa_json_register(lua_State *L) {
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newmetatable(L, ARRAY_MT);
  lua_setfield(L, -2, "json_array_mt");
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "json_decode");
  lua_pushcfunction(L, l_encode);
  lua_setfield(L, -2, "json_encode");
  lua_pushlightuserdata(L, (void *)&null_sentinel);
  lua_setfield(L, -2, "null");
}
