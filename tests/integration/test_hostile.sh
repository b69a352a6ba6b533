#!/usr/bin/env bash
# Hostile peers and inputs: the controller against agents that answer too
# much, forever, garbage, too late or half, an sshd that stalls after the
# handshake, a TCP port that never speaks SSH, and inventories built to
# exhaust it. Every case must end in a clear per-host error within its
# deadline and bounded memory, while the healthy hosts of the same run
# still answer, and the exit status must say what happened (2 a host
# failed, 4 a host unreachable; PROTOCOL.md, vfleet --help).
#
# The loopback fleet (tests/fleet/fleet.sh) runs real sshds; hostile hosts
# get a ForceCommand that lets every command through except the agent run
# (or, for the stalled host, everything). Needs root (the fleet creates
# users), /usr/bin/time (GNU, for peak RSS) and perl (the silent listener).
# SECURITY.md points here for each threat.
set -u
source "$(dirname "$0")/lib.sh"
jq_ok() { jq -e "$@" >/dev/null; }	# jq_ok FILTER FILE: true/non-null
fleet=$top/tests/fleet/fleet.sh
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "FAIL /usr/bin/time (GNU time) is required"; exit 1; }

fleet_scratch hostile
dir=$tmp/fleet
listener=
cleanup() {
	[[ -n $listener ]] && kill "$listener" 2>/dev/null
	fleet_scratch_cleanup
}
trap cleanup EXIT

# Limits the run must stay within. The controller holds at most one
# answer per host (capped at PROTO_MESSAGE_MAX, 8 MiB) plus its decoded
# form; 10 hosts at once stay far below this (about 20 MiB measured). An
# ASan build (make check) keeps freed memory in quarantine and shadow
# pages: its bounds are 4x.
san=1
ldd "$VFLEET" 2>/dev/null | grep -q libasan && san=4
RUN_RSS_MAX_KB=$((128 * 1024 * san))
INV_RSS_MAX_KB=$((512 * 1024 * san))
RANGE_RSS_MAX_KB=$((32 * 1024 * san))
INV_MS_MAX=$((10000 * san))
TIMEOUT_S=4		# --timeout: per-host agent deadline
CONNECT_S=3		# --connect-timeout

# A ForceCommand: the agent run ("vfleet-agent-<sha> ... --stdin") does
# $1, everything else (digest check, upload) runs as asked.
hostile() {	# hostile NAME 'shell code for the agent run'
	cat >"$tmp/$1.sh" <<SH
#!/bin/bash
case \$SSH_ORIGINAL_COMMAND in
*"vfleet-agent-"*"--stdin"*) $2 ;;
*) exec /bin/sh -c "\$SSH_ORIGINAL_COMMAND" ;;
esac
SH
	chmod 755 "$tmp/$1.sh"
}
head='{"protocol":"vfleet/1.0","op":"facts","ok":true,"changed":false,"agent_version":"'
# > 8 MiB: a well-formed start, then a 9 MiB string
hostile huge "cat >/dev/null; printf '%s' '$head'; head -c 9437184 /dev/zero | tr '\\\\0' a; printf '\"}\\\\n'"
# endless: 1 GiB of "y" lines, as fast as the pipe takes them
hostile endless 'cat >/dev/null; yes | head -c 1G'
# an infinite loop that never ends its output
hostile loop 'cat >/dev/null; while :; do echo "{\"protocol\":"; done'
# not JSON at all, exit 0
hostile notjson 'cat >/dev/null; echo "Segmentation fault (core dumped) -- not JSON"; exit 0'
# JSON with the wrong types
hostile types 'cat >/dev/null; echo "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":\"yes\",\"funcs\":{\"address\":7}}"'
# answers, but only after the deadline
hostile late 'cat >/dev/null; sleep 30; echo "{}"'
# half a document, then dies by SIGKILL
hostile half "cat >/dev/null; printf '%s' '$head'; kill -9 \$\$"
# the stalled sshd: every command sleeps and never reads its input
cat >"$tmp/stall.sh" <<'SH'
#!/bin/sh
exec sleep 3600
SH
chmod 755 "$tmp/stall.sh"

names=(huge endless loop notjson types late half stall)
force=()
for i in "${!names[@]}"; do
	force+=(--force-command "host$(printf %02d $((i + 3)))=$tmp/${names[$i]}.sh")
done
inv=$("$fleet" start "$dir" 10 --base-port auto --shared-roots \
	--shapes seed-intel-ubuntu,amd-radeon "${force[@]}") ||
	{ echo "FAIL fleet start"; exit 1; }
kh=$dir/known_hosts
port=$(awk '{print $3; exit}' "$dir/fleet.tsv")

