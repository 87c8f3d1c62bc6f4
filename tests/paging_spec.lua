-- Walks against the fake: forward for every pagination kind, backward (`before`) for every list
-- that accepts it, nested loops over one page, and the walks that must raise instead of looping
-- or ending silently (pages.lua). The cursor table itself is unit-tested at the end.
local fake = require "helpers.fake"
local mock = require "helpers.mock_core"
local oa = require "openai_admin"
local json = oa.json
local errors = oa.errors
local pages = require "openai_admin.pages"

local function api_requests(f, suffix)
  local out = {}
  for _, r in ipairs(f:request_log()) do
    local p = r.path or ""
    if not p:find("/_fake", 1, true) and (not suffix or p:sub(-#suffix) == suffix) then out[#out + 1] = r end
  end
  return out
end

local function query_of(r)
  local q = r.query
  if q == nil or q == json.null then q = (r.path or ""):match("%?(.*)$") or "" end
  return q
end

-- every list row whose query accepts `before`
local BEFORE_ROWS = {}
for row in oa.endpoints() do
  if row.pagination then
    for _, q in ipairs(row.query or {}) do
      if q.name == "before" then BEFORE_ROWS[#BEFORE_ROWS + 1] = row end
    end
  end
end

describe("paging against the fake", function()
  local f, client, org, pid
  setup(function()
    f = fake.start { seed = 11, projects = 3, users = 9, audit_events = 23 }
    client = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
    org = client.admin.organization
    pid = org.projects:list { limit = 1 }.data[1].id
    -- spend alerts to walk (the org's and one project's)
    for i = 1, 7 do
      local p = { currency = "USD", interval = "month", threshold_amount = 10 * i,
        notification_channel = { type = "email", recipients = { "a@example.com" } } }
      org.spend_alerts:create(p)
      org.projects.spend_alerts:create(pid, p)
    end
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)
  before_each(function() f:clear_requests() end)

  -- the call of a row with its path parameters (pid for project_id)
  local function lister(row)
    local node = client
    for part in row.resource:gmatch("[^.]+") do node = node[part] end
    return function(params)
      if #row.path_params > 0 then return node[row.name](node, pid, params) end
      return node[row.name](node, params)
    end
  end

  it("lists that accept `before`: all of them are cursor_last_id lists", function()
    assert.is_true(#BEFORE_ROWS >= 4, #BEFORE_ROWS)
    for _, row in ipairs(BEFORE_ROWS) do assert.equal("cursor_last_id", row.pagination, row.sdk_path) end
  end)

  for _, row in ipairs(BEFORE_ROWS) do
    it("walks " .. row.sdk_path .. " backward with before=<first id>, each item once", function()
      local list = lister(row)
      local all = {}
      for item in list { limit = 100 } do all[#all + 1] = item.id end
      assert.is_true(#all >= 5, row.sdk_path .. ": only " .. #all .. " items")
      local k = #all
      f:clear_requests()
      local seen, n = {}, 0
      for item in list { before = all[k], limit = 2 } do
        assert.is_nil(seen[item.id], "duplicate " .. item.id)
        seen[item.id] = true
        n = n + 1
        assert(n <= #all, "endless walk")
      end
      assert.equal(k - 1, n)
      for i = 1, k - 1 do assert.is_true(seen[all[i]], "missing " .. all[i]) end
      local reqs = api_requests(f)
      assert.equal(math.ceil((k - 1) / 2), #reqs)
      for i, r in ipairs(reqs) do
        local q = query_of(r)
        assert.is_nil(q:find("after=", 1, true), q)
        assert.is_truthy(q:find("before=", 1, true), q)
        if i == 1 then assert.is_truthy(q:find("before=" .. all[k], 1, true), q) end
      end
      -- and forward from the same place: after=<last id>
      f:clear_requests()
      n = 0
      for _ in list { after = all[1], limit = 2 } do n = n + 1 end
      assert.equal(#all - 1, n)
      for _, r in ipairs(api_requests(f)) do assert.is_nil(query_of(r):find("before=", 1, true)) end
    end)
  end

  it("walks forward every pagination kind to the end, each item once", function()
    local kinds = {
      cursor_last_id = function() return org.users:list { limit = 2 } end,
      cursor_next = function() return org.roles:list { limit = 1 } end,
      cursor_item_id = function() return org.admin_api_keys:list { limit = 1 } end,
      page_token = function()
        return org.usage:costs { start_time = 1730419200, end_time = 1730419200 + 5 * 86400, limit = 2 }
      end,
      single_page = nil,
    }
    for kind, first in pairs(kinds) do
      local page = first()
      assert.equal(kind, page._walk.c.pagination)
      local n, seen = 0, {}
      for item in page do
        local key = item.id or json.encode(item)
        assert.is_nil(seen[key], kind .. ": duplicate " .. key)
        seen[key] = true
        n = n + 1
      end
      assert.is_true(n >= 1, kind)
    end
  end)

  it("nested loops over one page each walk the whole list", function()
    local page = org.users:list { limit = 4 }
    local total = 0
    for _ in page:items() do total = total + 1 end
    local outer, inner = 0, 0
    for _ in page do
      outer = outer + 1
      assert(outer <= total, "outer loop does not end")
      for _ in page do
        inner = inner + 1
        assert(inner <= total * total, "inner loop does not end")
      end
    end
    assert.equal(total, outer)
    assert.equal(total * total, inner)
    -- a loop left with break does not disturb the next one
    local broke = 0
    for _ in page do
      broke = broke + 1
      if broke == 2 then break end
    end
    local again = 0
    for _ in page do again = again + 1 end
    assert.equal(total, again)
  end)
end)

describe("walks that cannot go on honestly (mock core)", function()
  local moa = mock.load()
  local function client_with(bodies)
    local c = moa.new { admin_key = "sk-admin-paging-0000000000", base_url = "http://mock.invalid/v1" }
    local i = 0
    mock.handler(c, function()
      i = i + 1
      local b = bodies[math.min(i, #bodies)]
      return { status = b.status or 200, headers = {}, body = json.encode(b.body or b), attempts = 1, waited = 0,
        request_id = "req_" .. i }
    end)
    return c
  end

  local function walk(page)
    local n = 0
    local ok, err = pcall(function()
      for _ in page do
        n = n + 1
        assert(n < 50, "endless loop")
      end
    end)
    return ok, err, n
  end

  it("has_more true on an empty page without a cursor raises, after the items it has", function()
    local c = client_with {
      { object = "list", data = { { id = "a" } }, has_more = true, last_id = "a" },
      { object = "list", data = json.array {}, has_more = true, last_id = json.null },
    }
    local ok, err, n = walk(c.admin.organization.projects:list())
    assert.is_false(ok)
    assert.is_true(errors.is(err, "pagination"), tostring(err))
    assert.equal(1, n)
    assert.is_truthy(tostring(err):find("admin.organization.projects.list", 1, true))
    assert.is_truthy(tostring(err):find("no cursor", 1, true), tostring(err))
  end)

  it("a cycle of cursors (a -> b -> a) raises instead of looping", function()
    local c = client_with {
      { object = "list", data = { { id = "a" } }, has_more = true, last_id = "a" },
      { object = "list", data = { { id = "b" } }, has_more = true, last_id = "b" },
      { object = "list", data = { { id = "a" } }, has_more = true, last_id = "a" },
      { object = "list", data = { { id = "b" } }, has_more = true, last_id = "b" },
    }
    local ok, err, n = walk(c.admin.organization.projects:list())
    assert.is_false(ok)
    assert.is_true(errors.is(err, "pagination"), tostring(err))
    assert.is_true(n <= 4, n)
  end)

  it("has_more missing: goes on while there is a cursor, ends without one", function()
    local c = client_with {
      { object = "list", data = { { id = "a" } }, next = "n1" },
      { object = "list", data = { { id = "b" } }, next = json.null },
    }
    local ok, err, n = walk(c.admin.organization.roles:list())
    assert.is_true(ok, tostring(err))
    assert.equal(2, n)
  end)

  it("a 401 with a project key hints at the admin key, without printing the key", function()
    local c = moa.new { admin_key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ", base_url = "http://mock.invalid/v1" }
    mock.reply(c, { status = 401, body = '{"error":{"message":"Incorrect API key provided"}}' })
    local ok, err = pcall(function() return c.admin.organization.projects:list() end)
    assert.is_false(ok)
    local s = tostring(err)
    assert.is_truthy(s:find("admin-keys", 1, true), s)
    assert.is_truthy(s:find("project key", 1, true), s)
    assert.is_nil(s:find("ABCDEFGH", 1, true), s)
    local a = moa.new { admin_key = "sk-admin-ABCDEFGHIJKLMNOPQRSTUVWXYZ", base_url = "http://mock.invalid/v1" }
    mock.reply(a, { status = 403, body = '{"error":{"message":"Missing scopes: api.management.read"}}' })
    ok, err = pcall(function() return a.admin.organization.projects:list() end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("organization admin key", 1, true), tostring(err))
    mock.reply(a, { status = 403, body = '{"error":{"message":"Forbidden"}}' })
    ok, err = pcall(function() return a.admin.organization.projects:list() end)
    assert.is_false(ok)
    assert.is_nil(tostring(err):find("admin-keys", 1, true), tostring(err))
  end)

  it("a 404 on a cursor request says the item is gone", function()
    local c = client_with {
      { object = "list", data = { { id = "a" } }, has_more = true, last_id = "a" },
      { status = 404, body = { error = { message = "No such project: a" } } },
    }
    local ok, err, n = walk(c.admin.organization.projects:list())
    assert.is_false(ok)
    assert.equal(1, n)
    assert.is_true(errors.is(err, "not_found"))
    assert.is_truthy(tostring(err):find("cursor after=a is gone", 1, true), tostring(err))
  end)
end)

describe("the cursor table", function()
  local N, P = pages.NEXT, pages.PREV
  it("reads each kind's cursor from a page", function()
    assert.equal("x", N.cursor_last_id({ last_id = "x" }, { {} }))
    assert.is_nil(N.cursor_last_id({ last_id = "x" }, {}))
    assert.is_nil(N.cursor_last_id({ last_id = json.null }, { {} }))
    assert.equal("n1", N.cursor_next({ next = "n1" }, {}))
    assert.is_nil(N.cursor_next({ next = json.null }, {}))
    assert.equal("k2", N.cursor_item_id({}, { { id = "k1" }, { id = "k2" } }))
    assert.is_nil(N.cursor_item_id({}, { { id = 5 } }))
    assert.equal("p2", N.page_token({ next_page = "p2" }, {}))
    assert.is_nil(N.page_token({ next_page = "" }, {}))
    assert.equal("f", P.cursor_last_id({ first_id = "f" }, { { id = "x" } }))
    assert.equal("x", P.cursor_last_id({ first_id = json.null }, { { id = "x" } }))
    assert.equal("k1", P.cursor_item_id({}, { { id = "k1" }, { id = "k2" } }))
  end)
end)
