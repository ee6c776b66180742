# Makefile: compiles the C. musl-gcc -static for what ships; gcc + ASan/UBSan for unit tests.
#
# A component is a directory of .c files; the one holding main() is DIR/main.c. A program is
# built from its component, the components it uses, and lib/; its other names are hard links to
# it. Unit tests are DIR/t/*.c, each linked with the component's files except main.c, and run by
# prove from out/t/.

O       ?= out
MUSLCC  ?= musl-gcc
CC      ?= cc
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
CPPFLAGS = -D_GNU_SOURCE -Ilib
# musl-gcc does not look into the kernel headers on its own (<linux/loop.h> and friends). C
# without exceptions needs no unwind tables (init and persist are in the initramfs, whose size is
# bounded: 2.8 KB of it). Measured and not taken: -flto, -Oz, gold's --icf (none smaller after xz).
SHIP_CFLAGS = -std=c11 $(WARN) -Os -static -ffunction-sections -fdata-sections \
              -fno-asynchronous-unwind-tables -fno-unwind-tables \
              -Wl,--gc-sections -s -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu
TEST_CFLAGS = -std=c11 $(WARN) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -Itests/lib

# program = the component holding its main.c, then the components it uses
PROG_overlive = initramfs kmod tools/persist
PROG_modpick  = tools/modpick kmod
PROG_mkcpio   = tools/mkcpio
PROG_powercut = tools/powercut
# overlive-update reads the slot record with the init's own code (initramfs/slotio.c) and checks
# an image with its prober; it is not in the initramfs (whose size is bounded): the live system
# has it from the root image (the recipes install it), a host from out/bin
PROG_overlive-update = tools/update initramfs kmod
# persist on a host and in the root image: the initramfs's persist and the commands a boot does
# not need (tools/persist/full/: export, rebase and conflicts, run in the live system or on a
# host), which the initramfs (whose size is bounded) does not carry; initramfs/ for its loop and
# prober code
PROG_persist  = tools/persist/full tools/persist initramfs kmod
# a program's other names: hard links beside it, each running as its name says (argv[0]). The
# init and persist are one program (initramfs/main.c): in the initramfs they share one C library
# and lib/ (5 KB of it after xz), and /bin/persist is a link to /init (out/bin/persist is the
# program above: the same commands and export, rebase, conflicts).
LINKS_overlive = init
ALL_PROGS = overlive modpick mkcpio powercut overlive-update persist
# extra link flags of a program (compression libraries and the like). persist's zstd: build.sh
# gives the small musl build of Debian's libzstd source (initramfs/libzstd.sh) as ZSTD_LIB and
# ZSTD_INC; a bare `make` takes that build too when build.sh left it in cache/zstd/build; without
# it, Debian's own libzstd.a (libzstd-dev; about 220 KB more in the initramfs, over its size bar).
# out/bin/persist (the root image's and a host's), which no size bounds, links the fast build of
# the same source (libzstd.sh's fast profile: ZSTD_FAST_LIB, ZSTD_FAST_INC, in cache/zstd/build-fast),
# which expands a save file's PACKs in half the instructions; without it, the small one.
# The unit tests (gcc, ASan) link Debian's shared libzstd: the same library, built for glibc.
ZSTD_SMALL   := cache/zstd/build
ZSTD_LIB     ?= $(or $(wildcard $(ZSTD_SMALL)/libzstd.a),/usr/lib/x86_64-linux-gnu/libzstd.a)
ZSTD_INC     ?= $(if $(wildcard $(ZSTD_SMALL)/libzstd.a),-I$(ZSTD_SMALL)/include)
ZSTD_FAST    := cache/zstd/build-fast
ZSTD_FAST_LIB ?= $(or $(wildcard $(ZSTD_FAST)/libzstd.a),$(ZSTD_LIB))
ZSTD_FAST_INC ?= $(if $(wildcard $(ZSTD_FAST)/libzstd.a),-I$(ZSTD_FAST)/include,$(ZSTD_INC))
LIBS_overlive = $(ZSTD_LIB)
INC_overlive  = $(ZSTD_INC)
LIBS_persist  = $(ZSTD_FAST_LIB)
INC_persist   = $(ZSTD_FAST_INC)
LIBS_TEST_tools-persist = -lzstd
# the pack's built-in xz decoder (kmod/xzdec.c): XZ Embedded's files in Debian's busybox source,
# which build.sh fetches for the rescue shell and gives as XZ_SRC; without them the init has no
# built-in decoder and runs busybox's unxz
XZ_SRC       ?= cache/busybox/src/tree/archival/libarchive/unxz
CPPFLAGS     += $(if $(wildcard $(XZ_SRC)/xz_dec_lzma2.c),-I$(XZ_SRC))

PROGS := $(foreach p,$(ALL_PROGS),$(if $(wildcard $(firstword $(PROG_$(p)))/main.c),$(p)))

