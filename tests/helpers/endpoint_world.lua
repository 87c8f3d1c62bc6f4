--[[ tests/helpers/endpoint_world.lua -- the data that calls every one of the 143 endpoints in
  an order that works against the fake (shared by tests/endpoints_spec.lua, the client, and
  tests/cli_endpoints_spec.lua, the command line).

  local ew = require("helpers.endpoint_world")
  ew.ordered             -- the rows of api.lua in dependency order: creates (parents first), the
                         -- rest, deletes (children first), archive
  ew.params(row, w)      -- the params table for a row (nil when it needs none); w: the world of ids
  ew.path_arg(w, row, name)   -- the world id a path parameter takes
  ew.record(row, w, result)   -- after a create, the ids it made go into w
  ew.node_of(client, row)     -- the client node of the row's resource
]]
local api = require("openai_admin.api")

local NOW = os.time()
local START = NOW - 3 * 86400

-- Body or query for each endpoint that needs more than "nothing"; w is the world of ids so far.
local PARAMS = {
  ["admin.organization.admin_api_keys.create"] = function() return { name = "ci key" } end,
  ["admin.organization.audit_logs.list"] = function(w)
    return { project_ids = { w.project_id }, effective_at = { gte = 0 }, limit = 5 }
  end,
  ["admin.organization.certificates.create"] = function()
    return { name = "ci cert", certificate = "-----BEGIN CERTIFICATE-----\nMIIBci\n-----END CERTIFICATE-----\n" }
  end,
  ["admin.organization.certificates.activate"] = function(w) return { certificate_ids = { w.certificate_id } } end,
  ["admin.organization.certificates.deactivate"] = function(w) return { certificate_ids = { w.certificate_id } } end,
  ["admin.organization.certificates.update"] = function() return { name = "renamed cert" } end,
  ["admin.organization.data_retention.update"] = function() return { retention_type = "zero_data_retention" } end,
  ["admin.organization.external_keys.create"] = function()
    return { name = "kms", type = "aws", external_id = "org-1", kms_arn = "arn:aws:kms:us-east-1:1:key/a",
      role_arn = "arn:aws:iam::1:role/r" }
  end,
  ["admin.organization.external_storage.create"] = function(w)
    return { project_id = w.project_id, provider = { type = "aws", bucket = "b", role_arn = "arn:aws:iam::1:role/r" } }
  end,
  ["admin.organization.groups.create"] = function() return { name = "ci group" } end,
  ["admin.organization.groups.update"] = function() return { name = "ci group renamed" } end,
  ["admin.organization.groups.users.create"] = function(w) return { user_id = w.user_id } end,
  ["admin.organization.groups.roles.create"] = function(w) return { role_id = w.org_role_id } end,
  ["admin.organization.invites.create"] = function(w)
    return { email = "ci@example.com", role = "reader", projects = { { id = w.project_id, role = "member" } } }
  end,
  ["admin.organization.invites.list"] = function() return { limit = 10 } end,
  ["admin.organization.projects.create"] = function() return { name = "ci project" } end,
  ["admin.organization.projects.update"] = function() return { name = "ci project renamed" } end,
  ["admin.organization.projects.list"] = function() return { limit = 2, include_archived = true } end,
  ["admin.organization.projects.users.create"] = function(w) return { user_id = w.user_id, role = "member" } end,
  ["admin.organization.projects.users.update"] = function() return { role = "owner" } end,
  ["admin.organization.projects.users.roles.create"] = function(w) return { role_id = w.project_role_id } end,
  ["admin.organization.projects.groups.create"] = function(w) return { group_id = w.group_id, role = "member" } end,
  ["admin.organization.projects.groups.roles.create"] = function(w) return { role_id = w.project_role_id } end,
  ["admin.organization.projects.roles.create"] = function()
    return { role_name = "ci project role", permissions = { "api.model.read" } }
  end,
  ["admin.organization.projects.roles.update"] = function() return { description = "updated" } end,
  ["admin.organization.projects.service_accounts.create"] = function() return { name = "ci bot" } end,
  ["admin.organization.projects.service_accounts.update"] = function() return { name = "ci bot 2" } end,
  ["admin.organization.projects.api_keys.update"] = function() return { expires_in_seconds = 86400 } end,
  ["admin.organization.projects.rate_limits.update_rate_limit"] = function()
    return { max_requests_per_1_minute = 100 }
  end,
  ["admin.organization.projects.model_permissions.update"] = function()
    return { mode = "allow_list", model_ids = { "gpt-4o", "gpt-4o-mini" } }
  end,
  ["admin.organization.projects.hosted_tool_permissions.update"] = function() return {} end,
  ["admin.organization.projects.service_tier_settings.update"] = function() return {} end,
  ["admin.organization.projects.data_retention.update"] = function() return { retention_type = "none" } end,
  ["admin.organization.projects.certificates.activate"] = function(w)
    return { certificate_ids = { w.certificate_id } }
  end,
  ["admin.organization.projects.certificates.deactivate"] = function(w)
    return { certificate_ids = { w.certificate_id } }
  end,
  ["admin.organization.roles.create"] = function()
    return { role_name = "ci role", permissions = { "api.model.read" } }
  end,
  ["admin.organization.roles.update"] = function() return { description = "updated" } end,
  ["admin.organization.users.update"] = function() return { role = "reader" } end,
  ["admin.organization.users.roles.create"] = function(w) return { role_id = w.org_role_id } end,
  ["admin.organization.workload_identity_providers.create"] = function()
    return { name = "gha", type = "oidc", issuer = "https://token.actions.example.com", audience = "openai" }
  end,
  ["admin.organization.workload_identity_providers.update"] = function() return { name = "gha2" } end,
  ["admin.organization.workload_identity_providers.federation_rules.create"] = function(w)
    return { project_id = w.project_id, service_account_id = w.service_account_id,
      attribute_matchers = { repository = "org/repo" } }
  end,
  ["admin.organization.workload_identity_providers.federation_rules.update"] = function()
    return { attribute_matchers = { repository = "org/other" } }
  end,
}
local function spend(threshold)
  return function()
    return { currency = "USD", interval = "month", threshold_amount = threshold,
      notification_channel = { type = "email", recipients = { "finance@example.com" } } }
  end
