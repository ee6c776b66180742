#!/usr/bin/env bash
# tests/images/persist.t: disk-upper persistence: write, clean poweroff, boot again under the other
# firmware, read (the fall-backs are in fallback.t).
# Disks: (1) a GPT image from images/mkimage.sh --persist partition: ESP (FAT32, live/root.sqfs)
# + ext4 partition labelled persistence; booted by SeaBIOS, then OVMF. (2) --persist file: the
# same ESP holding live/persistence.img (ext4); booted by OVMF, then SeaBIOS. Attached as USB
# storage (xHCI) when the initramfs has usb-storage, else as virtio.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
. "$TOP/tests/lib/fat.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
qemu_disk_can uefi || skip_all "no OVMF firmware ($OVMF_CODE): apt-get install ovmf"
export PATH=$PATH:/sbin:/usr/sbin
command -v fsck.fat >/dev/null || skip_all "fsck.fat is not installed: apt-get install dosfstools"

mkimg() { # OUT PERSIST: a minimal image with the serial console
	"$TOP/images/mkimage.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$O/minimal.sqfs" \
		--out "$1" --persist "$2" --console console=ttyS0 2>"$QDIR/mkimage.log"
}

# wait_off: after a clean poweroff, QEMU exits by itself
wait_off() {
	for _ in $(seq 150); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 0.2; done
	qemu_stop
	return 1
}

# round_trip WHAT IMAGE FW1 FW2 EXTRACT: EXTRACT IMAGE OUT copies the persistence ext4 out of IMAGE
round_trip() {
	local what=$1 img=$2 fw1=$3 fw2=$4 extract=$5
	qemu_disk_start "$fw1" "$ATTACH" "$img"
	if ! qemu_expect 'overlive-minimal: ready' 180; then
		ok 1 "$what: first boot ($fw1) reaches the root's init"; qemu_show; qemu_stop; skip $([ "$extract" = file_of ] && echo 8 || echo 7) "no boot"; return
	fi
	ok 0 "$what: first boot ($fw1) reaches the root's init"
	qemu_expect 'overlive# ' 20 >/dev/null
	qemu_run 'grep -q " /run/live/upper ext4 rw" /proc/mounts'
	ok $? "$what: the upper is the ext4 persistence, read-write"
	if [ "$extract" = file_of ]; then
		grep -aq 'is one run of clusters at byte [0-9]* of /dev/[a-z0-9]*: written there, the FAT stays read-only' "$QLOG" &&
			qemu_run 'grep -q " /run/live/medium vfat ro" /proc/mounts'
		ok $? "$what: the image is written through its clusters on the device; the FAT is mounted read-only"
	fi
	qemu_run 'echo "kept across boots" > /root/note && rm /etc/hostname && mkdir -p /var/lib/app && echo 1 > /var/lib/app/state'
	qemu_send 'poweroff'
	qemu_expect 'overlive-minimal: stopped' 30 >/dev/null
	wait_off
	ok $? "$what: a clean poweroff ends QEMU"
	"$extract" "$img" "$QDIR/p.ext4"
	e2fsck -fn "$QDIR/p.ext4" > "$QDIR/fsck.log" 2>&1 &&
		dumpe2fs -h "$QDIR/p.ext4" 2>/dev/null | grep -q '^Filesystem state: *clean$' &&
		! dumpe2fs -h "$QDIR/p.ext4" 2>/dev/null | grep -q needs_recovery
	ok $? "$what: after poweroff the ext4 is clean (e2fsck -fn, no journal to replay)" || sed 's/^/# /' "$QDIR/fsck.log"
	esp_clean "$what" "$img"

	qemu_disk_start "$fw2" "$ATTACH" "$img"
	if ! qemu_expect 'overlive-minimal: ready' 180; then
		ok 1 "$what: second boot ($fw2) reaches the root's init"; qemu_show; qemu_stop; skip 2 "no boot"; return
	fi
	ok 0 "$what: second boot ($fw2) reaches the root's init"
	qemu_expect 'overlive# ' 20 >/dev/null
	qemu_run 'grep -qx "kept across boots" /root/note && grep -qx 1 /var/lib/app/state'
	ok $? "$what: the files written in the first boot are there in the second"
	qemu_run '! test -e /etc/hostname && test -e /run/live/lower/etc/hostname'
	ok $? "$what: a lower file deleted in the first boot stays deleted (its whiteout persisted)"
	qemu_stop
}

# esp_clean WHAT IMAGE: after a clean poweroff the ESP's FAT (the medium) has nothing for fsck.fat
# to repair and its dirty bit is clear (in file mode the image is written in place through it)
esp_clean() {
	local r=0
	dd if="$2" of="$QDIR/esp.fat" bs=512 skip="$(part_field "$2" 0 start)" count="$(part_field "$2" 0 size)" status=none
	fsck.fat -n "$QDIR/esp.fat" > "$QDIR/fsck.log" 2>&1 || r=$?
	fat_geom "$QDIR/esp.fat"
	fat_is_dirty "$QDIR/esp.fat" && r=1
	ok $r "$1: after poweroff the ESP's FAT is clean (fsck.fat -n, no dirty bit)" || sed 's/^/# /' "$QDIR/fsck.log"
	rm -f "$QDIR/esp.fat"
}
part_of() { dd if="$1" of="$2" bs=1M skip=$(( $(part_field "$1" 1 start) / 2048 )) \
	count=$(( $(part_field "$1" 1 size) / 2048 )) status=none; }
file_of() {
	local start
	start=$(part_field "$1" 0 start)
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1@@$((start * 512))" ::live/persistence.img "$2"
}


# USB storage when the initramfs has its drivers (kmod), as a stick really is; else virtio
ATTACH=virtio
if zstd -dc "$O/initramfs.img" | cpio -t 2>/dev/null | grep -q 'usb_storage\|usb-storage'; then
	ATTACH=usb
else
	diag "the initramfs has no usb-storage module: the disks are attached as virtio"
fi
mkimg "$QDIR/part.img" partition || { sed 's/^/# /' "$QDIR/mkimage.log"; bail "mkimage.sh failed"; }
round_trip "partition, $ATTACH" "$QDIR/part.img" bios uefi part_of
rm -f "$QDIR/part.img"

mkimg "$QDIR/file.img" file || { sed 's/^/# /' "$QDIR/mkimage.log"; bail "mkimage.sh failed"; }
round_trip "file, $ATTACH" "$QDIR/file.img" uefi bios file_of
rm -f "$QDIR/file.img"

done_testing
