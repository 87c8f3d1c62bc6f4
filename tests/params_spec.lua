-- Argument checks and wire encoding (lua/openai_admin/params.lua). Pure Lua, no server.
local params = require "openai_admin.params"
local json = require "openai_admin.json"
local tree = require "openai_admin.tree"
local api = require "openai_admin.api"

local encode = require "openai_admin.request.encode"

-- The validate and encode stages of one call: path, query, cursor ("after=x"), body table, opts.
local function wire(c, ...)
  local plan = c.prepare(32 * 1024 * 1024, ...)
  local query, after = encode.query(c, plan)
  local cursor = after and (c.cursor_name .. "=" .. params.encode_value(after)) or nil
  return plan.path, query, cursor, c.encode_body(plan.params), plan.opts
end

local function prep(sdk_path, ...)
  local row = assert(tree.find(sdk_path), sdk_path)
  return wire(params.compile(row), ...)
end

local fails = require("helpers.expect").invalid_argument

local function bad(sdk_path, ...)
  local args = table.pack(...)
  return function() return prep(sdk_path, table.unpack(args, 1, args.n)) end
end

describe("query encoding", function()
  it("encodes arrays with percent-encoded brackets, in api.lua order", function()
    local path, query = prep("admin.organization.usage.costs",
      { project_ids = { "proj_a", "proj_b" }, start_time = 1730419200, group_by = { "project_id" } })
    assert.equal("/organization/costs", path)
    assert.equal("start_time=1730419200&group_by%5B%5D=project_id&project_ids%5B%5D=proj_a&project_ids%5B%5D=proj_b",
      query)
  end)

  it("gives the same query whatever order the table was built in", function()
    local a = { start_time = 1, limit = 5, bucket_width = "1h", project_ids = { "x" }, models = { "m" } }
    local b = {}
    for _, k in ipairs { "models", "project_ids", "bucket_width", "limit", "start_time" } do b[k] = a[k] end
    local _, qa = prep("admin.organization.usage.completions", a)
    local _, qb = prep("admin.organization.usage.completions", b)
    assert.equal(qa, qb)
  end)

  it("encodes nested objects with brackets", function()
    local _, query = prep("admin.organization.audit_logs.list",
      { effective_at = { gte = 1730419200, lt = 1730505600 } })
    assert.equal("effective_at%5Bgte%5D=1730419200&effective_at%5Blt%5D=1730505600", query)
  end)

  it("writes booleans as true/false", function()
    local _, q1 = prep("admin.organization.projects.list", { include_archived = true })
    local _, q2 = prep("admin.organization.usage.completions", { start_time = 1, batch = false })
    assert.equal("include_archived=true", q1)
    assert.equal("start_time=1&batch=false", q2)
  end)

  it("never writes integral numbers with .0, keeps other floats exact", function()
    local _, q = prep("admin.organization.usage.costs", { start_time = 1730419200.0, limit = 7.0 })
    assert.equal("start_time=1730419200&limit=7", q)
    local _, q2 = prep("admin.organization.audit_logs.list", { effective_at = { gt = 2.5, lt = 0.1 } })
    assert.equal("effective_at%5Bgt%5D=2.5&effective_at%5Blt%5D=0.1", q2)
    assert.equal("9007199254740993", params.number_string(9007199254740993))
  end)

  it("percent-encodes strings (space as %20, unreserved kept)", function()
    local _, q = prep("admin.organization.users.list", { emails = { "a b+c@x.io", "Az09-._~" }, after = "u&v=w/?#" })
    assert.equal("emails%5B%5D=a%20b%2Bc%40x.io&emails%5B%5D=Az09-._~", q)
    local _, _, cursor = prep("admin.organization.users.list", { after = "u&v=w/?#" })
    assert.equal("after=u%26v%3Dw%2F%3F%23", cursor)
    assert.equal("%C3%A9%25", params.encode_value("é%"))
  end)

  it("keeps the pagination cursor out of the base query", function()
    local path, query, cursor = prep("admin.organization.projects.list", { after = "proj_9", limit = 2 })
    assert.equal("/organization/projects", path)
    assert.equal("limit=2", query)
    assert.equal("after=proj_9", cursor)
    local _, q2, c2 = prep("admin.organization.usage.costs", { start_time = 1, page = "tok=" })
    assert.equal("start_time=1", q2)
    assert.equal("page=tok%3D", c2)
  end)

  it("encodes null as an empty value, except in usage.decisions which drops it", function()
    local _, _, c = prep("admin.organization.admin_api_keys.list", { after = json.null })
    assert.equal("after=", c)
    local _, q = prep("admin.organization.external_storage.list", { project_id = json.null, limit = 1 })
    assert.equal("project_id=&limit=1", q)
    local _, q2, c2 = prep("admin.organization.usage.decisions",
      { start_time = 1, end_time = json.null, page = json.null })
    assert.equal("start_time=1", q2)
    assert.is_nil(c2)
  end)

  it("sends no query when no params are given", function()
    local path, query, cursor, body = prep("admin.organization.projects.list")
    assert.equal("/organization/projects", path)
    assert.equal("", query)
    assert.is_nil(cursor)
    assert.is_nil(body)
  end)
end)

