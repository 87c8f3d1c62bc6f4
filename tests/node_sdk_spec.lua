-- tests/node_sdk_spec.lua: the official OpenAI Node SDK (tests/node/scenario.mjs) against the fake.
-- Pending unless `node`, tests/node/node_modules/openai (cd tests/node && npm ci) and the fake's
-- app (lua/openai_admin/fake/app.lua) are all present.
local fake = require "helpers.fake"

local ROOT = fake.root

local function exists(p)
  local f = io.open(p, "r")
  if f then f:close() return true end
  return false
end

local function have_node()
  local ok = os.execute("command -v node >/dev/null 2>&1")
  return ok == true or ok == 0
end

local missing
if not have_node() then
  missing = "node is not installed"
elseif not exists(ROOT .. "/tests/node/node_modules/openai/package.json") then
  missing = "tests/node/node_modules is missing (cd tests/node && npm ci)"
elseif not pcall(require, "openai_admin.fake.app") then
  missing = "openai_admin.fake.app is not loadable"
end

describe("the official OpenAI Node SDK against the fake", function()
  if missing then
    pending("node SDK scenario: " .. missing)
    return
  end

  it("runs tests/node/scenario.mjs: CRUD with auto-pagination across admin resources", function()
    local f = fake.start{ seed = 11, projects = 3, users = 5 }
    -- no LD_PRELOAD: under `make asan` a preloaded libasan breaks node
    local cmd = ("cd %s && OPENAI_BASE_URL=%s OPENAI_ADMIN_KEY=%s env -u LD_PRELOAD node scenario.mjs 2>&1; %s"):format(
      fake.shquote(ROOT .. "/tests/node"), fake.shquote(f.base_url), fake.shquote(f.admin_key), 'echo "__rc=$?"')
    local h = assert(io.popen(cmd))
    local out = h:read("a")
    h:close()
    local log = f:log()
    f:stop()
    local rc = tonumber(out:match("__rc=(%d+)"))
    assert.are.equal(0, rc, out .. "\n--- fake log ---\n" .. log)
    assert.matches("all %d+ steps passed", out)
  end)
end)
