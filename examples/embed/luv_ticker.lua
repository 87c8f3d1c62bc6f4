-- A libuv program (lua-luv) that makes API calls without ever blocking its loop: 200 retrieves
-- (20 ms latency each, concurrency 16) run as a task of openai_admin.loop.luv while a 10 ms
-- repeating timer in the same loop keeps firing. Starts its own fake Admin API.
--
--   lua5.4 examples/embed/luv_ticker.lua
-- prints: embed luv: 200 requests ok, wall W s (ideal I s), max loop gap G ms
local common = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/ticker_common.lua")
local uv = require "luv"
local loop = require("openai_admin.loop.luv").new(uv)

local f, client, job = common.setup()
local ticker = common.ticker()
local tick = uv.new_timer()
tick:start(10, 10, ticker.tick)

local ok, t0 = 0, common.now()
local wall
loop:spawn(function()
  ok = job()
  wall = common.now() - t0
  tick:stop()
  tick:close()
end)
uv.run()
client:close()
f:stop()
os.exit(common.report("luv", ok, wall or (common.now() - t0), ticker) and 0 or 1, true) -- closes the state
