--[[ tests/helpers/cli.lua -- run bin/openai-admin as a process.

  local cli = require("helpers.cli")
  local r = cli.run({ "--format", "json", "projects", "list" },
                    { env = { OPENAI_ADMIN_KEY = "k" }, stdin = "text", bin = "/path/to/openai-admin",
                      prefix = "script -qec" })
  r.code, r.stdout, r.stderr
  cli.command(args, opts) -> the shell command line it would run
]]
local M = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "tests/helpers")
local fake = require "helpers.fake"
M.root = fake.root
M.bin = fake.root .. "/bin/openai-admin"
local shquote = fake.shquote
M.shquote = shquote
local _ = HERE

local function slurp(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.slurp = slurp

function M.command(argv, o)
  o = o or {}
  local parts = {}
  for i, a in ipairs(argv) do parts[i] = shquote(a) end
  local env = { "env" }
  for _, k in ipairs(o.unset or { "OPENAI_ADMIN_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID" }) do
    env[#env + 1] = "-u " .. k
  end
  for k, v in pairs(o.env or {}) do env[#env + 1] = k .. "=" .. shquote(v) end
  return table.concat(env, " ") .. " " .. shquote(o.bin or M.bin) .. " " .. table.concat(parts, " ")
end

function M.run(argv, o)
  o = o or {}
  local out, err = os.tmpname(), os.tmpname()
  local input = "/dev/null"
  if o.stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "w"))
    f:write(o.stdin)
    f:close()
  end
  local cmd = M.command(argv, o)
  local ok, how, code = os.execute(("(cd %s && %s) <%s >%s 2>%s"):format(shquote(o.cwd or "/tmp"), cmd,
    shquote(input), shquote(out), shquote(err)))
  local r = { stdout = slurp(out), stderr = slurp(err), code = code, ok = ok, how = how, cmd = cmd }
  os.remove(out); os.remove(err)
  if o.stdin then os.remove(input) end
  return r
end

-- Each line of JSON Lines output decoded.
function M.jsonl(s)
  local t = {}
  for line in s:gmatch("[^\n]+") do t[#t + 1] = assert(fake.json_decode(line), line) end
  return t
end

return M
