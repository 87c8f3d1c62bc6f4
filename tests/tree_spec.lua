-- The resource tree (lua/openai_admin/tree.lua) and the client surface, with a mock core client
-- (tests/helpers/mock_core.lua): no server, but the requests the Lua layer hands to the core are
-- checked.
local mock = require "helpers.mock_core"
local tree = require "openai_admin.tree"
local api = require "openai_admin.api"

local oa = mock.load()

local function new_client()
  return oa.new { admin_key = "sk-admin-tree-test-000000000000", base_url = "http://mock.invalid/v1" }
end

local fails = require("helpers.expect").invalid_argument

describe("the tree", function()
  it("reaches every row of api.lua at its sdk_path, as a function", function()
    local client = new_client()
    local n = 0
    for row in oa.endpoints() do
      local node = client
      for part in row.resource:gmatch("[^.]+") do node = node[part] end
      assert.equal("function", type(node[row.name]), row.sdk_path)
      assert.equal(row, oa.endpoint(row.sdk_path))
      n = n + 1
    end
    assert.equal(143, n)
    assert.equal(api, oa.api)
  end)

  it("builds nodes lazily and caches them", function()
    local client = new_client()
    local projects = client.admin.organization.projects
    assert.equal(projects, client.admin.organization.projects)
    assert.equal(projects.list, projects.list)
    assert.equal(projects.users, client.admin.organization.projects.users)
    assert.are_not.equal(projects, new_client().admin.organization.projects)
  end)

  it("has children and methods on the same node", function()
    local projects = new_client().admin.organization.projects
    assert.equal("table", type(projects.users))
    assert.equal("function", type(projects.list))
    assert.equal("function", type(projects.users.roles.retrieve))
    local resources, methods = tree.names(projects)
    assert.is_truthy(table.concat(resources, ","):find("users", 1, true))
    assert.is_truthy(table.concat(methods, ","):find("archive", 1, true))
    assert.equal("openai_admin.node (admin.organization.projects)", tostring(projects))
  end)

  it("suggests the closest name for an unknown method or resource", function()
    local client = new_client()
    local err = fails(function() return client.admin.organization.projects:lst() end)
    assert.equal("openai_admin: no method 'lst' on admin.organization.projects; did you mean 'list'?", tostring(err))
    fails(function() return client.admin.organization.projcts end,
      "no resource 'projcts' on admin.organization; did you mean 'projects'?")
    fails(function() return client.admn end, "on client; did you mean 'admin'?")
    fails(function() return client.admin.organization.projects.users.roles.zzzzzzzz end,
      "no method 'zzzzzzzz' on admin.organization.projects.users.roles")
    assert.equal(0, #mock.requests(client))
  end)

  it("refuses a name that would be both a resource and a method", function()
    assert.has_error(function()
      tree.build {
        { sdk_path = "admin.x.list", resource = "admin.x", name = "list" },
        { sdk_path = "admin.x.list.get", resource = "admin.x.list", name = "get" },
      }
    end)
    assert.has_error(function()
      tree.build {
        { sdk_path = "admin.x.y.get", resource = "admin.x.y", name = "get" },
        { sdk_path = "admin.x.y", resource = "admin.x", name = "y" },
      }
    end)
    assert.has_no.errors(function() tree.build(api) end)
  end)

  it("rejects assignments into the tree", function()
    local client = new_client()
    fails(function() client.admin.organization.foo = 1 end, "cannot assign 'foo'")
  end)
end)

describe("calls", function()
  it("send method, path, query and body to the core, tagged with the sdk_path", function()
    local client = new_client()
    client.admin.organization.projects.users.roles:retrieve("proj_1", "user/2", "role?3")
    local r = mock.last(client)
    assert.equal("GET", r.method)
    assert.equal("/projects/proj_1/users/user%2F2/roles/role%3F3", r.path)
    assert.is_nil(r.body)
    assert.equal("admin.organization.projects.users.roles.retrieve", r.endpoint)

    client.admin.organization.projects.rate_limits:update_rate_limit("proj_1", "rl_1",
      { max_requests_per_1_minute = 100 })
    r = mock.last(client)
    assert.equal("POST", r.method)
    assert.equal("/organization/projects/proj_1/rate_limits/rl_1", r.path)
    assert.same({ max_requests_per_1_minute = 100 }, oa.json.decode(r.body))

    client.admin.organization.certificates:retrieve("cert_1", { include = { "content" } })
    assert.equal("/organization/certificates/cert_1?include%5B%5D=content", mock.last(client).path)

    client.admin.organization.projects:archive("proj_1")
    r = mock.last(client)
    assert.equal("POST", r.method)
    assert.is_nil(r.body)
  end)

  it("pass per-request options through", function()
    local client = new_client()
    client.admin.organization.projects:retrieve("p", nil,
      { timeout = 3, connect_timeout = 1, max_retries = 0, headers = { ["X-Trace"] = "abc" } })
    local r = mock.last(client)
    assert.equal(3, r.timeout)
    assert.equal(1, r.connect_timeout)
    assert.equal(0, r.max_retries)
    assert.same({ ["X-Trace"] = "abc" }, r.headers)
  end)

  it("refuse a dot call", function()
    local client = new_client()
    local projects = client.admin.organization.projects
    fails(function() return projects.retrieve("proj_1") end, "admin.organization.projects.retrieve",
      "call it with a colon", "client.admin.organization.projects:retrieve(...)")
    fails(function() return projects.list() end, "call it with a colon")
    fails(function() return projects.retrieve(client.admin.organization.users, "x") end, "call it with a colon")
    assert.equal(0, #mock.requests(client))
  end)

  it("raise bad arguments before any request", function()
    local client = new_client()
    fails(function() return client.admin.organization.usage:costs { group_by = { "project_id" } } end,
      "admin.organization.usage.costs", "'start_time'")
    fails(function() return client.admin.organization.projects:list({ limit = 1 }, { timout = 1 }) end,
      "did you mean 'timeout'?")
    assert.equal(0, #mock.requests(client))
  end)

  it("return the decoded object with its request id outside the data", function()
    local client = new_client()
    mock.reply(client, { status = 200, body = '{"id":"proj_1","object":"organization.project","archived_at":null}',
      request_id = "req_abc" })
    local p = client.admin.organization.projects:retrieve("proj_1")
    assert.equal("proj_1", p.id)
    assert.equal(oa.null, p.archived_at)
    assert.equal("req_abc", p._request_id)
    assert.equal("req_abc", oa.request_id(p))
    local keys = {}
    for k in pairs(p) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({ "archived_at", "id", "object" }, keys)
    assert.is_nil(p.missing_field)
  end)
end)

describe("describe()", function()
  it("documents every endpoint from api.lua", function()
    for row in oa.endpoints() do
      local text = oa.describe(row.sdk_path)
      assert.is_truthy(text:find(row.method .. " " .. row.path, 1, true), row.sdk_path)
      assert.is_truthy(text:find("client." .. row.resource .. ":" .. row.name .. "(", 1, true), row.sdk_path)
      for _, p in ipairs(row.body) do assert.is_truthy(text:find(p.name .. ": ", 1, true), p.name) end
    end
    assert.is_nil(oa.describe("admin.nope"))
  end)
end)

describe("the module", function()
  it("exports the documented names", function()
    assert.equal(require("openai_admin.version"), oa.version)
    assert.equal(oa.version, require("openai_admin.core").version) -- the C modules get it from the Makefile
    assert.is_not_nil(oa.null)
    assert.equal("table", type(oa.json))
    assert.equal("function", type(oa.errors.is))
    assert.equal("function", type(oa.is_error))
    assert.equal("function", type(oa.endpoints))
    assert.equal("function", type(oa.new))
  end)
end)
