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
-- The cursor logic lives in the C core (core.pager).

local M = {}

local setmetatable, rawget, rawset, type, getmetatable = setmetatable, rawget, rawset, type, getmetatable

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
  return "openai_admin.page (" .. page._chain.c.sdk_path .. ", " .. #page.data .. " items"
    .. (page._next and ", more" or "") .. ")"
end

-- chain: { client, c, fetch, pager_new, path, query, opts } shared by the pages of one list call.
-- Each page gets its own pager (core.pager) advanced over that page only, so the next path is
-- fixed when the page arrives and page:next_page() gives the same answer however often it is
-- called; a cursor that leads back to this same page ends the walk (no endless loop).
local function make_page(chain, decoded, res, path)
  local data = decoded.data
  if type(data) ~= "table" then
    local errors = require "openai_admin.errors"
    error(errors.decode(res, chain.c.method, path, chain.c.sdk_path,
      "expected a list page with a data array"), 0)
  end
  local nxt = false
  if chain.pager_new then
    local pager = chain.pager_new(chain.c.pagination, chain.c.method, chain.path, chain.query)
    pager:advance(decoded)
    local np = pager:next_path()
    if np and np ~= path then nxt = np end
  end
  return setmetatable({
    data = data, has_more = decoded.has_more == true, request_id = res.request_id, raw = decoded,
    _chain = chain, _next = nxt,
  }, Page)
end

function methods.has_next_page(page)
  return page._next ~= false
end

function methods.next_page(page)
  local path = page._next
  if not path then return nil end
  local chain = page._chain
  local decoded, res = chain.fetch(chain.client, chain.c, path, nil, chain.opts)
  return make_page(chain, decoded, res, path)
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

-- for item in page do ... end  (generic for calls page(nil, previous_item))
function Page.__call(page, _, control)
  local st = rawget(page, "_it")
  if control == nil or not st then
    st = new_state(page)
    rawset(page, "_it", st)
  end
  local item = items_next(st)
  if item == nil then rawset(page, "_it", nil) end
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
    local errors = require "openai_admin.errors"
    error(errors.invalid_argument("page:collect: max must be a non-negative integer, got "
      .. require("openai_admin.util").show(max), page._chain.c.sdk_path, "max"), 0)
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

-- First page of a list call. fetch(client, c, path, body, opts) -> decoded, res (raises on errors).
function M.first(client, c, fetch, pager_new, path, query, cursor, body, opts)
  local first_path = path
  if query ~= "" then
    first_path = path .. "?" .. query
    if cursor then first_path = first_path .. "&" .. cursor end
  elseif cursor then
    first_path = path .. "?" .. cursor
  end
  local decoded, res = fetch(client, c, first_path, body, opts)
  local chain = {
    client = client, c = c, fetch = fetch, opts = opts, path = path, query = query,
    pager_new = c.pagination ~= "single_page" and pager_new or nil,
  }
  return make_page(chain, decoded, res, first_path)
end

M.Page = Page
M.is_page = function(v) return getmetatable(v) == Page end
return M
