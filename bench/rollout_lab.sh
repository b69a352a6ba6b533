# Sourced by the rollout benchmarks: start a lab of rebootable simulated
# hosts and copy the binaries under test beside it.
#
#   rollout_lab PREFIX N   sets dir (a private folder, removed on exit),
#                          inv (the lab's inventory) and fleet
rollout_lab() {
	local prefix=$1 n=$2 h shapes=amd-radeon,vfio-builtin,rhel-like,proxmox,already-configured
	fleet=$top/tests/fleet/fleet.sh
	base=/dev/shm; [[ -d $base && -w $base ]] || base=/tmp
	dir=$(mktemp -d "$base/$prefix.XXXXXX"); chmod 755 "$dir"
	# shellcheck disable=SC2064 # expand now: dir is this lab's
	trap "\"$fleet\" stop \"$dir/lab\" >/dev/null 2>&1 || true; rm -rf \"$dir\"" EXIT
	inv=$("$fleet" start "$dir/lab" "$n" --base-port auto --user vfleet-sudo --shapes "$shapes" 2>/dev/null)
	# each host reboots itself through fleet.sh (a simulated reboot)
	for h in $(awk '{ print $1 }' "$dir/lab/fleet.tsv"); do
		sed -i "s|^$h .*|& vfleet_cmd_reboot=\"$fleet reboot $dir/lab $h --detach --delay 1\"|" "$inv"
	done
	cp "${BENCH_VFLEET:-$top/vfleet}" "$dir/vfleet"
	cp "$top/vfleet-agent" "$dir/"
}