describe("path parameters", function()
  it("are placed in path order", function()
    local path = prep("admin.organization.projects.users.roles.retrieve", "proj_1", "user_2", "role_3")
    assert.equal("/projects/proj_1/users/user_2/roles/role_3", path)
    local p2 = prep("admin.organization.projects.rate_limits.update_rate_limit", "proj_1", "rl_2", {})
    assert.equal("/organization/projects/proj_1/rate_limits/rl_2", p2)
  end)

  it("stay inside their segment when they contain / or ?", function()
    local path = prep("admin.organization.projects.users.retrieve", "a/../b", "u?x=1#f")
    assert.equal("/organization/projects/a%2F..%2Fb/users/u%3Fx%3D1%23f", path)
  end)

  it("must be non-empty strings", function()
    fails(bad("admin.organization.projects.retrieve"), "admin.organization.projects.retrieve",
      "'project_id'", "non-empty string", "got nil")
    fails(bad("admin.organization.projects.retrieve", ""), "'project_id'", "non-empty string")
    fails(bad("admin.organization.projects.retrieve", 42), "'project_id'", "got number 42")
    fails(bad("admin.organization.projects.users.retrieve", "proj_1", { limit = 1 }), "'user_id'",
      "did you forget a path parameter")
    local err = fails(bad("admin.organization.projects.users.roles.retrieve", "p", "u", nil), "#3 'role_id'")
    assert.equal("role_id", err.param)
    assert.equal("admin.organization.projects.users.roles.retrieve", err.sdk_path)
  end)

  it("rejects too many arguments", function()
    fails(bad("admin.organization.projects.retrieve", "p", {}, {}, "extra"), "too many arguments")
  end)
end)

describe("body preparation", function()
  it("copies fields and marks arrays, so {} goes out as []", function()
    local given = { role_name = "r", permissions = {} }
    local _, query, _, body = prep("admin.organization.roles.create", given)
    assert.equal("", query)
    assert.equal("r", body.role_name)
    assert.is_true(json.is_array(body.permissions))
    assert.is_nil(getmetatable(given.permissions), "the caller's table was modified")
    assert.equal('[]', json.encode(body.permissions))
  end)

  it("marks arrays inside nested objects and arrays of objects", function()
    local _, _, _, body = prep("admin.organization.spend_alerts.create", {
      currency = "USD", interval = "month", threshold_amount = 5000,
      notification_channel = { type = "email", recipients = {} },
    })
    assert.is_true(json.is_array(body.notification_channel.recipients))
    local _, _, _, b2 = prep("admin.organization.invites.create",
      { email = "a@b.c", role = "reader", projects = { { id = "p", role = "member" } } })
    assert.is_true(json.is_array(b2.projects))
    assert.equal("p", b2.projects[1].id)
    local _, _, _, b3 = prep("admin.organization.invites.create", { email = "a@b.c", role = "reader", projects = {} })
    assert.equal("[]", json.encode(b3.projects))
  end)

  it("sends {} for a POST with body fields and nothing given", function()
    local _, _, _, body = prep("admin.organization.certificates.update", "cert_1")
    assert.same({}, body)
    assert.equal("{}", json.encode(body))
  end)

  it("sends no body for POSTs without body fields, and for GET and DELETE", function()
    assert.is_nil(select(4, prep("admin.organization.projects.archive", "p")))
    assert.is_nil(select(4, prep("admin.organization.external_keys.validate", "k")))
    assert.is_nil(select(4, prep("admin.organization.projects.retrieve", "p")))
    assert.is_nil(select(4, prep("admin.organization.invites.delete", "i")))
  end)

  it("passes null for nullable fields and keeps map values as given", function()
    local _, _, _, body = prep("admin.organization.users.update", "u", { role = json.null })
    assert.equal(json.null, body.role)
    local jwks = { keys = { { kty = "RSA" } } }
    local _, _, _, b2 = prep("admin.organization.workload_identity_providers.create", {
      audience = "a", issuer = "https://i", name = "n", type = "oidc",
      verification = { type = "uploaded_jwks", jwks = jwks },
    })
    assert.same(jwks, b2.verification.jwks) -- a copy: what was checked is what is sent
  end)

  it("accepts both shapes of a string-or-list field", function()
    local _, _, _, b1 = prep("admin.organization.projects.service_tier_settings.update", "p", { enabled_tiers = "all" })
    assert.equal("all", b1.enabled_tiers)
    local _, _, _, b2 = prep("admin.organization.projects.service_tier_settings.update", "p", { enabled_tiers = {} })
    assert.equal("[]", json.encode(b2.enabled_tiers))
  end)
end)

