#!/usr/bin/env bash
# Integration test of tests/fleet/simboot (the simulated reboot): on copies
# of the fixture shapes with hand-written boot configurations, the next
# boot shows the command line, IOMMU groups, drivers, modules and kernel
# log the real system would. Then the fleet's `reboot` (needs root), and
# the agent's own view of a simulated boot.
. "$(dirname "$0")/lib.sh"
simboot=$top/tests/fleet/simboot
fixtures=$top/tests/fixtures/sysroot
fleet=$top/tests/fleet/fleet.sh

fleet_scratch test-simboot
fleetdir=$tmp/fleet

ID1=00000000-0000-4000-8000-000000000001
ID2=00000000-0000-4000-8000-000000000002
ID3=00000000-0000-4000-8000-000000000003

# copy SHAPE [NAME]: a cp -a copy whose files all date from long ago (the
# capture), so simboot can tell what changed since (mtimes); prints the path
copy() {
	local d=$tmp/${2:-$1}
	rm -rf "$d"
	cp -a "$fixtures/$1" "$d"
	find "$d" -exec touch -h -d '2024-01-01 00:00:00' {} +
	echo "$d"
}
boot() {	# boot ROOT ID [simboot options]: quiet simulated reboot
	local r=$1 id=$2; shift 2
	"$simboot" "$r" --new-boot-id "$id" -q "$@"
}
drv() {	# drv ROOT BDF: bound driver or "-"
	local l=$1/sys/bus/pci/devices/$2/driver
	if [[ -L $l ]]; then basename "$(readlink "$l")"; else echo -; fi
}
grp() {	# grp ROOT BDF: IOMMU group or "-"
	local l=$1/sys/bus/pci/devices/$2/iommu_group
	if [[ -L $l ]]; then basename "$(readlink "$l")"; else echo -; fi
}
ngroups() { find "$1/sys/kernel/iommu_groups" -mindepth 1 -maxdepth 1 -name '[0-9]*' | wc -l; }
cmdline() { cat "$1/proc/cmdline"; }
kmsg_has() { grep -qF -- "$2" "$1/dev/kmsg"; }
has_word() { [[ " $1 " == *" $2 "* ]]; }
set_grub_default() {	# set_grub_default ROOT VALUE
	sed -i "s|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT=\"$2\"|" "$1/etc/default/grub"
}

