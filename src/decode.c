/*
 * JSON text -> Lua values in one pass: a small recursive-descent tokenizer that pushes each value
 * as it is read (lua_createtable / lua_pushlstring / lua_pushinteger ...), with no intermediate
 * tree. lua-cjson's decoder has the same shape; this one keeps what the module promises:
 *   - integers without fraction or exponent that fit 64 bits stay lua_Integer (exact); larger
 *     ones, and every number with '.', 'e' or 'E', become floats (beyond the double range:
 *     +-math.huge, as JSON.parse gives Infinity) instead of failing the whole reply;
 *   - JSON null is one light userdata, NULL (the same value as lua-cjson's cjson.null);
 *   - arrays get the array metatable (ARRAY_MT in the registry), so they re-encode as arrays;
 *   - nesting deeper than OA_JSON_MAX_DEPTH is a decode error, never a C stack overflow;
 *   - invalid UTF-8 (overlong forms, encoded surrogates, beyond U+10FFFF, truncated sequences)
 *     is rejected with its offset; an escaped lone surrogate (\ud800 without its pair, or a lone
 *     \udc00) decodes as U+FFFD, as a UTF-8 decoder does with a broken sequence;
 *   - RFC 8259 grammar otherwise: no comments, no trailing commas, no leading zeros, no NaN,
 *     control characters in strings must be escaped; \u0000 is allowed (Lua strings hold NULs).
 *
 * Memory: nothing here mallocs. Escaped strings and long numbers are assembled in a scratch
 * userdata kept on the Lua stack, so when Lua raises a memory error in the middle (a longjmp),
 * everything is the garbage collector's.
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "json.h"

/* Hint slots: the size of the last object/array seen at each of the first HINT_LEVELS depths,
 * used to presize the next one (pages are arrays of same-shaped objects; the replies of one
 * endpoint are objects of one shape). Kept across decodes at most these sizes, so an odd huge
 * reply does not make every later table big. */
#define HINT_LEVELS OA_JSON_HINT_LEVELS
#define HINT_KEEP_OBJ 64
#define HINT_KEEP_ARR 1024

typedef struct {
  lua_State *L;
  const unsigned char *start, *p, *end;
  int array_mt;         /* stack index of the array metatable */
  int scratch;          /* stack index of the scratch userdata slot (nil until needed) */
  unsigned char *buf;   /* the scratch userdata's memory */
  size_t bufsize;
  const char *why;      /* first error; NULL while fine */
  size_t why_at;        /* its offset in the input */
  int depth;
  int hint_obj[HINT_LEVELS], hint_arr[HINT_LEVELS];
} decoder;

static int fail(decoder *d, const unsigned char *at, const char *why) {
  if (!d->why) {
    d->why = why;
    d->why_at = (size_t)(at - d->start);
  }
  return 0;
}

static void skip_ws(decoder *d) {
  const unsigned char *p = d->p, *end = d->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  d->p = p;
}

/* A scratch area of at least n bytes (Lua-owned; stays valid until the decode returns). */
static unsigned char *scratch(decoder *d, size_t n) {
  if (n > d->bufsize) {
    size_t size = n < 256 ? 256 : n;
    if (size < d->bufsize * 2) size = d->bufsize * 2;
    d->buf = lua_newuserdatauv(d->L, size, 0);
    d->bufsize = size;
    lua_replace(d->L, d->scratch);
  }
  return d->buf;
}

size_t oa_utf8_sequence(const unsigned char *p, const unsigned char *end) {
  unsigned char c = p[0];
  size_t n, i;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* UTF-16 surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
  } else return 0;
  if ((size_t)(end - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
  unsigned v = 0;
  int i;
  if (end - p < 4) return 0;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return 0;
  }
  *out = v;
  return 1;
}

