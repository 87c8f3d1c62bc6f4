--[[ tests/helpers/fake.lua -- start and stop a fake Admin API server for a test.

  local fake = require("helpers.fake")
  local f = fake.start{
    seed = 1, projects = 3, users = 5, audit_events = 100,  -- seed data (passed to the app)
    admin_key = "sk-admin-...",     -- default "sk-admin-fake-key"
    latency = 0.05,                 -- --latency SECONDS
    max_body = 1048576,             -- --max-body BYTES
    app = "module.name",            -- --app MODULE (default openai_admin.fake.app)
    lua_path = "/tmp/x/?.lua",      -- prepended to LUA_PATH of the child (e.g. for a stub app)
    args = { "--stats" },           -- extra command-line arguments
    wrapper = "valgrind -q",        -- command prefix (default: $OPENAI_ADMIN_FAKE_WRAPPER)
  }
  f.base_url      -- "http://127.0.0.1:PORT/v1"
  f.root_url      -- "http://127.0.0.1:PORT"
  f.port, f.pid, f.admin_key
  f.log_path      -- the child's stderr goes to this file; f:log() returns its content
  f:control(method, path, body_table) -> decoded_json_or_text, status, headers
      -- a small HTTP client (luasocket) for the control endpoints; path is relative to the
      -- server root, e.g. "/_fake/reset" (a path without a leading "/_fake" gets one).
      -- Raises on transport errors. body_table is JSON-encoded when given.
  f:request(method, path, body_string, headers) -> status, body_string, headers
      -- a raw request relative to the root, e.g. f:request("GET", "/v1/organization/projects")
  f:reset()                 -- POST /_fake/reset
  f:fault(spec)             -- POST /_fake/faults {method, path, count, status, retry_after, fault, delay}
  f:latency(seconds)        -- POST /_fake/latency {seconds}
  f:rate_limit(spec)        -- POST /_fake/rate_limits {path, requests, window}
  f:requests()              -- GET /_fake/requests (the request log)
  f:clear_requests()        -- DELETE /_fake/requests
  f:request_log()           -- the log's entries as a list, oldest first
  f:stop() -> exit_code     -- SIGTERM, wait (SIGKILL after 10 s); idempotent; also on garbage collection
  fake.stop_all()           -- stops every fake this module started
  fake.attach(base_url, admin_key) -- a handle on a running fake (for a child process)

  Runs `lua5.4 bin/openai-admin-fake --port 0 ...` (found relative to this file) as a child process
  through `sh -c 'echo $$; exec ...'`, so the pid is known. The interpreter is $LUA or lua5.4.
]]

local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"

local M = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "tests/helpers")
local function absolute(p)
  if p:sub(1, 1) == "/" then return p end
  local pwd = os.getenv("PWD")
  if not pwd then
    local h = io.popen("pwd")
    pwd = h:read("l")
    h:close()
  end
  return pwd .. "/" .. p
end
local ROOT = absolute(HERE .. "/../..")
M.root = ROOT
M.script = ROOT .. "/bin/openai-admin-fake"

local json_encode, json_decode
do
  local ok, json = pcall(require, "openai_admin.json")
  if ok and type(json) == "table" and json.encode and json.decode then
    json_encode, json_decode = json.encode, json.decode
  else
    local cjson = require "cjson.safe"
    json_encode, json_decode = cjson.encode, cjson.decode
  end
end
M.json_encode, M.json_decode = json_encode, json_decode

local function shquote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shquote = shquote

local running = setmetatable({}, { __mode = "k" })

local Fake = {}
Fake.__index = Fake

