-- Error objects (lua/openai_admin/errors.lua) and how calls raise them (mock core client).
local errors = require "openai_admin.errors"
local mock = require "helpers.mock_core"

local oa = mock.load()

local function new_client()
  return oa.new { admin_key = "sk-admin-errors-test-0000000000", base_url = "http://mock.invalid/v1" }
end

-- pcall fn, expect an openai_admin error, return it
local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.is_true(oa.is_error(err), "not an error object: " .. tostring(err))
  return err
end

describe("errors", function()
  it("maps statuses to kinds", function()
    local want = { [400] = "bad_request", [401] = "authentication", [403] = "permission_denied",
      [404] = "not_found", [409] = "conflict", [422] = "unprocessable", [429] = "rate_limit",
      [500] = "internal_server", [503] = "internal_server", [599] = "internal_server",
      [402] = "api_error", [418] = "api_error", [408] = "api_error" }
    for status, kind in pairs(want) do assert.equal(kind, errors.kind_for_status(status), status) end
  end)

  it("prints one line with the request, status and attempts", function()
    local e = errors.new { kind = "not_found", status = 404, method = "GET", path = "/organization/projects/proj_x",
      message = "No such project", request_id = "req_123", attempts = 1 }
    assert.equal("openai_admin: not_found (404) GET /organization/projects/proj_x: No such project "
      .. "(request req_123, 1 attempt)", tostring(e))
    local t = errors.new { kind = "timeout", method = "GET", path = "/x", message = "Operation timed out\nafter 10 s",
      attempts = 3, waited = 1.5 }
    assert.equal("openai_admin: timeout GET /x: Operation timed out after 10 s (3 attempts, waited 1.5s)", tostring(t))
  end)

  it("never prints a key", function()
    local e = errors.new { kind = "authentication", status = 401, method = "GET", path = "/x",
      message = "Incorrect API key provided: sk-admin-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345; Bearer sk-secret" }
    local s = tostring(e)
    assert.is_nil(s:find("ABCDEFGHIJKLMNOP", 1, true), s)
    assert.is_nil(s:find("sk-secret", 1, true), s)
    assert.is_truthy(s:find("task-list", 1, true) == nil)
    assert.equal("openai_admin: bad_request: see task-list", tostring(errors.new { kind = "bad_request",
      message = "see task-list" }))
  end)

  it("is and is_error", function()
    local e = errors.new { kind = "rate_limit", status = 429 }
    assert.is_true(errors.is(e))
    assert.is_true(errors.is(e, "rate_limit"))
    assert.is_false(errors.is(e, "not_found"))
    assert.is_false(errors.is("rate_limit", "rate_limit"))
    assert.is_false(errors.is({ kind = "rate_limit" }))
    assert.is_true(errors.is_error(e))
    assert.is_false(errors.is_error({}))
    assert.equal(errors.is_error, oa.is_error)
    assert.equal(errors, oa.errors)
  end)

  it("reads the API's error body", function()
    local e = errors.from_response({ status = 400, request_id = "req_1", attempts = 1, waited = 0,
      body = '{"error":{"message":"Invalid limit","type":"invalid_request_error",'
        .. '"code":"bad_limit","param":"limit"}}' },
      oa.json.decode, "GET", "/organization/projects?limit=0", "admin.organization.projects.list")
    assert.equal("bad_request", e.kind)
    assert.equal(400, e.status)
    assert.equal("Invalid limit", e.message)
    assert.equal("invalid_request_error", e.type)
    assert.equal("bad_limit", e.code)
    assert.equal("limit", e.param)
    assert.equal("req_1", e.request_id)
    assert.equal("admin.organization.projects.list", e.sdk_path)
    local h = errors.from_response({ status = 502, body = "<html>Bad gateway</html>", attempts = 3 },
      oa.json.decode, "GET", "/x")
    assert.equal("internal_server", h.kind)
    assert.equal("HTTP 502: <html>Bad gateway</html>", h.message)
  end)
end)

describe("errors.from_core", function()
  it("turns the core's refusals into invalid_argument errors", function()
    local e = errors.from_core("openai_admin: request.max_retries must be an integer from 0 to 100")
    assert.is_true(errors.is(e, "invalid_argument"))
    assert.equal("request.max_retries must be an integer from 0 to 100", e.message)
    assert.is_true(errors.is(errors.from_core("bad argument #2 to 'submit' (table expected, got nil)"),
      "invalid_argument"))
  end)
  it("passes what is not the core's unchanged (Ctrl-C, out of memory)", function()
    assert.equal("interrupted!", errors.from_core("interrupted!"))
    assert.equal("not enough memory", errors.from_core("not enough memory"))
    local t = {}
    assert.equal(t, errors.from_core(t))
  end)
end)

