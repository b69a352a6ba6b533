#!/usr/bin/env bash
# bench/bench_fleet.sh: `vfleet facts` fleet-wide against parallel-ssh (a bare
# `true`) and `ansible -m setup`, on one test fleet of loopback sshds
# (tests/fleet/fleet.sh), with the same parallelism, user, key, known_hosts
# and key exchange (the fleet's sshds offer only curve25519-sha256).
#
# Per tool and fleet size: wall time, client CPU (user+sys of the tool and
# every child it waited for), peak RSS (of the largest single process: GNU
# time's %M), and server CPU: everything the fleet's sshds and their session
# trees (sshd, shell, agent or python) used, read once every session has
# ended. Every column is the median over the runs.
#
# Server CPU comes from a cpuacct cgroup that the listeners are moved into
# (their sessions inherit it). The listeners' cutime+cstime can miss most of
# it: when the post-auth child of OpenSSH 9.2 exits with 255 (as it does when
# ssh(1) or an ansible ControlPersist master hangs up), the privsep monitor
# sees EOF and exits without reaping it (strace: exit_group(255), no wait4),
# so that child, with the shell and command it reaped, goes to init and its
# time never reaches the listener. That figure is printed too, as "cutime",
# for comparison; without a writable cpuacct hierarchy it is the only one.
#
# Each tool is first warmed up on a few hosts (vfleet's first run may upload
# the agent).
#
# Ansible keeps its defaults (-C, ControlMaster=auto, ControlPersist=60s, no
# pipelining, interpreter discovery). Its ControlPersist masters detach, so
# time(1) does not see them: their CPU is read from /proc and added to the
# client's, and they are closed (ssh -O exit) after each run so that every
# run starts cold, as vfleet's and parallel-ssh's do.
#
# Needs root (the fleet does). Knobs (environment):
#   BENCH_FLEET_SIZES="50 200"   fleet sizes (one fleet of the largest size)
#   BENCH_FLEET_RUNS=3           measured runs per tool and size
#   BENCH_FLEET_FORKS=50         vfleet -f, parallel-ssh -p, ansible -f
#   BENCH_FLEET_ANSIBLE_MAX=50   sizes above this get BENCH_FLEET_ANSIBLE_RUNS_LARGE
#   BENCH_FLEET_ANSIBLE_RUNS_LARGE=1   ansible runs there (0: skip; one
#                                ansible -m setup on 200 loopback hosts takes
#                                over a minute on 2 CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.}
SIZES=${BENCH_FLEET_SIZES:-50 200}
RUNS=${BENCH_FLEET_RUNS:-3}
FORKS=${BENCH_FLEET_FORKS:-50}
ANSIBLE_MAX=${BENCH_FLEET_ANSIBLE_MAX:-50}
ANSIBLE_RUNS_LARGE=${BENCH_FLEET_ANSIBLE_RUNS_LARGE:-1}
KEX=curve25519-sha256
TICK=$(getconf CLK_TCK)

die() { echo "bench_fleet: $*" >&2; exit 1; }

(($(id -u) == 0)) || die "needs root (tests/fleet/fleet.sh starts sshds and test users)"
[[ -x $OUT/vfleet && -x $OUT/vfleet-agent ]] || die "no $OUT/vfleet or $OUT/vfleet-agent; run make first"

# --- tools ------------------------------------------------------------------

