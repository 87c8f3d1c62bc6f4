-- Pages and iteration (lua/openai_admin/pages.lua).
-- Part 1 uses a mock core client (tests/helpers/mock_core.lua) to check each pagination kind's
-- requests exactly; part 2 runs against the fake server (tests/helpers/fake.lua) and checks the
-- requests it logged.
local mock = require "helpers.mock_core"
local json = require "openai_admin.json"

local oa = mock.load()

local function new_mock_client()
  return oa.new { admin_key = "sk-admin-pages-test-00000000000", base_url = "http://mock.invalid/v1" }
end

-- A mock server for one list endpoint: `total` items with ids obj_1..obj_total, pages of `limit`
-- (from the query), cursor style per kind. Returns the handler.
local function list_server(kind, total)
  return function(req)
    local q = req.path:match("%?(.*)$") or ""
    local limit = tonumber(q:match("limit=(%d+)")) or 20
    local cursor = q:match("after=([^&]*)") or q:match("page=([^&]*)")
    local start = 1
    if cursor then start = tonumber(cursor:match("(%d+)$")) + 1 end
    local data = json.array()
    for i = start, math.min(total, start + limit - 1) do data[#data + 1] = { id = "obj_" .. i, n = i } end
    local last = start + #data - 1
    local more = last < total
    local body = { object = "list", data = data, has_more = more }
    if kind == "cursor_last_id" then
      body.first_id = data[1] and data[1].id or json.null
      body.last_id = data[#data] and data[#data].id or json.null
    elseif kind == "cursor_next" then
      body.next = more and ("cur_" .. last) or json.null
    elseif kind == "page_token" then
      body.object = "page"
      body.next_page = more and ("page_" .. last) or json.null
    end
    return { status = 200, headers = {}, body = json.encode(body), request_id = "req_" .. start,
      attempts = 1, waited = 0 }
  end
end

local function paths(client)
  local t = {}
  for i, r in ipairs(mock.requests(client)) do t[i] = r.path end
  return t
end

describe("pages (mock core)", function()
  it("cursor_last_id: after=<last_id>, stops on has_more false", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 5))
    local page = client.admin.organization.projects:list { limit = 2 }
    assert.equal(2, #page.data)
    assert.is_true(page.has_more)
    assert.equal("req_1", page.request_id)
    assert.equal("obj_2", page.last_id)
    assert.equal(1, #mock.requests(client), "only the first page is fetched by the call")
    local ids = {}
    for p in page do ids[#ids + 1] = p.id end
    assert.same({ "obj_1", "obj_2", "obj_3", "obj_4", "obj_5" }, ids)
    assert.same({ "/organization/projects?limit=2", "/organization/projects?limit=2&after=obj_2",
      "/organization/projects?limit=2&after=obj_4" }, paths(client))
  end)

  it("cursor_next: after=<next>", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_next", 3))
    local n = 0
    for _ in client.admin.organization.groups:list { limit = 2, order = "asc" } do n = n + 1 end
    assert.equal(3, n)
    assert.same({ "/organization/groups?order=asc&limit=2", "/organization/groups?order=asc&limit=2&after=cur_2" },
      paths(client))
  end)

  it("cursor_item_id: after=<id of the last item>", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_item_id", 4))
    local n = 0
    for _ in client.admin.organization.admin_api_keys:list { limit = 3 } do n = n + 1 end
    assert.equal(4, n)
    assert.same({ "/organization/admin_api_keys?limit=3", "/organization/admin_api_keys?limit=3&after=obj_3" },
      paths(client))
  end)

  it("page_token (usage and costs): page=<next_page>, buckets as items", function()
    local client = new_mock_client()
    mock.handler(client, list_server("page_token", 5))
    local page = client.admin.organization.usage:costs {
      start_time = 1730419200, limit = 2, group_by = { "project_id" } }
    assert.equal("page_2", page.raw.next_page) -- page.next_page is the method
    local n = 0
    for _ in page do n = n + 1 end
    assert.equal(5, n)
    assert.same({
      "/organization/costs?start_time=1730419200&group_by%5B%5D=project_id&limit=2",
      "/organization/costs?start_time=1730419200&group_by%5B%5D=project_id&limit=2&page=page_2",
      "/organization/costs?start_time=1730419200&group_by%5B%5D=project_id&limit=2&page=page_4",
    }, paths(client))
  end)

  it("single_page (certificate activation): a POST with a body, never a second request", function()
    local client = new_mock_client()
    mock.reply(client, { status = 200, body = json.encode {
      object = "organization.certificate.activation", data = { { id = "cert_1" }, { id = "cert_2" } } } })
    local page = client.admin.organization.certificates:activate { certificate_ids = { "cert_1", "cert_2" } }
    assert.is_false(page.has_more)
    assert.is_false(page:has_next_page())
    assert.is_nil(page:next_page())
    local ids = {}
    for c in page do ids[#ids + 1] = c.id end
    assert.same({ "cert_1", "cert_2" }, ids)
    local log = mock.requests(client)
    assert.equal(1, #log)
    assert.equal("POST", log[1].method)
    assert.equal("/organization/certificates/activate", log[1].path)
    assert.same({ certificate_ids = { "cert_1", "cert_2" } }, json.decode(log[1].body))
  end)

  it("keeps a cursor the caller gave for the first page", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 6))
    local ids = {}
    for p in client.admin.organization.projects:list { after = "obj_3", limit = 2 } do ids[#ids + 1] = p.id end
    assert.same({ "obj_4", "obj_5", "obj_6" }, ids)
    assert.same({ "/organization/projects?limit=2&after=obj_3", "/organization/projects?limit=2&after=obj_5" },
      paths(client))
  end)

  it("page:pages(), next_page() and has_next_page()", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 5))
    local first = client.admin.organization.projects:list { limit = 2 }
    local sizes = {}
    for p in first:pages() do sizes[#sizes + 1] = #p.data end
    assert.same({ 2, 2, 1 }, sizes)
    assert.is_true(first:has_next_page())
    local second = first:next_page()
    assert.equal("obj_3", second.data[1].id)
    local again = first:next_page()
    assert.equal("obj_3", again.data[1].id)
    assert.is_true(again:has_next_page())
    local third = second:next_page()
    assert.is_false(third:has_next_page())
    assert.is_nil(third:next_page())
    assert.equal(1, #third)
  end)

  it("page:items() stops fetching on break and releases its state", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 50))
    local page = client.admin.organization.projects:list { limit = 5 }
    local f, s, c, closing = page:items()
    assert.equal("function", type(f))
    assert.is_nil(c)
    assert.equal(s, closing)
    local n = 0
    for p in page:items() do
      n = n + 1
      if p.id == "obj_7" then break end
    end
    assert.equal(7, n)
    assert.equal(2, #mock.requests(client))
    -- the closing value drops the page it held
    local st
    do
      local it, state, ctl, cl = page:items()
      st = state
      for item in it, state, ctl, cl do
        if item then break end
      end
    end
    assert.is_nil(st.page)
    assert.is_nil(st.data)
  end)

  it("restarts from the first page each time the page is used as an iterator", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 3))
    local page = client.admin.organization.projects:list { limit = 2 }
    local a, b = 0, 0
    for _ in page do a = a + 1 end
    for _ in page do b = b + 1 end
    assert.equal(3, a)
    assert.equal(3, b)
  end)

  it("handles an empty list", function()
    local client = new_mock_client()
    mock.handler(client, list_server("cursor_last_id", 0))
    local page = client.admin.organization.projects:list()
    assert.equal(0, #page.data)
    for _ in page do error("no items expected") end
    assert.equal(1, #mock.requests(client))
  end)

  it("raises, naming the endpoint and the cursor, when the server hands back the cursor it was given", function()
    local client = new_mock_client()
    local body = json.encode { object = "list", data = { { id = "a" } }, has_more = true, last_id = "a" }
    mock.handler(client, function() return { status = 200, headers = {}, body = body, attempts = 1, waited = 0 } end)
    local n = 0
    local ok, err = pcall(function()
      for _ in client.admin.organization.projects:list() do
        n = n + 1
        assert(n < 10, "endless loop")
      end
    end)
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "pagination"), tostring(err))
    assert.equal(2, n) -- the items of both pages were delivered before the walk refused to repeat
    assert.is_truthy(tostring(err):find("admin.organization.projects.list", 1, true), tostring(err))
    assert.is_truthy(tostring(err):find("after=a", 1, true), tostring(err))
  end)

  it("keeps memory flat while walking many items", function()
    local client = new_mock_client()
    local items = {}
    for i = 1, 100 do items[i] = ('{"id":"obj_%d","object":"organization.audit_log","type":"x"}'):format(i) end
    local data = table.concat(items, ",")
    local page_no = 0
    mock.handler(client, function()
      page_no = page_no + 1
      local more = page_no < 2000
      return { status = 200, headers = {}, attempts = 1, waited = 0,
        body = ('{"object":"list","data":[%s],"has_more":%s,"last_id":"p%d"}'):format(data, more, page_no) }
    end)
    local n, base, peak = 0, nil, 0
    for _ in client.admin.organization.audit_logs:list { limit = 100 } do
      n = n + 1
      if n % 20000 == 0 then
        mock.core_of(client).log = {} -- the mock's own request log is not the client's memory
        collectgarbage()
        local kb = collectgarbage("count")
        if not base then base = kb end
        peak = math.max(peak, kb)
      end
    end
    assert.equal(200000, n)
    assert.is_true(peak - base < 512, ("memory grew by %.0f KB"):format(peak - base))
  end)
end)

-- Part 2: against the fake server -------------------------------------------------------------
local fake_ok, fake = pcall(require, "helpers.fake")
local real_oa
do
  package.loaded["openai_admin"] = nil
  real_oa = require "openai_admin"
end

-- requests of the log that hit `path_suffix` (the API path without /v1), in order
local function hits(f, path_suffix)
  local out = {}
  for _, r in ipairs(f:request_log()) do
    local p = r.path or ""
    if p:sub(-#path_suffix) == path_suffix and not p:find("/_fake", 1, true) then out[#out + 1] = r end
  end
  return out
end

local function query_of(r)
  local q = r.query
  if q == nil or q == json.null then
    q = (r.path or ""):match("%?(.*)$") or ""
  end
  return q
end

describe("pages (fake server)", function()
  local f, client
  setup(function()
    assert(fake_ok, "tests/helpers/fake.lua: " .. tostring(fake))
    f = fake.start { seed = 7, projects = 23, users = 5, audit_events = 57 }
    client = real_oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)
  before_each(function()
    f:clear_requests()
  end)

  it("walks every project with after=<last_id> cursors", function()
    local page = client.admin.organization.projects:list { limit = 5 }
    assert.equal(5, #page.data)
    assert.is_true(page.has_more)
    assert.is_string(page.request_id)
    local ids, seen = {}, {}
    for p in page do
      assert.is_nil(seen[p.id], "duplicate " .. tostring(p.id))
      seen[p.id] = true
      ids[#ids + 1] = p.id
    end
    assert.is_true(#ids >= 23, "got " .. #ids)
    local reqs = hits(f, "/organization/projects")
    assert.equal(math.ceil(#ids / 5), #reqs)
    assert.equal("limit=5", query_of(reqs[1]))
    for i = 2, #reqs do
      assert.equal("limit=5&after=" .. ids[(i - 1) * 5], query_of(reqs[i]))
    end
  end)

  it("walks the audit log page by page", function()
    local sizes, total = {}, 0
    for p in client.admin.organization.audit_logs:list { limit = 10 }:pages() do
      sizes[#sizes + 1] = #p.data
      total = total + #p.data
    end
    assert.is_true(total >= 57, "got " .. total)
    assert.equal(#sizes, #hits(f, "/organization/audit_logs"))
  end)

  it("stops fetching when the loop breaks", function()
    local n = 0
    for _ in client.admin.organization.projects:list { limit = 4 }:items() do
      n = n + 1
      if n == 6 then break end
    end
    assert.equal(2, #hits(f, "/organization/projects"))
  end)

  it("pages usage buckets with page=<next_page>", function()
    local page = client.admin.organization.usage:completions { start_time = 1730419200,
      end_time = 1730419200 + 10 * 86400, limit = 3, bucket_width = "1d" }
    local n = 0
    for b in page do
      n = n + 1
      assert.equal("bucket", b.object)
    end
    assert.equal(10, n)
    local reqs = hits(f, "/organization/usage/completions")
    assert.equal(4, #reqs)
    assert.is_truthy(query_of(reqs[2]):find("&page=", 1, true))
  end)

  it("raises errors from a page fetch like calls do", function()
    local page = client.admin.organization.projects:list { limit = 5 }
    f:fault { method = "GET", path = "/v1/organization/projects", count = 1, status = 500 }
    local ok, err = pcall(function() for _ in page do end end)
    assert.is_false(ok)
    assert.is_true(real_oa.errors.is(err, "internal_server"), tostring(err))
    assert.equal("GET", err.method)
    assert.is_truthy(err.path:find("after=", 1, true))
  end)
end)
