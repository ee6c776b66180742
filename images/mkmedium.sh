#!/usr/bin/env bash
# images/mkmedium.sh KIND SQFS OUT [LABEL]: a disk image holding SQFS as live/root.sqfs, without
# root or loop mounts. KIND: vfat or ext4 (a filesystem labelled LABEL, default OVERLIVE), or raw
# (a GPT disk whose partition named "overlive-root" is the squashfs itself).
set -euo pipefail
die() { echo "mkmedium: fatal: $*" >&2; exit 100; }
[ $# -ge 3 ] || die "usage: mkmedium.sh vfat|ext4|raw SQFS OUT [LABEL]"
kind=$1 sqfs=$2 out=$3 label=${4:-OVERLIVE}
[ -f "$sqfs" ] || die "unable to read $sqfs: no such file"
mib=$(( $(stat -c %s "$sqfs") / 1048576 + 16 ))
rm -f "$out"
case "$kind" in
vfat)
	mkfs.vfat -C -n "$label" "$out" $((mib * 1024)) >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i "$out" ::live
	MTOOLS_SKIP_CHECK=1 mcopy -i "$out" "$sqfs" ::live/root.sqfs ;;
ext4)
	d=$(mktemp -d)
	trap 'rm -rf "$d"' EXIT
	mkdir -p "$d/live" && cp "$sqfs" "$d/live/root.sqfs"
	mkfs.ext4 -q -F -L "$label" -d "$d" "$out" "${mib}M" >/dev/null ;;
raw)
	truncate -s $((mib + 2))M "$out"
	printf 'label: gpt\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="overlive-root"\n' |
		sfdisk -q "$out"
	dd if="$sqfs" of="$out" bs=1M seek=1 conv=notrunc status=none ;;  # sector 2048 = 1 MiB
*) die "unknown medium kind '$kind' (vfat, ext4 or raw)" ;;
esac
