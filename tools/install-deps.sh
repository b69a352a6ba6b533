#!/usr/bin/env bash
# Installs the Debian packages vfleet needs to build, test, analyze
# (tools/analyze.sh) and demo.
# Idempotent and quiet when everything is already there.
set -euo pipefail
pkgs=(
	build-essential pkg-config musl-tools cmake xz-utils dpkg-dev
	libssh-dev libjson-c-dev libpci-dev libcmocka-dev
	openssh-server openssh-client sudo pciutils jq
	clang libclang-rt-14-dev valgrind ansible-core time perl bc
	clang-tidy cppcheck
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
