-- openai_admin.log: what the client tells about its requests, and redaction of secrets.
--
--   local log = require "openai_admin.log"
--   local lg = log.new{ logger = function(level, line, fields) end, log_level = "debug" }
--   lg.event(ev)                 -- one engine event (docs/internals.md, "Events"); the client's
--                                -- client._log is lg.event
--   lg.line(level, line, fields) -- a message of the client itself (e.g. the insecure warning)
--   lg.level, lg.enabled("info")
--   log.redact(s)                -- s with key-shaped strings, Bearer tokens and "value" fields cut
--
-- Level: opts.log_level, else OPENAI_LOG, else "warn" (as the official SDKs): "debug", "info",
-- "warn", "error" or "off". Without opts.logger the lines go to stderr as
-- "openai_admin LEVEL: line". What goes where:
--   debug  one line per attempt: method, path, status or transport error, request id, attempt,
--          elapsed ms, and why it is retried; short backoffs
--   info   rate-budget holds and 429 ride-outs (waits that follow a 429 or the budget)
--   warn   any wait of WARN_WAIT seconds or more (so that a script with default settings says
--          why it pauses), a call given up after retries, insecure TLS
-- Every line and every string in `fields` goes through log.redact: no Authorization header, no
-- admin key, no created secret reaches a log line, whatever the server or the caller put in.
local M = {}

M.LEVELS = { debug = 10, info = 20, warn = 30, error = 40, off = 100 }
M.LEVEL_NAMES = { "debug", "info", "warn", "error", "off" }
M.DEFAULT_LEVEL = "warn"
M.WARN_WAIT = 3          -- seconds: a wait this long is a warning at any level
M.QUOTE_MAX = 300        -- longest path or message quoted in a line

local LEVELS = M.LEVELS

-- Key-shaped strings (sk-..., sess-...), Bearer/Basic credentials, JSON "value"/"key" fields and
-- credentials in URLs are cut. Applied to everything a line or an error shows.
function M.redact(s)
  if type(s) ~= "string" then return s end
  s = s:gsub("%f[%w]sk%-[%w%-_]+", function(tok)
    if #tok >= 12 then return "sk-...redacted" end
  end)
  s = s:gsub("%f[%w]sess%-[%w%-_]+", function(tok)
    if #tok >= 12 then return "sess-...redacted" end
  end)
  s = s:gsub("([Bb][Ee][Aa][Rr][Ee][Rr]%s+)[^%s\"',;]+", "%1...redacted")
  s = s:gsub("([Bb][Aa][Ss][Ii][Cc]%s+)[^%s\"',;]+", "%1...redacted")
  s = s:gsub('("value"%s*:%s*)"[^"]*"', '%1"...redacted"')
  -- (anchored on the literal "://": a scheme pattern in front would backtrack over long strings)
  s = s:gsub("://[^/@%s]+@", "://...redacted@")
  return s
end

local redact = M.redact

