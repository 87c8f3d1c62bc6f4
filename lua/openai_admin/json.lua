--- JSON for the client and the fake: the C core's codec (src/decode.c, src/json.c).
-- Integers stay Lua integers (exact to 64 bits); JSON null is `json.null`, the NULL light
-- userdata, so it is the same value as lua-cjson's `cjson.null`; decoded arrays are marked, so
-- re-encoding an empty one gives `[]`; `json.array(t)` marks a table of your own.
-- With the openresty lua-cjson (the one LuaRocks installs: it has `cjson.array_mt`), the mark is
-- `cjson.array_mt` itself, so `cjson.encode` keeps decoded `[]` as `[]`, and `encode` here
-- accepts `cjson.empty_array` and tables marked with `cjson.array_mt` / `cjson.empty_array_mt`.
-- Debian's lua-cjson 2.1.0 has no such marks: only the null is shared (see the README).
-- decode(s) and encode(v) return nil and a message for bad input instead of raising.
local core = require("openai_admin.core")

local array_mt = core.json_array_mt
do
  local ok, cjson = pcall(require, "cjson")
  if ok and type(cjson) == "table" then array_mt = core.json_use_cjson(cjson) end
end

local json = {
  null = core.null,
  decode = core.json_decode,
  encode = core.json_encode,
  --- The metatable that marks arrays (cjson.array_mt when the installed lua-cjson has one).
  array_mt = array_mt,
}

--- Marks t (a new table when nil) as a JSON array and returns it.
function json.array(t)
  t = t or {}
  local mt = getmetatable(t)
  if mt ~= nil and mt ~= array_mt then
    error("openai_admin.json.array: the table already has a metatable", 2)
  end
  return setmetatable(t, array_mt)
end

--- True when t is a table marked as a JSON array (decoded arrays are).
function json.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

return json