describe("calls raise", function()
  it("HTTP errors with every field", function()
    local client = new_client()
    mock.reply(client, { status = 404, request_id = "req_404", attempts = 1,
      body = '{"error":{"message":"No such project","type":"invalid_request_error","code":null,"param":null}}' })
    local err = raised(function() return client.admin.organization.projects:retrieve("proj_x") end)
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
    assert.equal("GET", err.method)
    assert.equal("/organization/projects/proj_x", err.path)
    assert.equal("admin.organization.projects.retrieve", err.sdk_path)
    assert.equal("req_404", err.request_id)
    assert.equal(1, err.attempts)
    assert.is_nil(err.code)
    assert.equal("openai_admin: not_found (404) GET /organization/projects/proj_x: No such project "
      .. "(request req_404, 1 attempt)", tostring(err))
  end)

  it("transport failures as connection or timeout", function()
    local client = new_client()
    mock.reply(client, nil, { kind = "timeout", message = "Operation timed out", attempts = 3, waited = 1.5,
      method = "GET", path = "/organization/projects" })
    local err = raised(function() return client.admin.organization.projects:list() end)
    assert.equal("timeout", err.kind)
    assert.equal(3, err.attempts)
    assert.equal(1.5, err.waited)
    assert.equal("admin.organization.projects.list", err.sdk_path)
    mock.reply(client, nil, { kind = "connection", message = "Couldn't connect", attempts = 1, waited = 0 })
    err = raised(function() return client.admin.organization.users:retrieve("u") end)
    assert.equal("connection", err.kind)
    assert.equal("/organization/users/u", err.path)
  end)

  it("invalid JSON in a 2xx reply as decode, naming method and path", function()
    local client = new_client()
    mock.reply(client, { status = 200, body = "<html>ok</html>", request_id = "req_d" })
    local err = raised(function() return client.admin.organization.groups:retrieve("g_1") end)
    assert.equal("decode", err.kind)
    assert.equal("GET", err.method)
    assert.equal("/organization/groups/g_1", err.path)
    assert.is_truthy(tostring(err):find("decode (200) GET /organization/groups/g_1", 1, true))
    mock.reply(client, { status = 200, body = '{"object":"list","data":[1,' })
    assert.equal("decode", raised(function() return client.admin.organization.groups:list() end).kind)
    mock.reply(client, { status = 200, body = '"just a string"' })
    assert.equal("decode", raised(function() return client.admin.organization.groups:retrieve("g") end).kind)
    mock.reply(client, { status = 200, body = '{"object":"list"}' })
    assert.equal("decode", raised(function() return client.admin.organization.groups:list() end).kind)
  end)

  it("with level 0: the error value is the object itself", function()
    local client = new_client()
    mock.reply(client, { status = 500, body = "{}" })
    local ok, err = pcall(client.admin.organization.projects.retrieve, client.admin.organization.projects, "p")
    assert.is_false(ok)
    assert.equal("table", type(err))
    assert.equal("internal_server", err.kind)
    local ok2, err2 = pcall(client.admin.organization.projects.retrieve, client.admin.organization.projects, "")
    assert.is_false(ok2)
    assert.equal("invalid_argument", err2.kind)
    assert.equal("project_id", err2.param)
  end)

  it("from iteration the same way", function()
    local client = new_client()
    mock.reply(client, { status = 200, body = '{"object":"list","data":[{"id":"a"}],"has_more":true,"last_id":"a"}' })
    mock.reply(client, { status = 429, body = '{"error":{"message":"slow down"}}', attempts = 3 })
    local page = client.admin.organization.projects:list { limit = 1 }
    local seen = {}
    local ok, err = pcall(function()
      for p in page do seen[#seen + 1] = p.id end
    end)
    assert.is_false(ok)
    assert.same({ "a" }, seen)
    assert.equal("rate_limit", err.kind)
    assert.equal("/organization/projects?limit=1&after=a", err.path)
    assert.equal(3, err.attempts)
  end)
end)
