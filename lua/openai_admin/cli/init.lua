-- openai-admin, the command line: one generic command path for every endpoint of the table,
-- plus extension commands (docs/internals.md, "CLI extension commands").
--   require("openai_admin.cli").main(arg) -> exit code
local openai_admin = require "openai_admin"
local api_params = require "openai_admin.params"
local tree = require "openai_admin.tree"
local errors = require "openai_admin.errors"
local json = require "openai_admin.json"
local util = require "openai_admin.util"
local args = require "openai_admin.cli.args"
local help = require "openai_admin.cli.help"
local output = require "openai_admin.cli.output"
local timefmt = require "openai_admin.timefmt"

local M = {}

M.EXIT = { ok = 0, api = 1, usage = 2, not_found = 3, auth = 4, rate_limit = 5, connection = 6, interrupted = 130 }
local EXIT = M.EXIT
local KIND_EXIT = {
  invalid_argument = EXIT.usage, not_found = EXIT.not_found, authentication = EXIT.auth,
  permission_denied = EXIT.auth, rate_limit = EXIT.rate_limit, connection = EXIT.connection,
  timeout = EXIT.connection,
}

-- The exit code for an error object (or any other raised value).
local function interrupted(err)
  -- lua.c's SIGINT hook raises "interrupted!"; the request path may wrap it in an error object
  if type(err) == "string" then return err:find("interrupted!", 1, true) ~= nil end
  return errors.is(err) and type(err.message) == "string" and err.message:find("^interrupted!") ~= nil
end

function M.exit_code(err)
  if interrupted(err) then return EXIT.interrupted end
  if errors.is(err) then return err.exit_code or KIND_EXIT[err.kind] or EXIT.api end
  return EXIT.api
end

local norm, dashed = args.norm, args.dashed
local function usage(message, param, sdk_path)
  error(errors.invalid_argument(message, sdk_path, param), 0)
end

---------------------------------------------------------------------------------------------
-- The terminal
---------------------------------------------------------------------------------------------
local TTY
-- { stdin, stdout, stderr } booleans, found with one `test -t` per descriptor in one shell.
local function tty()
  if TTY then return TTY end
  local forced = os.getenv("OPENAI_ADMIN_CLI_TTY") -- tests: "0"/"1"/"3"... bit 1 stdin, 2 stdout, 4 stderr
  local bits
  if forced and forced:match("^%d$") then
    bits = tonumber(forced)
  else
    local _, _, code = os.execute("r=0; [ -t 0 ] && r=$((r+1)); [ -t 1 ] && r=$((r+2)); "
      .. "[ -t 2 ] && r=$((r+4)); exit $r")
    bits = code or 0
  end
  TTY = { stdin = bits & 1 ~= 0, stdout = bits & 2 ~= 0, stderr = bits & 4 ~= 0 }
  return TTY
end

local function terminal_width()
  local c = tonumber(os.getenv("COLUMNS") or "")
  if c and c > 0 then return math.tointeger(c) end
  if not tty().stdout then return nil end
  local h = io.popen("stty size </dev/tty 2>/dev/null")
  local s = h and h:read("a") or ""
  if h then h:close() end
  local cols = tonumber(s:match("%d+%s+(%d+)"))
  if not cols or cols < 20 then return 80 end -- a terminal that does not know its size
  return math.tointeger(cols)
end

---------------------------------------------------------------------------------------------
-- Global options (before the words; the output ones are also accepted after them)
---------------------------------------------------------------------------------------------
local function positive_int(name, v, allow_zero)
  local n = math.tointeger(tonumber(v))
  if not n or n < (allow_zero and 0 or 1) then
    usage("--" .. name .. ": expected a" .. (allow_zero and " non-negative" or " positive") .. " integer, got "
      .. util.show(v), name)
  end
  return n
end

