-- Costs of the last 30 days per project, from the Costs API (the financial source of truth), as
-- CSV on stdout, with the exact total per project on stderr.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/cost_report.lua [since]
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local report = jobs.costs.report(client, { since = arg[1] or "30d", group_by = { "project_id" } })
jobs.costs.write(report, "csv", io.write)
for _, t in ipairs(report.totals.groups) do
  io.stderr:write(string.format("%-24s %s %s\n", tostring(t.project_name), t.amount, t.currency))
end
io.stderr:write(string.format("total %s %s (%d rows)\n", report.totals.overall[1].amount,
  report.totals.overall[1].currency, #report.rows))
