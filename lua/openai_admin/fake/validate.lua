--- Parameter validation against the endpoint table's param lists (query and JSON body).
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")

local fail = util.fail
local null = json.null

local M = {}

local function jtype(v)
  if v == null then return "null" end
  local t = type(v)
  if t == "number" then return math.type(v) == "integer" and "an integer" or "a number" end
  if t == "string" then return "a string" end
  if t == "boolean" then return "a boolean" end
  if t == "table" then
    if json.is_array(v) or (#v > 0 and next(v, #v) == nil) then return "an array" end
    return "an object"
  end
  return t
end
M.jtype = jtype

local function is_array(v)
  if type(v) ~= "table" then return false end
  if json.is_array(v) then return true end
  return next(v) == nil or (#v > 0 and next(v, #v) == nil)
end

local function is_object(v)
  return type(v) == "table" and v ~= null and not json.is_array(v) and #v == 0
end

local EXPECT = { string = "a string", number = "a number", boolean = "a boolean", object = "an object" }

local function bad_type(name, expected, v)
  fail(400, string.format("Invalid type for '%s': expected %s, but got %s instead.", name, expected, jtype(v)),
    name, "invalid_type")
end

local function quote_list(list)
  local q = {}
  for i, v in ipairs(list) do q[i] = "'" .. tostring(v) .. "'" end
  if #q <= 1 then return q[1] or "" end
  if #q == 2 then return q[1] .. " and " .. q[2] end
  return table.concat(q, ", ", 1, #q - 1) .. ", and " .. q[#q]
end

local function check_enum(p, name, v)
  if p.enum and not p.enum_open then
    for _, e in ipairs(p.enum) do if e == v then return end end
    fail(400, string.format("Invalid value: '%s'. Supported values are: %s.", tostring(v), quote_list(p.enum)),
      name, "invalid_value")
  end
end

local check_value

local function check_fields(fields, obj, prefix, strict)
  local known = {}
  for _, f in ipairs(fields) do
    known[f.name] = true
    local v = obj[f.name]
    local nm = prefix .. f.name
    if v == nil then
      if f.required then
        fail(400, string.format("Missing required parameter: '%s'.", nm), nm, "missing_required_parameter")
      end
    else
      check_value(f, nm, v)
    end
  end
  if strict then
    for k in pairs(obj) do
      if not known[k] then
        local nm = prefix .. tostring(k)
        fail(400, string.format("Unknown parameter: '%s'.", nm), nm, "unknown_parameter")
      end
    end
  end
end

local function check_scalar(p, name, v)
  local t = p.type
  if t == "string" then
    if type(v) ~= "string" then bad_type(name, "a string", v) end
    check_enum(p, name, v)
  elseif t == "number" then
    if type(v) ~= "number" then bad_type(name, "a number", v) end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then bad_type(name, "a boolean", v) end
  elseif t == "string|array" then
    if type(v) == "string" then
      check_enum(p, name, v)
    elseif is_array(v) then
      for i, x in ipairs(v) do
        if type(x) ~= "string" then bad_type(string.format("%s[%d]", name, i - 1), "a string", x) end
      end
    else
      bad_type(name, "a string or an array", v)
    end
  elseif t == "object" then
    if not is_object(v) then bad_type(name, "an object", v) end
    if p.variants and p.discriminator then
      local d = v[p.discriminator]
      local dn = name .. "." .. p.discriminator
      if d == nil then
        fail(400, string.format("Missing required parameter: '%s'.", dn), dn, "missing_required_parameter")
      end
      local names = {}
      for _, var in ipairs(p.variants) do
        names[#names + 1] = var.type
        if var.type == d then
          check_fields(var.fields, v, name .. ".", true)
          return
        end
      end
      fail(400, string.format("Invalid value: '%s'. Supported values are: %s.", tostring(d), quote_list(names)),
        dn, "invalid_value")
    elseif p.fields then
      check_fields(p.fields, v, name .. ".", true)
    end
  end
end

function check_value(p, name, v)
  if v == null then
    if p.nullable then return end
    bad_type(name, p.array and "an array" or (EXPECT[p.type] or p.type), v)
  end
  if p.array then
    if not is_array(v) then bad_type(name, "an array", v) end
    for i, x in ipairs(v) do check_scalar(p, string.format("%s[%d]", name, i - 1), x) end
  else
    check_scalar(p, name, v)
  end
end

--- Validates a decoded JSON body against row.body (+ row.body_variants). Returns the body.
function M.body(row, body)
  if not is_object(body) then
    fail(400, "Invalid type for request body: expected an object, but got " .. jtype(body) .. " instead.",
      nil, "invalid_type")
  end
  check_fields(row.body, body, "", true)
  local bv = row.body_variants
  if bv then
    local d = body[bv.discriminator]
    local var = bv.variants[d]
    if var then
      for _, req in ipairs(var.required or {}) do
        if body[req] == nil then
          fail(400, string.format("Missing required parameter: '%s'.", req), req, "missing_required_parameter")
        end
      end
      local allowed = util.set_of(var.required)
      for _, o in ipairs(var.optional or {}) do allowed[o] = true end
      for k in pairs(body) do
        if not allowed[k] then
          fail(400, string.format("Unknown parameter: '%s' (not valid for %s '%s').", k, bv.discriminator, d),
            k, "unknown_parameter")
        end
      end
    end
  end
  return body
end

local function conv_scalar(p, name, s)
  local t = p.type
  if t == "number" then
    local n = math.tointeger(tonumber(s)) or tonumber(s)
    if n == nil or s:match("^%s") or s:match("%s$") then
      fail(400, string.format("Invalid type for '%s': expected a number, but got a string instead.", name),
        name, "invalid_type")
    end
    return n
  elseif t == "boolean" then
    if s == "true" then return true elseif s == "false" then return false end
    fail(400, string.format("Invalid type for '%s': expected a boolean, but got a string instead.", name),
      name, "invalid_type")
  end
  check_enum(p, name, s)
  return s
end

--- Validates a parsed query (router.parse_query) against row.query. Returns { name = value }.
function M.query(row, parsed)
  local out = {}
  local known = {}
  for _, p in ipairs(row.query) do
    known[p.name] = true
    local ent = parsed[p.name]
    if ent then
      if p.type == "object" and p.fields then
        if not ent.obj then
          fail(400, string.format("Invalid type for '%s': expected an object, but got a string instead.", p.name),
            p.name, "invalid_type")
        end
        local obj = {}
        local fknown = {}
        for _, f in ipairs(p.fields) do
          fknown[f.name] = true
          local s = ent.fields[f.name]
          if s ~= nil and s ~= "" then obj[f.name] = conv_scalar(f, p.name .. "[" .. f.name .. "]", s) end
        end
        for k in pairs(ent.fields) do
          if not fknown[k] then
            local nm = p.name .. "[" .. k .. "]"
            fail(400, string.format("Unknown parameter: '%s'.", nm), nm, "unknown_parameter")
          end
        end
        out[p.name] = obj
      elseif p.array then
        if ent.obj then
          fail(400, string.format("Invalid type for '%s': expected an array, but got an object instead.", p.name),
            p.name, "invalid_type")
        end
        local arr = {}
        for i, s in ipairs(ent.values) do
          if s ~= "" then arr[#arr + 1] = conv_scalar(p, string.format("%s[%d]", p.name, i - 1), s) end
        end
        if #arr > 0 then out[p.name] = arr end
      else
        if ent.arr or ent.obj then
          fail(400, string.format("Invalid type for '%s': expected %s, but got %s instead.", p.name,
            EXPECT[p.type] or "a string", ent.arr and "an array" or "an object"), p.name, "invalid_type")
        end
        local s = ent.values[#ent.values]
        if s ~= "" then out[p.name] = conv_scalar(p, p.name, s) end
      end
    end
    if p.required and out[p.name] == nil then
      fail(400, string.format("Missing required parameter: '%s'.", p.name), p.name, "missing_required_parameter")
    end
  end
  for k in pairs(parsed) do
    if not known[k] then
      fail(400, string.format("Unknown parameter: '%s'.", k), k, "unknown_parameter")
    end
  end
  return out
end

return M
