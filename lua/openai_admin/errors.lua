-- Structured errors of the openai_admin client.
--
-- CONVENTION: every failure is RAISED, never returned: the client calls `error(err, 0)` with an
-- error object built by the one constructor `errors.new`. That holds for endpoint calls, for
-- iteration over pages (the loop raises the same objects), for bad arguments (kind
-- "invalid_argument", raised before any request is made) and for openai_admin.new{}.
-- Catch with pcall and test the kind:
--
--   local ok, err = pcall(client.admin.organization.projects.retrieve, projects, "proj_x")
--   if not ok and openai_admin.errors.is(err, "not_found") then ... end
--
-- Fields (any may be nil when it does not apply):
--   kind        bad_request 400, authentication 401, permission_denied 403, not_found 404,
--               conflict 409, unprocessable 422, rate_limit 429, internal_server >= 500,
--               api_error (other non-2xx), connection, timeout (transport), decode (2xx reply
--               that is not valid JSON), invalid_argument (bad input, nothing was sent),
--               pagination (a list whose cursor does not move or that gives none while
--               has_more is true: raised instead of looping or ending silently)
--   status      HTTP status
--   type, code, param, message   from the body's {"error": {...}} (message always set)
--   request_id  x-request-id of the failed reply
--   method, path                 the HTTP request ("GET", "/organization/projects/proj_x")
--   attempts, waited             tries made and seconds slept in backoff (from the C core)
--   sdk_path    the endpoint ("admin.organization.projects.retrieve")
-- tostring(err) gives one line without secrets:
--   openai_admin: not_found (404) GET /organization/projects/proj_x: No such project (request req_123, 1 attempt)
local M = {}

local Error = { __name = "openai_admin.error" }
Error.__index = Error

local STATUS_KINDS = {
  [400] = "bad_request", [401] = "authentication", [403] = "permission_denied", [404] = "not_found",
  [409] = "conflict", [422] = "unprocessable", [429] = "rate_limit",
}
M.STATUS_KINDS = STATUS_KINDS

-- All kinds an error can have.
M.KINDS = {
  bad_request = true, authentication = true, permission_denied = true, not_found = true,
  conflict = true, unprocessable = true, rate_limit = true, internal_server = true, api_error = true,
  connection = true, timeout = true, decode = true, invalid_argument = true, pagination = true,
}

function M.kind_for_status(status)
  local k = STATUS_KINDS[status]
  if k then return k end
  if type(status) == "number" and status >= 500 then return "internal_server" end
  return "api_error"
end

-- Anything that looks like a secret key (sk-..., Bearer tokens) is cut before it is shown.
local function scrub(s)
  s = s:gsub("%f[%w]sk%-[%w%-_]+", function(tok)
    if #tok >= 16 then return tok:sub(1, 6) .. "...[redacted]" end
  end)
  s = s:gsub("([Bb]earer%s+)%S+", "%1[redacted]")
  return s
end
M.scrub = scrub

-- Cuts a string to at most max bytes (default 300) for quoting in a message or a log line,
-- saying how long it was: a 1 MB path never becomes a 1 MB error.
local function clip(s, max)
  s = tostring(s)
  max = max or 300
  if #s <= max then return s end
  return s:sub(1, max) .. "...(" .. #s .. " bytes)"
end
M.clip = clip

-- A value for a message: strings quoted and clipped, others by type.
function M.quote(v, max)
  if type(v) == "string" then return (string.format("%q", clip(v, max or 60)):gsub("\\\n", "\\n")) end
  if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  return type(v)
end

local function one_line(s)
  return (clip(s, 1000):gsub("[\r\n]+", " "))
end

