#!/usr/bin/env bash
# vfleet-agent's command line and protocol mode: every answer is one valid
# JSON response on stdout, whatever the request, with exit status 0 (ok),
# 1 (answer lists errors) or 2 (request refused).
# Environment: VFLEET_AGENT (default ./vfleet-agent), VFLEET_TOP,
# VFLEET_FIXTURES (default tests/fixtures/sysroot).
set -euo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
agent=${VFLEET_AGENT:-$top/vfleet-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
fixtures=${VFLEET_FIXTURES:-$top/tests/fixtures/sysroot}

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v jq >/dev/null || fail "jq is required (apt-get install jq)"
[ -x "$agent" ] || fail "no agent at $agent"

tmp=$(mktemp -d /tmp/vfleet-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
seed=$fixtures/seed-intel-ubuntu

# run NAME ARGS... < stdin: stdout to $tmp/NAME.out, status in $rc.
run() {
	local name=$1; shift
	rc=0
	"$agent" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
}

# expect NAME STATUS JQ-FILTER: the answer is JSON, the status is STATUS,
# and the filter holds.
expect() {
	local name=$1 status=$2 filter=$3
	[ "$rc" -eq "$status" ] ||
		fail "$name: exit $rc, want $status; stderr: $(head -c 600 "$tmp/$name.err")"
	jq -e . "$tmp/$name.out" >/dev/null 2>&1 ||
		fail "$name: stdout is not one JSON document: $(head -c 300 "$tmp/$name.out")"
	[ "$(jq -s length "$tmp/$name.out")" -eq 1 ] || fail "$name: more than one document"
	jq -e "$filter" "$tmp/$name.out" >/dev/null ||
		fail "$name: '$filter' does not hold for $(jq -c '{op, ok, errors}' "$tmp/$name.out")"
	# The envelope every response has.
	jq -e '.protocol == "vfleet/1.1" and (.ok == (.errors | length == 0))
		and .agent_version != null' "$tmp/$name.out" >/dev/null ||
		fail "$name: bad envelope: $(jq -c '{protocol, ok, agent_version}' "$tmp/$name.out")"
	echo "ok: $name"
}

refused() {	# NAME CODE: refused with one error of that code
	expect "$1" 2 ".ok == false and .errors[0].code == \"$2\" and (.funcs | length) == 0"
}

# --- plain command line ---
run version --version
[ "$rc" -eq 0 ] && grep -q '^vfleet-agent [0-9]' "$tmp/version.out" || fail "--version"
run help --help
[ "$rc" -eq 0 ] && grep -q 'usage: vfleet-agent facts' "$tmp/help.out" || fail "--help"
run noargs
[ "$rc" -eq 2 ] && grep -q usage "$tmp/noargs.err" || fail "no arguments: exit $rc"
run badflag facts --frobnicate
[ "$rc" -eq 2 ] || fail "unknown flag: exit $rc"
run badop frobnicate
[ "$rc" -eq 2 ] || fail "unknown operation on the command line: exit $rc"
run cli-reboot reboot --root "$seed"
expect cli-reboot 1 '.errors[0].code == "reboot-refused" and (.errors[0].message | test("state is absent"))'
echo "ok: command line"

# --- protocol mode: requests the agent must refuse ---
printf 'this is not json' >"$tmp/malformed.in"
run malformed --stdin <"$tmp/malformed.in"
refused malformed bad-request
expect malformed 2 '.op == null'

run empty --stdin </dev/null
refused empty bad-request

printf '{"protocol":"vfleet/1.0","op":"facts"' >"$tmp/truncated.in"
run truncated --stdin <"$tmp/truncated.in"
refused truncated bad-request

printf '[1,2,3]' >"$tmp/array.in"
run array --stdin <"$tmp/array.in"
refused array bad-request

printf '{"protocol":"vfleet/2.0","op":"facts"}' >"$tmp/major.in"
run major --stdin <"$tmp/major.in"
refused major unsupported-version
expect major 2 '.errors[0].message | test("2\\.0")'

printf '{"protocol":"vfleet/1.7","op":"facts","root":"%s"}' "$seed" >"$tmp/minor.in"
run minor --stdin <"$tmp/minor.in"
expect minor 0 '.op == "facts" and (.funcs | length) > 0'

printf '{"protocol":"vfleet/1.0","op":"frobnicate"}' >"$tmp/unknownop.in"
run unknownop --stdin <"$tmp/unknownop.in"
refused unknownop bad-request
expect unknownop 2 '.errors[0].message | test("frobnicate")'

# reboot on a host vfleet never changed (this machine): refused, never done.
printf '{"protocol":"vfleet/1.0","op":"reboot"}' >"$tmp/reboot.in"
run reboot --stdin <"$tmp/reboot.in"
expect reboot 1 '.op == "reboot" and .errors[0].code == "reboot-refused"'

# Over PROTO_MESSAGE_MAX (8 MiB): a valid request padded with spaces, and
# a stream of bytes that never ends in JSON.
{ printf '{"protocol":"vfleet/1.0","op":"facts"}'; head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' ' '; } \
	>"$tmp/oversized.in"
run oversized --stdin <"$tmp/oversized.in"
refused oversized request-too-large
head -c $((9 * 1024 * 1024)) /dev/urandom >"$tmp/oversized-binary.in"
run oversized-binary --stdin <"$tmp/oversized-binary.in"
refused oversized-binary request-too-large
# Exactly at the cap is still read (and then refused as not JSON).
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$tmp/atcap.in"
run atcap --stdin <"$tmp/atcap.in"
refused atcap bad-request

run stdin-and-root --stdin --root /tmp
[ "$rc" -eq 2 ] || fail "--stdin with --root: exit $rc"

# --- facts on every fixture shape, both ways ---
shapes=$(find "$fixtures/" -mindepth 1 -maxdepth 1 -type d | sort)
[ -n "$shapes" ] || fail "no fixture trees under $fixtures"
n=0
for shape in $shapes; do
	name=$(basename "$shape")
	run "cli-$name" facts --root "$shape"
	expect "cli-$name" 0 '.op == "facts" and (.funcs | length) > 0 and .host.arch != null'
	printf '{"protocol":"vfleet/1.0","op":"facts","root":"%s"}' "$shape" \
		>"$tmp/proto-$name.in"
	run "proto-$name" --stdin <"$tmp/proto-$name.in"
	expect "proto-$name" 0 '.op == "facts"'
	# Same facts either way (boot_id and the like come from the tree).
	cmp -s "$tmp/cli-$name.out" "$tmp/proto-$name.out" ||
		fail "$name: --stdin and facts --root answer differently"
	n=$((n + 1))
done
[ "$n" -ge 12 ] || fail "expected at least 12 fixture shapes, found $n"

run pretty facts --root "$seed" --pretty
expect pretty 0 '.op == "facts"'
[ "$(wc -l <"$tmp/pretty.out")" -gt 50 ] || fail "--pretty output is not indented"
jq -cS . "$tmp/pretty.out" >"$tmp/p1"
jq -cS . "$tmp/cli-seed-intel-ubuntu.out" >"$tmp/p2"
cmp -s "$tmp/p1" "$tmp/p2" || fail "--pretty changes the content"

# --- broken trees: errors in a valid answer, exit 1, never a crash ---
broken=$tmp/broken
cp -a "$seed" "$broken"
victim=$(ls "$broken/sys/bus/pci/devices" | head -n 1)
rm "$broken/sys/bus/pci/devices/$victim/vendor"
run missing-vendor facts --root "$broken"
expect missing-vendor 1 "[.errors[] | select(.code == \"pci-scan\" and
	(.path | endswith(\"$victim/vendor\")))] | length == 1"
expect missing-vendor 1 "[.funcs[] | select(.address == \"$victim\")] | length == 0"

# libpci's own fatal error (a name it cannot parse) is contained.
mkdir "$broken/sys/bus/pci/devices/not-a-pci-address"
run libpci-fatal facts --root "$broken"
expect libpci-fatal 1 '[.errors[] | select(.code == "pci-scan" and
	(.message | test("not-a-pci-address")))] | length == 1'

run nonexistent-root facts --root "$tmp/does-not-exist"
expect nonexistent-root 1 '[.errors[] | select(.code == "pci-scan")] | length == 1'

# --- a reader that hangs up: EPIPE and exit 1, not death by SIGPIPE ---
mkfifo "$tmp/fifo"
exec 3<>"$tmp/fifo" 4>"$tmp/fifo"
exec 3<&-	# no reader left
rc=0
"$agent" facts --root "$seed" >&4 2>"$tmp/epipe.err" || rc=$?
exec 4>&-
[ "$rc" -eq 1 ] || fail "closed stdout: exit $rc, want 1 (141 = killed by SIGPIPE)"
grep -q 'cannot write the response' "$tmp/epipe.err" || fail "closed stdout: no message"
echo "ok: closed stdout"

echo "all agent CLI checks passed ($n fixture shapes)"
