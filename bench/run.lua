-- bench/run.lua: `make bench`, the performance comparisons of issue 4 (docs/performance.md).
--
--   lua5.4 bench/run.lua [--only NAME[,NAME...]] [--reps N] [--no-node]
--     NAME: cpu_per_request, paging, latency_concurrency, rate_limited (also prints
--           rate_limited_adaptive), memory_stream, node_sdk
--
-- Starts the fake Admin API on loopback with bench/bench_app.lua (the real fake, plus audit-log
-- pages of ~700-byte events built from a template so the server is not the bottleneck), builds
-- the C baselines (bench/baseline.c: one reused libcurl handle + cJSON, the floor every CPU
-- ratio is taken against, and the same with jansson), runs every comparison against them, the
-- Lua floor (bench/lua_floor.lua: luasocket keep-alive + lua-cjson) and the Node SDK, prints
-- the tables, and ends with one line per benchmark that a script can read:
--   bench NAME: ratio R (target T) ok|miss
-- (node_sdk has no target: "(target none) ok" when node ran, "skipped" otherwise; memory_stream's
-- ratio is the RSS growth divided by the 10 MB budget; paging_vs_node is the Node SDK's items/s
-- while paging over ours, so below 1 is faster than Node.)
--
-- Each measurement runs in a fresh child process (`lua5.4 bench/run.lua --child MODE ...`, which
-- prints "result key=value ..."): CPU is user+sys of that process (os.clock() in Lua, getrusage in
-- C, process.cpuUsage() in Node) around the measured loop only. The machine is shared and noisy,
-- so CPU comparisons take the minimum over --reps runs (default 3) of each side.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/bench/[^/]*$")) or "."
if ROOT:sub(1, 1) ~= "/" then
  local h = io.popen("pwd")
  local pwd = h:read("l")
  h:close()
  ROOT = ROOT == "." and pwd or (pwd .. "/" .. ROOT)
end
package.path = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. ROOT .. "/tests/?.lua;" .. ROOT
  .. "/bench/?.lua;" .. package.path
package.cpath = ROOT .. "/build/?.so;" .. package.cpath

local KEY = "sk-admin-bench-key-0123456789"