function Error.__tostring(e)
  local parts = { "openai_admin: " }
  if e.kind == "invalid_argument" then
    parts[#parts + 1] = one_line(e.message or "invalid argument")
    return scrub(table.concat(parts))
  end
  parts[#parts + 1] = tostring(e.kind or "error")
  if e.status then parts[#parts + 1] = " (" .. tostring(e.status) .. ")" end
  if e.method and e.path then
    parts[#parts + 1] = " " .. e.method .. " " .. clip(e.path)
  elseif e.sdk_path then
    parts[#parts + 1] = " " .. e.sdk_path
  end
  if e.message and e.message ~= "" then parts[#parts + 1] = ": " .. one_line(e.message) end
  local extra = {}
  if e.request_id then extra[#extra + 1] = "request " .. tostring(e.request_id) end
  if e.attempts then
    extra[#extra + 1] = tostring(e.attempts) .. (e.attempts == 1 and " attempt" or " attempts")
  end
  if type(e.waited) == "number" and e.waited > 0 then
    extra[#extra + 1] = string.format("waited %.1fs", e.waited)
  end
  if #extra > 0 then parts[#parts + 1] = " (" .. table.concat(extra, ", ") .. ")" end
  return scrub(table.concat(parts))
end

-- THE constructor. `fields` becomes the error object (kind and message are required).
-- Redaction is always on (log.lua): no field of an error holds a key-shaped string, a Bearer
-- token or a secret value, whatever the server echoed or the caller passed.
local redact = require("openai_admin.log").redact

function M.new(fields)
  if type(fields) ~= "table" or type(fields.kind) ~= "string" then
    error(setmetatable({ kind = "invalid_argument", message = "errors.new: expected a table with a string kind" },
      Error), 0)
  end
  if fields.message == nil then fields.message = fields.kind end
  for k, v in pairs(fields) do
    if type(v) == "string" then fields[k] = redact(v) end
  end
  return setmetatable(fields, Error)
end

-- Builds and raises (level 0: the object carries no position).
function M.raise(fields)
  error(M.new(fields), 0)
end

function M.is_error(v)
  return getmetatable(v) == Error
end

-- errors.is(err, kind): err is an openai_admin error (of that kind, when kind is given).
function M.is(err, kind)
  if getmetatable(err) ~= Error then return false end
  return kind == nil or err.kind == kind
end

M.ADMIN_KEY_URL = "https://platform.openai.com/settings/organization/admin-keys"
local KEY_KINDS = { project = "a project key (sk-proj-...)", service_account = "a service account key (sk-svcacct-...)",
  other = "not an admin key" }

-- Hints for the usual mistakes, appended to the message of a reply's error.
-- ctx: { key_kind = "admin"|"project"|"service_account"|"other"|"unknown", cursor = "after=obj_1" }
local function add_hints(f, ctx)
  local status = f.status
  if status == 401 or status == 403 then
    local what = ctx and KEY_KINDS[ctx.key_kind]
    local scopes = f.message:find("[Mm]issing scopes") or f.message:find("[Ii]nsufficient permissions")
    if what or scopes then
      f.hint = "the Admin API needs an organization admin key; create one at " .. M.ADMIN_KEY_URL
      f.message = f.message .. " (" .. (what and ("the client's key is " .. what .. "; ") or "") .. f.hint .. ")"
    end
  elseif status == 404 and ctx and ctx.cursor then
    f.hint = "the item named by the cursor " .. clip(ctx.cursor, 120) .. " is gone (deleted or expired since the"
      .. " previous page); start the walk again"
    f.message = f.message .. " (" .. f.hint .. ")"
  end
end

-- Error for a non-2xx reply. res: the core's response; decode: json decode function; ctx: see
-- add_hints (optional).
function M.from_response(res, decode, method, path, sdk_path, ctx)
  local status = res.status
  local f = {
    kind = M.kind_for_status(status), status = status, request_id = res.request_id,
    method = method, path = path, attempts = res.attempts, waited = res.waited, sdk_path = sdk_path,
  }
  local body = res.body
  local ok, decoded = false, nil
  if type(body) == "string" and body ~= "" then ok, decoded = pcall(decode, body) end
  local e = ok and type(decoded) == "table" and decoded.error
  if type(e) == "table" then
    if type(e.message) == "string" then f.message = e.message end
    if type(e.type) == "string" then f.type = e.type end
    if type(e.code) == "string" or math.type(e.code) == "integer" then f.code = e.code end
    if type(e.param) == "string" then f.param = e.param end
  elseif type(e) == "string" then
    f.message = e
  end
  if res.retry_after then -- the core ended the call: the wait asked for is past max_wait
    f.retry_after = res.retry_after
    f.message = (f.message or ("HTTP " .. tostring(status)))
      .. string.format(" (retry after %.0f s: longer than max_wait)", res.retry_after)
  end
  if not f.message then
    if type(body) == "string" and body ~= "" and not (ok and type(decoded) == "table") then
      local snippet = body:sub(1, 200):gsub("%s+", " ")
      f.message = "HTTP " .. tostring(status) .. ": " .. snippet
    else
      f.message = "HTTP " .. tostring(status)
    end
  end
  add_hints(f, ctx)
  return M.new(f)
end

-- Error for a transport failure reported by the core (err.kind "connection" or "timeout"; code
-- "tls", "response_too_large"), or a refusal of the rate budget (kind "rate_limit", code "budget",
-- nothing sent, retry_after seconds).
function M.from_transport(err, method, path, sdk_path)
  local kind = err.kind
  if kind ~= "timeout" and kind ~= "rate_limit" then kind = "connection" end
  return M.new {
    kind = kind, message = err.message or kind, attempts = err.attempts, waited = err.waited,
    method = err.method or method, path = err.path or path, sdk_path = sdk_path, curl_code = err.curl_code,
    code = err.code, retry_after = err.retry_after,
  }
end

-- Error for a 2xx reply whose body is not valid JSON (or not the shape a call returns).
-- detail: "invalid JSON: <parser message>", "expected a JSON object, got string", ...
function M.decode(res, method, path, sdk_path, detail)
  return M.new {
    kind = "decode", status = res.status, request_id = res.request_id, method = method, path = path,
    attempts = res.attempts, waited = res.waited, sdk_path = sdk_path,
    message = "bad response body: " .. tostring(detail),
  }
end

-- Bad input, raised before any request. param: the parameter path ("effective_at.gte").
function M.invalid_argument(message, sdk_path, param)
  return M.new { kind = "invalid_argument", message = message, sdk_path = sdk_path, param = param }
end

-- What the C core raised as a string (a broken contract: a bug, or memory exhausted), as an
-- error object, so nothing the module raises is a bare string.
function M.from_core(e, sdk_path)
  if getmetatable(e) == Error then return e end
  local msg = tostring(e):gsub("^[^:]*%.lua:%d+: ", ""):gsub("^openai_admin: ", "")
  return M.new { kind = "invalid_argument", message = msg, sdk_path = sdk_path }
end

-- A list that cannot go on without looping or silently ending (see pages.lua).
function M.pagination(message, sdk_path, fields)
  local f = fields or {}
  f.kind, f.message, f.sdk_path = "pagination", message, sdk_path
  return M.new(f)
end

M.Error = Error
return M
