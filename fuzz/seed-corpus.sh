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
