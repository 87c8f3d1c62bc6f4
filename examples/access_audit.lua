-- An org-wide access audit: for every project, its users, service accounts and API keys,
-- fetched concurrently (every page of each), printed as one line per project plus the keys
-- owned by people who are no longer members.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/access_audit.lua [concurrency]
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")

local client <close> = openai_admin.new{}
local org = client.admin.organization
local concurrency = math.tointeger(tonumber(arg[1] or "")) or 16

local projects = org.projects:list{ limit = 100 }:collect()

-- One function per project; inside, three lists and all their pages run concurrently too.
-- errors = "collect": per-project failures come back in errs (by default map raises the first).
local audits, errs, nfailed = client:map(projects, function(project)
  local id = project.id
  local lists = client:parallel({
    function() return org.projects.users:list(id, { limit = 100 }):collect() end,
    function() return org.projects.service_accounts:list(id, { limit = 100 }):collect() end,
    function() return org.projects.api_keys:list(id, { limit = 100 }):collect() end,
  })
  return { project = project, users = lists[1] or {}, service_accounts = lists[2] or {}, keys = lists[3] or {} }
end, { concurrency = concurrency, errors = "collect" }) -- a failed project is reported, the others still run

for i, project in ipairs(projects) do
  local a = audits[i]
  if not a then
    print(string.format("%-32s audit failed: %s", project.id, tostring(errs[i])))
  else
    local members = {}
    for _, u in ipairs(a.users) do members[u.id] = true end
    local orphaned = 0
    for _, key in ipairs(a.keys) do
      local owner = key.owner and key.owner.user
      if owner and not members[owner.id] then orphaned = orphaned + 1 end
    end
    print(string.format("%-32s %-24s %3d users %3d service accounts %3d keys %3d keys of non-members",
      project.id, project.name:sub(1, 24), #a.users, #a.service_accounts, #a.keys, orphaned))
  end
end
print(string.format("%d projects audited, %d failed", #projects, nfailed))
