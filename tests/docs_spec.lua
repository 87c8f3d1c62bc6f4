-- The generated reference and editor annotations must match the endpoint table they come from.
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("generated docs", function()
  it("docs/endpoints.md and types/openai_admin.lua are up to date with api.lua", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir -p " .. dir))
    assert.is_true(os.execute("lua5.4 tools/gen_docs.lua " .. dir))
    for _, file in ipairs{ "docs/endpoints.md", "types/openai_admin.lua" } do
      assert.are.equal(slurp(dir .. "/" .. file), slurp(file), file .. " is stale: run make gen")
    end
    os.execute("rm -rf " .. dir)
  end)

  it("covers every endpoint of the table", function()
    local api = require("openai_admin.api")
    local doc = slurp("docs/endpoints.md")
    local annotations = slurp("types/openai_admin.lua")
    assert.are.equal(143, #api)
    for _, row in ipairs(api) do
      assert.truthy(doc:find("`:" .. row.name .. "(", 1, true), row.sdk_path)
      local var = row.resource:gsub("%.", "_")
      assert.truthy(annotations:find("function " .. var .. ":" .. row.name .. "(", 1, true), row.sdk_path)
    end
  end)
end)
