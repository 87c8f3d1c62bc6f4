/* libFuzzer target: core.json_encode on Lua values built from the input bytes (tables marked
 * as arrays or not, sequences, objects, integers, any float bits including NaN and infinities,
 * strings of any bytes, null, booleans, non-string keys, functions, deep chains and cycles).
 * Invariants: encode never raises (what JSON cannot hold is a nil, message answer); what it
 * produces is JSON that decodes, and re-encoding that decodes to the same value. */
#include <stdint.h>
#include <string.h>

#include "harness.h"

struct gen {
  const unsigned char *p, *end;
  int depth;
};

static unsigned next_byte(struct gen *g) { return g->p < g->end ? *g->p++ : 0; }

static uint64_t next_u64(struct gen *g) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | next_byte(g);
  return v;
}

static void gen_value(lua_State *L, struct gen *g);

static void core_field(lua_State *L, const char *name) {
  lua_getfield(L, LUA_REGISTRYINDEX, "core");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
}

/* n elements from the input into the table at the top. */
static void gen_items(lua_State *L, struct gen *g, int n, int keyed) {
  for (int i = 1; i <= n && g->p < g->end; i++) {
    if (keyed) {
      unsigned kl = next_byte(g) % 12;
      size_t avail = (size_t)(g->end - g->p);
      if (kl > avail) kl = (unsigned)avail;
      lua_pushlstring(L, (const char *)g->p, kl);
      g->p += kl;
    }
    gen_value(L, g);
    if (keyed) lua_rawset(L, -3); else lua_rawseti(L, -2, i);
  }
}

static void gen_value(lua_State *L, struct gen *g) {
  luaL_checkstack(L, 8, "fuzz generator");
  unsigned op = next_byte(g) % 14;
  if (g->depth > 40 && op >= 6) op = op % 6; /* keep the tree small; op 12 makes deep chains */
  g->depth++;
  switch (op) {
  case 0: lua_pushboolean(L, next_byte(g) & 1); break;
  case 1: lua_pushinteger(L, (lua_Integer)next_u64(g)); break;
  case 2: {
    uint64_t bits = next_u64(g);
    double d;
    memcpy(&d, &bits, sizeof d);
    lua_pushnumber(L, d);
    break;
  }
  case 3: case 4: {
    unsigned n = next_byte(g) % 40;
    size_t avail = (size_t)(g->end - g->p);
    if (n > avail) n = (unsigned)avail;
    lua_pushlstring(L, (const char *)g->p, n);
    g->p += n;
    break;
  }
  case 5: core_field(L, "null"); break;
  case 6: case 7: /* an array-marked table: the metatable decoded arrays carry */
    lua_createtable(L, 0, 0);
    fuzz_push_core_fn(L, "json_decode");
    lua_pushliteral(L, "[]");
    lua_call(L, 1, 1);
    FUZZ_CHECK(lua_getmetatable(L, -1), "a decoded array has no metatable");
    lua_remove(L, -2);
    lua_setmetatable(L, -2);
    gen_items(L, g, (int)(next_byte(g) % 6), 0);
    break;
  case 8: lua_createtable(L, 0, 0); gen_items(L, g, (int)(next_byte(g) % 6), 0); break; /* sequence */
  case 9: case 10: lua_createtable(L, 0, 0); gen_items(L, g, (int)(next_byte(g) % 6), 1); break;
  case 11: /* a table with a key JSON has no name for */
    lua_createtable(L, 0, 0);
    lua_pushboolean(L, 1);
    gen_value(L, g);
    lua_rawset(L, -3);
    break;
  case 12: { /* a chain deeper than any limit, or a cycle */
    unsigned n = next_byte(g) * 8u;
    lua_createtable(L, 0, 0);
    lua_pushvalue(L, -1);
    for (unsigned i = 0; i < n; i++) {
      lua_createtable(L, 1, 0);
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, 1);
      lua_remove(L, -2);
    }
    if (next_byte(g) & 1) { /* close the loop: the innermost table holds the outermost */
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, 1);
    }
    lua_pop(L, 1);
    break;
  }
  default: lua_pushcfunction(L, luaopen_openai_admin_core); break; /* a function */
  }
  g->depth--;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lua_State *L = fuzz_state();
  struct gen g = {data, data + size, 0};
  gen_value(L, &g);
  int raised;
  if (!fuzz_encode(L, &raised)) {
    FUZZ_CHECK(!raised, "json_encode raised: %s", lua_tostring(L, -1));
    return 0;
  }
  size_t n;
  const char *e = lua_tolstring(L, -1, &n);
  FUZZ_CHECK(fuzz_decode(L, e, n), "json_encode gave text that does not decode: %s\n%.*s",
             lua_tostring(L, -1), (int)n, e);
  lua_remove(L, -2);        /* v2 */
  lua_pushvalue(L, -1);     /* v2, v2 */
  FUZZ_CHECK(fuzz_encode(L, &raised), "a decoded value does not encode");
  size_t n3;
  const char *e3 = lua_tolstring(L, -1, &n3);
  FUZZ_CHECK(fuzz_decode(L, e3, n3), "re-encoded text does not decode");
  lua_remove(L, -2);        /* v2, v3 */
  FUZZ_CHECK(fuzz_same(L), "decode(encode(v)) is not stable");
  return 0;
}