# --- 1. a boot with nothing changed reproduces the fixture ------------------------
for s in "$fixtures"/*/; do
	s=$(basename "$s")
	r=$(copy "$s" "$s.a")
	r2=$(copy "$s" "$s.b")
	boot "$r" "$ID1" || bad "$s: simboot failed"
	boot "$r2" "$ID1"
	boot "$r2" "$ID1"
	expect_eq "$s: new boot id" "$(cat "$r/proc/sys/kernel/random/boot_id")" "$ID1"
	# the only other differences: simboot's own state, and /dev/vfio/vfio
	# where vfio is built in (the fixtures leave it out)
	d=$(diff -r --no-dereference "$fixtures/$s" "$r" 2>&1 |
		grep -v -e "^Only in $r: var" -e "^Only in $r/dev: vfio" \
			-e '^[<>] [0-9a-f]\{8\}-' -e '^---$' -e '^1c1$' -e 'boot_id' || true)
	expect_eq "$s: unchanged configuration, unchanged runtime state" "$d" ""
	d=$(diff -r --no-dereference "$r" "$r2" 2>&1 | grep -v "var/lib/simboot" || true)
	expect_eq "$s: deterministic, and a second boot changes nothing" "$d" ""
done

# --- 2. GRUB: the seed how-to on the seed host -------------------------------------
r=$(copy seed-intel-ubuntu)
set_grub_default "$r" "quiet splash intel_iommu=on vfio-pci.ids=10de:1c03,10de:10f1"
boot "$r" "$ID1"
check "grub: edited but not regenerated: the old entry boots" \
	[ "$(cmdline "$r")" = "$(cat "$fixtures/seed-intel-ubuntu/proc/cmdline")" ]
expect_eq "grub: IOMMU still off" "$(ngroups "$r")" 0
expect_eq "grub: GPU still on nouveau" "$(drv "$r" 0000:0e:00.0)" nouveau
"$r/usr/sbin/update-grub"
out=$("$simboot" "$r" --new-boot-id "$ID2")
c=$(cmdline "$r")
expect_eq "grub: update-grub: grub-mkconfig's command line" "$c" \
	"BOOT_IMAGE=/boot/vmlinuz-5.4.0-150-generic root=UUID=5b9c3f0e-2d41-4e7a-9c55-0f7d1e2a8b63 ro quiet splash intel_iommu=on vfio-pci.ids=10de:1c03,10de:10f1"
check "grub: grub.cfg rewritten as grub-mkconfig would" \
	grep -q 'linux	/boot/vmlinuz-5.4.0-150-generic root=UUID=5b9c3f0e-2d41-4e7a-9c55-0f7d1e2a8b63 ro quiet splash intel_iommu=on vfio-pci.ids=10de:1c03,10de:10f1$' "$r/boot/grub/grub.cfg"
expect_match "grub: summary names the source" "$out" "cmdline_source /etc/default/grub"
check "grub: groups derived, one per slot" [ "$(ngroups "$r")" -eq 14 ]
expect_eq "grub: GPU and audio share a group" "$(grp "$r" 0000:0e:00.0)" "$(grp "$r" 0000:0e:00.1)"
g=$(grp "$r" 0000:0e:00.0)
check "grub: group of the GPU lists both functions" \
	[ -L "$r/sys/kernel/iommu_groups/$g/devices/0000:0e:00.0" -a -L "$r/sys/kernel/iommu_groups/$g/devices/0000:0e:00.1" ]
expect_eq "grub: group type (5.4: DMA)" "$(cat "$r/sys/kernel/iommu_groups/$g/type")" DMA
check "grub: VT-d units registered" [ -L "$r/sys/class/iommu/dmar0" -a -d "$r/sys/devices/virtual/iommu/dmar1/intel-iommu" ]
expect_eq "grub: GPU on vfio-pci" "$(drv "$r" 0000:0e:00.0)" vfio-pci
expect_eq "grub: audio on vfio-pci" "$(drv "$r" 0000:0e:00.1)" vfio-pci
check "grub: the driver lists the function" [ -L "$r/sys/bus/pci/drivers/vfio-pci/0000:0e:00.0" ]
check "grub: nouveau lost it" [ ! -e "$r/sys/bus/pci/drivers/nouveau/0000:0e:00.0" ]
check "grub: uevent says vfio-pci" grep -qx DRIVER=vfio-pci "$r/sys/bus/pci/devices/0000:0e:00.0/uevent"
check "grub: /dev/vfio/<group>" [ -e "$r/dev/vfio/$g" -a -e "$r/dev/vfio/vfio" ]
check "grub: kmsg: DMAR: IOMMU enabled" kmsg_has "$r" "DMAR: IOMMU enabled"
check "grub: kmsg: group lines" kmsg_has "$r" "pci 0000:0e:00.0: Adding to iommu group $g"
check "grub: kmsg: vfio_pci add" kmsg_has "$r" "vfio_pci: add [10de:1c03[ffff:ffff]] class 0x000000/00000000"
check "grub: kmsg: the new command line" kmsg_has "$r" "Kernel command line: $c"
check "grub: kmsg: nouveau's lines about the GPU gone" bash -c "! grep -q 'nouveau 0000:0e:00.0' '$r/dev/kmsg'"
check "grub: kmsg: the 5520 erratum keeps remapping off" bash -c "! grep -q 'Enabled IRQ remapping' '$r/dev/kmsg'"
check "grub: kmsg: records stay numbered" \
	awk -F, '$2 != NR - 1 { exit 1 }' "$r/dev/kmsg"
# the agent sees what simboot built
facts=$("$VFLEET_AGENT" facts --root "$r")
expect_eq "grub: agent: IOMMU active, groups, no remapping" \
	"$(jq -r '.host | "\(.iommu_active) \(.iommu_groups) \(.intremap)"' <<<"$facts")" "true 14 false"
expect_eq "grub: agent: GPU on vfio-pci" \
	"$(jq -r '.funcs[] | select(.address == "0000:0e:00.0") | .driver' <<<"$facts")" vfio-pci

# the operator takes it back: ids gone -> nouveau again (not blacklisted)
set_grub_default "$r" "quiet splash intel_iommu=on"
"$r/usr/sbin/update-grub"
boot "$r" "$ID3"
expect_eq "grub: ids removed: GPU back on nouveau" "$(drv "$r" 0000:0e:00.0)" nouveau
expect_eq "grub: ids removed: audio back on snd_hda_intel" "$(drv "$r" 0000:0e:00.1)" snd_hda_intel
check "grub: ids removed: no /dev/vfio/<group>" [ ! -e "$r/dev/vfio/$g" ]
check "grub: ids removed: nouveau's kmsg lines back" kmsg_has "$r" "nouveau 0000:0e:00.0: NVIDIA GP106"
expect_eq "grub: IOMMU stays on" "$(ngroups "$r")" 14

# --- 3. GRUB: a grub.d override wins (pitfall 9); vfio as a module ----------------------
r=$(copy amd-radeon)
set_grub_default "$r" "quiet iommu=pt"
"$r/usr/sbin/update-grub"
boot "$r" "$ID1"
check "grub.d: the override replaces the edited default" bash -c "! grep -q iommu=pt '$r/proc/cmdline'"
echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT iommu=pt"' >"$r/etc/default/grub.d/99-vfleet.cfg"
"$r/usr/sbin/update-grub"
boot "$r" "$ID2"
expect_eq "grub.d: a later file extends it" "$(cmdline "$r")" \
	"BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=0c5e2b7d-91a4-4f3e-8d26-7b1a9e4c5f03 ro console=tty1 console=ttyS0 iommu=pt"
expect_eq "grub.d: iommu=pt makes the groups identity" "$(cat "$r/sys/kernel/iommu_groups/18/type")" identity
check "grub.d: kmsg says passthrough" kmsg_has "$r" "iommu: Default domain type: Passthrough (set via kernel command line)"
diff -r --no-dereference "$fixtures/amd-radeon/sys/kernel/iommu_groups/18/devices" "$r/sys/kernel/iommu_groups/18/devices" >/dev/null
check "grub.d: the fixture's group numbering is kept" [ $? -eq 0 ]

# modprobe ids without anything loading vfio-pci early: amdgpu wins
echo "options vfio-pci ids=1002:73bf,1002:ab28" >"$r/etc/modprobe.d/vfio.conf"
boot "$r" "$ID1"
expect_eq "module: ids alone: GPU stays on amdgpu" "$(drv "$r" 0000:03:00.0)" amdgpu
check "module: vfio-pci not loaded" bash -c "! grep -q '^vfio_pci ' '$r/proc/modules'"
# listed in the initramfs, but the initramfs not rebuilt: still amdgpu
echo vfio_pci >>"$r/etc/initramfs-tools/modules"
out=$("$simboot" "$r" --new-boot-id "$ID2")
expect_match "module: stale initramfs reported" "$out" "initramfs initramfs-tools stale"
expect_eq "module: stale initramfs: GPU stays on amdgpu" "$(drv "$r" 0000:03:00.0)" amdgpu
"$r/usr/sbin/update-initramfs" -u -k all
boot "$r" "$ID3"
expect_eq "module: initramfs rebuilt: GPU on vfio-pci" "$(drv "$r" 0000:03:00.0)" vfio-pci
expect_eq "module: initramfs rebuilt: audio on vfio-pci" "$(drv "$r" 0000:03:00.1)" vfio-pci
for m in vfio_pci vfio_iommu_type1 vfio; do
	check "module: $m in proc/modules" grep -q "^$m " "$r/proc/modules"
	check "module: sys/module/$m" [ -e "$r/sys/module/$m/initstate" ]
done
expect_eq "module: allow_unsafe_interrupts off" \
	"$(cat "$r/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts")" N
check "module: /dev/vfio/18" [ -e "$r/dev/vfio/18" ]
check "module: amdgpu's kmsg lines about the GPU gone" bash -c "! grep -q '^[^;]*;amdgpu 0000:03:00.0' '$r/dev/kmsg'"
# softdep instead of the initramfs
r=$(copy amd-radeon amd-softdep)
printf '%s\n' "options vfio-pci ids=1002:73bf,1002:ab28" "softdep amdgpu pre: vfio-pci" \
	"softdep snd_hda_intel pre: vfio-pci" >"$r/etc/modprobe.d/vfio.conf"
boot "$r" "$ID1"
expect_eq "softdep: GPU on vfio-pci" "$(drv "$r" 0000:03:00.0)" vfio-pci
expect_eq "softdep: audio on vfio-pci" "$(drv "$r" 0000:03:00.1)" vfio-pci
expect_eq "softdep: unrelated USB stays" "$(drv "$r" 0000:09:00.3)" xhci_hcd

# --- 4. BLS (grubby) + dracut on RHEL ------------------------------------------------------
r=$(copy rhel-like)
"$r/usr/sbin/grubby" --update-kernel=ALL --args="intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8"
boot "$r" "$ID1"
c=$(cmdline "$r")
expect_eq "bls: grubby's arguments on the command line" "$c" \
	"BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0-362.el9.x86_64 root=/dev/mapper/rl-root ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root rd.lvm.lv=rl/swap rhgb quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8"
n=$(grep -l '^options .*intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8' "$r"/boot/loader/entries/*.conf | wc -l)
expect_eq "bls: both entries updated (--update-kernel=ALL)" "$n" 2
check "bls: IOMMU on, groups derived" [ "$(ngroups "$r")" -gt 0 ]
expect_eq "bls: identity groups" "$(cat "$r/sys/kernel/iommu_groups/$(grp "$r" 0000:03:00.0)/type")" identity
expect_eq "bls: vfio-pci is a module nothing loads early: nouveau keeps the T4" \
	"$(drv "$r" 0000:03:00.0)" nouveau
echo 'force_drivers+=" vfio vfio_iommu_type1 vfio_pci "' >"$r/etc/dracut.conf.d/vfio.conf"
"$r/usr/bin/dracut" -f --regenerate-all
boot "$r" "$ID2"
expect_eq "bls: dracut force_drivers + rebuild: T4 on vfio-pci" "$(drv "$r" 0000:03:00.0)" vfio-pci
check "bls: remapping on (DMAR-IR)" kmsg_has "$r" "DMAR-IR: Enabled IRQ remapping in x2apic mode"
"$r/usr/sbin/grubby" --update-kernel=ALL --remove-args="intel_iommu=on"
boot "$r" "$ID3"
expect_eq "bls: intel_iommu=on removed: IOMMU off (5.14 default)" "$(ngroups "$r")" 0
check "bls: vfio-pci's probe fails without a group" kmsg_has "$r" "vfio-pci: probe of 0000:03:00.0 failed with error -22"
expect_eq "bls: nouveau takes the T4 after the failed probe" "$(drv "$r" 0000:03:00.0)" nouveau

# --- 5. systemd-boot + mkinitcpio on Arch; the boot framebuffer ----------------------------
r=$(copy boot-vga-only)
sed -i 's/^options .*/& vfio-pci.ids=10de:2484,10de:228b/' "$r/boot/loader/entries/arch.conf"
boot "$r" "$ID1"
expect_match "sd-boot: entry options on the command line" "$(cmdline "$r")" \
	'^initrd=\\intel-ucode.img initrd=\\initramfs-linux.img root=UUID=.* vfio-pci.ids=10de:2484,10de:228b$'
