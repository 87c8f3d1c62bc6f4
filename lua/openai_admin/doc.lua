-- Text documentation of endpoints, generated from api.lua (openai_admin.describe).
local tree = require "openai_admin.tree"

local M = {}

local function type_text(p)
  local t
  if p.variants and type(p.variants[1]) == "table" then
    local parts = {}
    for _, v in ipairs(p.variants) do
      if v.fields then
        parts[#parts + 1] = (p.discriminator or "type") .. " = '" .. tostring(v.type) .. "'"
      else
        parts[#parts + 1] = (v.array and "list of " or "") .. (v.enum and ("'" .. table.concat(v.enum, "'|'") .. "'")
          or v.type)
      end
    end
    t = (p.fields or p.type == "object") and ("object, one of: " .. table.concat(parts, "; "))
      or table.concat(parts, " or ")
  else
    t = p.type
    if p.map_values then t = "object (map of " .. p.map_values .. ")" end
    if p.enum then t = t .. " ('" .. table.concat(p.enum, "'|'") .. "'" .. (p.enum_open and "|..." or "") .. ")" end
    if p.array then t = "list of " .. t end
  end
  if p.nullable then t = t .. ", nullable" end
  if p.required then t = t .. ", required" end
  if p.required_in_variant and p.variants then
    t = t .. ", required when type is '" .. table.concat(p.variants, "'/'") .. "'"
  end
  return t
end

local function params_text(out, list, indent)
  for _, p in ipairs(list) do
    out[#out + 1] = indent .. p.name .. ": " .. type_text(p) .. (p.description and (" -- " .. p.description) or "")
    if p.fields then params_text(out, p.fields, indent .. "  ") end
    if p.variants and type(p.variants[1]) == "table" and p.variants[1].fields then
      for _, v in ipairs(p.variants) do
        out[#out + 1] = indent .. "  when " .. (p.discriminator or "type") .. " = '" .. tostring(v.type) .. "':"
        params_text(out, v.fields, indent .. "    ")
      end
    end
  end
end

local function signature(row)
  local args = {}
  for _, n in ipairs(row.path_params) do args[#args + 1] = n end
  local has_required = false
  for _, list in ipairs { row.query, row.body } do
    for _, p in ipairs(list) do if p.required then has_required = true end end
  end
  if #row.query > 0 or #row.body > 0 then
    args[#args + 1] = has_required and "params" or "[params]"
  else
    args[#args + 1] = "[nil]"
  end
  args[#args + 1] = "[options]"
  return "client." .. row.resource .. ":" .. row.name .. "(" .. table.concat(args, ", ") .. ")"
end

-- A resource (a node of the tree, or its path): its child resources and its methods.
local function describe_resource(spec)
  local out = { (spec.path == "" and "client" or spec.path) .. " (resource)" }
  local kids, methods = {}, {}
  for k in pairs(spec.children) do kids[#kids + 1] = k end
  for k in pairs(spec.methods) do methods[#methods + 1] = k end
  table.sort(kids)
  table.sort(methods)
  if #kids > 0 then out[#out + 1] = "  resources: " .. table.concat(kids, ", ") end
  for _, name in ipairs(methods) do
    local row = spec.methods[name]
    out[#out + 1] = "  " .. signature(row) .. "  -- " .. row.method .. " " .. row.path
      .. (row.summary and (": " .. row.summary) or "")
  end
  return table.concat(out, "\n")
end

local function resource_spec(path)
  local spec = tree.root()
  for part in path:gmatch("[^.]+") do
    spec = spec.children[part]
    if not spec then return nil end
  end
  return spec
end

-- A multi-line description of one endpoint (by sdk_path or row), or of a resource (by its path,
-- "admin.organization.projects", or by its node, client.admin.organization.projects).
function M.describe(what)
  local spec = type(what) == "table" and tree.spec_of(what)
  if spec then return describe_resource(spec) end
  local row = what
  if type(what) == "string" then
    row = tree.find(what)
    if not row then
      spec = resource_spec(what)
      if spec then return describe_resource(spec) end
    end
  end
  if type(row) ~= "table" or type(row.path_params) ~= "table" then
    return nil, "no endpoint or resource " .. tostring(what)
  end
  local out = { row.sdk_path, "  " .. signature(row), "  " .. row.method .. " " .. row.path }
  if row.summary then out[#out + 1] = "  " .. row.summary end
  if #row.query > 0 then
    out[#out + 1] = "  query params:"
    params_text(out, row.query, "    ")
  end
  if #row.body > 0 then
    out[#out + 1] = "  body params:"
    params_text(out, row.body, "    ")
  end
  local resp = row.response or {}
  if row.pagination then
    out[#out + 1] = "  returns: a Page of " .. tostring(resp.type or "items") .. " (pagination " .. row.pagination
      .. "); for item in page do ... end walks every page"
  else
    out[#out + 1] = "  returns: " .. tostring(resp.type or "object")
  end
  return table.concat(out, "\n")
end

return M
