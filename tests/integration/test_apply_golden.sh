#!/usr/bin/env bash
# apply, plan and rollback on a copy of every fixture shape, against the
# golden files in tests/fixtures/expected/<shape>/:
#
#   policy.json          the policy the shape is applied with (input)
#   default.txt          plan with the default policy: exit status and the
#                        error codes (the refusals a careful tool makes)
#   plan.txt             `vfleet-agent plan` with policy.json (readable diff)
#   result.txt           apply: exit status, changed, phase, error codes
#   files/<path>         every file apply wrote, as it must read afterwards;
#                        nothing else in the tree may change
#   tools.log            exactly the commands apply ran (fixture tool log)
#   rollback-tools.log   the commands rollback ran after that
#
# Then: a second apply changes nothing and runs nothing; rollback gives a
# tree byte-identical to the fixture (var/lib/vfleet and var/log aside); a
# second rollback changes nothing.
#
# VFLEET_REGEN_GOLDEN=1 rewrites the golden files (not policy.json) from
# what the agent does now; review `git diff tests/fixtures/expected` after.
# Environment: VFLEET_AGENT, VFLEET_TOP.
set -euo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
agent=${VFLEET_AGENT:-$top/vfleet-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
fixtures=$top/tests/fixtures/sysroot
expected=$top/tests/fixtures/expected
regen=${VFLEET_REGEN_GOLDEN:-0}
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vfleet-golden.XXXXXX)
trap 'umount "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# As root, work on a tmpfs: the agent fsyncs every step, which on a busy
# disk turns a minute of tests into several. (Without root, on /tmp.)
if [ "$(id -u)" = 0 ]; then
	mount -t tmpfs -o size=512m,mode=0700 vfleet-golden "$tmp" 2>/dev/null || true
fi
# A private copy of the agent: a rebuild of the tree's binary during the
# run must not turn into "text file busy".
cp "$agent" "$tmp/vfleet-agent"
agent=$tmp/vfleet-agent
failures=0
fail() { echo "FAIL $shape: $*"; failures=$((failures + 1)); }
ok() { echo "ok   $shape: $*"; }

# golden NAME FILE: compare FILE with expected/<shape>/NAME (or write it).
golden() {
	local want=$expected/$shape/$1
	if [ "$regen" = 1 ]; then
		mkdir -p "$(dirname "$want")"
		cp "$2" "$want"
	elif ! diff -u "$want" "$2" >"$tmp/gdiff" 2>&1; then
		fail "$1 differs from the golden file:"
		sed 's/^/      /' "$tmp/gdiff" | head -40
		return 1
	fi
	return 0
}

# The tree without what the agent and the stubs keep for themselves.
strip_tree() {
	rm -rf "$1/var/lib/vfleet" "$1/var/log"
	rmdir "$1/var/lib" "$1/var" 2>/dev/null || true
}