srcs_of  = $(sort $(filter-out %/main.c,$(foreach d,$(1),$(wildcard $(d)/*.c))) $(wildcard lib/*.c))
hdrs_of  = $(foreach d,lib $(1),$(wildcard $(d)/*.h))

all: $(addprefix $(O)/bin/,$(PROGS) $(foreach p,$(PROGS),$(LINKS_$(p))))

define program
$(O)/bin/$(1): $(firstword $(PROG_$(1)))/main.c $(call srcs_of,$(PROG_$(1))) $(call hdrs_of,$(PROG_$(1))) $$(filter %.a,$$(LIBS_$(1)))
	@mkdir -p $$(@D)
	$$(MUSLCC) $$(CPPFLAGS) $(addprefix -I,$(PROG_$(1))) $$(INC_$(1)) $$(SHIP_CFLAGS) $$(CFLAGS_$(1)) -o $$@ \
		$(firstword $(PROG_$(1)))/main.c $(call srcs_of,$(PROG_$(1))) $$(LIBS_$(1))
endef
$(foreach p,$(PROGS),$(eval $(call program,$(p))))

define links
$(addprefix $(O)/bin/,$(LINKS_$(1))): $(O)/bin/$(1)
	ln -f $$< $$@
endef
$(foreach p,$(PROGS),$(if $(LINKS_$(p)),$(eval $(call links,$(p)))))

# unit tests: a test in component D links D and what D's program uses (TEST_USES_D says less
# where only D's main.c reaches a component: the init's tests need no persist)
comp_name = $(subst /,-,$(1))
TEST_USES_initramfs = initramfs kmod
# persist's tests check every command of the full program (tools/persist/full/ and what it uses)
TEST_USES_tools-persist = $(PROG_persist)
uses_of   = $(or $(TEST_USES_$(call comp_name,$(1))),$(strip $(foreach p,$(ALL_PROGS),$(if $(filter $(1),$(firstword $(PROG_$(p)))),$(PROG_$(p))))),$(1))
TEST_DIRS = initramfs kmod tools/modpick tools/mkcpio tools/persist tools/powercut tools/update lib
TESTS    :=

define unit_test
$(O)/t/$(call comp_name,$(1))-$(basename $(notdir $(2))).t: $(2) $(wildcard $(1)/t/*.h) $(call srcs_of,$(call uses_of,$(1))) $(call hdrs_of,$(call uses_of,$(1))) $(wildcard tests/lib/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $(addprefix -I,$(call uses_of,$(1))) $$(TEST_CFLAGS) -o $$@ $(2) \
		$(call srcs_of,$(call uses_of,$(1))) $$(LIBS_TEST_$(call comp_name,$(1)))
TESTS += $(O)/t/$(call comp_name,$(1))-$(basename $(notdir $(2))).t
endef
$(foreach d,$(TEST_DIRS),$(foreach t,$(wildcard $(d)/t/*.c),$(eval $(call unit_test,$(d),$(t)))))

tests: $(TESTS)

# libFuzzer harnesses: DIR/t/fuzz/NAME-fuzzer.c, linked like DIR's unit tests. `make fuzz` builds
# them with clang into $(O)/fuzz/COMP-NAME (./build.sh fuzz runs them, docs/fuzzing.md); the unit
# tests replay each one's saved inputs (DIR/t/fuzz/NAME/) with the unit tests' compiler as
# $(O)/t/COMP-fuzz-NAME.t (tests/lib/fuzz_replay.c). FUZZ_LDFLAGS_COMP-NAME: a harness's extra link flags.
FUZZ_CC     ?= clang
FUZZ_CFLAGS  = -std=c11 $(WARN) -Wno-missing-field-initializers -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer -Itests/lib
FUZZ_LDFLAGS_initramfs-probe = -Wl,--wrap=probe_read
FUZZERS :=
FUZZ_TESTS :=

define fuzzer
$(O)/fuzz/$(call comp_name,$(1))-$(3): $(2) tests/lib/fuzz.h $(wildcard $(1)/t/*.h) $(call srcs_of,$(call uses_of,$(1))) $(call hdrs_of,$(call uses_of,$(1)))
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(CPPFLAGS) $(addprefix -I,$(call uses_of,$(1))) -I$(1)/t $$(FUZZ_CFLAGS) -o $$@ $(2) \
		$(call srcs_of,$(call uses_of,$(1))) $$(LIBS_TEST_$(call comp_name,$(1))) $$(FUZZ_LDFLAGS_$(call comp_name,$(1))-$(3))
$(O)/t/$(call comp_name,$(1))-fuzz-$(3).t: $(2) tests/lib/fuzz.h tests/lib/fuzz_replay.c $(wildcard $(1)/t/*.h) $(call srcs_of,$(call uses_of,$(1))) $(call hdrs_of,$(call uses_of,$(1))) $(wildcard $(1)/t/fuzz/$(3)/*)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) -DFUZZ_REPLAY -DFUZZ_SAVED='"$(1)/t/fuzz/$(3)"' $(addprefix -I,$(call uses_of,$(1))) -I$(1)/t \
		$$(TEST_CFLAGS) -o $$@ tests/lib/fuzz_replay.c $(2) \
		$(call srcs_of,$(call uses_of,$(1))) $$(LIBS_TEST_$(call comp_name,$(1))) $$(FUZZ_LDFLAGS_$(call comp_name,$(1))-$(3))
FUZZERS += $(O)/fuzz/$(call comp_name,$(1))-$(3)
FUZZ_TESTS += $(O)/t/$(call comp_name,$(1))-fuzz-$(3).t
endef
$(foreach d,$(TEST_DIRS),$(foreach f,$(wildcard $(d)/t/fuzz/*-fuzzer.c),$(eval $(call fuzzer,$(d),$(f),$(patsubst %-fuzzer.c,%,$(notdir $(f)))))))

fuzz: $(FUZZERS)
tests: $(FUZZ_TESTS)

# tests/overlay's helpers (census, opgen, treesum): host programs the real-overlay tests run
# (tests/lib/mounts.sh), built as the unit tests are, into $(O)/tests-overlay/
OVERLAY_HELPERS := $(patsubst tests/overlay/%.c,$(O)/tests-overlay/%,$(wildcard tests/overlay/*.c))

$(O)/tests-overlay/%: tests/overlay/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -o $@ $<

tests: $(OVERLAY_HELPERS)

clean:
	rm -rf $(O)/bin $(O)/t $(O)/tests-overlay $(O)/fuzz

.PHONY: all tests fuzz clean
