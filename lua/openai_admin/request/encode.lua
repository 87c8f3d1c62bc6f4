-- Stage 2 of a request (validate -> encode -> send -> decode): the checked plan
-- (request/validate.lua, params.lua) as the core's request table.
--
--   encode.query(c, plan) -> query, after, before   the query string without the cursor (the
--       endpoint's fields in api.lua order, then extra_query's in name order; an extra_query name
--       replaces a field of the same name), and the cursor values the caller gave (pages.lua)
--   encode.url(path, query, cursor_name, cursor) -> "/path?query&after=cursor"
--   encode.body(c, plan) -> the JSON body (extra_body merged over the fields), or nil
--   encode.request(c, plan, url, body) -> { method, path, body, endpoint, timeout, ... } for send
-- Sizes are charged to the plan (its budget: max_request_bytes): the query and the body too.
local errors = require "openai_admin.errors"
local json = require "openai_admin.json"
local params = require "openai_admin.params"
local validate = require "openai_admin.request.validate"

local M = {}

local concat, sort, pairs, ipairs = table.concat, table.sort, pairs, ipairs
local enc, qs_append = params.encode_value, params.qs_append
local json_encode = json.encode

local function extra_query_string(extra)
  local keys = {}
  for k in pairs(extra) do keys[#keys + 1] = k end
  sort(keys)
  local out, n = {}, 0
  for _, k in ipairs(keys) do n = qs_append(out, n, enc(k), extra[k], nil, false) end
  return concat(out, "&", 1, n)
end

function M.query(c, plan)
  local extra = plan.extra_query
  local query, after, before = c.encode_query(plan.params, extra)
  if extra then
    local q2 = extra_query_string(extra)
    if q2 ~= "" then query = query == "" and q2 or (query .. "&" .. q2) end
  end
  if query ~= "" then validate.charge(plan, #query, "query") end
  return query, after, before
end

function M.url(path, query, cursor_name, cursor)
  if cursor then
    local cq = cursor_name .. "=" .. enc(cursor)
    if query == "" then return path .. "?" .. cq end
    return path .. "?" .. query .. "&" .. cq
  end
  if query == "" then return path end
  return path .. "?" .. query
end

function M.body(c, plan)
  local body = c.encode_body(plan.params)
  local extra = plan.extra_body
  if extra then
    body = body or {}
    for k, v in pairs(extra) do body[k] = v end
  end
  if body == nil then return nil end
  local s, why = json_encode(body)
  if not s then
    error(errors.invalid_argument(c.sdk_path .. ": cannot encode the body as JSON: " .. errors.clip(why, 200),
      c.sdk_path), 0)
  end
  validate.charge(plan, #s, "body")
  return s
end

function M.request(c, plan, url, body)
  -- reply_headers = false: nothing here reads the headers (the core hands over request_id and
  -- retry_after itself); decode = true: a 2xx body comes decoded (res.json, see decode.lua)
  local req = { method = c.method, path = url, body = body, endpoint = c.sdk_path, reply_headers = false,
    decode = true }
  local o = plan and plan.opts -- (no plan: a call of path arguments only, pipeline.call)
  if o then
    req.timeout, req.connect_timeout, req.max_retries, req.headers = o.timeout, o.connect_timeout, o.max_retries,
      o.headers
  end
  return req
end

return M
