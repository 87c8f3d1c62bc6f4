-- tests/redaction_spec.lua: a key rotation and an offboarding against the fake, logged at debug
-- (OPENAI_LOG=debug in a child process: its stderr; a logger function in this process: its
-- lines and fields), with tostring() of every object and error on the way. No line may hold
-- the admin key or any secret the run created.
local fake = require "helpers.fake"
local scenarios = require "helpers.scenarios"
local oa = require "openai_admin"

local ADMIN_KEY = "sk-admin-redactionSpec0123456789abcdefghijklmnopqrstuv"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Fails naming the secret's tail (never the secret) when text holds any needle.
local function assert_clean(text, secrets, where)
  for _, secret in ipairs(secrets) do
    for _, needle in ipairs(scenarios.needles(secret)) do
      local at = text:find(needle, 1, true)
      assert(not at, ("%s holds a secret (ending ...%s) at byte %s"):format(where, secret:sub(-4), tostring(at)))
    end
  end
end

describe("redaction", function()
  local f
  before_each(function() f = fake.start { seed = 11, projects = 3, users = 4, admin_key = ADMIN_KEY } end)
  after_each(function() f:stop() end)

  it("keeps every secret out of a logger's lines and fields, and out of tostring", function()
    local lines, texts = {}, {}
    local function logger(level, line, fields)
      lines[#lines + 1] = level .. " " .. line
      for k, v in pairs(fields) do lines[#lines + 1] = tostring(k) .. "=" .. tostring(v) end
    end
    local secrets = scenarios.rotation_and_offboarding(function(key)
      return oa.new { base_url = f.base_url, admin_key = key, logger = logger, log_level = "debug" }
    end, f, function(...) for _, v in ipairs { ... } do texts[#texts + 1] = tostring(v) end end)
    assert.equal(4, #secrets)
    secrets[#secrets + 1] = ADMIN_KEY
    local all = table.concat(lines, "\n")
    -- the run was logged: one line per attempt, the retried 503, the waits
    assert.matches("GET /organization/projects%?limit=10 %-> 503 %(.-attempt 1.-%); retrying: status 503", all)
    assert.matches("POST /organization/projects/[%w_]+/service_accounts %-> 200", all)
    assert.matches("DELETE /organization/users/[%w_]+ %-> 200", all)
    assert.matches("waits .- before attempt 2", all)
    assert.is_true(#lines > 20)
    assert_clean(all, secrets, "a log line")
    assert_clean(table.concat(texts, "\n"), secrets, "a tostring or error message")
  end)

  it("keeps every secret out of stderr with OPENAI_LOG=debug, in a child process", function()
    local dir = os.tmpname()
    local errf, outf, secf = dir .. ".err", dir .. ".out", dir .. ".secrets"
    local script = dir .. ".lua"
    local sf = assert(io.open(script, "w"))
    sf:write("require('helpers.scenarios').child(...)\n")
    sf:close()
    local cmd = ("OPENAI_LOG=debug %s %s %s %s %s >%s 2>%s"):format(os.getenv("LUA") or "lua5.4",
      fake.shquote(script), fake.shquote(f.base_url), fake.shquote(ADMIN_KEY),
      fake.shquote(secf), fake.shquote(outf), fake.shquote(errf))
    local ok = os.execute(cmd)
    local stderr, stdout = read(errf), read(outf)
    assert.is_true(ok, stderr)
    local secrets = {}
    for line in read(secf):gmatch("[^\n]+") do secrets[#secrets + 1] = line end
    for _, p in ipairs { dir, errf, outf, secf, script } do os.remove(p) end
    assert.equal(4, #secrets)
    secrets[#secrets + 1] = ADMIN_KEY
    assert.matches("openai_admin debug: GET /organization/projects%?limit=10 %-> 503", stderr)
    assert.matches("openai_admin debug: DELETE /organization/admin_api_keys/[%w_]+ %-> 200", stderr)
    assert_clean(stderr, secrets, "stderr")
    assert_clean(stdout, secrets, "a tostring or error message")
  end)
end)
