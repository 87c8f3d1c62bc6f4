-- Concurrency for the Lua layer: many API calls in flight at once, written as plain sequential code.
--
--   local results, errs, nfailed = client:parallel({ fn1, fn2, ... }, { concurrency = 16 })
--   local results, errs, nfailed = client:map(list, function(item, i) ... end, { concurrency = 16 })
--   for i, item in client:each({ page_or_fn1, page_or_fn2, ... }, { concurrency = 16 }) do ... end
--
-- Each function runs in its own coroutine. When it makes an API request (any call of the client
-- tree, including the next page of a walk, page:collect(), with_options clients), the request is
-- not sent at once: the coroutine yields it to the scheduler, which gathers the requests of every
-- waiting coroutine and sends them together through the C core's request_many (libcurl multi, at
-- most `concurrency` transfers at a time, the client's rate budget and retries applied per
-- request), then resumes each coroutine with its own answer. Outside a batch a call is sent at
-- once, as before.
--
-- Options: concurrency (default 16, 1..1024): transfers in flight at once; workers (default
-- max(256, 16 x concurrency)): coroutines alive at once (the rest start as these finish). The
-- requests go to the core in rounds: request_many returns when every request of a round is done,
-- then the coroutines are resumed and their next requests form the next round.
--
-- Results: results[i] is the first value returned by the i-th function (results.n is the number
-- of functions); errs[i] is what it raised instead (an openai_admin error object for API failures,
-- or whatever else the function raised), nil when it succeeded; nfailed counts the errors. One
-- failure never stops the others.
--
-- Yields of your own pass through: a function in a batch may call coroutine.yield(...); the
-- values go to whoever resumed the coroutine that runs parallel() (so parallel() inside a
-- coroutine.wrap generator streams), and what that resumer passes back is returned to the
-- function. Called outside any coroutine, such a yield is an error for that item only. A batch
-- started inside another batch's function hands its requests up to the outer one, so nesting
-- stays concurrent. API calls made from a coroutine you create yourself inside a batch, or from
-- a function called by C (a table.sort comparator, a string.gsub callback), where a coroutine
-- cannot yield, are sent at once (correct, but not overlapped with the batch).
--
-- Nothing outlives a batch: when parallel() returns or raises, or the coroutine running it is
-- closed (coroutine.close, a `break` out of each()), every unfinished coroutine is closed, which
-- also closes their to-be-closed variables (page:items() states).
local errors = require "openai_admin.errors"

local M = {}

local type, pcall, error, setmetatable, pairs, ipairs = type, pcall, error, setmetatable, pairs, ipairs
local running, yield, resume = coroutine.running, coroutine.yield, coroutine.resume
local create, status, cclose, isyieldable = coroutine.create, coroutine.status, coroutine.close,
  coroutine.isyieldable
local pack, unpack = table.pack, table.unpack
local math_type = math.type

-- The scheduler's own yields carry this value first; any other yield is the user's.
local SENTINEL = setmetatable({}, { __name = "openai_admin.batch.request", __tostring = function()
  return "openai_admin.batch.request"
end })

-- Coroutines whose requests are batched (value true), and how many are alive.
local WORKERS = setmetatable({}, { __mode = "k" })
local live_count = 0

local DEFAULT_CONCURRENCY = 16

local function invalid(what, message, param)
  error(errors.invalid_argument(what .. ": " .. message, nil, param), 0)
end

