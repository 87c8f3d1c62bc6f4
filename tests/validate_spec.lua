-- The validate stage's copy (lua/openai_admin/request/validate.lua), without a server.
local validate = require "openai_admin.request.validate"
local json = require "openai_admin.json"
local errors = require "openai_admin.errors"

local function copy(v, limit)
  return validate.copy(v, validate.budget(limit or 1 << 25, "spec.endpoint", "/p"), "params")
end

local function fails(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(errors.is(err, "invalid_argument"), "not an invalid_argument error: " .. tostring(err))
  for i = 1, select("#", ...) do
    local frag = select(i, ...)
    assert(tostring(err):find(frag, 1, true), "'" .. frag .. "' not in: " .. tostring(err))
  end
  return err
end

-- a random JSON-shaped value (tables only from the allowed shapes)
local function random_value(depth)
  local r = math.random(depth > 3 and 4 or 7)
  if r == 1 then return ("s"):rep(math.random(0, 5)) .. math.random(100) end
  if r == 2 then return math.random(-1000, 1000) end
  if r == 3 then return math.random() < 0.5 end
  if r == 4 then return json.null end
  if r == 5 then return math.random(1, 1000) / 8 end
  if r == 6 then
    local t = {}
    for i = 1, math.random(0, 4) do t[i] = random_value(depth + 1) end
    return #t == 0 and json.array(t) or t
  end
  local t = {}
  for _ = 1, math.random(1, 4) do t["k" .. math.random(20)] = random_value(depth + 1) end
  return t
end

describe("validate.copy", function()
  it("copies JSON-shaped values so they encode exactly as the originals", function()
    math.randomseed(12345)
    for _ = 1, 500 do
      local v = { root = random_value(0) }
      local c = copy(v)
      assert.are_not.equal(v, c)
      assert.same(json.decode(json.encode(v)), json.decode(json.encode(c)))
    end
  end)

  it("makes a plain copy: a table shared twice is copied once and encoded per use", function()
    local shared = { a = 1 }
    local c = copy { x = shared, y = shared }
    assert.equal(c.x, c.y)
    assert.are_not.equal(shared, c.x)
  end)

  it("turns integral floats into integers, keeps other floats", function()
    local c = copy { a = 3.0, b = 2.5, c = { 1.0, 2.0 }, d = 2 ^ 60 }
    assert.equal("integer", math.type(c.a))
    assert.equal(2.5, c.b)
    assert.equal("integer", math.type(c.c[2]))
    assert.equal("float", math.type(c.d)) -- beyond 2^53 a float is not an exact integer
  end)

  it("refuses holes, mixed tables, odd keys, NaN, functions, cycles: naming the place", function()
    fails(function() return copy { list = { 1, nil, 3 } } end, "params.list: array has a hole at [2]")
    fails(function() return copy { list = { [2] = "b" } } end, "hole at [1]")
    fails(function() return copy { o = { 1, x = 2 } } end, "params.o: a table mixes array items and named fields")
    fails(function() return copy { o = { [1.5] = 1 } } end, "keys must be strings")
    fails(function() return copy { o = { [true] = 1 } } end, "keys must be strings")
    fails(function() return copy { a = { b = { 0 / 0 } } } end, "params.a.b[1]: expected a finite number")
    fails(function() return copy { f = print } end, "params.f: cannot be sent as JSON: function")
    local t = {}
    t.me = { t }
    fails(function() return copy { t = t } end, "a cycle")
  end)

  it("reads raw: no __index, __pairs or __len", function()
    local mt = { __index = function() return "x" end, __pairs = function() error("no") end,
      __len = function() return 10 end }
    local c = copy { a = setmetatable({ 1, 2 }, mt), b = setmetatable({ k = "v" }, mt) }
    assert.equal("[1,2]", json.encode(c.a))
    assert.equal('{"k":"v"}', json.encode(c.b))
    assert.is_nil(getmetatable(c.b))
  end)

  it("keeps an empty array marked as an array, and an empty table as a table", function()
    local c = copy { a = json.array {}, o = {} }
    assert.is_true(json.is_array(c.a))
    assert.is_false(json.is_array(c.o))
  end)

  it("bounds the size before copying: a DAG of shared tables is refused in linear time", function()
    local t = { "leaf" }
    for _ = 1, 60 do t = { t, t } end
    fails(function() return copy({ t = t }, 1 << 25) end, "max_request_bytes (33554432 bytes")
    fails(function() return copy({ s = ("x"):rep(100) }, 50) end, "params", "max_request_bytes (50 bytes")
    assert.equal(("x"):rep(40), copy({ s = ("x"):rep(40) }, 60).s)
  end)

  it("charges path, query and body to the same budget", function()
    local b = validate.budget(100, "spec.endpoint", ("p"):rep(60))
    validate.charge(b, 30, "query")
    fails(function() validate.charge(b, 11, "body") end, "body: the request would be larger")
    fails(function() validate.budget(10, "spec.endpoint", ("p"):rep(11)) end, "path")
  end)

  it("clips long keys in its messages", function()
    local long = ("k"):rep(5000)
    local err = fails(function() return copy { [long] = print } end, "cannot be sent as JSON")
    assert.is_true(#tostring(err) < 600, #tostring(err))
  end)
end)
