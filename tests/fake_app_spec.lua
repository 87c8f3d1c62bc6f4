-- The fake Admin API's state logic, driven in-process through app:handle (no HTTP).
local json = require("openai_admin.json")
local api = require("openai_admin.api")
local fake_app = require("openai_admin.fake.app")

local KEY = "sk-admin-fake-key"
local AUTH = { authorization = "Bearer " .. KEY }

local ROW = {}
for _, r in ipairs(api) do ROW[r.sdk_path] = r end

local SAMPLES = {}
local function sample(name)
  if SAMPLES[name] == nil then
    local f = assert(io.open("tests/fixtures/samples/" .. name .. ".json", "rb"))
    local s = f:read("a")
    f:close()
    SAMPLES[name] = assert(json.decode(s))
  end
  return SAMPLES[name]
end

local function keyset(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return table.concat(ks, ",")
end

local function enc(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function new_app(opts)
  opts = opts or {}
  opts.admin_key = opts.admin_key or KEY
  opts.seed = opts.seed or 1
  return fake_app.new(opts)
end

local function raw(app, method, path, query, body, headers)
  local resp = app:handle({
    method = method, path = path, query = query or "", headers = headers or AUTH,
    body = body ~= nil and (type(body) == "string" and body or assert(json.encode(body))) or nil, conn_id = 1,
  })
  assert.is_table(resp)
  assert.is_number(resp.status)
  assert.equal("application/json", resp.headers["content-type"])
  assert.truthy(resp.headers["x-request-id"]:match("^req_%x+$"))
  return resp, json.decode(resp.body)
end

local function path_of(sdk, params)
  local row = assert(ROW[sdk], sdk)
  return "/v1" .. row.path:gsub("{([%w_]+)}", function(n) return enc(assert(params[n], n)) end), row
end

-- calls an endpoint by sdk_path; returns status, decoded body
local function call(app, sdk, params, query, body)
  local path, row = path_of(sdk, params or {})
  local resp, obj = raw(app, row.method, path, query, body)
  return resp.status, obj, resp
end

local function api_error(obj)
  assert.is_table(obj.error)
  assert.is_string(obj.error.message)
  assert.is_string(obj.error.type)
  return obj.error
end

-- nested objects whose keys depend on the input or on a variant
local FREE = { provider = true, actor = true, attribute_matchers = true, verification = true, jwks = true,
  metadata = true, certificate_details = true, permissions = true, owner = true }

-- compares the keys of nested objects (arrays: their first elements) with the sample's
local function deep_keys(s, a, where)
  if type(s) ~= "table" or type(a) ~= "table" then return end
  if json.is_array(s) then
    if s[1] ~= nil and a[1] ~= nil then deep_keys(s[1], a[1], where .. "[0]") end
    return
  end
  assert.equal(keyset(s), keyset(a), where .. ": keys differ from the sample")
  for k, v in pairs(s) do
    if not FREE[k] and type(v) == "table" and type(a[k]) == "table" then deep_keys(v, a[k], where .. "." .. k) end
  end
end

local function check_sample_keys(sdk, obj)
  local row = ROW[sdk]
  local resp = row.response
  local s = sample(resp.sample)
  assert.equal(keyset(s), keyset(obj), sdk .. ": top-level keys differ from sample " .. resp.sample)
  if sdk ~= "admin.organization.audit_logs.list" then deep_keys(s, obj, sdk) end
  if s.object ~= nil then assert.equal(s.object, obj.object, sdk .. ": object") end
  if row.pagination == "page_token" then
    local b = obj.data[1]
    if b then
      assert.equal(keyset(s.data[1]), keyset(b), sdk .. ": bucket keys")
      local r = b.results[1]
      if r then
        assert.equal(keyset(s.data[1].results[1]), keyset(r), sdk .. ": result keys")
        assert.equal(s.data[1].results[1].object, r.object)
      end
    end
  elseif row.pagination and resp.item_sample and obj.data and obj.data[1] then
    local item = sample(resp.item_sample)
    assert.equal(keyset(item), keyset(obj.data[1]), sdk .. ": item keys differ from " .. resp.item_sample)
    if item.object ~= nil then assert.equal(item.object, obj.data[1].object) end
  end
end

describe("fake app: every endpoint", function()
  local app = new_app({ seed_data = { projects = 2, users = 3, audit_events = 20, groups = 1, certificates = 1 } })
  local covered = {}

  -- a successful call whose body matches its sample's keys
  local function ok(sdk, params, query, body)
    local status, obj = call(app, sdk, params, query, body)
    if status ~= 200 then error(sdk .. " -> " .. status .. ": " .. json.encode(obj)) end
    check_sample_keys(sdk, obj)
    covered[sdk] = true
    return obj
  end
  local A = "admin.organization."

  it("walks all 143 endpoints with sample-shaped responses", function()
    -- projects
    local proj = ok(A .. "projects.create", {}, nil, { name = "Walk" })
    local pid = proj.id
    assert.truthy(pid:match("^proj_"))
    ok(A .. "projects.retrieve", { project_id = pid })
    ok(A .. "projects.update", { project_id = pid }, nil, { name = "Walk 2" })
    ok(A .. "projects.list", {}, "limit=5")
    -- users
    local users = ok(A .. "users.list", {}, "limit=10")
    local uid = users.data[2].id
    assert.truthy(uid:match("^user_"))
    ok(A .. "users.retrieve", { user_id = uid })
    ok(A .. "users.update", { user_id = uid }, nil, { role = "reader" })
    -- project users
    ok(A .. "projects.users.create", { project_id = pid }, nil, { user_id = uid, role = "member" })
    ok(A .. "projects.users.retrieve", { project_id = pid, user_id = uid })
    ok(A .. "projects.users.update", { project_id = pid, user_id = uid }, nil, { role = "owner" })
    ok(A .. "projects.users.list", { project_id = pid })
    -- roles
    local role = ok(A .. "roles.create", {}, nil, { role_name = "Walker", permissions = { "api.groups.read" } })
    ok(A .. "roles.retrieve", { role_id = role.id })
    ok(A .. "roles.update", { role_id = role.id }, nil, { description = "walks" })
    ok(A .. "roles.list", {})
    local prole = ok(A .. "projects.roles.create", { project_id = pid }, nil,
      { role_name = "Key Manager", permissions = { "api.organization.projects.api_keys.read" } })
    ok(A .. "projects.roles.retrieve", { project_id = pid, role_id = prole.id })
    ok(A .. "projects.roles.update", { project_id = pid, role_id = prole.id }, nil, { role_name = "Key Manager 2" })
    ok(A .. "projects.roles.list", { project_id = pid })
    -- org user roles
    ok(A .. "users.roles.create", { user_id = uid }, nil, { role_id = role.id })
    ok(A .. "users.roles.retrieve", { user_id = uid, role_id = role.id })
    ok(A .. "users.roles.list", { user_id = uid })
    -- project user roles
    ok(A .. "projects.users.roles.create", { project_id = pid, user_id = uid }, nil, { role_id = prole.id })
    ok(A .. "projects.users.roles.retrieve", { project_id = pid, user_id = uid, role_id = prole.id })
    ok(A .. "projects.users.roles.list", { project_id = pid, user_id = uid })
    -- groups
    local g = ok(A .. "groups.create", {}, nil, { name = "Walkers" })
    assert.truthy(g.id:match("^group_"))
    ok(A .. "groups.retrieve", { group_id = g.id })
    ok(A .. "groups.update", { group_id = g.id }, nil, { name = "Walkers 2" })
    ok(A .. "groups.list", {})
    ok(A .. "groups.users.create", { group_id = g.id }, nil, { user_id = uid })
    ok(A .. "groups.users.retrieve", { group_id = g.id, user_id = uid })
    ok(A .. "groups.users.list", { group_id = g.id })
    ok(A .. "groups.roles.create", { group_id = g.id }, nil, { role_id = role.id })
    ok(A .. "groups.roles.retrieve", { group_id = g.id, role_id = role.id })
    ok(A .. "groups.roles.list", { group_id = g.id })
    -- project groups
    ok(A .. "projects.groups.create", { project_id = pid }, nil, { group_id = g.id, role = prole.id })
    ok(A .. "projects.groups.retrieve", { project_id = pid, group_id = g.id }, "group_type=group")
    ok(A .. "projects.groups.list", { project_id = pid })
    ok(A .. "projects.groups.roles.create", { project_id = pid, group_id = g.id }, nil, { role_id = prole.id })
    ok(A .. "projects.groups.roles.retrieve", { project_id = pid, group_id = g.id, role_id = prole.id })
    ok(A .. "projects.groups.roles.list", { project_id = pid, group_id = g.id })
    -- service accounts and keys
    local sa = ok(A .. "projects.service_accounts.create", { project_id = pid }, nil, { name = "bot" })
    assert.truthy(sa.id:match("^svc_acct_"))
    ok(A .. "projects.service_accounts.retrieve", { project_id = pid, service_account_id = sa.id })
    ok(A .. "projects.service_accounts.update", { project_id = pid, service_account_id = sa.id }, nil,
      { name = "bot 2", role = "member" })
    ok(A .. "projects.service_accounts.list", { project_id = pid })
    local k = ok(A .. "projects.service_accounts.api_keys.create", { project_id = pid, service_account_id = sa.id },
      nil, { name = "deploy", scopes = { "api.model.read" } })
    ok(A .. "projects.api_keys.list", { project_id = pid })
    ok(A .. "projects.api_keys.retrieve", { project_id = pid, api_key_id = k.id })
    ok(A .. "projects.api_keys.update", { project_id = pid, api_key_id = k.id }, nil, { expires_in_seconds = 3600 })
    -- rate limits
    local rl = ok(A .. "projects.rate_limits.list_rate_limits", { project_id = pid }, "limit=100")
    assert.equal(6, #rl.data)
    ok(A .. "projects.rate_limits.update_rate_limit", { project_id = pid, rate_limit_id = "rl-gpt-4o-mini" }, nil,
      { max_requests_per_1_minute = 42 })
    -- permissions and settings
    ok(A .. "projects.model_permissions.update", { project_id = pid }, nil,
      { mode = "allow_list", model_ids = { "gpt-4o" } })
    ok(A .. "projects.model_permissions.retrieve", { project_id = pid })
    ok(A .. "projects.model_permissions.delete", { project_id = pid })
    ok(A .. "projects.hosted_tool_permissions.retrieve", { project_id = pid })
    ok(A .. "projects.hosted_tool_permissions.update", { project_id = pid }, nil, { mcp = { enabled = false } })
    ok(A .. "projects.service_tier_settings.retrieve", { project_id = pid })
    ok(A .. "projects.service_tier_settings.update", { project_id = pid }, nil,
      { default = "scale", enabled_tiers = { "flex", "scale" } })
    ok(A .. "projects.data_retention.retrieve", { project_id = pid })
    ok(A .. "projects.data_retention.update", { project_id = pid }, nil, { retention_type = "zero_data_retention" })
    ok(A .. "data_retention.retrieve", {})
    ok(A .. "data_retention.update", {}, nil, { retention_type = "modified_abuse_monitoring" })
    -- spend
    local alert = { threshold_amount = 100000, currency = "USD", interval = "month",
      notification_channel = { type = "email", recipients = { "finance@example.com" }, subject_prefix = "Spend" } }
    local oa = ok(A .. "spend_alerts.create", {}, nil, alert)
    ok(A .. "spend_alerts.retrieve", { alert_id = oa.id })
    ok(A .. "spend_alerts.update", { alert_id = oa.id }, nil, alert)
    ok(A .. "spend_alerts.list", {})
    ok(A .. "spend_alerts.delete", { alert_id = oa.id })
    local pa = ok(A .. "projects.spend_alerts.create", { project_id = pid }, nil, alert)
    ok(A .. "projects.spend_alerts.retrieve", { project_id = pid, alert_id = pa.id })
    ok(A .. "projects.spend_alerts.update", { project_id = pid, alert_id = pa.id }, nil, alert)
    ok(A .. "projects.spend_alerts.list", { project_id = pid })
    ok(A .. "projects.spend_alerts.delete", { project_id = pid, alert_id = pa.id })
    local lim = { threshold_amount = 500000, currency = "USD", interval = "month" }
    ok(A .. "spend_limit.update", {}, nil, lim)
    ok(A .. "spend_limit.retrieve", {})
    ok(A .. "spend_limit.delete", {})
    ok(A .. "projects.spend_limit.update", { project_id = pid }, nil, lim)
    ok(A .. "projects.spend_limit.retrieve", { project_id = pid })
    ok(A .. "projects.spend_limit.delete", { project_id = pid })
    -- certificates
    local pem = "-----BEGIN CERTIFICATE-----\nMIIBxyz\n-----END CERTIFICATE-----"
    local cert = ok(A .. "certificates.create", {}, nil, { certificate = pem, name = "walk cert" })
    assert.truthy(cert.id:match("^cert_"))
    ok(A .. "certificates.retrieve", { certificate_id = cert.id }, "include%5B%5D=content")
    ok(A .. "certificates.update", { certificate_id = cert.id }, nil, { name = "walk cert 2" })
    ok(A .. "certificates.list", {})
    ok(A .. "certificates.activate", {}, nil, { certificate_ids = { cert.id } })
    ok(A .. "certificates.deactivate", {}, nil, { certificate_ids = { cert.id } })
    ok(A .. "projects.certificates.list", { project_id = pid })
    ok(A .. "projects.certificates.activate", { project_id = pid }, nil, { certificate_ids = { cert.id } })
    ok(A .. "projects.certificates.deactivate", { project_id = pid }, nil, { certificate_ids = { cert.id } })
    ok(A .. "certificates.delete", { certificate_id = cert.id })
    -- admin api keys
    local ak = ok(A .. "admin_api_keys.create", {}, nil, { name = "walk key" })
    ok(A .. "admin_api_keys.retrieve", { key_id = ak.id })
    ok(A .. "admin_api_keys.list", {})
    ok(A .. "admin_api_keys.delete", { key_id = ak.id })
    -- invites
    local inv = ok(A .. "invites.create", {}, nil,
      { email = "new@example.com", role = "reader", projects = { { id = pid, role = "member" } } })
    assert.truthy(inv.id:match("^invite%-"))
    ok(A .. "invites.retrieve", { invite_id = inv.id })
    ok(A .. "invites.list", {})
    ok(A .. "invites.delete", { invite_id = inv.id })
    -- external keys
    local ek = ok(A .. "external_keys.create", {}, nil, { type = "aws", name = "kms",
      role_arn = "arn:aws:iam::1:role/x",
      kms_arn = "arn:aws:kms:us-east-1:1:key/x", external_id = "org-x", purpose = "ekm" })
    ok(A .. "external_keys.retrieve", { external_key_id = ek.id })
    ok(A .. "external_keys.list", {})
    ok(A .. "external_keys.validate", { external_key_id = ek.id })
    ok(A .. "external_keys.delete", { external_key_id = ek.id })
    -- external storage
    local es = ok(A .. "external_storage.create", {}, nil, { project_id = pid,
      provider = { type = "aws", bucket = "b", role_arn = "arn:aws:iam::1:role/w" } })
    ok(A .. "external_storage.retrieve", { external_storage_id = es.id })
    ok(A .. "external_storage.list", {}, "project_id=" .. pid)
    local v = ok(A .. "external_storage.validate", { external_storage_id = es.id })
    assert.equal("validated", v.status)
    ok(A .. "external_storage.delete", { external_storage_id = es.id })
    -- workload identity
    local w = ok(A .. "workload_identity_providers.create", {}, nil, { name = "GH", type = "oidc",
      issuer = "https://token.actions.githubusercontent.com", audience = "https://github.com/acme",
      attribute_transformations = { { attribute = "repository", expression = "assertion.repository" } } })
    ok(A .. "workload_identity_providers.retrieve", { workload_identity_provider_id = w.id })
    ok(A .. "workload_identity_providers.update", { workload_identity_provider_id = w.id }, nil, { enabled = false })
    ok(A .. "workload_identity_providers.list", {})
    local fr = ok(A .. "workload_identity_providers.federation_rules.create", { workload_identity_provider_id = w.id },
      nil, { project_id = pid, service_account_id = sa.id, attribute_matchers = { repository = "acme/x" } })
    local fp = { workload_identity_provider_id = w.id, workload_identity_federation_rule_id = fr.id }
    ok(A .. "workload_identity_providers.federation_rules.retrieve", fp)
    ok(A .. "workload_identity_providers.federation_rules.update", fp, nil, { name = "main" })
    ok(A .. "workload_identity_providers.federation_rules.list", { workload_identity_provider_id = w.id })
    ok(A .. "workload_identity_providers.federation_rules.delete", fp)
    ok(A .. "workload_identity_providers.delete", { workload_identity_provider_id = w.id })
    -- usage and costs
    for _, name in ipairs({ "audio_speeches", "audio_transcriptions", "code_interpreter_sessions", "completions",
      "decisions", "embeddings", "file_search_calls", "images", "moderations", "vector_stores", "web_search_calls" }) do
      ok(A .. "usage." .. name, {}, "start_time=1730419200&end_time=1730592000")
    end
    ok(A .. "usage.costs", {}, "start_time=1730419200&end_time=1730592000")
    -- audit logs (a project.created event has the sample's shape)
    ok(A .. "audit_logs.list", {}, "event_types%5B%5D=project.created&limit=3")
    -- removals
    ok(A .. "projects.groups.roles.delete", { project_id = pid, group_id = g.id, role_id = prole.id })
    ok(A .. "projects.groups.delete", { project_id = pid, group_id = g.id })
    ok(A .. "projects.users.roles.delete", { project_id = pid, user_id = uid, role_id = prole.id })
    ok(A .. "projects.roles.delete", { project_id = pid, role_id = prole.id })
    ok(A .. "groups.roles.delete", { group_id = g.id, role_id = role.id })
    ok(A .. "groups.users.delete", { group_id = g.id, user_id = uid })
    ok(A .. "groups.delete", { group_id = g.id })
    ok(A .. "users.roles.delete", { user_id = uid, role_id = role.id })
    ok(A .. "roles.delete", { role_id = role.id })
    ok(A .. "projects.api_keys.delete", { project_id = pid, api_key_id = k.id })
    ok(A .. "projects.service_accounts.delete", { project_id = pid, service_account_id = sa.id })
    ok(A .. "projects.users.delete", { project_id = pid, user_id = uid })
    ok(A .. "users.delete", { user_id = uid })
    ok(A .. "projects.archive", { project_id = pid })

    local missing = {}
    for _, r in ipairs(api) do if not covered[r.sdk_path] then missing[#missing + 1] = r.sdk_path end end
    assert.same({}, missing)
    assert.equal(143, #api)
  end)

  it("has a handler for every row of the endpoint table", function()
    for _, r in ipairs(api) do assert.is_function(fake_app.handlers[r.sdk_path], r.sdk_path) end
  end)
end)

describe("fake app: state", function()
  local app
  before_each(function() app = new_app({ seed_data = { projects = 2, users = 4, audit_events = 0 } }) end)
  local A = "admin.organization."

  it("create -> list -> retrieve -> update -> delete -> 404 (groups)", function()
    local s, g = call(app, A .. "groups.create", {}, nil, { name = "Ops" })
    assert.equal(200, s)
    local _, list = call(app, A .. "groups.list", {}, "limit=100")
    local found = false
    for _, x in ipairs(list.data) do if x.id == g.id then found = true end end
    assert.is_true(found)
    local _, got = call(app, A .. "groups.retrieve", { group_id = g.id })
    assert.equal("Ops", got.name)
    call(app, A .. "groups.update", { group_id = g.id }, nil, { name = "Ops 2" })
    _, got = call(app, A .. "groups.retrieve", { group_id = g.id })
    assert.equal("Ops 2", got.name)
    local ds, del = call(app, A .. "groups.delete", { group_id = g.id })
    assert.equal(200, ds)
    assert.same({ object = "group.deleted", id = g.id, deleted = true }, del)
    local ns, err = call(app, A .. "groups.retrieve", { group_id = g.id })
    assert.equal(404, ns)
    assert.equal("invalid_request_error", api_error(err).type)
  end)

  it("invites create/retrieve/delete and 404 afterwards", function()
    local _, inv = call(app, A .. "invites.create", {}, nil, { email = "z@example.com", role = "owner" })
    assert.equal("pending", inv.status)
    local s = call(app, A .. "invites.retrieve", { invite_id = inv.id })
    assert.equal(200, s)
    local _, del = call(app, A .. "invites.delete", { invite_id = inv.id })
    assert.same({ object = "organization.invite.deleted", id = inv.id, deleted = true }, del)
    assert.equal(404, (call(app, A .. "invites.retrieve", { invite_id = inv.id })))
    assert.equal(404, (call(app, A .. "invites.delete", { invite_id = inv.id })))
  end)

  it("archiving a project blocks new service accounts, users and keys", function()
    local _, p = call(app, A .. "projects.create", {}, nil, { name = "Old" })
    local _, sa = call(app, A .. "projects.service_accounts.create", { project_id = p.id }, nil, { name = "before" })
    local s, arch = call(app, A .. "projects.archive", { project_id = p.id })
    assert.equal(200, s)
    assert.equal("archived", arch.status)
    assert.is_number(arch.archived_at)
    local s2, err = call(app, A .. "projects.service_accounts.create", { project_id = p.id }, nil, { name = "x" })
    assert.equal(400, s2)
    assert.equal("project_id", api_error(err).param)
    local _, users = call(app, A .. "users.list", {})
    assert.equal(400, (call(app, A .. "projects.users.create", { project_id = p.id }, nil,
      { user_id = users.data[2].id, role = "member" })))
    assert.equal(400, (call(app, A .. "projects.service_accounts.api_keys.create",
      { project_id = p.id, service_account_id = sa.id }, nil, {})))
    -- hidden from the default list, shown with include_archived
    local _, l1 = call(app, A .. "projects.list", {}, "limit=100")
    for _, x in ipairs(l1.data) do assert.not_equal(p.id, x.id) end
    local _, l2 = call(app, A .. "projects.list", {}, "limit=100&include_archived=true")
    local seen = false
    for _, x in ipairs(l2.data) do if x.id == p.id then seen = true end end
    assert.is_true(seen)
  end)

  it("deleting an org user removes project memberships, group memberships and role assignments", function()
    local _, users = call(app, A .. "users.list", {})
    local u = users.data[2]
    local _, p = call(app, A .. "projects.create", {}, nil, { name = "P" })
    call(app, A .. "projects.users.create", { project_id = p.id }, nil, { user_id = u.id, role = "member" })
    local _, g = call(app, A .. "groups.create", {}, nil, { name = "G" })
    call(app, A .. "groups.users.create", { group_id = g.id }, nil, { user_id = u.id })
    local _, r = call(app, A .. "roles.create", {}, nil, { role_name = "R", permissions = {} })
    call(app, A .. "users.roles.create", { user_id = u.id }, nil, { role_id = r.id })
    local _, got = call(app, A .. "users.retrieve", { user_id = u.id })
    assert.is_true(#got.projects.data >= 1)
    local s, del = call(app, A .. "users.delete", { user_id = u.id })
    assert.equal(200, s)
    assert.same({ object = "organization.user.deleted", id = u.id, deleted = true }, del)
    assert.equal(404, (call(app, A .. "users.retrieve", { user_id = u.id })))
    assert.equal(404, (call(app, A .. "projects.users.retrieve", { project_id = p.id, user_id = u.id })))
    local _, gu = call(app, A .. "groups.users.list", { group_id = g.id })
    assert.equal(0, #gu.data)
    local _, pu = call(app, A .. "projects.users.list", { project_id = p.id })
    for _, x in ipairs(pu.data) do assert.not_equal(u.id, x.id) end
  end)

  it("shows secrets once: service account key and admin key", function()
    local _, p = call(app, A .. "projects.create", {}, nil, { name = "S" })
    local _, sa = call(app, A .. "projects.service_accounts.create", { project_id = p.id }, nil, { name = "bot" })
    local value = sa.api_key.value
    assert.truthy(value:match("^sk%-svcacct%-"))
    local _, keys = call(app, A .. "projects.api_keys.list", { project_id = p.id })
    local listed
    for _, k in ipairs(keys.data) do if k.id == sa.api_key.id then listed = k end end
    assert.is_table(listed)
    assert.is_nil(listed.value)
    assert.equal("service_account", listed.owner.type)
    assert.equal(sa.id, listed.owner.service_account.id)
    assert.equal(value:sub(-4), listed.redacted_value:sub(-4))
    assert.is_nil(listed.redacted_value:find(value, 1, true))
    local _, one = call(app, A .. "projects.api_keys.retrieve", { project_id = p.id, api_key_id = sa.api_key.id })
    assert.is_nil(one.value)
    -- admin keys: value once, and the new key authenticates until deleted
    local _, ak = call(app, A .. "admin_api_keys.create", {}, nil, { name = "ci" })
    assert.truthy(ak.value:match("^sk%-admin%-"))
    local _, again = call(app, A .. "admin_api_keys.retrieve", { key_id = ak.id })
    assert.is_nil(again.value)
    local r1 = raw(app, "GET", "/v1/organization/projects", "", nil, { authorization = "Bearer " .. ak.value })
    assert.equal(200, r1.status)
    call(app, A .. "admin_api_keys.delete", { key_id = ak.id })
    local r2 = raw(app, "GET", "/v1/organization/projects", "", nil, { authorization = "Bearer " .. ak.value })
    assert.equal(401, r2.status)
  end)

  it("keys of a user removed from the project become owner_project_access inactive", function()
    local _, projects = call(app, A .. "projects.list", {})
    local pid = projects.data[1].id
    local _, keys = call(app, A .. "projects.api_keys.list", { project_id = pid }, "owner_project_access=active")
    local ukey
    for _, k in ipairs(keys.data) do if k.owner.type == "user" then ukey = k end end
    assert.is_table(ukey)
    call(app, A .. "projects.users.delete", { project_id = pid, user_id = ukey.owner.user.id })
    local _, inactive = call(app, A .. "projects.api_keys.list", { project_id = pid }, "owner_project_access=inactive")
    assert.equal(1, #inactive.data)
    assert.equal(ukey.id, inactive.data[1].id)
    local _, active = call(app, A .. "projects.api_keys.list", { project_id = pid }, "owner_project_access=active")
    for _, k in ipairs(active.data) do assert.not_equal(ukey.id, k.id) end
  end)

  it("links external keys to projects and refuses to delete a key in use", function()
    local _, ek = call(app, A .. "external_keys.create", {}, nil, { type = "azure", name = "az", key_name = "k",
      tenant_id = "t", vault_uri = "https://v.vault.azure.net/" })
    local s, p = call(app, A .. "projects.create", {}, nil, { name = "EKM", external_key_id = ek.id })
    assert.equal(200, s)
    local _, got = call(app, A .. "external_keys.retrieve", { external_key_id = ek.id })
    assert.same({ p.id }, got.api_project_ids)
    assert.equal(400, (call(app, A .. "external_keys.delete", { external_key_id = ek.id })))
    assert.equal(404, (call(app, A .. "projects.create", {}, nil, { name = "x", external_key_id = "extkey_nope" })))
  end)

  it("federation rules need a service account of the project", function()
    local _, projects = call(app, A .. "projects.list", {})
    local pid = projects.data[1].id
    local _, w = call(app, A .. "workload_identity_providers.create", {}, nil, { name = "k8s", type = "oidc",
      issuer = "https://oidc.example", audience = "openai",
      verification = { type = "uploaded_jwks", jwks = { keys = { { kty = "RSA" } } } } })
    assert.equal("uploaded_jwks", w.verification.type)
    local s, e = call(app, A .. "workload_identity_providers.federation_rules.create",
      { workload_identity_provider_id = w.id }, nil,
      { project_id = pid, service_account_id = "svc_acct_nope", attribute_matchers = { sub = "x" } })
    assert.equal(404, s)
    assert.equal("service_account_id", e.error.param)
    local s2, e2 = call(app, A .. "workload_identity_providers.create", {}, nil, { name = "k", type = "oidc",
      issuer = "https://i", audience = "a", verification = { type = "discovery" } })
    assert.equal(400, s2)
    assert.equal("verification.discovery_url", e2.error.param)
  end)

  it("percent-decodes path segments", function()
    local _, projects = call(app, A .. "projects.list", {})
    local pid = projects.data[1].id
    local encoded = pid:gsub("_", "%%5F")
    local r, obj = raw(app, "GET", "/v1/organization/projects/" .. encoded)
    assert.equal(200, r.status)
    assert.equal(pid, obj.id)
  end)

  it("the admin key's own admin_api_key object exists", function()
    local _, list = call(app, A .. "admin_api_keys.list", {})
    assert.is_true(#list.data >= 1)
    assert.equal(KEY:sub(-4), list.data[1].redacted_value:sub(-4))
  end)

  it("seeds rate limits per model and updates them", function()
    local _, projects = call(app, A .. "projects.list", {})
    local pid = projects.data[1].id
    local _, rl = call(app, A .. "projects.rate_limits.list_rate_limits", { project_id = pid }, "limit=100")
    assert.equal(6, #rl.data)
    local _, up = call(app, A .. "projects.rate_limits.update_rate_limit",
      { project_id = pid, rate_limit_id = "rl-o3" },
      nil, { max_requests_per_1_minute = 7, max_tokens_per_1_minute = 8 })
    assert.equal(7, up.max_requests_per_1_minute)
    local _, rl2 = call(app, A .. "projects.rate_limits.list_rate_limits", { project_id = pid }, "limit=100")
    for _, r in ipairs(rl2.data) do if r.id == "rl-o3" then assert.equal(8, r.max_tokens_per_1_minute) end end
    assert.equal(404, (call(app, A .. "projects.rate_limits.update_rate_limit",
      { project_id = pid, rate_limit_id = "rl-nope" }, nil, { max_requests_per_1_minute = 1 })))
  end)

  it("activates certificates org-wide and per project", function()
    local pem = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----"
    local _, c1 = call(app, A .. "certificates.create", {}, nil, { certificate = pem })
    local _, p = call(app, A .. "projects.create", {}, nil, { name = "C" })
    local _, act = call(app, A .. "certificates.activate", {}, nil, { certificate_ids = { c1.id } })
    assert.equal("organization.certificate.activation", act.object)
    assert.is_true(act.data[1].active)
    -- an active certificate cannot be deleted
    assert.equal(400, (call(app, A .. "certificates.delete", { certificate_id = c1.id })))
    local _, pact = call(app, A .. "projects.certificates.activate", { project_id = p.id }, nil,
      { certificate_ids = { c1.id } })
    assert.equal("organization.project.certificate.activation", pact.object)
    local _, pl = call(app, A .. "projects.certificates.list", { project_id = p.id })
    assert.is_true(pl.data[#pl.data].active)
    local _, ret = call(app, A .. "certificates.retrieve", { certificate_id = c1.id })
    assert.is_nil(ret.certificate_details.content)
    local _, ret2 = call(app, A .. "certificates.retrieve", { certificate_id = c1.id }, "include%5B%5D=content")
    assert.equal(pem, ret2.certificate_details.content)
    assert.equal(400, (call(app, A .. "certificates.create", {}, nil, { certificate = "not a pem" })))
  end)
end)

describe("fake app: pagination", function()
  local A = "admin.organization."

  local function walk(app, sdk, params, query, kind)
    local ids, pages = {}, 0
    local q = query
    while true do
      local s, obj = call(app, sdk, params, q)
      assert.equal(200, s)
      pages = pages + 1
      for _, x in ipairs(obj.data) do ids[#ids + 1] = x.id end
      if not obj.has_more then break end
      local cursor
      if kind == "cursor_last_id" then cursor = obj.last_id
      elseif kind == "cursor_next" then cursor = obj.next
      else cursor = obj.data[#obj.data].id end
      assert.is_string(cursor)
      q = query .. "&after=" .. enc(cursor)
      assert.is_true(pages < 100)
    end
    return ids, pages
  end

  it("cursor_last_id walks projects across pages without duplicates", function()
    local app = new_app({ seed_data = { projects = 25, users = 1 } })
    local ids, pages = walk(app, A .. "projects.list", {}, "limit=10", "cursor_last_id")
    assert.equal(25, #ids)
    assert.equal(3, pages)
    local seen = {}
    for _, id in ipairs(ids) do assert.is_nil(seen[id]); seen[id] = true end
    local s, first = call(app, A .. "projects.list", {}, "")
    assert.equal(200, s)
    assert.equal(20, #first.data) -- default limit
    assert.equal(first.data[1].id, first.first_id)
    assert.equal(first.data[20].id, first.last_id)
  end)

  it("cursor_next walks groups, asc and desc", function()
    local app = new_app({ seed_data = { groups = 7, users = 3 } })
    local asc = walk(app, A .. "groups.list", {}, "limit=3", "cursor_next")
    assert.equal(7, #asc)
    local desc = walk(app, A .. "groups.list", {}, "limit=3&order=desc", "cursor_next")
    assert.equal(7, #desc)
    for i = 1, 7 do assert.equal(asc[i], desc[8 - i]) end
    local _, last = call(app, A .. "groups.list", {}, "limit=100")
    assert.is_false(last.has_more)
    assert.equal(json.null, last.next)
  end)

  it("cursor_item_id walks admin api keys", function()
    local app = new_app({ seed_data = {} })
    for i = 1, 6 do call(app, A .. "admin_api_keys.create", {}, nil, { name = "k" .. i }) end
    local ids = walk(app, A .. "admin_api_keys.list", {}, "limit=2", "cursor_item_id")
    assert.equal(7, #ids)
  end)

  it("cursors survive deletion of the cursor item; unknown cursors are 400", function()
    local app = new_app({ seed_data = { groups = 5, users = 1 } })
    local _, p1 = call(app, A .. "groups.list", {}, "limit=2")
    call(app, A .. "groups.delete", { group_id = p1.next })
    local s, p2 = call(app, A .. "groups.list", {}, "limit=2&after=" .. p1.next)
    assert.equal(200, s)
    assert.equal(2, #p2.data)
    local s2, err = call(app, A .. "groups.list", {}, "after=group_nope")
    assert.equal(400, s2)
    assert.equal("after", api_error(err).param)
  end)

  it("before returns the page preceding a cursor", function()
    local app = new_app({ seed_data = { projects = 1, users = 1 } })
    local ids = {}
    local alert = { threshold_amount = 1, currency = "USD", interval = "month",
      notification_channel = { type = "email", recipients = { "a@example.com" } } }
    for _ = 1, 5 do
      local _, a = call(app, A .. "spend_alerts.create", {}, nil, alert)
      ids[#ids + 1] = a.id
    end
    local _, page = call(app, A .. "spend_alerts.list", {}, "limit=2&before=" .. ids[4])
    assert.same({ ids[2], ids[3] }, { page.data[1].id, page.data[2].id })
    assert.is_true(page.has_more)
  end)

  it("limit: default 20, max 100, 400 above", function()
    local app = new_app({ seed_data = { projects = 1, users = 1 } })
    local s, err = call(app, A .. "projects.list", {}, "limit=101")
    assert.equal(400, s)
    assert.equal("limit", api_error(err).param)
    assert.equal(400, (call(app, A .. "projects.list", {}, "limit=0")))
    assert.equal(200, (call(app, A .. "projects.list", {}, "limit=100")))
    assert.equal(200, (call(app, A .. "roles.list", {}, "limit=1000")))
  end)

  it("single_page certificate activation returns every requested certificate", function()
    local app = new_app({ seed_data = { certificates = 3 } })
    local _, list = call(app, A .. "certificates.list", {})
    local ids = {}
    for i, c in ipairs(list.data) do ids[i] = c.id end
    local _, act = call(app, A .. "certificates.activate", {}, nil, { certificate_ids = ids })
    assert.equal(3, #act.data)
    assert.is_nil(act.has_more)
    assert.is_nil(act.next)
  end)
end)

describe("fake app: usage and costs", function()
  local A = "admin.organization."
  local app = new_app({ seed_data = { projects = 3, users = 3 } })
  local T0 = 1730419200

  it("buckets by width from start_time to end_time and pages with next_page", function()
    local q = "start_time=" .. T0 .. "&end_time=" .. (T0 + 10 * 86400)
    local _, p1 = call(app, A .. "usage.completions", {}, q)
    assert.equal("page", p1.object)
    assert.equal(7, #p1.data) -- default limit for 1d
    assert.is_true(p1.has_more)
    assert.equal(T0, p1.data[1].start_time)
    assert.equal(T0 + 86400, p1.data[1].end_time)
    local _, p2 = call(app, A .. "usage.completions", {}, q .. "&page=" .. p1.next_page)
    assert.equal(3, #p2.data)
    assert.is_false(p2.has_more)
    assert.equal(json.null, p2.next_page)
    assert.equal(T0 + 7 * 86400, p2.data[1].start_time)
    local _, h = call(app, A .. "usage.embeddings", {}, "bucket_width=1h&start_time=" .. T0 .. "&end_time="
      .. (T0 + 48 * 3600))
    assert.equal(24, #h.data)
    assert.equal(3600, h.data[1].end_time - h.data[1].start_time)
    local _, m = call(app, A .. "usage.moderations", {}, "bucket_width=1m&limit=5&start_time=" .. T0)
    assert.equal(5, #m.data)
    assert.equal(60, m.data[1].end_time - m.data[1].start_time)
  end)

  it("is deterministic for the same query and seed", function()
    local q = "start_time=" .. T0 .. "&end_time=" .. (T0 + 3 * 86400) .. "&group_by%5B%5D=project_id"
    local _, a = call(app, A .. "usage.completions", {}, q)
    local _, b = call(app, A .. "usage.completions", {}, q)
    assert.same(a, b)
    local other = new_app({ seed_data = { projects = 3, users = 3 } })
    local _, c = call(other, A .. "usage.completions", {}, q)
    assert.same(a.data[1].results[1].input_tokens, c.data[1].results[1].input_tokens)
  end)

  it("honours group_by (fields not grouped are null) and filters", function()
    local q = "start_time=" .. T0 .. "&end_time=" .. (T0 + 86400)
    local _, none = call(app, A .. "usage.completions", {}, q)
    assert.equal(1, #none.data[1].results)
    assert.equal(json.null, none.data[1].results[1].model)
    assert.equal(json.null, none.data[1].results[1].project_id)
    local _, byp = call(app, A .. "usage.completions", {}, q .. "&group_by%5B%5D=model&group_by%5B%5D=project_id")
    local combos = {}
    for _, r in ipairs(byp.data[1].results) do
      assert.is_string(r.model)
      assert.is_string(r.project_id)
      assert.equal(json.null, r.user_id)
      assert.is_nil(combos[r.model .. "|" .. r.project_id]) -- one result per combination
      combos[r.model .. "|" .. r.project_id] = true
    end
    assert.is_true(#byp.data[1].results >= 2)
    local _, f = call(app, A .. "usage.completions", {}, q .. "&group_by%5B%5D=project_id&project_ids%5B%5D=proj_only")
    for _, r in ipairs(f.data[1].results) do assert.equal("proj_only", r.project_id) end
    local pid = byp.data[1].results[1].project_id
    local _, one = call(app, A .. "usage.completions", {}, q .. "&project_ids%5B%5D=" .. pid)
    assert.equal(1, #one.data[1].results)
    assert.is_true(one.data[1].results[1].input_tokens < none.data[1].results[1].input_tokens * 0.75)
    -- a group's numbers do not depend on filtering the other groups away
    local _, byp2 = call(app, A .. "usage.completions", {}, q .. "&group_by%5B%5D=project_id")
    local _, byp1 = call(app, A .. "usage.completions", {}, q .. "&group_by%5B%5D=project_id&project_ids%5B%5D=" .. pid)
    for _, r in ipairs(byp2.data[1].results) do
      if r.project_id == pid then assert.same(r, byp1.data[1].results[1]) end
    end
    local _, costs = call(app, A .. "usage.costs", {}, q .. "&group_by%5B%5D=line_item")
    for _, r in ipairs(costs.data[1].results) do
      assert.is_string(r.line_item)
      assert.equal("usd", r.amount.currency)
      assert.is_number(r.amount.value)
    end
  end)

  it("validates start_time, bucket_width, limits and page tokens", function()
    assert.equal(400, (call(app, A .. "usage.completions", {}, "")))
    assert.equal(400, (call(app, A .. "usage.completions", {}, "start_time=abc")))
    assert.equal(400, (call(app, A .. "usage.completions", {}, "start_time=1&bucket_width=2d")))
    assert.equal(400, (call(app, A .. "usage.completions", {}, "start_time=1&limit=32")))
    assert.equal(200, (call(app, A .. "usage.completions", {}, "start_time=1&bucket_width=1h&limit=168")))
    assert.equal(400, (call(app, A .. "usage.costs", {}, "start_time=1&bucket_width=1h")))
    assert.equal(400, (call(app, A .. "usage.costs", {}, "start_time=1&limit=181")))
    assert.equal(400, (call(app, A .. "usage.completions", {}, "start_time=1&page=garbage")))
    local s, err = call(app, A .. "usage.completions", {}, "start_time=1&group_by%5B%5D=size")
    assert.equal(400, s)
    assert.equal("group_by[0]", api_error(err).param)
  end)
end)

describe("fake app: audit logs", function()
  local A = "admin.organization."

  it("records mutations with actor, project and a payload keyed by type; newest first", function()
    local app = new_app({ seed_data = { projects = 1, users = 2, audit_events = 0 } })
    local _, p = call(app, A .. "projects.create", {}, nil, { name = "Audited" })
    call(app, A .. "projects.update", { project_id = p.id }, nil, { name = "Audited 2" })
    call(app, A .. "groups.create", {}, nil, { name = "AG" })
    local _, log = call(app, A .. "audit_logs.list", {}, "")
    assert.equal("group.created", log.data[1].type)
    assert.equal("project.updated", log.data[2].type)
    assert.equal("project.created", log.data[3].type)
    local ev = log.data[3]
    assert.equal(p.id, ev.project.id)
    assert.equal(p.id, ev["project.created"].id)
    assert.equal("api_key", ev.actor.type)
    assert.is_number(ev.effective_at)
    local _, only = call(app, A .. "audit_logs.list", {}, "event_types%5B%5D=project.created")
    assert.equal(1, #only.data)
    local _, byp = call(app, A .. "audit_logs.list", {}, "project_ids%5B%5D=" .. p.id)
    assert.equal(2, #byp.data)
    local _, byr = call(app, A .. "audit_logs.list", {}, "resource_ids%5B%5D=" .. p.id)
    assert.equal(2, #byr.data)
    local _, bya = call(app, A .. "audit_logs.list", {}, "actor_ids%5B%5D=" .. ev.actor.api_key.id)
    assert.equal(3, #bya.data)
    local _, bye = call(app, A .. "audit_logs.list", {}, "actor_emails%5B%5D=" .. enc(ev.actor.api_key.user.email))
    assert.equal(3, #bye.data)
    local _, none = call(app, A .. "audit_logs.list", {}, "actor_emails%5B%5D=nobody%40example.com")
    assert.equal(0, #none.data)
  end)

  it("pages a million seeded events with O(1) cursors and time filters", function()
    local t = os.clock()
    local app = new_app({ seed_data = { projects = 5, users = 10, audit_events = 1000000 } })
    local q = "limit=100"
    local _, p = call(app, A .. "audit_logs.list", {}, q)
    local count, last_t = 0, math.huge
    for _ = 1, 50 do
      for _, ev in ipairs(p.data) do
        assert.is_true(ev.effective_at <= last_t)
        last_t = ev.effective_at
        count = count + 1
      end
      _, p = call(app, A .. "audit_logs.list", {}, q .. "&after=" .. p.last_id)
    end
    assert.equal(5000, count)
    assert.is_true(p.has_more)
    -- time window
    local _, first = call(app, A .. "audit_logs.list", {}, "limit=1")
    local newest = first.data[1].effective_at
    local _, win = call(app, A .. "audit_logs.list", {}, "limit=100&effective_at%5Bgte%5D=" .. (newest - 300)
      .. "&effective_at%5Blt%5D=" .. newest)
    assert.equal(10, #win.data) -- seeded events are 30 s apart
    for _, ev in ipairs(win.data) do assert.is_true(ev.effective_at >= newest - 300 and ev.effective_at < newest) end
    local _, before = call(app, A .. "audit_logs.list", {}, "limit=5&before=" .. win.data[1].id)
    assert.equal(1, #before.data)
    assert.is_true(os.clock() - t < 20)
  end)

  it("rejects unknown cursors and bad event types", function()
    local app = new_app({ seed_data = { audit_events = 10 } })
    assert.equal(400, (call(app, A .. "audit_logs.list", {}, "after=audit_log-nope_3")))
    local s, err = call(app, A .. "audit_logs.list", {}, "event_types%5B%5D=bogus.type")
    assert.equal(400, s)
    assert.equal("event_types[0]", api_error(err).param)
  end)
end)

describe("fake app: errors", function()
  local A = "admin.organization."
  local app
  before_each(function() app = new_app({ seed_data = { projects = 1, users = 2 } }) end)

  it("401 without or with a wrong admin key", function()
    local r1, e1 = raw(app, "GET", "/v1/organization/projects", "", nil, {})
    assert.equal(401, r1.status)
    assert.truthy(api_error(e1).message:find("You didn't provide an API key", 1, true))
    local r2, e2 = raw(app, "GET", "/v1/organization/projects", "", nil,
      { authorization = "Bearer sk-admin-wrong-key-123" })
    assert.equal(401, r2.status)
    assert.equal("invalid_api_key", api_error(e2).code)
    assert.truthy(e2.error.message:find("Incorrect API key provided", 1, true))
    assert.is_nil(e2.error.message:find("sk-admin-wrong-key-123", 1, true))
  end)

  it("404 for unknown paths and ids, 405 for wrong methods, 413 for big bodies", function()
    local r, e = raw(app, "GET", "/v1/organization/nothing")
    assert.equal(404, r.status)
    assert.truthy(api_error(e).message:find("Invalid URL", 1, true))
    assert.equal(404, (raw(app, "GET", "/v2/organization/projects")).status)
    assert.equal(405, (raw(app, "DELETE", "/v1/organization/projects")).status)
    assert.equal(405, (raw(app, "PUT", "/v1/organization/projects/proj_x")).status)
    local s, nf = call(app, A .. "projects.retrieve", { project_id = "proj_missing" })
    assert.equal(404, s)
    assert.equal("invalid_request_error", api_error(nf).type)
    local big = app:handle({ method = "POST", path = "/v1/organization/projects", query = "", headers = AUTH,
      body = nil, body_too_large = true })
    assert.equal(413, big.status)
  end)

  it("400 for malformed JSON, missing params, wrong types, bad enums, unknown params", function()
    local r, e = raw(app, "POST", "/v1/organization/projects", "", "{not json")
    assert.equal(400, r.status)
    assert.truthy(api_error(e).message:find("could not parse the JSON body", 1, true))
    local s1, e1 = call(app, A .. "projects.create", {}, nil, {})
    assert.equal(400, s1)
    assert.equal("name", e1.error.param)
    assert.equal("missing_required_parameter", e1.error.code)
    local s2, e2 = call(app, A .. "projects.create", {}, nil, { name = 5 })
    assert.equal(400, s2)
    assert.equal("name", e2.error.param)
    assert.equal("invalid_type", e2.error.code)
    local s3, e3 = call(app, A .. "invites.create", {}, nil, { email = "a@b.co", role = "admin" })
    assert.equal(400, s3)
    assert.equal("role", e3.error.param)
    assert.equal("invalid_value", e3.error.code)
    local s4, e4 = call(app, A .. "projects.create", {}, nil, { name = "x", colour = "red" })
    assert.equal(400, s4)
    assert.equal("colour", e4.error.param)
    local s5, e5 = call(app, A .. "spend_alerts.create", {}, nil, { threshold_amount = 1, currency = "USD",
      interval = "month", notification_channel = { type = "email" } })
    assert.equal(400, s5)
    assert.equal("notification_channel.recipients", e5.error.param)
    local s6, e6 = call(app, A .. "projects.list", {}, "include_archived=maybe")
    assert.equal(400, s6)
    assert.equal("include_archived", e6.error.param)
    local s7 = call(app, A .. "projects.list", {}, "colour=red")
    assert.equal(400, s7)
    local s8, e8 = call(app, A .. "external_storage.create", {}, nil, { project_id = "p",
      provider = { type = "ftp" } })
    assert.equal(400, s8)
    assert.equal("provider.type", e8.error.param)
    local s9, e9 = call(app, A .. "external_keys.create", {}, nil, { type = "aws", name = "x" })
    assert.equal(400, s9)
    assert.is_string(e9.error.param)
  end)

  it("conflicts: a user already in a project, a duplicate role assignment", function()
    local _, users = call(app, A .. "users.list", {})
    local _, projects = call(app, A .. "projects.list", {})
    local pid, uid = projects.data[1].id, users.data[1].id -- the owner is in every seeded project
    local s, e = call(app, A .. "projects.users.create", { project_id = pid }, nil, { user_id = uid, role = "member" })
    assert.equal(400, s)
    assert.equal("user_already_in_project", e.error.code)
    local _, r = call(app, A .. "roles.create", {}, nil, { role_name = "Dup", permissions = {} })
    assert.equal(200, (call(app, A .. "users.roles.create", { user_id = uid }, nil, { role_id = r.id })))
    assert.equal(400, (call(app, A .. "users.roles.create", { user_id = uid }, nil, { role_id = r.id })))
    assert.equal(400, (call(app, A .. "roles.create", {}, nil, { role_name = "Dup", permissions = {} })))
  end)

  it("never raises on junk requests", function()
    for _, req in ipairs({
      {}, { method = "GET" }, { method = "POST", path = "/v1/organization/projects", headers = AUTH, body = "[]" },
      { method = "POST", path = "/v1/organization/projects", headers = AUTH, body = "null" },
      { method = "GET", path = "/v1/organization/projects/%ZZ", headers = AUTH },
      { method = "GET", path = "/v1/organization/projects", query = "limit[]=1&&=&%%", headers = AUTH },
    }) do
      local resp = app:handle(req)
      assert.is_number(resp.status)
      assert.is_string(resp.body)
    end
  end)
end)

describe("fake app: control endpoints", function()
  local A = "admin.organization."
  local app
  before_each(function() app = new_app({ seed_data = { projects = 2, users = 2 } }) end)

  local function ctl(method, path, body)
    local resp = app:handle({ method = method, path = path, query = "", headers = {},
      body = body and json.encode(body) or nil })
    return resp.status, json.decode(resp.body), resp
  end

  it("faults: count down, then normal handling; 429 without Retry-After unless asked", function()
    assert.equal(200, (ctl("POST", "/_fake/faults", { method = "GET", path = "/organization/projects", count = 2,
      status = 429 })))
    local r1, e1 = raw(app, "GET", "/v1/organization/projects")
    assert.equal(429, r1.status)
    assert.is_nil(r1.headers["retry-after"])
    assert.equal("rate_limit_exceeded", api_error(e1).code)
    assert.equal(429, (raw(app, "GET", "/v1/organization/projects")).status)
    assert.equal(200, (raw(app, "GET", "/v1/organization/projects")).status)
    ctl("POST", "/_fake/faults", { path = "^/v1/organization/users$", status = 503, retry_after = 2,
      retry_after_ms = 1500 })
    assert.equal(200, (raw(app, "GET", "/v1/organization/projects")).status) -- does not match
    local r2 = raw(app, "GET", "/v1/organization/users")
    assert.equal(503, r2.status)
    assert.equal("2", r2.headers["retry-after"])
    assert.equal("1500", r2.headers["retry-after-ms"])
  end)

  it("faults: drop, truncate, invalid_json, delay", function()
    ctl("POST", "/_fake/faults", { path = "/organization/projects", fault = "drop" })
    assert.equal("drop", raw(app, "GET", "/v1/organization/projects").fault)
    ctl("POST", "/_fake/faults", { path = "/organization/projects", fault = "truncate" })
    local t = raw(app, "GET", "/v1/organization/projects")
    assert.equal("truncate", t.fault)
    assert.equal(200, t.status)
    ctl("POST", "/_fake/faults", { path = "/organization/projects", fault = "invalid_json" })
    local resp = app:handle({ method = "GET", path = "/v1/organization/projects", query = "", headers = AUTH })
    assert.is_nil(json.decode(resp.body))
    ctl("POST", "/_fake/faults", { path = "/organization/projects", fault = "delay", delay = 1.5 })
    assert.equal(1.5, raw(app, "GET", "/v1/organization/projects").delay)
    assert.is_nil(raw(app, "GET", "/v1/organization/projects").delay)
    assert.equal(400, (ctl("POST", "/_fake/faults", { fault = "explode" })))
  end)

  it("latency applies to every response", function()
    ctl("POST", "/_fake/latency", { seconds = 0.25 })
    assert.equal(0.25, raw(app, "GET", "/v1/organization/projects").delay)
    ctl("POST", "/_fake/latency", { seconds = 0 })
    assert.is_nil(raw(app, "GET", "/v1/organization/projects").delay)
  end)

  it("rate limits per endpoint per window answer 429 rate_limit_exceeded without Retry-After", function()
    local now = 1000
    app = new_app({ seed_data = { projects = 1, users = 1 }, rate_clock = function() return now end })
    ctl("POST", "/_fake/rate_limits", { path = "/organization/projects", requests = 2, window = 60 })
    assert.equal(200, raw(app, "GET", "/v1/organization/projects").status)
    assert.equal(200, raw(app, "GET", "/v1/organization/projects").status)
    local r, e = raw(app, "GET", "/v1/organization/projects")
    assert.equal(429, r.status)
    assert.is_nil(r.headers["retry-after"])
    assert.is_nil(r.headers["x-ratelimit-limit-requests"]) -- as the real API: no hint
    assert.equal("rate_limit_exceeded", api_error(e).code)
    -- another endpoint has its own window
    local _, list = call(app, A .. "projects.list", {}, nil)
    assert.is_table(list)
    now = now + 61
    assert.equal(200, raw(app, "GET", "/v1/organization/projects").status)
    -- windows on a sub-second clock; x-ratelimit-* headers only when the rule asks
    ctl("DELETE", "/_fake/rate_limits")
    ctl("POST", "/_fake/rate_limits", { path = "/organization/projects", requests = 1, window = 0.5, headers = true })
    assert.equal(200, raw(app, "GET", "/v1/organization/projects").status)
    now = now + 0.3
    r = raw(app, "GET", "/v1/organization/projects")
    assert.equal(429, r.status)
    assert.equal("1", r.headers["x-ratelimit-limit-requests"])
    assert.equal("0.200s", r.headers["x-ratelimit-reset-requests"])
    now = now + 0.25
    assert.equal(200, raw(app, "GET", "/v1/organization/projects").status)
  end)

  it("logs requests (authorization redacted), bounded, newest last; DELETE clears", function()
    raw(app, "GET", "/v1/organization/projects", "limit=1")
    raw(app, "POST", "/v1/organization/groups", "", { name = "logged" })
    local s, log = ctl("GET", "/_fake/requests")
    assert.equal(200, s)
    assert.equal(2, #log.data)
    local last = log.data[2]
    assert.equal("POST", last.method)
    assert.equal("/v1/organization/groups", last.path)
    assert.equal(200, last.status)
    assert.truthy(last.body:find("logged", 1, true))
    assert.equal("Bearer sk-...redacted", last.headers.authorization)
    assert.equal("limit=1", log.data[1].query)
    raw(app, "POST", "/v1/organization/groups", "", "{bad")
    local _, log2 = ctl("GET", "/_fake/requests")
    assert.equal(400, log2.data[3].status)
    ctl("DELETE", "/_fake/requests")
    local _, empty = ctl("GET", "/_fake/requests")
    assert.equal(0, #empty.data)
    local small = new_app({ log_max = 3 })
    for _ = 1, 5 do small:handle({ method = "GET", path = "/v1/organization/projects", headers = AUTH }) end
    local resp = small:handle({ method = "GET", path = "/_fake/requests", headers = {} })
    assert.equal(3, #json.decode(resp.body).data)
  end)

  it("accepting an invite (control endpoint) adds the user to the org and the invite's projects", function()
    local _, projects = call(app, A .. "projects.list", {})
    local pid = projects.data[1].id
    local _, inv = call(app, A .. "invites.create", {}, nil,
      { email = "new.person@example.com", role = "reader", projects = { { id = pid, role = "member" } } })
    local s, u = ctl("POST", "/_fake/invites/" .. inv.id .. "/accept")
    assert.equal(200, s)
    assert.equal("new.person@example.com", u.email)
    assert.equal(pid, u.projects.data[1].id)
    local _, got = call(app, A .. "invites.retrieve", { invite_id = inv.id })
    assert.equal("accepted", got.status)
    assert.is_number(got.accepted_at)
    assert.equal(400, (call(app, A .. "invites.delete", { invite_id = inv.id })))
    local _, byemail = call(app, A .. "users.list", {}, "emails%5B%5D=new.person%40example.com")
    assert.equal(1, #byemail.data)
    assert.equal(400, (ctl("POST", "/_fake/invites/" .. inv.id .. "/accept")))
    local _, ev = call(app, A .. "audit_logs.list", {}, "event_types%5B%5D=invite.accepted")
    assert.equal(1, #ev.data)
  end)

  it("state summary and reset to the seeded state", function()
    local _, st = ctl("GET", "/_fake/state")
    assert.equal(2, st.counts.projects)
    local _, p1 = call(app, A .. "projects.list", {})
    call(app, A .. "projects.create", {}, nil, { name = "extra" })
    ctl("POST", "/_fake/faults", { status = 500, count = 5 })
    local _, st2 = ctl("GET", "/_fake/state")
    assert.equal(3, st2.counts.projects)
    assert.equal(200, (ctl("POST", "/_fake/reset")))
    local _, st3 = ctl("GET", "/_fake/state")
    assert.equal(2, st3.counts.projects)
    assert.equal(0, st3.faults)
    local _, p2 = call(app, A .. "projects.list", {})
    assert.same(p1, p2) -- same seeded ids after reset
    assert.equal(404, (ctl("GET", "/_fake/nothing")))
  end)
end)
