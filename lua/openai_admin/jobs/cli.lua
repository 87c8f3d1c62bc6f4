--- The jobs as `openai-admin` subcommands, plugged into the CLI's extension point
--- (docs/internals.md, "CLI extension commands"): report costs, report usage ENDPOINT, report
--- keys, access-review, rotate-key, offboard, audit export.
local common = require("openai_admin.jobs.common")
local buckets = require("openai_admin.jobs.buckets")


-- rows in the chosen format, with the job's own column order unless --fields chooses
local function print_rows(ctx, rows, columns)
  local fmt = ctx.format or (ctx.tty.stdout and "table" or "jsonl")
  local out = require("openai_admin.cli.output")
  local w = out.new({ format = fmt, fields = ctx.fields or columns, list = true })
  for _, r in ipairs(rows) do w:item(r) end
  w:finish()
end

-- totals and notes: a table on stderr, so the rows on stdout stay one clean data set
local function print_side(rows, columns, title)
  io.stderr:write(title, "\n")
  common.write_rows(rows, columns, "table", function(s) io.stderr:write(s) end)
end

local function job(mod) return require("openai_admin.jobs." .. mod) end

local TIME_FLAGS = {
  { name = "since", type = "number", required = true, time = true,
    description = "start of the range: a date (2026-11-01), a date-time, a relative time (30d, 12h) or Unix seconds" },
  { name = "until", type = "number", time = true, description = "end of the range (default: now)" },
}

