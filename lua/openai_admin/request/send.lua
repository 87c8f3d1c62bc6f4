-- The send stage: every request of the Lua layer goes through send.send, and every driver
-- (blocking calls, client:parallel/map/each, the loop adapters) is a thin layer over the C
-- engine's submit/poll (docs/internals.md, "The send stage").
--
-- A call made in a coroutine that an owner runs (a batch scheduler, a loop adapter: see own)
-- yields (SENTINEL, "send", cc, req, log) to that owner, which submits it and resumes the
-- coroutine with the outcome; only that coroutine waits. Anywhere else the call blocks: submit,
-- then poll until its handle completes.
--
-- Outcomes are kept here, per engine and handle, until their owner takes them, so a blocking
-- call made where a coroutine cannot yield (a sort comparator inside a batch) can drive the
-- engine without losing the answers of the batch's other transfers.
local errors = require "openai_admin.errors"

local M = {}

local running, yield, isyieldable = coroutine.running, coroutine.yield, coroutine.isyieldable
local pcall, next, pairs, tostring, error = pcall, next, pairs, tostring, error

-- The owners' protocol value: a yield whose first value is this one is for the owner.
local SENTINEL = setmetatable({}, { __name = "openai_admin.send", __tostring = function()
  return "openai_admin.send"
end })
M.SENTINEL = SENTINEL

local OWNED = setmetatable({}, { __mode = "k" }) -- coroutine -> owner (any true value)
local OUT = {}    -- engine -> { [handle] = outcome }   (strong while transfers are live)
local LOGS = {}   -- engine -> { [handle] = log function }
local ACTIVE = {} -- engine -> transfers submitted and not yet taken

function M.own(co, owner) OWNED[co] = owner or true end
function M.disown(co) OWNED[co] = nil end
-- True when the running coroutine (or co) is run by an owner and can yield to it.
function M.owned(co)
  if co then return OWNED[co] ~= nil end
  return OWNED[running()] ~= nil and isyieldable()
end

-- A core refusal (a contract break of the request table, a closed client) as an error object.
local function as_error(e)
  return errors.from_core(e)
end
M.as_error = as_error

-- Submits one request; returns the engine and the handle. Raises the core's refusal as is.
function M.submit(cc, req, log)
  if log and req.log == nil then req.log = true end
  local h = cc:submit(req)
  local eng = cc:engine()
  local n = ACTIVE[eng]
  if not n then
    OUT[eng], LOGS[eng] = {}, {}
    n = 0
  end
  ACTIVE[eng] = n + 1
  if log then LOGS[eng][h] = log end
  return eng, h
end

local function forget(eng)
  local n = ACTIVE[eng] - 1
  if n == 0 and next(OUT[eng]) == nil then
    ACTIVE[eng], OUT[eng], LOGS[eng] = nil, nil, nil
  else
    ACTIVE[eng] = n
  end
end

-- The outcome of a completed handle (res with status, err with kind), taken once; nil while it
-- runs. A handle its engine no longer knows (every client of it was closed) gives an error.
function M.take(eng, h)
  local out = OUT[eng]
  if not out then return nil end
  local o = out[h]
  if o == nil then
    if eng:live(h) then return nil end
    o = { kind = "connection", message = "the client was closed while the request was in flight" }
  end
  out[h] = nil
  LOGS[eng][h] = nil
  forget(eng)
  return o
end

-- Cancels a handle that nobody will take (its coroutine was closed).
function M.cancel(eng, h)
  local out = OUT[eng]
  if not out then return end
  if out[h] == nil then eng:cancel(h) end
  out[h] = nil
  LOGS[eng][h] = nil
  forget(eng)
end

-- Hands an engine's events to their log functions: those of handle h (a finished cc:request or
-- cc:get, which the hub does not track) to log, any other's to the function it was submitted with.
local function emit(eng, h, log)
  local logs = LOGS[eng]
  if h == nil and (not logs or next(logs) == nil) then return end
  local evs = eng:events()
  for i = 1, #evs do
    local ev = evs[i]
    local f = ev.handle == h and log or (logs and logs[ev.handle])
    if f then
      local ok, why = pcall(f, ev)
      if not ok then io.stderr:write("openai_admin: the log function raised: ", tostring(why), "\n") end
    end
  end
