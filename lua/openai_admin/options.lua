-- Every option of the client, checked in one place, with the C core's own limits (src/client.c):
-- the core then only sees values it accepts, and raises only when its contract is broken.
--
--   options.check_new(opts)          openai_admin.new{...}
--   options.check_derive(opts)       client:with_options{...}
--   options.check_request(opts, sdk_path)   the per-request options table of a call
-- Each raises an invalid_argument error (errors.lua) naming the option, or returns the table of
-- values to hand to the core (integral floats made integers).
local errors = require "openai_admin.errors"
local util = require "openai_admin.util"

local M = {}

local type, pairs, ipairs, find, mtype, tointeger = type, pairs, ipairs, string.find, math.type, math.tointeger
local concat = table.concat
local HUGE = math.huge

-- C's limits (src/client.c): MAX_RETRIES_LIMIT, the header token set, values without CR/LF/NUL.
M.MAX_RETRIES = 100
M.DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
M.LOG_LEVELS = { "debug", "info", "warn", "error", "off" }

local function show(v) return util.show(v) end

-- Each check returns nil when v is fine (normalized value as a second result), else the reason.
local function seconds(v)
  if type(v) ~= "number" or v ~= v or v == HUGE or v <= 0 then
    return "expected a positive number of seconds, got " .. show(v)
  end
  return nil, v
end

local function retries(v)
  local i = type(v) == "number" and tointeger(v)
  if not i or i < 0 or i > M.MAX_RETRIES then
    return "expected an integer from 0 to " .. M.MAX_RETRIES .. ", got " .. show(v)
  end
  return nil, i
end

local function positive_integer(v)
  local i = type(v) == "number" and tointeger(v)
  if not i or i < 1 then return "expected a positive integer, got " .. show(v) end
  return nil, i
end

-- A value that the core may put in a header line or hand to libcurl as a C string.
local function clean_string(v)
  return type(v) == "string" and not find(v, "[\r\n%z]")
end

local function string_opt(v)
  if not clean_string(v) or v == "" then
    return "expected a non-empty string without line breaks, got " .. show(v)
  end
  return nil, v
end

local function string_or_false(v)
  if v == false then return nil, false end
  if not clean_string(v) or v == "" then
    return "expected a non-empty string (or false), got " .. show(v)
  end
  return nil, v
end

local function boolean(v)
  if type(v) ~= "boolean" then return "expected a boolean, got " .. show(v) end
  return nil, v
end

-- the engine's limit for connections per host (src/client.c)
local function host_connections(v)
  local i = type(v) == "number" and tointeger(v)
  if not i or i < 1 or i > 1024 then return "expected an integer from 1 to 1024, got " .. show(v) end
  return nil, i
end

local function func(v)
  if type(v) ~= "function" then return "expected a function, got " .. show(v) end
  return nil, v
end

local LEVEL_SET = {}
for _, l in ipairs(M.LOG_LEVELS) do LEVEL_SET[l] = true end
local function log_level(v)
  if not LEVEL_SET[v] then
    return "expected one of " .. concat(M.LOG_LEVELS, ", ") .. ", got " .. show(v)
      .. util.did_you_mean(v, M.LOG_LEVELS)
  end
  return nil, v
end

-- HTTP token characters (RFC 9110), as the core's valid_header_name.
local function header_name_ok(k)
  return type(k) == "string" and k ~= "" and not find(k, "[^%w!#%$%%&'%*%+%-%.%^_`|~]")
end
M.header_name_ok = header_name_ok

local function headers(h)
  if type(h) ~= "table" then return "expected a table of header name -> value, got " .. show(h) end
  local out = {}
  for k, v in pairs(h) do
    if not header_name_ok(k) then
      return "bad header name " .. show(k) .. " (letters, digits and !#$%&'*+-.^_`|~ only)"
    end
    if v ~= false and not clean_string(v) then
      return "expected a string without line breaks (or false to remove the header), got " .. show(v),
        "['" .. k .. "']"
    end
    out[k] = v
  end
  return nil, out
end

local function base_url(v)
  if type(v) ~= "string" or not find(v, "^https?://[^/%s]") or find(v, "[%s%c]") then
    return "expected an http(s) URL, got " .. show(v)
  end
  return nil, (v:gsub("/+$", ""))
end

local function admin_key(v)
  -- never quotes the value: it is a secret
  if type(v) ~= "string" or v == "" then return "expected a non-empty string, got " .. type(v) end
  if find(v, "[%s%c]") then return "must not contain spaces or control characters (value not shown)" end
  return nil, v
end

