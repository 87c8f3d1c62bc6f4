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

  it("drives one state's requests from a C poll() loop, with ticks, log lines into C and a cancel", function()
    local slow = fake.start{ seed = 3, projects = 2, latency = 0.02 }
    local rc, out = host("embed_poll", "--requests 40 --concurrency 8 " .. slow.base_url)
    local log = slow:request_log()
    slow:stop()
    assert.equal(0, rc, out)
    assert.matches("40 of 40 requests ok at concurrency 8, 0 failed; cancel ok;", out)
    -- log_level = "debug": one line per attempt reached the C logger (create + 40 + none for the cancelled)
    assert.equal(41, tonumber(out:match("; (%d+) log lines;")), out)
    assert.not_matches("sk%-admin", out)
    -- 1 create and 40 checked; the cancelled retrieve too when it got out before the cancel
    -- (under the fake's 20 ms latency it usually does; under valgrind it may not)
    assert.is_true(#log == 41 or #log == 42, #log)
  end)
end)

describe("loop.generic: cancel", function()
  local oa = require "openai_admin"
  local generic = require "openai_admin.loop.generic"
  local f
  setup(function() f = fake.start{ seed = 3, projects = 2, latency = 0.05 } end)
  teardown(function() if f then f:stop() end end)

  -- a loop whose host is this spec: it only records what to watch and steps on demand
  local function new_loop()
    local watched = {}
    local loop = generic.new{ watch = function(fd, ev) watched[fd] = ev end, timer = function() end }
    return loop, watched
  end

  it("cancels a task waiting on a request: it never resumes, ends cancelled, nothing left in flight", function()
    local client <close> = oa.new{ base_url = f.base_url, admin_key = f.admin_key }
    local loop, watched = new_loop()
    local resumed, done_called = false, 0
    local task = loop:spawn(function()
      client.admin.organization.projects:list{ limit = 1 }
      resumed = true
    end)
    task.on_done = function() done_called = done_called + 1 end
    assert.is_true(loop:busy())
    assert.is_true(loop:cancel(task))
    assert.is_true(task.done and task.cancelled)
    assert.is_true(oa.errors.is(task.error, "connection"))
    assert.equal("cancelled", task.error.code)
    assert.equal(1, done_called)
    assert.is_false(loop:busy())
    assert.is_nil(next(watched))
    assert.is_false(loop:cancel(task)) -- already finished
    assert.is_false(resumed)
    -- the client still works afterwards
    assert.equal(1, #client.admin.organization.projects:list{ limit = 1 }.data)
  end)

  it("cancels the requests of a batch inside the task (its to-be-closed guard runs)", function()
    local client <close> = oa.new{ base_url = f.base_url, admin_key = f.admin_key }
    local loop = new_loop()
    local task = loop:spawn(function()
      client:map({ 1, 2, 3, 4 }, function() return client.admin.organization.projects:list{ limit = 1 } end)
    end)
    assert.is_true(loop:busy())
    assert.is_true(loop:cancel(task))
    assert.is_false(loop:busy())
    assert.equal("cancelled", task.error.code)
  end)

  it("refuses to cancel a task from inside itself", function()
    local client <close> = oa.new{ base_url = f.base_url, admin_key = f.admin_key }
    local socket = require "socket"
    local loop, watched = new_loop()
    local task
    task = loop:spawn(function()
      client.admin.organization.projects:list{ limit = 1 } -- suspends: task is known by then
      return pcall(loop.cancel, loop, task)
    end)
    local deadline = socket.gettime() + 30
    while not task.done and socket.gettime() < deadline do -- a crude host: poll by stepping
      for fd, ev in pairs(watched) do loop:ready(fd, ev) end
      loop:timer()
      socket.sleep(0.005)
    end
    assert.is_true(task.done)
    assert.is_false(task.results[1])
    assert.matches("cannot cancel itself", tostring(task.results[2]))
    assert.is_nil(task.cancelled)
  end)
end)
