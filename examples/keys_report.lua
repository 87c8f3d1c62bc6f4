-- Keys to look at: never used, unused for 90 days, or owned by someone who left.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/keys_report.lua
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local report = jobs.keys.report(client, { stale_days = 90 })
for _, k in ipairs(report.rows) do
  if k.flags ~= "" then
    print(string.format("%-16s %-22s %-24s %s", k.kind, k.key_id, tostring(k.owner_email or k.owner_name), k.flags))
  end
end
local c = report.counts
print(string.format("%d keys, %d never used, %d stale, %d orphaned", c.keys, c.never_used, c.stale, c.orphaned))
