-- The resource tree, built from api.lua (the single source of truth).
--
-- spec():      the shared, client-independent trie, built once:
--              { path = "admin.organization.projects", children = { users = spec, ... },
--                methods = { list = row, ... } }
-- node(client, spec, invoke): a client's lazy node table. Indexing it gives child nodes and
--              method functions, built on first access and cached beside the node (its
--              __index table; the node stays empty, so assigning to it always raises), so
--              `client.admin.organization.projects:list{}` costs a few table reads after warm-up.
-- Unknown names raise an invalid_argument error with a "did you mean" over the siblings.
local api = require "openai_admin.api"
local errors = require "openai_admin.errors"
local util = require "openai_admin.util"

local M = {}

local ROOT

local function new_spec(path)
  return { path = path, children = {}, methods = {}, names = {} }
end

-- Builds the trie from a list of rows (api.lua by default). Raises when a name would be both a
-- resource and a method, or when two rows claim the same sdk_path.
function M.build(rows)
  local root = new_spec("")
  for _, row in ipairs(rows) do
    local parts = {}
    for part in row.resource:gmatch("[^.]+") do parts[#parts + 1] = part end
    assert(row.sdk_path == row.resource .. "." .. row.name, "sdk_path mismatch in " .. tostring(row.sdk_path))
    local spec = root
    for _, part in ipairs(parts) do
      if spec.methods[part] then
        error("openai_admin: api.lua: '" .. part .. "' on " .. spec.path .. " is both a method and a resource")
      end
      local child = spec.children[part]
      if not child then
        child = new_spec(spec.path == "" and part or (spec.path .. "." .. part))
        spec.children[part] = child
        spec.names[#spec.names + 1] = part
      end
      spec = child
    end
    if spec.children[row.name] then
      error("openai_admin: api.lua: '" .. row.name .. "' on " .. spec.path .. " is both a method and a resource")
    end
    if spec.methods[row.name] then error("openai_admin: api.lua: duplicate endpoint " .. row.sdk_path) end
    spec.methods[row.name] = row
    spec.names[#spec.names + 1] = row.name
  end
  return root
end

function M.root()
  if not ROOT then ROOT = M.build(api) end
  return ROOT
end

-- Finds the row of an sdk_path ("admin.organization.projects.list"), or nil.
function M.find(sdk_path)
  if type(sdk_path) ~= "string" then
    error(errors.invalid_argument("endpoint: expected an sdk_path string such as "
      .. "'admin.organization.projects.list', got " .. util.show(sdk_path)), 0)
  end
  local spec = M.root()
  local parts = {}
  for part in sdk_path:gmatch("[^.]+") do parts[#parts + 1] = part end
  for i = 1, #parts - 1 do
    spec = spec.children[parts[i]]
    if not spec then return nil end
  end
  return spec.methods[parts[#parts]]
end

local STATE = setmetatable({}, { __mode = "k" }) -- node -> { client, spec, invoke }

local Node = { __name = "openai_admin.node" }

local function where(spec)
  return spec.path == "" and "client" or spec.path
end

-- Builds node[key] into the node's cache (a child node or a method function), or raises.
local function lookup(node, cache, key)
  local st = STATE[node]
  local spec = st.spec
  local child = spec.children[key]
  if child then
    local n = M.node(st.client, child, st.invoke)
    rawset(cache, key, n)
    return n
  end
  local row = spec.methods[key]
  if row then
    local f = st.invoke(st.client, node, row)
    rawset(cache, key, f)
    return f
  end
  if type(key) == "string" and key:sub(1, 2) == "__" then return nil end
  local close = util.closest(key, spec.names)
  local what = "no method or resource"
  if (close and spec.methods[close]) or next(spec.children) == nil then
    what = "no method"
  elseif (close and spec.children[close]) or next(spec.methods) == nil then
    what = "no resource"
  end
  error(errors.invalid_argument(what .. " '" .. tostring(key) .. "' on " .. where(spec)
    .. (close and ("; did you mean '" .. close .. "'?") or ""),
    spec.path ~= "" and (spec.path .. "." .. tostring(key)) or tostring(key)), 0)
end

function Node.__newindex(_, key)
  error(errors.invalid_argument("cannot assign '" .. tostring(key) .. "' on an API node"), 0)
end

function Node.__tostring(node)
  local st = STATE[node]
  return "openai_admin.node (" .. where(st.spec) .. ")"
end

-- A node of `client` for `spec`. invoke(client, node, row) must return the method function.
-- The node itself stays empty, so every assignment reaches __newindex and is refused; what it
-- has built lives in its cache, read through a table __index (no function call once built).
function M.node(client, spec, invoke)
  local n, cache = {}, {}
  STATE[n] = { client = client, spec = spec, invoke = invoke }
  setmetatable(cache, { __index = function(_, key) return lookup(n, cache, key) end })
  setmetatable(n, { __name = Node.__name, __index = cache, __newindex = Node.__newindex,
    __tostring = Node.__tostring })
  return n
end

-- Names below a node (children then methods, sorted), for help and tooling.
function M.names(node)
  local st = STATE[node]
  if not st then return nil end
  local resources, methods = {}, {}
  for k in pairs(st.spec.children) do resources[#resources + 1] = k end
  for k in pairs(st.spec.methods) do methods[#methods + 1] = k end
  table.sort(resources); table.sort(methods)
  return resources, methods
end

function M.spec_of(node)
  local st = STATE[node]
  return st and st.spec
end

return M
