#!/usr/bin/env bash
# Compares vfleet's inventory handling with Ansible's, on the fixtures in
# tests/fixtures/inventory/:
#   1. `--list` and `--list --export` JSON for every case of compare.list;
#   2. the hosts each pattern of patterns.list selects (as sets: vfleet
#      returns inventory order);
#   3. every bad-*.ini whose header says ansible=fails must fail in Ansible
#      too, at the same line when Ansible names one; ansible=accepts marks
#      where vfleet is deliberately stricter (Ansible must still accept).
#
# vfleet's side is written by the unit tests (make test runs them first):
# build/tests/inventory/test_inventory -> $VFLEET_TESTS/inventory-out/
# <case>.json and <case>.export.json; test_pattern -> patterns.out. Once
# the controller has `vfleet inventory --list`, this script can call it
# instead.
#
# Ansible's side comes from ansible-inventory / ansible when installed
# (Debian: apt-get install ansible-core), else from the goldens in
# tests/fixtures/inventory/expected/, recorded from ansible-core 2.14 with
#   tests/integration/test_inventory_ansible.sh --record
# (VFLEET_ANSIBLE=recorded uses the goldens even when Ansible is installed.)
# Either way the comparison runs: nothing is skipped.
#
# Compare modes (compare.list, 4th column): "strict" compares the JSON as
# is (jq -S); "strings" first turns numbers and booleans into strings on
# both sides, because vfleet keeps INI values as strings where Ansible runs
# them through Python's literal_eval (22 vs "22", True vs "True").
set -u
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fix=$top/tests/fixtures/inventory
exp=$fix/expected
out=${VFLEET_TESTS:-$top/build/tests}/inventory-out
record=0
[ "${1:-}" = --record ] && record=1

command -v jq >/dev/null || { echo "FAIL: jq is required"; exit 1; }
live=0
# VFLEET_ANSIBLE=recorded forces the goldens even when Ansible is there.
if [ "${VFLEET_ANSIBLE:-}" != recorded ] &&
	command -v ansible-inventory >/dev/null && command -v ansible >/dev/null; then
	live=1
elif [ $record = 1 ]; then
	echo "FAIL: --record needs ansible-inventory"; exit 1
fi

tmp=$(mktemp -d /tmp/vfleet-inv-ansible.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Keep Ansible away from any ansible.cfg or ~/.ansible around.
: >"$tmp/ansible.cfg"
export ANSIBLE_CONFIG=$tmp/ansible.cfg ANSIBLE_LOCAL_TEMP=$tmp/atmp \
	ANSIBLE_HOME=$tmp/ahome ANSIBLE_NOCOLOR=1 \
	ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_HOST_PATTERN_MISMATCH=ignore

fails=0 checks=0
pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

strings='walk(if type == "number" then tostring
	elif type == "boolean" then (if . then "True" else "False" end)
	else . end)'

# -i arguments for a ';'-separated source list (fixture names or host lists)
srcargs() {
	local s IFS=';'
	for s in $1; do
		if [ -e "$fix/$s" ]; then printf '%s\n' -i "$fix/$s"
		else printf '%s\n' -i "$s"; fi
	done
}

if [ $live = 1 ]; then
	echo "ansible side: $(ansible-inventory --version 2>/dev/null | sed -n 1p) (live)"
else
	echo "ansible side: recorded goldens in $exp"
fi
[ -d "$out" ] || { echo "FAIL: $out missing: run build/tests/inventory/test_inventory first"; exit 1; }
[ $record = 1 ] && mkdir -p "$exp"

