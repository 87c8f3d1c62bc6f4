-- Client options, checked once (lua/openai_admin/options.lua), with the C core's limits.
local options = require "openai_admin.options"
local errors = require "openai_admin.errors"

local function refused(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(errors.is(err, "invalid_argument"), tostring(err))
  for i = 1, select("#", ...) do
    assert(tostring(err):find((select(i, ...)), 1, true), tostring(err))
  end
  return err
end

describe("options", function()
  it("accepts what the core accepts and normalizes integral floats", function()
    local o = options.check_new {
      admin_key = "sk-admin-x", base_url = "http://127.0.0.1:1/v1/", timeout = 5, connect_timeout = 0.5,
      max_retries = 100.0, headers = { ["X-A"] = "v", ["X-B"] = false }, organization = false, project = "p",
      rate_limit = { requests = 7, window = 60, per_endpoint = false, max_wait = 300 }, ca_file = "/etc/ca.pem",
      ca_path = "/etc/ssl/certs", insecure = false, proxy = "http://127.0.0.1:3128", no_proxy = "localhost",
      max_response_bytes = 1024.0, max_request_bytes = 2048, max_host_connections = 1024, logger = print,
      log_level = "off",
    }
    assert.equal("http://127.0.0.1:1/v1", o.base_url)
    assert.equal("integer", math.type(o.max_retries))
    assert.equal("integer", math.type(o.max_response_bytes))
    assert.is_false(o.organization)
    assert.same({ ["X-A"] = "v", ["X-B"] = false }, o.headers)
    assert.same({ timeout = 1 }, options.check_derive { timeout = 1 })
    assert.same({ extra_query = { a = 1 } }, options.check_request({ extra_query = { a = 1 } }, "x.y"))
  end)

  it("refuses with the core's limits, naming the option", function()
    refused(function() options.check_new { max_retries = 101 } end, "new: option max_retries", "0 to 100")
    refused(function() options.check_new { max_host_connections = 1025 } end, "1 to 1024")
    refused(function() options.check_new { headers = { ["X(A"] = "v" } } end, "bad header name")
    refused(function() options.check_new { headers = { ["X-A"] = "a\nb" } } end, "option headers['X-A']")
    refused(function() options.check_new { rate_limit = { requests = 0 } } end, "option rate_limit.requests")
    refused(function() options.check_derive { admin_key = "k" } end, "with_options: unknown option 'admin_key'")
    refused(function() options.check_request({ timeuot = 1 }, "x.y") end, "x.y: unknown option 'timeuot'",
      "did you mean 'timeout'")
    local e = refused(function() options.check_new { admin_key = "sk-admin-SECRET VALUE" } end, "admin_key")
    assert.is_nil(tostring(e):find("SECRET", 1, true))
  end)

  it("keeps only the kind of a key", function()
    assert.equal("admin", options.key_kind("sk-admin-abc"))
    assert.equal("project", options.key_kind("sk-proj-abc"))
    assert.equal("service_account", options.key_kind("sk-svcacct-abc"))
    assert.equal("other", options.key_kind("sk-abc"))
    assert.equal("unknown", options.key_kind("abc"))
  end)
end)
