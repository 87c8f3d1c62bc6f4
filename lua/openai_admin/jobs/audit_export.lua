--- Audit-log export: every event of a range, oldest first, one JSON object per line.
---
---   local export = require("openai_admin.jobs.audit_export")
---   local r = export.export(client, {
---     since = "30d" | nil,          -- nil: from the oldest event the API keeps
---     ["until"] = nil,              -- nil: up to the newest event
---     output = "audit.jsonl",       -- appended to; nil: write(line) or stdout
---     checkpoint = "audit.ckpt",    -- the position, committed after each page
---     follow = false,               -- keep polling for new events (backoff poll_interval .. max_interval s)
---     page_size = 100, write = nil, stop = function() return false end })
---   -> { events = N written by this run, pages = N, resumed = bool, done = bool }
---
--- The list API answers newest first. The export finds the oldest event of the range with a
--- binary search over effective_at windows (a window holding at most one page is the oldest
--- page), writes that page reversed, then walks toward the present with `before=<newest id
--- written>`: each answer is the next page of newer events, reversed into oldest-first order.
---
--- Delivery. With output and checkpoint: exactly once. After each page the output is fsynced,
--- then the checkpoint (cursor, effective_at and ids of the last events written, the output's
--- committed length) replaces the old one atomically (temp file + fsync + rename + directory
--- fsync). A run killed at any point (SIGKILL included) and started again with the same two files
--- first cuts the output back to its committed length, then goes on from the cursor: each event
--- once, whole lines only. Without output (stdout), or without a checkpoint, the promise is
--- at-least-once: lines written after the last commit are written again by a resumed run; events
--- at the boundary that was committed are never repeated. If the API refuses the cursor (an event
--- past retention), the export goes on from the boundary's time and skips the boundary's ids.
local json = require("openai_admin.json")
local errors = require("openai_admin.errors")
local uv = require("luv")
local common = require("openai_admin.jobs.common")
local files = require("openai_admin.jobs.files")

local M = {}
local JOB = "audit_export"
local VERSION = 1

local function load_checkpoint(path)
  local s = files.read(path)
  if s == nil then return nil end
  local c = json.decode(s)
  if type(c) ~= "table" or c.version ~= VERSION then
    common.fail(JOB, "checkpoint " .. path .. " is not an audit export checkpoint (version " .. VERSION .. ")",
      { kind = "invalid_argument", param = "checkpoint" })
  end
  return c
end

local function nn(v) if v == json.null then return nil end return v end

