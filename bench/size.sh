#!/usr/bin/env bash
# bench/size.sh: byte counts (no clock): initramfs compressed and raw, modules, init binary,
# squashfs and medium image, each against a baseline; writes size.md.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
md=$B/size.md
: > "$md"
sz() { [ -e "$1" ] && stat -L -c %s "$1" || echo -; }
idx=$O/initramfs.d/lib/modules/modules.idx
[ -f "$O/initramfs.img" ] && [ -f "$idx" ] || { note "size: not measured: no build in $O (run ./build.sh)"; exit 0; }
bl=$B/size.d
rm -rf "$bl"
"$TOP/bench/mkbaseline.sh" "$bl" >&2 || note "size: unable to build the baseline initramfs"
tree=$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | head -n 1)
[ -n "${MODULE_TREE:-}" ] && tree=$MODULE_TREE
nmod=$(grep -c '^m ' "$idx")
nbase=$(grep -c '^m [^ ]* b' "$idx")
modbytes=$(stat -c %s "$O/initramfs.d/pack/modules.pack")
ktree=- kbytes=-
if [ -n "$tree" ] && [ -d "$tree/kernel" ]; then
	ktree=$(find "$tree/kernel" -name '*.ko*' | wc -l)
	kbytes=$(find "$tree/kernel" -name '*.ko*' -printf '%s\n' | awk '{ s += $1 } END { print s }')
else
	note "size: no kernel module tree found for the module baseline (set MODULE_TREE=)"
fi
medium=$B/size.d/medium.img
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$medium" 2>/dev/null || note "size: unable to make the medium image"
rootb=-
[ -d "$O/root-minimal" ] && rootb=$(du -sb "$O/root-minimal" | cut -f1)
r() { ratio "$1" "$2"; }
{
	echo "## Size (bytes; no clock involved)"
	echo
	echo "| figure | overlive | baseline | ratio overlive/baseline | command |"
	echo "|---|---|---|---|---|"
	a=$(sz "$O/initramfs.img") b=$(sz "$bl/initramfs.img")
	echo "| initramfs (overlive's: its compressed archive and the xz module pack; it also holds busybox as rescue shell and persist) | $a | busybox-script initramfs $b | $(r "$a" "$b") | \`bench/size.sh\`; \`stat -c %s out/initramfs.img\` |"
	a=$(sz "$O/initramfs.cpio") b=$(sz "$bl/initramfs.cpio")
	echo "| initramfs, raw cpio (overlive's: its first archive, without the module pack) | $a | busybox-script initramfs $b | $(r "$a" "$b") | \`stat -c %s out/initramfs.cpio\` |"
	echo "| modules in the initramfs (count) | $nmod ($nbase at every boot) | whole kernel package $ktree | $(r "$nmod" "$ktree") | \`grep -c '^m ' out/initramfs.d/lib/modules/modules.idx\` |"
	echo "| modules in the initramfs (bytes) | $modbytes | whole kernel package $kbytes | $(r "$modbytes" "$kbytes") | \`stat -c %s out/initramfs.d/pack/modules.pack\` (the module pack, decoded) |"
	a=$(sz "$O/bin/init") b=$(sz /bin/busybox)
	echo "| init binary (static; persist and shutdown by their names, the same file) | $a | busybox (the baseline's /init interpreter) $b | $(r "$a" "$b") | \`stat -c %s out/bin/init\` |"
	a=$(sz "$O/minimal.sqfs")
	echo "| minimal root, squashfs zstd | $a | the root tree $rootb | $(r "$a" "$rootb") | \`stat -c %s out/minimal.sqfs\`; \`du -sb out/root-minimal\` |"
	b=$a a=$(sz "$medium")
	echo "| minimal medium image (vfat; mkmedium leaves 16 MiB free) | $a | its squashfs $b | $(r "$a" "$b") | \`images/mkmedium.sh vfat out/minimal.sqfs M.img\` |"
	a=$(sz "$O/vmlinuz")
	echo "| kernel (vmlinuz, Debian's) | $a | - | - | \`stat -c %s out/vmlinuz\` |"
	echo
} >> "$md"
exit 0
