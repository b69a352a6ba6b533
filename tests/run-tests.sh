#!/usr/bin/env bash
# Runs every unit test binary and integration script; prints one line per
# test program and a summary; exits non-zero when anything failed.
# Environment (set by `make test`): VFLEET, VFLEET_AGENT, VFLEET_TESTS.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export VFLEET=${VFLEET:-./vfleet} VFLEET_AGENT=${VFLEET_AGENT:-./vfleet-agent}
export VFLEET_TESTS=${VFLEET_TESTS:-build/tests}
export VFLEET_TOP=$top
logdir=$(mktemp -d /tmp/vfleet-tests.XXXXXX)
pass=0 fail=0 failed=()

runone() {
	local name=$1; shift
	local log="$logdir/$(echo "$name" | tr / _).log"
	local t0=$(date +%s%N)
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		printf '  PASS  %-44s %6d ms\n' "$name" $((($(date +%s%N) - t0) / 1000000))
	else
		fail=$((fail + 1)); failed+=("$name")
		printf '  FAIL  %s\n' "$name"
		tail -n 40 "$log" | sed 's/^/        /'
	fi
}

for t in $(find "$VFLEET_TESTS" -type f -name 'test_*' -perm -u+x | sort); do
	runone "unit/${t#"$VFLEET_TESTS"/}" "$t"
done
for t in tests/integration/test_*.sh; do
	[ -e "$t" ] || continue
	runone "integration/$(basename "$t")" bash "$t"
done
echo "tests: $pass passed, $fail failed (logs in $logdir)"
[ "$fail" -eq 0 ]
