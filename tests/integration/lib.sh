# Shared helpers for integration scripts: source it, call check/expect,
# end with `finish`. Every check prints one line; finish exits non-zero
# when any failed.
top=${VFLEET_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VFLEET=$(readlink -f "${VFLEET:-$top/vfleet}")
VFLEET_AGENT=$(readlink -f "${VFLEET_AGENT:-$top/vfleet-agent}")
export VFLEET VFLEET_AGENT
failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {	# check DESCRIPTION COMMAND...: the command must succeed
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
expect_eq() {	# expect_eq DESCRIPTION ACTUAL EXPECTED
	if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi
}
expect_match() {	# expect_match DESCRIPTION TEXT REGEX
	if [[ "$2" =~ $3 ]]; then ok "$1"; else bad "$1: '$2' does not match /$3/"; fi
}
finish() {
	echo "$failures failure(s)"
	[[ $failures -eq 0 ]]
}
