-- Every one of the 143 endpoints, called through the public client against the fake server:
-- the request on the wire (method, path, query, body, from the fake's request log) and the
-- decoded result (its `object`, a page's data) are checked for each.
--
-- The calls run in dependency order over one small "world": creates first (parents before
-- children), then reads and updates, then deletes (children before parents), then archive
-- (tests/helpers/endpoint_world.lua, shared with the command line's spec).
local fake = require("helpers.fake")
local openai_admin = require("openai_admin")
local json = openai_admin.json

-- A reference encoder for the expected query, written independently of params.lua: the official
-- SDK's qs form (arrays as name[]=, nested objects as name[key]=), compared as sorted pairs.
local function pct(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
local function scalar(v)
  if math.type(v) == "float" and v == math.floor(v) then return string.format("%d", v) end
  return tostring(v)
end
local function expected_query(params)
  local pairs_out = {}
  for k, v in pairs(params or {}) do
    if type(v) == "table" and #v > 0 then
      for _, x in ipairs(v) do pairs_out[#pairs_out + 1] = pct(k .. "[]") .. "=" .. pct(scalar(x)) end
    elseif type(v) == "table" then
      for sk, sv in pairs(v) do pairs_out[#pairs_out + 1] = pct(k .. "[" .. sk .. "]") .. "=" .. pct(scalar(sv)) end
    else
      pairs_out[#pairs_out + 1] = pct(k) .. "=" .. pct(scalar(v))
    end
  end
  table.sort(pairs_out)
  return pairs_out
end
local function split_query(q)
  local out = {}
  for pair in (q or ""):gmatch("[^&]+") do out[#out + 1] = pair end
  table.sort(out)
  return out
end

local ew = require("helpers.endpoint_world")
local ordered, path_arg, node_of = ew.ordered, ew.path_arg, ew.node_of

-- response.object is one name, or a list where the API answers with one of several
local function is_one_of(value, expected)
  if type(expected) ~= "table" then return value == expected end
  for _, e in ipairs(expected) do if e == value then return true end end
  return false
end

describe("all 143 endpoints through the client against the fake", function()
  local f, client
  local world = {}

  setup(function()
    f = fake.start{ seed = 3, projects = 2, users = 4 }
    client = openai_admin.new{ admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
    local users = client.admin.organization.users:list{ limit = 1 }
    world.user_id = users.data[1].id
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  it("has 143 rows to call", function() assert.equal(143, #ordered) end)

  for _, row in ipairs(ordered) do
    it(row.method .. " " .. row.path .. " (" .. row.sdk_path .. ")", function()
      local args, path = {}, "/v1" .. row.path
      for i, name in ipairs(row.path_params) do
        args[i] = path_arg(world, row, name)
        path = path:gsub("{" .. name .. "}", (pct(args[i]):gsub("%%", "%%%%")))
      end
      local params = ew.params(row, world)
      if params then args[#args + 1] = params end
      f:clear_requests()

      local node = node_of(client, row)
      local result = node[row.name](node, table.unpack(args, 1, #row.path_params + (params and 1 or 0)))

      local log = f:requests().data
      assert.equal(1, #log, "one request on the wire")
      local seen = log[1]
      assert.equal(row.method, seen.method)
      assert.equal(path, seen.path)
      assert.equal(200, seen.status, seen.status ~= 200 and tostring(seen.response_body or "") or nil)
      if row.method == "POST" then
        if row.sends_body then
          assert.same(params or {}, json.decode(seen.body))
        else
          assert.is_true(seen.body == nil or seen.body == json.null or seen.body == "", "no body")
        end
        assert.same({}, split_query(seen.query))
      else
        assert.same(expected_query(params), split_query(seen.query))
      end

      -- the decoded result
      if row.pagination then
        assert.is_true(openai_admin.is_page ~= nil and type(result.data) == "table", "a page")
        if row.pagination == "page_token" then
          assert.equal("page", result.object)
          for _, bucket in ipairs(result.data) do assert.equal("bucket", bucket.object) end
        elseif row.response.object and #result.data > 0 then
          assert.is_true(is_one_of(result.data[1].object, row.response.object), result.data[1].object)
        end
      else
        assert.is_table(result)
        if row.response.object then
          assert.is_true(is_one_of(result.object, row.response.object), tostring(result.object))
        end
        assert.is_string(result._request_id, "request id")
      end
      ew.record(row, world, result)
    end)
  end
end)
