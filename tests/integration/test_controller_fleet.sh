#!/usr/bin/env bash
# The controller against real sshds on loopback (tests/fleet/fleet.sh):
# facts on hosts of different shapes, an unreachable host, a changed and an
# unknown host key, an agent that answers garbage, a tampered agent copy,
# sudo with and without a password, a host with a bad variable, and the
# second run that uploads nothing. Needs root (the fleet creates users).
set -u
source "$(dirname "$0")/lib.sh"
fleet=$top/tests/fleet/fleet.sh
shapes=seed-intel-ubuntu,amd-radeon,two-identical-nvidia,shared-group,iommu-off,no-intremap,vfio-builtin,already-configured,rhel-like,boot-vga-only

fleet_scratch ctl
dir=$tmp/fleet

# Everything but the agent passes; the agent answers garbage.
cat >"$tmp/garbage.sh" <<'SH'
#!/bin/sh
case $SSH_ORIGINAL_COMMAND in
*"vfleet-agent-"*"--stdin"*) cat >/dev/null; echo '{"protocol":"vfleet/1.0","op":'; exit 0;;
*) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";;
esac
SH
chmod 755 "$tmp/garbage.sh"

inv=$("$fleet" start "$dir" 11 --base-port auto --shapes "$shapes,seed-intel-ubuntu" \
	--unreachable ghost01 --force-command host11="$tmp/garbage.sh") ||
	{ echo "FAIL fleet start"; exit 1; }
kh=$dir/known_hosts
# The agent cache lives in the test user's home, shared by every host of
# the fleet (one machine): start from nothing so the first run must upload.
rm -rf /var/lib/vfleet-test-home/.cache/vfleet
vf() { "$VFLEET" "$@" --known-hosts "$kh"; }

# --- run 1: the whole lab -------------------------------------------------
vf facts -i "$inv" --json >"$tmp/run1.json" 2>"$tmp/run1.err"; rc=$?
expect_eq "unreachable host gives exit 4" "$rc" 4
check "run 1 is one JSON document" jq -e . "$tmp/run1.json" >/dev/null
j() { jq -r "$@" "$tmp/run1.json"; }
expect_eq "12 hosts reported" "$(j '.hosts | length')" 12
expect_eq "10 shapes answered ok" \
	"$(j '[.hosts[] | select(.status == "ok" and .failed == false)] | length')" 10
expect_eq "seed host: GTX 1060 at 0e:00.0 on nouveau" \
	"$(j '.hosts[] | select(.host == "host01") | .response.funcs[] | select(.address == "0000:0e:00.0") | "\(.vendor_id):\(.device_id) \(.driver)"')" \
	"10de:1c03 nouveau"
expect_eq "seed host: the GPU's audio function is its companion" \
	"$(j '.hosts[] | select(.host == "host01") | .response.gpus[] | select(.address == "0000:0e:00.0") | .companions | join(",")')" \
	"0000:0e:00.1"
expect_eq "already-configured host: the GTX 1060 is ready" \
	"$(j '.hosts[] | select(.host == "host08") | .response.gpus[] | select(.address == "0000:01:00.0") | .verdict')" ready
expect_eq "already-configured host: its iGPU, the only display left, is blocked" \
	"$(j '.hosts[] | select(.host == "host08") | .response.gpus[] | select(.address == "0000:00:02.0") | .verdict')" blocked
expect_eq "boot-vga-only host: GPU blocked" \
	"$(j '.hosts[] | select(.host == "host10") | .response.gpus[0].verdict')" blocked
expect_eq "ghost01 unreachable" "$(j '.hosts[] | select(.host == "ghost01") | .status')" unreachable
expect_eq "garbage answer fails only that host" \
	"$(j '.hosts[] | select(.host == "host11") | .status')" failed
expect_match "garbage answer is named" \
	"$(j '.hosts[] | select(.host == "host11") | .error')" "agent answer rejected"
check "first run uploaded the agent" test "$(j '.summary.agent_bytes_sent')" -gt 0
check "the agent landed as vfleet-agent-<sha256>, 0700 dir" \
	test -x "/var/lib/vfleet-test-home/.cache/vfleet/vfleet-agent-$(sha256sum <"$VFLEET_AGENT" | cut -c1-64)"
expect_eq "agent cache directory is private" \
	"$(stat -c %a /var/lib/vfleet-test-home/.cache/vfleet)" 700

# --- run 2: nothing to upload, --limit, exit 0 -----------------------------
vf facts -i "$inv" --limit 'lab:!ghost01:!host11' --json >"$tmp/run2.json"; rc=$?
expect_eq "limit excluding the bad hosts gives exit 0" "$rc" 0
expect_eq "limit selects 10 hosts" "$(jq -r '.hosts | length' "$tmp/run2.json")" 10
expect_eq "second run uploads 0 agent bytes" "$(jq -r '.summary.agent_bytes_sent' "$tmp/run2.json")" 0

