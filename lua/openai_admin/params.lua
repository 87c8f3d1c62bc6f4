-- Argument checks and wire encoding, compiled once per endpoint row of api.lua (at first use).
--
-- compile(row) -> c with
--   c.prepare(max_bytes, ...)  -- (path params..., params, options) -> plan (request/validate.lua
--     copies params once; the checks read the copy):
--     plan.path    "/organization/projects/proj%2Fx" (path parameters percent-encoded)
--     plan.params  the checked copy of the params table (or nil)
--     plan.opts    the checked per-request options (or nil)
--     plan.extra_query, plan.extra_body   copies of those options (sent unchecked)
--     the plan is also the request's byte budget (request/validate.lua: max, used, ...)
--   c.encode_query(params, exclude) -> query, after, before
--     query   "limit=2&project_ids%5B%5D=a" in api.lua order, without the pagination cursor ("" if
--             none) and without the names in the set `exclude`
--     after   the cursor value the caller gave (after / page), raw, or nil
--     before  the `before` value when it starts a backward walk (then not in query), else nil
--   c.encode_body(params) -> Lua table ready for json.encode (arrays marked), or nil for no body
--   c.bare, c.build_path(path args...) -> path   (the fast path of a call with path args only)
-- Every bad input raises an invalid_argument error (errors.lua) naming the sdk_path and the
-- parameter, before anything is sent.
local errors = require "openai_admin.errors"
local util = require "openai_admin.util"
local json = require "openai_admin.json"
local options = require "openai_admin.options"
local validate = require "openai_admin.request.validate"

local M = {}

local type, pairs, ipairs, select = type, pairs, ipairs, select
local mtype, tointeger, find, fmt = math.type, math.tointeger, string.find, string.format
local concat = table.concat
local NULL = json.null
local pct = util.pct

local HUGE = math.huge

-- usage.decisions drops null query keys before encoding (ENDPOINTS.md, Conventions); every
-- other endpoint encodes null like qs does: "key=".
local DROP_NULL_QUERY = { ["admin.organization.usage.decisions"] = true }

-- The query parameter that carries the cursor, per pagination kind.
local CURSOR_PARAM = {
  cursor_last_id = "after", cursor_next = "after", cursor_item_id = "after", page_token = "page",
}
M.CURSOR_PARAM = CURSOR_PARAM

-- Per-request options (options.lua checks them).
M.OPTION_NAMES = options.REQUEST
local OPTION_SET = options.REQUEST_SET

local function describe(v)
  if v == NULL then return "null" end
  return util.show(v)
end

local function is_finite(v)
  return v == v and v ~= HUGE and v ~= -HUGE
end

