--- Audit log: seeded events are generated lazily from their sequence number (so a million of them
--- cost nothing until read); events recorded by mutations are stored. Newest first.
--- Event ids embed the sequence number: cursor lookup is O(1); time filters use binary search.
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")
local store = require("openai_admin.fake.store")

local fail = util.fail
local null = json.null

local M = {}
local Log = {}
Log.__index = Log

local SEED_STEP = 30 -- seconds between seeded events

local SEED_TYPES = {
  "project.created", "project.updated", "api_key.created", "api_key.updated", "api_key.deleted",
  "user.added", "user.updated", "invite.sent", "service_account.created", "group.created",
  "role.created", "rate_limit.updated", "login.succeeded", "certificate.created", "role.assignment.created",
}
local PROJECT_TYPES = {
  ["project.created"] = true, ["project.updated"] = true, ["api_key.created"] = true, ["api_key.updated"] = true,
  ["api_key.deleted"] = true, ["user.added"] = true, ["service_account.created"] = true,
  ["rate_limit.updated"] = true,
}

--- seed: { seed = int, count = N, end_time = unix, users = {{id,email}...}, projects = {{id,name}...},
---         key = {id=..., user={id,email}} }
function M.new(opts)
  local self = setmetatable({}, Log)
  self.seed = opts.seed or 1
  self.n_seeded = opts.count or 0
  self.end_time = opts.end_time or 1735689600
  self.users = opts.users or {}
  self.projects = opts.projects or {}
  self.key = opts.key
  self.live = {} -- seq -> event
  self.n = self.n_seeded
  self.last_time = self.end_time
  return self
end

function Log:count() return self.n end

local function event_id(seed, seq)
  return string.format("audit_log-%s_%d", util.alnum_of(util.hash(seed, "audit", seq), 8), seq)
end

function Log:seq_of(id)
  if type(id) ~= "string" then return nil end
  local seq = math.tointeger(tonumber(id:match("_(%d+)$")))
  if not seq or seq < 1 or seq > self.n then return nil end
  if event_id(self.seed, seq) ~= id then return nil end
  return seq
end

function Log:time_of(seq)
  if seq <= self.n_seeded then
    return self.end_time - (self.n_seeded - seq) * SEED_STEP
  end
  return self.live[seq].effective_at
end

