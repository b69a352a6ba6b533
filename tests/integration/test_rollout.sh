#!/usr/bin/env bash
# Staged rollouts against the loopback fleet with simulated reboots
# (tests/fleet/fleet.sh reboot + simboot): batches, hosts that need no
# change, a host that never comes back (halt, never advance), one that comes
# back with the IOMMU off (verify names the check), one that flaps inside the
# stability window, max-fail thresholds, a host running a VM, --check,
# resume after the controller is killed, status and a staged rollback.
# Needs root (the fleet creates users and runs sshd).
set -u
source "$(dirname "$0")/lib.sh"
fleet=$top/tests/fleet/fleet.sh
export VFLEET_POLL_MS=200

fleet_scratch roll

# start NAME SHAPES: a fleet logged in as vfleet-sudo (the agent runs as
# root through sudo -n, as on a real host), each host rebooting itself
# through fleet.sh reboot --detach; REBOOT_<host> adds reboot flags.
start() {
	local d=$tmp/$1 shapes=$2 n inv
	n=$(tr ',' '\n' <<<"$shapes" | wc -l)
	inv=$("$fleet" start "$d" "$n" --base-port auto --user vfleet-sudo --shapes "$shapes") || return 1
	while read -r name _; do
		local extra="REBOOT_$name"
		sed -i "s|^$name .*|& vfleet_cmd_reboot=\"$fleet reboot $d $name --detach --delay 1${!extra:+ ${!extra}}\"|" "$inv"
	done < <(awk '{ print $1 }' "$d/fleet.tsv")
	echo "$inv"
}
vf() { "$VFLEET" "$@" --known-hosts "$FLEETDIR/known_hosts" --state-dir "$tmp/state" \
	--reboot-timeout 10 --stable 1; }

# --- 0. a bad VFLEET_POLL_MS is refused before anything starts ---------------
# (no fleet: the host is never contacted, and no run journal is written)
FLEETDIR=$tmp/poll
mkdir -p "$FLEETDIR"
printf 'h1 ansible_host=127.0.0.1 ansible_port=9\n' >"$FLEETDIR/inv.ini"
for v in abc 0 -200 200ms 99999999999; do
	err=$(VFLEET_POLL_MS=$v vf apply -i "$FLEETDIR/inv.ini" --serial 1 2>&1 >/dev/null); rc=$?
	expect_eq "VFLEET_POLL_MS='$v': exit 5 (bad options)" "$rc" 5
	expect_match "VFLEET_POLL_MS='$v': the message names it" "$err" "VFLEET_POLL_MS: expected a number >= 1, got '$v'"
done
expect_eq "no run journal for a refused run" "$(ls "$tmp/state" 2>/dev/null | wc -l)" 0

