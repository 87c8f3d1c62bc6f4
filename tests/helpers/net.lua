--[[ tests/helpers/net.lua -- local TLS listeners, proxies and certificates for the specs.

  local net = require "helpers.net"
  net.free_port()                         -- a port nothing listens on (bound, then released)
  net.run(cmd) -> output, ok              -- a shell command, stdout + stderr
  net.tmpdir()                            -- a fresh directory
  local pki = net.pki(dir)                -- a CA, a second CA, server certs (openssl):
      pki.ca, pki.other_ca                -- CA certificates (PEM files)
      pki.cert, pki.key                   -- CN/SAN 127.0.0.1 and localhost, signed by pki.ca
      pki.wrong_name_cert, pki.wrong_name_key  -- SAN other.example only, signed by pki.ca
      pki.ca_dir                          -- a directory with pki.ca, hashed (openssl rehash)
  local l = net.spawn(cmd, port)          -- runs cmd in the background and waits until it
                                          -- listens on port; l:stop() (SIGTERM, by pid)
  local l, port = net.spawn(function(port) return cmd, log end)  -- the same on a free port,
                                          -- picking another when the command could not bind it
  net.tls_listener(cert, key, backend_port) -> l, port  -- socat TLS in front of 127.0.0.1:backend_port
  net.tinyproxy(dir, allow) -> p, port    -- a real HTTP proxy (Debian's tinyproxy) on a free port;
                                          -- allow: the client address it serves (others get 403);
                                          -- p:read_log() its log (CONNECT lines name the tunnels)
  net.canned(dir, reply) -> p, port       -- a server answering every connection with the bytes
                                          -- `reply` (status line, headers, body), after reading
                                          -- the request header (socat)
]]
local socket = require "socket"

local M = {}

local function shquote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.shquote = shquote

function M.run(cmd)
  local h = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  local rc = tonumber(out:match("__rc=(%d+)\n?$"))
  return (out:gsub("__rc=%d+\n?$", "")), rc == 0
end

function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. shquote(p)))
  return p
end

function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function accepts(port)
  local c = socket.tcp()
  c:settimeout(0.2)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end
M.accepts = accepts

local Proc = {}
Proc.__index = Proc
function Proc:stop()
  if self.pid then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    self.pid = nil
  end
end
Proc.__gc = Proc.stop

-- The inode of the socket listening on 127.0.0.1:port, or nil.
local function listener_inode(port)
  local f = io.open("/proc/net/tcp")
  if not f then return nil end
  for line in f:lines() do
    local lport, st, inode = line:match("^%s*%d+: 0100007F:(%x+) 00000000:0000 (%x%x) %S+ %S+ %S+%s+%d+%s+%d+ (%d+)")
    if lport and tonumber(lport, 16) == port and st == "0A" then
      f:close()
      return inode
    end
  end
  f:close()
  return nil
end

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local st = f:read("a"):match("^%d+ %b() (%a)")
  f:close()
  return st ~= nil and st ~= "Z"
end

-- True when pid holds the socket listening on port. Not "port accepts connections": between
-- free_port() and the command's bind another process can take the port (every client connection
-- draws its local port from the same range), and then that process would answer.
local function listens(pid, port)
  local inode = listener_inode(port)
  if not inode then return false end
  local out = M.run("ls -l /proc/" .. pid .. "/fd")
  return out:find("socket:[" .. inode .. "]", 1, true) ~= nil
end

-- cmd runs under sh with its output in log; waits (at most 10 s) until it listens on port.
-- Returns nil and the reason when the command exits first (it could not bind the port).
local function start(cmd, port, log)
  log = log or os.tmpname()
  local h = assert(io.popen(("sh -c %s & echo $!"):format(shquote("exec " .. cmd .. " >" .. shquote(log)
    .. " 2>&1"))))
  local pid = tonumber(h:read("l"))
  h:close()
  local self = setmetatable({ pid = pid, log = log, port = port }, Proc)
  local deadline = socket.gettime() + 10
  while port and not listens(pid, port) do
    local gone = not alive(pid)
    if gone or socket.gettime() > deadline then
      self:stop()
      local f = io.open(log)
      local why = (gone and "exited" or "not listening") .. " on " .. port .. ": " .. cmd .. "\n"
        .. (f and f:read("a") or "")
      if f then f:close() end
      if gone then return nil, why end
      error(why, 3)
    end
    socket.sleep(0.05)
  end
  return self
