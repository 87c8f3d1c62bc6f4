-- Output of the command line: json, jsonl, csv, tsv and table, streamed item by item.
--
--   local w = output.new{ format = "table", fields = { "id", "owner.user.email" } | nil,
--                         out = io.stdout, width = 120 | nil, names = resolver | nil, list = true }
--   w:item(obj) ... w:page_done() ... w:finish()      -- a list
--   w:object(obj); w:finish()                         -- one object
-- JSON and JSON Lines keep the values as the API gave them (numbers exact: integers stay
-- integers, floats shortest round-trip); --fields selects nested values by dotted path and keeps
-- the shape. CSV (RFC 4180, CRLF, header row) and TSV flatten objects into dotted columns; tables
-- show times as UTC ISO and fit the width. Column headers come from --fields, or from the items
-- of the first page (a later item with other fields gets one warning on stderr).
local json = require "openai_admin.json"
local params = require "openai_admin.params"
local timefmt = require "openai_admin.timefmt"

local M = {}

local NULL = json.null
local number_string = params.number_string
local concat = table.concat

M.FORMATS = { "table", "json", "jsonl", "csv", "tsv" }

local function is_array(t)
  if json.is_array(t) then return true end
  if next(t) == nil then return false end
  return params.is_sequence(t)
end

-- Keys in a useful order: identity first, then alphabetical.
local PRIORITY = { object = 1, start_time = 2, end_time = 3, id = 4, name = 5, email = 6, title = 7, type = 8,
  role = 9, status = 10 }
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks, function(a, b)
    local pa, pb = PRIORITY[a] or 99, PRIORITY[b] or 99
    if pa ~= pb then return pa < pb end
    return a < b
  end)
  return ks
end
M.sorted_keys = sorted_keys

