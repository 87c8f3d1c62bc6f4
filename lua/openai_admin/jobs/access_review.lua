--- Access review: who can do what, as one snapshot for a compliance file. Every user with their
--- organization role and role assignments, every group with its members and roles, every project
--- (archived included) with its members, groups (and their custom project roles) and service
--- accounts.
---
---   local r = require("openai_admin.jobs.access_review").snapshot(client)
---   r.rows    one row per grant: principal_type, principal_id, principal_name, principal_email,
---             scope_type (organization|group|project), scope_id, scope_name, role, via
---   r.document  the same as nested tables (users, groups, projects) for JSON
---   access_review.write(r, "csv" | "jsonl" | "table" | "json", io.write)
local json = require("openai_admin.json")
local common = require("openai_admin.jobs.common")
local lookups = require("openai_admin.jobs.lookups")

local null = json.null
local M = {}

M.COLUMNS = { "principal_type", "principal_id", "principal_name", "principal_email", "scope_type", "scope_id",
  "scope_name", "role", "via" }

local function nn(v) if v == null then return nil end return v end

function M.snapshot(client, opts)
  opts = opts or {}
  local org = client.admin.organization
  local users = lookups.users(client)
  local projects = lookups.projects(client)
  local groups = org.groups:list({ limit = 100 }):collect()
  local user_roles = common.map(client, users, function(u)
    return org.users.roles:list(u.id, { limit = 100 }):collect()
  end)
  local group_data = common.map(client, groups, function(g)
    local r = common.parallel(client, {
      function() return org.groups.users:list(g.id, { limit = 100 }):collect() end,
      function() return org.groups.roles:list(g.id, { limit = 100 }):collect() end,
    })
    return { users = r[1], roles = r[2] }
  end)
  local project_data = common.map(client, projects, function(p)
    local r = common.parallel(client, {
      function() return org.projects.users:list(p.id, { limit = 100 }):collect() end,
      function() return org.projects.groups:list(p.id, { limit = 100 }):collect() end,
      function() return org.projects.service_accounts:list(p.id, { limit = 100 }):collect() end,
    })
    -- custom project roles of each member and group
    local user_roles_p = common.map(client, r[1], function(m)
      return org.projects.users.roles:list(p.id, m.id, { limit = 100 }):collect()
    end)
    local group_roles_p = common.map(client, r[2], function(g)
      return org.projects.groups.roles:list(p.id, g.group_id, { limit = 100 }):collect()
    end)
    return { users = r[1], groups = r[2], service_accounts = r[3], user_roles = user_roles_p,
      group_roles = group_roles_p }
  end)

  local rows = {}
  local function row(t) rows[#rows + 1] = t end
  local doc = { generated_at = common.iso(opts.now or os.time()), users = {}, groups = {}, projects = {} }
  for i, u in ipairs(users) do
    row({ principal_type = "user", principal_id = u.id, principal_name = nn(u.name), principal_email = nn(u.email),
      scope_type = "organization", role = u.role, via = "direct" })
    local roles = {}
    for _, r in ipairs(user_roles[i]) do
      row({ principal_type = "user", principal_id = u.id, principal_name = nn(u.name), principal_email = nn(u.email),
        scope_type = "organization", role = r.name, via = "role_assignment" })
      roles[#roles + 1] = r.name
    end
    doc.users[i] = { id = u.id, name = nn(u.name), email = nn(u.email), role = u.role, roles = json.array(roles) }
  end
  for i, g in ipairs(groups) do
    local gd = group_data[i]
    local members, roles = {}, {}
    for _, m in ipairs(gd.users) do
      row({ principal_type = "user", principal_id = m.id, principal_name = nn(m.name), principal_email = nn(m.email),
        scope_type = "group", scope_id = g.id, scope_name = g.name, role = "member", via = "direct" })
      members[#members + 1] = { id = m.id, name = nn(m.name), email = nn(m.email) }
    end
    for _, r in ipairs(gd.roles) do
      row({ principal_type = "group", principal_id = g.id, principal_name = g.name, scope_type = "organization",
        role = r.name, via = "role_assignment" })
      roles[#roles + 1] = r.name
    end
    doc.groups[i] = { id = g.id, name = g.name, members = json.array(members), roles = json.array(roles) }
  end
  for i, p in ipairs(projects) do
    local pd = project_data[i]
    local members, pgroups, svcs = {}, {}, {}
    for j, m in ipairs(pd.users) do
      row({ principal_type = "user", principal_id = m.id, principal_name = nn(m.name), principal_email = nn(m.email),
        scope_type = "project", scope_id = p.id, scope_name = p.name, role = m.role, via = "direct" })
      local roles = {}
      for _, r in ipairs(pd.user_roles[j] or {}) do
        row({ principal_type = "user", principal_id = m.id, principal_name = nn(m.name), principal_email = nn(m.email),
          scope_type = "project", scope_id = p.id, scope_name = p.name, role = r.name, via = "role_assignment" })
        roles[#roles + 1] = r.name
      end
      members[#members + 1] = { id = m.id, name = nn(m.name), email = nn(m.email), role = m.role,
        roles = json.array(roles) }
    end
    for j, g in ipairs(pd.groups) do
      row({ principal_type = "group", principal_id = g.group_id, principal_name = nn(g.group_name),
        scope_type = "project", scope_id = p.id, scope_name = p.name, role = nn(g.role), via = "group" })
      local roles = {}
      for _, r in ipairs(pd.group_roles[j] or {}) do
        row({ principal_type = "group", principal_id = g.group_id, principal_name = nn(g.group_name),
          scope_type = "project", scope_id = p.id, scope_name = p.name, role = r.name, via = "role_assignment" })
        roles[#roles + 1] = r.name
      end
      pgroups[#pgroups + 1] = { id = g.group_id, name = nn(g.group_name), role = nn(g.role), roles = json.array(roles) }
    end
    for _, s in ipairs(pd.service_accounts) do
      row({ principal_type = "service_account", principal_id = s.id, principal_name = nn(s.name),
        scope_type = "project", scope_id = p.id, scope_name = p.name, role = s.role, via = "direct" })
      svcs[#svcs + 1] = { id = s.id, name = nn(s.name), role = s.role }
    end
    doc.projects[i] = { id = p.id, name = p.name, status = p.status, members = json.array(members),
      groups = json.array(pgroups), service_accounts = json.array(svcs) }
  end
  doc.users, doc.groups, doc.projects = json.array(doc.users), json.array(doc.groups), json.array(doc.projects)
  return { rows = rows, columns = M.COLUMNS, document = doc }
end

function M.write(snapshot, format, write)
  if format == "json" then
    write(assert(json.encode(snapshot.document)) .. "\n")
  else
    common.write_rows(snapshot.rows, snapshot.columns, format, write)
  end
end

return M