-- Cheap attributes of a seeded event: type, user index, project index, actor kind.
function Log:seed_attrs(seq)
  local h = util.hash(self.seed, "ev", seq)
  local typ = SEED_TYPES[h % #SEED_TYPES + 1]
  local h2 = util.mix(h) >> 1
  local u = #self.users > 0 and (h2 % #self.users + 1) or nil
  local p = (#self.projects > 0 and PROJECT_TYPES[typ]) and ((h2 >> 8) % #self.projects + 1) or nil
  local by_key = (u == nil) or ((h2 >> 20) % 3 == 0)
  return typ, u, p, by_key, h2
end

function Log:api_key_actor()
  local k = self.key
  return {
    type = "api_key",
    api_key = { id = k.id, type = "user", user = { id = k.user.id, email = k.user.email } },
  }
end

local RID_PREFIX = { ["invite.sent"] = "invite-", ["service_account.created"] = "svc_acct_",
  ["group.created"] = "group_", ["role.created"] = "role_", ["certificate.created"] = "cert_",
  ["role.assignment.created"] = "role_" }

-- The id of the resource a seeded event is about (cheap: no event table).
function Log:seed_rid(typ, u, p, h2)
  if p and (typ == "project.created" or typ == "project.updated") then return self.projects[p].id end
  if typ:sub(1, 8) == "api_key." then return "key_" .. util.alnum_of(h2, 12) end
  if typ == "rate_limit.updated" then
    return ({ "rl-gpt-4o", "rl-gpt-4o-mini", "rl-o3", "rl-dall-e-3" })[(h2 >> 3) % 4 + 1]
  end
  if typ == "user.added" or typ == "user.updated" or typ == "login.succeeded" then
    return (u and self.users[u] or self.key.user).id
  end
  return (RID_PREFIX[typ] or "res_") .. util.alnum_of(h2, 10)
end

function Log:seed_event(seq)
  local typ, u, p, by_key, h2 = self:seed_attrs(seq)
  local ev = { id = event_id(self.seed, seq), type = typ, effective_at = self:time_of(seq) }
  if by_key then
    ev.actor = self:api_key_actor()
  else
    local user = self.users[u]
    ev.actor = {
      type = "session",
      session = {
        user = { id = user.id, email = user.email },
        ip_address = string.format("203.0.113.%d", h2 % 250 + 1),
      },
    }
  end
  if p then
    local proj = self.projects[p]
    ev.project = { id = proj.id, name = proj.name }
  end
  local rid = self:seed_rid(typ, u, p, h2)
  if (typ == "project.created" or typ == "project.updated") and ev.project then
    ev[typ] = { id = rid, data = { name = ev.project.name, title = ev.project.name } }
  elseif typ:match("^api_key") then
    ev[typ] = { id = rid, data = { scopes = json.array({ "/v1/*" }) } }
  elseif typ == "user.added" or typ == "user.updated" then
    ev[typ] = { id = rid, data = { role = "member" } }
  elseif typ == "login.succeeded" then
    ev[typ] = { id = rid }
  else
    ev[typ] = { id = rid, data = {} }
  end
  ev._rid = ev[typ].id
  return ev
end

--- Records an event. fields: type, payload (table with id), project ({id,name}) or nil, actor or nil.
function Log:record(typ, payload, project, now)
  local seq = self.n + 1
  local t = math.max(now or self.last_time, self.last_time)
  self.last_time = t
  local ev = {
    id = event_id(self.seed, seq),
    type = typ,
    effective_at = t,
    actor = self:api_key_actor(),
  }
  if project then ev.project = { id = project.id, name = project.name } end
  ev[typ] = payload or {}
  ev._rid = ev[typ].id
  self.live[seq] = ev
  self.n = seq
  return ev
end

function Log:event(seq)
  if seq <= self.n_seeded then return self:seed_event(seq) end
  return self.live[seq]
end

-- Does event seq pass the filters? f holds sets; cheap path for seeded events.
function Log:matches(seq, f)
  local typ, actor_id, email, pid, rid
  if seq <= self.n_seeded then
    local u, p, by_key, h2
    typ, u, p, by_key, h2 = self:seed_attrs(seq)
    pid = p and self.projects[p].id
    if by_key then
      actor_id, email = self.key.id, self.key.user.email
      if f.actor_ids and f.actor_ids[self.key.user.id] then actor_id = self.key.user.id end
    else
      actor_id, email = self.users[u].id, self.users[u].email
    end
    if f.resource_ids then rid = self:seed_rid(typ, u, p, h2) end
  else
    local ev = self.live[seq]
    typ, pid, rid = ev.type, ev.project and ev.project.id, ev._rid
    actor_id, email = self.key.id, self.key.user.email
    if f.actor_ids and f.actor_ids[self.key.user.id] then actor_id = self.key.user.id end
  end
  if f.types and not f.types[typ] then return false end
  if f.tenant_only and typ:sub(1, 7) ~= "tenant." then return false end
  if f.actor_ids and not f.actor_ids[actor_id] then return false end
  if f.actor_emails and not f.actor_emails[email] then return false end
  if f.project_ids and not (pid and f.project_ids[pid]) then return false end
  if f.resource_ids and not (rid and f.resource_ids[rid]) then return false end
  return true
end

-- first seq whose time satisfies pred (monotonic false...true), in [1, n+1]
function Log:search(pred)
  local lo, hi = 1, self.n + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if pred(self:time_of(mid)) then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function set_or_nil(list)
  if not list or #list == 0 then return nil end
  return util.set_of(list)
end

local function public_event(ev)
  return util.public(ev)
end

--- The list endpoint.
function Log:list(row, q)
  local def, max = store.limits(row)
  local limit = store.check_limit(q, def, max)
  local f = {
    types = set_or_nil(q.event_types),
    actor_ids = set_or_nil(q.actor_ids),
    actor_emails = set_or_nil(q.actor_emails),
    project_ids = set_or_nil(q.project_ids),
    resource_ids = set_or_nil(q.resource_ids),
    tenant_only = q.tenant_only == true,
  }
  local filtered = f.types or f.actor_ids or f.actor_emails or f.project_ids or f.resource_ids or f.tenant_only
  -- time window -> [lo, hi] sequence range
  local lo, hi = 1, self.n
  local ea = q.effective_at
  if ea then
    if ea.gte then lo = math.max(lo, self:search(function(t) return t >= ea.gte end)) end
    if ea.gt then lo = math.max(lo, self:search(function(t) return t > ea.gt end)) end
    if ea.lte then hi = math.min(hi, self:search(function(t) return t > ea.lte end) - 1) end
    if ea.lt then hi = math.min(hi, self:search(function(t) return t >= ea.lt end) - 1) end
  end
  local seqs = {}
  local has_more = false
  if q.before and q.before ~= "" then
    local b = self:seq_of(q.before)
    if not b then fail(400, "Invalid 'before': no audit log event with id '" .. q.before .. "'.", "before",
      "invalid_cursor") end
    local acc = {}
    for s = math.max(lo, b + 1), hi do
      if not filtered or self:matches(s, f) then
        acc[#acc + 1] = s
        if #acc > limit then break end
      end
    end
    if #acc > limit then has_more = true; acc[#acc] = nil end
    for i = #acc, 1, -1 do seqs[#seqs + 1] = acc[i] end
  else
    local start = hi
    if q.after and q.after ~= "" then
      local a = self:seq_of(q.after)
      if not a then fail(400, "Invalid 'after': no audit log event with id '" .. q.after .. "'.", "after",
        "invalid_cursor") end
      start = math.min(hi, a - 1)
    end
    for s = start, lo, -1 do
      if not filtered or self:matches(s, f) then
        if #seqs >= limit then has_more = true; break end
        seqs[#seqs + 1] = s
      end
    end
  end
  local data = {}
  for i, s in ipairs(seqs) do data[i] = public_event(self:event(s)) end
  local first = data[1] and data[1].id
  local last = data[#data] and data[#data].id
  return store.envelope(row, data, first, last, has_more)
end

M.null = null
return M
