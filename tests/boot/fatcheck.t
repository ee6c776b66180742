#!/usr/bin/env bash
# tests/boot/fatcheck.t: the init checks and repairs a FAT before it writes a save file on it, and
# a FAT beyond repair is never written. The replay of issue 20: a cut at the fsync of the first
# `persist init`'s temporary left its chain running into a free cluster and shorter than its size,
# lost clusters, the dirty bit, a stale FSINFO and FAT copies that differ; without the check the
# next init's unlink of the temporary made the kernel set the FAT read-only and the save was lost.
# Disks: one virtio disk, a FAT32 medium labelled OVERLIVE holding live/root.sqfs (the minimal
# root) and the damaged /persist.dat.init; kernel: live.persist=/persist.dat live.persist.size=4M.
# After every clean poweroff the host's fsck.fat -n must find nothing and the dirty bit is clear.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/fat.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -d "$O/root-minimal" ] && [ -x "$O/bin/persist" ] || skip_all "build first: ./build.sh"
command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null || skip_all "mtools or dosfstools is not installed"
command -v fsck.fat >/dev/null || skip_all "fsck.fat (dosfstools) is not installed"
cpio -t < "$O/initramfs.cpio" 2>/dev/null | grep -qx bin/fsck.fat ||
	skip_all "the initramfs has no fsck.fat: build.sh needs Debian's dosfstools source (see its deps stage)"
export MTOOLS_SKIP_CHECK=1

medium=$QDIR/medium.img
mkdir -p "$QDIR/m/live"
cp "$O/minimal.sqfs" "$QDIR/m/live/root.sqfs"
mkfs.vfat -F 32 -C -n OVERLIVE "$medium" $((48 * 1024)) >/dev/null
mcopy -s -i "$medium" "$QDIR/m/live" ::/
APPEND="live.persist=/persist.dat live.persist.size=4M"

# The damage: a 3 MiB temporary whose chain has a free cluster 200 clusters in (so it is shorter
# than its size, and what follows is lost), a lost chain of its own, the second FAT differing,
# FSINFO's free count wrong, the dirty bit set.
head -c 3M /dev/zero > "$QDIR/init.tmp"
mcopy -i "$medium" "$QDIR/init.tmp" ::persist.dat.init
fat_geom "$medium"
first=$(fat_first_cluster "$medium" ::persist.dat.init)
last=$((($(fat_u "$medium" 32 4) - FAT_RES - FAT_N * FAT_SZ) / $(fat_u "$medium" 13 1) - 10))
fat_set "$medium" $((first + 200)) 0
fat_set "$medium" $((last - 1)) "$last"
fat_set "$medium" "$last" "$(fat_eoc)"
fat_set "$medium" $((first + 300)) 0 1
fat_fsinfo_free "$medium" 7
fat_dirty "$medium"
cp "$medium" "$QDIR/damaged.img"
fsck.fat -n "$medium" > "$QDIR/before.txt" 2>&1
grep -q 'Contains a free cluster' "$QDIR/before.txt" && grep -q 'Dirty bit is set' "$QDIR/before.txt"
ok $? "the damage is what fsck.fat sees after the cut: a chain into a free cluster, the dirty bit"

# fsck_clean NAME: the host's fsck.fat -n finds nothing and the dirty bit is clear
fsck_clean() {
	local r=0
	fsck.fat -n "$medium" > "$QDIR/fsck.txt" 2>&1 || r=$?
	fat_is_dirty "$medium" && r=1
	ok $r "$1: fsck.fat -n finds nothing, the dirty bit is clear"
	[ $r = 0 ] || sed 's/^/# | /' "$QDIR/fsck.txt"
}
boot() {
	qemu_start "$APPEND" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 120 >/dev/null
}
# poweroff: the minimal recipe's clean stop (rc.shutdown: persist init when missing, persist save)
poweroff() {
	qemu_send 'poweroff'
	for _ in $(seq 300); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done   # QEMU ends by itself
	qemu_stop
}

# Boot 1: the init repairs the FAT before the medium is written, and says what it repaired.
boot
grep -aq 'repaired the FAT of the medium' "$QLOG" && grep -aq 'fsck.fat: .*Contains a free cluster' "$QLOG" &&
	grep -aq 'fsck.fat: .*Dirty bit is set' "$QLOG" && grep -aq 'fsck.fat: .*Free cluster summary wrong' "$QLOG"
