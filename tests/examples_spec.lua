-- The examples run against the fake and print what they claim.
local fake = require("helpers.fake")

local function run_example(f, script, args)
  local cmd = ("cd %s && OPENAI_BASE_URL=%s OPENAI_ADMIN_KEY=%s lua5.4 %s %s 2>&1; echo \"__rc=$?\"")
    :format(fake.shquote(fake.root), fake.shquote(f.base_url), fake.shquote(f.admin_key), script, args or "")
  local h = assert(io.popen(cmd))
  local out = h:read("a")
  h:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), out
end

describe("examples", function()
  local f
  setup(function() f = fake.start{ seed = 5, projects = 4, users = 6 } end)
  teardown(function() if f then f:stop() end end)

  it("tour.lua creates, pages, rotates and reports, then archives its project", function()
    local rc, out = run_example(f, "examples/tour.lua")
    assert.equal(0, rc, out)
    local project = out:match("created project .- %((proj_[%w]+)%)")
    assert.truthy(project, out)
    assert.matches("invited new%.hire@example%.com as reader", out)
    assert.matches("rotated key key_%w+ %-> key_%w+", out)
    assert.matches("the old key is gone: not_found", out)
    assert.matches("costs in the last 7 days: %d+%.%d%d USD", out)
    assert.matches("project status: archived", out)
    -- and the fake agrees
    local log = f:requests().data
    local archived = false
    for _, r in ipairs(log) do
      if r.method == "POST" and r.path == "/v1/organization/projects/" .. project .. "/archive" then
        archived = r.status == 200
      end
    end
    assert.is_true(archived)
  end)

  it("access_audit.lua audits every project concurrently", function()
    f:reset()
    local rc, out = run_example(f, "examples/access_audit.lua", "4")
    assert.equal(0, rc, out)
    assert.matches("4 projects audited, 0 failed", out)
    local lines = 0
    for _ in out:gmatch("proj_%w+%s+.-%d+ users%s+%d+ service accounts%s+%d+ keys") do lines = lines + 1 end
    assert.equal(4, lines, out)
    -- concurrency happened: the list requests of several projects shared the wire at once
    local conns = {}
    for _, r in ipairs(f:requests().data) do conns[r.conn_id] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.is_true(n > 1, "expected several connections, got " .. n)
  end)

  -- each starts its own fake; the timing targets (W <= 1.3 x I, G < 30 ms) belong to make bench
  for _, adapter in ipairs { "luv", "cqueues" } do
    it("embed/" .. adapter .. "_ticker.lua runs 200 retrieves in a host loop whose timer keeps firing", function()
      local h = assert(io.popen(("cd %s && lua5.4 examples/embed/%s_ticker.lua 2>&1; echo \"__rc=$?\"")
        :format(fake.shquote(fake.root), adapter)))
      local out = h:read("a")
      h:close()
      assert.equal(0, tonumber(out:match("__rc=(%d+)%s*$")), out)
      local lines = {}
      for l in out:gsub("__rc=%d+%s*$", ""):gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal(1, #lines, out)
      assert.matches("^embed " .. adapter .. ": 200 requests ok, wall [%d.]+ s %(ideal 0%.25 s%), max loop gap %d+ ms$",
        lines[1])
    end)
  end
end)
