-- Key rotation and offboarding against the fake.
local fake = require("helpers.fake")
local openai_admin = require("openai_admin")
local json = require("openai_admin.json")
local jobs = require("openai_admin.jobs")

local function raises(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return err
end

local function writes(f)
  local n = {}
  for _, r in ipairs(f:request_log()) do
    if r.method ~= "GET" then n[#n + 1] = r.method .. " " .. r.path end
  end
  return n
end

describe("jobs: rotate a service account key", function()
  local f, client, org, pid, sa
  setup(function()
    f = fake.start{ seed = 21, projects = 2, users = 3 }
    client = openai_admin.new{ base_url = f.base_url, admin_key = f.admin_key }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)
  before_each(function()
    f:reset()
    pid = org.projects:list():collect()[1].id
    sa = org.projects.service_accounts:list(pid):collect()[1]
    f:clear_requests()
  end)

  local function sa_keys()
    return jobs.lookups.service_account_keys(client, pid, sa.id)
  end

  it("dry run: a plan, no change", function()
    local old = sa_keys()[1]
    local r = jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, dry_run = true })
    assert.is_true(r.dry_run)
    assert.equal(old.id, r.plan.old_key.id)
    assert.equal(4, #r.plan.steps)
    assert.is_nil(r.new_key)
    assert.same({}, writes(f))
  end)

  it("creates, hands over (file 0600), verifies, deletes the old: exactly one key, the secret nowhere else", function()
    local old = sa_keys()[1]
    local path = os.tmpname()
    os.remove(path)
    local verified
    local r = jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true,
      handover = { file = path }, verify = function(k) verified = k.id; return true end })
    local keys = sa_keys()
    assert.equal(1, #keys)
    assert.equal(r.new_key.id, keys[1].id)
    assert.are_not.equal(old.id, keys[1].id)
    assert.equal(r.new_key.id, verified)
    assert.is_true(r.old_key_deleted)
    local fh = assert(io.open(path))
    local secret = fh:read("l")
    fh:close()
    assert.matches("^sk%-svcacct%-", secret)
    local mode = io.popen("stat -c %a " .. path):read("l")
    assert.equal("600", mode)
    os.remove(path)
    -- the secret is in none of: the result, the plan, the request log, the fake's log
    assert.is_nil(assert(json.encode({ r.plan.steps, r.new_key, r.old_key_id })):find(secret, 1, true))
    assert.is_nil(assert(json.encode(f:request_log())):find(secret, 1, true))
    assert.is_nil(f:log():find(secret, 1, true))
    for k, v in pairs(r) do assert.is_false(tostring(v):find(secret, 1, true) ~= nil, k) end
    -- and none of the client's log lines, at the most verbose level
    local logged = {}
    local logging = openai_admin.new{ base_url = f.base_url, admin_key = f.admin_key, log_level = "debug",
      logger = function(...) for i = 1, select("#", ...) do logged[#logged + 1] = tostring(select(i, ...)) end end }
    local got
    jobs.rotate.rotate(logging, { project_id = pid, service_account_id = sa.id, confirm = true,
      handover = function(s) got = s end })
    logging:close()
    assert.matches("^sk%-svcacct%-", got)
    assert.is_nil(table.concat(logged, "\n"):find(got, 1, true))
    -- refuses to write a secret into an existing file
    local existing = os.tmpname()
    local err = raises(function()
      jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true,
        handover = { file = existing } })
    end)
    os.remove(existing)
    assert.equal("invalid_argument", err.kind)
  end)

  it("keeps the old key and reports the new key's id when deleting the old fails", function()
    local old = sa_keys()[1]
    f:fault{ method = "DELETE", path = "/organization/projects/" .. pid .. "/api_keys/" .. old.id, status = 400 }
    local got
    local err = raises(function()
      jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true,
        handover = function(secret) got = secret end })
    end)
    assert.equal("job", err.kind)
    assert.is_string(err.new_key_id)
    assert.equal(old.id, err.old_key_id)
    assert.matches(err.new_key_id, tostring(err))
    assert.is_nil(tostring(err):find(got, 1, true))
    local ids = {}
    for _, k in ipairs(sa_keys()) do ids[k.id] = true end
    assert.is_true(ids[old.id] and ids[err.new_key_id])
  end)

  it("a failed handover or a refused verification keeps the old key", function()
    local old = sa_keys()[1]
    local err = raises(function()
      jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true,
        handover = function() error("vault unreachable") end })
    end)
    assert.is_true(err.new_key_deleted)
    assert.matches("vault unreachable", tostring(err))
    local keys = sa_keys()
    assert.equal(1, #keys)
    assert.equal(old.id, keys[1].id)
    err = raises(function()
      jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true,
        handover = function() end, verify = function() return false end })
    end)
    assert.equal("verify", err.step)
    assert.equal(2, #sa_keys())
  end)

  it("asks which key when the account has several; unconfirmed does nothing", function()
    org.projects.service_accounts.api_keys:create(pid, sa.id, { name = "second" })
    f:clear_requests()
    local err = raises(function()
      jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, confirm = true, handover = print })
    end)
    assert.equal("invalid_argument", err.kind)
    assert.equal("key_id", err.param)
    local r = jobs.rotate.rotate(client, { project_id = pid, service_account_id = sa.id, key_id = sa_keys()[1].id,
      handover = print, confirm = function() return false end })
    assert.is_nil(r.new_key)
    assert.same({}, writes(f))
  end)
