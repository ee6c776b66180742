#!/usr/bin/env bash
# tests/images/boot.t: one disk image from images/mkimage.sh (as ./build.sh image makes it) has the
# promised layout and boots through SeaBIOS and OVMF, as a virtio disk and as USB storage.
# Disk: GPT, 1: ESP "overlive" (FAT32, LegacyBIOSBootable, gptmbr.bin in the MBR) with systemd-boot,
# syslinux, live/vmlinuz, live/initrd.img, live/root.sqfs; 2: ext4 "persistence"; --size 200M.
# Prints "# bench:" lines: wall time from QEMU start to the root's init, and the image's size.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin MTOOLS_SKIP_CHECK=1

img=$QDIR/minimal.img
"$TOP/images/mkimage.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$O/minimal.sqfs" \
	--out "$img" --persist partition --size 200M 2>"$QDIR/mkimage.log"
ok $? "mkimage.sh --persist partition --size 200M makes an image" || { sed 's/^/# /' "$QDIR/mkimage.log"; bail "no image"; }

# ---- the layout, as sfdisk -J and the bytes say
is "$(stat -c %s "$img")" $((200 << 20)) "the image is exactly --size (200 MiB)"
is "$(part_field "$img" - label)" gpt "the partition table is GPT"
is "$(part_field "$img" 0 type)" C12A7328-F81F-11D2-BA4B-00A0C93EC93B "partition 1 is an EFI System Partition"
is "$(part_field "$img" 0 start)" 2048 "partition 1 starts at 1 MiB"
is "$(part_field "$img" 0 attrs)" LegacyBIOSBootable "partition 1 carries LegacyBIOSBootable (for gptmbr.bin)"
is "$(part_field "$img" 1 name)" persistence "partition 2 is named persistence"
is "$(part_field "$img" 1 type)" 0FC63DAF-8483-4772-8E79-3D69D8477DE4 "partition 2 is a Linux file system partition"
end=$(( $(part_field "$img" 1 start) + $(part_field "$img" 1 size) ))
ok $(( end <= $(part_field "$img" - lastlba) + 1 ? 0 : 1 )) "partition 2 ends inside the usable area (before the backup GPT)"
cmp -s -n 440 "$img" /usr/lib/syslinux/mbr/gptmbr.bin
ok $? "the first 440 bytes are syslinux's gptmbr.bin"
esp="$img@@$(( $(part_field "$img" 0 start) * 512 ))"
dd if="$img" bs=512 skip=2048 count=1 status=none | file - | grep -q 'FAT (32 bit)'
ok $? "the ESP is FAT32"
is "$(dd if="$img" bs=512 skip=2048 count=1 status=none | dd bs=1 skip=71 count=11 status=none)" "OVERLIVE   " \
	"the ESP's boot sector carries the label OVERLIVE"
mdir -a -b -i "$esp" ::/ -/ > "$QDIR/esp.list" 2>&1
for f in EFI/BOOT/BOOTX64.EFI loader/loader.conf loader/entries/overlive.conf syslinux/ldlinux.sys \
	syslinux/ldlinux.c32 syslinux/syslinux.cfg live/vmlinuz live/initrd.img live/root.sqfs; do
	grep -qi "^::/$f\$" "$QDIR/esp.list"
	ok $? "the ESP holds /$f"
done
cmp -s <(mtype -i "$esp" ::live/root.sqfs) "$O/minimal.sqfs"
ok $? "live/root.sqfs is the squashfs, byte for byte"
sd=$(mtype -i "$esp" ::loader/entries/overlive.conf | tr -d '\r' | sed -n 's/^options //p')
sl=$(mtype -i "$esp" ::syslinux/syslinux.cfg | tr -d '\r' | sed -n 's/^[[:space:]]*APPEND //p')
ok $([ -n "$sd" ] && [ "$sd" = "$sl" ] && echo 0 || echo 1) "systemd-boot and syslinux start the same command line ($sd)"
uuid=$(minfo -i "$esp" :: 2>/dev/null | sed -n 's/.*serial number: \([0-9A-Fa-f]*\).*/\1/p')
grep -q "live.media=UUID=${uuid:0:4}-${uuid:4:4}" <<<"$sd"
ok $? "the command line names the ESP by its volume id (UUID=${uuid:0:4}-${uuid:4:4})"
grep -q "live.upper=LABEL=persistence" <<<"$sd"
ok $? "the command line asks for the persistence partition"
diag "bench: image $(stat -c %s "$img") bytes apparent, $(( $(du -k "$img" | cut -f1) / 1024 )) MiB allocated (sparse)"

# ---- boots: the default console words (tty0 + ttyS0) leave the shell on the serial port
boot() { # FW ATTACH
	qemu_disk_start "$1" "$2" "$img"
	if qemu_expect 'overlive-minimal: ready' 150; then
		ok 0 "$1, $2: boots to the root's init"
		diag "bench: $1 $2: root's init after $(qemu_disk_elapsed) s wall"
	else
		ok 1 "$1, $2: boots to the root's init"; qemu_show; qemu_stop; skip 1 "no boot"; return
	fi
	qemu_expect 'overlive# ' 20 >/dev/null
	local dev=vda
	[ "$2" = usb ] && dev=sda
	qemu_run "grep -q '^/dev/${dev}1 /run/live/medium vfat ro' /proc/mounts && grep -q '^/dev/${dev}2 /run/live/upper ext4 rw' /proc/mounts"
	ok $? "$1, $2: the ESP (/dev/${dev}1) is the medium, the persistence partition the upper"
	qemu_stop
}
boot bios virtio
qemu_disk_can uefi && boot uefi virtio || skip 2 "no OVMF firmware ($OVMF_CODE): apt-get install ovmf"
if zstd -dc "$O/initramfs.img" | cpio -t 2>/dev/null | grep -q 'usb-storage\|usb_storage'; then
	boot bios usb
	qemu_disk_can uefi && boot uefi usb || skip 2 "no OVMF firmware"
else
	skip 4 "the initramfs has no usb-storage module yet (kmod's storage drivers: xhci, usb-storage, sd_mod)"
fi
done_testing
