--- What the jobs share: argument errors, times (dates, relative times, UTC ISO output), exact
--- decimal amounts, flat-row output (CSV, JSON Lines, table), batches that raise the first error,
--- and the dry-run / confirmation rule every write follows.
local errors = require("openai_admin.errors")
local json = require("openai_admin.json")
local timefmt = require("openai_admin.timefmt")

local M = {}

local null = json.null

--- Raises an invalid_argument error naming the job and the culprit.
function M.invalid(job, message, param)
  error(errors.invalid_argument(job .. ": " .. message, "jobs." .. job, param), 0)
end

--- Raises a job-level error (kind "job": the API calls succeeded but the job cannot go on, e.g.
--- offboarding would leave a project without an owner). Extra fields go on the error object.
function M.fail(job, message, fields)
  local f = fields or {}
  f.kind, f.message, f.sdk_path = f.kind or "job", job .. ": " .. message, "jobs." .. job
  error(errors.new(f), 0)
end

-- times --------------------------------------------------------------------------------------

--- A time argument as Unix seconds: a number, or any time the CLI accepts (openai_admin.timefmt:
--- "now", "7d" or "-24h" before now, "+2h" after, "2025-01-31", "2025-01-31T12:00:00Z", with an
--- optional "+02:00" offset). Raises invalid_argument naming `param` otherwise.
function M.time(v, job, param, now)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then M.invalid(job, param .. ": not a finite time", param) end
    return math.floor(v)
  end
  if type(v) ~= "string" then M.invalid(job, param .. ": expected a time, got " .. type(v), param) end
  local t, why = timefmt.parse(v:match("^%s*(.-)%s*$"), now)
  if not t then
    M.invalid(job, param .. ": expected " .. timefmt.ACCEPTED .. ", got '" .. v .. "'"
      .. (why ~= timefmt.ACCEPTED and (" (" .. why .. ")") or ""), param)
  end
  return t
end

--- UTC ISO 8601 of Unix seconds; "" for nil or null (never 1970).
function M.iso(t)
  if t == nil or t == null then return "" end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- exact decimals -------------------------------------------------------------------------------

