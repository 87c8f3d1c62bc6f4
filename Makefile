# openai-admin: build, test, demo, bench.  `make help` lists the targets.
PKG_CONFIG ?= pkg-config
LUA        ?= lua5.4
BUSTED     ?= busted
CC         ?= cc
CSTD       := -std=c99 -D_POSIX_C_SOURCE=200809L
WARN       := -Wall -Wextra -Werror
OPT        ?= -O2 -g
SAN        ?=
# Where the C libraries are: X_INCDIR / X_LIBDIR when given (LuaRocks passes them from its
# external_dependencies, e.g. `luarocks make CURL_DIR=/opt/curl`), else pkg-config, else the
# compiler's default paths.
LUA_INCDIR ?=
CURL_INCDIR ?= $(if $(CURL_DIR),$(CURL_DIR)/include)
CURL_LIBDIR ?= $(if $(CURL_DIR),$(CURL_DIR)/lib)
JANSSON_INCDIR ?= $(if $(JANSSON_DIR),$(JANSSON_DIR)/include)
JANSSON_LIBDIR ?= $(if $(JANSSON_DIR),$(JANSSON_DIR)/lib)
MICROHTTPD_INCDIR ?= $(if $(MICROHTTPD_DIR),$(MICROHTTPD_DIR)/include)
MICROHTTPD_LIBDIR ?= $(if $(MICROHTTPD_DIR),$(MICROHTTPD_DIR)/lib)
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(or $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null),$(2))
inc_flags = $(if $(1),-I$(1),$(call pc_cflags,$(2)))
lib_flags = $(if $(1),-L$(1) -Wl$(comma)-rpath$(comma)$(1) $(3),$(call pc_libs,$(2),$(3)))
comma := ,
LUA_CFLAGS  := $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(or $(call pc_cflags,lua5.4),$(addprefix -I,$(wildcard /usr/include/lua5.4))))
CURL_CFLAGS := $(call inc_flags,$(CURL_INCDIR),libcurl)
CURL_LIBS   := $(call lib_flags,$(CURL_LIBDIR),libcurl,-lcurl)
JSON_CFLAGS := $(call inc_flags,$(JANSSON_INCDIR),jansson)
JSON_LIBS   := $(call lib_flags,$(JANSSON_LIBDIR),jansson,-ljansson)
MHD_CFLAGS  := $(call inc_flags,$(MICROHTTPD_INCDIR),libmicrohttpd)
MHD_LIBS    := $(call lib_flags,$(MICROHTTPD_LIBDIR),libmicrohttpd,-lmicrohttpd)
CFLAGS     ?=
# Our flags first, then the caller's CFLAGS (LuaRocks passes its own); -Werror always holds.
# The version's one source is lua/openai_admin/version.lua; the C modules get it as OA_VERSION.
VERSION    := $(shell sed -n 's/^return "\([^"]*\)".*/\1/p' lua/openai_admin/version.lua)
ALL_CFLAGS  = $(CSTD) $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden -DOA_VERSION='"$(VERSION)"' $(CFLAGS)
LDFLAGS    += $(SAN)

