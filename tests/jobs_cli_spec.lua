-- The jobs as openai-admin subcommands, run as processes against the fake.
local fake = require("helpers.fake")
local cli = require("helpers.cli")
local json = require("openai_admin.json")

describe("openai-admin jobs", function()
  local f
  local function run(argv, o)
    o = o or {}
    o.env = o.env or {}
    if o.env.OPENAI_ADMIN_KEY == nil then o.env.OPENAI_ADMIN_KEY = f.admin_key end
    local a = { "--base-url", f.base_url }
    for _, x in ipairs(argv) do a[#a + 1] = x end
    return cli.run(a, o)
  end
  local function writes()
    local n = {}
    for _, r in ipairs(f:request_log()) do if r.method ~= "GET" then n[#n + 1] = r.method .. " " .. r.path end end
    return n
  end

  setup(function() f = fake.start{ seed = 41, projects = 3, users = 5 } end)
  teardown(function() if f then f:stop() end end)
  before_each(function() f:reset() end)

  it("report costs: CSV rows with the issue's columns, totals and the source of truth on stderr", function()
    local r = run{ "--format", "csv", "report", "costs", "--since", "10d", "--group-by", "project_id",
      "--group-by", "line_item" }
    assert.equal(0, r.code, r.stderr)
    local lines = {}
    for line in r.stdout:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    assert.equal("start_time,end_time,project_id,project_name,line_item,amount,currency\r", lines[1])
    assert.is_true(#lines > 10)
    assert.matches("Costs API", r.stderr)
    assert.matches("financial source of truth", r.stderr)
  end)

  it("report usage ENDPOINT for every usage endpoint; names with the ids", function()
    for _, e in ipairs(require("openai_admin.jobs.buckets").usage_endpoints()) do
      local r = run{ "--format", "jsonl", "report", "usage", e, "--since", "2d", "--group-by", "project_id" }
      assert.equal(0, r.code, e .. ": " .. r.stderr)
      local n = 0
      for line in r.stdout:gmatch("[^\n]+") do
        local row = json.decode(line)
        assert.is_string(row.project_name, e)
        n = n + 1
      end
      assert.is_true(n > 0, e)
    end
  end)

  it("the first words of a job command list the commands under them", function()
    local r = run{ "report" }
    assert.equal(2, r.code)
    assert.matches("report costs", r.stderr)
    assert.matches("report usage completions", r.stderr)
    r = run{ "report", "usage", "--help" }
    assert.equal(0, r.code, r.stderr)
    assert.matches("report usage images", r.stdout)
    assert.is_nil(r.stdout:find("report costs", 1, true))
  end)

  it("report keys and access-review", function()
    local r = run{ "--format", "jsonl", "report", "keys", "--stale-days", "30" }
    assert.equal(0, r.code, r.stderr)
    local flags = {}
    for line in r.stdout:gmatch("[^\n]+") do flags[json.decode(line).flags] = true end
    assert.is_true(flags.never_used and flags.unused_30_days and flags[""])
    assert.matches("%d+ keys: %d+ never used", r.stderr)
    r = run{ "--format", "json", "access-review" }
    assert.equal(0, r.code, r.stderr)
    local doc = json.decode(r.stdout)
    assert.equal(5, #doc.users)
    assert.equal(3, #doc.projects)
  end)

  it("rotate-key: --dry-run plans only; with --yes the secret goes to stdout once and nowhere else", function()
    local s, body = f:request("GET", "/v1/organization/projects")
    assert.equal(200, s)
    local pid = json.decode(body).data[1].id
    local _, sas = f:request("GET", "/v1/organization/projects/" .. pid .. "/service_accounts")
    local sa = json.decode(sas).data[1].id
    f:clear_requests()
    local r = run{ "--dry-run", "rotate-key", "--project-id", pid, "--service-account-id", sa }
    assert.equal(0, r.code, r.stderr)
    assert.matches("delete the old key", r.stderr)
    assert.same({}, writes())
    r = run{ "rotate-key", "--project-id", pid, "--service-account-id", sa } -- not a terminal, no --yes
    assert.equal(2, r.code, r.stderr)
    assert.same({}, writes())
    r = run{ "--yes", "rotate-key", "--project-id", pid, "--service-account-id", sa }
    assert.equal(0, r.code, r.stderr)
    local secret = r.stdout:match("^(sk%-svcacct%-%S+)\n$")
    assert.truthy(secret, r.stdout)
    assert.is_nil(r.stderr:find(secret, 1, true))
    assert.is_nil(f:log():find(secret, 1, true))
    local _, keys = f:request("GET", "/v1/organization/projects/" .. pid .. "/api_keys?limit=100")
    local n = 0
    for _, k in ipairs(json.decode(keys).data) do
      if k.owner.type == "service_account" and k.owner.service_account.id == sa then n = n + 1 end
    end
    assert.equal(1, n)
  end)

  it("offboard: the plan on --dry-run, the job with --yes, a no-op after", function()
    local _, body = f:request("GET", "/v1/organization/users")
    local u = json.decode(body).data[3]
    f:clear_requests()
    local r = run{ "--dry-run", "offboard", u.email }
    assert.equal(0, r.code, r.stderr)
    assert.matches("remove user " .. u.id, r.stderr)
    assert.same({}, writes())
    r = run{ "--yes", "offboard", u.email }
    assert.equal(0, r.code, r.stderr)
    assert.matches("offboarded", r.stderr)
    assert.equal(404, (f:request("GET", "/v1/organization/users/" .. u.id)))
    f:clear_requests()
    r = run{ "--yes", "offboard", u.email }
    assert.equal(0, r.code, r.stderr)
    assert.matches("nothing to do", r.stderr)
    assert.same({}, writes())
    -- the calling key's owner: stopped, nothing sent
    local owner = json.decode(body).data[1]
    r = run{ "--yes", "offboard", owner.id }
    assert.are_not.equal(0, r.code)
    assert.matches("stopped before any change", r.stderr)
    assert.same({}, writes())
  end)

  it("audit export: to a file with a checkpoint, resumed, each event once; help states the promise", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local out, ck = dir .. "/a.jsonl", dir .. "/a.ckpt"
    local r = run{ "audit", "export", "--output", out, "--checkpoint", ck }
    assert.equal(0, r.code, r.stderr)
    f:control("POST", "/_fake/audit_events", { count = 30 })
    r = run{ "audit", "export", "--output", out, "--checkpoint", ck }
    assert.equal(0, r.code, r.stderr)
    assert.matches("30 events exported", r.stderr)
    local seen, n = {}, 0
    for line in io.lines(out) do
      local id = json.decode(line).id
      assert.is_nil(seen[id])
      seen[id] = true
      n = n + 1
    end
    local st = f:control("GET", "/_fake/state")
    assert.equal(st.counts.audit_events, n)
    os.execute("rm -rf " .. dir)
    r = run{ "audit", "export", "--help" }
    assert.matches("at%-least%-once", r.stdout)
    assert.matches("exactly once", r.stdout)
  end)
end)