end

-- spawn(cmd, port, log) -> proc; spawn(function(port) -> cmd[, log], nil, log) -> proc, port
function M.spawn(cmd, port, log)
  if type(cmd) ~= "function" then
    local self, why = start(cmd, port, log)
    if not self then error(why, 2) end
    return self
  end
  local why
  for _ = 1, 5 do
    local p = M.free_port()
    local self
    local line, its_log = cmd(p)
    self, why = start(line, p, its_log or log)
    if self then return self, p end
  end
  error(why, 2)
end

function M.tls_listener(cert, key, backend_port)
  return M.spawn(function(port)
    return ("socat OPENSSL-LISTEN:%d,bind=127.0.0.1,cert=%s,key=%s,verify=0,fork,reuseaddr TCP:127.0.0.1:%d")
      :format(port, shquote(cert), shquote(key), backend_port)
  end)
end

function Proc:read_log()
  local f = io.open(self.log)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

function M.tinyproxy(dir, allow)
  local p, port = M.spawn(function(port) -- tinyproxy has no port 0
    local conf = ("%s/tinyproxy-%d.conf"):format(dir, port)
    local f = assert(io.open(conf, "w"))
    f:write(("Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow %s\nLogLevel Connect\n"):format(port,
      allow or "127.0.0.1"))
    f:close()
    return "tinyproxy -d -c " .. shquote(conf), conf .. ".log"
  end)
  return p, port
end

local canned_n = 0
function M.canned(dir, reply)
  canned_n = canned_n + 1
  local path = ("%s/canned-%d.http"):format(dir, canned_n)
  local f = assert(io.open(path, "wb"))
  f:write(reply)
  f:close()
  -- read the request's header first, then answer (a reply before the request would race it)
  return M.spawn(function(port)
    return ("socat TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr SYSTEM:%s"):format(port,
      shquote("sed -u '/^\r*$/q' >/dev/null; cat " .. shquote(path)))
  end)
end

-- openssl req/x509 with a config file: CA certificates and server certificates with SANs.
function M.pki(dir)
  local function sh(cmd)
    local out, ok = M.run("cd " .. shquote(dir) .. " && " .. cmd)
    assert(ok, cmd .. "\n" .. out)
  end
  local function ca(name, cn)
    sh(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj %s -keyout %s.key -out %s.pem "
      .. "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign")
      :format(shquote("/CN=" .. cn), name, name))
  end
  local function server(name, cn, san, ca_name)
    local ext = io.open(dir .. "/" .. name .. ".ext", "w")
    ext:write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n",
      "extendedKeyUsage=serverAuth\nsubjectAltName=", san, "\n")
    ext:close()
    sh(("openssl req -newkey rsa:2048 -nodes -subj %s -keyout %s.key -out %s.csr"):format(shquote("/CN=" .. cn),
      name, name))
    sh(("openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 -extfile %s.ext -out %s.pem")
      :format(name, ca_name, ca_name, name, name))
  end
  ca("ca", "openai-admin test CA")
  ca("other_ca", "some other CA")
  server("server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", "ca")
  server("wrong", "other.example", "DNS:other.example", "ca")
  sh("mkdir -p cadir && cp ca.pem cadir/ && openssl rehash cadir")
  return {
    ca = dir .. "/ca.pem", other_ca = dir .. "/other_ca.pem", cert = dir .. "/server.pem", key = dir .. "/server.key",
    wrong_name_cert = dir .. "/wrong.pem", wrong_name_key = dir .. "/wrong.key", ca_dir = dir .. "/cadir",
  }
end

return M
