-- Spec of the engine (src/engine.c) through its Lua API: submit/poll/collect/result, cancel,
-- the host-loop hooks (sockets/timeout/ready/timer), the event queue, and the connection
-- settings plumbed for hardening (max_response_bytes, TLS failures, proxy). Against the fake.
local core = require "openai_admin.core"
local fake = require "helpers.fake"
local oa = require "openai_admin"

describe("engine", function()
  local f, url, pid
  setup(function()
    f = fake.start { projects = 3, users = 2 }
    url = f.base_url
    local c = oa.new { base_url = url, admin_key = f.admin_key }
    pid = c.admin.organization.projects:list { limit = 1 }.data[1].id
    c:close()
  end)
  teardown(function() if f then f:stop() end end)
  before_each(function()
    f:control("DELETE", "/_fake/faults")
    f:latency(0)
  end)

  local function client(extra)
    local cfg = { base_url = url, admin_key = f.admin_key }
    for k, v in pairs(extra or {}) do cfg[k] = v end
    return core.client(cfg)
  end
  local function get(path, more)
    local r = { method = "GET", path = path }
    for k, v in pairs(more or {}) do r[k] = v end
    return r
  end

  it("submit returns a handle at once; poll, collect and result give every outcome, in any order", function()
    local c = client()
    local eng = c:engine()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, count = 1, fault = "delay", delay = 0.4 }
    local t0 = core.monotonic()
    local slow = c:submit(get("/organization/projects/" .. pid))
    local quick = c:submit(get("/organization/users?limit=1"))
    assert.is_true(core.monotonic() - t0 < 0.1, "submit blocked")
    assert.equal(2, eng:pending())
    assert.is_false(eng:done(slow))
    local order = {}
    while #order < 2 do
      eng:poll(5)
      for _, h in ipairs(eng:collect()) do order[#order + 1] = h end
    end
    assert.same({ quick, slow }, order) -- the quick one completed first
    local res = eng:result(slow)
    assert.equal(200, res.status)
    assert.equal(200, eng:result(quick).status)
    assert.equal(0, eng:pending())
    assert.has_error(function() eng:result(slow) end) -- taken once
    assert.is_nil(eng:timeout()) -- nothing in the engine
    c:close()
  end)

  it("poll returns at its deadline when nothing completes, without losing the transfer", function()
    local c = client()
    local eng = c:engine()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, count = 1, fault = "delay", delay = 0.5 }
    local h = c:submit(get("/organization/projects/" .. pid))
    local t0 = core.monotonic()
    eng:poll(0.1)
    local dt = core.monotonic() - t0
    assert.is_true(dt >= 0.09 and dt < 0.4, "poll took " .. dt)
    assert.same({}, eng:collect())
    assert.is_true(eng:live(h))
    while not eng:done(h) do eng:poll(2) end
    assert.equal(h, eng:collect()[1])
    assert.equal(200, eng:result(h).status)
    c:close()
  end)

  it("cancel removes a transfer at once, queued or running; it is never reported", function()
    local c = client()
    local eng = c:engine()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, count = 1, fault = "delay", delay = 0.5 }
    local running = c:submit(get("/organization/projects/" .. pid))
    eng:poll(0.05) -- it is on the wire now
    local queued = c:submit(get("/organization/users?limit=1"))
    assert.is_true(eng:cancel(queued))
    assert.is_true(eng:cancel(running))
    assert.is_false(eng:cancel(running))
    assert.equal(0, eng:pending())
    eng:poll(0.3)
    assert.same({}, eng:collect())
    -- the engine keeps working
    assert.equal(200, c:request(get("/organization/users?limit=1")).status)
    c:close()
  end)

  it("can be driven by a host loop alone: sockets, timeout, ready and timer, never poll", function()
    local c = client()
    local eng = c:engine()
    local h = c:submit(get("/organization/projects/" .. pid))
    assert.equal(0, eng:timeout()) -- due now
    local saw_socket = false
    local deadline = core.monotonic() + 5
    while not eng:done(h) and core.monotonic() < deadline do
      local socks, serials = eng:sockets()
      for fd, ev in pairs(socks) do
        saw_socket = true
        assert.is_true(ev == "r" or ev == "w" or ev == "rw")
        assert.is_true(math.type(serials[fd]) == "integer")
        eng:ready(fd, ev)
      end
      eng:timer()
    end
    assert.is_true(saw_socket)
    assert.is_true(eng:done(h))
    assert.equal(h, eng:collect()[1])
    assert.equal(200, eng:result(h).status)
    c:close()
  end)

  it("records attempt and wait events for requests that ask, none for the others", function()
    local c = client()
    local eng = c:engine()
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, count = 1, status = 503, retry_after_ms = 50 }
    local res = c:request(get("/organization/projects/" .. pid, { log = true, endpoint = "spec.events" }))
    assert.equal(200, res.status)
    c:request(get("/organization/users?limit=1"))
    local evs = eng:events()
    assert.equal(3, #evs)
    local a1, w, a2 = evs[1], evs[2], evs[3]
    assert.equal("attempt", a1.type)
    assert.equal("GET", a1.method)
    assert.equal("/organization/projects/" .. pid, a1.path)
    assert.equal("spec.events", a1.endpoint)
    assert.equal(1, a1.attempt)
    assert.equal(503, a1.status)
    assert.equal("status 503", a1.retry)
    assert.is_true(a1.elapsed_ms >= 0)
    assert.equal("wait", w.type)
    assert.equal("retry_after", w.reason)
    assert.near(0.05, w.seconds, 1e-9)
    assert.equal(2, w.attempt)
    assert.equal("attempt", a2.type)
    assert.equal(2, a2.attempt)
    assert.equal(200, a2.status)
    assert.is_nil(a2.retry)
    assert.matches("^req_", a2.request_id)
    assert.same({}, eng:events()) -- drained
    c:close()
  end)

  it("hands each event to the Lua client's _log function, after the step that recorded it", function()
    local c = oa.new { base_url = url, admin_key = f.admin_key }
    local seen = {}
    rawset(c, "_log", function(ev) seen[#seen + 1] = ev end)
    rawset(c, "_log_events", true) -- every attempt, as at log_level = "debug"
    c.admin.organization.projects:retrieve(pid)
    local results = c:map({ 1, 2, 3 }, function() return c.admin.organization.users:list { limit = 1 } end)
    assert.equal(3, results.n)
    assert.equal(4, #seen)
    for _, ev in ipairs(seen) do
      assert.equal("attempt", ev.type)
      assert.equal(200, ev.status)
    end
    assert.equal("admin.organization.projects.retrieve", seen[1].endpoint)
    c:close()
  end)

  it("above debug, records only the notable events: a plain attempt costs none, a retried call all", function()
    local c = oa.new { base_url = url, admin_key = f.admin_key, max_retries = 2, log_level = "warn" }
    assert.equal("notable", rawget(c, "_log_events"))
    local seen = {}
    rawset(c, "_log", function(ev) seen[#seen + 1] = ev end)
    c.admin.organization.projects:retrieve(pid)
    c:map({ 1, 2 }, function() return c.admin.organization.users:list { limit = 1 } end)
    assert.equal(0, #seen)
    -- one 500 then the answer: the retried attempt, its backoff and the final attempt
    f:fault { method = "GET", path = "/v1/organization/projects/" .. pid, count = 1, status = 500 }
    c.admin.organization.projects:retrieve(pid)
    local kinds = {}
    for i, ev in ipairs(seen) do kinds[i] = ev.type .. ":" .. tostring(ev.status or ev.reason) end
    assert.same({ "attempt:500", "wait:backoff", "attempt:200" }, kinds)
    local dbg = oa.new { base_url = url, admin_key = f.admin_key, log_level = "debug", logger = function() end }
    assert.is_true(rawget(dbg, "_log_events"))
    dbg:close()
    c:close()
  end)

  it("max_response_bytes ends an attempt with its own error, not retried", function()
    local c = client { max_response_bytes = 64 }
    local res, err = c:request(get("/organization/projects?limit=3"))
    assert.is_nil(res)
    assert.equal("connection", err.kind)
    assert.equal("response_too_large", err.code)
    assert.equal(1, err.attempts)
    assert.matches("max_response_bytes", err.message, 1, true)
    c:close()
    local big = client()
    assert.equal(200, big:request(get("/organization/projects?limit=3")).status)
    big:close()
  end)

  it("a TLS failure is kind connection, code tls", function()
    -- https to a plain-HTTP server: the handshake fails
    local c = core.client { base_url = url:gsub("^http:", "https:"), admin_key = f.admin_key, max_retries = 0 }
    local res, err = c:request(get("/organization/projects?limit=1"))
    assert.is_nil(res)
    assert.equal("connection", err.kind)
    assert.equal("tls", err.code)
    assert.equal(35, err.curl_code)
    c:close()
  end)

  it("passes proxy and no_proxy to libcurl", function()
    local c = client { proxy = "http://127.0.0.1:1", max_retries = 0 }
    local res, err = c:request(get("/organization/users?limit=1"))
    assert.is_nil(res)
    assert.equal("connection", err.kind)
    c:close()
    c = client { proxy = "http://127.0.0.1:1", no_proxy = "127.0.0.1", max_retries = 0 }
    assert.equal(200, c:request(get("/organization/users?limit=1")).status)
    c:close()
  end)

  it("bounds connections per host (max_host_connections)", function()
    local c = client { max_host_connections = 2 }
    f:latency(0.05)
    f:clear_requests()
    local reqs = {}
    for i = 1, 8 do reqs[i] = get("/organization/users?limit=1") end
    for _, r in ipairs(c:request_many(reqs, { concurrency = 8 })) do assert.equal(200, r.status) end
    local conns = {}
    for _, r in ipairs(f:requests().data) do conns[r.conn_id] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.is_true(n <= 2, "connections: " .. n)
    f:latency(0)
    c:close()
  end)
end)
