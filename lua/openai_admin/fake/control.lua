--- Control endpoints of the fake (not in the real API), under /_fake/: reset, faults, latency,
--- rate limits, request log, state summary. Also the fault and rate limit machinery itself.
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")

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

-- Whether a matching request gets fault f now: always for a counted fault; for a probabilistic
-- one, a draw from its own seeded generator (the same seed and request order give the same
-- faults), then the rest of its burst (a 429 storm) without drawing.
local function fires(f)
  if not f.probability then return true end
  if f.burst_left > 0 then
    f.burst_left = f.burst_left - 1
    return true
  end
  if f.rng:next() % 1000000 < f.probability * 1000000 then
    f.burst_left = f.burst - 1
    return true
  end
  return false
end

--- The first fault that matches and fires (its count is decremented; spent faults are dropped).
function M.take_fault(faults, method, path)
  for i, f in ipairs(faults) do
    if method_matches(f.method, method) and path_matches(f.path, path) and fires(f) then
      f.injected = f.injected + 1
      if f.remaining then
        f.remaining = f.remaining - 1
        if f.remaining <= 0 then table.remove(faults, i) end
      end
      return f
    end
  end
  return nil
end

-- drop_after: the request is handled (a create is applied), then the connection is closed
-- without the reply, as when a reply is lost on the way back
local FAULT_KINDS = { drop = true, drop_after = true, truncate = true, invalid_json = true, delay = true }

local function num(v) return type(v) == "number" and v or nil end

--- Validates a POST /_fake/faults body; returns the fault or nil, message.
function M.parse_fault(b, id)
  if type(b) ~= "table" then return nil, "body must be a JSON object" end
  local f = { id = id }
  f.method = b.method ~= null and b.method or "*"
  if type(f.method) ~= "string" then return nil, "method must be a string" end
  f.path = b.path ~= null and b.path or "*"
  if type(f.path) ~= "string" then return nil, "path must be a string" end
  if b.probability ~= nil and b.probability ~= null then
    local p = b.probability
    if type(p) ~= "number" or not (p > 0 and p <= 1) then return nil, "probability must be a number in (0, 1]" end
    f.probability = p
    local seed = b.seed == nil and util.hash(id) or math.tointeger(b.seed)
    if not seed then return nil, "seed must be an integer" end
    f.rng = util.rng(seed)
    f.burst = b.burst == nil and 1 or math.tointeger(b.burst)
    if not f.burst or f.burst < 1 then return nil, "burst must be a positive integer" end
    f.burst_left = 0
  end
  -- a probabilistic fault lasts until it is deleted, unless a count is given
  local count = b.count == nil and (not f.probability and 1 or nil) or math.tointeger(b.count)
  if b.count ~= nil and (not count or count < 1) then return nil, "count must be a positive integer" end
  f.count, f.remaining, f.injected = count, count, 0
  if b.fault ~= nil and b.fault ~= null then
    if not FAULT_KINDS[b.fault] then
      return nil, "fault must be one of drop, drop_after, truncate, invalid_json, delay"
    end
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
    object = "fake.fault", id = f.id, method = f.method, path = f.path, count = f.count or null,
    remaining = f.remaining or null, probability = f.probability or null, burst = f.burst or null,
    injected = f.injected,
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
  if b.headers ~= nil and b.headers ~= null and type(b.headers) ~= "boolean" then
    return nil, "headers must be a boolean"
  end
  r.headers = b.headers == true -- x-ratelimit-* on its 429s (the real Admin API sends none)
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
  return { object = "fake.rate_limit", path = r.path, method = r.method, requests = r.requests, window = r.window,
    headers = r.headers }
end

-- what users and time do outside the Admin API ---------------------------------------------------

-- Controls that act on the organization's state the way its users do outside the Admin API, so
-- jobs can be tested: the audit log growing while an export runs, a user creating a project API
-- key in the dashboard, an admin key created by another user. Each returns status, object.
local STATE_ROUTES = {}

-- POST /_fake/audit_events {count = N (default 1, at most 100000), type = "login.succeeded"}
STATE_ROUTES[#STATE_ROUTES + 1] = { "POST", "^/_fake/audit_events$", function(st, _, b, now)
  local count = b.count == nil and 1 or math.tointeger(b.count)
  if not count or count < 1 or count > 100000 then return 400, "count must be an integer from 1 to 100000" end
  local typ = b.type == nil and "login.succeeded" or b.type
  if type(typ) ~= "string" then return 400, "type must be a string" end
  local first, last
  for _ = 1, count do
    local ev = st.audit:record(typ, { id = st.owner.id }, nil, now)
    first = first or ev.id
    last = ev.id
  end
  return 200, { object = "fake.audit_events", count = count, first_id = first, last_id = last,
    total = st.audit:count() }
end }

local function opt_int(v) return v ~= nil and v ~= null and math.tointeger(v) or nil end

-- POST /_fake/projects/{project_id}/api_keys {user_id, name, created_at, last_used_at}: the user
-- creates a project API key (the Admin API cannot); returns the key as the API lists it
STATE_ROUTES[#STATE_ROUTES + 1] = { "POST", "^/_fake/projects/([^/]+)/api_keys$", function(st, pid, b, now)
  if not st.projects:get(pid) then return 404, "no project '" .. pid .. "'" end
  local uid = b.user_id
  if type(uid) ~= "string" or not st.users:get(uid) then return 400, "user_id must name a user" end
  if not st:pdata(pid).users:get(uid) then return 400, "the user is not a member of project '" .. pid .. "'" end
  local k = st:new_project_key(pid, { name = type(b.name) == "string" and b.name or "Secret Key", owner_id = uid,
    created_at = opt_int(b.created_at) or now })
  local used = opt_int(b.last_used_at)
  if used then k.last_used_at = used end
  st.audit:record("api_key.created", { id = k.id, data = { scopes = json.array({ "/v1/*" }) } },
    { id = pid, name = st.projects:get(pid).name }, now)
  return 200, st:render_project_key(pid, k)
end }

-- POST /_fake/admin_api_keys {user_id, name}: an admin key owned by that user; returns it with
-- its value (shown once, as the API does)
STATE_ROUTES[#STATE_ROUTES + 1] = { "POST", "^/_fake/admin_api_keys$", function(st, _, b, now)
  local u = type(b.user_id) == "string" and st.users:get(b.user_id)
  if not u then return 400, "user_id must name a user" end
  local value = "sk-admin-" .. st.rng:alnum(48)
  local k = st:new_admin_key(type(b.name) == "string" and b.name or "Admin key", value, now, nil)
  k.owner = { type = "user", object = "organization.user", id = u.id, name = u.name, created_at = u.created,
    role = u.role }
  local out = {}
  for f, v in pairs(k) do if f:sub(1, 1) ~= "_" then out[f] = v end end
  out.value = value
  return 200, out
end }

--- Routes a state control; returns nil when no route matches, else status, object (or message).
function M.state_route(st, method, path, body, now)
  for _, r in ipairs(STATE_ROUTES) do
    local cap = method == r[1] and path:match(r[2])
    if cap then
      if type(body) ~= "table" then return 400, "body must be a JSON object" end
      return r[3](st, cap, body, now)
    end
  end
  return nil
end

return M