r=$?; ok $r "boot 1: the console says the FAT was repaired, and what was repaired"
[ $r = 0 ] || qemu_show 30
qemu_run 'echo one > /root/one'
poweroff
grep -aq 'deleting FAT entry beyond EOF\|Read-only file system\|unable to create the save file\|persist save failed' "$QLOG"
ok $((! $?)) "boot 1: the shutdown's persist init and save ran without a FAT error"
mdir -b -i "$medium" :: | grep -qi 'persist.dat$'
ok $? "boot 1: the save file is on the medium"
fsck_clean "boot 1"

# Boot 2: the save of boot 1 is restored; another change is saved at poweroff.
boot
grep -aq 'restored /run/live/medium/persist.dat' "$QLOG" && qemu_run 'test "$(cat /root/one)" = one'
ok $? "boot 2: boot 1's save is restored"
grep -aq 'checked the FAT of the medium (/dev/[a-z0-9]*): clean' "$QLOG" && ! grep -aq 'repaired the FAT' "$QLOG"
ok $? "boot 2: the FAT was checked, and after a clean poweroff nothing is left to repair"
qemu_run 'echo two > /root/two'
poweroff
fsck_clean "boot 2"

# Boot 3: boot 2's save is restored.
boot
grep -aq 'restored /run/live/medium/persist.dat' "$QLOG" && qemu_run 'test "$(cat /root/two)" = two && test "$(cat /root/one)" = one'
ok $? "boot 3: boot 2's save is restored"
qemu_stop

# Boot 4: a FAT beyond repair (both FATs' first entry wrong: fsck.fat gives up) is not written:
# the last save is restored read-only, the console says why, the shutdown does not save.
fat_set "$medium" 0 0
fat_dirty "$medium"
cp "$medium" "$QDIR/bad.img"
boot
grep -aq 'the FAT of the medium .* cannot be repaired' "$QLOG" && grep -aq 'fsck.fat: .*Both FATs appear to be corrupt' "$QLOG" &&
	grep -aq 'the save file is only read in this boot, nothing is saved at shutdown' "$QLOG"
r=$?; ok $r "boot 4: a FAT beyond repair: the console says so, and why"
[ $r = 0 ] || qemu_show 30
qemu_run 'test "$(cat /root/two)" = two && grep -q " /run/live/medium vfat ro" /proc/mounts && grep -qx PERSIST_READONLY=fat /run/live/persist.env'
ok $? "boot 4: the last save is restored, the medium stays read-only"
qemu_run 'echo three > /root/three'
poweroff
grep -aq 'overlive: shutdown: not saving: the FAT of the medium .* cannot be repaired' "$QLOG"
ok $? "boot 4: the shutdown says it does not save"
cmp -s "$medium" "$QDIR/bad.img"
ok $? "boot 4: the medium is byte for byte what it was"

# Boot 5: an initramfs without fsck.fat (an archive appended to it replaces /bin/fsck.fat by a
# file that cannot run) on the damaged medium of boot 1: the init says it writes the FAT
# unchecked and names the temporary whose chain it cannot trust.
mkdir -p "$QDIR/o/ov/bin" && : > "$QDIR/o/ov/bin/fsck.fat" && chmod 0644 "$QDIR/o/ov/bin/fsck.fat"
ln -s "$O/vmlinuz" "$QDIR/o/vmlinuz"
{ cat "$O/initramfs.img"; (cd "$QDIR/o/ov" && printf 'bin\nbin/fsck.fat\n' | cpio -o -H newc --quiet -R 0:0); } > "$QDIR/o/initramfs.img"
cp "$QDIR/damaged.img" "$medium"
O=$QDIR/o qemu_start "$APPEND" -drive "file=$medium,format=raw,if=virtio"
qemu_expect 'overlive# ' 120 >/dev/null
grep -aq 'the FAT of the medium (/dev/[a-z0-9]*) is written unchecked: this initramfs has no fsck.fat' "$QLOG" &&
	grep -aq 'persist.dat.init is left from a persist init a power cut stopped, and its FAT was not checked' "$QLOG"
r=$?; ok $r "no fsck.fat: the init says the FAT is written unchecked, and names the untrusted temporary"
[ $r = 0 ] || qemu_show 20
qemu_stop
done_testing
