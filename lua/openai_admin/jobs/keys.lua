--- Keys report: every admin key and every project API key and service account key of every
--- project (archived ones included), with owner, created and last-used times, flagged:
---   never_used          last_used_at is null (shown empty, never as 1970)
---   unused_N_days       last used more than N days ago (opts.stale_days, default 90)
---   owner_left_project  a user's key whose owner is no longer a member of the project
---   owner_left_org      the owner is no longer a user of the organization
---   owner_deleted       a service account key whose service account is gone
---
---   local r = require("openai_admin.jobs.keys").report(client, { stale_days = 90 })
---   r.rows (one per key), r.columns, r.counts = { keys, never_used, stale, orphaned }
local json = require("openai_admin.json")
local common = require("openai_admin.jobs.common")
local lookups = require("openai_admin.jobs.lookups")

local null = json.null
local M = {}

M.COLUMNS = { "kind", "project_id", "project_name", "key_id", "key_name", "redacted_value", "owner_type",
  "owner_id", "owner_name", "owner_email", "created_at", "last_used_at", "days_unused", "flags" }

local function flag_usage(row, last_used, now, stale_days, flags)
  if last_used == nil or last_used == null then
    flags[#flags + 1] = "never_used"
    row.never_used = true
  else
    local days = (now - last_used) // 86400
    row.days_unused = days
    if days >= stale_days then
      flags[#flags + 1] = "unused_" .. stale_days .. "_days"
      row.stale = true
    end
  end
end

function M.report(client, opts)
  opts = opts or {}
  local now = opts.now or os.time()
  local stale_days = opts.stale_days == nil and 90 or math.tointeger(opts.stale_days)
  if not stale_days or stale_days < 1 then common.invalid("keys", "stale_days: expected a positive integer",
    "stale_days") end
  local projects = lookups.projects(client)
  local _, users = lookups.users(client)
  local per = common.map(client, projects, function(p)
    local org = client.admin.organization
    local r = common.parallel(client, {
      function() return org.projects.api_keys:list(p.id, { limit = 100 }):collect() end,
      function() return org.projects.users:list(p.id, { limit = 100 }):collect() end,
      function() return org.projects.service_accounts:list(p.id, { limit = 100 }):collect() end,
    })
    return { keys = r[1], members = lookups.by_id(r[2]), svcs = lookups.by_id(r[3]) }
  end)
  local rows = {}
  local counts = { keys = 0, never_used = 0, stale = 0, orphaned = 0 }
  local function add(row, flags)
    row.flags = table.concat(flags, ";")
    row.orphaned = row.orphaned or false
    rows[#rows + 1] = row
    counts.keys = counts.keys + 1
    if row.never_used then counts.never_used = counts.never_used + 1 end
    if row.stale then counts.stale = counts.stale + 1 end
    if row.orphaned then counts.orphaned = counts.orphaned + 1 end
  end
  for _, k in ipairs(lookups.admin_keys(client)) do
    local o = k.owner or {}
    local u = users[o.id]
    local row = {
      kind = "admin", key_id = k.id, key_name = k.name, redacted_value = k.redacted_value,
      owner_type = o.type or "user", owner_id = o.id, owner_name = o.name, owner_email = u and u.email or nil,
      created_at = common.iso(k.created_at), last_used_at = common.iso(k.last_used_at),
    }
    local flags = {}
    flag_usage(row, k.last_used_at, now, stale_days, flags)
    if o.id and not u then
      flags[#flags + 1] = "owner_left_org"
      row.orphaned = true
    end
    add(row, flags)
  end
  for i, p in ipairs(projects) do
    local x = per[i]
    for _, k in ipairs(x.keys) do
      local o = k.owner or {}
      local row = {
        kind = "project", project_id = p.id, project_name = p.name, key_id = k.id, key_name = k.name,
        redacted_value = k.redacted_value, owner_type = o.type,
        created_at = common.iso(k.created_at), last_used_at = common.iso(k.last_used_at),
      }
      local flags = {}
      flag_usage(row, k.last_used_at, now, stale_days, flags)
      if o.type == "service_account" then
        local s = o.service_account or {}
        row.kind, row.owner_id, row.owner_name = "service_account", s.id, s.name
        if not x.svcs[s.id] then
          flags[#flags + 1] = "owner_deleted"
          row.orphaned = true
        end
      else
        local u = o.user or {}
        row.owner_id = u.id
        row.owner_name = u.name ~= null and u.name or nil
        row.owner_email = u.email ~= null and u.email or nil
        if not x.members[u.id] then
          flags[#flags + 1] = "owner_left_project"
          row.orphaned = true
        end
        if not users[u.id] then
          flags[#flags + 1] = "owner_left_org"
          row.orphaned = true
        end
      end
      add(row, flags)
    end
  end
  return { rows = rows, columns = M.COLUMNS, counts = counts, stale_days = stale_days, generated_at = now }
end

function M.write(report, format, write)
  common.write_rows(report.rows, report.columns, format, write)
end

return M
