/* JSON <-> Lua values, with jansson: exact 64-bit integers, a null sentinel, arrays marked. */
#ifndef OPENAI_ADMIN_JSON_H
#define OPENAI_ADMIN_JSON_H
#include <lua.h>

/* Adds json_decode, json_encode, null and array_mt to the module table at the top of the stack. */
void oa_json_register(lua_State *L);

/* Decodes s[0..len) and pushes the value; on invalid JSON pushes nothing and returns 0 with
 * a message in err (size errlen). Never raises for bad input (it can raise on memory errors). */
int oa_json_push_decoded(lua_State *L, const char *s, size_t len, char *err, size_t errlen);

#endif
