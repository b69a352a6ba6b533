#!/usr/bin/env bash
# tests/fleet/fleet.sh: a "test fleet" of simulated lab hosts on loopback.
#
# Each simulated host is a real OpenSSH sshd of its own (so one host can go
# down alone), listening on its own loopback address 127.0.0.(10+i) and the
# fleet's port, with its own ed25519 host key and a fixture root copied from
# tests/fixtures/sysroot/<shape>. Only 127.0.0.0/8 is ever used.
#
#   fleet.sh start DIR N [options]  create DIR, start N hosts, write
#                                   DIR/inventory.ini, DIR/known_hosts,
#                                   DIR/ssh_config; prints the inventory path
#       --shapes a,b,c          shapes, cycled over the hosts (default: every
#                               directory of the fixtures dir, sorted; the
#                               built-in shape "empty" is an empty root)
#       --fixtures DIR          where shapes live (default tests/fixtures/sysroot)
#       --base-port P|auto      the port every host listens on (default 2200);
#                               "auto" claims a free one in 22000-22999
#       --user U                ansible_user / ssh_config User (default vfleet);
#                               the fixture roots are owned by U
#       --shared-roots          one copy of each shape (DIR/shapes/<shape>)
#                               that all hosts of that shape share, through
#                               the symlink DIR/hosts/<name>/root; for
#                               read-only runs (bench) with many hosts
#       --unreachable NAME      extra inventory entry whose address has nothing
#                               listening (repeatable)
#       --force-command NAME=SCRIPT  host NAME runs SCRIPT (copied to
#                               DIR/hosts/NAME/force) for every login instead of
#                               the requested command, which the script finds in
#                               $SSH_ORIGINAL_COMMAND (repeatable)
#   fleet.sh stop DIR               stop every host (recorded PIDs only)
#   fleet.sh down DIR NAME          stop one host and drop its open sessions
#   fleet.sh up DIR NAME            start one host again
#   fleet.sh status DIR [NAME]      one line per host; exit 1 if one is down
#   fleet.sh rekey DIR NAME         new host key for NAME (known_hosts is left
#                                   alone, so clients see a changed key)
#   fleet.sh reboot DIR NAME [options]  simulated reboot: take NAME down (as
#                                   `down`), compute its next boot with
#                                   tests/fleet/simboot on its root (new
#                                   boot_id, cmdline, IOMMU, drivers, kmsg),
#                                   wait, bring it up again; one line per step
#                                   in DIR/hosts/NAME/reboots.log
#       --delay S               seconds it stays down (default 1; fractions ok)
#       --never-return          stays down (the boot never completes; simboot
#                               does not run)
#       --flap                  comes back, then goes down again --flap-after
#                               seconds later (default 2) and stays down
#       --flap-after S
#       --iommu-off             comes back with the IOMMU off whatever the
#                               configuration says (also FLEET_REBOOT_IOMMU_OFF=1)
#       --no-intremap           comes back without interrupt remapping
#       --kmsg TEXT             a line for the new boot's kernel log (repeatable)
#       --boot-id ID            the new boot id (default random)
#       --detach                return at once; the reboot runs in the
#                               background, outside the caller's session (for
#                               a reboot command run on the host itself)
#
# DIR must be traversable by the login users (sshd reads DIR/authorized_keys
# as the user, the agent reads the fixture roots as the user): use a DIR under
# /tmp or /var/tmp, not under /root (0700). start checks this. A fixture root
# is about a thousand small files: on this machine's ext4 /tmp a copy takes
# ~0.8 s against ~0.04 s on tmpfs, so for more than a few hosts put DIR on
# tmpfs (/dev/shm/...) or use --shared-roots.
#
# Must run as root: it creates (once, idempotently) the users vfleet,
# vfleet-sudo (passwordless sudo) and vfleet-nopw (sudo wants a password),
# /etc/sudoers.d/vfleet-test and /run/sshd, and installs sudo/openssh-server
# when missing. Ports are claimed with files under /run/vfleet-fleet/ports
# so fleets started concurrently never share a port.
set -euo pipefail
set +m	# no job control: a background "setsid sshd" must not fork again

SSHD=${FLEET_SSHD:-/usr/sbin/sshd}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCKROOT=/run/vfleet-fleet
USERS=(vfleet vfleet-sudo vfleet-nopw)
HOME_BASE=/var/lib/vfleet-test-home
SUDOERS=/etc/sudoers.d/vfleet-test
AUTO_PORT_FIRST=22000
AUTO_PORT_LAST=22999
WAIT_SECS=${FLEET_WAIT_SECS:-30}
MAX_HOSTS=2000