-- True when t is a sequence: keys exactly 1..n (an empty table is an empty sequence).
local function is_sequence(t)
  local n = #t
  local count = 0
  for k in pairs(t) do
    if mtype(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end
M.is_sequence = is_sequence

---------------------------------------------------------------------------------------------
-- Scalars on the wire
---------------------------------------------------------------------------------------------

-- Numbers like JavaScript's String(n): integers without ".0", other floats shortest round-trip.
local function num_str(v)
  if mtype(v) == "integer" then return fmt("%d", v) end
  local i = tointeger(v)
  if i then return fmt("%d", i) end
  for p = 15, 17 do
    local s = fmt("%." .. p .. "g", v)
    if tonumber(s) == v then return s end
  end
  return fmt("%.17g", v)
end
M.number_string = num_str

local function scalar_str(v)
  local tv = type(v)
  if tv == "string" then
    if find(v, "[^A-Za-z0-9%-%._~]") then return pct(v) end
    return v
  elseif tv == "number" then
    return num_str(v)
  elseif tv == "boolean" then
    return v and "true" or "false"
  elseif v == NULL then
    return ""
  end
  return pct(tostring(v))
end

local function enc(v)
  if type(v) == "string" then
    if find(v, "[^A-Za-z0-9%-%._~]") then return pct(v) end
    return v
  end
  return scalar_str(v)
end
M.encode_value = enc

---------------------------------------------------------------------------------------------
-- Validators: v -> nil when fine, or message, subpath (appended to the parameter's name)
---------------------------------------------------------------------------------------------

local compile_validator

local function type_error(want, v)
  return "expected " .. want .. ", got " .. describe(v)
end

local function enum_list(enum)
  local t = {}
  for i, e in ipairs(enum) do t[i] = "'" .. e .. "'" end
  return concat(t, ", ")
end

local function scalar_validator(spec)
  local ty = spec.type
  if ty == "string" then
    local enum = spec.enum
    if enum and not spec.enum_open then
      local set = {}
      for _, e in ipairs(enum) do set[e] = true end
      local listed = enum_list(enum)
      return function(v)
        if type(v) ~= "string" then return type_error("a string", v) end
        if not set[v] then
          return "expected one of " .. listed .. ", got " .. describe(v) .. util.did_you_mean(v, enum)
        end
      end
    end
    return function(v)
      if type(v) ~= "string" then return type_error("a string", v) end
    end
  elseif ty == "number" then
    return function(v)
      if type(v) ~= "number" then return type_error("a number", v) end
      if not is_finite(v) then return "expected a finite number, got " .. tostring(v) end
    end
  elseif ty == "boolean" then
    return function(v)
      if type(v) ~= "boolean" then return type_error("a boolean", v) end
    end
  end
  -- unknown scalar type in the table: accept anything JSON can carry
  return function() end
end

local MAP_VALUE_TYPES = {
  ["string|number|boolean"] = function(v)
    local tv = type(v)
    if tv ~= "string" and tv ~= "boolean" and not (tv == "number" and is_finite(v)) then
      return type_error("a string, number or boolean", v)
    end
  end,
}

local function map_validator(spec)
  local check_value = MAP_VALUE_TYPES[spec.map_values]
  return function(v)
    if type(v) ~= "table" then return type_error("a table (object)", v) end
    for k, val in pairs(v) do
      if type(k) ~= "string" then
        return "expected string keys (an object), got key " .. describe(k)
      end
      if check_value then
        local msg = check_value(val)
        if msg then return msg, "." .. k end
      end
    end
  end
end

-- Object with a fixed field list. Unknown fields are errors (with "did you mean").
local function fields_validator(fields)
  local by_name, names, required = {}, {}, {}
  for _, f in ipairs(fields) do
    by_name[f.name] = compile_validator(f)
    names[#names + 1] = f.name
    if f.required then required[#required + 1] = f.name end
  end
  return function(v)
    if type(v) ~= "table" then return type_error("a table (object)", v) end
    for k, val in pairs(v) do
      local check = by_name[k]
      if not check then
        if type(k) ~= "string" then
          return "expected an object with named fields, got key " .. describe(k)
        end
        return "unknown field '" .. k .. "'" .. util.did_you_mean(k, names), ""
      end
      local msg, sub = check(val)
      if msg then return msg, "." .. k .. (sub or "") end
    end
    for i = 1, #required do
      if v[required[i]] == nil then return "missing required field", "." .. required[i] end
    end
  end
end

-- Object union chosen by a discriminator field (variants = { { type = "aws", fields = {...} }, ... }).
local function discriminated_validator(spec)
  local disc = spec.discriminator or "type"
  local by_type, types = {}, {}
  for _, variant in ipairs(spec.variants) do
    by_type[variant.type] = fields_validator(variant.fields or {})
    types[#types + 1] = variant.type
  end
  local listed = enum_list(types)
  return function(v)
    if type(v) ~= "table" then return type_error("a table (object)", v) end
    local d = v[disc]
    if d == nil then return "missing required field (one of " .. listed .. ")", "." .. disc end
    local check = by_type[d]
    if not check then
      return "expected one of " .. listed .. ", got " .. describe(d) .. util.did_you_mean(d, types), "." .. disc
    end
    return check(v)
  end
end

-- A value that is one of several shapes (e.g. "all" or a list of tiers): picked by Lua type.
local function shape_union_validator(spec)
  local scalar, array
  for _, variant in ipairs(spec.variants) do
    local s = {}
    for k, val in pairs(variant) do s[k] = val end
    s.nullable = false
    if variant.array then array = compile_validator(s) else scalar = compile_validator(s) end
  end
  return function(v)
    if type(v) == "table" then
      if array then return array(v) end
    elseif scalar then
      return scalar(v)
    end
    return type_error(scalar and array and "a string or a list" or (array and "a list" or "a scalar"), v)
  end
end

local function element_validator(spec)
  if spec.variants and type(spec.variants[1]) == "table" then
    if spec.variants[1].fields then return discriminated_validator(spec) end
    return shape_union_validator(spec)
  end
  if spec.type == "object" then
    if spec.fields then return fields_validator(spec.fields) end
    return map_validator(spec)
  end
  return scalar_validator(spec)
end

function compile_validator(spec)
  local check = element_validator(spec)
  if spec.array then
    local elem = check
    check = function(v)
      if type(v) ~= "table" or not is_sequence(v) then
        return type_error("a list (a sequence table)", v)
      end
      for i = 1, #v do
        local msg, sub = elem(v[i])
        if msg then return msg, "[" .. i .. "]" .. (sub or "") end
      end
    end
  end
  if spec.nullable then
    local inner = check
    check = function(v)
      if v == NULL then return nil end
      return inner(v)
    end
  else
    local inner = check
    check = function(v)
      if v == NULL then return "may not be null" end
      return inner(v)
    end
  end
  return check
end
M.compile_validator = compile_validator

---------------------------------------------------------------------------------------------
-- Query encoding (qs arrayFormat brackets, brackets percent-encoded)
---------------------------------------------------------------------------------------------

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- Appends the encoded pairs for value v under the already-encoded key to out (n = count so far).
local function qs_append(out, n, key, v, spec, drop_null)
  if v == NULL then
    if drop_null then return n end
    n = n + 1; out[n] = key .. "="
    return n
  end
  if type(v) ~= "table" then
    n = n + 1; out[n] = key .. "=" .. enc(v)
    return n
  end
  local is_array = (spec and spec.array) or (spec == nil and is_sequence(v) and #v > 0)
  if is_array then
    local akey = key .. "%5B%5D"
    local espec = nil
    if spec and spec.fields then espec = { type = "object", fields = spec.fields } end
    for i = 1, #v do n = qs_append(out, n, akey, v[i], espec, drop_null) end
    return n
  end
  if spec and spec.fields then
    for _, f in ipairs(spec.fields) do
      local fv = v[f.name]
      if fv ~= nil then n = qs_append(out, n, key .. "%5B" .. enc(f.name) .. "%5D", fv, f, drop_null) end
    end
    return n
  end
  for _, k in ipairs(sorted_keys(v)) do
    n = qs_append(out, n, key .. "%5B" .. enc(tostring(k)) .. "%5D", v[k], nil, drop_null)
  end
  return n
end
M.qs_append = qs_append

---------------------------------------------------------------------------------------------
-- Body preparation: copies with array fields marked as JSON arrays
---------------------------------------------------------------------------------------------

local json_array = json.array

local prep_value
local CACHE = setmetatable({}, { __mode = "k" }) -- spec -> field index / element spec / variant index

local function prep_object(v, fields_by_name)
  local out = {}
  for k, val in pairs(v) do
    local f = fields_by_name and fields_by_name[k]
    out[k] = f and prep_value(val, f) or val
  end
  return out
end

local function fields_index(fields)
  local t = {}
  for _, f in ipairs(fields) do t[f.name] = f end
  return t
end

-- spec-driven: arrays get the array mark, objects with fields are copied recursively.
function prep_value(v, spec)
  if type(v) ~= "table" then return v end
  if spec.array then
    local out = {}
    local espec = nil
    if spec.fields then
      espec = CACHE[spec]
      if not espec then
        espec = { type = "object", fields = spec.fields }
        CACHE[spec] = espec
      end
    end
    for i = 1, #v do out[i] = espec and prep_value(v[i], espec) or v[i] end
    return json_array(out)
  end
  if spec.variants and type(spec.variants[1]) == "table" then
    local first = spec.variants[1]
    if first.fields then
      local vidx = CACHE[spec]
      if not vidx then
        vidx = {}
        for _, variant in ipairs(spec.variants) do vidx[variant.type] = fields_index(variant.fields or {}) end
        CACHE[spec] = vidx
      end
      return prep_object(v, vidx[v[spec.discriminator or "type"]])
    end
    -- shape union: a table is the array variant
    local out = {}
    for i = 1, #v do out[i] = v[i] end
    return json_array(out)
  end
  if spec.fields then
    local idx = CACHE[spec]
    if not idx then
      idx = fields_index(spec.fields)
      CACHE[spec] = idx
    end
    return prep_object(v, idx)
  end
  return v -- map of any: passed through as given
end
M.prep_value = prep_value

---------------------------------------------------------------------------------------------
-- Compile one row
---------------------------------------------------------------------------------------------

local function split_path(path, names)
  local lits = {}
  local pos = 1
  for i, name in ipairs(names) do
    local s, e = find(path, "{" .. name .. "}", pos, true)
    assert(s, "path parameter " .. name .. " not in " .. path)
    lits[i] = path:sub(pos, s - 1)
    pos = e + 1
  end
  lits[#names + 1] = path:sub(pos)
  return lits
end

-- A path segment, percent-encoded. Scripts send the same ids again and again, and the pattern
-- test costs more than the rest of a call's Lua work, so the answers are kept (a bounded memo:
-- a fresh table once it holds SEG_MAX ids; per Lua state, as every module table).
local SEG_MAX = 4096
local seg_memo, seg_count = {}, 0
local function seg(v)
  local e = seg_memo[v]
  if e then return e end
  e = find(v, "[^A-Za-z0-9%-%._~]") and pct(v) or v
  if seg_count >= SEG_MAX then seg_memo, seg_count = {}, 0 end
  seg_memo[v], seg_count = e, seg_count + 1
  return e
end

function M.compile(row)
  local sdk_path = row.sdk_path
  local names = row.path_params or {}
  local npath = #names
  local lits = split_path(row.path, names)
  local cursor_name = row.pagination and CURSOR_PARAM[row.pagination] or nil
  local before_name = nil
  if row.pagination and row.pagination ~= "single_page" then
    for _, q in ipairs(row.query or {}) do
      if q.name == "before" then before_name = "before" end
    end
  end
  local drop_null = DROP_NULL_QUERY[sdk_path] or false

  local function bad(message, param)
    error(errors.invalid_argument(sdk_path .. ": " .. message, sdk_path, param), 0)
  end

  -- every parameter: where it goes, its validator
  local specs, by_name, all_names, required = {}, {}, {}, {}
  local qspecs, bspecs = {}, {}
  local function add(list, where)
    for _, p in ipairs(list or {}) do
      assert(not by_name[p.name], sdk_path .. ": parameter " .. p.name .. " both in query and body")
      local s = {
        name = p.name, spec = p, where = where, check = compile_validator(p),
        key = enc(p.name), required = p.required,
      }
      specs[#specs + 1] = s
      by_name[p.name] = s
      all_names[#all_names + 1] = p.name
      if p.required then required[#required + 1] = p.name end
      if where == "query" then qspecs[#qspecs + 1] = s else bspecs[#bspecs + 1] = s end
    end
  end
  add(row.query, "query")
  add(row.body, "body")
  local nquery, nbody = #qspecs, #bspecs
  local nrequired = #required
  local sends_body = row.method ~= "GET" and row.method ~= "DELETE" and row.sends_body ~= false
    and (row.sends_body or nbody > 0)

  -- flattened union bodies (body_variants): required/allowed fields per discriminator value
  local bv = row.body_variants
  local bv_disc, bv_req, bv_allowed
  if bv then
    bv_disc = bv.discriminator
    bv_req, bv_allowed = {}, {}
    for vname, v in pairs(bv.variants) do
      bv_req[vname] = v.required or {}
      local allowed = {}
      for _, n in ipairs(v.required or {}) do allowed[n] = true end
      for _, n in ipairs(v.optional or {}) do allowed[n] = true end
      bv_allowed[vname] = allowed
    end
  end

  local function check_params(params)
    if params == nil then
      if nrequired > 0 then
        bad("missing required parameter '" .. required[1] .. "' (pass a params table)", required[1])
      end
      return
    end
    if type(params) ~= "table" then
      bad("argument #" .. (npath + 1) .. " (params) must be a table, got " .. describe(params), nil)
    end
    for k, v in pairs(params) do
      local s = by_name[k]
      if not s then
        if type(k) ~= "string" then
          bad("params must be a table of named fields (got key " .. describe(k) .. ")", nil)
        end
        local hint = util.did_you_mean(k, all_names)
        if hint == "" and OPTION_SET[k] then
          hint = " (per-request options such as '" .. k .. "' go in the table after params)"
        elseif hint == "" and #all_names == 0 then
          hint = " (this endpoint takes no parameters)"
        end
        bad("unknown parameter '" .. k .. "'" .. hint, k)
      end
      local msg, sub = s.check(v)
      if msg then
        local pname = k .. (sub or "")
        bad(pname .. ": " .. msg, pname)
      end
    end
    for i = 1, nrequired do
      local r = required[i]
      if params[r] == nil then bad("missing required parameter '" .. r .. "'", r) end
    end
    if bv then
      local d = params[bv_disc]
      local req = bv_req[d]
      if req then
        for i = 1, #req do
          if params[req[i]] == nil then
            bad("missing required parameter '" .. req[i] .. "' (required when " .. bv_disc .. " is '"
              .. d .. "')", req[i])
          end
        end
        local allowed = bv_allowed[d]
        for k in pairs(params) do
          local s = by_name[k]
          if s.where == "body" and not allowed[k] then
            bad("parameter '" .. k .. "' does not apply when " .. bv_disc .. " is '" .. d .. "'", k)
          end
        end
      end
    end
  end

  -- the cursor value given by the caller (null is sent as "after=", like any null query field,
  -- except where nulls are dropped); `before` starts a backward walk only as a non-empty string
  local function cursor_value(v)
    if v == NULL and drop_null then return nil end
    return v
  end

  local function build_query(params, exclude)
    if params == nil or nquery == 0 then return "", nil, nil end
    local out, n = {}, 0
    local after = cursor_name and cursor_value(params[cursor_name])
    local before = before_name and not after and params[before_name] or nil
    if type(before) ~= "string" or before == "" then before = nil end
    for i = 1, nquery do
      local s = qspecs[i]
      local name = s.name
      local v = params[name]
      if v ~= nil and name ~= cursor_name and not (before and name == before_name)
        and not (exclude and exclude[name]) then
        n = qs_append(out, n, s.key, v, s.spec, drop_null)
      end
    end
    if n == 0 then return "", after, before end
    if n == 1 then return out[1], after, before end
    return concat(out, "&", 1, n), after, before
  end

  local function build_body(params)
    if not sends_body then return nil end
    local out = {}
    if params ~= nil then
      for i = 1, nbody do
        local s = bspecs[i]
        local v = params[s.name]
        if v ~= nil then out[s.name] = prep_value(v, s.spec) end
      end
    end
    return out
  end

  local function check_path_param(i, v)
    if type(v) ~= "string" or v == "" then
      local hint = ""
      if type(v) == "table" then hint = " (did you forget a path parameter before the params table?)" end
      bad("argument #" .. i .. " '" .. names[i] .. "' (path parameter) must be a non-empty string, got "
        .. describe(v) .. hint, names[i])
    end
  end

  local build_path
  if npath == 0 then
    local p = lits[1]
    build_path = function() return p end
  elseif npath == 1 then
    local l1, l2 = lits[1], lits[2]
    build_path = function(a1)
      check_path_param(1, a1)
      return l1 .. seg(a1) .. l2
    end
  elseif npath == 2 then
    local l1, l2, l3 = lits[1], lits[2], lits[3]
    build_path = function(a1, a2)
      check_path_param(1, a1); check_path_param(2, a2)
      return l1 .. seg(a1) .. l2 .. seg(a2) .. l3
    end
  else
    build_path = function(...)
      local out = {}
      for i = 1, npath do
        local a = select(i, ...)
        check_path_param(i, a)
        out[#out + 1] = lits[i]
        out[#out + 1] = seg(a)
      end
      out[#out + 1] = lits[npath + 1]
      return concat(out)
    end
  end

  local function finish(max_bytes, path, params, opts, nargs)
    if nargs > npath + 2 then
      bad("too many arguments (" .. nargs .. "): expected " .. npath .. " path parameter(s)"
        .. (npath > 0 and (" (" .. concat(names, ", ") .. ")") or "") .. ", a params table and an options table",
        nil)
    end
    local plan = validate.budget(max_bytes, sdk_path, path)
    local budget = plan
    if opts ~= nil then
      local o = options.check_request(opts, sdk_path)
      if o.extra_query then
        for _, name in ipairs { cursor_name, before_name } do
          if rawget(o.extra_query, name) ~= nil then
            bad("option extra_query." .. name .. ": the cursor of a list goes in the params table (the walk"
              .. " moves it page by page)", "extra_query." .. name)
          end
        end
        o.extra_query = validate.copy(o.extra_query, budget, "extra_query")
        plan.extra_query = o.extra_query
      end
      if o.extra_body then
        if not sends_body and (row.method == "GET" or row.method == "DELETE") then
          bad("option extra_body: a " .. row.method .. " request has no body (use extra_query)", "extra_body")
        end
        o.extra_body = validate.copy(o.extra_body, budget, "extra_body")
        plan.extra_body = o.extra_body
      end
      plan.opts = o
    end
    if params ~= nil then
      if type(params) ~= "table" then
        bad("argument #" .. (npath + 1) .. " (params) must be a table, got " .. describe(params), nil)
      end
      params = validate.copy(params, budget, "params")
    end
    check_params(params)
    plan.params = params
    return plan
  end

  local prepare
  if npath == 0 then
    prepare = function(max_bytes, ...)
      local params, opts = ...
      return finish(max_bytes, build_path(), params, opts, select("#", ...))
    end
  elseif npath == 1 then
    prepare = function(max_bytes, ...)
      local a1, params, opts = ...
      return finish(max_bytes, build_path(a1), params, opts, select("#", ...))
    end
  elseif npath == 2 then
    prepare = function(max_bytes, ...)
      local a1, a2, params, opts = ...
      return finish(max_bytes, build_path(a1, a2), params, opts, select("#", ...))
    end
  else
    prepare = function(max_bytes, ...)
      local params, opts = select(npath + 1, ...)
      return finish(max_bytes, build_path(...), params, opts, select("#", ...))
    end
  end

  return {
    row = row, sdk_path = sdk_path, method = row.method, pagination = row.pagination,
    npath = npath, path_params = names, prepare = prepare, sends_body = sends_body,
    -- a call of only its path arguments sends no query and no body, and needs no plan (the
    -- pipeline's fast path, request/pipeline.lua): true when nothing is required and there is
    -- no body to send (an endpoint with a body sends {} even without params)
    bare = nrequired == 0 and not sends_body, build_path = build_path,
    cursor_name = cursor_name, before_name = before_name,
    encode_query = build_query, encode_body = build_body,
  }
end

return M
