-- Rotate a service account's key: the new secret goes into a new file (mode 0600), then the old
-- key is deleted. Without "--yes" it only prints the plan.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/rotate_key.lua PROJECT_ID SERVICE_ACCOUNT_ID SECRET_FILE [--yes]
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local project_id, service_account_id, secret_file = arg[1], arg[2], arg[3]
local result = jobs.rotate.rotate(client, {
  project_id = project_id, service_account_id = service_account_id,
  handover = { file = secret_file },
  dry_run = arg[4] ~= "--yes", confirm = true,
})
for i, step in ipairs(result.plan.steps) do print(i .. ". " .. step) end
if result.new_key then
  print("rotated " .. result.old_key_id .. " -> " .. result.new_key.id .. "; secret in " .. secret_file)
end
