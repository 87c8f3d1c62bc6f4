# openai-admin: build, test, demo, bench.  `make help` lists the targets.
PKG_CONFIG ?= pkg-config
LUA        ?= lua5.4
BUSTED     ?= busted
CC         ?= cc
CSTD       := -std=c99 -D_POSIX_C_SOURCE=200809L
WARN       := -Wall -Wextra -Werror
OPT        ?= -O2 -g
SAN        ?=
LUA_INCDIR ?=
LUA_CFLAGS  := $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell $(PKG_CONFIG) --cflags lua5.4 2>/dev/null))
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JSON_LIBS   := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
MHD_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS    := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
CFLAGS     ?=
# Our flags first, then the caller's CFLAGS (LuaRocks passes its own); -Werror always holds.
ALL_CFLAGS  = $(CSTD) $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden $(CFLAGS)
LDFLAGS    += $(SAN)

BUILD      ?= build
CORE_SRC   := $(wildcard src/*.c)
CORE_OBJ   := $(CORE_SRC:src/%.c=$(BUILD)/obj/core/%.o)
FAKE_SRC   := $(wildcard src/fake/*.c)
FAKE_OBJ   := $(FAKE_SRC:src/fake/%.c=$(BUILD)/obj/fake/%.o)
CORE_SO    := $(BUILD)/openai_admin/core.so
FAKE_SO    := $(BUILD)/openai_admin/fake/httpd.so

# Tests and tools run from the tree: modules from lua/ and build/ first.
export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/tests/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

.PHONY: all core fake deps test lint demo bench asan valgrind install install-client install-fake clean help gen
all: core fake

core: $(CORE_SO)
fake: $(FAKE_SO)

$(BUILD)/obj/core/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(CURL_CFLAGS) $(JSON_CFLAGS) -c $< -o $@

$(BUILD)/obj/fake/%.o: src/fake/%.c $(wildcard src/fake/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(MHD_CFLAGS) -c $< -o $@

# -z nodelete: lua_close's dlclose must not unmap libcurl and the TLS libraries it loaded; they
# keep process-wide state that curl_global_cleanup does not release (valgrind: "definitely lost").
$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -Wl,-z,nodelete -o $@ $^ $(CURL_LIBS) $(JSON_LIBS)

$(FAKE_SO): $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(MHD_LIBS)

# Debian packages the build and the tests need; installed only when missing and root.
DEBS := lua5.4 liblua5.4-dev libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev pkg-config lua-busted lua-check lua-socket curl luarocks
deps:
	@sh tools/install-deps.sh $(DEBS)

test: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run-tests.sh

lint:
	luacheck lua bin/openai-admin bin/openai-admin-fake tests tools examples bench

demo: all
	@sh tools/demo.sh

bench: all
	@$(LUA) bench/run.lua

# The suite again with AddressSanitizer and UBSan in the C modules (lua5.4 itself is not
# instrumented, so the runtime is preloaded).
ASAN_BUILD := build-asan
asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" all
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  LUA_CPATH="$(CURDIR)/$(ASAN_BUILD)/?.so;;" sh tools/run-tests.sh

# The suite under valgrind; a definite or indirect leak, or any memory error, fails it.
valgrind: all
	VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	  --trace-children=yes --trace-children-skip=*/cp,*/xargs,*/git,*/curl,*/node,*/luarocks,*/make,*/cc,*/gcc" \
	  sh tools/run-tests.sh

# Install: the client (openai-admin rockspec) and the fake server (openai-admin-fake rockspec).
PREFIX      ?= /usr/local
INST_LUADIR ?= $(PREFIX)/share/lua/5.4
INST_LIBDIR ?= $(PREFIX)/lib/lua/5.4
INST_BINDIR ?= $(PREFIX)/bin
install: install-client install-fake

install-client: core
	install -d $(DESTDIR)$(INST_LIBDIR)/openai_admin $(DESTDIR)$(INST_LUADIR)/openai_admin/cli $(DESTDIR)$(INST_BINDIR)
	install -m 0755 $(CORE_SO) $(DESTDIR)$(INST_LIBDIR)/openai_admin/core.so
	install -m 0644 lua/openai_admin/*.lua $(DESTDIR)$(INST_LUADIR)/openai_admin/
	install -m 0644 lua/openai_admin/cli/*.lua $(DESTDIR)$(INST_LUADIR)/openai_admin/cli/
	install -m 0755 bin/openai-admin $(DESTDIR)$(INST_BINDIR)/openai-admin

install-fake: fake
	install -d $(DESTDIR)$(INST_LIBDIR)/openai_admin/fake $(DESTDIR)$(INST_LUADIR)/openai_admin/fake $(DESTDIR)$(INST_BINDIR)
	install -m 0755 $(FAKE_SO) $(DESTDIR)$(INST_LIBDIR)/openai_admin/fake/httpd.so
	install -m 0644 lua/openai_admin/fake/*.lua $(DESTDIR)$(INST_LUADIR)/openai_admin/fake/
	install -m 0755 bin/openai-admin-fake $(DESTDIR)$(INST_BINDIR)/openai-admin-fake

gen:
	$(LUA) tools/gen_api.lua ../shared/api
	$(LUA) tools/gen_docs.lua

clean:
	rm -rf $(BUILD)

help:
	@echo "make            build the C modules into build/"
	@echo "make test       install missing Debian packages (as root), build, run the busted suite"
	@echo "make demo       start the fake Admin API and run examples/tour.lua against it"
	@echo "make bench      performance comparisons (not part of make test)"
	@echo "make asan       the test suite under ASan/UBSan"
	@echo "make valgrind   the test suite under valgrind (leaks are errors)"
	@echo "make gen        regenerate lua/openai_admin/api.lua from ../shared/api"
