#!/usr/bin/env bash
# Crashes and full disks during apply and rollback leave every file either
# as it was or as apply wants it (never truncated, never missing), the state
# record readable, and the next apply or rollback completes.
#
#  1. SIGKILL at every test point of apply: the agent's test hook
#     VFLEET_TEST_KILL_AT=<n> (agent/edit.h) raises SIGKILL at the n-th step
#     boundary, halfway through a file write or between write and rename.
#     After an odd point, apply again reaches the golden tree and rollback
#     then the original; after an even one, rollback right away reaches
#     the original.
#  2. SIGKILL at every test point of rollback, then rollback again.
#  3. ENOSPC: the tree on a real small tmpfs (mount -t tmpfs -o size=...),
#     filled to leave 0..N pages free, apply and rollback fail cleanly, and
#     succeed once there is room.
#
# Needs root (mount) and jq. Golden files: tests/fixtures/expected/<shape>/.
set -euo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
agent=${VFLEET_AGENT:-$top/vfleet-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
fixtures=$top/tests/fixtures/sysroot
expected=$top/tests/fixtures/expected
# amd-radeon: grub.d, files created and edited; rhel-like: grubby and
# dracut; two-identical-nvidia: directories created, binding by address.
shapes=${VFLEET_FAULT_SHAPES:-"amd-radeon rhel-like two-identical-nvidia"}
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root to mount a tmpfs" >&2; exit 1; }
unset VFLEET_TEST_KILL_AT VFLEET_TEST_POINTS

top_tmp=$(mktemp -d /tmp/vfleet-fault.XXXXXX)
mnt=
cleanup() {
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null || true
	umount "$top_tmp/work" 2>/dev/null || true
	rm -rf "$top_tmp"
}
trap cleanup EXIT
# The work area is a tmpfs too: hundreds of applies, each with dozens of
# fsyncs, would wait on the disk for minutes; a SIGKILL loses nothing the
# page cache holds, so the disk adds nothing to what is tested.
tmp=$top_tmp/work
mkdir -p "$tmp"
mount -t tmpfs -o size=1g,mode=0700 vfleet-fault-work "$tmp"
# A private copy of the agent: a rebuild of the tree's binary during the
# run must not turn into "text file busy".
cp "$agent" "$tmp/vfleet-agent"
agent=$tmp/vfleet-agent
failures=0
fail() { echo "FAIL $shape: $*"; failures=$((failures + 1)); }
ok() { echo "ok   $shape: $*"; }

strip_tree() {
	rm -rf "$1/var/lib/vfleet" "$1/var/log"
	rmdir "$1/var/lib" "$1/var" 2>/dev/null || true
}

# same_as_orig TREE: byte-identical to the fixture (agent/stub state aside;
# TREE is thrown away afterwards, so they are removed in place).
same_as_orig() {
	strip_tree "$1"
	diff -r --no-dereference "$fixtures/$shape" "$1" >"$tmp/cmpdiff" 2>&1
}

# fresh DIR: a copy of the shape to break. Hard links to a pristine copy
# are enough and fast: the agent replaces files by rename, never in place
# (and same_as_orig compares with the fixture itself, so a write in place
# would show).
fresh() {
	cp -al "$tmp/base" "$1"
}

# same_as_golden TREE: the golden files, no leftovers of interrupted writes.
same_as_golden() {
	local f bad=0
	while IFS= read -r f; do
		cmp -s "$expected/$shape/files/$f" "$1/$f" || { echo "  $f"; bad=1; }
	done < <(cd "$expected/$shape/files" && find . -type f | sed 's|^\./||')
	if [ -n "$(find "$1" -name '*.vfleet-tmp.*' | head -1)" ]; then
		echo "  temp files left: $(find "$1" -name '*.vfleet-tmp.*' | head -3)"
		bad=1
	fi
	return $bad
}

# old_or_new TREE: each file apply touches is the fixture's or the golden
# one, byte for byte; the state record, when there, is valid JSON.
old_or_new() {
	local f bad=0
	while IFS= read -r f; do
		if [ -e "$fixtures/$shape/$f" ] && cmp -s "$fixtures/$shape/$f" "$1/$f"; then
			continue
		fi
		if [ ! -e "$fixtures/$shape/$f" ] && [ ! -e "$1/$f" ]; then
			continue
		fi
		cmp -s "$expected/$shape/files/$f" "$1/$f" && continue
		echo "  $f is neither old nor new ($(stat -c %s "$1/$f" 2>/dev/null || echo missing) bytes)"
		bad=1
	done < <(cd "$expected/$shape/files" && find . -type f | sed 's|^\./||')
	if [ -e "$1/var/lib/vfleet/state.json" ] &&
	   ! jq -e .phase "$1/var/lib/vfleet/state.json" >/dev/null 2>&1; then
		echo "  state.json is not a valid record"
		bad=1
	fi
	return $bad
}

agent_run() {	# OP TREE [ENV...]: run the agent, status in $rc
	local op=$1 tree=$2 id=()
	shift 2
	# rollback undoes the whole record: no run id to name.
	[ "$op" = apply ] && id=(--run-id fi-apply)
	rc=0
	# (the braces keep bash's "Killed" notice out of the log)
	{ env "$@" "$agent" "$op" --root "$tree" "${id[@]}" \
		--policy-file "$expected/$shape/policy.json" >"$tmp/out.json" \
		2>"$tmp/err" || rc=$?; } 2>/dev/null
}

count_points() {	# OP TREE: number of test points the operation passes
	agent_run "$1" "$2" VFLEET_TEST_POINTS=1
	[ "$rc" = 0 ] || { fail "$1 without faults: exit $rc"; echo 0; return; }
	grep -c '^vfleet-test-point ' "$tmp/err" || true
}

for shape in $shapes; do
	rm -rf "$tmp/base"
	cp -a "$fixtures/$shape" "$tmp/base"
	# --- 1. apply killed at every point ---
	fresh "$tmp/probe"
	n=$(count_points apply "$tmp/probe")
	rm -rf "$tmp/probe"
	[ "$n" -gt 5 ] || { fail "only $n test points in apply"; continue; }
	bad=0
	for ((k = 1; k <= n; k++)); do
		w=$tmp/k$k
		fresh "$w"
		agent_run apply "$w" VFLEET_TEST_KILL_AT=$k
		if [ "$rc" != 137 ]; then
			fail "apply with VFLEET_TEST_KILL_AT=$k: exit $rc, not killed"
			bad=1; rm -rf "$w"; continue
		fi
		if ! old_or_new "$w" >"$tmp/why"; then
			fail "killed at point $k ($(grep -o 'SIGKILL at .*' "$tmp/err")):"
			cat "$tmp/why"; bad=1
		fi
		if ((k % 2)); then
			# (a) apply resumes and reaches the golden tree;
			# rollback then restores the fixture.
			agent_run apply "$w"
			if [ "$rc" != 0 ] || ! same_as_golden "$w" >"$tmp/why"; then
				fail "apply after a kill at point $k: exit $rc $(jq -c .errors "$tmp/out.json" 2>/dev/null)"
				cat "$tmp/why"; bad=1
			fi
		fi
		# (b) rollback (right after the kill for even points).
		agent_run rollback "$w"
		if [ "$rc" != 0 ] || ! same_as_orig "$w"; then
			fail "rollback after a kill at point $k: exit $rc $(jq -c .errors "$tmp/out.json" 2>/dev/null)"
			head -5 "$tmp/cmpdiff"; bad=1
		fi
		rm -rf "$w"
	done
	[ $bad = 1 ] || ok "apply killed at each of $n points: files old or new; apply and rollback complete"

	# --- 2. rollback killed at every point ---
	fresh "$tmp/probe"
	agent_run apply "$tmp/probe"
	n=$(count_points rollback "$tmp/probe")
	rm -rf "$tmp/probe"
	bad=0
	for ((k = 1; k <= n; k++)); do
		w=$tmp/r$k
		fresh "$w"
		agent_run apply "$w"
		agent_run rollback "$w" VFLEET_TEST_KILL_AT=$k
		if [ "$rc" != 137 ]; then
			fail "rollback with VFLEET_TEST_KILL_AT=$k: exit $rc"; bad=1
		fi
		old_or_new "$w" >"$tmp/why" || { fail "rollback killed at $k:"; cat "$tmp/why"; bad=1; }
		# A half-done rollback blocks apply until it is finished.
		if [ "$(jq -r .phase "$w/var/lib/vfleet/state.json")" = rolling-back ]; then
			agent_run apply "$w"
			jq -e '[.errors[].code] | index("rollback-unfinished")' \
				"$tmp/out.json" >/dev/null ||
				{ fail "apply after a killed rollback (point $k) was not refused"; bad=1; }
		fi
		agent_run rollback "$w"
		if [ "$rc" != 0 ] || ! same_as_orig "$w"; then
			fail "rollback after a kill at point $k: exit $rc $(jq -c .errors "$tmp/out.json" 2>/dev/null)"
			head -5 "$tmp/cmpdiff"; bad=1
		fi
		rm -rf "$w"
	done
	[ $bad = 1 ] || ok "rollback killed at each of $n points: rollback again restores the tree"

	# --- 3. ENOSPC on a real tmpfs ---
	mnt=$tmp/mnt
	mkdir -p "$mnt"
	size=$(( $(du -sk "$fixtures/$shape" | cut -f1) + 8192 ))
	mount -t tmpfs -o "size=${size}k,mode=0755" vfleet-fault "$mnt"
	bad=0
	for pages in 0 1 2 3 4 6 8; do
		w=$mnt/t
		rm -rf "$w" "$mnt/fill"
		cp -a "$fixtures/$shape" "$w"
		mkdir -p "$w/var/log" "$w/var/lib"
		# Fill the filesystem, then give back `pages` pages.
		dd if=/dev/zero of="$mnt/fill" bs=4096 status=none 2>/dev/null || true
		truncate -s "-$((pages * 4096))" "$mnt/fill"
		agent_run apply "$w"
		if [ "$rc" = 0 ] && [ "$pages" -lt 2 ]; then
			fail "apply succeeded with $pages free pages"; bad=1
		fi
		if [ "$rc" != 0 ] && ! jq -e '(.errors | length) > 0' "$tmp/out.json" >/dev/null; then
			fail "apply failed (exit $rc) without saying why"; bad=1
		fi
		old_or_new "$w" >"$tmp/why" || { fail "ENOSPC ($pages pages) during apply:"; cat "$tmp/why"; bad=1; }
		first=$(jq -r '[.errors[].code] | join(",")' "$tmp/out.json")
		rm -f "$mnt/fill"
		agent_run apply "$w"
		if [ "$rc" != 0 ] || ! same_as_golden "$w" >"$tmp/why"; then
			fail "apply after ENOSPC ($pages pages, $first) freed: exit $rc $(jq -c .errors "$tmp/out.json")"
			cat "$tmp/why"; bad=1
		fi
		# Now rollback on a full disk, then with room.
		dd if=/dev/zero of="$mnt/fill" bs=4096 status=none 2>/dev/null || true
		truncate -s "-$((pages * 4096))" "$mnt/fill"
		agent_run rollback "$w"
		old_or_new "$w" >"$tmp/why" || { fail "ENOSPC ($pages pages) during rollback:"; cat "$tmp/why"; bad=1; }
		rm -f "$mnt/fill"
		agent_run rollback "$w"
		if [ "$rc" != 0 ] || ! same_as_orig "$w"; then
			fail "rollback after ENOSPC ($pages pages): exit $rc $(jq -c .errors "$tmp/out.json")"
			head -5 "$tmp/cmpdiff"; bad=1
		fi
		echo "     $pages free pages: apply errors [${first:-none}]"
	done
	rm -rf "$mnt/t" "$mnt/fill"
	umount "$mnt"
	mnt=
	[ $bad = 1 ] || ok "ENOSPC on a real tmpfs: every file old or new, apply/rollback complete with room"
done
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
