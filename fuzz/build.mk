# fuzz/: libFuzzer targets (fuzz/fuzz_*.c), one binary each, built with
# clang against the project sources instrumented for coverage, ASan and
# UBSan. Included by the top Makefile (-include fuzz/build.mk).
#
#   make fuzz FUZZ_SECONDS=N   build every target, run each for N seconds
#                              (default 60; 0 only replays the corpus)
#   make fuzz-build            just build them ($(O)/fuzz/fuzz_*)
#   make fuzz-regress          replay fuzz/corpus/<target>/ once (fast; the
#                              seeds and every crash reproducer found)
#   FUZZ_TARGETS="fuzz_kmsg"   a subset
#
# Inputs that libFuzzer finds go to $(O)/fuzz/corpus/<target>/ (the seed
# corpus fuzz/corpus/<target>/ stays read-only), crashes to
# $(O)/fuzz/artifacts/<target>/, logs to $(O)/fuzz/logs/. See
# fuzz/README.md for the recorded results.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_O := $(O)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# -Wno-format-nonliteral: clang (unlike gcc) flags the va_list wrappers
# (strbuf_vaddf and its callers) that -Wformat=2 exempts under gcc.
FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-format-nonliteral -Ifuzz -g -O1 $(FUZZ_SAN) \
	$(shell pkg-config --cflags json-c libpci 2>/dev/null)
FUZZ_ALL := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS := $(addprefix $(FUZZ_O)/,$(FUZZ_TARGETS))

# The library (every non-main source, as LIB_SRCS in the Makefile, which
# is defined after this file is included), instrumented for coverage.
FUZZ_LIB_SRCS := $(common_SRCS) $(protocol_SRCS) $(protocol_CTL_SRCS) \
	$(inventory_SRCS) $(agent_SRCS) $(controller_SRCS)
$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_O)/libvfleet-fuzz.a: $(patsubst %.c,$(FUZZ_O)/obj/%.o,$(FUZZ_LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# A target that includes a .c file (to reach its static functions) gets
# that file's definitions from its own object; the archive member is then
# never pulled in.
$(FUZZ_O)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_O)/libvfleet-fuzz.a
	@mkdir -p $(dir $@)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_O)/libvfleet-fuzz.a $(HOST_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)fail=0; for t in $(FUZZ_TARGETS); do \
		fuzz/run.sh $(FUZZ_O)/$$t $(FUZZ_SECONDS) $(FUZZ_O) || fail=1; \
	done; exit $$fail

fuzz-regress: $(FUZZ_BINS)
	$(Q)fail=0; for t in $(FUZZ_TARGETS); do \
		fuzz/run.sh $(FUZZ_O)/$$t 0 $(FUZZ_O) || fail=1; \
	done; exit $$fail

.PHONY: fuzz fuzz-build fuzz-regress
