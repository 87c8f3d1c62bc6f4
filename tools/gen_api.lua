#!/usr/bin/env lua5.4
-- Regenerates lua/openai_admin/api.lua (the one endpoint table) and
-- tests/fixtures/samples/ from the shared catalog.  Usage:
--   lua5.4 tools/gen_api.lua [../shared/api]
-- Needs lua-cjson (a dev-time tool only; the project itself never reads the catalog).
local cjson = require("cjson")
local dir = arg[1] or "../shared/api"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local catalog = cjson.decode(slurp(dir .. "/catalog.json"))

-- Keys kept from the catalog, per level; everything else (seed provenance) is dropped.
local PARAM_KEYS = { "name", "type", "required", "array", "nullable", "enum", "enum_open",
  "fields", "variants", "discriminator", "map_values", "required_in_variant", "wire_name", "description" }
local RESPONSE_KEYS = { "type", "object", "list", "sample", "item_sample", "result_object", "envelope" }

local function is_ident(s) return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil end

local function literal(v, indent)
  local t = type(v)
  if v == cjson.null then return "nil" end
  if t == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if t == "number" then
    if math.type(v) == "float" and v == math.floor(v) then return string.format("%d", v) end
    return tostring(v)
  end
  if t == "boolean" then return tostring(v) end
  assert(t == "table")
  local n = #v
  local parts = {}
  if n > 0 or next(v) == nil then
    for i = 1, n do parts[#parts + 1] = literal(v[i], indent .. "  ") end
    local one = "{ " .. table.concat(parts, ", ") .. " }"
    if #one < 100 then return n == 0 and "{}" or one end
    return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local key = is_ident(k) and k or ("[" .. string.format("%q", k) .. "]")
    parts[#parts + 1] = key .. " = " .. literal(v[k], indent .. "  ")
  end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one < 100 and not one:find("\n") then return one end
  return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
end

local function pick(src, keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = src[k]
    if v ~= nil and v ~= cjson.null then out[k] = v end
  end
  return out
end

local function params(list)
  local out = {}
  for i, p in ipairs(list) do
    local q = pick(p, PARAM_KEYS)
    if q.fields then q.fields = params(q.fields) end
    if q.variants and type(q.variants[1]) == "table" then
      for j, var in ipairs(q.variants) do
        local vv = pick(var, PARAM_KEYS)
        if var.fields then vv.fields = params(var.fields) end
        q.variants[j] = vv
      end
    end
    out[i] = q
  end
  return out
end

local function sample_name(path) return path and path:match("([^/]+)%.json$") end

-- The per-variant required/optional lists of a union body, derived from its fields (each
-- variant field names its variants and whether it is required in them), so a variant added to
-- the fields (openai-node 7.59's "oci") is never missing from the lists. A catalog's own
-- body_variants must agree with the fields; a disagreement stops the generator.
local function body_variants(e)
  local given = e.body_variants
  if not given or given == cjson.null then return nil end
  local disc = given.discriminator
  local values
  for _, p in ipairs(e.body) do
    if p.name == disc and p.enum ~= cjson.null then values = p.enum end
  end
  assert(values, e.sdk_path .. ": no enum for the discriminator " .. tostring(disc))
  local out = { discriminator = disc, variants = {} }
  for _, v in ipairs(values) do
    local req, opt = {}, {}
    for _, p in ipairs(e.body) do
      local vs = p.variants
      local in_variant = vs == nil or vs == cjson.null or type(vs[1]) ~= "string"
      if not in_variant then
        for _, x in ipairs(vs) do if x == v then in_variant = true end end
      end
      if in_variant then
        local required = p.required == true or ((vs ~= nil and vs ~= cjson.null and type(vs[1]) == "string")
          and p.required_in_variant == true)
        if required then req[#req + 1] = p.name else opt[#opt + 1] = p.name end
      end
    end
    table.sort(req)
    table.sort(opt)
    out.variants[v] = { required = req, optional = opt }
    local g = given.variants[v]
    if g and g ~= cjson.null then
      local listed = { table.unpack(g.required) }
      table.sort(listed)
      local a, b = table.concat(req, ","), table.concat(listed, ",")
      assert(a == b, e.sdk_path .. ": body_variants." .. v .. ".required (" .. b .. ") disagrees with the fields ("
        .. a .. ")")
    end
  end
  return out
end

local rows = {}
for _, e in ipairs(catalog) do
  local resource, name = e.sdk_path:match("^(.*)%.([^.]+)$")
  local r = pick(e.response, RESPONSE_KEYS)
  r.sample = sample_name(r.sample)
  r.item_sample = sample_name(r.item_sample)
  local row = {
    sdk_path = e.sdk_path, resource = resource, name = name,
    method = e.method, path = e.path, path_params = e.path_params,
    query = params(e.query), body = params(e.body),
    -- A POST whose endpoint defines no body fields (archive, validate) sends no body at all.
    sends_body = e.method == "POST" and #e.body > 0,
    pagination = e.pagination ~= cjson.null and e.pagination or nil,
    response = r, summary = e.summary,
  }
  row.body_variants = body_variants(e)
  rows[#rows + 1] = row
end
table.sort(rows, function(a, b) return a.sdk_path < b.sdk_path end)

local out = { "-- GENERATED by tools/gen_api.lua from the shared API catalog; do not edit by hand.",
  "-- The one endpoint table: the client tree, argument checks, docs and the fake server all read it.",
  "return {" }
for _, row in ipairs(rows) do out[#out + 1] = "  " .. literal(row, "  ") .. "," end
out[#out + 1] = "}"
local f = assert(io.open("lua/openai_admin/api.lua", "wb"))
f:write(table.concat(out, "\n"), "\n")
f:close()

-- Samples: copied verbatim as test fixtures.
local p = io.popen('ls "' .. dir .. '/samples"')
local count = 0
for file in p:lines() do
  if file:match("%.json$") and file ~= "INDEX.json" then
    local g = assert(io.open("tests/fixtures/samples/" .. file, "wb"))
    g:write(slurp(dir .. "/samples/" .. file))
    g:close()
    count = count + 1
  end
end
p:close()
io.stderr:write(string.format("api.lua: %d endpoints; %d samples\n", #rows, count))
