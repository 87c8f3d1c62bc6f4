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

  it("types the replies from the samples: nested classes, pages typed with their item class", function()
    local annotations = slurp("types/openai_admin.lua")
    local function class_body(name)
      local body = annotations:match("\n%-%-%-@class openai_admin%." .. name:gsub("%p", "%%%0") .. "[:\n](.-)\n\n")
      assert.truthy(body, "no class " .. name)
      return body .. "\n"
    end
    -- a project API key's owner is owner.user.email (or a service account); an admin key's, owner.name
    assert.matches("@field owner openai_admin%.ProjectAPIKey%.owner\n", class_body("ProjectAPIKey"))
    assert.matches("@field user%? openai_admin%.ProjectAPIKey%.owner%.user\n", class_body("ProjectAPIKey.owner"))
    assert.matches("@field email string", class_body("ProjectAPIKey.owner.user"))
    assert.matches("@field name string", class_body("AdminAPIKey.owner"))
    assert.matches("@field last_used_at integer|openai_admin%.null", class_body("ProjectAPIKey"))
    assert.matches("@field data openai_admin%.ProjectAPIKey%[%]", class_body("ProjectAPIKeyPage"))
    assert.matches("@field results openai_admin%.UsageCostsBucket%.results%[%]", class_body("UsageCostsBucket"))
    assert.matches("@field value number", class_body("UsageCostsBucket.results.amount"))
    -- every endpoint with a sample reply returns its class, lists their page class
    local api = require("openai_admin.api")
    for _, row in ipairs(api) do
      local var = row.resource:gsub("%.", "_")
      local ret = annotations:match("%-%-%-@return (%S+)\nfunction " .. var .. ":" .. row.name .. "%(")
      assert.truthy(ret, row.sdk_path)
      if row.response and row.response.sample then
        assert.matches("^openai_admin%.%w+$", ret, row.sdk_path)
        if row.pagination then assert.matches("Page$", ret, row.sdk_path) end
        class_body(ret:sub(#"openai_admin." + 1))
      end
    end
  end)

  it("lists each endpoint's reply fields as dotted paths in docs/endpoints.md", function()
    local doc = slurp("docs/endpoints.md")
    local section = doc:match("\n## client%.admin%.organization%.projects%.api_keys\n(.-)\n## ")
    local list = section:match("### `:list%(.-\n### ")
    assert.matches("Returns a page of `ProjectAPIKey`", list)
    assert.matches("| `owner%.user%.email` | `string` |", list)
    assert.matches("| `last_used_at` | `integer\\|null` |", list)
    local admin = doc:match("\n## client%.admin%.organization%.admin_api_keys\n(.-)\n## ")
    assert.matches("| `owner%.name` | `string` |", admin)
    local costs = doc:match("### `:costs%(.-\n### ")
    assert.matches("| `results%[%]%.amount%.value` | `number` |", costs)
  end)

  it("describe: an endpoint, a resource by path or by node (its methods and children), nil for neither", function()
    local oa = require("openai_admin")
    local client <close> = oa.new{ admin_key = "sk-admin-test", base_url = "http://127.0.0.1:9/v1" }
    local by_node = assert(oa.describe(client.admin.organization.projects))
    assert.are.equal(by_node, oa.describe("admin.organization.projects"))
    assert.matches("^admin%.organization%.projects %(resource%)\n", by_node)
    assert.matches("\n  resources: api_keys, certificates, ", by_node)
    assert.matches("\n  client%.admin%.organization%.projects:list%(%[params%], %[options%]%)"
      .. "  %-%- GET /organization/projects", by_node)
    assert.matches("^admin%.organization%.usage%.costs\n", oa.describe("admin.organization.usage.costs"))
    local text, err = oa.describe("admin.organization.nope")
    assert.is_nil(text)
    assert.matches("no endpoint or resource admin%.organization%.nope", err)
  end)
end)
