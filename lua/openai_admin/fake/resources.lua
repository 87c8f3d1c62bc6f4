--- Handlers of the 143 endpoints, keyed by sdk_path. Each gets a context
--- c = { st, p (path params), q (validated query), b (validated body), row, now, audit(type, payload, project) }
--- and returns the response table (status 200), or raises util.fail(...).
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")
local store = require("openai_admin.fake.store")
local S = require("openai_admin.fake.state")
local usage = require("openai_admin.fake.usage")

local fail, not_found = util.fail, util.not_found
local null, arr = json.null, json.array
local page = store.page

local H = {}
local A = "admin.organization."

local function given(v) return v ~= nil and v ~= null end

-- lookups -----------------------------------------------------------------------------------

-- A finder for one collection: finder(c[, id]) returns the object whose id is given (default:
-- the path parameter `param`), or answers the API's 404 naming that parameter.
local function lookup(collection, what, param)
  return function(c, id)
    id = id or c.p[param]
    local x = c.st[collection]:get(id)
    if not x then not_found(what, id, param) end
    return x
  end
end

local project = lookup("projects", "project", "project_id")

local function active_project(c, pid)
  local p = project(c, pid)
  if p.status == "archived" then
    fail(400, string.format("Project '%s' is archived and cannot be modified.", p.id), "project_id",
      "project_archived")
  end
  return p
end

local user = lookup("users", "user", "user_id")
local group = lookup("groups", "group", "group_id")

local function org_role(c, rid)
  local r = c.st.roles:get(rid)
  if not r then not_found("role", rid, "role_id") end
  return r
end

local function project_role(c, pid, rid)
  local r = c.st:pdata(pid).roles:get(rid)
  if not r then not_found("role", rid, "role_id") end
  return r
end

local function check_role_value(v, allowed, param)
  for _, a in ipairs(allowed) do if a == v then return v end end
  fail(400, string.format("Invalid value: '%s'. Supported values are: '%s'.", tostring(v),
    table.concat(allowed, "', '")), param, "invalid_value")
end


-- admin api keys ----------------------------------------------------------------------------

H[A .. "admin_api_keys.create"] = function(c)
  local value = "sk-admin-" .. c.st.rng:alnum(48)
  local k = c.st:new_admin_key(c.b.name, value, c.now, c.b.expires_in_seconds)
  c.audit("tenant.admin_api_key.created", { id = k.id, data = { name = k.name } })
  local out = util.public(k)
  out.value = value
  return out
end
H[A .. "admin_api_keys.retrieve"] = function(c)
  local k = c.st.admin_keys:get(c.p.key_id) or not_found("admin API key", c.p.key_id, "key_id")
  return util.public(k)
end
H[A .. "admin_api_keys.list"] = function(c) return page(c.row, c.st.admin_keys, c.q) end
H[A .. "admin_api_keys.delete"] = function(c)
  local k = c.st.admin_keys:remove(c.p.key_id) or not_found("admin API key", c.p.key_id, "key_id")
  c.st.key_by_value[k._value] = nil
  c.audit("tenant.admin_api_key.deleted", { id = k.id })
  return { id = k.id, object = "organization.admin_api_key.deleted", deleted = true }
end

-- audit logs ----------------------------------------------------------------------------------

H[A .. "audit_logs.list"] = function(c) return c.st.audit:list(c.row, c.q) end

-- certificates ----------------------------------------------------------------------------------

local cert = lookup("certs", "certificate", "certificate_id")

H[A .. "certificates.create"] = function(c)
  local pem = c.b.certificate
  if not pem:find("-----BEGIN CERTIFICATE-----", 1, true) or not pem:find("-----END CERTIFICATE-----", 1, true) then
    fail(400, "Invalid certificate: expected a PEM encoded X.509 certificate.", "certificate", "invalid_certificate")
  end
  local x = c.st.certs:add({
    id = c.st:id("cert_", 16), name = given(c.b.name) and c.b.name or "Certificate", created_at = c.now,
    _valid_at = c.now - 86400, _expires_at = c.now + 365 * 86400, _active = false, _content = pem,
  })
  c.audit("certificate.created", { id = x.id, name = x.name })
  return S.render_cert(x, true)
end
H[A .. "certificates.retrieve"] = function(c)
  local with = false
  for _, v in ipairs(c.q.include or {}) do if v == "content" then with = true end end
  return S.render_cert(cert(c), with)
end
H[A .. "certificates.update"] = function(c)
  local x = cert(c)
  if given(c.b.name) then x.name = c.b.name end
  c.audit("certificate.updated", { id = x.id, name = x.name })
  return S.render_cert(x, false)
end
H[A .. "certificates.list"] = function(c) return page(c.row, c.st.certs, c.q, { render = S.render_org_cert }) end
H[A .. "certificates.delete"] = function(c)
  local x = cert(c)
  local in_use = x._active
  for _, pd in pairs(c.st.pd) do if pd.certs_active[x.id] then in_use = true end end
  if in_use then
    fail(400, string.format("Certificate '%s' is active; deactivate it before deleting it.", x.id),
      "certificate_id", "certificate_active")
  end
  c.st.certs:remove(x.id)
  c.audit("certificate.deleted", { id = x.id, name = x.name })
  return { object = "certificate.deleted", id = x.id }
end