end
M.emit = emit

-- Collects what completed on an engine into the outcomes; hands its events to their log
-- functions first. Returns the number collected.
local function drain(eng)
  emit(eng)
  local hs = eng:collect()
  local out = OUT[eng]
  for i = 1, #hs do
    local h = hs[i]
    local res, err = eng:result(h)
    if out then out[h] = res or err end
  end
  return #hs
end

-- One step of an engine: how = "poll" (a = timeout, nil: until something completes), "ready"
-- (a = fd, b = "r"|"w"|"rw"), "timer". Never blocks but for "poll". Returns the number of
-- transfers that completed.
function M.step(eng, how, a, b)
  if how == "ready" then
    eng:ready(a, b)
  elseif how == "timer" then
    eng:timer()
  else
    eng:poll(a)
  end
  return drain(eng)
end

-- Engines with live transfers (for adapters that watch them).
function M.engines()
  local list = {}
  for eng in pairs(ACTIVE) do list[#list + 1] = eng end
  return list
end

-- Blocks until something completes on any engine with live transfers (or `timeout` passes);
-- returns the number completed.
function M.pump(timeout)
  local first = next(ACTIVE)
  if first == nil then return 0 end
  if next(ACTIVE, first) == nil then return M.step(first, "poll", timeout) end
  -- several engines (clients that do not share one): take turns in short slices
  local waited = 0
  while true do
    local n = 0
    for eng in pairs(ACTIVE) do n = n + M.step(eng, "poll", 0) end
    if n > 0 or (timeout and waited >= timeout) then return n end
    for eng in pairs(ACTIVE) do
      n = n + M.step(eng, "poll", 0.002)
      waited = waited + 0.002
    end
    if n > 0 then return n end
  end
end

-- True when a blocking call may drive the core itself (cc:request, cc:get): it is not in a
-- coroutine an owner runs, and nothing of the send stage is in flight on its engine.
local function idle(cc)
  return next(ACTIVE) == nil or ACTIVE[cc:engine()] == nil
end

function M.direct(cc)
  return not (OWNED[running()] and isyieldable()) and idle(cc)
end

-- send.send(cc, req, log) -> res | nil, err, exactly as cc:request; raises a core refusal as an
-- error object. log: the client's log function or nil (it gets each event of this request;
-- req.log, when set, says which: "notable" for a log above debug, see src/engine.h).
function M.send(cc, req, log)
  if not cc.submit then return cc:request(req) end -- a stand-in core of the specs: no engine
  if OWNED[running()] and isyieldable() then
    local o = yield(SENTINEL, "send", cc, req, log)
    if o.status then return o end
    if o.raise then error(o.raise, 0) end
    return nil, o
  end
  if log and req.log == nil then req.log = true end
  if idle(cc) then
    -- nothing of ours in flight on this engine: the core's own blocking loop (one call into C;
    -- the hot path of a script's sequential calls)
    local ok, res, err, h = pcall(cc.request, cc, req)
    if not ok then error(as_error(res), 0) end
    if h then emit(cc:engine(), h, log) end
    return res, err
  end
  local ok, e2, h = pcall(M.submit, cc, req, log)
  if not ok then error(as_error(e2), 0) end
  while true do
    local o = M.take(e2, h)
    if o then
      if o.status then return o end
      return nil, o
    end
    M.pump(nil)
  end
end

-- For owners: submits a request a coroutine yielded; returns eng, h, or nil and the outcome to
-- resume it with at once ({ raise = error object }).
function M.submit_for(cc, req, log)
  if not cc.submit then -- a stand-in core of the specs: no engine, answered at once
    local ok, res, err = pcall(cc.request, cc, req)
    if not ok then return nil, { raise = as_error(res) } end
    return nil, res or err
  end
  local ok, eng, h = pcall(M.submit, cc, req, log)
  if not ok then return nil, { raise = as_error(eng) } end
  return eng, h
end

return M
