-- bin/openai-admin as a process against the fake: grammar, help, formats, exit codes, dry runs,
-- confirmation, dates, names, completion.
local fake = require("helpers.fake")
local cli = require("helpers.cli")
local json = require("openai_admin.json")

local function has_jq() return os.execute("command -v jq >/dev/null 2>&1") == true end
local function has_script() return os.execute("command -v script >/dev/null 2>&1") == true end

-- RFC 4180: fields separated by commas, CRLF line ends, quoted fields may hold commas, quotes
-- (doubled) and line breaks.
local function parse_csv(s)
  local rows, row, field, i, n = {}, {}, {}, 1, #s
  local quoted = false
  while i <= n do
    local c = s:sub(i, i)
    if quoted then
      if c == '"' then
        if s:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1 else quoted = false end
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field); field = {}
    elseif c == "\r" and s:sub(i + 1, i + 1) == "\n" then
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = row; row = {}
      i = i + 1
    else
      assert(c ~= "\n", "bare LF in CSV at byte " .. i)
      field[#field + 1] = c
    end
    i = i + 1
  end
  assert(#field == 0 and #row == 0, "CSV does not end with CRLF")
  return rows
end

describe("openai-admin", function()
  local f
  local function run(argv, o)
    o = o or {}
    o.env = o.env or {}
    if o.env.OPENAI_ADMIN_KEY == nil and not o.no_key then o.env.OPENAI_ADMIN_KEY = f.admin_key end
    local a = {}
    if not o.no_base then a[1] = "--base-url"; a[2] = f.base_url end
    for _, x in ipairs(argv) do a[#a + 1] = x end
    return cli.run(a, o)
  end
  local function log() return f:request_log() end

  setup(function() f = fake.start{ seed = 7, projects = 3, users = 4 } end)
  teardown(function() if f then f:stop() end end)
  before_each(function() f:reset() end)

  describe("grammar", function()
    it("lists as JSON Lines when piped, walking every page", function()
      local r = run{ "projects", "list", "--limit", "1" }
      assert.equal(0, r.code, r.stderr)
      local items = cli.jsonl(r.stdout)
      assert.equal(3, #items)
      for _, p in ipairs(items) do assert.equal("organization.project", p.object) end
      assert.equal(3, #log())
      assert.equal("", r.stderr)
    end)

    it("caps with --max-items and stops at one page with --no-paginate", function()
      local r = run{ "--max-items", "2", "projects", "list", "--limit", "1" }
      assert.equal(0, r.code, r.stderr)
      assert.equal(2, #cli.jsonl(r.stdout))
      assert.equal(2, #log())
      f:clear_requests()
      r = run{ "projects", "list", "--limit", "2", "--no-paginate" }
      assert.equal(2, #cli.jsonl(r.stdout))
      assert.equal(1, #log())
    end)

    it("takes path arguments positionally or as flags, dashes or underscores", function()
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      local a = run{ "projects", "retrieve", p.id }
      local b = run{ "projects", "retrieve", "--project-id", p.id }
      local c = run{ "projects", "retrieve", "--project_id", p.id }
      assert.equal(0, a.code, a.stderr)
      assert.equal(p.id, json.decode(a.stdout).id)
      assert.equal(a.stdout, b.stdout)
      assert.equal(a.stdout, c.stdout)
      local d = run{ "projects", "rate_limits", "list-rate-limits", p.id }
      assert.equal(0, d.code, d.stderr)
    end)

    it("types flags: numbers, booleans (bare or valued), repeated arrays, dotted nested fields", function()
      local r = run{ "projects", "list", "--include-archived", "--limit", "5" }
      assert.equal(0, r.code, r.stderr)
      assert.equal("include_archived=true&limit=5", log()[1].query)
      f:clear_requests()
      r = run{ "audit-logs", "list", "--effective-at.gte", "2026-11-01", "--project-ids", "proj_a",
        "--project-ids", "proj_b", "--include-archived=false" }
      assert.equal(2, r.code) -- audit-logs list has no include_archived
      assert.matches("unknown flag %-%-include%-archived", r.stderr)
      assert.matches("audit%-logs list", r.stderr)
      r = run{ "audit-logs", "list", "--effective-at.gte", "2026-11-01", "--project-ids", "proj_a",
        "--project-ids", "proj_b" }
      assert.equal(0, r.code, r.stderr)
      local q = log()[1].query
      assert.matches("effective_at%%5Bgte%%5D=1793491200", q)
      assert.matches("project_ids%%5B%%5D=proj_a&project_ids%%5B%%5D=proj_b", q)
    end)

    it("turns ISO dates and relative times into Unix seconds", function()
      local cases = {
        { "2026-11-01", 1793491200 }, { "2026-11-01T12:00Z", 1793534400 },
        { "2026-11-01T14:00+02:00", 1793534400 }, { "1793491200", 1793491200 },
      }
      for _, c in ipairs(cases) do
        f:clear_requests()
        local r = run{ "usage", "costs", "--start-time", c[1], "--end-time", "1793577600", "--no-paginate" }
        assert.equal(0, r.code, r.stderr)
        assert.matches("start_time=" .. c[2] .. "&", log()[1].query .. "&", 1, true)
      end
      -- a relative time is the command's "now" minus the span: between the clock read just before
      -- and just after that run (a fixed tolerance around one reading failed under valgrind)
      for _, c in ipairs{ { "30d", 30 * 86400 }, { "12h", 12 * 3600 }, { "15m", 15 * 60 }, { "2w", 14 * 86400 } } do
        f:clear_requests()
        local lo = os.time()
        local r = run{ "usage", "costs", "--start-time", c[1], "--no-paginate" }
        local hi = os.time()
        assert.equal(0, r.code, r.stderr)
        local t = tonumber(log()[1].query:match("start_time=(%d+)"))
        assert.is_true(t >= lo - c[2] and t <= hi - c[2],
          ("%s: %s not in [%d, %d]"):format(c[1], t, lo - c[2], hi - c[2]))
      end
      local r = run{ "usage", "costs", "--start-time", "2026-13-01" }
      assert.equal(2, r.code)
      assert.matches("%-%-start%-time", r.stderr)
    end)

    it("reads --params inline, from @file and from stdin; flags override", function()
      local r = run{ "projects", "create", "--params", '{"name":"from json"}', "--name", "from flag" }
      assert.equal(0, r.code, r.stderr)
      assert.same({ name = "from flag" }, json.decode(log()[1].body))
      local path = os.tmpname()
      local fh = assert(io.open(path, "w")); fh:write('{"name":"from file"}'); fh:close()
      r = run{ "projects", "create", "--params", "@" .. path }
      os.remove(path)
      assert.equal("from file", json.decode(r.stdout).name)
      r = run({ "projects", "create", "--params", "-" }, { stdin = '{"name":"from stdin"}' })
      assert.equal("from stdin", json.decode(r.stdout).name)
    end)

    it("rejects wrong flags, values and types in one line, exit 2, before any request", function()
      local cases = {
        { { "projects", "list", "--limt", "2" }, "unknown flag %-%-limt; did you mean '%-%-limit'%?" },
        { { "projects", "list", "--limit", "two" }, "%-%-limit: expected a number" },
        { { "admin-api-keys", "list", "--order", "up" }, "admin%-api%-keys list: %-%-order: expected one of" },
        { { "projects", "create" }, "%-%-name" },
        { { "projects", "retrieve" }, "missing PROJECT_ID" },
        { { "projects", "retrieve", "a", "b" }, "unexpected argument" },
        { { "projcts", "list" }, "did you mean 'projects'" },
        { { "projects", "lst" }, "did you mean 'list'" },
        { { "projects", "create", "--params", "{bad" }, "%-%-params" },
        { { "--admin-key", "sk-admin-secret-0123456789abcdef", "projects", "list" }, "OPENAI_ADMIN_KEY" },
        { { "--format", "yaml", "projects", "list" }, "%-%-format" },
      }
      for _, c in ipairs(cases) do
        local r = run(c[1])
        assert.equal(2, r.code, table.concat(c[1], " ") .. ": " .. r.stderr)
        assert.matches(c[2], r.stderr)
        local lines = select(2, r.stderr:gsub("\n", ""))
        assert.equal(1, lines, r.stderr)
        assert.not_matches("0123456789abcdef", r.stderr)
        assert.equal("", r.stdout)
      end
      assert.equal(0, #log())
      local r = run{ "usage", "costs", "--start-time", "1d", "--group-by", "project", "--group-by", "line_item" }
      assert.equal(2, r.code)
      assert.matches("usage costs: %-%-group%-by: expected one of .*did you mean 'project_id'", r.stderr)
    end)
  end)

  describe("help", function()
    it("lists children, methods and fields from the table at every level", function()
      local top = run{ "--help" }
      assert.equal(0, top.code)
      assert.matches("projects%s+59 commands", top.stdout)
      assert.matches("exit codes:", top.stdout)
      local node = run{ "projects", "--help" }
      assert.equal(0, node.code)
      assert.matches("service%-accounts", node.stdout)
      assert.matches("archive%s+POST /organization/projects/{project_id}/archive", node.stdout)
      local cmd = run{ "projects", "users", "create", "--help" }
      assert.equal(0, cmd.code)
      assert.matches("PROJECT_ID, %-%-project%-id", cmd.stdout)
      assert.matches("%-%-role%s+string, required", cmd.stdout)
      assert.matches("Project role", cmd.stdout)
      local costs = run{ "usage", "costs", "--help" }
      assert.matches("%-%-start%-time%s+time, required", costs.stdout)
      assert.matches("%-%-group%-by%s+[%w_|]+, repeated", costs.stdout)
      local missing = run{ "projects" }
      assert.equal(2, missing.code)
    end)

    it("prints completion scripts; bash loads them; candidates come from the table", function()
      local r = cli.run({ "completion", "bash" })
      assert.equal(0, r.code)
      local ok = os.execute(("bash -c %s >/dev/null 2>&1"):format(cli.shquote(
        "source <(" .. cli.command({ "completion", "bash" }) .. ") && complete -p openai-admin")))
      assert.is_true(ok)
      -- and completes: what bash would offer after "openai-admin projects us<TAB>"
      local dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir -p " .. dir .. " && ln -s " .. cli.shquote(cli.bin) .. " " .. dir .. "/openai-admin")
      local h = io.popen(("PATH=%s:$PATH bash -c %s"):format(dir, cli.shquote(
        "source <(openai-admin completion bash); COMP_WORDS=(openai-admin projects users cr); COMP_CWORD=3; "
        .. "_openai_admin; echo \"${COMPREPLY[*]}\"")))
      local offered = h:read("a")
      h:close()
      os.execute("rm -rf " .. dir)
      assert.equal("create\n", offered)
      for _, shell in ipairs{ "zsh", "fish" } do
        local s = cli.run({ "completion", shell })
        assert.equal(0, s.code)
        assert.matches("__complete", s.stdout)
      end
      assert.equal(2, cli.run({ "completion", "tcsh" }).code)
      assert.matches("users\n", cli.run({ "__complete", "projects", "us" }).stdout)
      assert.matches("%-%-role\n", cli.run({ "__complete", "projects", "users", "create", "--r" }).stdout)
      assert.equal("asc\ndesc\n", cli.run({ "__complete", "admin-api-keys", "list", "--order", "" }).stdout)
    end)
  end)

  describe("output", function()
    it("json, jsonl, csv and tsv carry the same items; jq reads the JSON Lines", function()
      local jl = run{ "users", "list" }
      local items = cli.jsonl(jl.stdout)
      assert.is_true(#items >= 4)
      local js = json.decode(run{ "--format", "json", "users", "list" }.stdout)
      assert.equal(#items, #js)
      for i, u in ipairs(items) do assert.equal(u.id, js[i].id) end

      local csv = parse_csv(run{ "--format", "csv", "users", "list" }.stdout)
      assert.equal(#items + 1, #csv)
      local col = {}
      for i, h in ipairs(csv[1]) do col[h] = i end
      for i, u in ipairs(items) do
        assert.equal(u.id, csv[i + 1][col.id])
        assert.equal(u.email, csv[i + 1][col.email])
        assert.equal(tostring(u.created), csv[i + 1][col.created]) -- raw numbers in CSV
      end
      local tsv = run{ "--format", "tsv", "--fields", "id,email", "users", "list" }.stdout
      local n = 0
      for line in tsv:gmatch("[^\n]+") do
        n = n + 1
        if n == 1 then assert.equal("id\temail", line)
        else assert.equal(items[n - 1].id .. "\t" .. items[n - 1].email, line) end
      end

      -- jq is on deps/debian.txt for make test: its absence is a failure, not a silent skip
      assert.is_true(has_jq(), "jq is not installed (deps/debian.txt lists it for make test)")
      local h = io.popen(cli.command({ "--base-url", f.base_url, "users", "list" },
        { env = { OPENAI_ADMIN_KEY = f.admin_key } }) .. " | jq -r .email")
      local emails = h:read("a")
      h:close()
      local want = {}
      for _, u in ipairs(items) do want[#want + 1] = u.email end
      assert.equal(table.concat(want, "\n") .. "\n", emails)
    end)

    it("--fields selects dotted paths in every format", function()
      local r = run{ "--fields", "start_time,amount.value,project_id", "--format", "csv", "usage", "costs",
        "--start-time", "2026-11-01", "--end-time", "2026-11-03", "--group-by", "project_id" }
      assert.equal(0, r.code, r.stderr)
      local rows = parse_csv(r.stdout)
      assert.same({ "start_time", "amount.value", "project_id" }, rows[1])
      assert.is_true(#rows > 1)
      for k = 2, #rows do
        assert.matches("^%d+$", rows[k][1])
        assert.matches("^%d+%.?%d*$", rows[k][2])
      end
      local jl = run{ "--fields", "id,owner.user.email", "projects", "list" }
      for _, x in ipairs(cli.jsonl(jl.stdout)) do
        assert.is_string(x.id)
        assert.is_nil(x.name)
      end
    end)

    it("keeps money exact: the CSV amount is the decoded JSON value", function()
      local args = { "usage", "costs", "--start-time", "2026-11-01", "--end-time", "2026-11-04" }
      local buckets = cli.jsonl(run(args).stdout)
      local values = {}
      for _, b in ipairs(buckets) do for _, res in ipairs(b.results) do values[#values + 1] = res.amount.value end end
      local a2 = { "--format", "csv", "--fields", "amount.value" }
      for _, x in ipairs(args) do a2[#a2 + 1] = x end
      local rows = parse_csv(run(a2).stdout)
      assert.equal(#values + 1, #rows)
      for i, v in ipairs(values) do assert.equal(v, tonumber(rows[i + 1][1])) end
    end)

    it("tables fit the width and show times as UTC ISO", function()
      local r = run({ "--format", "table", "users", "list" }, { env = { COLUMNS = "60" } })
      assert.equal(0, r.code, r.stderr)
      for line in r.stdout:gmatch("[^\n]+") do assert.is_true(utf8.len(line) <= 60, line) end
      local wide = run({ "--format", "table", "--fields", "id,created", "users", "list" },
        { env = { COLUMNS = "200" } })
      assert.matches("\nuser_%w+%s+%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ\n", wide.stdout)
    end)

    it("shows one object as a table of fields", function()
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      local r = run({ "--format", "table", "projects", "retrieve", p.id }, { env = { COLUMNS = "80" } })
      assert.equal(0, r.code, r.stderr)
      assert.matches("\nid%s+" .. p.id .. "\n", r.stdout)
      assert.matches("\nname%s+" .. p.name:gsub("%p", "%%%0") .. "\n", r.stdout)
      assert.matches("\ncreated_at%s+%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ\n", r.stdout)
    end)

    it("sends -H headers; TSV escapes tabs and newlines", function()
      local r = run{ "-H", "X-Team: it ops", "--header", "X-Run: 7", "projects", "create", "--name", "tab\there\nx" }
      assert.equal(0, r.code, r.stderr)
      local seen = log()[1].headers
      assert.equal("it ops", seen["x-team"])
      assert.equal("7", seen["x-run"])
      local id = json.decode(r.stdout).id
      local tsv = run{ "--format", "tsv", "--fields", "name,id", "projects", "retrieve", id }.stdout
      assert.equal("name\tid\ntab\\there\\nx\t" .. id .. "\n", tsv)
    end)

    it("--names adds names next to ids, listing each collection once per run", function()
      local projects = {}
      for _, p in ipairs(cli.jsonl(run{ "projects", "list" }.stdout)) do projects[p.id] = p.name end
      f:clear_requests()
      local r = run{ "--format", "csv", "--names", "usage", "costs", "--start-time", "2026-11-01",
        "--end-time", "2026-11-05", "--group-by", "project_id" }
      assert.equal(0, r.code, r.stderr)
      local rows = parse_csv(r.stdout)
      local col = {}
      for i, h in ipairs(rows[1]) do col[h] = i end
      assert.is_number(col.project_name)
      assert.equal(col.project_id + 1, col.project_name)
      local checked = 0
      for k = 2, #rows do
        local id = rows[k][col.project_id]
        if id ~= "" then
          assert.equal(projects[id], rows[k][col.project_name])
          checked = checked + 1
        end
      end
      assert.is_true(checked > 1)
      local lists = 0
      for _, req in ipairs(log()) do if req.path == "/v1/organization/projects" then lists = lists + 1 end end
      assert.equal(1, lists)

      -- users and API keys too (keys are found through their project's list)
      local users = {}
      for _, u in ipairs(cli.jsonl(run{ "users", "list" }.stdout)) do users[u.id] = u.name end
      r = run{ "--format", "csv", "--names", "--fields", "user_id,api_key_id,project_id", "usage", "completions",
        "--start-time", "2026-11-01", "--end-time", "2026-11-03", "--group-by", "user_id", "--group-by", "api_key_id",
        "--group-by", "project_id" }
      assert.equal(0, r.code, r.stderr)
      rows = parse_csv(r.stdout)
      assert.same({ "user_id", "user_name", "api_key_id", "api_key_name", "project_id", "project_name" }, rows[1])
      assert.is_true(#rows > 1)
      for k = 2, #rows do
        assert.equal(users[rows[k][1]], rows[k][2])
        local keys = cli.jsonl(run{ "projects", "api-keys", "list", rows[k][5] }.stdout)
        local name
        for _, key in ipairs(keys) do if key.id == rows[k][3] then name = key.name end end
        if name then assert.equal(name, rows[k][4]) end
      end
    end)

    it("--names finds service accounts through their project", function()
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      local sa = cli.jsonl(run{ "projects", "service-accounts", "list", p.id }.stdout)[1]
      local wip = json.decode(run{ "workload-identity-providers", "create", "--name", "gha", "--type", "oidc",
        "--issuer", "https://token.example.com", "--audience", "openai" }.stdout)
      local made = run{ "workload-identity-providers", "federation-rules", "create", wip.id, "--project-id", p.id,
        "--service-account-id", sa.id, "--attribute-matchers.repository", "org/repo" }
      assert.equal(0, made.code, made.stderr)
      local rows = parse_csv(run{ "--names", "--format", "csv", "--fields", "service_account_id,project_id",
        "workload-identity-providers", "federation-rules", "list", wip.id }.stdout)
      assert.same({ "service_account_id", "service_account_name", "project_id", "project_name" }, rows[1])
      assert.same({ sa.id, sa.name, p.id, p.name }, rows[2])
    end)

    it("shows progress on stderr on a terminal only", function()
      local piped = run{ "projects", "list", "--limit", "1" }
      assert.equal("", piped.stderr)
      if not has_script() then pending("script(1) not installed") return end
      local cmd = cli.command({ "--base-url", f.base_url, "projects", "list", "--limit", "1" },
        { env = { OPENAI_ADMIN_KEY = f.admin_key } })
      local h = io.popen(("script -qec %s /dev/null </dev/null"):format(cli.shquote(cmd)))
      local s = h:read("a")
      h:close()
      assert.matches("1 items, 1 pages", s)
      assert.matches("proj_", s) -- and the table itself
      -- a 429 ridden out: the wait shows on the progress line
      f:fault{ method = "GET", path = "/v1/organization/projects", count = 1, status = 429, retry_after = 1 }
      h = io.popen(("script -qec %s /dev/null </dev/null"):format(cli.shquote(cmd)))
      s = h:read("a")
      h:close()
      assert.matches("waiting: GET /organization/projects%?limit=1 waits", s)
      assert.matches("proj_", s)
    end)
  end)

  describe("safety", function()
    it("--dry-run prints the library's request and sends nothing", function()
      local r = run{ "--dry-run", "projects", "users", "create", "proj_a b", "--user-id", "user_1", "--role", "member" }
      assert.equal(0, r.code, r.stderr)
      assert.equal("POST " .. f.base_url .. "/organization/projects/proj_a%20b/users\n"
        .. '{"user_id":"user_1","role":"member"}\n', r.stdout:gsub('{"role":"member","user_id":"user_1"}',
          '{"user_id":"user_1","role":"member"}'))
      assert.equal(0, #log())
      r = run({ "--dry-run", "projects", "list", "--limit", "3" }, { no_key = true })
      assert.equal(0, r.code, r.stderr)
      assert.equal("GET " .. f.base_url .. "/organization/projects?limit=3\n", r.stdout)
      -- and the real run sends exactly that
      local dry = run{ "--dry-run", "projects", "create", "--name", "Exact", "--geography", "US" }
      run{ "projects", "create", "--name", "Exact", "--geography", "US" }
      local seen = log()[1]
      local method, url, body = dry.stdout:match("^(%u+) (%S+)\n(.*)\n$")
      assert.equal(seen.method, method)
      assert.equal(f.base_url:gsub("/v1$", "") .. seen.path, url)
      assert.same(json.decode(seen.body), json.decode(body))
    end)

    it("--dry-run --format jsonl prints the request as one JSON object", function()
      local r = run{ "--dry-run", "--format", "jsonl", "projects", "create", "--name", "J" }
      assert.equal(0, r.code, r.stderr)
      local req = json.decode(r.stdout)
      assert.same({ method = "POST", url = f.base_url .. "/organization/projects", body = { name = "J" } }, req)
      assert.equal(0, #log())
    end)

    it("refuses destructive commands without --yes when not on a terminal", function()
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      f:clear_requests()
      for _, argv in ipairs{ { "projects", "archive", p.id }, { "users", "delete", "user_x" },
        { "projects", "users", "update", p.id, "user_x", "--role", "member" } } do
        local r = run(argv)
        assert.equal(2, r.code, r.stderr)
        assert.matches("without %-%-yes", r.stderr)
      end
      assert.equal(0, #log())
      local r = run{ "--yes", "projects", "archive", p.id }
      assert.equal(0, r.code, r.stderr)
      assert.equal("archived", json.decode(r.stdout).status)
      -- plain updates do not ask
      local p2 = cli.jsonl(run{ "projects", "list" }.stdout)[2]
      r = run{ "projects", "update", p2.id, "--name", "renamed" }
      assert.equal(0, r.code, r.stderr)
      assert.equal("renamed", json.decode(r.stdout).name)
    end)

    it("asks on a terminal: n sends nothing, y goes ahead", function()
      if not has_script() then pending("script(1) not installed") return end
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      f:clear_requests()
      local cmd = cli.command({ "--base-url", f.base_url, "--format", "json", "projects", "archive", p.id },
        { env = { OPENAI_ADMIN_KEY = f.admin_key } })
      local function on_tty(answer)
        local h = io.popen(("printf '%s\\n' | script -qec %s /dev/null; echo \"rc=$?\""):format(answer,
          cli.shquote(cmd)))
        local s = h:read("a")
        h:close()
        return s
      end
      local no = on_tty("n")
      assert.matches("Go ahead%? %[y/N%]", no)
      assert.matches("rc=2", no)
      assert.equal(0, #log())
      local yes = on_tty("y")
      assert.matches("rc=0", yes)
      assert.equal(1, #log())
      assert.equal("POST", log()[1].method)
    end)
  end)

  describe("exit codes", function()
    it("maps each error kind", function()
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      local r = run{ "projects", "retrieve", "proj_missing" }
      assert.equal(3, r.code)
      assert.matches("^openai_admin: not_found %(404%) GET /organization/projects/proj_missing", r.stderr)
      assert.equal(4, run({ "projects", "list" }, { env = { OPENAI_ADMIN_KEY = "sk-admin-wrong-key-123456" } }).code)
      assert.equal(4, run({ "projects", "list" }, { no_key = true }).code)
      f:fault{ method = "GET", path = "/v1/organization/projects", count = 1, status = 403 }
      assert.equal(4, run{ "projects", "list" }.code)
      f:fault{ method = "GET", path = "/v1/organization/projects", count = 5, status = 429 }
      r = run{ "--max-retries", "1", "projects", "list" }
      assert.equal(5, r.code, r.stderr)
      f:fault{ method = "DELETE", path = "/_fake/faults" }
      f:control("DELETE", "/_fake/faults")
      f:fault{ method = "GET", path = "/v1/organization/projects", count = 3, status = 500 }
      assert.equal(1, run{ "--max-retries", "0", "projects", "list" }.code)
      f:control("DELETE", "/_fake/faults")
      r = cli.run({ "--base-url", "http://127.0.0.1:1/v1", "--max-retries", "0", "projects", "list" },
        { env = { OPENAI_ADMIN_KEY = "k" } })
      assert.equal(6, r.code, r.stderr)
      f:fault{ method = "GET", path = "/v1/organization/projects/" .. p.id, count = 1, fault = "delay", delay = 3 }
      r = run{ "--timeout", "0.3", "--max-retries", "0", "projects", "retrieve", p.id }
      assert.equal(6, r.code, r.stderr)
      assert.equal(2, run{ "projects", "list", "--bogus" }.code)
    end)

    it("--format json puts the error object on stderr as JSON", function()
      local r = run{ "--format", "json", "projects", "retrieve", "proj_missing" }
      assert.equal(3, r.code)
      local e = json.decode(r.stderr)
      assert.equal("not_found", e.error.kind)
      assert.equal(404, e.error.status)
    end)

    it("exits 130 when interrupted", function()
      if os.getenv("VALGRIND") then pending("timing-based: skipped under make valgrind") return end
      local p = cli.jsonl(run{ "projects", "list" }.stdout)[1]
      f:fault{ method = "GET", path = "/v1/organization/projects/" .. p.id, count = 1, fault = "delay", delay = 1 }
      local cmd = cli.command({ "--base-url", f.base_url, "projects", "retrieve", p.id },
        { env = { OPENAI_ADMIN_KEY = f.admin_key } })
      local h = io.popen(("%s >/dev/null 2>&1 & pid=$!; sleep 0.4; kill -INT $pid; wait $pid; echo $?"):format(cmd))
      local s = h:read("a")
      h:close()
      assert.equal("130", s:match("%d+"))
    end)
  end)

  it("--fake serves a command with no key at all", function()
    local r = cli.run({ "--fake", "projects", "list" })
    assert.equal(0, r.code, r.stderr)
    assert.is_true(#cli.jsonl(r.stdout) > 0)
  end)
end)
