#!/usr/bin/env bash
# Integration test of `vfleet-agent verify`: the command line and protocol
# forms on fixture copies with a hand-written state.json, then on a fleet
# host (over ssh, as the login user) through apply, the fleet's simulated
# reboot and verify. The fleet part needs root.
. "$(dirname "$0")/lib.sh"
simboot=$top/tests/fleet/simboot
fixtures=$top/tests/fixtures/sysroot
fleet=$top/tests/fleet/fleet.sh

fleet_scratch test-verify
fleetdir=$tmp/fleet

ID1=00000000-0000-4000-8000-0000000000a1
ID2=00000000-0000-4000-8000-0000000000a2
ID3=00000000-0000-4000-8000-0000000000a3

command -v jq >/dev/null || { bad "jq is required (apt-get install jq)"; finish; exit; }
jqr() { jq -r "$1"; }	# jqr FILTER < JSON: the value, raw
jqc() { jq -c "$1"; }	# jqc FILTER < JSON: compact JSON
# the codes of the verify-* findings with the given severity, sorted
verify_codes() {
	jq -r --arg sev "$1" '[.findings[] | select((.code | startswith("verify-")) and .severity == $sev) | .code] | unique | join(" ")'
}
evidence_of() {	# evidence_of CODE < JSON: the first such finding's evidence, joined
	jq -r --arg c "$1" '[.findings[] | select(.code == $c) | .evidence][0] | join(" | ")'
}

# --- 1. nothing applied ----------------------------------------------------------------
r=$tmp/ac
cp -a "$fixtures/already-configured" "$r"
out=$("$VFLEET_AGENT" verify --root "$r")
expect_eq "no state: exit status 1" $? 1
expect_eq "no state: not-applied" "$(jqr '.errors[0].code' <<<"$out")" not-applied
expect_match "no state: says so" "$(jqr '.errors[0].message' <<<"$out")" \
	"^nothing applied on this host"
expect_eq "no state: no checks" "$(verify_codes blocker <<<"$out")$(verify_codes info <<<"$out")" ""

# --- 2. a hand-written record, the command line form ------------------------------------
mkdir -p "$r/var/lib/vfleet"
cat >"$r/var/lib/vfleet/state.json" <<EOF
{"format": 1, "phase": "applied-pending-reboot", "run_id": "hand-1",
 "boot_id": "$(cat "$r/proc/sys/kernel/random/boot_id")",
 "devices": [{"address": "0000:01:00.0"}, {"address": "0000:01:00.1"}],
 "cmdline_expected": ["intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1c03,10de:10f1"]}
EOF
out=$("$VFLEET_AGENT" verify --root "$r")
expect_eq "not rebooted: exit status 1" $? 1
expect_eq "not rebooted: the one failed check" "$(verify_codes blocker <<<"$out")" verify-reboot
expect_eq "not rebooted: error" "$(jqc '[.errors[].code]' <<<"$out")" '["verify-failed"]'
expect_eq "not rebooted: phase failed" "$(jqr '.state.phase' <<<"$out")" failed
expect_eq "not rebooted: host.vfio_state" "$(jqr '.host.vfio_state' <<<"$out")" failed
"$simboot" "$r" --new-boot-id "$ID1" -q
out=$("$VFLEET_AGENT" verify --root "$r" --pretty)
expect_eq "rebooted: exit status 0" $? 0
expect_eq "rebooted: every check passed" "$(verify_codes info <<<"$out")" \
	"verify-cmdline verify-driver verify-intremap verify-iommu verify-kmsg verify-reboot verify-vfio-dev"
expect_eq "rebooted: no blocker" "$(verify_codes blocker <<<"$out")" ""
expect_eq "rebooted: phase verified" "$(jqr '.state.phase' <<<"$out")" verified
expect_eq "rebooted: record says verified" "$(jqr '.phase' <"$r/var/lib/vfleet/state.json")" verified
expect_eq "rebooted: facts as for facts" "$(jqr '.host.boot_id' <<<"$out")" "$ID1"
expect_match "rebooted: evidence names the boot ids" \
	"$(evidence_of verify-reboot <<<"$out")" \
	"boot_id: $ID1.*boot_id at apply: 2c7a9f13"

