-- Export the audit log to a file, oldest first, exactly once across restarts: kill it at any
-- point and start it again with the same two files.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/audit_export.lua audit.jsonl audit.ckpt
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local r = jobs.audit_export.export(client, { output = arg[1], checkpoint = arg[2] })
print(string.format("%d events exported in %d pages%s", r.events, r.pages, r.resumed and " (resumed)" or ""))
