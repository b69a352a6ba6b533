#!/usr/bin/env bash
# A --root / vfleet_root tree that another user could change is refused by
# apply, rollback and reboot (error unsafe-root, nothing done), and only
# warned about by the read-only operations; a program under the root that
# turns unsafe after the check is not started. And an agent answer with
# ok: false and no errors fails the host with that reason. SECURITY.md
# ("Residual risks" that are now met), PROTOCOL.md sections 7, 10 and 13.
#
# Needs jq; the sudo and other-user cases need root (runuser).
# Environment: VFLEET, VFLEET_AGENT, VFLEET_TOP.
set -uo pipefail
top=${VFLEET_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/integration/lib.sh"
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (runuser, chown)" >&2; exit 1; }

fixture=$top/tests/fixtures/sysroot/seed-intel-ubuntu
tmp=$(mktemp -d /tmp/vfleet-unsafe-root.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"	# other users run the agent from here below
cp "$VFLEET_AGENT" "$tmp/vfleet-agent"
agent=$tmp/vfleet-agent
pol=$tmp/policy.json
echo '{"allow_unsafe_interrupts": true}' >"$pol"
chmod 644 "$pol"

# fresh NAME: a pristine copy of the fixture as $tmp/NAME (and NAME.orig)
fresh() {
	rm -rf "$tmp/$1" "$tmp/$1.orig"
	mkdir "$tmp/$1" && cp -a "$fixture/." "$tmp/$1/"
	cp -a "$tmp/$1" "$tmp/$1.orig"
	r=$tmp/$1
}
# run OP ROOT [ARGS...]: the agent's JSON in $out, stderr in $err, status in $rc
run() {
	local op=$1 root=$2; shift 2
	rc=0
	"$agent" "$op" --root "$root" --json --policy-file "$pol" "$@" \
		>"$tmp/out.json" 2>"$tmp/err" || rc=$?
	out=$(cat "$tmp/out.json") err=$(cat "$tmp/err")
}
code() { jq -r '[.errors[].code] | join(",")' <<<"$out"; }
msg() { jq -r '.errors[0].message // ""' <<<"$out"; }
unchanged() { diff -r --no-dereference "$1.orig" "$1" >/dev/null; }

# --- a group-writable program folder in the root ---
fresh w
chmod 775 "$r/usr/sbin"
run apply "$r"
expect_eq "group-writable usr/sbin: apply exits 1" "$rc" 1
expect_eq "group-writable usr/sbin: unsafe-root" "$(code)" unsafe-root
expect_match "the message names the folder, what is wrong, owner and mode" "$(msg)" \
	"^refusing to apply under the root $r: $r/usr/sbin is writable by its group \(owner uid 0, mode 0775\); "
check "apply refused: nothing changed, no record" unchanged "$r"
rc=0	# the same through protocol mode
printf '{"protocol":"vfleet/1.0","op":"apply","root":"%s","policy":{"allow_unsafe_interrupts":true}}' "$r" |
	"$agent" --stdin >"$tmp/out.json" 2>/dev/null || rc=$?
out=$(cat "$tmp/out.json")
expect_eq "protocol mode: refused too (exit 1, unsafe-root)" "$rc $(code)" "1 unsafe-root"
expect_eq "protocol mode: the answer is 1.1" "$(jq -r .protocol <<<"$out")" vfleet/1.1
check "protocol mode: nothing changed" unchanged "$r"
run facts "$r"
expect_eq "facts only reads: it answers (exit 0)" "$rc" 0
expect_match "facts warns on stderr" "$err" "warning: the root $r is not safe for apply, rollback or reboot: $r/usr/sbin is writable by its group"
run plan "$r"
expect_eq "plan only reads: it answers" "$rc $(jq -r .ok <<<"$out")" "0 true"
check "plan warns on stderr" grep -q "is not safe for apply" "$tmp/err"

# --- fixed: accepted ---
chmod 755 "$r/usr/sbin"
run apply "$r" --run-id safe-1
expect_eq "fixed: apply succeeds" "$rc $(jq -r .ok <<<"$out")" "0 true"
expect_eq "fixed: the tools ran" "$(cat "$r/var/log/vfleet-fixture-tools.log" | tr '\n' ,)" \
	"update-initramfs -u -k all,update-grub ,"
check "fixed: no warning" test ! -s "$tmp/err"

# --- a world-writable program: rollback refused, then fixed ---
chmod 777 "$r/usr/sbin/update-grub"
run rollback "$r"
expect_eq "world-writable update-grub: rollback refused" "$rc $(code)" "1 unsafe-root"
expect_match "it names the program" "$(msg)" "$r/usr/sbin/update-grub is writable by every user \(owner uid 0, mode 0777\)"
expect_eq "refused rollback: still applied" "$(jq -r .state.phase <<<"$(
	"$agent" status --root "$r" 2>/dev/null)")" applied-pending-reboot
chmod 755 "$r/usr/sbin/update-grub"

# --- the folders above the root ---
mkdir -m 777 "$tmp/open"
mv "$r" "$tmp/open/w"
r=$tmp/open/w
run reboot "$r"
expect_eq "world-writable parent: reboot refused" "$rc $(code)" "1 unsafe-root"
expect_match "it names the parent" "$(msg)" "$tmp/open is writable by every user \(owner uid 0, mode 0777\)"
chmod 1777 "$tmp/open"	# as /tmp: others cannot replace what is in it
run rollback "$r"
expect_eq "sticky parent (like /tmp): rollback accepted" "$rc $(jq -r .ok <<<"$out")" "0 true"
chmod 775 "$r"
run apply "$r"
expect_eq "the root itself group-writable: refused" "$(code)" unsafe-root
expect_match "it names the root" "$(msg)" "under the root $r: $r is writable by its group"
chmod 1777 "$r"
run apply "$r"
expect_match "the root itself sticky and world-writable: refused" "$(msg)" \
	"$r is writable by every user \(owner uid 0, mode 1777\)"
chmod 755 "$r"

# --- a symlink in the root to a folder others can write ---
fresh s
mkdir "$tmp/drop"
cp -a "$r/etc/modprobe.d/." "$tmp/drop/"
chmod 777 "$tmp/drop"	# after cp -a, which copies the folder's mode too
rm -rf "$r/etc/modprobe.d" "$r.orig/etc/modprobe.d"
ln -s "$tmp/drop" "$r/etc/modprobe.d"
ln -s "$tmp/drop" "$r.orig/etc/modprobe.d"
run apply "$r"
expect_eq "etc/modprobe.d -> a world-writable folder: refused" "$(code)" unsafe-root
expect_match "it names the link's target" "$(msg)" "$tmp/drop is writable by every user"
check "nothing written through the link" unchanged "$r"
check "nothing written in the target" diff -r "$fixture/etc/modprobe.d" "$tmp/drop"

# --- a program that becomes unsafe after the check: not started ---
fresh p
mkdir -m 777 "$r/opt"	# not a folder the up-front check covers
printf '#!/bin/sh\ntouch "%s/opt/ran"\n' "$r" >"$r/opt/regen"
chmod 755 "$r/opt/regen"
echo "{\"allow_unsafe_interrupts\": true, \"cmd_bootloader_update\": [\"$r/opt/regen\"]}" >"$tmp/opt.json"
rc=0
"$agent" apply --root "$r" --json --policy-file "$tmp/opt.json" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
out=$(cat "$tmp/out.json")
expect_eq "program in a world-writable folder: command-failed" "$rc $(code)" "1 command-failed"
expect_match "the error says it was not started" "$(msg)" "could not be started: Operation not permitted"
expect_match "its output tail says why" \
	"$(jq -r '.changes[] | select(.kind == "command" and (.target | test("regen"))) | .output_tail' <<<"$out")" \
	"vfleet refused to run $r/opt/regen: $r/opt is writable by every user"
check "the program never ran" test ! -e "$r/opt/ran"

# --- a reboot program others can change: reboot refused before answering ---
# (it runs from a detached child, outside run_command's check)
rm -f "$r/opt/ran"
echo "{\"allow_unsafe_interrupts\": true, \"cmd_reboot\": [\"$r/opt/regen\"]}" >"$tmp/opt.json"
"$agent" rollback --root "$r" --json --policy-file "$pol" >/dev/null 2>&1
rc=0
"$agent" reboot --root "$r" --json --policy-file "$tmp/opt.json" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
out=$(cat "$tmp/out.json")
expect_eq "reboot program in a world-writable folder: refused" "$rc $(code)" "1 unsafe-root"
expect_match "it names the program and the folder" "$(msg)" \
	"refusing to reboot with $r/opt/regen: $r/opt is writable by every user"
sleep 0.5	# the agent's detached reboot would have run by now
check "the reboot program never ran" test ! -e "$r/opt/ran"
chmod 755 "$r/opt"
rc=0
"$agent" reboot --root "$r" --json --policy-file "$tmp/opt.json" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
expect_eq "the folder fixed: reboot accepted" "$rc $(jq -r .ok "$tmp/out.json")" "0 true"
for _ in $(seq 50); do [[ -e $r/opt/ran ]] && break; sleep 0.1; done
check "the reboot program ran" test -e "$r/opt/ran"

# --- owners: the agent's own user, and sudo's caller ---
fresh u
chown -R nobody: "$r"
rc=0
runuser -u nobody -- "$agent" apply --root "$r" --json --policy-file "$pol" \
	>"$tmp/out.json" 2>"$tmp/err" || rc=$?
expect_eq "a tree of the agent's own (unprivileged) user: accepted" \
	"$rc $(jq -r .ok "$tmp/out.json")" "0 true"
fresh u
chown -R nobody: "$r"
run apply "$r"
expect_match "the same tree, agent as root: another user's tree, refused" "$(msg)" \
	"$r is owned by another user \(owner uid $(id -u nobody), mode 0755\)"
rc=0
SUDO_UID=$(id -u nobody) "$agent" apply --root "$r" --json --policy-file "$pol" \
	>"$tmp/out.json" 2>"$tmp/err" || rc=$?
expect_eq "as root through sudo from that user (SUDO_UID): accepted" \
	"$rc $(jq -r .ok "$tmp/out.json")" "0 true"

# --- the controller shows the reason ---
fresh c
chmod 775 "$r/etc"
rc=0
out=$("$VFLEET" apply --agent "$agent" --root "$r" --allow-unsafe-interrupts --json 2>/dev/null) || rc=$?
expect_eq "vfleet apply --root on an unsafe root: the host failed (exit 2)" "$rc" 2
expect_match "vfleet shows why" "$(jq -r '.hosts[0].error' <<<"$out")" \
	"^refusing to apply under the root $r: $r/etc is writable by its group"

# --- ok: false without errors: rejected, with that reason ---
cat >"$tmp/no-reason.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo '{"protocol":"vfleet/1.1","op":"facts","ok":false,"errors":[]}'
exit 1
EOF
chmod 755 "$tmp/no-reason.sh"
rc=0
out=$("$VFLEET" facts --agent "$tmp/no-reason.sh" --json 2>/dev/null) || rc=$?
expect_eq "ok: false without errors: the host failed (exit 2)" "$rc" 2
expect_eq "... and says why" "$(jq -r '.hosts[0] | "\(.failed) \(.error)"' <<<"$out")" \
	"true agent answer rejected (ok: false, but errors[] is empty)"

# --- the code is documented ---
check "PROTOCOL.md section 10 lists unsafe-root" \
	grep -q '^| `unsafe-root` | 1 | apply, rollback, reboot |' "$top/protocol/PROTOCOL.md"

finish
