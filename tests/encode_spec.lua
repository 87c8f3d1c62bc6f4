-- The encode stage (lua/openai_admin/request/encode.lua) on plans from the validate stage.
local params = require "openai_admin.params"
local encode = require "openai_admin.request.encode"
local tree = require "openai_admin.tree"
local json = require "openai_admin.json"

local function plan_of(sdk_path, ...)
  local c = params.compile(tree.find(sdk_path))
  return c, c.prepare(1 << 20, ...)
end

describe("encode", function()
  it("puts extra_query after the fields, replacing a field of the same name", function()
    local c, plan = plan_of("admin.organization.projects.list", { limit = 2, include_archived = true },
      { extra_query = { limit = 9, z = { "a", "b" } } })
    local query = encode.query(c, plan)
    assert.equal("include_archived=true&limit=9&z%5B%5D=a&z%5B%5D=b", query)
  end)

  it("keeps the cursor out of the query; before starts a backward walk only without after", function()
    local c, plan = plan_of("admin.organization.audit_logs.list", { limit = 2, before = "e_9" })
    local query, after, before = encode.query(c, plan)
    assert.equal("limit=2", query)
    assert.is_nil(after)
    assert.equal("e_9", before)
    c, plan = plan_of("admin.organization.audit_logs.list", { limit = 2, before = "e_9", after = "e_1" })
    query, after, before = encode.query(c, plan)
    assert.equal("before=e_9&limit=2", query) -- api.lua order
    assert.equal("e_1", after)
    assert.is_nil(before)
    assert.equal("/x?limit=2&after=a%20b", encode.url("/x", "limit=2", "after", "a b"))
    assert.equal("/x?page=p", encode.url("/x", "", "page", "p"))
    assert.equal("/x", encode.url("/x", ""))
  end)

  it("merges extra_body over the body fields and encodes it once", function()
    local c, plan = plan_of("admin.organization.groups.create", { name = "g" },
      { extra_body = { name = "h", more = json.array {} } })
    local body = json.decode(encode.body(c, plan))
    assert.equal("h", body.name)
    assert.equal("[]", json.encode(body.more))
    local req = encode.request(c, plan, "/organization/groups", "{}")
    assert.equal("POST", req.method)
    assert.equal("admin.organization.groups.create", req.endpoint)
  end)

  it("sends no body for GET and for POSTs without body fields", function()
    local c, plan = plan_of("admin.organization.projects.list", {})
    assert.is_nil(encode.body(c, plan))
    c, plan = plan_of("admin.organization.projects.archive", "proj_1")
    assert.is_nil(encode.body(c, plan))
  end)
end)
