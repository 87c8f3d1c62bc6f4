--- Flattening usage and costs buckets into rows with names, and their exact totals (shared by the
--- cost report and the usage reports).
local api = require("openai_admin.api")
local json = require("openai_admin.json")
local common = require("openai_admin.jobs.common")
local lookups = require("openai_admin.jobs.lookups")

local null = json.null
local M = {}

local ROWS = {}
for _, row in ipairs(api) do ROWS[row.sdk_path] = row end

--- The group_by values an endpoint accepts, from the endpoint table.
function M.group_dims(sdk_path)
  local row = assert(ROWS[sdk_path], sdk_path)
  for _, q in ipairs(row.query) do
    if q.name == "group_by" then return q.enum or {} end
  end
  return {}
end

--- The usage endpoints (every page_token endpoint of the table but costs), by name.
function M.usage_endpoints()
  local out = {}
  for _, row in ipairs(api) do
    if row.resource == "admin.organization.usage" and row.name ~= "costs" and row.pagination == "page_token" then
      out[#out + 1] = row.name
    end
  end
  return out
end

-- names for the ids a row can carry
local NAME_COLUMNS = {
  project_id = { "project_name" },
  user_id = { "user_email", "user_name" },
  api_key_id = { "api_key_name" },
}
M.NAME_COLUMNS = NAME_COLUMNS

--- Fetches the names the grouping needs: { project_id = {id -> name}, user_id = {id -> {email,
--- name}}, api_key_id = {id -> name} } (archived projects and every project's keys included).
function M.names(client, dims)
  local want = {}
  for _, d in ipairs(dims) do want[d] = true end
  local names = {}
  local projects
  if want.project_id or want.api_key_id then
    projects = lookups.projects(client)
    names.project_id = {}
    for _, p in ipairs(projects) do names.project_id[p.id] = p.name end
  end
  if want.user_id then
    names.user_id = {}
    for _, u in ipairs((lookups.users(client))) do names.user_id[u.id] = u end
  end
  if want.api_key_id then
    names.api_key_id = {}
    for _, keys in pairs(lookups.project_keys(client, projects)) do
      for _, k in ipairs(keys) do names.api_key_id[k.id] = k.name end
    end
    for _, k in ipairs(lookups.admin_keys(client)) do names.api_key_id[k.id] = k.name end
  end
  return names
end

--- Adds the name columns of a row's ids.
function M.name_row(row, dims, names)
  for _, d in ipairs(dims) do
    local id = row[d]
    if d == "project_id" then
      row.project_name = names.project_id and names.project_id[id] or nil
    elseif d == "user_id" then
      local u = names.user_id and names.user_id[id]
      row.user_email, row.user_name = u and u.email or nil, u and u.name or nil
    elseif d == "api_key_id" then
      row.api_key_name = names.api_key_id and names.api_key_id[id] or nil
    end
  end
end

--- Columns: times, each grouped dimension followed by its names, then extra.
function M.columns(dims, extra)
  local cols = { "start_time", "end_time" }
  for _, d in ipairs(dims) do
    cols[#cols + 1] = d
    for _, n in ipairs(NAME_COLUMNS[d] or {}) do cols[#cols + 1] = n end
  end
  for _, c in ipairs(extra) do cols[#cols + 1] = c end
  return cols
end

--- Exact running sums: integers as integers, anything else as decimal strings.
function M.add(acc, field, v)
  if v == nil or v == null then return end
  local cur = acc[field]
  if math.type(v) == "integer" and (cur == nil or math.type(cur) == "integer") then
    acc[field] = (cur or 0) + v
  else
    local a = cur == nil and "0" or common.decimal(cur)
    acc[field] = common.dec_add(a, common.decimal(v))
  end
end

--- The time range arguments of a report: since (required), until (optional).
function M.range(job, opts)
  if opts.since == nil then common.invalid(job, "since is required (a date, a relative time like 30d, or Unix seconds)",
    "since") end
  local now = opts.now or os.time()
  local start_time = common.time(opts.since, job, "since", now)
  local end_time = opts["until"] ~= nil and common.time(opts["until"], job, "until", now) or nil
  if end_time and end_time <= start_time then common.invalid(job, "until must be after since", "until") end
  return start_time, end_time
end

--- Checks group_by against the endpoint's accepted values; returns the list in the API's order.
function M.check_group_by(job, sdk_path, group_by)
  if group_by == nil then return {} end
  if type(group_by) == "string" then group_by = { group_by } end
  local allowed = M.group_dims(sdk_path)
  local ok = {}
  for _, v in ipairs(allowed) do ok[v] = true end
  local want = {}
  for i, g in ipairs(group_by) do
    if not ok[g] then
      common.invalid(job, string.format("group_by[%d]: '%s' is not one of %s", i, tostring(g),
        table.concat(allowed, ", ")), "group_by")
    end
    want[g] = true
  end
  local out = {}
  for _, v in ipairs(allowed) do if want[v] then out[#out + 1] = v end end
  return out
end

return M
