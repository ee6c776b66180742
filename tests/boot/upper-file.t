#!/usr/bin/env bash
# tests/boot/upper-file.t: live.upper=file: on a FAT medium. An image whose clusters are one run is
# written through them on the device, the FAT mounted read-only: after a power cut (QEMU killed)
# the FAT has nothing for fsck.fat to find, not even the dirty bit. A fragmented image goes through
# the file on a read-write FAT, which the next boot's check repairs after such a cut.
# Disks: one virtio disk, a FAT32 medium labelled OVERLIVE holding live/root.sqfs (the minimal
# root) and live/persistence.img (an 8 MiB ext4); kernel: live.upper=file:/live/persistence.img.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/fat.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] || skip_all "build first: ./build.sh"
command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null && command -v fsck.fat >/dev/null ||
	skip_all "mtools or dosfstools is not installed"
command -v mkfs.ext4 >/dev/null || export PATH=$PATH:/sbin:/usr/sbin
cpio -t < "$O/initramfs.cpio" 2>/dev/null | grep -qx bin/fsck.fat ||
	skip_all "the initramfs has no fsck.fat: build.sh needs Debian's dosfstools source (see its deps stage)"
export MTOOLS_SKIP_CHECK=1
APPEND="live.media=LABEL=OVERLIVE live.upper=file:/live/persistence.img"
medium=$QDIR/medium.img
truncate -s 8M "$QDIR/p.img" && mkfs.ext4 -q -F -L persistence -E root_owner=0:0 "$QDIR/p.img"

# make_medium FRAGMENTED: the medium; with FRAGMENTED=1 the image's 100th cluster is moved (its
# data and its place in the chain) to a free cluster near the end, so that its chain has a gap
make_medium() {
	mkfs.vfat -F 32 -C -n OVERLIVE "$medium" $((48 * 1024)) >/dev/null
	mmd -i "$medium" ::live
	mcopy -i "$medium" "$O/minimal.sqfs" ::live/root.sqfs
	mcopy -i "$medium" "$QDIR/p.img" ::live/persistence.img
	fat_geom "$medium"
	[ "$1" = 1 ] || return 0
	local spc data c to
	spc=$(fat_u "$medium" 13 1) data=$((FAT_RES + FAT_N * FAT_SZ))
	c=$(($(fat_first_cluster "$medium" ::live/persistence.img) + 100))
	to=$((($(fat_u "$medium" 32 4) - data) / spc + 2 - 20))
	dd if="$medium" of="$medium" bs=512 skip=$((data + (c - 2) * spc)) seek=$((data + (to - 2) * spc)) \
		count="$spc" conv=notrunc status=none
	fat_set "$medium" $((c - 1)) "$to"
	fat_set "$medium" "$to" $((c + 1))
	fat_set "$medium" "$c" 0
}
# one_run: the image's clusters are consecutive (mshowfat prints one range)
one_run() { mshowfat -i "$medium" ::live/persistence.img | grep -q '^::/live/persistence.img <[0-9]*-[0-9]*>$'; }

# cut_after CMD: boot, run CMD (it syncs), then kill QEMU: a power cut with everything flushed
cut_after() {
	qemu_start "$APPEND" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 120 >/dev/null && qemu_run 'grep -q " /run/live/upper ext4 rw" /proc/mounts' && qemu_run "$1"
	local r=$?
	kill -9 "$QPID" 2>/dev/null
	qemu_stop
	return $r
}

make_medium 0
one_run
ok $? "contiguous: mtools made the image one run of clusters"
cut_after 'echo kept > /root/kept && sync'
ok $? "contiguous: booted with the image as the upper, wrote and synced"
grep -aq 'is one run of clusters at byte [0-9]* of /dev/vda: written there, the FAT stays read-only' "$QLOG"
ok $? "contiguous: the console says the image is written through its clusters"
fsck.fat -n "$medium" > "$QDIR/fsck.txt" 2>&1 && ! fat_is_dirty "$medium"
ok $? "contiguous: after the cut fsck.fat -n finds nothing, the dirty bit is clear" || sed 's/^/# | /' "$QDIR/fsck.txt"
cut_after 'test "$(cat /root/kept)" = kept'
ok $? "contiguous: the next boot has the file"

make_medium 1
one_run
r=$?
fsck.fat -n "$medium" >/dev/null 2>&1
ok $(( r == 0 || $? != 0 )) "fragmented: the image's chain has a gap, and the FAT is consistent"
cut_after 'echo kept > /root/kept && sync'
ok $? "fragmented: booted with the image as the upper, wrote and synced"
grep -aq 'is not written through its clusters on /dev/vda (fragmented, or a FAT12): the medium is mounted read-write' "$QLOG"
ok $? "fragmented: the console says the image goes through a read-write FAT"
fat_is_dirty "$medium"
ok $? "fragmented: the cut leaves the FAT's dirty bit set"
cut_after 'test "$(cat /root/kept)" = kept'
ok $? "fragmented: the next boot has the file"
grep -aq 'repaired the FAT of the medium' "$QLOG" && grep -aq 'fsck.fat: .*Dirty bit is set' "$QLOG"
ok $? "fragmented: that boot repaired the FAT first (the dirty bit)"
done_testing
