# openai-admin: build, test, demo, bench.  `make help` lists the targets.
PKG_CONFIG ?= pkg-config
LUA        ?= lua5.4
BUSTED     ?= busted
CC         ?= cc
CSTD       := -std=c99 -D_POSIX_C_SOURCE=200809L
WARN       := -Wall -Wextra -Werror
OPT        ?= -O2 -g
SAN        ?=
LUA_CFLAGS  := $(shell $(PKG_CONFIG) --cflags lua5.4 2>/dev/null)
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JSON_LIBS   := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
MHD_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS    := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
CFLAGS     ?=
CFLAGS     += $(CSTD) $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden
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

.PHONY: all core fake test check lint demo bench asan valgrind install clean help gen
all: core fake

core: $(CORE_SO)
fake: $(FAKE_SO)

$(BUILD)/obj/core/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_CFLAGS) $(CURL_CFLAGS) $(JSON_CFLAGS) -c $< -o $@

$(BUILD)/obj/fake/%.o: src/fake/%.c $(wildcard src/fake/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_CFLAGS) $(MHD_CFLAGS) -c $< -o $@

$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(CURL_LIBS) $(JSON_LIBS)

$(FAKE_SO): $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(MHD_LIBS)

# Debian packages the build and the tests need; installed only when missing and root.
DEBS := lua5.4 liblua5.4-dev libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev pkg-config lua-busted lua-check lua-socket curl
deps:
	@sh tools/install-deps.sh $(DEBS)

test: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run-tests.sh

gen:
	$(LUA) tools/gen_api.lua ../shared/api

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