# 1. --list / --list --export
while IFS=$'\t' read -r name ours theirs mode; do
	case $name in ''|'#'*) continue ;; esac
	mapfile -t args < <(srcargs "$theirs")
	for flavour in "" export; do
		suffix=${flavour:+.$flavour}
		golden=$exp/$name$suffix.json
		if [ $live = 1 ]; then
			if ! ansible-inventory "${args[@]}" --list ${flavour:+--export} \
				>"$tmp/raw.json" 2>"$tmp/err"; then
				fail "$name$suffix: ansible-inventory failed: $(head -3 "$tmp/err")"
				continue
			fi
			jq -S . "$tmp/raw.json" >"$tmp/theirs.json"
			[ $record = 1 ] && cp "$tmp/theirs.json" "$golden"
		else
			cp "$golden" "$tmp/theirs.json" 2>/dev/null ||
				{ fail "$name$suffix: no golden $golden"; continue; }
		fi
		if [ ! -s "$out/$name$suffix.json" ]; then
			fail "$name$suffix: vfleet output $out/$name$suffix.json missing"
			continue
		fi
		filter=.
		[ "$mode" = strings ] && filter=$strings
		if diff -u <(jq -S "$filter" "$tmp/theirs.json") \
			<(jq -S "$filter" "$out/$name$suffix.json") >"$tmp/diff"; then
			pass
		else
			fail "$name$suffix differs from Ansible (- ansible, + vfleet):"
			sed 's/^/    /' "$tmp/diff" | head -60
		fi
	done
done <"$fix/compare.list"

# 2. patterns, as sorted sets
[ -s "$out/patterns.out" ] || { fail "$out/patterns.out missing"; }
[ $record = 1 ] && : >"$exp/patterns.txt"
while IFS=$'\t' read -r pattern hosts; do
	ours=$(tr ' ' '\n' <<<"$hosts" | sed '/^$/d' | sort | tr '\n' ' ')
	if [ $live = 1 ]; then
		theirs=$(ansible -i "$fix/lab.ini" -i "$fix/extra.ini" "$pattern" \
			--list-hosts 2>/dev/null | tail -n +2 | sed 's/^ *//; /^$/d' |
			sort | tr '\n' ' ')
		[ $record = 1 ] && printf '%s\t%s\n' "$pattern" "$theirs" >>"$exp/patterns.txt"
	else
		theirs=$(awk -F'\t' -v p="$pattern" '$1 == p { print $2; f = 1 }
			END { if (!f) print "<no golden>" }' "$exp/patterns.txt")
	fi
	if [ "$ours" = "$theirs" ]; then pass
	else fail "pattern '$pattern': vfleet [$ours] ansible [$theirs]"; fi
done <"$out/patterns.out"

# 3. malformed INI files
[ $record = 1 ] && : >"$exp/bad.txt"
for f in "$fix"/bad-*.ini; do
	base=$(basename "$f")
	read -r _ _ _ line verdict _ < <(head -1 "$f" | tr ':' ' ')
	verdict=${verdict#ansible=}
	[ "$verdict" = skip ] && continue	# e.g. a 10^8-host range
	if [ $live = 1 ]; then
		if ANSIBLE_INVENTORY_ENABLED=ini ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=1 \
			ansible-inventory -i "$f" --list >/dev/null 2>"$tmp/err"; then
			got=accepts
		else
			got=fails
		fi
		# Ansible wraps long warnings; the path may be cut at a '-'.
		aline=$(tr -d '\n' <"$tmp/err" | grep -o "$base:[0-9]*:" | head -1 |
			cut -d: -f2)
		[ $record = 1 ] && printf '%s\t%s\t%s\n' "$base" "$got" "$aline" >>"$exp/bad.txt"
	else
		IFS=$'\t' read -r got aline < <(awk -F'\t' -v b="$base" \
			'$1 == b { print $2 "\t" $3 }' "$exp/bad.txt")
	fi
	if [ "$got" != "$verdict" ]; then
		fail "$base: Ansible ${got:-<no golden>}, header says ansible=$verdict"
	elif [ -n "$aline" ] && [ "$aline" != "$line" ]; then
		fail "$base: Ansible reports line $aline, vfleet line $line"
	else
		pass
	fi
done

echo "$((checks - fails)) passed, $fails failed"
[ $fails = 0 ]