static unsigned char *put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) *o++ = (unsigned char)cp;
  else if (cp < 0x800) {
    *o++ = (unsigned char)(0xC0 | (cp >> 6));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (unsigned char)(0xE0 | (cp >> 12));
    *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (unsigned char)(0xF0 | (cp >> 18));
    *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* The rest of a string that has an escape: p is at the first backslash, s at the opening
 * quote + 1. Decoded text never outgrows its source (an escape of 6 or 12 bytes gives at most
 * 3 or 4), so one scratch area of the remaining input's size is enough. */
static int string_escaped(decoder *d, const unsigned char *s, const unsigned char *p) {
  const unsigned char *end = d->end;
  unsigned char *o, *o0;
  o0 = scratch(d, (size_t)(end - s));
  memcpy(o0, s, (size_t)(p - s));
  o = o0 + (p - s);
  for (;;) {
    unsigned c;
    if (p >= end) return fail(d, p, "unterminated string");
    c = *p;
    if (c == '"') break;
    if (c < 0x20) return fail(d, p, "unescaped control character in a string");
    if (c >= 0x80) {
      size_t n = oa_utf8_sequence(p, end);
      if (!n) return fail(d, p, "invalid UTF-8 in a string");
      memcpy(o, p, n);
      o += n;
      p += n;
      continue;
    }
    if (c != '\\') {
      *o++ = (unsigned char)c;
      p++;
      continue;
    }
    if (p + 1 >= end) return fail(d, p, "unterminated string");
    switch (p[1]) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (!hex4(p + 2, end, &cp)) return fail(d, p, "invalid \\u escape (four hex digits expected)");
      p += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        } else cp = 0xFFFD; /* lone high surrogate */
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) cp = 0xFFFD; /* lone low surrogate */
      o = put_utf8(o, cp);
      continue;
    }
    default: return fail(d, p, "invalid escape in a string");
    }
    p += 2;
  }
  lua_pushlstring(d->L, (const char *)o0, (size_t)(o - o0));
  d->p = p + 1;
  return 1;
}

/* d->p is at the opening quote. Pushes the string. */
static int string_value(decoder *d) {
  const unsigned char *s = d->p + 1, *p = s, *end = d->end;
  for (;;) {
    unsigned c;
    /* plain printable ASCII: the common case */
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    if (p >= end) return fail(d, d->p, "unterminated string");
    c = *p;
    if (c == '"') break;
    if (c == '\\') return string_escaped(d, s, p);
    if (c < 0x20) return fail(d, p, "unescaped control character in a string");
    {
      size_t n = oa_utf8_sequence(p, end);
      if (!n) return fail(d, p, "invalid UTF-8 in a string");
      p += n;
    }
  }
  lua_pushlstring(d->L, (const char *)s, (size_t)(p - s));
  d->p = p + 1;
  return 1;
}

static int is_digit(const unsigned char *p, const unsigned char *end) {
  return p < end && *p >= '0' && *p <= '9';
}

static int number_value(decoder *d) {
  const unsigned char *s = d->p, *p = s, *end = d->end;
  int neg = 0, is_float = 0, overflow = 0;
  uint64_t u = 0;
  if (*p == '-') { neg = 1; p++; }
  if (!is_digit(p, end)) return fail(d, p, "invalid number (a digit expected)");
  if (*p == '0') {
    p++;
    if (is_digit(p, end)) return fail(d, p, "invalid number (leading zero)");
  } else {
    while (is_digit(p, end)) {
      unsigned digit = (unsigned)(*p - '0');
      if (u > (UINT64_MAX - digit) / 10) overflow = 1;
      else u = u * 10 + digit;
      p++;
    }
  }
  if (p < end && *p == '.') {
    p++;
    if (!is_digit(p, end)) return fail(d, p, "invalid number (a digit expected after '.')");
    while (is_digit(p, end)) p++;
    is_float = 1;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (!is_digit(p, end)) return fail(d, p, "invalid number (a digit expected in the exponent)");
    while (is_digit(p, end)) p++;
    is_float = 1;
  }
  d->p = p;
  if (!is_float && !overflow) {
    if (!neg && u <= (uint64_t)INT64_MAX) {
      lua_pushinteger(d->L, (lua_Integer)u);
      return 1;
    }
    if (neg && u <= (uint64_t)INT64_MAX + 1) {
      /* -u without overflowing: u - 1 fits in int64 */
      lua_pushinteger(d->L, u == 0 ? 0 : -(lua_Integer)(u - 1) - 1);
      return 1;
    }
  }
  {
    /* strtod wants a terminated copy (the input need not be), with the locale's decimal point */
    size_t n = (size_t)(p - s), i;
    char small[64], *text = n < sizeof small ? small : (char *)scratch(d, n + 1);
    char point = localeconv()->decimal_point[0];
    memcpy(text, s, n);
    text[n] = '\0';
    if (point != '.')
      for (i = 0; i < n; i++)
        if (text[i] == '.') text[i] = point;
    lua_pushnumber(d->L, (lua_Number)strtod(text, NULL));
  }
  return 1;
}

static int literal(decoder *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return fail(d, d->p, "invalid literal");
  d->p += n;
  return 1;
}

static int value(decoder *d);

static int enter(decoder *d) {
  if (d->depth >= OA_JSON_MAX_DEPTH) return fail(d, d->p, "nested deeper than " OA_JSON_MAX_DEPTH_TEXT " levels");
  if (!lua_checkstack(d->L, 4)) return fail(d, d->p, "nested too deeply for the Lua stack");
  d->depth++;
  return 1;
}

