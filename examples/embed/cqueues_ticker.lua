-- A cqueues program (lua-cqueues) that makes API calls without ever blocking its loop: 200
-- retrieves (20 ms latency each, concurrency 16) run as a task of openai_admin.loop.cqueues
-- while a coroutine that sleeps 10 ms at a time keeps waking up. Starts its own fake Admin API.
--
--   lua5.4 examples/embed/cqueues_ticker.lua
-- prints: embed cqueues: 200 requests ok, wall W s (ideal I s), max loop gap G ms
local common = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/ticker_common.lua")
local cqueues = require "cqueues"
local cq = cqueues.new()
local loop = require("openai_admin.loop.cqueues").new(cq)

local f, client, job = common.setup()
local ticker = common.ticker()
local running = true
cq:wrap(function()
  while running do
    cqueues.sleep(0.01)
    ticker.tick()
  end
end)

local ok, t0 = 0, common.now()
local wall
cq:wrap(function()
  loop:spawn(function()
    ok = job()
    wall = common.now() - t0
    running = false
  end)
end)
local done, err = cq:loop()
client:close()
f:stop()
if not done then error(err, 0) end
os.exit(common.report("cqueues", ok, wall or (common.now() - t0), ticker) and 0 or 1, true) -- closes the state
