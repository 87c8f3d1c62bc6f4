--- JSON for the client and the fake: the C core's jansson codec.
-- Integers stay Lua integers (exact to 64 bits); JSON null is `json.null`; decoded arrays are
-- marked, so re-encoding an empty one gives `[]`; `json.array(t)` marks a table of your own.
-- decode(s) and encode(v) return nil and a message for bad input instead of raising.
local core = require("openai_admin.core")

local array_mt = core.json_array_mt

local json = {
  null = core.null,
  decode = core.json_decode,
  encode = core.json_encode,
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