local RL_KEYS = { "requests", "window", "burst", "per_endpoint", "max_wait" }
local RL_SET = {}
for _, k in ipairs(RL_KEYS) do RL_SET[k] = true end
local function rate_limit(v)
  if type(v) == "boolean" then return nil, v end
  if type(v) ~= "table" then
    return "expected a boolean or a table { " .. concat(RL_KEYS, ", ") .. " }, got " .. show(v)
  end
  local out = {}
  for k, x in pairs(v) do
    if not RL_SET[k] then
      return "unknown key '" .. tostring(k) .. "'" .. util.did_you_mean(k, RL_KEYS)
        .. " (keys are " .. concat(RL_KEYS, ", ") .. ")", "." .. tostring(k)
    end
    local msg
    if k == "per_endpoint" then
      msg = boolean(x)
    elseif k == "burst" then
      if type(x) ~= "number" or x ~= x or x == HUGE or x < 1 then msg = "expected a number >= 1, got " .. show(x) end
    elseif k == "requests" then
      if type(x) ~= "number" or x ~= x or x == HUGE or x <= 0 then
        msg = "expected a positive number, got " .. show(x)
      end
    else
      msg = seconds(x)
    end
    if msg then return msg, "." .. k end
    out[k] = x
  end
  return nil, out
end

-- A table of named fields sent unchecked (extra_query, extra_body): the values themselves are
-- copied and bounded by the request stage (request/validate.lua).
local function named_table(v)
  if type(v) ~= "table" then return "expected a table of field name -> value, got " .. show(v) end
  for k in pairs(v) do
    if type(k) ~= "string" or k == "" then return "expected non-empty string keys, got key " .. show(k) end
  end
  return nil, v
end

local CHECKS = {
  timeout = seconds, connect_timeout = seconds, max_retries = retries, headers = headers,
  organization = string_or_false, project = string_or_false,
  admin_key = admin_key, base_url = base_url, rate_limit = rate_limit,
  ca_file = string_opt, ca_path = string_opt, proxy = string_opt, no_proxy = string_opt,
  insecure = boolean, max_response_bytes = positive_integer, max_request_bytes = positive_integer,
  max_host_connections = host_connections, logger = func, log_level = log_level,
  extra_query = named_table, extra_body = named_table,
}

M.NEW = {
  "admin_key", "base_url", "organization", "project", "timeout", "connect_timeout", "max_retries",
  "headers", "rate_limit", "ca_file", "ca_path", "insecure", "proxy", "no_proxy", "max_response_bytes",
  "max_request_bytes", "max_host_connections", "logger", "log_level",
}
M.DERIVE = { "timeout", "connect_timeout", "max_retries", "headers", "organization", "project" }
-- Per-request: `headers` is what the official SDKs call extra_headers.
M.REQUEST = { "timeout", "connect_timeout", "max_retries", "headers", "extra_query", "extra_body" }

local function set_of(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end
local NEW_SET, DERIVE_SET, REQUEST_SET = set_of(M.NEW), set_of(M.DERIVE), set_of(M.REQUEST)
M.REQUEST_SET = REQUEST_SET

local function invalid(what, message, param, sdk_path)
  error(errors.invalid_argument(what .. message, sdk_path, param), 0)
end

-- Checks opts against the allowed names; returns a new table of normalized values.
local function check(opts, allowed_set, allowed_list, what, sdk_path)
  if type(opts) ~= "table" then
    invalid(what, "expected a table of options, got " .. show(opts), nil, sdk_path)
  end
  local out = {}
  for k, v in pairs(opts) do
    if not allowed_set[k] then
      invalid(what, "unknown option '" .. tostring(k) .. "'" .. util.did_you_mean(k, allowed_list)
        .. " (options are " .. concat(allowed_list, ", ") .. ")", tostring(k), sdk_path)
    end
    local msg, value = CHECKS[k](v)
    if msg then
      -- rate_limit and headers return (msg, subpath) for their keys
      local sub = type(value) == "string" and value or ""
      invalid(what, "option " .. k .. sub .. ": " .. msg, k .. sub, sdk_path)
    end
    out[k] = value
  end
  return out
end

function M.check_new(opts)
  return check(opts, NEW_SET, M.NEW, "new: ")
end

function M.check_derive(opts)
  return check(opts, DERIVE_SET, M.DERIVE, "with_options: ")
end

function M.check_request(opts, sdk_path)
  return check(opts, REQUEST_SET, M.REQUEST, sdk_path .. ": ", sdk_path)
end

-- Which kind of key a string is, by prefix (the key itself is never kept by the Lua layer).
function M.key_kind(key)
  if type(key) ~= "string" then return nil end
  if find(key, "^sk%-admin%-") then return "admin" end
  if find(key, "^sk%-proj%-") then return "project" end
  if find(key, "^sk%-svcacct%-") then return "service_account" end
  if find(key, "^sk%-") then return "other" end
  return "unknown"
end

-- Exposed for tests and the CLI.
M.checks = CHECKS
M.is_integer = function(v) return mtype(v) == "integer" end
return M
