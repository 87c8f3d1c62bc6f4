-- The JSON codec (src/decode.c, src/json.c via openai_admin.json): its guarantees, its documented
-- edge cases, and a differential check of the decoder against jansson (tests/c/jansson_ref.c,
-- built by make) over a corpus: the API samples, the fake's replies, random documents and
-- random mutations of them. JSON_DIFF_N (default 1500) sets the number of random documents;
-- every one is also mutated 4 times.
local json = require("openai_admin.json")
local cjson = require("cjson")
local ref = require("jansson_ref")

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/tests/[^/]*$")) or "."

local function ref_decode(s) return ref.decode(s, json.array_mt) end

-- Deep equality that tells integers from floats, arrays from objects, and -0.0 from 0.0.
local function same(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b) end
    if a ~= b or (a == 0 and 1 / a ~= 1 / b) then return false, path .. ": " .. a .. " vs " .. b end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  if getmetatable(a) ~= getmetatable(b) then return false, path .. ": array vs object" end
  for k, v in pairs(a) do
    local ok, why = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing" end
  end
  return true
end

-- As same(), but a float with an integral value below 2^53 may come back as that integer (the
-- encoder writes 100.0 as 100, for the API's integer fields).
local function same_after_encode(a, b, path)
  path = path or "value"
  if math.type(a) == "float" and math.type(b) == "integer" then
    if a == b and math.abs(a) < 2 ^ 53 then return true end
    return false, path .. ": " .. a .. " vs " .. b
  end
  if type(a) == "table" and type(b) == "table" then
    if getmetatable(a) ~= getmetatable(b) then return false, path .. ": array vs object" end
    for k, v in pairs(a) do
      local ok, why = same_after_encode(v, b[k], path .. "." .. tostring(k))
      if not ok then return false, why end
    end
    for k in pairs(b) do
      if a[k] == nil then return false, path .. "." .. tostring(k) .. ": appeared" end
    end
    return true
  end
  return same(a, b, path)
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("openai_admin.json decode", function()
  it("keeps 64-bit integers exact and turns larger ones into floats", function()
    assert.equal(math.maxinteger, json.decode("9223372036854775807"))
    assert.equal(math.mininteger, json.decode("-9223372036854775808"))
    assert.equal("integer", math.type(json.decode("1711471533")))
    assert.equal("integer", math.type(json.decode("-0")))
    local big = json.decode('{"n":123456789012345678901234567890,"m":-9223372036854775809}')
    assert.equal("float", math.type(big.n))
    assert.equal(1.2345678901234568e29, big.n)
    assert.equal("float", math.type(big.m))
    assert.equal(-9223372036854775808.0, big.m)
    assert.equal(9223372036854775808.0, json.decode("9223372036854775808"))
  end)

  it("reads fractions and exponents as floats, beyond the double range as +-huge", function()
    assert.equal("float", math.type(json.decode("1.0")))
    assert.equal(100.0, json.decode("1e2"))
    assert.equal("float", math.type(json.decode("1E2")))
    assert.equal(0.1, json.decode("0.1"))
    assert.equal(-2.5e-7, json.decode("-2.5e-7"))
    assert.equal(math.huge, json.decode("1e400"))
    assert.equal(-math.huge, json.decode("-1e400"))
    assert.equal(0.0, json.decode("1e-400"))
  end)

  it("decodes null as the one null value, which is cjson.null", function()
    local v = json.decode('{"a":null,"b":[null]}')
    assert.equal(json.null, v.a)
    assert.equal(json.null, v.b[1])
    assert.equal(cjson.null, json.null)
    assert.equal(cjson.null, v.a)
  end)

  it("marks arrays, so they re-encode as arrays, empty ones too", function()
    local v = json.decode('{"a":[],"b":[1,2],"c":{}}')
    assert.is_true(json.is_array(v.a))
    assert.is_true(json.is_array(v.b))
    assert.is_false(json.is_array(v.c))
    assert.equal('[]', json.encode(v.a))
    assert.equal('{}', json.encode(v.c))
    assert.equal('[1,2]', json.encode(v.b))
  end)

  it("round-trips floats with the fewest digits", function()
    -- (per number: the fewest of 15, 16, 17 significant digits that read back exactly)
    assert.equal('[18.5812,0.1,3.14159]', json.encode(json.decode('[18.5812,0.1,3.14159]')))
    local v = json.decode('[1.7976931348623157e308,5e-324,0.30000000000000004,0.1]')
    assert.equal('[1.7976931348623157e+308,4.94065645841247e-324,0.30000000000000004,0.1]', json.encode(v))
    assert.same(v, json.decode(json.encode(v)))
  end)

  it("decodes escapes, surrogate pairs and NULs", function()
    assert.equal('a"\\/\b\f\n\r\tz', json.decode([["a\"\\\/\b\f\n\r\tz"]]))
    assert.equal("é€😀", json.decode([["\u00e9\u20AC\ud83d\ude00"]]))
    assert.equal("a\0b", json.decode([["a\u0000b"]]))
    local keyed = json.decode([[{"k\u0000":1}]])
    assert.equal(1, keyed["k\0"])
    assert.equal("héllo wörld", json.decode('"héllo wörld"'))
  end)

  it("decodes a lone surrogate escape as U+FFFD (documented)", function()
    assert.equal("a\u{FFFD}b", json.decode([["a\ud800b"]]))
    assert.equal("\u{FFFD}", json.decode([["\udc00"]]))
    assert.equal("\u{FFFD}\u{FFFD}", json.decode([["\ud800\ud800"]]))
    assert.equal("\u{FFFD}x", json.decode([["\ud83dx"]]))
  end)

  it("rejects invalid UTF-8, naming the offset", function()
    for _, case in ipairs {
      { '"ab\xffc"', 3 },       -- not a UTF-8 byte
      { '"\xc0\xaf"', 1 },      -- overlong
      { '"\xed\xa0\x80"', 1 },  -- an encoded surrogate
      { '"\xf4\x90\x80\x80"', 1 }, -- beyond U+10FFFF
      { '"x\xe2\x82"', 2 },     -- truncated
      { '["\\n\xe9t\xe9"]', 4 }, -- Latin-1, after an escape
    } do
      local v, err = json.decode(case[1])
      assert.is_nil(v)
      assert.matches("invalid JSON at offset " .. case[2] .. " %(line 1, column " .. (case[2] + 1)
        .. "%): invalid UTF%-8",
        err)
    end
  end)

  it("rejects what RFC 8259 does not allow, with the place and the reason", function()
    for _, case in ipairs {
      { "", "offset 0 .*unexpected end" },
      { "   ", "offset 3 .*unexpected end" },
      { "01", "leading zero" },
      { "[1,]", "offset 3 .*a value expected" },
      { '{"a":1,}', "offset 7 .*object key" },
      { '{"a" 1}', "':' expected" },
      { "[1 2]", "',' or ']' expected" },
      { '{"a":1 "b":2}', "',' or '}' expected" },
      { "1.", "after '.'" },
      { "1e", "exponent" },
      { "-", "a digit expected" },
      { ".5", "unexpected character" },
      { "+1", "unexpected character" },
      { "NaN", "unexpected character" },
      { "tru", "invalid literal" },
      { "nul", "invalid literal" },
      { '"abc', "unterminated string" },
      { '"a\tb"', "control character" },
      { '"\\x"', "invalid escape" },
      { '"\\u12g4"', "four hex digits" },
      { "[1] x", "offset 4 .*after the JSON value" },
      { "// c\n1", "unexpected character" },
      { "{\n  \"a\": tru\n}", "line 2, column 8" },
    } do
      local v, err = json.decode(case[1])
      assert.is_nil(v, case[1])
      assert.matches("^invalid JSON at offset %d+ %(line %d+, column %d+%): ", err)
      assert.matches(case[2], err)
    end
  end)

  it("refuses nesting deeper than 1000 levels with an error, at any depth", function()
    assert.is_true(json.is_array(json.decode(("["):rep(1000) .. ("]"):rep(1000))))
    local v, err = json.decode(("["):rep(1001) .. ("]"):rep(1001))
    assert.is_nil(v)
    assert.matches("offset 1000 .*nested deeper than 1000 levels", err)
    v, err = json.decode(('{"a":'):rep(1001) .. "1" .. ("}"):rep(1001))
    assert.is_nil(v)
    assert.matches("nested deeper than 1000 levels", err)
    v, err = json.decode(("["):rep(2000000))
    assert.is_nil(v)
    assert.matches("nested deeper than 1000 levels", err)
  end)

  it("decodes long strings, long numbers and big documents", function()
    local long = ("x"):rep(100000) .. "\\n" .. ("y"):rep(100000)
    assert.equal(("x"):rep(100000) .. "\n" .. ("y"):rep(100000), json.decode('"' .. long .. '"'))
    local digits = "0." .. ("1"):rep(5000)
    assert.equal(0.11111111111111111, json.decode(digits))
    assert.equal(1e300, json.decode("1" .. ("0"):rep(300)))
    local parts = {}
    for i = 1, 20000 do parts[i] = '{"i":' .. i .. ',"s":"\\u00e9' .. i .. '"}' end
    local arr = json.decode("[" .. table.concat(parts, ",") .. "]")
    assert.equal(20000, #arr)
    assert.equal(20000, arr[20000].i)
    assert.equal("é20000", arr[20000].s)
  end)

  it("keeps the last of duplicate keys, as jansson does", function()
    assert.equal(2, json.decode('{"a":1,"a":2}').a)
  end)
end)

describe("openai_admin.json encode", function()
  it("accepts cjson.null, and cjson.empty_array when the installed lua-cjson has it", function()
    assert.equal('{"a":null}', json.encode({ a = cjson.null }))
    if cjson.empty_array then
      assert.equal('{"a":[]}', json.encode({ a = cjson.empty_array }))
    end
  end)

  it("writes numbers exactly, integral floats as integers, other floats read back as floats", function()
    assert.equal('[9223372036854775807,-9223372036854775808,0,100,-5]',
      json.encode(json.array { math.maxinteger, math.mininteger, -0.0, 100.0, -5.0 }))
    assert.equal('[9007199254740994.0,1e+300,2.5,-0.001]', json.encode(json.array { 2.0 ^ 53 + 2, 1e300, 2.5, -0.001 }))
    assert.equal("float", math.type(json.decode(json.encode(2.0 ^ 60))))
    local v, err = json.encode({ x = 0 / 0 })
    assert.is_nil(v)
    assert.equal("cannot encode value.x: NaN or infinity has no JSON form", err)
    assert.is_nil((json.encode(math.huge)))
  end)

  it("escapes what JSON requires and keeps UTF-8 as is; refuses invalid UTF-8", function()
    assert.equal([["q\"b\\s/\n\r\t\b\f\u0001\u001f\u0000é😀"]], json.encode('q"b\\s/\n\r\t\b\f\1\31\0é😀'))
    local v, err = json.encode({ name = "caf\xe9" })
    assert.is_nil(v)
    assert.equal("cannot encode value.name: string is not valid UTF-8", err)
    v, err = json.encode({ ["k\xff"] = 1 })
    assert.is_nil(v)
    assert.matches("string is not valid UTF%-8", err)
  end)

  it("writes arrays and objects as marked; an empty plain table is an object", function()
    assert.equal('[1,2,3]', json.encode({ 1, 2, 3 }))
    assert.equal('{}', json.encode({}))
    assert.equal('[]', json.encode(json.array()))
    assert.equal('{"a":[{"b":null}]}', json.encode({ a = { { b = json.null } } }))
    local v, err = json.encode({ 1, 2, x = 3 })
    assert.is_nil(v)
    assert.matches("non%-string keys", err)
    assert.equal('{"k":[1,2]}', json.encode({ k = { 1, 2 } }))
  end)

  it("encodes a big document in one piece", function()
    local items = json.array()
    for i = 1, 20000 do items[i] = { id = "item_" .. i, n = i, f = i + 0.5, tags = json.array { "a", "b" } } end
    local text = assert(json.encode({ data = items }))
    local back = json.decode(text)
    assert.equal(20000, #back.data)
    assert.equal(19999.5, back.data[19999].f)
    assert.equal("item_20000", back.data[20000].id)
  end)

  it("still refuses other light userdata and functions, naming the path", function()
    local v, err = json.encode({ a = { print } })
    assert.is_nil(v)
    assert.matches("value.a%[1%]", err)
  end)

  it("refuses nesting deeper than 1000 levels (a cycle)", function()
    local t = {}
    t.t = t
    local v, err = json.encode(t)
    assert.is_nil(v)
    assert.matches("nested deeper than 1000 levels", err)
  end)
end)

---------------------------------------------------------------------------------------------
-- Differential check against jansson
---------------------------------------------------------------------------------------------

-- What jansson refuses and we accept, by design (docs/internals.md, "JSON"): integers beyond
-- 64 bits (floats here), reals beyond the double range (+-huge here), lone surrogates (U+FFFD
-- here), a NUL in an object key; and jansson skips or stops at a NUL byte outside a string, which we refuse.
local ACCEPTED_DIFFERENCES = { "too big integer", "too big negative integer", "real number overflow",
  "invalid Unicode", "NUL byte in object key" }

local function documented_difference(ref_err)
  for _, d in ipairs(ACCEPTED_DIFFERENCES) do
    if ref_err:find(d, 1, true) then return true end
  end
  return false
end

-- Returns nil when both decoders agree on s, else a description.
local function disagreement(s)
  local ours, our_err = json.decode(s)
  local theirs, their_err = ref_decode(s)
  if ours == nil and our_err == nil then return "ours returned nothing" end
  if theirs == nil then
    if ours == nil then return nil end
    if documented_difference(their_err) then return nil end
    return "jansson refused (" .. their_err .. "), ours accepted"
  end
  if ours == nil then
    -- jansson's reader skips or stops at a NUL byte outside a string; we refuse it, there
    local at = math.tointeger(tonumber(our_err:match("^invalid JSON at offset (%d+)")))
    if at and s:byte(at + 1) == 0 then return nil end
    return "ours refused (" .. our_err .. "), jansson accepted"
  end
  local ok, why = same(ours, theirs)
  if not ok then return "values differ at " .. why end
  return nil
end

-- Returns nil when s does not decode, or when its value re-encodes to JSON that jansson accepts
-- and that decodes back to the same value; else a description. Infinities (from 1e400) have no
-- JSON form: encoding them must fail with that reason.
local function reencode_problem(s)
  local v = json.decode(s)
  if v == nil then return nil end
  local text, why = json.encode(v)
  if not text then
    if why:find("NaN or infinity", 1, true) then return nil end
    return "cannot re-encode: " .. why
  end
  local back, err = ref_decode(text)
  if back == nil and not documented_difference(err) then
    return "jansson refuses our output (" .. err .. "): " .. text
  end
  local again = json.decode(text)
  if again == nil then return "our output does not decode: " .. text end
  local ok, diff = same_after_encode(v, again)
  if not ok then return "re-encoded value differs at " .. diff .. ": " .. text end
  return nil
end

-- A small deterministic generator (the spec must give the same corpus every run).
local function rng(seed)
  local x = seed
  return function(n)
    x = (x * 6364136223846793005 + 1442695040888963407)
    local r = (x >> 33) & 0x7fffffff
    return n and (r % n) + 1 or r
  end
end

local STRING_PIECES = { "a", "Z", "0", " ", "id", "proj_abc", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f",
  "\\r", "\\u0041", "\\u00e9", "\\u20ac", "\\uD83D\\uDE00", "\\u0000", "é", "€", "😀", "中文", "\u{10FFFF}",
  "\\ud800", "\\udc00", "\\uDBFF\\uDFFF", "\u{7f}", "~", "{", "]", ":", "," }
local NUMBERS = { "0", "-0", "1", "-1", "42", "1711471533", "9007199254740993", "9223372036854775807",
  "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1.5", "-0.0", "0.1", "18.5812",
  "1e2", "1E-2", "2.5e+10", "1.7976931348623157e308", "5e-324", "1e400", "-1e-400", "123456789012345678901234567890",
  "3.141592653589793", "0.30000000000000004" }
local WS = { "", "", "", " ", "\n", "\r\n", "\t", "  " }

local function gen_value(r, depth, out)
  local kind = r(depth > 5 and 5 or 8)
  local ws = WS[r(#WS)]
  if kind == 1 then out[#out + 1] = NUMBERS[r(#NUMBERS)]
  elseif kind == 2 then
    if r(2) == 1 then
      out[#out + 1] = tostring(r() - 1073741824)
    else
      out[#out + 1] = string.format("%.17g", (r() / r()) * (r(2) == 1 and 1 or -1))
    end
  elseif kind == 3 then
    local parts = { '"' }
    for _ = 1, r(8) - 1 do parts[#parts + 1] = STRING_PIECES[r(#STRING_PIECES)] end
    parts[#parts + 1] = '"'
    out[#out + 1] = table.concat(parts)
  elseif kind == 4 then out[#out + 1] = ({ "true", "false", "null" })[r(3)]
  elseif kind == 5 then out[#out + 1] = '"' .. STRING_PIECES[r(#STRING_PIECES)] .. '"'
  elseif kind <= 6 then
    out[#out + 1] = "[" .. ws
    for i = 1, r(6) - 1 do
      if i > 1 then out[#out + 1] = "," .. ws end
      gen_value(r, depth + 1, out)
    end
    out[#out + 1] = ws .. "]"
  else
    out[#out + 1] = "{" .. ws
    for i = 1, r(6) - 1 do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = '"k' .. STRING_PIECES[r(#STRING_PIECES)] .. r(20) .. '"' .. ws .. ":" .. ws
      gen_value(r, depth + 1, out)
    end
    out[#out + 1] = ws .. "}"
  end
end

local MUTATION_BYTES = { '"', "\\", "{", "}", "[", "]", ",", ":", "0", "9", "-", ".", "e", "u", " ", "\0", "\x80",
  "\xc3", "\xe2", "\xf0", "\xff", "n", "t" }
local function mutate(r, s)
  if #s == 0 then return MUTATION_BYTES[r(#MUTATION_BYTES)] end
  local i = r(#s)
  local how = r(4)
  if how == 1 then return s:sub(1, i - 1) .. s:sub(i + 1) -- delete a byte
  elseif how == 2 then return s:sub(1, i - 1) .. MUTATION_BYTES[r(#MUTATION_BYTES)] .. s:sub(i) -- insert
  elseif how == 3 then return s:sub(1, i - 1) .. MUTATION_BYTES[r(#MUTATION_BYTES)] .. s:sub(i + 1) -- replace
  else return s:sub(1, i) end -- truncate
end

-- The fake's replies: every GET of the endpoint table whose path parameters the seeded state
-- can fill (a project, a user, ...), answered in-process by the fake's app.
local function fake_replies()
  local app = require("openai_admin.fake.app").new { admin_key = "k", seed = 3,
    seed_data = { projects = 4, users = 6, audit_events = 50 } }
  local api = require("openai_admin.api")
  local headers = { authorization = "Bearer k", ["content-type"] = "application/json" }
  local function get(path, query)
    local resp = app:handle { method = "GET", path = "/v1" .. path, query = query or "", headers = headers, body = "" }
    return resp.body
  end
  local ids = {}
  local bodies = {}
  -- lists without path parameters first, to learn ids for the others
  for _, row in ipairs(api) do
    if row.method == "GET" and #row.path_params == 0 then
      local body = get(row.path, "limit=100")
      bodies[#bodies + 1] = body
      local v = json.decode(body)
      if type(v) == "table" and type(v.data) == "table" and type(v.data[1]) == "table" then
        local id = v.data[1].id
        local noun = row.path:match("/([%w_]+)$")
        if type(id) == "string" and noun then ids[noun:gsub("s$", "") .. "_id"] = id end
      end
    end
  end
  for _, row in ipairs(api) do
    if row.method == "GET" and #row.path_params > 0 then
      local path, missing = row.path:gsub("{([%w_]+)}", function(name) return ids[name] end)
      if not path:find("{", 1, true) and missing > 0 then bodies[#bodies + 1] = get(path, "limit=100") end
    end
  end
  return bodies
end

describe("openai_admin.json decode against jansson, and encode back", function()
  it("agrees on every API sample and every sample mutated", function()
    local h = assert(io.popen("ls " .. ROOT .. "/tests/fixtures/samples"))
    local r, n = rng(7), 0
    for name in h:lines() do
      local s = read(ROOT .. "/tests/fixtures/samples/" .. name)
      assert.is_nil(disagreement(s), name)
      assert.is_not_nil(json.decode(s), name)
      assert.is_nil(reencode_problem(s), name)
      n = n + 1
      for k = 1, 20 do
        local m = mutate(r, s)
        local d = disagreement(m)
        assert.is_nil(d, name .. " mutation " .. k .. ": " .. tostring(d) .. "\n" .. m)
      end
    end
    h:close()
    assert.is_true(n >= 100, "samples found: " .. n)
  end)

  it("agrees on every reply of the fake's GET endpoints", function()
    local bodies = fake_replies()
    assert.is_true(#bodies >= 40, "fake replies: " .. #bodies)
    for i, s in ipairs(bodies) do
      assert.is_nil(disagreement(s), "reply " .. i .. ": " .. s:sub(1, 200))
      assert.is_nil(reencode_problem(s), "reply " .. i)
      assert.is_not_nil(json.decode(s))
    end
  end)

  it("agrees on random documents and their mutations", function()
    local n = math.tointeger(tonumber(os.getenv("JSON_DIFF_N") or "")) or 1500
    local r = rng(12345)
    local accepted, refused = 0, 0
    for i = 1, n do
      local out = { WS[r(#WS)] }
      gen_value(r, 0, out)
      out[#out + 1] = WS[r(#WS)]
      local s = table.concat(out)
      local d = disagreement(s) or reencode_problem(s)
      assert.is_nil(d, "document " .. i .. ": " .. tostring(d) .. "\n" .. s)
      for _ = 1, 4 do
        local m = mutate(r, s)
        d = disagreement(m) or reencode_problem(m)
        assert.is_nil(d, "document " .. i .. " mutated: " .. tostring(d) .. "\n" .. ("%q"):format(m))
        if json.decode(m) then accepted = accepted + 1 else refused = refused + 1 end
      end
    end
    -- the corpus exercises both sides
    assert.is_true(accepted > n / 10 and refused > n / 10, accepted .. " accepted, " .. refused .. " refused")
  end)
end)