---------------------------------------------------------------------------------------------
-- Children: one measurement each
---------------------------------------------------------------------------------------------
local function result(fields)
  local keys = {}
  for k in pairs(fields) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = fields[k]
    parts[#parts + 1] = k .. "=" .. (math.type(v) == "float" and string.format("%.4f", v) or tostring(v))
  end
  io.stdout:write("result ", table.concat(parts, " "), "\n")
end

local function monotonic()
  local ok, socket = pcall(require, "socket")
  if ok then return socket.gettime() end
  return os.time()
end

local function rss_kb()
  local f = io.open("/proc/self/status", "r")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

local CHILD = {}

-- 2,000 sequential retrieves of one project
function CHILD.retrieve(url, pid, n)
  local oa = require "openai_admin"
  n = math.tointeger(tonumber(n))
  local client <close> = oa.new { base_url = url, admin_key = KEY }
  local projects = client.admin.organization.projects
  for _ = 1, 20 do projects:retrieve(pid) end -- warm: connection, compiled validators
  local c0, w0 = os.clock(), monotonic()
  for _ = 1, n do
    if projects:retrieve(pid).id ~= pid then error("wrong project") end
  end
  result { requests = n, cpu = os.clock() - c0, wall = monotonic() - w0 }
end

-- walk every audit-log event, `limit` per page; with sample_rss, RSS is read every 10,000 items
local function walk(url, limit, sample_rss)
  local oa = require "openai_admin"
  limit = math.tointeger(tonumber(limit))
  local client <close> = oa.new { base_url = url, admin_key = KEY }
  collectgarbage("collect")
  local rss0, rss_max = 0, 0
  local c0, w0 = os.clock(), monotonic()
  local page = client.admin.organization.audit_logs:list { limit = limit }
  local n = 0
  for e in page do
    n = n + 1
    if e.id == nil then error("bad event") end
    if sample_rss and n % 10000 == 1 then
      local r = rss_kb()
      if rss0 == 0 then rss0 = r end
      if r > rss_max then rss_max = r end
    end
  end
  local fields = { items = n, cpu = os.clock() - c0, wall = monotonic() - w0 }
  if sample_rss then
    rss_max = math.max(rss_max, rss_kb())
    fields.rss_start_mb = rss0 / 1024
    fields.rss_growth_mb = (rss_max - rss0) / 1024
  end
  result(fields)
end

function CHILD.page(url, limit) walk(url, limit, false) end
function CHILD.memory(url, limit) walk(url, limit, true) end

-- n retrieves through client:parallel at concurrency c (the fake adds latency to each)
function CHILD.latency(url, pid, n, c, workers)
  local oa = require "openai_admin"
  n, c = math.tointeger(tonumber(n)), math.tointeger(tonumber(c))
  local client <close> = oa.new { base_url = url, admin_key = KEY }
  local projects = client.admin.organization.projects
  projects:retrieve(pid)
  local fns = {}
  for i = 1, n do fns[i] = function() return projects:retrieve(pid).id end end
  local c0, w0 = os.clock(), monotonic()
  local _, _, nfailed = client:parallel(fns, { concurrency = c, workers = math.tointeger(tonumber(workers)) })
  result { requests = n, failures = nfailed, cpu = os.clock() - c0, wall = monotonic() - w0 }
end

-- the same through the core alone (request_many), to see what the Lua scheduler adds
function CHILD.latency_core(url, pid, n, c)
  local core = require "openai_admin.core"
  n, c = math.tointeger(tonumber(n)), math.tointeger(tonumber(c))
  local cc = core.client { base_url = url, admin_key = KEY }
  local reqs = {}
  for i = 1, n do reqs[i] = { method = "GET", path = "/organization/projects/" .. pid } end
  cc:request(reqs[1])
  local c0, w0 = os.clock(), monotonic()
  local out = cc:request_many(reqs, { concurrency = c })
  local failures = 0
  for _, r in ipairs(out) do if r.status ~= 200 then failures = failures + 1 end end
  result { requests = n, failures = failures, cpu = os.clock() - c0, wall = monotonic() - w0 }
  cc:close()
end

-- n requests over 4 endpoints (a quarter each) at concurrency c, under the fake's rate limit.
-- variant: "default" (openai_admin.new defaults), "window=S" (rate_limit = { window = S },
-- max_retries = 20: the user says how long the API's window is) or "fixed=R/S" (rate_limit =
-- { requests = R, window = S }, max_retries = 20: the user gives the limit itself)
function CHILD.ratelimit(url, pid, uid, n, c, variant, workers)
  local oa = require "openai_admin"
  n, c = math.tointeger(tonumber(n)), math.tointeger(tonumber(c))
  local cfg = { base_url = url, admin_key = KEY }
  local window = variant:match("^window=([%d.]+)$")
  local requests, per = variant:match("^fixed=(%d+)/([%d.]+)$")
  if window then
    cfg.rate_limit = { window = tonumber(window) }
    cfg.max_retries = 20
  elseif requests then
    cfg.rate_limit = { requests = tonumber(requests), window = tonumber(per) }
    cfg.max_retries = 20
  end
  local client <close> = oa.new(cfg)
  local org = client.admin.organization
  local jobs = {
    function() return org.projects:retrieve(pid) end,
    function() return org.users:retrieve(uid) end,
    function() return org.projects.users:list(pid, { limit = 1 }) end,
    function() return org.projects.service_accounts:list(pid, { limit = 1 }) end,
  }
  local fns = {}
  for i = 1, n do fns[i] = jobs[(i - 1) % 4 + 1] end
  local c0, w0 = os.clock(), monotonic()
  local _, errs, nfailed = client:parallel(fns, { concurrency = c, workers = math.tointeger(tonumber(workers)) })
  local first = errs[next(errs) or 0]
  result { requests = n, failures = nfailed, cpu = os.clock() - c0, wall = monotonic() - w0,
    first_error = first and tostring(first):gsub("%s", "_"):sub(1, 120) or "none" }
end

-- 87 creates under 7 per window through client:map (bench/bulk_import.lua)
local bulk_import = dofile(ROOT .. "/bench/bulk_import.lua")
function CHILD.bulk_import(...) bulk_import.child(KEY, ...) end

if arg[1] == "--child" then
  local mode = arg[2]
  local f = CHILD[mode]
  if not f then error("unknown child mode " .. tostring(mode)) end
  f(table.unpack(arg, 3))
  os.exit(0, true)
end

---------------------------------------------------------------------------------------------
-- Parent
---------------------------------------------------------------------------------------------
local fake = require "helpers.fake"

local opts = { reps = 3, only = nil, node = true }
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == "--only" then
      i = i + 1
      opts.only = {}
      for name in (arg[i] or ""):gmatch("[^,]+") do opts.only[name] = true end
    elseif a == "--reps" then
      i = i + 1
      opts.reps = math.tointeger(tonumber(arg[i])) or 3
    elseif a == "--no-node" then
      opts.node = false
    else
      io.stderr:write("usage: lua5.4 bench/run.lua [--only NAME,...] [--reps N] [--no-node]\n")
      os.exit(2)
    end
    i = i + 1
  end
end
local function wanted(name) return not opts.only or opts.only[name] end

local function say(fmt, ...)
  io.stderr:write(string.format(fmt, ...), "\n")
  io.stderr:flush()
end

local function sh(cmd)
  local h = assert(io.popen(cmd .. " 2>&1"))
  local out = h:read("a")
  local ok, _, code = h:close()
  return out, ok, code
end

local q = fake.shquote
local LUA = os.getenv("LUA") or "lua5.4"
local CHILD_ENV = "LUA_PATH=" .. q(package.path) .. " LUA_CPATH=" .. q(package.cpath) .. " "

local function parse(out, what)
  local line = out:match("result ([^\n]*)") or out:match("(requests=[^\n]*)") -- baseline.c: no prefix
  if not line then error(what .. " failed:\n" .. out, 0) end
  local t = {}
  for k, v in line:gmatch("(%S+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end

local function lua_child(what, ...)
  local parts = {}
  for i, a in ipairs { ... } do parts[i] = q(a) end
  local out = sh(CHILD_ENV .. q(LUA) .. " " .. q(ROOT .. "/bench/run.lua") .. " --child " .. what .. " "
    .. table.concat(parts, " "))
  return parse(out, "lua " .. what)
end

-- the C baselines, built here from bench/baseline.c: with cJSON (Debian libcjson-dev), the floor
-- every CPU ratio is taken against, and with jansson (an extra row)
local BASELINES = {
  cjson = { bin = ROOT .. "/build/bench/baseline_cjson", flags = "-DUSE_CJSON", pkgs = "libcurl libcjson" },
  jansson = { bin = ROOT .. "/build/bench/baseline_jansson", flags = "", pkgs = "libcurl jansson" },
}
local function build_baseline()
  local src = ROOT .. "/bench/baseline.c"
  for _, b in pairs(BASELINES) do
    local cmd = ("mkdir -p %s && ${CC:-cc} -O2 %s -o %s %s $(pkg-config --cflags --libs %s)"):format(
      q(ROOT .. "/build/bench"), b.flags, q(b.bin), q(src), b.pkgs)
    local out, ok = sh(cmd)
    if not ok then error("cannot build the C baseline (" .. b.pkgs .. "):\n" .. cmd .. "\n" .. out, 0) end
  end
end

-- which: "cjson" (the floor) or "jansson"
local function c_child(which, ...)
  local parts = {}
  for i, a in ipairs { ... } do parts[i] = q(a) end
  return parse(sh(q(BASELINES[which].bin) .. " " .. table.concat(parts, " ")), "C baseline " .. which)
end

-- the Lua floor: luasocket keep-alive + lua-cjson (bench/lua_floor.lua)
local function floor_child(...)
  local parts = {}
  for i, a in ipairs { ... } do parts[i] = q(a) end
  return parse(sh(CHILD_ENV .. q(LUA) .. " " .. q(ROOT .. "/bench/lua_floor.lua") .. " " .. table.concat(parts, " ")),
    "Lua floor")
end

local NODE_SCRIPT = ROOT .. "/bench/node_bench.mjs"
local function node_available()
  if not opts.node then return false, "--no-node" end
  local _, ok = sh("command -v node")
  if not ok then return false, "node is not installed" end
  local f = io.open(ROOT .. "/tests/node/node_modules/openai/package.json", "r")
  if not f then return false, "tests/node/node_modules/openai is missing (cd tests/node && npm install)" end
  local version = f:read("a"):match('"version"%s*:%s*"([^"]+)"')
  f:close()
  return true, version
end

local function node_child(...)
  local parts = {}
  for i, a in ipairs { ... } do parts[i] = q(a) end
  return parse(sh("node " .. q(NODE_SCRIPT) .. " " .. table.concat(parts, " ")), "node")
end

local function min_of(runs, key)
  local m
  for _, r in ipairs(runs) do
    if m == nil or r[key] < m then m = r[key] end
  end
  return m
end

local function machine()
  local cpu = "?"
  local f = io.open("/proc/cpuinfo")
  if f then
    cpu = f:read("a"):match("model name%s*:%s*([^\n]+)") or "?"
    f:close()
  end
  local mem = "?"
  f = io.open("/proc/meminfo")
  if f then
    local kb = tonumber(f:read("a"):match("MemTotal:%s*(%d+)"))
    f:close()
    if kb then mem = string.format("%.1f GiB", kb / 1048576) end
  end
  local nproc = (sh("nproc")):match("%d+") or "?"
  local curl = (sh("curl-config --version 2>/dev/null || pkg-config --modversion libcurl")):gsub("%s+$", "")
  return string.format("%s CPUs, %s, %s RAM, %s, %s", nproc, cpu, mem, _VERSION, curl)
end

---------------------------------------------------------------------------------------------
say("bench: building the C baselines and starting the fake (bench/bench_app.lua)")
build_baseline()
local have_node, node_info = node_available()

local rows, lines = {}, {}
local function row(...) rows[#rows + 1] = { ... } end
local function verdict(name, ratio, target, ok)
  lines[#lines + 1] = string.format("bench %s: ratio %.2f (target %.2f) %s", name, ratio, target, ok and "ok" or "miss")
end
local node_rows = {}

local function start(events)
  return fake.start { app = "bench_app", lua_path = ROOT .. "/bench/?.lua", admin_key = KEY,
    seed = 1, projects = 20, users = 50, audit_events = events, args = { "--quiet" } }
end

-- Runs one benchmark; a failure is reported as a miss and the others still run.
local TARGETS = { cpu_per_request = 1.3, paging = 1.8, latency_concurrency = 1.2, rate_limited = 1.15,
  memory_stream = 1.0, bulk_import = 1.05 }
local function section(name, fn)
  if not wanted(name) then return end
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    say("bench: %s failed: %s", name, tostring(err))
    row(name, "failed: " .. tostring(err):match("^[^\n]*"):sub(1, 60), "", "n/a", "")
    lines[#lines + 1] = string.format("bench %s: ratio n/a (target %.2f) miss", name, TARGETS[name])
  end
end

local srv = start(100000)
local oa = require "openai_admin"
local setup_client = oa.new { base_url = srv.base_url, admin_key = KEY }
local PID = setup_client.admin.organization.projects:list { limit = 1 }.data[1].id
local UID = setup_client.admin.organization.users:list { limit = 1 }.data[1].id
setup_client:close()
local REPS = opts.reps

-- The floors table: every peer's CPU on the same job against the C + cJSON floor, one run.
local floor_rows = {}
local function floors(job, runs, n_units, unit)
  local c = min_of(runs.cjson, "cpu")
  for _, peer in ipairs { { "C libcurl + cJSON (the floor)", runs.cjson }, { "C libcurl + jansson", runs.jansson },
    { "Lua luasocket + lua-cjson", runs.floor }, { "openai-admin", runs.ours }, { "Node SDK", runs.node } } do
    if peer[2] and peer[2][1] then
      local cpu = min_of(peer[2], "cpu")
      floor_rows[#floor_rows + 1] = { job, peer[1], string.format("%.1f %s", cpu / n_units * 1e6, unit),
        cpu / c, n_units / min_of(peer[2], "wall") }
    end
  end
end

-- 1. CPU per request, 2,000 sequential retrieves ------------------------------------------
section("cpu_per_request", function()
  -- short runs on a shared machine: more of them (min of 9 by default), and ours right next to
  -- the floor's, in alternating order, so that both see the same stretch of machine time
  local reps = math.max(REPS * 3, 9)
  say("bench: cpu_per_request (2,000 sequential retrieves, %d runs each)", reps)
  local runs = { cjson = {}, jansson = {}, floor = {}, ours = {}, node = {} }
  local target = "/organization/projects/" .. PID
  local pair_ratios = {}
  for i = 1, reps do
    local c, o
    if i % 2 == 1 then
      c = c_child("cjson", "retrieve", srv.base_url, KEY, target, "2000")
      o = lua_child("retrieve", srv.base_url, PID, "2000")
    else
      o = lua_child("retrieve", srv.base_url, PID, "2000")
      c = c_child("cjson", "retrieve", srv.base_url, KEY, target, "2000")
    end
    runs.cjson[#runs.cjson + 1], runs.ours[#runs.ours + 1] = c, o
    pair_ratios[#pair_ratios + 1] = o.cpu / c.cpu
    runs.jansson[#runs.jansson + 1] = c_child("jansson", "retrieve", srv.base_url, KEY, target, "2000")
    runs.floor[#runs.floor + 1] = floor_child("retrieve", srv.base_url, KEY, target, "2000")
  end
  table.sort(pair_ratios)
  local l, c = min_of(runs.ours, "cpu"), min_of(runs.cjson, "cpu")
  row("cpu_per_request", string.format("%.1f us/req", l / 2000 * 1e6), string.format("%.1f us/req", c / 2000 * 1e6),
    l / c, "<= " .. TARGETS.cpu_per_request)
  row("  median of the paired runs", string.format("%d pairs", #pair_ratios),
    string.format("%.2f-%.2f", pair_ratios[1], pair_ratios[#pair_ratios]), pair_ratios[(#pair_ratios + 1) // 2],
    "(info)")
  verdict("cpu_per_request", l / c, TARGETS.cpu_per_request, l / c <= TARGETS.cpu_per_request)
  if have_node then
    local n = node_child("retrieve", srv.base_url, KEY, PID, "2000")
    runs.node[1] = n
    node_rows[#node_rows + 1] = { "cpu_per_request", string.format("%.1f us/req", n.cpu / 2000 * 1e6), n.cpu / c }
  end
  floors("2,000 sequential retrieves", runs, 2000, "us/req")
end)

-- 2. paging 100,000 audit-log events at limit=100 --------------------------------------------
section("paging", function()
  say("bench: paging (100,000 audit-log events of ~700 bytes, limit=100, %d runs each)", REPS)
  local runs = { cjson = {}, jansson = {}, floor = {}, ours = {}, node = {} }
  local target = "/organization/audit_logs"
  for _ = 1, REPS do
    runs.cjson[#runs.cjson + 1] = c_child("cjson", "page", srv.base_url, KEY, target, "100")
    runs.jansson[#runs.jansson + 1] = c_child("jansson", "page", srv.base_url, KEY, target, "100")
    runs.floor[#runs.floor + 1] = floor_child("page", srv.base_url, KEY, target, "100")
    runs.ours[#runs.ours + 1] = lua_child("page", srv.base_url, "100")
  end
  for name, list in pairs(runs) do
    for _, r in ipairs(list) do assert(r.items == 100000, name .. " walked " .. tostring(r.items) .. " items") end
  end
  local l, c = min_of(runs.ours, "cpu"), min_of(runs.cjson, "cpu")
  local lw, cw = min_of(runs.ours, "wall"), min_of(runs.cjson, "wall")
  row("paging (CPU)", string.format("%.2f s", l), string.format("%.2f s", c), l / c, "<= " .. TARGETS.paging)
  row("paging (items/s)", string.format("%.0f", 100000 / lw), string.format("%.0f", 100000 / cw), cw / lw,
    "(info: Lua/C speed)")
  verdict("paging", l / c, TARGETS.paging, l / c <= TARGETS.paging)
  if have_node then
    local n = node_child("page", srv.base_url, KEY, "100")
    runs.node[1] = n
    node_rows[#node_rows + 1] = { "paging (CPU)", string.format("%.2f s", n.cpu), n.cpu / c }
    node_rows[#node_rows + 1] = { "paging (items/s)", string.format("%.0f", n.items / n.wall), cw / n.wall }
    -- items per second while paging, against the Node SDK in the same run: the ratio is Node's
    -- rate over ours, so below 1 means faster than Node
    local ratio = (n.items / n.wall) / (100000 / lw)
    verdict("paging_vs_node", ratio, 1.0, ratio < 1.0)
  else
    lines[#lines + 1] = "bench paging_vs_node: ratio n/a (target 1.00) skipped"
  end
  floors("paging 100,000 events", runs, 100000, "us/item")
end)

-- 3. 1,000 retrieves, 20 ms latency, concurrency 16 ------------------------------------------
section("latency_concurrency", function()
  say("bench: latency_concurrency (1,000 retrieves, 20 ms latency, concurrency 16)")
  srv:latency(0.02)
  local cleanup <close> = setmetatable({}, { __close = function() pcall(srv.latency, srv, 0) end }) -- luacheck: ignore
  local ideal = 1000 * 0.02 / 16
  local luas, cores = {}, {}
  for _ = 1, math.max(2, REPS - 1) do
    luas[#luas + 1] = lua_child("latency", srv.base_url, PID, "1000", "16")
    cores[#cores + 1] = lua_child("latency_core", srv.base_url, PID, "1000", "16")
  end
  local l, core_w = min_of(luas, "wall"), min_of(cores, "wall")
  local failures = 0
  for _, r in ipairs(luas) do failures = failures + r.failures end
  row("latency_concurrency (wall)", string.format("%.2f s", l), string.format("ideal %.2f s", ideal), l / ideal,
    "<= 1.2")
  row("  same via core request_many", string.format("%.2f s", core_w), string.format("ideal %.2f s", ideal),
    core_w / ideal, "(info)")
  verdict("latency_concurrency", l / ideal, 1.2, l / ideal <= 1.2 and failures == 0)
  if have_node then
    local n = node_child("latency", srv.base_url, KEY, PID, "1000", "16")
    node_rows[#node_rows + 1] = { "latency_concurrency (wall)", string.format("%.2f s", n.wall), n.wall / ideal }
  end
  srv:latency(0)
end)

-- 4. rate-limited job: 600 requests over 4 endpoints, 60 per 10 s window per endpoint -------------
section("rate_limited", function()
  local N, LIMIT, WINDOW = 600, 60, 10
  local per_endpoint = N // 4
  -- a fixed window per endpoint from its first request: the last of `per_endpoint` requests can
  -- go out at the start of window ceil(per_endpoint / LIMIT)
  local ideal = (math.ceil(per_endpoint / LIMIT) - 1) * WINDOW
  local function limit_on(headers)
    srv:control("DELETE", "/_fake/rate_limits")
    srv:request("POST", "/_bench/rate_limit_headers", headers and "true" or "false")
    srv:rate_limit { path = "/v1/organization/", requests = LIMIT, window = WINDOW, headers = headers }
    srv:clear_requests()
  end
  local function server_429s()
    local log = srv:requests()
    log = type(log) == "table" and (log.data or log) or {}
    local n429 = 0
    for _, e in ipairs(log) do if e.status == 429 then n429 = n429 + 1 end end
    return n429
  end
  local function run_variant(variant, headers)
    limit_on(headers)
    say("bench: rate_limited (%d requests over 4 endpoints, %d per %d s per endpoint, 429 without Retry-After%s;"
      .. " client %s; about %d s)", N, LIMIT, WINDOW, headers and "" or " or x-ratelimit headers", variant, ideal + 5)
    local r = lua_child("ratelimit", srv.base_url, PID, UID, tostring(N), "16", variant)
    r.server_429 = server_429s()
    if r.failures > 0 then say("bench: rate_limited %s: first error: %s", variant, tostring(r.first_error)) end
    return r
  end
  local function show(r)
    return string.format("%.1f s, %d failed, %d x 429", r.wall, r.failures, r.server_429)
  end
  local ideal_s = string.format("ideal %d s", ideal)
  local cleanup <close> = setmetatable({}, { __close = function() -- luacheck: ignore
    pcall(srv.control, srv, "DELETE", "/_fake/rate_limits")
  end })
  -- the user configures the limit: rate_limit = { requests = 60, window = 10 }
  local r = run_variant("fixed=" .. LIMIT .. "/" .. WINDOW, false)
  row("rate_limited (budget = limit)", show(r), ideal_s, r.wall / ideal, "<= 1.15, 0 failed")
  verdict("rate_limited", r.wall / ideal, 1.15, r.wall / ideal <= 1.15 and r.failures == 0)
  -- the user gives only the window; the budget is learnt from bare 429s
  r = run_variant("window=" .. WINDOW, false)
  row("rate_limited_adaptive", show(r), ideal_s, r.wall / ideal, "<= 1.15, 0 failed")
  verdict("rate_limited_adaptive", r.wall / ideal, 1.15, r.wall / ideal <= 1.15 and r.failures == 0)
  r = run_variant("window=" .. WINDOW, true)
  row("  same, x-ratelimit-* on 429s", show(r), ideal_s, r.wall / ideal, "(info)")
  r = run_variant("default", false)
  row("  openai_admin.new{} defaults", show(r), ideal_s, r.wall / ideal, "(info)")
  if have_node then
    limit_on(false)
    local n = node_child("ratelimit", srv.base_url, KEY, PID, UID, tostring(N), "16")
    node_rows[#node_rows + 1] = { "rate_limited (wall)", string.format("%.1f s, %d failed", n.wall, n.failures),
      n.wall / ideal }
  end
  srv:control("DELETE", "/_fake/rate_limits")
end)
-- 4b. 87 creates through client:map under 7 per window (bench/bulk_import.lua)
-- 4c. the embed tickers (examples/embed/*_ticker.lua): W <= 1.3 x I and a loop gap under 30 ms
for _, adapter in ipairs { "luv", "cqueues" } do
  local name = "embed_" .. adapter
  TARGETS[name] = 1.3
  section(name, function()
    say("bench: %s (examples/embed/%s_ticker.lua: 200 retrieves, 20 ms latency, concurrency 16, a 10 ms timer)",
      name, adapter)
    local out = sh(CHILD_ENV .. q(LUA) .. " " .. q(ROOT .. "/examples/embed/" .. adapter .. "_ticker.lua"))
    local ok, w, i, g = out:match(
      "embed %w+: (%d+) requests ok, wall ([%d.]+) s %(ideal ([%d.]+) s%), max loop gap (%d+) ms")
    if not ok then error("the example failed:\n" .. out, 0) end
    w, i, g = tonumber(w), tonumber(i), tonumber(g)
    row(name .. " (wall)", string.format("%.2f s, loop gap %d ms", w, g), string.format("ideal %.2f s", i), w / i,
      "<= 1.3, gap < 30 ms")
    verdict(name, w / i, 1.3, w / i <= 1.3 and g < 30 and ok == "200")
  end)
end

section("bulk_import", function()
  bulk_import.run { srv = srv, lua_child = lua_child, row = row, verdict = verdict, say = say }
end)
srv:stop()

-- 5. RSS growth while walking 1,000,000 events -----------------------------------------------------
section("memory_stream", function()
  say("bench: memory_stream (walking 1,000,000 events, limit=100)")
  local big <close> = start(1000000)
  local r = lua_child("memory", big.base_url, "100")
  assert(r.items == 1000000, "walked " .. tostring(r.items))
  row("memory_stream (RSS growth)", string.format("%.1f MB (from %.1f MB), %.0f items/s", r.rss_growth_mb,
    r.rss_start_mb, r.items / r.wall), "budget 10 MB", r.rss_growth_mb / 10, "< 1.0 (of 10 MB)")
  verdict("memory_stream", r.rss_growth_mb / 10, 1.0, r.rss_growth_mb < 10)
  if have_node then
    local n = node_child("memory", big.base_url, KEY, "100")
    node_rows[#node_rows + 1] = { "memory_stream (RSS growth)", string.format("%.1f MB (from %.1f MB)",
      n.rss_growth_mb, n.rss_start_mb), n.rss_growth_mb / 10 }
  end
  big:stop()
end)

---------------------------------------------------------------------------------------------
-- Report
---------------------------------------------------------------------------------------------
local function ratio_s(r) return type(r) == "number" and string.format("%.2f", r) or tostring(r) end
print("machine: " .. machine())
print(string.format("%-30s %-36s %-16s %7s  %s", "benchmark", "openai-admin (Lua)", "C baseline/ideal", "ratio",
  "target"))
for _, r in ipairs(rows) do
  print(string.format("%-30s %-36s %-16s %7s  %s", r[1], r[2], r[3], ratio_s(r[4]), r[5]))
end
if floor_rows[1] then
  print()
  print("CPU against the floors, one run (min of the runs; ratio to C libcurl + cJSON):")
  print(string.format("  %-28s %-30s %-16s %7s  %s", "job", "client", "CPU", "ratio", "items/s (wall)"))
  for _, r in ipairs(floor_rows) do
    print(string.format("  %-28s %-30s %-16s %7.2f  %.0f", r[1], r[2], r[3], r[4], r[5]))
  end
end
if wanted("node_sdk") then
  if have_node then
    print()
    print(string.format("official Node SDK (openai %s, node %s), same jobs, ratio against the same baseline:",
      node_info, ((sh("node --version")):gsub("%s+$", ""))))
    for _, r in ipairs(node_rows) do
      print(string.format("  %-28s %-36s %7s", r[1], r[2], ratio_s(r[3])))
    end
  else
    print()
    print("official Node SDK: skipped (" .. tostring(node_info) .. ")")
  end
end
print()
for _, l in ipairs(lines) do print(l) end
if wanted("node_sdk") then
  if have_node and node_rows[1] then
    print(string.format("bench node_sdk: ratio %.2f (target none) ok", node_rows[1][3]))
  else
    print("bench node_sdk: ratio n/a (target none) skipped")
  end
end
