-- The libuv adapter (Debian lua-luv): API calls inside loop:spawn(fn) suspend only their task
-- while the uv loop keeps running; the engine's sockets become uv poll handles and its deadline
-- one uv timer.
--
--   local uv = require "luv"
--   local loop = require("openai_admin.loop.luv").new(uv)
--   loop:spawn(function() for p in client.admin.organization.projects:list{} do ... end end)
--   uv.run()   -- returns once every task is done (and your own handles are closed)
--
-- A task that raises without a task.on_done: the error goes to loop.errors and to stderr (an
-- error raised inside a luv callback would end the process).
local generic = require "openai_admin.loop.generic"

local M = {}

function M.new(uv)
  uv = uv or require "luv"
  local polls = {} -- fd -> uv poll handle
  local timer
  local loop
  local function close(h)
    if not h:is_closing() then h:close() end
  end
  local errors = {}
  loop = generic.new {
    on_error = function(err)
      errors[#errors + 1] = err
      io.stderr:write("openai_admin.loop.luv: a task raised: ", tostring(err), "\n")
    end,
    watch = function(fd, ev)
      local p = polls[fd]
      if ev == nil then
        if p then
          p:stop()
          close(p)
          polls[fd] = nil
        end
        return
      end
      if not p then
        p = assert(uv.new_socket_poll(fd))
        polls[fd] = p
      end
      p:start(ev, function(err, events)
        loop:ready(fd, err and "rw" or events or ev)
      end)
    end,
    timer = function(seconds)
      if seconds == nil then
        if timer then
          timer:stop()
          close(timer)
          timer = nil
        end
        return
      end
      if not timer then timer = uv.new_timer() end
      timer:stop()
      timer:start(math.max(0, math.ceil(seconds * 1000)), 0, function() loop:timer() end)
    end,
  }
  loop.errors = errors
  return loop
end

return M
