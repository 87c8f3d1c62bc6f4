--- The jobs admins automate on top of the Admin API, as library functions (each also an
--- `openai-admin` subcommand). See docs/jobs.md.
---
---   local jobs = require("openai_admin.jobs")
---   jobs.costs.report(client, { since = "30d", group_by = { "project_id" } })
---   jobs.usage.report(client, "completions", { since = "7d", group_by = { "user_id" } })
---   jobs.keys.report(client, { stale_days = 90 })
---   jobs.access_review.snapshot(client)
---   jobs.rotate.rotate(client, { project_id = ..., service_account_id = ..., handover = ..., confirm = true })
---   jobs.offboard.offboard(client, { user = "ada@example.com", confirm = true })
---   jobs.audit_export.export(client, { output = "audit.jsonl", checkpoint = "audit.ckpt" })
---   jobs.lookups.user_memberships(client, user_id), jobs.lookups.service_account_keys(client, p, sa)
local M = {}

local MODULES = { "common", "lookups", "costs", "usage", "keys", "access_review", "rotate", "offboard",
  "audit_export" }

setmetatable(M, { __index = function(t, k)
  for _, name in ipairs(MODULES) do
    if name == k then
      local mod = require("openai_admin.jobs." .. name)
      rawset(t, k, mod)
      return mod
    end
  end
  return nil
end })

return M