describe("bad input is rejected before any request", function()
  local costs = "admin.organization.usage.costs"

  it("missing required fields", function()
    fails(bad(costs), costs, "missing required parameter 'start_time'")
    fails(bad(costs, { limit = 1 }), "missing required parameter 'start_time'")
    local err = fails(bad("admin.organization.groups.create", {}), "missing required parameter 'name'")
    assert.equal("name", err.param)
  end)

  it("wrong types", function()
    fails(bad(costs, { start_time = "1730419200" }), "start_time: expected a number", 'got "1730419200"')
    fails(bad("admin.organization.groups.create", { name = 5 }), "name: expected a string, got number 5")
    fails(bad("admin.organization.projects.list", { include_archived = "true" }),
      "include_archived: expected a boolean")
    fails(bad(costs, { start_time = 0 / 0 }), "start_time: expected a finite number")
    fails(bad(costs, { start_time = 1, group_by = "project_id" }), "group_by: expected a list")
  end)

  it("integer-valued and fractional numbers are both numbers", function()
    assert.has_no.errors(bad(costs, { start_time = 1730419200.0, limit = 3 }))
    assert.has_no.errors(bad("admin.organization.spend_limit.update",
      { currency = "USD", interval = "month", threshold_amount = 12.5 }))
  end)

  it("arrays must be sequences", function()
    fails(bad(costs, { start_time = 1, project_ids = { a = "x" } }), "project_ids: expected a list")
    fails(bad(costs, { start_time = 1, project_ids = { [1] = "a", [3] = "c" } }),
      "params.project_ids: array has a hole at [2]")
    fails(bad(costs, { start_time = 1, project_ids = { "a", 2 } }), "project_ids[2]: expected a string")
  end)

  it("enums", function()
    local err = fails(bad(costs, { start_time = 1, bucket_width = "1w" }), "bucket_width: expected one of '1d'")
    assert.equal("bucket_width", err.param)
    fails(bad(costs, { start_time = 1, group_by = { "project_id", "line_itm" } }),
      "group_by[2]: expected one of", "did you mean 'line_item'?")
  end)

  it("unknown fields suggest the closest name", function()
    fails(bad("admin.organization.projects.list", { limt = 5 }), "admin.organization.projects.list",
      "unknown parameter 'limt'; did you mean 'limit'?")
    fails(bad("admin.organization.projects.retrieve", "p", { timeout = 5 }), "unknown parameter 'timeout'",
      "options")
  end)

  it("nested object fields are named by their full path", function()
    local err = fails(bad("admin.organization.audit_logs.list", { effective_at = { gte = "x" } }),
      "effective_at.gte: expected a number")
    assert.equal("effective_at.gte", err.param)
    fails(bad("admin.organization.audit_logs.list", { effective_at = { gtee = 1 } }),
      "effective_at: unknown field 'gtee'; did you mean 'gte'?")
    fails(bad("admin.organization.invites.create", { email = "e", role = "reader", projects = { { id = "p" } } }),
      "projects[1].role: missing required field")
    fails(bad("admin.organization.projects.hosted_tool_permissions.update", "p", { mcp = { enabled = 1 } }),
      "mcp.enabled: expected a boolean")
    fails(bad("admin.organization.spend_alerts.create", { currency = "USD", interval = "month",
      threshold_amount = 1, notification_channel = { type = "email", recipients = { 5 } } }),
      "notification_channel.recipients[1]: expected a string")
  end)

  it("union bodies: the chosen variant's required fields", function()
    local es = "admin.organization.external_storage.create"
    fails(bad(es, { project_id = "p", provider = { type = "gcp", bucket = "b" } }),
      "provider.workload_identity_pool_id: missing required field")
    fails(bad(es, { project_id = "p", provider = { type = "s3", bucket = "b" } }),
      "provider.type: expected one of 'aws', 'azure', 'gcp', 'oci'")
    fails(bad(es, { project_id = "p", provider = { bucket = "b" } }), "provider.type: missing required field")
    assert.has_no.errors(bad(es, { project_id = "p", provider = { type = "aws", bucket = "b", role_arn = "r" } }))

    local ek = "admin.organization.external_keys.create"
    fails(bad(ek, { name = "k", type = "aws", external_id = "e", kms_arn = "a" }),
      "missing required parameter 'role_arn' (required when type is 'aws')")
    fails(bad(ek, { name = "k", type = "aws", external_id = "e", kms_arn = "a", role_arn = "r", tenant_id = "t" }),
      "parameter 'tenant_id' does not apply when type is 'aws'")
    assert.has_no.errors(bad(ek, { name = "k", type = "azure", key_name = "k", tenant_id = "t", vault_uri = "v" }))

    local fr = "admin.organization.workload_identity_providers.federation_rules.create"
    fails(bad(fr, "wip_1", { attribute_matchers = { sub = "x" }, project_id = "p", service_account_id = "s",
      permissions = { type = "restricted" } }), "permissions.scopes: missing required field")
    fails(bad(fr, "wip_1", { attribute_matchers = { sub = {} }, project_id = "p", service_account_id = "s" }),
      "attribute_matchers.sub: expected a string, number or boolean")
  end)

  it("string-or-list fields", function()
    local st = "admin.organization.projects.service_tier_settings.update"
    fails(bad(st, "p", { enabled_tiers = "fast" }), "enabled_tiers: expected one of 'all'")
    fails(bad(st, "p", { enabled_tiers = { "all" } }), "enabled_tiers[1]: expected one of 'fast'")
    assert.has_no.errors(bad(st, "p", { enabled_tiers = { "fast", "flex" } }))
  end)

  it("null only where nullable", function()
    assert.has_no.errors(bad("admin.organization.projects.update", "p", { name = json.null }))
    fails(bad("admin.organization.groups.create", { name = json.null }), "name: may not be null")
    assert.has_no.errors(bad("admin.organization.workload_identity_providers.update", "w",
      { verification = { type = "discovery", discovery_url = json.null } }))
  end)

  it("params must be a table", function()
    fails(bad("admin.organization.projects.list", "limit=5"), "(params) must be a table")
    fails(bad("admin.organization.projects.list", { 5 }), "named fields")
  end)

  it("per-request options", function()
    fails(bad("admin.organization.projects.list", {}, { timout = 5 }),
      "unknown option 'timout'; did you mean 'timeout'?")
    fails(bad("admin.organization.projects.list", {}, { timeout = -1 }), "option timeout: expected a positive number")
    fails(bad("admin.organization.projects.list", {}, { max_retries = 1.5 }), "option max_retries")
    fails(bad("admin.organization.projects.list", {}, { headers = { ["X-A"] = 5 } }), "option headers['X-A']")
    fails(bad("admin.organization.projects.list", {}, { headers = { ["X A"] = "v" } }), "bad header name")
    local opts = { timeout = 2.5, max_retries = 0, connect_timeout = 1,
      headers = { ["X-Trace"] = "t", ["X-Drop"] = false } }
    assert.same(opts, select(5, prep("admin.organization.projects.list", {}, opts))) -- checked copy
  end)
end)

