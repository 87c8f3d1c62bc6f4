-- A tour of openai-admin: run it with `make demo` (against the local fake), or point it at any
-- Admin API with OPENAI_ADMIN_KEY and OPENAI_BASE_URL set.
--
-- It creates a project, invites and adds users, creates a service account, pages through lists,
-- rotates a service account key, and prints a usage and cost summary for the last week.
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath

local openai_admin = require("openai_admin")

local client <close> = openai_admin.new{} -- key and base URL from OPENAI_ADMIN_KEY / OPENAI_BASE_URL
local org = client.admin.organization

local function say(fmt, ...) io.write(string.format(fmt, ...), "\n") end

-- 1. A project.
local project = org.projects:create{ name = "tour-" .. os.date("!%Y%m%d-%H%M%S") }
say("created project %s (%s), status %s", project.name, project.id, project.status)

-- 2. Invite someone to the organization and to the project at once.
local invite = org.invites:create{
  email = "new.hire@example.com", role = "reader",
  projects = { { id = project.id, role = "member" } },
}
say("invited %s as %s (invite %s, status %s)", invite.email, invite.role, invite.id, invite.status)

-- 3. Add existing organization members to the project.
local added = 0
for user in org.users:list{ limit = 2 } do
  if added == 2 then break end -- leaving the loop early releases the pager
  org.projects.users:create(project.id, { user_id = user.id, role = "member" })
  added = added + 1
  say("added %s <%s> to the project", user.name, user.email)
end

-- 4. A service account; its API key secret is shown once, at creation.
local sa = org.projects.service_accounts:create(project.id, { name = "tour-bot" })
say("service account %s, key %s (secret shown once: %s...)", sa.id, sa.api_key.id,
  sa.api_key.value:sub(1, 8))

-- 5. Page through lists: every project (all pages), then the project's members page by page.
local projects = 0
for _ in org.projects:list{ limit = 2 } do projects = projects + 1 end
say("the organization has %d projects (walked 2 per page)", projects)
for page in org.projects.users:list(project.id, { limit = 1 }):pages() do
  for _, member in ipairs(page.data) do say("  member %s, role %s", member.email, member.role) end
end

-- 6. Rotate the service account's key: create a new one, then delete the old one.
local old_key_id = sa.api_key.id
local new_key = org.projects.service_accounts.api_keys:create(project.id, sa.id)
org.projects.api_keys:delete(project.id, old_key_id)
say("rotated key %s -> %s", old_key_id, new_key.id)
local ok, err = pcall(org.projects.api_keys.retrieve, org.projects.api_keys, project.id, old_key_id)
say("the old key is gone: %s", ok and "no!" or tostring(err.kind))

-- 7. Usage and costs for the last seven days, grouped by project.
local week_ago = os.time() - 7 * 86400
local tokens, requests = 0, 0
for bucket in org.usage:completions{ start_time = week_ago, bucket_width = "1d", group_by = { "project_id" } } do
  for _, r in ipairs(bucket.results) do
    tokens = tokens + r.input_tokens + r.output_tokens
    requests = requests + r.num_model_requests
  end
end
say("completions in the last 7 days: %d requests, %d tokens", requests, tokens)
local cost = 0.0
local currency = "usd"
for bucket in org.usage:costs{ start_time = week_ago, group_by = { "project_id" } } do
  for _, r in ipairs(bucket.results) do
    if type(r.amount) == "table" then
      cost = cost + r.amount.value
      currency = r.amount.currency
    end
  end
end
say("costs in the last 7 days: %.2f %s", cost, currency:upper())

-- 8. Every change above is in the audit log.
local events = 0
for event in org.audit_logs:list{ project_ids = { project.id }, limit = 50 } do
  events = events + 1
  if events <= 3 then say("  audit: %s", event.type) end
end
say("%d audit events for the project; archiving it now", events)
org.projects:archive(project.id)
say("project status: %s", org.projects:retrieve(project.id).status)