expect_eq "sd-boot: nvidia in the initramfs first: it keeps the GPU" "$(drv "$r" 0000:01:00.0)" nvidia
sed -i 's/^MODULES=(/MODULES=(vfio_pci vfio vfio_iommu_type1 /' "$r/etc/mkinitcpio.conf"
"$r/usr/bin/mkinitcpio" -P
boot "$r" "$ID2"
expect_eq "sd-boot: vfio_pci ahead of nvidia: GPU on vfio-pci" "$(drv "$r" 0000:01:00.0)" vfio-pci
check "sd-boot: boot GPU without efifb:off: BAR can't reserve" \
	kmsg_has "$r" "vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem"
sed -i 's/^options .*/& video=efifb:off/' "$r/boot/loader/entries/arch.conf"
boot "$r" "$ID3"
check "sd-boot: with video=efifb:off no BAR error" bash -c "! grep -q \"can't reserve\" '$r/dev/kmsg'"

# --- 6. kernelstub (Pop!_OS) and proxmox-boot-tool -------------------------------------------
r=$(copy iommu-off)
"$r/usr/bin/kernelstub" -d amd_iommu=off
"$r/usr/bin/kernelstub" -a vfio-pci.ids=10de:1f82,10de:10fa
boot "$r" "$ID1"
c=$(cmdline "$r")
check "kernelstub: amd_iommu=off gone" bash -c "! grep -q amd_iommu=off '$r/proc/cmdline'"
check "kernelstub: ids added" has_word "$c" vfio-pci.ids=10de:1f82,10de:10fa
check "kernelstub: the AMD IOMMU is on by default" [ "$(ngroups "$r")" -gt 0 ]
check "kernelstub: AMD remapping on" kmsg_has "$r" "AMD-Vi: Interrupt remapping enabled"
expect_eq "kernelstub: GPU on vfio-pci (built in)" "$(drv "$r" 0000:01:00.0)" vfio-pci
expect_eq "kernelstub: iGPU stays on amdgpu" "$(drv "$r" 0000:07:00.0)" amdgpu