# --- 3. the protocol form -----------------------------------------------------------------
req="{\"protocol\":\"vfleet/1.0\",\"op\":\"verify\",\"root\":\"$r\",\"run_id\":\"hand-1\"}"
out=$("$VFLEET_AGENT" --stdin <<<"$req")
expect_eq "stdin: exit status 0" $? 0
expect_eq "stdin: op" "$(jqr '.op' <<<"$out")" verify
expect_eq "stdin: ok" "$(jqr '.ok' <<<"$out")" true
# the record: a GPU that came back on nouveau
ln -sfn ../../../../bus/pci/drivers/nouveau "$r/sys/bus/pci/devices/0000:01:00.0/driver"
out=$("$VFLEET_AGENT" --stdin <<<"$req")
expect_eq "stdin: nouveau: exit status 1" $? 1
expect_eq "stdin: nouveau: verify-driver fails" "$(verify_codes blocker <<<"$out")" verify-driver
expect_eq "stdin: nouveau: about the GPU" \
	"$(jqc '[.findings[] | select(.code == "verify-driver" and .severity == "blocker") | .device]' <<<"$out")" \
	'["0000:01:00.0"]'
expect_match "stdin: nouveau: the error names the check" \
	"$(jqr '.errors[0].message' <<<"$out")" "^verify failed: verify-driver "
req='{"protocol":"vfleet/1.0","op":"verify","root":"'$tmp'/nonexistent"}'
out=$("$VFLEET_AGENT" --stdin <<<"$req")
expect_eq "stdin: empty root: not-applied" "$(jqr '.errors[0].code' <<<"$out")" not-applied

# --- 4. on a fleet host: apply, reboot, verify, over ssh as the login user --------------------
if (($(id -u) != 0)); then
	bad "the fleet part needs root (fleet.sh start creates users and sshds)"
	finish
	exit
fi
"$fleet" start "$fleetdir" 1 --shapes vfio-builtin --base-port auto >/dev/null ||
	{ bad "fleet start"; finish; exit; }
# the login user runs the agent: give it a copy it can reach
cp "$VFLEET_AGENT" "$tmp/vfleet-agent"
chmod 755 "$tmp/vfleet-agent"
sshc=(ssh -F "$fleetdir/ssh_config" -o BatchMode=yes)
agent() {	# agent OP [args]: run the agent on host01 on its root
	local op=$1; shift
	"${sshc[@]}" host01 "$tmp/vfleet-agent $op --root \"\$VFLEET_ROOT\" $*"
}
out=$(agent apply --run-id fleet-1 --json)
expect_eq "fleet: apply" $? 0
expect_eq "fleet: applied, pending reboot" "$(jqr '.state.phase' <<<"$out")" applied-pending-reboot
out=$(agent verify)
expect_eq "fleet: before the reboot: verify-reboot and the rest" "$(verify_codes blocker <<<"$out")" \
	"verify-cmdline verify-driver verify-reboot verify-vfio-dev"
"$fleet" reboot "$fleetdir" host01 --delay 0.2 --boot-id "$ID1" 2>/dev/null
out=$(agent status --json)
expect_eq "fleet: status sees the new boot" "$(jqr '.host.boot_id' <<<"$out")" "$ID1"
out=$(agent verify)
expect_eq "fleet: after the reboot verify passes" $? 0
expect_eq "fleet: no blocker" "$(verify_codes blocker <<<"$out")" ""
expect_eq "fleet: four functions on vfio-pci" \
	"$(jqr '[.findings[] | select(.code == "verify-driver" and .severity == "info")] | length' <<<"$out")" 4
"$fleet" reboot "$fleetdir" host01 --delay 0.2 --boot-id "$ID2" --iommu-off 2>/dev/null
out=$(agent verify)
expect_eq "fleet: back with the IOMMU off: verify fails" $? 1
expect_eq "fleet: IOMMU off: the failed checks" "$(verify_codes blocker <<<"$out")" \
	"verify-driver verify-iommu verify-kmsg verify-vfio-dev"
"$fleet" reboot "$fleetdir" host01 --delay 0.2 --boot-id "$ID3" \
	--kmsg "vfio-pci 0000:01:00.0: BAR 3: can't reserve [mem 0x6000000000-0x6001ffffff 64bit pref]" 2>/dev/null
out=$(agent verify)
expect_eq "fleet: BAR error in the log: verify-kmsg" "$(verify_codes blocker <<<"$out")" verify-kmsg
expect_match "fleet: evidence quotes the line" \
	"$(evidence_of verify-kmsg <<<"$out")" \
	"kmsg: vfio-pci 0000:01:00.0: BAR 3: can't reserve"
"$fleet" reboot "$fleetdir" host01 --delay 0.2 2>/dev/null
out=$(agent verify)
expect_eq "fleet: a clean boot verifies again" $? 0

finish
