-- The cqueues adapter (Debian lua-cqueues): API calls inside loop:spawn(fn) suspend only their
-- task while the controller's other coroutines keep running. One controller coroutine, wrapped
-- on the given controller when the first task starts, polls the engine's sockets and deadline
-- with cqueues.poll and steps the engine; it ends when no task is left.
--
--   local cqueues = require "cqueues"
--   local cq = cqueues.new()
--   local loop = require("openai_admin.loop.cqueues").new(cq)
--   loop:spawn(function() for p in client.admin.organization.projects:list{} do ... end end)
--   assert(cq:loop())
--
-- A task that raises without a task.on_done: the error comes out of cq:loop() (false, err).
local generic = require "openai_admin.loop.generic"

local M = {}

local Pollable = {}
Pollable.__index = Pollable
function Pollable:pollfd() return self.fd end
function Pollable:events() return self.ev end
function Pollable.timeout() return nil end

function M.new(cq, cqueues)
  cqueues = cqueues or require "cqueues"
  local condition = require "cqueues.condition"
  local fds = {}            -- fd -> Pollable
  local due = nil           -- seconds from `armed_at`, or nil
  local armed_at = 0
  local changed = condition.new()
  local running = false
  local loop

  local function controller()
    while loop:busy() do
      local objs = { changed }
      for _, p in pairs(fds) do objs[#objs + 1] = p end
      local t = nil
      if due then
        t = due - (cqueues.monotime() - armed_at)
        if t < 0 then t = 0 end
      end
      if t then objs[#objs + 1] = t end
      local ready = { cqueues.poll(table.unpack(objs)) }
      local any = false
      for _, r in ipairs(ready) do
        if getmetatable(r) == Pollable and fds[r.fd] == r then
          any = true
          loop:ready(r.fd, r.ev)
        end
      end
      if not any and due and cqueues.monotime() - armed_at >= due then loop:timer() end
    end
    running = false
  end

  loop = generic.new {
    watch = function(fd, ev)
      if ev == nil then
        if fds[fd] then cqueues.cancel(fd) end -- the socket is gone: cqueues forgets the fd
        fds[fd] = nil
      else
        fds[fd] = setmetatable({ fd = fd, ev = ev }, Pollable)
      end
      changed:signal()
    end,
    timer = function(seconds)
      due, armed_at = seconds, cqueues.monotime()
      changed:signal()
      if seconds ~= nil and not running then
        running = true
        cq:wrap(controller)
      end
    end,
  }
  return loop
end

return M
