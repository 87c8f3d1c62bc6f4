rockspec_format = "3.0"
package = "openai-admin-fake"
version = "scm-1"
source = { url = "git+https://github.com/openai-admin/openai-admin.git" }
description = {
  summary = "A local, stateful fake of the OpenAI Admin API (bin/openai-admin-fake) for tests and demos",
  detailed = [[
Emulates all Admin API endpoints on 127.0.0.1 with consistent state, synthetic usage and costs,
audit logs, and fault injection for tests. Needs libmicrohttpd (Debian: libmicrohttpd-dev).]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5", "openai-admin" }
build = {
  type = "make",
  build_target = "fake",
  build_variables = { CFLAGS = "$(CFLAGS)", LUA_INCDIR = "$(LUA_INCDIR)", LUA = "$(LUA)" },
  install_target = "install-fake",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)" },
}
