-- The fake stays consistent through every cascade: delete each kind of owner, then list every
-- collection that referenced it (each list must answer 200 and no longer name it, or name it
-- the way the API does: a key of a deleted user stays, its owner inactive).
local json = require("openai_admin.json")
local api = require("openai_admin.api")
local fake_app = require("openai_admin.fake.app")

local KEY = "sk-admin-fake-key"
local ROW = {}
for _, r in ipairs(api) do ROW[r.sdk_path] = r end
local A = "admin.organization."

local function call(app, sdk, params, body, query)
  local row = assert(ROW[A .. sdk], sdk)
  local path = "/v1" .. row.path:gsub("{([%w_]+)}", function(n) return assert(params[n], n) end)
  local paged = row.method == "GET" and row.pagination
  local resp = app:handle({ method = row.method, path = path, query = query or (paged and "limit=100" or ""),
    headers = { authorization = "Bearer " .. KEY }, conn_id = 1,
    body = body and assert(json.encode(body)) or nil })
  return resp.status, json.decode(resp.body)
end

local function ok(app, sdk, params, body, query)
  local status, obj = call(app, sdk, params, body, query)
  assert.equal(200, status, sdk .. ": " .. json.encode(obj))
  return obj
end

local function ids(list, field)
  local s = {}
  for _, x in ipairs(list.data) do s[x[field or "id"]] = x end
  return s
end

local function control(app, path, body)
  local resp = app:handle({ method = "POST", path = path, query = "", headers = {}, conn_id = 1,
    body = assert(json.encode(body)) })
  assert.equal(200, resp.status, resp.body)
  return json.decode(resp.body)
end