-- "1.5e-05" -> "0.000015", "1e+20" -> "100000000000000000000"
local function plain(s)
  local sign, mant, exp = s:match("^(%-?)([%d%.]+)[eE]([%+%-]?%d+)$")
  if not sign then return s end
  local ip, fp = mant:match("^(%d*)%.?(%d*)$")
  local digits, point = ip .. fp, #ip + tonumber(exp)
  if point <= 0 then
    digits = string.rep("0", 1 - point) .. digits
    point = 1
  elseif point > #digits then
    digits = digits .. string.rep("0", point - #digits)
  end
  local out = digits:sub(1, point)
  local frac = digits:sub(point + 1):gsub("0+$", "")
  out = out:gsub("^0+(%d)", "%1")
  return sign .. out .. (frac ~= "" and ("." .. frac) or "")
end

--- The decimal text of a number exactly as the JSON decoder gave it: integers as they are, floats
--- in the shortest form that reads back to the same double (what the API sent, for any amount of
--- up to 15 significant digits).
function M.decimal(v)
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "string" and v:match("^%-?%d+%.?%d*$") then return v end
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
    error(errors.new({ kind = "decode", message = "not a finite amount: " .. tostring(v) }), 0)
  end
  for p = 1, 17 do
    local s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then return plain(s) end
  end
  return plain(string.format("%.17g", v))
end

local function parse_dec(s)
  local neg, ip, fp = s:match("^(%-?)(%d*)%.?(%d*)$")
  if not neg then error("not a decimal: " .. tostring(s)) end
  return neg == "-", ip, fp
end

-- |a| >= |b| for digit strings of the same length
local function ge(a, b) return a >= b end

local function add_digits(a, b)
  local out, carry = {}, 0
  for i = #a, 1, -1 do
    local d = a:byte(i) - 48 + b:byte(i) - 48 + carry
    out[i] = d % 10
    carry = d // 10
  end
  local s = table.concat(out)
  return carry > 0 and (tostring(carry) .. s) or s
end

local function sub_digits(a, b) -- a >= b
  local out, borrow = {}, 0
  for i = #a, 1, -1 do
    local d = a:byte(i) - b:byte(i) - borrow
    if d < 0 then d, borrow = d + 10, 1 else borrow = 0 end
    out[i] = d
  end
  return table.concat(out)
end

--- Exact sum of two decimal strings ("12.34" + "-0.005" = "12.335"), no float anywhere.
function M.dec_add(a, b)
  local an, ai, af = parse_dec(a)
  local bn, bi, bf = parse_dec(b)
  local scale = math.max(#af, #bf)
  af, bf = af .. string.rep("0", scale - #af), bf .. string.rep("0", scale - #bf)
  local x, y = ai .. af, bi .. bf
  local width = math.max(#x, #y)
  x, y = string.rep("0", width - #x) .. x, string.rep("0", width - #y) .. y
  local neg, digits
  if an == bn then
    neg, digits = an, add_digits(x, y)
  elseif ge(x, y) then
    neg, digits = an, sub_digits(x, y)
  else
    neg, digits = bn, sub_digits(y, x)
  end
  local ip = digits:sub(1, #digits - scale):gsub("^0+", "")
  local fp = digits:sub(#digits - scale + 1):gsub("0+$", "")
  if ip == "" then ip = "0" end
  if ip == "0" and fp == "" then neg = false end
  return (neg and "-" or "") .. ip .. (fp ~= "" and ("." .. fp) or "")
end

-- output -----------------------------------------------------------------------------------------

local function cell(v)
  if v == nil or v == null then return "" end
  if type(v) == "boolean" then return v and "true" or "false" end
  return tostring(v)
end
M.cell = cell

local function csv_field(v)
  local s = cell(v)
  if s:find('[,"\r\n]') or s:match("^%s") or s:match("%s$") then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- Writes rows as `format` ("csv", "jsonl" or "table") through write(s). columns: the field
--- names in order. JSON Lines keep each row's values as they are (null for absent).
function M.write_rows(rows, columns, format, write)
  if format == "csv" then
    local head = {}
    for i, c in ipairs(columns) do head[i] = csv_field(c) end
    write(table.concat(head, ",") .. "\r\n")
    for _, r in ipairs(rows) do
      local t = {}
      for i, c in ipairs(columns) do t[i] = csv_field(r[c]) end
      write(table.concat(t, ",") .. "\r\n")
    end
  elseif format == "jsonl" then
    for _, r in ipairs(rows) do
      local o = {}
      for _, c in ipairs(columns) do
        local v = r[c]
        if v == nil then v = null end
        o[c] = v
      end
      write(assert(json.encode(o)) .. "\n")
    end
  elseif format == "table" then
    local width = {}
    for i, c in ipairs(columns) do width[i] = #c end
    for _, r in ipairs(rows) do
      for i, c in ipairs(columns) do width[i] = math.max(width[i], #cell(r[c])) end
    end
    local function line(get)
      local t = {}
      for i, c in ipairs(columns) do
        local s = get(c)
        t[i] = i == #columns and s or (s .. string.rep(" ", width[i] - #s))
      end
      write((table.concat(t, "  "):gsub("%s+$", "")) .. "\n")
    end
    line(function(c) return c end)
    for _, r in ipairs(rows) do line(function(c) return cell(r[c]) end) end
  else
    error(errors.invalid_argument("format: expected csv, jsonl or table, got " .. tostring(format), "jobs",
      "format"), 0)
  end
end

--- The same as write_rows, into a string.
function M.render_rows(rows, columns, format)
  local out = {}
  M.write_rows(rows, columns, format, function(s) out[#out + 1] = s end)
  return table.concat(out)
end

-- batches ----------------------------------------------------------------------------------------

--- client:map that raises the first item's error (nothing partial is presented as whole), under
--- both conventions of client:map (errors returned per item, or the first one raised).
function M.map(client, list, fn, opts)
  local results, errs, nfailed = client:map(list, fn, opts or { concurrency = 8 })
  if type(nfailed) == "number" and nfailed > 0 then
    for i = 1, #list do
      if errs[i] ~= nil then error(errs[i], 0) end
    end
  end
  return results
end

--- client:parallel that raises the first error, under both conventions.
function M.parallel(client, fns, opts)
  local results, errs, nfailed = client:parallel(fns, opts)
  if type(nfailed) == "number" and nfailed > 0 then
    for i = 1, #fns do
      if errs[i] ~= nil then error(errs[i], 0) end
    end
  end
  return results
end

--- Every item of every page of a list call.
function M.all(page)
  return page:collect()
end

-- writes --------------------------------------------------------------------------------------

--- The rule every write of a job follows (the CLI's): build the plan; with dry_run, return it
--- and change nothing; otherwise go on only when confirm(plan) returns true (a confirm given as
--- `true` means the caller already confirmed, e.g. --yes). Returns true to go on.
function M.confirmed(job, plan, opts)
  if opts.dry_run then return false end
  local c = opts.confirm
  if c == true then return true end
  if type(c) == "function" then return c(plan) == true end
  M.invalid(job, "a write needs confirm = true or a confirm(plan) function (or dry_run = true)", "confirm")
end

return M
