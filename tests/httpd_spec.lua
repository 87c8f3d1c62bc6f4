-- tests/httpd_spec.lua: the fake server's HTTP host (src/fake/httpd.c, bin/openai-admin-fake,
-- tests/helpers/fake.lua), driven with a stub app, curl as the client.
local httpd = require "openai_admin.fake.httpd"
local fake = require "helpers.fake"
local cjson = require "cjson"
local socket = require "socket"

local sh = fake.shquote

-- curl without LD_PRELOAD: under `make asan` a preloaded libasan deadlocks curl in setlocale().
local CURL = "env -u LD_PRELOAD curl --max-time 60"
-- Timing bounds stretch under valgrind / ASan (make valgrind traces children too).
local T = (os.getenv("VALGRIND") or (os.getenv("LD_PRELOAD") or ""):find("asan")) and 5 or 1

-- Runs a shell command; returns stdout, exit code.
local function run(cmd)
  local h = assert(io.popen(cmd .. "; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  local rc = tonumber(out:match("__rc=(%d+)\n?$"))
  return out:gsub("__rc=%d+\n?$", ""), rc
end

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. sh(p)))
  return p
end

local function read_file(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The stub app: echoes the request as JSON; the query and path pick delays and faults.
local STUB = [[
local cjson = require "cjson"
local M = {}
function M.new(opts) return setmetatable({ opts = opts, n = 0 }, { __index = M }) end
function M:handle(req)
  self.n = self.n + 1
  if req.path == "/v1/error" then error("stub failure") end
  if req.path == "/v1/badstatus" then return { status = "nope", body = {} } end
  local resp = { status = 200, headers = { ["content-type"] = "application/json", ["x-request-id"] = "req_" .. req.id },
    body = cjson.encode{ id = req.id, method = req.method, path = req.path, query = req.query,
      headers = req.headers, body = req.body or cjson.null, conn_id = req.conn_id, n = self.n,
      opts = { admin_key = self.opts.admin_key, seed = self.opts.seed or cjson.null,
               seed_data = self.opts.seed_data } } }
  local d = req.query:match("delay=([%d.]+)")
  if d then resp.delay = tonumber(d) end
  if req.path == "/v1/drop" then resp.fault = "drop" end
  if req.path == "/v1/truncate" then resp.fault = "truncate" end
  if req.path == "/v1/weird" then resp.fault = "bogus" end
  return resp
end
return M
]]

describe("openai_admin.fake.httpd (in process)", function()
  it("opens on a free port, stringifies, closes idempotently", function()
    local srv = assert(httpd.new{ port = 0 })
    local port = srv:port()
    assert.is_true(math.type(port) == "integer" and port > 0)
    assert.matches("127%.0%.0%.1:" .. port, tostring(srv))
    assert.is_false(srv:is_closed())
    srv:close()
    srv:close()
    assert.is_true(srv:is_closed())
    assert.matches("closed", tostring(srv))
    assert.has_error(function() srv:port() end)
    assert.has_error(function() srv:poll(0) end)
  end)

  it("supports to-be-closed variables", function()
    local ref
    do
      local srv <close> = assert(httpd.new())
      ref = srv
    end
    assert.is_true(ref:is_closed())
  end)

  it("reports bind failures and bad hosts as nil, message", function()
    local a = assert(httpd.new{ port = 0 })
    local b, err = httpd.new{ port = a:port() }
    assert.is_nil(b)
    assert.matches("cannot listen", err)
    a:close()
    local c, err2 = httpd.new{ host = "not-an-ip" }
    assert.is_nil(c)
    assert.matches("IPv4", err2)
    assert.has_error(function() httpd.new{ port = 70000 } end)
  end)

  it("poll times out with an empty list; respond rejects unknown ids", function()
    local srv = assert(httpd.new())
    local t0 = socket.gettime()
    local reqs = srv:poll(0.2)
    local dt = socket.gettime() - t0
    assert.same({}, reqs)
    assert.is_true(dt >= 0.19 and dt < 1.5, "waited " .. dt)
    local ok, err = srv:respond(12345, 200, {}, "x")
    assert.is_nil(ok)
    assert.matches("unknown", err)
    assert.has_error(function() srv:respond(1, 42, {}, "") end)
    srv:close()
  end)

  it("queues complete requests with decoded path, raw query, headers, body and conn_id", function()
    local srv = assert(httpd.new{ max_body = 64 })
    local base = "http://127.0.0.1:" .. srv:port()
    local dir = tmpdir()
    -- curl in the background: this Lua state polls while it waits
    os.execute(("(%s -s -H 'X-Test: A' -H 'X-Test: B' -d hello %s %s -o %s -o %s; echo $? > %s) &"):format(CURL,
      sh(base .. "/v1/a%20b/c?x=1%202&y=%2F#frag"), sh(base .. "/v1/second"),
      sh(dir .. "/1"), sh(dir .. "/2"), sh(dir .. "/rc")))
    local got = {}
    local deadline = socket.gettime() + 10
    while #got < 2 and socket.gettime() < deadline do
      for _, r in ipairs(srv:poll(0.5)) do
        got[#got + 1] = r
        assert.is_true(srv:respond(r.id, 201, { ["content-type"] = "text/plain", ["x-n"] = 7 }, "body" .. #got))
        assert.is_nil(srv:respond(r.id, 200, {}, "twice"))
      end
    end
    while not read_file(dir .. "/rc") and socket.gettime() < deadline do srv:poll(0.05) end
    assert.equal(2, #got)
    local a, b = got[1], got[2]
    assert.equal("POST", a.method)
    assert.equal("/v1/a b/c", a.path)
    assert.equal("x=1%202&y=%2F", a.query)
    assert.equal("hello", a.body)
    assert.equal("A, B", a.headers["x-test"])
    assert.equal("5", a.headers["content-length"])
    assert.is_nil(a.body_too_large)
    assert.equal("/v1/second", b.path)
    assert.equal("", b.query)
    assert.equal(a.conn_id, b.conn_id) -- one keep-alive connection
    assert.is_true(b.id > a.id)
    assert.equal("0\n", read_file(dir .. "/rc"))
    assert.equal("body1", read_file(dir .. "/1"))
    assert.equal("body2", read_file(dir .. "/2"))
    local st = srv:stats()
    assert.equal(2, st.requests)
    assert.equal(2, st.responses)
    assert.equal(1, st.connections)
    srv:close()
    os.execute("rm -rf " .. sh(dir))
  end)

  it("works with the select() backend too, delays included", function()
    local srv = assert(httpd.new{ backend = "select" })
    assert.equal("select", srv:stats().backend)
    local dir = tmpdir()
    os.execute(("(%s -s %s %s -o %s -o %s; echo $? > %s) &"):format(CURL,
      sh("http://127.0.0.1:" .. srv:port() .. "/v1/a"), sh("http://127.0.0.1:" .. srv:port() .. "/v1/b"),
      sh(dir .. "/1"), sh(dir .. "/2"), sh(dir .. "/rc")))
    local n, conn = 0, nil
    local deadline = socket.gettime() + 10
    while not read_file(dir .. "/rc") and socket.gettime() < deadline do
      for _, r in ipairs(srv:poll(0.05)) do
        n = n + 1
        conn = conn or r.conn_id
        assert.equal(conn, r.conn_id)
        srv:respond(r.id, 200, {}, r.path, { delay = 0.05 })
      end
    end
    assert.equal(2, n)
    assert.equal("0\n", read_file(dir .. "/rc"))
    assert.equal("/v1/b", read_file(dir .. "/2"))
    srv:close()
    os.execute("rm -rf " .. sh(dir))
  end)

  it("marks bodies over max_body as body_too_large without buffering them", function()
    local srv = assert(httpd.new{ max_body = 16 })
    local dir = tmpdir()
    os.execute(("(%s -s -d 0123456789abcdefXYZ -w '%%{http_code}' %s -o /dev/null > %s) &"):format(CURL,
      sh("http://127.0.0.1:" .. srv:port() .. "/v1/x"), sh(dir .. "/code")))
    local r
    local deadline = socket.gettime() + 10
    while not r and socket.gettime() < deadline do r = srv:poll(0.5)[1] end
    assert.is_true(r.body_too_large)
    assert.is_nil(r.body)
    srv:respond(r.id, 413, {}, "{}")
    while (read_file(dir .. "/code") or "") == "" and socket.gettime() < deadline do srv:poll(0.05) end
    assert.equal("413", read_file(dir .. "/code"))
    srv:close()
    os.execute("rm -rf " .. sh(dir))
  end)
end)

describe("bin/openai-admin-fake (stub app)", function()
  local dir, f

  setup(function()
    dir = tmpdir()
    local h = assert(io.open(dir .. "/httpd_stub_app.lua", "w"))
    h:write(STUB)
    h:close()
    f = fake.start{ app = "httpd_stub_app", lua_path = dir .. "/?.lua", seed = 7, projects = 3,
      admin_key = "sk-admin-test", max_body = 4096, args = { "--stats" } }
  end)

  teardown(function()
    if f then f:stop() end
    os.execute("rm -rf " .. sh(dir))
  end)

  local function curl(args)
    return run(CURL .. " -s --no-progress-meter " .. args .. " 2>/dev/null")
  end

  it("prints the URL and passes the options to the app", function()
    assert.matches("^http://127%.0%.0%.1:%d+/v1$", f.base_url)
    local out, rc = curl(sh(f.base_url .. "/echo?q=1"))
    assert.equal(0, rc)
    local e = cjson.decode(out)
    assert.equal("GET", e.method)
    assert.equal("/v1/echo", e.path)
    assert.equal("q=1", e.query)
    assert.equal("sk-admin-test", e.opts.admin_key)
    assert.equal(7, e.opts.seed)
    assert.equal(3, e.opts.seed_data.projects)
  end)

  it("serves the control client of helpers.fake", function()
    local v, status = f:control("POST", "/_fake/faults", { count = 1, path = "/v1/x" })
    assert.equal(200, status)
    assert.equal("/_fake/faults", v.path)
    assert.same({ count = 1, path = "/v1/x" }, cjson.decode(v.body))
    assert.equal("Bearer sk-admin-test", v.headers.authorization)
  end)

  it("keeps connections alive: two URLs in one curl share a conn_id", function()
    local out, rc = curl("-w '\\n' " .. sh(f.base_url .. "/one") .. " " .. sh(f.base_url .. "/two"))
    assert.equal(0, rc)
    local l1, l2 = out:match("^(.-)\n(.-)\n$")
    local a, b = cjson.decode(l1), cjson.decode(l2)
    assert.equal("/v1/one", a.path)
    assert.equal("/v1/two", b.path)
    assert.equal(a.conn_id, b.conn_id)
  end)

  it("answers 64 concurrent connections, delays overlapping", function()
    local out_dir = tmpdir()
    local t0 = socket.gettime()
    local out, rc = curl(("--parallel --parallel-immediate --parallel-max 64 -w '%s' %s -o %s"):format(
      "%{http_code} %{time_total}\\n", sh(f.base_url .. "/slow?delay=0.2&i=[1-64]"), sh(out_dir .. "/r_#1")))
    local wall = socket.gettime() - t0
    assert.equal(0, rc)
    local n, conns = 0, {}
    for code, t in out:gmatch("(%d+) ([%d.]+)\n") do
      n = n + 1
      assert.equal("200", code)
      assert.is_true(tonumber(t) >= 0.19, "a delayed response came back after " .. t .. " s")
    end
    assert.equal(64, n)
    for i = 1, 64 do
      local e = cjson.decode(read_file(out_dir .. "/r_" .. i) or "null") or {}
      conns[e.conn_id] = true
    end
    local distinct = 0
    for _ in pairs(conns) do distinct = distinct + 1 end
    assert.equal(64, distinct)
    -- serialised, this would take 64 * 0.2 = 12.8 s
    assert.is_true(wall < 4 * T, "64 delayed requests took " .. wall .. " s")
    os.execute("rm -rf " .. sh(out_dir))
  end)

  it("does not hold other connections back while one response is delayed", function()
    local slow = io.popen(CURL .. " -s -o /dev/null -w '%{time_total}' " .. sh(f.base_url .. "/slow?delay=" .. 1.5 * T))
    socket.sleep(0.1)
    local out, rc = curl("-o /dev/null -w '%{time_total}' " .. sh(f.base_url .. "/fast"))
    assert.equal(0, rc)
    assert.is_true(tonumber(out) < T, "fast request took " .. out)
    assert.is_true(tonumber(slow:read("a")) >= 1.5 * T - 0.1)
    slow:close()
  end)

  it("drops the connection without a response (curl 52)", function()
    local _, rc = curl(sh(f.base_url .. "/drop"))
    assert.equal(52, rc)
  end)

  it("truncates the body under a full Content-Length (curl 18)", function()
    local out, rc = curl("-D - " .. sh(f.base_url .. "/truncate"))
    assert.equal(18, rc)
    local len = tonumber(out:match("[Cc]ontent%-[Ll]ength: (%d+)"))
    local body = out:match("\r\n\r\n(.*)$")
    assert.is_true(len > 10)
    assert.is_true(#body < len)
  end)

  it("answers oversized bodies 413 with an API error, declared or chunked", function()
    local big = os.tmpname()
    local h = assert(io.open(big, "wb"))
    h:write(string.rep("x", 10000))
    h:close()
    for _, extra in ipairs{ "", "-H 'Transfer-Encoding: chunked'" } do
      local out, rc = curl(("-X POST %s --data-binary @%s -w '\\n%%{http_code}' %s"):format(extra, sh(big),
        sh(f.base_url .. "/organization/projects")))
      assert.equal(0, rc)
      local body, code = out:match("^(.*)\n(%d+)$")
      assert.equal("413", code)
      local e = cjson.decode(body).error
      assert.equal("invalid_request_error", e.type)
      assert.equal("request_too_large", e.code)
      assert.matches("4096", e.message)
    end
    os.remove(big)
  end)

  it("turns app errors into a 500 API error and keeps serving", function()
    local out = curl("-w '\\n%{http_code}' " .. sh(f.base_url .. "/error"))
    local body, code = out:match("^(.*)\n(%d+)$")
    assert.equal("500", code)
    local e = cjson.decode(body).error
    assert.equal("server_error", e.type)
    assert.matches("stub failure", e.message)
    assert.equal(cjson.null, e.param)
    assert.equal(cjson.null, e.code)
    out = curl("-w '\\n%{http_code}' " .. sh(f.base_url .. "/badstatus"))
    assert.equal("500", out:match("(%d+)$"))
    out = curl("-o /dev/null -w '%{http_code}' " .. sh(f.base_url .. "/weird"))
    assert.equal("200", out)
    local _, rc = curl(sh(f.base_url .. "/echo"))
    assert.equal(0, rc)
  end)

  it("survives garbage and half-open clients", function()
    local c = assert(socket.connect("127.0.0.1", f.port))
    c:settimeout(5)
    c:send("THIS IS NOT HTTP\r\n\r\n")
    c:receive("*a")
    c:close()
    c = assert(socket.connect("127.0.0.1", f.port))
    c:send("GET /v1/half HTTP/1.1\r\nHost: x\r\n") -- never finished
    c:close()
    local _, rc = curl(sh(f.base_url .. "/echo"))
    assert.equal(0, rc)
  end)

  it("exits 0 on SIGTERM and reports its counters", function()
    local code = f:stop()
    assert.equal(0, code)
    f = nil
  end)
end)

describe("bin/openai-admin-fake under load", function()
  it("holds 256 concurrent connections and records the overlap in its own log", function()
    local dir = tmpdir()
    local h = assert(io.open(dir .. "/httpd_stub_app.lua", "w"))
    h:write(STUB)
    h:close()
    local f = fake.start{ app = "httpd_stub_app", lua_path = dir .. "/?.lua", args = { "--stats" } }
    f.keep_log = true
    local out, rc = run(CURL .. " -s --no-progress-meter --parallel --parallel-immediate --parallel-max 256"
      .. " -o /dev/null -w '%{http_code}\\n' " .. sh(f.base_url .. "/held?delay=" .. T .. "&i=[1-256]")
      .. " 2>/dev/null")
    assert.equal(0, rc)
    local ok = select(2, out:gsub("200\n", ""))
    assert.equal(256, ok)
    assert.equal(0, f:stop())
    local log = f:log()
    os.remove(f.log_path)
    local max_open = tonumber(log:match("max_open_connections=(%d+)"))
    local max_delayed = tonumber(log:match("max_delayed=(%d+)"))
    assert.is_true(max_open >= 200, log)
    assert.is_true(max_delayed >= 200, log)
    os.execute("rm -rf " .. sh(dir))
  end)

  it("exits 0 on SIGTERM in the middle of keep-alive load (no suspended connection left behind)", function()
    local dir = tmpdir()
    local h = assert(io.open(dir .. "/httpd_stub_app.lua", "w"))
    h:write(STUB)
    h:close()
    for round = 1, 3 do
      local f = fake.start{ app = "httpd_stub_app", lua_path = dir .. "/?.lua" }
      local load = io.popen("exec sh -c " .. sh("echo $$; exec env -u LD_PRELOAD curl --max-time 60"
        .. " -s --no-progress-meter --parallel --parallel-max 16 -o /dev/null "
        .. sh(f.base_url .. "/load?delay=0.00" .. round .. "&i=[1-200000]") .. " 2>/dev/null"))
      local curl_pid = load:read("l")
      socket.sleep(0.3 + 0.2 * round)
      local code = f:stop()
      os.execute("kill " .. curl_pid .. " 2>/dev/null")
      load:read("a")
      load:close()
      assert.equal(0, code, "round " .. round .. ": " .. f:log())
    end
    os.execute("rm -rf " .. sh(dir))
  end)

  it("--latency holds /v1 responses back", function()
    local dir = tmpdir()
    local h = assert(io.open(dir .. "/httpd_stub_app.lua", "w"))
    h:write(STUB)
    h:close()
    local f = fake.start{ app = "httpd_stub_app", lua_path = dir .. "/?.lua", latency = 0.3 }
    local out = run(CURL .. " -s -o /dev/null -w '%{time_total}' " .. sh(f.base_url .. "/x"))
    assert.is_true(tonumber(out) >= 0.29, out)
    out = run(CURL .. " -s -o /dev/null -w '%{time_total}' " .. sh(f.root_url .. "/_fake/requests"))
    if T == 1 then assert.is_true(tonumber(out) < 0.29, out) end
    assert.equal(0, f:stop())
    os.execute("rm -rf " .. sh(dir))
  end)
end)
