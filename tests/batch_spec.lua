-- Concurrency in the Lua layer (lua/openai_admin/batch.lua): client:parallel, client:map,
-- client:each, page:collect, against the fake server. Assertions are on behaviour: results in
-- input order, per-item errors, what the server saw (request counts, distinct connections),
-- yields passing through, and nothing left behind.
local fake = require "helpers.fake"
local oa = require "openai_admin"
local batch = oa.batch
local json = oa.json

-- the API requests the fake logged (control requests left out), optionally only those under a path
local function api_requests(f, prefix)
  local out = {}
  for _, r in ipairs(f:request_log()) do
    local p = r.path or ""
    if not p:find("/_fake", 1, true) and (not prefix or p:sub(1, #prefix) == prefix) then out[#out + 1] = r end
  end
  return out
end

describe("batch", function()
  local f, client, org, projects

  setup(function()
    f = fake.start { seed = 7, projects = 12, users = 6, audit_events = 50 }
    client = oa.new { base_url = f.base_url, admin_key = f.admin_key, rate_limit = false }
    org = client.admin.organization
    projects = org.projects:list { limit = 100 }:collect()
  end)

  teardown(function()
    if client then client:close() end
    if f then f:stop() end
  end)

  before_each(function()
    f:control("DELETE", "/_fake/faults")
    f:latency(0)
    f:clear_requests()
  end)

  after_each(function()
    assert.equal(0, batch.live(), "a batch left coroutines behind")
  end)

  describe("client:parallel", function()
    it("returns results in input order, an error per failed item, and the number of failures", function()
      local fns = {}
      for i = 1, #projects do
        fns[i] = function() return org.projects:retrieve(projects[i].id).id end
      end
      fns[3] = function() return org.projects:retrieve("proj_missing") end
      fns[5] = function() error("plain failure", 0) end
      local results, errs, nfailed = client:parallel(fns, { concurrency = 4, errors = "collect" })
      assert.equal(#projects, results.n)
      assert.equal(2, nfailed)
      for i = 1, #projects do
        if i == 3 or i == 5 then
          assert.is_nil(results[i])
        else
          assert.equal(projects[i].id, results[i])
          assert.is_nil(errs[i])
        end
      end
      assert.is_true(oa.errors.is(errs[3], "not_found"), tostring(errs[3]))
      assert.equal(404, errs[3].status)
      assert.equal("plain failure", errs[5])
      -- every retrieve reached the server once (no retries, nothing sent twice)
      assert.equal(#projects - 1, #api_requests(f, "/v1/organization/projects/"))
    end)

    it("raises the first error by default, after the functions already started have finished", function()
      local finished, started = {}, {}
      local fns = {}
      for i = 1, 6 do
        fns[i] = function()
          started[i] = true
          if i == 2 then return org.projects:retrieve("proj_missing") end
          local id = org.projects:retrieve(projects[i].id).id
          finished[i] = true
          return id
        end
      end
      local ok, err = pcall(client.parallel, client, fns, { concurrency = 3, workers = 3 })
      assert.is_false(ok)
      assert.is_true(oa.errors.is(err, "not_found"), tostring(err))
      -- the others running alongside ran to their end; nothing started after the failure
      assert.is_true(finished[1] and finished[3], "finished " .. tostring(finished[1]) .. tostring(finished[3]))
      assert.is_nil(started[6])
      assert.equal(0, require("openai_admin.batch").live())
      -- map too, and a plain error value comes through as raised
      ok, err = pcall(client.map, client, { 1, 2 }, function(i)
        if i == 2 then error("boom", 0) end
        return i
      end)
      assert.is_false(ok)
      assert.equal("boom", err)
      assert.has_error(function() client:map({}, function() end, { errors = "later" }) end)
    end)

    it("keeps `concurrency` requests in flight continuously: a slow one holds no round", function()
      local done = {}
      local fns = {}
      fns[1] = function()
        local id = org.projects:retrieve(projects[1].id).id
        done[#done + 1] = 1
        return id
      end
      for i = 2, 40 do
        fns[i] = function()
          local id = org.projects:retrieve(projects[(i % #projects) + 1].id).id
          done[#done + 1] = i
          return id
        end
      end
      f:fault { method = "GET", path = "/v1/organization/projects/" .. projects[1].id, count = 1, fault = "delay",
        delay = 0.8 }
      local results = client:parallel(fns, { concurrency = 2 })
      assert.equal(40, results.n)
      assert.equal(40, #done)
      -- while the slow one ran, the other place served the quick ones one after another
      local at
      for k, i in ipairs(done) do if i == 1 then at = k end end
      assert.is_true(at > 30, "the slow call finished as number " .. tostring(at))
    end)

    it("an empty list gives empty results", function()
      local results, errs, nfailed = client:parallel({})
      assert.equal(0, results.n)
      assert.same({}, errs)
      assert.equal(0, nfailed)
    end)

    it("checks its arguments before running anything", function()
      for _, bad in ipairs {
        function() client:parallel("x") end,
        function() client:parallel({ function() end, 42 }) end,
        function() client:parallel({}, { concurrency = 0 }) end,
        function() client:parallel({}, { concurency = 2 }) end,
        function() client:map({}, "f") end,
        function() client:each({ 42 }) end,
      } do
        local ok, err = pcall(bad)
        assert.is_false(ok)
        assert.is_true(oa.errors.is(err, "invalid_argument"), tostring(err))
      end
    end)

    it("sends the requests concurrently, over at most `concurrency` connections", function()
      f:latency(0.2)
      local fns = {}
      for i = 1, 16 do
        local id = projects[(i - 1) % #projects + 1].id
        fns[i] = function() return org.projects:retrieve(id).id end
      end
      local fresh = oa.new { base_url = f.base_url, admin_key = f.admin_key, rate_limit = false }
      local results, _, nfailed = fresh:parallel(fns, { concurrency = 4 })
      fresh:close()
      assert.equal(0, nfailed)
      assert.equal(16, results.n)
      local conns = {}
      local nconn = 0
      for _, r in ipairs(api_requests(f, "/v1/organization/projects/")) do
        if not conns[r.conn_id] then conns[r.conn_id] = true; nconn = nconn + 1 end
      end
      -- one after another they would all reuse one connection: libcurl opens another only while
      -- the first is busy, and never more than `concurrency`
      assert.is_true(nconn >= 2 and nconn <= 4, "distinct connections: " .. nconn)
    end)

    it("batches the page requests of walks made inside it (pagination is concurrent too)", function()
      local fns = {}
      for i = 1, 4 do
        fns[i] = function()
          local n = 0
          for _ in org.audit_logs:list { limit = 10 } do n = n + 1 end
          return n
        end
      end
      local results, _, nfailed = client:parallel(fns)
      assert.equal(0, nfailed)
      for i = 1, 4 do
        assert.is_true(results[i] >= 50)
        assert.equal(results[1], results[i])
      end
      -- each walk of >= 50 events with limit 10 takes >= 5 pages (6 when the last page is full)
      local pages = #api_requests(f, "/v1/organization/audit_logs")
      assert.is_true(pages >= 20 and pages <= 4 * (results[1] // 10 + 1), "pages " .. pages)
    end)

    it("respects the client's rate budget inside a batch", function()
      -- the server allows 3 retrieves per second; a budget of 2 per second never trips it
      f:rate_limit { path = "/v1/organization/projects/", requests = 3, window = 1 }
      local slow = oa.new { base_url = f.base_url, admin_key = f.admin_key, max_retries = 0,
        rate_limit = { requests = 2, window = 1, burst = 1 } }
      local fns = {}
      for i = 1, 5 do
        fns[i] = function() return slow.admin.organization.projects:retrieve(projects[i].id).id end
      end
      local results, errs, nfailed = slow:parallel(fns, { concurrency = 5 })
      slow:close()
      f:control("DELETE", "/_fake/rate_limits")
      assert.equal(0, nfailed, tostring(errs[next(errs) or 1]))
      for i = 1, 5 do assert.equal(projects[i].id, results[i]) end
      local reqs = api_requests(f, "/v1/organization/projects/")
      assert.equal(5, #reqs)
      for _, r in ipairs(reqs) do assert.equal(200, r.status) end
    end)

    it("runs a batch started inside a batch function through the outer batch", function()
      local results, errs, nfailed = client:parallel {
        function()
          local inner = client:parallel {
            function() return org.projects:retrieve(projects[1].id).id end,
            function() return org.projects:retrieve(projects[2].id).id end,
          }
          return inner[1] .. "+" .. inner[2]
        end,
        function() return org.projects:retrieve(projects[3].id).id end,
      }
      assert.equal(0, nfailed, tostring(errs[1] or errs[2]))
      assert.equal(projects[1].id .. "+" .. projects[2].id, results[1])
      assert.equal(projects[3].id, results[2])
    end)

    it("serves calls through with_options clients in the same batch", function()
      local patient = client:with_options { timeout = 30, max_retries = 1 }
      local results, _, nfailed = client:parallel {
        function() return org.projects:retrieve(projects[1].id).id end,
        function() return patient.admin.organization.projects:retrieve(projects[2].id).id end,
      }
      assert.equal(0, nfailed)
      assert.same({ projects[1].id, projects[2].id }, { results[1], results[2] })
    end)

    it("gives a per-item error for a closed client, and the others still succeed", function()
      local closed = oa.new { base_url = f.base_url, admin_key = f.admin_key }
      local closed_projects = closed.admin.organization.projects
      closed:close()
      local results, errs, nfailed = client:parallel({
        function() return closed_projects:retrieve(projects[1].id) end,
        function() return org.projects:retrieve(projects[2].id).id end,
      }, { errors = "collect" })
      assert.equal(1, nfailed)
      assert.is_true(oa.errors.is(errs[1], "invalid_argument"), tostring(errs[1]))
      assert.equal(projects[2].id, results[2])
    end)
  end)

  describe("yields of the user's own", function()
    it("pass through parallel() to the coroutine that runs it, and answers come back", function()
      local gen = coroutine.wrap(function()
        local results = client:parallel {
          function()
            local got = {}
            for p in org.projects:list { limit = 5 } do got[#got + 1] = coroutine.yield("project", p.id) end
            return table.concat(got, ",")
          end,
          function() return coroutine.yield("ask", "x") end,
        }
        return "done", results
      end)
      local seen, asked = {}, 0
      local answer = nil
      while true do
        local what, v = gen(answer)
        if what == "done" then
          assert.equal("answer", v[2])
          -- the loop body got back what the consumer passed in for each project
          local n = select(2, v[1]:gsub("ok", ""))
          assert.equal(#projects, n)
          break
        elseif what == "project" then
          seen[#seen + 1] = v
          answer = "ok"
        else
          asked = asked + 1
          answer = "answer"
        end
      end
      assert.equal(1, asked)
      assert.equal(#projects, #seen)
      assert.equal(projects[1].id, seen[1])
    end)

    it("are an error for that item only when nothing can receive them", function()
      local results, errs, nfailed = client:parallel({
        function() coroutine.yield("nobody listens") end,
        function() return org.projects:retrieve(projects[1].id).id end,
      }, { errors = "collect" })
      assert.equal(1, nfailed)
      assert.is_true(oa.errors.is(errs[1], "invalid_argument"))
      assert.matches("yielded", tostring(errs[1]))
      assert.equal(projects[1].id, results[2])
    end)

    it("work in the loop body of client:each inside a coroutine", function()
      local co = coroutine.wrap(function()
        for i, item in client:each { org.projects:list { limit = 4 }, org.audit_logs:list { limit = 20 } } do
          coroutine.yield(i, item.id)
        end
        return "end"
      end)
      local by_source = { {}, {} }
      while true do
        local i, id = co()
        if i == "end" then break end
        table.insert(by_source[i], id)
      end
      assert.equal(#projects, #by_source[1])
      for k, p in ipairs(projects) do assert.equal(p.id, by_source[1][k]) end
      assert.equal(#org.audit_logs:list { limit = 100 }:collect(), #by_source[2])
    end)

    it("a call from a function C calls (a sort comparator) inside a batch is sent at once", function()
      local results, errs, nfailed = client:parallel {
        function()
          local ids = { projects[2].id, projects[1].id }
          table.sort(ids, function(a, b)
            return org.projects:retrieve(a).created_at < org.projects:retrieve(b).created_at
              or (a < b and org.projects:retrieve(a).created_at == org.projects:retrieve(b).created_at)
          end)
          return #ids
        end,
      }
      assert.equal(0, nfailed, tostring(errs[1]))
      assert.equal(2, results[1])
    end)

    it("a coroutine of the user's own inside a batch function still gets its answers", function()
      local results, _, nfailed = client:parallel {
        function()
          local ids = {}
          local inner = coroutine.wrap(function()
            for p in org.projects:list { limit = 3 } do coroutine.yield(p.id) end
          end)
          for id in inner do ids[#ids + 1] = id end
          return #ids
        end,
      }
      assert.equal(0, nfailed)
      assert.equal(#projects, results[1])
    end)
  end)

  describe("client:map", function()
    it("runs fn(item, i) for each item, in input order, pages included", function()
      local results, errs, nfailed = client:map(projects, function(p, i)
        local users = org.projects.users:list(p.id, { limit = 1 }):collect()
        return { i = i, id = p.id, users = #users }
      end, { concurrency = 8 })
      assert.equal(0, nfailed, tostring(errs[next(errs) or 1]))
      for i, p in ipairs(projects) do
        assert.equal(i, results[i].i)
        assert.equal(p.id, results[i].id)
        local sequential = #org.projects.users:list(p.id, { limit = 100 }):collect()
        assert.equal(sequential, results[i].users)
      end
    end)
  end)

  describe("workers", function()
    it("keeps at most `workers` functions alive, and still returns every result in order", function()
      local alive, most = 0, 0
      local results, _, nfailed = client:map(projects, function(p)
        alive = alive + 1
        most = math.max(most, alive)
        local id = org.projects:retrieve(p.id).id
        alive = alive - 1
        return id
      end, { workers = 3, concurrency = 2 })
      assert.equal(0, nfailed)
      assert.equal(3, most)
      for i, p in ipairs(projects) do assert.equal(p.id, results[i]) end
    end)
  end)

  describe("client:each", function()
    it("walks several pagers at once, every item once, in order within each source", function()
      local sources = {
        org.projects:list { limit = 5 },
        function() return org.audit_logs:list { limit = 7 } end,
        function() return org.users:list { limit = 2 } end,
      }
      local got = { {}, {}, {} }
      for i, item in client:each(sources) do table.insert(got[i], item.id) end
      local want = {
        org.projects:list { limit = 100 }:collect(), org.audit_logs:list { limit = 100 }:collect(),
        org.users:list { limit = 100 }:collect(),
      }
      for s = 1, 3 do
        assert.equal(#want[s], #got[s])
        for k, item in ipairs(want[s]) do assert.equal(item.id, got[s][k]) end
      end
    end)

    it("break releases everything", function()
      local n = 0
      for _, _ in client:each {
        function() return org.audit_logs:list { limit = 3 } end,
        org.projects:list { limit = 2 },
      } do
        n = n + 1
        if n == 4 then break end
      end
      assert.equal(4, n)
      assert.equal(0, batch.live())
    end)

    it("raises the first failure from the loop and leaves nothing behind", function()
      f:fault { method = "GET", path = "/v1/organization/audit_logs", count = 1, status = 400 }
      local ok, err = pcall(function()
        for _ in client:each { org.projects:list { limit = 2 }, function() return org.audit_logs:list {} end } do
          local _ = 0
        end
      end)
      assert.is_false(ok)
      assert.is_true(oa.errors.is(err, "bad_request"), tostring(err))
      assert.equal(0, batch.live())
      -- the client is as good as before
      assert.equal(projects[1].id, org.projects:retrieve(projects[1].id).id)
    end)
  end)

  describe("cleanup", function()
    it("closing the coroutine that runs a batch closes the batch's coroutines and their variables", function()
      local closed = 0
      local co = coroutine.create(function()
        return client:parallel {
          function()
            local _ <close> = setmetatable({}, { __close = function() closed = closed + 1 end })
            for p in org.projects:list { limit = 2 } do coroutine.yield(p.id) end
          end,
          function()
            local _ <close> = setmetatable({}, { __close = function() closed = closed + 1 end })
            for p in org.projects:list { limit = 2 } do coroutine.yield(p.id) end
          end,
        }
      end)
      local ok, id = coroutine.resume(co)
      assert.is_true(ok)
      assert.equal(projects[1].id, id)
      assert.is_true(batch.live() > 0)
      assert.is_true(coroutine.close(co))
      assert.equal(2, closed)
      assert.equal(0, batch.live())
    end)

    it("after failed items the client keeps working, sequentially and in batches", function()
      f:fault { method = "GET", path = "/v1/organization/projects/", count = 3, status = 400 }
      local _, errs, nfailed = client:map({ 1, 2, 3 }, function(i) return org.projects:retrieve(projects[i].id) end,
        { errors = "collect" })
      assert.equal(3, nfailed)
      for i = 1, 3 do assert.is_true(oa.errors.is(errs[i], "bad_request")) end
      assert.equal(projects[1].id, org.projects:retrieve(projects[1].id).id)
      local results = client:map({ 1, 2 }, function(i) return org.projects:retrieve(projects[i].id).id end)
      assert.same({ projects[1].id, projects[2].id }, { results[1], results[2] })
    end)
  end)

  describe("page:collect", function()
    it("gathers every item of every page as a JSON array", function()
      local all = org.audit_logs:list { limit = 8 }:collect()
      assert.is_true(json.is_array(all))
      local n = 0
      for _ in org.audit_logs:list { limit = 100 } do n = n + 1 end
      assert.equal(n, #all)
      assert.equal(5, #org.audit_logs:list { limit = 2 }:all(5))
      assert.equal(0, #org.audit_logs:list { limit = 2 }:collect(0))
      local ok, err = pcall(function() return org.audit_logs:list {}:collect(-1) end)
      assert.is_false(ok)
      assert.is_true(oa.errors.is(err, "invalid_argument"))
    end)
  end)
end)
