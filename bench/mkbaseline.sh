#!/usr/bin/env bash
# bench/mkbaseline.sh DIR: the baseline initramfs, DIR/initramfs.cpio and DIR/initramfs.img (zstd
# -19 like overlive's): the skeleton of overlive's (initramfs/skeleton.spec), busybox with the
# applets its /init uses, overlive's modules as plain files (modpick without --pack: a shell init
# has no pack decoder) with their modules.idx, and bench/baseline-init.sh as /init.
# Needs a build (out/bin/mkcpio, out/bin/modpick) and the kernel's module tree (MODULE_TREE).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${O:=$TOP/out}"
: "${MODULE_TREE:=$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | head -n 1)}"
dir=$1
mkdir -p "$dir"
rm -rf "$dir/lib" && mkdir -p "$dir/lib"
extra=()
for m in ${MODULES_EXTRA:-}; do extra+=(--module "$m"); done
"$O/bin/modpick" --tree "$MODULE_TREE" --out "$dir/lib/modules" "${extra[@]}" 2>/dev/null
{
	cat <<SPEC
# the baseline initramfs, after initramfs/skeleton.spec (as overlive's): a busybox shell-script
# init doing overlive's steps, with overlive's modules
file /init $TOP/bench/baseline-init.sh 0755 0 0
file /bin/busybox /bin/busybox 0755 0 0
tree /lib $dir/lib
SPEC
	for a in sh mount insmod findfs losetup mkdir sleep cat switch_root; do
		echo "slink /bin/$a busybox 0777 0 0"
	done
} > "$dir/initramfs.spec"
"$O/bin/mkcpio" -o "$dir/initramfs.cpio" "$TOP/initramfs/skeleton.spec" "$dir/initramfs.spec"
zstd -q -19 -f "$dir/initramfs.cpio" -o "$dir/initramfs.img"