local function option_table(o)
  local t = {
    base_url = { value = true, set = function(v) o.base_url = v end },
    admin_key_file = { value = true, set = function(v) o.admin_key_file = v end },
    max_retries = { value = true, set = function(v) o.max_retries = positive_int("max-retries", v, true) end },
    timeout = { value = true, set = function(v)
      local n = tonumber(v)
      if not n or n <= 0 then
        usage("--timeout: expected a positive number of seconds, got " .. util.show(v), "timeout")
      end
      o.timeout = n
    end },
    header = { value = true, set = function(v)
      local name, val = v:match("^%s*([^:%s]+)%s*:%s*(.-)%s*$")
      if not name then usage("--header: expected 'Name: value', got " .. util.show(v), "header") end
      o.headers = o.headers or {}
      o.headers[name] = val
    end },
    format = { value = true, set = function(v)
      for _, f in ipairs(output.FORMATS) do if f == v then o.format = v; return end end
      usage("--format: expected one of " .. table.concat(output.FORMATS, ", ") .. ", got " .. util.show(v)
        .. util.did_you_mean(v, output.FORMATS), "format")
    end },
    fields = { value = true, set = function(v)
      local t = {}
      for f in v:gmatch("[^,]+") do
        f = f:match("^%s*(.-)%s*$")
        if f ~= "" then t[#t + 1] = f end
      end
      if #t == 0 then usage("--fields: expected a comma-separated list of fields, got " .. util.show(v), "fields") end
      o.fields = t
    end },
    max_items = { value = true, set = function(v) o.max_items = positive_int("max-items", v, true) end },
    no_paginate = { set = function() o.no_paginate = true end },
    names = { set = function() o.names = true end },
    dry_run = { set = function() o.dry_run = true end },
    yes = { set = function() o.yes = true end },
    fake = { set = function() o.fake = true end },
    help = { set = function() o.help = true end },
    version = { set = function() o.version = true end },
  }
  t.h = t.help
  t.y = t.yes
  t.H = t.header
  return t
end

local function parse_globals(argv, o)
  local opts = option_table(o)
  local names = {}
  for k in pairs(opts) do if #k > 1 then names[#names + 1] = "--" .. dashed(k) end end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a:sub(1, 1) ~= "-" or a == "-" then break end
    if a == "--" then i = i + 1 break end
    local name, inline = a:match("^%-%-([^=]+)=(.*)$")
    name = norm(name or a:gsub("^%-%-?", ""))
    local spec = opts[name]
    if not spec and (name == "admin_key" or name == "api_key" or name == "key") then
      usage("there is no --" .. dashed(name) .. " flag (flags land in shell history and ps): set OPENAI_ADMIN_KEY "
        .. "or use --admin-key-file FILE", name)
    end
    if not spec then usage("unknown global option " .. a .. util.did_you_mean("--" .. dashed(name), names)
      .. " (global options go before the words; see openai-admin --help)", name) end
    if spec.value then
      local v = inline
      if v == nil then
        i = i + 1
        v = argv[i]
        if v == nil then usage(a .. " needs a value", name) end
      end
      spec.set(v)
    else
      spec.set(true)
    end
    i = i + 1
  end
  return i, opts
end

---------------------------------------------------------------------------------------------
-- Extension commands (openai_admin.jobs.cli, when installed)
---------------------------------------------------------------------------------------------
local EXTENSION_MODULES = { "openai_admin.jobs.cli" }

local function load_extensions()
  local list = {}
  for _, mod in ipairs(EXTENSION_MODULES) do
    if package.searchpath(mod, package.path) then
      local entries = require(mod)
      for _, e in ipairs(entries) do
        assert(type(e.words) == "table" and type(e.run) == "function", mod .. ": an entry needs words and run")
        list[#list + 1] = e
      end
    end
  end
  return list
end

-- The longest extension entry whose words start argv[i..].
local function match_extension(list, argv, i)
  local best, best_n
  for _, e in ipairs(list) do
    local ok = true
    for k, w in ipairs(e.words) do
      if not argv[i + k - 1] or norm(argv[i + k - 1]) ~= norm(w) then ok = false break end
    end
    if ok and (not best_n or #e.words > best_n) then best, best_n = e, #e.words end
  end
  return best, best_n
end

---------------------------------------------------------------------------------------------
-- Destructive commands: data-driven from the method, the name and the fields an update changes
---------------------------------------------------------------------------------------------
local DESTRUCTIVE_NAMES = { delete = true, archive = true, deactivate = true, revoke = true, remove = true }
-- fields whose change can take access away (roles, scopes, permissions, allow lists, toggles)
local ACCESS_FIELDS = { role = true, role_id = true, scopes = true, permissions = true, mode = true,
  model_ids = true, enabled = true }

local function touches_access(list)
  for _, p in ipairs(list or {}) do
    if ACCESS_FIELDS[p.name] then return true end
    if p.fields and touches_access(p.fields) then return true end
  end
  return false
end

function M.is_destructive(row)
  if row.method == "DELETE" or DESTRUCTIVE_NAMES[row.name] then return true end
  if row.method == "POST" and row.name:match("^update") and touches_access(row.body) then return true end
  return false
end

---------------------------------------------------------------------------------------------
-- The embedded fake (--fake): bin/openai-admin-fake as a child process for this command
---------------------------------------------------------------------------------------------
local function shquote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function find_fake(arg0)
  local env = os.getenv("OPENAI_ADMIN_FAKE")
  if env and env ~= "" then return env end
  local dir = (arg0 or ""):match("^(.*)/[^/]*$")
  if dir then
    local p = dir .. "/openai-admin-fake"
    local f = io.open(p, "r")
    if f then f:close() return p end
  end
  local h = io.popen("command -v openai-admin-fake 2>/dev/null")
  local p = h and h:read("l")
  if h then h:close() end
  if p and p ~= "" then return p end
  return nil
end

local FAKE_KEY = "sk-admin-fake-cli"

function M.start_fake(arg0)
  local script = find_fake(arg0)
  if not script then
    usage("--fake: cannot find openai-admin-fake (install the openai-admin-fake rock or set OPENAI_ADMIN_FAKE)", "fake")
  end
  -- the fake finds the modules this command found (an install prefix, a LuaRocks tree, the tree)
  local inner = "echo $$; LUA_PATH=" .. shquote(package.path) .. " LUA_CPATH=" .. shquote(package.cpath)
    .. " exec " .. shquote(script) .. " --port 0 --quiet --admin-key " .. FAKE_KEY
  local h = assert(io.popen("exec sh -c " .. shquote(inner), "r"))
  local pid = tonumber(h:read("l") or "")
  local url = h:read("l")
  local fake = { pid = pid, base_url = url, admin_key = FAKE_KEY }
  function fake.stop()
    if not h then return end
    if pid then os.execute("kill -TERM " .. pid .. " 2>/dev/null") end
    h:close()
    h = nil
  end
  if not url or not url:match("^http://") then
    fake.stop()
    error(errors.new { kind = "connection", message = "--fake: the embedded fake did not start (" .. script .. ")" }, 0)
  end
  return fake
end

---------------------------------------------------------------------------------------------
-- Running one command
---------------------------------------------------------------------------------------------
local function read_key(o)
  if o.admin_key_file then
    local f, err = io.open(o.admin_key_file, "r")
    if not f then
      usage("--admin-key-file: cannot read " .. o.admin_key_file .. ": " .. tostring(err), "admin_key_file")
    end
    local key = (f:read("a") or ""):match("^%s*(.-)%s*$")
    f:close()
    if key == "" then usage("--admin-key-file: " .. o.admin_key_file .. " is empty", "admin_key_file") end
    return key
  end
  local key = os.getenv("OPENAI_ADMIN_KEY")
  if key and key ~= "" then return key end
  return nil
end

local function base_url_of(o)
  local url = o.base_url or os.getenv("OPENAI_BASE_URL")
  if url == nil or url == "" then url = "https://api.openai.com/v1" end
  return (url:gsub("/+$", ""))
end

-- The run's state: options, client (made on first use), fake, writer.
local Run = {}
Run.__index = Run

function Run:client()
  if self._client then return self._client end
  local o = self.o
  local key, base_url
  if o.fake then
    self.fake = M.start_fake(self.arg0)
    key, base_url = self.fake.admin_key, self.fake.base_url
  else
    key, base_url = read_key(o), base_url_of(o)
    if not key then
      error(errors.new { kind = "authentication", exit_code = EXIT.auth,
        message = "no admin key: set OPENAI_ADMIN_KEY or use --admin-key-file FILE (or --fake)" }, 0)
    end
  end
  -- On a terminal (and without OPENAI_LOG), the client's waits (rate-budget holds, 429
  -- ride-outs, retries) show on the progress line; warnings and errors get lines of their own.
  local logger, log_level
  local env_log = os.getenv("OPENAI_LOG")
  if tty().stderr and (env_log == nil or env_log == "") then
    log_level = "info"
    logger = function(level, line)
      if level == "info" then
        self:progress("waiting: " .. line)
      else
        if self.progress_shown then self:progress("") end
        io.stderr:write("openai_admin ", level, ": ", line, "\n")
      end
    end
  end
  self._client = openai_admin.new {
    admin_key = key, base_url = base_url, timeout = o.timeout, max_retries = o.max_retries, headers = o.headers,
    logger = logger, log_level = log_level,
  }
  return self._client
end

function Run:close()
  if self._client then self._client:close() end
  if self.fake then self.fake.stop() end
end

-- columns: the command's own column order, used when --fields does not choose one
function Run:writer(list, columns)
  local o = self.o
  local fmt = o.format or (tty().stdout and "table" or (list and "jsonl" or "json"))
  local names
  if o.names and (fmt == "table" or fmt == "csv" or fmt == "tsv") then
    local resolver
    names = function(kind, id, row)
      resolver = resolver or require("openai_admin.cli.names").new(self:client())
      return resolver(kind, id, row)
    end
  end
  return output.new { format = fmt, fields = o.fields or columns, list = list,
    width = fmt == "table" and terminal_width() or nil,
    names = names }
end

function Run:progress(msg)
  if not tty().stderr then return end
  io.stderr:write("\r\27[K", msg)
  io.stderr:flush()
  self.progress_shown = msg ~= ""
end

-- Asks before a destructive command; raises when it may not go ahead.
function Run:confirm(what)
  if self.o.yes then return true end
  local t = tty()
  if not (t.stdin and t.stderr) then
    usage(what .. ": destructive; refusing without --yes when not on a terminal")
  end
  io.stderr:write(what .. ": this is destructive. Go ahead? [y/N] ")
  io.stderr:flush()
  local answer = io.stdin:read("l") or ""
  if not answer:match("^%s*[yY]") then
    usage(what .. ": not confirmed; nothing sent")
  end
  return true
end

local function is_bucket_page(row) return row.pagination == "page_token" end

-- Items of one page as the table-like formats show them: usage and cost buckets become their
-- results, each with the bucket's start_time and end_time.
local function page_rows(row, page, flatten)
  if not (flatten and is_bucket_page(row)) then return page.data end
  local out = {}
  for _, bucket in ipairs(page.data) do
    for _, r in ipairs(bucket.results or {}) do
      local t = { start_time = bucket.start_time, end_time = bucket.end_time }
      for k, v in pairs(r) do t[k] = v end
      out[#out + 1] = t
    end
  end
  return out
end

-- Walks a list call's pages, streaming the items to the writer.
function Run:walk(row, page, w)
  local o = self.o
  local flatten = w.format ~= "json" and w.format ~= "jsonl"
  local n, pages = 0, 0
  local cap = o.max_items
  local done = cap == 0
  while page and not done do
    pages = pages + 1
    for _, item in ipairs(page_rows(row, page, flatten)) do
      w:item(item)
      n = n + 1
      if cap and n >= cap then done = true break end
    end
    w:page_done()
    if o.no_paginate or done then break end
    if page:has_next_page() then self:progress(("%d items, %d pages..."):format(n, pages)) end
    page = page:next_page()
    if self.progress_shown then self:progress("") end -- the rows go where the progress line was
  end
  if self.progress_shown then self:progress("") end
  w:finish()
end

-- The request an endpoint call would send, built by the library's own stages (validate:
-- params.compile(row).prepare, encode: request/encode.lua), as request/pipeline.lua's call and
-- walk do, stopping before send.
local COMPILED = {}
function M.build_request(row, base_url, path_values, params)
  local encode = require "openai_admin.request.encode"
  local c = COMPILED[row]
  if not c then c = api_params.compile(row); COMPILED[row] = c end
  local a = {}
  for i, v in ipairs(path_values) do a[i] = v end
  a[#row.path_params + 1] = params
  local plan = c.prepare(require("openai_admin.options").DEFAULT_MAX_REQUEST_BYTES,
    table.unpack(a, 1, #row.path_params + 1))
  local query, after, before = encode.query(c, plan)
  local url
  if row.pagination then
    url = encode.url(plan.path, query, before and c.before_name or c.cursor_name, before or after)
  else
    url = encode.url(plan.path, query)
  end
  local req = encode.request(c, plan, url, encode.body(c, plan))
  return { method = req.method, path = req.path, url = base_url .. req.path, body = req.body }
end

function Run:endpoint(cmd, parsed)
  local row, o = cmd.row, self.o
  local ok, req = pcall(M.build_request, row, base_url_of(o), parsed.positional, parsed.params)
  if not ok then
    if errors.is(req, "invalid_argument") then error(args.flag_error(cmd, req), 0) end
    error(req, 0)
  end
  if o.dry_run then
    if o.format == "json" or o.format == "jsonl" then -- for scripts: one JSON object
      local body = req.body and json.decode(req.body) or nil
      io.stdout:write(output.encode(setmetatable({ keys = { "method", "url", body and "body" or nil },
        vals = { method = req.method, url = req.url, body = body } }, output.Ordered), o.format == "json" and 2 or nil),
        "\n")
      return EXIT.ok
    end
    io.stdout:write(req.method, " ", req.url, "\n")
    if req.body then io.stdout:write(req.body, "\n") end
    local walks = row.pagination and row.pagination ~= "single_page" and not o.no_paginate
    if walks and tty().stderr then
      io.stderr:write("openai-admin: (dry run) a list: the following pages would be requested as the walk goes\n")
    end
    return EXIT.ok
  end
  if cmd.destructive then self:confirm(cmd.title .. " (" .. req.method .. " " .. req.path .. ")") end
  local client = self:client()
  local node = client
  for part in row.resource:gmatch("[^.]+") do node = node[part] end
  local a = {}
  for i, v in ipairs(parsed.positional) do a[i] = v end
  a[#row.path_params + 1] = parsed.params
  local result = node[row.name](node, table.unpack(a, 1, #row.path_params + 1))
  if row.pagination then
    self:walk(row, result, self:writer(true))
  else
    local w = self:writer(false)
    w:object(result)
    w:finish()
  end
  return EXIT.ok
end

---------------------------------------------------------------------------------------------
-- Extension context (docs/internals.md, "CLI extension commands")
---------------------------------------------------------------------------------------------
function Run:context(cmd)
  local run = self
  local o = self.o
  local ctx = {
    dry_run = o.dry_run == true, yes = o.yes == true, format = o.format, fields = o.fields,
    max_items = o.max_items, names = o.names == true, no_paginate = o.no_paginate == true,
    title = cmd.title, EXIT = EXIT, errors = errors, json = json, tty = tty(),
    stdout = io.stdout, stderr = io.stderr,
  }
  function ctx.writer(list, columns) return run:writer(list ~= false, columns) end
  function ctx.print_object(obj, columns)
    local w = run:writer(false, columns)
    w:object(obj)
    w:finish()
  end
  -- items: a Page (walked page by page), an array, or an iterator function
  function ctx.print_list(items, columns)
    local w = run:writer(true, columns)
    if openai_admin.is_page(items) then
      local row = items._chain and items._chain.c and items._chain.c.row or {}
      return run:walk(row, items, w)
    end
    local n = 0
    local function emit(x)
      if o.max_items and n >= o.max_items then return false end
      w:item(x)
      n = n + 1
      return true
    end
    if type(items) == "function" then
      for x in items do if not emit(x) then break end end
    else
      for _, x in ipairs(items) do if not emit(x) then break end end
    end
    w:finish()
  end
  function ctx.parse_time(s, flag)
    local t, why = timefmt.parse(s)
    if not t then
      usage(cmd.title .. ": " .. (flag and ("--" .. dashed(flag) .. ": ") or "") .. "expected " .. timefmt.ACCEPTED
        .. ", got " .. util.show(s) .. (why ~= timefmt.ACCEPTED and (" (" .. why .. ")") or ""), flag)
    end
    return t
  end
  ctx.iso_time = timefmt.iso
  function ctx.confirm(what) return run:confirm(what or cmd.title) end
  function ctx.progress(msg) run:progress(msg or "") end
  function ctx.usage_error(msg, flag) usage(cmd.title .. ": " .. msg, flag) end
  function ctx.warn(msg) io.stderr:write("openai-admin: ", msg, "\n") end
  function ctx.build_request(sdk_path, path_values, params)
    return M.build_request(assert(tree.find(sdk_path), sdk_path), base_url_of(o), path_values or {}, params)
  end
  return setmetatable(ctx, { __index = function(_, k)
    if k == "client" then return run:client() end
  end })
end

-- Checks the values of an extension command's flags with the library's own validators.
local function check_extension(cmd, parsed)
  local p = parsed.params or {}
  for _, f in ipairs(cmd.fields or {}) do
    local v = p[f.name]
    if v == nil and f.default ~= nil then p[f.name] = f.default; v = f.default end
    if v == nil then
      if f.required then usage(cmd.title .. ": missing --" .. dashed(f.name), f.name) end
    else
      local msg, sub = api_params.compile_validator(f)(v)
      if msg then usage(cmd.title .. ": --" .. dashed(f.name .. (sub or "")) .. ": " .. msg, f.name) end
    end
  end
  for k, pn in ipairs(cmd.positionals or {}) do p[pn] = parsed.positional[k] end
  return p
end

---------------------------------------------------------------------------------------------
-- main
---------------------------------------------------------------------------------------------
local function out(s) io.stdout:write(s) end

local function org_spec() return tree.root().children.admin.children.organization end

-- Completion candidates for the words typed so far (the last one partial).
local function complete(words, extensions)
  local cur = words[#words] or ""
  local done = {}
  for i = 1, #words - 1 do done[i] = words[i] end
  local cands = {}
  local i = 1
  local o = {}
  local ok_globals, gi = pcall(parse_globals, done, o)
  if ok_globals then i = gi end
  local spec = org_spec()
  local row
  local ext = match_extension(extensions, done, i)
  local cmd
  if ext then
    cmd = { fields = ext.flags or {}, positionals = ext.positionals or {} }
  else
    while i <= #done and done[i]:sub(1, 1) ~= "-" do
      local w = norm(done[i])
      if spec.children[w] then spec = spec.children[w]
      elseif spec.methods[w] then row = spec.methods[w]; i = i + 1; break
      else break end
      i = i + 1
    end
    if row then cmd = { fields = row.method == "POST" and row.body or row.query, positionals = row.path_params } end
  end
  local prev = done[#done]
  if prev == "--format" then
    for _, f in ipairs(output.FORMATS) do cands[#cands + 1] = f end
  elseif prev == "completion" and #done == i then
    cands = { "bash", "zsh", "fish" }
  elseif cmd then
    local flags = args.flags_of(cmd)
    local pf = prev and prev:match("^%-%-(.+)$")
    local f = pf and flags[norm(pf)]
    if f and f.spec.enum then
      for _, e in ipairs(f.spec.enum) do cands[#cands + 1] = e end
    elseif f and f.spec.type == "boolean" then
      cands = { "true", "false" }
    else
      for k in pairs(flags) do cands[#cands + 1] = "--" .. dashed(k) end
      for _, pn in ipairs(cmd.positionals) do cands[#cands + 1] = "--" .. dashed(pn) end
      cands[#cands + 1] = "--params"
      cands[#cands + 1] = "--help"
    end
  else
    for k in pairs(spec.children) do cands[#cands + 1] = dashed(k) end
    for k in pairs(spec.methods) do cands[#cands + 1] = dashed(k) end
    if spec == org_spec() then
      cands[#cands + 1] = "completion"
      for _, e in ipairs(extensions) do
        local ok = true
        for k = 1, #done - i + 1 do if e.words[k] ~= done[i + k - 1] then ok = false end end
        if ok and e.words[#done - i + 2] then cands[#cands + 1] = e.words[#done - i + 2] end
      end
    end
    if cur:sub(1, 1) == "-" then
      for k in pairs(option_table({})) do if #k > 1 then cands[#cands + 1] = "--" .. dashed(k) end end
    end
  end
  table.sort(cands)
  local seen = {}
  for _, c in ipairs(cands) do
    if not seen[c] and c:sub(1, #cur) == cur then seen[c] = true; out(c .. "\n") end
  end
  return EXIT.ok
end

local function wants_help(argv, i)
  for k = i, #argv do
    if argv[k] == "--" then return false end
    if argv[k] == "--help" or argv[k] == "-h" then return true end
  end
  return false
end

local function run_main(argv, arg0, state)
  local o = {}
  local run = setmetatable({ o = o, arg0 = arg0 }, Run)
  state.run = run
  local i = parse_globals(argv, o)
  if o.version then
    out("openai-admin " .. openai_admin.version .. "\n")
    return EXIT.ok
  end
  local word = argv[i]
  local extensions = load_extensions()
  if word == "__complete" then
    local rest = {}
    for k = i + 1, #argv do rest[#rest + 1] = argv[k] end
    return complete(rest, extensions)
  end
  if word == "completion" then
    local shell = argv[i + 1]
    local script = help.SCRIPTS[shell or ""]
    if not script then
      usage("completion: expected bash, zsh or fish, got " .. util.show(shell), "completion")
    end
    out(script)
    return EXIT.ok
  end
  if word == "help" then
    o.help = true
    i = i + 1
    word = argv[i]
  end
  if word == nil then
    if o.help then out(help.top(org_spec(), extensions)) return EXIT.ok end
    io.stderr:write(help.top(org_spec(), extensions))
    usage("missing a command (see above)")
  end

  local ext, n = match_extension(extensions, argv, i)
  if ext then
    local cmd = {
      title = table.concat(ext.words, " "), words = table.concat(ext.words, " "), summary = ext.summary,
      fields = ext.flags or {}, positionals = ext.positionals or {}, destructive = ext.destructive,
    }
    if o.help or wants_help(argv, i + n) then out(help.command(cmd)) return EXIT.ok end
    local parsed = args.parse(cmd, argv, i + n, option_table(o))
    local a = check_extension(cmd, parsed)
    local code = ext.run(run:context(cmd), a)
    return math.tointeger(code) or EXIT.ok
  end

  -- the first words of extension commands, not a whole one (`openai-admin report`): list those
  do
    local given = {}
    while argv[i + #given] and argv[i + #given]:sub(1, 1) ~= "-" do given[#given + 1] = norm(argv[i + #given]) end
    local lines = {}
    for _, e in ipairs(extensions) do
      local ok = #given > 0 and #e.words > #given
      for k = 1, #given do if ok and norm(e.words[k]) ~= given[k] then ok = false end end
      if ok then lines[#lines + 1] = "  " .. table.concat(e.words, " ") .. "    " .. (e.summary or "") end
    end
    if #lines > 0 and not org_spec().children[given[1]] then
      local text = "commands under '" .. table.concat(given, " ") .. "':\n" .. table.concat(lines, "\n") .. "\n"
      if o.help or wants_help(argv, i + #given) then out(text) return EXIT.ok end
      io.stderr:write(text)
      usage("'" .. table.concat(given, " ") .. "' needs one more word (see above)", given[#given])
    end
  end

  local spec = org_spec()
  local words = {}
  local row
  while argv[i] and argv[i]:sub(1, 1) ~= "-" do
    local w = norm(argv[i])
    words[#words + 1] = dashed(w)
    if spec.children[w] then
      spec = spec.children[w]
    elseif spec.methods[w] then
      row = spec.methods[w]
      i = i + 1
      break
    else
      local names = {}
      for k in pairs(spec.children) do names[#names + 1] = k end
      for k in pairs(spec.methods) do names[#names + 1] = k end
      if spec == org_spec() then
        names[#names + 1] = "completion"
        for _, e in ipairs(extensions) do names[#names + 1] = norm(e.words[1]) end
      end
      local close = util.closest(w, names)
      table.remove(words)
      local where = #words > 0 and ("'" .. table.concat(words, " ") .. "'") or "openai-admin"
      usage("no command '" .. dashed(w) .. "' in " .. where
        .. (close and ("; did you mean '" .. dashed(close) .. "'?") or "")
        .. " (see openai-admin " .. table.concat(words, " ") .. (#words > 0 and " " or "") .. "--help)", w)
    end
    i = i + 1
  end
  local title = table.concat(words, " ")
  if not row then
    local rest = {}
    for k = i, #argv do rest[#rest + 1] = argv[k] end
    -- options after a resource word (e.g. `projects --help`)
    args.parse({ title = title, positionals = {}, fields = {} }, rest, 1, option_table(o))
    if o.help then out(help.node(spec, title)) return EXIT.ok end
    io.stderr:write(help.node(spec, title))
    usage(title .. ": missing a command (see above)")
  end
  local fields = {}
  for _, p in ipairs(row.query) do fields[#fields + 1] = p end
  for _, p in ipairs(row.body) do fields[#fields + 1] = p end
  local cmd = { title = title, words = title, sdk_path = row.sdk_path, positionals = row.path_params, fields = fields,
    row = row, summary = row.summary, destructive = M.is_destructive(row) }
  if o.help or wants_help(argv, i) then out(help.command(cmd)) return EXIT.ok end
  return run:endpoint(cmd, args.parse(cmd, argv, i, option_table(o)))
end

local function error_json(err)
  local t = {}
  for _, k in ipairs { "kind", "status", "type", "code", "param", "message", "request_id", "method", "path",
    "attempts", "waited", "sdk_path" } do
    local v = err[k]
    if v ~= nil then t[k] = type(v) == "string" and errors.scrub(v) or v end
  end
  return json.encode({ error = t })
end

-- Runs the command line; returns the exit code. Errors are one line on stderr.
function M.main(argv, arg0)
  local state = {}
  local ok, code = xpcall(run_main, function(e)
    if errors.is(e) or interrupted(e) then return e end
    return debug.traceback(tostring(e), 2)
  end, argv, arg0, state)
  local run = state.run
  if run then
    local cok, cerr = pcall(run.close, run)
    if not cok and ok then ok, code = false, cerr end
  end
  if ok then return code end
  local err = code
  if run and run.progress_shown then run:progress("") end
  if interrupted(err) then
    io.stderr:write("openai-admin: interrupted\n")
  elseif errors.is(err) then
    if run and run.o.format == "json" then
      io.stderr:write(error_json(err), "\n")
    else
      io.stderr:write(tostring(err), "\n")
    end
  else
    io.stderr:write("openai-admin: internal error: ", errors.scrub(tostring(err)), "\n")
  end
  io.stderr:flush()
  return M.exit_code(err)
end

return M
