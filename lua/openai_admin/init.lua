-- openai_admin: Lua client for the OpenAI Admin API (Lua layer over the C core).
--
--   local openai_admin = require "openai_admin"
--   local client = openai_admin.new{ admin_key = "sk-admin-..." }     -- or env OPENAI_ADMIN_KEY
--   local p = client.admin.organization.projects:retrieve("proj_abc")
--   for project in client.admin.organization.projects:list{ limit = 100 } do print(project.id) end
--
-- Calls: path parameters positionally (path order), then one params table (query fields for
-- GET/DELETE, JSON body fields for POST, the API's own names), then an optional options table
-- { timeout, connect_timeout, max_retries, headers }.
-- Results: non-list calls return the decoded JSON object (a plain table; JSON null is
-- openai_admin.null). Its request id is read with openai_admin.request_id(obj) or obj._request_id
-- (served by a metatable, so pairs() and json.encode see only the API's fields).
-- List calls return a Page (pages.lua).
-- Errors: RAISED as error objects with error(err, 0) (see errors.lua): use pcall, then
-- openai_admin.errors.is(err, "not_found") / openai_admin.is_error(err) / tostring(err).
local core = require "openai_admin.core"
local json = require "openai_admin.json"
local api = require "openai_admin.api"
local errors = require "openai_admin.errors"
local params = require "openai_admin.params"
local tree = require "openai_admin.tree"
local pages = require "openai_admin.pages"
local util = require "openai_admin.util"
local batch = require "openai_admin.batch"

local M = {
  version = "0.1.0",
  null = json.null,
  json = json,
  errors = errors,
  api = api,
  batch = batch,
  is_error = errors.is_error,
}

local type, pairs, setmetatable, getmetatable, error, pcall = type, pairs, setmetatable, getmetatable, error, pcall
local json_encode, json_decode = json.encode, json.decode
local send = batch.send
local DEFAULT_BASE_URL = "https://api.openai.com/v1"
local USER_AGENT = "openai-admin-lua/" .. M.version

-- Iterates the rows of api.lua: for row in openai_admin.endpoints() do print(row.sdk_path) end
function M.endpoints()
  local i = 0
  return function()
    i = i + 1
    return api[i]
  end
end

-- The row of one sdk_path, or nil.
function M.endpoint(sdk_path)
  return tree.find(sdk_path)
end

-- Text documentation of one endpoint, or of a resource (its path or its node: its methods and
-- child resources), from api.lua:
--   print(openai_admin.describe("admin.organization.usage.costs"))
--   print(openai_admin.describe(client.admin.organization.projects))
function M.describe(what)
  return require("openai_admin.doc").describe(what)
end

local function invalid(message, param)
  error(errors.invalid_argument(message, nil, param), 0)
end

---------------------------------------------------------------------------------------------
-- Results and their request ids
---------------------------------------------------------------------------------------------
local REQUEST_IDS = setmetatable({}, { __mode = "k" })
local Result = {
  __name = "openai_admin.result",
  __index = function(t, k)
    if k == "_request_id" then return REQUEST_IDS[t] end
    return nil
  end,
}

-- The x-request-id of the reply that produced obj (a result object or a Page), or nil.
function M.request_id(obj)
  if pages.is_page(obj) then return obj.request_id end
  return REQUEST_IDS[obj]
end

---------------------------------------------------------------------------------------------
-- One request
---------------------------------------------------------------------------------------------
local COMPILED = {}
local function compiled(row)
  local c = COMPILED[row]
  if not c then
    c = params.compile(row)
    COMPILED[row] = c
  end
  return c
end

-- Sends one request; returns the decoded body (a table) and the core's response. Raises.
local function fetch(client, c, path, body, opts)
  local cc = client._core
  if not cc then
    error(errors.invalid_argument("client is closed", c.sdk_path), 0)
  end
  local method = c.method
  local req = { method = method, path = path, endpoint = c.sdk_path }
  if body then
    local s, why = json_encode(body)
    if not s then
      error(errors.invalid_argument(c.sdk_path .. ": cannot encode the body as JSON: " .. tostring(why),
        c.sdk_path), 0)
    end
    req.body = s
  end
  if opts then
    req.timeout, req.connect_timeout, req.max_retries, req.headers =
      opts.timeout, opts.connect_timeout, opts.max_retries, opts.headers
  end
  local res, err = send(cc, req) -- cc:request, or the enclosing batch (batch.lua)
  if not res then
    error(errors.from_transport(err or {}, method, path, c.sdk_path), 0)
  end
  local status = res.status
  if status < 200 or status > 299 then
    error(errors.from_response(res, json_decode, method, path, c.sdk_path), 0)
  end
  local raw = res.body
  if status == 204 and (raw == nil or raw == "") then
    return setmetatable({}, Result), res
  end
  local ok, obj, why = pcall(json_decode, raw)
  if not ok then why, obj = obj, nil end
  if type(obj) ~= "table" then
    local detail
    if obj ~= nil then
      detail = "expected a JSON object, got " .. (obj == M.null and "null" or type(obj))
    elseif raw == nil or raw == "" then
      detail = "empty body"
    else
      detail = tostring(why)
      if not detail:find("JSON", 1, true) then detail = "invalid JSON: " .. detail end
    end
    error(errors.decode(res, method, path, c.sdk_path, detail), 0)
  end
  return obj, res
end

local pager_new = core.pager

-- The function stored at a method's name in a node (built once per client and node).
local function make_method(client, node, row)
  local c
  local sdk_path = row.sdk_path
  local function dot_call(self)
    error(errors.invalid_argument(sdk_path .. ": call it with a colon, "
      .. row.resource:gsub("^admin", "client.admin") .. ":" .. row.name .. "(...) (got "
      .. (type(self) == "string" and ("%q"):format(self) or type(self)) .. " as self)", sdk_path), 0)
  end
  if row.pagination then
    return function(self, ...)
      if self ~= node then dot_call(self) end
      c = c or compiled(row)
      local path, query, cursor, body, opts = c.prepare(...)
      return pages.first(client, c, fetch, pager_new, path, query, cursor, body, opts)
    end
  end
  return function(self, ...)
    if self ~= node then dot_call(self) end
    c = c or compiled(row)
    local path, query, _, body, opts = c.prepare(...)
    if query ~= "" then path = path .. "?" .. query end
    local obj, res = fetch(client, c, path, body, opts)
    REQUEST_IDS[obj] = res.request_id
    if getmetatable(obj) == nil then setmetatable(obj, Result) end
    return obj
  end
end

---------------------------------------------------------------------------------------------
-- Client
---------------------------------------------------------------------------------------------
local Client = { __name = "openai_admin.client" }
local client_methods = {}
local CLIENT_NAMES = { "close", "with_options", "request_id", "parallel", "map", "each" }

function Client.__index(client, key)
  local m = client_methods[key]
  if m then return m end
  local root = tree.root()
  local spec = root.children[key]
  if spec then
    local n = tree.node(client, spec, make_method)
    rawset(client, key, n)
    return n
  end
  if type(key) == "string" and key:sub(1, 2) == "__" then return nil end
  local names = {}
  for _, n in ipairs(CLIENT_NAMES) do names[#names + 1] = n end
  for _, n in ipairs(root.names) do names[#names + 1] = n end
  error(errors.invalid_argument("no method or resource '" .. tostring(key) .. "' on client"
    .. util.did_you_mean(key, names), tostring(key)), 0)
end

function Client.__tostring(client)
  return "openai_admin.client (" .. tostring(rawget(client, "_base_url"))
    .. (rawget(client, "_core") and "" or ", closed") .. ")"
end

function client_methods.close(client)
  local cc = rawget(client, "_core")
  if cc then
    rawset(client, "_core", false)
    cc:close()
  end
end
Client.__close = client_methods.close
Client.__gc = client_methods.close

function client_methods.request_id(_, obj)
  return M.request_id(obj)
end

-- Concurrency (batch.lua): every API call made inside the functions, by any client, is batched
-- through the core's request_many (rate budget and retries per request).
--   client:parallel({ fn, ... }, { concurrency = 16, workers = N }) -> results, errs, nfailed
--   client:map(list, function(item, i) ... end, opts)                -> results, errs, nfailed
--   for i, item in client:each({ page_or_fn, ... }, opts) do ... end  (raises on failure)
function client_methods.parallel(_, fns, opts)
  return batch.parallel(fns, opts)
end

function client_methods.map(_, list, fn, opts)
  return batch.map(list, fn, opts)
end

function client_methods.each(_, sources, opts)
  return batch.each(sources, opts)
end

local function check_opt_string(v, name)
  if v ~= nil and v ~= false and (type(v) ~= "string" or v == "") then
    invalid("option " .. name .. ": expected a non-empty string, got " .. util.show(v), name)
  end
end

local DERIVE_OPTIONS = { "timeout", "connect_timeout", "max_retries", "headers", "organization", "project" }
local DERIVE_SET = {}
for _, k in ipairs(DERIVE_OPTIONS) do DERIVE_SET[k] = true end

local function check_common(opts, allowed_set, allowed_list, what)
  for k, v in pairs(opts) do
    if not allowed_set[k] then
      invalid(what .. ": unknown option '" .. tostring(k) .. "'" .. util.did_you_mean(k, allowed_list)
        .. " (options are " .. table.concat(allowed_list, ", ") .. ")", tostring(k))
    end
    local msg
    if k == "timeout" or k == "connect_timeout" then
      msg = params.check_seconds(v, "option " .. k)
    elseif k == "max_retries" then
      msg = params.check_retries(v, "option " .. k)
    elseif k == "headers" then
      msg = params.check_headers(v, "option headers")
    elseif k == "organization" or k == "project" then
      check_opt_string(v, k)
    end
    if msg then invalid(what .. ": " .. msg, k) end
  end
end

local function wrap(cc, base_url)
  return setmetatable({ _core = cc, _base_url = base_url }, Client)
end

-- client:with_options{ timeout, connect_timeout, max_retries, headers, organization, project }
-- A client sharing this one's connections (core c:derive{}).
function client_methods.with_options(client, opts)
  if type(opts) ~= "table" then invalid("with_options: expected a table of options, got " .. util.show(opts)) end
  check_common(opts, DERIVE_SET, DERIVE_OPTIONS, "with_options")
  local cc = rawget(client, "_core")
  if not cc then invalid("with_options: client is closed") end
  local d = {}
  for k, v in pairs(opts) do d[k] = v end
  return wrap(cc:derive(d), rawget(client, "_base_url"))
end

local NEW_OPTIONS = {
  "admin_key", "base_url", "organization", "project", "timeout", "connect_timeout", "max_retries",
  "headers", "rate_limit",
}
local NEW_SET = {}
for _, k in ipairs(NEW_OPTIONS) do NEW_SET[k] = true end

local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

-- openai_admin.new{ admin_key, base_url, organization, project, timeout, connect_timeout,
--                   max_retries, headers, rate_limit }
-- Missing admin_key/base_url/organization/project come from OPENAI_ADMIN_KEY, OPENAI_BASE_URL
-- (default https://api.openai.com/v1), OPENAI_ORG_ID, OPENAI_PROJECT_ID; organization = false or
-- project = false ignores the environment variable.
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then invalid("new: expected a table of options, got " .. util.show(opts)) end
  check_common(opts, NEW_SET, NEW_OPTIONS, "new")
  local key = opts.admin_key
  if key == nil then key = env("OPENAI_ADMIN_KEY") end
  if type(key) ~= "string" or key == "" then
    invalid("new: no admin API key: pass admin_key or set OPENAI_ADMIN_KEY", "admin_key")
  end
  local base_url = opts.base_url
  if base_url == nil then base_url = env("OPENAI_BASE_URL") or DEFAULT_BASE_URL end
  if type(base_url) ~= "string" or not base_url:find("^https?://[^/]") then
    invalid("new: option base_url: expected an http(s) URL, got " .. util.show(base_url), "base_url")
  end
  base_url = base_url:gsub("/+$", "")
  local org = opts.organization
  if org == nil then org = env("OPENAI_ORG_ID") end
  local project = opts.project
  if project == nil then project = env("OPENAI_PROJECT_ID") end
  check_opt_string(org, "organization")
  check_opt_string(project, "project")
  -- rate_limit: nil/true adaptive (the core's default), false off, or a table
  -- { requests, window, burst, per_endpoint, max_wait } checked by the core.
  local rl = opts.rate_limit
  if rl ~= nil and type(rl) ~= "boolean" and type(rl) ~= "table" then
    invalid("new: option rate_limit: expected a boolean or a table { requests, window, burst, "
      .. "per_endpoint, max_wait }, got " .. util.show(rl), "rate_limit")
  end
  local cc = core.client {
    base_url = base_url, admin_key = key,
    organization = org or nil, project = project or nil,
    user_agent = USER_AGENT, headers = opts.headers,
    timeout = opts.timeout, connect_timeout = opts.connect_timeout, max_retries = opts.max_retries,
    rate_limit = rl,
  }
  return wrap(cc, base_url)
end

function M.is_client(v)
  return getmetatable(v) == Client
end

M.is_page = pages.is_page
M.parallel, M.map, M.each = batch.parallel, batch.map, batch.each
return M
