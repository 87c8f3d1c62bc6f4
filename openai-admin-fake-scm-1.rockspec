rockspec_format = "3.0"
package = "openai-admin-fake"
version = "scm-1"
source = { url = "git+https://github.com/openai-admin/openai-admin.git" }
description = {
  summary = "A local, stateful fake of the OpenAI Admin API (bin/openai-admin-fake) for tests and demos",
  detailed = [[
Emulates all Admin API endpoints on 127.0.0.1 with consistent state, synthetic usage and costs,
audit logs, and fault injection for tests. Needs libmicrohttpd (Debian: libmicrohttpd-dev);
LuaRocks finds it without pkg-config (MICROHTTPD_DIR=... to point elsewhere).]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5", "openai-admin" }
external_dependencies = {
  MICROHTTPD = { header = "microhttpd.h", library = "microhttpd" },
}
build = {
  type = "make",
  build_target = "fake",
  build_variables = {
    CFLAGS = "$(CFLAGS)", LUA_INCDIR = "$(LUA_INCDIR)", LUA = "$(LUA)",
    MICROHTTPD_INCDIR = "$(MICROHTTPD_INCDIR)", MICROHTTPD_LIBDIR = "$(MICROHTTPD_LIBDIR)",
  },
  install_target = "install-fake",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)" },
}
test = { type = "command", command = "make test" }
