#!/usr/bin/env bash
# make demo: the whole product on a simulated lab of 8 GPU hosts.
#
# Each host is a real OpenSSH sshd on its own loopback address
# (tests/fleet/fleet.sh) whose "machine" is a fixture tree modelled on a real
# host (tests/fixtures/SHAPES.md); its reboot command stops its sshd,
# computes the next boot from its own configuration (tests/fleet/simboot)
# and starts it again. The demo runs facts, a plan, a staged apply with
# coordinated reboots and verification, and status; then stops the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
VFLEET=${VFLEET:-$top/vfleet}
fleet=$top/tests/fleet/fleet.sh
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (the lab creates test users and starts sshd)" >&2; exit 1; }

base=/dev/shm; [[ -d $base && -w $base ]] || base=/tmp
dir=$(mktemp -d "$base/vfleet-demo.XXXXXX"); chmod 755 "$dir"
lab=$dir/lab
trap '"$fleet" stop "$lab" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n   $ %s\n' "$1" "$2"; }

shapes=amd-radeon,vfio-builtin,seed-intel-ubuntu,already-configured,shared-group,rhel-like,two-identical-nvidia,boot-vga-only
inv=$("$fleet" start "$lab" 8 --base-port auto --user vfleet-sudo --shapes "$shapes" 2>/dev/null)
for h in $(awk '{ print $1 }' "$lab/fleet.tsv"); do
	sed -i "s|^$h .*|& vfleet_cmd_reboot=\"$fleet reboot $lab $h --detach --delay 1\"|" "$inv"
done
# The seed's how-to opts into unsafe interrupts on its host (no interrupt
# remapping there); vfleet does so only when the inventory says so.
sed -i 's|^\(host03 .*\)$|\1 vfleet_allow_unsafe_interrupts=true|' "$inv"
echo "A lab of 8 simulated GPU hosts on loopback: $inv"
sed 's/vfleet_cmd_reboot="[^"]*"/vfleet_cmd_reboot=.../; s/ansible_ssh_private_key_file=[^ ]*//' "$inv" | grep '^host'

v() { "$VFLEET" "$@" --known-hosts "$lab/known_hosts" --state-dir "$dir/state"; }

say "Where every host and GPU stands" "vfleet facts -i lab.ini"
v facts -i "$inv" || true

say "What apply would change on the seed's host" "vfleet plan -i lab.ini --limit host03 --diff"
v plan -i "$inv" --limit host03 --diff || true

say "Staged rollout: 1 host, then 50%, then the rest; reboots, verification" \
	"vfleet apply -i lab.ini --serial 1,50% --max-fail-percentage 50 --stable 2"
rc=0
v apply -i "$inv" --serial 1,50% --max-fail-percentage 50 --stable 2 --reboot-timeout 60 || rc=$?
echo "(exit status $rc: 2 means some hosts failed: here the preflight refused the GPU"
echo " that shares its IOMMU group with SATA and a NIC, and the NVIDIA cards in use)"

say "Every host's phase from its state file" "vfleet status -i lab.ini"
v status -i "$inv" --json | jq -r '.hosts[] | "\(.host)\t\(.response.state.phase // "never-applied")"' | column -t

say "After the reboot: GPUs on vfio-pci" "vfleet facts -i lab.ini"
v facts -i "$inv" || true
