-- tests/proxy_spec.lua: proxies as companies run them, through a real one (Debian's tinyproxy)
-- and through ones that refuse: the proxy and no_proxy options, the environment variables
-- libcurl reads (https_proxy / HTTPS_PROXY, http_proxy, NO_PROXY), a plain HTTP request and a
-- CONNECT tunnel to a TLS listener; a refusal is a connection error naming the proxy, never its
-- credentials.
local fake = require "helpers.fake"
local net = require "helpers.net"
local oa = require "openai_admin"
local proxy = require "openai_admin.proxy"

describe("proxies", function()
  local f, dir, pki, tls, tls_port, tp, tp_port, deny, deny_port

  setup(function()
    f = fake.start { seed = 4, projects = 2, users = 1 }
    dir = net.tmpdir()
    pki = net.pki(dir)
    tls, tls_port = net.tls_listener(pki.cert, pki.key, f.port)
    tp, tp_port = net.tinyproxy(dir)
    deny, deny_port = net.tinyproxy(dir, "10.255.255.1") -- serves another address only: 403 for us
  end)
  teardown(function()
    for _, p in ipairs { tls, tp, deny } do p:stop() end
    if f then f:stop() end
    if dir then os.execute("rm -rf " .. net.shquote(dir)) end
  end)
  before_each(function() f:clear_requests() end)

  local function list(opts)
    local c = oa.new(opts)
    local ok, v = pcall(function() return c.admin.organization.projects:list { limit = 1 } end)
    c:close()
    return ok, v
  end
  local https = function() return ("https://127.0.0.1:%d/v1"):format(tls_port) end
  local function tunnels() local _, n = tp:read_log():gsub("CONNECT 127%.0%.0%.1:" .. tls_port, "") return n end

  it("sends plain HTTP through the proxy option", function()
    local ok, page = list { base_url = f.base_url, admin_key = f.admin_key, proxy = "http://127.0.0.1:" .. tp_port }
    assert.is_true(ok, tostring(page))
    local log = f:request_log()
    assert.equal(1, #log)
    assert.matches("tinyproxy", log[1].headers.via or "", 1, true)
  end)

  it("tunnels HTTPS through the proxy option (CONNECT), verifying the server behind it", function()
    local before = tunnels()
    local ok, page = list { base_url = https(), admin_key = f.admin_key, ca_file = pki.ca,
      proxy = "http://127.0.0.1:" .. tp_port }
    assert.is_true(ok, tostring(page))
    assert.equal(before + 1, tunnels())
    -- the TLS check still holds through the tunnel
    local bad, err = list { base_url = https(), admin_key = f.admin_key, max_retries = 0,
      proxy = "http://127.0.0.1:" .. tp_port }
    assert.is_false(bad)
    assert.equal("tls", err.code)
  end)

  it("goes direct for hosts in no_proxy", function()
    local before = tunnels()
    local ok, page = list { base_url = https(), admin_key = f.admin_key, ca_file = pki.ca,
      proxy = "http://127.0.0.1:" .. deny_port, no_proxy = "localhost,127.0.0.1" }
    assert.is_true(ok, tostring(page))
    assert.equal(before, tunnels())
  end)

  -- A child process with the given environment: prints "ok" or the error.
  local function child(env, base_url, ca)
    local script = dir .. "/child.lua"
    local sf = assert(io.open(script, "w"))
    sf:write([[
local oa = require "openai_admin"
local c = oa.new { base_url = arg[1], admin_key = arg[2], ca_file = arg[3] ~= "" and arg[3] or nil, max_retries = 0 }
local ok, v = pcall(function() return c.admin.organization.projects:list { limit = 1 } end)
io.write(ok and "ok" or tostring(v))
]])
    sf:close()
    local parts = { "env -u http_proxy -u https_proxy -u HTTPS_PROXY -u HTTP_PROXY -u all_proxy -u ALL_PROXY"
      .. " -u no_proxy -u NO_PROXY" }
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. net.shquote(v) end
    parts[#parts + 1] = (os.getenv("LUA") or "lua5.4") .. " " .. net.shquote(script) .. " " .. net.shquote(base_url)
      .. " " .. net.shquote(f.admin_key) .. " " .. net.shquote(ca or "")
    return (net.run(table.concat(parts, " ")))
  end

  it("reads https_proxy, HTTPS_PROXY, http_proxy and NO_PROXY from the environment", function()
    local p = "http://127.0.0.1:" .. tp_port
    local n = tunnels()
    assert.equal("ok", child({ https_proxy = p }, https(), pki.ca))
    assert.equal(n + 1, tunnels())
    assert.equal("ok", child({ HTTPS_PROXY = p }, https(), pki.ca))
    assert.equal(n + 2, tunnels())
    assert.equal("ok", child({ HTTPS_PROXY = p, NO_PROXY = "127.0.0.1" }, https(), pki.ca))
    assert.equal(n + 2, tunnels())
    f:clear_requests()
    assert.equal("ok", child({ http_proxy = p }, f.base_url))
    assert.matches("tinyproxy", f:request_log()[1].headers.via or "", 1, true)
  end)

  it("names a proxy that refuses (403), without its credentials", function()
    local ok, err = list { base_url = https(), admin_key = f.admin_key, ca_file = pki.ca, max_retries = 0,
      proxy = "http://alice:s3cret-pass@127.0.0.1:" .. deny_port }
    assert.is_false(ok)
    assert.equal("connection", err.kind)
    assert.matches("through the proxy http://127%.0%.0%.1:" .. deny_port, err.message)
    assert.is_nil(tostring(err):find("s3cret", 1, true))
    assert.is_nil(tostring(err):find("alice", 1, true))
    assert.equal(0, #f:request_log())
    -- from the environment too
    local out = child({ HTTPS_PROXY = "http://bob:pw-secret@127.0.0.1:" .. deny_port }, https(), pki.ca)
    assert.matches("through the proxy http://127%.0%.0%.1:" .. deny_port, out)
    assert.is_nil(out:find("pw-secret", 1, true))
  end)

  it("names a proxy nothing listens on", function()
    local port = net.free_port()
    local ok, err = list { base_url = f.base_url, admin_key = f.admin_key, max_retries = 0,
      proxy = "http://127.0.0.1:" .. port }
    assert.is_false(ok)
    assert.equal("connection", err.kind)
    assert.matches("through the proxy http://127%.0%.0%.1:" .. port, err.message)
  end)

  it("works out the proxy as libcurl does", function()
    local env = function(t) return function(k) return t[k] end end
    assert.equal("http://p:3128",
      proxy.for_url("https://api.openai.com/v1", {}, env { HTTPS_PROXY = "http://u:pw@p:3128" }))
    assert.is_nil(proxy.for_url("http://h/v1", {}, env { HTTP_PROXY = "http://p:1" })) -- libcurl: lowercase only
    assert.equal("http://p:1", proxy.for_url("http://h/v1", {}, env { http_proxy = "p:1" }))
    assert.is_nil(proxy.for_url("https://api.openai.com/v1", {}, env { https_proxy = "p:1", NO_PROXY = ".openai.com" }))
    assert.is_nil(proxy.for_url("https://api.openai.com/v1", { proxy = "p:1", no_proxy = "*" }, env {}))
    assert.equal("socks5h://p:1", proxy.for_url("https://x/v1", { proxy = "socks5h://p:1" }, env {}))
  end)
end)
