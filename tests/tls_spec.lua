-- tests/tls_spec.lua: TLS as companies run it, against a local listener (socat with a
-- certificate made here by openssl) in front of the fake: verification on by default, a private
-- CA through ca_file or ca_path, wrong CA and wrong host name refused before any request reaches
-- the server, the TLS error told apart from other connection errors, insecure = true works and
-- warns.
local fake = require "helpers.fake"
local net = require "helpers.net"
local oa = require "openai_admin"

describe("TLS", function()
  local f, dir, pki, tls, tls_port, wrong, wrong_port

  setup(function()
    f = fake.start { seed = 2, projects = 2, users = 1 }
    dir = net.tmpdir()
    pki = net.pki(dir)
    tls, tls_port = net.tls_listener(pki.cert, pki.key, f.port)
    wrong, wrong_port = net.tls_listener(pki.wrong_name_cert, pki.wrong_name_key, f.port)
  end)
  teardown(function()
    if tls then tls:stop() end
    if wrong then wrong:stop() end
    if f then f:stop() end
    if dir then os.execute("rm -rf " .. net.shquote(dir)) end
  end)
  before_each(function() f:clear_requests() end)

  local function client(port, opts)
    opts = opts or {}
    opts.base_url = ("https://%s:%d/v1"):format(opts.host or "127.0.0.1", port)
    opts.host = nil
    opts.admin_key = f.admin_key
    opts.max_retries = opts.max_retries or 0
    return oa.new(opts)
  end

  local function list(c)
    return pcall(function() return c.admin.organization.projects:list { limit = 1 } end)
  end

  -- a refusal: a connection error with code "tls", and the fake saw nothing
  local function assert_refused(c)
    local ok, err = list(c)
    assert.is_false(ok)
    assert.equal("connection", err.kind)
    assert.equal("tls", err.code, tostring(err))
    assert.equal(0, #f:request_log())
    return err
  end

  it("refuses a certificate from an unknown CA by default", function()
    local err = assert_refused(client(tls_port))
    assert.is_number(err.curl_code)
  end)

  it("accepts the private CA given as ca_file, by IP and by host name", function()
    local ok, page = list(client(tls_port, { ca_file = pki.ca }))
    assert.is_true(ok, tostring(page))
    assert.equal(1, #page.data)
    ok, page = list(client(tls_port, { ca_file = pki.ca, host = "localhost" }))
    assert.is_true(ok, tostring(page))
    assert.equal(2, #f:request_log())
  end)

  it("accepts the private CA in a hashed ca_path directory", function()
    local ok, page = list(client(tls_port, { ca_path = pki.ca_dir, ca_file = pki.other_ca }))
    assert.is_true(ok, tostring(page))
  end)

  it("refuses the right certificate with the wrong CA", function()
    assert_refused(client(tls_port, { ca_file = pki.other_ca }))
  end)

  it("refuses a certificate for another host name", function()
    assert_refused(client(wrong_port, { ca_file = pki.ca }))
  end)

  it("tells a TLS failure apart from a refused connection", function()
    local ok, err = list(client(net.free_port(), { ca_file = pki.ca }))
    assert.is_false(ok)
    assert.equal("connection", err.kind)
    assert.is_not.equal("tls", err.code)
  end)

  it("connects with insecure = true, after a warning at creation", function()
    local lines = {}
    local c = client(wrong_port, { insecure = true, logger = function(level, line)
      lines[#lines + 1] = level .. ": " .. line
    end })
    assert.equal(1, #lines)
    assert.matches("^warn: insecure = true: TLS certificates and host names are NOT verified", lines[1])
    local ok, page = list(c)
    assert.is_true(ok, tostring(page))
    -- without a logger the warning goes to stderr at the default level
    local chunk = "require('openai_admin').new{ admin_key = 'sk-admin-x', insecure = true }"
    local out = net.run(("(cd %s && %s -e %s 2>&1 >/dev/null)"):format(net.shquote(fake.root),
      os.getenv("LUA") or "lua5.4", net.shquote(chunk)))
    assert.matches("openai_admin warn: insecure = true", out)
  end)
end)
