-- Stage 4 of a request (validate -> encode -> send -> decode): the core's answer as a result.
--
--   decode.response(res, err, method, path, sdk_path, key_kind, cursor) -> obj   (raises otherwise)
--     res, err  what the send stage returned (res has status; err a transport failure)
--     the rest  for the error's fields and hints (errors.from_response's ctx)
--   obj is the decoded JSON object (res.json when the core decoded it, else res.body decoded
--   here); a 2xx that is not a JSON object is a `decode` error, a non-2xx
--   is the error of its status (errors.from_response), a transport failure errors.from_transport.
--   decode.result(obj, res) marks obj as a result: obj._request_id, decode.request_id(obj);
--   decode.result_id(obj, request_id) the same from the id itself (cc:get's answer).
local errors = require "openai_admin.errors"
local json = require "openai_admin.json"

local M = {}

local type, pcall, setmetatable, getmetatable, error, tostring = type, pcall, setmetatable, getmetatable, error,
  tostring
local json_decode, NULL = json.decode, json.null

local REQUEST_IDS = setmetatable({}, { __mode = "k" })
local Result = {
  __name = "openai_admin.result",
  __index = function(t, k)
    if k == "_request_id" then return REQUEST_IDS[t] end
    return nil
  end,
}
M.Result = Result

function M.request_id(obj)
  return REQUEST_IDS[obj]
end

function M.result_id(obj, request_id)
  REQUEST_IDS[obj] = request_id
  if getmetatable(obj) == nil then setmetatable(obj, Result) end
  return obj
end

function M.result(obj, res)
  return M.result_id(obj, res.request_id)
end

function M.response(res, err, method, path, sdk_path, key_kind, cursor)
  if not res then
    error(errors.from_transport(err or {}, method, path, sdk_path), 0)
  end
  local status = res.status
  if status < 200 or status > 299 then
    error(errors.from_response(res, json_decode, method, path, sdk_path, { key_kind = key_kind, cursor = cursor }), 0)
  end
  local obj = res.json -- decoded by the core straight from its buffer (request.decode)
  if type(obj) == "table" then return obj end
  local raw, why = res.body, res.json_error
  if obj == nil and why == nil then
    if status == 204 and (raw == nil or raw == "") then return setmetatable({}, Result) end
    local ok
    ok, obj, why = pcall(json_decode, raw)
    if not ok then why, obj = obj, nil end
  end
  if type(obj) ~= "table" then
    local detail
    if obj ~= nil then
      detail = "expected a JSON object, got " .. (obj == NULL and "null" or type(obj))
    elseif raw == nil or raw == "" then
      detail = "empty body"
    else
      detail = errors.clip(tostring(why), 300)
      if not detail:find("JSON", 1, true) then detail = "invalid JSON: " .. detail end
    end
    error(errors.decode(res, method, path, sdk_path, detail), 0)
  end
  return obj
end

return M