# A TCP listener that accepts and never says a word (no SSH banner).
silent_addr=127.0.3.250
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => $ARGV[0], LocalPort => $ARGV[1],
		Listen => 16, ReuseAddr => 1) or die "listen: $!";
	my @keep; while (my $c = $s->accept) { push @keep, $c }' \
	"$silent_addr" "$port" &
listener=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/$silent_addr/$port") 2>/dev/null && break
	sleep 0.1
done
{ cat "$inv"; printf '[silent]\nsilent ansible_host=%s ansible_port=%s\n' \
	"$silent_addr" "$port"; } >"$tmp/all.ini"

# --- the whole fleet at once ---------------------------------------------
t0=$(date +%s%N)
$TIME -f '%M' -o "$tmp/rss" "$VFLEET" facts -i "$tmp/all.ini" --json \
	--known-hosts "$kh" --timeout "$TIMEOUT_S" --connect-timeout "$CONNECT_S" \
	>"$tmp/run.json" 2>"$tmp/run.err"
rc=$?
secs=$((($(date +%s%N) - t0) / 1000000000))
rss=$(tail -n1 "$tmp/rss")
# For the log: what each host's failure says.
jq -r '.hosts[] | "  \(.host): \(.status) \(.error // "")" | .[0:200]' "$tmp/run.json"
expect_eq "unreachable host wins the exit status (4)" "$rc" 4
check "the run is one JSON document" jq_ok . "$tmp/run.json"
j() { jq -r "$@" "$tmp/run.json"; }
st() { j --arg h "$1" '.hosts[] | select(.host == $h) | .status'; }
er() { j --arg h "$1" '.hosts[] | select(.host == $h) | .error // ""'; }
expect_eq "11 hosts reported" "$(j '.hosts | length')" 11
expect_eq "healthy host01 answered" "$(st host01)/$(j '.hosts[] | select(.host == "host01") | .failed')" ok/false
expect_eq "healthy host02 answered" "$(st host02)/$(j '.hosts[] | select(.host == "host02") | .failed')" ok/false
check "healthy host01 reports its GPU" test "$(j '.hosts[] | select(.host == "host01") | .response.gpus | length')" -ge 1

expect_eq "huge answer: failed" "$(st host03)" failed
expect_match "huge answer: named as too large" "$(er host03)" "(too large|over|limit|8388608|cap)"
expect_eq "endless answer: failed" "$(st host04)" failed
expect_match "endless answer: named as too large" "$(er host04)" "(too large|over|limit|8388608|cap)"
expect_eq "infinite loop: failed" "$(st host05)" failed
expect_match "infinite loop: named" "$(er host05)" "(too large|over|limit|8388608|cap|timed out|deadline)"
expect_eq "not JSON: failed" "$(st host06)" failed
expect_match "not JSON: the decoder's reason" "$(er host06)" "agent answer rejected .*not valid JSON"
expect_eq "wrong types: failed" "$(st host07)" failed
expect_match "wrong types: the member and type named" "$(er host07)" "agent answer rejected \(ok: expected boolean, got string\)"
expect_eq "late answer: failed" "$(st host08)" failed
expect_match "late answer: named as a timeout" "$(er host08)" "(timed out|timeout|deadline)"
expect_eq "half answer then SIGKILL: failed" "$(st host09)" failed
expect_match "half answer: rejected or lost" "$(er host09)" "(agent answer rejected|exit|signal|closed|lost)"
expect_eq "stalled sshd: failed" "$(st host10)" failed
expect_match "stalled sshd: named as a timeout" "$(er host10)" "(timed out|timeout|deadline)"
expect_eq "silent TCP port: unreachable" "$(st silent)" unreachable
expect_match "silent TCP port: named" "$(er silent)" "(timed out|timeout|banner|connect)"
# No host error may carry control bytes to the operator's terminal.
check "errors are printable one-liners" \
	bash -c "! jq -r '.hosts[].error // empty' '$tmp/run.json' | LC_ALL=C grep -q '[[:cntrl:]]'"
check "whole run within $((TIMEOUT_S * 3 + CONNECT_S + 10)) s (took ${secs}s)" \
	test "$secs" -le $((TIMEOUT_S * 3 + CONNECT_S + 10))
check "peak RSS ${rss} KB within $RUN_RSS_MAX_KB KB" test "$rss" -le "$RUN_RSS_MAX_KB"

# The table output (what an operator sees) names each failure too.
out=$("$VFLEET" facts -i "$tmp/all.ini" --limit 'host06,host07' --known-hosts "$kh" \
	--timeout "$TIMEOUT_S" 2>&1); rc=$?
expect_eq "failed hosts only: exit 2" "$rc" 2
expect_match "recap counts host06 failed" "$out" "host06 +: ok=0 +changed=0 +unreachable=0 +failed=1"

