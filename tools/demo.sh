#!/usr/bin/env bash
# make demo: the product on built-in example hosts. Today: GPU/IOMMU facts on
# every fixture host shape under tests/fixtures/sysroot (each modelled on a
# real machine), then this machine itself.
set -euo pipefail
cd "$(dirname "$0")/.."
VFLEET=${VFLEET:-./vfleet}

for root in tests/fixtures/sysroot/*/; do
	shape=$(basename "$root")
	printf '\n\033[1m== %s\033[0m  (%s)\n' "$shape" "vfleet facts --root $root"
	"$VFLEET" facts --root "$root" || true
done
printf '\n\033[1m== this machine\033[0m  (vfleet facts)\n'
"$VFLEET" facts || true
