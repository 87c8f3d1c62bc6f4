-- Times as admins write them: ISO 8601 dates and relative times in, UTC ISO text out (the CLI and
-- the jobs share it).
--   parse("2026-11-01")          -> Unix seconds of 2026-11-01T00:00:00Z
--   parse("2026-11-01T12:00Z"), parse("2026-11-01 12:00:30+02:00")
--   parse("30d"), parse("12h"), parse("15m"), parse("90s"), parse("2w")  -> that long ago
--   parse("+2h") -> that long from now; parse("now"); parse("1730419200") -> as is
-- Returns seconds (integer), or nil and a message saying what is accepted.
local M = {}

local UNIT = { s = 1, m = 60, h = 3600, d = 86400, w = 7 * 86400 }

-- Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm), so no
-- dependence on the local time zone that os.time would bring in.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function days_in_month(y, m)
  local dim = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if m == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then return 29 end
  return dim[m]
end

M.ACCEPTED = "a Unix time, an ISO date (2026-11-01, 2026-11-01T12:00Z) or a relative time (30d, 12h, +2h, now)"

function M.parse(s, now)
  now = now or os.time()
  if type(s) ~= "string" then return nil, M.ACCEPTED end
  if s == "now" then return now end
  if s:match("^%d+$") then return math.tointeger(tonumber(s)) end
  local sign, n, unit = s:match("^([+-]?)(%d+)([smhdw])$")
  if n then
    local delta = math.tointeger(tonumber(n)) * UNIT[unit]
    return sign == "+" and now + delta or now - delta
  end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil, M.ACCEPTED end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > days_in_month(y, mo) then return nil, "no such date" end
  local secs = 0
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil, M.ACCEPTED end
    local ss = 0
    local sec, tail2 = tail:match("^:(%d%d)(.*)$")
    if sec then ss, tail = tonumber(sec), tail2 end
    tail = tail:gsub("^%.%d+", "") -- fractions of a second: the API counts whole seconds
    hh, mm = tonumber(hh), tonumber(mm)
    if hh > 23 or mm > 59 or ss > 60 then return nil, "no such time of day" end
    secs = hh * 3600 + mm * 60 + ss
    -- "Z" or no zone: UTC (a time without a zone is taken as UTC, like the dates)
    if tail ~= "Z" and tail ~= "z" and tail ~= "" then
      local zs, zh, zm = tail:match("^([+-])(%d%d):?(%d%d)$")
      if not zs then return nil, M.ACCEPTED end
      local off = tonumber(zh) * 3600 + tonumber(zm) * 60
      secs = secs - (zs == "+" and off or -off)
    end
  end
  return days_from_civil(y, mo, d) * 86400 + secs
end

-- 1730419200 -> "2024-11-01T00:00:00Z"
function M.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

-- A field holding a time, judged from its name and description in the endpoint table (or, for
-- output, from its name): *_time, *_at, "Unix" in the description (its own or its parent's).
function M.is_time_field(name, description, parent_description)
  local leaf = name:match("([^.]+)$")
  if leaf:match("_time$") or leaf:match("_at$") then return true end
  local d = (description or "") .. " " .. (parent_description or "")
  return d:find("Unix", 1, true) ~= nil
end

-- Output side: a value under this key that reads as a time (an integer number of seconds in a
-- plausible range), for tables.
function M.looks_like_time(key, v)
  if math.type(v) ~= "integer" or v < 100000000 or v > 32503680000 then return false end
  local leaf = key:match("([^.]+)$") or key
  return leaf:match("_at$") ~= nil or leaf:match("_time$") ~= nil or leaf == "created" or leaf == "expires"
end

return M
