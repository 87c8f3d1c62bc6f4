-- The grammar of one command's arguments, driven by the endpoint table:
--   [PATH_ARGS...] [--FIELD VALUE]... [--params JSON|@FILE|-]
-- One flag per field (query fields for GET/DELETE, body fields for POST), dashes or underscores,
-- typed by the table; arrays by repeating a flag; nested fields by dotted names; maps by
-- --field.KEY VALUE; objects (and list elements that are objects) also as JSON text.
-- Errors are invalid_argument errors naming the flag and the command, raised before any request.
local json = require "openai_admin.json"
local errors = require "openai_admin.errors"
local util = require "openai_admin.util"
local timefmt = require "openai_admin.timefmt"

local M = {}

-- "max-requests-per-1-minute" -> "max_requests_per_1_minute"
local function norm(s) return (s:gsub("%-", "_")) end
M.norm = norm
local function dashed(s) return (s:gsub("_", "-")) end
M.dashed = dashed

local function usage_error(cmd, message, param)
  error(errors.invalid_argument(cmd.title .. ": " .. message, cmd.sdk_path, param), 0)
end
M.usage_error = usage_error

local function is_shape_union(p)
  return p.variants and type(p.variants[1]) == "table" and not p.variants[1].fields
end
local function is_discriminated(p)
  return p.variants and type(p.variants[1]) == "table" and p.variants[1].fields ~= nil
end
M.is_shape_union, M.is_discriminated = is_shape_union, is_discriminated

