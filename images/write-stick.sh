#!/usr/bin/env bash
# images/write-stick.sh IMAGE DEVICE: writes a disk image (out/NAME.img or .iso) to a USB stick,
# after checking that DEVICE is a whole disk that nothing uses: none of it mounted, used as swap,
# or held by device-mapper/RAID, and big enough. Then writes, flushes and compares.
set -euo pipefail
PROG=write-stick
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() {
	cat <<'EOF'
usage: write-stick.sh [--yes] [--no-verify] IMAGE /dev/DISK
  Writes IMAGE to the whole disk DISK (e.g. /dev/sdb, not /dev/sdb1), destroying what it holds.
  Refuses a disk with anything mounted, used as swap or held by another device (the system disk
  always is). Asks you to type the disk's name unless --yes. --no-verify skips reading it back.
EOF
}
refuse() { echo "$PROG: refusing to write $dev: $*" >&2; exit 100; }

yes=0 verify=1
while [ $# -gt 0 ]; do
	case "$1" in
	--yes) yes=1; shift ;;
	--no-verify) verify=0; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) bad_usage "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || bad_usage "give IMAGE and /dev/DISK"
img=$1 dev=$2
[ -f "$img" ] || die "unable to read $img: no such file"
[ -b "$dev" ] || refuse "not a block device"
: "${SYSFS:=/sys}"

name=$(basename "$(readlink -f "$dev")")
majmin=$(printf '%d:%d' "0x$(stat -L -c %t "$dev")" "0x$(stat -L -c %T "$dev")")
sys=$(readlink -f "$SYSFS/dev/block/$majmin")
[ -d "$sys" ] || refuse "no $SYSFS/dev/block/$majmin"
[ ! -e "$sys/partition" ] || refuse "it is a partition; give the whole disk (/dev/$(basename "$(dirname "$sys")"))"

# Every device number of the disk and its partitions.
nums=("$majmin")
for p in "$sys"/*/partition; do
	[ -e "$p" ] && nums+=("$(cat "$(dirname "$p")/dev")")
done
for n in "${nums[@]}"; do
	# /proc/self/mountinfo field 3 is MAJ:MIN of what is mounted (also a btrfs/overlay's backing disk)
	if awk -v n="$n" '$3 == n { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		refuse "$(awk -v n="$n" '$3 == n { print "device " n " is mounted on " $5; exit }' /proc/self/mountinfo) (unmount it first; the system disk cannot be written)"
	fi
	d=$(basename "$(readlink -f "$SYSFS/dev/block/$n")")
	if grep -q "^/dev/$d " /proc/swaps 2>/dev/null; then refuse "/dev/$d is used as swap"; fi
	if [ -n "$(ls -A "$SYSFS/dev/block/$n/holders" 2>/dev/null)" ]; then
		refuse "/dev/$d is held by $(ls "$SYSFS/dev/block/$n/holders" | tr '\n' ' ')(device-mapper, RAID or LVM)"
	fi
done

isize=$(stat -c %s "$img")
dsize=$(($(cat "$sys/size") * 512))
[ "$dsize" -gt 0 ] || refuse "it has no medium (size 0)"
[ "$isize" -le "$dsize" ] || refuse "the image ($isize bytes) is larger than the disk ($dsize bytes)"
model=$(cat "$sys/device/model" 2>/dev/null | tr -s ' ' || true)
removable=$(cat "$sys/removable" 2>/dev/null || echo 0)
echo "$PROG: $dev: ${model:-unknown model}, $((dsize / 1000000)) MB, removable=$removable"
[ "$removable" = 1 ] || echo "$PROG: warning: $dev does not say it is removable; be sure it is the stick"
if [ "$yes" -eq 0 ]; then
	printf '%s: everything on %s will be lost. Type its name (%s) to go on: ' "$PROG" "$dev" "$name"
	read -r answer
	[ "$answer" = "$name" ] || { echo "$PROG: nothing written"; exit 1; }
fi
dd if="$img" of="$dev" bs=4M conv=fsync status=progress 2>&1 || fail "unable to write $img to $dev"
sync
if [ "$verify" -eq 1 ]; then
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	cmp -n "$isize" "$img" "$dev" || fail "unable to verify $dev: it does not read back as $img (a bad stick?)"
	echo "$PROG: $dev verified ($isize bytes)"
fi
echo "$PROG: done; $dev can be removed"