r=$(copy proxmox)
echo "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off" >"$r/etc/kernel/cmdline"
boot "$r" "$ID1"
check "proxmox: no refresh, no change" bash -c "! grep -q efifb '$r/proc/cmdline'"
"$r/usr/sbin/proxmox-boot-tool" refresh
boot "$r" "$ID2"
expect_eq "proxmox: refresh: etc/kernel/cmdline boots" "$(cmdline "$r")" \
	'initrd=\EFI\proxmox\6.5.13-5-pve\initrd.img-6.5.13-5-pve root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off'
expect_eq "proxmox: RTX 4070 still on vfio-pci" "$(drv "$r" 0000:0b:00.0)" vfio-pci

# --- 7. per-address driver_override, unsafe interrupts, blacklists -------------------------------
r=$(copy two-identical-nvidia)
mkdir -p "$r/etc/udev/rules.d"
cat >"$r/etc/udev/rules.d/90-vfleet-vfio.rules" <<'EOF'
ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:02:00.0", ATTR{driver_override}="vfio-pci"
ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:02:00.1", ATTR{driver_override}="vfio-pci"
EOF
echo vfio-pci >"$r/etc/modules-load.d/vfio-pci.conf"
boot "$r" "$ID1"
expect_eq "override: second card on vfio-pci" "$(drv "$r" 0000:02:00.0)" vfio-pci
expect_eq "override: its audio too" "$(drv "$r" 0000:02:00.1)" vfio-pci
expect_eq "override: first card stays on nvidia" "$(drv "$r" 0000:01:00.0)" nvidia
expect_eq "override: driver_override set" "$(cat "$r/sys/bus/pci/devices/0000:02:00.0/driver_override")" vfio-pci
expect_eq "override: others unset" "$(cat "$r/sys/bus/pci/devices/0000:01:00.0/driver_override")" "(null)"
check "override: /dev/vfio/13 only" [ -e "$r/dev/vfio/13" -a ! -e "$r/dev/vfio/12" ]

