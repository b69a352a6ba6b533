#!/bin/sh
# fuzz/run.sh BINARY SECONDS WORKDIR: run one libFuzzer target.
#
# SECONDS > 0: fuzz for that long, seeded from fuzz/corpus/<target>/ (read
# only) plus what earlier runs kept in WORKDIR/corpus/<target>/. SECONDS 0:
# replay fuzz/corpus/<target>/ once (every seed and crash reproducer).
# Prints one summary line (execs, coverage, corpus, peak RSS); on a crash,
# leak, timeout or broken promise prints the log's tail and the reproducer
# and exits 1. Per-target libFuzzer flags: fuzz/<target>.options (one per
# line); dictionary: fuzz/<target>.dict; extra flags for this run:
# $FUZZ_FLAGS (e.g. "-fork=1 -ignore_crashes=1" to survey every crash).
set -u
bin=$1 secs=$2 work=$3
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
seeds=$here/corpus/$name
log=$work/logs/$name.log
mkdir -p "$work/corpus/$name" "$work/artifacts/$name" "$work/logs" "$seeds"

set -- -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/$name/"
[ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
if [ -f "$here/$name.options" ]; then
	while IFS= read -r opt; do
		case $opt in ''|'#'*) ;; *) set -- "$@" "$opt";; esac
	done <"$here/$name.options"
fi
# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
[ -n "${FUZZ_FLAGS:-}" ] && set -- "$@" ${FUZZ_FLAGS}
if [ "$secs" -gt 0 ]; then
	set -- "$@" -max_total_time="$secs" "$work/corpus/$name" "$seeds"
else
	set -- "$@" -runs=0 "$seeds"
fi

# libFuzzer's own work files go to a scratch dir, not the caller's cwd.
TMPDIR=${TMPDIR:-/tmp} "$bin" "$@" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
if [ $rc -ne 0 ]; then
	echo "FUZZ FAIL $name (exit $rc) after ${execs:-?} execs; log $log"
	# From the first report line on, without libFuzzer's own frames.
	sed -n '/ERROR\|runtime error\|broken promise\|rejects the agent/,$p' "$log" |
		grep -v 'in fuzzer::\|__libc_start\|in _start \|in main (' |
		head -n 40 | sed 's/^/    /'
	ls "$work/artifacts/$name"/* 2>/dev/null | sed 's/^/    reproducer: /'
	exit 1
fi
printf 'fuzz ok   %-22s %4ss  execs %-10s cov %-5s ft %-6s corpus %-12s rss %sMB\n' \
	"$name" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}"
