# libFuzzer harnesses (tests/fuzz/fuzz_*.c), included by the Makefile. See tests/fuzz/README.md.
#   make fuzz-build            every harness into build-fuzz/
#   make fuzz                  each harness in turn for FUZZ_SECONDS (default 120) on its corpus
#   make fuzz-smoke            each harness for about 8 seconds
#   make fuzz FUZZ_ONLY=fuzz_text FUZZ_SECONDS=600    one harness
# New corpus entries and crash files go to FUZZ_WORK (a scratch directory), never into the repository.

# Included anywhere in the Makefile, this file leaves its default goal as it was.
fuzz_default_goal := $(.DEFAULT_GOAL)

# The repository root, compiled into the harnesses: they find fonts/, templates/ and translations/ from any cwd.
FUZZ_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../..)

# Debian 12: clang 14, and libFuzzer's runtime (libclang_rt.fuzzer), which clang only recommends.
FUZZ_DEBS := clang libclang-rt-14-dev

FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 8
FUZZ_WORK    ?= $(FUZZ_BUILD)/work
FUZZ_ONLY    ?=
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The library is built with -fsanitize=fuzzer-no-link: instrumented for coverage, libFuzzer's main linked once.
FUZZ_LIBSAN  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The library's dependencies, listed here (the Makefile's PKGS and DEPLIBS are added when they are defined, so a
# dependency added there reaches the harnesses too).
FUZZ_PKGS     = $(sort harfbuzz harfbuzz-subset icu-uc icu-i18n icu-io libxml-2.0 freetype2 $(PKGS))
FUZZ_DEPCFLAGS = $(shell pkg-config --cflags $(FUZZ_PKGS))
FUZZ_DEPLIBS   = $(shell pkg-config --libs $(FUZZ_PKGS)) $(sort -lhpdf -lcsv -lpng -lz -lm $(filter -l%,$(DEPLIBS)))

FUZZ_DIR      := tests/fuzz
# The stages' folders (the Makefile's VIP_DIRS when it is defined before this file is included).
FUZZ_DIRS     := $(if $(VIP_DIRS),$(VIP_DIRS),generator $(wildcard generator/*/))
FUZZ_LIB_C    := $(filter-out generator/main.c %/check_libharu.c,$(foreach d,$(FUZZ_DIRS),$(wildcard $(d)/*.c)))
FUZZ_LIB_CC   := $(foreach d,$(FUZZ_DIRS),$(wildcard $(d)/*.cc))
FUZZ_HDR      := $(foreach d,$(FUZZ_DIRS),$(wildcard $(d)/*.h))
FUZZ_INC      := $(addprefix -I,$(FUZZ_DIRS))
FUZZ_LIB_OBJ  := $(patsubst generator/%,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_C) $(FUZZ_LIB_CC))
FUZZ_SRC      := $(wildcard $(FUZZ_DIR)/fuzz_*.c)
FUZZ_NAMES    := $(patsubst $(FUZZ_DIR)/%.c,%,$(FUZZ_SRC))
FUZZ_BIN      := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))
FUZZ_RUN      := $(if $(FUZZ_ONLY),$(FUZZ_ONLY),$(FUZZ_NAMES))
# The library is someone else's code compiled by another compiler: its warnings are shown, not made errors.
FUZZ_CFLAGS   := -std=c17 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra $(FUZZ_INC)
FUZZ_CXXFLAGS := -std=c++17 -O1 -g -Wall -Wextra $(FUZZ_INC)

.PHONY: fuzz-build fuzz fuzz-smoke

fuzz-build: $(FUZZ_BIN)

$(FUZZ_BUILD)/obj/%.c.o: generator/%.c $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LIBSAN) $(FUZZ_DEPCFLAGS) -c $< -o $@

$(FUZZ_BUILD)/obj/%.cc.o: generator/%.cc $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) $(FUZZ_LIBSAN) $(FUZZ_DEPCFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libvip-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Linked by clang++: the MessageFormat bridge is C++.
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/fuzz_common.h $(FUZZ_HDR) $(FUZZ_BUILD)/libvip-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror $(FUZZ_SAN) -DVIP_SOURCE_DIR='"$(FUZZ_ROOT)"' $(FUZZ_DEPCFLAGS) -c $< -o $@.o
	$(FUZZ_CXX) $(FUZZ_SAN) $@.o $(FUZZ_BUILD)/libvip-fuzz.a $(FUZZ_DEPLIBS) -o $@

# Runs the harnesses in $(FUZZ_RUN) one after another for $(1) seconds each, one process (-jobs=1: the machine is
# shared). The corpus in git is read only; what libFuzzer adds goes to $(FUZZ_WORK)/corpus/<name>.
define fuzz_run
	@set -e; for h in $(FUZZ_RUN); do \
	  mkdir -p $(FUZZ_WORK)/corpus/$$h $(FUZZ_WORK)/crashes/$$h $(FUZZ_WORK)/tmp; \
	  dict=; [ -f $(FUZZ_DIR)/$$h.dict ] && dict=-dict=$(FUZZ_DIR)/$$h.dict; \
	  echo "== $$h: $(1) s, new corpus entries in $(FUZZ_WORK)/corpus/$$h, crashes in $(FUZZ_WORK)/crashes/$$h"; \
	  TMPDIR=$(abspath $(FUZZ_WORK)/tmp) $(FUZZ_BUILD)/$$h -max_total_time=$(1) -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 $$dict \
	    -artifact_prefix=$(FUZZ_WORK)/crashes/$$h/ $(FUZZ_WORK)/corpus/$$h $(FUZZ_DIR)/corpus/$$h; \
	done
endef

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

.DEFAULT_GOAL := $(fuzz_default_goal)
