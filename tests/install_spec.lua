-- The rockspecs install the client and the fake into a private LuaRocks tree without pkg-config,
-- after which require("openai_admin") works from any directory once `luarocks path --tree` is
-- in effect, and bin/openai-admin-fake runs from there; without it, the installed fake says what
-- is wrong for an install (not "run make fake", which is advice for a checkout). The versioned
-- rockspecs are generated from the scm ones and lua/openai_admin/version.lua.
-- The repository is copied first, so the build in the working tree is left alone.
local function sh(cmd)
  local h = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), out
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local have_luarocks = sh("command -v luarocks >/dev/null") == 0
local version = dofile("lua/openai_admin/version.lua")
local ROCKSPECS = { "openai-admin-scm-1.rockspec", "openai-admin-fake-scm-1.rockspec",
  "openai-admin-" .. version .. "-1.rockspec", "openai-admin-fake-" .. version .. "-1.rockspec" }

describe("rockspecs", function()
  it("the versioned rockspecs are the scm ones at version.lua's version, pinned to its tag", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir -p " .. dir))
    local rc, out = sh("lua5.4 tools/gen_rockspecs.lua " .. dir)
    assert.equal(0, rc, out)
    for i = 3, 4 do
      assert.are.equal(slurp(dir .. "/" .. ROCKSPECS[i]), slurp(ROCKSPECS[i]),
        ROCKSPECS[i] .. " is stale: run make docs")
      local text = slurp(ROCKSPECS[i])
      assert.matches('\nversion = "' .. version:gsub("%.", "%%.") .. '%-1"\n', text)
      assert.matches('tag = "v' .. version:gsub("%.", "%%.") .. '"', text)
    end
    os.execute("rm -rf " .. dir)
    local stray = select(2, sh("ls openai-admin*-*.rockspec"))
    for name in stray:gmatch("(openai%-admin%S-%.rockspec)") do
      local known = false
      for _, r in ipairs(ROCKSPECS) do known = known or r == name end
      assert.is_true(known, name .. ": a rockspec of another version (version.lua says " .. version .. ")")
    end
  end)

  it("declare their C libraries, pass their folders to make, and run the suite as luarocks test", function()
    local client, fake = slurp(ROCKSPECS[1]), slurp(ROCKSPECS[2])
    assert.matches('CURL = { library = "curl" }', client, nil, true)
    assert.is_nil(client:find("JANSSON", 1, true), "the core does not link jansson")
    assert.matches('MICROHTTPD = { header = "microhttpd.h", library = "microhttpd" }', fake, nil, true)
    for _, v in ipairs{ "CURL_INCDIR", "CURL_LIBDIR" } do
      assert.matches(v .. ' = "$(' .. v .. ')"', client, nil, true)
    end
    assert.matches('MICROHTTPD_LIBDIR = "$(MICROHTTPD_LIBDIR)"', fake, nil, true)
    assert.matches('test = { type = "command", command = "make test" }', client, nil, true)
    if have_luarocks then
      for _, spec in ipairs(ROCKSPECS) do
        local rc, out = sh("luarocks --lua-version=5.4 lint " .. spec)
        assert.equal(0, rc, spec .. ": " .. out)
      end
    end
  end)
end)

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

  local function in_tree(cmd)
    return sh(("cd %s/elsewhere && eval \"$(luarocks --lua-version=5.4 --tree=%s/tree path)\" && %s")
      :format(tmp, tmp, cmd))
  end

  it("builds and installs both rockspecs without pkg-config; the module loads from another directory", function()
    -- the versioned client and the scm fake, with pkg-config unavailable to the Makefile
    for _, spec in ipairs{ ROCKSPECS[3], ROCKSPECS[2] } do
      local rc, out = sh(("cd %s/src && PKG_CONFIG=false luarocks --lua-version=5.4 --tree=%s/tree make "
        .. "--deps-mode=none %s"):format(tmp, tmp, spec))
      assert.equal(0, rc, out)
    end
    local rc, out = in_tree("lua5.4 -e "
      .. "'local oa = require(\"openai_admin\"); io.write(oa.version, \" \", "
      .. "package.searchpath(\"openai_admin.core\", package.cpath))'")
    assert.equal(0, rc, out)
    assert.matches(version:gsub("%.", "%%.") .. " " .. tmp:gsub("%p", "%%%0")
      .. "/tree/lib/lua/5%.4/openai_admin/core%.so", out)

    -- the installed fake starts and prints its URL (waited for, up to 30 s: a fixed 1 s sleep
    -- before the kill raced its start on a loaded machine)
    local _, fake_out = in_tree(("out=%s/fake.out; (timeout 60 %s/tree/bin/openai-admin-fake --port 0 --quiet "
      .. ">\"$out\" 2>&1 & pid=$!; i=0; while [ $i -lt 300 ] && kill -0 $pid 2>/dev/null "
      .. "&& ! grep -q '/v1' \"$out\"; do sleep 0.1; i=$((i + 1)); done; kill $pid); cat \"$out\""):format(tmp, tmp))
    assert.matches("http://127%.0%.0%.1:%d+/v1", fake_out)

    -- the installed command (LuaRocks wraps bin/openai-admin with the tree's paths), with the
    -- installed fake behind --fake
    local rc_cli, cli_out = sh(("cd %s/elsewhere && env -u LUA_PATH -u LUA_CPATH PATH=%s/tree/bin:$PATH "
      .. "OPENAI_ADMIN_KEY= %s/tree/bin/openai-admin --fake --format csv --fields object projects list")
      :format(tmp, tmp, tmp))
    assert.equal(0, rc_cli, cli_out)
    assert.matches("^object\r\norganization%.project\r\n", cli_out)

    -- without the tree on Lua's paths: what is wrong for an install, and how to fix it
    local rc2, msg = sh(("cd %s/elsewhere && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "
      .. "%s/tree/bin/openai-admin-fake --port 0"):format(tmp, tmp))
    assert.are_not.equal(0, rc2, msg)
    assert.matches("cannot find the fake's HTTP host, the C module openai_admin%.fake%.httpd", msg)
    assert.matches('eval "$(luarocks --lua-version=5.4 path --tree DIR)"', msg, nil, true)
    assert.is_nil(msg:find("make fake", 1, true), msg)

    -- the C module is there but does not load: says so, with the file
    local bad = tmp .. "/bad/openai_admin/fake"
    assert(os.execute("mkdir -p " .. bad .. " && echo garbage > " .. bad .. "/httpd.so"))
    local script = select(2, sh("ls " .. tmp .. "/tree/lib/luarocks/rocks-5.4/openai-admin-fake/*/bin/"
      .. "openai-admin-fake")):match("^(%S+)")
    local rc3, msg3 = sh(("cd %s/elsewhere && env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_CPATH='%s/bad/?.so;;' "
      .. "lua5.4 %s --port 0"):format(tmp, tmp, script))
    assert.are_not.equal(0, rc3, msg3)
    assert.matches("httpd%.so is installed but does not load", msg3)
  end)

  it("a missing C library stops luarocks before the build, naming it", function()
    local rc, out = sh(("cd %s/src && luarocks --lua-version=5.4 --tree=%s/tree2 make --deps-mode=none %s "
      .. "MICROHTTPD_INCDIR=%s/nowhere"):format(tmp, tmp, ROCKSPECS[2], tmp))
    assert.are_not.equal(0, rc, out)
    assert.matches("Could not find header file for MICROHTTPD", out)
  end)
end)
