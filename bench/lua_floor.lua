-- bench/lua_floor.lua: the Lua floor of make bench: what a plain script costs that talks HTTP/1.1
-- over one luasocket keep-alive connection and decodes with lua-cjson, and nothing else (no
-- retries, no checks, no rate budget).
--
--   lua5.4 bench/lua_floor.lua retrieve BASE_URL KEY PATH N      N sequential GETs of PATH
--   lua5.4 bench/lua_floor.lua page     BASE_URL KEY PATH LIMIT  walk a list with after=last_id
--
-- Prints one line: "result requests=R items=I cpu=SECONDS wall=SECONDS" (CPU: os.clock()).
local socket = require "socket"
local cjson = require "cjson"

local mode, base, key, path, n = arg[1], arg[2], arg[3], arg[4], math.tointeger(tonumber(arg[5]))
local host, port, prefix = base:match("^http://([^:/]+):(%d+)(.*)$")
assert(host and n, "usage: lua5.4 bench/lua_floor.lua retrieve|page http://HOST:PORT/v1 KEY PATH N")

local conn = assert(socket.connect(host, tonumber(port)))
conn:setoption("tcp-nodelay", true)
local head = "Host: " .. host .. ":" .. port .. "\r\nAuthorization: Bearer " .. key
  .. "\r\nAccept: application/json\r\n\r\n"

local function get(target)
  assert(conn:send("GET " .. prefix .. target .. " HTTP/1.1\r\n" .. head))
  local status = assert(conn:receive("*l"))
  local code = tonumber(status:match("^HTTP/1%.%d (%d+)"))
  local length, chunked
  while true do
    local line = assert(conn:receive("*l"))
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    name = name and name:lower()
    if name == "content-length" then length = tonumber(value)
    elseif name == "transfer-encoding" and value:lower():find("chunked", 1, true) then chunked = true end
  end
  local body
  if chunked then
    local parts = {}
    while true do
      local size = tonumber(assert(conn:receive("*l")):match("^(%x+)"), 16)
      if size == 0 then
        assert(conn:receive("*l"))
        break
      end
      parts[#parts + 1] = assert(conn:receive(size))
      assert(conn:receive("*l"))
    end
    body = table.concat(parts)
  else
    body = length > 0 and assert(conn:receive(length)) or ""
  end
  assert(code == 200, "status " .. tostring(code))
  return cjson.decode(body)
end

local requests, items = 0, 0
local c0, w0 = os.clock(), socket.gettime()
if mode == "retrieve" then
  for _ = 1, n do
    get(path)
    requests = requests + 1
    items = items + 1
  end
else
  local after
  repeat
    local page = get(path .. "?limit=" .. n .. (after and ("&after=" .. after) or ""))
    requests = requests + 1
    items = items + #page.data
    after = page.last_id
  until not page.has_more or type(after) ~= "string"
end
local cpu, wall = os.clock() - c0, socket.gettime() - w0
conn:close()
print(string.format("result requests=%d items=%d cpu=%.4f wall=%.4f", requests, items, cpu, wall))
