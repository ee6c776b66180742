#!/usr/bin/env bash
# initramfs/fsck-fat.sh SRC BUILD: builds fsck.fat from the dosfstools source tree SRC (Debian's,
# unpacked) in the directory BUILD, statically with musl-gcc and without iconv (musl's iconv
# tables would triple its size; short names then decode as code page 850 bytes, which the check
# does not need), without unwind tables (C has no exceptions: 1.8 KB of the initramfs); prints the
# binary's path on stdout. BUILD is kept between runs: a re-run rebuilds only when the source or
# these flags changed.
# Exit status: 0 built; 100 bad usage; 111 a build failure (its log is BUILD/build.log).
set -euo pipefail
die() { echo "fsck-fat.sh: $1" >&2; exit "${2:-111}"; }
[ $# -eq 2 ] || die "usage: fsck-fat.sh SRC BUILD" 100
src=$(cd "$1" && pwd) build=$2
[ -x "$src/configure" ] && [ -f "$src/src/fsck.fat.c" ] || die "unable to use $src: not a dosfstools source tree" 100
mkdir -p "$build"
build=$(cd "$build" && pwd)
log=$build/build.log
CFLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"
LDFLAGS="-static -Wl,--gc-sections -s"
stamp="$(cat "$src/.unpacked" 2>/dev/null || echo unknown) $(echo "$CFLAGS $LDFLAGS" | md5sum | cut -c1-12)"
if [ -x "$build/fsck.fat" ] && [ "$(cat "$build/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$build/fsck.fat"
	exit 0
fi
: > "$log"
# an out-of-tree build: the source tree stays as apt-get source left it
(cd "$build" && "$src/configure" CC=musl-gcc CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" \
	--without-iconv --without-udev) >> "$log" 2>&1 ||
	die "unable to configure dosfstools: see $log"
# from clean: objects of other flags would otherwise be linked as they are
make -C "$build/src" clean >> "$log" 2>&1 || true
make -C "$build/src" -j"${JOBS:-$(nproc)}" fsck.fat >> "$log" 2>&1 || die "unable to build fsck.fat: see $log"
[ -x "$build/src/fsck.fat" ] || die "no fsck.fat after the build: see $log"
cp -f "$build/src/fsck.fat" "$build/fsck.fat.new" && mv -f "$build/fsck.fat.new" "$build/fsck.fat"
echo "$stamp" > "$build/.stamp"
echo "$build/fsck.fat"
