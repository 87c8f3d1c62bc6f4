--- Usage and costs: deterministic synthetic buckets from the seed.
local json = require("openai_admin.json")
local util = require("openai_admin.fake.util")

local fail = util.fail
local null = json.null

local M = {}

local WIDTH = { ["1m"] = 60, ["1h"] = 3600, ["1d"] = 86400 }
local LIMITS = { ["1d"] = { 7, 31 }, ["1h"] = { 24, 168 }, ["1m"] = { 60, 1440 } }

local TEXT_MODELS = { "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "o3-mini-2025-01-31" }

-- endpoint name -> { object, dims (in output order), metrics(h) -> fields }
local SPECS = {
  completions = {
    object = "organization.usage.completions.result",
    dims = { "project_id", "user_id", "api_key_id", "model", "batch", "service_tier", "api_source" },
    models = TEXT_MODELS,
    metrics = function(r, scale)
      local input = r(200000, 1500000) // scale
      return {
        input_tokens = input,
        output_tokens = input // r(3, 6),
        input_cached_tokens = input // r(2, 5),
        input_audio_tokens = 0,
        output_audio_tokens = 0,
        num_model_requests = math.max(1, input // r(250, 400)),
      }
    end,
  },
  embeddings = {
    object = "organization.usage.embeddings.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "text-embedding-3-small", "text-embedding-3-large" },
    metrics = function(r, scale)
      local input = r(500000, 3000000) // scale
      return { input_tokens = input, num_model_requests = math.max(1, input // r(2000, 4000)) }
    end,
  },
  moderations = {
    object = "organization.usage.moderations.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "omni-moderation-latest", "text-moderation-latest" },
    metrics = function(r, scale)
      local input = r(40000, 120000) // scale
      return { input_tokens = input, num_model_requests = math.max(1, input // r(50, 80)) }
    end,
  },
  images = {
    object = "organization.usage.images.result",
    dims = { "project_id", "user_id", "api_key_id", "model", "size", "source" },
    models = { "dall-e-3", "gpt-image-1" },
    metrics = function(r, scale)
      local n = math.max(1, r(10, 60) // scale)
      return { images = n, num_model_requests = math.max(1, n - r(0, 3)) }
    end,
  },
  audio_speeches = {
    object = "organization.usage.audio_speeches.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "tts-1", "gpt-4o-mini-tts" },
    metrics = function(r, scale)
      local c = r(100000, 250000) // scale
      return { characters = c, num_model_requests = math.max(1, c // r(600, 800)) }
    end,
  },
  audio_transcriptions = {
    object = "organization.usage.audio_transcriptions.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "whisper-1", "gpt-4o-transcribe" },
    metrics = function(r, scale)
      local s = r(3000, 9000) // scale
      return { seconds = s, num_model_requests = math.max(1, s // r(60, 90)) }
    end,
  },
  vector_stores = {
    object = "organization.usage.vector_stores.result",
    dims = { "project_id" },
    metrics = function(r, scale)
      return { usage_bytes = r(1000000000, 1200000000) // scale }
    end,
  },
  code_interpreter_sessions = {
    object = "organization.usage.code_interpreter_sessions.result",
    dims = { "project_id" },
    metrics = function(r, scale)
      return { num_sessions = math.max(1, r(20, 50) // scale) }
    end,
  },
  file_search_calls = {
    object = "organization.usage.file_searches.result",
    dims = { "project_id", "user_id", "api_key_id", "vector_store_id" },
    metrics = function(r, scale)
      return { num_requests = math.max(1, r(800, 1500) // scale) }
    end,
  },
  web_search_calls = {
    object = "organization.usage.web_searches.result",
    dims = { "project_id", "user_id", "api_key_id", "model", "context_level", "api_source" },
    models = { "gpt-4o-search-preview", "gpt-4o-mini-search-preview" },
    metrics = function(r, scale)
      local n = math.max(1, r(400, 700) // scale)
      return { num_requests = n, num_model_requests = math.max(1, n - r(50, 150) // scale) }
    end,
  },
  costs = {
    object = "organization.costs.result",
    dims = { "project_id", "user_id", "api_key_id", "line_item", "api_source" },
    metrics = function(r, scale, combo)
      local q = r(20000000, 90000000) // scale
      local per_m = ({ 0.15, 0.6, 2.5, 10.0 })[r(1, 4)]
      local value = math.floor(q / 1000000 * per_m * 10000 + 0.5) / 10000
      return {
        amount = { value = value + 0.0, currency = "usd" },
        quantity = q,
        quantity_unit = (combo and combo.line_item and combo.line_item:match("image")) and "images" or "tokens",
      }
    end,
  },
}
SPECS.decisions = {
  object = "organization.usage.decisions.result",
  dims = SPECS.completions.dims,
  models = TEXT_MODELS,
  metrics = function(r, scale)
    local input = r(30000, 60000) // scale
    return {
      input_tokens = input,
      output_tokens = input // r(5, 7),
      input_cached_tokens = input // r(2, 3),
      num_model_requests = math.max(1, input // r(70, 90)),
    }
  end,
}
M.SPECS = SPECS

local LINE_ITEMS = {
  "gpt-4o-mini-2024-07-18, input", "gpt-4o-mini-2024-07-18, output", "gpt-4o-2024-08-06, input",
  "dall-e-3, images",
}

-- dimension -> query filter param
local FILTER_OF = {
  project_id = "project_ids", user_id = "user_ids", api_key_id = "api_key_ids", model = "models",
  size = "sizes", source = "sources", vector_store_id = "vector_store_ids", context_level = "context_levels",
  line_item = "line_items",
}

local function domain(name, spec, env)
  if name == "project_id" then return env.projects end
  if name == "user_id" then return env.users end
  if name == "api_key_id" then return env.api_keys end
  if name == "model" then return spec.models or TEXT_MODELS end
  if name == "batch" then return { false, true } end
  if name == "service_tier" then return { "default", "flex" } end
  if name == "api_source" then return { "unlabeled", "agents_api" } end
  if name == "size" then return { "1024x1024", "1024x1792" } end
  if name == "source" then return { "image.generation", "image.edit" } end
  if name == "context_level" then return { "medium", "low" } end
  if name == "vector_store_id" then return { "vs_" .. env.vs_suffix .. "A", "vs_" .. env.vs_suffix .. "B" } end
  if name == "line_item" then return LINE_ITEMS end
  return { null }
end

--- handle(name, row, q, env): env = { seed, now, projects = {...ids}, users, api_keys, vs_suffix }
function M.handle(name, q, env)
  local spec = SPECS[name]
  local is_costs = name == "costs"
  local bw = q.bucket_width or "1d"
  local width = WIDTH[bw]
  local def, max
  if is_costs then def, max = 7, 180 else def, max = LIMITS[bw][1], LIMITS[bw][2] end
  local limit = q.limit
  if limit == nil then
    limit = def
  else
    limit = math.tointeger(limit)
    if not limit then fail(400, "Invalid 'limit': expected an integer.", "limit", "invalid_type") end
    if limit < 1 or limit > max then
      fail(400, string.format("Invalid 'limit': for bucket_width '%s' it must be between 1 and %d, got %d.",
        bw, max, limit), "limit", limit < 1 and "integer_below_min_value" or "integer_above_max_value")
    end
  end
  local start_time = math.tointeger(q.start_time)
  if not start_time or start_time < 0 then
    fail(400, "Invalid 'start_time': expected a non-negative integer (Unix seconds).", "start_time", "invalid_value")
  end
  local end_time = q.end_time and math.tointeger(q.end_time) or env.now
  if not end_time then
    fail(400, "Invalid 'end_time': expected an integer (Unix seconds).", "end_time", "invalid_value")
  end
  if end_time <= start_time then
    fail(400, "Invalid 'end_time': it must be after 'start_time'.", "end_time", "invalid_value")
  end
  local first = start_time - start_time % width
  local cursor = first
  if q.page then
    local hex = q.page:match("^page_(%x+)$")
    local v = hex and tonumber(hex, 16)
    if not v or v < first or v >= end_time or (v - first) % width ~= 0 then
      fail(400, "Invalid 'page': the page token is not valid for this query.", "page", "invalid_value")
    end
    cursor = v
  end
  -- grouping and filters
  local grouped = {}
  for _, g in ipairs(q.group_by or {}) do grouped[g] = true end
  local axes = {}
  for _, d in ipairs(spec.dims) do
    if grouped[d] then
      local fp = FILTER_OF[d]
      local vals = (fp and q[fp]) or domain(d, spec, env)
      if d == "batch" and q.batch ~= nil then vals = { q.batch } end
      if #vals == 0 then vals = { null } end
      axes[#axes + 1] = { name = d, vals = vals }
    end
  end
  local scale = 1
  for _, a in ipairs(axes) do scale = scale * math.min(#domain(a.name, spec, env), 4) end
  scale = math.max(1, scale // 2)
  -- a filter on a dimension that is not grouped selects a share of the total
  for _, d in ipairs(spec.dims) do
    local fp = FILTER_OF[d]
    if not grouped[d] and fp and q[fp] then
      local dom = #domain(d, spec, env)
      scale = scale * math.max(1, dom + 1 - #q[fp])
    end
  end
  if q.batch ~= nil and not grouped.batch then scale = scale * 2 end
  -- enumerate combos once
  local combos = { {} }
  for _, a in ipairs(axes) do
    local nxt = {}
    for _, c in ipairs(combos) do
      for _, v in ipairs(a.vals) do
        local c2 = {}
        for k, x in pairs(c) do c2[k] = x end
        c2[a.name] = v
        nxt[#nxt + 1] = c2
      end
    end
    combos = nxt
  end
  -- keep a page's size bounded: fewer buckets per page when there are many group combinations
  if #combos * limit > 50000 then limit = math.max(1, 50000 // #combos) end
  local data = {}
  local t = cursor
  local function gen(c, h)
    local rng = util.rng(h)
    local function r(lo, hi) return rng:int(lo, hi) end
    local res = { object = spec.object }
    for k, v in pairs(spec.metrics(r, scale, c)) do res[k] = v end
    for _, d in ipairs(spec.dims) do
      local v = c[d]
      if v == nil then v = null end
      res[d] = v
    end
    return res
  end
  while t < end_time and #data < limit do
    local results = {}
    local first_h
    for i, c in ipairs(combos) do
      local ckey = {}
      for _, a in ipairs(axes) do ckey[#ckey + 1] = tostring(c[a.name]) end
      local h = util.hash(env.seed, name, t, table.concat(ckey, "|"))
      if i == 1 then first_h = h end
      -- sparse data when grouped: drop roughly a quarter of the combinations (never all of them)
      if #axes == 0 or h % 4 ~= 0 then results[#results + 1] = gen(c, h) end
    end
    if #results == 0 and combos[1] then results[1] = gen(combos[1], first_h) end
    data[#data + 1] = {
      object = "bucket",
      start_time = t,
      end_time = t + width,
      results = json.array(results),
    }
    t = t + width
  end
  local has_more = t < end_time
  return {
    object = "page",
    data = json.array(data),
    has_more = has_more,
    next_page = has_more and string.format("page_%x", t) or null,
  }
end

return M
