#!/usr/bin/env bash
# build.sh: the one entry point of overlive: set-up, build, image, boot, test, bench.
#
#   ./build.sh                 install what is missing, build everything and out/minimal.img
#   ./build.sh test [--long]   the test suite (TAP, run by prove)
#   ./build.sh image [--recipe minimal|kiosk|debian] [--root DIR|TARBALL] [--name NAME] [--layer DIR|FILE.sqfs]...
#                    [--persist none|save|partition|file|data] [--size SIZE] [--medium vfat|exfat]
#                    → out/NAME.img (BIOS + UEFI; exfat: live/ and the save file on an exFAT partition)
#   ./build.sh iso [NAME]      out/NAME.iso: a hybrid ISO (CD, DVD or stick; BIOS and UEFI)
#   ./build.sh boot [NAME]     boot out/NAME.sqfs in QEMU on this terminal
#   ./build.sh bench           benchmarks, ratios against baselines measured in the same run
#   ./build.sh fuzz [SECONDS [PARSER...]]  each libFuzzer harness (or the ones named) SECONDS (default 60), then the table
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
: "${TEST_JOBS:=2}"                # tests run at once by ./build.sh test

PACKAGES=(build-essential musl-tools linux-libc-dev busybox-static squashfs-tools cpio
	e2fsprogs fdisk dosfstools mtools zstd xz-utils qemu-system-x86 qemu-utils ovmf
	xorriso syslinux syslinux-common isolinux systemd-boot-efi perl socat debootstrap attr libzstd-dev
	exfatprogs exfat-fuse clang-14 libclang-rt-14-dev
	umoci gzip python3)   # umoci, python3: the OCI layer's independent appliers (tests/overlay/export.t)

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
		stage_busybox_source
		stage_dosfstools_source
		stage_zstd_source
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
	stage_busybox_source
	stage_dosfstools_source
	stage_zstd_source
}

# The rescue shell is a small busybox built from Debian's own source (initramfs/busybox.config).
# The source is fetched once into $CACHE/busybox; without it, Debian's busybox-static stands in.
BUSYBOX_SRC=$CACHE/busybox/src/tree
DEB_SRC_LIST=/etc/apt/sources.list.d/overlive-deb-src.sources

# deb_src_stanzas: a deb-src stanza for every enabled Debian "deb" source of this machine.
deb_src_stanzas() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\(\[[^]]*\][[:space:]]*\)\{0,1\}[a-z]*:\/\/[^ ]*debian[^ ]*[[:space:]].*\)/\1/p' "$f" |
			awk '{ opts = ""; i = 1
			       if ($1 ~ /^\[/) { for (; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } } }
			       printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
			       for (j = i + 2; j <= NF; j++) printf " %s", $j
			       printf "\n"
			       if (match(opts, /signed-by=[^] ]*/)) printf "Signed-By: %s\n", substr(opts, RSTART + 10, RLENGTH - 10)
			       printf "\n" }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && [ "$f" != "$DEB_SRC_LIST" ] || continue
		awk 'function flush() { if (deb && !off && debian) printf "%s\n", st; st = ""; deb = off = debian = 0 }
		     /^[[:space:]]*$/ { flush(); next }
		     /^#/ { next }
		     /^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/); st = st "Types: deb-src\n"; next }
		     /^Enabled:[[:space:]]*no/ { off = 1 }
		     /^URIs:/ && /debian/ { debian = 1 }
		     { st = st $0 "\n" }
		     END { flush() }' "$f"
	done
}

# apt_source PKG: apt-get source of PKG's newest version, else of the older ones apt knows (a
# mirror may lack the source of a security update: bookworm-security's libzstd is one).
apt_source() {
	local v
	apt-get source -q --download-only "$1" && return 0
	for v in $(apt-cache showsrc "$1" | sed -n 's/^Version: //p' | sort -rV | tail -n +2); do
		echo "apt_source: trying $1=$v"
		rm -f ./"$1"_*
		apt-get source -q --download-only "$1=$v" && return 0
	done
	return 1
}