-- Runs a flat list { cc1, req1, cc2, req2, ... } and returns the outcomes { o1, o2, ... }, each
-- the core's res table, its transport err table, or { raise = error object } when the core
-- refused the request itself. Inside a worker the list is handed up to the enclosing scheduler.
local function dispatch(list, concurrency)
  if WORKERS[running()] and isyieldable() then
    return yield(SENTINEL, list)
  end
  local m = #list // 2
  local outs = {}
  if m == 1 then
    local cc = list[1]
    local ok, res, err = pcall(cc.request, cc, list[2])
    if not ok then
      outs[1] = { raise = errors.is_error(res) and res or errors.invalid_argument(tostring(res)) }
    else
      outs[1] = res or err
    end
    return outs
  end
  -- group by core client (with_options clients have their own), keeping input positions
  local groups, order = {}, {}
  for k = 1, m do
    local cc = list[2 * k - 1]
    local g = groups[cc]
    if not g then
      g = { reqs = {}, at = {} }
      groups[cc] = g
      order[#order + 1] = cc
    end
    local j = #g.reqs + 1
    g.reqs[j], g.at[j] = list[2 * k], k
  end
  local many_opts = { concurrency = concurrency }
  for _, cc in ipairs(order) do
    local g = groups[cc]
    local ok, r = pcall(cc.request_many, cc, g.reqs, many_opts)
    if ok then
      for j, k in ipairs(g.at) do outs[k] = r[j] end
    else
      -- the core refused the batch (a closed client, a malformed request): one by one, so the
      -- culprit fails alone
      for j, k in ipairs(g.at) do
        local ok1, res, err = pcall(cc.request, cc, g.reqs[j])
        if ok1 then
          outs[k] = res or err
        else
          outs[k] = { raise = errors.is_error(res) and res or errors.invalid_argument(tostring(res)) }
        end
      end
    end
  end
  return outs
end

-- For the client's fetch(): sends one request, or hands it to the batch this coroutine runs in.
-- Returns like the core's c:request: res, or nil and the transport error.
function M.send(cc, req)
  if WORKERS[running()] and isyieldable() then -- (not inside a C call such as a sort comparator)
    local o = yield(SENTINEL, { cc, req })[1]
    if o.status then return o end
    if o.raise then error(o.raise, 0) end
    return nil, o
  end
  return cc:request(req)
end

local function check_opts(opts, what)
  local concurrency, workers = DEFAULT_CONCURRENCY, nil
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
      else
        invalid(what, "unknown option '" .. tostring(k) .. "' (options are concurrency, workers)", tostring(k))
      end
    end
  end
  -- enough live coroutines that each round of request_many keeps `concurrency` transfers busy
  -- for many latencies, so the barrier at the end of a round costs little
  if not workers then workers = concurrency * 16 < 256 and 256 or concurrency * 16 end
  return concurrency, workers
end

local Guard = {
  __close = function(g)
    local live = g.live
    for co in pairs(live) do
      live[co] = nil
      if WORKERS[co] then
        WORKERS[co] = nil
        live_count = live_count - 1
      end
      if status(co) == "suspended" then cclose(co) end
    end
  end,
}

-- The scheduler. fns: a sequence of functions called without arguments.
local function run(fns, n, concurrency, max_live)
  local results, errs, nfailed = { n = n }, {}, 0
  local live, nlive = {}, 0
  local pending, npending = {}, 0
  local guard <close> = setmetatable({ live = live }, Guard) -- luacheck: ignore guard

  local function finish(co)
    live[co] = nil
    nlive = nlive - 1
    if WORKERS[co] then
      WORKERS[co] = nil
      live_count = live_count - 1
    end
  end

  local function fail(co, i, e)
    errs[i] = e
    nfailed = nfailed + 1
    finish(co)
    cclose(co) -- closes its to-be-closed variables (a coroutine that raised does not unwind)
  end

  local function step(co, i, ...)
    local r = pack(resume(co, ...))
    while true do
      if not r[1] then
        return fail(co, i, r[2])
      elseif status(co) == "dead" then
        results[i] = r[2]
        return finish(co)
      elseif r[2] == SENTINEL then
        npending = npending + 1
        pending[npending] = { co, i, r[3] }
        return
      elseif not isyieldable() then
        return fail(co, i, errors.invalid_argument("parallel: function " .. i .. " yielded, but the batch is"
          .. " not running inside a coroutine, so there is nobody to yield to"))
      end
      -- the user's own yield: pass it to our resumer, and its answer back down
      r = pack(resume(co, yield(unpack(r, 2, r.n))))
    end
  end

  local next_i = 1
  while true do
    while next_i <= n and nlive < max_live do
      local i = next_i
      next_i = i + 1
      local co = create(fns[i])
      WORKERS[co] = true
      live_count = live_count + 1
      live[co] = i
      nlive = nlive + 1
      step(co, i)
    end
    if npending == 0 then
      if next_i > n then break end
    else
      local batch, count = pending, npending
      pending, npending = {}, 0
      local list, len = {}, 0
      for b = 1, count do
        local l = batch[b][3]
        for k = 1, #l do list[len + k] = l[k] end
        len = len + #l
      end
      local outs = dispatch(list, concurrency)
      local at = 0
      for b = 1, count do
        local p = batch[b]
        local m = #p[3] // 2
        local mine
        if m == 1 then
          mine = { outs[at + 1] }
        else
          mine = { unpack(outs, at + 1, at + m) }
        end
        at = at + m
        step(p[1], p[2], mine)
      end
    end
  end
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
  local concurrency, workers = check_opts(opts, "parallel")
  return run(fns, n, concurrency, workers)
end

-- map(list, fn, opts) -> results, errs, nfailed: fn(list[i], i) for every item, concurrently.
function M.map(list, fn, opts)
  if type(list) ~= "table" then invalid("map", "expected a sequence as the list, got " .. type(list)) end
  if type(fn) ~= "function" then invalid("map", "expected a function, got " .. type(fn)) end
  local concurrency, workers = check_opts(opts, "map")
  local n = #list
  local fns = {}
  for i = 1, n do
    local item = list[i]
    fns[i] = function() return fn(item, i) end
  end
  return run(fns, n, concurrency, workers)
end

local FAIL = setmetatable({}, { __name = "openai_admin.batch.failure" })

local Closer = {
  __close = function(c)
    local gen = c.gen
    if gen and status(gen) == "suspended" then cclose(gen) end
    if gen and WORKERS[gen] then
      WORKERS[gen] = nil
      live_count = live_count - 1
    end
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
  local gen = create(function() run(fns, n, concurrency, workers) end)
  WORKERS[gen] = true -- its scheduler hands requests to us (and we, perhaps, further up)
  live_count = live_count + 1
  local closer = setmetatable({ gen = gen }, Closer)
  local function step(...)
    local ok, a, b = resume(gen, ...)
    while ok and a == SENTINEL do
      ok, a, b = resume(gen, dispatch(b, concurrency))
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
