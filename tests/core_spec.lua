-- Spec of the C core (openai_admin.core): client, request, retries, request_many, rate budget
-- (cursors are read in Lua: pages.lua). It runs the project's fake HTTP host
-- (bin/openai-admin-fake via tests/helpers/fake.lua)
-- with a small stub app written to a temp dir, so each transport behaviour (status sequences,
-- Retry-After, dropped and truncated replies, delays) is exact and independent of the fake's
-- Admin API state logic. Stub routes (below /v1):
--   /echo                         200 with what arrived: method, path, query, headers, body, conn_id
--   /status/<code>?key&count&retry_after&retry_after_ms&should_retry&rl_limit&rl_reset
--                                 <code> for the first `count` hits of `key`, then 200; each body
--                                 tells the hit number and the X-Stainless-Retry-Count seen
--   /fault/<drop|truncate>?key&count   the fault for the first `count` hits, then 200
--   /slow?s=SECONDS               200 after a delay
local core = require "openai_admin.core"
local fake = require "helpers.fake"

local KEY = "sk-admin-core-spec-0123456789abcdef"

local STUB_APP = [==[
local M = {}
M.__index = M
function M.new(o) return setmetatable({ hits = {} }, M) end

local function enc(v)
  local t = type(v)
  if t == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = enc(tostring(k)) .. ":" .. enc(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t == "number" then
    return string.format(math.type(v) == "integer" and "%d" or "%.17g", v)
  elseif t == "boolean" then
    return tostring(v)
  end
  return "null"
end

local function query(q)
  local t = {}
  for k, v in (q or ""):gmatch("([^&=]+)=?([^&]*)") do
    t[k] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return t
end

function M:handle(req)
  local q = query(req.query)
  local path = req.path
  local key = q.key or path
  self.hits[key] = (self.hits[key] or 0) + 1
  local hit = self.hits[key]
  local headers = { ["content-type"] = "application/json", ["x-request-id"] = "req_stub_" .. hit,
                    ["X-Mixed-Case"] = "yes" }
  local h = req.headers or {}
  if path == "/v1/echo" then
    return { status = 200, headers = headers, body = enc{ method = req.method, path = path,
      query = req.query or "", headers = h, body = req.body or "", conn_id = req.conn_id, hit = hit } }
  end
  local code = path:match("^/v1/status/(%d+)$")
  if code then
    if hit <= tonumber(q.count or "1000000") then
      if q.retry_after then headers["retry-after"] = q.retry_after end
      if q.retry_after_ms then headers["retry-after-ms"] = q.retry_after_ms end
      if q.should_retry then headers["x-should-retry"] = q.should_retry end
      if q.rl_limit then headers["x-ratelimit-limit-requests"] = q.rl_limit end
      if q.rl_reset then headers["x-ratelimit-reset-requests"] = q.rl_reset end
      return { status = tonumber(code), headers = headers, body = enc{ error = { message = "stub " .. code },
        hit = hit, retry_count = h["x-stainless-retry-count"], conn_id = req.conn_id } }
    end
    return { status = 200, headers = headers, body = enc{ ok = true, hit = hit,
      retry_count = h["x-stainless-retry-count"], conn_id = req.conn_id } }
  end
  local fault = path:match("^/v1/fault/(%a+)$")
  if fault then
    if hit <= tonumber(q.count or "1000000") then
      return { status = 200, headers = headers, body = string.rep("x", 4000), fault = fault }
    end
    return { status = 200, headers = headers, body = enc{ ok = true, hit = hit } }
  end
  if path == "/v1/raw" then return { status = 200, headers = headers, body = q.text or "" } end
  if path == "/v1/slow" then
    return { status = 200, headers = headers, body = enc{ slept = true, conn_id = req.conn_id },
      delay = tonumber(q.s or "1") }
  end
  return { status = 404, headers = headers, body = enc{ error = { message = "no route " .. path } } }
end
return M
]==]

local function write_stub()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. fake.shquote(dir)))
  local f = assert(io.open(dir .. "/core_spec_stub_app.lua", "w"))
  f:write(STUB_APP)
  f:close()
  return dir
end

local function dead_port()
  -- a port nobody listens on: bind, read the port, close
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

local function now()
  local socket = require "socket"
  return socket.gettime()
end

