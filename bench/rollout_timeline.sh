#!/usr/bin/env bash
# Where a batch's reboot wait goes: one batch of N simulated hosts
# (tests/fleet/fleet.sh, as bench_rollout.sh), the controller under
# `strace -e connect` for the time of every SSH connection it opens, set
# against the time each host's sshd came back (its reboots.log). Per host:
# how long after it was up the controller's next probe began (the one that
# saw it back, unless one was already under way) and
# how long after it was up its verify began (its stability window, 2 s,
# plus the probing around it). Not run by `make bench` (needs strace).
#
#   bash bench/rollout_timeline.sh            # this tree's ./vfleet
#   BENCH_VFLEET=/path/to/vfleet bash bench/rollout_timeline.sh
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
N=${BENCH_TIMELINE_HOSTS:-10}
command -v strace >/dev/null || { echo "needs strace" >&2; exit 1; }
. "$top/bench/rollout_lab.sh"
rollout_lab vfleet-bench-timeline "$N"
strace -f -tt -e trace=connect -o "$dir/connect.txt" "$dir/vfleet" apply -i "$inv" \
	--known-hosts "$dir/lab/known_hosts" --state-dir "$dir/state" \
	--serial "$N" --stable 2 --reboot-timeout 60 --json >"$dir/out.json" || true
jq -r '"  steps (ms): \(.rollout.step_ms | tostring)"' "$dir/out.json"
# seconds since midnight of an HH:MM:SS.fff time
secs() { awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }
while read -r name addr port _; do
	up=$(grep ' up$' "$dir/lab/hosts/$name/reboots.log" | cut -c12-23 | secs)
	grep -F "inet_addr(\"$addr\")" "$dir/connect.txt" | grep -F "htons($port)" |
		awk '{ print substr($2, 1, 12) }' | secs |
		awk -v up="$up" -v h="$name" '
			$1 > up { if (!first) first = $1; last = $1 }
			END { printf "  %-8s up -> next probe %.2f s, up -> verify %.2f s\n", h, first - up, last - up }'
done <"$dir/lab/fleet.tsv"
