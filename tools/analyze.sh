#!/usr/bin/env bash
# tools/analyze.sh: static analysis of the C sources, as CI runs it.
#
#   tools/analyze.sh [--bear] [--tidy-only|--cppcheck-only] [FILE.c...]
#
# clang-tidy with the checked-in .clang-tidy, then cppcheck with
# tools/cppcheck-suppressions.txt, over every source of the two programs
# (common/ protocol/ inventory/ agent/ controller/), or the files given.
# Exits 1 when either reports anything (or fails), 2 when one is not
# installed: the configuration is kept clean, so a finding is either fixed
# or suppressed on its line with a one-line reason.
#
# The compilation database (build/analyze/compile_commands.json) is
# generated from the Makefile's own compile command (make -n), so the
# flags never drift; --bear records a real build with bear instead.
set -euo pipefail
# The same order (file list, sorted findings) and messages everywhere.
export LC_ALL=C
cd "$(dirname "$0")/.."
top=$PWD
out=build/analyze
mode=all bear=0
files=()
for a in "$@"; do
	case $a in
	--bear) bear=1;;
	--tidy-only) mode=tidy;;
	--cppcheck-only) mode=cppcheck;;
	-h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0;;
	-*) echo "analyze: unknown option $a" >&2; exit 2;;
	*) files+=("$a");;
	esac
done
if ((${#files[@]} == 0)); then
	mapfile -t files < <(ls common/*.c protocol/*.c inventory/*.c agent/*.c \
		controller/*.c | sort)
fi
need=()
[[ $mode == cppcheck ]] || need+=(clang-tidy)
[[ $mode == tidy ]] || need+=(cppcheck)
for t in "${need[@]}"; do
	command -v "$t" >/dev/null ||
		{ echo "analyze: $t not installed (tools/install-deps.sh)" >&2; exit 2; }
done
mkdir -p "$out"
db=$out/compile_commands.json

# JSON string escaping for the database.
jstr() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

if ((bear)); then
	command -v bear >/dev/null || { echo "analyze: bear not installed" >&2; exit 2; }
	objs=()
	for f in "${files[@]}"; do objs+=("$out/host/${f%.c}.o"); done
	bear --output "$db" -- make -B -s O="$out" OUT="$out" AGENT_STATIC=0 \
		"${objs[@]}" >/dev/null
else
	# One compile command from the Makefile, with the file names swapped.
	tmpl=$(make -n -B V=1 O="$out" OUT="$out" AGENT_STATIC=0 \
		"$out/host/common/strbuf.o" | grep -- ' -c -o ')
	{
		echo "["
		sep=""
		for f in "${files[@]}"; do
			cmd=${tmpl//common\/strbuf/${f%.c}}
			eval "set -- $cmd"
			printf '%s{"directory": %s, "file": %s, "arguments": [' \
				"$sep" "$(jstr "$top")" "$(jstr "$f")"
			asep=""
			for arg in "$@"; do
				printf '%s%s' "$asep" "$(jstr "$arg")"
				asep=", "
			done
			printf ']}\n'
			sep=","
		done
		echo "]"
	} >"$db"
fi

rc=0
if [[ $mode != cppcheck ]]; then
	# The configuration is kept clean for Debian 12's clang-tidy 14;
	# another version may have other checks and other findings.
	echo "analyze: clang-tidy $(clang-tidy --version |
		sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p') on ${#files[@]} files"
	# Findings go to stdout; the per-file "N warnings generated" noise
	# and the suppressed-count summary go to stderr.
	# -Wno-format-nonliteral: the build's -Wformat=2 under clang (unlike
	# gcc) flags the va_list wrappers around strbuf_vaddf(). One process
	# per CPU, one file each (so no slow file waits behind another in the
	# same batch); each writes its own log.
	rm -f "$out"/tidy.*.log "$out/clang-tidy.findings"
	if ! printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 sh -c \
		'clang-tidy -p "$0" --config-file=.clang-tidy --quiet \
			--extra-arg=-Wno-format-nonliteral "$@" \
			>"$0/tidy.$$.log" 2>&1' "$out"; then
		rc=1
	fi
	# Paths relative to the top, whether clang-tidy printed them so or not.
	sed "s|^$top/||" "$out"/tidy.*.log >"$out/clang-tidy.log"
	rm -f "$out"/tidy.*.log
	# A finding is a "file:line:col: warning|error:" line (not a quoted
	# source line that happens to say "error:"); one reported from a
	# header comes once per file that includes it, hence sort -u.
	diag='^[^ ].*:[0-9]+:[0-9]+: (warning|error): '
	if grep -qE "$diag" "$out/clang-tidy.log"; then
		grep -E "$diag" "$out/clang-tidy.log" | sort -u | tee "$out/clang-tidy.findings"
		echo "analyze: clang-tidy: $(wc -l <"$out/clang-tidy.findings") finding(s); full log $out/clang-tidy.log"
		rc=1
	elif ((rc)); then
		grep -v 'warnings* generated' "$out/clang-tidy.log"
	else
		echo "analyze: clang-tidy clean"
	fi
fi
if [[ $mode != tidy ]]; then
	echo "analyze: $(cppcheck --version | tr C c) on ${#files[@]} files"
	inc=(-Icommon -Iprotocol -Iagent -Icontroller -Iinventory)
	crc=0
	cppcheck --quiet --enable=warning,performance,portability \
		--inline-suppr --error-exitcode=1 --std=c11 \
		-D_GNU_SOURCE -D__GNUC__ -DVFLEET_VERSION='"0"' \
		-DVFLEET_LIBEXECDIR='"/usr/libexec/vfleet"' \
		--suppressions-list=tools/cppcheck-suppressions.txt \
		--template='{file}:{line}: {severity}: {message} [{id}]' \
		"${inc[@]}" "${files[@]}" 2>"$out/cppcheck.log" || crc=$?
	# Findings are counted from the log, whatever the exit status says.
	if grep -qE '^[^ ]+:[0-9]+: ' "$out/cppcheck.log"; then
		cat "$out/cppcheck.log"
		echo "analyze: cppcheck: $(grep -cE '^[^ ]+:[0-9]+: ' "$out/cppcheck.log") finding(s)"
		rc=1
	elif ((crc)); then
		# cppcheck itself failed (bad option, unreadable suppressions)
		cat "$out/cppcheck.log"
		echo "analyze: cppcheck failed (exit $crc)"
		rc=1
	else
		echo "analyze: cppcheck clean"
	fi
fi
exit $rc
