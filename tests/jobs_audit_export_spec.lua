-- Audit-log export against the fake: oldest first, exact ranges, and a file export killed with
-- SIGKILL at random points (while events are added) that ends holding each event exactly once.
local fake = require("helpers.fake")
local socket = require("socket")
local openai_admin = require("openai_admin")
local json = require("openai_admin.json")
local jobs = require("openai_admin.jobs")

-- every event the fake holds, oldest first (walked newest first with after= and reversed)
local function all_events(f, query)
  local out, after = {}, nil
  repeat
    local status, body = f:request("GET", "/v1/organization/audit_logs?limit=100" .. (query or "")
      .. (after and ("&after=" .. after) or ""))
    assert.equal(200, status, body)
    local p = json.decode(body)
    for _, ev in ipairs(p.data) do out[#out + 1] = ev end
    after = p.has_more and p.last_id or nil
  until not after
  local rev = {}
  for i = #out, 1, -1 do rev[#rev + 1] = out[i] end
  return rev
end

local function file_lines(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("a")
  fh:close()
  return s
end

describe("jobs: audit export", function()
  local f, client
  setup(function()
    f = fake.start{ seed = 31, projects = 3, users = 4, audit_events = 700 }
    client = openai_admin.new{ base_url = f.base_url, admin_key = f.admin_key }
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  it("writes every event of the API, oldest first, to stdout", function()
    local lines = {}
    local r = jobs.audit_export.export(client, { write = function(s) lines[#lines + 1] = s end })
    assert.is_true(r.done)
    local expected = all_events(f)
    local got = {}
    for chunk in table.concat(lines):gmatch("[^\n]+") do got[#got + 1] = json.decode(chunk).id end
    assert.equal(#expected, #got)
    for i, ev in ipairs(expected) do assert.equal(ev.id, got[i]) end
  end)

  it("honours since and until exactly, many events in one second included", function()
    f:control("POST", "/_fake/audit_events", { count = 250 }) -- all at the same second
    local evs = all_events(f)
    local since, till = evs[100].effective_at, evs[#evs].effective_at
    local expected = all_events(f, "&effective_at%5Bgte%5D=" .. since .. "&effective_at%5Blte%5D=" .. till)
    local got = {}
    jobs.audit_export.export(client, { since = since, ["until"] = till, write = function(s)
      for line in s:gmatch("[^\n]+") do got[#got + 1] = json.decode(line) end
    end })
    assert.equal(#expected, #got)
    for i, ev in ipairs(expected) do assert.equal(ev.id, got[i].id) end
    assert.is_true(#got > 250)
  end)

  it("follows new events with backoff until stopped", function()
    local lines, polls = 0, 0
    local r = jobs.audit_export.export(client, {
      since = "now", follow = true, poll_interval = 0.01, max_interval = 0.05,
      write = function(s) for _ in s:gmatch("\n") do lines = lines + 1 end end,
      stop = function()
        polls = polls + 1
        if polls == 2 then f:control("POST", "/_fake/audit_events", { count = 7 }) end
        return polls >= 5
      end,
    })
    assert.is_false(r.done)
    assert.is_true(lines >= 7)
  end)

  it("goes on by time, skipping the boundary, when the API refuses the cursor", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local out, ck = dir .. "/a.jsonl", dir .. "/a.ckpt"
    f:control("POST", "/_fake/audit_events", { count = 40 }) -- a boundary second with many events
    jobs.audit_export.export(client, { output = out, checkpoint = ck })
    local c = json.decode(file_lines(ck))
    assert.is_true(#c.boundary_ids >= 40)
    c.cursor = "audit_log-gone0000_99999999" -- as if the event had passed retention
    local fh = assert(io.open(ck, "w"))
    fh:write((assert(json.encode(c))))
    fh:close()
    f:control("POST", "/_fake/audit_events", { count = 5 })
    local r = jobs.audit_export.export(client, { output = out, checkpoint = ck })
    assert.equal(5, r.events)
    local expected = all_events(f)
    local got = {}
    for line in io.lines(out) do got[#got + 1] = json.decode(line).id end
    assert.equal(#expected, #got)
    for i, ev in ipairs(expected) do assert.equal(ev.id, got[i]) end
    os.execute("rm -rf " .. dir)
  end)

  it("killed with SIGKILL at random points, restarted, leaves each event exactly once", function()
    f:control("POST", "/_fake/reset")
    f:control("POST", "/_fake/audit_events", { count = 4000 })
    f:latency(0.01)
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local out, ckpt, script = dir .. "/audit.jsonl", dir .. "/audit.ckpt", dir .. "/export.lua"
    local fh = assert(io.open(script, "w"))
    fh:write([[
      local openai_admin = require("openai_admin")
      local client = openai_admin.new{ base_url = arg[1], admin_key = arg[2] }
      local r = require("openai_admin.jobs").audit_export.export(client,
        { output = arg[3], checkpoint = arg[4], page_size = 20 })
      io.stderr:write("done ", r.events, "\n")
    ]])
    fh:close()
    local env = "export LUA_PATH=" .. fake.shquote(package.path) .. " LUA_CPATH=" .. fake.shquote(package.cpath)
      .. "; "
    local cmd = env .. "exec sh -c " .. fake.shquote("echo $$; exec lua5.4 " .. script .. " " .. f.base_url .. " "
      .. f.admin_key .. " " .. out .. " " .. ckpt .. " 2>>" .. dir .. "/stderr")
    local function alive(pid)
      local s = io.open("/proc/" .. pid .. "/stat")
      if not s then return false end
      local st = s:read("a"):match("^%d+ %b() (%a)")
      s:close()
      return st ~= "Z"
    end
    math.randomseed(os.time())
    local kills, runs, added = 0, 0, 0
    while kills < 12 and runs < 100 do
      runs = runs + 1
      local h = assert(io.popen(cmd))
      local pid = assert(tonumber(h:read("l")))
      if runs % 2 == 0 then
        f:control("POST", "/_fake/audit_events", { count = 90 }) -- while it runs
        added = added + 90
      end
      socket.sleep(0.02 + math.random() * 0.25)
      if alive(pid) then
        os.execute("kill -KILL " .. pid)
        kills = kills + 1
      else
        -- it caught up before the kill: give the next run more to do
        f:control("POST", "/_fake/audit_events", { count = 300 })
        added = added + 300
      end
      h:close()
      f:control("POST", "/_fake/audit_events", { count = 10 }) -- between runs
      added = added + 10
    end
    assert.is_true(kills >= 10, "only " .. kills .. " kills in " .. runs .. " runs")
    f:latency(0)
    -- a last, complete run
    local h = assert(io.popen(cmd))
    h:read("l")
    local _, how, code = h:close()
    assert.equal("exit", how)
    assert.equal(0, code, file_lines(dir .. "/stderr"))
    local expected = all_events(f)
    assert.is_true(#expected >= 5000, #expected .. " events")
    local text = file_lines(out)
    assert.equal("\n", text:sub(-1)) -- whole lines only
    local got, seen = {}, {}
    for line in text:gmatch("([^\n]*)\n") do
      local ev = assert(json.decode(line), "a whole JSON line")
      assert.is_nil(seen[ev.id], "duplicate " .. ev.id)
      seen[ev.id] = true
      got[#got + 1] = ev.id
    end
    assert.equal(#expected, #got)
    for i, ev in ipairs(expected) do assert.equal(ev.id, got[i]) end
    local ck = json.decode(file_lines(ckpt))
    assert.equal(#text, ck.output_length)
    os.execute("rm -rf " .. dir)
  end)
end)
