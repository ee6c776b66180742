#!/usr/bin/env bash
# tests/images/kiosk.t: the kiosk recipe: its one service starts at boot and comes back when it
# dies, no shell answers on the console, everything is reset at each boot except the listed paths.
# Disk: ./build.sh image --recipe kiosk --name kiosktest (image.args: --persist data): GPT, ESP +
# ext4 "persistence" that the kiosk's /etc/rc mounts itself; booted by SeaBIOS, then OVMF.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/vmlinuz" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin

if ! O=$O "$TOP/build.sh" image --recipe kiosk --name kiosktest > "$QDIR/build.log" 2>&1; then
	sed 's/^/# /' "$QDIR/build.log"
	bail "./build.sh image --recipe kiosk failed"
fi
img=$(tail -n 1 "$QDIR/build.log")
is "$img" "$O/kiosktest.img" "./build.sh image --recipe kiosk prints the image on its last line"
mv "$img" "$QDIR/kiosk.img" && rm -f "$O/kiosktest.sqfs"
img=$QDIR/kiosk.img
is "$(part_field "$img" 1 name)" persistence "the kiosk image has its data partition"

wait_off() {
	for _ in $(seq 150); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 0.2; done
	qemu_stop
	return 1
}

# ---- first boot
qemu_disk_start bios virtio "$img"
qemu_expect 'kiosk: keeping /home/kiosk/data /etc/kiosk/settings on /dev/vda2' 120
ok $? "first boot: /etc/rc keeps the listed paths on the data partition"
qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 1, scratch absent, greeting=welcome' 30
ok $? "first boot: the service starts, as its own user, with the image's settings"
qemu_send 'echo "shell-$((6 * 7))"'
qemu_expect 'kiosk-demo: you typed' 10 >/dev/null
sleep 2
! tail -c +$((QPOS + 1)) "$QLOG" | grep -aq '^shell-42' && ! grep -aq '^shell-42' "$QLOG" && ! grep -aq 'overlive# ' "$QLOG"
ok $? "no shell answers on the console"
qemu_send quit
qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 2, scratch present' 20
ok $? "a service that exits is started again (same boot: its scratch is still there)"
qemu_send poweroff
qemu_expect 'overlive-kiosk: stopped' 30 >/dev/null
wait_off
ok $? "the service can power the machine off cleanly"
start=$(part_field "$img" 1 start) size=$(part_field "$img" 1 size)
dd if="$img" of="$QDIR/data.ext4" bs=512 skip="$start" count="$size" status=none
e2fsck -fn "$QDIR/data.ext4" >/dev/null 2>&1 && dumpe2fs -h "$QDIR/data.ext4" 2>/dev/null | grep -q '^Filesystem state: *clean$'
ok $? "the data partition is clean after poweroff"
is "$(debugfs -R 'cat /keep/home/kiosk/data/starts' "$QDIR/data.ext4" 2>/dev/null)" 2 "the kept file holds what the service wrote"
debugfs -R 'ls -l /keep/home/kiosk' "$QDIR/data.ext4" 2>/dev/null | grep -q ' 1000 *1000 .* data *$' ||
	debugfs -R 'stat /keep/home/kiosk/data' "$QDIR/data.ext4" 2>/dev/null | grep -q 'User:  1000'
ok $? "the kept directory belongs to the kiosk user"
rm -f "$QDIR/data.ext4"

# ---- second boot, other firmware: kept paths kept, the rest reset
if qemu_disk_can uefi; then
	qemu_disk_start uefi virtio "$img"
	qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 3, scratch absent' 150
	ok $? "second boot (UEFI): the kept count goes on (3), the scratch file is gone (reset)"
	qemu_stop
else
	skip 1 "no OVMF firmware ($OVMF_CODE)"
fi

# ---- live.break is the way to a shell (the initramfs's rescue shell)
uuid=$(mtype -i "$img@@1048576" ::loader/entries/overlive.conf | grep -o 'live.media=UUID=[0-9A-F-]*')
qemu_start "$uuid live.break" -drive "file=$img,format=raw,if=virtio"
qemu_expect 'overlive rescue# ' 90 >/dev/null
qemu_run 'test -x /newroot/etc/kiosk/service'
ok $? "live.break opens a shell before the kiosk starts"
qemu_stop
done_testing
