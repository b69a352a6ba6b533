#!/usr/bin/env bash
# build-deps.sh OUTDIR -- build musl static libpci and libjson-c for the agent.
#
# Result:
#   OUTDIR/include/pci/{config,header,pci,types}.h   OUTDIR/lib/libpci.a
#   OUTDIR/include/json-c/*.h                        OUTDIR/lib/libjson-c.a
#   OUTDIR/kinc/{linux,asm,asm-generic} -> kernel headers (for -isystem)
#   OUTDIR/.stamp (written last; if present, the script exits at once)
#
# Sources are Debian bookworm's source packages, fetched with
# `apt-get source --download-only` through a private sources list under
# OUTDIR, so the system's apt state is not touched.  Downloaded tarballs are
# kept in OUTDIR/src and reused.  Output goes to OUTDIR/build.log; on failure
# its tail is printed.
#
# Needs: musl-tools (musl-gcc), cmake, make, tar, xz, and for the first
# download apt-get (dpkg-dev is what makes `apt-get source` usable in general).
set -Eeuo pipefail

PCI_VER=3.9.0
JSONC_VER=0.16
# sha256 of the orig tarballs (as listed in Debian's .dsc files)
PCI_SHA=8953a785b2e3af414434b8fdcbfb75c90758819631001e60dd3afb89b22b2331
JSONC_SHA=3ecaeedffd99a60b1262819f9e60d7d983844073abc74e495cb822b251904185
SUITE_LINE='deb-src http://deb.debian.org/debian bookworm main'
CFLAGS_DEPS='-Os -ffunction-sections -fdata-sections'

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

mkdir -p "$1"
OUT=$(cd "$1" && pwd)

[ -e "$OUT/.stamp" ] && exit 0

# --- tools -----------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (package $2)"); }
need musl-gcc musl-tools
need cmake    cmake
need make     make
need tar      tar
need xz       xz-utils
need sha256sum coreutils
need cut      coreutils
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-deps.sh: missing tools:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    echo "install them, e.g.: apt-get install musl-tools cmake make dpkg-dev xz-utils" >&2
    exit 1
fi
KHDR=/usr/include/x86_64-linux-gnu/asm
for d in /usr/include/linux "$KHDR" /usr/include/asm-generic; do
    if [ ! -d "$d" ]; then
        echo "build-deps.sh: kernel headers missing ($d): install linux-libc-dev" >&2
        exit 1
    fi
done

LOG=$OUT/build.log
: >"$LOG"
fail() {
    local rc=$?
    echo "build-deps.sh: FAILED (exit $rc) -- last lines of $LOG:" >&2
    tail -n 40 "$LOG" >&2
    exit "$rc"
}
trap fail ERR
step() { echo "=== $* ===" >>"$LOG"; }

SRC=$OUT/src
WORK=$OUT/work
mkdir -p "$SRC"

# --- sources ---------------------------------------------------------------
orig() {    # orig PACKAGE VERSION -> path of the orig tarball (not the .asc)
    local f
    for f in "$SRC/${1}_${2}".orig.tar.{gz,xz,bz2}; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}
fetch() {   # fetch PACKAGE VERSION  -> $SRC/PACKAGE_VERSION.orig.tar.*
    local pkg=$1 ver=$2
    if orig "$pkg" "$ver" >/dev/null; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "build-deps.sh: apt-get needed to download $pkg (package apt, dpkg-dev)" >&2
        return 1
    fi
    local A=$OUT/apt
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
    echo "$SUITE_LINE" >"$A/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$A/sources.list"
                -o Dir::Etc::SourceParts=/dev/null
                -o "Dir::State::Lists=$A/lists"
                -o "Dir::Cache=$A/cache"
                -o APT::Sandbox::User=root)
    if [ ! -e "$A/.updated" ]; then
        step "apt-get update (private list)"
        apt-get "${opts[@]}" -q update >>"$LOG" 2>&1
        touch "$A/.updated"
    fi
    step "apt-get source $pkg"
    (cd "$SRC" && apt-get "${opts[@]}" -q source --download-only "$pkg") >>"$LOG" 2>&1
    if ! orig "$pkg" "$ver" >/dev/null; then
        echo "build-deps.sh: $pkg: expected ${pkg}_${ver}.orig.tar.* in $SRC, got:" >>"$LOG"
        ls "$SRC" >>"$LOG"
        false
    fi
}
fetch pciutils "$PCI_VER"
fetch json-c "$JSONC_VER"

