--- Routing: compiles the endpoint table's path templates once into a segment trie.
local M = {}

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.unescape = unescape

--- Checks a raw request path (as sent, undecoded): every `%` starts a two-digit hex escape, and
--- the decoded path has no NUL byte and is valid UTF-8. Returns nil when fine, else the reason.
function M.check_path(raw)
  if raw:find("%%%X") or raw:find("%%%x%X") or raw:find("%%%x?$") then
    return "a malformed percent-escape"
  end
  local decoded = unescape(raw)
  if decoded:find("\0", 1, true) then return "a NUL byte" end
  if not utf8.len(decoded) then return "bytes that are not valid UTF-8" end
  return nil
end

local function split(path)
  local segs = {}
  for seg in path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  return segs
end

--- Builds the router from the rows of openai_admin.api.
function M.compile(rows)
  local root = { lit = {}, param = nil, methods = nil }
  for _, row in ipairs(rows) do
    local node = root
    local names = {}
    for _, seg in ipairs(split(row.path)) do
      local pname = seg:match("^{(.+)}$")
      if pname then
        names[#names + 1] = pname
        node.param = node.param or { lit = {} }
        node = node.param
      else
        node.lit[seg] = node.lit[seg] or { lit = {} }
        node = node.lit[seg]
      end
    end
    node.methods = node.methods or {}
    node.methods[row.method] = { row = row, names = names }
  end
  return root
end

-- Depth first, literal segments before parameters; collects every node whose template matches.
local function walk(node, segs, i, vals, out)
  if i > #segs then
    if node.methods then out[#out + 1] = { node = node, vals = { table.unpack(vals) } } end
    return
  end
  local seg = segs[i]
  local lit = node.lit[seg]
  if lit then walk(lit, segs, i + 1, vals, out) end
  if node.param then
    vals[#vals + 1] = seg
    walk(node.param, segs, i + 1, vals, out)
    vals[#vals] = nil
  end
end

--- Matches an API path (without the /v1 prefix). Returns row, params; or nil, "not_found"|"method".
function M.match(root, method, path)
  local segs = split(path)
  for i = 1, #segs do segs[i] = unescape(segs[i]) end
  local found = {}
  walk(root, segs, 1, {}, found)
  if #found == 0 then return nil, "not_found" end
  for _, f in ipairs(found) do
    local ent = f.node.methods[method]
    if ent then
      local params = {}
      for k, name in ipairs(ent.names) do params[name] = f.vals[k] end
      return ent.row, params
    end
  end
  local allowed = {}
  for m in pairs(found[1].node.methods) do allowed[#allowed + 1] = m end
  table.sort(allowed)
  return nil, "method", allowed
end

--- Parses a raw query string in the qs "brackets" form into
--- { name = { values = {...}, arr = bool, fields = { sub = {values} } } }.
function M.parse_query(qs)
  local out, order = {}, {}
  if not qs or qs == "" then return out, order end
  for pair in qs:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k = unescape((k:gsub("%+", " ")))
    v = unescape((v:gsub("%+", " ")))
    local base, sub = k:match("^([^%[]+)%[([^%]]*)%]$")
    if not base then base = k end
    local ent = out[base]
    if not ent then
      ent = { values = {}, fields = {}, arr = false, obj = false }
      out[base] = ent
      order[#order + 1] = base
    end
    if sub == nil then
      ent.values[#ent.values + 1] = v
    elseif sub == "" or sub:match("^%d+$") then
      ent.arr = true
      ent.values[#ent.values + 1] = v
    else
      ent.obj = true
      ent.fields[sub] = v
    end
  end
  return out, order
end

return M
