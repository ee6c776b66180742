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

# ---------------------------------------------------------------- compile
stage_compile() {
	say "compile: musl-gcc -static → $O/bin"
	make -s -j"$JOBS" O="$O" all
}

# ---------------------------------------------------------------- modules
: "${MODULES_EXTRA:=}"             # more modules for the initramfs, by name, space separated

# stage_modules DEST: modpick copies the storage and filesystem drivers with everything they
# need into DEST/lib/modules and writes the index the init loads them from.
stage_modules() {
	local dest=$1/lib/modules m extra=()
	for m in $MODULES_EXTRA; do extra+=(--module "$m"); done
	rm -rf "$dest" && mkdir -p "$dest"
	"$O/bin/modpick" --tree "$MODULE_TREE" --out "$dest" "${extra[@]}" 2> "$O/modpick.log" ||
		{ cat "$O/modpick.log" >&2; die "unable to pick the kernel modules (MODULES_EXTRA='$MODULES_EXTRA'?)"; }
	MODULE_SUMMARY=$(tail -n 1 "$O/modpick.log" | sed 's/ in .*//; s/^modpick: //')
}

# ---------------------------------------------------------------- initramfs
stage_initramfs() {
	local stage=$O/initramfs.d spec=$O/initramfs.spec
	rm -rf "$stage" && mkdir -p "$stage"
	stage_modules "$stage"
	cat > "$spec" <<SPEC
# the initramfs of overlive: our init, a rescue shell, the modules
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/kmsg 0644 0 0 c 1 11
nod /dev/null 0666 0 0 c 1 3
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /run 0755 0 0
dir /newroot 0755 0 0
dir /bin 0755 0 0
file /init $O/bin/init 0755 0 0
file /bin/busybox /bin/busybox 0755 0 0
slink /bin/sh busybox 0777 0 0
tree /lib $stage/lib
SPEC
	if [ -x "$O/bin/persist" ]; then echo "file /bin/persist $O/bin/persist 0755 0 0" >> "$spec"; fi
	"$O/bin/mkcpio" -o "$O/initramfs.cpio" "$spec"
	zstd -q -19 -f "$O/initramfs.cpio" -o "$O/initramfs.img"
	cp "$KERNEL_IMAGE" "$O/vmlinuz"
	say "initramfs: $(stat -c %s "$O/initramfs.img") bytes zstd ($(stat -c %s "$O/initramfs.cpio") raw); $MODULE_SUMMARY"
}

# ---------------------------------------------------------------- root trees and squashfs
# stage_root NAME SOURCE: SOURCE is a recipe name, a directory or a tarball; makes $O/NAME.sqfs.
stage_root() {
	local name=$1 src=$2 tree=$O/root-$1 sqfs=$O/$1.sqfs extra=()
	if [ -d "$TOP/images/$src" ] && [ -x "$TOP/images/$src/recipe.sh" ]; then
		say "root: recipe $src"
		rm -rf "$tree" && mkdir -p "$tree"
		TOOLS_DIR=$O/bin "$TOP/images/$src/recipe.sh" "$tree"
		extra=(-all-root)
	elif [ -d "$src" ]; then
		say "root: directory $src"
		tree=$src
		[ "$(id -u)" -eq 0 ] || extra=(-all-root)
	elif [ -f "$src" ]; then
		say "root: tarball $src"
		rm -rf "$tree" && mkdir -p "$tree"
		if [ "$(id -u)" -eq 0 ]; then
			tar -xpf "$src" --same-owner --numeric-owner -C "$tree"
		else
			tar -xf "$src" -C "$tree"
			extra=(-all-root)
			say "root: not root, so every file of the tarball will belong to root"
		fi
	else
		die "no recipe, directory or tarball named '$src' (recipes: $(ls "$TOP/images" | tr '\n' ' '))"
	fi
	[ -e "$tree/sbin/init" ] || [ -L "$tree/sbin/init" ] ||
		say "root: warning: $tree has no /sbin/init; boot it with live.init=PATH"
	mksquashfs "$tree" "$sqfs.tmp" -comp zstd -noappend -no-progress -quiet "${extra[@]}" >/dev/null
	mv -f "$sqfs.tmp" "$sqfs"
	say "squashfs: $sqfs ($(stat -c %s "$sqfs") bytes)"
}

