-- openai_admin: Lua client for the OpenAI Admin API (Lua layer over the C core).
--
--   local openai_admin = require "openai_admin"
--   local client = openai_admin.new{ admin_key = "sk-admin-..." }     -- or env OPENAI_ADMIN_KEY
--   local p = client.admin.organization.projects:retrieve("proj_abc")
--   for project in client.admin.organization.projects:list{ limit = 100 } do print(project.id) end
--
-- Calls: path parameters positionally (path order), then one params table (query fields for
-- GET/DELETE, JSON body fields for POST, the API's own names), then an optional options table
-- { timeout, connect_timeout, max_retries, headers, extra_query, extra_body } (options.lua).
-- The request path is request/pipeline.lua: validate -> encode -> send -> decode.
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
local log = require "openai_admin.log"
local options = require "openai_admin.options"
local pipeline = require "openai_admin.request.pipeline"
local decode = require "openai_admin.request.decode"
local VERSION = require "openai_admin.version"

local M = {
  version = VERSION,
  null = json.null,
  json = json,
  errors = errors,
  api = api,
  batch = batch,
  is_error = errors.is_error,
}

local type, pairs, setmetatable, getmetatable, error, pcall = type, pairs, setmetatable, getmetatable, error, pcall
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

-- The x-request-id of the reply that produced obj (a result object or a Page), or nil.
function M.request_id(obj)
  if pages.is_page(obj) then return obj.request_id end
  return decode.request_id(obj)
end

---------------------------------------------------------------------------------------------
-- One request (request/pipeline.lua)
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

local call, walk, first_page = pipeline.call, pipeline.walk, pages.first

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
      return first_page(walk(client, c, ...))
    end
  end
  return function(self, ...)
    if self ~= node then dot_call(self) end
    c = c or compiled(row)
    return call(client, c, ...)
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

-- The Lua client: its core client, its key's kind (never the key), the body cap.
local function wrap(cc, base_url, key_kind, max_request_bytes)
  return setmetatable({ _core = cc, _base_url = base_url, _key_kind = key_kind,
    _max_request_bytes = max_request_bytes }, Client)
end

-- The core refuses only what Lua let through by mistake (a broken contract): as an error object.
local function core_call(f, ...)
  local ok, r = pcall(f, ...)
  if not ok then error(errors.from_core(r, nil), 0) end
  return r
end

-- client:with_options{ timeout, connect_timeout, max_retries, headers, organization, project }
-- A client sharing this one's connections (core c:derive{}).
function client_methods.with_options(client, opts)
  local d = options.check_derive(opts)
  local cc = rawget(client, "_core")
  if not cc then invalid("with_options: client is closed") end
  local derived = wrap(core_call(cc.derive, cc, d), rawget(client, "_base_url"), rawget(client, "_key_kind"),
    rawget(client, "_max_request_bytes"))
  derived._log, derived._log_events, derived._proxy = rawget(client, "_log"), rawget(client, "_log_events"),
    rawget(client, "_proxy")
  return derived
end

local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

-- Options handed to core.client{} as given (validated in options.lua); the core plumbs them.
local CORE_PASS = { "timeout", "connect_timeout", "max_retries", "headers", "rate_limit", "ca_file", "ca_path",
  "insecure", "proxy", "no_proxy", "max_response_bytes", "max_host_connections" }
-- (logger and log_level stay in Lua: the client's _log function gets the engine's events)

-- openai_admin.new{ admin_key, base_url, organization, project, timeout, connect_timeout,
--                   max_retries, headers, rate_limit, ca_file, ca_path, insecure, proxy, no_proxy,
--                   max_response_bytes, max_request_bytes, max_host_connections, logger, log_level }
-- Missing admin_key/base_url/organization/project come from OPENAI_ADMIN_KEY, OPENAI_BASE_URL
-- (default https://api.openai.com/v1), OPENAI_ORG_ID, OPENAI_PROJECT_ID; organization = false or
-- project = false ignores the environment variable.
function M.new(opts)
  if opts == nil then opts = {} end
  local o = options.check_new(opts)
  local key = o.admin_key
  if key == nil then
    key = env("OPENAI_ADMIN_KEY")
    if key ~= nil and options.checks.admin_key(key) then
      invalid("new: OPENAI_ADMIN_KEY must not contain spaces or control characters", "admin_key")
    end
  end
  if key == nil then
    invalid("new: no admin API key: pass admin_key or set OPENAI_ADMIN_KEY", "admin_key")
  end
  local base_url = o.base_url
  if base_url == nil then
    local msg
    msg, base_url = options.checks.base_url(env("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
    if msg then invalid("new: OPENAI_BASE_URL: " .. msg, "base_url") end
  end
  local org, project = o.organization, o.project
  if org == nil then org = env("OPENAI_ORG_ID") end
  if project == nil then project = env("OPENAI_PROJECT_ID") end
  for name, v in pairs { organization = org, project = project } do
    if v and options.checks.organization(v) then
      invalid("new: " .. name .. " (from the environment): " .. options.checks.organization(v), name)
    end
  end
  local config = {
    base_url = base_url, admin_key = key, organization = org or nil, project = project or nil,
    user_agent = USER_AGENT,
  }
  for _, k in ipairs(CORE_PASS) do config[k] = o[k] end
  local cc = core_call(core.client, config)
  local client = wrap(cc, base_url, options.key_kind(key), o.max_request_bytes or options.DEFAULT_MAX_REQUEST_BYTES)
  client._log, client._log_events = log.for_client(o) -- the engine's events become log lines (log.lua)
  client._proxy = require("openai_admin.proxy").for_url(base_url, o) -- named by connection errors
  return client
end

function M.is_client(v)
  return getmetatable(v) == Client
end

M.is_page = pages.is_page
M.parallel, M.map, M.each = batch.parallel, batch.map, batch.each
return M
