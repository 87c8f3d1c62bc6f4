-- tests/log_spec.lua: openai_admin.log, the lines the engine's events become, levels, sinks
-- and redaction (the end-to-end runs against the fake are in tests/redaction_spec.lua).
local log = require "openai_admin.log"

local function env_of(t) return function(k) return t[k] end end

-- A logger that records (level, line, fields).
local function recorder()
  local lines = {}
  local fn = function(level, line, fields) lines[#lines + 1] = { level = level, line = line, fields = fields } end
  return lines, fn
end

describe("openai_admin.log", function()
  it("defaults to warn, reads OPENAI_LOG, and log_level wins over it", function()
    assert.equal("warn", log.new({}, env_of {}).level)
    assert.equal("debug", log.new({}, env_of { OPENAI_LOG = "debug" }).level)
    assert.equal("info", log.new({}, env_of { OPENAI_LOG = "INFO" }).level)
    assert.equal("error", log.new({ log_level = "error" }, env_of { OPENAI_LOG = "debug" }).level)
    local lg = log.new({}, env_of { OPENAI_LOG = "off" })
    assert.is_false(lg.enabled("error"))
  end)

  it("says so when OPENAI_LOG is not a level, and keeps the default", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn }, env_of { OPENAI_LOG = "verbose" })
    assert.equal("warn", lg.level)
    assert.equal(1, #lines)
    assert.matches("OPENAI_LOG=verbose is not a level", lines[1].line)
  end)

  it("gives one debug line per attempt with method, path, status, request id, attempt, elapsed, retry", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn, log_level = "debug" }, env_of {})
    lg.event { type = "attempt", handle = 1, method = "GET", path = "/organization/projects?limit=2",
      endpoint = "admin.organization.projects.list", attempt = 1, status = 503, request_id = "req_1",
      elapsed_ms = 12.4, retry = "status 503" }
    lg.event { type = "wait", handle = 1, method = "GET", path = "/organization/projects?limit=2",
      attempt = 2, seconds = 0.5, reason = "backoff" }
    lg.event { type = "attempt", handle = 1, method = "GET", path = "/organization/projects?limit=2",
      attempt = 2, status = 200, request_id = "req_2", elapsed_ms = 3 }
    assert.equal(3, #lines)
    assert.equal("debug", lines[1].level)
    assert.equal("GET /organization/projects?limit=2 -> 503 (12 ms, attempt 1, request req_1); retrying: status 503",
      lines[1].line)
    assert.equal("debug", lines[2].level)
    assert.matches("waits 0%.5 s before attempt 2: backoff before the next attempt %(after status 503%)", lines[2].line)
    assert.equal("GET /organization/projects?limit=2 -> 200 (3 ms, attempt 2, request req_2)", lines[3].line)
    -- the fields are the event's, plus the level
    assert.equal(503, lines[1].fields.status)
    assert.equal("req_1", lines[1].fields.request_id)
    assert.equal("debug", lines[1].fields.level)
  end)

  it("logs transport failures and a call given up after retries", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn, log_level = "warn" }, env_of {})
    lg.event { type = "attempt", handle = 2, method = "POST", path = "/organization/projects", attempt = 1,
      curl_code = 7, error = "Failed to connect", elapsed_ms = 1, retry = "connection" }
    assert.equal(0, #lines) -- debug only
    lg.event { type = "attempt", handle = 2, method = "POST", path = "/organization/projects", attempt = 3,
      curl_code = 7, error = "Failed to connect", elapsed_ms = 1 }
    assert.equal(1, #lines)
    assert.equal("warn", lines[1].level)
    assert.equal("POST /organization/projects -> transport error (curl 7): Failed to connect (1 ms, attempt 3); "
      .. "giving up after 3 attempts", lines[1].line)
  end)

  it("puts budget holds and 429 ride-outs at info and long waits at warn", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn, log_level = "info" }, env_of {})
    lg.event { type = "wait", handle = 3, method = "GET", path = "/organization/users", attempt = 1,
      seconds = 0.2, reason = "budget", endpoint = "admin.organization.users.list" }
    lg.event { type = "attempt", handle = 3, method = "GET", path = "/organization/users", attempt = 1,
      status = 429, retry = "status 429", elapsed_ms = 2 }
    lg.event { type = "wait", handle = 3, method = "GET", path = "/organization/users", attempt = 2,
      seconds = 1, reason = "backoff" }
    lg.event { type = "wait", handle = 4, method = "GET", path = "/organization/users", attempt = 2,
      seconds = 0.1, reason = "backoff" }
    lg.event { type = "wait", handle = 5, method = "GET", path = "/organization/users", attempt = 1,
      seconds = 61, reason = "budget", endpoint = "admin.organization.users.list" }
    assert.equal(3, #lines) -- the 429 attempt and the short plain backoff (handle 4) are debug
    assert.equal("info", lines[1].level)
    assert.matches("rate budget holds it until its window reopens %(admin%.organization%.users%.list%)", lines[1].line)
    assert.equal("info", lines[2].level)
    assert.matches("after status 429", lines[2].line)
    assert.equal("warn", lines[3].level)
    assert.matches("waits 61 s before attempt 1", lines[3].line)
    -- at the default level only the long wait is shown
    local wlines, wfn = recorder()
    local wl = log.new({ logger = wfn }, env_of {})
    wl.event { type = "wait", handle = 6, method = "GET", path = "/x", attempt = 1, seconds = 0.3, reason = "budget" }
    wl.event { type = "wait", handle = 6, method = "GET", path = "/x", attempt = 1, seconds = 5,
      reason = "retry_after" }
    assert.equal(1, #wlines)
    assert.matches("the server asked to wait", wlines[1].line)
  end)

  it("writes to stderr without a logger", function()
    local lg = log.new({ log_level = "debug" }, env_of {})
    local real = io.stderr
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    io.stderr = f -- luacheck: ignore
    local ok, err = pcall(lg.line, "info", "hello sk-admin-0123456789abcdef")
    io.stderr = real -- luacheck: ignore
    f:close()
    assert.is_true(ok, err)
    local text = assert(io.open(path)):read("a")
    os.remove(path)
    assert.equal("openai_admin info: hello sk-...redacted\n", text)
  end)

  it("survives a logger that raises", function()
    local lg = log.new({ logger = function() error("boom") end, log_level = "debug" }, env_of {})
    assert.has_no_error(function()
      lg.event { type = "attempt", handle = 1, method = "GET", path = "/x", attempt = 1, status = 200 }
    end)
  end)

  it("redacts keys, bearer tokens, secret values and URL credentials in lines and fields", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn, log_level = "debug" }, env_of {})
    local key = "sk-admin-AbCdEf0123456789_-xyz"
    lg.event { type = "attempt", handle = 1, method = "GET", path = "/organization/admin_api_keys?x=" .. key,
      attempt = 1, curl_code = 5, error = "proxy http://user:" .. key .. "@proxy:3128 refused; Authorization: Bearer "
      .. key .. ' {"value":"sk-svcacct-zzzzzzzzzzzz"}', elapsed_ms = 1 }
    assert.equal(1, #lines)
    local all = lines[1].line
    for _, v in pairs(lines[1].fields) do all = all .. " " .. tostring(v) end
    assert.is_nil(all:find("AbCdEf0123456789", 1, true), all)
    assert.is_nil(all:find("zzzzzzzzzzzz", 1, true), all)
    assert.is_nil(all:find("user:", 1, true), all)
    assert.matches("sk%-%.%.%.redacted", all)
    assert.matches("Bearer %.%.%.redacted", all)
    assert.equal("sk-...redacted", log.redact("sk-proj-abcdefgh"))
    assert.equal("sk-short", log.redact("sk-short")) -- too short to be a key
  end)

  it("truncates what it quotes", function()
    local lines, fn = recorder()
    local lg = log.new({ logger = fn, log_level = "debug" }, env_of {})
    lg.event { type = "attempt", handle = 1, method = "GET", path = "/" .. ("é"):rep(100000), attempt = 1,
      status = 404 }
    assert.is_true(#lines[1].line < 600, #lines[1].line)
    assert.matches("bytes cut%)", lines[1].line)
    assert.is_truthy(utf8.len(lines[1].line))
    assert.is_true(#lines[1].fields.path < 600)
  end)

  it("warns at creation when insecure = true", function()
    local lines, fn = recorder()
    local event = log.for_client { insecure = true, logger = fn }
    assert.is_function(event)
    assert.equal(1, #lines)
    assert.equal("warn", lines[1].level)
    assert.matches("NOT verified", lines[1].line)
    local none, fn2 = recorder()
    log.for_client { insecure = false, logger = fn2 }
    assert.equal(0, #none)
  end)
end)

describe("openai_admin.log against the fake", function()
  local fake = require "helpers.fake"
  local oa = require "openai_admin"
  local f
  setup(function() f = fake.start { seed = 8, projects = 2, users = 1 } end)
  teardown(function() if f then f:stop() end end)

  -- today a call that rides out a rate limit is silent; at the default level it must say why
  it("says at the default level why a call pauses for a rate limit", function()
    f:rate_limit { path = "/organization/projects", requests = 1, window = 3.5 }
    local lines = {}
    local c = oa.new { base_url = f.base_url, admin_key = f.admin_key, logger = function(level, line)
      lines[#lines + 1] = level .. ": " .. line
    end }
    local orgp = c.admin.organization.projects
    assert.equal(1, #orgp:list { limit = 1 }.data)
    assert.equal(1, #orgp:list { limit = 1 }.data) -- a 429, then held until the window reopens
    c:close()
    f:control("DELETE", "/_fake/rate_limits")
    local all = table.concat(lines, "\n")
    assert.matches("warn: GET /organization/projects%?limit=1 waits %d[%d.]* s before attempt %d: "
      .. "the rate budget holds it", all)
    for _, l in ipairs(lines) do assert.matches("^warn: ", l) end -- nothing below warn by default
  end)
end)
