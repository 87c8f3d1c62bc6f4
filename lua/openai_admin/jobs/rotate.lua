--- Rotate a service account's API key with an overlap: create a new key for the same service
--- account (POST .../service_accounts/{id}/api_keys), hand its secret to the caller, optionally
--- wait until the caller confirms the new key works, then delete the old key.
---
---   local rotate = require("openai_admin.jobs.rotate")
---   local plan = rotate.rotate(client, { project_id = "proj_...", service_account_id = "svc_acct_...",
---     key_id = nil,              -- the key to replace; may be omitted when the account has exactly one
---     name = "etl-bot 2025-06",  -- the new key's name (default: the old key's)
---     handover = function(secret, key) ... end  | { file = "new-key.txt" } | { stdout = true },
---     verify = function(key) return true end,   -- optional: "does the new key work?" (e.g. a prompt)
---     dry_run = true | confirm = true | confirm = function(plan) ... end })
---   -> { dry_run, plan = { steps }, new_key = { id, name, created_at } | nil, old_key_id, old_key_deleted }
---
--- The secret reaches only the handover: never the result, an error, a log line or the plan. A
--- file handover creates a new file with mode 0600 (an existing file is refused). On any failure
--- after the new key exists, the old key stays, and the error carries new_key_id (and says
--- whether the new key was deleted again: it is when the handover itself failed, since nobody
--- holds its secret).
local common = require("openai_admin.jobs.common")
local lookups = require("openai_admin.jobs.lookups")
local files = require("openai_admin.jobs.files")

local M = {}
local JOB = "rotate_key"

local function check_args(opts)
  for _, f in ipairs({ "project_id", "service_account_id" }) do
    if type(opts[f]) ~= "string" or opts[f] == "" then common.invalid(JOB, f .. " is required", f) end
  end
  local h = opts.handover
  if not opts.dry_run then
    if type(h) ~= "function" and not (type(h) == "table" and (type(h.file) == "string" or h.stdout == true)) then
      common.invalid(JOB, "handover must be a function(secret, key), { file = path } or { stdout = true }",
        "handover")
    end
    if type(h) == "table" and h.file and io.open(h.file, "rb") then
      common.invalid(JOB, "handover file " .. h.file .. " exists: the secret goes into a new file only", "handover")
    end
  end
  if opts.verify ~= nil and type(opts.verify) ~= "function" then
    common.invalid(JOB, "verify must be a function(new_key) returning true when the new key works", "verify")
  end
end

local function hand_over(h, secret, key)
  if type(h) == "function" then
    h(secret, key)
  elseif h.file then
    files.write_secret(h.file, secret .. "\n")
  else
    io.stdout:write(secret, "\n")
    io.stdout:flush()
  end
end

--- Where the secret goes, in words.
function M.handover_name(h)
  if type(h) == "table" and h.file then return "file " .. h.file .. ", mode 0600" end
  if type(h) == "table" then return "stdout" end
  return "the handover function"
end

--- Plans (and unless dry_run, performs) the rotation.
function M.rotate(client, opts)
  opts = opts or {}
  check_args(opts)
  local org = client.admin.organization
  local pid, said = opts.project_id, opts.service_account_id
  local sa = org.projects.service_accounts:retrieve(pid, said)
  local keys = lookups.service_account_keys(client, pid, said)
  local old
  if opts.key_id then
    for _, k in ipairs(keys) do if k.id == opts.key_id then old = k end end
    if not old then
      common.fail(JOB, "key " .. opts.key_id .. " is not a key of service account " .. said, { kind = "not_found" })
    end
  elseif #keys == 1 then
    old = keys[1]
  else
    common.invalid(JOB, string.format("service account %s has %d keys: name the one to replace with key_id",
      said, #keys), "key_id")
  end
  local name = opts.name or old.name
  local plan = {
    project_id = pid, service_account = { id = sa.id, name = sa.name }, old_key = { id = old.id, name = old.name,
      redacted_value = old.redacted_value, last_used_at = old.last_used_at },
    steps = {
      "create a new key '" .. tostring(name) .. "' for service account " .. sa.id .. " (" .. tostring(sa.name) .. ")",
      "hand its secret over (" .. M.handover_name(opts.handover) .. ")",
      opts.verify and "wait for confirmation that the new key works" or "no confirmation step (verify not given)",
      "delete the old key " .. old.id .. " (" .. tostring(old.redacted_value) .. ")",
    },
  }
  local result = { dry_run = opts.dry_run == true, plan = plan, old_key_id = old.id, old_key_deleted = false }
  if not common.confirmed(JOB, plan, opts) then return result end

  local body = { name = name }
  if opts.expires_in_seconds then body.expires_in_seconds = opts.expires_in_seconds end
  local created = org.projects.service_accounts.api_keys:create(pid, said, body)
  local new_key = { id = created.id, name = created.name, created_at = created.created_at,
    expires_at = created.expires_at }
  result.new_key = new_key
  local secret = created.value
  created.value = nil
  local function failed(step, err, fields)
    fields = fields or {}
    fields.new_key_id, fields.old_key_id, fields.step, fields.cause = new_key.id, old.id, step, err
    local msg = string.format("%s failed: %s; the old key %s is kept; new key %s", step, tostring(err), old.id,
      new_key.id)
    common.fail(JOB, msg .. (fields.new_key_deleted and " was deleted again (nobody holds its secret)"
      or " exists (delete it if unwanted)"), fields)
  end
  local ok, err = pcall(hand_over, opts.handover, secret, new_key)
  secret = nil -- luacheck: ignore (drop the only reference the job holds)
  if not ok then
    local del_ok = pcall(org.projects.api_keys.delete, org.projects.api_keys, pid, new_key.id)
    failed("handover", err, { new_key_deleted = del_ok })
  end
  if opts.verify then
    local vok, works = pcall(opts.verify, new_key)
    if not vok then failed("verify", works) end
    if works ~= true then
      failed("verify", "the new key was not confirmed to work")
    end
  end
  local dok, derr = pcall(org.projects.api_keys.delete, org.projects.api_keys, pid, old.id)
  if not dok then failed("deleting the old key", derr) end
  result.old_key_deleted = true
  return result
end

return M