describe("fake cascades", function()
  local app, pid, uid
  before_each(function()
    app = fake_app.new({ admin_key = KEY, seed = 3, seed_data = { projects = 2, users = 4, groups = 2, roles = 1 } })
    pid = ok(app, "projects.list", {}).data[1].id
    -- a member (not the owner) of the first project
    for _, m in ipairs(ok(app, "projects.users.list", { project_id = pid }).data) do
      if m.role ~= "owner" then uid = m.id end
    end
    assert.truthy(uid)
  end)

  it("deleting a user who owns project keys, groups and roles leaves every list answering", function()
    local key = control(app, "/_fake/projects/" .. pid .. "/api_keys", { user_id = uid, name = "theirs" })
    local gid = ok(app, "groups.list", {}).data[1].id
    ok(app, "groups.users.create", { group_id = gid }, { user_id = uid }) -- may already be there: fine below
    local role = ok(app, "roles.list", {}).data[1].id
    ok(app, "users.roles.create", { user_id = uid }, { role_id = role })
    local prole = ok(app, "projects.roles.create", { project_id = pid },
      { role_name = "Key reader", permissions = { "api.keys.read" } })
    ok(app, "projects.users.roles.create", { project_id = pid, user_id = uid }, { role_id = prole.id })

    ok(app, "users.delete", { user_id = uid })

    local keys = ids(ok(app, "projects.api_keys.list", { project_id = pid }))
    local k = assert(keys[key.id], "the key of a deleted user is still listed")
    assert.equal(uid, k.owner.user.id)
    assert.equal("inactive", k.owner_project_access)
    assert.equal(json.null ~= k.owner.user.email, true)
    assert.is_string(k.owner.user.email) -- from the snapshot taken at deletion
    ok(app, "projects.api_keys.retrieve", { project_id = pid, api_key_id = key.id })
    local inactive = ids(ok(app, "projects.api_keys.list", { project_id = pid }, nil, "owner_project_access=inactive"))
    assert.truthy(inactive[key.id])
    assert.is_nil(ids(ok(app, "projects.users.list", { project_id = pid }))[uid])
    assert.is_nil(ids(ok(app, "users.list", {}))[uid])
    assert.equal(404, (call(app, "users.retrieve", { user_id = uid })))
    for _, g in ipairs(ok(app, "groups.list", {}).data) do
      assert.is_nil(ids(ok(app, "groups.users.list", { group_id = g.id }))[uid])
    end
    assert.equal(404, (call(app, "users.roles.list", { user_id = uid })))
    assert.equal(404, (call(app, "projects.users.roles.list", { project_id = pid, user_id = uid })))
    -- rendering everything else still works
    for p in pairs(ids(ok(app, "projects.list", {}, nil, "include_archived=true"))) do
      ok(app, "projects.api_keys.list", { project_id = p })
      ok(app, "projects.users.list", { project_id = p })
    end
    ok(app, "roles.list", {})
    ok(app, "audit_logs.list", {})
  end)

  it("deleting a service account removes its keys from the project's key list", function()
    local sa = ok(app, "projects.service_accounts.create", { project_id = pid }, { name = "bot" })
    local extra = ok(app, "projects.service_accounts.api_keys.create",
      { project_id = pid, service_account_id = sa.id }, { name = "second" })
    ok(app, "projects.service_accounts.delete", { project_id = pid, service_account_id = sa.id })
    local keys = ids(ok(app, "projects.api_keys.list", { project_id = pid }))
    assert.is_nil(keys[sa.api_key.id])
    assert.is_nil(keys[extra.id])
    assert.is_nil(ids(ok(app, "projects.service_accounts.list", { project_id = pid }))[sa.id])
    assert.equal(404, (call(app, "projects.api_keys.retrieve", { project_id = pid, api_key_id = extra.id })))
  end)

  it("deleting a group removes its memberships, project grants and role assignments", function()
    local g = ok(app, "groups.create", {}, { name = "Temp" })
    ok(app, "groups.users.create", { group_id = g.id }, { user_id = uid })
    ok(app, "projects.groups.create", { project_id = pid }, { group_id = g.id, role = "member" })
    local role = ok(app, "roles.list", {}).data[1].id
    ok(app, "groups.roles.create", { group_id = g.id }, { role_id = role })
    ok(app, "groups.delete", { group_id = g.id })
    assert.is_nil(ids(ok(app, "groups.list", {}))[g.id])
    assert.is_nil(ids(ok(app, "projects.groups.list", { project_id = pid }), "group_id")[g.id])
    assert.equal(404, (call(app, "groups.users.list", { group_id = g.id })))
    assert.equal(404, (call(app, "groups.roles.list", { group_id = g.id })))
    ok(app, "users.retrieve", { user_id = uid })
  end)

  it("deleting a role removes its assignments everywhere", function()
    local r = ok(app, "roles.create", {}, { role_name = "Temp role", permissions = { "api.groups.read" } })
    ok(app, "users.roles.create", { user_id = uid }, { role_id = r.id })
    local gid = ok(app, "groups.list", {}).data[1].id
    ok(app, "groups.roles.create", { group_id = gid }, { role_id = r.id })
    ok(app, "roles.delete", { role_id = r.id })
    local function has(list)
      for _, x in ipairs(list.data) do if (x.role and x.role.id or x.id) == r.id then return true end end
      return false
    end
    assert.is_false(has(ok(app, "users.roles.list", { user_id = uid })))
    assert.is_false(has(ok(app, "groups.roles.list", { group_id = gid })))
  end)

  it("deleting a project role removes its assignments to members and groups", function()
    local r = ok(app, "projects.roles.create", { project_id = pid },
      { role_name = "Temp", permissions = { "api.keys.read" } })
    ok(app, "projects.users.roles.create", { project_id = pid, user_id = uid }, { role_id = r.id })
    local g = ok(app, "groups.list", {}).data[1]
    ok(app, "projects.groups.create", { project_id = pid }, { group_id = g.id, role = "member" })
    ok(app, "projects.groups.roles.create", { project_id = pid, group_id = g.id }, { role_id = r.id })
    ok(app, "projects.roles.delete", { project_id = pid, role_id = r.id })
    for _, x in ipairs(ok(app, "projects.users.roles.list", { project_id = pid, user_id = uid }).data) do
      assert.are_not.equal(r.id, x.id)
    end
    for _, x in ipairs(ok(app, "projects.groups.roles.list", { project_id = pid, group_id = g.id }).data) do
      assert.are_not.equal(r.id, x.id)
    end
    assert.equal(404, (call(app, "projects.roles.retrieve", { project_id = pid, role_id = r.id })))
  end)

  it("removing a user from a project keeps their key listed with inactive access", function()
    local key = control(app, "/_fake/projects/" .. pid .. "/api_keys", { user_id = uid })
    ok(app, "projects.users.delete", { project_id = pid, user_id = uid })
    local k = ids(ok(app, "projects.api_keys.list", { project_id = pid }))[key.id]
    assert.equal("inactive", k.owner_project_access)
    assert.equal(uid, k.owner.user.id)
  end)

  it("deleting an admin key ends its authentication and its listing", function()
    local owner = ok(app, "users.list", {}).data[1].id
    local created = control(app, "/_fake/admin_api_keys", { user_id = owner, name = "temp" })
    assert.is_string(created.value)
    local resp = app:handle({ method = "GET", path = "/v1/organization/projects", query = "",
      headers = { authorization = "Bearer " .. created.value }, conn_id = 1 })
    assert.equal(200, resp.status)
    ok(app, "admin_api_keys.delete", { key_id = created.id })
    assert.is_nil(ids(ok(app, "admin_api_keys.list", {}))[created.id])
    resp = app:handle({ method = "GET", path = "/v1/organization/projects", query = "",
      headers = { authorization = "Bearer " .. created.value }, conn_id = 1 })
    assert.equal(401, resp.status)
  end)
end)
