-- The fake as the jobs need it: usage and costs that add up across groupings and bucket widths,
-- seed data dated relative to now and used like a living organization, request ids unique across
-- runs, and the audit log growing on demand.
local json = require("openai_admin.json")
local api = require("openai_admin.api")
local fake_app = require("openai_admin.fake.app")

local KEY = "sk-admin-fake-key"

local function enc(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function get(app, path, query)
  local resp = app:handle({ method = "GET", path = "/v1" .. path, query = query or "",
    headers = { authorization = "Bearer " .. KEY }, conn_id = 1 })
  assert.equal(200, resp.status, path .. "?" .. tostring(query) .. ": " .. resp.body)
  return json.decode(resp.body), resp
end

-- every bucket of a usage query (all pages)
local function buckets(app, path, query)
  local out, page = {}, nil
  repeat
    local p = get(app, path, query .. (page and ("&page=" .. page) or ""))
    for _, b in ipairs(p.data) do out[#out + 1] = b end
    page = p.has_more and p.next_page or nil
  until not page
  return out
end

-- integer metrics of a result (amount as micro-dollars) summed into acc
local function add(acc, r)
  for k, v in pairs(r) do
    if math.type(v) == "integer" then acc[k] = (acc[k] or 0) + v end
  end
  if r.amount then acc.micros = (acc.micros or 0) + math.floor(r.amount.value * 1e6 + 0.5) end
end

local USAGE = {}
for _, row in ipairs(api) do
  if row.pagination == "page_token" then USAGE[#USAGE + 1] = row end
end

describe("fake usage and costs", function()
  local now = os.time()
  local app = fake_app.new({ admin_key = KEY, seed = 7, seed_data = { projects = 4, users = 6 },
    clock = function() return now end })
  local day0 = now - now % 86400 - 3 * 86400

  it("covers every usage endpoint of the endpoint table", function()
    assert.is_true(#USAGE >= 11)
  end)

  for _, row in ipairs(USAGE) do
    local dims = {}
    local gb = nil
    for _, q in ipairs(row.query) do if q.name == "group_by" then gb = q end end
    for _, v in ipairs(gb and gb.enum or {}) do dims[#dims + 1] = v end

    it(row.sdk_path .. ": groups sum to the ungrouped total; 24 hours sum to the day", function()
      local range = "start_time=" .. day0 .. "&end_time=" .. (day0 + 2 * 86400)
      local total = {}
      for _, b in ipairs(buckets(app, row.path, range)) do
        assert.equal(1, #b.results)
        add(total, b.results[1])
      end
      assert.is_true(next(total) ~= nil)
      for _, d in ipairs(dims) do
        local sum, seen = {}, {}
        for _, b in ipairs(buckets(app, row.path, range .. "&group_by%5B%5D=" .. d)) do
          for _, r in ipairs(b.results) do
            assert.is_nil(seen[b.start_time .. "|" .. tostring(r[d])], "one result per group")
            seen[b.start_time .. "|" .. tostring(r[d])] = true
            add(sum, r)
          end
        end
        assert.same(total, sum, "grouped by " .. d)
      end
      if row.sdk_path ~= "admin.organization.usage.costs" then -- costs come in daily buckets only
        local hourly = {}
        local hb = buckets(app, row.path, range .. "&bucket_width=1h&limit=168")
        assert.equal(48, #hb)
        for _, b in ipairs(hb) do add(hourly, b.results[1]) end
        assert.same(total, hourly)
      end
    end)
  end

  it("costs: amounts are whole micro-dollars and filters select exactly their groups", function()
    local range = "start_time=" .. day0 .. "&end_time=" .. (day0 + 86400)
    local by = get(app, "/organization/costs", range .. "&group_by%5B%5D=project_id").data[1].results
    assert.is_true(#by >= 2)
    for _, r in ipairs(by) do
      assert.equal("usd", r.amount.currency)
      assert.equal(r.amount.value, math.floor(r.amount.value * 1e6 + 0.5) / 1e6)
      local one = get(app, "/organization/costs", range .. "&project_ids%5B%5D=" .. enc(r.project_id)).data[1]
      assert.equal(r.amount.value, one.results[1].amount.value)
    end
  end)

  it("has usage in the last 7 days, none from the future", function()
    local recent = get(app, "/organization/usage/completions", "start_time=" .. (now - 7 * 86400))
    local n = 0
    for _, b in ipairs(recent.data) do n = n + b.results[1].input_tokens end
    assert.is_true(n > 0)
    local tomorrow = now - now % 86400 + 86400
    local future = get(app, "/organization/usage/completions", "start_time=" .. tomorrow .. "&end_time="
      .. (tomorrow + 86400))
    assert.equal(1, #future.data)
    for _, b in ipairs(future.data) do assert.equal(0, b.results[1].input_tokens) end
  end)
end)

describe("fake seed data", function()
  it("is dated relative to now, with keys used recently, long ago and never", function()
    local now = os.time()
    local app = fake_app.new({ admin_key = KEY, seed = 2, seed_data = { projects = 3, users = 4, audit_events = 20 } })
    local log = get(app, "/organization/audit_logs", "limit=1")
    assert.is_true(math.abs(log.data[1].effective_at - now) < 120)
    for _, p in ipairs(get(app, "/organization/projects", "").data) do
      assert.is_true(now - p.created_at < 365 * 86400)
    end
    local recent, old, never = 0, 0, 0
    for _, p in ipairs(get(app, "/organization/projects", "").data) do
      for _, k in ipairs(get(app, "/organization/projects/" .. p.id .. "/api_keys", "").data) do
        if k.last_used_at == json.null then
          never = never + 1
        elseif now - k.last_used_at < 86400 then
          recent = recent + 1
        elseif now - k.last_used_at > 90 * 86400 then
          old = old + 1
        end
      end
    end
    assert.is_true(recent > 0 and old > 0 and never > 0, ("recent %d old %d never %d"):format(recent, old, never))
  end)

  it("keeps ids across resets but never repeats request ids across runs", function()
    local a = fake_app.new({ admin_key = KEY, seed = 4 })
    local b = fake_app.new({ admin_key = KEY, seed = 4 })
    local pa, ra = get(a, "/organization/projects", "")
    local pb, rb = get(b, "/organization/projects", "")
    assert.equal(pa.data[1].id, pb.data[1].id)
    assert.are_not.equal(ra.headers["x-request-id"], rb.headers["x-request-id"])
  end)
end)

describe("fake audit log growth", function()
  it("POST /_fake/audit_events appends events, newest first, with working cursors", function()
    local app = fake_app.new({ admin_key = KEY, seed = 1, seed_data = { audit_events = 5 } })
    local resp = app:handle({ method = "POST", path = "/_fake/audit_events", query = "", headers = {}, conn_id = 1,
      body = '{"count": 250}' })
    assert.equal(200, resp.status, resp.body)
    local r = json.decode(resp.body)
    assert.equal(255, r.total)
    local first = get(app, "/organization/audit_logs", "limit=100")
    assert.equal(r.last_id, first.data[1].id)
    local seen, n, after = {}, 0, nil
    repeat
      local p = get(app, "/organization/audit_logs", "limit=100" .. (after and ("&after=" .. after) or ""))
      for _, ev in ipairs(p.data) do
        assert.is_nil(seen[ev.id])
        seen[ev.id] = true
        n = n + 1
      end
      after = p.has_more and p.last_id or nil
    until not after
    assert.equal(255, n)
    local bad = app:handle({ method = "POST", path = "/_fake/audit_events", query = "", headers = {}, conn_id = 1,
      body = '{"count": 0}' })
    assert.equal(400, bad.status)
  end)
end)
