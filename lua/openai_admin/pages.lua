-- Pages of list endpoints (every row with `pagination`).
--
-- A list call fetches its first page and returns a Page:
--   page.data           the items of this page (a JSON array table)
--   page.has_more       boolean (the body's has_more; false when absent)
--   page.request_id     x-request-id of this page's reply
--   page.raw            the whole decoded body; other body fields read through the page too
--                       (page.last_id, page.first_id, page.next, page.object, ...) except where
--                       a method has the name: the usage token is page.raw.next_page
--   for item in page do ... end        every item of every page, fetching the next page only
--                                      when this one is used up (the page is its own iterator)
--   for item in page:items() do ... end   the same, with a closing value: `break` releases the
--                                      iteration state (like io.lines); independent iterators
--   for p in page:pages() do ... end    page by page, starting with this one
--   page:collect([max])  every item of every page from this one on, in one array (at most max
--                       items when given); page:all() is the same. Inside client:parallel/map the
--                       page requests are batched with the others
--   page:next_page()    the next Page (a request), or nil when there is none
--   page:has_next_page()
--   #page               number of items on this page
-- Only the page being walked is referenced by an iteration, so memory stays flat however many
-- items there are. Errors while fetching a page are raised as error objects (errors.lua).
--
-- Each walk has its own state: `for x in page do for y in page do ... end end` runs the inner
-- walk to the end for every x (the loops find their own place by the item they last returned).
--
-- Cursors (the table below, per pagination kind): the next page's cursor is read from the page
-- when it arrives (page:next_page() gives the same answer however often it is called). A walk
-- started with `before` (and no `after`) goes toward the start of the list (newer events, for
-- the audit log): before=<first id of the page>.
-- has_more = false ends a walk; has_more missing goes on while there is a cursor (as the Node
-- SDK). A walk that cannot go on honestly raises a `pagination` error naming the endpoint and
-- the cursor, after the items of the page it has: has_more = true without a cursor (e.g. an empty
-- page), or a cursor that repeats one of the walk (the same page again, or a cycle: checked
-- against the page's own cursor and one of an earlier page at a power-of-two depth, so any cycle
-- is caught within a few times its length, in constant memory).

local M = {}

local errors = require "openai_admin.errors"
local pipeline = require "openai_admin.request.pipeline"

local setmetatable, rawget, rawset, type, getmetatable = setmetatable, rawget, rawset, type, getmetatable
local error, tostring = error, tostring

---------------------------------------------------------------------------------------------
-- Page
---------------------------------------------------------------------------------------------
local Page = { __name = "openai_admin.page" }
local methods = {}

function Page.__index(page, key)
  local m = methods[key]
  if m then return m end
  local raw = rawget(page, "raw")
  return raw and raw[key]
end

function Page.__len(page)
  return #page.data
end

function Page.__tostring(page)
  return "openai_admin.page (" .. page._walk.c.sdk_path .. ", " .. #page.data .. " items"
    .. (page._next and ", more" or "") .. ")"
end

local function nonempty(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local function item_id(data, i)
  local item = data[i]
  return type(item) == "table" and nonempty(rawget(item, "id")) or nil
end

-- The next page's cursor, per kind: forward (after / page) and backward (before).
local NEXT = {
  cursor_last_id = function(raw, data) return #data > 0 and nonempty(raw.last_id) or nil end,
  cursor_next = function(raw) return nonempty(raw.next) end,
  cursor_item_id = function(_, data) return item_id(data, #data) end,
  page_token = function(raw) return nonempty(raw.next_page) end,
}
local PREV = {
  cursor_last_id = function(raw, data) return #data > 0 and (nonempty(raw.first_id) or item_id(data, 1)) or nil end,
  cursor_item_id = function(_, data) return item_id(data, 1) end,
}
M.NEXT, M.PREV = NEXT, PREV

local function is_pow2(n) return n & (n - 1) == 0 end

-- walk: pipeline.walk(...), shared by the pages of one list call. cursor: the one this page was
-- fetched with (nil for a first page without one); parent: the page before, or nil.
local function make_page(walk, decoded, res, cursor, parent)
  local c = walk.c
  local data = decoded.data
  if type(data) ~= "table" then
    error(errors.decode(res, c.method, walk.path, c.sdk_path, "expected a list page with a data array"), 0)
  end
  local depth = parent and parent._depth + 1 or 1
  local anchor = parent and parent._anchor or nil
  if is_pow2(depth) then anchor = cursor end
  local page = setmetatable({
    data = data, has_more = decoded.has_more == true, request_id = res.request_id, raw = decoded,
    _walk = walk, _cursor = cursor, _depth = depth, _anchor = anchor, _next = false,
  }, Page)
  local kind = c.pagination
  local has_more = decoded.has_more
  if kind == "single_page" or has_more == false then return page end
  local find_next = (walk.backward and PREV or NEXT)[kind]
  local nxt = find_next and find_next(decoded, data)
  local name = walk.cursor_param
  if nxt == nil then
    if has_more == true then
      page._stuck = "has_more is true but page " .. depth .. (cursor and (" (" .. name .. "=" .. errors.clip(cursor, 80)
        .. ")") or "") .. " gives no cursor to go on from (" .. #data .. " items); stopping instead of"
        .. " ending as if the list were complete"
    end
  elseif nxt == cursor or nxt == anchor then
    page._stuck = "has_more is " .. tostring(has_more) .. " but the cursor does not move: page " .. depth
      .. " leads to " .. name .. "=" .. errors.clip(nxt, 80) .. " again (" .. (nxt == cursor and "the same page"
      or "a page seen before") .. "); stopping instead of looping"
  else
    page._next = nxt
  end
  return page
end

function methods.has_next_page(page)
  return page._next ~= false or page._stuck ~= nil
end

function methods.next_page(page)
  local stuck = page._stuck
  local walk = page._walk
  if stuck then
    error(errors.pagination(walk.c.sdk_path .. ": " .. stuck, walk.c.sdk_path,
      { method = walk.c.method, path = walk.path }), 0)
  end
  local cursor = page._next
  if not cursor then return nil end
  local decoded, res = pipeline.fetch_page(walk, cursor)
  return make_page(walk, decoded, res, cursor, page)
end

-- Iterator shared by __call and items(): st = { page, data, n, i }
local function items_next(st)
  local i = st.i + 1
  if i <= st.n then
    st.i = i
    return st.data[i]
  end
  local page = st.page
  while page do
    page = methods.next_page(page)
    st.page = page
    if not page then break end
    local data = page.data
    local n = #data
    if n > 0 then
      st.data, st.n, st.i = data, n, 1
      return data[1]
    end
  end
  st.data, st.n, st.i = nil, 0, 0
  return nil
end

local State = { __name = "openai_admin.page_iteration" }
State.__index = State
function State.__close(st)
  st.page, st.data, st.n, st.i = nil, nil, 0, 0
end
State.close = State.__close

local function new_state(page)
  local data = page.data
  return setmetatable({ page = page, data = data, n = #data, i = 0 }, State)
end

-- for item in page do ... end  (generic for calls page(nil, previous_item)). Each loop over the
-- page has its own state; a call finds its loop's state by the item that loop got last (two loops
-- at the same item are at the same place). At most MAX_WALKS unfinished walks are kept per page
-- (a `break` leaves one behind); past that the oldest is dropped.
local MAX_WALKS = 64
function Page.__call(page, _, control)
  local its = rawget(page, "_its")
  local st, at
  if control == nil then
    st = new_state(page)
    if not its then
      its = {}
      rawset(page, "_its", its)
    elseif #its >= MAX_WALKS then
      table.remove(its, 1)
    end
    at = #its + 1
    its[at] = st
  elseif its then
    for k = #its, 1, -1 do
      if its[k].last == control then st, at = its[k], k; break end
    end
  end
  if not st then
    error(errors.invalid_argument("page iteration: this loop's walk is no longer known (more than "
      .. MAX_WALKS .. " unfinished loops over one page); use page:items()", page._walk.c.sdk_path), 0)
  end
  local item = items_next(st)
  st.last = item
  if item == nil then table.remove(its, at) end
  return item
end

-- iterator, state, nil, closing value (Lua 5.4 generic for): break releases the state
function methods.items(page)
  local st = new_state(page)
  return items_next, st, nil, st
end

local function pages_next(st)
  if not st.started then
    st.started = true
    return st.page
  end
  local page = st.page
  if not page then return nil end
  page = methods.next_page(page)
  st.page = page
  return page
end

-- All items from this page on (fetching the next pages), as a JSON array; at most max when given.
function methods.collect(page, max)
  if max ~= nil and (math.type(max) ~= "integer" or max < 0) then
    error(errors.invalid_argument("page:collect: max must be a non-negative integer, got "
      .. require("openai_admin.util").show(max), page._walk.c.sdk_path, "max"), 0)
  end
  local out = require("openai_admin.json").array({})
  if max == 0 then return out end
  local n = 0
  for item in methods.items(page) do
    n = n + 1
    out[n] = item
    if max and n >= max then break end
  end
  return out
end
methods.all = methods.collect

function methods.pages(page)
  local st = setmetatable({ page = page, started = false }, State)
  return pages_next, st, nil, st
end

-- First page of a list call: walk from pipeline.walk(client, c, ...).
function M.first(walk)
  local decoded, res = pipeline.fetch_page(walk, walk.cursor)
  return make_page(walk, decoded, res, walk.cursor, nil)
end

M.Page = Page
M.is_page = function(v) return getmetatable(v) == Page end
return M
