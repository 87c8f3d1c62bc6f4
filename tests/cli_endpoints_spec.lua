-- All 143 endpoints through the INSTALLED command line (make install into a temporary prefix),
-- each against its own twin of the fake, and the same calls through the library against the
-- other twin (same seed, so the same ids): the two request logs must match request for request
-- (method, path, query, body, headers), lists walked to their end on both sides.
-- The params come from tests/helpers/endpoint_world.lua (the library's endpoint spec), turned
-- into flags where flags can express them (scalars, repeated arrays, dotted nested fields,
-- map keys) and --params JSON for the rest.
local fake = require("helpers.fake")
local cli = require("helpers.cli")
local ew = require("helpers.endpoint_world")
local openai_admin = require("openai_admin")
local json = openai_admin.json

local function dashed(s) return (s:gsub("_", "-")) end

local function scalar_text(v)
  if type(v) == "number" then return openai_admin.json.encode(v) end
  return tostring(v)
end

local function is_scalar(v) local t = type(v) return t == "string" or t == "number" or t == "boolean" end

local function fields_of(row)
  local t = {}
  for _, p in ipairs(row.query) do t[p.name] = p end
  for _, p in ipairs(row.body) do t[p.name] = p end
  return t
end

-- Appends flags for value v of field spec at flag name; false when flags cannot express it.
local function add_flags(out, name, v, spec)
  if is_scalar(v) then
    if v == true and spec and spec.type == "boolean" then out[#out + 1] = "--" .. dashed(name)
    else out[#out + 1] = "--" .. dashed(name); out[#out + 1] = scalar_text(v) end
    return true
  end
  if type(v) ~= "table" or not spec then return false end
  local seq = #v > 0
  if seq then
    local shape_array = spec.variants and type(spec.variants[1]) == "table" and not spec.variants[1].fields
    if not (spec.array or shape_array) or spec.fields then return false end
    for _, x in ipairs(v) do
      if not is_scalar(x) then return false end
      out[#out + 1] = "--" .. dashed(name); out[#out + 1] = scalar_text(x)
    end
    return true
  end
  if next(v) == nil or spec.array then return false end
  local sub = {}
  for _, f in ipairs(spec.fields or {}) do sub[f.name] = f end
  if spec.variants and type(spec.variants[1]) == "table" and spec.variants[1].fields then
    sub[spec.discriminator or "type"] = { name = spec.discriminator or "type", type = "string" }
    for _, var in ipairs(spec.variants) do for _, f in ipairs(var.fields) do sub[f.name] = f end end
  end
  local is_map = spec.type == "object" and not spec.fields and not spec.variants
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  local mine = {}
  for _, k in ipairs(keys) do
    local s = sub[k] or (is_map and { name = k, type = "string" }) or nil
    if not s or (is_map and type(v[k]) ~= "string") then return false end
    if not add_flags(mine, name .. "." .. k, v[k], s) then return false end
  end
  for _, x in ipairs(mine) do out[#out + 1] = x end
  return true
end

local function argv_for(row, world, params, k)
  local words = {}
  for part in row.sdk_path:gsub("^admin%.organization%.", ""):gmatch("[^.]+") do
    words[#words + 1] = (k % 2 == 0) and dashed(part) or part -- both spellings
  end
  local argv = { "--yes", "--format", "json" }
  for _, w in ipairs(words) do argv[#argv + 1] = w end
  local path_values = {}
  for i, name in ipairs(row.path_params) do
    path_values[i] = ew.path_arg(world, row, name)
    if k % 3 == 0 then -- path parameters as flags, sometimes
      argv[#argv + 1] = "--" .. dashed(name)
    end
    argv[#argv + 1] = path_values[i]
  end
  local rest, nflags = {}, 0
  if params then
    local fields = fields_of(row)
    local keys = {}
    for key in pairs(params) do keys[#keys + 1] = key end
    table.sort(keys)
    for _, key in ipairs(keys) do
      local before = #argv
      if add_flags(argv, key, params[key], fields[key]) then nflags = nflags + (#argv - before)
      else rest[key] = params[key] end
    end
  end
  if next(rest) then
    argv[#argv + 1] = "--params"
    argv[#argv + 1] = assert(json.encode(rest))
  end
  return argv, path_values, nflags
end

-- What the two sides must agree on, per request.
local SAME_HEADERS = { "content-type", "accept", "user-agent", "openai-organization", "openai-project" }
local function view(entry)
  local h = {}
  for _, name in ipairs(SAME_HEADERS) do h[name] = entry.headers and entry.headers[name] end
  local body = entry.body
  if body == json.null or body == "" then body = nil end
  return { method = entry.method, path = entry.path, query = entry.query, body = body and json.decode(body) or nil,
    headers = h }
end

describe("all 143 endpoints through the installed openai-admin", function()
  if os.getenv("VALGRIND") then
    pending("skipped under make valgrind: the library side runs in tests/endpoints_spec.lua")
    return
  end
  local fa, fb, client, tmp, bin
  local world = {}
  local flagged, with_params = 0, 0

  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    local h = io.popen(("cd %s && make -s install PREFIX=%s 2>&1; echo \"__rc=$?\""):format(cli.shquote(fake.root),
      cli.shquote(tmp .. "/prefix")))
    local out = h:read("a")
    h:close()
    assert(out:match("__rc=0"), out)
    bin = tmp .. "/prefix/bin/openai-admin"
    fa = fake.start{ seed = 3, projects = 2, users = 4 }
    fb = fake.start{ seed = 3, projects = 2, users = 4 }
    client = openai_admin.new{ admin_key = fb.admin_key, base_url = fb.base_url, max_retries = 0 }
    world.user_id = client.admin.organization.users:list{ limit = 1 }.data[1].id
  end)
  teardown(function()
    if client then client:close() end
    if fa then fa:stop() end
    if fb then fb:stop() end
    if tmp then os.execute("rm -rf " .. cli.shquote(tmp)) end
  end)

  local function run(argv)
    local a = { "--base-url", fa.base_url, "--max-retries", "0" }
    for _, x in ipairs(argv) do a[#a + 1] = x end
    return cli.run(a, { bin = bin, env = { OPENAI_ADMIN_KEY = fa.admin_key },
      unset = { "LUA_PATH", "LUA_CPATH", "LUA_PATH_5_4", "LUA_CPATH_5_4", "OPENAI_ADMIN_KEY", "OPENAI_BASE_URL",
        "OPENAI_ORG_ID", "OPENAI_PROJECT_ID" } })
  end

  it("runs from the install prefix with its own modules", function()
    local r = run{ "projects", "list" }
    assert.equal(0, r.code, r.stderr)
    local r2 = cli.run({ "--fake", "users", "list", "--max-items", "1" }, { bin = bin,
      unset = { "LUA_PATH", "LUA_CPATH", "OPENAI_ADMIN_KEY" } })
    assert.equal(0, r2.code, r2.stderr)
    fa:clear_requests()
  end)

  for k, row in ipairs(ew.ordered) do
    it(row.sdk_path, function()
      local params = ew.params(row, world)
      local argv, path_values, nflags = argv_for(row, world, params, k)
      if nflags > 0 then flagged = flagged + 1 end
      if argv[#argv - 1] == "--params" then with_params = with_params + 1 end
      fa:clear_requests()
      fb:clear_requests()

      -- the dry run sends nothing and prints the request the real run then sends
      -- (as text, "METHOD URL\nBODY", every other endpoint; else as JSON, --format json)
      local as_text = k % 2 == 0
      local dry_argv = { "--dry-run" }
      for _, x in ipairs(argv) do dry_argv[#dry_argv + 1] = (as_text and x == "json") and "table" or x end
      local dry = run(dry_argv)
      assert.equal(0, dry.code, dry.stderr)
      assert.equal(0, #fa:request_log(), "the dry run sent nothing")
      local dry_method, dry_url, dry_body
      if as_text then
        dry_method, dry_url, dry_body = dry.stdout:match("^(%u+) (%S+)\n(.-)\n?$")
      else
        local d = json.decode(dry.stdout)
        dry_method, dry_url, dry_body = d.method, d.url, d.body ~= nil and json.encode(d.body) or ""
      end

      local r = run(argv)
      assert.equal(0, r.code, table.concat(argv, " ") .. "\n" .. r.stderr)
      local first = fa:request_log()[1]
      assert.equal(first.method, dry_method)
      assert.equal(fa.root_url .. first.path .. ((first.query or "") ~= "" and ("?" .. first.query) or ""), dry_url)
      local sent = first.body
      if sent == json.null or sent == "" then sent = nil end
      -- (the same JSON; the order of its keys follows each process's hash order)
      assert.same(sent and json.decode(sent), dry_body ~= "" and json.decode(dry_body) or nil)

      local node = ew.node_of(client, row)
      local a = {}
      for i, v in ipairs(path_values) do a[i] = v end
      if params then a[#a + 1] = params end
      local result = node[row.name](node, table.unpack(a, 1, #row.path_params + (params and 1 or 0)))
      local shown = json.decode(r.stdout)
      if row.pagination then
        local n = 0
        for _ in result:items() do n = n + 1 end -- the library walks every page too
        assert.equal(n, #shown)
      else
        assert.equal(result.object, shown.object)
        assert.equal(result.id, shown.id)
      end

      local la, lb = fa:request_log(), fb:request_log()
      assert.is_true(#lb >= 1)
      assert.equal(#lb, #la, "as many requests")
      for i = 1, #lb do assert.same(view(lb[i]), view(la[i])) end
      ew.record(row, world, result)
    end)
  end

  it("expressed most endpoints with flags", function()
    -- every endpoint with params got flags; only JSON-only shapes (lists of objects) need --params
    assert.is_true(flagged >= 55, tostring(flagged))
    assert.is_true(with_params <= 3, tostring(with_params))
  end)
end)