r=$(copy no-intremap)
mkdir -p "$r/etc/modprobe.d"
echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" >"$r/etc/modprobe.d/unsafe.conf"
echo vfio_pci >"$r/etc/modules-load.d/vfio.conf"
boot "$r" "$ID1"
expect_eq "unsafe: the opt-in reaches the module" \
	"$(cat "$r/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts")" Y
check "unsafe: remapping still off" bash -c "! grep -q 'Enabled IRQ remapping' '$r/dev/kmsg'"
check "unsafe: x2apic message stays" kmsg_has "$r" "x2apic: IRQ remapping doesn't support X2APIC mode"
sed -i 's/ intremap=off//' "$r/boot/grub/grub.cfg"
boot "$r" "$ID2"
check "intremap=off gone: remapping on" kmsg_has "$r" "DMAR-IR: Enabled IRQ remapping in x2apic mode"
check "intremap=off gone: no x2apic complaint" bash -c "! grep -q 'support X2APIC mode' '$r/dev/kmsg'"

r=$(copy already-configured)
set_grub_default "$r" "quiet splash intel_iommu=on iommu=pt"
"$r/usr/sbin/update-grub"
boot "$r" "$ID1"
expect_eq "rollback: nouveau blacklisted: GPU left without a driver" "$(drv "$r" 0000:01:00.0)" -
expect_eq "rollback: audio back on snd_hda_intel" "$(drv "$r" 0000:01:00.1)" snd_hda_intel
check "rollback: no /dev/vfio/1" [ ! -e "$r/dev/vfio/1" ]
rm "$r/etc/modprobe.d/blacklist-nouveau.conf"
boot "$r" "$ID2"
expect_eq "rollback: blacklist removed: nouveau" "$(drv "$r" 0000:01:00.0)" nouveau
check "rollback: nouveau loaded" grep -q '^nouveau ' "$r/proc/modules"
check "rollback: sys/module/nouveau" [ -e "$r/sys/module/nouveau/initstate" ]
check "rollback: nouveau's driver folder" [ -L "$r/sys/bus/pci/drivers/nouveau/0000:01:00.0" ]
check "rollback: its module link" [ -d "$r/sys/bus/pci/drivers/nouveau/module/" ]

