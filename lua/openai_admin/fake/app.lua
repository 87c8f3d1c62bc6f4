--- The fake OpenAI Admin API: pure state logic, no sockets.
---
---   local app = require("openai_admin.fake.app").new{ admin_key = "sk-admin-...", seed = 1,
---     seed_data = { projects = N, users = N, audit_events = N, ... }, clock = function() return os.time() end }
---   local resp = app:handle{ method, path = "/v1/...", query = "raw", headers = { lower = v }, body, conn_id,
---                            body_too_large = true|nil }
---   -- resp = { status, headers, body, delay = s|nil, fault = nil|"drop"|"truncate" }
---
--- Routing, validation and pagination are driven by the endpoint table (openai_admin.api).
local json = require("openai_admin.json")
local api = require("openai_admin.api")
local util = require("openai_admin.fake.util")
local router = require("openai_admin.fake.router")
local validate = require("openai_admin.fake.validate")
local state = require("openai_admin.fake.state")
local handlers = require("openai_admin.fake.resources")
local control = require("openai_admin.fake.control")

local null = json.null

local M = {}
local App = {}
App.__index = App

local ROUTES = router.compile(api)
local LOG_BODY_MAX = 65536 -- request bodies kept in the request log are cut here
M.handlers = handlers
M.routes = ROUTES

local NO_KEY_MSG = "You didn't provide an API key. You need to provide your API key in an Authorization header "
  .. "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
  .. "you're accessing the API from your browser and are prompted for a username. You can obtain an API key from "
  .. "https://platform.openai.com/account/api-keys."
