--[[ tests/helpers/scenarios.lua -- admin scenarios run against the fake by several specs.

  local scenarios = require "helpers.scenarios"
  local secrets = scenarios.rotation_and_offboarding(new_client, fake)
    -- new_client(admin_key) -> an openai_admin client (the caller picks its log options)
    -- runs a key rotation (a service account and its key, a second key, the old one deleted; a
    -- new admin key, used, then the one before it deleted) and an offboarding (a user removed
    -- from each of their projects, then from the organization), with a retried 503, a rate
    -- limit ride-out and a failing call on the way; returns the list of secrets it was handed
    -- (created keys' values) and the strings every check must look for.
  scenarios.child(base_url, admin_key, secrets_path)
    -- the same in a child process (the caller sets OPENAI_LOG): writes the secrets, one a line,
    -- to secrets_path, and tostring() of every object and error to stdout
]]
local oa = require "openai_admin"

local M = {}

-- Every string a leak check greps for, for one secret: the whole value and its random tail.
function M.needles(secret)
  return { secret, secret:sub(-20) }
end

function M.rotation_and_offboarding(new_client, fake, shown)
  shown = shown or function() end
  local secrets = {}
  local c = new_client(fake.admin_key)
  local org = c.admin.organization
  shown(tostring(c))
  -- a retried 503 and a 429 ride-out along the way
  fake:fault { method = "GET", path = "/organization/projects", status = 503, count = 1 }
  fake:fault { method = "POST", path = "service_accounts", status = 429, count = 1, retry_after = 0.2 }
  local projects = org.projects:list { limit = 10 }:collect()
  shown(tostring(projects[1]))
  local project = projects[1].id

  -- rotation: a service account with its key, a second key, the first deleted
  local sa = org.projects.service_accounts:create(project, { name = "deploy bot" })
  shown(tostring(sa))
  secrets[#secrets + 1] = sa.api_key.value
  local key2 = org.projects.service_accounts.api_keys:create(project, sa.id, { name = "deploy bot 2" })
  secrets[#secrets + 1] = key2.value
  org.projects.api_keys:delete(project, sa.api_key.id)

  -- rotation of the admin key: a new one, used, then a third made with it and the second deleted
  local a1 = org.admin_api_keys:create { name = "rotation 1" }
  secrets[#secrets + 1] = a1.value
  local c1 = new_client(a1.value)
  local a2 = c1.admin.organization.admin_api_keys:create { name = "rotation 2" }
  secrets[#secrets + 1] = a2.value
  local c2 = new_client(a2.value)
  c2.admin.organization.admin_api_keys:delete(a1.id)
  shown(tostring(c1), tostring(c2))
  -- the deleted key fails now: its error must not show it either
  local ok, err = pcall(function() return c1.admin.organization.projects:list { limit = 1 } end)
  assert(not ok and oa.is_error(err), "a deleted admin key still works")
  shown(tostring(err), err.message)

  -- offboarding: a user out of every project of theirs, then out of the organization
  local user = org.users:list { limit = 5 }.data[2]
  for _, p in ipairs(projects) do
    local okm = pcall(function() return org.projects.users:retrieve(p.id, user.id) end)
    if okm then org.projects.users:delete(p.id, user.id) end
  end
  shown(tostring(org.users:delete(user.id)))
  -- a key-shaped string the caller passed by mistake, in an error
  local okb, errb = pcall(function() return org.projects:retrieve(a2.value) end)
  assert(not okb)
  shown(tostring(errb), errb.message, errb.path)
  c:close(); c1:close(); c2:close()
  return secrets
end

function M.child(base_url, admin_key, secrets_path)
  local fake = require("helpers.fake").attach(base_url, admin_key)
  local secrets = M.rotation_and_offboarding(function(key)
    return oa.new { base_url = base_url, admin_key = key }
  end, fake, function(...) print(...) end)
  local f = assert(io.open(secrets_path, "w"))
  for _, s in ipairs(secrets) do f:write(s, "\n") end
  f:close()
end

return M
