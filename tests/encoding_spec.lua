-- tests/encoding_spec.lua: replies as servers and proxies send them, end to end through the
-- client: a gzip-encoded reply (whether or not the client asked for it) and a number beyond 64
-- bits (valid JSON; decoded as a float). The server is socat answering a canned reply.
local net = require "helpers.net"
local oa = require "openai_admin"

local PROJECT = '{"id":"proj_gz","object":"organization.project","name":"zipped","created_at":1735668000,'
  .. '"status":"active","archived_at":null,"big":123456789012345678901234567890,"small":-98765432109876543210}'

describe("reply encodings", function()
  local dir, servers = nil, {}
  setup(function() dir = net.tmpdir() end)
  teardown(function()
    for _, s in ipairs(servers) do s:stop() end
    if dir then os.execute("rm -rf " .. net.shquote(dir)) end
  end)

  -- A client of a server that answers every request with this body and these headers.
  local function client_of(body, headers)
    local srv, port = net.canned(dir, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      .. "x-request-id: req_canned\r\n" .. (headers or "") .. "Content-Length: " .. #body
      .. "\r\nConnection: close\r\n\r\n" .. body)
    servers[#servers + 1] = srv
    return oa.new { base_url = ("http://127.0.0.1:%d/v1"):format(port), admin_key = "sk-admin-encoding-test",
      max_retries = 0 }
  end

  it("decodes a gzip-encoded reply", function()
    local plain = dir .. "/project.json"
    local f = assert(io.open(plain, "wb"))
    f:write(PROJECT)
    f:close()
    local gz = assert(io.popen("gzip -c " .. net.shquote(plain))):read("a")
    assert.is_true(#gz > 20 and gz:sub(1, 2) == "\31\139")
    local c = client_of(gz, "Content-Encoding: gzip\r\n")
    local p = c.admin.organization.projects:retrieve("proj_gz")
    assert.equal("zipped", p.name)
    assert.equal("req_canned", oa.request_id(p))
    c:close()
  end)

  it("decodes a reply with numbers beyond 64 bits, as floats", function()
    local c = client_of(PROJECT)
    local p = c.admin.organization.projects:retrieve("proj_gz")
    assert.equal("float", math.type(p.big))
    assert.equal(1.2345678901234568e29, p.big)
    assert.equal(-9.876543210987654e19, p.small)
    assert.equal("integer", math.type(p.created_at))
    c:close()
  end)
end)
