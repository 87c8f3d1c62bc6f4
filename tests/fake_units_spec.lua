-- Units of the fake's state logic: router, query parser, validation, collections.
local json = require("openai_admin.json")
local api = require("openai_admin.api")
local router = require("openai_admin.fake.router")
local validate = require("openai_admin.fake.validate")
local store = require("openai_admin.fake.store")
local util = require("openai_admin.fake.util")

local ROUTES = router.compile(api)
local ROW = {}
for _, r in ipairs(api) do ROW[r.sdk_path] = r end

local function api_err(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  assert.is_true(util.is_api_error(e), tostring(e))
  return e
end

describe("fake router", function()
  it("prefers literal segments and falls back to parameters", function()
    local row = router.match(ROUTES, "POST", "/organization/certificates/activate")
    assert.equal("admin.organization.certificates.activate", row.sdk_path)
    local row2, p = router.match(ROUTES, "POST", "/organization/certificates/cert_1")
    assert.equal("admin.organization.certificates.update", row2.sdk_path)
    assert.same({ certificate_id = "cert_1" }, p)
    local row3, p3 = router.match(ROUTES, "GET", "/projects/proj_1/users/user%2F1/roles/role_1")
    assert.equal("admin.organization.projects.users.roles.retrieve", row3.sdk_path)
    assert.same({ project_id = "proj_1", user_id = "user/1", role_id = "role_1" }, p3)
  end)

  it("tells unknown paths from unknown methods", function()
    local row, why = router.match(ROUTES, "GET", "/organization/nothing")
    assert.is_nil(row)
    assert.equal("not_found", why)
    local row2, why2, allowed = router.match(ROUTES, "PATCH", "/organization/projects/proj_1")
    assert.is_nil(row2)
    assert.equal("method", why2)
    assert.same({ "GET", "POST" }, allowed)
  end)

  it("routes every row of the endpoint table to itself", function()
    for _, r in ipairs(api) do
      local path = r.path:gsub("{[%w_]+}", "x_1")
      local got = router.match(ROUTES, r.method, path)
      assert.equal(r.sdk_path, got and got.sdk_path, r.sdk_path)
    end
  end)
end)

describe("fake query parser and validation", function()
  it("decodes the qs brackets form", function()
    local q = router.parse_query("project_ids%5B%5D=a&project_ids[]=b&effective_at[gte]=5&limit=3&x=a+b%20c")
    assert.same({ "a", "b" }, q.project_ids.values)
    assert.is_true(q.project_ids.arr)
    assert.equal("5", q.effective_at.fields.gte)
    assert.same({ "3" }, q.limit.values)
    assert.same({ "a b c" }, q.x.values)
  end)

  it("converts and checks query params against the row", function()
    local row = ROW["admin.organization.audit_logs.list"]
    local q = validate.query(row, router.parse_query(
      "limit=10&effective_at[gt]=7&event_types[]=project.created&tenant_only=false&after="))
    assert.equal(10, q.limit)
    assert.equal("integer", math.type(q.limit))
    assert.same({ gt = 7 }, q.effective_at)
    assert.same({ "project.created" }, q.event_types)
    assert.is_false(q.tenant_only)
    assert.is_nil(q.after)
    assert.equal("limit", api_err(validate.query, row, router.parse_query("limit=ten")).param)
    assert.equal("effective_at[soon]", api_err(validate.query, row, router.parse_query("effective_at[soon]=1")).param)
    assert.equal("bogus", api_err(validate.query, row, router.parse_query("bogus=1")).param)
    local usage = ROW["admin.organization.usage.completions"]
    assert.equal("start_time", api_err(validate.query, usage, router.parse_query("")).param)
  end)

  it("checks JSON bodies: required, types, enums, nested, variants, unknown keys", function()
    local inv = ROW["admin.organization.invites.create"]
    assert.equal("email", api_err(validate.body, inv, { role = "reader" }).param)
    local e = api_err(validate.body, inv, { email = "a@b.c", role = "reader", projects = json.array({ { id = "p" } }) })
    assert.equal("projects[0].role", e.param)
    assert.equal("missing_required_parameter", e.code)
    e = api_err(validate.body, inv, { email = "a@b.c", role = "reader",
      projects = json.array({ { id = "p", role = "boss" } }) })
    assert.equal("projects[0].role", e.param)
    assert.equal("invalid_value", e.code)
    e = api_err(validate.body, inv, { email = json.null, role = "reader" })
    assert.equal("invalid_type", e.code)
    local tiers = ROW["admin.organization.projects.service_tier_settings.update"]
    assert.is_table(validate.body(tiers, { enabled_tiers = "flex" }))
    assert.is_table(validate.body(tiers, { enabled_tiers = json.array({ "flex" }) }))
    assert.equal("enabled_tiers", api_err(validate.body, tiers, { enabled_tiers = 3 }).param)
    local ek = ROW["admin.organization.external_keys.create"]
    e = api_err(validate.body, ek, { type = "gcp", name = "n", role_arn = "x" })
    assert.is_string(e.param)
    local wip = ROW["admin.organization.workload_identity_providers.create"]
    assert.is_table(validate.body(wip, { name = "n", type = "oidc", issuer = "i", audience = "a",
      verification = { type = "uploaded_jwks", jwks = { keys = json.array({}) } } }))
    assert.equal("verification.type", api_err(validate.body, wip, { name = "n", type = "oidc", issuer = "i",
      audience = "a", verification = { type = "magic" } }).param)
    assert.equal("invalid_type", api_err(validate.body, wip, json.array({})).code)
  end)
end)

describe("fake collections", function()
  local row = ROW["admin.organization.groups.list"]

  local function filled(n)
    local c = store.coll()
    for i = 1, n do c:add({ id = "g" .. i }) end
    return c
  end

  it("pages asc and desc with after cursors", function()
    local c = filled(5)
    local p = store.page(row, c, { limit = 2 })
    assert.same({ "g1", "g2" }, { p.data[1].id, p.data[2].id })
    assert.is_true(p.has_more)
    assert.equal("g2", p.next)
    p = store.page(row, c, { limit = 2, after = "g4" })
    assert.equal(1, #p.data)
    assert.is_false(p.has_more)
    assert.equal(json.null, p.next)
    p = store.page(row, c, { limit = 2, order = "desc", after = "g4" })
    assert.same({ "g3", "g2" }, { p.data[1].id, p.data[2].id })
  end)

  it("keeps cursors of removed items working and hides private fields", function()
    local c = filled(4)
    c:get("g2")._secret = "x"
    c:remove("g2")
    local p = store.page(row, c, { limit = 10, after = "g2" })
    assert.same({ "g3", "g4" }, { p.data[1].id, p.data[2].id })
    for _, x in ipairs(store.page(row, c, {}).data) do
      for k in pairs(x) do assert.not_equal("_", k:sub(1, 1)) end
    end
  end)

  it("reads limit defaults and maxima from the row", function()
    assert.same({ 20, 100 }, { store.limits(ROW["admin.organization.projects.list"]) })
    assert.same({ 1000, 1000 }, { store.limits(ROW["admin.organization.roles.list"]) })
  end)
end)
