# bench/: make bench
bench:
	@echo 'no benchmarks yet'
.PHONY: bench
