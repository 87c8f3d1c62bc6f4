-- Completions usage of the last 7 days per user, with their emails, as a table.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/usage_report.lua [endpoint]
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local endpoint = arg[1] or "completions"   -- any of jobs.usage.endpoints()
local report = jobs.usage.report(client, endpoint, { since = "7d", group_by = { "user_id" } })
jobs.usage.write_totals(report, "table", io.write)
print(string.format("%s: %d rows over %d metrics", endpoint, #report.rows, #report.metrics))