local BAD_JSON_MSG = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
  .. "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If "
  .. "you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, App)
  self.opts = {
    admin_key = opts.admin_key or "sk-admin-fake-key",
    seed = math.tointeger(opts.seed) or 1,
    seed_data = opts.seed_data,
    clock = opts.clock or os.time,
  }
  self.clock = self.opts.clock
  -- rate-limit windows run on a sub-second monotonic clock (the API's are not whole seconds)
  self.rate_clock = opts.rate_clock or require("openai_admin.core").monotonic
  self.log = control.new_log(opts.log_max)
  self:reset()
  return self
end

--- Back to the initial seeded state; clears faults, latency, rate limits and the request log.
function App:reset()
  self.state = state.new(self.opts)
  -- request ids differ across runs and resets (as the API's do), while the seeded ids stay fixed
  self.rid = util.rng(util.hash(self.opts.seed, "request-ids", os.time(), os.clock() * 1e6 // 1, tostring({})))
  self.faults = {}
  self.fault_seq = 0
  self.faults_injected = 0
  self.latency = nil
  self.rate_rules = {}
  self.log = control.new_log(self.log.max)
end

function App:now()
  local t = self.clock()
  return math.tointeger(t) or math.floor(t)
end

function App:request_id()
  return "req_" .. self.rid:hex(32)
end

function App:respond(status, obj, extra_headers)
  local body
  if type(obj) == "string" then
    body = obj
  else
    local err
    body, err = json.encode(obj)
    if not body then
      status = 500
      body = json.encode(util.error_body(util.api_error(500, "The fake server failed to encode its response: "
        .. tostring(err))))
    end
  end
  local headers = { ["content-type"] = "application/json", ["x-request-id"] = self:request_id() }
  if extra_headers then for k, v in pairs(extra_headers) do headers[k] = v end end
  return { status = status, headers = headers, body = body, delay = self.latency }
end

function App:error(status, message, param, code, etype, extra_headers)
  return self:respond(status, util.error_body(util.api_error(status, message, param, code, etype)), extra_headers)
end

local function mask_key(k)
  if #k <= 12 then return string.rep("*", #k) end
  return k:sub(1, 8) .. string.rep("*", math.min(#k - 12, 40)) .. k:sub(-4)
end

-- Returns nil when authorized, else the 401 response.
function App:auth(headers)
  local h = headers and (headers.authorization or headers.Authorization)
  if type(h) ~= "string" or h == "" then return self:error(401, NO_KEY_MSG) end
  local key = h:match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not key then return self:error(401, NO_KEY_MSG) end
  local st = self.state
  local id = st.key_by_value[key]
  local k = id and st.admin_keys:get(id)
  local now = self:now()
  if k and (k.expires_at == null or k.expires_at > now) then
    k.last_used_at = now
    return nil
  end
  return self:error(401, "Incorrect API key provided: " .. mask_key(key)
    .. ". You can find your API key at https://platform.openai.com/account/api-keys.", nil, "invalid_api_key")
end

local function add_delay(resp, d)
  if d and d > 0 then resp.delay = (resp.delay or 0) + d end
end

function App:guard(f, ...)
  local ok, resp = pcall(f, self, ...)
  if not ok then
    local e = resp
    if util.is_api_error(e) then
      resp = self:respond(e.status, util.error_body(e))
    else
      resp = self:error(500, "The fake server failed: " .. tostring(e), nil, nil, "server_error")
    end
  end
  return resp
end

--- Answers one request; never raises.
function App:handle(req)
  return self:guard(self.dispatch, req)
end

function App:dispatch(req)
  if type(req) ~= "table" then return self:error(400, "Bad request.") end
  local method = type(req.method) == "string" and req.method:upper() or "GET"
  local path = type(req.path) == "string" and req.path or "/"
  local query = req.query
  if query == nil then
    local p, q = path:match("^([^?]*)%?(.*)$")
    if p then path, query = p, q end
  end
  query = type(query) == "string" and query or ""
  local headers = type(req.headers) == "table" and req.headers or {}
  -- the path as sent (the host also gives it decoded): routed after one checked decoding
  local raw_path = type(req.raw_path) == "string" and req.raw_path or nil
  local bad = raw_path and router.check_path(raw_path)
  path = util.utf8_safe(path)

  if not bad and (path == "/_fake" or path:sub(1, 7) == "/_fake/") then
    return self:control(method, path, query, req.body)
  end

  local entry = {
    method = method, path = path, raw_path = raw_path or null, query = util.utf8_safe(query),
    conn_id = req.conn_id or null,
    body = type(req.body) == "string" and (#req.body > LOG_BODY_MAX and req.body:sub(1, LOG_BODY_MAX) or req.body)
      or null,
    status = null, headers = {},
  }
  for k, v in pairs(headers) do
    local lk = tostring(k):lower()
    entry.headers[lk] = lk == "authorization" and control.redact_auth(v) or util.utf8_safe(v)
  end
  entry.body = util.utf8_safe(entry.body)
  control.log_push(self.log, entry)
  local resp
  if bad then
    resp = self:error(400, string.format("Invalid URL (%s %s): the path contains %s.", method,
      util.utf8_safe(raw_path), bad), nil, "invalid_url")
  else
    resp = self:guard(self.process, method, raw_path or path, query, headers, req)
  end
  entry.status = resp.status
  return resp
end

function App:process(method, path, query, headers, req)
  -- an injected fault replaces the normal handling of the request
  local f = control.take_fault(self.faults, method, path)
  if not f then return self:normal(method, path, query, headers, req) end
  local resp
  if f.fault == "drop" then
    resp = self:respond(f.status or 500, f.body or control.status_error(f.status or 500))
    resp.fault = "drop"
  elseif f.fault == "invalid_json" then
    resp = self:respond(f.status or 200, f.body or '{"object": "list", "data": [{"id": "trunc')
  elseif f.status then
    resp = self:respond(f.status, f.body or control.status_error(f.status))
    if f.retry_after then resp.headers["retry-after"] = tostring(math.tointeger(f.retry_after) or f.retry_after) end
    if f.retry_after_ms then
      resp.headers["retry-after-ms"] = tostring(math.tointeger(f.retry_after_ms) or f.retry_after_ms)
    end
  else
    resp = self:normal(method, path, query, headers, req)
  end
  self.faults_injected = self.faults_injected + 1
  if f.fault == "truncate" then resp.fault = "truncate" end
  if f.fault == "drop_after" then resp.fault = "drop" end
  add_delay(resp, f.delay)
  if f.headers then for k, v in pairs(f.headers) do resp.headers[k] = v end end
  return resp
end

function App:normal(method, path, query, headers, req)
  if req.body_too_large then
    return self:error(413, "Request body too large.", nil, "request_too_large")
  end
  local api_path = path:match("^/v1(/.*)$")
  if not api_path then
    return self:error(404, string.format("Invalid URL (%s %s)", method, path), nil, "unknown_url")
  end
  if #api_path > 1 and api_path:sub(-1) == "/" then api_path = api_path:sub(1, -2) end
  local denied = self:auth(headers)
  if denied then return denied end
  local row, params, allowed = router.match(ROUTES, method, api_path)
  if not row then
    if params == "method" then
      return self:error(405, string.format("Invalid method for URL (%s %s). Supported methods: %s.", method, path,
        table.concat(allowed, ", ")), nil, "method_not_allowed", nil, { allow = table.concat(allowed, ", ") })
    end
    return self:error(404, string.format("Invalid URL (%s %s)", method, path), nil, "unknown_url")
  end
  local now = self:now()
  if #self.rate_rules > 0 then
    local r, reset = control.check_rate(self.rate_rules, method, path, row.method .. " " .. row.path,
      self.rate_clock())
    if r then
      -- as the real Admin API: no x-ratelimit-* headers and no Retry-After, unless the rule asks
      return self:error(429, string.format("Rate limit reached for requests on %s %s: Limit %d per %gs. "
        .. "Please try again later.", row.method, row.path, r.requests, r.window), nil, "rate_limit_exceeded",
        "requests", r.headers and {
          ["x-ratelimit-limit-requests"] = tostring(r.requests),
          ["x-ratelimit-remaining-requests"] = "0",
          ["x-ratelimit-reset-requests"] = string.format("%.3fs", reset),
        } or nil)
    end
  end
  local q = validate.query(row, (router.parse_query(query)))
  local b = {}
  if row.sends_body then
    local body = req.body
    if body == nil or body:match("^%s*$") then
      b = {}
    else
      local v, err = json.decode(body)
      if v == nil then
        local _ = err
        return self:error(400, BAD_JSON_MSG)
      end
      b = v
    end
    validate.body(row, b)
  end
  local h = handlers[row.sdk_path]
  if not h then
    return self:error(501, "Not implemented by the fake: " .. row.sdk_path, nil, "not_implemented")
  end
  local st = self.state
  local ctx = { st = st, p = params, q = q, b = b, row = row, now = now }
  ctx.audit = function(typ, payload, project)
    st.audit:record(typ, payload, project and { id = project.id, name = project.name } or nil, now)
  end
  local result = h(ctx)
  return self:respond(200, result)
end

-- control endpoints -------------------------------------------------------------------------

function App:control(method, path, query, body)
  local function decode()
    if body == nil or body:match("^%s*$") then return {} end
    local v = json.decode(body)
    if type(v) ~= "table" then return nil end
    return v
  end
  local route = method .. " " .. path:gsub("/$", "")
  local _ = query
  if route == "POST /_fake/reset" then
    self:reset()
    return self:respond(200, { object = "fake.reset", ok = true, state = self.state:summary() })
  elseif route == "GET /_fake/state" then
    local s = self.state:summary()
    return self:respond(200, {
      object = "fake.state", counts = s, faults = #self.faults, faults_injected = self.faults_injected,
      latency = self.latency or null,
      rate_limits = #self.rate_rules, requests_logged = self.log.last - self.log.first + 1,
      seed = self.opts.seed, organization_id = self.state.org_id,
    })
  elseif route == "POST /_fake/faults" then
    local b = decode()
    if not b then return self:error(400, BAD_JSON_MSG) end
    local list = (json.is_array(b) or b[1]) and b or { b }
    local added = {}
    for _, spec in ipairs(list) do
      self.fault_seq = self.fault_seq + 1
      local f, err = control.parse_fault(spec, "fault_" .. self.fault_seq)
      if not f then return self:error(400, "Invalid fault: " .. err, nil, "invalid_fault") end
      self.faults[#self.faults + 1] = f
      added[#added + 1] = control.fault_public(f)
    end
    return self:respond(200, #added == 1 and added[1] or { object = "list", data = json.array(added) })
  elseif route == "GET /_fake/faults" then
    local data = {}
    for i, f in ipairs(self.faults) do data[i] = control.fault_public(f) end
    return self:respond(200, { object = "list", data = json.array(data) })
  elseif route == "DELETE /_fake/faults" then
    self.faults = {}
    return self:respond(200, { object = "list", data = json.array({}) })
  elseif route == "POST /_fake/latency" then
    local b = decode()
    local s = b and (b.seconds or b.latency)
    if s ~= nil and (type(s) ~= "number" or s < 0) and s ~= null then
      return self:error(400, "Invalid latency: 'seconds' must be a non-negative number.", "seconds", "invalid_value")
    end
    if s == null or s == 0 then s = nil end
    self.latency = s
    return self:respond(200, { object = "fake.latency", seconds = s or 0 })
  elseif route == "GET /_fake/latency" then
    return self:respond(200, { object = "fake.latency", seconds = self.latency or 0 })
  elseif route == "POST /_fake/rate_limits" then
    local b = decode()
    local r, err = control.parse_rate_limit(b)
    if not r then return self:error(400, "Invalid rate limit: " .. tostring(err), nil, "invalid_rate_limit") end
    self.rate_rules[#self.rate_rules + 1] = r
    return self:respond(200, control.rate_public(r))
  elseif route == "GET /_fake/rate_limits" then
    local data = {}
    for i, r in ipairs(self.rate_rules) do data[i] = control.rate_public(r) end
    return self:respond(200, { object = "list", data = json.array(data) })
  elseif route == "DELETE /_fake/rate_limits" then
    self.rate_rules = {}
    return self:respond(200, { object = "list", data = json.array({}) })
  elseif route == "GET /_fake/requests" then
    return self:respond(200, { object = "list", data = json.array(control.log_list(self.log)) })
  elseif route == "DELETE /_fake/requests" then
    self.log = control.new_log(self.log.max)
    return self:respond(200, { object = "list", data = json.array({}) })
  end
  local st_status, st_obj = control.state_route(self.state, method, path:gsub("/$", ""), decode(), self:now())
  if st_status then
    if st_status ~= 200 then return self:error(st_status, "Invalid control request: " .. tostring(st_obj)) end
    return self:respond(200, st_obj)
  end
  local invite_id = method == "POST" and path:match("^/_fake/invites/([^/]+)/accept/?$")
  if invite_id then
    local user, err = self.state:accept_invite(router.unescape(invite_id), self:now())
    if not user then return self:error(err.status, err.message, "invite_id", err.code) end
    return self:respond(200, self.state:render_user(user))
  end
  return self:error(404, string.format("Invalid URL (%s %s)", method, path), nil, "unknown_url")
end

return M