# deb_source PKG TREE: Debian's source of PKG unpacked in TREE (TREE/.unpacked names the version),
# fetched with apt-get source into TREE's parent when missing (adding deb-src entries for the
# Debian sources first when apt has none). Never fatal: says why and returns 1 when it cannot.
# has_source PKG: apt knows PKG's source (read whole: grep -q would stop apt-cache with SIGPIPE on
# a long answer, and pipefail would count that as no)
has_source() { grep -q "^Package: $1\$" <<< "$(apt-cache showsrc "$1" 2>/dev/null)"; }
deb_source() {
	local pkg=$1 tree=$2 dl why=''
	dl=$(dirname "$tree")
	[ -e "$tree/.unpacked" ] && { say "deps: $pkg source: $(cat "$tree/.unpacked") (cached)"; return 0; }
	if [ "$(id -u)" -ne 0 ]; then
		why="not root"
	elif ! command -v dpkg-source >/dev/null; then
		why="no dpkg-source (dpkg-dev)"
	else
		if ! has_source "$pkg"; then
			local stanzas
			stanzas=$(deb_src_stanzas)
			if [ -n "$stanzas" ]; then
				say "deps: apt has no deb-src: writing $DEB_SRC_LIST (the Debian URIs of this machine) and running apt-get update"
				printf '# deb-src for the Debian sources of this machine, written by overlive'"'"'s build.sh\n%s\n' \
					"$stanzas" > "$DEB_SRC_LIST"
				apt-get update -qq >/dev/null 2>&1 || true
			fi
		fi
		if has_source "$pkg"; then
			say "deps: fetching Debian's $pkg source into $dl (apt-get source)"
			rm -rf "$dl" && mkdir -p "$dl"
			if (cd "$dl" && apt_source "$pkg" >"$dl/fetch.log" 2>&1) &&
				dpkg-source -q -x "$(ls "$dl"/"$pkg"_*.dsc | head -n 1)" "$tree" >>"$dl/fetch.log" 2>&1; then
				basename "$(ls "$dl"/"$pkg"_*.dsc | head -n 1)" .dsc > "$tree/.unpacked"
				say "deps: $pkg source: $(cat "$tree/.unpacked")"
				return 0
			fi
			why="apt-get source failed (see $dl/fetch.log)"
		else
			why="no deb-src for $pkg"
		fi
	fi
	DEB_SOURCE_WHY=$why
	return 1
}

# stage_busybox_source: Debian's busybox source in $BUSYBOX_SRC, fetched when missing.
stage_busybox_source() {
	deb_source busybox "$BUSYBOX_SRC" ||
		say "deps: no busybox source ($DEB_SOURCE_WHY): the rescue shell will be Debian's busybox-static (bigger)"
}

# The FAT check before a save file or a disk-upper image on a FAT is written: fsck.fat of
# Debian's dosfstools, built with musl (initramfs/fsck-fat.sh). Fetched once into $CACHE/dosfstools.
DOSFSTOOLS_SRC=$CACHE/dosfstools/src/tree

stage_dosfstools_source() {
	deb_source dosfstools "$DOSFSTOOLS_SRC" ||
		say "deps: no dosfstools source ($DEB_SOURCE_WHY): the initramfs will have no fsck.fat, and writes a FAT unchecked"
}

# persist's zstd: Debian's libzstd source built with musl and a small configuration
# (tools/persist/zstd.sh), fetched once into $CACHE/zstd; without it Debian's libzstd.a stands in.
ZSTD_SRC=$CACHE/zstd/src/tree

stage_zstd_source() {
	deb_source libzstd "$ZSTD_SRC" ||
		say "deps: no libzstd source ($DEB_SOURCE_WHY): persist will link Debian's libzstd.a (about 220 KB more in the initramfs)"
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
	stage_libzstd
	say "compile: musl-gcc -static → $O/bin"
	make -s -j"$JOBS" O="$O" "${ZSTD_MAKE[@]}" XZ_SRC="$BUSYBOX_SRC/archival/libarchive/unxz" all
}