local function flags(list, extra)
  local out = {}
  for _, f in ipairs(list) do out[#out + 1] = f end
  for _, f in ipairs(extra or {}) do out[#out + 1] = f end
  return out
end

local entries = {}

entries[#entries + 1] = {
  words = { "report", "costs" },
  summary = "Costs from the Costs API (the financial source of truth, not usage x prices), exact amounts; "
    .. "totals on stderr",
  flags = flags(TIME_FLAGS, {
    { name = "group_by", type = "string", array = true, enum = buckets.group_dims("admin.organization.usage.costs"),
      description = "group by project_id and/or line_item (repeat the flag)" },
    { name = "project_ids", type = "string", array = true, description = "only these projects" },
  }),
  run = function(ctx, a)
    local costs = job("costs")
    local r = costs.report(ctx.client, { since = a.since, ["until"] = a["until"], group_by = a.group_by,
      project_ids = a.project_ids })
    print_rows(ctx, r.rows, r.columns)
    local t = {}
    for _, g in ipairs(r.totals.groups) do t[#t + 1] = g end
    if #r.group_by > 0 then for _, o in ipairs(r.totals.overall) do t[#t + 1] = o end end
    print_side(t, r.columns, "totals (" .. r.note .. ")")
  end,
}

for _, name in ipairs(buckets.usage_endpoints()) do
  local sdk = "admin.organization.usage." .. name
  entries[#entries + 1] = {
    words = { "report", "usage", name },
    summary = "Usage of " .. name:gsub("_", " ") .. ": every bucket and page, names for projects, users, keys",
    flags = flags(TIME_FLAGS, {
      { name = "group_by", type = "string", array = true, enum = buckets.group_dims(sdk),
        description = "group by these dimensions (repeat the flag)" },
      { name = "bucket_width", type = "string", enum = { "1d", "1h", "1m" }, default = "1d" },
      { name = "project_ids", type = "string", array = true },
      { name = "user_ids", type = "string", array = true },
      { name = "api_key_ids", type = "string", array = true },
      { name = "models", type = "string", array = true },
    }),
    run = function(ctx, a)
      local usage = job("usage")
      local r = usage.report(ctx.client, name, { since = a.since, ["until"] = a["until"], group_by = a.group_by,
        bucket_width = a.bucket_width, project_ids = a.project_ids, user_ids = a.user_ids,
        api_key_ids = a.api_key_ids, models = a.models })
      print_rows(ctx, r.rows, r.columns)
      local t = {}
      if #r.group_by > 0 then for _, g in ipairs(r.totals.groups) do t[#t + 1] = g end end
      t[#t + 1] = r.totals.overall
      print_side(t, r.columns, "totals")
    end,
  }
end

entries[#entries + 1] = {
  words = { "report", "keys" },
  summary = "Every admin, project and service account key, flagged never used, stale, or owner gone",
  flags = {
    { name = "stale_days", type = "number", default = 90, description = "flag keys unused for this many days" },
    { name = "flagged", type = "boolean", default = false, description = "only the keys with a flag" },
  },
  run = function(ctx, a)
    local r = job("keys").report(ctx.client, { stale_days = math.tointeger(a.stale_days) or a.stale_days })
    local rows = r.rows
    if a.flagged then
      rows = {}
      for _, x in ipairs(r.rows) do if x.flags ~= "" then rows[#rows + 1] = x end end
    end
    print_rows(ctx, rows, r.columns)
    io.stderr:write(string.format("%d keys: %d never used, %d unused for %d days or more, %d orphaned\n",
      r.counts.keys, r.counts.never_used, r.counts.stale, r.stale_days, r.counts.orphaned))
  end,
}

entries[#entries + 1] = {
  words = { "access-review" },
  summary = "Who can do what: users, roles, groups, project members and service accounts, one snapshot",
  flags = {},
  run = function(ctx)
    local ar = job("access_review")
    local snap = ar.snapshot(ctx.client)
    if ctx.format == "json" then
      ar.write(snap, "json", function(s) io.stdout:write(s) end)
    else
      print_rows(ctx, snap.rows, snap.columns)
    end
  end,
}

entries[#entries + 1] = {
  words = { "rotate-key" },
  summary = "Rotate a service account key: new key, secret to stdout or a 0600 --secret-file (never a log), "
    .. "optional --wait, old key deleted; on failure the old key stays",
  destructive = true,
  flags = {
    { name = "project_id", type = "string", required = true },
    { name = "service_account_id", type = "string", required = true },
    { name = "key_id", type = "string", description = "the key to replace (needed when the account has several)" },
    { name = "name", type = "string", description = "the new key's name (default: the old key's)" },
    { name = "expires_in_seconds", type = "number" },
    { name = "secret_file", type = "string", description = "write the new secret to this new file (mode 0600) "
      .. "instead of stdout" },
    { name = "wait", type = "boolean", default = false,
      description = "ask (on the terminal) whether the new key works before deleting the old one" },
  },
  run = function(ctx, a)
    local rotate = job("rotate")
    local opts = { project_id = a.project_id, service_account_id = a.service_account_id, key_id = a.key_id,
      name = a.name, expires_in_seconds = a.expires_in_seconds, dry_run = true }
    local planned = rotate.rotate(ctx.client, opts)
    for i, s in ipairs(planned.plan.steps) do io.stderr:write(string.format("%d. %s\n", i, s)) end
    if ctx.dry_run then return nil end
    opts.dry_run = nil
    ctx.confirm("rotate key " .. planned.plan.old_key.id .. " of " .. a.service_account_id)
    opts.confirm = true
    opts.handover = a.secret_file and { file = a.secret_file } or { stdout = true }
    if a.wait then
      opts.verify = function(key)
        if not (ctx.tty.stdin and ctx.tty.stderr) then
          io.stderr:write("openai-admin: --wait needs a terminal to ask; keeping the old key\n")
          return false
        end
        io.stderr:write("New key " .. key.id .. " handed over. Does it work? Delete the old key now? [y/N] ")
        io.stderr:flush()
        return (io.stdin:read("l") or ""):match("^%s*[yY]") ~= nil
      end
    end
    local r = rotate.rotate(ctx.client, opts)
    io.stderr:write(string.format("rotated: new key %s (%s); old key %s deleted\n", r.new_key.id,
      tostring(r.new_key.name), r.old_key_id))
  end,
}

entries[#entries + 1] = {
  words = { "offboard" },
  summary = "Offboard a user (id or email): memberships, roles, keys, then the user; plan first; re-runnable",
  destructive = true,
  positionals = { "user" },
  flags = {
    { name = "admin_key_id", type = "string",
      description = "the id of the admin key making the calls (default: recognised from OPENAI_ADMIN_KEY)" },
  },
  run = function(ctx, a)
    local offboard = job("offboard")
    local opts = { user = a.user, admin_key_id = a.admin_key_id, dry_run = true }
    local planned = offboard.offboard(ctx.client, opts)
    for _, line in ipairs(offboard.describe(planned.plan)) do io.stderr:write(line, "\n") end
    if #planned.plan.blockers > 0 then
      error(ctx.errors.new({ kind = "job", message = "offboard: stopped before any change: "
        .. table.concat(planned.plan.blockers, "; ") }), 0)
    end
    if ctx.dry_run or planned.nothing_to_do then return nil end
    ctx.confirm("offboard " .. a.user .. " (" .. #planned.plan.steps .. " steps)")
    opts.dry_run, opts.confirm = nil, true
    local r = offboard.offboard(ctx.client, opts)
    io.stderr:write(string.format("offboarded %s: %d steps done\n", a.user, #r.done))
  end,
}

entries[#entries + 1] = {
  words = { "audit", "export" },
  summary = "Every audit-log event of the range, oldest first, one JSON object per line, to stdout or appended to "
    .. "--output; exit 0 when the range is done. With --output and --checkpoint: exactly once across restarts "
    .. "(SIGKILL included: a resumed run cuts the output back to its last commit). On stdout: at-least-once, the "
    .. "committed boundary deduplicated",
  flags = {
    { name = "since", type = "number", time = true, description = "default: the oldest event the API keeps" },
    { name = "until", type = "number", time = true, description = "default: the newest event" },
    { name = "output", type = "string", description = "append the lines to this file" },
    { name = "checkpoint", type = "string",
      description = "commit the position here after each page (atomic replace); start again with the same files" },
    { name = "follow", type = "boolean", default = false, description = "keep polling for new events (backoff)" },
    { name = "poll_interval", type = "number", default = 2, description = "seconds between polls at first" },
  },
  run = function(ctx, a)
    if ctx.dry_run then
      io.stderr:write("openai-admin: (dry run) audit export only reads; nothing to plan\n")
      return nil
    end
    local r = job("audit_export").export(ctx.client, { since = a.since, ["until"] = a["until"], output = a.output,
      checkpoint = a.checkpoint, follow = a.follow, poll_interval = a.poll_interval })
    if a.output then
      io.stderr:write(string.format("%d events exported (%d pages)%s\n", r.events, r.pages,
        r.resumed and ", resumed from the checkpoint" or ""))
    end
  end,
}

return entries
