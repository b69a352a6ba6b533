#!/usr/bin/env bash
# The shipped agent is one static binary: no ELF interpreter, no NEEDED
# libraries, at most 300 KB, and it works alone in an empty chroot (no
# /lib, /proc, /dev, /usr/share/misc/pci.ids) on a fixture tree.
#
# AGENT_STATIC=1: $VFLEET_AGENT is that binary. AGENT_STATIC=0 (make check,
# sanitizers): $VFLEET_AGENT must be dynamic; a musl agent is then built
# from the same sources into a temporary folder (needs build/deps from
# tools/build-deps.sh) and checked the same way. Only if build/deps is
# missing is the chroot part skipped, with the reason printed.
# Environment: VFLEET_AGENT, AGENT_STATIC (default 1), VFLEET_TOP,
# VFLEET_FIXTURES (default tests/fixtures/sysroot).
set -euo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
agent=${VFLEET_AGENT:-$top/vfleet-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
fixtures=${VFLEET_FIXTURES:-$top/tests/fixtures/sysroot}
static=${AGENT_STATIC:-1}
max_size=$((300 * 1024))

fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in jq readelf chroot; do
	command -v "$tool" >/dev/null || fail "$tool is required"
done
[ -x "$agent" ] || fail "no agent at $agent"
[ "$(id -u)" -eq 0 ] || fail "chroot needs root"

tmp=$(mktemp -d /tmp/vfleet-chroot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

needed() { readelf -d "$1" 2>/dev/null | grep -c '(NEEDED)' || true; }
has_interp() { readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; }

if [ "$static" != 1 ]; then
	[ "$(needed "$agent")" -gt 0 ] && has_interp "$agent" ||
		fail "AGENT_STATIC=$static but $agent is not a dynamic executable"
	echo "ok: AGENT_STATIC=$static: $agent is dynamic ($(needed "$agent") NEEDED)"
	if [ ! -e "$top/build/deps/.stamp" ]; then
		echo "SKIP chroot part: build/deps missing (run tools/build-deps.sh" \
			"or a plain make) so no static agent can be built here"
		exit 0
	fi
	# Same sources, musl and static, into $tmp; the outer make's
	# variables (O=build/san, SANITIZE=...) must not leak in.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -s -C "$top" O="$tmp/o" OUT="$tmp" DEPS="$top/build/deps" \
		AGENT_STATIC=1 SANITIZE= "$tmp/vfleet-agent" >"$tmp/make.log" 2>&1 ||
		{ cat "$tmp/make.log" >&2; fail "cannot build a static agent"; }
	agent=$tmp/vfleet-agent
	echo "ok: built a static agent for this test"
fi

# --- it is static and small ---
[ "$(needed "$agent")" -eq 0 ] || fail "$agent needs shared libraries: $(readelf -d "$agent" | grep NEEDED)"
! has_interp "$agent" || fail "$agent has an ELF interpreter"
if command -v file >/dev/null; then
	file -L "$agent" | grep -q 'statically linked' || fail "file(1): $(file -L "$agent")"
fi
cp "$agent" "$tmp/stripped"
strip "$tmp/stripped"
size=$(stat -c %s "$tmp/stripped")
[ "$size" -le "$max_size" ] || fail "stripped agent is $size bytes, limit $max_size"
echo "ok: static, stripped size $size bytes (limit $max_size)"

# --- alone in an empty chroot ---
jail=$tmp/jail
mkdir "$jail"
cp "$agent" "$jail/vfleet-agent"
shapes="seed-intel-ubuntu large-dgx"
for shape in $shapes; do
	src=$fixtures/$shape
	[ -d "$src" ] || fail "fixture $shape missing"
	rm -rf "$jail/fixture"
	cp -a "$src" "$jail/fixture"
	rc=0
	chroot "$jail" /vfleet-agent facts --root /fixture >"$tmp/in.json" 2>"$tmp/in.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "$shape in chroot: exit $rc: $(cat "$tmp/in.err")"
	# Same functions, groups and names as outside, where the paths differ.
	"$agent" facts --root "$src" >"$tmp/out.json"
	for part in .funcs .groups .gpus; do
		[ "$(jq -cS "$part" "$tmp/in.json")" = "$(jq -cS "$part" "$tmp/out.json")" ] ||
			fail "$shape: $part differs inside the chroot"
	done
	n=$(jq '.funcs | length' "$tmp/in.json")
	[ "$n" -gt 0 ] || fail "$shape: no functions in the chroot"
	jq -e '[.funcs[] | select(.vendor_name != null)] | length > 0' "$tmp/in.json" >/dev/null ||
		fail "$shape: no names in the chroot (pci.ids of the tree not used)"
	echo "ok: chroot facts on $shape: $n functions, same as outside"
done

# Protocol mode inside the chroot.
printf '{"protocol":"vfleet/1.0","op":"facts","root":"/fixture"}' >"$tmp/req"
rc=0
chroot "$jail" /vfleet-agent --stdin <"$tmp/req" >"$tmp/proto.json" || rc=$?
[ "$rc" -eq 0 ] || fail "--stdin in chroot: exit $rc"
jq -e '.ok and (.funcs | length) > 0' "$tmp/proto.json" >/dev/null || fail "--stdin in chroot: bad answer"
echo "ok: protocol mode in the chroot"

# Nothing to scan at all (no /sys in the jail): a JSON answer, exit 1.
rc=0
chroot "$jail" /vfleet-agent facts >"$tmp/empty.json" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "facts on the empty jail: exit $rc, want 1"
jq -e '[.errors[] | select(.code == "pci-scan")] | length == 1' "$tmp/empty.json" >/dev/null ||
	fail "facts on the empty jail: no pci-scan error: $(jq -c .errors "$tmp/empty.json")"
echo "ok: empty jail gives a pci-scan error, not a crash"
echo "static agent checks passed"
