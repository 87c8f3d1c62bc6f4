-- Concurrency for the Lua layer: many API calls in flight at once, written as plain sequential code.
--
--   local results = client:parallel({ fn1, fn2, ... }, { concurrency = 16 })
--   local results = client:map(list, function(item, i) ... end, { concurrency = 16 })
--   local results, errs, nfailed = client:map(list, fn, { errors = "collect" })
--   for i, item in client:each({ page_or_fn1, page_or_fn2, ... }, { concurrency = 16 }) do ... end
--
-- Each function runs in its own coroutine, owned by the scheduler (request/send.lua). When it
-- makes an API request (any call of the client tree, including the next page of a walk,
-- page:collect(), with_options clients), the coroutine yields it to the scheduler, which submits
-- it to the C engine at once when fewer than `concurrency` are in flight (else as soon as one
-- completes) and resumes the coroutine with its answer when it arrives: `concurrency` requests
-- stay in flight continuously, with no rounds. The engine applies the client's rate budget and
-- retries per request. Outside a batch a call blocks on the engine, as before.
--
-- Options: concurrency (default 16, 1..1024): requests in flight at once; workers (default
-- max(256, 16 x concurrency)): coroutines alive at once (the rest start as these finish);
-- errors = "raise" (default) | "collect".
--
-- Errors: by default, as asyncio.gather: the first failure (in time) is raised once the
-- functions already started have finished; functions not started yet are not started. Results:
-- results[i] is the first value returned by the i-th function (results.n is the number of
-- functions); on success the second and third values are {} and 0. With errors = "collect",
-- nothing is raised: errs[i] is what the i-th function raised (an openai_admin error object for
-- API failures, or whatever else it raised), nil when it succeeded, and nfailed counts them.
--
-- Yields of your own pass through: a function in a batch may call coroutine.yield(...); the
-- values go to whoever resumed the coroutine that runs parallel() (so parallel() inside a
-- coroutine.wrap generator streams), and what that resumer passes back is returned to the
-- function. Called outside any coroutine, such a yield is an error for that item only. A batch
-- started inside another batch's function (or inside a loop adapter's coroutine) yields to its
-- owner while all its functions wait, so nesting stays concurrent. API calls made from a
-- coroutine you create yourself inside a batch, or from a function called by C (a table.sort
-- comparator, a string.gsub callback), where a coroutine cannot yield, block on the engine
-- (correct, and the batch's other transfers keep moving meanwhile).
--
-- Nothing outlives a batch: when parallel() returns or raises, or the coroutine running it is
-- closed (coroutine.close, a `break` out of each()), every unfinished coroutine is closed, which
-- also closes their to-be-closed variables (page:items() states), and its requests in flight are
-- cancelled.
local errors = require "openai_admin.errors"

local send = require "openai_admin.request.send"

local M = {}

local type, error, setmetatable, pairs, next, pcall, tostring = type, error, setmetatable, pairs, next, pcall,
  tostring
local yield, resume = coroutine.yield, coroutine.resume
local create, status, cclose, isyieldable = coroutine.create, coroutine.status, coroutine.close,
  coroutine.isyieldable
local pack, unpack = table.pack, table.unpack
local math_type = math.type
local SENTINEL = send.SENTINEL

local live_count = 0 -- coroutines alive in schedulers (for tests)

local DEFAULT_CONCURRENCY = 16

local function invalid(what, message, param)
  error(errors.invalid_argument(what .. ": " .. message, nil, param), 0)
end

-- Kept for callers of the old module: sends one request (request/send.lua does the work).
function M.send(cc, req, log)
  return send.send(cc, req, log)
end

local function check_opts(opts, what)
  local concurrency, workers, collect = DEFAULT_CONCURRENCY, nil, false
  if opts ~= nil then
    if type(opts) ~= "table" then invalid(what, "expected a table of options, got " .. type(opts)) end
    for k, v in pairs(opts) do
      if k == "concurrency" then
        if math_type(v) ~= "integer" or v < 1 or v > 1024 then
          invalid(what, "option concurrency: expected an integer from 1 to 1024, got " .. tostring(v), k)
        end
        concurrency = v
      elseif k == "workers" then
        if math_type(v) ~= "integer" or v < 1 then
          invalid(what, "option workers: expected a positive integer, got " .. tostring(v), k)
        end
        workers = v
      elseif k == "errors" then
        if v ~= "raise" and v ~= "collect" then
          invalid(what, "option errors: expected \"raise\" or \"collect\", got " .. tostring(v), k)
        end
        collect = v == "collect"
      else
        invalid(what, "unknown option '" .. tostring(k) .. "' (options are concurrency, workers, errors)",
          tostring(k))
      end
    end
  end
  if not workers then workers = concurrency * 16 < 256 and 256 or concurrency * 16 end
  return concurrency, workers, collect
end

-- Closes every unfinished coroutine of a scheduler and cancels its requests in flight.
local Guard = {
  __close = function(g)
    for eng, hs in pairs(g.waits) do
      for h in pairs(hs) do
        hs[h] = nil
        send.cancel(eng, h)
      end
      g.waits[eng] = nil
    end
    local live = g.live
    for co in pairs(live) do
      live[co] = nil
      send.disown(co)
      live_count = live_count - 1
      if status(co) == "suspended" then cclose(co) end
    end
  end,
}

-- The scheduler. fns: a sequence of functions called without arguments.
local function run(fns, n, concurrency, max_live, collect)
  local results, errs, nfailed = { n = n }, {}, 0
  local first_err, failed = nil, false
  local live, nlive = {}, 0       -- coroutine -> index
  local waits = {}                -- engine -> { [handle] = coroutine }
  local nwaits = 0                -- requests in flight
  local queue, qhead, qtail = {}, 1, 0 -- sends waiting for a place: { co, cc, req, log }
  local ready, nready = {}, 0     -- coroutines to resume: { co, value }
  local nested = {}               -- coroutines that yielded "wait" (a batch inside): resume on progress
  local guard <close> = setmetatable({ live = live, waits = waits }, Guard) -- luacheck: ignore guard

  local function finish(co)
    live[co] = nil
    nlive = nlive - 1
    nested[co] = nil
    send.disown(co)
    live_count = live_count - 1
  end

  local function fail(co, i, e)
    errs[i] = e
    nfailed = nfailed + 1
    if not failed then first_err, failed = e, true end
    finish(co)
    cclose(co) -- closes its to-be-closed variables (a coroutine that raised does not unwind)
  end

  local function submit(co, cc, req, log)
    local eng, h = send.submit_for(cc, req, log)
    if not eng then
      nready = nready + 1
      ready[nready] = { co, h }
      return
    end
    local w = waits[eng]
    if not w then
      w = {}
      waits[eng] = w
    end
    w[h] = co
    nwaits = nwaits + 1
  end

  -- Resumes co and handles what it yields.
  local function step(co, ...)
    local i = live[co]
    local r = pack(resume(co, ...))
    while true do
      if not r[1] then
        return fail(co, i, r[2])
      elseif status(co) == "dead" then
        results[i] = r[2]
        return finish(co)
      elseif r[2] == SENTINEL then
        if r[3] == "send" then
          if nwaits < concurrency then
            submit(co, r[4], r[5], r[6])
          else
            qtail = qtail + 1
            queue[qtail] = { co, r[4], r[5], r[6] }
          end
        else -- "wait": a scheduler inside waits for progress
          nested[co] = true
        end
        return
      elseif not isyieldable() then
        return fail(co, i, errors.invalid_argument("parallel: function " .. i .. " yielded, but the batch is"
          .. " not running inside a coroutine, so there is nobody to yield to"))
      end
      -- the user's own yield: pass it to our resumer, and its answer back down
      r = pack(resume(co, yield(unpack(r, 2, r.n))))
    end
  end

  -- Moves completed requests (and nested schedulers, after progress) to the ready list.
  local function gather(progress)
    for eng, w in pairs(waits) do
      for h, co in pairs(w) do
        local o = send.take(eng, h)
        if o then
          w[h] = nil
          nwaits = nwaits - 1
          nready = nready + 1
          ready[nready] = { co, o }
        end
      end
      if next(w) == nil then waits[eng] = nil end
    end
    if progress then
      for co in pairs(nested) do
        nested[co] = nil
        nready = nready + 1
        ready[nready] = { co }
      end
    end
    while qhead <= qtail and nwaits < concurrency do
      local q = queue[qhead]
      queue[qhead] = nil
      qhead = qhead + 1
      if live[q[1]] then submit(q[1], q[2], q[3], q[4]) end
    end
  end

  local next_i = 1
  while true do
    while next_i <= n and nlive < max_live and not (failed and not collect) do
      local i = next_i
      next_i = i + 1
      local co = create(fns[i])
      send.own(co, run)
      live_count = live_count + 1
      live[co] = i
      nlive = nlive + 1
      step(co)
    end
    if nready > 0 then
      local batch, count = ready, nready
      ready, nready = {}, 0
      for k = 1, count do
        local co = batch[k][1]
        if live[co] then step(co, batch[k][2]) end
      end
      gather(false)
    elseif nlive == 0 then
      break
    else
      -- every function waits: for our owner's next step, or on the engine ourselves
      if send.owned() then
        yield(SENTINEL, "wait")
      else
        send.pump(nil)
      end
      gather(true)
    end
  end
  if failed and not collect then error(first_err, 0) end
  return results, errs, nfailed
end

local function check_fns(fns, what)
  if type(fns) ~= "table" then invalid(what, "expected a sequence of functions, got " .. type(fns)) end
  local n = #fns
  for i = 1, n do
    if type(fns[i]) ~= "function" then
      invalid(what, "item " .. i .. ": expected a function, got " .. type(fns[i]), tostring(i))
    end
  end
  return n
end

-- parallel(fns, opts) -> results, errs, nfailed  (see the top of this file)
function M.parallel(fns, opts)
  local n = check_fns(fns, "parallel")
  local concurrency, workers, collect = check_opts(opts, "parallel")
  return run(fns, n, concurrency, workers, collect)
end

-- map(list, fn, opts) -> results, errs, nfailed: fn(list[i], i) for every item, concurrently.
function M.map(list, fn, opts)
  if type(list) ~= "table" then invalid("map", "expected a sequence as the list, got " .. type(list)) end
  if type(fn) ~= "function" then invalid("map", "expected a function, got " .. type(fn)) end
  local concurrency, workers, collect = check_opts(opts, "map")
  local n = #list
  local fns = {}
  for i = 1, n do
    local item = list[i]
    fns[i] = function() return fn(item, i) end
  end
  return run(fns, n, concurrency, workers, collect)
end

local FAIL = setmetatable({}, { __name = "openai_admin.batch.failure" })

local Closer = {
  __close = function(c)
    local gen = c.gen
    if gen and status(gen) == "suspended" then cclose(gen) end
    if gen then send.disown(gen) end
    c.gen = nil
  end,
}

-- each(sources, opts) -> iterator giving (i, item) for every item of every source, where
-- sources[i] is a Page (from a list call) or a function returning one (so the first pages are
-- fetched concurrently too). The next pages of all sources are fetched together; items come
-- source by source within a round of pages. A failure raises from the loop (like page
-- iteration); `break` closes everything (a closing value, like io.lines).
function M.each(sources, opts)
  if type(sources) ~= "table" then invalid("each", "expected a sequence of pages, got " .. type(sources)) end
  local concurrency, workers = check_opts(opts, "each")
  local n = #sources
  local fns = {}
  for i = 1, n do
    local src = sources[i]
    local ts = type(src)
    if ts ~= "function" and not (ts == "table" and type(src.items) == "function") then
      invalid("each", "item " .. i .. ": expected a page or a function returning one, got " .. ts, tostring(i))
    end
    fns[i] = function()
      local ok, e = pcall(function()
        local page = src
        if ts == "function" then page = src() end
        if type(page) ~= "table" or type(page.items) ~= "function" then
          error(errors.invalid_argument("each: source " .. i .. " did not return a page"), 0)
        end
        for item in page:items() do yield(i, item) end
      end)
      if not ok then yield(FAIL, e) end
    end
  end
  local gen = create(function() run(fns, n, concurrency, workers, true) end)
  send.own(gen, M.each) -- its scheduler yields to us when everything waits
  local closer = setmetatable({ gen = gen }, Closer)
  local function step(...)
    local ok, a, b = resume(gen, ...)
    while ok and a == SENTINEL do
      if send.owned() then yield(SENTINEL, "wait") else send.pump(nil) end
      ok, a, b = resume(gen)
    end
    return ok, a, b
  end
  local function iter()
    if not closer.gen then return nil end
    local ok, a, b = step()
    if not ok then
      Closer.__close(closer)
      error(a, 0)
    elseif a == FAIL then
      Closer.__close(closer)
      error(b, 0)
    elseif a == nil then
      Closer.__close(closer)
      return nil
    end
    return a, b
  end
  return iter, nil, nil, closer
end

-- Coroutines currently registered with a scheduler (0 when no batch is running): for tests.
function M.live()
  return live_count
end

M.DEFAULT_CONCURRENCY = DEFAULT_CONCURRENCY
return M