# --- 8. the forced failures --------------------------------------------------------------------------
r=$(copy amd-radeon amd-off)
boot "$r" "$ID1" --iommu-off --kmsg "vfio-pci 0000:03:00.0: test line"
expect_eq "--iommu-off: no groups" "$(ngroups "$r")" 0
expect_eq "--iommu-off: no units" "$(ls "$r/sys/class/iommu")" ""
check "--iommu-off: no AMD-Vi remapping" bash -c "! grep -q 'AMD-Vi: Interrupt remapping' '$r/dev/kmsg'"
check "--kmsg: the line is in the log" kmsg_has "$r" "vfio-pci 0000:03:00.0: test line"
boot "$r" "$ID2"
d=$(diff -r --no-dereference "$fixtures/amd-radeon/sys" "$r/sys" 2>&1 || true)
expect_eq "next boot: groups and units exactly as before" "$d" ""
check "next boot: the --kmsg line is gone" bash -c "! grep -q 'test line' '$r/dev/kmsg'"
r=$(copy vfio-builtin vb-nointremap)
boot "$r" "$ID1" --no-intremap
check "--no-intremap: no DMAR-IR enabled line" bash -c "! grep -q 'Enabled IRQ remapping' '$r/dev/kmsg'"
check "--no-intremap: groups still there" [ "$(ngroups "$r")" -gt 0 ]
"$simboot" "$tmp/nonexistent" >/dev/null 2>&1
check "a missing root is an error" [ $? -ne 0 ]
"$simboot" "$r" --new-boot-id NOT-A-UUID >/dev/null 2>&1
check "a bad boot id is an error" [ $? -ne 0 ]

