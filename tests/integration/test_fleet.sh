#!/usr/bin/env bash
# Integration test of the test fleet (tests/fleet/fleet.sh): four simulated
# hosts on loopback, checked with OpenSSH's own client. Needs root.
set -u
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fleet=$top/tests/fleet/fleet.sh

failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {	# check DESCRIPTION COMMAND...: the command must succeed
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

tmp=$(mktemp -d /tmp/vfleet-test-fleet.XXXXXX) || exit 1
# mktemp makes 0700; the login users must traverse it
chmod 755 "$tmp"
dir=$tmp/fleet
bgpid=
cleanup() {
	[[ -n $bgpid ]] && kill "$bgpid" 2>/dev/null
	local d
	for d in "$tmp/fleet" "$tmp/shared" "$tmp/clash"; do
		[[ -f $d/fleet.tsv ]] && "$fleet" stop "$d" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two small shapes of our own, so the test does not depend on the real
# fixtures; a 0600 file checks that the roots are made readable.
for s in alpha beta; do
	mkdir -p "$tmp/fixtures/$s/etc"
	echo "$s" >"$tmp/fixtures/$s/etc/shape"
	echo secret >"$tmp/fixtures/$s/etc/private"
	chmod 600 "$tmp/fixtures/$s/etc/private"
done
cat >"$tmp/garbage.sh" <<'EOF'
#!/bin/sh
echo "garbage instead of: $SSH_ORIGINAL_COMMAND"
exit 3
EOF

t0=$(date +%s%N)
inv=$("$fleet" start "$dir" 4 --fixtures "$tmp/fixtures" --base-port auto \
	--unreachable ghost01 --force-command host04="$tmp/garbage.sh") ||
	{ echo "FAIL fleet start"; exit 1; }
echo "fleet start: $((($(date +%s%N) - t0) / 1000000)) ms"
check "start prints the inventory path" [ "$inv" = "$dir/inventory.ini" ]

port=$(cat "$dir/port")
sshc=(ssh -F "$dir/ssh_config" -o BatchMode=yes)
mapfile -t pids < <(cat "$dir"/hosts/host0[1-4]/pid)
check "four pids recorded" [ "${#pids[@]}" -eq 4 ]

# --- inventory, known_hosts ----------------------------------------------------
check "inventory has [lab]" grep -qx '\[lab\]' "$inv"
for i in 1 2 3 4; do
	shape=$([ $((i % 2)) -eq 1 ] && echo alpha || echo beta)
	want="host0$i ansible_host=127.0.0.1$i ansible_port=$port ansible_user=vfleet ansible_ssh_private_key_file=$dir/client_key vfleet_root=$dir/hosts/host0$i/root vfleet_shape=$shape"
	check "inventory line host0$i" grep -qxF "$want" "$inv"
done
check "inventory line ghost01" grep -q '^ghost01 ansible_host=127\.0\.0\.15 .*vfleet_shape=unreachable$' "$inv"
check "known_hosts has 4 keys" [ "$(grep -c "^\[127\.0\.0\.1[1-4]\]:$port ssh-ed25519 AAAA" "$dir/known_hosts")" -eq 4 ]
# each line is exactly what the host presents
for i in 1 2 3 4; do
	scanned=$(ssh-keyscan -t ed25519 -p "$port" "127.0.0.1$i" 2>/dev/null)
	check "known_hosts line of host0$i matches ssh-keyscan" grep -qxF "$scanned" "$dir/known_hosts"
done

# --- logins ---------------------------------------------------------------
for h in host01 host02 host03; do
	out=$("${sshc[@]}" "$h" 'echo ok; id -un' 2>&1)
	check "$h answers as vfleet" [ "$out" = $'ok\nvfleet' ]
done
out=$("${sshc[@]}" host01 'cat "$VFLEET_ROOT/etc/shape" "$VFLEET_ROOT/etc/private"' 2>&1)
check "host01 root readable by vfleet (0600 file too)" [ "$out" = $'alpha\nsecret' ]
out=$("${sshc[@]}" host02 "cat $dir/hosts/host02/root/etc/shape" 2>&1)
check "host02 has shape beta" [ "$out" = beta ]
out=$("${sshc[@]}" host04 'echo ok; id -un' 2>&1); rc=$?
check "host04 runs its forced command" [ "$out" = "garbage instead of: echo ok; id -un" ]
check "forced command's exit status comes through" [ "$rc" -eq 3 ]

# host keys are really checked: an empty known_hosts is refused
: >"$tmp/empty_known_hosts"
"${sshc[@]}" -o UserKnownHostsFile="$tmp/empty_known_hosts" host01 true 2>"$tmp/err"
check "unknown host key refused" [ $? -eq 255 ]
check "  ... as a host key failure" grep -q 'Host key verification failed' "$tmp/err"

# root may not log in with the shared key
"${sshc[@]}" -l root host01 true 2>/dev/null
check "root login refused" [ $? -eq 255 ]

# unreachable entry: refused at once
t0=$(date +%s%N)
"${sshc[@]}" ghost01 true 2>"$tmp/err"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "ghost01 unreachable" [ "$rc" -eq 255 ]
check "  ... connection refused" grep -q 'Connection refused' "$tmp/err"
check "  ... within 2 s ($ms ms)" [ "$ms" -lt 2000 ]

# --- sudo -------------------------------------------------------------------
out=$("${sshc[@]}" -l vfleet-sudo host01 'sudo -n true && sudo -n id -u' 2>&1)
check "vfleet-sudo: sudo -n works" [ "$out" = 0 ]
out=$("${sshc[@]}" -l vfleet-nopw host01 'sudo -n true' 2>&1); rc=$?
check "vfleet-nopw: sudo -n fails" [ "$rc" -ne 0 ]
check "  ... because a password is required" grep -q 'password is required' <<<"$out"

# --- rekey ------------------------------------------------------------------
"$fleet" rekey "$dir" host02 || bad "fleet rekey"
"${sshc[@]}" host02 true 2>"$tmp/err"; rc=$?
check "rekeyed host02 refused" [ "$rc" -eq 255 ]
check "  ... as a changed host key" grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' "$tmp/err"
out=$("${sshc[@]}" -o UserKnownHostsFile="$tmp/new_known_hosts" -o StrictHostKeyChecking=accept-new host02 'id -un' 2>&1)
check "rekeyed host02 is up with its new key" [ "$out" = vfleet ]
check "host01 unaffected by rekey" "${sshc[@]}" host01 true

# --- down / up --------------------------------------------------------------
# an open session on host03 must drop when the host goes down
# (its processes carry host03's VFLEET_ROOT, set by sshd's SetEnv, which
# tells them apart from those of a concurrent run of this test)
host03_sleeps() {
	local f p
	for f in $(grep -lzxF "VFLEET_ROOT=$dir/hosts/host03/root" /proc/[0-9]*/environ 2>/dev/null); do
		p=${f#/proc/}; p=${p%/environ}
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] &&
			[ "$(ps -o stat= -p "$p" | cut -c1)" != Z ] && echo "$p"
	done
}
"${sshc[@]}" host03 'sleep 300' >/dev/null 2>&1 &
bgpid=$!
for _ in $(seq 100); do
	[ -n "$(host03_sleeps)" ] && break
	sleep 0.05
done
check "a session runs 'sleep 300' on host03" [ -n "$(host03_sleeps)" ]
"$fleet" down "$dir" host03 || bad "fleet down"
gone=no
for _ in $(seq 100); do
	kill -0 "$bgpid" 2>/dev/null || { gone=yes; break; }
	sleep 0.05
done
check "down drops host03's open session" [ "$gone" = yes ]
check "no 'sleep 300' left from host03's session" [ -z "$(host03_sleeps)" ]
[ "$gone" = yes ] || kill "$bgpid" 2>/dev/null
wait "$bgpid" 2>/dev/null; bgpid=
"${sshc[@]}" host03 true 2>"$tmp/err"; rc=$?
check "host03 down: unreachable" [ "$rc" -eq 255 ]
check "  ... connection refused" grep -q 'Connection refused' "$tmp/err"
check "host01 still up" "${sshc[@]}" host01 true
check "host04 still up" [ "$("${sshc[@]}" host04 x 2>&1)" = "garbage instead of: x" ]
"$fleet" status "$dir" >"$tmp/status"; rc=$?
check "status exits 1 with a host down" [ "$rc" -eq 1 ]
check "  ... and shows host03 down" grep -q '^host03 .* down ' "$tmp/status"
check "  ... and host01 up" grep -q '^host01 .* up ' "$tmp/status"
"$fleet" up "$dir" host03 || bad "fleet up"
out=$("${sshc[@]}" host03 'echo ok; id -un' 2>&1)
check "host03 back up" [ "$out" = $'ok\nvfleet' ]
check "status of host03 exits 0" "$fleet" status "$dir" host03 >/dev/null

# --- a second fleet beside the first ---------------------------------------
"$fleet" start "$tmp/clash" 1 --fixtures "$tmp/fixtures" --base-port "$port" >/dev/null 2>"$tmp/err"
check "a second fleet cannot take the same port" [ $? -ne 0 ]
check "  ... and says why" grep -q "port $port is claimed" "$tmp/err"
dir2=$tmp/shared
if "$fleet" start "$dir2" 3 --fixtures "$tmp/fixtures" --shapes alpha --base-port auto \
	--shared-roots >/dev/null 2>"$tmp/err"; then
	port2=$(cat "$dir2/port")
	check "second fleet got another port ($port2)" [ "$port2" != "$port" ]
	check "shared roots: one copy, symlinked" [ "$(readlink "$dir2/hosts/host03/root")" = ../../shapes/alpha ]
	out=$(ssh -F "$dir2/ssh_config" -o BatchMode=yes host03 'cat "$VFLEET_ROOT/etc/shape" "$VFLEET_ROOT/etc/private"' 2>&1)
	check "shared root readable by vfleet" [ "$out" = $'alpha\nsecret' ]
	check "first fleet unaffected" "${sshc[@]}" host01 true
	"$fleet" stop "$dir2" 2>/dev/null || bad "stop of second fleet"
	check "second fleet's port released" [ ! -e "/run/vfleet-fleet/ports/$port2" ]
else
	bad "start of a second fleet: $(cat "$tmp/err")"
fi
check "first fleet still up after the second stopped" "${sshc[@]}" -o UserKnownHostsFile="$tmp/new_known_hosts" host02 true

# --- stop -------------------------------------------------------------------
ours_running() {	# is any recorded sshd (pid + its start time) still alive?
	local h pid start stat f
	for h in "$dir"/hosts/host0[1-4]; do
		read -r pid <"$h/pid" && read -r start <"$h/pid.start" || return 0
		{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
		read -r -a f <<<"${stat##*) }"
		[ "${f[0]}" != Z ] && [ "${f[19]}" = "$start" ] && return 0
	done
	return 1
}
check "before stop: our sshds run" ours_running
"$fleet" stop "$dir" || bad "fleet stop"
if ours_running; then bad "stop leaves no sshd of ours"; else ok "stop leaves no sshd of ours"; fi
check "stop: port $port no longer listened" [ -z "$(ss -Hltn "( sport = :$port )")" ]
check "stop: port claim released" [ ! -e "/run/vfleet-fleet/ports/$port" ]
"${sshc[@]}" host01 true 2>/dev/null
check "stop: host01 unreachable" [ $? -eq 255 ]

echo "test_fleet: $failures failure(s)"
[ "$failures" -eq 0 ]
