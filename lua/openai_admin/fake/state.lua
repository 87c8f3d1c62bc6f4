--- The fake organization's state: collections, per-project data, seeding and renderers.
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")
local store = require("openai_admin.fake.store")
local audit = require("openai_admin.fake.audit")
local usage = require("openai_admin.fake.usage")

local null = json.null
local coll = store.coll
local arr = json.array

local M = {}

-- Seeded objects and events are dated relative to the moment the state is created (the fake's
-- start or reset): users joined about 300 days ago, projects and their keys about 200 days ago,
-- and the seeded audit events end now, so "the last 7 days" of a fresh fake holds its seed.

local FIRST = { "Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Margaret", "John", "Frances",
  "Radia", "Ken", "Dennis", "Hedy", "Claude", "Lynn", "Niklaus", "Sophie", "Tim", "Shafi" }
local LAST = { "Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Backus",
  "Allen", "Perlman", "Thompson", "Ritchie", "Lamarr", "Shannon", "Conway", "Wirth", "Wilson", "Berners-Lee",
  "Goldwasser" }
local PROJECT_NAMES = { "Support Bot", "Data Pipeline", "Research", "Evals", "Marketing Site", "Search",
  "Internal Tools", "Mobile App", "Analytics", "Sandbox" }

M.RATE_LIMIT_MODELS = {
  { "gpt-4o", "text" }, { "gpt-4o-mini", "text" }, { "o3", "text" },
  { "text-embedding-3-small", "embed" }, { "dall-e-3", "image" }, { "whisper-1", "audio" },
}

local State = {}
State.__index = State
M.State = State

function State:id(prefix, n, upper)
  local s = self.rng:alnum(n or 16)
  if upper then s = s:upper() end
  return prefix .. s
end

function State:now()
  return self.clock()
end

-- per project data
function State:pdata(pid)
  local pd = self.pd[pid]
  if not pd then
    pd = {
      users = coll(), svcs = coll(), keys = coll(), groups = coll(), roles = coll(), alerts = coll(),
      user_roles = {}, group_roles = {}, certs_active = {},
      retention = "organization_default",
      model_perms = nil, limit = nil,
      tools = {
        code_interpreter = { enabled = true }, file_search = { enabled = true },
        image_generation = { enabled = true }, mcp = { enabled = true }, web_search = { enabled = true },
      },
      tier = { default = "standard", enabled_tiers = arr({ "flex" }) },
    }
    pd.users.key = "user_id"
    pd.groups.key = "group_id"
    self.pd[pid] = pd
  end
  return pd
end

function State:rate_limits(pid)
  local pd = self:pdata(pid)
  if not pd.rate_limits then
    local c = coll()
    for _, m in ipairs(M.RATE_LIMIT_MODELS) do
      local model, kind = m[1], m[2]
      local r = { object = "project.rate_limit", id = "rl-" .. model, model = model }
      if kind == "text" then
        r.max_requests_per_1_minute = 10000
        r.max_tokens_per_1_minute = model == "o3" and 2000000 or 10000000
        r.max_requests_per_1_day = 14400000
        r.batch_1_day_max_input_tokens = 1000000000
      elseif kind == "embed" then
        r.max_requests_per_1_minute = 10000
        r.max_tokens_per_1_minute = 10000000
        r.batch_1_day_max_input_tokens = 4000000000
      elseif kind == "image" then
        r.max_requests_per_1_minute = 500
        r.max_tokens_per_1_minute = 0
        r.max_images_per_1_minute = 50
      else
        r.max_requests_per_1_minute = 500
        r.max_tokens_per_1_minute = 0
        r.max_audio_megabytes_per_1_minute = 100
      end
      c:add(r)
    end
    pd.rate_limits = c
  end
  return pd.rate_limits
end

function State:user_projects(uid)
  local t = self.uproj[uid]
  if not t then t = {}; self.uproj[uid] = t end
  return t
end

function State:user_by_email(email)
  if type(email) ~= "string" then return nil end
  local id = self.email_idx[email:lower()]
  return id and self.users:get(id)
end

-- renderers ---------------------------------------------------------------------------------