-- Cuts a quoted string to QUOTE_MAX bytes (on a UTF-8 boundary), saying how much was cut.
function M.quote(s)
  s = tostring(s)
  if #s <= M.QUOTE_MAX then return s end
  local cut = M.QUOTE_MAX
  while cut > 1 and (s:byte(cut + 1) or 0) & 0xC0 == 0x80 do cut = cut - 1 end
  return s:sub(1, cut) .. ("...(%d bytes cut)"):format(#s - cut)
end

local function one_line(s)
  return (tostring(s):gsub("[%c]+", " "))
end

-- The level a name stands for, or nil.
function M.level_of(name)
  if type(name) ~= "string" then return nil end
  return LEVELS[name:lower()]
end

local function stderr_sink(level, line)
  io.stderr:write("openai_admin ", level, ": ", line, "\n")
  io.stderr:flush()
end

local function fmt_seconds(s)
  if s >= 10 then return ("%.0f s"):format(s) end
  return ("%.1f s"):format(s)
end

local WAIT_REASONS = {
  budget = "the rate budget holds it until its window reopens",
  backoff = "backoff before the next attempt",
  retry_after = "the server asked to wait (Retry-After)",
}

-- The request part of a line: "GET /organization/projects?limit=2".
local function what(ev)
  return tostring(ev.method or "?") .. " " .. M.quote(ev.path or "?")
end

-- Builds the line(s) for one event: returns level, line (or nil when the event says nothing).
local function describe(ev, last)
  local t = ev.type
  if t == "attempt" then
    local parts = { what(ev), " -> " }
    if ev.status then
      parts[#parts + 1] = tostring(ev.status)
    else
      parts[#parts + 1] = "transport error"
      if ev.curl_code then parts[#parts + 1] = " (curl " .. tostring(ev.curl_code) .. ")" end
      if ev.error then parts[#parts + 1] = ": " .. M.quote(one_line(ev.error)) end
    end
    local extra = {}
    if ev.elapsed_ms then extra[#extra + 1] = ("%d ms"):format(math.floor(ev.elapsed_ms + 0.5)) end
    extra[#extra + 1] = "attempt " .. tostring(ev.attempt or 1)
    if ev.request_id then extra[#extra + 1] = "request " .. tostring(ev.request_id) end
    parts[#parts + 1] = " (" .. table.concat(extra, ", ") .. ")"
    local level = "debug"
    if ev.retry then
      parts[#parts + 1] = "; retrying: " .. tostring(ev.retry)
    elseif (ev.attempt or 1) > 1 and (not ev.status or ev.status == 429 or ev.status >= 500) then
      parts[#parts + 1] = "; giving up after " .. tostring(ev.attempt) .. " attempts"
      level = "warn"
    end
    return level, table.concat(parts)
  elseif t == "wait" then
    local seconds = tonumber(ev.seconds) or 0
    local reason = ev.reason
    local why = WAIT_REASONS[reason] or tostring(reason or "wait")
    if reason == "backoff" and last then why = why .. " (after " .. tostring(last.retry) .. ")" end
    local level = "debug"
    if reason == "budget" or reason == "retry_after" or (last and last.status == 429) then level = "info" end
    if seconds >= M.WARN_WAIT then level = "warn" end
    local line = ("%s waits %s before attempt %s: %s"):format(what(ev), fmt_seconds(seconds),
      tostring(ev.attempt or 1), why)
    if reason == "budget" and ev.endpoint then line = line .. " (" .. tostring(ev.endpoint) .. ")" end
    return level, line
  end
  return nil
end
M.describe = describe

-- A copy of the event with every string redacted (the fields a logger function gets).
local function redacted_fields(ev, level)
  local f = {}
  for k, v in pairs(ev) do
    if type(v) == "string" then f[k] = redact(M.quote(v)) elseif type(v) ~= "table" then f[k] = v end
  end
  f.level = level
  return f
end

-- log.new{ logger = fn|nil, log_level = name|nil } -> lg (see the top of this file).
-- env: a function like os.getenv (tests pass their own).
function M.new(opts, env)
  opts = opts or {}
  env = env or os.getenv
  local sink = opts.logger or stderr_sink
  local level_name = opts.log_level
  local bad_env
  if level_name == nil then
    local e = env("OPENAI_LOG")
    if e ~= nil and e ~= "" then
      if M.level_of(e) then level_name = e:lower() else bad_env = e end
    end
  end
  level_name = level_name or M.DEFAULT_LEVEL
  local threshold = assert(M.level_of(level_name), "log_level must be one of debug, info, warn, error, off")
  local lg = { level = level_name:lower() }

  local function emit(level, line, fields)
    if LEVELS[level] < threshold then return end
    -- a logger that raises must not break the request that is being logged
    pcall(sink, level, redact(one_line(line)), fields)
  end

  function lg.enabled(level) return (LEVELS[level] or 0) >= threshold end

  function lg.line(level, line, fields)
    emit(level, line, redacted_fields(fields or {}, level))
  end

  -- the last retried attempt per handle, so that a backoff after a 429 counts as a ride-out
  local last_retry = {}
  local DEBUG = LEVELS.debug
  function lg.event(ev)
    if type(ev) ~= "table" then return end
    local h = ev.handle
    local last = h ~= nil and last_retry[h] or nil
    if h ~= nil and ev.type == "attempt" then
      last_retry[h] = ev.retry and { status = ev.status, retry = ev.retry } or nil
    end
    -- the common case costs nothing below debug: a first attempt that is not retried is a debug
    -- line (describe), so no line is built and nothing redacted (that was ~15 us per request)
    if threshold > DEBUG and ev.type == "attempt" and not ev.retry and (ev.attempt or 1) == 1 then return end
    local level, line = describe(ev, last)
    if level and LEVELS[level] >= threshold then emit(level, line, redacted_fields(ev, level)) end
  end

  if bad_env then
    emit("warn", ("OPENAI_LOG=%s is not a level (debug, info, warn, error, off): using %s")
      :format(M.quote(bad_env), lg.level), { level = "warn" })
  end
  return lg
end

-- The client's client._log from its checked options: the event function, after the warning
-- that insecure = true gives at creation (always shown at the default level); and which events
-- the engine need record for it (the request's `log` field): true at debug (a line per
-- attempt), else "notable" (waits, retries, give-ups: a plain attempt records nothing).
function M.for_client(o)
  local lg = M.new(o)
  if o.insecure then
    lg.line("warn", "insecure = true: TLS certificates and host names are NOT verified; anyone on "
      .. "the network path can read the admin key. Use ca_file or ca_path for a private CA instead.")
  end
  return lg.event, lg.enabled("debug") or "notable"
end

return M
