-- The one dependency list (deps/debian.txt) names every package the tree loads, and
-- tools/install-deps.sh reads it: root installs, anyone else gets the missing names and the
-- apt-get line, and a non-zero exit before anything is compiled.
local function sh(cmd)
  local h = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = h:read("a")
  h:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), out
end

local function listed(targets)
  local rc, out = sh("sh tools/install-deps.sh --list " .. targets)
  assert.equal(0, rc, out)
  local set = {}
  for p in out:gsub("__rc=%d+%s*$", ""):gmatch("%S+") do set[p] = true end
  return set
end

-- Lua modules from outside the project, by the Debian package that ships them.
local PACKAGE_OF = {
  cjson = "lua-cjson", socket = "lua-socket", ltn12 = "lua-socket", mime = "lua-socket",
  luv = "lua-luv", cqueues = "lua-cqueues", busted = "lua-busted", luassert = "lua-busted",
  say = "lua-busted", ssl = "lua-sec", lfs = "lua-filesystem", posix = "lua-posix",
}
-- the standard library and the project's own modules (any module whose file is in lua/, tests/ or
-- tools/ too; jansson_ref is the test-only module make builds from tests/c/jansson_ref.c)
local OURS = { openai_admin = true, helpers = true, jansson_ref = true, string = true, table = true, math = true,
  io = true, os = true, coroutine = true, utf8 = true, debug = true, package = true }

describe("deps/debian.txt", function()
  it("names the package of every non-project module the tree requires (for make test)", function()
    local rc, out = sh("git ls-files -z -- '*.lua' bin | xargs -0 grep -hoE "
      .. "\"require[ (]*[\\\"'][A-Za-z0-9_.]+[\\\"']\"")
    assert.equal(0, rc, out)
    local test_pkgs = listed("test")
    local seen = 0
    for mod in out:gmatch("require[ (]*[\"']([%w_.]+)[\"']") do
      local top = mod:match("^[^.]+")
      local file = mod:gsub("%.", "/") .. ".lua"
      local in_tree = io.open("tools/" .. file) or io.open("lua/" .. file) or io.open("tests/" .. file)
      if in_tree then in_tree:close() end
      if not OURS[top] and not in_tree then
        seen = seen + 1
        local pkg = PACKAGE_OF[top]
        assert.is_not_nil(pkg, "require('" .. mod .. "'): which Debian package? "
          .. "add it to PACKAGE_OF and deps/debian.txt")
        assert.is_true(test_pkgs[pkg] == true,
          pkg .. " (for require '" .. mod .. "') is not on deps/debian.txt for make test")
      end
    end
    assert.is_true(seen > 0, "found no require of an outside module: the grep is broken")
  end)

  it("gives make test the build, the runner and the test tools; make demo only what it needs", function()
    local test, demo = listed("test"), listed("demo")
    for _, p in ipairs{ "lua5.4", "liblua5.4-dev", "libcurl4-openssl-dev", "libmicrohttpd-dev", "gcc", "make",
      "lua-busted", "lua-cjson", "lua-socket", "curl", "luarocks" } do
      assert.is_true(test[p] == true, p .. " missing for make test")
    end
    assert.is_true(demo["liblua5.4-dev"] == true)
    assert.is_nil(demo["lua-busted"])
    assert.is_nil(test["nodejs"], "optional packages are never installed automatically")
  end)

  it("not root: names the missing packages and the apt-get line, and exits non-zero", function()
    if sh("command -v setpriv >/dev/null") ~= 0 then
      pending("setpriv (util-linux) is not installed")
      return
    end
    local as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups "
    if sh(as_nobody .. "sh -c true") ~= 0 then
      -- e.g. a chroot whose / is mode 0700: an unprivileged process cannot even load libc
      pending("an unprivileged user cannot run programs here")
      return
    end
    local tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute(("mkdir -p %s/tools %s/deps && cp tools/install-deps.sh %s/tools/"):format(tmp, tmp, tmp)))
    local f = assert(io.open(tmp .. "/deps/debian.txt", "w"))
    f:write("# a list for the test\nlua5.4  build  the language\nno-such-package-oa1  test  a package nobody has\n")
    f:write("no-such-package-oa2  bench  not for make test\n")
    f:close()
    assert(os.execute("chmod -R a+rX " .. tmp))
    local rc, out = sh(as_nobody .. "sh " .. tmp .. "/tools/install-deps.sh test")
    os.execute("rm -rf " .. tmp)
    assert.equal(1, rc, out)
    assert.matches("missing Debian packages: no%-such%-package%-oa1\n", out)
    assert.matches("apt%-get install %-y %-%-no%-install%-recommends no%-such%-package%-oa1\n", out)
    assert.is_nil(out:find("oa2", 1, true), out)
  end)
end)
