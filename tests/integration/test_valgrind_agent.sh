#!/usr/bin/env bash
# valgrind memcheck over the agent: `facts` on every fixture tree under
# tests/fixtures/sysroot, plus protocol mode (--stdin) with a good, a
# malformed and an oversized request. Enforced: no memory error (invalid
# read/write, uninitialised use, bad free) in the agent or its PCI scan
# children, and no definitely lost block at exit.
#
# valgrind needs a dynamic, uninstrumented agent (the static musl one has
# no malloc valgrind can replace; the sanitizer one cannot run under it),
# so this builds one in build/vg (incremental: a few seconds after the
# first time), whatever `make test` or `make check` built.
set -u
source "$(dirname "$0")/lib.sh"
jq_ok() { jq -e "$@" >/dev/null; }	# jq_ok FILTER FILE: true/non-null
command -v valgrind >/dev/null || { echo "FAIL valgrind is required"; exit 1; }
vg=$top/build/vg
# A clean make: not the sanitizer flags `make check` passes down.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top" -s -j2 O="$vg" \
	OUT="$vg" AGENT_STATIC=0 SANITIZE= "$vg/vfleet-agent" >"$vg.build.log" 2>&1; then
	echo "FAIL building the dynamic agent:"; tail -n 20 "$vg.build.log"
	exit 1
fi
agent=$vg/vfleet-agent
tmp=$(mktemp -d /tmp/vfleet-vg.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# --error-exitcode: any error, and (with --errors-for-leak-kinds) any
# definite leak, makes the run exit 99; the agent's own codes are 0..2.
# Forked scan workers are traced too (valgrind follows fork); each
# process writes its own log (%p).
memcheck() {	# memcheck NAME ARGS... (stdin passed through)
	local name=$1; shift
	valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--track-origins=yes --num-callers=30 \
		--log-file="$tmp/$name.%p.vg" "$agent" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	if [[ $rc -eq 99 ]] || grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$tmp/$name".*.vg; then
		bad "$name: valgrind reports errors or leaks"
		grep -hE -A25 '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Syscall|Source and|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
			"$tmp/$name".*.vg | head -n 60
		return
	fi
	if [[ $rc -gt 2 ]]; then
		bad "$name: agent exited $rc"
		tail -n 5 "$tmp/$name.err"
		return
	fi
	ok "$name: clean (exit $rc, $(ls "$tmp/$name".*.vg | wc -l) process(es))"
}

n=0
for root in "$top"/tests/fixtures/sysroot/*/; do
	shape=$(basename "$root")
	memcheck "facts-$shape" facts --root "$root" </dev/null
	check "facts-$shape: one JSON answer" jq_ok .protocol "$tmp/facts-$shape.out"
	n=$((n + 1))
done
check "every fixture tree was checked ($n)" test "$n" -ge 1

seed=$top/tests/fixtures/sysroot/seed-intel-ubuntu
printf '{"protocol":"vfleet/1.0","op":"facts","root":"%s"}' "$seed" >"$tmp/req.json"
memcheck stdin-facts --stdin <"$tmp/req.json"
check "stdin-facts: answers ok" jq_ok '.ok == true' "$tmp/stdin-facts.out"
printf '{"protocol":"vfleet/1.0","op":"facts","root":"%s","policy":{"select":[1' "$seed" >"$tmp/bad.json"
memcheck stdin-malformed --stdin <"$tmp/bad.json"
check "stdin-malformed: refused with bad-request" \
	jq_ok '.errors[0].code == "bad-request"' "$tmp/stdin-malformed.out"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
memcheck stdin-oversized --stdin <"$tmp/big.json"
check "stdin-oversized: refused with request-too-large" \
	jq_ok '.errors[0].code == "request-too-large"' "$tmp/stdin-oversized.out"
finish