describe("every endpoint of api.lua", function()
  -- a minimal valid value for a parameter spec
  local function sample(p)
    local function scalar(s)
      if s.variants and type(s.variants[1]) == "table" then
        local v = s.variants[1]
        if v.fields then
          local t = {}
          for _, f in ipairs(v.fields) do if f.required then t[f.name] = sample(f) end end
          return t
        end
        return scalar(v)
      end
      if s.type == "object" then
        local t = {}
        for _, f in ipairs(s.fields or {}) do if f.required then t[f.name] = sample(f) end end
        return t
      end
      if s.type == "number" then return 1 end
      if s.type == "boolean" then return true end
      return s.enum and s.enum[1] or "s"
    end
    if p.array then return { scalar(p) } end
    return scalar(p)
  end

  it("compiles and accepts its required parameters, sending what its method implies", function()
    assert.equal(143, #api)
    for _, row in ipairs(api) do
      local c = params.compile(row)
      local args = {}
      for i, name in ipairs(row.path_params) do args[i] = name .. "_v" end
      local given = {}
      local variant = row.body_variants and row.body_variants.variants[row.body_variants.discriminator == "type"
        and "aws" or next(row.body_variants.variants)]
      for _, list in ipairs { row.query, row.body } do
        for _, p in ipairs(list) do
          if p.required or (variant and p.variants and p.required_in_variant and p.variants[1] == "aws") then
            given[p.name] = sample(p)
          end
        end
      end
      if variant then given.type = "aws" end
      args[#args + 1] = given
      local ok, path, query, _, body = pcall(wire, c, table.unpack(args))
      assert(ok, row.sdk_path .. ": " .. tostring(path))
      assert.is_nil(path:find("{", 1, true), row.sdk_path)
      for _, name in ipairs(row.path_params) do
        assert.is_truthy(path:find(name .. "_v", 1, true), row.sdk_path)
      end
      assert.equal("string", type(query))
      if row.method == "POST" and row.sends_body then
        assert.equal("table", type(body), row.sdk_path)
        assert.is_truthy(json.encode(body), row.sdk_path)
      else
        assert.is_nil(body, row.sdk_path)
      end
    end
  end)
end)
