# vipgen — build, set-up, tests, demo and benchmark. `make demo` and `make test` install what is missing first.

CC      ?= cc
CXX     ?= c++
SAN     ?=
PKGS    := harfbuzz harfbuzz-subset icu-uc icu-i18n icu-io libxml-2.0 freetype2
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c17 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Igenerator
CXXFLAGS ?= -O2 -g
override CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -Igenerator
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhpdf -lcsv -lpng -lz -lm

# Debian packages the build, the tests and the demo need. `make deps` installs the missing ones (as root).
DEBS := build-essential pkg-config libhpdf-dev libharfbuzz-dev libharfbuzz-bin libfreetype-dev libicu-dev \
        libxml2-dev libxml2-utils libcsv-dev libpng-dev zlib1g-dev fonts-noto-core fonts-noto-cjk \
        poppler-utils qpdf mupdf-tools unicode-data valgrind

BUILD   := build
LIB_SRC := $(filter-out generator/main.c,$(wildcard generator/*.c)) $(wildcard generator/*.cc)
LIB_OBJ := $(patsubst generator/%,$(BUILD)/obj/%.o,$(LIB_SRC))
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all deps build test test-asan test-valgrind demo bench clean

all: build

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root, or: apt-get install $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

build: $(BUILD)/vipgen $(TEST_BIN)

$(BUILD)/obj/%.c.o: generator/%.c $(wildcard generator/*.h) $(BUILD)/.libharu-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

$(BUILD)/obj/%.cc.o: generator/%.cc $(wildcard generator/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

# The PDF backend relies on libharu 2.3's struct layouts (they change in 2.4): refuse to build against another.
$(BUILD)/.libharu-ok: generator/check_libharu.c
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -fsyntax-only $<
	@touch $@

$(BUILD)/libvip.a: $(LIB_OBJ)
	ar rcs $@ $^

# Linked by the C++ driver: the MessageFormat bridge is C++.
$(BUILD)/vipgen: $(BUILD)/obj/main.o $(BUILD)/libvip.a
	$(CXX) $(SAN) $^ $(DEPLIBS) -o $@

$(BUILD)/obj/main.o: generator/main.c $(wildcard generator/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h tests/unit/unicode_data.h tests/unit/args.h $(BUILD)/libvip.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Itests/unit $(DEPCFLAGS) -c $< -o $@.o
	$(CXX) $(SAN) $@.o $(BUILD)/libvip.a $(DEPLIBS) -o $@

test: deps
	$(MAKE) build
	$(MAKE) test-asan
	tests/run.sh $(BUILD) build-asan

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g" CXXFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" build

demo: deps
	$(MAKE) build
	tests/demo.sh $(BUILD)/vipgen out

bench: deps
	$(MAKE) build $(BUILD)/bench/bench_engine $(BUILD)/bench/bench_letters
	$(BUILD)/bench/bench_engine
	$(BUILD)/bench/bench_letters

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libvip.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPCFLAGS) -c $< -o $@.o
	$(CXX) $@.o $(BUILD)/libvip.a $(DEPLIBS) -o $@

clean:
	rm -rf build build-asan out
