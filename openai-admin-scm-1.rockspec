rockspec_format = "3.0"
package = "openai-admin"
version = "scm-1"
source = { url = "git+https://github.com/openai-admin/openai-admin.git" }
description = {
  summary = "The OpenAI Admin API from Lua 5.4: a libcurl C core with the API tree as Lua tables",
  detailed = [[
Drives every OpenAI Admin API endpoint (audit logs, admin keys, usage and costs, invites, users,
groups, roles, certificates, projects and their users, service accounts, keys, rate limits,
spend alerts and limits, permissions) with retries, auto-pagination and structured errors,
and the openai-admin command (bin/openai-admin: every endpoint from the shell; docs/cli.md).
Needs the libcurl development files (Debian: libcurl4-openssl-dev); pkg-config is not needed:
LuaRocks finds them (CURL_DIR=... to point elsewhere).]],
  license = "MIT",
}
-- luv (libuv): the jobs' files (openai_admin.jobs: a new secret in a 0600 file, fsync + rename
-- checkpoints of the audit export). Debian: lua-luv.
dependencies = { "lua >= 5.4, < 5.5", "luv" }
-- LuaRocks looks for these before building and names the one it cannot find; it passes their
-- directories to make (CURL_INCDIR, CURL_LIBDIR, ...), so pkg-config is not needed. libcurl is
-- looked up by its library only: Debian keeps curl/curl.h in the multiarch folder
-- (/usr/include/x86_64-linux-gnu), where LuaRocks does not look for headers, so a header check
-- would fail on Debian itself. The Makefile then checks curl/curl.h with the compiler's own
-- search path and names libcurl (and CURL_DIR / CURL_INCDIR) when it is missing.
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  type = "make",
  build_target = "core",
  build_variables = {
    CFLAGS = "$(CFLAGS)", LUA_INCDIR = "$(LUA_INCDIR)", LUA = "$(LUA)",
    CURL_INCDIR = "$(CURL_INCDIR)", CURL_LIBDIR = "$(CURL_LIBDIR)",
  },
  install_target = "install-client",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)" },
}
-- `luarocks test` in a checkout runs the whole suite (it installs what it needs, as root).
test = { type = "command", command = "make test" }