static int object_value(decoder *d) {
  lua_State *L = d->L;
  int level = d->depth, n = 0;
  if (!enter(d)) return 0;
  lua_createtable(L, 0, level < HINT_LEVELS ? d->hint_obj[level] : 0);
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
  } else {
    for (;;) {
      if (d->p >= d->end || *d->p != '"') return fail(d, d->p, "an object key (a string) expected");
      if (!string_value(d)) return 0;
      skip_ws(d);
      if (d->p >= d->end || *d->p != ':') return fail(d, d->p, "':' expected after an object key");
      d->p++;
      if (!value(d)) return 0;
      lua_rawset(L, -3);
      n++;
      skip_ws(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        skip_ws(d);
        continue;
      }
      if (d->p < d->end && *d->p == '}') {
        d->p++;
        break;
      }
      return fail(d, d->p, "',' or '}' expected in an object");
    }
  }
  if (level < HINT_LEVELS) d->hint_obj[level] = n;
  d->depth--;
  return 1;
}

static int array_value(decoder *d) {
  lua_State *L = d->L;
  int level = d->depth;
  lua_Integer n = 0;
  if (!enter(d)) return 0;
  lua_createtable(L, level < HINT_LEVELS ? d->hint_arr[level] : 0, 0);
  lua_pushvalue(L, d->array_mt);
  lua_setmetatable(L, -2);
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
  } else {
    for (;;) {
      if (!value(d)) return 0;
      lua_rawseti(L, -2, ++n);
      skip_ws(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        continue;
      }
      if (d->p < d->end && *d->p == ']') {
        d->p++;
        break;
      }
      return fail(d, d->p, "',' or ']' expected in an array");
    }
  }
  if (level < HINT_LEVELS) d->hint_arr[level] = n > 1024 ? 1024 : (int)n;
  d->depth--;
  return 1;
}

static int value(decoder *d) {
  skip_ws(d);
  if (d->p >= d->end) return fail(d, d->p, "unexpected end of input (a value expected)");
  switch (*d->p) {
  case '{': return object_value(d);
  case '[': return array_value(d);
  case '"': return string_value(d);
  case 't':
    if (!literal(d, "true", 4)) return 0;
    lua_pushboolean(d->L, 1);
    return 1;
  case 'f':
    if (!literal(d, "false", 5)) return 0;
    lua_pushboolean(d->L, 0);
    return 1;
  case 'n':
    if (!literal(d, "null", 4)) return 0;
    lua_pushlightuserdata(d->L, NULL);
    return 1;
  default:
    if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) return number_value(d);
    return fail(d, d->p, "unexpected character (a value expected)");
  }
}

int oa_json_decode(lua_State *L, const char *s, size_t len) { return oa_json_decode_hinted(L, s, len, NULL); }

int oa_json_decode_hinted(lua_State *L, const char *s, size_t len, oa_json_hints *hints) {
  decoder d;
  int base = lua_gettop(L);
  memset(&d, 0, sizeof d);
  if (hints) {
    memcpy(d.hint_obj, hints->obj, sizeof d.hint_obj);
    memcpy(d.hint_arr, hints->arr, sizeof d.hint_arr);
  }
  d.L = L;
  d.start = d.p = (const unsigned char *)s;
  d.end = d.start + len;
  luaL_checkstack(L, 8, "openai_admin.json");
  luaL_getmetatable(L, OA_JSON_ARRAY_MT); /* base+1 */
  lua_pushnil(L);                         /* base+2: the scratch slot */
  d.array_mt = base + 1;
  d.scratch = base + 2;
  if (value(&d)) {
    skip_ws(&d);
    if (d.p != d.end) fail(&d, d.p, "unexpected content after the JSON value");
  }
  if (hints) {
    for (int i = 0; i < HINT_LEVELS; i++) {
      hints->obj[i] = d.hint_obj[i] > HINT_KEEP_OBJ ? HINT_KEEP_OBJ : d.hint_obj[i];
      hints->arr[i] = d.hint_arr[i] > HINT_KEEP_ARR ? HINT_KEEP_ARR : d.hint_arr[i];
    }
  }
  if (d.why) {
    size_t line = 1, col = 1, i;
    for (i = 0; i < d.why_at; i++) {
      if (s[i] == '\n') { line++; col = 1; }
      else col++;
    }
    lua_settop(L, base);
    lua_pushfstring(L, "invalid JSON at offset %I (line %I, column %I): %s", (lua_Integer)d.why_at,
                    (lua_Integer)line, (lua_Integer)col, d.why);
    return 0;
  }
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
  return 1;
}
