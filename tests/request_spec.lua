-- The request stages (request/*.lua) against the fake: what is checked is what is sent,
-- extra_query / extra_body, the OCI variant of external_keys.create, bounded edges
-- (max_request_bytes, holes, proxies, long values in messages) and params built with lua-cjson.
local fake = require "helpers.fake"
local oa = require "openai_admin"
local json = oa.json
local errors = oa.errors
local cjson = require "cjson"

local function api_requests(f)
  local out = {}
  for _, r in ipairs(f:request_log()) do
    if not (r.path or ""):find("/_fake", 1, true) then out[#out + 1] = r end
  end
  return out
end

local function last_request(f)
  local reqs = api_requests(f)
  return reqs[#reqs]
end

local function query_of(r)
  local q = r.query
  if q == nil or q == json.null then q = (r.path or ""):match("%?(.*)$") or "" end
  return q
end

local function body_of(r)
  local b = r.body
  if b == nil or b == json.null or b == "" then return nil end
  return json.decode(b)
end

local function raised(kind, fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(errors.is(err, kind), "expected " .. kind .. ": " .. tostring(err))
  return err
end

describe("request stages (fake server)", function()
  local f, client, org
  setup(function()
    f = fake.start { seed = 5, projects = 3, users = 3 }
    client = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)
  before_each(function() f:clear_requests() end)

  it("extra_query is merged into the query string, replacing fields of the same name", function()
    pcall(function()
      return org.projects:list({ limit = 2, include_archived = true },
        { extra_query = { limit = 3, new_flag = "x y" } })
    end)
    local r = last_request(f)
    assert.equal("include_archived=true&limit=3&new_flag=x%20y", query_of(r))
  end)

  it("extra_body is merged into the JSON body, unchecked, and refused where there is no body", function()
    pcall(function()
      return org.groups:create({ name = "g-extra" },
        { extra_body = { name = "g-over", future = { a = json.array {} } } })
    end)
    local b = body_of(last_request(f))
    assert.equal("g-over", b.name)
    assert.equal("[]", json.encode(b.future.a))
    local n = #api_requests(f)
    raised("invalid_argument", function() return org.projects:list({}, { extra_body = { x = 1 } }) end)
    assert.equal(n, #api_requests(f))
  end)

  it("creates an OCI external key (openai-node 7.59's variant)", function()
    local key = org.external_keys:create { name = "oci-key", type = "oci", key_ocid = "ocid1.key.oc1..k",
      region = "us-ashburn-1", vault_ocid = "ocid1.vault.oc1..v", key_version_ocid = "ocid1.keyversion.oc1..kv" }
    assert.is_string(key.id)
    local b = body_of(last_request(f))
    assert.equal("oci", b.type)
    assert.equal("ocid1.vault.oc1..v", b.vault_ocid)
    local e = raised("invalid_argument", function()
      return org.external_keys:create { name = "k", type = "oci", key_ocid = "k", region = "r" }
    end)
    assert.is_truthy(tostring(e):find("vault_ocid", 1, true), tostring(e))
  end)

  it("caps request bodies at max_request_bytes, also a DAG of shared tables, before encoding", function()
    local t = { "leaf" }
    for _ = 1, 40 do t = { t, t } end -- 2^40 leaves once encoded
    local n = #api_requests(f)
    local e = raised("invalid_argument", function()
      return org.groups:create({ name = "g" }, { extra_body = { blob = t } })
    end)
    assert.is_truthy(tostring(e):find("max_request_bytes", 1, true), tostring(e))
    local small = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_request_bytes = 1000 }
    raised("invalid_argument", function()
      return small.admin.organization.groups:create { name = string.rep("n", 2000) }
    end)
    raised("invalid_argument", function()
      return small.admin.organization.projects:retrieve(string.rep("p", 2000))
    end)
    assert.equal(n, #api_requests(f))
    -- the body is counted once: a 911-byte body under a 1000-byte cap goes out
    local ok, err = pcall(function() return small.admin.organization.groups:create { name = string.rep("n", 900) } end)
    assert.is_true(ok, tostring(err))
    assert.equal(911, #last_request(f).body)
    small:close()
  end)

  it("refuses arrays with holes or extra keys instead of cutting them", function()
    local e = raised("invalid_argument", function()
      return org.usage:costs { start_time = 1, project_ids = { "a", nil, "c" } }
    end)
    assert.is_truthy(tostring(e):find("params.project_ids: array has a hole at [2]", 1, true), tostring(e))
    raised("invalid_argument", function()
      return org.usage:costs { start_time = 1, project_ids = { "a", x = "b" } }
    end)
    raised("invalid_argument", function()
      return org.groups:create({ name = "g" }, { extra_body = { list = { 1, nil, 3 } } })
    end)
  end)

  it("sends what it checked: a proxy table's __index and __pairs are not read", function()
    local proxy = setmetatable({ name = "g-proxy" }, {
      __index = function(_, k) if k == "description" then return { "never", "checked" } end end,
      __pairs = function() error("__pairs must not be called") end,
    })
    org.groups:create(proxy)
    local b = body_of(last_request(f))
    assert.same({ name = "g-proxy" }, b)
    local hidden = setmetatable({}, { __index = { name = "from __index" } })
    local e = raised("invalid_argument", function() return org.groups:create(hidden) end)
    assert.is_truthy(tostring(e):find("missing required parameter 'name'", 1, true), tostring(e))
  end)

  it("quotes long values clipped: a 1 MB path gives a short error", function()
    local ok, err = pcall(function() return org.projects:retrieve(string.rep("x", 1024 * 1024)) end)
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.is_true(#tostring(err) < 2000, "tostring is " .. #tostring(err) .. " bytes")
    assert.equal("abc", errors.clip("abc", 10))
    assert.equal("aaaaa...(20 bytes)", errors.clip(string.rep("a", 20), 5))
  end)

  it("accepts params built with lua-cjson: its null, its arrays, its float numbers", function()
    local page = org.projects:list(cjson.decode('{"limit": 2}')) -- 2.0 with lua-cjson 2.1.0
    assert.equal(2, #page.data)
    assert.equal("limit=2", query_of(last_request(f)))
    local alert = org.spend_alerts:create(cjson.decode([[{"currency": "USD", "interval": "month",
      "threshold_amount": 25, "notification_channel": {"type": "email", "recipients": ["a@example.com"],
      "subject_prefix": null}}]]))
    assert.is_string(alert.id)
    local raw = last_request(f).body
    assert.is_truthy(raw:find('"threshold_amount":%s*25[,}]'), raw)
    assert.is_truthy(raw:find('"subject_prefix":%s*null'), raw)
    -- an empty array decoded by lua-cjson ({} in 2.1.0) goes out as [] where the field is a list
    pcall(function()
      return org.spend_alerts:create(cjson.decode([[{"currency": "USD", "interval": "month",
        "threshold_amount": 5, "notification_channel": {"type": "email", "recipients": []}}]]))
    end)
    assert.is_truthy(last_request(f).body:find('"recipients":%s*%[%]'), last_request(f).body)
    if rawget(cjson, "empty_array") ~= nil then -- the openresty fork only
      pcall(function()
        return org.spend_alerts:create { currency = "USD", interval = "month", threshold_amount = 5,
          notification_channel = { type = "email", recipients = cjson.empty_array } }
      end)
      assert.is_truthy(last_request(f).body:find('"recipients":%s*%[%]'), last_request(f).body)
    end
    -- the openresty fork's marks, simulated (Debian's 2.1.0 has neither): cjson.empty_array and
    -- a table carrying cjson.array_mt both go out as []
    local real = package.loaded.cjson
    local stand_in_empty, stand_in_mt = io.stdout, {}
    package.loaded.cjson = { null = real.null, empty_array = stand_in_empty, array_mt = stand_in_mt }
    pcall(function()
      return org.spend_alerts:create { currency = "USD", interval = "month", threshold_amount = 5,
        notification_channel = { type = "email", recipients = stand_in_empty } }
    end)
    local body1 = last_request(f).body
    pcall(function()
      return org.groups:create({ name = "g-mt" }, { extra_body = { tags = setmetatable({}, stand_in_mt) } })
    end)
    local body2 = last_request(f).body
    package.loaded.cjson = real
    assert.is_truthy(body1:find('"recipients":%s*%[%]'), body1)
    assert.is_truthy(body2:find('"tags":%s*%[%]'), body2)
    -- cjson.null is accepted wherever ours is (the fake may refuse the value; our checks do not)
    local pid = page.data[1].id
    local ok, e = pcall(function() return org.projects:update(pid, { name = cjson.null }) end)
    if not ok then assert.is_not_equal("invalid_argument", e.kind, tostring(e)) end
    assert.is_truthy(last_request(f).body:find('"name":%s*null'), last_request(f).body)
  end)
end)
