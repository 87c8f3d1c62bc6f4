-- Shared by luv_ticker.lua and cqueues_ticker.lua: starts a fake Admin API with 20 ms of
-- latency (tests/helpers/fake.lua: the fake server as a child process), a client for it, and
-- the job: 200 retrieves through client:map at concurrency 16, run as one task of the adapter.
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local root = here .. "/../.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/tests/?.lua;" .. package.path
package.cpath = root .. "/build/?.so;" .. package.cpath

local oa = require "openai_admin"
local core = require "openai_admin.core"
local fake = require "helpers.fake"

local M = { N = 200, CONCURRENCY = 16, LATENCY = 0.02, now = core.monotonic }

function M.setup()
  local f = fake.start { projects = 3, users = 2, latency = M.LATENCY }
  local client = oa.new { base_url = f.base_url, admin_key = f.admin_key }
  local projects = client.admin.organization.projects
  local pid = projects:list { limit = 1 }.data[1].id -- a blocking call, before the loop runs
  local items = {}
  for i = 1, M.N do items[i] = i end
  return f, client, function()
    local ids = client:map(items, function() return projects:retrieve(pid).id end,
      { concurrency = M.CONCURRENCY })
    local ok = 0
    for i = 1, M.N do if ids[i] == pid then ok = ok + 1 end end
    return ok
  end
end

-- The ticker's bookkeeping: call tick() from a 10 ms repeating timer.
function M.ticker()
  local t = { last = nil, max_gap = 0, ticks = 0 }
  function t.tick()
    local now = M.now()
    if t.last then
      local gap = now - t.last
      if gap > t.max_gap then t.max_gap = gap end
    end
    t.last = now
    t.ticks = t.ticks + 1
  end
  return t
end

function M.report(adapter, ok, wall, ticker)
  local ideal = M.N * M.LATENCY / M.CONCURRENCY
  print(string.format("embed %s: %d requests %s, wall %.2f s (ideal %.2f s), max loop gap %.0f ms", adapter, ok,
    ok == M.N and "ok" or ("ok of " .. M.N), wall, ideal, ticker.max_gap * 1000))
  return ok == M.N
end

return M
