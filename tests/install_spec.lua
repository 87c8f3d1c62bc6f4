-- The rockspecs install the client and the fake into a LuaRocks tree, after which
-- require("openai_admin") works from any directory and bin/openai-admin-fake runs from there.
-- The repository is copied first, so the build in the working tree is left alone.
local function sh(cmd)
  local h = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), out
end

local have_luarocks = sh("command -v luarocks >/dev/null") == 0

describe("luarocks install", function()
  if not have_luarocks then
    pending("luarocks is not installed")
    return
  end
  if os.getenv("VALGRIND") then
    pending("skipped under make valgrind: it would trace the compiler and luarocks, not our code")
    return
  end

  local tmp
  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp .. "/src " .. tmp .. "/elsewhere"))
    -- the tracked files as they are in the working tree
    local rc, out = sh("git ls-files -z | xargs -0 cp --parents -t " .. tmp .. "/src")
    assert.equal(0, rc, out)
  end)
  teardown(function()
    if tmp then os.execute("rm -rf " .. tmp) end
  end)

  it("builds and installs both rockspecs; the module loads from another directory", function()
    for _, spec in ipairs{ "openai-admin-scm-1.rockspec", "openai-admin-fake-scm-1.rockspec" } do
      local rc, out = sh(("cd %s/src && luarocks --lua-version=5.4 --tree=%s/tree make --deps-mode=none %s")
        :format(tmp, tmp, spec))
      assert.equal(0, rc, out)
    end
    local rc, out = sh(("cd %s/elsewhere && eval \"$(luarocks --lua-version=5.4 --tree=%s/tree path)\" && "
      .. "lua5.4 -e "
      .. "'local oa = require(\"openai_admin\"); io.write(oa.version, \" \", "
      .. "package.searchpath(\"openai_admin.core\", package.cpath))'"):format(tmp, tmp))
    assert.equal(0, rc, out)
    assert.matches("0%.1%.0 " .. tmp:gsub("%p", "%%%0") .. "/tree/lib/lua/5%.4/openai_admin/core%.so", out)

    -- the installed fake starts and prints its URL
    local _, fake_out = sh(("cd %s/elsewhere && eval \"$(luarocks --lua-version=5.4 --tree=%s/tree path)\" && "
      .. "(timeout 5 %s/tree/bin/openai-admin-fake --port 0 --quiet & pid=$!; sleep 1; kill $pid)")
      :format(tmp, tmp, tmp))
    assert.matches("http://127%.0%.0%.1:%d+/v1", fake_out)
  end)
end)
