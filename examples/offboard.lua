-- Offboard a user: print the plan, then (with --yes) remove every membership, role and key and
-- the user. Run it again after a failure: it finishes the job.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/offboard.lua EMAIL_OR_ID [--yes]
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local ok, result = pcall(jobs.offboard.offboard, client, { user = arg[1], dry_run = arg[2] ~= "--yes", confirm = true })
if not ok then print(result) os.exit(1) end
for _, line in ipairs(jobs.offboard.describe(result.plan)) do print(line) end
print(result.dry_run and "dry run: nothing changed" or (#result.done .. " steps done"))
