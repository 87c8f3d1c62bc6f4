-- The generic loop adapter: runs functions that make API calls as coroutines inside a host's
-- event loop, given three things the loop can do (docs/internals.md, README "Embedding"):
--
--   local loop = require("openai_admin.loop.generic").new {
--     watch = function(fd, events, serial) end, -- start/change watching fd for "r", "w" or "rw";
--                                               -- events nil: stop watching it. A new serial for
--                                               -- the same fd is a new socket: drop the old watcher
--     timer = function(seconds) end,            -- (re)arm the one timer to fire in `seconds`;
--                                               -- nil: disarm it
--     on_error = function(err, task) end,       -- optional: a task without on_done raised
--   }
--   -- the host calls, from its loop:  loop:ready(fd, "r"|"w"|"rw")   and   loop:timer()
--   local task = loop:spawn(function(a, b) ... API calls, pages, client:map ... end, a, b)
--   loop:cancel(task)   -- its requests cancelled, the task ends with task.cancelled = true
--
-- A call inside a spawned function submits its request to the engine and suspends only that
-- coroutine; when the engine completes it (during a later ready/timer call) the coroutine
-- resumes with the answer. Nothing blocks the host's loop. A function that raises ends its task
-- with task.error set; task.on_done(task) is called when given, else hooks.on_error(err, task),
-- else the error is raised from the ready/timer call that ended it (so it is never lost).
local send = require "openai_admin.request.send"
local errors = require "openai_admin.errors"

local M = {}

local SENTINEL = send.SENTINEL
local create, resume, status = coroutine.create, coroutine.resume, coroutine.status
local pack, unpack = table.pack, table.unpack
local pairs, ipairs, next, error, setmetatable, type = pairs, ipairs, next, error, setmetatable, type

-- A plain coroutine.yield inside a task has nobody to go to (the loop runs the task).
local function error_yield()
  error(errors.invalid_argument("openai_admin.loop: a task yielded to the loop; only API calls may suspend a task"),
    0)
end

local Loop = {}
Loop.__index = Loop

function M.new(hooks)
  if type(hooks) ~= "table" or type(hooks.watch) ~= "function" or type(hooks.timer) ~= "function" then
    error(errors.invalid_argument("openai_admin.loop.generic.new: expected { watch = function(fd, events, serial), "
      .. "timer = function(seconds) }"), 0)
  end
  return setmetatable({
    hooks = hooks,
    waits = {},    -- engine -> { [handle] = task }
    nested = {},   -- task -> true: a batch inside it waits for progress
    watched = {},  -- fd -> { eng = engine, ev = "r"|"w"|"rw", serial = n }
    engines = {},  -- engine -> true while it has work for us
    tasks = 0,     -- tasks alive
    armed = nil,   -- the timer's current due (seconds from when it was armed), for tests
  }, Loop)
end

local function finish(self, task, ok, r)
  task.done = true
  self.tasks = self.tasks - 1
  send.disown(task.co)
  self.nested[task] = nil
  if ok then
    task.results = r
  else
    task.error = r
  end
  if task.on_done then
    task.on_done(task)
  elseif not ok then
    if self.hooks.on_error then return self.hooks.on_error(r, task) end
    error(r, 0)
  end
end

-- Resumes a task's coroutine and handles what it yields.
local function run(self, task, ...)
  local co = task.co
  local r = pack(resume(co, ...))
  while true do
    if not r[1] then return finish(self, task, false, r[2]) end
    if status(co) == "dead" then return finish(self, task, true, pack(unpack(r, 2, r.n))) end
    if r[2] == SENTINEL and r[3] == "send" then
      local eng, h = send.submit_for(r[4], r[5], r[6])
      if not eng then
        r = pack(resume(co, h)) -- refused at once: the outcome goes straight back
      else
        local w = self.waits[eng]
        if not w then
          w = {}
          self.waits[eng] = w
        end
        w[h] = task
        self.engines[eng] = true
        return
      end
    elseif r[2] == SENTINEL then -- "wait": a batch (client:map...) inside waits for progress
      self.nested[task] = true
      return
    else
      r = pack(pcall(error_yield))
      return finish(self, task, false, r[2])
    end
  end
end