# stage_libzstd: sets ZSTD_MAKE, the make variables that give persist the libzstd builds of the
# cached Debian source (initramfs/libzstd.sh, incremental): the small one for the initramfs's
# persist, the fast one for out/bin/persist (the root image's). Empty (the Makefile then links
# Debian's libzstd.a) when there is no source or the small build failed; without the fast build,
# out/bin/persist takes the small one.
stage_libzstd() {
	local build=$CACHE/zstd/build fast=$CACHE/zstd/build-fast dir fdir st=0
	ZSTD_MAKE=()
	if [ -e "$ZSTD_SRC/.unpacked" ] && [ -f "$build/libzstd.a" ] && [ ! -w "$build" ]; then
		dir=$build    # the cache was filled by another user: use its builds as they are
		fdir=$fast; [ -f "$fast/libzstd.a" ] || fdir=$build
	elif [ -e "$ZSTD_SRC/.unpacked" ]; then
		dir=$("$TOP/initramfs/libzstd.sh" "$ZSTD_SRC" "$build") || st=$?
		[ "$st" -eq 0 ] || { say "libzstd: the build failed (see $build/build.log): persist links Debian's libzstd.a (about 220 KB more in the initramfs)"; return; }
		fdir=$("$TOP/initramfs/libzstd.sh" "$ZSTD_SRC" "$fast" fast) ||
			{ say "libzstd: the fast build failed (see $fast/build.log): out/bin/persist links the small one"; fdir=$dir; }
	else
		say "libzstd: no source in $CACHE/zstd (see the deps stage): persist links Debian's libzstd.a (about 220 KB more in the initramfs)"
		return
	fi
	ZSTD_MAKE=(ZSTD_LIB="$dir/libzstd.a" ZSTD_INC="-I$dir/include" ZSTD_FAST_LIB="$fdir/libzstd.a" ZSTD_FAST_INC="-I$fdir/include")
	say "libzstd: $(stat -c %s "$dir/libzstd.a") bytes (musl, small configuration, $(cat "$ZSTD_SRC/.unpacked")); the root's persist: $(stat -c %s "$fdir/libzstd.a") bytes ($([ "$fdir" = "$dir" ] && echo small || echo fast))"
}

# ---------------------------------------------------------------- modules
: "${MODULES_EXTRA:=}"             # more modules for the initramfs, by name, space separated

# stage_modules DEST: modpick packs the storage and filesystem drivers with everything they need
# into DEST/pack/modules.pack (docs/kmod.md), xz makes the pack the init decodes as far as a boot
# needs, and the index it loads them from goes into DEST/lib/modules. The pack is compressed
# again only when its bytes changed.
stage_modules() {
	local dest=$1 m extra=()
	for m in $MODULES_EXTRA; do extra+=(--module "$m"); done
	rm -rf "$dest/lib/modules" "$dest/pack" && mkdir -p "$dest/lib/modules" "$dest/pack"
	"$O/bin/modpick" --tree "$MODULE_TREE" --out "$dest/pack" --pack "${extra[@]}" 2> "$1/modpick.log" ||
		{ cat "$1/modpick.log" >&2; die "unable to pick the kernel modules (MODULES_EXTRA='$MODULES_EXTRA'?)"; }
	MODULE_SUMMARY=$(tail -n 1 "$1/modpick.log" | sed 's/ in .*//; s/^modpick: //')
	rm -f "$1/modpick.log"
	mv "$dest/pack/modules.idx" "$dest/lib/modules/modules.idx"
	# one solid stream, no xz check: every module's CRC32C in the index is checked before it is
	# used, which the stream's CRC32 at its end could not be (and under TCG it cost the decoder
	# time); a dictionary as large as the pack, so that nothing is lost and the decoder needs no
	# more memory; lc=4 is 6 KB smaller here (no x86 filter: it makes relocatable modules 7% larger);
	# nice=56 is 3.6 KB smaller than 9e's 273 (and 3.1 KB with exfat.ko added; the optimum moves
	# with the pack: 48 gained nothing, 64 to 192 about 2 KB; pb, lp, bt3, hc4 and depth gained nothing)
	local how="xz -T1 --check=none --lzma2=preset=9e,dict=16MiB,lc=4,nice=56" old=$O/initramfs.d/pack
	echo "$how" > "$dest/pack/modules.pack.how"
	if [ -f "$old/modules.pack.xz" ] && cmp -s "$dest/pack/modules.pack" "$old/modules.pack" &&
		cmp -s "$dest/pack/modules.pack.how" "$old/modules.pack.how"; then
		cp "$old/modules.pack.xz" "$dest/pack/modules.pack.xz"
	else
		$how -c "$dest/pack/modules.pack" > "$dest/pack/modules.pack.xz"
	fi
	PACK_SUMMARY="module pack $(stat -c %s "$dest/pack/modules.pack.xz") bytes xz of $(stat -c %s "$dest/pack/modules.pack")"
}

