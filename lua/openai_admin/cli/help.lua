-- Help texts and shell completion of the command line, all from the endpoint table.
local args = require "openai_admin.cli.args"
local timefmt = require "openai_admin.timefmt"

local M = {}
local dashed = args.dashed

M.GLOBAL = {
  { "--base-url URL", "API base URL (default $OPENAI_BASE_URL or https://api.openai.com/v1)" },
  { "--admin-key-file FILE", "read the admin key from FILE (default: $OPENAI_ADMIN_KEY)" },
  { "--max-retries N", "retries per request (default 2)" },
  { "--timeout S", "seconds per request (default 600)" },
  { "-H, --header 'Name: value'", "extra request header (repeatable)" },
  { "--format F", "table|json|jsonl|csv|tsv (default: table on a terminal; jsonl for lists, json otherwise)" },
  { "--fields A,B.C", "columns/fields to show, dotted paths into nested objects" },
  { "--names", "add project/user/service account/key names next to their ids (table, csv, tsv)" },
  { "--max-items N", "stop a list after N items" },
  { "--no-paginate", "fetch only the first page of a list" },
  { "--dry-run", "print the request (method, URL, JSON body) and send nothing" },
  { "--yes, -y", "do not ask before destructive commands (required when not on a terminal)" },
  { "--fake", "run against an embedded fake Admin API (no key needed)" },
  { "--help, -h", "help for any command" },
  { "--version", "print the version" },
}

M.EXIT_CODES = {
  { 0, "ok" }, { 1, "any other API error" }, { 2, "bad usage or invalid argument (nothing was sent)" },
  { 3, "not found" }, { 4, "authentication or permission (also: no admin key)" },
  { 5, "rate limited after the retries" }, { 6, "connection or timeout" }, { 130, "interrupted" },
}

