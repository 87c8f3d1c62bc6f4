-- The C embedding hosts (examples/embed/) against the fake, in the plain build (make embed-test
-- runs them under ThreadSanitizer at full size). The hosts are built here with `make embed`.
local fake = require("helpers.fake")

local root = fake.root
local function sh(cmd)
  local h = assert(io.popen("cd " .. fake.shquote(root) .. " && " .. cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), out
end

-- The hosts are not built with ASan, so make asan's LD_PRELOAD of the ASan runtime is dropped for
-- them: preloaded into these (uninstrumented) threaded hosts it leaves glibc's setlocale lock
-- corrupted, and p11-kit's destructor then hangs in freelocale at exit.
local function host(name, args)
  local lua_path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;"
  local env = ("env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s "):format(fake.shquote(lua_path),
    fake.shquote(root .. "/build/?.so;;"))
  return sh(env .. "build/embed/" .. name .. " " .. args)
end

describe("embedding from C", function()
  local f
  setup(function()
    local rc, out = sh("make --no-print-directory -s embed")
    assert(rc == 0, "make embed failed:\n" .. out)
    f = fake.start{ seed = 3, projects = 2 }
  end)
  teardown(function() if f then f:stop() end end)

  for _, mode in ipairs{ "static", "dynamic", "mixed" } do
    it("runs 4 states on 4 threads, the module opened " .. mode .. ", every request checked", function()
      f:clear_requests()
      local rc, out = host("embed_threads", "--threads 4 --requests 40 --open " .. mode .. " " .. f.base_url)
      assert.equal(0, rc, out)
      assert.matches("4 threads x 40 requests %(open " .. mode .. "%): 160 of 160 ok, 0 failed", out)
      -- the fake saw them: one create per thread, then the 160 checked requests
      assert.equal(164, #f:request_log())
    end)
  end

  it("takes the once-per-process curl_global_init path of a libcurl without thread safety", function()
    local rc, out = host("embed_threads_once", "--threads 4 --requests 10 --open mixed " .. f.base_url)
    assert.equal(0, rc, out)
    assert.matches("40 of 40 ok, 0 failed", out)
  end)

  it("fails, naming the cause, when the requests fail", function()
    local rc, out = host("embed_threads", "--threads 2 --requests 3 --open static http://127.0.0.1:1/v1")
    assert.equal(1, rc, out)
    assert.matches("0 of 6 ok", out)
    assert.matches("thread 1: 1 failed; first: openai_admin: connection POST /organization/projects", out)
    assert.not_matches("sk%-admin", out)
  end)
end)
