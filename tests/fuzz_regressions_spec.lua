-- tests/fuzz_regressions_spec.lua: what `make fuzz` found (fuzz/), kept as tests.
local fake = require "helpers.fake"
local oa = require "openai_admin"
local json = require "openai_admin.json"

describe("fuzz regressions", function()
  local f
  setup(function() f = fake.start { seed = 5, projects = 2, users = 1 } end)
  teardown(function() if f then f:stop() end end)

  -- fuzz_retry_headers: oa_parse_duration("1e308h") was +inf, so a 429 carrying
  -- x-ratelimit-reset-requests: 1e308h held its endpoint for ever: every later call failed.
  it("a 429 whose x-ratelimit-reset-requests overflows does not lock its endpoint", function()
    f:control("DELETE", "/_fake/faults")
    f:fault { method = "GET", path = "/organization/projects", status = 429, count = 1, retry_after = 1,
      headers = { ["x-ratelimit-reset-requests"] = "1e308h", ["x-ratelimit-limit-requests"] = "1" } }
    local c = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 0,
      rate_limit = { max_wait = 5 } }
    local ok, err = pcall(function() return c.admin.organization.projects:list { limit = 1 } end)
    assert.is_false(ok)
    assert.equal("rate_limit", err.kind)
    -- the next call waits out the Retry-After (1 s) at most, then goes through
    local page = c.admin.organization.projects:list { limit = 1 }
    assert.equal(1, #page.data)
    c:close()
  end)

  -- fuzz_json_encode (with the jansson decoder): a key with a NUL byte encoded, but its JSON did
  -- not decode. The decoder now takes every valid JSON text our encoder writes.
  it("an object key with a NUL byte round-trips", function()
    local text = assert(json.encode { ["a\0b"] = 1 })
    assert.equal('{"a\\u0000b":1}', text)
    assert.equal(1, assert(json.decode(text))["a\0b"])
  end)
end)

describe("fuzz regressions (request building)", function()
  local core = require "openai_admin.core"
  -- fuzz_request: is_token_char used strchr, which finds the terminator for a NUL byte, so a
  -- header name with a NUL in it was accepted by the core.
  it("the core refuses a header name with a NUL byte", function()
    for _, name in ipairs { "\0", "X-A\0B" } do
      local ok, err = pcall(core.client, { base_url = "http://127.0.0.1:9/v1", admin_key = "sk-admin-x",
        headers = { [name] = "v" } })
      assert.is_false(ok)
      assert.matches("invalid header name", tostring(err))
    end
  end)
end)

describe("fuzz regressions (header parsing)", function()
  local net = require "helpers.net"
  local dir, srv
  setup(function() dir = net.tmpdir() end)
  teardown(function()
    if srv then srv:stop() end
    os.execute("rm -rf " .. net.shquote(dir))
  end)

  -- fuzz_headers: a NUL byte in a header value ended it early in the engine's header store and
  -- made the rest read as another header ("X-Junk: a<NUL>retry-after<NUL>30": a 30 s
  -- Retry-After). The engine now ignores such a line; libcurl 7.88 refuses the reply first
  -- (curl 8, "Nul byte in header"), so end to end the call fails fast either way.
  it("a header line with a NUL byte cannot smuggle in a Retry-After", function()
    local body = '{"error":{"message":"busy","type":"server_error","param":null,"code":null}}'
    local port
    srv, port = net.canned(dir, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      .. "X-Junk: a\0retry-after\0 30\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
    local c = oa.new { base_url = ("http://127.0.0.1:%d/v1"):format(port), admin_key = "sk-admin-regression-test",
      max_retries = 1, log_level = "off" }
    local ok, err = pcall(function() return c.admin.organization.projects:list { limit = 1 } end)
    c:close()
    assert.is_false(ok)
    assert.is_true(err.status == 503 or err.kind == "connection", tostring(err))
    assert.equal(2, err.attempts)
    assert.is_true(err.waited < 5, "waited " .. tostring(err.waited) .. " s: the smuggled Retry-After was honoured")
  end)
end)