local function cert_list(c, ids)
  local out = {}
  local seen = {}
  for i, id in ipairs(ids) do
    local x = c.st.certs:get(id)
    if not x then
      fail(404, string.format("No certificate found with id '%s'.", id), string.format("certificate_ids[%d]", i - 1),
        "not_found")
    end
    if not seen[id] then out[#out + 1] = x; seen[id] = true end
  end
  if #out == 0 then fail(400, "'certificate_ids' must not be empty.", "certificate_ids", "invalid_value") end
  return out
end

local function set_org_active(c, on, typ, envelope)
  local list = cert_list(c, c.b.certificate_ids)
  local data = {}
  for i, x in ipairs(list) do x._active = on; data[i] = S.render_org_cert(x) end
  c.audit(typ, { id = list[1].id, data = { certificate_ids = util.copy_array(c.b.certificate_ids) } })
  return { object = envelope, data = arr(data) }
end
H[A .. "certificates.activate"] = function(c)
  return set_org_active(c, true, "certificates.activated", "organization.certificate.activation")
end
H[A .. "certificates.deactivate"] = function(c)
  return set_org_active(c, false, "certificates.deactivated", "organization.certificate.deactivation")
end

local function set_project_active(c, on, typ, envelope)
  local p = active_project(c)
  local list = cert_list(c, c.b.certificate_ids)
  local pd = c.st:pdata(p.id)
  local data = {}
  for i, x in ipairs(list) do
    pd.certs_active[x.id] = on or nil
    data[i] = c.st:render_project_cert(p.id, x)
  end
  c.audit(typ, { id = list[1].id, data = { certificate_ids = util.copy_array(c.b.certificate_ids) } }, p)
  return { object = envelope, data = arr(data) }
end
H[A .. "projects.certificates.activate"] = function(c)
  return set_project_active(c, true, "certificates.activated", "organization.project.certificate.activation")
end
H[A .. "projects.certificates.deactivate"] = function(c)
  return set_project_active(c, false, "certificates.deactivated", "organization.project.certificate.deactivation")
end
H[A .. "projects.certificates.list"] = function(c)
  local p = project(c)
  return page(c.row, c.st.certs, c.q, { render = function(x) return c.st:render_project_cert(p.id, x) end })
end

-- data retention ----------------------------------------------------------------------------

H[A .. "data_retention.retrieve"] = function(c)
  return { object = "organization.data_retention", type = c.st.retention }
end
H[A .. "data_retention.update"] = function(c)
  c.st.retention = c.b.retention_type
  c.audit("organization.updated", { id = c.st.org_id, changes_requested = { data_retention = c.b.retention_type } })
  return { object = "organization.data_retention", type = c.st.retention }
end
H[A .. "projects.data_retention.retrieve"] = function(c)
  local p = project(c)
  return { object = "project.data_retention", type = c.st:pdata(p.id).retention }
end
H[A .. "projects.data_retention.update"] = function(c)
  local p = active_project(c)
  c.st:pdata(p.id).retention = c.b.retention_type
  c.audit("project.updated", { id = p.id, changes_requested = { data_retention = c.b.retention_type } }, p)
  return { object = "project.data_retention", type = c.b.retention_type }
end

-- external keys -----------------------------------------------------------------------------

local ext_key = lookup("ext_keys", "external key", "external_key_id")

H[A .. "external_keys.create"] = function(c)
  local k = {
    object = "organization.external_key", id = c.st:id("extkey_", 8), name = c.b.name, type = c.b.type,
    purpose = given(c.b.purpose) and c.b.purpose or "ekm", created_at = c.now, api_project_ids = arr({}),
    workspace_id = c.st.org_id,
  }
  for key, v in pairs(c.b) do
    if k[key] == nil and key ~= "purpose" then k[key] = v end
  end
  c.st.ext_keys:add(k)
  c.audit("external_key.registered", { id = k.id, data = { name = k.name, type = k.type } })
  return util.public(k)
end
H[A .. "external_keys.retrieve"] = function(c) return util.public(ext_key(c)) end
H[A .. "external_keys.list"] = function(c)
  local purpose = c.q.purpose
  return page(c.row, c.st.ext_keys, c.q, { filter = purpose and function(k) return k.purpose == purpose end })
end
H[A .. "external_keys.delete"] = function(c)
  local k = ext_key(c)
  if #k.api_project_ids > 0 then
    fail(400, string.format("External key '%s' is used by %d project(s).", k.id, #k.api_project_ids),
      "external_key_id", "external_key_in_use")
  end
  c.st.ext_keys:remove(k.id)
  c.audit("external_key.removed", { id = k.id })
  return util.public(k)
end
H[A .. "external_keys.validate"] = function(c)
  ext_key(c)
  return { status = "success" }
end

-- external storage --------------------------------------------------------------------------

local ext_storage = lookup("ext_storage", "external storage configuration", "external_storage_id")

H[A .. "external_storage.create"] = function(c)
  local p = active_project(c, c.b.project_id)
  local provider = util.deep_copy(c.b.provider)
  if provider.type == "aws" then provider.external_id = provider.external_id or p.id end
  local x = c.st.ext_storage:add({
    object = "organization.external_storage", id = c.st:id("extstorage_", 8), project_id = p.id,
    provider = provider, geography = p._geography or "US", status = "pending", created_at = c.now,
  })
  c.audit("external_storage.registered", { id = x.id, data = { type = provider.type } }, p)
  return util.public(x)
end
H[A .. "external_storage.retrieve"] = function(c) return util.public(ext_storage(c)) end
H[A .. "external_storage.list"] = function(c)
  local pid = c.q.project_id
  return page(c.row, c.st.ext_storage, c.q, { filter = pid and function(x) return x.project_id == pid end })
end
H[A .. "external_storage.delete"] = function(c)
  local x = ext_storage(c)
  c.st.ext_storage:remove(x.id)
  c.audit("external_storage.removed", { id = x.id }, c.st.projects:get(x.project_id))
  return { object = "organization.external_storage.deleted", id = x.id, deleted = true }
end
H[A .. "external_storage.validate"] = function(c)
  local x = ext_storage(c)
  x.status = "validated"
  return util.public(x)
end

-- groups ------------------------------------------------------------------------------------

local function render_group(g) return util.public(g) end

local function group_name_taken(c, name, except)
  for g in c.st.groups:each() do
    if g.name == name and g.id ~= except then
      fail(400, string.format("A group named '%s' already exists.", name), "name", "group_name_taken")
    end
  end
end

H[A .. "groups.create"] = function(c)
  group_name_taken(c, c.b.name)
  local g = c.st.groups:add({
    id = c.st:id("group_01J", 10, true), name = c.b.name, created_at = c.now, is_scim_managed = false,
    group_type = "group",
  })
  local gu = store.coll()
  gu.key = "user_id"
  c.st.group_users[g.id] = gu
  c.audit("group.created", { id = g.id, data = { group_name = g.name } })
  return render_group(g)
end
H[A .. "groups.retrieve"] = function(c) return render_group(group(c)) end
H[A .. "groups.update"] = function(c)
  local g = group(c)
  group_name_taken(c, c.b.name, g.id)
  g.name = c.b.name
  c.audit("group.updated", { id = g.id, changes_requested = { group_name = g.name } })
  return { id = g.id, name = g.name, created_at = g.created_at, is_scim_managed = g.is_scim_managed }
end
H[A .. "groups.list"] = function(c) return page(c.row, c.st.groups, c.q, { render = render_group }) end
H[A .. "groups.delete"] = function(c)
  local g = group(c)
  c.st.groups:remove(g.id)
  c.st.group_users[g.id] = nil
  c.st.group_roles[g.id] = nil
  for _, pd in pairs(c.st.pd) do
    pd.groups:remove(g.id)
    pd.group_roles[g.id] = nil
  end
  c.audit("group.deleted", { id = g.id })
  return { object = "group.deleted", id = g.id, deleted = true }
end

local function gusers(c, g)
  local gu = c.st.group_users[g.id]
  if not gu then
    gu = store.coll()
    gu.key = "user_id"
    c.st.group_users[g.id] = gu
  end
  return gu
end

H[A .. "groups.users.create"] = function(c)
  local g = group(c)
  local u = user(c, c.b.user_id)
  local gu = gusers(c, g)
  if gu:get(u.id) then
    fail(400, string.format("User '%s' is already a member of group '%s'.", u.id, g.id), "user_id",
      "user_already_in_group")
  end
  gu:add({ user_id = u.id, group_id = g.id })
  c.audit("tenant.group.member.added", { id = g.id, data = { user_id = u.id } })
  return { object = "group.user", user_id = u.id, group_id = g.id }
end
H[A .. "groups.users.retrieve"] = function(c)
  local g = group(c)
  if not gusers(c, g):get(c.p.user_id) then not_found("group member", c.p.user_id, "user_id") end
  local u = user(c)
  return { id = u.id, name = u.name, email = u.email, picture = null, is_service_account = false, user_type = "user" }
end
H[A .. "groups.users.list"] = function(c)
  local g = group(c)
  return page(c.row, gusers(c, g), c.q, { render = function(m)
    local u = c.st.users:get(m.user_id) or {}
    return { id = m.user_id, name = u.name or null, email = u.email or null }
  end })
end
H[A .. "groups.users.delete"] = function(c)
  local g = group(c)
  if not gusers(c, g):remove(c.p.user_id) then not_found("group member", c.p.user_id, "user_id") end
  c.audit("tenant.group.member.removed", { id = g.id, data = { user_id = c.p.user_id } })
  return { object = "group.user.deleted", deleted = true }
end

-- role assignments (shared) -----------------------------------------------------------------------

local function assign_coll(tbl, key)
  local a = tbl[key]
  if not a then
    a = store.coll()
    a.key = "role_id"
    tbl[key] = a
  end
  return a
end

local function assign(c, tbl, key, role, principal_desc)
  local a = assign_coll(tbl, key)
  if a:get(role.id) then
    fail(400, string.format("Role '%s' is already assigned to %s.", role.id, principal_desc), "role_id",
      "role_already_assigned")
  end
  a:add({ role_id = role.id, created_at = c.now })
end

local function unassign(tbl, key, role_id)
  local a = tbl[key]
  if not a or not a:remove(role_id) then not_found("role assignment", role_id, "role_id") end
end

local function list_assignments(c, tbl, key, roles, principal_id, principal_type)
  local a = assign_coll(tbl, key)
  return page(c.row, a, c.q, { render = function(x)
    local r = roles:get(x.role_id)
    return c.st:role_assignment_item(r, principal_id, principal_type)
  end })
end

local function get_assignment(c, tbl, key, roles, role_id, principal_id, principal_type)
  local a = tbl[key]
  if not a or not a:get(role_id) then not_found("role assignment", role_id, "role_id") end
  return c.st:role_assignment_item(roles:get(role_id), principal_id, principal_type)
end

local function project_member(c, p, uid)
  local m = c.st:pdata(p.id).users:get(uid)
  if not m then
    not_found("project member", uid, "user_id")
  end
  return m
end

-- Role assignments: the same four handlers for users and groups, at organization and project
-- level. The principal says how to find and show the user or group; the scope says where the
-- assignments and the roles live.
local PRINCIPALS = {
  user = { find = user, table = "user_roles", key = "user",
    render = function(c, u) return c.st:render_user(u) end },
  group = { find = group, table = "group_roles", key = "group",
    render = function(_, g) return S.group_brief(g) end },
}

local function org_scope(c)
  return { assignments = c.st, roles = c.st.roles, role = function(rid) return org_role(c, rid) end }
end

local function project_scope(c, writing)
  local p = writing and active_project(c) or project(c)
  local pd = c.st:pdata(p.id)
  return { project = p, assignments = pd, roles = pd.roles, role = function(rid) return project_role(c, p.id, rid) end }
end

local function role_assignment_handlers(prefix, kind, scope_of)
  local principal = PRINCIPALS[kind]
  local function event(c, sc, typ, role_id, who)
    c.audit(typ, { id = role_id, data = { principal_id = who.id, principal_type = kind } }, sc.project)
  end
  H[A .. prefix .. ".create"] = function(c)
    local sc = scope_of(c, true)
    local who = principal.find(c)
    -- a project role goes only to a member of the project
    if sc.project and kind == "user" then project_member(c, sc.project, who.id) end
    local r = sc.role(c.b.role_id)
    assign(c, sc.assignments[principal.table], who.id, r, kind .. " " .. who.id)
    event(c, sc, "role.assignment.created", r.id, who)
    return { object = kind .. ".role", [principal.key] = principal.render(c, who), role = S.role_obj(r) }
  end
  H[A .. prefix .. ".retrieve"] = function(c)
    local sc = scope_of(c)
    local who = principal.find(c)
    return get_assignment(c, sc.assignments[principal.table], who.id, sc.roles, c.p.role_id, who.id, kind)
  end
  H[A .. prefix .. ".list"] = function(c)
    local sc = scope_of(c)
    local who = principal.find(c)
    return list_assignments(c, sc.assignments[principal.table], who.id, sc.roles, who.id, kind)
  end
  H[A .. prefix .. ".delete"] = function(c)
    local sc = scope_of(c)
    local id = c.p[kind .. "_id"]
    unassign(sc.assignments[principal.table], id, c.p.role_id)
    event(c, sc, "role.assignment.deleted", c.p.role_id, { id = id })
    return { object = kind .. ".role.deleted", deleted = true }
  end
end
role_assignment_handlers("users.roles", "user", org_scope)
role_assignment_handlers("groups.roles", "group", org_scope)
role_assignment_handlers("projects.users.roles", "user", project_scope)
role_assignment_handlers("projects.groups.roles", "group", project_scope)

-- roles (org and project) ---------------------------------------------------------------------

local function role_name_taken(roles, name, except)
  for r in roles:each() do
    if r.name == name and r.id ~= except then
      fail(400, string.format("A role named '%s' already exists.", name), "role_name", "role_name_taken")
    end
  end
end

local function create_role(c, roles, resource_type, p)
  role_name_taken(roles, c.b.role_name)
  local r = roles:add({
    object = "role", id = c.st:id("role_01J", 10, true), name = c.b.role_name,
    description = given(c.b.description) and c.b.description or null,
    permissions = util.copy_array(c.b.permissions), resource_type = resource_type, predefined_role = false,
    created_at = c.now, updated_at = c.now, _created_by = c.st.owner.id,
  })
  c.audit("role.created", { id = r.id, data = { role_name = r.name, permissions = util.copy_array(r.permissions) } }, p)
  return S.role_obj(r)
end

local function update_role(c, roles, r, p)
  if given(c.b.role_name) then
    role_name_taken(roles, c.b.role_name, r.id)
    r.name = c.b.role_name
  end
  if given(c.b.permissions) then r.permissions = util.copy_array(c.b.permissions) end
  if c.b.description ~= nil then r.description = c.b.description end
  r.updated_at = c.now
  c.audit("role.updated", { id = r.id, changes_requested = { role_name = r.name } }, p)
  return S.role_obj(r)
end

H[A .. "roles.create"] = function(c) return create_role(c, c.st.roles, "api.organization") end
H[A .. "roles.retrieve"] = function(c) return S.role_obj(org_role(c, c.p.role_id)) end
H[A .. "roles.update"] = function(c) return update_role(c, c.st.roles, org_role(c, c.p.role_id)) end
H[A .. "roles.list"] = function(c) return page(c.row, c.st.roles, c.q, { render = S.role_obj }) end
H[A .. "roles.delete"] = function(c)
  local r = org_role(c, c.p.role_id)
  c.st.roles:remove(r.id)
  for _, a in pairs(c.st.user_roles) do a:remove(r.id) end
  for _, a in pairs(c.st.group_roles) do a:remove(r.id) end
  c.audit("role.deleted", { id = r.id })
  return { object = "role.deleted", id = r.id, deleted = true }
end

H[A .. "projects.roles.create"] = function(c)
  local p = active_project(c)
  return create_role(c, c.st:pdata(p.id).roles, "api.project", p)
end
H[A .. "projects.roles.retrieve"] = function(c)
  local p = project(c)
  return S.role_obj(project_role(c, p.id, c.p.role_id))
end
H[A .. "projects.roles.update"] = function(c)
  local p = active_project(c)
  local pd = c.st:pdata(p.id)
  return update_role(c, pd.roles, project_role(c, p.id, c.p.role_id), p)
end
H[A .. "projects.roles.list"] = function(c)
  local p = project(c)
  return page(c.row, c.st:pdata(p.id).roles, c.q, { render = S.role_obj })
end
H[A .. "projects.roles.delete"] = function(c)
  local p = project(c)
  local pd = c.st:pdata(p.id)
  local r = project_role(c, p.id, c.p.role_id)
  pd.roles:remove(r.id)
  for _, a in pairs(pd.user_roles) do a:remove(r.id) end
  for _, a in pairs(pd.group_roles) do a:remove(r.id) end
  c.audit("role.deleted", { id = r.id }, p)
  return { object = "role.deleted", id = r.id, deleted = true }
end

-- invites -------------------------------------------------------------------------------------

local invite = lookup("invites", "invite", "invite_id")

H[A .. "invites.create"] = function(c)
  local email = c.b.email
  if not email:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") then
    fail(400, string.format("Invalid email address: '%s'.", email), "email", "invalid_email")
  end
  if c.st:user_by_email(email) then
    fail(400, string.format("'%s' is already a member of this organization.", email), "email", "user_already_member")
  end
  for x in c.st.invites:each() do
    if x.email:lower() == email:lower() and x.status == "pending" then
      fail(400, string.format("There is already a pending invite for '%s'.", email), "email", "invite_exists")
    end
  end
  local projects = {}
  for i, pr in ipairs(c.b.projects or {}) do
    if not c.st.projects:get(pr.id) then
      fail(404, string.format("No project found with id '%s'.", pr.id), string.format("projects[%d].id", i - 1),
        "not_found")
    end
    projects[#projects + 1] = { id = pr.id, role = pr.role }
  end
  local x = c.st.invites:add({
    object = "organization.invite", id = c.st:id("invite-", 10), email = email, role = c.b.role,
    status = "pending", created_at = c.now, expires_at = c.now + 7 * 86400, accepted_at = null,
    projects = arr(projects),
  })
  c.audit("invite.sent", { id = x.id, data = { email = email, role = x.role } })
  return util.public(x)
end
H[A .. "invites.retrieve"] = function(c) return util.public(invite(c)) end
H[A .. "invites.list"] = function(c) return page(c.row, c.st.invites, c.q) end
H[A .. "invites.delete"] = function(c)
  local x = invite(c)
  if x.status == "accepted" then
    fail(400, string.format("Invite '%s' has already been accepted.", x.id), "invite_id", "invite_accepted")
  end
  c.st.invites:remove(x.id)
  c.audit("invite.deleted", { id = x.id })
  return { object = "organization.invite.deleted", id = x.id, deleted = true }
end

-- org users -----------------------------------------------------------------------------------

H[A .. "users.retrieve"] = function(c) return c.st:render_user(user(c)) end
H[A .. "users.list"] = function(c)
  local emails = c.q.emails
  local set
  if emails then
    set = {}
    for _, e in ipairs(emails) do set[e:lower()] = true end
  end
  return page(c.row, c.st.users, c.q, {
    filter = set and function(u) return set[u.email:lower()] end,
    render = function(u) return c.st:render_user(u) end,
  })
end
H[A .. "users.update"] = function(c)
  local u = user(c)
  local changes = {}
  if given(c.b.role) then
    u.role = check_role_value(c.b.role, { "owner", "reader" }, "role")
    changes.role = u.role
  end
  if given(c.b.role_id) then
    local r = org_role(c, c.b.role_id)
    local a = assign_coll(c.st.user_roles, u.id)
    if not a:get(r.id) then a:add({ role_id = r.id, created_at = c.now }) end
    changes.role_id = r.id
  end
  if c.b.developer_persona ~= nil then u.developer_persona = c.b.developer_persona end
  if c.b.technical_level ~= nil then u.technical_level = c.b.technical_level end
  c.audit("user.updated", { id = u.id, changes_requested = changes })
  return c.st:render_user(u)
end
H[A .. "users.delete"] = function(c)
  local u = user(c)
  c.st:remove_user(u)
  c.audit("user.deleted", { id = u.id })
  return { object = "organization.user.deleted", id = u.id, deleted = true }
end

-- projects ------------------------------------------------------------------------------------

local function render_project(p) return util.public(p) end

local function link_ext_key(c, p, key_id)
  if p._external_key_id then
    local old = c.st.ext_keys:get(p._external_key_id)
    if old then
      for i = #old.api_project_ids, 1, -1 do
        if old.api_project_ids[i] == p.id then table.remove(old.api_project_ids, i) end
      end
    end
    p._external_key_id = nil
  end
  if key_id then
    local k = ext_key(c, key_id)
    k.api_project_ids[#k.api_project_ids + 1] = p.id
    p._external_key_id = k.id
  end
end

H[A .. "projects.create"] = function(c)
  if given(c.b.external_key_id) then ext_key(c, c.b.external_key_id) end
  local p = c.st.projects:add({
    id = c.st:id("proj_", 24), object = "organization.project", name = c.b.name, created_at = c.now,
    archived_at = null, status = "active",
    _geography = given(c.b.geography) and c.b.geography or nil,
    _residency = given(c.b.residency) and c.b.residency or nil,
  })
  c.st:pdata(p.id)
  if given(c.b.external_key_id) then link_ext_key(c, p, c.b.external_key_id) end
  c.audit("project.created", { id = p.id, data = { name = p.name, title = p.name } }, p)
  return render_project(p)
end
H[A .. "projects.retrieve"] = function(c) return render_project(project(c)) end
H[A .. "projects.update"] = function(c)
  local p = active_project(c)
  if given(c.b.name) then p.name = c.b.name end
  if given(c.b.geography) then p._geography = c.b.geography end
  if c.b.external_key_id ~= nil then
    link_ext_key(c, p, given(c.b.external_key_id) and c.b.external_key_id or nil)
  end
  c.audit("project.updated", { id = p.id, changes_requested = { title = p.name, name = p.name } }, p)
  return render_project(p)
end
H[A .. "projects.list"] = function(c)
  local all = c.q.include_archived == true
  return page(c.row, c.st.projects, c.q, {
    filter = (not all) and function(p) return p.status ~= "archived" end or nil,
    render = render_project,
  })
end
H[A .. "projects.archive"] = function(c)
  local p = project(c)
  if p.status ~= "archived" then
    p.status = "archived"
    p.archived_at = c.now
    c.audit("project.archived", { id = p.id }, p)
  end
  return render_project(p)
end

-- project users -------------------------------------------------------------------------------

H[A .. "projects.users.create"] = function(c)
  local p = active_project(c)
  local role = check_role_value(c.b.role, { "owner", "member" }, "role")
  local u
  if given(c.b.user_id) then
    u = user(c, c.b.user_id)
  elseif given(c.b.email) then
    u = c.st:user_by_email(c.b.email)
    if not u then
      fail(400, string.format("'%s' is not a member of the organization.", c.b.email), "email", "user_not_in_org")
    end
  else
    fail(400, "Missing required parameter: 'user_id'.", "user_id", "missing_required_parameter")
  end
  if c.st:pdata(p.id).users:get(u.id) then
    fail(400, string.format("User '%s' is already a member of project '%s'.", u.id, p.id), "user_id",
      "user_already_in_project")
  end
  local m = c.st:add_project_member(p.id, u.id, role, c.now)
  c.audit("user.added", { id = u.id, data = { role = role } }, p)
  return c.st:render_project_user(p.id, m)
end
H[A .. "projects.users.retrieve"] = function(c)
  local p = project(c)
  return c.st:render_project_user(p.id, project_member(c, p, c.p.user_id))
end
H[A .. "projects.users.update"] = function(c)
  local p = active_project(c)
  local m = project_member(c, p, c.p.user_id)
  if given(c.b.role) then m.role = check_role_value(c.b.role, { "owner", "member" }, "role") end
  c.audit("user.updated", { id = m.user_id, changes_requested = { role = m.role } }, p)
  return c.st:render_project_user(p.id, m)
end
H[A .. "projects.users.list"] = function(c)
  local p = project(c)
  return page(c.row, c.st:pdata(p.id).users, c.q, { render = function(m) return c.st:render_project_user(p.id, m) end })
end
H[A .. "projects.users.delete"] = function(c)
  local p = project(c)
  project_member(c, p, c.p.user_id)
  c.st:remove_project_member(p.id, c.p.user_id)
  c.audit("user.deleted", { id = c.p.user_id }, p)
  return { object = "organization.project.user.deleted", id = c.p.user_id, deleted = true }
end

-- service accounts ----------------------------------------------------------------------------

local function svc(c, p)
  local s = c.st:pdata(p.id).svcs:get(c.p.service_account_id)
  if not s then not_found("service account", c.p.service_account_id, "service_account_id") end
  return s
end

local function svc_key_obj(k, value)
  return {
    object = "organization.project.service_account.api_key", id = k.id, name = k.name, value = value,
    created_at = k.created_at, expires_at = k.expires_at,
  }
end

H[A .. "projects.service_accounts.create"] = function(c)
  local p = active_project(c)
  local s = c.st:pdata(p.id).svcs:add({
    object = "organization.project.service_account", id = c.st:id("svc_acct_", 16), name = c.b.name,
    role = "member", created_at = c.now,
  })
  c.audit("service_account.created", { id = s.id, data = { role = s.role } }, p)
  local out = util.public(s)
  if c.b.create_service_account_only == true then
    out.api_key = null
  else
    local k, value = c.st:new_project_key(p.id, {
      svc = true, owner_id = s.id, expires_in = given(c.b.expires_in_seconds) and c.b.expires_in_seconds or nil,
    })
    c.audit("api_key.created", { id = k.id, data = { scopes = arr({ "/v1/*" }) } }, p)
    out.api_key = svc_key_obj(k, value)
  end
  return out
end
H[A .. "projects.service_accounts.retrieve"] = function(c)
  local p = project(c)
  return util.public(svc(c, p))
end
H[A .. "projects.service_accounts.update"] = function(c)
  local p = active_project(c)
  local s = svc(c, p)
  if given(c.b.name) then s.name = c.b.name end
  if given(c.b.role) then s.role = c.b.role end
  c.audit("service_account.updated", { id = s.id, changes_requested = { role = s.role, name = s.name } }, p)
  return util.public(s)
end
H[A .. "projects.service_accounts.list"] = function(c)
  local p = project(c)
  return page(c.row, c.st:pdata(p.id).svcs, c.q)
end
H[A .. "projects.service_accounts.delete"] = function(c)
  local p = project(c)
  local s = svc(c, p)
  local pd = c.st:pdata(p.id)
  pd.svcs:remove(s.id)
  local gone = {}
  for k in pd.keys:each() do
    if k._owner_type == "service_account" and k._owner_id == s.id then gone[#gone + 1] = k.id end
  end
  for _, id in ipairs(gone) do pd.keys:remove(id) end
  c.audit("service_account.deleted", { id = s.id }, p)
  return { object = "organization.project.service_account.deleted", id = s.id, deleted = true }
end
H[A .. "projects.service_accounts.api_keys.create"] = function(c)
  local p = active_project(c)
  local s = svc(c, p)
  local k, value = c.st:new_project_key(p.id, {
    svc = true, owner_id = s.id, name = given(c.b.name) and c.b.name or "Secret Key",
    expires_in = given(c.b.expires_in_seconds) and c.b.expires_in_seconds or nil,
    scopes = given(c.b.scopes) and util.copy_array(c.b.scopes) or nil,
  })
  c.audit("api_key.created", { id = k.id, data = { scopes = k._scopes or arr({ "/v1/*" }) } }, p)
  return svc_key_obj(k, value)
end

-- project api keys ----------------------------------------------------------------------------

local function pkey(c, p)
  local k = c.st:pdata(p.id).keys:get(c.p.api_key_id)
  if not k then not_found("API key", c.p.api_key_id, "api_key_id") end
  return k
end

H[A .. "projects.api_keys.retrieve"] = function(c)
  local p = project(c)
  return c.st:render_project_key(p.id, pkey(c, p))
end
H[A .. "projects.api_keys.update"] = function(c)
  local p = active_project(c)
  local k = pkey(c, p)
  if given(c.b.expires_in_seconds) then k.expires_at = c.now + c.b.expires_in_seconds end
  if given(c.b.scopes) then k._scopes = util.copy_array(c.b.scopes) end
  c.audit("api_key.updated", { id = k.id, changes_requested = { scopes = k._scopes or arr({ "/v1/*" }) } }, p)
  return c.st:render_project_key(p.id, k)
end
H[A .. "projects.api_keys.list"] = function(c)
  local p = project(c)
  local want = c.q.owner_project_access
  local filter
  if want and want ~= "any" then
    filter = function(k) return c.st:render_project_key(p.id, k).owner_project_access == want end
  end
  return page(c.row, c.st:pdata(p.id).keys, c.q, {
    filter = filter,
    render = function(k) return c.st:render_project_key(p.id, k) end,
  })
end
H[A .. "projects.api_keys.delete"] = function(c)
  local p = project(c)
  local k = pkey(c, p)
  c.st:pdata(p.id).keys:remove(k.id)
  c.audit("api_key.deleted", { id = k.id }, p)
  return { object = "organization.project.api_key.deleted", id = k.id, deleted = true }
end

-- rate limits ---------------------------------------------------------------------------------

H[A .. "projects.rate_limits.list_rate_limits"] = function(c)
  local p = project(c)
  return page(c.row, c.st:rate_limits(p.id), c.q)
end
H[A .. "projects.rate_limits.update_rate_limit"] = function(c)
  local p = active_project(c)
  local r = c.st:rate_limits(p.id):get(c.p.rate_limit_id)
  if not r then not_found("rate limit", c.p.rate_limit_id, "rate_limit_id") end
  local changes = {}
  for k, v in pairs(c.b) do
    if v ~= null then
      if math.type(v) ~= "integer" or v < 0 then
        fail(400, string.format("Invalid '%s': expected a non-negative integer.", k), k, "invalid_value")
      end
      r[k] = v
      changes[k] = v
    end
  end
  c.audit("rate_limit.updated", { id = r.id, changes_requested = changes }, p)
  return util.public(r)
end

-- model / hosted tool permissions, service tiers -------------------------------------------------

local function model_perms(pd)
  local m = pd.model_perms or { mode = "deny_list", model_ids = {} }
  return { object = "project.model_permissions", mode = m.mode, model_ids = util.copy_array(m.model_ids) }
end
H[A .. "projects.model_permissions.retrieve"] = function(c)
  return model_perms(c.st:pdata(project(c).id))
end
H[A .. "projects.model_permissions.update"] = function(c)
  local p = active_project(c)
  local pd = c.st:pdata(p.id)
  pd.model_perms = { mode = c.b.mode, model_ids = util.copy_array(c.b.model_ids) }
  c.audit("project.updated", { id = p.id, changes_requested = { model_permissions = c.b.mode } }, p)
  return model_perms(pd)
end
H[A .. "projects.model_permissions.delete"] = function(c)
  local p = project(c)
  local pd = c.st:pdata(p.id)
  if not pd.model_perms then not_found("model permissions for project", p.id, "project_id") end
  pd.model_perms = nil
  c.audit("project.updated", { id = p.id, changes_requested = { model_permissions = "deleted" } }, p)
  return { object = "project.model_permissions.deleted", deleted = true }
end

local TOOLS = { "code_interpreter", "file_search", "image_generation", "mcp", "web_search" }
local function tools_obj(pd)
  local out = {}
  for _, t in ipairs(TOOLS) do out[t] = { enabled = pd.tools[t].enabled } end
  return out
end
H[A .. "projects.hosted_tool_permissions.retrieve"] = function(c)
  return tools_obj(c.st:pdata(project(c).id))
end
H[A .. "projects.hosted_tool_permissions.update"] = function(c)
  local p = active_project(c)
  local pd = c.st:pdata(p.id)
  for _, t in ipairs(TOOLS) do
    if given(c.b[t]) then pd.tools[t] = { enabled = c.b[t].enabled } end
  end
  c.audit("project.updated", { id = p.id, changes_requested = { hosted_tool_permissions = tools_obj(pd) } }, p)
  return tools_obj(pd)
end

local function tier_obj(pd)
  return { object = "project.service_tier_settings", default = pd.tier.default,
    enabled_tiers = util.copy_array(pd.tier.enabled_tiers) }
end
H[A .. "projects.service_tier_settings.retrieve"] = function(c)
  return tier_obj(c.st:pdata(project(c).id))
end
H[A .. "projects.service_tier_settings.update"] = function(c)
  local p = active_project(c)
  local pd = c.st:pdata(p.id)
  if given(c.b.default) then pd.tier.default = c.b.default end
  if given(c.b.enabled_tiers) then
    local t = c.b.enabled_tiers
    pd.tier.enabled_tiers = type(t) == "string" and arr({ t }) or util.copy_array(t)
  end
  c.audit("project.updated", { id = p.id, changes_requested = { service_tier = pd.tier.default } }, p)
  return tier_obj(pd)
end

-- project groups ------------------------------------------------------------------------------

local function render_pgroup(c, pid, m)
  local g = c.st.groups:get(m.group_id)
  return {
    object = "project.group", project_id = pid, group_id = m.group_id, group_name = g and g.name or null,
    group_type = g and g.group_type or "group", created_at = m.created_at,
  }
end
H[A .. "projects.groups.create"] = function(c)
  local p = active_project(c)
  local g = group(c, c.b.group_id)
  local pd = c.st:pdata(p.id)
  if pd.groups:get(g.id) then
    fail(400, string.format("Group '%s' is already in project '%s'.", g.id, p.id), "group_id",
      "group_already_in_project")
  end
  local m = pd.groups:add({ group_id = g.id, created_at = c.now, _role = c.b.role })
  c.audit("project.updated", { id = p.id, changes_requested = { group_added = g.id, role = c.b.role } }, p)
  return render_pgroup(c, p.id, m)
end
H[A .. "projects.groups.retrieve"] = function(c)
  local p = project(c)
  local m = c.st:pdata(p.id).groups:get(c.p.group_id)
  if not m then not_found("project group", c.p.group_id, "group_id") end
  return render_pgroup(c, p.id, m)
end
H[A .. "projects.groups.list"] = function(c)
  local p = project(c)
  return page(c.row, c.st:pdata(p.id).groups, c.q, { render = function(m) return render_pgroup(c, p.id, m) end })
end
H[A .. "projects.groups.delete"] = function(c)
  local p = project(c)
  local pd = c.st:pdata(p.id)
  if not pd.groups:remove(c.p.group_id) then not_found("project group", c.p.group_id, "group_id") end
  pd.group_roles[c.p.group_id] = nil
  c.audit("project.updated", { id = p.id, changes_requested = { group_removed = c.p.group_id } }, p)
  return { object = "project.group.deleted", deleted = true }
end

-- spend alerts and limits ---------------------------------------------------------------------

local function check_amount(c)
  local a = c.b.threshold_amount
  if math.type(a) ~= "integer" or a <= 0 then
    fail(400, "Invalid 'threshold_amount': expected a positive integer amount in cents.", "threshold_amount",
      "invalid_value")
  end
  local ch = c.b.notification_channel
  if ch and #ch.recipients == 0 then
    fail(400, "'notification_channel.recipients' must not be empty.", "notification_channel.recipients",
      "invalid_value")
  end
end

local function alert_fields(c, x)
  x.threshold_amount = c.b.threshold_amount
  x.currency = c.b.currency
  x.interval = c.b.interval
  local ch = c.b.notification_channel
  x.notification_channel = {
    type = ch.type, recipients = util.copy_array(ch.recipients),
    subject_prefix = given(ch.subject_prefix) and ch.subject_prefix or null,
  }
  return x
end

local function alerts_of(c, p) return p and c.st:pdata(p.id).alerts or c.st.alerts end

local function alert_handlers(prefix, obj, proj)
  local function scope(c, write)
    if not proj then return nil end
    return write and active_project(c) or project(c)
  end
  local function get(c, p)
    local x = alerts_of(c, p):get(c.p.alert_id)
    if not x then not_found("spend alert", c.p.alert_id, "alert_id") end
    return x
  end
  H[prefix .. ".create"] = function(c)
    local p = scope(c, true)
    check_amount(c)
    local x = alert_fields(c, { id = c.st:id("alert_", 12), object = obj })
    alerts_of(c, p):add(x)
    c.audit("tenant.billing.alerts.updated", { id = x.id, data = { threshold_amount = x.threshold_amount } }, p)
    return util.public(x)
  end
  H[prefix .. ".retrieve"] = function(c) return util.public(get(c, scope(c))) end
  H[prefix .. ".update"] = function(c)
    local p = scope(c, true)
    local x = get(c, p)
    check_amount(c)
    alert_fields(c, x)
    c.audit("tenant.billing.alerts.updated", { id = x.id,
      changes_requested = { threshold_amount = x.threshold_amount } }, p)
    return util.public(x)
  end
  H[prefix .. ".list"] = function(c) return page(c.row, alerts_of(c, scope(c)), c.q) end
  H[prefix .. ".delete"] = function(c)
    local p = scope(c)
    local x = get(c, p)
    alerts_of(c, p):remove(x.id)
    c.audit("tenant.billing.alerts.updated", { id = x.id, changes_requested = { deleted = true } }, p)
    return { id = x.id, object = obj .. ".deleted", deleted = true }
  end
end
alert_handlers(A .. "spend_alerts", "organization.spend_alert", false)
alert_handlers(A .. "projects.spend_alerts", "project.spend_alert", true)

local function limit_handlers(prefix, obj, proj)
  local function holder(c, write)
    if proj then return c.st:pdata((write and active_project(c) or project(c)).id), project(c) end
    return c.st, nil
  end
  local function render(l) return { object = obj, threshold_amount = l.threshold_amount, currency = l.currency,
    interval = l.interval, enforcement = { status = l.status } } end
  H[prefix .. ".retrieve"] = function(c)
    local h = holder(c)
    local l = proj and h.limit or h.spend_limit
    if not l then not_found("spend limit", proj and c.p.project_id or c.st.org_id) end
    return render(l)
  end
  H[prefix .. ".update"] = function(c)
    local h, p = holder(c, true)
    check_amount(c)
    local l = { threshold_amount = c.b.threshold_amount, currency = c.b.currency, interval = c.b.interval,
      status = "enforcing" }
    if proj then h.limit = l else h.spend_limit = l end
    c.audit("tenant.billing.overage_limit.updated", { id = p and p.id or c.st.org_id,
      changes_requested = { threshold_amount = l.threshold_amount } }, p)
    return render(l)
  end
  H[prefix .. ".delete"] = function(c)
    local h, p = holder(c)
    local l = proj and h.limit or h.spend_limit
    if not l then not_found("spend limit", proj and c.p.project_id or c.st.org_id) end
    if proj then h.limit = nil else h.spend_limit = nil end
    c.audit("tenant.billing.overage_limit.updated", { id = p and p.id or c.st.org_id,
      changes_requested = { deleted = true } }, p)
    return { object = obj .. ".deleted", deleted = true }
  end
end
limit_handlers(A .. "spend_limit", "organization.spend_limit", false)
limit_handlers(A .. "projects.spend_limit", "project.spend_limit", true)

-- workload identity providers and federation rules ------------------------------------------------

local function wip(c)
  local w = c.st.wips:get(c.p.workload_identity_provider_id)
  if not w then not_found("workload identity provider", c.p.workload_identity_provider_id,
    "workload_identity_provider_id") end
  return w
end

local function transformations(list)
  local out = {}
  for i, t in ipairs(list or {}) do out[i] = { attribute = t.attribute, expression = t.expression } end
  return arr(out)
end

H[A .. "workload_identity_providers.create"] = function(c)
  local b = c.b
  local w = c.st.wips:add({
    object = "organization.workload_identity_provider", id = c.st:id("wip_01J", 10, true), name = b.name,
    description = given(b.description) and b.description or null, type = b.type, issuer = b.issuer,
    audience = b.audience, enabled = b.enabled ~= false,
    attribute_transformations = transformations(b.attribute_transformations),
    verification = given(b.verification) and util.deep_copy(b.verification)
      or { type = "discovery", discovery_url = b.issuer:gsub("/$", "") .. "/.well-known/openid-configuration" },
    created_at = c.now, updated_at = c.now,
  })
  c.st.wip_rules[w.id] = store.coll()
  c.audit("workload_identity_provider.created", { id = w.id, data = { name = w.name, issuer = w.issuer } })
  return util.public(w)
end
H[A .. "workload_identity_providers.retrieve"] = function(c) return util.public(wip(c)) end
H[A .. "workload_identity_providers.update"] = function(c)
  local w = wip(c)
  local b = c.b
  for _, k in ipairs({ "audience", "issuer", "name" }) do if given(b[k]) then w[k] = b[k] end end
  if b.description ~= nil then w.description = b.description end
  if b.enabled ~= nil then w.enabled = b.enabled end
  if given(b.attribute_transformations) then
    w.attribute_transformations = transformations(b.attribute_transformations)
  end
  if given(b.verification) then w.verification = util.deep_copy(b.verification) end
  w.updated_at = c.now
  c.audit("workload_identity_provider.updated", { id = w.id, changes_requested = { name = w.name } })
  return util.public(w)
end
H[A .. "workload_identity_providers.list"] = function(c) return page(c.row, c.st.wips, c.q) end
H[A .. "workload_identity_providers.delete"] = function(c)
  local w = wip(c)
  c.st.wips:remove(w.id)
  c.st.wip_rules[w.id] = nil
  c.audit("workload_identity_provider.deleted", { id = w.id })
  return { object = "organization.workload_identity_provider.deleted", id = w.id, deleted = true }
end

local function rules(c, w)
  local r = c.st.wip_rules[w.id]
  if not r then r = store.coll(); c.st.wip_rules[w.id] = r end
  return r
end
local function rule(c, w)
  local r = rules(c, w):get(c.p.workload_identity_federation_rule_id)
  if not r then not_found("federation rule", c.p.workload_identity_federation_rule_id,
    "workload_identity_federation_rule_id") end
  return r
end

H[A .. "workload_identity_providers.federation_rules.create"] = function(c)
  local w = wip(c)
  local b = c.b
  local p = active_project(c, b.project_id)
  if not c.st:pdata(p.id).svcs:get(b.service_account_id) then
    not_found("service account", b.service_account_id, "service_account_id")
  end
  local r = rules(c, w):add({
    object = "organization.workload_identity_federation_rule", id = c.st:id("wifr_01J", 10, true),
    workload_identity_provider_id = w.id, project_id = p.id, service_account_id = b.service_account_id,
    name = given(b.name) and b.name or null, description = given(b.description) and b.description or null,
    enabled = b.enabled ~= false, attribute_matchers = util.deep_copy(b.attribute_matchers),
    permissions = given(b.permissions) and util.deep_copy(b.permissions) or { type = "service_account_default" },
    created_at = c.now, updated_at = c.now,
  })
  c.audit("workload_identity_provider_mapping.created", { id = r.id,
    data = { workload_identity_provider_id = w.id } }, p)
  return util.public(r)
end
H[A .. "workload_identity_providers.federation_rules.retrieve"] = function(c)
  return util.public(rule(c, wip(c)))
end
H[A .. "workload_identity_providers.federation_rules.update"] = function(c)
  local r = rule(c, wip(c))
  local b = c.b
  if given(b.attribute_matchers) then r.attribute_matchers = util.deep_copy(b.attribute_matchers) end
  if b.description ~= nil then r.description = b.description end
  if b.name ~= nil then r.name = b.name end
  if b.enabled ~= nil then r.enabled = b.enabled end
  if given(b.permissions) then r.permissions = util.deep_copy(b.permissions) end
  r.updated_at = c.now
  c.audit("workload_identity_provider_mapping.updated", { id = r.id, changes_requested = { enabled = r.enabled } })
  return util.public(r)
end
H[A .. "workload_identity_providers.federation_rules.list"] = function(c)
  local w = wip(c)
  local sa = c.q.service_account_id
  return page(c.row, rules(c, w), c.q, { filter = sa and function(r) return r.service_account_id == sa end })
end
H[A .. "workload_identity_providers.federation_rules.delete"] = function(c)
  local w = wip(c)
  local r = rule(c, w)
  rules(c, w):remove(r.id)
  c.audit("workload_identity_provider_mapping.deleted", { id = r.id })
  return { object = "organization.workload_identity_federation_rule.deleted", id = r.id, deleted = true }
end

-- usage and costs -----------------------------------------------------------------------------

for _, name in ipairs({ "audio_speeches", "audio_transcriptions", "code_interpreter_sessions", "completions",
  "costs", "decisions", "embeddings", "file_search_calls", "images", "moderations", "vector_stores",
  "web_search_calls" }) do
  H[A .. "usage." .. name] = function(c) return usage.handle(name, c.q, { now = c.now, world = c.st.usage_world }) end
end

return H
