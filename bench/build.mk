# bench/: `make bench` prints the figures recorded in bench/RESULTS.md.
# Benchmarks measure; they never assert a time.
$(O)/bench/bench_facts: bench/bench_facts.c $(O)/libvfleet.a
	@mkdir -p $(dir $@)
	$(call msg,BENCHLD,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -O2 $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

bench: all $(O)/bench/bench_facts
	$(Q)O=$(O) OUT=$(OUT) bench/run.sh

.PHONY: bench
