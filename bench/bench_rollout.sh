#!/usr/bin/env bash
# A full staged rollout of 50 simulated hosts (tests/fleet/fleet.sh with
# simulated reboots): wall time split by step, and the controller's own
# overhead beyond the reboot waits, per batch (target <= 1 s per batch).
# Needs root. Prints one block of figures; copy it to bench/RESULTS.md.
# BENCH_VFLEET=/path/to/vfleet runs another controller build (to compare
# two builds on the same machine); the agent is always ./vfleet-agent.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
N=${BENCH_ROLLOUT_HOSTS:-50}
SERIAL=${BENCH_ROLLOUT_SERIAL:-10}
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
. "$top/bench/rollout_lab.sh"
rollout_lab vfleet-bench-roll "$N"
/usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$dir/vfleet" apply -i "$inv" \
	--known-hosts "$dir/lab/known_hosts" --state-dir "$dir/state" \
	--serial "$SERIAL" --stable 2 --reboot-timeout 60 --json >"$dir/out.json" || true
read -r wall user sys rss <"$dir/time"
jq -r --arg wall "$wall" --arg user "$user" --arg sys "$sys" --arg rss "$rss" --arg n "$N" '
	.rollout as $r
	| ($r.step_ms.wait / 1000) as $wait
	| "  hosts \($n), batches \($r.batches_run)/\($r.batches), halted \($r.halted), failed \(.summary.failed)",
	  "  wall \($wall) s: change \($r.step_ms.change / 1000) s, reboot \($r.step_ms.reboot / 1000) s, wait \($wait) s (includes the 1 s simulated boot and the 2 s stability window), verify \($r.step_ms.verify / 1000) s",
	  "  controller overhead beyond the reboot waits: \((($wall | tonumber) - $wait) * 1000 | round / 1000) s, \(((($wall | tonumber) - $wait) / $r.batches_run) * 1000 | round / 1000) s per batch",
	  "  controller CPU \(($user | tonumber) + ($sys | tonumber)) s (\(((($user | tonumber) + ($sys | tonumber)) / ($n | tonumber) * 1000) | round) ms/host), peak RSS \(($rss | tonumber) / 1024 | round) MB"
' "$dir/out.json"
