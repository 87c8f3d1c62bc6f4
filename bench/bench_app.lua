-- bench/bench_app.lua: the fake's state logic for `make bench`, loaded with
--   bin/openai-admin-fake --app bench_app --audit-events N   (LUA_PATH must include bench/?.lua)
--
-- Everything is the real fake (lua/openai_admin/fake/app.lua: retrieves, latency, rate limits,
-- faults, the request log) except GET /v1/organization/audit_logs, which serves N synthetic
-- events of about 700 bytes of JSON each, the size of real Admin API audit-log events (session
-- actors with ip_address_details, user agents, JA4 fingerprints), newest first, paged with
-- `limit` and `after` like the API. The fake's own seeded events are about 340 bytes; and
-- building pages from a template keeps the server from being the bottleneck of the paging
-- benchmarks.
--
-- POST /_bench/rate_limit_headers with the body `false` (`true`) drops (keeps) the
-- x-ratelimit-* headers of the fake's rate-limit 429s, so a 429 carries no hint at all, as the
-- issue describes the real Admin API's.
local real = require "openai_admin.fake.app"

local M = {}

local TYPES = { "api_key.created", "project.updated", "user.updated", "login.succeeded", "service_account.created" }

-- One event; seq is its position (1 = oldest). About 700 bytes.
local EVENT = '{"id":"audit_log-%08x%06d","type":"%s","effective_at":%d,'
  .. '"project":{"id":"proj_Bench%016x","name":"Bench project %d"},'
  .. '"actor":{"type":"session","session":{"user":{"id":"user-Bench%014x","email":"user%d@bench.example.com"},'
  .. '"ip_address":"203.0.113.%d","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '
  .. '(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36","ja4":"t13d1516h2_8daaf6152771_02713d6af862",'
  .. '"ip_address_details":{"country":"US",'
  .. '"city":"San Francisco","region":"California","region_code":"CA","asn":"1234","latitude":"37.77490",'
  .. '"longitude":"-122.41940"}}},"%s":{"id":"key_Bench%012x","data":{"scopes":["/v1/*"]}}}'

local fmt, concat = string.format, table.concat
local END_TIME = 1735689600

local function event(seq)
  local typ = TYPES[seq % #TYPES + 1]
  local k = seq % 97
  return fmt(EVENT, seq * 2654435761 % 0xffffffff, seq, typ, END_TIME - seq * 30, k, k, seq % 50, seq % 50,
    seq % 250 + 1, typ, seq)
end

local function query_param(query, name)
  for k, v in query:gmatch("([^&=]+)=([^&]*)") do
    if k == name then return v end
  end
  return nil
end

function M.new(opts)
  local app = real.new(opts)
  local n = opts and opts.seed_data and opts.seed_data.audit_events or 0
  local self = {}
  local key = "Bearer " .. (opts and opts.admin_key or "sk-admin-fake-key")
  local ids = 0

  local function audit_page(req)
    local h = req.headers or {}
    if h.authorization ~= key then return app:handle(req) end -- the real 401
    local query = req.query or ""
    local limit = math.tointeger(tonumber(query_param(query, "limit") or "20")) or 20
    if limit < 1 or limit > 100 then return app:handle(req) end -- the real 400
    local top = n
    local after = query_param(query, "after")
    if after then
      local hi = after:match("^audit_log%-%x%x%x%x%x%x%x%x(%d+)$")
      top = (hi and math.tointeger(tonumber(hi)) or 0) - 1
    end
    local parts, k = {}, 0
    local seq = top
    while seq >= 1 and k < limit do
      k = k + 1
      parts[k] = event(seq)
      seq = seq - 1
    end
    local first = k > 0 and parts[1]:match('^{"id":"([^"]+)"') or nil
    local last = k > 0 and parts[k]:match('^{"id":"([^"]+)"') or nil
    local body = '{"object":"list","data":[' .. concat(parts, ",") .. '],"first_id":'
      .. (first and ('"' .. first .. '"') or "null") .. ',"last_id":' .. (last and ('"' .. last .. '"') or "null")
      .. ',"has_more":' .. (seq >= 1 and "true" or "false") .. "}"
    ids = ids + 1
    return { status = 200, body = body, delay = app.latency,
      headers = { ["content-type"] = "application/json", ["x-request-id"] = "req_bench" .. ids } }
  end

  local strip_rl_headers = false

  function self.handle(_, req)
    if req.path == "/_bench/rate_limit_headers" and req.method == "POST" then
      strip_rl_headers = (req.body or ""):find("false", 1, true) ~= nil
      return { status = 200, body = '{"object":"bench.rate_limit_headers","enabled":'
        .. tostring(not strip_rl_headers) .. "}", headers = { ["content-type"] = "application/json" } }
    end
    if strip_rl_headers then
      local resp = app:handle(req)
      if resp.status == 429 and resp.headers then
        for k in pairs(resp.headers) do
          if k:sub(1, 12) == "x-ratelimit-" then resp.headers[k] = nil end
        end
      end
      return resp
    end
    if req.method == "GET" and req.path == "/v1/organization/audit_logs" and n > 0 then
      local ok, resp = pcall(audit_page, req)
      if ok then return resp end
      return { status = 500, body = '{"error":{"message":"bench app: ' .. tostring(resp):gsub('"', "'")
        .. '","type":"server_error","param":null,"code":null}}', headers = { ["content-type"] = "application/json" } }
    end
    return app:handle(req)
  end
  return self
end

return M
