#!/usr/bin/env bash
# tests/images/iso.t: ./build.sh iso makes a hybrid ISO: El Torito images for BIOS (isolinux) and
# UEFI (a FAT with systemd-boot), an MBR whose second entry is that FAT (type ef); it boots
# written to a stick (here: a virtio disk) through SeaBIOS and OVMF, and as a CD under SeaBIOS.
# Disks: out/minimal.iso, as a virtio disk, then on QEMU's IDE CD-ROM.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
command -v xorriso >/dev/null || skip_all "xorriso is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin

O=$O "$TOP/build.sh" iso minimal > "$QDIR/build.log" 2>&1
ok $? "./build.sh iso makes an ISO" || { sed 's/^/# /' "$QDIR/build.log"; bail "no ISO"; }
iso=$(tail -n 1 "$QDIR/build.log")
is "$iso" "$O/minimal.iso" "it prints the ISO on its last line"
xorriso -indev "$iso" -report_el_torito plain 2>/dev/null > "$QDIR/et"
grep -q 'El Torito boot img : *1 *BIOS' "$QDIR/et" && grep -q 'El Torito boot img : *2 *UEFI' "$QDIR/et"
ok $? "El Torito holds a BIOS and a UEFI boot image"
is "$(sfdisk -d "$iso" 2>/dev/null | grep -c 'type=ef')" 1 "the hybrid MBR has the EFI image as a partition (type ef)"
cmp -s -n 432 "$iso" /usr/lib/ISOLINUX/isohdpfx.bin
ok $? "the first 432 bytes are isolinux's isohybrid MBR"
diag "bench: ISO $(stat -c %s "$iso") bytes"

boot() { # WHAT FW QEMU-ARGS...
	local what=$1 fw=$2
	shift 2
	if [ "$fw" = uefi ]; then
		cp "$OVMF_VARS" "$QDIR/vars.fd"
		set -- -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" -drive "if=pflash,format=raw,file=$QDIR/vars.fd" "$@"
	fi
	: > "$QLOG"; QPOS=0; QSTART=$(date +%s.%N)
	rm -f "$QDIR/in" && mkfifo "$QDIR/in"
	qemu-system-x86_64 -accel "$ACCEL" -m "$QEMU_MEM" -display none -monitor none -serial stdio \
		-no-reboot -nodefaults "$@" < "$QDIR/in" > "$QLOG" 2>&1 &
	QPID=$!
	exec {QIN}> "$QDIR/in"
	if qemu_expect 'overlive-minimal: ready' 150; then
		ok 0 "$what: boots to the root's init"; diag "bench: $what: $(qemu_disk_elapsed) s"
		qemu_expect 'overlive# ' 20 >/dev/null
		qemu_run 'grep -q " /run/live/medium iso9660 ro" /proc/mounts'
		ok $? "$what: the ISO 9660 file system is the medium"
	else
		ok 1 "$what: boots to the root's init"; qemu_show; skip 1 "no boot"
	fi
	qemu_stop
}
boot "stick, SeaBIOS" bios -drive "file=$iso,format=raw,if=virtio,readonly=on"
if qemu_disk_can uefi; then
	boot "stick, OVMF" uefi -drive "file=$iso,format=raw,if=virtio,readonly=on"
else
	skip 2 "no OVMF firmware"
fi
if zstd -dc "$O/initramfs.img" | cpio -t 2>/dev/null | grep -q 'sr_mod'; then
	boot "CD, SeaBIOS" bios -drive "file=$iso,media=cdrom,if=ide,readonly=on"
else
	skip 2 "the initramfs has no sr_mod/ata_piix yet (kmod's storage drivers): no CD boot"
fi
rm -f "$iso"
done_testing
