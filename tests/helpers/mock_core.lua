-- A stand-in for openai_admin.core's client, for Lua-layer unit tests without a server.
-- Everything else (json, pager) comes from the real core when it is built.
--
--   local mock = require("helpers.mock_core")
--   local oa, log = mock.load()            -- fresh openai_admin using the mock client
--   local client = oa.new{ admin_key = "sk-admin-test", base_url = "http://mock/v1" }
--   mock.reply(client, { status = 404, body = '{"error":{"message":"nope"}}' })
--   ... client:... ; log = mock.requests(client)   -- each request table as the Lua layer sent it
local M = {}

local Client = {}
Client.__index = Client

local function new_client(opts, parent)
  return setmetatable({ opts = opts, log = parent and parent.log or {}, queue = parent and parent.queue or {},
    parent = parent, closed = 0, handler = parent and parent.handler }, Client)
end

function Client:request(req)
  local copy = {}
  for k, v in pairs(req) do copy[k] = v end
  copy.client_opts = self.opts
  self.log[#self.log + 1] = copy
  local nxt = table.remove(self.queue, 1)
  if nxt then return nxt[1], nxt[2] end
  if self.handler then return self.handler(copy) end
  return { status = 200, headers = {}, body = '{"object":"mock","id":"mock_1"}', request_id = "req_mock",
    attempts = 1, waited = 0 }
end

function Client:derive(opts)
  return new_client(opts, self)
end

function Client:close()
  self.closed = self.closed + 1
end

function M.load()
  local ok, real = pcall(require, "openai_admin.core")
  if not ok then real = {} end
  package.loaded["openai_admin.core"] = setmetatable({
    client = function(opts) return new_client(opts) end,
  }, { __index = real })
  package.loaded["openai_admin"] = nil
  local oa = require "openai_admin"
  package.loaded["openai_admin"] = nil
  package.loaded["openai_admin.core"] = real
  return oa
end

function M.core_of(client)
  return rawget(client, "_core")
end

-- Queue one reply (res table) or a transport failure (nil, err).
function M.reply(client, res, err)
  local c = M.core_of(client)
  if res then
    res.headers = res.headers or {}
    res.attempts = res.attempts or 1
    res.waited = res.waited or 0
    if res.request_id == nil then res.request_id = "req_mock" end
  end
  c.queue[#c.queue + 1] = { res, err }
end

function M.handler(client, fn)
  M.core_of(client).handler = fn
end

function M.requests(client)
  return M.core_of(client).log
end

function M.last(client)
  local log = M.core_of(client).log
  return log[#log]
end

return M
