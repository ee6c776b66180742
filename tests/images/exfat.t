#!/usr/bin/env bash
# tests/images/exfat.t: a stick image with the layers and the save file on exFAT
# (./build.sh image --medium exfat --persist save): boots under SeaBIOS, saves at poweroff,
# restores under OVMF, saves again, restores again under SeaBIOS. Between boots the host checks
# the exFAT partition with fsck.exfat -n and reads the save file out of it (exfat-fuse, then
# persist restore into a directory: an oracle outside the guest's kernel).
# Disk: GPT, partition 1 the ESP (FAT32: loaders, vmlinuz, initrd.img), partition 2
# "overlive-data" (exFAT labelled OVERLIVE: live/root.sqfs, live/SHA256SUMS, /persist.dat).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
qemu_disk_can uefi || skip_all "no OVMF firmware ($OVMF_CODE): apt-get install ovmf"
export PATH=$PATH:/sbin:/usr/sbin MTOOLS_SKIP_CHECK=1
command -v fsck.exfat >/dev/null || skip_all "fsck.exfat is not installed (exfatprogs)"
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v mount.exfat-fuse >/dev/null ||
	skip_all "making and reading an exFAT stick image needs root, /dev/fuse and exfat-fuse"
P=$O/bin/persist
img=$QDIR/ex.img

wait_off() {
	for _ in $(seq 150); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 0.2; done
	qemu_stop
	return 1
}
# exfat_part IMAGE OUT: the exFAT partition as a file
exfat_part() { dd if="$1" of="$2" bs=1M skip=$(( $(part_field "$1" 1 start) / 2048 )) \
	count=$(( $(part_field "$1" 1 size) / 2048 )) status=none; }
# host_read WHAT FILE-WANT: fsck.exfat -n, then the save file read out and restored on the host
host_read() {
	local what=$1 want=$2 loop r
	exfat_part "$img" "$QDIR/part.exfat"
	fsck.exfat -n "$QDIR/part.exfat" > "$QDIR/fsck.log" 2>&1
	ok $? "$what: fsck.exfat -n finds the exFAT clean" || sed 's/^/# /' "$QDIR/fsck.log"
	rm -rf "$QDIR/m" "$QDIR/r" && mkdir -p "$QDIR/m" "$QDIR/r"
	loop=$(losetup -f --show "$QDIR/part.exfat")
	mount.exfat-fuse -o ro "$loop" "$QDIR/m" >/dev/null 2>&1
	"$P" verify --file "$QDIR/m/persist.dat" > "$QDIR/verify.log" 2>&1 &&
		"$P" restore --any-lower --file "$QDIR/m/persist.dat" --into "$QDIR/r" > "$QDIR/restore.log" 2>&1 &&
		[ "$(cat "$QDIR/r/root/note" 2>/dev/null)" = "$want" ]
	r=$?
	umount "$QDIR/m"; losetup -d "$loop"; rm -f "$QDIR/part.exfat"
	ok $r "$what: the host reads the save file off the exFAT: persist verify, and restore holds /root/note '$want'" ||
		sed 's/^/# /' "$QDIR/verify.log" "$QDIR/restore.log"
}

O=$O "$TOP/build.sh" image --name extest --medium exfat --persist save --console console=ttyS0 > "$QDIR/image.log" 2>&1
ok $? "./build.sh image --medium exfat --persist save makes a disk image" || { sed 's/^/# /' "$QDIR/image.log"; bail "no image"; }
mv "$O/extest.img" "$img"; rm -f "$O/extest.sqfs"
[ "$(part_field "$img" 1 name)" = overlive-data ] &&
	[ "$(part_field "$img" 1 type)" = EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 ] &&
	[ "$(part_field "$img" 0 type)" = C12A7328-F81F-11D2-BA4B-00A0C93EC93B ]
ok $? "GPT: the ESP, then a Microsoft basic data partition 'overlive-data' (what desktop systems mount)"
exfat_part "$img" "$QDIR/p2"
[ "$(blkid -p -o value -s TYPE "$QDIR/p2")" = exfat ] && [ "$(blkid -p -o value -s LABEL "$QDIR/p2")" = OVERLIVE ] &&
	grep -q "live.media=UUID=$(blkid -p -o value -s UUID "$QDIR/p2")" "$QDIR/image.log"
ok $? "blkid: partition 2 is exFAT labelled OVERLIVE, and the command line names its UUID"
rm -f "$QDIR/p2"
dd if="$img" of="$QDIR/esp" bs=512 skip="$(part_field "$img" 0 start)" count="$(part_field "$img" 0 size)" status=none
mdir -i "$QDIR/esp" ::live/initrd.img >/dev/null 2>&1 && ! mdir -i "$QDIR/esp" ::live/root.sqfs >/dev/null 2>&1
ok $? "the ESP holds the kernel and initramfs, not the layers"
rm -f "$QDIR/esp"

# boot WHAT FW: boots IMAGE under FW to the shell
boot() {
	qemu_disk_start "$2" virtio "$img"
	qemu_expect 'overlive-minimal: ready' 180 && qemu_expect 'overlive# ' 20 >/dev/null
}
# --- boot 1, SeaBIOS: a change, saved at poweroff
boot first bios
ok $? "first boot (SeaBIOS) reaches the shell"
qemu_run 'grep -q " /run/live/medium exfat " /proc/mounts && grep -q " /run/live/lower squashfs" /proc/mounts'
ok $? "first boot: the medium is the exFAT partition, the layer from it"
qemu_run 'mkdir -p /root && echo "first" > /root/note'
qemu_send 'poweroff'
qemu_expect 'shutdown: the changes are saved in /persist.dat' 60
ok $? "first boot: at poweroff the exit environment created the save file on exFAT and saved"
wait_off
host_read "after the first poweroff" first

# --- boot 2, OVMF: restored; changed, saved again
boot second uefi
ok $? "second boot (OVMF) reaches the shell"
qemu_run 'test "$(cat /root/note)" = first'
ok $? "second boot: the first boot's change was restored from exFAT"
qemu_run 'echo "second" > /root/note'
qemu_send 'poweroff'
qemu_expect 'shutdown: the changes are saved in /persist.dat' 60
ok $? "second boot: saved at poweroff"
wait_off
host_read "after the second poweroff" second

# --- boot 3, SeaBIOS: restored again
boot third bios
ok $? "third boot (SeaBIOS) reaches the shell"
qemu_run 'test "$(cat /root/note)" = second'
ok $? "third boot: the second boot's change was restored"
qemu_stop
done_testing