BUILD      ?= build
CORE_SRC   := $(wildcard src/*.c)
CORE_OBJ   := $(CORE_SRC:src/%.c=$(BUILD)/obj/core/%.o)
FAKE_SRC   := $(wildcard src/fake/*.c)
FAKE_OBJ   := $(FAKE_SRC:src/fake/%.c=$(BUILD)/obj/fake/%.o)
CORE_SO    := $(BUILD)/openai_admin/core.so
FAKE_SO    := $(BUILD)/openai_admin/fake/httpd.so
# Test-only: jansson as the reference decoder of tests/json_spec.lua's differential check.
JANSSON_REF_SO := $(BUILD)/jansson_ref.so

# Tests and tools run from the tree: modules from lua/ and build/ first.
export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/tests/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

.PHONY: all test-build core fake deps test lint demo bench asan valgrind install install-client install-fake clean help gen docs embed embed-test fuzz soak
all: core fake
# What the suite needs beyond the modules: jansson_ref, the differential decoder check's reference.
test-build: all $(JANSSON_REF_SO)

core: $(CORE_SO)
fake: $(FAKE_SO)

# Before compiling: each C library's header is there, or one line naming the library, its Debian
# package and the variables that point at it (instead of a compiler error).
# $(call need_header,HEADER,FLAGS,LIBRARY,DEBIAN PACKAGE,VARIABLE PREFIX)
need_header = @printf '\#include <%s>\n' '$(1)' | $(CC) $(2) -E -x c - >/dev/null 2>&1 || { \
  echo "openai-admin: cannot find $(1) ($(3)'s headers): install $(4) (Debian), or give their place with" \
    "$(5)_DIR=... or $(5)_INCDIR=... / $(5)_LIBDIR=... (make or luarocks)" >&2; exit 1; }
.PHONY: check-core-libs check-fake-libs
check-core-libs:
	$(call need_header,lua.h,$(LUA_CFLAGS),Lua 5.4,liblua5.4-dev,LUA)
	$(call need_header,curl/curl.h,$(CURL_CFLAGS),libcurl,libcurl4-openssl-dev,CURL)
check-fake-libs:
	$(call need_header,lua.h,$(LUA_CFLAGS),Lua 5.4,liblua5.4-dev,LUA)
	$(call need_header,microhttpd.h,$(MHD_CFLAGS),libmicrohttpd,libmicrohttpd-dev,MICROHTTPD)

$(CORE_OBJ): | check-core-libs
$(FAKE_OBJ): | check-fake-libs

$(BUILD)/obj/core/%.o: src/%.c $(wildcard src/*.h) lua/openai_admin/version.lua
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(CURL_CFLAGS) -c $< -o $@

$(BUILD)/obj/fake/%.o: src/fake/%.c $(wildcard src/fake/*.h) src/version.h lua/openai_admin/version.lua
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(MHD_CFLAGS) -c $< -o $@

# -z nodelete: lua_close's dlclose must not unmap libcurl and the TLS libraries it loaded; they
# keep process-wide state that curl_global_cleanup does not release (valgrind: "definitely lost").
# The core's JSON is its own (src/decode.c, src/encode.c): it does not link jansson, which is only
# the test-only reference (jansson_ref, built by test-build) and a bench row.
$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -Wl,-z,nodelete -o $@ $^ $(CURL_LIBS) -lm

$(JANSSON_REF_SO): tests/c/jansson_ref.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(JSON_CFLAGS) -shared $(LDFLAGS) -o $@ $< $(JSON_LIBS)

$(FAKE_SO): $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(MHD_LIBS)

# What each target needs is on the one list, deps/debian.txt; tools/install-deps.sh installs the
# missing packages (as root; otherwise it names them and the apt-get line, and the target stops).
# The build runs in a sub-make, so pkg-config's answers are read after the install.
DEPS_FOR ?= test
deps:
	@sh tools/install-deps.sh $(DEPS_FOR)

test:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory test-build
	@sh tools/run-tests.sh

lint:
	@sh tools/install-deps.sh lint
	luacheck lua bin/openai-admin bin/openai-admin-fake tests tools examples bench

demo:
	@sh tools/install-deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

bench:
	@sh tools/install-deps.sh bench
	@$(MAKE) --no-print-directory all
	@$(LUA) bench/run.lua

# The suite again with AddressSanitizer and UBSan in the C modules (lua5.4 itself is not
# instrumented, so the runtime is preloaded).
ASAN_BUILD := build-asan
asan:
	@sh tools/install-deps.sh asan test
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" test-build
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  LUA_CPATH="$(CURDIR)/$(ASAN_BUILD)/?.so;;" sh tools/run-tests.sh

# The suite under valgrind; a definite or indirect leak, or any memory error, fails it. Only our
# processes are traced: the tools the specs drive (socat, tinyproxy, openssl, awk, ...) have
# findings of their own that are not ours to fix.
valgrind:
	@sh tools/install-deps.sh valgrind test
	@$(MAKE) --no-print-directory test-build
	VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	  --trace-children=yes --trace-children-skip=*/cp,*/xargs,*/git,*/curl,*/node,*/luarocks,*/make,*/cc,*/gcc,*/script,*/jq,*/socat,*/tinyproxy,*/openssl,*/awk,*/mawk" \
	  sh tools/run-tests.sh

# Embedding from C (examples/embed/): hosts that link the core objects in (luaL_requiref) and
# can also load core.so. -Wl,-E exports the host's Lua API to the core.so it loads.
EMBED_DIR   := $(BUILD)/embed
CORE_AR     := $(BUILD)/libopenai_admin_core.a
LUA_LINK    ?= $(shell $(PKG_CONFIG) --libs lua5.4 2>/dev/null)
EMBED_CFLAGS = $(CSTD) $(WARN) $(OPT) $(SAN) -pthread -DOA_EMBED_STATIC $(LUA_CFLAGS) $(CFLAGS)
EMBED_LIBS   = -Wl,-E $(LUA_LINK) $(CURL_LIBS) -lm -ldl -pthread
EMBED_HOSTS := $(EMBED_DIR)/embed_threads $(EMBED_DIR)/embed_threads_once $(EMBED_DIR)/embed_poll

$(CORE_AR): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The same core, but taking the path for a libcurl without CURL_VERSION_THREADSAFE.
$(BUILD)/obj/embed/core_not_threadsafe.o: src/core.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DOA_TEST_CURL_NOT_THREADSAFE $(LUA_CFLAGS) $(CURL_CFLAGS) -c $< -o $@

$(EMBED_DIR)/embed_threads: examples/embed/embed_threads.c $(CORE_AR)
	@mkdir -p $(dir $@)
	$(CC) $(EMBED_CFLAGS) $< -o $@ $(CORE_AR) $(EMBED_LIBS)

$(EMBED_DIR)/embed_poll: examples/embed/embed_poll.c $(CORE_AR)
	@mkdir -p $(dir $@)
	$(CC) $(EMBED_CFLAGS) $< -o $@ $(CORE_AR) $(EMBED_LIBS)

$(EMBED_DIR)/embed_threads_once: examples/embed/embed_threads.c $(BUILD)/obj/embed/core_not_threadsafe.o $(filter-out %/core.o,$(CORE_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(EMBED_CFLAGS) $^ -o $@ $(EMBED_LIBS)

embed: all $(EMBED_HOSTS)

# The C hosts under ThreadSanitizer (clang): the core and the hosts instrumented, Lua linked
# statically from Debian's liblua5.4.a (not instrumented: each lua_State stays on one thread).
# (Not helgrind: it follows neither pthread_once nor libcurl's atomic init lock, and reports both.)
TSAN_BUILD := build-tsan
embed-test:
	@sh tools/install-deps.sh embed-test
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) CC=clang OPT="-O1 -g" \
	  SAN="-fsanitize=thread -fno-omit-frame-pointer" \
	  LUA_LINK="$$($(PKG_CONFIG) --variable=libdir lua5.4)/liblua5.4.a" embed
	@sh examples/embed/run-test.sh $(TSAN_BUILD)

# libFuzzer targets (fuzz/fuzz_*.c) with the C core under ASan/UBSan, FUZZ_SECONDS each
# (default 60) from the committed seed corpora fuzz/corpus/NAME/ (tools/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz:
	@sh tools/install-deps.sh fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tools/fuzz.sh

# A mixed admin workload against the fake with ~5% injected faults for SOAK_SECONDS (default
# 600), then the fake's state checked against what the client reported (tools/soak.lua).
SOAK_SECONDS ?= 600
soak:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory all
	@SOAK_SECONDS=$(SOAK_SECONDS) $(LUA) tools/soak.lua

# Install: the client (openai-admin rockspec) and the fake server (openai-admin-fake rockspec).
PREFIX      ?= /usr/local
INST_LUADIR ?= $(PREFIX)/share/lua/5.4
INST_LIBDIR ?= $(PREFIX)/lib/lua/5.4
INST_BINDIR ?= $(PREFIX)/bin
install: install-client install-fake

# Every Lua module of the client (all of lua/openai_admin but the fake), subfolders included.
CLIENT_LUA = $(filter-out openai_admin/fake/%,$(patsubst lua/%,%,$(shell find lua/openai_admin -name '*.lua')))
install-client: core
	install -d $(DESTDIR)$(INST_LIBDIR)/openai_admin $(DESTDIR)$(INST_BINDIR)
	install -m 0755 $(CORE_SO) $(DESTDIR)$(INST_LIBDIR)/openai_admin/core.so
	for f in $(CLIENT_LUA); do install -D -m 0644 lua/$$f $(DESTDIR)$(INST_LUADIR)/$$f || exit 1; done
	install -m 0755 bin/openai-admin $(DESTDIR)$(INST_BINDIR)/openai-admin

install-fake: fake
	install -d $(DESTDIR)$(INST_LIBDIR)/openai_admin/fake $(DESTDIR)$(INST_LUADIR)/openai_admin/fake $(DESTDIR)$(INST_BINDIR)
	install -m 0755 $(FAKE_SO) $(DESTDIR)$(INST_LIBDIR)/openai_admin/fake/httpd.so
	install -m 0644 lua/openai_admin/fake/*.lua $(DESTDIR)$(INST_LUADIR)/openai_admin/fake/
	install -m 0755 bin/openai-admin-fake $(DESTDIR)$(INST_BINDIR)/openai-admin-fake

gen:
	@sh tools/install-deps.sh gen
	$(LUA) tools/gen_api.lua ../shared/api
	@$(MAKE) --no-print-directory docs

# the generated files alone: endpoint reference, editor annotations, the README's package table,
# the versioned rockspecs
docs:
	$(LUA) tools/gen_docs.lua
	$(LUA) tools/gen_rockspecs.lua

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) build-fuzz

help:
	@echo "make            build the C modules into build/"
	@echo "make test       install what it needs (deps/debian.txt, as root), build, run the busted suite"
	@echo "make demo       the same installs, then the fake Admin API and examples/tour.lua against it"
	@echo "make deps       install the packages of DEPS_FOR (default test) from deps/debian.txt"
	@echo "make bench      performance comparisons (not part of make test)"
	@echo "make asan       the test suite under ASan/UBSan"
	@echo "make valgrind   the test suite under valgrind (leaks are errors)"
	@echo "make embed      build the C embedding examples (examples/embed/)"
	@echo "make embed-test the C hosts under ThreadSanitizer: 8 threads x 500 requests, the poll-loop host"
	@echo "make fuzz       the libFuzzer targets under ASan/UBSan, FUZZ_SECONDS (default 60) each"
	@echo "make soak       SOAK_SECONDS (default 600) of mixed admin calls with injected faults"
	@echo "make gen        regenerate lua/openai_admin/api.lua from ../shared/api, then make docs"
	@echo "make docs       regenerate docs/endpoints.md, types/openai_admin.lua, the README's package table, the versioned rockspecs"