# ---------------------------------------------------------------- QEMU
# qemu_accel: "kvm" when KVM really runs a guest here (tried once, remembered), else "tcg".
qemu_accel() {
	local f=$O/.accel
	if [ ! -s "$f" ]; then
		mkdir -p "$O"
		if timeout 20 qemu-system-x86_64 -accel kvm -nodefaults -display none -serial stdio -m 128 \
			-no-reboot -kernel "$O/vmlinuz" -append "console=ttyS0 panic=-1" 2>/dev/null |
			grep -q 'Kernel panic\|VFS:'; then echo kvm > "$f"; else echo tcg > "$f"; fi
	fi
	cat "$f"
}

stage_boot() {
	local name=${1:-minimal} medium=$O/${1:-minimal}-medium.img
	[ -f "$O/$name.sqfs" ] || die "no $O/$name.sqfs: build it first (./build.sh, or ./build.sh image --root DIR --name $name)"
	"$TOP/images/mkmedium.sh" vfat "$O/$name.sqfs" "$medium"
	say "boot: $name from $medium (LABEL=OVERLIVE) under $(qemu_accel); leave with Ctrl-a x"
	exec qemu-system-x86_64 -accel "$(qemu_accel)" -m "${QEMU_MEM:-1024}" -nographic -no-reboot \
		-kernel "$O/vmlinuz" -initrd "$O/initramfs.img" \
		-append "console=ttyS0 live.media=LABEL=OVERLIVE ${APPEND:-}" \
		-drive "file=$medium,format=raw,if=virtio"
}

# ---------------------------------------------------------------- test, bench
stage_test() {
	local long=0 a powercut=${POWERCUT:-short}
	for a in "$@"; do
		case "$a" in
		--long) long=1 ;;
		--powercut=short | --powercut=full) powercut=${a#--powercut=} ;;
		*) die "test: unknown option $a (try --long)" ;;
		esac
	done
	make -s -j"$JOBS" O="$O" tests
	say "test: unit tests, overlay tests, boots in QEMU ($(qemu_accel))"
	O=$O LONG=$long POWERCUT=$powercut KVER=$KVER MODULE_TREE=$MODULE_TREE ACCEL=$(qemu_accel) \
		prove -e '' "$O"/t/*.t $(ls tests/*/*.t 2>/dev/null)
}

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

build_all() {
	stage_deps
	stage_kernel
	stage_compile
	stage_initramfs
	stage_root minimal minimal
	say "done: $O/vmlinuz $O/initramfs.img $O/minimal.sqfs"
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
all | build) build_all ;;
image)
	name='' src=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--root) src=${2:?--root needs a directory or tarball}; shift 2 ;;
		--name) name=${2:?--name needs a name}; shift 2 ;;
		--recipe) src=${2:?--recipe needs a name}; shift 2 ;;
		*) die "image: unknown option $1 (see ./build.sh help)" ;;
		esac
	done
	[ -n "$src" ] || die "image: give --root DIR|TARBALL or --recipe NAME"
	[ -n "$name" ] || name=$(basename "${src%%.tar*}")
	[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "image: --name '$name' may hold letters, digits, . _ - only"
	stage_deps; stage_kernel; stage_compile; stage_initramfs
	stage_root "$name" "$src"
	say "done: $O/vmlinuz $O/initramfs.img $O/$name.sqfs" ;;
boot) stage_kernel >/dev/null; stage_boot "$@" ;;
test) build_all; stage_test "$@" ;;
kernel) stage_deps; stage_kernel ;;
help | -h | --help) usage ;;
*) die "unknown command '$cmd' (try ./build.sh help)" ;;
esac
