/* libFuzzer target: core.json_decode on arbitrary bytes, then the round trip.
 * Invariants: decode never raises; a decoded value encodes without raising (it may refuse only
 * a number Lua cannot hold exactly as JSON, i.e. an infinity), and what it encodes to decodes
 * to the same value (same subtypes, same array-ness, same keys and strings). */
#include "harness.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lua_State *L = fuzz_state();
  if (!fuzz_decode(L, (const char *)data, size)) return 0;
  lua_pushvalue(L, -1); /* v1, v1 */
  int raised;
  if (!fuzz_encode(L, &raised)) {
    FUZZ_CHECK(!raised, "json_encode raised on a decoded value: %s", lua_tostring(L, -1));
    return 0;
  }
  size_t n;
  const char *e = lua_tolstring(L, -1, &n); /* v1, e1 */
  FUZZ_CHECK(fuzz_decode(L, e, n), "our own output does not decode: %s\n%.*s",
             lua_tostring(L, -1), (int)n, e);
  lua_remove(L, -2); /* v1, v2 */
  FUZZ_CHECK(fuzz_same(L), "decode(encode(decode(x))) differs from decode(x)");
  return 0;
}