-- Flags of a command: name (underscored, dotted) -> { spec, path = {...}, time }.
-- maps: prefix -> spec for free-form objects (--attribute-matchers.repository org/repo).
local function add_flags(flags, maps, list, prefix, path, parent_desc)
  for _, p in ipairs(list or {}) do
    local name = prefix .. p.name
    local fpath = {}
    for i, k in ipairs(path) do fpath[i] = k end
    fpath[#fpath + 1] = p.name
    local time = p.time
    if time == nil then
      time = p.type == "number" and timefmt.is_time_field(name, p.description, parent_desc) or false
    end
    if not flags[name] then flags[name] = { spec = p, path = fpath, time = time, name = name } end
    if not p.array then
      if p.fields then
        add_flags(flags, maps, p.fields, name .. ".", fpath, p.description)
      elseif is_discriminated(p) then
        flags[name .. "." .. (p.discriminator or "type")] = {
          spec = { name = p.discriminator or "type", type = "string" },
          path = { table.unpack(fpath), p.discriminator or "type" }, name = name .. "." .. (p.discriminator or "type"),
        }
        for _, v in ipairs(p.variants) do add_flags(flags, maps, v.fields, name .. ".", fpath, p.description) end
      elseif p.type == "object" then
        maps[name] = { spec = p, path = fpath }
      end
    end
  end
end

-- A command: { title, sdk_path, positionals = { names }, fields = { field specs }, row? }
function M.flags_of(cmd)
  if cmd._flags then return cmd._flags, cmd._maps end
  local flags, maps = {}, {}
  add_flags(flags, maps, cmd.fields, "", {}, nil)
  cmd._flags, cmd._maps = flags, maps
  return flags, maps
end

local function decode_json(cmd, flag, text)
  local v, why = json.decode(text)
  if v == nil then usage_error(cmd, "--" .. dashed(flag) .. ": expected JSON here: " .. tostring(why), flag) end
  return v
end

local function scalar(cmd, flag, spec, raw, time)
  local ty = spec.type
  if ty == "number" then
    local n = tonumber(raw)
    if n and raw:match("^%s*[-+]?[%d.]") then return math.tointeger(n) or n end
    if time then
      local t, why = timefmt.parse(raw)
      if t then return t end
      usage_error(cmd, "--" .. dashed(flag) .. ": expected " .. timefmt.ACCEPTED .. ", got " .. util.show(raw)
        .. (why ~= timefmt.ACCEPTED and (" (" .. why .. ")") or ""), flag)
    end
    usage_error(cmd, "--" .. dashed(flag) .. ": expected a number, got " .. util.show(raw), flag)
  elseif ty == "boolean" then
    if raw == "true" then return true elseif raw == "false" then return false end
    usage_error(cmd, "--" .. dashed(flag) .. ": expected true or false, got " .. util.show(raw), flag)
  elseif ty == "object" then
    return decode_json(cmd, flag, raw)
  end
  if raw == "null" and spec.nullable and ty ~= "string" then return json.null end
  return raw
end

local function set_path(t, path, v)
  for i = 1, #path - 1 do
    local k = path[i]
    if type(t[k]) ~= "table" then t[k] = {} end
    t = t[k]
  end
  t[path[#path]] = v
end

local function read_params(cmd, text, stdin)
  local src = text
  if text == "-" then
    src = (stdin or io.stdin):read("a")
  elseif text:sub(1, 1) == "@" then
    local f, err = io.open(text:sub(2), "r")
    if not f then usage_error(cmd, "--params: cannot read " .. text:sub(2) .. ": " .. tostring(err), "params") end
    src = f:read("a")
    f:close()
  end
  local v, why = json.decode(src)
  if type(v) ~= "table" or json.is_array(v) then
    usage_error(cmd, "--params: expected a JSON object" .. (why and (": " .. why) or ""), "params")
  end
  return v
end

-- Parses argv[i..] for cmd. options: name (underscored) -> { value = bool, set = function(v) }
-- for the command line's own options, accepted here too unless a field has the name.
-- Returns { positional = {...}, params = table|nil }.
function M.parse(cmd, argv, i, options)
  local flags, maps = M.flags_of(cmd)
  local positional, given, order = {}, {}, {}
  local params_text
  local function flag_names()
    local t = {}
    for k in pairs(flags) do t[#t + 1] = "--" .. dashed(k) end
    for _, n in ipairs(cmd.positionals or {}) do t[#t + 1] = "--" .. dashed(n) end
    return t
  end
  local only_positional = false
  while i <= #argv do
    local a = argv[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" or a:match("^%-%d") then
      positional[#positional + 1] = a
      i = i + 1
    elseif a == "--" then
      only_positional = true
      i = i + 1
    else
      local name, inline = a:match("^%-%-([^=]+)=(.*)$")
      name = norm(name or a:gsub("^%-%-?", ""))
      local function value()
        if inline then return inline end
        i = i + 1
        local v = argv[i]
        if v == nil then usage_error(cmd, "--" .. dashed(name) .. " needs a value", name) end
        return v
      end
      local f = flags[name]
      local mprefix, mkey = name:match("^(.-)%.([^.]+)$")
      local is_path
      for _, pn in ipairs(cmd.positionals or {}) do if pn == name then is_path = true end end
      if name == "params" and not f then
        params_text = value()
      elseif is_path and not f then
        given[name] = { value() }
        order[#order + 1] = name
      elseif f then
        local spec = f.spec
        local raw
        if spec.type == "boolean" and not spec.array and not inline then
          local nxt = argv[i + 1]
          if nxt == "true" or nxt == "false" then raw = nxt; i = i + 1 else raw = "true" end
        else
          raw = value()
        end
        if not given[name] then given[name] = {}; order[#order + 1] = name end
        local list = given[name]
        list[#list + 1] = raw
      elseif mprefix and maps[mprefix] then
        local full = name
        if not given[full] then given[full] = {}; order[#order + 1] = full end
        given[full][#given[full] + 1] = value()
        flags[full] = { spec = { name = mkey, type = "string" }, path = { table.unpack(maps[mprefix].path), mkey },
          name = full, map_entry = true }
      elseif options and options[name] then
        local o = options[name]
        if o.value then o.set(value()) else o.set(true) end
      else
        local names = flag_names()
        if options then for k in pairs(options) do names[#names + 1] = "--" .. dashed(k) end end
        local hint = util.did_you_mean("--" .. dashed(name), names)
        if hint == "" and #names == 0 then hint = " (this command takes no flags)" end
        usage_error(cmd, "unknown flag --" .. dashed(name) .. hint, name)
      end
      i = i + 1
    end
  end

  -- path arguments: positionally in path order, or as flags named after them
  local path_values = {}
  local np = #(cmd.positionals or {})
  local pi = 1
  for k, pn in ipairs(cmd.positionals or {}) do
    local g = given[pn]
    if g and not flags[pn] then
      path_values[k] = g[#g]
    else
      path_values[k] = positional[pi]
      pi = pi + 1
    end
  end
  if positional[pi] ~= nil then
    usage_error(cmd, "unexpected argument " .. util.show(positional[pi]) .. " (takes " .. np .. " path argument"
      .. (np == 1 and "" or "s") .. (np > 0 and (": " .. table.concat(cmd.positionals, ", ")) or "") .. ")", nil)
  end

  local params = params_text and read_params(cmd, params_text, cmd.stdin) or nil
  if params then
    -- path parameters may come inside --params too
    for k, pn in ipairs(cmd.positionals or {}) do
      if params[pn] ~= nil and not flags[pn] then
        if path_values[k] == nil then path_values[k] = params[pn] end
        params[pn] = nil
      end
    end
  end
  for k, pn in ipairs(cmd.positionals or {}) do
    if path_values[k] == nil then
      usage_error(cmd, "missing " .. pn:upper() .. " (path argument " .. k .. "; or --" .. dashed(pn) .. ")", pn)
    end
  end

  for _, name in ipairs(order) do
    local f = flags[name]
    if f then
      params = params or {}
      local spec, list = f.spec, given[name]
      local v
      if spec.array then
        v = json.array({})
        for k, raw in ipairs(list) do
          if spec.fields or spec.type == "object" then
            v[k] = decode_json(cmd, name, raw)
          else
            v[k] = scalar(cmd, name, spec, raw, f.time)
          end
        end
      elseif is_shape_union(spec) then
        local scalar_variant
        for _, var in ipairs(spec.variants) do if not var.array then scalar_variant = var end end
        local only = list[1]
        local in_enum = false
        for _, e in ipairs(scalar_variant and scalar_variant.enum or {}) do if e == only then in_enum = true end end
        if #list == 1 and only:match("^%s*%[") then
          v = decode_json(cmd, name, only)
        elseif #list == 1 and (in_enum or (scalar_variant and not scalar_variant.enum)) then
          v = only
        else
          v = json.array({ table.unpack(list) })
        end
      else
        if #list > 1 then
          usage_error(cmd, "--" .. dashed(name) .. " given " .. #list .. " times (it takes one value)", name)
        end
        if (spec.fields or is_discriminated(spec)) and not list[1]:match("^%s*{") then
          usage_error(cmd, "--" .. dashed(name) .. ": expected a JSON object (or the dotted flags --"
            .. dashed(name) .. ".FIELD)", name)
        end
        v = scalar(cmd, name, spec, list[1], f.time)
      end
      set_path(params, f.path, v)
    end
  end
  return { positional = path_values, params = params }
end

-- Rewrites a library invalid_argument error about a parameter so that it names the flag.
function M.flag_error(cmd, err)
  local p = err.param
  local msg = tostring(err.message or "")
  if p and type(p) == "string" then
    local flag = "--" .. dashed((p:gsub("%[%d+%]", "")))
    msg = msg:gsub("^" .. (cmd.sdk_path or ""):gsub("%p", "%%%0") .. ": ", "")
    msg = msg:gsub("^" .. p:gsub("%p", "%%%0") .. ": ", ""):gsub(" %(pass a params table%)", "")
    if msg:find("^unknown parameter") then -- only --params can bring a name that is not a flag
      return errors.invalid_argument(cmd.title .. ": --params: " .. msg, cmd.sdk_path, p)
    end
    return errors.invalid_argument(cmd.title .. ": " .. flag .. ": " .. msg, cmd.sdk_path, p)
  end
  msg = msg:gsub("^" .. (cmd.sdk_path or ""):gsub("%p", "%%%0") .. ": ", "")
  return errors.invalid_argument(cmd.title .. ": " .. msg, cmd.sdk_path, p)
end

return M
