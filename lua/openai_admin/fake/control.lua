--- Control endpoints of the fake (not in the real API), under /_fake/: reset, faults, latency,
--- rate limits, request log, state summary. Also the fault and rate limit machinery itself.
local json = require("openai_admin.json")

local null = json.null

local M = {}

local LOG_MAX = 10000

-- request log (ring buffer) ---------------------------------------------------------------------

function M.new_log(max)
  return { max = max or LOG_MAX, first = 1, last = 0, items = {} }
end

function M.log_push(log, entry)
  log.last = log.last + 1
  log.items[log.last] = entry
  if log.last - log.first + 1 > log.max then
    log.items[log.first] = nil
    log.first = log.first + 1
  end
end

function M.log_list(log)
  local out = {}
  for i = log.first, log.last do out[#out + 1] = log.items[i] end
  return out
end

function M.redact_auth(v)
  if type(v) ~= "string" then return v end
  local scheme, key = v:match("^(%S+)%s+(%S+)")
  if not scheme then return "...redacted" end
  if key:sub(1, 3) == "sk-" then return scheme .. " sk-...redacted" end
  return scheme .. " ...redacted"
end

-- faults -------------------------------------------------------------------------------------

local function path_matches(pat, path)
  if pat == nil or pat == "" or pat == "*" then return true end
  local api_path = path:sub(1, 4) == "/v1/" and path:sub(4) or path
  if path:sub(1, #pat) == pat or api_path:sub(1, #pat) == pat then return true end
  local ok, r = pcall(string.find, path, pat)
  if ok and r then return true end
  ok, r = pcall(string.find, api_path, pat)
  return ok and r ~= nil
end
M.path_matches = path_matches

local function method_matches(m, method)
  return m == nil or m == "*" or m:upper() == method
end

--- The first fault that matches (its count is decremented; spent faults are dropped).
function M.take_fault(faults, method, path)
  for i, f in ipairs(faults) do
    if method_matches(f.method, method) and path_matches(f.path, path) then
      f.remaining = f.remaining - 1
      if f.remaining <= 0 then table.remove(faults, i) end
      return f
    end
  end
  return nil
end

local FAULT_KINDS = { drop = true, truncate = true, invalid_json = true, delay = true }

local function num(v) return type(v) == "number" and v or nil end

--- Validates a POST /_fake/faults body; returns the fault or nil, message.
function M.parse_fault(b, id)
  if type(b) ~= "table" then return nil, "body must be a JSON object" end
  local f = { id = id }
  f.method = b.method ~= null and b.method or "*"
  if type(f.method) ~= "string" then return nil, "method must be a string" end
  f.path = b.path ~= null and b.path or "*"
  if type(f.path) ~= "string" then return nil, "path must be a string" end
  local count = b.count == nil and 1 or math.tointeger(b.count)
  if not count or count < 1 then return nil, "count must be a positive integer" end
  f.count, f.remaining = count, count
  if b.fault ~= nil and b.fault ~= null then
    if not FAULT_KINDS[b.fault] then return nil, "fault must be one of drop, truncate, invalid_json, delay" end
    f.fault = b.fault
  end
  if b.status ~= nil and b.status ~= null then
    local s = math.tointeger(b.status)
    if not s or s < 100 or s > 599 then return nil, "status must be an HTTP status code" end
    f.status = s
  elseif not f.fault then
    f.status = 500
  end
  f.retry_after = num(b.retry_after)
  f.retry_after_ms = num(b.retry_after_ms)
  f.delay = num(b.delay)
  if b.body ~= nil and b.body ~= null then
    if type(b.body) == "string" then f.body = b.body else f.body = json.encode(b.body) end
  end
  if type(b.headers) == "table" then
    f.headers = {}
    for k, v in pairs(b.headers) do f.headers[tostring(k):lower()] = tostring(v) end
  end
  return f
end

function M.fault_public(f)
  return {
    object = "fake.fault", id = f.id, method = f.method, path = f.path, count = f.count, remaining = f.remaining,
    status = f.status or null, fault = f.fault or null, retry_after = f.retry_after or null,
    retry_after_ms = f.retry_after_ms or null, delay = f.delay or null,
  }
end

local STATUS_ERRORS = {
  [400] = { "Injected fault: bad request.", "invalid_request_error", nil },
  [401] = { "Injected fault: unauthorized.", "invalid_request_error", "invalid_api_key" },
  [403] = { "Injected fault: forbidden.", "invalid_request_error", nil },
  [404] = { "Injected fault: not found.", "invalid_request_error", nil },
  [408] = { "Request timed out.", "invalid_request_error", nil },
  [409] = { "Injected fault: conflict.", "invalid_request_error", nil },
  [429] = { "Rate limit reached for requests.", "requests", "rate_limit_exceeded" },
  [500] = { "The server had an error while processing your request. Sorry about that!", "server_error", nil },
  [502] = { "Bad gateway.", "server_error", nil },
  [503] = { "The engine is currently overloaded, please try again later.", "server_error", nil },
  [504] = { "Gateway timeout.", "server_error", nil },
}

function M.status_error(status)
  local e = STATUS_ERRORS[status]
  if not e then
    e = { "Injected fault (HTTP " .. status .. ").", status >= 500 and "server_error" or "invalid_request_error", nil }
  end
  return { error = { message = e[1], type = e[2], param = null, code = e[3] or null } }
end

-- rate limits -------------------------------------------------------------------------------

--- Parses POST /_fake/rate_limits; returns rule or nil, message.
function M.parse_rate_limit(b)
  if type(b) ~= "table" then return nil, "body must be a JSON object" end
  local r = {
    path = (b.path ~= nil and b.path ~= null) and b.path or "*",
    method = (b.method ~= nil and b.method ~= null) and b.method or "*",
  }
  if type(r.path) ~= "string" or type(r.method) ~= "string" then return nil, "path and method must be strings" end
  r.requests = math.tointeger(b.requests)
  if not r.requests or r.requests < 0 then return nil, "requests must be a non-negative integer" end
  r.window = num(b.window) or 60
  if r.window <= 0 then return nil, "window must be positive seconds" end
  r.windows = {}
  return r
end

--- Checks the rules for one request; returns nil or the rule + seconds until its window resets.
function M.check_rate(rules, method, path, endpoint_key, now)
  for _, r in ipairs(rules) do
    if method_matches(r.method, method) and path_matches(r.path, path) then
      local w = r.windows[endpoint_key]
      if not w or now - w.start >= r.window then
        w = { start = now, count = 0 }
        r.windows[endpoint_key] = w
      end
      w.count = w.count + 1
      if w.count > r.requests then
        return r, math.max(0, r.window - (now - w.start))
      end
    end
  end
  return nil
end

function M.rate_public(r)
  return { object = "fake.rate_limit", path = r.path, method = r.method, requests = r.requests, window = r.window }
end

return M