die() { echo "fleet: $*" >&2; exit 1; }
note() { echo "fleet: $*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

usage() {
	sed -n '/^#   fleet.sh start/,/^# DIR must be/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

# A state dir path goes verbatim into INI and ssh_config lines: keep it plain.
check_dir_name() {
	[[ $1 == /* ]] || die "DIR must be absolute: $1"
	[[ $1 =~ ^[A-Za-z0-9._/+-]+$ ]] || die "DIR has characters unsafe for inventory lines: $1"
}

abs_dir() {
	local d=$1
	[[ $d == /* ]] || d=$PWD/$d
	# normalise without requiring existence
	realpath -m -- "$d"
}

# host index (1-based) -> loopback address; 240 per /24 keeps 127.0.0.1-10 free
host_addr() {
	local idx=$(($1 - 1))
	echo "127.0.$((idx / 240)).$((11 + idx % 240))"
}

# --- processes --------------------------------------------------------------

# true if PID is alive (not a zombie) and its command line mentions WORD
# (builtins only: this runs for every host on every poll round)
pid_is() {
	local pid=$1 word=$2 arg
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	while IFS= read -r -d '' arg; do
		[[ $arg == *"$word"* ]] && return 0
	done 2>/dev/null <"/proc/$pid/cmdline"
	return 1
}

# PROC_START := start time (clock ticks since boot) of live, non-zombie PID.
# pid + start time names one process for good: the pid may be reused, and
# sshd rewrites (and may truncate) its command line with setproctitle.
proc_start() {
	local stat
	local -a f
	PROC_START=
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -r -a f <<<"${stat##*) }"
	[[ ${f[0]} != Z ]] || return 1
	PROC_START=${f[19]}
}

# the sshd listener of host NAME in fleet DIR (recorded in pid and
# pid.start), if it is running; prints its pid
host_pid() {
	local h=$1/hosts/$2 pid start
	{ read -r pid <"$h/pid" && read -r start <"$h/pid.start"; } 2>/dev/null || return 1
	proc_start "$pid" && [[ $PROC_START == "$start" ]] || return 1
	echo "$pid"
}

# all descendants of the given PIDs (sshd forks one process tree per session)
descendants() {
	local -A kids=()
	local pid ppid out=() queue=("$@") p
	while read -r pid ppid; do
		kids[$ppid]+="$pid "
	done < <(ps -e -o pid=,ppid=)
	while ((${#queue[@]})); do
		p=${queue[0]}; queue=("${queue[@]:1}")
		for pid in ${kids[$p]:-}; do
			out+=("$pid"); queue+=("$pid")
		done
	done
	echo "${out[@]}"
}

alive() {	# true if PID exists and is not a zombie
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# SIGTERM PIDS; SIGKILL whatever is still alive 5 s later
terminate() {
	(($#)) || return 0
	local pids=("$@") p left deadline
	kill -TERM "${pids[@]}" 2>/dev/null || true
	kill -CONT "${pids[@]}" 2>/dev/null || true
	deadline=$(($(now_ms) + 5000))
	while :; do
		left=()
		for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
		((${#left[@]})) || return 0
		(($(now_ms) < deadline)) || break
		sleep 0.02
	done
	note "pids ${left[*]} ignored SIGTERM, sending SIGKILL"
	kill -KILL "${left[@]}" 2>/dev/null || true
	sleep 0.1
	pids=("${left[@]}") left=()
	for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
	((${#left[@]} == 0)) || die "pids still alive after SIGKILL: ${left[*]}"
}

# Take hosts NAMES of fleet DIR down: their sshd listeners and everything
# those started. The trees are frozen first (SIGSTOP, rescanning until no new
# child shows up) so a session that forks right then cannot slip out; then
# SIGTERM + SIGCONT. Session processes already orphaned before (a non-pty
# session's children outlive a dropped connection) are found by the
# VFLEET_ROOT that sshd's SetEnv put in their environment.
kill_hosts() {
	local dir=$1; shift
	local name pid p round
	local -a roots=() all=() new=() found=()
	local -A seen=()
	for name in "$@"; do
		pid=$(host_pid "$dir" "$name") && roots+=("$pid")
	done
	local -a scan=("${roots[@]}")
	while ((${#scan[@]})); do
		new=()
		for p in "${scan[@]}" $(descendants "${scan[@]}"); do
			[[ -n ${seen[$p]:-} ]] && continue
			seen[$p]=1; new+=("$p")
		done
		((${#new[@]})) || break
		kill -STOP "${new[@]}" 2>/dev/null || true
		all+=("${new[@]}")
		scan=("${all[@]}")
	done
	terminate "${all[@]}"
	KILLED=${#roots[@]}

	local tags; tags=$(mktemp)
	for name in "$@"; do echo "VFLEET_ROOT=$dir/hosts/$name/root"; done >"$tags"
	for ((round = 0; round < 5; round++)); do
		found=()
		for p in $(grep -lzxF -f "$tags" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
			[[ $p == "$$" || $p == "$BASHPID" ]] || ! alive "$p" || found+=("$p")
		done
		((${#found[@]})) || break
		kill -STOP "${found[@]}" 2>/dev/null || true
		terminate "${found[@]}"
	done
	rm -f "$tags"
}

# true once ADDR:PORT accepts a TCP connection
tcp_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# --- port claims ------------------------------------------------------------

# A claim is the file /run/vfleet-fleet/ports/P holding "dir pid": the owning
# fleet and the fleet.sh that claimed it (0 once the sshds run). It is stale
# once the fleet was stopped or removed (no fleet.tsv), or once that fleet.sh
# has exited, the fleet has no live sshd, no fleet.sh works on it (a
# detached reboot: every host of a one-host fleet can be down at once) and
# nothing in it changed for STALE_AFTER seconds. Claims are read and changed
# only under flock on ports.lock.
STALE_AFTER=600
claim_stale() {
	local lock=$1 odir opid name pid arg newest
	{ read -r odir opid <"$lock"; } 2>/dev/null || return 0
	[[ -f $odir/fleet.tsv ]] || return 0
	pid_is "$opid" fleet.sh && return 1
	while read -r name _; do
		host_pid "$odir" "$name" >/dev/null && return 1
	done <"$odir/fleet.tsv"
	for pid in $(pgrep -f 'fleet\.sh' 2>/dev/null); do
		while IFS= read -r -d '' arg; do
			[[ $arg == "$odir" ]] && return 1
		done 2>/dev/null <"/proc/$pid/cmdline"
	done
	newest=$(find "$odir/fleet.tsv" "$odir/hosts" -maxdepth 2 -newermt "-$STALE_AFTER seconds" 2>/dev/null | head -n 1)
	[[ -z $newest ]]
}

port_listened() {
	[[ -n $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]
}

ports_lock() {
	mkdir -p "$LOCKROOT/ports"
	exec 8>"$LOCKROOT/ports.lock"
	flock 8
}

ports_unlock() {
	exec 8>&-
}

# claim PORT for DIR (OPID: the claiming fleet.sh, 0 for "the sshds");
# fails if another live fleet holds it
claim_port() {
	local port=$1 dir=$2 opid=$3 lock=$LOCKROOT/ports/$1 odir r=0
	ports_lock
	{ read -r odir _ <"$lock"; } 2>/dev/null || odir=
	if [[ -e $lock && $odir != "$dir" ]] && ! claim_stale "$lock"; then
		r=1
	else
		echo "$dir $opid" >"$lock"
	fi
	ports_unlock
	return $r
}

release_port() {
	local port=$1 dir=$2 lock=$LOCKROOT/ports/$1 odir
	ports_lock
	{ read -r odir _ <"$lock"; } 2>/dev/null || odir=
	[[ $odir != "$dir" ]] || rm -f "$lock"
	ports_unlock
}

pick_port() {
	local dir=$1 p
	for ((p = AUTO_PORT_FIRST; p <= AUTO_PORT_LAST; p++)); do
		port_listened "$p" && continue
		claim_port "$p" "$dir" $$ && { echo "$p"; return 0; }
	done
	die "no free port in $AUTO_PORT_FIRST-$AUTO_PORT_LAST"
}

# --- system setup (users, sudo, /run/sshd) ------------------------------------

ensure_system() {
	mkdir -p "$LOCKROOT"
	# concurrent fleets must not race useradd
	exec 9>"$LOCKROOT/setup.lock"
	flock 9
	[[ -d /run/sshd ]] || mkdir -m755 /run/sshd
	if ! command -v sudo >/dev/null || [[ ! -x $SSHD ]]; then
		note "installing sudo and openssh-server"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q sudo openssh-server >&2 ||
			{ apt-get update -q >&2 && apt-get install -y -q sudo openssh-server >&2; } ||
			die "apt-get install sudo openssh-server failed"
	fi
	local u home pw
	for u in "${USERS[@]}"; do
		home=$HOME_BASE${u#vfleet}
		if ! getent passwd "$u" >/dev/null; then
			useradd --system --user-group --shell /bin/sh \
				--home-dir "$home" --create-home "$u"
		fi
		[[ $(getent passwd "$u" | cut -d: -f7) == /bin/sh ]] || usermod -s /bin/sh "$u"
		# sshd (UsePAM no) refuses even key logins to a "!"-locked account
		pw=$(getent shadow "$u" | cut -d: -f2)
		[[ $pw == '!'* ]] && usermod -p '*' "$u"
	done
	local want
	want=$'# written by vfleet tests/fleet/fleet.sh\nvfleet-sudo ALL=(ALL:ALL) NOPASSWD: ALL\nvfleet-nopw ALL=(ALL:ALL) ALL\n'
	if [[ ! -f $SUDOERS || $(cat "$SUDOERS"; echo x) != "${want}x" ]]; then
		mkdir -p /etc/sudoers.d
		printf '%s' "$want" >"$SUDOERS.tmp"
		chmod 0440 "$SUDOERS.tmp"
		visudo -cqf "$SUDOERS.tmp" || die "visudo rejected $SUDOERS.tmp"
		mv "$SUDOERS.tmp" "$SUDOERS"
	fi
	exec 9>&-
}

# --- per-host files -----------------------------------------------------------

# fleet.tsv: name addr port shape kind(host|unreachable|force)
write_sshd_config() {
	local dir=$1 name=$2 addr=$3 port=$4 shape=$5 force=$6 h=$1/hosts/$2
	{
		echo "# simulated host $name (vfleet tests/fleet/fleet.sh)"
		echo "ListenAddress $addr:$port"
		echo "HostKey $h/ssh_host_ed25519_key"
		echo "PidFile none"
		echo "StrictModes no"
		echo "UsePAM no"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "PubkeyAuthentication yes"
		echo "AuthorizedKeysFile $dir/authorized_keys"
		echo "AllowUsers ${USERS[*]}"
		echo "Subsystem sftp internal-sftp"
		echo "MaxStartups 1000:30:2000"
		echo "MaxSessions 100"
		echo "KexAlgorithms curve25519-sha256"
		echo "LogLevel ERROR"
		echo "UseDNS no"
		echo "PrintMotd no"
		echo "X11Forwarding no"
		echo "SetEnv VFLEET_HOST=$name VFLEET_ROOT=$h/root VFLEET_SHAPE=$shape"
		[[ -z $force ]] || echo "ForceCommand $h/force"
	} >"$h/sshd_config"
}

copy_shape() {	# copy_shape FIXTURES SHAPE DEST
	if [[ $2 == empty && ! -d $1/empty ]]; then
		mkdir "$3"
	else
		cp -a "$1/$2" "$3"
	fi
}

# everything for one host that can run in parallel with other hosts
prep_host() {
	local dir=$1 name=$2 addr=$3 port=$4 shape=$5 force=$6 fixtures=$7 shared=$8
	local h=$dir/hosts/$name
	mkdir -p "$h"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
	if ((shared)); then
		ln -s "../../shapes/$shape" "$h/root"
	else
		copy_shape "$fixtures" "$shape" "$h/root"
	fi
	if [[ -n $force ]]; then
		cp "$force" "$h/force"
		chmod 755 "$h/force"
	fi
	write_sshd_config "$dir" "$name" "$addr" "$port" "$shape" "$force"
}

# start the sshd of one prepared host (does not wait for it)
launch_host() {
	local dir=$1 name=$2 h=$1/hosts/$2
	# setsid: the sshd leaves the caller's process group, so a ^C or a job
	# kill aimed at the caller does not take the fleet down half-way
	setsid "$SSHD" -D -f "$h/sshd_config" -E "$h/log" </dev/null >>"$h/log" 2>&1 &
	local pid=$!
	# the start time survives the exec of setsid into sshd
	proc_start "$pid" || die "sshd of $name exited at once; see $h/log"
	echo "$pid" >"$h/pid"
	echo "$PROC_START" >"$h/pid.start"
}

# wait until every listed host accepts TCP; fail early if an sshd died
wait_hosts() {
	local dir=$1; shift
	local deadline=$(($(now_ms) + WAIT_SECS * 1000)) pending=("$@") next name addr port pid
	while ((${#pending[@]})); do
		next=()
		for name in "${pending[@]}"; do
			read -r addr port <"$dir/hosts/$name/addrport"
			read -r pid <"$dir/hosts/$name/pid"
			if ! host_pid "$dir" "$name" >/dev/null; then
				sed 's/^/    /' "$dir/hosts/$name/log" >&2 || true
				die "sshd of $name (pid $pid) exited; log above"
			fi
			tcp_open "$addr" "$port" || next+=("$name")
		done
		pending=("${next[@]}")
		((${#pending[@]})) || break
		(($(now_ms) < deadline)) || die "not listening after ${WAIT_SECS}s: ${pending[*]}"
		sleep 0.02
	done
}

hosts_of() {	# names of the hosts (not unreachable entries) of DIR
	awk '$5 != "unreachable" { print $1 }' "$1/fleet.tsv"
}

host_line() {	# the fleet.tsv line of NAME or die
	local l
	l=$(awk -v n="$2" '$1 == n' "$1/fleet.tsv")
	[[ -n $l ]] || die "no host $2 in $1"
	echo "$l"
}

load_fleet() {
	local dir=$1
	[[ -f $dir/fleet.tsv ]] || die "$dir is not a fleet (no fleet.tsv)"
	PORT=$(cat "$dir/port")
}

# --- commands -------------------------------------------------------------

cmd_start() {
	(($# >= 2)) || usage
	local dir n shapes_arg='' fixtures=$TOP/tests/fixtures/sysroot port_arg=2200 user=vfleet shared=0
	local -a unreach=() forcespec=()
	dir=$(abs_dir "$1"); n=$2; shift 2
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= MAX_HOSTS)) || die "N must be 1..$MAX_HOSTS"
	while (($#)); do
		case $1 in
		--shapes) shapes_arg=$2; shift 2 ;;
		--fixtures) fixtures=$(abs_dir "$2"); shift 2 ;;
		--base-port) port_arg=$2; shift 2 ;;
		--user) user=$2; shift 2 ;;
		--shared-roots) shared=1; shift ;;
		--unreachable) unreach+=("$2"); shift 2 ;;
		--force-command) forcespec+=("$2"); shift 2 ;;
		*) usage ;;
		esac
	done
	check_dir_name "$dir"
	[[ $user =~ ^vfleet(-sudo|-nopw)?$ ]] || die "--user must be one of ${USERS[*]}"
	[[ -e $dir/fleet.tsv ]] && die "$dir already holds a fleet (stop it and remove DIR first)"
	(($(id -u) == 0)) || die "must run as root"

	local t0; t0=$(now_ms)
	local -a shapes=()
	if [[ -n $shapes_arg ]]; then
		IFS=, read -r -a shapes <<<"$shapes_arg"
	elif [[ -d $fixtures ]]; then
		mapfile -t shapes < <(find "$fixtures" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)
	fi
	((${#shapes[@]})) || die "no shapes in $fixtures (pass --shapes empty for empty roots)"
	local s
	for s in "${shapes[@]}"; do
		[[ $s =~ ^[A-Za-z0-9._+-]+$ ]] || die "bad shape name: $s"
		[[ -d $fixtures/$s || $s == empty ]] || die "no shape $s in $fixtures"
	done

	local -A force=()
	local spec fname fscript
	for spec in "${forcespec[@]}"; do
		fname=${spec%%=*}; fscript=${spec#*=}
		[[ $fname != "$spec" && -f $fscript ]] || die "--force-command wants NAME=SCRIPT (existing file): $spec"
		force[$fname]=$(abs_dir "$fscript")
	done

	ensure_system

	mkdir -p "$dir/hosts"
	chmod 755 "$dir"
	local port
	if [[ $port_arg == auto ]]; then
		port=$(pick_port "$dir")
	else
		[[ $port_arg =~ ^[0-9]+$ ]] && ((port_arg >= 1024 && port_arg <= 65535)) ||
			die "--base-port must be 1024..65535 or auto"
		port=$port_arg
		claim_port "$port" "$dir" $$ || die "port $port is claimed by another running fleet ($(cat "$LOCKROOT/ports/$port" 2>/dev/null))"
		port_listened "$port" && { release_port "$port" "$dir"; die "something already listens on port $port"; }
	fi
	echo "$port" >"$dir/port"

	# a failed start leaves nothing running and no port claimed
	START_DIR=$dir START_PORT=$port
	trap start_failed EXIT

	ssh-keygen -q -t ed25519 -N '' -C vfleet-fleet-client -f "$dir/client_key"
	cp "$dir/client_key.pub" "$dir/authorized_keys"
	chmod 644 "$dir/authorized_keys"
	# the user must reach authorized_keys and the roots through DIR's parents
	runuser -u "$user" -- test -r "$dir/authorized_keys" ||
		die "user $user cannot read $dir/authorized_keys: DIR and its parents must be world-traversable (use /tmp or /var/tmp)"

	# the table of hosts: normal hosts first, then unreachable entries
	local i name addr shape kind
	local -A seen=()
	: >"$dir/fleet.tsv.tmp"
	for ((i = 1; i <= n; i++)); do
		name=$(printf 'host%02d' "$i")
		shape=${shapes[(i - 1) % ${#shapes[@]}]}
		kind=host; [[ -n ${force[$name]:-} ]] && kind=force
		printf '%s %s %s %s %s\n' "$name" "$(host_addr "$i")" "$port" "$shape" "$kind" >>"$dir/fleet.tsv.tmp"
		seen[$name]=1
	done
	for fname in "${!force[@]}"; do
		[[ -n ${seen[$fname]:-} ]] || die "--force-command: no host $fname"
	done
	for name in "${unreach[@]}"; do
		[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad host name: $name"
		[[ -z ${seen[$name]:-} ]] || die "duplicate host name: $name"
		seen[$name]=1
		i=$((i + 1))
		# same port as the fleet (claimed by us, checked free): refused at once
		printf '%s %s %s %s %s\n' "$name" "$(host_addr "$((i - 1))")" "$port" unreachable unreachable >>"$dir/fleet.tsv.tmp"
	done

	# prepare hosts in parallel (keygen, fixture copy, config)
	local jobs=$(($(nproc) * 4)) running=0 fail=0
	if ((shared)); then
		mkdir "$dir/shapes"
		local -a cps=()
		for s in $(printf '%s\n' "${shapes[@]}" | sort -u); do
			copy_shape "$fixtures" "$s" "$dir/shapes/$s" &
			cps+=($!)
		done
		for s in "${cps[@]}"; do wait "$s" || die "copying shapes failed"; done
	elif ((n >= 20)) && [[ $(stat -f -c %T "$dir") != tmpfs ]]; then
		note "hint: $dir is not on tmpfs; copying $n roots may be slow (see --shared-roots, /dev/shm)"
	fi
	while read -r name addr _ shape kind; do
		mkdir -p "$dir/hosts/$name"
		echo "$addr $port" >"$dir/hosts/$name/addrport"
		if [[ $kind == unreachable ]]; then
			mkdir -p "$dir/hosts/$name/root"
			continue
		fi
		prep_host "$dir" "$name" "$addr" "$port" "$shape" "${force[$name]:-}" "$fixtures" "$shared" &
		if ((++running >= jobs)); then
			wait -n || fail=1
			running=$((running - 1))
		fi
	done <"$dir/fleet.tsv.tmp"
	while ((running > 0)); do
		wait -n || fail=1
		running=$((running - 1))
	done
	((fail == 0)) || die "preparing hosts failed"
	# the agent reads (and may edit) the roots as the login user
	local -a roots=("$dir"/hosts/*/root)
	((shared)) && roots=("$dir/shapes")
	chmod -R a+rX "${roots[@]}"
	chown -R --no-dereference "$user:" "${roots[@]}"
	mv "$dir/fleet.tsv.tmp" "$dir/fleet.tsv"
	local t_prep; t_prep=$(now_ms)

	write_client_files "$dir" "$user"

	local -a names
	mapfile -t names < <(hosts_of "$dir")
	for name in "${names[@]}"; do
		launch_host "$dir" "$name"
	done
	wait_hosts "$dir" "${names[@]}"
	# from now on the claim lives as long as the sshds
	claim_port "$port" "$dir" 0
	trap - EXIT
	local t1; t1=$(now_ms)
	note "${#names[@]} hosts up on port $port ($(host_addr 1)..$(host_addr "${#names[@]}")) in $((t1 - t0)) ms (prepare $((t_prep - t0)) ms)"
	echo "$dir/inventory.ini"
}

start_failed() {
	local rc=$?
	local -a names=()
	mapfile -t names < <(ls "$START_DIR/hosts" 2>/dev/null)
	KILLED=0
	(($(id -u) != 0)) || kill_hosts "$START_DIR" "${names[@]}" || true
	release_port "$START_PORT" "$START_DIR"
	note "start failed; stopped $KILLED sshd(s), released port $START_PORT"
	exit "$rc"
}

write_client_files() {
	local dir=$1 user=$2 name addr port shape kind
	{
		echo "# vfleet test fleet, generated by tests/fleet/fleet.sh"
		echo "[lab]"
		while read -r name addr port shape kind; do
			echo "$name ansible_host=$addr ansible_port=$port ansible_user=$user ansible_ssh_private_key_file=$dir/client_key vfleet_root=$dir/hosts/$name/root vfleet_shape=$shape"
		done <"$dir/fleet.tsv"
		# The fixture roots belong to the login user, so the agent needs no
		# sudo; only vfleet-sudo exercises become (vfleet's default for a
		# non-root login).
		if [[ $user != vfleet-sudo ]]; then
			printf '\n[lab:vars]\nansible_become=false\n'
		fi
	} >"$dir/inventory.ini"
	: >"$dir/known_hosts"
	while read -r name addr port shape kind; do
		[[ $kind == unreachable ]] && continue
		# the line OpenSSH itself writes for a non-22 port, without the comment
		read -r kt kb _ <"$dir/hosts/$name/ssh_host_ed25519_key.pub"
		echo "[$addr]:$port $kt $kb" >>"$dir/known_hosts"
	done <"$dir/fleet.tsv"
	{
		# wildcard block first: OpenSSH takes the first value it sees, and
		# libssh's parser wants wildcard blocks before HostName blocks
		echo "# vfleet test fleet, for ssh -F $dir/ssh_config"
		echo "Host *"
		echo "    User $user"
		echo "    IdentityFile $dir/client_key"
		echo "    IdentitiesOnly yes"
		echo "    UserKnownHostsFile $dir/known_hosts"
		echo "    GlobalKnownHostsFile /dev/null"
		echo "    StrictHostKeyChecking yes"
		echo "    UpdateHostKeys no"
		echo "    HashKnownHosts no"
		echo "    KexAlgorithms curve25519-sha256"
		echo "    ConnectTimeout 5"
		echo "    LogLevel ERROR"
		while read -r name addr port shape kind; do
			echo "Host $name"
			echo "    HostName $addr"
			echo "    Port $port"
		done <"$dir/fleet.tsv"
	} >"$dir/ssh_config"
}

cmd_stop() {
	(($# == 1)) || usage
	local dir; dir=$(abs_dir "$1")
	load_fleet "$dir"
	local t0; t0=$(now_ms)
	local -a names=()
	mapfile -t names < <(hosts_of "$dir")
	kill_hosts "$dir" "${names[@]}"
	release_port "$PORT" "$dir"
	note "stopped $KILLED sshd(s) in $(($(now_ms) - t0)) ms"
}

cmd_down() {
	(($# == 2)) || usage
	local dir pid; dir=$(abs_dir "$1")
	load_fleet "$dir"
	host_line "$dir" "$2" >/dev/null
	host_pid "$dir" "$2" >/dev/null || note "$2 was already down"
	# even then: sweep processes left over from its sessions
	kill_hosts "$dir" "$2"
}

cmd_up() {
	(($# == 2)) || usage
	local dir name=$2 kind; dir=$(abs_dir "$1")
	load_fleet "$dir"
	kind=$(host_line "$dir" "$name" | awk '{ print $5 }')
	[[ $kind != unreachable ]] || die "$name is an unreachable entry; it has no sshd"
	host_pid "$dir" "$name" >/dev/null && { note "$name is already up"; return 0; }
	claim_port "$PORT" "$dir" 0 || die "port $PORT is claimed by another fleet ($(cat "$LOCKROOT/ports/$PORT" 2>/dev/null))"
	mkdir -p /run/sshd
	launch_host "$dir" "$name"
	wait_hosts "$dir" "$name"
}

cmd_rekey() {
	(($# == 2)) || usage
	local dir name=$2 h kind wasup=0; dir=$(abs_dir "$1")
	load_fleet "$dir"
	kind=$(host_line "$dir" "$name" | awk '{ print $5 }')
	[[ $kind != unreachable ]] || die "$name is an unreachable entry; it has no key"
	h=$dir/hosts/$name
	# sshd reads its host key only at start: restart it around the new key
	host_pid "$dir" "$name" >/dev/null && { wasup=1; cmd_down "$dir" "$name"; }
	rm -f "$h/ssh_host_ed25519_key" "$h/ssh_host_ed25519_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
	((wasup == 0)) || cmd_up "$dir" "$name"
}

# note a step of a reboot in DIR/hosts/NAME/reboots.log (and on stderr)
reboot_log() {
	local line
	line="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) $1 $2"
	echo "$line" >>"$RB_LOG"
	note "$line"
}

cmd_reboot() {
	(($# >= 2)) || usage
	local dir name=$2 kind h root delay=1 never=0 flap=0 flap_after=2 detach=0 id=''
	local -a sbargs=()
	dir=$(abs_dir "$1"); shift 2
	[[ ${FLEET_REBOOT_IOMMU_OFF:-0} == 1 ]] && sbargs+=(--iommu-off)
	while (($#)); do
		case $1 in
		--delay) delay=$2; shift 2 ;;
		--never-return) never=1; shift ;;
		--flap) flap=1; shift ;;
		--flap-after) flap_after=$2; shift 2 ;;
		--iommu-off|--no-intremap) sbargs+=("$1"); shift ;;
		--kmsg) sbargs+=(--kmsg "$2"); shift 2 ;;
		--boot-id) id=$2; shift 2 ;;
		--detach) detach=1; shift ;;
		*) usage ;;
		esac
	done
	[[ $delay =~ ^[0-9]+(\.[0-9]+)?$ && $flap_after =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
		die "--delay and --flap-after take seconds"
	load_fleet "$dir"
	kind=$(host_line "$dir" "$name" | awk '{ print $5 }')
	[[ $kind != unreachable ]] || die "$name is an unreachable entry; it has no sshd"
	(($(id -u) == 0)) || die "must run as root"
	h=$dir/hosts/$name
	root=$h/root
	[[ -L $root ]] && die "$name shares its root with other hosts (--shared-roots): a reboot needs its own copy"
	RB_LOG=$h/reboots.log

	if ((detach)); then
		# out of the caller's session: the host's own sessions die with
		# its sshd, and kill_hosts also sweeps processes that carry this
		# host's VFLEET_ROOT, so drop it from the environment
		local -a again=(reboot "$dir" "$name" --delay "$delay" --flap-after "$flap_after")
		((never)) && again+=(--never-return)
		((flap)) && again+=(--flap)
		[[ -n $id ]] && again+=(--boot-id "$id")
		# the same spelling for both: --iommu-off, --no-intremap, --kmsg
		again+=("${sbargs[@]}")
		setsid env -u VFLEET_ROOT -u VFLEET_HOST -u VFLEET_SHAPE -u SSH_ORIGINAL_COMMAND \
			"$TOP/tests/fleet/fleet.sh" "${again[@]}" </dev/null >>"$h/log" 2>&1 &
		note "$name: reboot started in the background (pid $!)"
		return 0
	fi

	local old new out
	old=$(cat "$root/proc/sys/kernel/random/boot_id" 2>/dev/null || echo unknown)
	reboot_log "$name" "going down (boot_id $old)"
	cmd_down "$dir" "$name"
	if ((never)); then
		reboot_log "$name" "stays down (--never-return)"
		return 0
	fi
	[[ -n $id ]] && sbargs+=(--new-boot-id "$id")
	out=$("$TOP/tests/fleet/simboot" "$root" "${sbargs[@]}") || die "simboot failed on $root"
	# simboot runs as root; the login user must still own (and edit) the tree
	chown -R --no-dereference "$(stat -c %u:%g "$root")" "$root"
	new=$(cat "$root/proc/sys/kernel/random/boot_id")
	while IFS= read -r line; do
		[[ $line == boot_id* ]] || echo "    $line" >>"$RB_LOG"
	done <<<"$out"
	reboot_log "$name" "booted (boot_id $new); up in ${delay}s"
	sleep "$delay"
	cmd_up "$dir" "$name"
	reboot_log "$name" "up"
	if ((flap)); then
		sleep "$flap_after"
		reboot_log "$name" "going down again (--flap)"
		cmd_down "$dir" "$name"
	fi
}

cmd_status() {
	(($# == 1 || $# == 2)) || usage
	local dir only=${2:-} name addr port shape kind pid state rc=0; dir=$(abs_dir "$1")
	load_fleet "$dir"
	[[ -z $only ]] || host_line "$dir" "$only" >/dev/null
	while read -r name addr port shape kind; do
		[[ -z $only || $name == "$only" ]] || continue
		if [[ $kind == unreachable ]]; then
			printf '%-10s %s:%s  unreachable (no sshd by design)\n' "$name" "$addr" "$port"
			continue
		fi
		if pid=$(host_pid "$dir" "$name") && tcp_open "$addr" "$port"; then
			state="up   pid $pid"
		else
			state=down; rc=1
		fi
		printf '%-10s %s:%s  %-14s shape=%s%s\n' "$name" "$addr" "$port" "$state" "$shape" \
			"$([[ $kind == force ]] && echo ' force-command')"
	done <"$dir/fleet.tsv"
	return $rc
}

(($# >= 1)) || usage
cmd=$1; shift
case $cmd in
start|stop|down|up|status|rekey|reboot) "cmd_$cmd" "$@" ;;
-h|--help|help) usage ;;
*) usage ;;
esac
