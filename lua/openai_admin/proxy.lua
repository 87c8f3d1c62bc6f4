-- openai_admin.proxy: which proxy a client's requests go through, as libcurl decides it, so
-- that a connection error can name it (without credentials).
--   proxy.for_url(base_url, { proxy =, no_proxy = }, getenv) -> "http://host:port" | nil
-- The `proxy` option wins; else the scheme's environment variable: http_proxy for http:// (libcurl
-- reads only the lowercase name for http), https_proxy or HTTPS_PROXY for https://; else
-- all_proxy / ALL_PROXY. The `no_proxy` option, else no_proxy / NO_PROXY, lists hosts reached
-- directly: "*", a host name (also matching its subdomains, with or without a leading dot) or
-- an address, comma separated.
local M = {}

local function host_of(url)
  local rest = url:match("^%a[%w+.-]*://(.*)$") or url
  rest = rest:match("^[^/?#]*") or rest
  rest = rest:gsub("^.*@", "")
  local h = rest:match("^%[([^%]]+)%]") or rest:match("^([^:]*)")
  return (h or rest):lower()
end
M.host_of = host_of

-- A proxy URL as shown: scheme, host and port only (credentials dropped).
function M.label(p)
  if type(p) ~= "string" or p == "" then return nil end
  local scheme = p:match("^(%a[%w+.-]*)://") or "http"
  local rest = p:match("^%a[%w+.-]*://(.*)$") or p
  rest = (rest:match("^[^/?#]*") or rest):gsub("^.*@", "")
  return scheme:lower() .. "://" .. rest
end

local function bypassed(host, list)
  if type(list) ~= "string" then return false end
  for entry in list:gmatch("[^,%s]+") do
    entry = entry:lower():gsub("^%.", "")
    if entry == "*" or entry == host then return true end
    if #host > #entry and host:sub(-#entry - 1) == "." .. entry then return true end
  end
  return false
end

function M.for_url(base_url, o, getenv)
  getenv = getenv or os.getenv
  local function env(name)
    local v = getenv(name)
    if v == "" then return nil end
    return v
  end
  local p = o and o.proxy
  if p == nil then
    local https = base_url:match("^[Hh][Tt][Tt][Pp][Ss]:") ~= nil
    if https then p = env("https_proxy") or env("HTTPS_PROXY") else p = env("http_proxy") end
    p = p or env("all_proxy") or env("ALL_PROXY")
  end
  if not p or p == "" then return nil end
  local np = o and o.no_proxy
  if np == nil then np = env("no_proxy") or env("NO_PROXY") end
  if bypassed(host_of(base_url), np) then return nil end
  return M.label(p)
end

return M
