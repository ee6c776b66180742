#!/usr/bin/env bash
# initramfs/busybox.sh SRC BUILD CONFIG: builds the rescue shell's busybox from the busybox
# source tree SRC (Debian's, unpacked) in the directory BUILD, configured by the fragment CONFIG
# over `make allnoconfig`, statically with musl-gcc, without musl's name resolver
# (initramfs/busybox-nonet.c); prints the binary's path on stdout.
# BUILD is kept between runs: a re-run rebuilds only what changed (the config, the source).
# Exit status: 0 built; 100 bad usage or an option the source does not know; 111 a build failure
# (its log is BUILD/build.log).
set -euo pipefail
die() { echo "busybox.sh: $1" >&2; exit "${2:-111}"; }
[ $# -eq 3 ] || die "usage: busybox.sh SRC BUILD CONFIG" 100
src=$(cd "$1" && pwd) build=$2 frag=$3
[ -f "$src/Makefile" ] && [ -d "$src/shell" ] || die "unable to use $src: not a busybox source tree" 100
[ -f "$frag" ] || die "unable to read the config fragment $frag" 100
mkdir -p "$build/kh"
build=$(cd "$build" && pwd)
log=$build/build.log
: > "$log"
bbmake() { make -C "$src" O="$build" "$@" >> "$log" 2>&1 || die "unable to build busybox (make $*): see $log"; }

# musl-gcc looks into no kernel headers: give it the kernel's own, and only those.
ln -sfn /usr/include/linux "$build/kh/linux"
ln -sfn /usr/include/asm-generic "$build/kh/asm-generic"
ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$build/kh/asm"
ln -sfn /usr/include/mtd "$build/kh/mtd"

# merge_fragment FILE: the fragment's values win; every other enabled option is turned off.
merge_fragment() {
	awk -v FRAG="$frag" '
	BEGIN {
		while ((getline l < FRAG) > 0)
			if (l ~ /^CONFIG_[A-Za-z0-9_]+=/) { k = l; sub(/=.*/, "", k); want[k] = l }
	}
	/^CONFIG_[A-Za-z0-9_]+=/ {
		k = $0; sub(/=.*/, "", k)
		if (k in want) { print want[k]; done[k] = 1 }
		else if ($0 ~ /=y$/) print "# " k " is not set"
		else print
		next
	}
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ {
		if ($2 in want) { print want[$2]; done[$2] = 1 } else print
		next
	}
	{ print }
	END { for (k in want) if (!(k in done)) print want[k] }' "$1" > "$1.new"
	mv -f "$1.new" "$1"
}

# The config: allnoconfig, then the fragment and oldconfig (new sub-options take their
# defaults, the merge turns them off again) until it no longer changes. Redone when the
# fragment changes.
stamp=$(sha256sum "$frag" | cut -c1-16)
if [ ! -f "$build/.config" ] || [ "$(cat "$build/.fragment" 2>/dev/null)" != "$stamp" ]; then
	bbmake allnoconfig
	prev=
	for _ in 1 2 3 4 5 6; do
		merge_fragment "$build/.config"
		bbmake oldconfig < /dev/null
		cur=$(grep -v '^# [A-Z][a-z][a-z] ' "$build/.config" | sha256sum)
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	missing=$(grep -o '^CONFIG_[A-Za-z0-9_]*=[^"]*$' "$frag" | grep -vxFf "$build/.config" || true)
	[ -z "$missing" ] || die "the busybox source does not take these options of $frag: $(echo $missing)" 100
	echo "$stamp" > "$build/.fragment"
fi
# initramfs/busybox-nonet.c in place of musl's resolver, given to the final link only (busybox's
# CFLAGS_busybox, from the environment: its Makefile adds -static to it); a new stub relinks.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
musl-gcc -Os -Wall -c "$here/busybox-nonet.c" -o "$build/nonet.o.new" >> "$log" 2>&1 ||
	die "unable to compile initramfs/busybox-nonet.c: see $log"
if ! cmp -s "$build/nonet.o.new" "$build/nonet.o"; then
	mv -f "$build/nonet.o.new" "$build/nonet.o"
	rm -f "$build/busybox_unstripped" "$build/busybox"
fi
rm -f "$build/nonet.o.new"
CFLAGS_busybox="$build/nonet.o" bbmake -j"${JOBS:-$(nproc)}" CC=musl-gcc HOSTCC=gcc EXTRA_CFLAGS="-isystem $build/kh" busybox
[ -x "$build/busybox" ] || die "no busybox binary after the build: see $log"
echo "$build/busybox"