local function words_of(path)
  local t = {}
  for w in path:gmatch("[^.]+") do t[#t + 1] = dashed(w) end
  return table.concat(t, " ")
end
M.words_of = words_of

local function pad(s, n) return s .. (" "):rep(math.max(1, n - #s)) end

-- Counts endpoints under a tree node (for the one-line summaries of resources).
local function count(spec)
  local n = 0
  for _ in pairs(spec.methods) do n = n + 1 end
  for _, c in pairs(spec.children) do n = n + count(c) end
  return n
end

local function sorted(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

local function node_listing(out, spec, prefix)
  local res = sorted(spec.children)
  local meths = sorted(spec.methods)
  if #res > 0 then
    out[#out + 1] = "resources:"
    for _, k in ipairs(res) do
      local c = spec.children[k]
      local n = count(c)
      out[#out + 1] = "  " .. pad(dashed(k), 28) .. n .. (n == 1 and " command" or " commands")
    end
  end
  if #meths > 0 then
    out[#out + 1] = "commands:"
    for _, k in ipairs(meths) do
      local row = spec.methods[k]
      out[#out + 1] = "  " .. pad(dashed(k), 28) .. row.method .. " " .. row.path
      out[#out + 1] = "  " .. (" "):rep(28) .. (row.summary or "")
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "Run 'openai-admin " .. (prefix ~= "" and (prefix .. " ") or "") .. "WORD --help' for more."
end

-- Top level: usage, global options, resources, extension commands, exit codes.
function M.top(root, extensions)
  local out = {
    "usage: openai-admin [global options] WORDS... [PATH_ARGS...] [--FIELD VALUE]... [--params JSON|@FILE|-]",
    "",
    "The OpenAI Admin API from the command line: WORDS are the endpoint's path in the SDK",
    "(admin.organization.projects.users.create -> 'projects users create'); dashes or underscores.",
    "",
    "global options (before the words):",
  }
  for _, o in ipairs(M.GLOBAL) do out[#out + 1] = "  " .. pad(o[1], 28) .. o[2] end
  out[#out + 1] = ""
  node_listing(out, root, "")
  table.remove(out) -- the "Run ..." line comes last
  out[#out + 1] = "more commands:"
  local width = 28
  for _, e in ipairs(extensions or {}) do width = math.max(width, #table.concat(e.words, " ") + 2) end
  for _, e in ipairs(extensions or {}) do
    out[#out + 1] = "  " .. pad(table.concat(e.words, " "), width) .. (e.summary or "")
  end
  out[#out + 1] = "  " .. pad("completion bash|zsh|fish", width) .. "print a shell completion script"
  out[#out + 1] = ""
  out[#out + 1] = "The admin key comes from $OPENAI_ADMIN_KEY or --admin-key-file (never from a flag)."
  out[#out + 1] = "Time fields take Unix seconds, " .. timefmt.ACCEPTED:gsub("^a Unix time, ", "") .. "."
  out[#out + 1] = "exit codes:"
  for _, e in ipairs(M.EXIT_CODES) do out[#out + 1] = "  " .. pad(tostring(e[1]), 6) .. e[2] end
  out[#out + 1] = ""
  out[#out + 1] = "Run 'openai-admin WORD --help' for more."
  return table.concat(out, "\n") .. "\n"
end

function M.node(spec, words)
  local out = { "usage: openai-admin " .. words .. " WORD ...", "" }
  node_listing(out, spec, words)
  return table.concat(out, "\n") .. "\n"
end

local function type_text(p, time)
  local t = p.type or "string"
  if p.map_values then t = "map of " .. p.map_values .. " (--FIELD.KEY VALUE, or JSON)" end
  if args.is_shape_union(p) then
    local parts = {}
    for _, v in ipairs(p.variants) do
      parts[#parts + 1] = (v.array and "repeated " or "") .. (v.enum and table.concat(v.enum, "|") or v.type)
    end
    t = table.concat(parts, " or ")
  elseif args.is_discriminated(p) then
    local parts = {}
    for _, v in ipairs(p.variants) do parts[#parts + 1] = tostring(v.type) end
    t = "object by " .. (p.discriminator or "type") .. " (" .. table.concat(parts, "|") .. "): dotted flags or JSON"
  elseif p.fields then
    t = p.array and "JSON object, repeated" or "object: dotted flags or JSON"
  elseif p.enum then
    local shown = { table.unpack(p.enum, 1, math.min(#p.enum, 8)) }
    t = table.concat(shown, "|") .. ((p.enum_open or #p.enum > 8) and "|..." or "")
      .. (#p.enum > 8 and (" (" .. #p.enum .. " values: docs/endpoints.md)") or "")
  elseif time then
    t = "time"
  elseif t == "number" then
    t = "number"
  end
  if p.array and not p.fields then t = t .. ", repeated" end
  if p.nullable then t = t .. ", nullable" end
  if p.required then t = t .. ", required" end
  if p.required_in_variant and type(p.variants) == "table" and type(p.variants[1]) == "string" then
    t = t .. ", required when type is " .. table.concat(p.variants, "/")
  end
  if p.default ~= nil then t = t .. ", default " .. tostring(p.default) end
  return t
end

-- One command (an endpoint or an extension command).
function M.command(cmd)
  local pos = {}
  for _, n in ipairs(cmd.positionals or {}) do pos[#pos + 1] = n:upper() end
  local out = {
    "usage: openai-admin " .. cmd.words .. (#pos > 0 and (" " .. table.concat(pos, " ")) or "")
      .. ((#(cmd.fields or {}) > 0) and " [--FIELD VALUE]..." or "")
      .. (cmd.row and " [--params JSON|@FILE|-]" or ""),
    "",
  }
  local row = cmd.row
  if row then out[#out + 1] = row.method .. " " .. row.path .. "   (" .. row.sdk_path .. ")" end
  if cmd.summary then out[#out + 1] = cmd.summary end
  if cmd.destructive then out[#out + 1] = "Destructive: asks for confirmation on a terminal; needs --yes otherwise." end
  if row and row.pagination then
    out[#out + 1] = "A list: walks every page (--max-items N caps it, --no-paginate fetches one page)."
  end
  if #pos > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "path arguments (positionally in this order, or as flags):"
    for _, n in ipairs(cmd.positionals) do
      out[#out + 1] = "  " .. pad(n:upper() .. ", --" .. dashed(n), 34) .. "string"
    end
  end
  local flags = args.flags_of(cmd)
  -- table order, nested flags under their parent
  local order = {}
  local function walk(list, prefix)
    for _, p in ipairs(list or {}) do
      local n = prefix .. p.name
      if flags[n] and not order[n] then
        order[#order + 1] = n
        order[n] = true
      end
      if not p.array then
        if p.fields then walk(p.fields, n .. ".") end
        if args.is_discriminated(p) then
          local d = n .. "." .. (p.discriminator or "type")
          if not order[d] then order[#order + 1] = d; order[d] = true end
          for _, v in ipairs(p.variants) do walk(v.fields, n .. ".") end
        end
      end
    end
  end
  walk(cmd.fields, "")
  if #order > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "flags:"
    for _, n in ipairs(order) do
      local f = flags[n]
      local p = f.spec
      out[#out + 1] = "  " .. pad("--" .. dashed(n), 34) .. type_text(p, f.time)
      if p.description then out[#out + 1] = "  " .. (" "):rep(34) .. p.description end
    end
  end
  if cmd.row then
    out[#out + 1] = ""
    out[#out + 1] = "  " .. pad("--params JSON|@FILE|-", 34) .. "all params as a JSON object; flags override its fields"
  end
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------
-- Completion: the scripts ask the command itself (`openai-admin __complete WORDS... CURRENT`)
---------------------------------------------------------------------------------------------
M.SCRIPTS = {
  bash = [[
# openai-admin completion for bash: source <(openai-admin completion bash)
_openai_admin() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\n'
  COMPREPLY=($(openai-admin __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null))
}
complete -o default -F _openai_admin openai-admin
]],
  zsh = [[
#compdef openai-admin
# openai-admin completion for zsh: source <(openai-admin completion zsh)
_openai_admin() {
  local -a items
  items=("${(@f)$(openai-admin __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
  compadd -a items
}
if (( $+functions[compdef] )); then compdef _openai_admin openai-admin; fi
]],
  fish = [[
# openai-admin completion for fish: openai-admin completion fish | source
function __openai_admin_complete
  set -l tokens (commandline -opc)
  set -e tokens[1]
  openai-admin __complete $tokens (commandline -ct) 2>/dev/null
end
complete -c openai-admin -f -a '(__openai_admin_complete)'
]],
}

return M
