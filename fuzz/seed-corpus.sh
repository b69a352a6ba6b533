#!/usr/bin/env bash
# fuzz/seed-corpus.sh: (re)build the seed corpora fuzz/corpus/<target>/
# from the test fixtures, so every fuzz run starts from real inputs.
# Seeds are named seed-<sha1 of content>; crash reproducers (crash-*,
# leak-*, timeout-*, oom-*) that were added by hand are kept. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
fx=tests/fixtures
sr=$fx/sysroot

put() {	# put TARGET FILE...: copy each file in as seed-<sha1>
	local t=$1 f h; shift
	mkdir -p "fuzz/corpus/$t"
	for f in "$@"; do
		[[ -f $f ]] || continue
		h=$(sha1sum <"$f" | cut -c1-40)
		cp "$f" "fuzz/corpus/$t/seed-$h"
	done
}
put_text() {	# put_text TARGET TEXT: one seed from a string
	local t=$1 tmp
	tmp=$(mktemp)
	printf '%s' "$2" >"$tmp"
	put "$t" "$tmp"
	rm -f "$tmp"
}

rm -f fuzz/corpus/*/seed-*

# protocol: valid messages and the invalid ones, by the decoder EXPECTED names
put fuzz_proto_request $fx/protocol/valid/*request*.json
put fuzz_proto_response $fx/protocol/valid/*response*.json
while IFS=$'\t' read -r file dec _; do
	[[ $file == \#* || -z $file ]] && continue
	put "fuzz_proto_$dec" "$fx/protocol/invalid/$file"
done <$fx/protocol/invalid/EXPECTED

# inventories
put fuzz_inv_ini $fx/inventory/*.ini
put fuzz_inv_json $fx/inventory/*.json $fx/inventory/expected/*.json
grep -hoE '^[^ #;[]*\[[^]]*\][^ ]*' $fx/inventory/*.ini | sort -u |
	while IFS= read -r r; do put_text fuzz_inv_range "$r"; done
for r in 'gpu[01:40]' 'db-[a:f]' 'h[1:9:2]-[a:c].lab' 'h[0:99999999]' 'x[09:1]'; do
	put_text fuzz_inv_range "$r"
done
grep -v '^#' $fx/inventory/patterns.list | grep -v '@' |
	while IFS= read -r p; do [[ -n $p ]] && put_text fuzz_inv_select "$p"; done

# the agent's host inputs
put fuzz_kmsg $sr/*/dev/kmsg
put fuzz_grub $sr/*/etc/default/grub $sr/*/etc/default/grub.d/*.cfg \
	$sr/*/boot/loader/entries/*.conf $sr/*/boot/efi/loader/entries/*.conf \
	$sr/*/etc/kernelstub/configuration $sr/*/etc/kernel/cmdline \
	$sr/*/proc/cmdline $fx/expected/*/files/etc/default/grub
put fuzz_modprobe $sr/*/etc/modprobe.d/*.conf $sr/*/etc/modules \
	$sr/*/etc/initramfs-tools/modules $sr/*/etc/modules-load.d/*.conf \
	$fx/expected/*/files/etc/modprobe.d/*.conf
put fuzz_initramfs $sr/*/etc/mkinitcpio.conf \
	$fx/expected/*/files/etc/mkinitcpio.conf
put fuzz_hostfiles $sr/*/etc/os-release $sr/*/proc/cpuinfo $sr/*/proc/cmdline \
	$sr/*/etc/default/grub $sr/*/etc/default/grub.d/*.cfg \
	$sr/*/etc/dracut.conf $sr/*/etc/dracut.conf.d/*.conf \
	$sr/*/lib/modules/*/modules.builtin

# diffs: each fixture file apply edits, before (sysroot) and after
# (expected): flags byte (bit 0: old missing), old, 0xff, new
for g in $(find $fx/expected/*/files -type f | sort); do
	rel=${g#$fx/expected/}; shape=${rel%%/*}; rel=${rel#*/files/}
	tmp=$(mktemp)
	if [[ -f $sr/$shape/$rel ]]; then
		printf '\000' >"$tmp"; cat "$sr/$shape/$rel" >>"$tmp"
	else
		printf '\001' >"$tmp"
	fi
	printf '\377' >>"$tmp"; cat "$g" >>"$tmp"
	put fuzz_diff "$tmp"
	rm -f "$tmp"
done

# PCI functions: the attribute files of a few fixture functions, joined
# with 0xff in fuzz_pci's order (0x01: file absent)
attrs=(vendor device class revision subsystem_vendor subsystem_device
	iommu_group boot_vga numa_node sriov_totalvfs current_link_width
	driver driver_override reset_method current_link_speed)
# (the first 10 per shape: the rest repeat the same forms)
for d in $(for s in $sr/*/; do ls -d "$s"sys/bus/pci/devices/* 2>/dev/null | head -n 10; done); do
	tmp=$(mktemp)
	for i in "${!attrs[@]}"; do
		a=${attrs[$i]}
		((i)) && printf '\377' >>"$tmp"
		if [[ -L $d/$a ]]; then
			printf '%s' "$(readlink "$d/$a")" >>"$tmp"
		elif [[ -f $d/$a ]]; then
			cat "$d/$a" >>"$tmp"
		else
			printf '\001' >>"$tmp"
		fi
	done
	put fuzz_pci "$tmp"
	rm -f "$tmp"
done
# pci.ids: the fixture (whole, and a slice per kind of block), slices of
# the host's own pci.ids when it has one (real vendors' blocks, the
# classes), and the shapes pciids must judge as libpci does (printf
# escapes: CRLF, NUL, gzip magic, duplicates, bad nesting, long lines)
ids=$sr/large-dgx/usr/share/misc/pci.ids
block() {	# block FILE RE LINES: the top-level block whose line matches RE
	awk -v re="$2" -v n="$3" '/^[^#\t]/ { on = $0 ~ re } on && n-- > 0' "$1"
}
put_pciids() {	# put_pciids FORMAT: one seed from printf FORMAT
	local tmp
	tmp=$(mktemp)
	# shellcheck disable=SC2059 # the format is the seed
	printf "$1" >"$tmp"
	put fuzz_pciids "$tmp"
	rm -f "$tmp"
}
slices() {	# slices FILE LINES: header, a few vendors, the classes
	local f=$1 n=$2 tmp
	tmp=$(mktemp)
	awk '/^[0-9a-f]/ { exit } 1' "$f" >"$tmp"; put fuzz_pciids "$tmp"
	for v in 10de 1002 8086 15b3; do
		block "$f" "^$v " "$n" >"$tmp"; put fuzz_pciids "$tmp"
	done
	{ block "$f" '^1043 ' 3; block "$f" '^10de ' "$n"; } >"$tmp"
	put fuzz_pciids "$tmp"
	awk '/^C / { on = 1 } on && !/^#/' "$f" >"$tmp"; put fuzz_pciids "$tmp"
	rm -f "$tmp"
}
put fuzz_pciids "$ids"
slices "$ids" 40
[[ -f /usr/share/misc/pci.ids ]] && slices /usr/share/misc/pci.ids 60
put_pciids '10de  NVIDIA Corporation\n\t1c03  GP106 [GeForce GTX 1060 6GB]\n\t\t1043 85ac  GTX 1060\n\t10f1  GP106 High Definition Audio Controller\n'
put_pciids '1043  ASUSTeK\n10de  NVIDIA\n\t1c03  GP106\n\t\t1043 85ac  GTX 1060\n\t\t10de 1c03  self\nS 1043\n\t85ac  Generic ASUS board\n\t0001  Other\n'
put_pciids 'C 03  Display controller\n\t00  VGA compatible controller\n\t\t00  VGA controller\n\t\t01  8514 controller\n\t02  3D controller\nC 01  Mass storage\n\t01  IDE interface\n\t\t8a  ISA Compatibility mode\n'
put_pciids '# header\n\n   # indented comment\n10de  NVIDIA\n\t# nested comment\n\n\t1c03  GP106\nX 01  Reserved for future use\n\tanything at all\n\t\t\t\tdeeper\n1002  AMD\n'
put_pciids '10de  NVIDIA\r\n\t1c03  GP106\r\n'
put_pciids '10de  NVIDIA \n\t1c03  GP106\t\n\t\t1043 85ac  trailing blanks  \n'
put_pciids '10de  NVIDIA\n\t1c03  GP106'
put_pciids '10de  NVIDIA\n\t1c03  GP106\n\t\t'
put_pciids '10de  A\n1002  B\n10de  C\n'
put_pciids '10de  A\n\t1c03  x\n\t10f1  y\n\t1c03  z\n'
put_pciids '10de  A\n\t1c03  x\n\t\t1043 8000  a\n\t\t1043 7000  b\n\t\t1043 8000  c\n'
put_pciids '10de  A\n\t1c03  x\n\t\t1043 8000  a\n1002  B\n\t1c03  x\n\t\t1043 8000  a\n'
put_pciids 'C 03  A\n\t00  x\nC 03  B\n'
put_pciids 'C 03  A\n\t00  x\n\t\t01  y\n\t\t01  z\n'
put_pciids 'C 01  Mass\n\t\t01  prog-if under the class\n\t00  SCSI\n'
put_pciids 'S 1234\n\t0001  before its vendor\n1234  Foo\n'
put_pciids '1234  Foo\nS 1234\n\t0001  a\nS 1234\n\t0002  b\n'
put_pciids '1234  Foo\nS 1234\n\t0001  a\n\t0001  b\n'
put_pciids '1234  Foo\nS 1234 \n\t0001  a\n'
put_pciids '10de  NV\n\t1c03  GP\n\t\t\t1043 8000  three tabs\n'
put_pciids '10de  NV\n    1c03  spaces for a tab\n'
put_pciids '10DE  Upper\n\t1C03  Case\n\t\t1043 85AC  Hex\n'
put_pciids '10de\tNV\n\t1c03\tGP\n\t\t1043\t85ac\ttabs\n'
put_pciids '10de  \n'
put_pciids '10dg  not hex\n'
put_pciids '10de  NV\000\n\t1c03  GP\n'
put_pciids '\037\213\010\000\000\000\000\000\000\003'
put_pciids ''
put_pciids '# only a comment\n'
put_pciids "10de  $(printf 'N%.0s' $(seq 990))\n\t1c03  GP\n"
put_pciids "10de  $(printf 'N%.0s' $(seq 1100))\n\t1c03  GP\n"

# protocol dictionaries: JSON tokens, member names and enum values
{
	echo "# libFuzzer dictionary: JSON tokens and the protocol's member names and"
	echo "# enum values (generated from protocol/proto_json.c by fuzz/seed-corpus.sh)."
	for t in '{' '}' '[' ']' ':' ',' '\"' true false null -1 0 1e9 \
		'\\u0000' '\\ud800' '\"vfleet/1.0\"' '\"vfleet/2.0\"'; do
		printf 'kw="%s"\n' "$t"
	done
	grep -oE '"[a-z_]{2,40}"' protocol/proto_json.c | sort -u |
		sed 's/"/\\"/g; s/.*/kw="&"/'
	for v in facts plan apply verify rollback status reboot info warning \
		blocker ready needs-configuration blocked file command \
		0000:0e:00.0 10de 030000; do
		printf 'kw="\\"%s\\""\n' "$v"
	done
} >fuzz/fuzz_proto_request.dict
cp fuzz/fuzz_proto_request.dict fuzz/fuzz_proto_response.dict

for t in fuzz/corpus/*/; do
	printf '%-28s %s seeds\n' "$(basename "$t")" "$(ls "$t" | wc -l)"
done