need=()
[[ -x /usr/bin/time ]] || need+=(time)
command -v parallel-ssh >/dev/null || need+=(pssh)	# Debian's pssh names it parallel-ssh
command -v ansible >/dev/null || need+=(ansible-core)
if ((${#need[@]})); then
	echo "bench_fleet: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "${need[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q "${need[@]}" >&2; } ||
		die "apt-get install ${need[*]} failed"
fi

# --- the fleet ----------------------------------------------------------------

maxn=0
for n in $SIZES; do ((n > maxn)) && maxn=$n; done
((maxn > 0)) || die "BENCH_FLEET_SIZES is empty"

# tmpfs: a fleet is thousands of small files, and ext4 /tmp is slow here
W=$(mktemp -d /dev/shm/vfleet-bench.XXXXXX)
chmod 755 "$W"
FLEET=$W/fleet
# a snapshot: a rebuild during the bench must not mix binaries
cp "$OUT/vfleet" "$OUT/vfleet-agent" "$W/"
VFLEET=$W/vfleet
CP=	# ansible's ControlPath dir of the current run
CG=	# the fleet's cpuacct cgroup, if there is a writable hierarchy

close_masters() {	# close ansible's ControlPersist masters of dir $1
	local s
	for s in "$1"/*; do
		[[ -S $s ]] && ssh -o ControlPath="$s" -O exit bench >/dev/null 2>&1 || true
	done
}

cleanup() {
	local i
	[[ -z $CP ]] || close_masters "$CP"
	[[ ! -f $FLEET/fleet.tsv ]] || tests/fleet/fleet.sh stop "$FLEET" 2>/dev/null || true
	if [[ -n $CG ]]; then
		for ((i = 0; i < 50; i++)); do
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1
		done
	fi
	rm -rf "$W"
}
trap cleanup EXIT

t0=$(date +%s%N)
# vfleet-nopw: its $HOME (so the agent cache and ~/.ansible, shared by all
# hosts) is not the one tests/integration/test_controller_fleet.sh wipes,
# so a test run alongside does not force uploads mid-bench. No tool uses sudo.
tests/fleet/fleet.sh start "$FLEET" "$maxn" --base-port auto --shared-roots --user vfleet-nopw \
	>/dev/null 2>"$W/fleet.log" ||
	{ cat "$W/fleet.log" >&2; die "fleet start failed"; }
# every sshd of the fleet into one cpuacct cgroup; sessions inherit it
CGROOT=/sys/fs/cgroup/cpuacct
if [[ -w $CGROOT/cgroup.procs ]] && mkdir "$CGROOT/${W##*/}" 2>/dev/null; then
	CG=$CGROOT/${W##*/}
	for f in "$FLEET"/hosts/*/pid; do
		cat "$f" >"$CG/cgroup.procs"
	done
else
	echo "  warning: no writable cpuacct cgroup; server CPU is the listeners' cutime (undercounts)" >&2
fi
# how busy the machine is without us (the load average here counts other
# containers' tasks, so sample /proc/stat instead)
idle_pct() {
	local a b
	read -r -a a < <(grep '^cpu ' /proc/stat)
	sleep 1
	read -r -a b < <(grep '^cpu ' /proc/stat)
	awk -v i=$((b[4] + b[5] - a[4] - a[5])) \
		-v t=$((b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8] - a[1] - a[2] - a[3] - a[4] - a[5] - a[6] - a[7] - a[8])) \
		'BEGIN { printf "%.0f", t ? 100 * i / t : 0 }'
}
printf '  fleet: %d sshds on loopback (port %s), started in %d ms; %d CPUs, %s%% idle before the runs\n' \
	"$maxn" "$(cat "$FLEET/port")" $((($(date +%s%N) - t0) / 1000000)) "$(nproc)" "$(idle_pct)"
agent=$W/vfleet-agent
printf '  %s, agent %d KB %s; %s; parallel-ssh %s; ansible-core %s\n' \
	"$("$VFLEET" version 2>/dev/null | head -1)" $(($(stat -c %s "$agent") / 1024)) \
	"$(readelf -d "$agent" 2>/dev/null | grep -q NEEDED && echo dynamic || echo static)" \
	"$(ssh -V 2>&1 | cut -d, -f1)" \
	"$(dpkg-query -W -f '${Version}' pssh 2>/dev/null || echo '?')" \
	"$(ansible --version 2>/dev/null | head -1 | sed 's/.*core \([^]]*\)].*/\1/')"

# an inventory, a parallel-ssh host file and the listener pids of the first N
prepare_size() {
	local n=$1 name
	awk -v n="$n" '/^\[/ { sec = $0 } sec == "[lab]" && /^host/ && ++c > n { next } { print }' \
		"$FLEET/inventory.ini" >"$W/inv$n.ini"
	awk -v n="$n" '$5 == "host" && ++c <= n { print $1 }' "$FLEET/fleet.tsv" >"$W/hosts$n"
	PIDS=()
	while read -r name; do
		PIDS+=("$(cat "$FLEET/hosts/$name/pid")")
	done <"$W/hosts$n"
	((${#PIDS[@]} == n)) || die "fleet has fewer than $n hosts"
}

# ms used so far by the listeners and the session trees they reaped
cutime_ms() {
	local p s t=0
	local -a f
	for p in "${PIDS[@]}"; do
		read -r s <"/proc/$p/stat" || die "sshd $p is gone"
		read -r -a f <<<"${s##*) }"
		t=$((t + f[11] + f[12] + f[13] + f[14]))	# utime stime cutime cstime
	done
	echo $((t * 1000 / TICK))
}

# ms used so far by everything in the fleet's cgroup (exited processes too)
cgroup_ms() {
	if [[ -n $CG ]]; then
		echo $(($(cat "$CG/cpuacct.usage") / 1000000))
	else
		cutime_ms
	fi
}

# wait until every session process is gone (in the cgroup: only the
# listeners left; else: no listener has a child)
wait_sessions() {
	local list i
	list=$(IFS=,; echo "${PIDS[*]}")
	for ((i = 0; i < 1500; i++)); do
		if [[ -n $CG ]]; then
			(($(wc -l <"$CG/cgroup.procs") == maxn)) && return 0
		else
			pgrep -P "$list" >/dev/null || return 0
		fi
		sleep 0.02
	done
	die "sshd sessions still open 30 s after the client finished"
}

# CPU ticks of ansible's detached ssh masters in dir $1 (time(1) misses them)
master_ticks() {
	local p s t=0
	local -a f
	for p in $(pgrep -f "^ssh: $1/"); do
		{ read -r s <"/proc/$p/stat"; } 2>/dev/null || continue
		read -r -a f <<<"${s##*) }"
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# run_tool TOOL N: one run; appends "wall cpu_s server_s rss_kb ok cutime_s"
# to $W/TOOL.N
run_tool() {
	local tool=$1 n=$2 before after extra=0 ok rc=0
	local -a cmd
	local -a envs=()
	case $tool in
	vfleet)
		cmd=("$VFLEET" facts -i "$W/inv$n.ini" --known-hosts "$FLEET/known_hosts"
		     --agent "$W/vfleet-agent" --json -f "$FORKS") ;;
	pssh)
		cmd=(parallel-ssh -h "$W/hosts$n" -p "$FORKS"
		     -x "-F $FLEET/ssh_config -o KexAlgorithms=$KEX" true) ;;
	ansible)
		CP=$(mktemp -d "$W/cp.XXXXXX")
		envs=(ANSIBLE_CONFIG="$W/ansible.cfg" ANSIBLE_HOST_KEY_CHECKING=True
		      ANSIBLE_SSH_CONTROL_PATH_DIR="$CP" ANSIBLE_LOCAL_TEMP="$W/ansible-tmp"
		      ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -F $FLEET/ssh_config -o KexAlgorithms=$KEX")
		: >"$W/ansible.cfg"
		cmd=(ansible all -i "$W/inv$n.ini" -m setup -f "$FORKS" -o) ;;
	esac
	wait_sessions
	before=$(cgroup_ms) cbefore=$(cutime_ms)
	env "${envs[@]}" /usr/bin/time -f '%e %U %S %M' -o "$W/time" "${cmd[@]}" \
		>"$W/out" 2>"$W/err" || rc=$?
	if [[ $tool == ansible ]]; then
		extra=$(master_ticks "$CP")
		close_masters "$CP"
		rm -rf "$CP"
		CP=
	fi
	wait_sessions
	after=$(cgroup_ms) cafter=$(cutime_ms)
	case $tool in
	vfleet) ok=$(grep -o '"status":"ok"' "$W/out" | wc -l) ;;
	pssh) ok=$(grep -c '\[SUCCESS\]' "$W/out" || true) ;;
	ansible) ok=$(grep -c ' | SUCCESS ' "$W/out" || true) ;;
	esac
	if ((rc != 0 || ok != n)); then
		echo "  warning: $tool on $n hosts: exit $rc, $ok/$n ok; stderr:" >&2
		{
			tail -n 5 "$W/err"
			# vfleet reports per-host errors in its JSON, not on stderr
			[[ $tool != vfleet ]] || grep -o '"error":"[^"]*"' "$W/out" | sort | uniq -c | head -n 5
		} | sed 's/^/    /' >&2
	fi
	read -r wall u s rss < <(tail -n 1 "$W/time")
	awk -v w="$wall" -v u="$u" -v s="$s" -v x="$extra" -v t="$TICK" \
		-v sv=$((after - before)) -v cu=$((cafter - cbefore)) -v r="$rss" -v ok="$ok" \
		'BEGIN { printf "%s %.3f %.3f %s %s %.3f\n", w, u + s + x / t, sv / 1000, r, ok, cu / 1000 }' \
		>>"$W/$tool.$n"
}

minimum() {	# smallest value of column $2 of file $1
	awk -v c="$2" '{ print $c }' "$1" | sort -g | head -n 1
}

median() {	# median of column $2 of file $1
	awk -v c="$2" '{ print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

label() {
	case $1 in
	vfleet) echo "vfleet facts" ;;
	pssh) echo "parallel-ssh true" ;;
	ansible) echo "ansible -m setup" ;;
	esac
}

# --- runs ---------------------------------------------------------------------

tools_for() {	# tools measured at size $1
	echo vfleet pssh
	if (($1 <= ANSIBLE_MAX || ANSIBLE_RUNS_LARGE > 0)); then echo ansible; fi
}

runs_for() {	# runs of tool $1 at size $2
	if [[ $1 == ansible ]] && (($2 > ANSIBLE_MAX)); then
		echo "$ANSIBLE_RUNS_LARGE"
	else
		echo "$RUNS"
	fi
}

# warm-up on a few hosts, not recorded: vfleet's agent upload (the hosts
# share one $HOME), page cache, the remote ~/.ansible
warm=$((maxn < 5 ? maxn : 5))
prepare_size "$warm"
# (vfleet twice: a cold-cache run can lose hosts to the early-exit race,
# see bench/RESULTS.md)
for t in vfleet vfleet pssh ansible; do run_tool "$t" "$warm"; rm -f "$W/$t.$warm"; done

for n in $SIZES; do
	prepare_size "$n"
	tools=$(tools_for "$n")
	for ((i = 1; i <= RUNS; i++)); do
		for t in $tools; do
			((i <= $(runs_for "$t" "$n"))) && run_tool "$t" "$n"
		done
	done

	echo
	echo "  $n hosts, forks $FORKS, median of $RUNS runs (ansible: $(runs_for ansible "$n"))"
	printf '  %-18s %7s %13s %15s %15s %12s %8s %13s\n' tool "wall s" "client CPU s" \
		"client ms/host" "server ms/host" "peak RSS MB" "ok (min)" "(cutime ms/h)"
	for t in $tools; do
		f=$W/$t.$n
		wall=$(median "$f" 1) cpu=$(median "$f" 2) srv=$(median "$f" 3)
		rss=$(median "$f" 4) ok=$(minimum "$f" 5) cut=$(median "$f" 6)
		awk -v l="$(label "$t")" -v w="$wall" -v c="$cpu" -v s="$srv" -v r="$rss" \
			-v n="$n" -v ok="$ok" -v cu="$cut" 'BEGIN {
			printf "  %-18s %7.2f %13.2f %15.1f %15.1f %12.1f %8s %13.1f\n",
				l, w, c, c * 1000 / n, s * 1000 / n, r / 1024, ok "/" n, cu * 1000 / n }'
		eval "W_$t=$wall C_$t=$cpu"
	done
	awk -v v="$W_vfleet" -v p="$W_pssh" -v a="${W_ansible:-0}" -v c="$C_vfleet" -v n="$n" 'BEGIN {
		printf "  vfleet wall vs parallel-ssh: %.2fx (target > 1)", p / v
		if (a > 0)
			printf "; vs ansible: %.1fx (target >= 10)", a / v
		printf "; controller CPU %.1f ms/host (target <= 10)\n", c * 1000 / n }'
	unset W_ansible
done
