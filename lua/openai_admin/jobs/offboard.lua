--- Offboard a user: find everything that ties them to the organization (project memberships,
--- group memberships, organization and project role assignments, project API keys and admin
--- keys they own), plan, and with confirmation remove it all and then the user.
---
---   local offboard = require("openai_admin.jobs.offboard")
---   local r = offboard.offboard(client, { user = "ada@example.com" | "user_...",
---     dry_run = true | confirm = true | confirm = function(plan) ... end,
---     admin_key = nil, admin_key_id = nil })   -- how the calling admin key is recognised (see below)
---   r.plan.steps (in order), r.done (steps performed), r.nothing_to_do
---
--- Safety rules, all checked before the first change:
---   * the admin key making the calls must not be the user's (it would be deleted halfway): it is
---     recognised by lookups.calling_admin_key (the secret's prefix and last characters against
---     each admin key's redacted value; or admin_key_id); when it cannot be told apart and the
---     user owns admin keys, the job stops too.
---   * no project may be left without an owner: if the user is the only owner of a project (or
---     the only owner of the organization), the job stops and names them.
--- Order: keys first (access ends at once), then role assignments, groups, project memberships,
--- pending invites to their address, and the user last. Each step deletes one thing; a thing
--- already gone (404) counts as done, and a re-run plans from the current state, so after a
--- partial failure it finishes the job and changes nothing already done.
local errors = require("openai_admin.errors")
local common = require("openai_admin.jobs.common")
local lookups = require("openai_admin.jobs.lookups")

local M = {}
local JOB = "offboard"

local function find_user(client, who)
  local users = lookups.users(client)
  for _, u in ipairs(users) do
    if u.id == who or (type(u.email) == "string" and u.email:lower() == who:lower()) then return u end
  end
  return nil
end

-- keys a former user still owns (the user is gone, so memberships are too): match by id or email
local function leftover_keys(client, who)
  local projects = lookups.projects(client)
  local per = lookups.project_keys(client, projects)
  local out = {}
  for _, p in ipairs(projects) do
    for _, k in ipairs(per[p.id]) do
      local u = k.owner and k.owner.type == "user" and k.owner.user
      if u and (u.id == who or (type(u.email) == "string" and u.email:lower() == who:lower())) then
        out[#out + 1] = { project = p, key = k }
      end
    end
  end
  local admin = {}
  for _, k in ipairs(lookups.admin_keys(client)) do
    if k.owner and k.owner.id == who then admin[#admin + 1] = k end
  end
  return out, admin
end

local function step(action, desc, fn)
  return { action = action, description = desc, run = fn }
end

--- Builds the plan: { user = {id, email, name} | nil, steps = {...}, blockers = {...} }.
function M.plan(client, opts)
  if type(opts.user) ~= "string" or opts.user == "" then
    common.invalid(JOB, "user is required (a user id or an email)", "user")
  end
  local org = client.admin.organization
  local u = find_user(client, opts.user)
  local m
  if u then
    m = lookups.user_memberships(client, u.id)
  else
    local pk, ak = leftover_keys(client, opts.user)
    m = { projects = {}, groups = {}, org_roles = {}, project_roles = {}, project_keys = pk, admin_keys = ak }
  end
  local uid = u and u.id or opts.user
  local plan = { user = u and { id = u.id, email = u.email, name = u.name } or nil, steps = {}, blockers = {} }
  local steps, blockers = plan.steps, plan.blockers

  -- the calling admin key must not be theirs
  if #m.admin_keys > 0 then
    local calling, candidates = lookups.calling_admin_key(client, opts)
    if calling then
      for _, k in ipairs(m.admin_keys) do
        if k.id == calling.id then
          blockers[#blockers + 1] = "the admin key making these calls (" .. k.id .. ", " .. tostring(k.redacted_value)
            .. ") belongs to " .. uid .. ": run the offboarding with another admin's key"
        end
      end
    else
      blockers[#blockers + 1] = string.format("cannot tell which admin key makes these calls (%d candidates) and %s "
        .. "owns %d admin keys: pass admin_key_id (or the key as admin_key)", #(candidates or {}), uid, #m.admin_keys)
    end
  end
  -- no project (nor the organization) left without an owner
  if u and u.role == "owner" then
    local others = 0
    for _, x in ipairs(lookups.users(client)) do
      if x.id ~= u.id and x.role == "owner" then others = others + 1 end
    end
    if others == 0 then blockers[#blockers + 1] = uid .. " is the organization's only owner" end
  end
  for _, pm in ipairs(m.projects) do
    if pm.role == "owner" then
      local others = 0
      for x in org.projects.users:list(pm.project.id, { limit = 100 }) do
        if x.id ~= uid and x.role == "owner" then others = others + 1 end
      end
      if others == 0 then
        blockers[#blockers + 1] = string.format("%s is the only owner of project %s (%s): make someone else an owner "
          .. "first", uid, pm.project.id, tostring(pm.project.name))
      end
    end
  end

  for _, pk in ipairs(m.project_keys) do
    local pid, kid = pk.project.id, pk.key.id
    steps[#steps + 1] = step("delete_project_key", string.format("delete project API key %s (%s) in %s (%s)", kid,
      tostring(pk.key.redacted_value), pid, tostring(pk.project.name)),
      function() return org.projects.api_keys:delete(pid, kid) end)
  end
  for _, k in ipairs(m.admin_keys) do
    steps[#steps + 1] = step("delete_admin_key", string.format("delete admin key %s (%s)", k.id,
      tostring(k.redacted_value)), function() return org.admin_api_keys:delete(k.id) end)
  end
  for _, pr in ipairs(m.project_roles) do
    local pid, rid = pr.project.id, pr.role.id
    steps[#steps + 1] = step("remove_project_role", string.format("remove role %s (%s) in project %s", rid,
      tostring(pr.role.name), pid), function() return org.projects.users.roles:delete(pid, uid, rid) end)
  end
  for _, r in ipairs(m.org_roles) do
    steps[#steps + 1] = step("remove_org_role", string.format("remove organization role %s (%s)", r.id,
      tostring(r.name)), function() return org.users.roles:delete(uid, r.id) end)
  end
  for _, g in ipairs(m.groups) do
    steps[#steps + 1] = step("remove_from_group", string.format("remove from group %s (%s)", g.id, tostring(g.name)),
      function() return org.groups.users:delete(g.id, uid) end)
  end
  for _, pm in ipairs(m.projects) do
    local pid = pm.project.id
    steps[#steps + 1] = step("remove_from_project", string.format("remove from project %s (%s), role %s", pid,
      tostring(pm.project.name), tostring(pm.role)), function() return org.projects.users:delete(pid, uid) end)
  end
  -- pending invites to the same address would bring them back
  local email = u and u.email or (opts.user:find("@", 1, true) and opts.user) or nil
  if type(email) == "string" then
    for inv in org.invites:list({ limit = 100 }) do
      if inv.status == "pending" and type(inv.email) == "string" and inv.email:lower() == email:lower() then
        steps[#steps + 1] = step("delete_invite", string.format("delete pending invite %s (%s)", inv.id, inv.email),
          function() return org.invites:delete(inv.id) end)
      end
    end
  end
  if u then
    steps[#steps + 1] = step("delete_user", string.format("remove user %s (%s) from the organization", u.id,
      tostring(u.email)), function() return org.users:delete(u.id) end)
  end
  return plan
