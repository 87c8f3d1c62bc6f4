/* JSON <-> Lua values: exact 64-bit integers, one null (NULL light userdata, = cjson.null),
 * arrays marked with a registry metatable (lua-cjson's array_mt when that is installed). */
#ifndef OPENAI_ADMIN_JSON_H
#define OPENAI_ADMIN_JSON_H
#include <stddef.h>
#include <lua.h>

/* Registry keys, per lua_State: the array metatable decoded arrays get (ours, or cjson.array_mt
 * once json.lua has adopted it), and lua-cjson's empty_array_mt / empty_array when present. */
#define OA_JSON_ARRAY_MT "openai_admin.json.array"
#define OA_JSON_EMPTY_ARRAY_MT "openai_admin.json.empty_array_mt"
#define OA_JSON_EMPTY_ARRAY "openai_admin.json.empty_array"

/* Containers nested deeper than this are a decode error (and an encode error). */
#define OA_JSON_MAX_DEPTH 1000
#define OA_JSON_MAX_DEPTH_TEXT "1000"

/* Adds json_decode, json_encode, json_array_mt, json_use_cjson and null to the module table at
 * the top of the stack. */
void oa_json_register(lua_State *L);

/* The decoder's C entry point (src/decode.c; also the fuzz target's): decodes s[0..len) (need
 * not be NUL-terminated) and pushes the value, returning 1; on invalid JSON pushes an error
 * message naming the offset, line and column instead and returns 0. Never raises for bad input;
 * it can raise Lua memory errors, and then leaks nothing (it allocates only Lua objects). */
int oa_json_decode(lua_State *L, const char *s, size_t len);

/* Container sizes the decoder saw at each of the first OA_JSON_HINT_LEVELS depths, kept from
 * one decode to the next (a userdata per lua_State, an upvalue of json_decode): replies of one
 * endpoint have one shape, so the next reply's tables are created at their size instead of
 * growing through rehashes (half the cost of decoding a small object). */
#define OA_JSON_HINT_LEVELS 16
typedef struct oa_json_hints {
  int obj[OA_JSON_HINT_LEVELS], arr[OA_JSON_HINT_LEVELS];
} oa_json_hints;

/* oa_json_decode that starts from *hints and leaves the sizes it saw there (hints may be NULL). */
int oa_json_decode_hinted(lua_State *L, const char *s, size_t len, oa_json_hints *hints);

/* The encoder's C entry point (src/encode.c; also the fuzz target's): encodes the value at idx
 * and pushes the JSON text, returning 1; when the value has no JSON form pushes a message naming
 * the key path instead and returns 0. Never raises for bad values; it can raise Lua memory
 * errors, and then leaks nothing (it allocates only Lua objects). */
int oa_json_encode(lua_State *L, int idx);

/* Length of the valid UTF-8 sequence at p (p < end, *p >= 0x80), or 0 when it is invalid
 * (overlong, a UTF-16 surrogate, beyond U+10FFFF, truncated). */
size_t oa_utf8_sequence(const unsigned char *p, const unsigned char *end);

#endif
