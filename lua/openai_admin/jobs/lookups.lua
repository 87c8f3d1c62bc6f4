--- The lookups the Admin API lacks, built from its lists (every page of each, concurrently where
--- there is one list per project or group):
---
---   lookups.projects(client)                 -> list (archived included), by_id
---   lookups.users(client)                    -> list, by_id
---   lookups.project_keys(client, projects)   -> { [project_id] = { key... } }
---   lookups.service_account_keys(client, project_id, service_account_id) -> { key... }
---   lookups.user_memberships(client, user_id) -> { user, projects, groups, org_roles, project_roles,
---                                                 project_keys, admin_keys }
---   lookups.calling_admin_key(client, opts)  -> the admin key making the calls, or nil, candidates
local common = require("openai_admin.jobs.common")

local M = {}

local function org(client) return client.admin.organization end

local function by_id(list, field)
  local t = {}
  for _, x in ipairs(list) do t[x[field or "id"]] = x end
  return t
end
M.by_id = by_id

--- Every project, archived ones included (their names appear in reports of the past).
function M.projects(client)
  local list = org(client).projects:list({ limit = 100, include_archived = true }):collect()
  return list, by_id(list)
end

--- Every user of the organization.
function M.users(client)
  local list = org(client).users:list({ limit = 100 }):collect()
  return list, by_id(list)
end

--- Every admin API key.
function M.admin_keys(client)
  return org(client).admin_api_keys:list({ limit = 100 }):collect()
end

--- For each project (a list of project objects or ids), the result of fn(client, project_id):
--- a table project_id -> list, fetched concurrently.
local function per_project(client, projects, fetch)
  local ids = {}
  for i, p in ipairs(projects) do ids[i] = type(p) == "table" and p.id or p end
  local lists = common.map(client, ids, function(id) return fetch(id) end)
  local out = {}
  for i, id in ipairs(ids) do out[id] = lists[i] end
  return out
end

function M.project_keys(client, projects)
  local o = org(client)
  return per_project(client, projects, function(id) return o.projects.api_keys:list(id, { limit = 100 }):collect() end)
end

function M.project_members(client, projects)
  local o = org(client)
  return per_project(client, projects, function(id) return o.projects.users:list(id, { limit = 100 }):collect() end)
end

function M.project_service_accounts(client, projects)
  local o = org(client)
  return per_project(client, projects, function(id)
    return o.projects.service_accounts:list(id, { limit = 100 }):collect()
  end)
end

--- The keys of one service account: the project's key list filtered by owner (the API has no
--- per-service-account key list).
function M.service_account_keys(client, project_id, service_account_id)
  local out = {}
  for k in org(client).projects.api_keys:list(project_id, { limit = 100 }) do
    local sa = k.owner and k.owner.type == "service_account" and k.owner.service_account
    if sa and sa.id == service_account_id then out[#out + 1] = k end
  end
  return out
end

--- Everything that ties a user to the organization: project memberships (with role), group
--- memberships, organization role assignments, project role assignments, project API keys they
--- own (in any project, member or not) and admin keys they own. user is nil when the user is not
--- (or no longer) in the organization; the other lists are still searched (keys outlive users).
function M.user_memberships(client, user_id)
  local o = org(client)
  local projects = M.projects(client)
  local groups = o.groups:list({ limit = 100 }):collect()
  local user
  do
    local ok, u = pcall(o.users.retrieve, o.users, user_id)
    if ok then
      user = u
    elseif not require("openai_admin.errors").is(u, "not_found") then
      error(u, 0)
    end
  end
  local per = common.map(client, projects, function(p)
    local r = common.parallel(client, {
      function() return o.projects.users:list(p.id, { limit = 100 }):collect() end,
      function() return o.projects.api_keys:list(p.id, { limit = 100 }):collect() end,
    })
    local out = { members = r[1], keys = r[2] }
    for _, m in ipairs(out.members or {}) do
      if m.id == user_id then
        out.member = m
        out.roles = o.projects.users.roles:list(p.id, user_id, { limit = 100 }):collect()
      end
    end
    return out
  end)
  local in_groups = common.map(client, groups, function(g)
    for m in o.groups.users:list(g.id, { limit = 100 }) do
      if m.id == user_id or m.user_id == user_id then return true end
    end
    return false
  end)
  local res = { user = user, projects = {}, groups = {}, org_roles = {}, project_roles = {}, project_keys = {},
    admin_keys = {} }
  for i, p in ipairs(projects) do
    local x = per[i]
    if x.member then
      res.projects[#res.projects + 1] = { project = p, role = x.member.role }
      for _, r in ipairs(x.roles or {}) do res.project_roles[#res.project_roles + 1] = { project = p, role = r } end
    end
    for _, k in ipairs(x.keys or {}) do
      local u = k.owner and k.owner.type == "user" and k.owner.user
      if u and u.id == user_id then res.project_keys[#res.project_keys + 1] = { project = p, key = k } end
    end
  end
  for i, g in ipairs(groups) do
    if in_groups[i] then res.groups[#res.groups + 1] = g end
  end
  if user then res.org_roles = o.users.roles:list(user_id, { limit = 100 }):collect() end
  for _, k in ipairs(M.admin_keys(client)) do
    if k.owner and k.owner.id == user_id then res.admin_keys[#res.admin_keys + 1] = k end
  end
  return res
end

--- Which admin key the client calls with. The API never returns a key's value, only a redacted
--- one ("sk-admin...ab12": its prefix and last characters), so the key is recognised by matching
--- the secret the caller holds (opts.admin_key, default $OPENAI_ADMIN_KEY, the client's default)
--- against each key's redacted value; opts.admin_key_id names it directly instead. Returns the
--- key, or nil and the list of candidates when none or several match. The secret is compared in
--- memory and never stored, printed or sent anywhere.
function M.calling_admin_key(client, opts)
  opts = opts or {}
  local keys = M.admin_keys(client)
  if opts.admin_key_id then
    for _, k in ipairs(keys) do
      if k.id == opts.admin_key_id then return k end
    end
    return nil, {}
  end
  local secret = opts.admin_key or os.getenv("OPENAI_ADMIN_KEY")
  if type(secret) ~= "string" or #secret < 8 then return nil, keys end
  local matches = {}
  for _, k in ipairs(keys) do
    local rv = type(k.redacted_value) == "string" and k.redacted_value or ""
    local head, tail = rv:match("^(.-)%.%.%.+(.*)$")
    if head and #tail > 0 and secret:sub(1, #head) == head and secret:sub(-#tail) == tail then
      matches[#matches + 1] = k
    end
  end
  if #matches == 1 then return matches[1] end
  return nil, matches
end

return M