end

--- The plan as text lines (what the CLI prints).
function M.describe(plan)
  local lines = {}
  for _, b in ipairs(plan.blockers) do lines[#lines + 1] = "BLOCKED: " .. b end
  for i, s in ipairs(plan.steps) do lines[#lines + 1] = string.format("%2d. %s", i, s.description) end
  if #plan.steps == 0 then lines[#lines + 1] = "nothing to do" end
  return lines
end

function M.offboard(client, opts)
  opts = opts or {}
  local plan = M.plan(client, opts)
  local result = { plan = plan, done = {}, dry_run = opts.dry_run == true, nothing_to_do = #plan.steps == 0 }
  if #plan.blockers > 0 then
    if opts.dry_run then return result end
    common.fail(JOB, "stopped before any change: " .. table.concat(plan.blockers, "; "),
      { blockers = plan.blockers, plan = plan })
  end
  if #plan.steps == 0 then return result end
  if not common.confirmed(JOB, plan, opts) then return result end
  for i, s in ipairs(plan.steps) do
    local ok, err = pcall(s.run)
    if not ok and not errors.is(err, "not_found") then
      common.fail(JOB, string.format("step %d (%s) failed: %s; %d of %d steps done; run it again to finish",
        i, s.description, tostring(err), #result.done, #plan.steps), { done = result.done, failed_step = s,
        cause = err })
    end
    result.done[#result.done + 1] = { action = s.action, description = s.description,
      already_done = not ok or nil }
  end
  return result
end

return M
