--- Shared helpers of the fake server: hashing/PRNG, API errors, small table tools.
local json = require("openai_admin.json")

local M = {}

M.null = json.null

--- splitmix64 finalizer: a well mixed 64-bit integer from any integer.
local function mix(z)
  z = z + 0x61C8864680B583EB -- wraps (Lua integer arithmetic is modular)
  z = (z ~ (z >> 30)) * -4658895280553007687 -- 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * -7723592293110705685 -- 0x94d049bb133111eb
  return z ~ (z >> 31)
end
M.mix = mix

--- FNV-1a 64 of a string, mixed.
local function hash_str(s, h)
  h = h or -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return h
end
M.hash_str = hash_str

--- A deterministic non-negative integer from any list of strings/integers.
function M.hash(...)
  local h = -3750763034362895579
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local iv = type(v) == "number" and math.tointeger(v) or nil
    if iv then
      h = mix(h ~ iv)
    else
      h = mix(hash_str(tostring(v), h))
    end
  end
  return mix(h) >> 1
end

--- Integer in [lo, hi] from a hash value h.
function M.range(h, lo, hi)
  return lo + (h % (hi - lo + 1))
end

--- A stream of pseudo random numbers (xorshift64*), deterministic from a seed.
local Rng = {}
Rng.__index = Rng
function M.rng(seed)
  local s = mix(math.tointeger(seed) or M.hash(seed))
  if s == 0 then s = 0x2545F491 end
  return setmetatable({ s = s }, Rng)
end
function Rng:next()
  local x = self.s
  x = x ~ (x >> 12)
  x = x ~ (x << 25)
  x = x ~ (x >> 27)
  self.s = x
  return (x * 2685821657736338717) >> 1
end
function Rng:int(lo, hi) return lo + (self:next() % (hi - lo + 1)) end

local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local HEX = "0123456789abcdef"
function Rng:alnum(n)
  local t = {}
  for i = 1, n do
    local k = self:next() % 62 + 1
    t[i] = ALNUM:sub(k, k)
  end
  return table.concat(t)
end
function Rng:hex(n)
  local t = {}
  for i = 1, n do
    local k = self:next() % 16 + 1
    t[i] = HEX:sub(k, k)
  end
  return table.concat(t)
end

--- An alnum string of length n derived from a hash (no state).
function M.alnum_of(h, n)
  local t = {}
  for i = 1, n do
    h = mix(h + i)
    local k = (h >> 1) % 62 + 1
    t[i] = ALNUM:sub(k, k)
  end
  return table.concat(t)
end

--- API errors travel as tables thrown with error(); the app turns them into responses.
local ApiError = {}
ApiError.__index = ApiError
M.ApiError = ApiError

function M.api_error(status, message, param, code, etype)
  return setmetatable({
    status = status,
    message = message,
    param = param,
    code = code,
    type = etype or (status >= 500 and "server_error" or "invalid_request_error"),
  }, ApiError)
end

function M.fail(status, message, param, code, etype)
  error(M.api_error(status, message, param, code, etype), 0)
end

function M.is_api_error(e)
  return getmetatable(e) == ApiError
end

--- s itself when it is valid UTF-8; else each byte of an invalid sequence as \xHH (so that
--- a message quoting client input can always be encoded as JSON).
function M.utf8_safe(s)
  if type(s) ~= "string" or utf8.len(s) then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    if pcall(utf8.codepoint, s, i, i) then -- raises on an invalid sequence at i
      local j = utf8.offset(s, 2, i)
      out[#out + 1] = s:sub(i, j - 1)
      i = j
    else
      out[#out + 1] = ("\\x%02X"):format(s:byte(i))
      i = i + 1
    end
  end
  return table.concat(out)
end

function M.error_body(e)
  return {
    error = {
      message = M.utf8_safe(e.message),
      type = e.type,
      param = e.param == nil and json.null or e.param,
      code = e.code == nil and json.null or e.code,
    },
  }
end

function M.not_found(what, id, param)
  M.fail(404, string.format("No %s found with id '%s'.", what, tostring(id)), param, "not_found")
end

--- Shallow copy without the private keys (those starting with "_").
function M.public(rec)
  local out = {}
  for k, v in pairs(rec) do
    if type(k) ~= "string" or k:sub(1, 1) ~= "_" then out[k] = v end
  end
  return out
end

function M.array(t) return json.array(t or {}) end

--- Copy of a list as a JSON array.
function M.copy_array(t)
  local out = {}
  if t then for i = 1, #t do out[i] = t[i] end end
  return json.array(out)
end

function M.deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = M.deep_copy(x) end
  local mt = getmetatable(v)
  if mt then setmetatable(out, mt) end
  return out
end

function M.is_null(v) return v == nil or v == json.null end

function M.nn(v)
  if v == nil then return json.null end
  return v
end

function M.set_of(list)
  local s = {}
  if list then for _, v in ipairs(list) do s[v] = true end end
  return s
end

return M
