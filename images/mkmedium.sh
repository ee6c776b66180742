#!/usr/bin/env bash
# images/mkmedium.sh KIND SQFS OUT [LABEL]: a disk image holding SQFS as live/root.sqfs, without
# root or loop mounts (exfat: see images/exfat-fill.sh). KIND: vfat, ext4 or exfat (a filesystem
# labelled LABEL, default OVERLIVE), or raw
# (a GPT disk whose partition named "overlive-root" is the squashfs itself).
# LAYERS="a.sqfs b.sqfs" adds more layers beside it in live/; live/SHA256SUMS covers them all
# (live.verify checks it). EXTRA="src:dest ..." copies more files onto a vfat or ext4 medium.
set -euo pipefail
PROG=mkmedium
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() {
	cat <<'EOF'
usage: mkmedium.sh vfat|ext4|exfat|raw SQFS OUT [LABEL]
  OUT: a vfat, ext4 or exfat filesystem labelled LABEL (default OVERLIVE) holding SQFS as
  live/root.sqfs, or (raw) a GPT disk whose partition "overlive-root" is SQFS itself.
  LAYERS="a.sqfs ..." more layers in live/; EXTRA="src:dest ..." more files (vfat, ext4, exfat).
  exfat needs root, /dev/fuse and exfat-fuse (images/exfat-fill.sh).
EOF
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 3 ] && [ $# -le 4 ] || bad_usage "give the KIND, SQFS and OUT (and a LABEL)"
kind=$1 sqfs=$2 out=$3 label=${4:-OVERLIVE}
: "${LAYERS:=}" "${EXTRA:=}"
[ -f "$sqfs" ] || die "unable to read $sqfs: no such file"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/live"
cp "$sqfs" "$d/live/root.sqfs"
for l in $LAYERS; do
	[ -f "$l" ] || die "unable to read the layer $l: no such file"
	cp "$l" "$d/live/$(basename "$l")"
done
for e in $EXTRA; do
	mkdir -p "$d/$(dirname "${e#*:}")"
	cp "${e%%:*}" "$d/${e#*:}"
done
(cd "$d/live" && sha256sum -- *.sqfs > SHA256SUMS)
mib=$(( $(du -sm "$d" | cut -f1) + 16 ))
rm -f "$out"
case "$kind" in
vfat)
	mkfs.vfat -C -n "$label" "$out" $((mib * 1024)) >/dev/null
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$out" "$d"/* ::/ ;;
ext4)
	mkfs.ext4 -q -F -L "$label" -d "$d" "$out" "${mib}M" >/dev/null ;;
exfat)
	truncate -s "${mib}M" "$out"
	PATH=$PATH:/sbin:/usr/sbin mkfs.exfat -L "$label" "$out" >/dev/null
	"$(dirname "${BASH_SOURCE[0]}")/exfat-fill.sh" "$out" "$d" ;;
raw)
	mib=$(( $(stat -c %s "$sqfs") / 1048576 + 2 ))
	truncate -s $((mib + 2))M "$out"
	printf 'label: gpt\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="overlive-root"\n' |
		sfdisk -q "$out"
	dd if="$sqfs" of="$out" bs=1M seek=1 conv=notrunc status=none ;;  # sector 2048 = 1 MiB
*) die "unknown medium kind '$kind' (vfat, ext4, exfat or raw)" ;;
esac
