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
