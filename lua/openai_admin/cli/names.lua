-- --names: the names of projects, users, service accounts and API keys next to their ids,
-- resolved through lists fetched at most once per run (archived projects included).
--   local names = require("openai_admin.cli.names").new(client)
--   names("project", "proj_abc", row) -> "Data pipeline" | ""
local M = {}

function M.new(client, on_fetch)
  local org = client.admin.organization
  local cache = { project = nil, user = nil }
  local per_project = { service_account = {}, api_key = {} }
  local function note(what) if on_fetch then on_fetch(what) end end

  local function projects()
    if not cache.project then
      note("projects")
      local t = {}
      for p in org.projects:list{ limit = 100, include_archived = true } do t[p.id] = p.name end
      cache.project = t
    end
    return cache.project
  end
  local function users()
    if not cache.user then
      note("users")
      local t = {}
      for u in org.users:list{ limit = 100 } do t[u.id] = u.name or u.email end
      cache.user = t
    end
    return cache.user
  end
  -- service accounts and API keys live in projects: the row's project first, then every project
  local function in_project(kind, project_id)
    local t = per_project[kind][project_id]
    if t then return t end
    t = {}
    local node = kind == "service_account" and org.projects.service_accounts or org.projects.api_keys
    note(kind .. "s of " .. project_id)
    local ok, err = pcall(function()
      for x in node:list(project_id, { limit = 100 }) do t[x.id] = x.name end
    end)
    if not ok and not (require("openai_admin.errors").is(err, "not_found")) then error(err, 0) end
    per_project[kind][project_id] = t
    return t
  end

  return function(kind, id, row)
    if type(id) ~= "string" then return "" end
    if kind == "project" then return projects()[id] or "" end
    if kind == "user" then return users()[id] or "" end
    local pid = type(row) == "table" and row.project_id
    if type(pid) == "string" then
      local n = in_project(kind, pid)[id]
      if n then return n end
    end
    for p in pairs(projects()) do
      local n = in_project(kind, p)[id]
      if n then return n end
    end
    return ""
  end
end

return M