# ---------------------------------------------------------------- initramfs
: "${INITRAMFS_MAX:=2000000}"      # the size target of the compressed initramfs, in bytes
: "${INITRAMFS_COMPRESS:=auto}"    # zstd, xz, or auto: zstd when it meets the target, else the smaller

# stage_rescue_busybox: sets RESCUE_BUSYBOX, the rescue shell's busybox: built from the cached
# Debian source with initramfs/busybox.config (incremental), else Debian's busybox-static.
stage_rescue_busybox() {
	local build=$CACHE/busybox/build bin st=0
	RESCUE_BUSYBOX=/bin/busybox
	if [ -e "$BUSYBOX_SRC/.unpacked" ] && [ -x "$build/busybox" ] && [ ! -w "$build" ]; then
		# the cache was filled by another user (root's ./build.sh): use its build as it is
		RESCUE_BUSYBOX=$build/busybox
		say "busybox: $(stat -c %s "$RESCUE_BUSYBOX") bytes, as built in $build (not ours to rebuild)"
		return
	fi
	if [ -e "$BUSYBOX_SRC/.unpacked" ]; then
		[ -x "$build/busybox" ] || say "busybox: building from $(cat "$BUSYBOX_SRC/.unpacked") (the first build takes a few minutes)"
		bin=$(JOBS=$JOBS "$TOP/initramfs/busybox.sh" "$BUSYBOX_SRC" "$build" "$TOP/initramfs/busybox.config") || st=$?
		[ "$st" -ne 100 ] || die "initramfs/busybox.config does not fit the busybox source (said above)"
		if [ "$st" -eq 0 ]; then
			RESCUE_BUSYBOX=$bin
			say "busybox: $(stat -c %s "$bin") bytes (musl static, initramfs/busybox.config, $(cat "$BUSYBOX_SRC/.unpacked"))"
			return
		fi
		say "busybox: the build failed (see $build/build.log)"
	fi
	say "busybox: using Debian's busybox-static ($(stat -c %s /bin/busybox) bytes): no busybox source in $CACHE/busybox (see the deps stage)"
}

# stage_fsck_fat: sets FSCK_FAT, the initramfs's fsck.fat: built from the cached dosfstools source
# (musl static, incremental), or empty when there is none (the init then says it cannot check).
stage_fsck_fat() {
	local build=$CACHE/dosfstools/build bin st=0
	FSCK_FAT=''
	if [ -e "$DOSFSTOOLS_SRC/.unpacked" ] && [ -x "$build/fsck.fat" ] && [ ! -w "$build" ]; then
		FSCK_FAT=$build/fsck.fat
		say "fsck.fat: $(stat -c %s "$FSCK_FAT") bytes, as built in $build (not ours to rebuild)"
		return
	fi
	if [ -e "$DOSFSTOOLS_SRC/.unpacked" ]; then
		bin=$(JOBS=$JOBS "$TOP/initramfs/fsck-fat.sh" "$DOSFSTOOLS_SRC" "$build") || st=$?
		if [ "$st" -eq 0 ]; then
			FSCK_FAT=$bin
			say "fsck.fat: $(stat -c %s "$bin") bytes (musl static, $(cat "$DOSFSTOOLS_SRC/.unpacked"))"
			return
		fi
		say "fsck.fat: the build failed (see $build/build.log): the initramfs has no fsck.fat"
		return
	fi
	say "fsck.fat: none: no dosfstools source in $CACHE/dosfstools (see the deps stage); the init will write a FAT unchecked"
}

# the x86 branch filter: the first archive is mostly programs (the kernel's decoder has the filter);
# pb=0: x86 code has no 4-byte alignment to model (668 bytes smaller than the default pb=2)
INITRAMFS_XZ="xz -T1 --check=crc32 --x86 --lzma2=preset=9e,lc=4,pb=0"

