/*
 * Lua values -> JSON text in one pass, written straight into a growing buffer (no intermediate
 * tree). What it promises:
 *   - integers are written exactly; a float with an integral value below 2^53 goes out as an
 *     integer (the API's integer fields refuse "100.0"); other floats with the fewest of 15, 16
 *     or 17 significant digits that read back to the same double (18.5812, not
 *     18.581199999999999), always with a '.' or an exponent so they decode as floats again;
 *     NaN and infinities have no JSON form and are refused;
 *   - a table with the array metatable (ours, or cjson.array_mt once adopted) is an array of
 *     its 1..#t; a non-empty sequence is an array; an empty table with cjson.empty_array_mt is
 *     []; any other table is an object, whose keys must be strings;
 *   - nil, the null light userdata (json.null = cjson.null) -> null; cjson.empty_array -> [];
 *   - strings must be valid UTF-8 (they are copied as is; '"', '\\' and control characters are
 *     escaped);
 *   - anything else, and nesting deeper than OA_JSON_MAX_DEPTH (a cycle), is refused with a
 *     message naming the key path (value.data[3].name).
 *
 * Memory: nothing here mallocs. The output grows in a userdata kept in a fixed stack slot
 * (replaced by a bigger one when full), so a Lua memory error in the middle leaves only garbage
 * for the collector.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "json.h"

/* The key path of the value being encoded, as a linked list on the C stack, for messages. */
typedef struct path_frame {
  const struct path_frame *parent;
  const char *key; /* object key, or NULL for an array index */
  lua_Integer index;
} path_frame;

typedef struct {
  lua_State *L;
  int array_mt, empty_array_mt, empty_array; /* stack indexes (the latter two may hold nil) */
  int out;                                   /* stack index of the output userdata */
  int message;                               /* stack index of the first error message */
  char *buf;
  size_t len, cap;
  int failed;
} encoder;

static void push_path(lua_State *L, const path_frame *f, int shown) {
  if (!f) {
    lua_pushliteral(L, "value");
    return;
  }
  if (shown == 8) { /* keep cycle messages short */
    lua_pushliteral(L, "...");
    return;
  }
  push_path(L, f->parent, shown + 1);
  if (f->key) lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), f->key);
  else lua_pushfstring(L, "%s[%I]", lua_tostring(L, -1), f->index);
  lua_remove(L, -2);
}

static int fail(encoder *e, const path_frame *f, const char *what) {
  if (!e->failed) {
    /* into a reserved slot below: a lua_next traversal may be in progress above it */
    push_path(e->L, f, 0);
    lua_pushfstring(e->L, "cannot encode %s: %s", lua_tostring(e->L, -1), what);
    lua_replace(e->L, e->message);
    lua_pop(e->L, 1);
    e->failed = 1;
  }
  return 0;
}

/* Room for n more bytes. */
static char *reserve(encoder *e, size_t n) {
  if (e->cap - e->len < n) {
    size_t cap = e->cap * 2;
    char *bigger;
    if (cap - e->len < n) cap = e->len + n + 256;
    bigger = lua_newuserdatauv(e->L, cap, 0);
    memcpy(bigger, e->buf, e->len);
    lua_replace(e->L, e->out);
    e->buf = bigger;
    e->cap = cap;
  }
  return e->buf + e->len;
}

static void put(encoder *e, const char *s, size_t n) {
  memcpy(reserve(e, n), s, n);
  e->len += n;
}

static void put_char(encoder *e, char c) {
  *reserve(e, 1) = c;
  e->len++;
}

static int put_string(encoder *e, const char *s, size_t len, const path_frame *f) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  put_char(e, '"');
  while (p < end) {
    const unsigned char *run = p;
    /* a run of bytes that need nothing: printable ASCII but '"' and '\\' */
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    if (p > run) put(e, (const char *)run, (size_t)(p - run));
    if (p >= end) break;
    if (*p >= 0x80) {
      size_t n = oa_utf8_sequence(p, end);
      if (!n) return fail(e, f, "string is not valid UTF-8");
      put(e, (const char *)p, n);
      p += n;
      continue;
    }
    {
      char esc[6] = { '\\', 0, 0, 0, 0, 0 };
      size_t n = 2;
      switch (*p) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[*p >> 4];
        esc[5] = hex[*p & 15];
        n = 6;
      }
      put(e, esc, n);
      p++;
    }
  }
  put_char(e, '"');
  return 1;
}

static int put_number(encoder *e, const path_frame *f) {
  lua_State *L = e->L;
  char tmp[40];
  int n, precision;
  lua_Number d;
  if (lua_isinteger(L, -1)) {
    n = snprintf(tmp, sizeof tmp, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, -1));
    put(e, tmp, (size_t)n);
    return 1;
  }
  d = lua_tonumber(L, -1);
  if (isnan(d) || isinf(d)) return fail(e, f, "NaN or infinity has no JSON form");
  /* 100.0 goes out as 100: the API's integer fields reject a fraction part */
  if (d == floor(d) && fabs(d) < 9007199254740992.0) {
    n = snprintf(tmp, sizeof tmp, "%.0f", d);
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0') n = snprintf(tmp, sizeof tmp, "0"); /* -0.0 */
    put(e, tmp, (size_t)n);
    return 1;
  }
  for (precision = 15; precision < 17; precision++) {
    snprintf(tmp, sizeof tmp, "%.*g", precision, d);
    if (strtod(tmp, NULL) == d) break;
  }
  n = snprintf(tmp, sizeof tmp, "%.*g", precision, d);
  {
    /* the locale's decimal point -> '.', and keep it a float when read back */
    char point = localeconv()->decimal_point[0];
    int i, has_mark = 0;
    for (i = 0; i < n; i++) {
      if (tmp[i] == point) tmp[i] = '.';
      if (tmp[i] == '.' || tmp[i] == 'e') has_mark = 1;
    }
    put(e, tmp, (size_t)n);
    if (!has_mark) put(e, ".0", 2);
  }
  return 1;
}