-- Re-reads what the engines wait on and tells the host.
function Loop:sync()
  local want = {}
  local soonest
  -- every engine with transfers in flight (a batch inside a task submits on its own)
  for _, eng in ipairs(send.engines()) do self.engines[eng] = true end
  for eng in pairs(self.engines) do
    local socks, serials = eng:sockets()
    for fd, ev in pairs(socks) do want[fd] = { eng = eng, ev = ev, serial = serials[fd] } end
    local t = eng:timeout()
    if t == nil and next(self.waits[eng] or {}) == nil then
      self.engines[eng] = nil
    elseif t and (soonest == nil or t < soonest) then
      soonest = t
    end
  end
  local watch = self.hooks.watch
  for fd, old in pairs(self.watched) do
    local new = want[fd]
    if not new or new.serial ~= old.serial then
      self.watched[fd] = nil
      watch(fd, nil, old.serial)
    end
  end
  for fd, new in pairs(want) do
    local old = self.watched[fd]
    if not old or old.ev ~= new.ev then
      self.watched[fd] = new
      watch(fd, new.ev, new.serial)
    end
  end
  self.armed = soonest
  self.hooks.timer(soonest)
end

-- Hands completed requests back to their tasks (and a step of progress to nested batches).
local function dispatch(self, progress)
  -- gathered first: resuming a task submits its next request into these tables
  local ready = {}
  for eng, w in pairs(self.waits) do
    for h, task in pairs(w) do
      local o = send.take(eng, h)
      if o then
        w[h] = nil
        ready[#ready + 1] = task
        ready[#ready + 1] = o
      end
    end
  end
  for eng, w in pairs(self.waits) do
    if next(w) == nil then self.waits[eng] = nil end
  end
  for i = 1, #ready, 2 do run(self, ready[i], ready[i + 1]) end
  if progress then
    local list = {}
    for task in pairs(self.nested) do list[#list + 1] = task end
    for _, task in ipairs(list) do
      self.nested[task] = nil
      run(self, task)
    end
  end
end

local function after_step(self, n)
  dispatch(self, n > 0)
  self:sync()
end

-- The host saw fd ready.
function Loop:ready(fd, ev)
  local w = self.watched[fd]
  if not w then return end
  after_step(self, send.step(w.eng, "ready", fd, ev))
end

-- The host's timer fired.
function Loop:timer()
  local n = 0
  for _, eng in ipairs(send.engines()) do self.engines[eng] = true end
  for eng in pairs(self.engines) do n = n + send.step(eng, "timer") end
  after_step(self, n)
end

-- Runs fn(...) as a task: API calls inside it suspend only it. Returns the task table
-- { co, done, results (table.pack of fn's returns), error, on_done }.
function Loop:spawn(fn, ...)
  local task = { co = create(fn), done = false }
  send.own(task.co, self)
  self.tasks = self.tasks + 1
  run(self, task, ...)
  self:sync()
  return task
end

-- Cancels a task that has not finished: its requests in flight are cancelled in the engine
-- (never completed, never retried), its coroutine is closed (its to-be-closed variables run, so
-- a batch inside it cancels its own requests), and it ends with task.cancelled = true and
-- task.error a `connection` error with code "cancelled"; task.on_done(task) runs when given.
-- Returns true, or false when the task had already finished. Not from inside the task itself.
function Loop:cancel(task)
  if task.done then return false end
  if status(task.co) ~= "suspended" then
    error("openai_admin.loop: a task cannot cancel itself (return from it instead)", 2)
  end
  for eng, w in pairs(self.waits) do
    for h, t in pairs(w) do
      if t == task then
        w[h] = nil
        send.cancel(eng, h)
      end
    end
    if next(w) == nil then self.waits[eng] = nil end
  end
  self.nested[task] = nil
  coroutine.close(task.co)
  task.done, task.cancelled = true, true
  self.tasks = self.tasks - 1
  send.disown(task.co)
  task.error = errors.new { kind = "connection", code = "cancelled", message = "cancelled by the host" }
  if task.on_done then task.on_done(task) end
  self:sync()
  return true
end

-- True while a task runs or a request is in flight.
function Loop:busy()
  return self.tasks > 0 or next(self.engines) ~= nil
end

M.Loop = Loop
return M