end)

describe("jobs: offboard a user", function()
  local f, client, org
  setup(function()
    f = fake.start{ seed = 22, projects = 3, users = 5, groups = 2, roles = 1 }
    client = openai_admin.new{ base_url = f.base_url, admin_key = f.admin_key }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  -- a user tied to everything: two projects (owner of one, with the seeded owner), a group, an org
  -- role, a project role, a project key, an admin key
  local function entangled()
    f:reset()
    local users = org.users:list():collect()
    local u = users[3]
    local projects = org.projects:list():collect()
    local p1, p2 = projects[1], projects[2]
    local function member_of(p)
      for _, m in ipairs(org.projects.users:list(p.id):collect()) do if m.id == u.id then return true end end
    end
    for _, p in ipairs({ p1, p2 }) do
      if not member_of(p) then org.projects.users:create(p.id, { user_id = u.id, role = "member" }) end
    end
    org.projects.users:update(p1.id, u.id, { role = "owner" })
    local g = org.groups:list():collect()[1]
    pcall(org.groups.users.create, org.groups.users, g.id, { user_id = u.id })
    org.users.roles:create(u.id, { role_id = org.roles:list():collect()[1].id })
    local prole = org.projects.roles:create(p2.id, { role_name = "Reader", permissions = { "api.keys.read" } })
    org.projects.users.roles:create(p2.id, u.id, { role_id = prole.id })
    f:control("POST", "/_fake/projects/" .. p1.id .. "/api_keys", { user_id = u.id, name = "laptop" })
    f:control("POST", "/_fake/admin_api_keys", { user_id = u.id, name = "their admin key" })
    return u, p1, p2, g
  end

  local function traces(u)
    local t = {}
    local ok = pcall(org.users.retrieve, org.users, u.id)
    if ok then t[#t + 1] = "user" end
    for _, p in ipairs(org.projects:list{ include_archived = true }:collect()) do
      for _, m in ipairs(org.projects.users:list(p.id):collect()) do
        if m.id == u.id then t[#t + 1] = "member of " .. p.id end
      end
      for _, k in ipairs(org.projects.api_keys:list(p.id):collect()) do
        if k.owner.user and k.owner.user.id == u.id then t[#t + 1] = "key " .. k.id end
      end
    end
    for _, g in ipairs(org.groups:list():collect()) do
      for _, m in ipairs(org.groups.users:list(g.id):collect()) do
        if m.id == u.id then t[#t + 1] = "group " .. g.id end
      end
    end
    for _, k in ipairs(org.admin_api_keys:list():collect()) do
      if k.owner.id == u.id then t[#t + 1] = "admin key " .. k.id end
    end
    for _, inv in ipairs(org.invites:list():collect()) do
      if inv.email:lower() == u.email:lower() and inv.status == "pending" then t[#t + 1] = "invite " .. inv.id end
    end
    return t
  end

  it("plans every trace, removes them all and the user; a re-run is a no-op", function()
    local u = entangled()
    local before = f:control("GET", "/_fake/state").counts
    f:clear_requests()
    local dry = jobs.offboard.offboard(client, { user = u.email, dry_run = true, admin_key = f.admin_key })
    assert.same({}, writes(f))
    local actions = {}
    for _, s in ipairs(dry.plan.steps) do actions[s.action] = (actions[s.action] or 0) + 1 end
    assert.same({ delete_project_key = 1, delete_admin_key = 1, remove_project_role = 1, remove_org_role = 1,
      remove_from_group = 1, remove_from_project = 2, delete_user = 1 }, actions)
    assert.equal("delete_user", dry.plan.steps[#dry.plan.steps].action)
    assert.equal("delete_project_key", dry.plan.steps[1].action)

    local r = jobs.offboard.offboard(client, { user = u.email, confirm = true, admin_key = f.admin_key })
    assert.equal(#dry.plan.steps, #r.done)
    assert.same({}, traces(u))
    local after = f:control("GET", "/_fake/state").counts
    assert.equal(before.users - 1, after.users)
    assert.equal(before.admin_api_keys - 1, after.admin_api_keys)
    assert.equal(before.project_api_keys - 1, after.project_api_keys)
    assert.equal(before.project_users - 2, after.project_users)

    f:clear_requests()
    local again = jobs.offboard.offboard(client, { user = u.email, confirm = true, admin_key = f.admin_key })
    assert.is_true(again.nothing_to_do)
    assert.same({}, writes(f))
    again = jobs.offboard.offboard(client, { user = u.id, confirm = true, admin_key = f.admin_key })
    assert.is_true(again.nothing_to_do)
    assert.same({}, writes(f))
  end)

  it("after a partial failure, a re-run finishes and repeats nothing already done", function()
    local u, _, _, g = entangled()
    f:fault{ method = "DELETE", path = "/organization/groups/" .. g.id .. "/users/" .. u.id, status = 400 }
    f:clear_requests()
    local err = raises(function()
      jobs.offboard.offboard(client, { user = u.id, confirm = true, admin_key = f.admin_key })
    end)
    assert.equal("job", err.kind)
    assert.matches("run it again", tostring(err))
    local first = writes(f)
    assert.is_true(#first >= 4)
    f:clear_requests()
    jobs.offboard.offboard(client, { user = u.id, confirm = true, admin_key = f.admin_key })
    local second = writes(f)
    local done_before = {}
    for _, w in ipairs(first) do done_before[w] = true end
    done_before[first[#first]] = nil -- the failed one is retried
    for _, w in ipairs(second) do assert.is_nil(done_before[w], "repeated: " .. w) end
    assert.same({}, traces(u))
  end)

  it("stops before any change when the calling admin key is the user's", function()
    f:reset()
    local owner = org.users:list():collect()[1] -- owns the key the fake was started with
    f:control("POST", "/_fake/invites/" .. org.invites:list():collect()[1].id .. "/accept")
    org.users:update(org.users:list():collect()[2].id, { role = "owner" }) -- not the only org owner
    f:clear_requests()
    local err = raises(function()
      jobs.offboard.offboard(client, { user = owner.id, confirm = true, admin_key = f.admin_key })
    end)
    assert.equal("job", err.kind)
    assert.matches("admin key making these calls", tostring(err))
    assert.same({}, writes(f))
    assert.is_nil(tostring(err):find(f.admin_key, 1, true))
    -- without a way to tell the calling key apart, it stops too
    err = raises(function()
      jobs.offboard.offboard(client, { user = owner.id, confirm = true, admin_key = "sk-admin-unrelated-0000" })
    end)
    assert.matches("cannot tell which admin key", tostring(err))
    assert.same({}, writes(f))
  end)

  it("someone invited but not yet joined: the pending invite is deleted", function()
    f:reset()
    local inv = org.invites:create{ email = "leaver@example.com", role = "reader" }
    local r = jobs.offboard.offboard(client, { user = "Leaver@example.com", confirm = true })
    assert.equal(1, #r.done)
    assert.equal("delete_invite", r.done[1].action)
    assert.equal(404, (f:request("GET", "/v1/organization/invites/" .. inv.id)))
    f:clear_requests()
    assert.is_true(jobs.offboard.offboard(client, { user = "leaver@example.com", confirm = true }).nothing_to_do)
    assert.same({}, writes(f))
  end)

  it("stops and names the project it would leave without an owner", function()
    f:reset()
    local u = org.users:list():collect()[4]
    local p = org.projects:create{ name = "Solo" }
    org.projects.users:create(p.id, { user_id = u.id, role = "owner" })
    f:clear_requests()
    local err = raises(function()
      jobs.offboard.offboard(client, { user = u.id, confirm = true, admin_key = f.admin_key })
    end)
    assert.matches("only owner of project " .. p.id, tostring(err))
    assert.same({}, writes(f))
    assert.equal(u.id, org.users:retrieve(u.id).id)
  end)
end)
