#!/usr/bin/env bash
# make bench: every benchmark, figures on stdout (copy them into
# bench/RESULTS.md with the date and this command).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build} OUT=${OUT:-.}
agent=$(readlink -f "$OUT/vfleet-agent")

echo "== agent facts latency (median; bench/bench_facts.c)"
"$O/bench/bench_facts" "$agent" "$PWD/tests/fixtures/sysroot/large-dgx" /

echo "== agent size"
size=$(stat -c %s "$agent")
printf '  %s: %d bytes (%d KB) stripped, %s\n' "$OUT/vfleet-agent" "$size" $((size / 1024)) \
	"$(readelf -d "$agent" 2>/dev/null | grep -q NEEDED && echo dynamic || echo static)"

for b in bench/bench_*.sh; do
	[ -e "$b" ] || continue
	echo "== $b"
	bash "$b"
done