# --- table, recap and jsonl -------------------------------------------------
out=$(vf facts -i "$inv" --limit 'host01,ghost01' 2>&1); rc=$?
expect_eq "table run exit code" "$rc" 4
expect_match "table has the header" "$out" "HOST +SLOT +IDS +NAME +DRIVER +GROUP +VERDICT"
expect_match "table shows the seed GPU" "$out" "host01 +0000:0e:00.0 +10de:1c03"
expect_match "recap line for ghost01" "$out" "ghost01 +: ok=0 +changed=0 +unreachable=1"
lines=$(vf facts -i "$inv" --limit 'host0*' --jsonl | wc -l)
expect_eq "--jsonl prints a line per host" "$lines" 9

# --- a tampered agent copy is replaced, never run ---------------------------
agentcopy=/var/lib/vfleet-test-home/.cache/vfleet/vfleet-agent-$(sha256sum <"$VFLEET_AGENT" | cut -c1-64)
printf '#!/bin/sh\necho pwned > %s/pwned\n' "$tmp" >"$agentcopy"
vf facts -i "$inv" --limit host01 --json >"$tmp/tamper.json"; rc=$?
expect_eq "tampered agent: run still ok" "$rc" 0
check "tampered agent never ran" test ! -e "$tmp/pwned"
check "tampered agent was re-uploaded" test "$(jq -r '.summary.agent_bytes_sent' "$tmp/tamper.json")" -gt 0

# --- host keys ---------------------------------------------------------------
"$fleet" rekey "$dir" host02 >/dev/null 2>&1
out=$(vf facts -i "$inv" --limit host02 --json); rc=$?
expect_eq "changed key: unreachable" "$rc" 4
expect_match "changed key is named" "$(jq -r '.hosts[0].error' <<<"$out")" "host key CHANGED"
out=$(vf facts -i "$inv" --limit host02 --accept-new --json); rc=$?
expect_eq "--accept-new never accepts a changed key" "$rc" 4
: >"$tmp/empty_kh"
out=$("$VFLEET" facts -i "$inv" --limit host03 --known-hosts "$tmp/empty_kh" --json); rc=$?
expect_eq "unknown key refused" "$rc" 4
expect_match "unknown key is named" "$(jq -r '.hosts[0].error' <<<"$out")" "unknown host key SHA256:"
"$VFLEET" facts -i "$inv" --limit host03 --known-hosts "$tmp/empty_kh" --accept-new --json >/dev/null; rc=$?
expect_eq "--accept-new records an unknown key" "$rc" 0
check "known_hosts gained the key" grep -q "127.0.0.13" "$tmp/empty_kh"
"$VFLEET" facts -i "$inv" --limit host03 --known-hosts "$tmp/empty_kh" --json >/dev/null; rc=$?
expect_eq "recorded key verifies on the next run" "$rc" 0

# --- become -------------------------------------------------------------------
h1=$(grep '^host01 ' "$inv")
{
	echo "[lab]"
	echo "${h1/host01 /viasudo } " | sed 's/ansible_user=vfleet /ansible_user=vfleet-sudo /'
	echo "${h1/host01 /nopw } " | sed 's/ansible_user=vfleet /ansible_user=vfleet-nopw /'
	echo "badport ansible_host=127.0.0.11 ansible_port=abc"
} >"$tmp/become.ini"
out=$(vf facts -i "$tmp/become.ini" --json); rc=$?
expect_eq "sudo password / bad port: exit 2" "$rc" 2
expect_eq "non-root login runs the agent through sudo -n" \
	"$(jq -r '.hosts[] | select(.host == "viasudo") | .status' <<<"$out")" ok
expect_match "sudo wanting a password is a clear failure" \
	"$(jq -r '.hosts[] | select(.host == "nopw") | .error' <<<"$out")" "sudo requires a password"
expect_match "bad ansible_port names host and variable" \
	"$(jq -r '.hosts[] | select(.host == "badport") | .error' <<<"$out")" "badport.*ansible_port"

# --- inventory errors ------------------------------------------------------------
printf '[lab\nh1\n' >"$tmp/bad.ini"
err=$(vf facts -i "$tmp/bad.ini" 2>&1 >/dev/null); rc=$?
expect_eq "malformed inventory: exit 1" "$rc" 1
expect_match "malformed inventory names file:line" "$err" "bad.ini:1:"
list=$("$VFLEET" inventory -i "$inv" --list); rc=$?
expect_eq "inventory --list" "$rc" 0
expect_eq "inventory --list: lab group" "$(jq -r '.lab.hosts | length' <<<"$list")" 12
expect_eq "inventory --list: hostvars" "$(jq -r '._meta.hostvars.host01.vfleet_shape' <<<"$list")" seed-intel-ubuntu
finish
