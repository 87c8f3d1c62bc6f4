-- The generated reference and editor annotations must match the endpoint table they come from.
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("generated docs", function()
  it("docs/endpoints.md, types/openai_admin.lua and the README's package table are up to date", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir -p " .. dir))
    assert.is_true(os.execute("lua5.4 tools/gen_docs.lua " .. dir))
    for _, file in ipairs{ "docs/endpoints.md", "types/openai_admin.lua", "README.md" } do
      assert.are.equal(slurp(dir .. "/" .. file), slurp(file), file .. " is stale: run make docs")
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

  it("the README's first screen shows the two commands, make demo and make test, and their output", function()
    local readme = slurp("README.md")
    local block = readme:match("```console\n(.-)```")
    assert.truthy(block, "README.md has no console block")
    assert.are.equal(readme:find("```", 1, true), readme:find("```console", 1, true),
      "the two commands must be the README's first code block")
    local commands = {}
    for cmd in block:gmatch("%$ ([^\n#]-)%s*#") do commands[#commands + 1] = cmd end
    assert.are.same({ "make demo", "make test" }, commands)
    assert.matches("\n%d+ passed, 0 failed\n", block)
    assert.matches("project status: archived", block)
  end)
end)
