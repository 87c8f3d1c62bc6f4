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
    metrics = function(r)
      local input = r(4000, 30000)
      return {
        input_tokens = input,
        output_tokens = input // r(3, 6),
        input_cached_tokens = input // r(2, 5),
        input_audio_tokens = 0,
        output_audio_tokens = 0,
        num_model_requests = math.max(1, input // r(25, 40)),
      }
    end,
  },
  embeddings = {
    object = "organization.usage.embeddings.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "text-embedding-3-small", "text-embedding-3-large" },
    metrics = function(r)
      local input = r(10000, 60000)
      return { input_tokens = input, num_model_requests = math.max(1, input // r(200, 400)) }
    end,
  },
  moderations = {
    object = "organization.usage.moderations.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "omni-moderation-latest", "text-moderation-latest" },
    metrics = function(r)
      local input = r(800, 2500)
      return { input_tokens = input, num_model_requests = math.max(1, input // r(5, 8)) }
    end,
  },
  images = {
    object = "organization.usage.images.result",
    dims = { "project_id", "user_id", "api_key_id", "model", "size", "source" },
    models = { "dall-e-3", "gpt-image-1" },
    metrics = function(r)
      local n = r(1, 3)
      return { images = n, num_model_requests = math.max(1, n - r(0, 3)) }
    end,
  },
  audio_speeches = {
    object = "organization.usage.audio_speeches.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "tts-1", "gpt-4o-mini-tts" },
    metrics = function(r)
      local c = r(2000, 5000)
      return { characters = c, num_model_requests = math.max(1, c // r(60, 80)) }
    end,
  },
  audio_transcriptions = {
    object = "organization.usage.audio_transcriptions.result",
    dims = { "project_id", "user_id", "api_key_id", "model" },
    models = { "whisper-1", "gpt-4o-transcribe" },
    metrics = function(r)
      local s = r(60, 200)
      return { seconds = s, num_model_requests = math.max(1, s // r(6, 9)) }
    end,
  },
  vector_stores = {
    object = "organization.usage.vector_stores.result",
    dims = { "project_id" },
    metrics = function(r)
      return { usage_bytes = r(20000000, 25000000) }
    end,
  },
  code_interpreter_sessions = {
    object = "organization.usage.code_interpreter_sessions.result",
    dims = { "project_id" },
    metrics = function(r)
      return { num_sessions = r(1, 2) }
    end,
  },
  file_search_calls = {
    object = "organization.usage.file_searches.result",
    dims = { "project_id", "user_id", "api_key_id", "vector_store_id" },
    metrics = function(r)
      return { num_requests = r(15, 30) }
    end,
  },
  web_search_calls = {
    object = "organization.usage.web_searches.result",
    dims = { "project_id", "user_id", "api_key_id", "model", "context_level", "api_source" },
    models = { "gpt-4o-search-preview", "gpt-4o-mini-search-preview" },
    metrics = function(r)
      local n = r(8, 15)
      return { num_requests = n, num_model_requests = math.max(1, n - r(1, 3)) }
    end,
  },
  costs = {
    object = "organization.costs.result",
    dims = { "project_id", "user_id", "api_key_id", "line_item", "api_source" },
    metrics = function(r, dims)
      -- micro-dollars: integers, so every aggregate is exact; rendered as value = micros / 1e6
      local q = r(200000, 2000000)
      local line = dims.line_item
      return {
        _micros = r(1000, 4000000),
        quantity = q,
        quantity_unit = (type(line) == "string" and line:match("image")) and "images" or "tokens",
      }
    end,
  },
}
SPECS.decisions = {
  object = "organization.usage.decisions.result",
  dims = SPECS.completions.dims,
  models = TEXT_MODELS,
  metrics = function(r)
    local input = r(600, 1200)
    return {
      input_tokens = input,
      output_tokens = input // r(5, 7),
      input_cached_tokens = input // r(2, 3),
      num_model_requests = math.max(1, input // r(7, 9)),
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

--- The organization usage is drawn from, fixed at seeding so that every query sees the same
--- history: { seed, projects = { { id, users = {ids}, keys = {ids} }... }, vs_suffix }.
function M.world(seed, projects)
  return { seed = seed, projects = projects, vs_suffix = util.alnum_of(util.hash(seed, "vs"), 10) }
end

-- Usage is a stream of deterministic atomic records, 1 to 3 per endpoint and hour, each with a
-- time inside its hour, one value for every dimension and integer metrics (costs in micro-dollars).
-- Every query aggregates the same atoms, so any grouping, filter or bucket width adds up exactly:
-- the groups sum to the ungrouped total and 24 hourly buckets to the daily one.
local function atoms_of_hour(name, spec, world, hour)
  local out = {}
  local n = util.hash(world.seed, name, "n", hour) % 3 + 1
  for j = 1, n do
    local rng = util.rng(util.hash(world.seed, name, hour, j))
    local function r(lo, hi) return rng:int(lo, hi) end
    local a = { _t = hour + r(0, 3599), dims = {} }
    local project = #world.projects > 0 and world.projects[r(1, #world.projects)] or nil
    for _, d in ipairs(spec.dims) do
      local v
      if d == "project_id" then
        v = project and project.id
      elseif d == "user_id" then
        v = project and #project.users > 0 and project.users[r(1, #project.users)] or nil
      elseif d == "api_key_id" then
        v = project and #project.keys > 0 and project.keys[r(1, #project.keys)] or nil
      else
        local dom = M.domain(d, spec, world)
        v = dom[r(1, #dom)]
      end
      if v == nil then v = null end
      a.dims[d] = v
    end
    a.metrics = spec.metrics(r, a.dims)
    out[j] = a
  end
  return out
end

function M.domain(name, spec, world)
  if name == "model" then return spec.models or TEXT_MODELS end
  if name == "batch" then return { false, true } end
  if name == "service_tier" then return { "default", "flex" } end
  if name == "api_source" then return { "unlabeled", "agents_api" } end
  if name == "size" then return { "1024x1024", "1024x1792" } end
  if name == "source" then return { "image.generation", "image.edit" } end
  if name == "context_level" then return { "medium", "low" } end
  if name == "vector_store_id" then return { "vs_" .. world.vs_suffix .. "A", "vs_" .. world.vs_suffix .. "B" } end
  if name == "line_item" then return LINE_ITEMS end
  return { null }
end

local function add_metrics(acc, m)
  for k, v in pairs(m) do
    if k == "_micros" then
      acc._micros = (acc._micros or 0) + v
    elseif math.type(v) == "integer" then
      acc[k] = (acc[k] or 0) + v
    elseif acc[k] == nil then
      acc[k] = v -- a label (quantity_unit)
    end
  end
end

local function zero_metrics(spec, world)
  -- the fields of an atom's metrics, zeroed (an ungrouped bucket without usage)
  local m = spec.metrics(function(lo) return lo end, {}, world)
  local z = {}
  for k, v in pairs(m) do z[k] = math.type(v) == "integer" and 0 or v end
  return z
end

--- handle(name, q, env): env = { now, world = M.world(...) }
function M.handle(name, q, env)
  local spec = SPECS[name]
  local world = env.world
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
  local grouped = {}
  for _, g in ipairs(q.group_by or {}) do grouped[g] = true end
  local axes = {}
  for _, d in ipairs(spec.dims) do
    if grouped[d] then axes[#axes + 1] = d end
  end
  -- filters: dimension -> set of accepted values (tostring'd, so booleans compare too)
  local filters = {}
  for _, d in ipairs(spec.dims) do
    local fp = FILTER_OF[d]
    if fp and q[fp] and #q[fp] > 0 then filters[d] = util.set_of(q[fp]) end
  end
  if q.batch ~= nil then filters.batch = { [q.batch] = true } end
  local function passes(a)
    if a._t >= env.now then return false end -- no usage from the future
    for d, set in pairs(filters) do
      if not set[a.dims[d]] then return false end
    end
    return true
  end
  local cache = {}
  local function atoms(hour)
    local list = cache[hour]
    if not list then
      list = atoms_of_hour(name, spec, world, hour)
      cache[hour] = list
    end
    return list
  end
  local function render(acc, dims)
    local res = { object = spec.object }
    for k, v in pairs(acc) do
      if k ~= "_micros" then res[k] = v end
    end
    if is_costs then res.amount = { value = (acc._micros or 0) / 1e6, currency = "usd" } end
    for _, d in ipairs(spec.dims) do
      local v = dims and dims[d]
      if v == nil then v = null end
      res[d] = v
    end
    return res
  end
  local data = {}
  local t = cursor
  while t < end_time and #data < limit do
    local bucket_end = t + width
    local groups, order = {}, {}
    for hour = t - t % 3600, bucket_end - 1, 3600 do
      for _, a in ipairs(atoms(hour)) do
        if a._t >= t and a._t < bucket_end and passes(a) then
          local key_parts, dims = {}, {}
          for i, d in ipairs(axes) do
            key_parts[i] = tostring(a.dims[d])
            dims[d] = a.dims[d]
          end
          local key = table.concat(key_parts, "\1")
          local g = groups[key]
          if not g then
            g = { key = key, dims = dims, acc = {} }
            groups[key] = g
            order[#order + 1] = g
          end
          add_metrics(g.acc, a.metrics)
        end
      end
    end
    local results = {}
    if #axes == 0 then
      local g = order[1]
      results[1] = render(g and g.acc or zero_metrics(spec, world), nil)
    else
      table.sort(order, function(x, y) return x.key < y.key end)
      for i, g in ipairs(order) do results[i] = render(g.acc, g.dims) end
    end
    data[#data + 1] = {
      object = "bucket",
      start_time = t,
      end_time = bucket_end,
      results = json.array(results),
    }
    t = bucket_end
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
