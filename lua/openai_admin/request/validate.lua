-- Stage 1 of a request (validate -> encode -> send -> decode): the caller's values, copied once.
--
-- copy(v, budget, where) reads the caller's params (and extra_query / extra_body) once, raw
-- (next/rawget: no __index, __pairs or __len runs), and returns a plain copy that the checks
-- (params.lua) and the encoders then read, so what is sent is exactly what was checked.
-- The copy normalizes what lua-cjson users hand in: cjson.null -> openai_admin.null,
-- cjson.empty_array and tables with cjson.array_mt -> our JSON arrays, integral floats (lua-cjson
-- 2.1.0 decodes 3 as 3.0) -> integers. It refuses, naming the place:
--   * arrays with holes or mixed with named keys ({1, nil, 3}, {1, x = 2}), keys that are not
--     strings or positive integers;
--   * NaN and infinities, functions, coroutines, userdata other than null;
--   * cycles, and anything whose JSON would pass the budget (max_request_bytes): the size is
--     counted once per distinct table before anything is copied, so a params table whose
--     subtables are shared (a DAG that encodes exponentially) is refused in time linear in the
--     number of its tables.
local errors = require "openai_admin.errors"
local json = require "openai_admin.json"

local M = {}

local type, next, rawget, rawlen, getmetatable = type, next, rawget, rawlen, getmetatable
local tointeger, mtype = math.tointeger, math.type
local tostring, fmt = tostring, string.format
local NULL = json.null
local json_array, is_array = json.array, json.is_array
local HUGE = math.huge

-- lua-cjson's values, when the caller has loaded it (they can only come from there).
local function cjson_values()
  local cj = package.loaded.cjson or package.loaded["cjson.safe"]
  if type(cj) ~= "table" then return nil, nil, nil, nil end
  return cj.null, rawget(cj, "empty_array"), rawget(cj, "array_mt"), rawget(cj, "empty_array_mt")
end

-- The place being read, from the path stack: "params.members[2].role".
local function where_of(st)
  local parts = {}
  for i = 1, st.depth do
    local k = st.stack[i]
    parts[i] = type(k) == "number" and ("[" .. k .. "]") or (i == 1 and k or ("." .. tostring(k)))
  end
  return table.concat(parts)
end

local function fail(st, message)
  local where = errors.clip(where_of(st), 120)
  local sdk_path = st.sdk_path
  error(errors.invalid_argument((sdk_path and (sdk_path .. ": ") or "") .. where .. ": " .. message,
    sdk_path, where), 0)
end

-- Classifies a table's keys: "array" (keys exactly 1..n, n > 0), "object" (string keys only) or
-- "empty"; raises for anything else.
local function shape(t, st)
  local k = next(t)
  if k == nil then return "empty" end
  local nint, maxint, nstr = 0, 0, 0
  while k ~= nil do
    if type(k) == "string" then
      nstr = nstr + 1
    elseif mtype(k) == "integer" and k >= 1 then
      nint = nint + 1
      if k > maxint then maxint = k end
    else
      fail(st, "keys must be strings (an object) or 1..n (an array), got key " .. errors.quote(k))
    end
    k = next(t, k)
  end
  if nint > 0 and nstr > 0 then
    fail(st, "a table mixes array items and named fields (" .. nint .. " items, " .. nstr .. " names)")
  end
  if nint > 0 then
    if maxint ~= nint then
      local hole = 1
      while rawget(t, hole) ~= nil do hole = hole + 1 end
      fail(st, "array has a hole at [" .. hole .. "] (" .. nint .. " items up to [" .. maxint
        .. "]); nil cannot be an array item (openai_admin.null is JSON null)")
    end
    return "array"
  end
  return "object"
end

local function over(st)
  fail(st, "the request would be larger than max_request_bytes (" .. st.max
    .. " bytes; a table used in several places is sent once per use)")
end

