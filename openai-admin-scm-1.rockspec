rockspec_format = "3.0"
package = "openai-admin"
version = "scm-1"
source = { url = "git+https://github.com/openai-admin/openai-admin.git" }
description = {
  summary = "The OpenAI Admin API from Lua 5.4: a libcurl C core with the API tree as Lua tables",
  detailed = [[
Drives every OpenAI Admin API endpoint (audit logs, admin keys, usage and costs, invites, users,
groups, roles, certificates, projects and their users, service accounts, keys, rate limits,
spend alerts and limits, permissions) with retries, auto-pagination and structured errors.
Needs the libcurl and jansson development files (Debian: libcurl4-openssl-dev libjansson-dev)
and pkg-config.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "make",
  build_target = "core",
  build_variables = { CFLAGS = "$(CFLAGS)", LUA_INCDIR = "$(LUA_INCDIR)", LUA = "$(LUA)" },
  install_target = "install-client",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)" },
}
