#!/usr/bin/env bash
# tests/boot/exfat.t: the medium on exFAT, as most large USB sticks come formatted.
# Disks (virtio): an exFAT filesystem made by mkfs.exfat (exfatprogs) and filled through exfat-fuse
# (images/exfat-fill.sh), holding live/root.sqfs (the minimal root plus /opt/demo), a second layer
# live/zz-top.sqfs, live/SHA256SUMS and an ISO file isos/os.iso; the why-not case attaches an
# exFAT disk that does not match. blkid on the host is the oracle for LABEL and UUID.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -d "$O/root-minimal" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.exfat >/dev/null || skip_all "mkfs.exfat is not installed (exfatprogs)"
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v mount.exfat-fuse >/dev/null ||
	skip_all "filling an exFAT image needs root, /dev/fuse and exfat-fuse"

disk() { echo "file=$1,format=raw,if=virtio"; }
ready() { qemu_expect 'overlive# ' "${1:-120}" >/dev/null; }

base=$QDIR/base
cp -a "$O/root-minimal" "$base"
mkdir -p "$base/opt/demo"
echo a > "$base/opt/demo/a"; echo b > "$base/opt/demo/b"
mksquashfs "$base" "$QDIR/root.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null
mkdir -p "$QDIR/top/opt/demo"
echo b2 > "$QDIR/top/opt/demo/b"; echo top > "$QDIR/top/opt/demo/top"
mksquashfs "$QDIR/top" "$QDIR/zz-top.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null
mkdir -p "$QDIR/iso/live"
cp "$QDIR/root.sqfs" "$QDIR/iso/live/root.sqfs"
(cd "$QDIR/iso/live" && sha256sum root.sqfs > SHA256SUMS)
xorriso -as mkisofs -quiet -V OVERLIVE_ISO -o "$QDIR/os.iso" "$QDIR/iso" 2>/dev/null

LAYERS="$QDIR/zz-top.sqfs" EXTRA="$QDIR/os.iso:isos/os.iso" \
	"$TOP/images/mkmedium.sh" exfat "$QDIR/root.sqfs" "$QDIR/ex.img" "Stick 64G"
ok $? "mkmedium.sh exfat: an exFAT medium with live/ and an ISO file"
[ "$(blkid -p -o value -s TYPE "$QDIR/ex.img")" = exfat ]
ok $? "blkid: the medium is exfat"
fsck.exfat -n "$QDIR/ex.img" >/dev/null 2>&1
ok $? "fsck.exfat -n: the medium is clean"
uuid=$(blkid -p -o value -s UUID "$QDIR/ex.img")

# --- LABEL= (with a blank in it), the layers stacked, live.verify over both
qemu_start "\"live.media=LABEL=Stick 64G\" live.verify" -drive "$(disk "$QDIR/ex.img")"
qemu_expect "medium /dev/vda: exfat label 'Stick 64G' uuid '$uuid'" 120
ok $? "LABEL=: the exFAT medium is found, with the label and UUID blkid reads"
qemu_expect 'verify zz-top.sqfs: SHA-256 [0-9a-f]{64} ok' 60
ok $? "live.verify: the layers on exFAT match live/SHA256SUMS"
ready
qemu_run 'grep -q "^/dev/vda /run/live/medium exfat ro" /proc/mounts'
ok $? "the medium is mounted as exfat, read-only"
qemu_run 'grep -q "lowerdir=/run/live/layers/1-zz-top.sqfs:/run/live/lower," /proc/mounts && test "$(cat /opt/demo/b)" = b2 && test "$(cat /opt/demo/top)" = top && test "$(cat /opt/demo/a)" = a'
ok $? "layers: live/*.sqfs from exFAT stack, the top layer's files win"
qemu_run 'grep -q "^exfat " /proc/modules'
ok $? "the exfat module was loaded for it"
qemu_stop

# --- UUID= and live.toram: copied to RAM, the medium released
QEMU_MONITOR=1 qemu_start "live.media=UUID=$uuid live.toram" -drive "file=$QDIR/ex.img,format=raw,if=none,id=d0" \
	-device virtio-blk-pci,drive=d0,id=stick
qemu_expect 'live.toram: /dev/vda is no longer used and can be removed' 120
ok $? "UUID= and live.toram: found by its serial, the layers copied to RAM, the medium released"
ready
qemu_monitor "device_del stick" >/dev/null
qemu_run 'for i in 1 2 3 4 5 6 7 8 9 10; do test -e /sys/block/vda || break; sleep 1; done; ! test -e /sys/block/vda && echo 3 > /proc/sys/vm/drop_caches && test "$(cat /opt/demo/top)" = top && cat /bin/busybox >/dev/null'
ok $? "live.toram: the stick pulled, the system keeps reading its files"
qemu_stop

# --- live.iso: an ISO file on the exFAT stick
qemu_start "live.media=UUID=$uuid live.iso=/isos/os.iso live.verify" -drive "$(disk "$QDIR/ex.img")"
ready
qemu_run 'grep -q "^/dev/loop[0-9]* /run/live/iso iso9660" /proc/mounts && grep -q " /run/live/medium exfat" /proc/mounts && dmesg | grep -q "verify root.sqfs: SHA-256 .* ok"'
ok $? "live.iso: the ISO file on exFAT is looped and mounted, its squashfs verified and the lower"
qemu_run '! test -e /opt/demo/top'
ok $? "live.iso: the layers are the ISO's, not the stick's live/"
qemu_stop

# --- no medium: the why-not table names the exFAT disk, its label and UUID
qemu_start "live.media=LABEL=NOPE live.wait=2" -drive "$(disk "$QDIR/ex.img")"
qemu_expect 'no device matches LABEL=NOPE' 120
ok $? "why not: says no device matches"
qemu_expect "vda .*exfat .*Stick 64G .*$uuid .*label is 'Stick 64G', not 'NOPE'" 10
ok $? "why not: the exFAT disk, its label and UUID, and why it was rejected"
qemu_stop
done_testing
