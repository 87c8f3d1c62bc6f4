--- Ordered collections (creation order, O(1) lookup by id, O(log n) cursors) and list pages.
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")

local fail = util.fail
local null = json.null

local M = {}

local Coll = {}
Coll.__index = Coll

local seq_counter = 0

function M.coll()
  return setmetatable({ items = {}, by_id = {}, tomb = {}, key = "id" }, Coll)
end

--- Adds a record (it gets a private _seq). Returns it.
function Coll:add(rec, id)
  seq_counter = seq_counter + 1
  rec._seq = seq_counter
  id = id or rec[self.key]
  rec._key = id
  self.items[#self.items + 1] = rec
  self.by_id[id] = rec
  return rec
end

function Coll:get(id)
  if id == nil then return nil end
  return self.by_id[id]
end

function Coll:count() return #self.items end

local function lower_bound(items, seq)
  -- first index whose _seq > seq
  local lo, hi = 1, #items + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if items[mid]._seq <= seq then lo = mid + 1 else hi = mid end
  end
  return lo
end

function Coll:remove(id)
  local rec = self.by_id[id]
  if not rec then return nil end
  local i = lower_bound(self.items, rec._seq) - 1
  if self.items[i] == rec then table.remove(self.items, i) end
  self.by_id[id] = nil
  self.tomb[id] = rec._seq
  return rec
end

function Coll:seq_of(id)
  local rec = self.by_id[id]
  if rec then return rec._seq end
  return self.tomb[id]
end

--- Iterates records in creation order.
function Coll:each()
  local i = 0
  local items = self.items
  return function()
    i = i + 1
    return items[i]
  end
end

--- Page limits for a row: default 20 / max 100 unless its limit description says otherwise.
function M.limits(row)
  local def, max = 20, 100
  for _, p in ipairs(row.query or {}) do
    if p.name == "limit" and p.description then
      local d = p.description:match("default (%d+)")
      local mx = p.description:match("1%-(%d+)")
      if d then def = tonumber(d) end
      if mx then max = tonumber(mx) end
      if def > max then max = def end
    end
  end
  return def, max
end

function M.check_limit(q, def, max)
  local limit = q.limit
  if limit == nil then return def end
  if math.type(limit) ~= "integer" then
    local li = math.tointeger(limit)
    if not li then fail(400, "Invalid 'limit': expected an integer.", "limit", "invalid_type") end
    limit = li
  end
  if limit < 1 then
    fail(400, string.format("Invalid 'limit': integer below minimum value. Expected a value >= 1, but got %d instead.",
      limit), "limit", "integer_below_min_value")
  end
  if limit > max then
    fail(400, string.format("Invalid 'limit': integer above maximum value. Expected a value <= %d, but got %d instead.",
      max, limit), "limit", "integer_above_max_value")
  end
  return limit
end

--- Builds a list page from a collection.
--- opts: filter(rec) -> bool, render(rec) -> table, default_order ("asc")
function M.page(row, coll, q, opts)
  opts = opts or {}
  local def, max = M.limits(row)
  local limit = M.check_limit(q, def, max)
  local desc = (q.order or opts.default_order or "asc") == "desc"
  local items = coll.items
  local filter = opts.filter
  local data = {}
  local has_more = false
  local function take(rec)
    return (not filter) or filter(rec)
  end
  if q.before and q.before ~= "" then
    local bseq = coll:seq_of(q.before)
    if not bseq then
      fail(400, "Invalid 'before': no object with id '" .. q.before .. "'.", "before", "invalid_cursor")
    end
    -- the `limit` items just before the cursor in listing order
    local acc = {}
    if desc then
      for i = lower_bound(items, bseq), #items do
        local r = items[i]
        if take(r) then acc[#acc + 1] = r; if #acc > limit then break end end
      end
    else
      for i = lower_bound(items, bseq - 1) - 1, 1, -1 do
        local r = items[i]
        if r._seq < bseq and take(r) then acc[#acc + 1] = r; if #acc > limit then break end end
      end
    end
    if #acc > limit then has_more = true; acc[#acc] = nil end
    for i = #acc, 1, -1 do data[#data + 1] = acc[i] end
  else
    local start, stop, step
    if q.after and q.after ~= "" then
      local aseq = coll:seq_of(q.after)
      if not aseq then
        fail(400, "Invalid 'after': no object with id '" .. q.after .. "'.", "after", "invalid_cursor")
      end
      if desc then
        start, stop, step = lower_bound(items, aseq - 1) - 1, 1, -1
        if items[start] and items[start]._seq >= aseq then start = start - 1 end
      else
        start, stop, step = lower_bound(items, aseq), #items, 1
      end
    else
      if desc then start, stop, step = #items, 1, -1 else start, stop, step = 1, #items, 1 end
    end
    for i = start, stop, step do
      local r = items[i]
      if take(r) then
        if #data >= limit then has_more = true; break end
        data[#data + 1] = r
      end
    end
  end
  local render = opts.render or util.public
  local out = {}
  for i, r in ipairs(data) do out[i] = render(r) end
  local first = data[1] and data[1]._key or nil
  local last = data[#data] and data[#data]._key or nil
  return M.envelope(row, out, first, last, has_more)
end

--- The list envelope of a row's pagination kind, from its response.envelope fields.
function M.envelope(row, data, first_id, last_id, has_more)
  local env = row.response and row.response.envelope
  local fields = env and env.fields or { "object", "data", "first_id", "last_id", "has_more" }
  local out = {}
  for _, f in ipairs(fields) do
    if f == "object" then out.object = env and env.object or "list"
    elseif f == "data" then out.data = json.array(data)
    elseif f == "first_id" then out.first_id = util.nn(first_id)
    elseif f == "last_id" then out.last_id = util.nn(last_id)
    elseif f == "has_more" then out.has_more = has_more and true or false
    elseif f == "next" then out.next = (has_more and last_id) and last_id or null
    end
  end
  return out
end

return M