function State:render_user(u)
  local out = util.public(u)
  local list = {}
  local set = self.uproj[u.id]
  if set then
    for pid in pairs(set) do
      local p = self.projects:get(pid)
      local m = self:pdata(pid).users:get(u.id)
      if p and m then list[#list + 1] = { _seq = p._seq, id = p.id, name = p.name, role = m.role } end
    end
    table.sort(list, function(a, b) return a._seq < b._seq end)
    for i, x in ipairs(list) do list[i] = { id = x.id, name = x.name, role = x.role } end
  end
  out.projects = { object = "list", data = arr(list) }
  return out
end

function State:render_project_user(_, m)
  local u = self.users:get(m.user_id)
  return {
    object = "organization.project.user",
    id = m.user_id,
    name = u and u.name or null,
    email = u and u.email or null,
    role = m.role,
    added_at = m.added_at,
  }
end

function State:render_project_key(pid, k)
  local out = util.public(k)
  local pd = self:pdata(pid)
  if k._owner_type == "service_account" then
    local s = pd.svcs:get(k._owner_id) or k._owner_snapshot
    out.owner = {
      type = "service_account",
      service_account = { id = s.id, name = s.name, role = s.role, created_at = s.created_at },
    }
    out.owner_project_access = pd.svcs:get(k._owner_id) and "active" or "inactive"
  else
    -- a key outlives its owner's membership (and the owner): it then renders from the snapshot
    -- taken when the user was deleted
    local u = self.users:get(k._owner_id) or k._owner_snapshot
      or { id = k._owner_id, name = null, email = null, created = null }
    local m = pd.users:get(k._owner_id)
    out.owner = {
      type = "user",
      user = { id = u.id, name = u.name, email = u.email, role = m and m.role or "member", created_at = u.created },
    }
    out.owner_project_access = m and "active" or "inactive"
  end
  return out
end

function M.role_obj(r)
  return {
    object = "role", id = r.id, name = r.name, description = r.description,
    permissions = util.copy_array(r.permissions), resource_type = r.resource_type,
    predefined_role = r.predefined_role,
  }
end

function State:user_brief(uid)
  local u = self.users:get(uid) or self.owner
  return { id = u.id, name = u.name, email = u.email }
end

function State:role_assignment_item(r, principal_id, principal_type)
  return {
    id = r.id, name = r.name, description = r.description,
    permissions = util.copy_array(r.permissions), resource_type = r.resource_type,
    predefined_role = r.predefined_role,
    assignment_sources = arr({ { principal_id = principal_id, principal_type = principal_type } }),
    created_at = r.created_at, created_by = r._created_by,
    created_by_user_obj = self:user_brief(r._created_by),
    metadata = {}, updated_at = r.updated_at,
  }
end

function M.group_brief(g)
  return { object = "group", id = g.id, name = g.name, created_at = g.created_at, scim_managed = g.is_scim_managed }
end

function M.cert_details(c, with_content)
  local d = { valid_at = c._valid_at, expires_at = c._expires_at }
  if with_content then d.content = c._content end
  return d
end

function M.render_cert(c, with_content)
  return {
    object = "certificate", id = c.id, name = c.name, created_at = c.created_at,
    certificate_details = M.cert_details(c, with_content),
  }
end

function M.render_org_cert(c)
  return {
    object = "organization.certificate", id = c.id, name = c.name, active = c._active and true or false,
    created_at = c.created_at, certificate_details = M.cert_details(c, false),
  }
end

function State:render_project_cert(pid, c)
  return {
    object = "organization.project.certificate", id = c.id, name = c.name,
    active = self:pdata(pid).certs_active[c.id] and true or false,
    created_at = c.created_at, certificate_details = M.cert_details(c, false),
  }
end

-- mutations shared by several handlers --------------------------------------------------------

function State:add_project_member(pid, uid, role, t)
  local pd = self:pdata(pid)
  local m = pd.users:add({ user_id = uid, role = role, added_at = t })
  self:user_projects(uid)[pid] = true
  return m
end

--- A user leaves the organization: their memberships, group memberships and role assignments
--- go; the project API keys they own stay (as the API keeps them), rendering their owner from a
--- snapshot with owner_project_access "inactive".
function State:remove_user(u)
  for pid in pairs(self.uproj[u.id] or {}) do self:remove_project_member(pid, u.id) end
  self.uproj[u.id] = nil
  for _, gu in pairs(self.group_users) do gu:remove(u.id) end
  self.user_roles[u.id] = nil
  for _, pd in pairs(self.pd) do
    pd.user_roles[u.id] = nil
    for k in pd.keys:each() do
      if k._owner_type == "user" and k._owner_id == u.id then
        k._owner_snapshot = { id = u.id, name = u.name, email = u.email, created = u.created }
      end
    end
  end
  self.users:remove(u.id)
  self.email_idx[u.email:lower()] = nil
end

function State:remove_project_member(pid, uid)
  local pd = self:pdata(pid)
  pd.users:remove(uid)
  pd.user_roles[uid] = nil
  local set = self.uproj[uid]
  if set then set[pid] = nil end
end

local function secret(self, prefix, n)
  return prefix .. self.rng:alnum(n)
end

function M.redact(value, prefix)
  return prefix .. "..." .. value:sub(-4)
end

function State:new_project_key(pid, opts)
  local value = secret(self, opts.svc and "sk-svcacct-" or "sk-proj-", 48)
  local t = opts.created_at or self:now()
  local k = {
    object = "organization.project.api_key",
    id = self:id("key_", 16),
    name = opts.name or "Secret Key",
    redacted_value = M.redact(value, opts.svc and "sk-svcacct-" or "sk-proj-"),
    created_at = t,
    last_used_at = null,
    expires_at = opts.expires_in and (t + opts.expires_in) or null,
    _owner_type = opts.svc and "service_account" or "user",
    _owner_id = opts.owner_id,
    _scopes = opts.scopes,
    _value = value,
  }
  self:pdata(pid).keys:add(k)
  return k, value
end

function State:new_admin_key(name, value, t, expires_in)
  local owner = self.owner
  local k = {
    object = "organization.admin_api_key",
    id = self:id("key_", 16),
    name = name,
    redacted_value = M.redact(value, "sk-admin"),
    created_at = t,
    last_used_at = null,
    expires_at = expires_in and (t + expires_in) or null,
    owner = {
      type = "user", object = "organization.user", id = owner.id, name = owner.name,
      created_at = owner.created, role = "owner",
    },
    _value = value,
  }
  self.admin_keys:add(k)
  self.key_by_value[value] = k.id
  return k
end

--- Simulates the invitee accepting: the user joins the organization and the invite's projects.
--- Returns the new user, or nil and { status, message, code }.
function State:accept_invite(id, now)
  local inv = self.invites:get(id)
  if not inv then
    return nil, { status = 404, message = "No invite found with id '" .. id .. "'.", code = "not_found" }
  end
  if inv.status ~= "pending" then
    return nil, { status = 400, message = "Invite '" .. id .. "' is " .. inv.status .. ".",
      code = "invite_not_pending" }
  end
  if self:user_by_email(inv.email) then
    return nil, { status = 400, message = inv.email .. " is already a member.", code = "user_already_member" }
  end
  local localpart = inv.email:match("^([^@]+)") or inv.email
  local name = localpart:gsub("[._-]+", " "):gsub("(%a)(%w*)", function(a, b) return a:upper() .. b end)
  local u = self.users:add({
    object = "organization.user", id = self:id("user_", 24), name = name, email = inv.email, role = inv.role,
    added_at = now, created = now, api_key_last_used_at = null, is_default = false, is_scim_managed = false,
    is_service_account = false, developer_persona = null, technical_level = null,
  })
  self.email_idx[inv.email:lower()] = u.id
  for _, pr in ipairs(inv.projects) do
    local p = self.projects:get(pr.id)
    if p and p.status ~= "archived" and not self:pdata(p.id).users:get(u.id) then
      self:add_project_member(p.id, u.id, pr.role, now)
    end
  end
  inv.status = "accepted"
  inv.accepted_at = now
  self.audit:record("invite.accepted", { id = inv.id, data = { email = inv.email, user_id = u.id } }, nil, now)
  return u
end

-- seeding --------------------------------------------------------------------------------------

-- Seeded keys look used like in a living organization: in turn recently (the last hour), long ago
-- (four months) and never (null).
function State:seed_key_usage(k)
  self.seeded_keys = (self.seeded_keys or 0) + 1
  local i = self.seeded_keys
  local T = self.seeded_at
  if i % 3 == 1 then
    k.last_used_at = T - (i * 137) % 3600
  elseif i % 3 == 2 then
    k.last_used_at = T - 120 * 86400 - i * 3600
  end
  return k
end

local DEFAULT_SEED = { projects = 3, users = 5, groups = 2, invites = 2, certificates = 1, roles = 2,
  audit_events = 50, service_accounts = 1, api_keys = 1 }

function M.new(opts)
  local self = setmetatable({}, State)
  self.seed = opts.seed or 1
  self.clock = opts.clock or os.time
  self.rng = util.rng(util.hash(self.seed, "ids"))
  local sd = opts.seed_data
  -- missing counts take the defaults; with users = 0 (an empty org) the extras default to 0 too
  local n = {}
  sd = type(sd) == "table" and sd or {}
  for k, v in pairs(DEFAULT_SEED) do
    local given_n = math.tointeger(sd[k])
    if given_n and given_n < 0 then given_n = 0 end
    n[k] = given_n or v
  end
  if n.users == 0 then
    for _, k in ipairs({ "groups", "invites", "certificates", "roles" }) do
      if sd[k] == nil then n[k] = 0 end
    end
  end
  self.counts = n
  self.org_id = "org-" .. self.rng:alnum(24)

  self.projects, self.users, self.invites, self.groups = coll(), coll(), coll(), coll()
  self.roles, self.certs, self.admin_keys, self.ext_keys = coll(), coll(), coll(), coll()
  self.ext_storage, self.wips, self.alerts = coll(), coll(), coll()
  self.pd, self.uproj, self.email_idx, self.key_by_value = {}, {}, {}, {}
  self.user_roles, self.group_users, self.group_roles, self.wip_rules = {}, {}, {}, {}
  self.retention = "zero_data_retention"
  self.spend_limit = nil

  local T = math.tointeger(self.clock()) or math.floor(self.clock())
  self.seeded_at = T
  -- users
  local users_snap = {}
  for i = 1, n.users do
    local fi, li = (i - 1) % #FIRST + 1, ((i - 1) // #FIRST + (i - 1)) % #LAST + 1
    local suffix = i > #FIRST and tostring(i) or ""
    local name = FIRST[fi] .. " " .. LAST[li] .. (suffix ~= "" and (" " .. suffix) or "")
    local email = (FIRST[fi] .. "." .. LAST[li] .. suffix):lower() .. "@example.com"
    local u = self.users:add({
      object = "organization.user", id = self:id("user_", 24), name = name, email = email,
      role = i == 1 and "owner" or "reader",
      added_at = T - 300 * 86400 - (n.users - i + 1) * 3600, created = T - 300 * 86400 - (n.users - i + 1) * 3600 - 400,
      api_key_last_used_at = null, is_default = i == 1, is_scim_managed = false, is_service_account = false,
      developer_persona = null, technical_level = null,
    })
    self.email_idx[email] = u.id
    users_snap[#users_snap + 1] = { id = u.id, email = u.email }
  end
  self.owner = self.users.items[1] or {
    id = "user_" .. util.alnum_of(util.hash(self.seed, "owner"), 24), name = "Fake Owner",
    email = "owner@example.com", created = T - 86400 * 365,
  }
  -- the admin key the fake was started with
  self.primary_key = self:new_admin_key("Fake admin key", opts.admin_key, T - 86400 * 30, nil)
  -- projects
  local proj_snap = {}
  for i = 1, n.projects do
    local base = PROJECT_NAMES[(i - 1) % #PROJECT_NAMES + 1]
    local name = i > #PROJECT_NAMES and (base .. " " .. i) or base
    local t = T - 200 * 86400 - (n.projects - i + 1) * 7200
    local p = self.projects:add({
      id = self:id("proj_", 24), object = "organization.project", name = name, created_at = t,
      archived_at = null, status = "active",
    })
    proj_snap[#proj_snap + 1] = { id = p.id, name = p.name }
    self:pdata(p.id)
    if n.users >= 1 then
      self:add_project_member(p.id, self.users.items[1].id, "owner", t)
      for _ = 1, n.api_keys do
        self:seed_key_usage(self:new_project_key(p.id,
          { name = name .. " key", owner_id = self.users.items[1].id, created_at = t }))
      end
    end
    for s = 1, n.service_accounts do
      local svc = self:pdata(p.id).svcs:add({
        object = "organization.project.service_account", id = self:id("svc_acct_", 16),
        name = name .. " bot " .. s, role = "member", created_at = t + s,
      })
      self:seed_key_usage(self:new_project_key(p.id, { svc = true, owner_id = svc.id, created_at = t + s }))
    end
  end
  if n.projects > 0 then
    for i = 2, n.users do
      local p = self.projects.items[(i - 2) % n.projects + 1]
      local u = self.users.items[i]
      self:add_project_member(p.id, u.id, "member", math.max(p.created_at, u.added_at))
    end
  end
  -- groups
  for i = 1, n.groups do
    local g = self.groups:add({
      id = self:id("group_01J", 10, true), name = ({ "Support Team", "Data Science", "Engineering", "Finance" })
        [(i - 1) % 4 + 1] .. (i > 4 and (" " .. i) or ""),
      created_at = T - (n.groups - i + 1) * 5000, is_scim_managed = false, group_type = "group",
    })
    local gu = coll()
    gu.key = "user_id"
    self.group_users[g.id] = gu
    for j = i, n.users, math.max(1, n.groups) do
      gu:add({ user_id = self.users.items[j].id, group_id = g.id })
    end
  end
  -- roles
  for i = 1, n.roles do
    local t = T - (n.roles - i + 1) * 6000
    self.roles:add({
      object = "role", id = self:id("role_01J", 10, true),
      name = ({ "API Group Manager", "Billing Viewer", "Key Auditor" })[(i - 1) % 3 + 1]
        .. (i > 3 and (" " .. i) or ""),
      description = "Seeded custom role", permissions = arr({ "api.groups.read", "api.groups.write" }),
      resource_type = "api.organization", predefined_role = false,
      created_at = t, updated_at = t, _created_by = self.owner.id,
    })
  end
  -- invites
  for i = 1, n.invites do
    local t = T - (n.invites - i + 1) * 3000
    self.invites:add({
      object = "organization.invite", id = self:id("invite-", 10), email = "invitee" .. i .. "@example.com",
      role = "reader", status = "pending", created_at = t, expires_at = t + 7 * 86400, accepted_at = null,
      projects = arr({}),
    })
  end
  -- certificates
  for i = 1, n.certificates do
    local t = T - (n.certificates - i + 1) * 4000
    self.certs:add({
      id = self:id("cert_", 16), name = "Seeded certificate " .. i, created_at = t,
      _valid_at = t - 86400, _expires_at = t + 365 * 86400, _active = false,
      _content = "-----BEGIN CERTIFICATE-----\nMIIB" .. self.rng:alnum(40) .. "\n-----END CERTIFICATE-----",
    })
  end
  -- usage and costs are drawn from the seeded projects, their members and keys
  local world = {}
  for p in self.projects:each() do
    local pd = self:pdata(p.id)
    local w = { id = p.id, users = {}, keys = {} }
    for m in pd.users:each() do w.users[#w.users + 1] = m.user_id end
    for k in pd.keys:each() do w.keys[#w.keys + 1] = k.id end
    world[#world + 1] = w
  end
  self.usage_world = usage.world(self.seed, world)
  self.audit = audit.new({
    seed = self.seed, count = n.audit_events, end_time = T, users = users_snap, projects = proj_snap,
    key = { id = self.primary_key.id, user = { id = self.owner.id, email = self.owner.email } },
  })
  return self
end

--- Counts per collection (for GET /_fake/state).
function State:summary()
  local project_users, svcs, keys = 0, 0, 0
  for _, pd in pairs(self.pd) do
    project_users = project_users + pd.users:count()
    svcs = svcs + pd.svcs:count()
    keys = keys + pd.keys:count()
  end
  local group_users = 0
  for _, c in pairs(self.group_users) do group_users = group_users + c:count() end
  return {
    projects = self.projects:count(), users = self.users:count(), invites = self.invites:count(),
    groups = self.groups:count(), group_users = group_users, roles = self.roles:count(),
    certificates = self.certs:count(), admin_api_keys = self.admin_keys:count(),
    external_keys = self.ext_keys:count(), external_storage = self.ext_storage:count(),
    workload_identity_providers = self.wips:count(), spend_alerts = self.alerts:count(),
    project_users = project_users, service_accounts = svcs, project_api_keys = keys,
    audit_events = self.audit:count(),
  }
end

return M