unpack() {  # unpack PACKAGE VERSION SHA256 -> $WORK/PACKAGE
    local pkg=$1 ver=$2 sha=$3 tb
    tb=$(orig "$pkg" "$ver")
    if [ "$(sha256sum <"$tb" | cut -d' ' -f1)" != "$sha" ]; then
        echo "$tb: sha256 mismatch (delete it to download again)" >>"$LOG"
        false
    fi
    rm -rf "${WORK:?}/$pkg"
    mkdir -p "$WORK/$pkg"
    tar -xf "$tb" -C "$WORK/$pkg" --strip-components=1 >>"$LOG" 2>&1
}

rm -rf "$OUT/include/pci" "$OUT/include/json-c" "$OUT/lib/libpci.a" "$OUT/lib/libjson-c.a"
mkdir -p "$OUT/include/pci" "$OUT/lib"

# Kernel headers for musl-gcc (it uses -nostdinc and would otherwise see none).
# Kept in OUTDIR/kinc so agent code needing <linux/...> can use -isystem too.
KINC=$OUT/kinc
rm -rf "$KINC"
mkdir -p "$KINC"
ln -s /usr/include/linux "$KINC/linux"
ln -s "$KHDR" "$KINC/asm"
ln -s /usr/include/asm-generic "$KINC/asm-generic"

JOBS=$(nproc 2>/dev/null || echo 2)

# --- libpci ------------------------------------------------------------------
step "pciutils $PCI_VER"
unpack pciutils "$PCI_VER" "$PCI_SHA"
make -C "$WORK/pciutils" -j"$JOBS" lib/libpci.a \
    CC=musl-gcc AR=ar RANLIB=ranlib \
    OPT="$CFLAGS_DEPS -isystem $KINC" \
    ZLIB=no DNS=no HWDB=no LIBKMOD=no SHARED=no IDSDIR=/usr/share/misc \
    >>"$LOG" 2>&1
cp "$WORK/pciutils/lib/libpci.a" "$OUT/lib/"
for h in config.h header.h pci.h types.h; do
    cp "$WORK/pciutils/lib/$h" "$OUT/include/pci/"
done

# --- json-c ------------------------------------------------------------------
step "json-c $JSONC_VER"
unpack json-c "$JSONC_VER" "$JSONC_SHA"
cmake -S "$WORK/json-c" -B "$WORK/json-c-build" \
    -DCMAKE_C_COMPILER=musl-gcc \
    -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_C_FLAGS_MINSIZEREL="$CFLAGS_DEPS -DNDEBUG" \
    -DCMAKE_INSTALL_PREFIX="$OUT" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_INSTALL_INCLUDEDIR=include \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
    -DDISABLE_EXTRA_LIBS=ON -DBUILD_TESTING=OFF \
    -DDISABLE_WERROR=ON -DENABLE_THREADING=OFF -DENABLE_RDRAND=OFF \
    >>"$LOG" 2>&1
cmake --build "$WORK/json-c-build" -j "$JOBS" >>"$LOG" 2>&1
cmake --install "$WORK/json-c-build" >>"$LOG" 2>&1
# Only the static archive and headers are wanted.
rm -rf "$OUT/lib/cmake" "$OUT/lib/pkgconfig"

for f in include/pci/pci.h include/json-c/json.h lib/libpci.a lib/libjson-c.a; do
    [ -s "$OUT/$f" ] || { echo "missing output $OUT/$f" >>"$LOG"; false; }
done

# Keep src/ (tarballs) for rebuilds; the apt lists (~20 MB) are not needed again.
rm -rf "$WORK" "$OUT/apt"
trap - ERR
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/.stamp"
