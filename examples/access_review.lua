-- Who can do what, as one CSV snapshot for a compliance file.
--
--   OPENAI_ADMIN_KEY=... lua5.4 examples/access_review.lua > access-review.csv
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")
local jobs = require("openai_admin.jobs")

local client <close> = openai_admin.new{}
local snapshot = jobs.access_review.snapshot(client)
jobs.access_review.write(snapshot, "csv", io.write)
io.stderr:write(string.format("%d grants, %d users, %d projects\n", #snapshot.rows, #snapshot.document.users,
  #snapshot.document.projects))
