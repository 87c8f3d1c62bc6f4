-- Every raise site of the Lua layer raises an error object (openai_admin.errors.is), never a
-- string: options (new, with_options, per request), params, stages, pages, batches, and what the
-- C core would refuse. Against the fake where a request is involved.
local fake = require "helpers.fake"
local oa = require "openai_admin"
local errors = oa.errors

-- pcall fn; the error must be an error object (of `kind` when given); returns it
local function raised(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  assert(errors.is(err), "not an error object: " .. tostring(err))
  if kind then assert(errors.is(err, kind), "kind " .. tostring(err.kind) .. ": " .. tostring(err)) end
  local s = tostring(err)
  assert(not s:find("openai_admin: openai_admin:", 1, true), s)
  assert(not s:find("%.lua:%d+:"), "position in message: " .. s)
  return err
end

local function has(err, ...)
  local s = tostring(err)
  for i = 1, select("#", ...) do
    local frag = select(i, ...)
    assert(s:find(frag, 1, true), "'" .. frag .. "' not in: " .. s)
  end
end

describe("every raise is an error object", function()
  local f, client, org
  setup(function()
    f = fake.start { seed = 3, projects = 4, users = 3, audit_events = 12 }
    client = oa.new { admin_key = f.admin_key, base_url = f.base_url, max_retries = 0 }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  it("per-request options, with the core's limits, outside and inside a batch", function()
    local err = raised("invalid_argument", function()
      return org.projects:list({ limit = 1 }, { max_retries = 1000 })
    end)
    has(err, "option max_retries", "from 0 to 100", "1000")
    local _, errs, nfailed = client:parallel({ function()
      return org.projects:list({ limit = 1 }, { max_retries = 1000 })
    end }, { errors = "collect" })
    assert.equal(1, nfailed)
    assert.is_true(errors.is(errs[1], "invalid_argument"), tostring(errs[1]))
    assert.is_nil(tostring(errs[1]):find("openai_admin: openai_admin:", 1, true))
    raised("invalid_argument", function() return org.projects:list({}, { timeout = 0 }) end)
    raised("invalid_argument", function() return org.projects:list({}, { connect_timeout = 1 / 0 }) end)
    has(raised("invalid_argument", function() return org.projects:list({}, { headers = { ["X(A"] = "v" } }) end),
      "bad header name")
    raised("invalid_argument", function() return org.projects:list({}, { headers = { ["X-A"] = "a\0b" } }) end)
    raised("invalid_argument", function() return org.projects:list({}, { headers = "X-A: b" }) end)
    raised("invalid_argument", function() return org.projects:list({}, { extra_query = { [1] = "x" } }) end)
    raised("invalid_argument", function() return org.projects:list({}, { extra_body = { a = 1 } }) end)
    raised("invalid_argument", function() return org.projects:list({}, { extra_query = { after = "x" } }) end)
    raised("invalid_argument", function() return org.projects:list({}, { extra_query = { bad = print } }) end)
    raised("invalid_argument", function() return org.projects:list({}, "fast") end)
    raised("invalid_argument", function() return org.projects:list({}, { nope = 1 }) end)
  end)

  it("with_options", function()
    has(raised("invalid_argument", function() return client:with_options { max_retries = 500 } end),
      "with_options: option max_retries")
    raised("invalid_argument", function() return client:with_options { headers = { ["X(A"] = "v" } } end)
    raised("invalid_argument", function() return client:with_options { organization = "a\nb" } end)
    raised("invalid_argument", function() return client:with_options { project = 5 } end)
    raised("invalid_argument", function() return client:with_options(5) end)
    raised("invalid_argument", function() return client:with_options { ca_file = "x" } end)
  end)

  it("new{}", function()
    local base = { admin_key = "sk-admin-x", base_url = f.base_url }
    local function new_with(k, v)
      local o = {}
      for a, b in pairs(base) do o[a] = b end
      o[k] = v
      return function() return oa.new(o) end
    end
    has(raised("invalid_argument", new_with("rate_limit", { requests = 0 })), "rate_limit.requests")
    raised("invalid_argument", new_with("rate_limit", { window = -1 }))
    raised("invalid_argument", new_with("rate_limit", { burst = 0.5 }))
    raised("invalid_argument", new_with("rate_limit", { per_endpoint = "yes" }))
    raised("invalid_argument", new_with("rate_limit", { max_wait = 0 }))
    has(raised("invalid_argument", new_with("rate_limit", { reqests = 5 })), "did you mean 'requests'")
    raised("invalid_argument", new_with("rate_limit", "fast"))
    raised("invalid_argument", new_with("max_retries", 101))
    raised("invalid_argument", new_with("max_retries", 1.5))
    raised("invalid_argument", new_with("timeout", "10"))
    raised("invalid_argument", new_with("headers", { ["X(A"] = "v" }))
    raised("invalid_argument", new_with("headers", { ["X-A"] = "a\r\nb" }))
    raised("invalid_argument", new_with("base_url", "ftp://x"))
    raised("invalid_argument", new_with("base_url", "http://a b/v1"))
    raised("invalid_argument", new_with("organization", ""))
    raised("invalid_argument", new_with("project", "p\n"))
    raised("invalid_argument", new_with("nope", 1))
    local e = raised("invalid_argument", new_with("admin_key", "sk-admin-secret value"))
    assert.is_nil(tostring(e):find("secret", 1, true), tostring(e))
    raised("invalid_argument", new_with("admin_key", ""))
    raised("invalid_argument", function() return oa.new(5) end)
    for k, bad in pairs {
      ca_file = 5, ca_path = "", insecure = "yes", proxy = false, no_proxy = {}, max_response_bytes = 0,
      max_request_bytes = -1, max_host_connections = 2.5, logger = "print", log_level = "verbose",
    } do
      has(raised("invalid_argument", new_with(k, bad)), "option " .. k)
    end
    has(raised("invalid_argument", new_with("log_level", "warning")), "did you mean 'warn'")
  end)

  it("arguments, params and the stages", function()
    raised("invalid_argument", function() return org.projects.list({}) end) -- dot call
    raised("invalid_argument", function() return org.projectz end)
    raised("invalid_argument", function() return client.nope end)
    raised("invalid_argument", function() org.new_thing = 1 end)
    raised("invalid_argument", function() org.projects = 1 end) -- a node already built: refused too
    assert.is_function(org.projects.list)
    raised("invalid_argument", function() return org.projects:retrieve() end)
    raised("invalid_argument", function() return org.projects:retrieve("p", {}, {}, {}) end)
    raised("invalid_argument", function() return org.projects:list { limit = "5" } end)
    raised("invalid_argument", function() return org.projects:list { limt = 5 } end)
    raised("invalid_argument", function() return org.projects:list { limit = 0 / 0 } end)
    raised("invalid_argument", function() return org.groups:create { name = { 1, nil, 3 } } end)
    raised("invalid_argument", function() return org.groups:create { name = print } end)
    raised("invalid_argument", function() return org.groups:create { name = coroutine.create(print) } end)
    local cyc = { name = "x" }
    cyc.self = cyc
    has(raised("invalid_argument", function() return org.groups:create(cyc) end), "cycle")
    raised("invalid_argument", function() return org.groups:create { [true] = 1 } end)
    raised("invalid_argument", function() return org.groups:create { name = "g", 5 } end)
    local page = org.projects:list { limit = 2 }
    raised("invalid_argument", function() return page:collect(-1) end)
    raised("invalid_argument", function() return oa.parallel(5) end)
    raised("invalid_argument", function() return oa.parallel({ 5 }) end)
    raised("invalid_argument", function() return oa.map({}, print, { concurrency = 0 }) end)
    raised("invalid_argument", function() return oa.each({ 5 }) end)
  end)

  it("replies and transport failures", function()
    raised("not_found", function() return org.projects:retrieve("proj_nope") end)
    local dead = oa.new { admin_key = "sk-admin-x", base_url = "http://127.0.0.1:1/v1", max_retries = 0 }
    raised("connection", function() return dead.admin.organization.projects:list() end)
    dead:close()
    raised("invalid_argument", function() return dead.admin.organization.projects:list() end)
    raised("invalid_argument", function() return dead:with_options {} end)
  end)

  it("module functions", function()
    raised("invalid_argument", function() return oa.endpoint(nil) end)
    raised("invalid_argument", function() return errors.new {} end)
    raised("invalid_argument", function() return errors.new "not_found" end)
  end)

  it("what the C core raises as a string comes out as an error object", function()
    local e = errors.from_core("/x/batch.lua:126: openai_admin: request.max_retries must be an integer")
    assert.is_true(errors.is(e, "invalid_argument"))
    assert.equal("openai_admin: request.max_retries must be an integer", tostring(e))
    local same = errors.new { kind = "timeout" }
    assert.equal(same, errors.from_core(same))
  end)
end)
