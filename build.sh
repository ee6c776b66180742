#!/usr/bin/env bash
# build.sh: the one entry point of overlive: set-up, build, image, boot, test, bench.
#
#   ./build.sh                 install what is missing, build everything and the minimal system
#   ./build.sh test [--long]   the test suite (TAP, run by prove)
#   ./build.sh image --root DIR|TARBALL [--name NAME]    a live system from your own root
#   ./build.sh boot [NAME]     boot out/NAME.sqfs in QEMU on this terminal
#   ./build.sh bench           benchmarks, ratios against baselines measured in the same run
#   ./build.sh help            this text
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$TOP"

: "${O:=$TOP/out}"                 # build output
: "${CACHE:=$TOP/cache}"           # downloads (the kernel package), kept across builds
: "${KERNEL_PKG:=linux-image-amd64}"
: "${KERNEL_DEB:=}"                # a linux-image .deb to use instead of downloading one
: "${KERNEL:=}"                    # a vmlinuz to use (with MODULES=)
: "${MODULES:=}"                   # a module tree lib/modules/VERSION to use (with KERNEL=)
: "${JOBS:=$(nproc)}"

PACKAGES=(build-essential musl-tools linux-libc-dev busybox-static squashfs-tools cpio
	e2fsprogs fdisk dosfstools mtools zstd xz-utils qemu-system-x86 qemu-utils ovmf
	xorriso syslinux syslinux-common isolinux systemd-boot-efi perl)

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: fatal: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- deps
missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
	done
}

stage_deps() {
	local miss
	miss=$(missing_packages | tr '\n' ' ')
	if [ -z "$miss" ]; then
		say "deps: all ${#PACKAGES[@]} packages present"
		return
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "build.sh: these Debian packages are missing; as root, run:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends $miss" >&2
		exit 1
	fi
	say "deps: installing $miss"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss >/dev/null
}

# ---------------------------------------------------------------- kernel
# Sets KVER, KERNEL_IMAGE and MODULE_TREE; unpacks Debian's kernel package once into the cache.
stage_kernel() {
	if [ -n "$KERNEL" ] || [ -n "$MODULES" ]; then
		[ -f "$KERNEL" ] || die "KERNEL=$KERNEL is not a file (set KERNEL= and MODULES= together)"
		[ -d "$MODULES" ] || die "MODULES=$MODULES is not a module tree (lib/modules/VERSION)"
		KERNEL_IMAGE=$KERNEL MODULE_TREE=$MODULES KVER=$(basename "$MODULES")
		say "kernel: $KERNEL_IMAGE, modules $MODULE_TREE"
		return
	fi
	local deb=$KERNEL_DEB dl=$CACHE/deb
	if [ -z "$deb" ]; then
		mkdir -p "$dl"
		deb=$(ls "$dl"/linux-image-[0-9]*.deb 2>/dev/null | sort -V | tail -n 1 || true)
		if [ -z "$deb" ]; then
			say "kernel: downloading $KERNEL_PKG from Debian"
			(cd "$dl" && apt-get download -q "$KERNEL_PKG" >/dev/null 2>&1) ||
				die "unable to download $KERNEL_PKG: run 'apt-get update' or set KERNEL_DEB=file.deb"
			local real
			real=$(dpkg-deb -f "$dl/${KERNEL_PKG}"_*.deb Depends | grep -o 'linux-image-[0-9][^ ,]*' | head -n 1)
			[ -n "$real" ] || die "unable to read the kernel version from $KERNEL_PKG"
			(cd "$dl" && apt-get download -q "$real" >/dev/null 2>&1) || die "unable to download $real"
			deb=$(ls "$dl"/linux-image-[0-9]*.deb | sort -V | tail -n 1)
		fi
	fi
	[ -f "$deb" ] || die "KERNEL_DEB=$deb is not a file"
	local tree=$CACHE/kernel/$(basename "$deb" .deb)
	if [ ! -e "$tree/.unpacked" ]; then
		say "kernel: unpacking $(basename "$deb")"
		rm -rf "$tree" && mkdir -p "$tree"
		dpkg-deb -x "$deb" "$tree"
		touch "$tree/.unpacked"
	fi
	KERNEL_IMAGE=$(ls "$tree"/boot/vmlinuz-* | head -n 1)
	MODULE_TREE=$(ls -d "$tree"/lib/modules/* | head -n 1)
	KVER=$(basename "$MODULE_TREE")
	[ -f "$KERNEL_IMAGE" ] && [ -d "$MODULE_TREE/kernel" ] || die "no kernel or modules in $deb"
	say "kernel: $KVER"
}

case "${1:-all}" in
kernel) stage_deps; stage_kernel; echo "$KERNEL_IMAGE"; echo "$MODULE_TREE" ;;
*) die "unknown command '$1' (try ./build.sh help)" ;;
esac