# --- inventory values never reach a remote shell ---------------------------
# Shell syntax in a host name, a user name and the agent's root: they
# travel as data (a label, the SSH user, JSON on the agent's stdin), so
# nothing runs, and each host fails or answers on its own.
pw=$tmp/pwned
addr1=$(awk '$1 == "host01" {print $2}' "$dir/fleet.tsv")
conn="ansible_host=$addr1 ansible_port=$port ansible_ssh_private_key_file=$dir/client_key"
cat >"$tmp/inject.ini" <<INI
[inject]
name\$(touch\${IFS}$pw.name) $conn ansible_user=vfleet vfleet_root=$dir/hosts/host01/root
injuser $conn ansible_user='vfleet\$(touch\${IFS}$pw.user)'
injroot $conn ansible_user=vfleet vfleet_root='/nonexistent;touch\${IFS}$pw.root;\$(touch\${IFS}$pw.root2)\`touch\${IFS}$pw.root3\`'
[inject:vars]
ansible_become=false
INI
"$VFLEET" facts -i "$tmp/inject.ini" --json --known-hosts "$kh" --timeout "$TIMEOUT_S" \
	>"$tmp/inject.json" 2>"$tmp/inject.err"; rc=$?
jq -r '.hosts[] | "  \(.host): \(.status) \(.error // "")" | .[0:200]' "$tmp/inject.json"
expect_eq "shell syntax in inventory: 3 hosts reported" "$(jq '.hosts | length' "$tmp/inject.json")" 3
check "shell syntax in inventory: nothing ran" bash -c "! ls '$pw'* 2>/dev/null | grep -q ."
expect_eq "host name with \$(...) is only a label" \
	"$(jq -r '.hosts[] | select(.host | startswith("name$(")) | .status' "$tmp/inject.json")" ok
expect_eq "user name with \$(...): unreachable, not run" \
	"$(jq -r '.hosts[] | select(.host == "injuser") | .status' "$tmp/inject.json")" unreachable
check "root with ; \$() and backquotes reaches the agent as data" \
	jq_ok '.hosts[] | select(.host == "injroot") | .response.errors | any(.path // "" | contains("/nonexistent;touch"))' "$tmp/inject.json"

# --- inventories ----------------------------------------------------------
# 100k hosts (INV_MAX_HOSTS): --list in bounded time and memory.
{
	echo "[big]"
	for r in $(seq 0 99); do echo "h${r}x[000:999] ansible_port=22"; done
} >"$tmp/big.ini"
t0=$(date +%s%N)
$TIME -f '%M' -o "$tmp/rss" "$VFLEET" inventory -i "$tmp/big.ini" --list >"$tmp/big.json" 2>"$tmp/big.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
rss=$(tail -n1 "$tmp/rss")
expect_eq "100k-host inventory --list: exit 0" "$rc" 0
expect_eq "100k-host inventory: every host listed" "$(jq '.big.hosts | length' "$tmp/big.json")" 100000
check "100k-host inventory: within $INV_MS_MAX ms (took ${ms} ms)" test "$ms" -le "$INV_MS_MAX"
check "100k-host inventory: peak RSS ${rss} KB within $INV_RSS_MAX_KB KB" test "$rss" -le "$INV_RSS_MAX_KB"
# One host more is refused, with the reason.
echo "one-too-many" >>"$tmp/big.ini"
err=$("$VFLEET" inventory -i "$tmp/big.ini" --list 2>&1 >/dev/null); rc=$?
expect_eq "100001 hosts: exit 1" "$rc" 1
expect_match "100001 hosts: the limit named" "$err" "100000"

# A pathological range: refused up front, instantly, in little memory.
printf '[lab]\nh[0:99999999]\n' >"$tmp/range.ini"
t0=$(date +%s%N)
$TIME -f '%M' -o "$tmp/rss" "$VFLEET" inventory -i "$tmp/range.ini" --list >/dev/null 2>"$tmp/range.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
rss=$(tail -n1 "$tmp/rss")
expect_eq "h[0:99999999]: exit 1" "$rc" 1
expect_match "h[0:99999999]: clear error with file:line" "$(cat "$tmp/range.err")" "range.ini:2: .*h\[0:99999999\]"
check "h[0:99999999]: instant (took ${ms} ms)" test "$ms" -le 1000
check "h[0:99999999]: peak RSS ${rss} KB within $RANGE_RSS_MAX_KB KB" test "$rss" -le "$RANGE_RSS_MAX_KB"
# The same through facts: nothing is contacted, exit 1.
"$VFLEET" facts -i "$tmp/range.ini" --known-hosts "$kh" >/dev/null 2>&1; rc=$?
expect_eq "h[0:99999999] with facts: exit 1, no run" "$rc" 1
finish
