# vipgen — build, install, set-up, tests, demo and benchmark. `make demo` and `make test` install what is missing
# first. `make` builds; `make install` (PREFIX=/usr/local, DESTDIR) installs; nothing here deletes outputs.

VERSION := $(shell sed -n 's/^\#define VIP_VERSION "\(.*\)"/\1/p' generator/util/version.h)

# The program's stages, each a folder of modules (see README.md, "Layout of the repository"); main.c and the
# batch (produce) sit above them.
VIP_DIRS := generator generator/input generator/text generator/layout generator/output generator/delivery \
            generator/tools generator/util
VIP_INC  := $(addprefix -I,$(VIP_DIRS))
VIP_HDR  := $(foreach d,$(VIP_DIRS),$(wildcard $(d)/*.h))

CC       ?= cc
CXX      ?= c++
SAN      ?=
# The project's own builds (make test, make demo, CI) add WERROR=-Werror; a distribution's build need not.
WERROR   ?=
PKGS     := harfbuzz harfbuzz-subset icu-uc icu-i18n icu-io libxml-2.0 freetype2 glib-2.0 gmime-3.0 libcurl \
            sqlite3 libqpdf poppler-glib cairo libmicrohttpd
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
VIP_CFLAGS   = -std=c17 -D_POSIX_C_SOURCE=200809L -Wall -Wextra $(WERROR) $(VIP_INC)
VIP_CXXFLAGS = -std=c++17 -Wall -Wextra $(WERROR) $(VIP_INC)
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhpdf -lcsv -lhyphen -lpng -lz -lm
include tests/fuzz/fuzz.mk

# Where `make install` puts things. The installed program finds its data beside its bin/ (../share/vipgen), so an
# installed tree can be moved; DATADIR is compiled in as the last place to look.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/vipgen
DESTDIR ?=

# Debian packages the build, the tests and the demo need. `make deps` installs the missing ones (as root).
DEBS := build-essential pkg-config libhpdf-dev libharfbuzz-dev libharfbuzz-bin libfreetype-dev libicu-dev \
        libxml2-dev libxml2-utils libcsv-dev libpng-dev zlib1g-dev libglib2.0-dev libgmime-3.0-dev \
        libcurl4-openssl-dev libsqlite3-dev libqpdf-dev libpoppler-glib-dev libcairo2-dev libmicrohttpd-dev \
        libhyphen-dev hyphen-en-gb hyphen-pl hyphen-ro fonts-noto-core fonts-noto-cjk python3-aiosmtpd openssl \
        chromium nodejs bc \
        poppler-utils qpdf mupdf-tools unicode-data valgrind scdoc man-db python3 $(FUZZ_DEBS)

BUILD   := build
LIB_SRC := $(filter-out generator/main.c generator/output/check_libharu.c,$(foreach d,$(VIP_DIRS),$(wildcard $(d)/*.c))) \
           $(foreach d,$(VIP_DIRS),$(wildcard $(d)/*.cc))
LIB_OBJ := $(patsubst generator/%,$(BUILD)/obj/%.o,$(LIB_SRC))
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
STRICT  := WERROR=-Werror

.PHONY: all deps build test test-asan test-valgrind demo bench clean install uninstall man

all: build

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root, or: apt-get install $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

build: $(BUILD)/vipgen $(TEST_BIN)

$(BUILD)/obj/%.c.o: generator/%.c $(VIP_HDR) $(BUILD)/.libharu-ok
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VIP_CFLAGS) -DVIPGEN_DATADIR='"$(DATADIR)/vipgen"' $(CFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

$(BUILD)/obj/%.cc.o: generator/%.cc $(VIP_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(VIP_CXXFLAGS) $(CXXFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

# The PDF backend relies on libharu 2.3's struct layouts (they change in 2.4): refuse to build against another.
$(BUILD)/.libharu-ok: generator/output/check_libharu.c
	@mkdir -p $(BUILD)
	$(CC) $(CPPFLAGS) $(VIP_CFLAGS) $(CFLAGS) -fsyntax-only $<
	@touch $@

$(BUILD)/libvip.a: $(LIB_OBJ)
	ar rcs $@ $^

# Linked by the C++ driver: the MessageFormat bridge is C++.
$(BUILD)/vipgen: $(BUILD)/obj/main.o $(BUILD)/libvip.a
	$(CXX) $(LDFLAGS) $(SAN) $^ $(DEPLIBS) -o $@

$(BUILD)/obj/main.o: generator/main.c $(VIP_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VIP_CFLAGS) $(CFLAGS) $(SAN) $(DEPCFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libvip.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VIP_CFLAGS) $(CFLAGS) $(SAN) -Itests/unit $(DEPCFLAGS) -c $< -o $@.o
	$(CXX) $(LDFLAGS) $(SAN) $@.o $(BUILD)/libvip.a $(DEPLIBS) -o $@

# The manual page, from its scdoc source.
$(BUILD)/vipgen.1: doc/vipgen.1.scd generator/util/version.h
	@mkdir -p $(BUILD)
	sed 's/@VERSION@/$(VERSION)/g' $< | scdoc > $@

man: $(BUILD)/vipgen.1

install: $(BUILD)/vipgen $(BUILD)/vipgen.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/vipgen/templates $(DESTDIR)$(DATADIR)/vipgen/translations \
	  $(DESTDIR)$(DATADIR)/vipgen/fonts $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)/examples/samples
	install -m 0755 $(BUILD)/vipgen $(DESTDIR)$(BINDIR)/vipgen
	install -m 0644 templates/*.xml templates/*.rng templates/*.png $(DESTDIR)$(DATADIR)/vipgen/templates/
	install -m 0644 translations/*.xlf translations/README.md $(DESTDIR)$(DATADIR)/vipgen/translations/
	install -m 0644 fonts/manifest $(DESTDIR)$(DATADIR)/vipgen/fonts/manifest
	install -m 0644 $(BUILD)/vipgen.1 $(DESTDIR)$(MANDIR)/man1/vipgen.1
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/cases.csv examples/northshire.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 examples/samples/*.txt $(DESTDIR)$(DOCDIR)/examples/samples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vipgen $(DESTDIR)$(MANDIR)/man1/vipgen.1
	rm -rf $(DESTDIR)$(DATADIR)/vipgen $(DESTDIR)$(DOCDIR)

test: deps
	$(MAKE) $(STRICT) build man
	$(MAKE) test-asan
	tests/run.sh $(BUILD) build-asan

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	$(MAKE) $(STRICT) BUILD=build-asan CFLAGS="-O1 -g" CXXFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" build

demo: deps
	$(MAKE) $(STRICT) build
	tests/demo.sh $(BUILD)/vipgen out

bench: deps
	$(MAKE) $(STRICT) build $(BUILD)/bench/bench_engine $(BUILD)/bench/bench_letters $(BUILD)/bench/bench_single
	$(BUILD)/bench/bench_engine
	$(BUILD)/bench/bench_single $(BUILD)/vipgen
	$(BUILD)/bench/bench_letters
	tests/bench/bench_delivery.sh $(BUILD)/vipgen
	tests/bench/bench_preview.sh $(BUILD)/vipgen

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libvip.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VIP_CFLAGS) $(CFLAGS) $(DEPCFLAGS) -c $< -o $@.o
	$(CXX) $(LDFLAGS) $@.o $(BUILD)/libvip.a $(DEPLIBS) -o $@

# Build products only: out/ holds the day's letters and is never deleted by make.
clean:
	rm -rf build build-asan build-fuzz