# --- 9. end to end: the agent's apply, a simulated reboot, the agent's verify ----------
command -v jq >/dev/null || bad "jq is required (apt-get install jq)"
agent_json() {	# agent_json OP ROOT [args]: the response; exit status in AST
	local op=$1 r=$2; shift 2
	AJ=$("$VFLEET_AGENT" "$op" --root "$r" --json "$@" 2>"$tmp/agent.err")
	AST=$?
}
errors_of() {	# the response's error codes and messages, one per line
	jq -r '.errors[] | "\(.code) \(.message)"' <<<"$1" 2>/dev/null
}
# shape, policy, expected after apply + reboot: pass | not-applied
e2e_cases=(
	"already-configured|{}|pass"
	"amd-radeon|{}|pass"
	"proxmox|{}|pass"
	"rhel-like|{}|pass"
	"vfio-builtin|{}|pass"
	"large-dgx|{\"allow_driver_in_use\":true}|pass"
	"seed-intel-ubuntu|{\"allow_unsafe_interrupts\":true}|pass"
	"no-intremap|{\"allow_unsafe_interrupts\":true}|pass"
	"shared-group|{\"allow_group_not_viable\":true}|pass"
	"two-identical-nvidia|{\"allow_driver_in_use\":true,\"select\":[\"0000:02:00.0\"]}|pass"
	"seed-intel-ubuntu|{}|not-applied"
	"shared-group|{}|not-applied"
	"iommu-off|{}|not-applied"
	"boot-vga-only|{}|not-applied"
)
n=0
for c in "${e2e_cases[@]}"; do
	IFS='|' read -r s pol want <<<"$c"
	n=$((n + 1))
	r=$(copy "$s" "e2e-$n")
	echo "$pol" >"$tmp/e2e-$n.policy"
	agent_json apply "$r" --run-id "e2e-$n" --policy-file "$tmp/e2e-$n.policy"
	if [[ $want == not-applied ]]; then
		check "e2e $s $pol: apply refuses (exit $AST)" [ ! -e "$r/var/lib/vfleet/state.json" ]
		boot "$r" "$ID1"
		agent_json verify "$r"
		expect_match "e2e $s: verify: nothing applied" "$(errors_of "$AJ")" "^not-applied nothing applied on this host"
		expect_eq "e2e $s: verify exit status" "$AST" 1
		continue
	fi
	expect_eq "e2e $s $pol: apply succeeds" "$AST" 0
	[[ $AST == 0 ]] || { errors_of "$AJ"; continue; }
	snap=$tmp/e2e-$n.applied
	cp -a "$r" "$snap"
	# not rebooted yet
	agent_json verify "$r"
	expect_match "e2e $s: before the reboot verify fails on the boot id" \
		"$(errors_of "$AJ")" "^verify-failed verify failed: verify-reboot"
	boot "$r" "$ID1"
	agent_json verify "$r"
	expect_eq "e2e $s: after the reboot verify passes" "$AST" 0
	[[ $AST == 0 ]] || errors_of "$AJ"
	check "e2e $s: phase verified" grep -q '"phase": "verified"' "$r/var/lib/vfleet/state.json"
	# the same apply, but the firmware comes back with the IOMMU off
	rm -rf "$r" && cp -a "$snap" "$r"
	boot "$r" "$ID2" --iommu-off
	agent_json verify "$r"
	expect_match "e2e $s: IOMMU off after the reboot: verify fails on it" \
		"$(errors_of "$AJ")" "^verify-failed verify failed:.* verify-iommu .*verify-driver"
	check "e2e $s: phase failed" grep -q '"phase": "failed"' "$r/var/lib/vfleet/state.json"
	# remapping lost: fails unless the operator opted in to unsafe interrupts
	rm -rf "$r" && cp -a "$snap" "$r"
	boot "$r" "$ID3" --no-intremap
	agent_json verify "$r"
	if [[ $pol == *allow_unsafe_interrupts* ]]; then
		expect_eq "e2e $s: no remapping, unsafe opted in: passes" "$AST" 0
	else
		expect_match "e2e $s: no remapping: verify fails on it" \
			"$(errors_of "$AJ")" "^verify-failed verify failed: verify-intremap$|^verify-failed verify failed: verify-intremap "
	fi
	# rollback and a reboot give back the fixture's runtime state
	rm -rf "$r" && cp -a "$snap" "$r"
	boot "$r" "$ID1"
	agent_json rollback "$r" --run-id "e2e-$n"
	expect_eq "e2e $s: rollback" "$AST" 0
	boot "$r" "$ID2"
	d=$(diff -r --no-dereference "$fixtures/$s/sys" "$r/sys" 2>&1; diff "$fixtures/$s/proc/cmdline" "$r/proc/cmdline" 2>&1;
	    diff "$fixtures/$s/proc/modules" "$r/proc/modules" 2>&1)
	expect_eq "e2e $s: rolled back and rebooted: runtime state as before" "$d" ""
	agent_json verify "$r"
	expect_match "e2e $s: verify after rollback: nothing applied" "$(errors_of "$AJ")" "^not-applied "
