--- Cost report: the Costs API over a range, every bucket of every page, one flat row per
--- (bucket, group) with project names (archived projects included), the amounts exactly as the
--- API gave them, and exact totals per group and overall.
---
---   local report = require("openai_admin.jobs.costs").report(client, {
---     since = "30d", ["until"] = nil, group_by = { "project_id", "line_item" }, project_ids = nil })
---   report.rows, report.columns, report.totals.groups, report.totals.overall, report.note
---   costs.write(report, "csv" | "jsonl" | "table", io.write)          -- the rows
---   costs.write_totals(report, "csv" | "jsonl" | "table", io.write)   -- the totals
---
--- The Costs API, not usage multiplied by a price table, is the financial source of truth: usage
--- endpoints count tokens and requests, prices change and have tiers, discounts and credits.
local common = require("openai_admin.jobs.common")
local buckets = require("openai_admin.jobs.buckets")

local M = {}

local SDK = "admin.organization.usage.costs"
M.COLUMNS = { "start_time", "end_time", "project_id", "project_name", "line_item", "amount", "currency" }
M.NOTE = "Source: the Costs API (GET /organization/costs), the financial source of truth; "
  .. "amounts are exactly as the API reported them, not usage multiplied by prices."

function M.report(client, opts)
  opts = opts or {}
  local start_time, end_time = buckets.range("costs", opts)
  local group_by = buckets.check_group_by("costs", SDK, opts.group_by)
  local grouped = {}
  for _, g in ipairs(group_by) do grouped[g] = true end
  local names = buckets.names(client, grouped.project_id and { "project_id" } or {})
  local params = { start_time = start_time, end_time = end_time, bucket_width = "1d", limit = opts.limit or 180 }
  if #group_by > 0 then params.group_by = group_by end
  if opts.project_ids then params.project_ids = opts.project_ids end

  local rows, group_totals, group_order, overall = {}, {}, {}, {}
  local first_start, last_end
  for bucket in client.admin.organization.usage:costs(params) do
    first_start = first_start or bucket.start_time
    last_end = bucket.end_time
    for _, r in ipairs(bucket.results) do
      local amount = r.amount or {}
      local row = {
        start_time = common.iso(bucket.start_time), end_time = common.iso(bucket.end_time),
        project_id = grouped.project_id and r.project_id or nil,
        line_item = grouped.line_item and r.line_item or nil,
        amount = common.decimal(amount.value == nil and 0 or amount.value),
        currency = amount.currency,
      }
      if grouped.project_id then buckets.name_row(row, { "project_id" }, names) end
      rows[#rows + 1] = row
      local key = table.concat({ tostring(row.project_id), tostring(row.line_item), tostring(row.currency) }, "\1")
      local g = group_totals[key]
      if not g then
        g = { project_id = row.project_id, project_name = row.project_name, line_item = row.line_item,
          currency = row.currency, amount = "0" }
        group_totals[key] = g
        group_order[#group_order + 1] = g
      end
      g.amount = common.dec_add(g.amount, row.amount)
      local cur = tostring(row.currency)
      overall[cur] = common.dec_add(overall[cur] or "0", row.amount)
    end
  end
  local range_start = common.iso(first_start or start_time)
  local range_end = common.iso(last_end or end_time)
  for _, g in ipairs(group_order) do g.start_time, g.end_time = range_start, range_end end
  local overall_rows = {}
  for cur, amount in pairs(overall) do
    overall_rows[#overall_rows + 1] = { start_time = range_start, end_time = range_end, amount = amount,
      currency = cur ~= "nil" and cur or nil }
  end
  table.sort(overall_rows, function(a, b) return tostring(a.currency) < tostring(b.currency) end)
  return {
    rows = rows, columns = M.COLUMNS, group_by = group_by,
    totals = { groups = group_order, overall = overall_rows },
    start_time = start_time, end_time = end_time, note = M.NOTE,
  }
end

function M.write(report, format, write)
  common.write_rows(report.rows, report.columns, format, write)
end

--- Totals: one row per group, then the overall total per currency (project and line item empty).
function M.write_totals(report, format, write)
  local rows = {}
  for _, g in ipairs(report.totals.groups) do rows[#rows + 1] = g end
  if #report.group_by > 0 then
    for _, o in ipairs(report.totals.overall) do rows[#rows + 1] = o end
  end
  common.write_rows(rows, report.columns, format, write)
end

return M
