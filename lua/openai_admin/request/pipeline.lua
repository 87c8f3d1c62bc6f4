-- The request path, stage by stage (lua-resty-aws's layout):
--   validate  request/validate.lua + params.lua   the caller's arguments, copied once and checked
--   encode    request/encode.lua                  query string, JSON body, the core's request table
--   send      request/send.lua                    the engine: now, or inside a batch (batch.lua)
--   decode    request/decode.lua                  status, JSON, error objects with hints
--
--   pipeline.call(client, c, ...) -> result          a non-list endpoint (c: params.compile(row));
--       with only path arguments and c.bare, straight to send (no plan, nothing to encode)
--   pipeline.walk(client, c, ...) -> walk            a list call, checked and encoded once:
--     walk = { client, c, plan, path, query, body, cursor, cursor_param, backward }
--   pipeline.fetch_page(walk, cursor) -> decoded, res, url   one page of a walk (pages.lua)
-- client is the Lua client table: rawget(client, "_core") (false once closed), "_key_kind",
-- "_max_request_bytes".
local errors = require "openai_admin.errors"
local send_stage = require "openai_admin.request.send"
local encode = require "openai_admin.request.encode"
local decode = require "openai_admin.request.decode"

local M = {}

local rawget, pcall, error = rawget, pcall, error

-- The outcome of a send as the result (or the error it is): decode.response, with the proxy
-- named in a connection error.
local function outcome(client, c, method, path, res, err, cursor)
  if err then
    local proxy = rawget(client, "_proxy")
    if proxy and (err.kind == "connection" or err.kind == "timeout") and type(err.message) == "string" then
      err.message = err.message .. " (through the proxy " .. proxy .. ")" -- proxy.lua: no credentials
    end
  end
  return decode.response(res, err, method, path, c.sdk_path, rawget(client, "_key_kind"), cursor), res
end

local function core_of(client, c)
  local cc = rawget(client, "_core")
  if not cc then error(errors.invalid_argument(c.sdk_path .. ": the client is closed", c.sdk_path), 0) end
  return cc
end

local function send(client, c, req, cursor)
  local cc = core_of(client, c)
  local log = rawget(client, "_log")
  if log then req.log = rawget(client, "_log_events") or true end
  local ok, res, err = pcall(send_stage.send, cc, req, log) -- the core raises only on a broken contract
  if not ok then error(errors.from_core(res, c.sdk_path), 0) end
  return outcome(client, c, req.method, req.path, res, err, cursor)
end

-- A call of path arguments only, outside a batch: cc:get, the request without its table, and a
-- JSON object back as itself (the same request as encode.request(c, nil, path) sends).
local function get(client, c, cc, path)
  local log = rawget(client, "_log")
  local ok, obj, x, h = pcall(cc.get, cc, c.method, path, c.sdk_path, log and (rawget(client, "_log_events") or true))
  if not ok then error(errors.from_core(obj, c.sdk_path), 0) end
  if h then send_stage.emit(cc:engine(), h, log) end
  if obj then return decode.result_id(obj, x) end
  local res, err
  if x.status then res = x else err = x end
  return decode.result(outcome(client, c, c.method, path, res, err))
end

local select = select

function M.call(client, c, ...)
  local max_bytes = rawget(client, "_max_request_bytes")
  if c.bare and select("#", ...) == c.npath then
    -- only path arguments (a retrieve, a delete): the path is the whole request, so there is no
    -- plan to make and nothing to encode; the same checks (build_path) and the same request
    local path = c.build_path(...)
    if #path <= max_bytes then
      local cc = core_of(client, c)
      if cc.get and send_stage.direct(cc) then return get(client, c, cc, path) end
      local obj, res = send(client, c, encode.request(c, nil, path, nil))
      return decode.result(obj, res)
    end
  end
  local plan = c.prepare(max_bytes, ...)
  local query = encode.query(c, plan)
  local url = encode.url(plan.path, query)
  local req = encode.request(c, plan, url, encode.body(c, plan))
  local obj, res = send(client, c, req)
  return decode.result(obj, res)
end

function M.walk(client, c, ...)
  local plan = c.prepare(rawget(client, "_max_request_bytes"), ...)
  local query, after, before = encode.query(c, plan)
  return {
    client = client, c = c, plan = plan, path = plan.path, query = query, body = encode.body(c, plan),
    cursor = before or after, cursor_param = before and c.before_name or c.cursor_name, backward = before ~= nil,
  }
end

function M.fetch_page(walk, cursor)
  local c = walk.c
  local url = encode.url(walk.path, walk.query, walk.cursor_param, cursor)
  local req = encode.request(c, walk.plan, url, walk.body)
  -- a cursor naming an item (after=, before=): a 404 means that item is gone
  local named = cursor and walk.cursor_param ~= "page" and (walk.cursor_param .. "=" .. cursor) or nil
  local decoded, res = send(walk.client, c, req, named)
  return decoded, res, url
end

return M
