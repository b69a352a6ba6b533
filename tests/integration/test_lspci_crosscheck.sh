#!/usr/bin/env bash
# The agent and lspci must see the same PCI functions: on this machine's
# real /sys and on every fixture tree, for every function, the address,
# vendor:device, 24-bit class, revision, subsystem ids, driver, NUMA node
# and IOMMU group agree. lspci reads the same files through its own code
# path (lspci -A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci), so this also
# catches the agent leaving a function out or misreading one.
# Environment: VFLEET_AGENT (default ./vfleet-agent), VFLEET_TOP,
# VFLEET_FIXTURES (default tests/fixtures/sysroot).
set -euo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
agent=${VFLEET_AGENT:-$top/vfleet-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
fixtures=${VFLEET_FIXTURES:-$top/tests/fixtures/sysroot}

fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in jq lspci awk; do
	command -v "$tool" >/dev/null || fail "$tool is required (apt-get install jq pciutils)"
done
[ -x "$agent" ] || fail "no agent at $agent"

tmp=$(mktemp -d /tmp/vfleet-lspci.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# One line per function: address ids class rev subsys driver numa group
# ("-" where a value is absent), sorted by address.
agent_table() {	# ROOT
	local rc=0
	"$agent" facts --root "$1" >"$tmp/agent.json" 2>"$tmp/agent.err" || rc=$?
	[ "$rc" -le 1 ] || fail "$1: agent exit $rc: $(cat "$tmp/agent.err")"
	jq -e . "$tmp/agent.json" >/dev/null || fail "$1: agent output is not JSON"
	# Errors about PCI would make the comparison meaningless.
	if jq -e '[.errors[] | select(.code | test("^(pci|iommu)"))] | length > 0' \
		"$tmp/agent.json" >/dev/null; then
		fail "$1: agent reports PCI errors: $(jq -c .errors "$tmp/agent.json")"
	fi
	jq -r '.funcs[] | [
		.address,
		.vendor_id + ":" + .device_id,
		.class_code,
		(if .revision == null then "-" else "\(.revision)" end),
		(if .subsys_vendor_id == "0000" or .subsys_vendor_id == "ffff" then "-"
		 else .subsys_vendor_id + ":" + .subsys_device_id end),
		(.driver // "-"),
		(if .numa_node == null then "-" else "\(.numa_node)" end),
		(if .iommu_group == null then "-" else "\(.iommu_group)" end)
	] | @tsv' "$tmp/agent.json" |
	awk -F'\t' 'BEGIN { OFS = "\t" }
		{ if ($4 != "-") $4 = sprintf("%02x", $4); print }' | sort
}

lspci_table() {	# ROOT
	local sysfs=${1%/}/sys/bus/pci
	# -nnk: address, [class], [vendor:device], (rev), driver.
	lspci -Dnnk -A linux-sysfs -O "sysfs.path=$sysfs" 2>/dev/null >"$tmp/nnk" ||
		fail "$1: lspci -Dnnk failed"
	# -vmm: ProgIf, Rev, subsystem, NUMANode, IOMMUGroup, Driver.
	lspci -Dvmmnnk -A linux-sysfs -O "sysfs.path=$sysfs" 2>/dev/null >"$tmp/vmm" ||
		fail "$1: lspci -Dvmmnnk failed"
	awk '
	function flush() {
		if (slot == "") return
		key[slot] = 1
		pif[slot] = progif == "" ? "00" : progif
		rv[slot] = rev == "" ? "00" : rev
		sub_[slot] = (sv == "" ? "-" : sv ":" sd)
		numa[slot] = node == "" ? "-" : node
		grp[slot] = group == "" ? "-" : group
		drv_vmm[slot] = drv == "" ? "-" : drv
		slot = progif = rev = sv = sd = node = group = drv = ""
	}
	function bracket(s) {	# "Name [10de]" -> "10de"
		sub(/.*\[/, "", s); sub(/\].*/, "", s); return s
	}
	FNR == NR {
		if ($0 == "") { flush(); next }
		split($0, kv, "\t")
		if (kv[1] == "Slot:") slot = kv[2]
		else if (kv[1] == "ProgIf:") progif = kv[2]
		else if (kv[1] == "Rev:") rev = kv[2]
		else if (kv[1] == "SVendor:") sv = bracket(kv[2])
		else if (kv[1] == "SDevice:") sd = bracket(kv[2])
		else if (kv[1] == "NUMANode:") node = kv[2]
		else if (kv[1] == "IOMMUGroup:") group = kv[2]
		else if (kv[1] == "Driver:") drv = kv[2]
		next
	}
	FNR == 1 { flush() }
	/^[0-9a-f]+:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]\.[0-7] / {
		addr = $1; line = $0
		# class: the first "[xxxx]: "; ids: the last "[xxxx:xxxx]".
		if (!match(line, /\[[0-9a-f][0-9a-f][0-9a-f][0-9a-f]\]: /)) {
			print "unparsable: " line > "/dev/stderr"; exit 1
		}
		cls[addr] = substr(line, RSTART + 1, 4)
		ids[addr] = ""
		rest = line
		while (match(rest, /\[[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f][0-9a-f][0-9a-f]\]/)) {
			ids[addr] = substr(rest, RSTART + 1, 9)
			rest = substr(rest, RSTART + RLENGTH)
		}
		drv_nnk[addr] = "-"
		order[++n] = addr
		next
	}
	/^\tKernel driver in use: / { drv_nnk[addr] = substr($0, 24); next }
	END {
		for (i = 1; i <= n; i++) {
			a = order[i]
			if (!(a in key)) { print "missing in -vmm: " a > "/dev/stderr"; exit 1 }
			if (drv_nnk[a] != drv_vmm[a]) {
				print "lspci disagrees with itself on " a > "/dev/stderr"; exit 1
			}
			printf "%s\t%s\t%s%s\t%s\t%s\t%s\t%s\t%s\n", a, ids[a], cls[a],
				pif[a], rv[a], sub_[a], drv_nnk[a], numa[a], grp[a]
		}
	}' "$tmp/vmm" "$tmp/nnk" | sort
}

check_root() {	# ROOT LABEL
	local root=$1 label=$2 n want
	agent_table "$root" >"$tmp/a.tsv"
	lspci_table "$root" >"$tmp/l.tsv"
	n=$(wc -l <"$tmp/a.tsv")
	want=$(find "${root%/}/sys/bus/pci/devices/" -mindepth 1 -maxdepth 1 \
		! -name '.*' | wc -l)
	[ "$n" -eq "$want" ] || fail "$label: agent lists $n functions, sysfs has $want"
	[ "$n" -gt 0 ] || fail "$label: no PCI functions at all"
	if ! diff -u "$tmp/l.tsv" "$tmp/a.tsv" >"$tmp/diff"; then
		echo "$label: lspci (-) and vfleet-agent (+) disagree:" >&2
		cat "$tmp/diff" >&2
		fail "$label"
	fi
	echo "ok: $label: $n functions agree"
}

# This machine, as it is. A container without PCI functions still checks
# something: the agent must answer, and list none, like lspci.
if [ -n "$(ls -A /sys/bus/pci/devices 2>/dev/null)" ]; then
	check_root / "real /sys"
else
	rc=0
	"$agent" facts >"$tmp/nopci.json" 2>/dev/null || rc=$?
	[ "$rc" -le 1 ] || fail "real /sys without PCI: agent exit $rc"
	[ "$(jq '.funcs | length' "$tmp/nopci.json")" -eq 0 ] ||
		fail "real /sys without PCI: the agent lists functions"
	[ -z "$(lspci -D 2>/dev/null)" ] || fail "lspci sees functions /sys does not list"
	echo "ok: real /sys has no PCI functions; neither tool lists any"
fi

shapes=$(find "$fixtures/" -mindepth 1 -maxdepth 1 -type d | sort)
[ -n "$shapes" ] || fail "no fixture trees under $fixtures"
count=0
for shape in $shapes; do
	check_root "$shape" "fixture $(basename "$shape")"
	count=$((count + 1))
done
[ "$count" -ge 12 ] || fail "expected at least 12 fixture shapes, found $count"
echo "all agree: real /sys and $count fixture trees"
