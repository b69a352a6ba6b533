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

# fleet_scratch NAME: sets $tmp to a new folder for this test, on tmpfs when
# there is one (fixture copies are many small files), 0755 (the fleet's
# login users must traverse it), removed on exit once every test fleet in it
# ($tmp/*/fleet.tsv) is stopped. A test with more to undo sets its own EXIT
# trap and calls fleet_scratch_cleanup from it.
fleet_scratch() {
	local base=/tmp
	[[ -d /dev/shm && -w /dev/shm ]] && base=/dev/shm
	tmp=$(mktemp -d "$base/vfleet-$1.XXXXXX") || exit 1
	chmod 755 "$tmp"
	trap fleet_scratch_cleanup EXIT
	trap 'exit 130' INT TERM
}
fleet_scratch_cleanup() {
	local f
	for f in "$tmp"/*/fleet.tsv; do
		[[ -f $f ]] && "$top/tests/fleet/fleet.sh" stop "${f%/fleet.tsv}" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
