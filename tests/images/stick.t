#!/usr/bin/env bash
# tests/images/stick.t: images/write-stick.sh refuses the system disk, a partition and a disk with
# something mounted, and writes and verifies a free one.
# Disks: the host's root disk (read only: refused); a 100 MiB file behind a loop device with
# partition scanning, holding a GPT image from images/mkimage.sh --persist partition (root only).
. "$(dirname "$0")/../lib/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (loop devices)"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
command -v losetup >/dev/null || skip_all "losetup is not installed"
export PATH=$PATH:/sbin:/usr/sbin
T=$(mktemp -d)
loop=
cleanup() { umount "$T/mnt" 2>/dev/null; [ -z "$loop" ] || losetup -d "$loop"; rm -rf "$T"; }
trap cleanup EXIT
ws=$TOP/images/write-stick.sh

"$TOP/images/mkimage.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$O/minimal.sqfs" \
	--out "$T/img" --persist partition --size 90M 2>/dev/null || bail "mkimage.sh failed"

rootdev=$(awk '$5 == "/" { print $3; exit }' /proc/self/mountinfo)
rootdisk=$(readlink -f "/sys/dev/block/$rootdev")
[ -e "$rootdisk/partition" ] && rootdisk=$(dirname "$rootdisk")
if [ -b "/dev/$(basename "$rootdisk")" ]; then
	"$ws" --yes "$T/img" "/dev/$(basename "$rootdisk")" > "$T/out" 2>&1
	st=$?
	is "$st" 100 "refuses the system disk /dev/$(basename "$rootdisk") (exit 100)"
	grep -q "refusing to write .*mounted on /" "$T/out"
	ok $? "and says it is mounted on /" || sed 's/^/# /' "$T/out"
else
	skip 2 "the root file system is not on a block device here"
fi

"$ws" --yes "$T/img" "$T/img" > "$T/out" 2>&1
is $? 100 "refuses a file that is not a block device"

truncate -s 100M "$T/stick"
loop=$(losetup -f -P --show "$T/stick") || bail "losetup failed"
dd if="$T/img" of="$loop" bs=1M conv=fsync status=none
partx -u "$loop" 2>/dev/null || blockdev --rereadpt "$loop" 2>/dev/null
for _ in 1 2 3 4 5; do [ -b "${loop}p1" ] && break; sleep 0.2; done
if [ -b "${loop}p1" ]; then
	"$ws" --yes "$T/img" "${loop}p1" > "$T/out" 2>&1
	is $? 100 "refuses a partition"
	grep -q "it is a partition; give the whole disk ($loop)" "$T/out"
	ok $? "and names the whole disk" || sed 's/^/# /' "$T/out"
	mkdir -p "$T/mnt" && mount -o ro "${loop}p2" "$T/mnt"
	"$ws" --yes "$T/img" "$loop" > "$T/out" 2>&1
	is $? 100 "refuses a disk with a mounted partition"
	grep -q "is mounted on $T/mnt" "$T/out"
	ok $? "and says where" || sed 's/^/# /' "$T/out"
	umount "$T/mnt"
else
	skip 4 "no partition devices for the loop device here"
fi
"$ws" --no-verify "$T/img" "$loop" <<<"not-the-name" > "$T/out" 2>&1
is $? 1 "writes nothing when the typed name is wrong"
dd if=/dev/zero of="$loop" bs=1M count=1 conv=fsync status=none
"$ws" --yes "$T/img" "$loop" > "$T/out" 2>&1
ok $? "writes a free disk and verifies it" || sed 's/^/# /' "$T/out"
cmp -s -n "$(stat -c %s "$T/img")" "$T/img" "$loop"
ok $? "the disk reads back as the image"
done_testing
