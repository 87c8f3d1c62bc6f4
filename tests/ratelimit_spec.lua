-- Riding out the Admin API's rate limits through the whole client (openai_admin.new{ rate_limit }),
-- against the fake: fixed windows as the server counts them, 429 replies without Retry-After held
-- until the window reopens, every wait capped by max_wait, and the final error says how many
-- attempts and how long was waited.
-- Small windows keep it quick; timing targets live in `make bench`, not here.
local fake = require "helpers.fake"
local oa = require "openai_admin"

local function statuses(f, prefix)
  local out = {}
  for _, r in ipairs(f:request_log()) do
    local p = r.path or ""
    if p:sub(1, #prefix) == prefix then out[#out + 1] = r.status end
  end
  return out
end

local function count(list, v)
  local n = 0
  for _, x in ipairs(list) do if x == v then n = n + 1 end end
  return n
end

describe("rate limits", function()
  local f, pid, pid2

  setup(function()
    f = fake.start { seed = 3, projects = 4, users = 2 }
    local c = oa.new { base_url = f.base_url, admin_key = f.admin_key }
    local list = c.admin.organization.projects:list { limit = 10 }:collect()
    pid, pid2 = list[1].id, list[2].id
    c:close()
  end)

  teardown(function()
    if f then f:stop() end
  end)

  before_each(function()
    f:control("DELETE", "/_fake/faults")
    f:control("DELETE", "/_fake/rate_limits")
    f:clear_requests()
  end)

  it("rides out 429s without Retry-After (no rate-limit headers either)", function()
    -- an injected 429 carries neither Retry-After nor x-ratelimit-* headers
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, status = 429, count = 3 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 5,
      rate_limit = { window = 0.4, max_wait = 5 } }
    local p = client.admin.organization.projects:retrieve(pid)
    assert.equal(pid, p.id)
    assert.same({ 429, 429, 429, 200 }, statuses(f, "/v1/organization/projects/"))
  end)

  it("gives up once max_wait is spent; the error reports attempts and waited", function()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, status = 429, count = 100 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 50,
      rate_limit = { window = 0.4, max_wait = 0.6 } }
    local ok, err = pcall(client.admin.organization.projects.retrieve, client.admin.organization.projects, pid)
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "rate_limit"), tostring(err))
    assert.equal(429, err.status)
    -- it stopped because the wait budget was spent, long before max_retries
    assert.is_true(err.attempts >= 2 and err.attempts < 51, "attempts " .. tostring(err.attempts))
    -- max_wait caps every wait of the call, the budget's holds before each attempt included
    assert.is_true(err.waited > 0 and err.waited <= 0.6 + 1e-9, "waited " .. tostring(err.waited))
    assert.equal(err.attempts, #statuses(f, "/v1/organization/projects/"))
    local line = tostring(err)
    assert.matches(err.attempts .. " attempts", line, 1, true)
    assert.matches("waited %d+%.%ds", line)
  end)

  it("with rate_limit = false, backs off like the SDKs and gives up after max_retries", function()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, status = 429, count = 100 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 1,
      rate_limit = false }
    local ok, err = pcall(client.admin.organization.projects.retrieve, client.admin.organization.projects, pid)
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "rate_limit"))
    assert.equal(2, err.attempts)
    assert.is_true(err.waited <= 0.5 + 1e-6, "waited " .. tostring(err.waited))
  end)

  it("a batch under the server's per-endpoint window finishes with zero failures", function()
    -- 3 requests per 1 s window per endpoint, 429 without Retry-After; 12 requests on 2 endpoints
    f:rate_limit { path = "/v1/organization/", requests = 3, window = 1 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 20,
      rate_limit = { window = 1, max_wait = 20 } }
    local org = client.admin.organization
    local fns = {}
    for i = 1, 12 do
      if i % 2 == 0 then
        fns[i] = function() return org.projects:retrieve(i % 4 == 0 and pid or pid2).id end
      else
        fns[i] = function() return #org.users:list { limit = 1 }.data end
      end
    end
    local results, errs, nfailed = client:parallel(fns, { concurrency = 6 })
    assert.equal(0, nfailed, tostring(errs[next(errs) or 1]))
    for i = 1, 12 do
      if i % 2 == 0 then assert.equal(i % 4 == 0 and pid or pid2, results[i]) else assert.equal(1, results[i]) end
    end
    local got = statuses(f, "/v1/organization/")
    assert.equal(12, count(got, 200))
    assert.equal(#got, 12 + count(got, 429)) -- nothing but successes and ridden-out 429s
  end)

  it("a fixed-window budget matching the server's limit fills each window and is never refused", function()
    f:rate_limit { path = "/v1/organization/projects/", requests = 3, window = 1 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 0,
      rate_limit = { requests = 3, window = 1 } }
    local projects = client.admin.organization.projects
    local ids = { pid, pid2, pid, pid2, pid, pid2, pid, pid2 }
    local results, errs, nfailed = client:map(ids, function(id) return projects:retrieve(id).id end,
      { concurrency = 8 })
    assert.equal(0, nfailed, tostring(errs[next(errs) or 1]))
    for i, id in ipairs(ids) do assert.equal(id, results[i]) end
    local got = statuses(f, "/v1/organization/projects/")
    assert.equal(8, #got)
    assert.equal(0, count(got, 429))
  end)

  it("a call the server's window would hold past max_wait fails at once, and the next is refused unsent", function()
    f:rate_limit { path = "/v1/organization/projects/", requests = 1, window = 30 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key,
      rate_limit = { window = 30, max_wait = 1 } }
    local projects = client.admin.organization.projects
    assert.equal(pid, projects:retrieve(pid).id)
    -- the 429 closes the window for about 30 s, past max_wait: that answer is the error
    local ok, err = pcall(projects.retrieve, projects, pid2)
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "rate_limit"), tostring(err))
    assert.equal(429, err.status)
    assert.equal(1, err.attempts)
    assert.is_true(err.retry_after > 25, tostring(err.retry_after))
    assert.matches("retry after", tostring(err), 1, true)
    -- the next call on that endpoint: refused by the budget, nothing sent, its own code
    ok, err = pcall(projects.retrieve, projects, pid)
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "rate_limit"), tostring(err))
    assert.equal("budget", err.code)
    assert.is_nil(err.status)
    assert.is_nil(err.request_id)
    assert.equal(0, err.attempts)
    assert.is_true(err.retry_after > 25)
    assert.equal(2, #statuses(f, "/v1/organization/projects/")) -- the third was never sent
  end)

  it("a batch queued behind its own budget never fails on max_wait: its wait is its place", function()
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key,
      rate_limit = { requests = 2, window = 0.5, max_wait = 0.2 } }
    local projects = client.admin.organization.projects
    local results = client:map({ pid, pid2, pid, pid2, pid, pid2 }, function(id) return projects:retrieve(id).id end,
      { concurrency = 6 })
    assert.equal(6, results.n)
    assert.equal(pid2, results[6])
  end)

  it("a client budget matching the server's limit sends no request that is refused", function()
    f:rate_limit { path = "/v1/organization/projects/", requests = 4, window = 1 }
    local client <close> = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 0,
      rate_limit = { requests = 3, window = 1, burst = 1 } }
    local projects = client.admin.organization.projects
    local _, errs, nfailed = client:map({ pid, pid2, pid, pid2, pid, pid2 }, function(id)
      return projects:retrieve(id).id
    end)
    assert.equal(0, nfailed, tostring(errs[next(errs) or 1]))
    local got = statuses(f, "/v1/organization/projects/")
    assert.equal(6, #got)
    assert.equal(0, count(got, 429))
  end)
end)
