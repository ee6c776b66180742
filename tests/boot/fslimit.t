#!/usr/bin/env bash
# tests/boot/fslimit.t: the save file's size against its file system's limit. On vfat, persist
# init refuses more than 4 GiB - 1 bytes, naming the limit, before it writes anything (in the
# guest: the host kernel has no vfat). On exFAT, persist grow takes a save file past 4 GiB (on the
# host, through exfat-fuse), fsck.exfat finds the filesystem clean, and the guest's own exfat
# driver restores from that file at boot.
# Disks (virtio): a vfat medium labelled OVERLIVE (images/mkmedium.sh), and a sparse 5 GiB exFAT
# disk labelled BIG holding /save.dat.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -x "$O/bin/persist" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin
P=$O/bin/persist
disk() { echo "file=$1,format=raw,if=virtio"; }

# --- vfat: persist init --size 5G is refused with the limit named; nothing is left behind
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$QDIR/vfat.img"
qemu_start "" -drive "$(disk "$QDIR/vfat.img")"
qemu_expect 'overlive# ' 120 >/dev/null
qemu_run 'mount -o remount,rw /run/live/medium && persist init --file /run/live/medium/big.dat --size 5G 2>/tmp/err; echo "rc=$?" >> /tmp/err; cat /tmp/err'
qemu_run 'grep -q "unable to create /run/live/medium/big.dat: a file on its file system (vfat) holds at most 4 GiB - 1 bytes (4294967295; nothing was written): give --size 4095M or less, or keep the save file on exFAT or ext4" /tmp/err && grep -qx rc=100 /tmp/err'
ok $? "vfat: persist init --size 5G is refused (exit 100), naming the 4 GiB - 1 limit and what to do"
qemu_run '! ls /run/live/medium/big.dat* 2>/dev/null'
ok $? "vfat: nothing was written"
qemu_run 'persist init --file /run/live/medium/big.dat --size 4095M 2>/tmp/err2; ! grep -q "4 GiB - 1" /tmp/err2 && grep -q "less than the" /tmp/err2'
ok $? "vfat: 4095M is within the limit (refused here only for the room the small medium lacks)"
qemu_stop

# --- exFAT: persist grow past 4 GiB, then the guest restores from that file
if [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v mount.exfat-fuse >/dev/null && command -v mkfs.exfat >/dev/null; then
	truncate -s 5G "$QDIR/big.img"
	mkfs.exfat -L BIG "$QDIR/big.img" >/dev/null
	mkdir -p "$QDIR/m" "$QDIR/up"
	echo from-the-big-file > "$QDIR/up/bigmark"
	loop=$(losetup -f --show "$QDIR/big.img")
	mount.exfat-fuse "$loop" "$QDIR/m" >/dev/null 2>&1
	"$P" init --quiet --file "$QDIR/m/save.dat" --size 8M && "$P" save --quiet --file "$QDIR/m/save.dat" --upper "$QDIR/up" >/dev/null
	"$P" grow --file "$QDIR/m/save.dat" --size 4200M > "$QDIR/grow.log" 2>&1
	r=$?
	size=$(stat -c %s "$QDIR/m/save.dat")
	ok $((r || size <= 4294967295)) "exFAT: persist grow --size 4200M: the save file is $size bytes, past 4 GiB"
	umount "$QDIR/m"; losetup -d "$loop"
	fsck.exfat -n "$QDIR/big.img" > "$QDIR/fsck.log" 2>&1
	ok $? "exFAT: fsck.exfat -n finds the filesystem clean after the grow"
	qemu_start "live.persist=LABEL=BIG:/save.dat" -drive "$(disk "$QDIR/vfat.img")" -drive "$(disk "$QDIR/big.img")"
	qemu_expect 'overlive# ' 180 >/dev/null
	qemu_run 'test "$(cat /bigmark)" = from-the-big-file && grep -q " /run/live/persist exfat " /proc/mounts && persist verify --file /run/live/persist/save.dat >/dev/null'
	ok $? "exFAT: the guest's exfat driver mounts it, restores from the 4.2 GB save file, and verifies it"
	qemu_stop
	rm -f "$QDIR/big.img"
else
	skip 3 "exFAT grow: needs root, /dev/fuse, exfat-fuse and exfatprogs"
fi
done_testing
