# tests/: cmocka unit tests (tests/unit/<folder>/test_<module>.c, one binary
# each, linked against libvfleet.a) and integration scripts
# (tests/integration/*.sh), all driven by tests/run-tests.sh.
TEST_SRCS := $(wildcard tests/unit/*/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(TEST_SRCS))
TEST_HELPERS := $(wildcard tests/helpers/*.c)
# kept: make would delete them as intermediates after every link
.SECONDARY: $(call host_obj,$(TEST_HELPERS))

$(O)/tests/%: tests/unit/%.c $(call host_obj,$(TEST_HELPERS)) $(O)/libvfleet.a
	@mkdir -p $(dir $@)
	$(call msg,TESTLD,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -Itests/helpers $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -lcmocka

test: all $(TEST_BINS)
	$(Q)VFLEET=$(OUT)/vfleet VFLEET_AGENT=$(OUT)/vfleet-agent \
		VFLEET_TESTS=$(O)/tests AGENT_STATIC=$(AGENT_STATIC) \
		tests/run-tests.sh

.PHONY: test
