-- Reports against the fake: totals equal the sums computed from the raw API to the cent, with
-- names, over several pages and groupings; the keys report finds a planted never-used, stale and
-- orphaned key; the access review lists every grant.
local fake = require("helpers.fake")
local openai_admin = require("openai_admin")
local json = require("openai_admin.json")
local jobs = require("openai_admin.jobs")

local function micros(dec) -- a decimal string or number -> integer micro-units (exact for <= 6 decimals)
  local s = type(dec) == "string" and dec or jobs.common.decimal(dec)
  local neg, ip, fp = s:match("^(%-?)(%d+)%.?(%d*)$")
  assert(ip, "not a decimal: " .. s)
  assert(#fp <= 6, "more than 6 decimals: " .. s)
  local v = tonumber(ip) * 1000000 + tonumber((fp .. "000000"):sub(1, 6))
  return neg == "-" and -v or v
end

local function raw_get(f, path)
  local status, body = f:request("GET", "/v1" .. path)
  assert.equal(200, status, body)
  return json.decode(body)
end

-- every bucket of a raw usage/costs query, all pages
local function raw_buckets(f, path)
  local out, page = {}, nil
  repeat
    local p = raw_get(f, path .. (page and ("&page=" .. page) or ""))
    for _, b in ipairs(p.data) do out[#out + 1] = b end
    page = p.has_more and p.next_page or nil
  until not page
  return out
end

describe("jobs reports", function()
  local f, client
  local now = os.time()
  local day = now - now % 86400
  local since, till = day - 20 * 86400, day - 86400

  setup(function()
    f = fake.start{ seed = 11, projects = 5, users = 8 }
    client = openai_admin.new{ base_url = f.base_url, admin_key = f.admin_key }
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  it("cost report: every page, names (archived included), exact totals equal the raw API's", function()
    local projects = client.admin.organization.projects:list{ limit = 100 }:collect()
    client.admin.organization.projects:archive(projects[2].id)
    local names = {}
    for _, p in ipairs(projects) do names[p.id] = p.name end

    local r = jobs.costs.report(client, { since = since, ["until"] = till,
      group_by = { "line_item", "project_id" }, limit = 3 })
    assert.same({ "start_time", "end_time", "project_id", "project_name", "line_item", "amount", "currency" },
      r.columns)
    assert.matches("Costs API", r.note)
    -- the raw, ungrouped totals
    local raw_total = 0
    for _, b in ipairs(raw_buckets(f, "/organization/costs?start_time=" .. since .. "&end_time=" .. till)) do
      raw_total = raw_total + micros(b.results[1].amount.value)
    end
    assert.is_true(raw_total > 0)
    assert.equal(1, #r.totals.overall)
    assert.equal(raw_total, micros(r.totals.overall[1].amount))
    -- every row: a bucket of the range, names present, amounts exact
    local sum, archived_seen, per_group = 0, false, {}
    for _, row in ipairs(r.rows) do
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT00:00:00Z$", row.start_time)
      assert.equal(names[row.project_id], row.project_name)
      if row.project_id == projects[2].id then archived_seen = true end
      assert.is_string(row.line_item)
      assert.equal("usd", row.currency)
      sum = sum + micros(row.amount)
      local k = row.project_id .. "|" .. row.line_item
      per_group[k] = (per_group[k] or 0) + micros(row.amount)
    end
    assert.equal(raw_total, sum)
    assert.is_true(archived_seen)
    assert.is_true(#r.totals.groups >= 4)
    for _, g in ipairs(r.totals.groups) do
      assert.equal(per_group[g.project_id .. "|" .. g.line_item], micros(g.amount))
      assert.equal(names[g.project_id], g.project_name)
    end
    -- several pages were read
    local pages = 0
    for _, req in ipairs(f:request_log()) do
      if req.path == "/v1/organization/costs" then pages = pages + 1 end
    end
    assert.is_true(pages >= 7, "pages: " .. pages)
    -- outputs
    local csv = jobs.common.render_rows(r.rows, r.columns, "csv")
    assert.matches("^start_time,end_time,project_id,project_name,line_item,amount,currency\r\n", csv)
    assert.matches('"gpt%-4o', csv) -- line items hold a comma: quoted
    local lines = 0
    for line in jobs.common.render_rows(r.rows, r.columns, "jsonl"):gmatch("[^\n]+") do
      local o = json.decode(line)
      assert.is_string(o.amount)
      lines = lines + 1
    end
    assert.equal(#r.rows, lines)
  end)

  it("cost report by project sums to the same total; amounts keep the API's digits", function()
    local by_p = jobs.costs.report(client, { since = since, ["until"] = till, group_by = { "project_id" } })
    local ungrouped = jobs.costs.report(client, { since = since, ["until"] = till })
    assert.equal(by_p.totals.overall[1].amount, ungrouped.totals.overall[1].amount)
    assert.equal("0.1", jobs.common.decimal(0.1))
    assert.equal("12.4835", jobs.common.decimal(12.4835))
    assert.equal("0.000015", jobs.common.decimal(1.5e-05))
    assert.equal("0.3", jobs.common.dec_add("0.1", "0.2"))
    assert.equal("-0.005", jobs.common.dec_add("1.995", "-2"))
  end)

  it("usage reports for every usage endpoint of the table total the raw API's, with names", function()
    local endpoints = jobs.usage.endpoints()
    assert.is_true(#endpoints >= 11)
    local users = client.admin.organization.users:list{ limit = 100 }:collect()
    local emails = {}
    for _, u in ipairs(users) do emails[u.id] = u.email end
    for _, e in ipairs(endpoints) do
      local dims = {}
      for _, d in ipairs({ "project_id", "user_id", "api_key_id", "model" }) do
        for _, allowed in ipairs(require("openai_admin.jobs.buckets").group_dims("admin.organization.usage." .. e)) do
          if allowed == d then dims[#dims + 1] = d end
        end
      end
      local r = jobs.usage.report(client, e, { since = since, ["until"] = till, group_by = dims, limit = 4 })
      local path = require("openai_admin").endpoint("admin.organization.usage." .. e).path
      local raw = {}
      for _, b in ipairs(raw_buckets(f, path .. "?start_time=" .. since .. "&end_time=" .. till)) do
        for k, v in pairs(b.results[1]) do
          if math.type(v) == "integer" then raw[k] = (raw[k] or 0) + v end
        end
      end
      for _, m in ipairs(r.metrics) do
        assert.equal(raw[m], r.totals.overall[m], e .. " " .. m)
      end
      assert.is_true(#r.metrics > 0, e)
      for _, row in ipairs(r.rows) do
        if row.project_id then assert.is_string(row.project_name, e) end
        if row.user_id then assert.equal(emails[row.user_id], row.user_email, e) end
        if row.api_key_id then assert.is_string(row.api_key_name, e) end
      end
    end
  end)

  it("rejects bad arguments before any request, naming them", function()
    f:clear_requests()
    local function err(fn)
      local ok, e = pcall(fn)
      assert.is_false(ok)
      assert.equal("invalid_argument", e.kind)
      return tostring(e)
    end
    assert.matches("since", err(function() jobs.costs.report(client, {}) end))
    assert.matches("group_by%[1%]: 'model'",
      err(function() jobs.costs.report(client, { since = "7d", group_by = { "model" } }) end))
    assert.matches("unknown usage endpoint 'chat'",
      err(function() jobs.usage.report(client, "chat", { since = "7d" }) end))
    assert.matches("since", err(function() jobs.usage.report(client, "images", { since = "last week" }) end))
    assert.equal(0, #f:request_log())
  end)

  it("keys report flags a planted never-used, stale and orphaned key", function()
    local org = client.admin.organization
    local p = org.projects:list{ limit = 100 }:collect()[1]
    local member
    for _, m in ipairs(org.projects.users:list(p.id):collect()) do
      if m.role ~= "owner" then member = m end
    end
    local never = f:control("POST", "/_fake/projects/" .. p.id .. "/api_keys", { user_id = member.id, name = "never" })
    local stale = f:control("POST", "/_fake/projects/" .. p.id .. "/api_keys",
      { user_id = member.id, name = "stale", last_used_at = now - 200 * 86400 })
    local fresh = f:control("POST", "/_fake/projects/" .. p.id .. "/api_keys",
      { user_id = member.id, name = "fresh", last_used_at = now - 60 })
    local r = jobs.keys.report(client, { stale_days = 90 })
    local by = {}
    for _, row in ipairs(r.rows) do by[row.key_id] = row end
    assert.equal("never_used", by[never.id].flags)
    assert.equal("", by[never.id].last_used_at)
    assert.equal("unused_90_days", by[stale.id].flags)
    assert.equal(200, by[stale.id].days_unused)
    assert.equal("", by[fresh.id].flags)
    assert.equal(member.id, by[fresh.id].owner_id)
    assert.equal(p.name, by[fresh.id].project_name)
    -- the owner leaves the project, then the organization
    org.projects.users:delete(p.id, member.id)
    r = jobs.keys.report(client, {})
    by = {}
    for _, row in ipairs(r.rows) do by[row.key_id] = row end
    assert.equal("owner_left_project", by[fresh.id].flags)
    org.users:delete(member.id)
    r = jobs.keys.report(client, {})
    by = {}
    local kinds = {}
    for _, row in ipairs(r.rows) do by[row.key_id] = row; kinds[row.kind] = true end
    assert.equal("owner_left_project;owner_left_org", by[fresh.id].flags)
    assert.equal("never_used;owner_left_project;owner_left_org", by[never.id].flags)
    assert.is_true(by[fresh.id].orphaned)
    assert.is_true(kinds.admin and kinds.project and kinds.service_account)
    assert.is_true(r.counts.orphaned >= 3 and r.counts.never_used >= 1 and r.counts.stale >= 1)
    -- nothing in the report says 1970
    assert.is_nil(jobs.common.render_rows(r.rows, r.columns, "csv"):find("1970", 1, true))
  end)

  it("access review: every user, group membership, project member and service account", function()
    f:reset()
    local org = client.admin.organization
    local p1 = org.projects:list():collect()[1]
    local m1 = org.projects.users:list(p1.id):collect()[1]
    local prole = org.projects.roles:create(p1.id, { role_name = "Auditor", permissions = { "api.keys.read" } })
    org.projects.users.roles:create(p1.id, m1.id, { role_id = prole.id })
    local snap = jobs.access_review.snapshot(client)
    local rows = snap.rows
    local function count(pred)
      local n = 0
      for _, r in ipairs(rows) do if pred(r) then n = n + 1 end end
      return n
    end
    local users = org.users:list{ limit = 100 }:collect()
    assert.equal(#users, count(function(r) return r.scope_type == "organization" and r.via == "direct" end))
    local members, svcs = 0, 0
    for _, p in ipairs(org.projects:list{ limit = 100, include_archived = true }:collect()) do
      members = members + #org.projects.users:list(p.id):collect()
      svcs = svcs + #org.projects.service_accounts:list(p.id):collect()
    end
    assert.equal(members, count(function(r)
      return r.scope_type == "project" and r.principal_type == "user" and r.via == "direct"
    end))
    assert.equal(svcs, count(function(r) return r.principal_type == "service_account" end))
    assert.is_true(count(function(r) return r.scope_type == "group" end) > 0)
    assert.equal(1, count(function(r)
      return r.scope_id == p1.id and r.principal_id == m1.id and r.role == "Auditor" and r.via == "role_assignment"
    end))
    local doc = json.decode(assert(json.encode(snap.document)))
    assert.equal(#users, #doc.users)
    assert.is_string(doc.generated_at)
  end)
end)

describe("jobs.common", function()
  local common = require("openai_admin.jobs.common")
  it("reads times as dates, date-times, relative times and Unix seconds", function()
    local now = 1780000000
    assert.equal(1735689600, common.time("2025-01-01", "t", "since", now))
    assert.equal(1735732800, common.time("2025-01-01T12:00:00Z", "t", "since", now))
    assert.equal(1735725600, common.time("2025-01-01T12:00:00+02:00", "t", "since", now))
    assert.equal(now - 7 * 86400, common.time("7d", "t", "since", now))
    assert.equal(now - 3600, common.time("-1h", "t", "since", now))
    assert.equal(now + 7200, common.time("+2h", "t", "since", now))
    assert.equal(now, common.time("now", "t", "since", now))
    assert.equal(12345, common.time("12345", "t", "since", now))
    local ok, err = pcall(common.time, "yesterday", "t", "since", now)
    assert.is_false(ok)
    assert.equal("since", err.param)
    assert.equal("", common.iso(json.null))
    assert.equal("2025-01-01T00:00:00Z", common.iso(1735689600))
  end)

  it("sums decimals exactly and quotes CSV fields", function()
    local s = "0"
    for _ = 1, 1000 do s = common.dec_add(s, "0.001") end
    assert.equal("1", s)
    assert.equal("-1.5", common.dec_add("-2", "0.5"))
    assert.equal("100000000000000000000.01", common.dec_add("99999999999999999999.99", "0.02"))
    assert.equal("123456789012.345", common.decimal(123456789012.345))
    assert.equal('a,"b,c","d""e"\r\n', common.render_rows({ { x = "a", y = "b,c", z = 'd"e' } }, { "x", "y", "z" },
      "csv"):match("\r\n(.*)$"))
  end)
end)