-- Ordered objects made by --fields selection: { keys = {...}, vals = {...} }
local Ordered = {}
Ordered.__index = Ordered
local function ordered() return setmetatable({ keys = {}, vals = {} }, Ordered) end
M.Ordered = Ordered
function Ordered:set(k, v)
  if self.vals[k] == nil then self.keys[#self.keys + 1] = k end
  self.vals[k] = v
end

local function scalar_json(v)
  if v == NULL then return "null" end
  local s = json.encode(v)
  return s
end

-- JSON text of v; indent = nil for one line.
local function encode(v, indent, depth)
  depth = depth or 0
  local tv = type(v)
  if tv ~= "table" then return scalar_json(v) end
  local nl, pad, pad_in, sep = "", "", "", ","
  if indent then
    nl = "\n"
    pad = (" "):rep(indent * depth)
    pad_in = (" "):rep(indent * (depth + 1))
    sep = ","
  end
  local colon = indent and ": " or ":"
  local parts = {}
  if getmetatable(v) == Ordered then
    for _, k in ipairs(v.keys) do
      parts[#parts + 1] = pad_in .. json.encode(k) .. colon .. encode(v.vals[k], indent, depth + 1)
    end
  elseif is_array(v) then
    if #v == 0 then return "[]" end
    for i = 1, #v do parts[i] = pad_in .. encode(v[i], indent, depth + 1) end
    return "[" .. nl .. concat(parts, sep .. nl) .. nl .. pad .. "]"
  else
    for _, k in ipairs(sorted_keys(v)) do
      parts[#parts + 1] = pad_in .. json.encode(k) .. colon .. encode(v[k], indent, depth + 1)
    end
  end
  if #parts == 0 then return "{}" end
  return "{" .. nl .. concat(parts, sep .. nl) .. nl .. pad .. "}"
end
M.encode = encode

-- The value at a dotted path ("owner.user.email"), or nil.
local function get(obj, path)
  local v = obj
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" or getmetatable(v) == Ordered then return nil end
    local nv = v[part]
    if nv == nil and is_array(v) then nv = v[tonumber(part)] end
    v = nv
  end
  return v
end
M.get = get

-- The selected fields of obj, nested like the original, in the order given.
local function select_fields(obj, fields)
  local out = ordered()
  for _, path in ipairs(fields) do
    local v = get(obj, path)
    if v ~= nil then
      local node = out
      local parts = {}
      for part in path:gmatch("[^.]+") do parts[#parts + 1] = part end
      for i = 1, #parts - 1 do
        local child = node.vals[parts[i]]
        if getmetatable(child) ~= Ordered then
          child = ordered()
          node:set(parts[i], child)
        end
        node = child
      end
      node:set(parts[#parts], v)
    end
  end
  return out
end
M.select_fields = select_fields

-- Dotted leaf paths of obj (objects flattened, arrays are leaves), in key order.
local function flatten_paths(obj, prefix, out, seen)
  for _, k in ipairs(sorted_keys(obj)) do
    local v = obj[k]
    local p = prefix .. k
    if type(v) == "table" and not is_array(v) and next(v) ~= nil then
      flatten_paths(v, p .. ".", out, seen)
    elseif not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
end

local function cell_raw(v)
  if v == nil or v == NULL then return "" end
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then return number_string(v) end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "table" then
    if is_array(v) then
      local simple = true
      for i = 1, #v do if type(v[i]) == "table" then simple = false end end
      if simple then
        local t = {}
        for i = 1, #v do t[i] = cell_raw(v[i]) end
        return concat(t, ",")
      end
    end
    return encode(v)
  end
  return tostring(v)
end

local function csv_quote(s)
  if s:find('[",\r\n]') or s:match("^%s") or s:match("%s$") then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end
local function tsv_clean(s)
  return (s:gsub("[\t\r\n\\]", { ["\t"] = "\\t", ["\r"] = "\\r", ["\n"] = "\\n", ["\\"] = "\\\\" }))
end

local function text_width(s)
  return utf8.len(s) or #s
end
local function truncate(s, w)
  if text_width(s) <= w then return s end
  if w <= 1 then return ("…"):sub(1, w > 0 and 3 or 0) end
  local cut = utf8.offset(s, w) -- byte where the w-th character starts
  if not cut then return s:sub(1, w - 1) .. "…" end
  return s:sub(1, cut - 1) .. "…"
end

-- The widths of the columns shrunk, widest first, until the row fits `width`.
local function fit(widths, width, minw)
  local n = #widths
  local total = 2 * (n - 1)
  for i = 1, n do total = total + widths[i] end
  while total > width do
    local best, bi = 0, nil
    for i = 1, n do
      if widths[i] > best and widths[i] > minw[i] then best, bi = widths[i], i end
    end
    if not bi then break end
    widths[bi] = widths[bi] - 1
    total = total - 1
  end
  return widths
end

local Writer = {}
Writer.__index = Writer

function M.new(o)
  local w = setmetatable({
    format = o.format, fields = o.fields, out = o.out or io.stdout, width = o.width, names = o.names,
    list = o.list, warn = o.warn or function(msg) io.stderr:write("openai-admin: ", msg, "\n") end,
    n = 0, buffer = {}, columns = nil, started = false,
  }, Writer)
  return w
end

function Writer:write(s) self.out:write(s) end

-- the name columns --names adds next to an id column
local NAME_KINDS = { project_id = "project", user_id = "user", service_account_id = "service_account",
  api_key_id = "api_key" }
local function name_kind(col)
  local leaf = col:match("([^.]+)$")
  return NAME_KINDS[leaf]
end

function Writer:decide_columns(rows)
  local cols = {}
  if self.fields then
    for _, f in ipairs(self.fields) do cols[#cols + 1] = f end
  else
    local seen = {}
    for _, r in ipairs(rows) do flatten_paths(r, "", cols, seen) end
    if self.format == "table" then
      local kept = {}
      for _, c in ipairs(cols) do if c ~= "object" then kept[#kept + 1] = c end end
      if #kept > 0 then cols = kept end
    end
  end
  self.known = {}
  for _, c in ipairs(cols) do self.known[c] = true end
  if self.names then
    local with = {}
    for _, c in ipairs(cols) do
      with[#with + 1] = { path = c }
      local kind = name_kind(c)
      if kind then with[#with + 1] = { path = c, name_of = kind, title = c:gsub("_id$", "_name") } end
    end
    self.columns = with
  else
    local plain = {}
    for i, c in ipairs(cols) do plain[i] = { path = c } end
    self.columns = plain
  end
end

function Writer:cells(row, for_table)
  local out = {}
  for i, c in ipairs(self.columns) do
    local v = get(row, c.path)
    if c.name_of then
      v = (v ~= nil and v ~= NULL) and self.names(c.name_of, v, row) or nil
    end
    local s
    if for_table and timefmt.looks_like_time(c.path, v) then
      s = timefmt.iso(v)
    else
      s = cell_raw(v)
    end
    if for_table then s = s:gsub("[%c]", " ") end
    out[i] = s
  end
  if not self.fields and not self.warned then
    local extra = {}
    flatten_paths(row, "", extra, {})
    for _, p in ipairs(extra) do
      if not self.known[p] and not (for_table and p == "object") then
        self.warned = true
        self.warn("an item has field '" .. p .. "' that the columns (from the first page) lack; "
          .. "choose columns with --fields")
        break
      end
    end
  end
  return out
end

function Writer:header_titles()
  local t = {}
  for i, c in ipairs(self.columns) do t[i] = c.title or c.path end
  return t
end

function Writer:emit_delimited(row)
  local cells = self:cells(row, false)
  if self.format == "csv" then
    for i, s in ipairs(cells) do cells[i] = csv_quote(s) end
    self:write(concat(cells, ",") .. "\r\n")
  else
    for i, s in ipairs(cells) do cells[i] = tsv_clean(s) end
    self:write(concat(cells, "\t") .. "\n")
  end
end

function Writer:table_layout(rows)
  local titles = self:header_titles()
  local widths, minw = {}, {}
  local rendered = {}
  for i, t in ipairs(titles) do widths[i] = text_width(t); minw[i] = math.min(text_width(t), 6) end
  for r, row in ipairs(rows) do
    local cells = self:cells(row, true)
    rendered[r] = cells
    for i, s in ipairs(cells) do
      local wd = text_width(s)
      if wd > widths[i] then widths[i] = math.min(wd, 200) end
    end
  end
  for i = 1, #widths do minw[i] = math.min(widths[i], math.max(minw[i], 4)) end
  if self.width then
    fit(widths, self.width, minw)
    -- still too wide at the narrowest: the last columns go (and a warning says so)
    local total = -2
    for i = 1, #widths do total = total + widths[i] + 2 end
    local dropped = 0
    while total > self.width and #widths > 1 do
      total = total - widths[#widths] - 2
      widths[#widths] = nil
      titles[#titles] = nil
      self.columns[#self.columns] = nil
      dropped = dropped + 1
    end
    if dropped > 0 then
      self.warn(dropped .. " column" .. (dropped == 1 and "" or "s") .. " did not fit the width of "
        .. self.width .. "; choose columns with --fields")
      for _, cells in ipairs(rendered) do for k = #cells, #widths + 1, -1 do cells[k] = nil end end
    end
  end
  self.widths = widths
  self:table_row(titles)
  local rule = {}
  for i, wd in ipairs(widths) do rule[i] = ("-"):rep(wd) end
  self:write(concat(rule, "  ") .. "\n")
  return rendered
end

function Writer:table_row(cells)
  local parts = {}
  local n = #cells
  for i, s in ipairs(cells) do
    local wd = self.widths[i]
    s = truncate(s, wd)
    if i < n then s = s .. (" "):rep(wd - text_width(s)) end
    parts[i] = s
  end
  self:write((concat(parts, "  "):gsub("%s+$", "")) .. "\n")
end

-- Rows held back until the columns are known (the first page), then streamed.
function Writer:flush_buffer()
  local rows = self.buffer
  self.buffer = {}
  if #rows == 0 and self.columns then return end
  local fmt = self.format
  if not self.columns then
    self:decide_columns(rows)
    if #self.columns == 0 then return end
    if fmt == "table" then
      for _, cells in ipairs(self:table_layout(rows)) do self:table_row(cells) end
      return
    end
    local titles = self:header_titles()
    if fmt == "csv" then
      for i, s in ipairs(titles) do titles[i] = csv_quote(s) end
      self:write(concat(titles, ",") .. "\r\n")
    else
      self:write(concat(titles, "\t") .. "\n")
    end
  end
  for _, row in ipairs(rows) do
    if fmt == "table" then self:table_row(self:cells(row, true)) else self:emit_delimited(row) end
  end
end

function Writer:item(obj)
  self.n = self.n + 1
  local fmt = self.format
  if fmt == "jsonl" then
    self:write(encode(self.fields and select_fields(obj, self.fields) or obj) .. "\n")
  elseif fmt == "json" then
    local v = self.fields and select_fields(obj, self.fields) or obj
    self:write((self.n == 1 and "[\n" or ",\n") .. "  " .. encode(v, 2, 1))
  else
    local b = self.buffer
    b[#b + 1] = obj
    if self.columns or #b >= 1000 then self:flush_buffer() end
  end
end

-- The end of a page: what was held back for the columns goes out.
function Writer:page_done()
  if self.format ~= "json" and self.format ~= "jsonl" then self:flush_buffer() end
  self.out:flush()
end

-- One object as a table: a field per line (dotted paths), values cut to the width.
function Writer:vertical(obj)
  local paths = {}
  if self.fields then
    for _, f in ipairs(self.fields) do paths[#paths + 1] = f end
  else
    flatten_paths(obj, "", paths, {})
  end
  local kw = 0
  for _, p in ipairs(paths) do kw = math.max(kw, text_width(p)) end
  for _, p in ipairs(paths) do
    local v = get(obj, p)
    local s = timefmt.looks_like_time(p, v) and timefmt.iso(v) or cell_raw(v)
    s = s:gsub("%c", " ")
    if self.names and name_kind(p) and type(v) == "string" then
      local n = self.names(name_kind(p), v, obj)
      if n ~= "" then s = s .. " (" .. n .. ")" end
    end
    if self.width then s = truncate(s, math.max(8, self.width - kw - 2)) end
    self:write((p .. (" "):rep(kw - text_width(p) + 2) .. s):gsub("%s+$", "") .. "\n")
  end
end

function Writer:object(obj)
  local fmt = self.format
  local v = self.fields and select_fields(obj, self.fields) or obj
  if fmt == "table" then return self:vertical(obj) end
  if fmt == "json" then
    self:write(encode(v, 2) .. "\n")
  elseif fmt == "jsonl" then
    self:write(encode(v) .. "\n")
  else
    self.buffer[1] = obj
    self:flush_buffer()
  end
end

function Writer:finish()
  local fmt = self.format
  if self.list and fmt == "json" then
    self:write(self.n == 0 and "[]\n" or "\n]\n")
  elseif fmt ~= "json" and fmt ~= "jsonl" then
    self:flush_buffer()
  end
  self.out:flush()
end

return M
