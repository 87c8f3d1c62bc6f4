-- Small helpers shared by the Lua layer: "did you mean" suggestions and percent-encoding.
local M = {}

local byte, min = string.byte, math.min

-- Levenshtein distance between two strings (bytes), two rows only.
function M.levenshtein(a, b)
  if a == b then return 0 end
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = byte(a, i)
    for j = 1, lb do
      local cost = (ca == byte(b, j)) and 0 or 1
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[lb]
end

-- The closest name in `names` (a sequence, or a set when is_set) to `word`, or nil when nothing is
-- reasonably close (distance at most max(2, #word // 3), or one contains the other).
function M.closest(word, names, is_set)
  if type(word) ~= "string" then return nil end
  local best, best_d
  local function consider(name)
    if type(name) ~= "string" then return end
    local d = M.levenshtein(word, name)
    if (word:find(name, 1, true) or name:find(word, 1, true)) and d > 0 then
      d = math.min(d, 2)
    end
    if not best_d or d < best_d or (d == best_d and name < best) then best, best_d = name, d end
  end
  if is_set then
    for name in pairs(names) do consider(name) end
  else
    for _, name in ipairs(names) do consider(name) end
  end
  if best and best_d <= math.max(2, #word // 3) then return best end
  return nil
end

-- "; did you mean 'x'?" or "" when there is no close name.
function M.did_you_mean(word, names, is_set)
  local c = M.closest(word, names, is_set)
  if c then return "; did you mean '" .. c .. "'?" end
  return ""
end

-- Sorted copy of the keys of a set.
function M.sorted_keys(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return t
end

-- Percent-encoding: unreserved A-Za-z0-9-._~ kept, every other byte as %XX (space is %20).
local ESC = {}
for i = 0, 255 do ESC[string.char(i)] = string.format("%%%02X", i) end
local gsub = string.gsub
function M.pct(s)
  return (gsub(s, "[^A-Za-z0-9%-%._~]", ESC))
end

-- A short, printable rendering of a value for error messages (strings quoted and cut).
function M.show(v)
  local tv = type(v)
  if tv == "string" then
    if #v > 40 then v = v:sub(1, 37) .. "..." end
    return string.format("%q", v):gsub("\\\n", "\\n")
  elseif tv == "table" then
    return "a table"
  elseif tv == "nil" then
    return "nil"
  end
  return tv .. " " .. tostring(v)
end

return M