-- Size of v's JSON, from below (a byte or so more per container for the commas); per
-- distinct table (memo); raises past st.limit.
local function measure(v, st)
  local tv = type(v)
  if tv == "string" then return #v + 2 end
  if tv == "number" then
    if v ~= v or v == HUGE or v == -HUGE then fail(st, "expected a finite number, got " .. tostring(v)) end
    return mtype(v) == "integer" and #fmt("%d", v) or 1
  end
  if tv == "boolean" then return 4 end
  if tv ~= "table" then
    if v == NULL or (st.cnull ~= nil and v == st.cnull) or (st.cempty ~= nil and v == st.cempty) then
      return 4
    end
    fail(st, "cannot be sent as JSON: " .. tv)
  end
  local memo = st.memo
  local m = memo[v]
  if m then
    if m == true then fail(st, "the table contains itself (a cycle)") end
    return m
  end
  memo[v] = true
  local kind = shape(v, st)
  st.kinds[v] = kind
  local size = 2
  local path, depth = st.stack, st.depth + 1
  st.depth = depth
  if kind == "array" then
    for i = 1, rawlen(v) do
      path[depth] = i
      size = size + 1 + measure(rawget(v, i), st)
      if size > st.limit then over(st) end
    end
  elseif kind == "object" then
    for k, x in next, v do
      path[depth] = k
      size = size + #k + 3 + measure(x, st)
      if size > st.limit then over(st) end
    end
  end
  st.depth = depth - 1
  memo[v] = size
  return size
end

local copy_value
local function copy_table(v, st)
  local done = st.copies[v]
  if done then return done end
  local kind = st.kinds[v]
  local out = {}
  if kind == "array" then
    for i = 1, rawlen(v) do out[i] = copy_value(rawget(v, i), st) end
    json_array(out)
  else
    for k, x in next, v do out[k] = copy_value(x, st) end
    if kind == "empty" then
      local mt = getmetatable(v)
      if is_array(v) or (mt ~= nil and (mt == st.cmt or mt == st.cemt)) then json_array(out) end
    end
  end
  st.copies[v] = out
  return out
end

function copy_value(v, st)
  local tv = type(v)
  if tv == "table" then return copy_table(v, st) end
  if tv == "number" then
    if mtype(v) == "float" then
      local i = tointeger(v)
      if i and i >= -9007199254740992 and i <= 9007199254740992 then return i end
    end
    return v
  end
  if tv == "userdata" then
    if st.cnull ~= nil and v == st.cnull then return NULL end
    if st.cempty ~= nil and v == st.cempty then return json_array({}) end
  end
  return v
end

-- A budget of `limit` bytes shared by the parts of one request, starting with its path; it is
-- also the request's plan (params.lua adds params, opts, ...). The copy's working tables are
-- made by the first copy: a call without params allocates nothing more.
function M.budget(limit, sdk_path, path)
  local b = { path = path, limit = limit, max = limit, used = #path, estimated = 0, sdk_path = sdk_path, depth = 0 }
  if b.used > limit then M.charge(b, 0, "path") end
  return b
end

local function prepare_copy(st)
  st.cnull, st.cempty, st.cmt, st.cemt = cjson_values()
  st.memo, st.kinds, st.copies, st.stack = {}, {}, {}, {}
end

-- The common case, a table of named strings, booleans and integers ({ limit = 100 }): copied
-- in one pass without the working tables; nil when v holds anything else.
local function copy_flat(v, budget)
  local out, size = {}, 2
  for k, x in next, v do
    if type(k) ~= "string" then return nil end
    local tx = type(x)
    if tx == "string" then
      size = size + #k + #x + 5
    elseif tx == "boolean" then
      size = size + #k + 7
    elseif mtype(x) == "integer" then
      size = size + #k + 3 + #fmt("%d", x)
    else
      return nil
    end
    out[k] = x
  end
  if size > budget.max - budget.used - budget.estimated then return nil end -- the full path says where
  budget.estimated = budget.estimated + size
  return out
end

-- Copies v (see the top of this file) and charges its size to the budget. where: "params".
function M.copy(v, budget, where)
  if type(v) == "table" and getmetatable(v) == nil and next(v) ~= nil then
    local out = copy_flat(v, budget)
    if out then return out end
  end
  if not budget.memo then prepare_copy(budget) end
  budget.limit = budget.max - budget.used - budget.estimated
  budget.stack[1], budget.depth = where, 1
  local size = measure(v, budget)
  budget.depth = 0
  budget.estimated = budget.estimated + size
  return copy_value(v, budget)
end

-- Charges n bytes (a path, a query string, the encoded body) to the budget. The copies' sizes
-- are estimates from below, checked as they are made (path + estimates <= max) and kept apart;
-- the exact charges (path + query + body <= max) decide at the end.
function M.charge(budget, n, what)
  budget.used = budget.used + n
  if budget.used > budget.max then
    if not budget.memo then prepare_copy(budget) end
    budget.stack[1], budget.depth = what, 1
    over(budget)
  end
end

return M