function Fake:log()
  local f = io.open(self.log_path, "r")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function proc_state(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s:match("^%d+ %b() (%a)")
end

function Fake:stop()
  if self.exit_code ~= nil or not self.handle then return self.exit_code end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local st = proc_state(self.pid)
    if st == nil or st == "Z" then break end
    socket.sleep(0.01)
  end
  local st = proc_state(self.pid)
  if st ~= nil and st ~= "Z" then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
  self.handle:read("a")
  local _, how, code = self.handle:close()
  self.handle = nil
  running[self] = nil
  if how == "signal" then code = 128 + (code or 0) end
  self.exit_code = code or 0
  if not self.keep_log and not os.getenv("OPENAI_ADMIN_FAKE_KEEP_LOG") then os.remove(self.log_path) end
  return self.exit_code
end

function Fake:request(method, path, body, headers)
  local out = {}
  local h = { authorization = "Bearer " .. self.admin_key, accept = "application/json" }
  for k, v in pairs(headers or {}) do h[k:lower()] = v end
  if body ~= nil then
    h["content-length"] = tostring(#body)
    h["content-type"] = h["content-type"] or "application/json"
  elseif method ~= "GET" and method ~= "HEAD" then
    h["content-length"] = "0"
  end
  local ok, code, rh = http.request{
    url = self.root_url .. path, method = method, headers = h,
    source = body and ltn12.source.string(body) or nil, sink = ltn12.sink.table(out),
  }
  if not ok then error(("fake %s %s: %s"):format(method, path, tostring(code)), 2) end
  return code, table.concat(out), rh
end

function Fake:control(method, path, body)
  if path:sub(1, 6) ~= "/_fake" then path = "/_fake" .. (path:sub(1, 1) == "/" and "" or "/") .. path end
  local encoded
  if body ~= nil then encoded = assert(json_encode(body)) end
  local code, text, rh = self:request(method, path, encoded)
  local value = text
  if text ~= "" then
    local v = json_decode(text)
    if v ~= nil then value = v end
  else
    value = nil
  end
  return value, code, rh
end

function Fake:reset() return self:control("POST", "/_fake/reset") end
function Fake:fault(spec) return self:control("POST", "/_fake/faults", spec) end
function Fake:latency(seconds) return self:control("POST", "/_fake/latency", { seconds = seconds }) end
function Fake:rate_limit(spec) return self:control("POST", "/_fake/rate_limits", spec) end
function Fake:requests() return self:control("GET", "/_fake/requests") end
function Fake:clear_requests() return self:control("DELETE", "/_fake/requests") end
-- The request log's entries as a list, oldest first (the fake logs only /v1 requests).
function Fake:request_log() return self:requests().data end

Fake.__gc = function(self) pcall(Fake.stop, self) end
Fake.__close = Fake.__gc

function M.start(o)
  o = o or {}
  local admin_key = o.admin_key or "sk-admin-fake-key"
  local lua = os.getenv("LUA") or "lua5.4"
  local args = { "--port", "0", "--admin-key", admin_key }
  local function add(flag, v) if v ~= nil then args[#args + 1] = flag; args[#args + 1] = tostring(v) end end
  add("--seed", o.seed)
  add("--projects", o.projects)
  add("--users", o.users)
  add("--audit-events", o.audit_events)
  add("--latency", o.latency)
  add("--max-body", o.max_body)
  add("--app", o.app)
  for _, a in ipairs(o.args or {}) do args[#args + 1] = a end

  local log_path = os.tmpname()
  -- the caller's paths first (make asan points LUA_CPATH at its build), then the tree's
  local lua_path = (os.getenv("LUA_PATH") or ";;") .. ";" .. ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua"
  local lua_cpath = (os.getenv("LUA_CPATH") or ";;") .. ";" .. ROOT .. "/build/?.so"
  if o.lua_path then lua_path = o.lua_path .. ";" .. lua_path end
  local env = "LUA_PATH=" .. shquote(lua_path) .. " LUA_CPATH=" .. shquote(lua_cpath) .. " "
  local wrapper = o.wrapper or os.getenv("OPENAI_ADMIN_FAKE_WRAPPER") or ""
  local parts = {}
  for i, a in ipairs(args) do parts[i] = shquote(a) end
  local inner = ("echo $$; exec %s %s %s %s 2>%s"):format(wrapper, shquote(lua), shquote(M.script),
    table.concat(parts, " "), shquote(log_path))
  local cmd = env .. "exec sh -c " .. shquote(inner)
  local handle = assert(io.popen(cmd, "r"))
  local pid = handle:read("l")
  local url = handle:read("l")
  local self = setmetatable({ handle = handle, pid = tonumber(pid), log_path = log_path,
    admin_key = admin_key }, Fake)
  if not url or not url:match("^http://") then
    self.keep_log = true
    local code = self:stop()
    local log = self:log()
    os.remove(log_path)
    error(("fake.start: the fake did not start (exit %s): %s%s"):format(tostring(code), tostring(url or ""), log), 2)
  end
  self.base_url = url
  self.root_url = url:gsub("/v1$", "")
  self.port = tonumber(url:match(":(%d+)/v1$"))
  running[self] = true
  return self
end

-- A handle on a fake some other process started (controls and requests only; stop does nothing).
function M.attach(base_url, admin_key)
  return setmetatable({ base_url = base_url, root_url = (base_url:gsub("/v1$", "")),
    port = tonumber(base_url:match(":(%d+)/v1$")), admin_key = admin_key or "sk-admin-fake-key" }, Fake)
end

function M.stop_all()
  local list = {}
  for f in pairs(running) do list[#list + 1] = f end
  for _, f in ipairs(list) do f:stop() end
end

return M