# Files that differ between trees A and B ("path" per line, sorted); a
# directory only in B is listed file by file.
changed_files() {
	{ diff -rq --no-dereference "$1" "$2" 2>&1 || true; } |
	while IFS= read -r line; do
		case $line in
		"Files $1/"*" differ")
			line=${line#"Files $1/"}
			echo "${line%% and *}" ;;
		"Only in $2"*)
			line=${line#"Only in $2"}
			d=${line%%: *}; d=${d#/}
			f=${line#*: }
			p=${d:+$d/}$f
			if [ -d "$2/$p" ] && [ ! -L "$2/$p" ]; then
				(cd "$2" && find "$p" \( -type f -o -type l \) -print)
			else
				echo "$p"
			fi ;;
		"Only in $1"*)
			line=${line#"Only in $1"}
			d=${line%%: *}; d=${d#/}
			echo "REMOVED ${d:+$d/}${line#*: }" ;;
		*) echo "UNEXPECTED $line" ;;
		esac
	done | sort
}

summary() {	# FILE STATUS: one line per fact of a response
	jq -r --arg st "$2" '"exit \($st)",
		"changed \(.changed)",
		"phase \(.host.vfio_state // "none")",
		(.errors[] | "error \(.code)"),
		(.findings[] | select(.code | test("^(nothing-selected|bind-by-address|vfio-ids-and-override|initramfs-not-rebuilt|initramfs-missing-vfio|initramfs-check-failed)$")) | "finding \(.code)")' "$1"
}

for dir in "$expected"/*/; do
	shape=$(basename "$dir")
	[ -d "$fixtures/$shape" ] || { fail "no fixture tree"; continue; }
	pol=$expected/$shape/policy.json
	work=$tmp/$shape
	orig=$tmp/$shape.orig
	cp -a "$fixtures/$shape" "$work"
	cp -a "$fixtures/$shape" "$orig"
	log=$work/var/log/vfleet-fixture-tools.log

	# Default policy: what a careful tool refuses by itself.
	rc=0
	"$agent" plan --json --root "$work" >"$tmp/default.json" 2>"$tmp/err" || rc=$?
	jq -r --arg st "$rc" '"exit \($st)", (.errors[] | "error \(.code)")' \
		"$tmp/default.json" >"$tmp/default.txt"
	golden default.txt "$tmp/default.txt" && ok "default policy"

	# plan: readable, and it touches nothing.
	rc=0
	"$agent" plan --root "$work" --policy-file "$pol" >"$tmp/plan.txt" \
		2>"$tmp/err" || rc=$?
	echo "exit $rc" >>"$tmp/plan.txt"
	golden plan.txt "$tmp/plan.txt" && ok "plan text"
	if [ -e "$log" ] || [ -e "$work/var/lib/vfleet" ]; then
		fail "plan ran a tool or wrote state"
	fi
	strip_tree "$work"
	[ -z "$(changed_files "$orig" "$work")" ] || fail "plan changed the tree"

	# apply
	rc=0
	"$agent" apply --root "$work" --run-id golden-1 --policy-file "$pol" \
		>"$tmp/apply.json" 2>"$tmp/err" || rc=$?
	jq -e . "$tmp/apply.json" >/dev/null || { fail "apply: no JSON"; continue; }
	summary "$tmp/apply.json" "$rc" >"$tmp/result.txt"
	golden result.txt "$tmp/result.txt" && ok "apply result"
	touch "$log"
	golden tools.log "$log" && ok "apply ran exactly the expected commands"
	cp "$log" "$tmp/tools.after-apply"

	# The files it wrote, and only those.
	cp -a "$work" "$tmp/snap"
	strip_tree "$tmp/snap"
	changed_files "$orig" "$tmp/snap" >"$tmp/changed"
	if [ "$regen" = 1 ]; then
		rm -rf "$expected/$shape/files"
		while read -r f; do
			mkdir -p "$(dirname "$expected/$shape/files/$f")"
			cp -a "$tmp/snap/$f" "$expected/$shape/files/$f"
		done <"$tmp/changed"
	fi
	want_list=$( (cd "$expected/$shape/files" 2>/dev/null && find . -type f | sed 's|^\./||' | sort) || true)
	if [ "$want_list" != "$(cat "$tmp/changed")" ]; then
		fail "apply changed [$(tr '\n' ' ' <"$tmp/changed")], golden files are [$(echo $want_list)]"
	else
		bad=0
		while read -r f; do
			[ -n "$f" ] || continue
			cmp -s "$expected/$shape/files/$f" "$tmp/snap/$f" ||
				{ fail "$f differs from the golden file"; bad=1; }
			if [ "$(stat -c %a "$tmp/snap/$f")" != "$(stat -c %a "$expected/$shape/files/$f")" ]; then
				fail "$f has mode $(stat -c %a "$tmp/snap/$f")"
				bad=1
			fi
		done <"$tmp/changed"
		[ $bad = 1 ] || ok "apply wrote the golden files ($(wc -l <"$tmp/changed") files)"
	fi
	rm -rf "$tmp/snap"

	# A second apply: nothing to change, nothing run.
	rc=0
	"$agent" apply --root "$work" --run-id golden-2 --policy-file "$pol" \
		>"$tmp/apply2.json" 2>"$tmp/err" || rc=$?
	if jq -e '.changed == false and (.changes | length) == 0' "$tmp/apply2.json" >/dev/null &&
	   cmp -s "$log" "$tmp/tools.after-apply" && [ "$rc" = "$(head -1 "$tmp/result.txt" | cut -d' ' -f2)" ]; then
		ok "second apply: changed=false, no command"
	else
		fail "second apply changed something (exit $rc): $(jq -c '{changed, changes: [.changes[].target]}' "$tmp/apply2.json")"
	fi
	rc=0
	"$agent" plan --json --root "$work" --policy-file "$pol" >"$tmp/plan2.json" 2>/dev/null || rc=$?
	jq -e '.changed == false and (.changes | length) == 0' "$tmp/plan2.json" >/dev/null ||
		fail "plan after apply still plans changes"

	# status
	"$agent" status --root "$work" >"$tmp/status.json" 2>/dev/null || true
	if jq -e --slurpfile a "$tmp/apply.json" \
		'.host.vfio_state == $a[0].host.vfio_state' "$tmp/status.json" >/dev/null; then
		ok "status: $(jq -r '.host.vfio_state // "no record"' "$tmp/status.json")"
	else
		fail "status disagrees with apply"
	fi

	# rollback: byte-identical tree, then nothing to do.
	rc=0
	"$agent" rollback --root "$work" >"$tmp/rollback.json" 2>"$tmp/err" || rc=$?
	[ "$rc" = 0 ] || fail "rollback exit $rc: $(jq -c .errors "$tmp/rollback.json")"
	touch "$log"
	tail -n +"$(($(wc -l <"$tmp/tools.after-apply") + 1))" "$log" >"$tmp/rollback-tools.log"
	golden rollback-tools.log "$tmp/rollback-tools.log" && ok "rollback ran the expected commands"
	cp "$log" "$tmp/tools.after-rollback"
	rc=0
	"$agent" rollback --root "$work" >"$tmp/rollback2.json" 2>/dev/null || rc=$?
	if [ "$rc" = 0 ] && jq -e '.changed == false and (.changes | length) == 0' \
		"$tmp/rollback2.json" >/dev/null && cmp -s "$log" "$tmp/tools.after-rollback"; then
		ok "second rollback: changed=false"
	else
		fail "second rollback did something: $(jq -c '{changed, errors}' "$tmp/rollback2.json")"
	fi
	strip_tree "$work"
	if diff -r --no-dereference "$orig" "$work" >"$tmp/rdiff" 2>&1; then
		ok "rollback restored the tree byte for byte"
	else
		fail "tree differs after rollback:"
		head -20 "$tmp/rdiff" | sed 's/^/      /'
	fi
	rm -rf "$work" "$orig"
done
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
