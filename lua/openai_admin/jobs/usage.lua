--- Usage reports, one per usage endpoint of the endpoint table (completions, embeddings, images,
--- audio speeches and transcriptions, moderations, vector stores, code interpreter sessions, web
--- and file search, ...): every bucket of every page, one flat row per (bucket, group) with names
--- for projects, users and keys, and exact totals per group and overall.
---
---   local usage = require("openai_admin.jobs.usage")
---   usage.endpoints()                     -> { "audio_speeches", "audio_transcriptions", ... }
---   local r = usage.report(client, "completions", { since = "7d", group_by = { "project_id", "model" },
---                          bucket_width = "1d" })
---   r.rows, r.columns, r.metrics, r.totals.groups, r.totals.overall
---   usage.write(r, "csv", io.write); usage.write_totals(r, "table", io.write)
local json = require("openai_admin.json")
local common = require("openai_admin.jobs.common")
local buckets = require("openai_admin.jobs.buckets")

local null = json.null
local M = {}

M.endpoints = buckets.usage_endpoints

local WIDTH_LIMIT = { ["1d"] = 31, ["1h"] = 168, ["1m"] = 1440 }

function M.report(client, endpoint, opts)
  opts = opts or {}
  local known = {}
  for _, e in ipairs(M.endpoints()) do known[e] = true end
  if not known[endpoint] then
    common.invalid("usage", "unknown usage endpoint '" .. tostring(endpoint) .. "' (one of "
      .. table.concat(M.endpoints(), ", ") .. ")", "endpoint")
  end
  local sdk = "admin.organization.usage." .. endpoint
  local start_time, end_time = buckets.range("usage", opts)
  local dims = buckets.check_group_by("usage", sdk, opts.group_by)
  local width = opts.bucket_width or "1d"
  if not WIDTH_LIMIT[width] then common.invalid("usage", "bucket_width: expected 1m, 1h or 1d", "bucket_width") end
  local names = buckets.names(client, dims)
  local params = { start_time = start_time, end_time = end_time, bucket_width = width,
    limit = opts.limit or WIDTH_LIMIT[width] }
  if #dims > 0 then params.group_by = dims end
  for _, f in ipairs({ "project_ids", "user_ids", "api_key_ids", "models" }) do
    if opts[f] then params[f] = opts[f] end
  end
  local is_dim = { object = true }
  for _, d in ipairs(buckets.group_dims(sdk)) do is_dim[d] = true end
  for _, d in ipairs({ "project_id", "user_id", "api_key_id", "model", "batch" }) do is_dim[d] = true end

  local rows, metrics, metric_set = {}, {}, {}
  local groups, order, overall = {}, {}, {}
  for bucket in client.admin.organization.usage[endpoint](client.admin.organization.usage, params) do
    for _, r in ipairs(bucket.results) do
      local row = { start_time = common.iso(bucket.start_time), end_time = common.iso(bucket.end_time) }
      local key = {}
      for i, d in ipairs(dims) do
        local v = r[d]
        if v == null then v = nil end
        row[d] = v
        key[i] = tostring(v)
      end
      buckets.name_row(row, dims, names)
      local k = table.concat(key, "\1")
      local g = groups[k]
      if not g then
        g = {}
        for _, d in ipairs(dims) do g[d] = row[d] end
        buckets.name_row(g, dims, names)
        groups[k] = g
        order[#order + 1] = g
      end
      for field, v in pairs(r) do
        if not is_dim[field] and type(v) == "number" then
          if not metric_set[field] then metric_set[field] = true; metrics[#metrics + 1] = field end
          row[field] = math.type(v) == "integer" and v or common.decimal(v)
          buckets.add(g, field, v)
          buckets.add(overall, field, v)
        end
      end
      rows[#rows + 1] = row
    end
  end
  table.sort(metrics)
  local range = { common.iso(start_time), common.iso(end_time or opts.now or os.time()) }
  for _, g in ipairs(order) do g.start_time, g.end_time = range[1], range[2] end
  overall.start_time, overall.end_time = range[1], range[2]
  return {
    endpoint = endpoint, rows = rows, columns = buckets.columns(dims, metrics), metrics = metrics,
    group_by = dims, totals = { groups = order, overall = overall },
    start_time = start_time, end_time = end_time,
  }
end

function M.write(report, format, write)
  common.write_rows(report.rows, report.columns, format, write)
end

function M.write_totals(report, format, write)
  local rows = {}
  if #report.group_by > 0 then
    for _, g in ipairs(report.totals.groups) do rows[#rows + 1] = g end
  end
  rows[#rows + 1] = report.totals.overall
  common.write_rows(rows, report.columns, format, write)
end

return M
