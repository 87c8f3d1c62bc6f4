-- Spec of the loop adapters (lua/openai_admin/loop/): API calls inside a task suspend only that
-- task; sequential code (a page walk) runs unchanged inside the host loop; an error in one task
-- leaves the others alone; batches nest inside tasks. Timing targets live in make bench.
local fake = require "helpers.fake"
local oa = require "openai_admin"
local core = require "openai_admin.core"
local send = require "openai_admin.request.send"

local function with_adapters(body)
  body("luv", function()
    local uv = require "luv"
    local loop = require("openai_admin.loop.luv").new(uv)
    return loop, function() uv.run() end, function(ms, fn)
      local t = uv.new_timer()
      t:start(ms, ms, fn)
      return function() t:stop(); t:close() end
    end
  end)
  body("cqueues", function()
    local cqueues = require "cqueues"
    local cq = cqueues.new()
    local loop = require("openai_admin.loop.cqueues").new(cq)
    return loop, function() assert(cq:loop()) end, function(ms, fn)
      local on = true
      cq:wrap(function()
        while on do
          cqueues.sleep(ms / 1000)
          if on then fn() end
        end
      end)
      return function() on = false end
    end, cq
  end)
end

describe("loop adapters", function()
  local f, client, org
  setup(function()
    f = fake.start { projects = 7, users = 3, latency = 0.01 }
    client = oa.new { base_url = f.base_url, admin_key = f.admin_key }
    org = client.admin.organization
  end)
  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  with_adapters(function(name, make)
    describe(name, function()
      it("runs a sequential page walk unchanged inside a task while the loop keeps ticking", function()
        local loop, run, every = make()
        local ticks, ids = 0, {}
        local stop = every(5, function() ticks = ticks + 1 end)
        local task = loop:spawn(function()
          for p in org.projects:list { limit = 2 } do ids[#ids + 1] = p.id end
          stop()
          return #ids
        end)
        assert.is_false(task.done) -- the first request is in flight: spawn did not block
        run()
        assert.is_true(task.done)
        assert.is_nil(task.error)
        assert.equal(7, task.results[1])
        assert.is_true(ticks >= 2, "ticks " .. ticks) -- 4 pages at 10 ms: the timer fired meanwhile
        assert.is_false(loop:busy())
      end)

      it("an error in one task does not disturb the others, and is never lost", function()
        local loop, run, _, cq = make()
        local failed, other
        local bad = loop:spawn(function() return org.projects:retrieve("proj_missing") end)
        bad.on_done = function(t) failed = t.error end
        local good = loop:spawn(function() return org.users:list { limit = 1 }.data[1].id end)
        good.on_done = function(t) other = t.results[1] end
        run()
        assert.is_true(oa.errors.is(failed, "not_found"), tostring(failed))
        assert.matches("^user", other)
        -- without on_done: luv keeps it in loop.errors (and says so on stderr); cqueues' loop fails
        loop:spawn(function() return org.projects:retrieve("proj_gone") end)
        if name == "luv" then
          run()
          assert.equal(1, #loop.errors)
          assert.is_true(oa.errors.is(loop.errors[1], "not_found"))
        else
          local ok, err = cq:loop()
          assert.is_false(ok)
          assert.matches("not_found", tostring(err))
        end
      end)

      it("runs client:map and a nested client:parallel inside a task", function()
        local loop, run = make()
        local task = loop:spawn(function()
          local pages = org.projects:list { limit = 100 }.data
          return client:map(pages, function(p)
            local r = client:parallel {
              function() return org.projects.users:list(p.id, { limit = 1 }) end,
              function() return org.projects.retrieve(org.projects, p.id).id end,
            }
            return r[2]
          end, { concurrency = 4 })
        end)
        task.on_done = function() end
        run()
        assert.is_nil(task.error)
        local r = task.results[1]
        assert.equal(7, r.n)
        for i = 1, 7 do assert.matches("^proj_", r[i]) end
        assert.equal(0, require("openai_admin.batch").live())
      end)
    end)
  end)

  it("generic: refuses a host without hooks, and a task that yields to the loop, with error objects", function()
    local generic = require "openai_admin.loop.generic"
    local ok, err = pcall(generic.new, { watch = print })
    assert.is_false(ok)
    assert.is_true(oa.errors.is(err, "invalid_argument"), tostring(err))
    local loop = generic.new { watch = function() end, timer = function() end }
    -- no on_done and no on_error hook: the error comes out of the call that ended the task
    local ok2, err2 = pcall(loop.spawn, loop, function() coroutine.yield("tick") end)
    assert.is_false(ok2)
    assert.is_true(oa.errors.is(err2, "invalid_argument"), tostring(err2))
    assert.matches("yielded to the loop", tostring(err2))
  end)

  it("generic: the host's watch and timer hooks see the engine's sockets and deadline", function()
    local watched, timer = {}, nil
    local loop = require("openai_admin.loop.generic").new {
      watch = function(fd, ev) watched[fd] = ev end,
      timer = function(s) timer = s end,
    }
    local task = loop:spawn(function() return org.users:list { limit = 1 }.data[1].id end)
    assert.equal(0, timer) -- the request is due now
    local deadline = core.monotonic() + 5
    while not task.done and core.monotonic() < deadline do
      loop:timer()
      for fd, ev in pairs(watched) do if ev then loop:ready(fd, ev) end end
    end
    assert.is_true(task.done)
    assert.matches("^user", task.results[1])
    assert.is_nil(timer) -- nothing left to wait for
    assert.same({}, send.engines())
  end)
end)