describe("openai_admin.core", function()
  local srv, stub_dir, base
  local clients = {}

  local function client(cfg)
    cfg = cfg or {}
    cfg.base_url = cfg.base_url or base
    cfg.admin_key = cfg.admin_key or KEY
    if cfg.rate_limit == nil then cfg.rate_limit = false end
    local c = core.client(cfg)
    clients[#clients + 1] = c
    return c
  end

  local function body(res)
    return assert(core.json_decode(res.body))
  end

  setup(function()
    stub_dir = write_stub()
    srv = fake.start{ app = "core_spec_stub_app", lua_path = stub_dir .. "/?.lua" }
    base = srv.base_url
  end)

  teardown(function()
    for _, c in ipairs(clients) do c:close() end
    if srv then srv:stop() end
    if stub_dir then os.execute("rm -rf " .. fake.shquote(stub_dir)) end
  end)

  describe("module", function()
    it("has the client and JSON functions (cursors are read in Lua: pages.lua)", function()
      assert.is_function(core.client)
      assert.is_nil(core.pager)
      assert.is_function(core.json_decode)
      assert.is_function(core.json_encode)
      assert.equal("userdata", type(core.null))
      assert.is_string(core.version)
    end)
  end)

  describe("core.client config", function()
    local function err_of(cfg)
      local ok, e = pcall(core.client, cfg)
      assert.is_false(ok)
      return e
    end

    it("names the key and the type of a bad value", function()
      assert.matches("config.timeout must be a positive number, got string",
        err_of{ base_url = "http://x/v1", admin_key = "k", timeout = "10" }, 1, true)
      assert.matches("config.timeout must be a positive number",
        err_of{ base_url = "http://x/v1", admin_key = "k", timeout = -1 }, 1, true)
      assert.matches("config.connect_timeout must be a positive number",
        err_of{ base_url = "http://x/v1", admin_key = "k", connect_timeout = 1 / 0 }, 1, true)
      assert.matches("config.timeout must be a positive number",
        err_of{ base_url = "http://x/v1", admin_key = "k", timeout = 0 / 0 }, 1, true)
      assert.matches("config.max_retries must be an integer",
        err_of{ base_url = "http://x/v1", admin_key = "k", max_retries = 1.5 }, 1, true)
      assert.matches("unknown config key 'tiemout'",
        err_of{ base_url = "http://x/v1", admin_key = "k", tiemout = 1 }, 1, true)
      assert.matches("config.admin_key must be a string",
        err_of{ base_url = "http://x/v1" }, 1, true)
      assert.matches("config.headers must be a table",
        err_of{ base_url = "http://x/v1", admin_key = "k", headers = "x" }, 1, true)
      assert.matches("config.rate_limit.requests must be a positive number",
        err_of{ base_url = "http://x/v1", admin_key = "k", rate_limit = { requests = "x" } }, 1, true)
      assert.matches("unknown config.rate_limit key 'rps'",
        err_of{ base_url = "http://x/v1", admin_key = "k", rate_limit = { rps = 1 } }, 1, true)
      assert.matches("must not contain line breaks",
        err_of{ base_url = "http://x/v1", admin_key = "k", headers = { X = "a\r\nB: c" } }, 1, true)
    end)

    it("has finite defaults", function()
      local c = client{ rate_limit = nil }
      local info = c:info()
      assert.equal(600, info.timeout)
      assert.equal(10, info.connect_timeout)
      assert.equal(2, info.max_retries)
      assert.equal("openai-admin-lua/" .. require("openai_admin.version"), info.user_agent)
      assert.equal("adaptive", core.client{ base_url = base, admin_key = "k" }:info().rate_limit)
      assert.is_nil(info.admin_key)
    end)

    it("never shows the key", function()
      local c = client()
      local s = tostring(c)
      assert.matches(base, s, 1, true)
      assert.not_matches(KEY:sub(6), s, 1, true)
      assert.matches("redacted", s, 1, true)
      for _, v in pairs(c:info()) do assert.not_matches("0123456789abcdef", tostring(v), 1, true) end
    end)

    it("closes idempotently, by close, __close and __gc", function()
      local c = core.client{ base_url = base, admin_key = KEY }
      assert.is_true(c:is_open())
      c:close()
      c:close()
      assert.is_false(c:is_open())
      assert.equal("openai_admin.core.client (closed)", tostring(c))
      local ok, e = pcall(c.request, c, { method = "GET", path = "/echo" })
      assert.is_false(ok)
      assert.matches("client is closed", e, 1, true)
      do
        local d <close> = core.client{ base_url = base, admin_key = KEY }
        assert.equal(200, d:request{ method = "GET", path = "/echo" }.status)
      end
      for _ = 1, 20 do core.client{ base_url = base, admin_key = KEY } end
      collectgarbage()
      collectgarbage()
    end)
  end)

  describe("client:request", function()
    it("sends the default headers and collects the response", function()
      local c = client{ organization = "org_1", project = "proj_1", headers = { ["X-Extra"] = "v" } }
      local res, err = c:request{ method = "GET", path = "/echo?a=1" }
      assert.is_nil(err)
      assert.equal(200, res.status)
      assert.equal(1, res.attempts)
      assert.equal(0, res.waited)
      assert.matches("^req_stub_%d+$", res.request_id)
      assert.equal("yes", res.headers["x-mixed-case"])
      assert.equal("application/json", res.headers["content-type"])
      local b = body(res)
      local h = b.headers
      assert.equal("GET", b.method)
      assert.equal("a=1", b.query)
      assert.equal("Bearer " .. KEY, h.authorization)
      assert.equal("org_1", h["openai-organization"])
      assert.equal("proj_1", h["openai-project"])
      assert.equal("openai-admin-lua/" .. require("openai_admin.version"), h["user-agent"])
      assert.equal("application/json", h.accept)
      assert.equal("0", h["x-stainless-retry-count"])
      assert.equal("gzip", h["accept-encoding"]) -- libcurl inflates what comes back
      assert.equal("v", h["x-extra"])
      assert.is_nil(h["content-type"])
      assert.is_nil(h["x-stainless-timeout"])
      assert.is_nil(h.expect)
    end)

    it("sends bodies with Content-Type, and POST without a body as an empty one", function()
      local c = client()
      local b = body(c:request{ method = "POST", path = "/echo", body = '{"name":"x"}' })
      assert.equal("POST", b.method)
      assert.equal('{"name":"x"}', b.body)
      assert.equal("application/json", b.headers["content-type"])
      local t0 = now()
      b = body(c:request{ method = "POST", path = "/echo", timeout = 5 })
      assert.is_true(now() - t0 < 2)
      assert.equal("", b.body)
      assert.equal("0", b.headers["content-length"])
      assert.is_nil(b.headers["content-type"])
      b = body(c:request{ method = "DELETE", path = "/echo" })
      assert.equal("DELETE", b.method)
      -- a large body goes out without an Expect: 100-continue round trip
      local big = '"' .. string.rep("y", 200000) .. '"'
      b = body(c:request{ method = "POST", path = "/echo", body = big })
      assert.equal(#big, #b.body)
      assert.is_nil(b.headers.expect)
    end)

    it("lets per-request headers override and remove defaults", function()
      local c = client{ organization = "org_1", headers = { ["X-A"] = "a", ["X-B"] = "b" } }
      local b = body(c:request{ method = "GET", path = "/echo", timeout = 30,
        headers = { ["x-a"] = "override", ["X-B"] = false, ["OpenAI-Organization"] = false, ["X-New"] = "n" } })
      local h = b.headers
      assert.equal("override", h["x-a"])
      assert.is_nil(h["x-b"])
      assert.is_nil(h["openai-organization"])
      assert.equal("n", h["x-new"])
      assert.equal("30", h["x-stainless-timeout"])
      assert.equal("Bearer " .. KEY, h.authorization)
    end)

    it("sends header lines longer than its stack buffer whole, and many of them", function()
      local c = client()
      local long = string.rep("v", 3000)
      local headers = { ["X-Long"] = long }
      for i = 1, 20 do headers["X-N" .. i] = tostring(i) end
      local h = body(c:request{ method = "GET", path = "/echo", headers = headers }).headers
      assert.equal(long, h["x-long"])
      for i = 1, 20 do assert.equal(tostring(i), h["x-n" .. i]) end
      assert.equal("Bearer " .. KEY, h.authorization)
    end)

    it("validates the request table", function()
      local c = client()
      local function err_of(req)
        local ok, e = pcall(c.request, c, req)
        assert.is_false(ok)
        return e
      end
      assert.matches("request.method must be GET, POST or DELETE", err_of{ method = "PUT", path = "/x" }, 1, true)
      assert.matches("request.path must start with '/'", err_of{ method = "GET", path = "x" }, 1, true)
      assert.matches("unknown request key 'query'", err_of{ method = "GET", path = "/x", query = "a" }, 1, true)
      assert.matches("request.timeout must be a positive number",
        err_of{ method = "GET", path = "/x", timeout = 0 }, 1, true)
      assert.matches("request.body must be a string", err_of{ method = "POST", path = "/x", body = {} }, 1, true)
      assert.matches("invalid header name", err_of{ method = "GET", path = "/x", headers = { ["a b"] = "1" } }, 1, true)
      assert.matches('request.log must be a boolean or "notable"',
        err_of{ method = "GET", path = "/x", log = 1 }, 1, true)
      -- a refused request leaves nothing in flight: the client goes on, and the engine is empty
      local res = c:request{ method = "GET", path = "/echo" }
      assert.equal(200, res.status)
      assert.equal(0, c:engine():pending())
    end)

    it("decode = true hands a 2xx body over decoded, and keeps the body of anything else", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/echo?a=1", decode = true }
      assert.is_nil(res.body)
      assert.equal("a=1", res.json.query)
      assert.equal("GET", res.json.method)
      local bad = c:request{ method = "GET", path = "/raw?text=notjson", decode = true }
      assert.equal("notjson", bad.body)
      assert.is_nil(bad.json)
      assert.matches("invalid JSON at offset 0", bad.json_error, 1, true)
      local empty = c:request{ method = "GET", path = "/raw", decode = true }
      assert.equal("", empty.body)
      assert.is_nil(empty.json)
      assert.is_nil(empty.json_error)
      local missing = c:request{ method = "GET", path = "/nowhere", decode = true }
      assert.equal(404, missing.status)
      assert.is_nil(missing.json)
      assert.matches("no route", missing.body, 1, true)
      -- without it, the body as before
      assert.is_string(c:request{ method = "GET", path = "/echo" }.body)
    end)

    it("get(method, path, endpoint, log): a JSON object as itself, anything else as request's outcome", function()
      local c = client()
      local obj, rid = c:get("GET", "/echo?a=1", "admin.test")
      assert.equal("a=1", obj.query)
      assert.equal("GET", obj.method)
      assert.matches("^req_stub_%d+$", rid)
      assert.equal("0", obj.headers["x-stainless-retry-count"])
      assert.equal("Bearer " .. KEY, obj.headers.authorization)
      local none, res = c:get("GET", "/nowhere")
      assert.is_nil(none)
      assert.equal(404, res.status)
      assert.matches("no route", res.body, 1, true)
      local bad, raw = c:get("GET", "/raw?text=notjson")
      assert.is_nil(bad)
      assert.equal(200, raw.status)
      assert.equal("notjson", raw.body)
      local gone = core.client { base_url = "http://127.0.0.1:1/v1", admin_key = KEY, max_retries = 0 }
      local nothing, err = gone:get("GET", "/x")
      assert.is_nil(nothing)
      assert.equal("connection", err.kind)
      gone:close()
      -- events: the handle comes third, and eng:events() has them
      local o2, _, h = c:get("DELETE", "/echo", "admin.test", true)
      assert.equal("DELETE", o2.method)
      assert.is_number(h)
      local evs = c:engine():events()
      assert.equal(1, #evs)
      assert.equal(h, evs[1].handle)
      assert.equal("attempt", evs[1].type)
      assert.has_error(function() c:get("PUT", "/x") end)
      assert.has_error(function() c:get("GET", "x") end)
      assert.equal(0, c:engine():pending())
    end)

    it("answers without the headers table when reply_headers = false, keeping request_id", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/echo", reply_headers = false }
      assert.equal(200, res.status)
      assert.is_nil(res.headers)
      assert.matches("^req_stub_%d+$", res.request_id)
      assert.equal("yes", c:request{ method = "GET", path = "/echo" }.headers["x-mixed-case"])
    end)

    it("reuses one connection for sequential requests, also across derive", function()
      local c = client()
      local first = body(c:request{ method = "GET", path = "/echo" }).conn_id
      for _ = 1, 10 do
        assert.equal(first, body(c:request{ method = "GET", path = "/echo" }).conn_id)
      end
      local d = c:derive{ timeout = 5, max_retries = 0, headers = { ["X-D"] = "d" }, project = "p2" }
      clients[#clients + 1] = d
      local b = body(d:request{ method = "GET", path = "/echo" })
      assert.equal(first, b.conn_id)
      assert.equal("d", b.headers["x-d"])
      assert.equal("p2", b.headers["openai-project"])
      assert.equal(5, d:info().timeout)
      assert.equal(600, c:info().timeout)
      c:close() -- the derived client keeps the shared pool alive
      assert.equal(200, d:request{ method = "GET", path = "/echo" }.status)
    end)
  end)

  describe("retries", function()
    it("retries 5xx with backoff and counts attempts", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/status/500?key=r5xx&count=2" }
      assert.equal(200, res.status)
      assert.equal(3, res.attempts)
      assert.is_true(res.waited >= (0.5 + 1.0) * 0.75 - 1e-9 and res.waited <= 1.5 + 1e-9)
      assert.equal("2", body(res).retry_count)
    end)

    it("returns the last answer when retries run out", function()
      local c = client{ max_retries = 1 }
      local res = c:request{ method = "GET", path = "/status/503?key=rout&retry_after_ms=10" }
      assert.equal(503, res.status)
      assert.equal(2, res.attempts)
    end)

    it("honours retry-after-ms and Retry-After", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/status/429?key=rams&count=1&retry_after_ms=150" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      assert.near(0.15, res.waited, 1e-6)
      res = c:request{ method = "GET", path = "/status/429?key=ras&count=1&retry_after=1" }
      assert.equal(2, res.attempts)
      assert.near(1.0, res.waited, 1e-6)
      -- an HTTP date, about 2 s ahead (whole seconds: waits between 1 and 2 s)
      local date = os.date("!%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", os.time() + 2)
      res = c:request{ method = "GET", path = "/status/503?key=radate&count=1&retry_after=" .. date }
      assert.equal(2, res.attempts)
      assert.is_true(res.waited >= 1 and res.waited <= 2, "waited " .. res.waited)
      -- longer than max_wait (120 s): no wait begins, the 429 is the answer and says when to retry
      res = c:request{ method = "GET", path = "/status/429?key=rabig&count=1&retry_after=3600" }
      assert.equal(429, res.status)
      assert.equal(1, res.attempts)
      assert.equal(0, res.waited)
      assert.equal(3600, res.retry_after)
    end)

    it("retries 408 and 409, never other 4xx", function()
      local c = client()
      for _, code in ipairs{ 408, 409 } do
        local res = c:request{ method = "GET",
          path = "/status/" .. code .. "?key=r" .. code .. "&count=1&retry_after_ms=1" }
        assert.equal(200, res.status)
        assert.equal(2, res.attempts)
      end
      for _, code in ipairs{ 400, 401, 403, 404, 422 } do
        local res = c:request{ method = "GET", path = "/status/" .. code .. "?key=n" .. code .. "&count=1" }
        assert.equal(code, res.status)
        assert.equal(1, res.attempts)
        assert.equal(0, res.waited)
      end
    end)

    it("obeys x-should-retry", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/status/400?key=sr1&count=1&should_retry=true&retry_after_ms=1" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      res = c:request{ method = "GET", path = "/status/500?key=sr2&count=1&should_retry=false" }
      assert.equal(500, res.status)
      assert.equal(1, res.attempts)
      res = c:request{ method = "GET", path = "/status/200?key=sr3&count=1&should_retry=true" }
      assert.equal(200, res.status)
      assert.equal(1, res.attempts)
    end)

    it("takes max_retries per request", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/status/500?key=mr0", max_retries = 0 }
      assert.equal(1, res.attempts)
    end)

    it("reports a dead server as a connection error without the key", function()
      local c = client{ base_url = "http://127.0.0.1:" .. dead_port() .. "/v1", max_retries = 1 }
      local res, err = c:request{ method = "GET", path = "/organization/projects", endpoint = "a.b" }
      assert.is_nil(res)
      assert.equal("connection", err.kind)
      assert.equal(7, err.curl_code) -- CURLE_COULDNT_CONNECT
      assert.equal(2, err.attempts)
      assert.is_true(err.waited > 0)
      assert.equal("GET", err.method)
      assert.equal("/organization/projects", err.path)
      assert.is_nil(err.status)
      assert.not_matches(KEY, err.message, 1, true)
    end)

    it("treats a truncated body as an error and retries it", function()
      local c = client{ max_retries = 1 }
      local res, err = c:request{ method = "GET", path = "/fault/truncate?key=tr1&count=5" }
      assert.is_nil(res)
      assert.equal("connection", err.kind)
      assert.equal(2, err.attempts)
      res = c:request{ method = "GET", path = "/fault/truncate?key=tr2&count=1" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      assert.is_true(body(res).ok)
    end)

    it("retries a dropped connection", function()
      local c = client()
      local res = c:request{ method = "GET", path = "/fault/drop?key=dr1&count=1" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
    end)

    it("times out as kind timeout", function()
      local c = client{ max_retries = 0 }
      local t0 = now()
      local res, err = c:request{ method = "GET", path = "/slow?s=2", timeout = 0.3 }
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.equal(28, err.curl_code)
      assert.is_true(now() - t0 < 1.5)
    end)
  end)

  describe("client:request_many", function()
    it("answers in input order; one failure does not sink the batch", function()
      local c = client()
      local reqs = {}
      for i = 1, 30 do reqs[i] = { method = "GET", path = "/echo?i=" .. i } end
      reqs[3] = { method = "GET", path = "/status/404?key=b404" }
      reqs[4] = { method = "GET", path = "/fault/truncate?key=btr", max_retries = 0 }
      reqs[5] = { method = "POST", path = "/echo?i=5", body = "{}" }
      local out = c:request_many(reqs, { concurrency = 4 })
      assert.equal(30, #out)
      for i, r in ipairs(out) do
        if i == 3 then
          assert.equal(404, r.status)
        elseif i == 4 then
          assert.is_nil(r.status)
          assert.equal("connection", r.kind)
        else
          assert.equal(200, r.status)
          assert.equal("i=" .. i, body(r).query)
        end
      end
      assert.same({}, c:request_many({}))
    end)

    it("opens at most `concurrency` connections and keeps them for the next batch", function()
      local c = client()
      local reqs = {}
      for i = 1, 24 do reqs[i] = { method = "GET", path = "/echo?i=" .. i } end
      local conns, n = {}, 0
      for _ = 1, 2 do
        for _, r in ipairs(c:request_many(reqs, { concurrency = 3 })) do
          local id = body(r).conn_id
          if not conns[id] then n = n + 1 end
          conns[id] = true
        end
      end
      assert.is_true(n <= 3, "at most `concurrency` connections, got " .. n)
      assert.is_true(conns[body(c:request{ method = "GET", path = "/echo" }).conn_id])
    end)

    it("runs transfers concurrently and retries without stalling the others", function()
      local c = client()
      local reqs = {}
      for i = 1, 8 do reqs[i] = { method = "GET", path = "/slow?s=0.3&i=" .. i } end
      reqs[9] = { method = "GET", path = "/status/503?key=bretry&count=1&retry_after_ms=400" }
      local out = c:request_many(reqs, { concurrency = 16 })
      for _, r in ipairs(out) do assert.equal(200, r.status) end
      assert.equal(2, out[9].attempts)
      -- concurrent: the host holds each slow answer 0.3 s, so transfers in flight together each
      -- took a connection of their own (one after another they would have reused one); this
      -- replaces a wall-clock bound (< 1.2 s against ~0.7 s ideal), a timing assumption
      local conns, n = {}, 0
      for i = 1, 8 do
        local id = body(out[i]).conn_id
        if not conns[id] then n = n + 1 end
        conns[id] = true
      end
      assert.equal(8, n)
    end)

    it("validates every request before sending any", function()
      local c = client()
      local ok, e = pcall(c.request_many, c, { { method = "GET", path = "/echo" }, { method = "GET" } })
      assert.is_false(ok)
      assert.matches("requests[2].path", e, 1, true)
      ok, e = pcall(c.request_many, c, {}, { concurrency = 0 })
      assert.is_false(ok)
      assert.matches("concurrency", e, 1, true)
    end)
  end)

  describe("rate budget", function()
    -- how many of the results did not wait, and how many waited at least `atleast` seconds
    local function waits(out, atleast)
      local now_n, later = 0, 0
      for _, r in ipairs(out) do
        if r.waited == 0 then now_n = now_n + 1 elseif r.waited >= atleast then later = later + 1 end
      end
      return now_n, later
    end

    it("fixed windows: { requests, window } sends `requests` at once, the rest when the window ends", function()
      local c = client{ rate_limit = { requests = 3, window = 0.4 } }
      local reqs = {}
      for i = 1, 7 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.window" } end
      local out = c:request_many(reqs)
      for _, r in ipairs(out) do assert.equal(200, r.status) end
      -- 3 in the first window, 3 held until it ended (window + margin), 1 until the one after
      local first, later = waits(out, 0.4)
      assert.equal(3, first)
      assert.equal(4, later)
      local third = 0
      for _, r in ipairs(out) do if r.waited >= 0.8 then third = third + 1 end end
      assert.equal(1, third)
      -- another endpoint has its own window
      assert.equal(0, c:request{ method = "GET", path = "/echo", endpoint = "spec.window2" }.waited)
    end)

    it("spreads a token bucket when burst is given (requests per window, burst)", function()
      local c = client{ rate_limit = { requests = 10, window = 1, burst = 2 } }
      local reqs = {}
      for i = 1, 7 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.fixed" } end
      local t0 = now()
      local out = c:request_many(reqs)
      local elapsed = now() - t0
      local maxw = 0
      for _, r in ipairs(out) do
        assert.equal(200, r.status)
        maxw = math.max(maxw, r.waited)
      end
      -- 7 at 10/s with 2 at once need 0.5 s; the longest single wait is at most that (less when
      -- slow answers let tokens refill meanwhile, as on a loaded machine)
      assert.is_true(maxw > 0 and maxw <= 0.5 + 0.05, "longest wait " .. maxw)
      assert.is_true(elapsed >= 0.45, "took " .. elapsed)
      -- another endpoint has its own bucket
      assert.equal(0, c:request{ method = "GET", path = "/echo", endpoint = "spec.other" }.waited)
    end)

    it("adaptive: learns a window's limit from the answers before a 429, on that endpoint only", function()
      local c = client{ rate_limit = { window = 0.5 } }
      for _ = 1, 5 do
        assert.equal(0, c:request{ method = "GET", path = "/echo", endpoint = "spec.adaptive" }.waited)
      end
      -- a bare 429 (no Retry-After, no x-ratelimit-*): 5 got through in this window, so the
      -- limit is 5 and the retry waits for the next window
      local res = c:request{ method = "GET", path = "/status/429?key=ad1&count=1", endpoint = "spec.adaptive" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      assert.is_true(res.waited > 0, "waited " .. res.waited)
      -- from now on 5 per window: the retry took one place, 4 more go at once, 4 wait
      local reqs = {}
      for i = 1, 8 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.adaptive" } end
      local first, later = waits(c:request_many(reqs), 0.05)
      assert.equal(4, first)
      assert.equal(4, later)
      -- elsewhere nothing is limited
      for i = 1, 10 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.elsewhere" } end
      first = waits(c:request_many(reqs), 0)
      assert.equal(10, first)
    end)

    it("adaptive: recovers, the learnt limit grows after windows that filled without a 429", function()
      local c = client{ rate_limit = { window = 0.3 } }
      for _ = 1, 2 do c:request{ method = "GET", path = "/echo", endpoint = "spec.recover" } end
      local res = c:request{ method = "GET", path = "/status/429?key=rec1&count=1", endpoint = "spec.recover" }
      assert.equal(200, res.status) -- learnt: 2 per window
      -- sequential requests: count how many go in each window (a request that waited opens one)
      local sizes, n = {}, 1 -- the retry above opened the current window
      for _ = 1, 24 do
        local r = c:request{ method = "GET", path = "/echo", endpoint = "spec.recover" }
        assert.equal(200, r.status)
        if r.waited > 0 then sizes[#sizes + 1] = n; n = 1 else n = n + 1 end
      end
      assert.equal(2, sizes[1])
      assert.is_true(#sizes >= 3 and sizes[2] > 2 and sizes[3] > sizes[2], "windows " .. table.concat(sizes, ","))
    end)

    it("learns from x-ratelimit-limit-requests / x-ratelimit-reset-requests on a 429", function()
      local c = client{ rate_limit = { window = 60 } }
      local t0 = now()
      local res = c:request{ method = "GET", path = "/status/429?key=rl1&count=1&rl_limit=4&rl_reset=800ms",
        endpoint = "spec.learn" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      assert.is_true(res.waited >= 0.8 and res.waited < 1.3, "waited " .. res.waited)
      -- 4 per window of about 0.8 s (the reset) from now on: the retry took one place
      local reqs = {}
      for i = 1, 5 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.learn" } end
      local first, later = waits(c:request_many(reqs), 0.5)
      assert.equal(3, first)
      assert.equal(2, later)
      assert.is_true(now() - t0 < 4)
    end)

    it("holds an endpoint after a bare 429 until its window reopens, within max_wait", function()
      local c = client{ rate_limit = { window = 0.8 } }
      local res = c:request{ method = "GET", path = "/status/429?key=w1&count=1", endpoint = "spec.w1" }
      assert.equal(200, res.status)
      assert.equal(2, res.attempts)
      assert.is_true(res.waited >= 0.8, "waited " .. res.waited)
      -- the window (10 s) would reopen after max_wait: no wait begins, the 429 is the answer
      local capped = client{ rate_limit = { window = 10, max_wait = 0.5 } }
      res = capped:request{ method = "GET", path = "/status/429?key=w2&count=5", endpoint = "spec.w2" }
      assert.equal(429, res.status)
      assert.equal(1, res.attempts)
      assert.equal(0, res.waited)
    end)

    it("max_wait never counts a call's place in the budget's queue, only the waits answers impose", function()
      local c = client{ rate_limit = { requests = 2, window = 0.6, max_wait = 0.1 } }
      local reqs = {}
      for i = 1, 4 do reqs[i] = { method = "GET", path = "/echo", endpoint = "spec.cap" } end
      local t0 = now()
      local out = c:request_many(reqs)
      assert.is_true(now() - t0 >= 0.6, "took " .. (now() - t0))
      for i = 1, 4 do assert.equal(200, out[i].status) end
      assert.equal(0, out[1].waited)
      assert.is_true(out[4].waited >= 0.6, "waited " .. out[4].waited)
      -- a 429 closes the window for 10 s, past max_wait: that answer ends the call, saying when
      local h = client{ rate_limit = { window = 10, max_wait = 0.5 } }
      local res = h:request{ method = "GET", path = "/status/429?key=cap1&count=5", endpoint = "spec.cap1" }
      assert.equal(429, res.status)
      assert.equal(1, res.attempts)
      assert.is_true(res.retry_after > 9, "retry_after " .. tostring(res.retry_after))
      -- and the next call on that endpoint is refused by the budget: nothing sent, its own code
      local r2, err = h:request{ method = "GET", path = "/echo", endpoint = "spec.cap1" }
      assert.is_nil(r2)
      assert.equal("rate_limit", err.kind)
      assert.equal("budget", err.code)
      assert.equal(0, err.attempts)
      assert.is_nil(err.status)
      assert.is_nil(err.request_id)
      assert.is_true(err.retry_after > 9)
      assert.matches("retry after", err.message, 1, true)
      -- retries and budget waits together never pass max_wait
      local a = client{ rate_limit = { window = 0.3, max_wait = 1 }, max_retries = 50 }
      res = a:request{ method = "GET", path = "/status/429?key=cap2&count=100", endpoint = "spec.cap2" }
      assert.equal(429, res.status)
      assert.is_true(res.attempts >= 2, "attempts " .. res.attempts)
      assert.is_true(res.waited > 0 and res.waited <= 1, "waited " .. res.waited)
    end)

    it("plain SDK backoff when rate_limit = false", function()
      local c = client{ rate_limit = false }
      local res = c:request{ method = "GET", path = "/status/429?key=off1&count=1", endpoint = "spec.off" }
      assert.equal(2, res.attempts)
      assert.is_true(res.waited <= 0.5)
      assert.equal(0, c:request{ method = "GET", path = "/echo", endpoint = "spec.off" }.waited)
    end)
  end)
end)