end
PARAMS["admin.organization.spend_alerts.create"] = spend(50000)
PARAMS["admin.organization.spend_alerts.update"] = spend(60000)
PARAMS["admin.organization.projects.spend_alerts.create"] = spend(1000)
PARAMS["admin.organization.projects.spend_alerts.update"] = spend(2000)
PARAMS["admin.organization.spend_limit.update"] = function()
  return { currency = "USD", interval = "month", threshold_amount = 100000 }
end
PARAMS["admin.organization.projects.spend_limit.update"] = PARAMS["admin.organization.spend_limit.update"]
for _, row in ipairs(api) do
  if row.pagination == "page_token" then
    PARAMS[row.sdk_path] = function() return { start_time = START, limit = 2 } end
  end
end

-- Which world id a path parameter takes, by resource where the name alone is ambiguous.
local function path_arg(w, row, name)
  if name == "role_id" then
    if row.resource:find("projects", 1, true) then return w.project_role_id end
    return w.org_role_id
  end
  if name == "alert_id" then
    return row.resource:find("projects", 1, true) and w.project_alert_id or w.org_alert_id
  end
  return assert(w[name], row.sdk_path .. ": no id in the world for " .. name)
end

-- After a create, the ids it made.
local RECORD = {
  ["admin.organization.projects.create"] = function(w, r) w.project_id = r.id end,
  ["admin.organization.admin_api_keys.create"] = function(w, r) w.key_id = r.id end,
  ["admin.organization.certificates.create"] = function(w, r) w.certificate_id = r.id end,
  ["admin.organization.external_keys.create"] = function(w, r) w.external_key_id = r.id end,
  ["admin.organization.external_storage.create"] = function(w, r) w.external_storage_id = r.id end,
  ["admin.organization.groups.create"] = function(w, r) w.group_id = r.id end,
  ["admin.organization.invites.create"] = function(w, r) w.invite_id = r.id end,
  ["admin.organization.roles.create"] = function(w, r) w.org_role_id = r.id end,
  ["admin.organization.projects.roles.create"] = function(w, r) w.project_role_id = r.id end,
  ["admin.organization.spend_alerts.create"] = function(w, r) w.org_alert_id = r.id end,
  ["admin.organization.projects.spend_alerts.create"] = function(w, r) w.project_alert_id = r.id end,
  ["admin.organization.projects.service_accounts.create"] = function(w, r)
    w.service_account_id = r.id
    w.api_key_id = r.api_key.id
  end,
  ["admin.organization.workload_identity_providers.create"] = function(w, r) w.workload_identity_provider_id = r.id end,
  ["admin.organization.projects.rate_limits.list_rate_limits"] = function(w, r) w.rate_limit_id = r.data[1].id end,
  ["admin.organization.workload_identity_providers.federation_rules.create"] = function(w, r)
    w.workload_identity_federation_rule_id = r.id
  end,
}

-- Dependency order: creates (fewer path params first), the rest, deletes (more first), archive.
local function phase(row)
  if row.name == "create" then return 1 end
  if row.name == "delete" then return 3 end
  if row.name == "archive" then return 4 end
  return 2
end
local ordered = {}
for _, row in ipairs(api) do ordered[#ordered + 1] = row end
-- Nested creates before their parents' lists, and certificates activated before deactivated.
-- Spend limits answer 404 until one is set, and a rate limit id comes from the list.
local FIRST = {
  ["admin.organization.projects.create"] = 0, ["admin.organization.projects.service_accounts.create"] = 1,
  ["admin.organization.spend_limit.update"] = 1, ["admin.organization.projects.spend_limit.update"] = 1,
  ["admin.organization.projects.rate_limits.list_rate_limits"] = 1,
}
table.sort(ordered, function(a, b)
  local pa, pb = phase(a), phase(b)
  if pa ~= pb then return pa < pb end
  local fa, fb = FIRST[a.sdk_path] or 9, FIRST[b.sdk_path] or 9
  if fa ~= fb then return fa < fb end
  if pa == 1 and #a.path_params ~= #b.path_params then return #a.path_params < #b.path_params end
  if pa == 3 and #a.path_params ~= #b.path_params then return #a.path_params > #b.path_params end
  local last = "admin.organization.users.delete" -- the user is in everything: deleted at the very end
  if pa == 3 and (a.sdk_path == last) ~= (b.sdk_path == last) then return b.sdk_path == last end
  return a.sdk_path < b.sdk_path
end)

local function node_of(client, row)
  local node = client
  for part in row.resource:gmatch("[^.]+") do node = node[part] end
  return node
end


return {
  ordered = ordered,
  params = function(row, w) return PARAMS[row.sdk_path] and PARAMS[row.sdk_path](w) or nil end,
  path_arg = path_arg,
  record = function(row, w, result) if RECORD[row.sdk_path] then RECORD[row.sdk_path](w, result) end end,
  node_of = node_of,
}