static int encode_value(encoder *e, const path_frame *f, int depth);

/* n > 0 when the table at idx is a non-empty sequence 1..n, else 0. */
static lua_Integer sequence_length(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    {
      lua_Integer k = lua_tointeger(L, -1);
      if (k < 1 || k > n) {
        lua_pop(L, 1);
        return 0;
      }
    }
    count++;
  }
  return count == n ? n : 0;
}

static int table_is_empty(lua_State *L, int idx) {
  lua_pushnil(L);
  if (lua_next(L, idx)) {
    lua_pop(L, 2);
    return 0;
  }
  return 1;
}

static int encode_array(encoder *e, int idx, lua_Integer n, const path_frame *f, int depth) {
  lua_Integer i;
  put_char(e, '[');
  for (i = 1; i <= n; i++) {
    path_frame child = { f, NULL, i };
    if (i > 1) put_char(e, ',');
    lua_rawgeti(e->L, idx, i);
    if (!encode_value(e, &child, depth + 1)) return 0;
    lua_pop(e->L, 1);
  }
  put_char(e, ']');
  return 1;
}

/* The table at the top of the stack. */
static int encode_table(encoder *e, const path_frame *f, int depth) {
  lua_State *L = e->L;
  int idx = lua_gettop(L), empty_marked = 0, first = 1;
  lua_Integer n;
  if (depth >= OA_JSON_MAX_DEPTH)
    return fail(e, f, "nested deeper than " OA_JSON_MAX_DEPTH_TEXT " levels (a cycle?)");
  if (!lua_checkstack(L, 6)) return fail(e, f, "nested too deeply for the Lua stack");
  if (lua_getmetatable(L, idx)) {
    int is_array = lua_rawequal(L, -1, e->array_mt);
    empty_marked = lua_rawequal(L, -1, e->empty_array_mt);
    lua_pop(L, 1);
    if (is_array) return encode_array(e, idx, (lua_Integer)lua_rawlen(L, idx), f, depth);
  }
  n = sequence_length(L, idx);
  if (n > 0 || (empty_marked && table_is_empty(L, idx))) return encode_array(e, idx, n, f, depth);
  put_char(e, '{');
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t klen;
    const char *key;
    path_frame child = { f, NULL, 0 };
    if (lua_type(L, -2) != LUA_TSTRING)
      return fail(e, f, "a table mixing array and non-string keys (object keys must be strings)");
    key = lua_tolstring(L, -2, &klen);
    child.key = key;
    if (!first) put_char(e, ',');
    first = 0;
    if (!put_string(e, key, klen, &child)) return 0;
    put_char(e, ':');
    if (!encode_value(e, &child, depth + 1)) return 0;
    lua_pop(L, 1);
  }
  put_char(e, '}');
  return 1;
}

/* The value at the top of the stack (left there). */
static int encode_value(encoder *e, const path_frame *f, int depth) {
  lua_State *L = e->L;
  switch (lua_type(L, -1)) {
  case LUA_TNIL: put(e, "null", 4); return 1;
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, -1)) put(e, "true", 4);
    else put(e, "false", 5);
    return 1;
  case LUA_TNUMBER: return put_number(e, f);
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    return put_string(e, s, len, f);
  }
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, -1) == NULL) {
      put(e, "null", 4);
      return 1;
    }
    if (lua_rawequal(L, -1, e->empty_array)) {
      put(e, "[]", 2);
      return 1;
    }
    return fail(e, f, "light userdata (only openai_admin.null, cjson.null and cjson.empty_array are allowed)");
  case LUA_TTABLE: return encode_table(e, f, depth);
  default: return fail(e, f, luaL_typename(L, -1));
  }
}

int oa_json_encode(lua_State *L, int idx) {
  encoder e;
  int base;
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 12, "openai_admin.json");
  base = lua_gettop(L);
  luaL_getmetatable(L, OA_JSON_ARRAY_MT);                     /* base+1 */
  lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY_MT); /* base+2 */
  lua_getfield(L, LUA_REGISTRYINDEX, OA_JSON_EMPTY_ARRAY);    /* base+3 */
  lua_pushnil(L);                                             /* base+4: the error message */
  e.L = L;
  e.array_mt = base + 1;
  e.empty_array_mt = base + 2;
  e.empty_array = base + 3;
  e.message = base + 4;
  e.out = base + 5;
  e.cap = 256;
  e.len = 0;
  e.failed = 0;
  e.buf = lua_newuserdatauv(L, e.cap, 0); /* base+5 */
  lua_pushvalue(L, idx);
  if (!encode_value(&e, NULL, 0)) {
    lua_pushvalue(L, e.message);
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return 0;
  }
  lua_pushlstring(L, e.buf, e.len);
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
  return 1;
}
