-- lua-cjson and openai_admin together: results, pages and params go through cjson.encode /
-- cjson.decode against the fake. openai_admin.null is cjson.null (both are the NULL light
-- userdata). With the openresty lua-cjson (cjson.array_mt), decoded arrays carry cjson.array_mt;
-- Debian's 2.1.0 has no array marks, so there an empty array re-encodes as {} through
-- cjson.encode (README, "JSON and lua-cjson"); a child process with a stand-in cjson module that
-- has array_mt / empty_array_mt checks the adoption on any machine.
local fake = require("helpers.fake")
local oa = require("openai_admin")
local cjson = require("cjson")
local json = oa.json

-- Equal fields after a trip through lua-cjson: numbers by value (2.1.0 decodes every number as
-- a float), nulls as cjson.null, an empty array may come back as an empty table.
local function same_fields(orig, back, path)
  path = path or "result"
  if type(orig) == "table" then
    assert.equal("table", type(back), path)
    local n = 0
    for k, v in pairs(orig) do
      same_fields(v, back[k], path .. "." .. tostring(k))
      n = n + 1
    end
    for k in pairs(back) do assert.is_not_nil(orig[k], path .. "." .. tostring(k) .. " appeared") end
    if n == 0 then assert.is_nil(next(back), path .. " not empty") end
  elseif orig == oa.null then
    assert.equal(cjson.null, back, path)
  else
    assert.equal(orig, back, path)
  end
end

local function round_trip(v, what)
  local ok, text = pcall(cjson.encode, v)
  assert.is_true(ok, what .. ": cjson.encode: " .. tostring(text))
  local back = cjson.decode(text)
  same_fields(v, back, what)
  return text, back
end