# --- 1. a staged apply that works -------------------------------------------
FLEETDIR=$tmp/a
inv=$(start a amd-radeon,already-configured,vfio-builtin,rhel-like) || { echo "FAIL fleet"; exit 1; }
out=$(vf apply -i "$inv" --serial 1,50% --json); rc=$?
expect_eq "staged apply: exit 0" "$rc" 0
expect_eq "three batches (1, 50% of 4 = 2, then the last 1)" "$(jq -r '.rollout.batches' <<<"$out")" 3
expect_eq "not halted" "$(jq -r '.rollout.halted' <<<"$out")" false
booted() { cat "$FLEETDIR"/hosts/*/reboots.log 2>/dev/null | grep -c ' booted'; }
expect_eq "every changed host rebooted once" "$(booted)" 4
expect_eq "AMD host: RX 6800 on vfio-pci after the reboot" \
	"$(basename "$(readlink "$FLEETDIR/hosts/host01/root/sys/bus/pci/devices/0000:03:00.0/driver")")" vfio-pci
st=$(vf status -i "$inv" --json)
expect_eq "status: every host verified" \
	"$(jq -r '[.hosts[].response.state.phase] | unique | join(",")' <<<"$st")" verified
out=$(vf apply -i "$inv" --json); rc=$?
expect_eq "second apply: exit 0" "$rc" 0
expect_eq "second apply changes nothing" "$(jq -r '[.hosts[].response.changed] | any' <<<"$out")" false
expect_eq "second apply reboots nothing (no change, no reboot)" "$(booted)" 4

# --- 2. rollback in the same staged way ----------------------------------------
# a rollback never resumes from an apply's journal (it would skip the hosts
# the apply finished)
out=$(vf rollback -i "$inv" --resume 2>&1); rc=$?
expect_eq "rollback --resume with only apply journals: exit 1" "$rc" 1
expect_match "it says there is no rollback run" "$out" "no rollback run journal"
out=$(vf rollback -i "$inv" --serial 2 --json); rc=$?
expect_eq "staged rollback: exit 0" "$rc" 0
expect_eq "rollback: back on amdgpu after the reboot" \
	"$(basename "$(readlink "$FLEETDIR/hosts/host01/root/sys/bus/pci/devices/0000:03:00.0/driver")")" amdgpu
st=$(vf status -i "$inv" --json)
expect_eq "status after rollback" \
	"$(jq -r '.hosts[] | select(.host == "host01") | .response.state.phase' <<<"$st")" rolled-back

# --- 3. a host that never comes back halts the rollout ----------------------------
FLEETDIR=$tmp/b
REBOOT_host01="--never-return"
inv=$(start b amd-radeon,rhel-like,vfio-builtin) || { echo "FAIL fleet"; exit 1; }
unset REBOOT_host01
out=$(vf apply -i "$inv" --serial 1 --json); rc=$?
expect_eq "never returns: exit 2" "$rc" 2
expect_eq "halted" "$(jq -r '.rollout.halted' <<<"$out")" true
expect_match "the reason names the host and the timeout" "$(jq -r '.rollout.halt_reason' <<<"$out")" "host01.*did not come back within 10 s"
expect_eq "later hosts not started" \
	"$(jq -r '[.hosts[] | select(.status == "skipped") | .host] | join(",")' <<<"$out")" host02,host03
check "later hosts untouched (no state file)" test ! -e "$FLEETDIR/hosts/host02/root/var/lib/vfleet/state.json"
# the operator brings host01 back; resume continues where it stopped
"$fleet" up "$FLEETDIR" host01 >/dev/null 2>&1
sed -i 's|--never-return||' "$inv"
out=$(vf apply -i "$inv" --serial 1 --resume --json); rc=$?
expect_eq "resume after the halt: exit 0" "$rc" 0
expect_eq "resume: every host configured" \
	"$(jq -r '[.hosts[] | select(.host != "host01") | .status] | unique | join(",")' <<<"$out")" ok

# --- 4. IOMMU off after the reboot: verify names it; flapping host halts --------
FLEETDIR=$tmp/c
REBOOT_host01="--iommu-off"
REBOOT_host02="--flap --flap-after 0.3"
inv=$(start c amd-radeon,vfio-builtin,rhel-like) || { echo "FAIL fleet"; exit 1; }
unset REBOOT_host01 REBOOT_host02
out=$(vf apply -i "$inv" --limit host01 --json); rc=$?
expect_eq "IOMMU off after reboot: exit 2" "$rc" 2
expect_match "verify names the failed check" "$(jq -r '.hosts[0].error' <<<"$out")" "(IOMMU|iommu)"
out=$(vf apply -i "$inv" --limit 'host02:host03' --serial 1 --stable 3 --json); rc=$?
expect_eq "flapping host: exit 2" "$rc" 2
expect_match "flap is named" "$(jq -r '.hosts[] | select(.host == "host02") | .error' <<<"$out")" "stability window"
expect_eq "flap halts the rollout" "$(jq -r '.hosts[] | select(.host == "host03") | .status' <<<"$out")" skipped

# --- 5. max-fail thresholds, VMs, --check ------------------------------------------
FLEETDIR=$tmp/d
inv=$(start d seed-intel-ubuntu,amd-radeon,vfio-builtin,rhel-like) || { echo "FAIL fleet"; exit 1; }
# preflight refuses the seed host (no interrupt remapping, no opt-in):
# 1 of 4 failed = 25 %
out=$(vf apply -i "$inv" --check --json); rc=$?
expect_eq "--check: every host planned" "$(jq -r '.hosts | length' <<<"$out")" 4
check "--check changed nothing" test ! -e "$FLEETDIR/hosts/host02/root/var/lib/vfleet/state.json"
out=$(vf apply -i "$inv" --max-fail-percentage 20 --json); rc=$?
expect_eq "25% failed > 20%: halted" "$(jq -r '.rollout.halted' <<<"$out")" true
check "over the threshold: nothing rebooted" test ! -e "$FLEETDIR/hosts/host02/reboots.log"
mkdir -p "$FLEETDIR/hosts/host02/root/proc/4242" && echo qemu-system-x86_64 >"$FLEETDIR/hosts/host02/root/proc/4242/comm"
out=$(vf apply -i "$inv" --max-fail-percentage 50 --json); rc=$?
expect_eq "25% failed <= 50%: not halted by the threshold" "$(jq -r '.rollout.halted' <<<"$out")" false
expect_match "host with a running VM is not rebooted" \
	"$(jq -r '.hosts[] | select(.host == "host02") | .error' <<<"$out")" "virtual machines are running"
check "VM host: no reboot happened" test ! -e "$FLEETDIR/hosts/host02/reboots.log"
out=$(vf apply -i "$inv" --limit host02 --force --json); rc=$?
expect_eq "--force reboots under the VM" "$rc" 0

# --- 6. the controller killed mid-run; resume finishes -----------------------------
FLEETDIR=$tmp/e
inv=$(start e amd-radeon,vfio-builtin,rhel-like) || { echo "FAIL fleet"; exit 1; }
vf apply -i "$inv" --serial 1 --run-id killed-run >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -e $FLEETDIR/hosts/host01/reboots.log ]] && break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
# the operator resumes once the host that was rebooting is back
for _ in $(seq 100); do grep -q ' up$' "$FLEETDIR/hosts/host01/reboots.log" && break; sleep 0.1; done
out=$(vf apply -i "$inv" --serial 1 --resume --json); rc=$?
expect_eq "resume after kill -9: exit 0" "$rc" 0
expect_eq "resume kept the run id" "$(jq -r '.rollout.run_id' <<<"$out")" killed-run
st=$(vf status -i "$inv" --json)
expect_eq "after resume every host is verified" \
	"$(jq -r '[.hosts[].response.state.phase] | unique | join(",")' <<<"$st")" verified
finish