# compress_initramfs CPIO IMG MAX: zstd -19, or xz (CRC32, the kernel's; x86 filter) when asked or
# when zstd misses MAX bytes and xz is smaller; sets INITRAMFS_FORMAT and INITRAMFS_SIZES (both
# sizes in auto, so that the report shows the room xz would leave when zstd is taken).
compress_initramfs() {
	local cpio=$1 img=$2 max=$3 zs xs tmp=$2.$$
	zstd -q -19 -f "$cpio" -o "$tmp.zst"
	zs=$(stat -c %s "$tmp.zst")
	INITRAMFS_FORMAT=zstd INITRAMFS_SIZES="zstd -19 $zs"
	case "$INITRAMFS_COMPRESS" in
	zstd) ;;
	xz | auto)
		$INITRAMFS_XZ -c "$cpio" > "$tmp.xz"
		xs=$(stat -c %s "$tmp.xz")
		INITRAMFS_SIZES+=", xz ${INITRAMFS_XZ#xz -T1 --check=crc32 } $xs"
		if [ "$INITRAMFS_COMPRESS" = xz ] || { [ "$zs" -gt "$max" ] && [ "$xs" -lt "$zs" ]; }; then
			INITRAMFS_FORMAT=xz
		fi ;;
	*) die "INITRAMFS_COMPRESS=$INITRAMFS_COMPRESS: give zstd, xz or auto" ;;
	esac
	mv -f "$tmp.$([ "$INITRAMFS_FORMAT" = xz ] && echo xz || echo zst)" "$img"
	rm -f "$tmp.zst" "$tmp.xz"
}

# The initramfs is two archives one after the other, as the kernel takes them (each unpacked in
# turn): first the compressed one with our init, the tools and the module index (out/initramfs.cpio
# before compression), then an uncompressed one holding only the module pack, which the kernel
# copies as it is and the init decodes only as far as the boot needs: a boot pays to decompress
# the drivers it loads, not all of them.
stage_initramfs() {
	# Built in a directory of its own and put in place by rename, so that a test booting
	# out/initramfs.img never sees it half written, even while another build runs.
	local stage spec size packsize pad
	mkdir -p "$O"
	stage=$(mktemp -d "$O/initramfs.d.XXXXXX")
	spec=$stage.spec
	stage_modules "$stage"
	stage_rescue_busybox
	stage_fsck_fat
	cat > "$spec" <<SPEC
# the initramfs of overlive, after initramfs/skeleton.spec: a rescue shell, our init (persist by its
# other name, the same program), the module index. In this order the programs are 800 bytes
# smaller after xz than with the init first.
file /bin/busybox $RESCUE_BUSYBOX 0755 0 0
slink /bin/sh busybox 0777 0 0
file /init $O/bin/init 0755 0 0
slink /bin/persist /init 0777 0 0
SPEC
	if [ -n "$FSCK_FAT" ]; then echo "file /bin/fsck.fat $FSCK_FAT 0755 0 0" >> "$spec"; fi
	echo "tree /lib $stage/lib" >> "$spec"
	"$O/bin/mkcpio" -o "$stage.cpio" "$TOP/initramfs/skeleton.spec" "$spec"
	printf 'file /lib/modules/modules.pack.xz %s 0444 0 0\n' "$stage/pack/modules.pack.xz" > "$spec"
	"$O/bin/mkcpio" -o "$stage/pack.cpio" "$spec"
	packsize=$(stat -c %s "$stage/pack.cpio")
	# the same bytes compressed the same way as last time: keep the compressed archive as it is
	echo "$INITRAMFS_COMPRESS $((INITRAMFS_MAX - packsize - 4)) $INITRAMFS_XZ" > "$stage.how"
	if [ -f "$O/initramfs.1" ] && cmp -s "$stage.cpio" "$O/initramfs.cpio" && cmp -s "$stage.how" "$O/initramfs.1.how"; then
		rm -f "$stage.cpio" "$stage.how"
		INITRAMFS_FORMAT=unchanged INITRAMFS_SIZES="as built before"
	else
		compress_initramfs "$stage.cpio" "$O/initramfs.1" $((INITRAMFS_MAX - packsize - 4))
		mv -f "$stage.cpio" "$O/initramfs.cpio"
		mv -f "$stage.how" "$O/initramfs.1.how"
	fi
	# the second archive starts on a 4-byte boundary (the kernel skips the zeros before it)
	pad=$(( (4 - $(stat -c %s "$O/initramfs.1") % 4) % 4 ))
	{ cat "$O/initramfs.1"; head -c "$pad" /dev/zero; cat "$stage/pack.cpio"; } > "$O/initramfs.img.$$"
	mv -f "$O/initramfs.img.$$" "$O/initramfs.img"
	rm -rf "$O/initramfs.d" "$spec" "$stage/pack.cpio"
	mv "$stage" "$O/initramfs.d" 2>/dev/null || rm -rf "$stage"
	cmp -s "$KERNEL_IMAGE" "$O/vmlinuz" || { cp "$KERNEL_IMAGE" "$O/vmlinuz.$$" && mv -f "$O/vmlinuz.$$" "$O/vmlinuz"; }
	size=$(stat -c %s "$O/initramfs.img")
	say "initramfs: $size bytes: $(stat -c %s "$O/initramfs.1") $INITRAMFS_FORMAT ($INITRAMFS_SIZES; $(stat -c %s "$O/initramfs.cpio") raw) + $packsize uncompressed ($PACK_SUMMARY); $MODULE_SUMMARY"
	if [ "$size" -le "$INITRAMFS_MAX" ]; then
		say "initramfs: meets the size target: $size <= $INITRAMFS_MAX bytes"
	else
		say "initramfs: MISSES the size target by $((size - INITRAMFS_MAX)) bytes ($size > $INITRAMFS_MAX)"
	fi
}