describe("lua-cjson interop", function()
  local f, client, org
  setup(function()
    f = fake.start { seed = 11, projects = 3, users = 4, audit_events = 30 }
    client = oa.new { base_url = f.base_url, admin_key = f.admin_key }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  it("shares the null value", function()
    assert.equal(cjson.null, oa.null)
    assert.equal(cjson.null, json.null)
    assert.equal(oa.null, cjson.decode("null"))
    assert.equal("null", json.encode(cjson.null))
    assert.equal("null", cjson.encode(oa.null))
  end)

  it("cjson.encode takes every result, nulls included, and gives the same fields back", function()
    local page = org.projects:list { limit = 100 }
    local p = org.projects:retrieve(page.data[1].id)
    local text, back = round_trip(p, "project")
    assert.equal(p.id, back.id)
    assert.equal(oa.null, p.archived_at) -- a null field: the case that used to raise
    assert.equal(cjson.null, back.archived_at)
    assert.is_truthy(text:find('"archived_at":null', 1, true))
    -- a created object and an admin key that was never used (last_used_at = null)
    local created = org.projects:create { name = "cjson interop" }
    round_trip(created, "created project")
    local keys = org.admin_api_keys:list { limit = 100 }
    for i, k in ipairs(keys.data) do round_trip(k, "admin key " .. i) end
    round_trip(org.users:retrieve(org.users:list { limit = 1 }.data[1].id), "user")
  end)

  it("cjson.encode takes page.data of lists, and every item comes back", function()
    for name, page in pairs {
      projects = org.projects:list { limit = 100 },
      users = org.users:list { limit = 100 },
      audit_logs = org.audit_logs:list { limit = 100 },
      invites = org.invites:list { limit = 100 },
      admin_api_keys = org.admin_api_keys:list { limit = 100 },
    } do
      local text, back = round_trip(page.data, name)
      assert.equal(#page.data, #back, name)
      if #page.data > 0 then assert.equal("[", text:sub(1, 1), name) end
      for i, item in ipairs(page.data) do assert.equal(item.id, back[i].id, name) end
    end
    local walked = 0
    for e in org.audit_logs:list { limit = 7 } do
      round_trip(e, "audit event")
      walked = walked + 1
    end
    assert.is_true(walked >= 30, "walked " .. walked) -- 30 seeded, plus what earlier tests did
  end)

  -- (params.lua's acceptance of cjson values in general is tested in params_spec.lua)
  it("takes params built by lua-cjson: its decoded numbers and strings", function()
    local p = org.projects:list { limit = 1 }.data[1]
    local params = cjson.decode('{"name":"renamed through cjson"}')
    local updated = org.projects:update(p.id, params)
    assert.equal("renamed through cjson", updated.name)
    -- a list query decoded by cjson: limit is a float 2.0 in lua-cjson 2.1.0
    local q = cjson.decode('{"limit":2}')
    local page = org.projects:list(q)
    assert.equal(2, #page.data)
    local seen = f:request_log()
    local last = seen[#seen]
    assert.is_truthy((last.query or last.path):find("limit=2", 1, true), cjson.encode(last))
  end)

  it("with the openresty lua-cjson installed, decoded arrays carry cjson.array_mt", function()
    if not cjson.array_mt then
      -- Debian's 2.1.0: documented limitation, checked here so the README stays true
      local back = cjson.encode(json.decode('{"a":[]}'))
      assert.equal('{"a":{}}', back)
      return
    end
    local v = json.decode('{"a":[],"b":[1]}')
    assert.equal(cjson.array_mt, getmetatable(v.a))
    assert.equal('{"a":[]}', cjson.encode({ a = v.a }))
    assert.equal('[1]', cjson.encode(v.b))
    local page = json.decode('{"object":"list","data":[],"has_more":false}')
    assert.equal('[]', cjson.encode(page.data))
    assert.equal('[]', json.encode(cjson.empty_array))
    assert.equal('[]', json.encode(setmetatable({}, cjson.empty_array_mt)))
  end)
end)

describe("lua-cjson array marks (a stand-in openresty cjson, in a child process)", function()
  local function child(code)
    local cmd = "LUA_PATH=" .. fake.shquote(package.path) .. " LUA_CPATH=" .. fake.shquote(package.cpath)
      .. " lua5.4 -e " .. fake.shquote(code) .. " 2>&1"
    local h = io.popen(cmd)
    local out = h:read("a")
    h:close()
    return out
  end

  it("adopts cjson.array_mt and cjson.empty_array_mt, per lua_State", function()
    local out = child([[
      local array_mt, empty_mt = { __name = "stand-in array_mt" }, { __name = "stand-in empty_array_mt" }
      package.preload.cjson = function()
        return { null = nil, array_mt = array_mt, empty_array_mt = empty_mt }
      end
      local json = require "openai_admin.json"
      local v = json.decode('{"a":[],"b":[1,2]}')
      assert(getmetatable(v.a) == array_mt, "decoded [] has the stand-in array_mt")
      assert(getmetatable(v.b) == array_mt)
      assert(json.array_mt == array_mt and json.is_array(v.a))
      assert(json.encode(v.a) == "[]")
      assert(json.encode(setmetatable({}, array_mt)) == "[]")
      assert(json.encode(setmetatable({}, empty_mt)) == "[]", "empty_array_mt: []")
      assert(json.encode(setmetatable({ 1, 2 }, empty_mt)) == "[1,2]")
      assert(json.encode(setmetatable({ k = 1 }, empty_mt)) == '{"k":1}', "empty_array_mt: only when empty")
      assert(getmetatable(json.array()) == array_mt)
      -- another lua_State in the same process keeps its own marks: the fake's state machine
      -- here is this one; a fresh state is checked by the process itself
      print("ok")]])
    assert.equal("ok\n", out)
  end)

  it("without lua-cjson, uses its own array metatable", function()
    local out = child([[
      package.preload.cjson = function() error("no cjson here") end
      local json = require "openai_admin.json"
      local v = json.decode("[]")
      assert(getmetatable(v) == json.array_mt and json.array_mt ~= nil)
      assert(json.encode(v) == "[]")
      assert(json.null == require("openai_admin.core").null)
      print("ok")]])
    assert.equal("ok\n", out)
  end)
end)