done

# --- 10. the fleet's reboot --------------------------------------------------------------------------------
if (($(id -u) != 0)); then
	bad "fleet reboot needs root (fleet.sh start creates users and sshds)"
else
	"$fleet" start "$fleetdir" 2 --shapes already-configured,seed-intel-ubuntu \
		--base-port auto >/dev/null || bad "fleet start"
	sshc=(ssh -F "$fleetdir/ssh_config" -o BatchMode=yes)
	bid() { "${sshc[@]}" "$1" 'cat "$VFLEET_ROOT/proc/sys/kernel/random/boot_id"' 2>/dev/null; }
	old=$(bid host01)
	expect_eq "fleet: boot id before" "$old" 2c7a9f13-e5b0-4d68-a3f1-8b6d0c4e9a27
	t0=$(date +%s%N)
	"$fleet" reboot "$fleetdir" host01 --delay 0.5 --boot-id "$ID1" 2>/dev/null
	check "fleet: reboot waited for the delay" [ $((($(date +%s%N) - t0) / 1000000)) -ge 500 ]
	expect_eq "fleet: new boot id over ssh" "$(bid host01)" "$ID1"
	check "fleet: the root still belongs to the login user" \
		[ "$(stat -c %U "$fleetdir/hosts/host01/root/proc/cmdline")" = vfleet ]
	check "fleet: reboots.log" grep -q "host01 booted (boot_id $ID1)" "$fleetdir/hosts/host01/reboots.log"

	# detached: answers at once, down for the delay, then up again
	# wait_state NAME up|down: poll for it (10 s at most)
	wait_state() {
		local i st
		for ((i = 0; i < 200; i++)); do
			if "$fleet" status "$fleetdir" "$1" >/dev/null; then st=up; else st=down; fi
			[[ $st == "$2" ]] && return 0
			sleep 0.05
		done
		return 1
	}
	"$fleet" reboot "$fleetdir" host01 --delay 2 --boot-id "$ID2" --iommu-off --detach 2>/dev/null
	check "fleet: --detach: answers at once, goes down" wait_state host01 down
	for ((i = 0; i < 100; i++)); do [[ $(bid host01) == "$ID2" ]] && break; sleep 0.1; done
	expect_eq "fleet: --detach: back with the new boot id" "$(bid host01)" "$ID2"
	expect_eq "fleet: --iommu-off: no groups" "$(ngroups "$fleetdir/hosts/host01/root")" 0

	"$fleet" reboot "$fleetdir" host02 --delay 0 --never-return 2>/dev/null
	"$fleet" status "$fleetdir" host02 >/dev/null
	check "fleet: --never-return: stays down" [ $? -ne 0 ]
	"$fleet" up "$fleetdir" host02 2>/dev/null
	"$fleet" reboot "$fleetdir" host02 --delay 0 --flap --flap-after 1 --boot-id "$ID3" \
		--detach 2>/dev/null
	up=0
	for ((i = 0; i < 100; i++)); do
		[[ $(bid host02) == "$ID3" ]] && { up=1; break; }
		sleep 0.05
	done
	check "fleet: --flap: comes back" [ $up -eq 1 ]
	check "fleet: --flap: goes down again" wait_state host02 down
	sleep 1
	check "fleet: --flap: and stays down" bash -c "! '$fleet' status '$fleetdir' host02 >/dev/null"
	"$fleet" reboot "$fleetdir" nohost >/dev/null 2>&1
	check "fleet: unknown host refused" [ $? -ne 0 ]
fi

finish