--- Runs the export; returns when the range is done (or, with follow, when stop() says so).
function M.export(client, opts)
  opts = opts or {}
  local now = os.time()
  local since = opts.since ~= nil and common.time(opts.since, JOB, "since", now) or nil
  local till = opts["until"] ~= nil and common.time(opts["until"], JOB, "until", now) or nil
  if since and till and till < since then common.invalid(JOB, "until must not be before since", "until") end
  local page_size = opts.page_size or 100
  if math.type(page_size) ~= "integer" or page_size < 1 or page_size > 100 then
    common.invalid(JOB, "page_size: expected an integer from 1 to 100", "page_size")
  end
  if opts.checkpoint ~= nil and type(opts.checkpoint) ~= "string" then
    common.invalid(JOB, "checkpoint: expected a file path", "checkpoint")
  end
  if opts.output ~= nil and type(opts.output) ~= "string" then common.invalid(JOB, "output: expected a file path",
    "output") end
  local org = client.admin.organization

  -- position
  local ck = opts.checkpoint and load_checkpoint(opts.checkpoint)
  local resumed = ck ~= nil
  if ck then
    -- the range is the one the checkpoint was made for (a relative --since would move)
    since, till = nn(ck.since), nn(ck["until"])
    if (ck.output ~= nil and ck.output ~= json.null) ~= (opts.output ~= nil) then
      common.invalid(JOB, "checkpoint " .. opts.checkpoint .. " was made " .. (opts.output and "without" or "with")
        .. " an output file", "output")
    end
  end
  local pos = {
    cursor = ck and nn(ck.cursor), last_time = ck and nn(ck.last_time), boundary = {}, count = ck and ck.count or 0,
  }
  for _, id in ipairs(ck and ck.boundary_ids or {}) do pos.boundary[id] = true end

  -- output
  local out
  if opts.output then
    out = files.appender(opts.output, ck and ck.output_length or nil)
  else
    local write = opts.write or function(s) io.stdout:write(s) end
    out = { write = write, sync = function() if not opts.write then io.stdout:flush() end end,
      size = function() return nil end, close = function() end }
  end

  local function commit()
    out.sync()
    if not opts.checkpoint then return end
    local ids = {}
    for id in pairs(pos.boundary) do ids[#ids + 1] = id end
    table.sort(ids)
    files.replace(opts.checkpoint, assert(json.encode({
      version = VERSION, since = since or json.null, ["until"] = till or json.null,
      output = opts.output or json.null,
      cursor = pos.cursor or json.null, last_time = pos.last_time or json.null,
      boundary_ids = json.array(ids), output_length = out.size() or json.null, count = pos.count,
    })) .. "\n")
  end

  local function window_params(lo, hi_excl)
    local ea = {}
    if lo then ea.gte = lo end
    if hi_excl then ea.lt = hi_excl elseif till then ea.lte = till end
    local p = { limit = page_size }
    if next(ea) then p.effective_at = ea end
    return p
  end

  -- the oldest page of the range from lo (events at the boundary time may already be written)
  local function oldest_page(lo)
    local top = (till and till + 1) or (os.time() + 86400)
    local wlo, whi = lo or 0, top
    local page = org.audit_logs:list(window_params(wlo, whi))
    if #page.data == 0 then return nil end
    while page.has_more do
      if whi - wlo <= 1 then
        -- more than a page within one second: page to the oldest end of that second
        local last = page
        while last.has_more do
          local p = window_params(wlo, whi)
          p.after = last.data[#last.data].id
          last = org.audit_logs:list(p)
        end
        return last
      end
      local mid = wlo + (whi - wlo) // 2
      local lower = org.audit_logs:list(window_params(wlo, mid))
      if #lower.data > 0 then
        whi, page = mid, lower
      else
        wlo = mid
      end
    end
    return page
  end

  -- the next page toward the present, and whether newer events may follow it (a window page
  -- from oldest_page says nothing about newer events: the walk goes on with before=)
  local function next_page()
    if not pos.cursor then
      local page = oldest_page(pos.last_time or since)
      return page, page ~= nil
    end
    local p = window_params(since, nil)
    p.before = pos.cursor
    local ok, page = pcall(org.audit_logs.list, org.audit_logs, p)
    if ok then return page, page.has_more end
    if errors.is(page, "bad_request") and (page.param == "before" or page.code == "invalid_cursor") then
      -- the cursor's event is gone (retention): go on by time, skipping the boundary's ids
      pos.cursor = nil
      local older = oldest_page(pos.last_time or since)
      return older, older ~= nil
    end
    error(page, 0)
  end

  -- a first run commits the output's length before writing, so a kill before its first page
  -- is committed cuts the output back to what it held before the run
  if opts.checkpoint and not ck then commit() end

  local result = { events = 0, pages = 0, resumed = resumed, done = false }
  local interval = opts.poll_interval or 1
  local max_interval = opts.max_interval or 60
  local ok, err = pcall(function()
    while true do
      local page, more = next_page()
      local wrote = 0
      if page and #page.data > 0 then
        local lines = {}
        for i = #page.data, 1, -1 do
          local ev = page.data[i]
          if not pos.boundary[ev.id] then
            lines[#lines + 1] = assert(json.encode(ev)) .. "\n"
            if ev.effective_at ~= pos.last_time then pos.boundary = {} end
            pos.boundary[ev.id] = true
            pos.last_time = ev.effective_at
            wrote = wrote + 1
          end
        end
        pos.cursor = page.data[1].id
        if #lines > 0 then out.write(table.concat(lines)) end
        pos.count = pos.count + wrote
        result.events = result.events + wrote
        result.pages = result.pages + 1
        commit()
        if opts.on_page then opts.on_page(result) end
      end
      if not more then
        if not opts.follow then
          result.done = true
          return
        end
        if opts.stop and opts.stop() then return end
        if wrote > 0 then interval = opts.poll_interval or 1 else interval = math.min(interval * 2, max_interval) end
        -- in short naps, so an interrupt (Ctrl-C: the CLI exits 130) is seen at once; the
        -- checkpoint is consistent at any point
        local left = math.floor(interval * 1000)
        while left > 0 do
          local nap = math.min(left, 200)
          uv.sleep(nap)
          left = left - nap
        end
      end
    end
  end)
  out.close()
  if not ok then
    if type(err) == "table" then err.exported, err.checkpoint = result.events, opts.checkpoint end
    error(err, 0)
  end
  return result
end

return M
