-- The client end to end: openai_admin.new, calls, options and errors against the fake server
-- (tests/helpers/fake.lua). Assertions are on what the server received (its request log).
local fake = require "helpers.fake"
local oa = require "openai_admin"
local json = oa.json

-- the API requests the fake logged (control requests left out)
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

local function header(r, name)
  local h = r.headers or {}
  return h[name:lower()] or h[name]
end

local function query_of(r)
  local q = r.query
  if q == nil or q == json.null then q = (r.path or ""):match("%?(.*)$") or "" end
  return q
end

local function body_of(r)
  local b = r.body
  if b == nil or b == json.null or b == "" then return nil end
  return b
end

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.is_true(oa.is_error(err), "not an error object: " .. tostring(err))
  return err
end

describe("openai_admin.new", function()
  -- runs `code` in a child lua5.4 with the given environment (only these OPENAI_* variables set)
  local function child(env, code)
    local parts = { "env" }
    for _, n in ipairs { "OPENAI_ADMIN_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID" } do
      parts[#parts + 1] = "-u " .. n
    end
    for k, v in pairs(env) do parts[#parts + 1] = fake.shquote(k .. "=" .. v) end
    parts[#parts + 1] = "LUA_PATH=" .. fake.shquote(package.path)
    parts[#parts + 1] = "LUA_CPATH=" .. fake.shquote(package.cpath)
    parts[#parts + 1] = "lua5.4 -e " .. fake.shquote(code) .. " 2>&1"
    local h = io.popen(table.concat(parts, " "))
    local out = h:read("a")
    h:close()
    return out
  end

  it("needs an admin key and names OPENAI_ADMIN_KEY", function()
    local out = child({}, [[
      local oa = require "openai_admin"
      local ok, err = pcall(oa.new, { base_url = "http://127.0.0.1:9/v1" })
      print(ok, oa.is_error(err), err.kind, tostring(err))]])
    assert.is_truthy(out:find("^false\ttrue\tinvalid_argument\t"), out)
    assert.is_truthy(out:find("OPENAI_ADMIN_KEY", 1, true), out)
  end)

  it("takes the key, base URL, organization and project from the environment", function()
    local f = fake.start { seed = 2, projects = 1 }
    local out = child({ OPENAI_ADMIN_KEY = f.admin_key, OPENAI_BASE_URL = f.base_url, OPENAI_ORG_ID = "org-env",
      OPENAI_PROJECT_ID = "proj-env" }, [[
      local oa = require "openai_admin"
      local c = oa.new()
      c.admin.organization.projects:list()
      local c2 = oa.new { organization = false, project = "proj-opt" }
      c2.admin.organization.projects:list()
      print("done")]])
    local reqs = api_requests(f)
    f:stop()
    assert.is_truthy(out:find("done", 1, true), out)
    assert.equal(2, #reqs)
    assert.is_truthy((header(reqs[1], "authorization") or ""):find("^Bearer "))
    assert.equal("org-env", header(reqs[1], "openai-organization"))
    assert.equal("proj-env", header(reqs[1], "openai-project"))
    assert.is_nil(header(reqs[2], "openai-organization"))
    assert.equal("proj-opt", header(reqs[2], "openai-project"))
  end)

  it("rejects unknown options with a suggestion", function()
    local err = raised(function() return oa.new { admin_key = "sk-admin-x", timout = 5 } end)
    assert.is_truthy(tostring(err):find("unknown option 'timout'; did you mean 'timeout'?", 1, true), tostring(err))
    err = raised(function() return oa.new { admin_key = "sk-admin-x", max_retries = -1 } end)
    assert.is_truthy(tostring(err):find("max_retries", 1, true))
    err = raised(function() return oa.new { admin_key = "sk-admin-x", base_url = "ftp://x" } end)
    assert.is_truthy(tostring(err):find("base_url", 1, true))
  end)

  it("never shows the key", function()
    local key = "sk-admin-VERYSECRET-1234567890abcdef"
    local client = oa.new { admin_key = key, base_url = "http://127.0.0.1:9/v1" }
    local s = tostring(client)
    assert.is_nil(s:find("VERYSECRET", 1, true), s)
    assert.is_nil(s:find("cdef", 1, true), s)
    for k, v in pairs(client) do
      assert.is_nil(tostring(k):find("VERYSECRET", 1, true))
      if type(v) == "string" then assert.is_nil(v:find("VERYSECRET", 1, true)) end
    end
    local err = raised(function() return client.admin.organization.projects:list({}, { max_retries = 0 }) end)
    assert.equal("connection", err.kind)
    assert.is_nil(tostring(err):find("VERYSECRET", 1, true))
    client:close()
  end)
end)

describe("the client against the fake", function()
  local f, client
  setup(function()
    f = fake.start { seed = 3, projects = 4, users = 3 }
    client = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 2 }
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)
  before_each(function()
    f:clear_requests()
  end)

  it("creates, retrieves and updates with the right requests on the wire", function()
    local p = client.admin.organization.projects:create { name = "Team A/B & co" }
    assert.equal("Team A/B & co", p.name)
    assert.is_string(p.id)
    assert.is_string(p._request_id)
    assert.equal(p._request_id, oa.request_id(p))
    local r = last_request(f)
    assert.equal("POST", r.method)
    assert.is_truthy(r.path:find("/v1/organization/projects$"))
    assert.same({ name = "Team A/B & co" }, json.decode(body_of(r)))
    assert.is_truthy((header(r, "content-type") or ""):find("application/json", 1, true))
    assert.is_truthy((header(r, "authorization") or ""):find("^Bearer "))

    local got = client.admin.organization.projects:retrieve(p.id)
    assert.equal(p.id, got.id)
    r = last_request(f)
    assert.equal("GET", r.method)
    assert.is_truthy(r.path:find("/v1/organization/projects/" .. p.id, 1, true))
    assert.is_nil(body_of(r))

    local up = client.admin.organization.projects:update(p.id, { name = "renamed" })
    assert.equal("renamed", up.name)
    assert.same({ name = "renamed" }, json.decode(body_of(last_request(f))))
  end)

  it("sends {} when no body field is given, and [] for an empty array", function()
    local p = client.admin.organization.projects:create { name = "empty update" }
    client.admin.organization.projects:update(p.id)
    local r = last_request(f)
    assert.equal("POST", r.method)
    assert.equal("{}", body_of(r))
    client.admin.organization.roles:create { role_name = "viewer-" .. p.id, permissions = {} }
    r = last_request(f)
    assert.is_truthy(body_of(r):find('"permissions":[]', 1, true), body_of(r))
    assert.is_true(json.is_array(json.decode(body_of(r)).permissions))
  end)

  it("sends no body for archive", function()
    local p = client.admin.organization.projects:create { name = "to archive" }
    local a = client.admin.organization.projects:archive(p.id)
    assert.equal(p.id, a.id)
    local r = last_request(f)
    assert.equal("POST", r.method)
    assert.is_truthy(r.path:find("/archive$"))
    assert.is_nil(body_of(r))
  end)

  it("encodes query arrays and booleans like the SDK", function()
    client.admin.organization.usage:costs { start_time = 1730419200, group_by = { "project_id", "line_item" },
      project_ids = { "proj a", "proj_b" } }
    assert.equal("start_time=1730419200&group_by%5B%5D=project_id&group_by%5B%5D=line_item"
      .. "&project_ids%5B%5D=proj%20a&project_ids%5B%5D=proj_b", query_of(last_request(f)))
    client.admin.organization.projects:list { include_archived = true, limit = 2 }
    assert.equal("include_archived=true&limit=2", query_of(last_request(f)))
  end)

  it("keeps an id with / or ? inside its path segment", function()
    local err = raised(function() return client.admin.organization.projects:retrieve("a/b?c=d") end)
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
    assert.equal("/organization/projects/a%2Fb%3Fc%3Dd", err.path)
    assert.equal("admin.organization.projects.retrieve", err.sdk_path)
    local r = last_request(f)
    -- the fake logs the path after libmicrohttpd decoded it; the "?" must not have started a query
    local raw = r.raw_path or r.path
    assert.is_truthy(raw:find("a%2Fb%3Fc%3Dd", 1, true) or raw:find("/projects/a/b?c=d", 1, true), raw)
    assert.equal("", r.query == nil and "" or r.query)
  end)

  it("raises API errors with the body's fields", function()
    local err = raised(function() return client.admin.organization.projects:retrieve("proj_missing") end)
    assert.equal("not_found", err.kind)
    assert.is_string(err.message)
    assert.is_string(err.request_id)
    assert.equal("GET", err.method)
    assert.equal(1, err.attempts)
    assert.is_truthy(tostring(err):find("openai_admin: not_found (404) GET /organization/projects/proj_missing", 1,
      true), tostring(err))

    local bad = oa.new { admin_key = "sk-admin-wrong-key-000000000000", base_url = f.base_url }
    local e2 = raised(function() return bad.admin.organization.projects:list() end)
    assert.equal("authentication", e2.kind)
    assert.equal(401, e2.status)
    bad:close()
  end)

  it("checks arguments before sending anything", function()
    local err = raised(function() return client.admin.organization.usage:costs { group_by = { "project_id" } } end)
    assert.equal("invalid_argument", err.kind)
    err = raised(function() return client.admin.organization.projects:lst() end)
    assert.equal("invalid_argument", err.kind)
    assert.equal(0, #api_requests(f))
  end)

  it("passes per-request options: headers, retries", function()
    client.admin.organization.projects:list({ limit = 1 }, { headers = { ["X-Trace-Id"] = "trace-1" }, timeout = 30 })
    assert.equal("trace-1", header(last_request(f), "x-trace-id"))

    f:fault { method = "GET", path = "/v1/organization/projects", count = 1, status = 500 }
    local page = client.admin.organization.projects:list { limit = 1 }
    assert.equal(1, #page.data)
    f:fault { method = "GET", path = "/v1/organization/projects", count = 1, status = 500 }
    local err = raised(function()
      return client.admin.organization.projects:list({ limit = 1 }, { max_retries = 0 })
    end)
    assert.equal("internal_server", err.kind)
    assert.equal(1, err.attempts)
  end)

  it("with_options changes headers and organization and shares connections", function()
    client.admin.organization.projects:list()
    local derived = client:with_options { organization = "org-derived", headers = { ["X-Team"] = "blue" },
      timeout = 20 }
    derived.admin.organization.projects:list()
    local reqs = api_requests(f)
    local a, b = reqs[#reqs - 1], reqs[#reqs]
    assert.is_nil(header(a, "x-team"))
    assert.equal("blue", header(b, "x-team"))
    assert.equal("org-derived", header(b, "openai-organization"))
    if a.conn_id ~= nil then assert.equal(a.conn_id, b.conn_id) end
    derived:close()
    assert.equal(1, #client.admin.organization.projects:list { limit = 1 }.data, "the parent still works")
    local err = raised(function() return client:with_options { timeot = 1 } end)
    assert.is_truthy(tostring(err):find("did you mean 'timeout'?", 1, true))
  end)

  it("closes idempotently, also through <close>", function()
    local c = oa.new { admin_key = f.admin_key, base_url = f.base_url }
    c.admin.organization.projects:list()
    c:close()
    c:close()
    assert.is_truthy(tostring(c):find("closed", 1, true))
    local err = raised(function() return c.admin.organization.projects:list() end)
    assert.is_truthy(tostring(err):find("closed", 1, true))
    do
      local scoped <close> = oa.new { admin_key = f.admin_key, base_url = f.base_url }
      scoped.admin.organization.users:list()
    end
  end)
end)

describe("wire compatibility with the official Node SDK", function()
  local node_dir = fake.root .. "/tests/node"
  local function have(path)
    local fh = io.open(path, "r")
    if fh then fh:close() return true end
    return false
  end
  local node_ok = os.execute("command -v node >/dev/null 2>&1")
  local missing
  if not (node_ok == true or node_ok == 0) then
    missing = "node is not installed"
  elseif not have(node_dir .. "/node_modules/openai/package.json") then
    missing = "tests/node/node_modules is missing (cd tests/node && npm ci)"
  end

  -- the same calls from both clients; the fake's log must show the same query pairs and bodies
  local NODE = [[
import OpenAI from 'openai';
const c = new OpenAI({ adminAPIKey: process.env.OPENAI_ADMIN_KEY, apiKey: 'unused',
  baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 });
const o = c.admin.organization;
await o.usage.costs({ start_time: 1730419200, group_by: ['project_id', 'line_item'],
  project_ids: ['proj a', 'proj/b&c'], limit: 3 });
await o.auditLogs.list({ effective_at: { gte: 1730419200, lt: 1730505600.5 }, event_types: ['project.created'],
  limit: 5 });
await o.users.list({ emails: ['a b+c@x.io'], limit: 2 });
await o.projects.list({ include_archived: true, limit: 2 });
await o.usage.completions({ start_time: 1730419200, batch: false, models: ['gpt-4o~mini'] });
await o.roles.create({ role_name: 'r1', permissions: [], description: 'd' });
console.log('node done');
]]

  it("sends the same queries and bodies", function()
    if missing then pending(missing) return end
    local f = fake.start { seed = 4, projects = 2, users = 2 }
    local cmd = ("cd %s && OPENAI_BASE_URL=%s OPENAI_ADMIN_KEY=%s node --input-type=module -e %s 2>&1"):format(
      fake.shquote(node_dir), fake.shquote(f.base_url), fake.shquote(f.admin_key), fake.shquote(NODE))
    local h = io.popen(cmd)
    local out = h:read("a")
    h:close()
    assert.is_truthy(out:find("node done", 1, true), out)
    local node_reqs = api_requests(f)
    f:reset()
    f:clear_requests()

    local client = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
    local o = client.admin.organization
    o.usage:costs { start_time = 1730419200, group_by = { "project_id", "line_item" },
      project_ids = { "proj a", "proj/b&c" }, limit = 3 }
    o.audit_logs:list { effective_at = { gte = 1730419200, lt = 1730505600.5 }, event_types = { "project.created" },
      limit = 5 }
    o.users:list { emails = { "a b+c@x.io" }, limit = 2 }
    o.projects:list { include_archived = true, limit = 2 }
    o.usage:completions { start_time = 1730419200, batch = false, models = { "gpt-4o~mini" } }
    o.roles:create { role_name = "r1", permissions = {}, description = "d" }
    client:close()
    local lua_reqs = api_requests(f)
    f:stop()

    assert.equal(#node_reqs, #lua_reqs)
    local function pairs_of(q)
      local t = {}
      for pair in q:gmatch("[^&]+") do t[#t + 1] = pair end
      table.sort(t)
      return t
    end
    for i = 1, #node_reqs do
      local a, b = node_reqs[i], lua_reqs[i]
      assert.equal(a.method, b.method)
      assert.equal(a.path, b.path)
      assert.same(pairs_of(query_of(a)), pairs_of(query_of(b)))
      if body_of(a) then
        assert.same(json.decode(body_of(a)), json.decode(body_of(b)))
        assert.equal(json.encode(json.decode(body_of(a)).permissions),
          json.encode(json.decode(body_of(b)).permissions))
      else
        assert.is_nil(body_of(b))
      end
    end
  end)
end)
