-- Response shapes for the generated docs and editor types (tools/gen_docs.lua), inferred from
-- the API's sample replies (tests/fixtures/samples, copied there by tools/gen_api.lua).
--
-- shapes.for_rows(api, samples_dir) returns, per row, what the reply looks like:
--   by_row[row] = { class = "ProjectAPIKey", page = true|nil, envelope = {fields...}|nil }
--   classes = { ["ProjectAPIKey"] = shape, ... } and class_order (sorted names)
-- A shape is { kinds = { string = true, ... }, fields = { name... }, field = { name = shape },
-- seen = n, present = { name = n }, item = shape (arrays), example = first scalar }. Samples of
-- one type (a retrieve and a list page) are merged, so a field that is missing or null in some
-- of them is marked optional or nullable.
local M = {}

-- JSON text -> values that keep the key order of objects (decoders into Lua tables lose it, and
-- the docs should list fields as the API does). Objects: { [OBJ] = true, keys = {...}, map = {} };
-- arrays: { [ARR] = true, ... }; null: NULL; numbers keep whether they were written as integers.
local OBJ, ARR, NULL = {}, {}, setmetatable({}, { __name = "null" })
M.NULL = NULL

local function decode(text, where)
  local pos = 1
  local function fail(msg) error(("%s: %s at byte %d"):format(where, msg, pos), 0) end
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local j = text:find('["\\]', i)
      if not j then fail("unterminated string") end
      out[#out + 1] = text:sub(i, j - 1)
      if text:sub(j, j) == '"' then pos = j + 1 return table.concat(out) end
      local e = text:sub(j + 1, j + 1)
      local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
      if simple[e] then
        out[#out + 1], i = simple[e], j + 2
      elseif e == "u" then
        local cp = tonumber(text:sub(j + 2, j + 5), 16) or fail("bad \\u escape")
        out[#out + 1], i = utf8.char(cp), j + 6
      else
        fail("bad escape")
      end
    end
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local o = { [OBJ] = true, keys = {}, map = {} }
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return o end
      while true do
        ws()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str()
        ws()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        o.keys[#o.keys + 1], o.map[k] = k, value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return o end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      local a = { [ARR] = true }
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return a end
      while true do
        a[#a + 1] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return a end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    end
    for word, v in pairs { ["true"] = true, ["false"] = false, null = NULL } do
      if text:sub(pos, pos + #word - 1) == word then pos = pos + #word return v end
    end
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" then fail("unexpected character") end
    pos = pos + #num
    return num:find("[.eE]") and tonumber(num) or math.tointeger(tonumber(num)) or tonumber(num)
  end
  local v = value()
  ws()
  if pos <= #text then fail("trailing text") end
  return v
end
M.decode = decode

local function new_shape() return { kinds = {}, fields = {}, field = {}, present = {}, seen = 0 } end

-- Adds one sample value to a shape.
local function add(shape, v)
  shape.seen = shape.seen + 1
  if v == NULL then
    shape.kinds.null = true
  elseif type(v) == "table" and v[OBJ] then
    shape.kinds.object = true
    for _, k in ipairs(v.keys) do
      if not shape.field[k] then
        shape.field[k] = new_shape()
        shape.fields[#shape.fields + 1] = k
      end
      shape.present[k] = (shape.present[k] or 0) + 1
      add(shape.field[k], v.map[k])
    end
    shape.objects = (shape.objects or 0) + 1
  elseif type(v) == "table" and v[ARR] then
    shape.kinds.array = true
    shape.item = shape.item or new_shape()
    for _, x in ipairs(v) do add(shape.item, x) end
  elseif math.type(v) == "integer" then
    shape.kinds.integer = true
    if shape.example == nil then shape.example = v end
  elseif type(v) == "number" then
    shape.kinds.number = true
    if shape.example == nil then shape.example = v end
  else
    shape.kinds[type(v)] = true
    if shape.example == nil then shape.example = v end
  end
end

-- Is field `name` of an object shape sometimes absent?
function M.optional(shape, name)
  return (shape.present[name] or 0) < (shape.objects or 0)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function capitalized(s)
  return (s:gsub("[._](%w)", string.upper):gsub("^%l", string.upper))
end

function M.for_rows(api, samples_dir)
  local classes, by_row, envelopes = {}, {}, {}
  local function class(name)
    classes[name] = classes[name] or new_shape()
    return classes[name]
  end
  for _, row in ipairs(api) do
    local resp = row.response
    local text = resp and resp.sample and read(samples_dir .. "/" .. resp.sample .. ".json")
    if text then
      local v = decode(text, resp.sample .. ".json")
      if row.pagination and type(v) == "table" and v[OBJ] and v.map.data and v.map.data[ARR] then
        -- a page: the table's type names the item (lists) or the page (usage and costs)
        local name = resp.type
        if not resp.list then
          local first = v.map.data[1]
          local obj = first and first[OBJ] and type(first.map.object) == "string" and first.map.object
          name = name:gsub("Response$", "") .. (obj and capitalized(obj) or "Item")
        end
        local item = class(name)
        for _, x in ipairs(v.map.data) do add(item, x) end
        local env = envelopes[name] or new_shape()
        envelopes[name] = env
        local copy = { [OBJ] = true, keys = {}, map = {} }
        for _, k in ipairs(v.keys) do
          if k ~= "data" then copy.keys[#copy.keys + 1], copy.map[k] = k, v.map[k] end
        end
        add(env, copy)
        by_row[row] = { class = name, page = true }
      else
        add(class(resp.type), v)
        by_row[row] = { class = resp.type }
      end
    end
  end
  for _, info in pairs(by_row) do
    if info.page then info.envelope = envelopes[info.class] end
  end
  local order = {}
  for name in pairs(classes) do order[#order + 1] = name end
  table.sort(order)
  return { classes = classes, class_order = order, by_row = by_row }
end

-- The kinds of a shape as a LuaLS type; `class` names the class of an object shape.
function M.lua_type(shape, class, name)
  local parts = {}
  local k = shape.kinds
  if k.object then parts[#parts + 1] = class end
  if k.array then
    local item = shape.item
    if item and next(item.kinds) then
      local it = M.lua_type(item, class, name)
      parts[#parts + 1] = it:find("|", 1, true) and ("(" .. it .. ")[]") or (it .. "[]")
    else
      parts[#parts + 1] = "any[]"
    end
  end
  if k.string then parts[#parts + 1] = "string" end
  if k.number then parts[#parts + 1] = "number"
  elseif k.integer then parts[#parts + 1] = "integer" end
  if k.boolean then parts[#parts + 1] = "boolean" end
  if #parts == 0 then
    -- null in every sample: timestamps are named *_at, ids *_id; anything else is unknown
    parts[#parts + 1] = name and (name:find("_at$") and "integer" or name:find("_id$") and "string") or "any"
  end
  if k.null then parts[#parts + 1] = "openai_admin.null" end
  return table.concat(parts, "|")
end

return M