# ---------------------------------------------------------------- root trees and squashfs
# stage_root NAME SOURCE: SOURCE is a recipe name, a directory or a tarball; makes $O/NAME.sqfs.
stage_root() {
	local name=$1 src=$2 tree=$O/root-$1 sqfs=$O/$1.sqfs extra=()
	if [ -d "$TOP/images/$src" ] && [ -x "$TOP/images/$src/recipe.sh" ]; then
		say "root: recipe $src"
		rm -rf "$tree" && mkdir -p "$tree"
		CACHE=$CACHE TOOLS_DIR=$O/bin "$TOP/images/$src/recipe.sh" "$tree"
		# recipes build without root, so their files belong to root, unless the recipe keeps owners
		[ -e "$TOP/images/$src/keep-owners" ] || extra=(-all-root)
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

# ---------------------------------------------------------------- disk image
# stage_disk NAME [mkimage options]: out/NAME.img, a GPT disk for BIOS and UEFI (images/mkimage.sh).
stage_disk() {
	local name=$1
	shift
	say "disk: $O/$name.img"
	"$TOP/images/mkimage.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$O/$name.sqfs" \
		--out "$O/$name.img" "$@" || die "unable to make $O/$name.img"
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
		*) die "test: unknown option $a (try --long or --powercut=full)" ;;
		esac
	done
	make -s -j"$JOBS" O="$O" XZ_SRC="$BUSYBOX_SRC/archival/libarchive/unxz" tests
	say "test: unit tests, overlay tests, boots in QEMU ($(qemu_accel)), $TEST_JOBS at a time"
	# QEMU under TCG keeps one core busy: two tests at a time use this machine's two cores.
	local since r=0
	since=$(mktemp)
	# the longest first (equivalence.t and the campaigns take minutes each), so that the two at a
	# time end together instead of one long test running alone at the end
	local first=(tests/overlay/equivalence.t tests/powercut/*.t) rest=() t
	for t in tests/*/*.t; do case " ${first[*]} " in *" $t "*) ;; *) rest+=("$t") ;; esac; done
	O=$O LONG=$long POWERCUT=$powercut KVER=$KVER MODULE_TREE=$MODULE_TREE ACCEL=$(qemu_accel) \
		prove -j"$TEST_JOBS" -e '' "${first[@]}" "${rest[@]}" "$O"/t/*.t || r=$?
	powercut_table "$since" "$powercut"
	rm -f "$since"
	return $r
}

# the power-cut campaigns' rows written by this run (tests/powercut/*.t), as one table with a total
powercut_table() {
	local rows
	rows=$(find "$O/powercut" -name row -newer "$1" 2>/dev/null | sort)
	[ -n "$rows" ] || return 0
	say "power-cut campaigns (--powercut=$2): docs/powercut-campaigns.md"
	printf '%-14s %7s %7s %11s %8s\n' workload cuts states violations time
	cat $rows
	# the naive control is meant to fail: its violations are not added to the others
	cat $rows | awk '{ c += $2; s += $3; t += $5 } END { printf "%-14s %7d %7d %11s %7ds\n", "total", c, s, "-", t }'
}

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

build_all() {
	stage_deps
	stage_kernel
	stage_compile
	stage_initramfs
	stage_root minimal minimal
	stage_disk minimal
	say "done: $O/vmlinuz $O/initramfs.img $O/minimal.sqfs $O/minimal.img"
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
all | build) build_all ;;
image)
	name='' src='' imgargs=() layerdirs=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--root) src=${2:?--root needs a directory or tarball}; shift 2 ;;
		--name) name=${2:?--name needs a name}; shift 2 ;;
		--recipe) src=${2:?--recipe needs a name}; shift 2 ;;
		--persist | --size | --append | --console | --file | --medium) imgargs+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
		--layer) { [ -d "${2:?--layer needs a directory or a FILE.sqfs}" ] ||
				{ [ -f "$2" ] && [ "$(head -c 4 "$2")" = hsqs ]; }; } ||
				die "image: --layer $2 is neither a directory nor a squashfs (persist export --squashfs makes one)"
			layerdirs+=("$2"); shift 2 ;;
		*) die "image: unknown option $1 (see ./build.sh help)" ;;
		esac
	done
	[ -n "$src" ] || src=minimal
	[ -n "$name" ] || name=$(basename "${src%%.tar*}")
	[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "image: --name '$name' may hold letters, digits, . _ - only"
	stage_deps; stage_kernel; stage_compile; stage_initramfs
	stage_root "$name" "$src"
	# a recipe may ask for image options (images/RECIPE/image.args); the command line's come after
	[ ! -f "$TOP/images/$src/image.args" ] || imgargs=($(cat "$TOP/images/$src/image.args") "${imgargs[@]}")
	# each --layer DIR (made a squashfs) or FILE.sqfs (as it is: persist export --squashfs's layer)
	# becomes live/NAME-N.sqfs, stacked on the base in that order
	for i in "${!layerdirs[@]}"; do
		l=$O/$name-layer$((i + 1)).sqfs
		if [ -f "${layerdirs[$i]}" ]; then
			cp "${layerdirs[$i]}" "$l" || die "unable to copy ${layerdirs[$i]} to $l"
		else
			mksquashfs "${layerdirs[$i]}" "$l" -comp zstd -noappend -no-progress -quiet -all-root >/dev/null ||
				die "unable to make a squashfs of ${layerdirs[$i]}"
		fi
		say "layer: $l from ${layerdirs[$i]}"
		imgargs+=(--layer "$l")
	done
	stage_disk "$name" "${imgargs[@]}"
	echo "$O/$name.img" ;;
iso)
	name=${1:-minimal}
	[ -f "$O/$name.sqfs" ] || die "iso: no $O/$name.sqfs: make it first (./build.sh, or ./build.sh image ...)"
	stage_kernel >/dev/null
	say "iso: $O/$name.iso"
	"$TOP/images/mkiso.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$O/$name.sqfs" \
		--out "$O/$name.iso" || die "unable to make $O/$name.iso"
	echo "$O/$name.iso" ;;
boot) stage_kernel >/dev/null; stage_boot "$@" ;;
test) build_all; stage_test "$@" ;;
fuzz) build_all; O=$O MODULE_TREE=$MODULE_TREE "$TOP/tests/fuzz/run.sh" "${1:-60}" "${@:2}" ;;
bench) build_all; O=$O ACCEL=$(qemu_accel) MODULE_TREE=$MODULE_TREE "$TOP/bench/run.sh" "$@" ;;
kernel) stage_deps; stage_kernel ;;
help | -h | --help) usage ;;
*) die "unknown command '$cmd' (try ./build.sh help)" ;;
esac
