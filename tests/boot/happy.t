#!/usr/bin/env bash
# tests/boot/happy.t: the minimal system boots from each kind of medium, and / is the overlay.
# Disks: one virtio disk, the medium: ext4 by UUID, vfat by LABEL, a raw squashfs partition by
# PARTLABEL and by its GPT PARTUUID, an MBR disk's ext4 partition by PARTUUID; then a user's own root tree made with ./build.sh image --root, on ext4 by LABEL.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"

# boots MEDIUM with APPEND and checks, from inside, the overlay and where writes land
check_boot() {
	local what=$1 medium=$2 append=$3
	qemu_start "$append" -drive "file=$medium,format=raw,if=virtio"
	if ! qemu_expect 'overlive-minimal: ready' 90; then
		ok 1 "$what: reaches the root's init"; qemu_show; qemu_stop; return
	fi
	ok 0 "$what: reaches the root's init"
	qemu_expect 'overlive# ' 20 >/dev/null
	qemu_run 'grep -q "^overlay / overlay .*lowerdir=/run/live/lower,upperdir=/run/live/upper/upper" /proc/mounts'
	ok $? "$what: / is an overlay of /run/live/lower and /run/live/upper/upper"
	qemu_run 'grep -q " /run/live/lower squashfs ro" /proc/mounts'
	ok $? "$what: the lower is the squashfs, read-only"
	qemu_run 'grep -q "^tmpfs /run/live/upper tmpfs " /proc/mounts'
	ok $? "$what: the upper is a tmpfs"
	qemu_run 'echo written-in-the-guest > /hello && grep -qx written-in-the-guest /run/live/upper/upper/hello && ! test -e /run/live/lower/hello'
	ok $? "$what: a file written to / lands in the upper, not the lower"
	qemu_run 'test -x /bin/busybox && test "$(cat /proc/1/comm)" = init'
	ok $? "$what: the root's init is PID 1"
	qemu_stop
}

sq=$O/minimal.sqfs
"$TOP/images/mkmedium.sh" ext4 "$sq" "$QDIR/ext4.img" OVERLIVE
uuid=$(blkid -o value -s UUID "$QDIR/ext4.img")
check_boot "ext4 medium by UUID" "$QDIR/ext4.img" "live.media=UUID=$uuid"

"$TOP/images/mkmedium.sh" vfat "$sq" "$QDIR/vfat.img" MYSTICK
check_boot "vfat medium by LABEL" "$QDIR/vfat.img" "live.media=LABEL=MYSTICK"

"$TOP/images/mkmedium.sh" raw "$sq" "$QDIR/raw.img"
check_boot "raw squashfs partition by PARTLABEL" "$QDIR/raw.img" "live.media=PARTLABEL=overlive-root"

# PARTUUID=: a GPT partition's GUID (sfdisk says it), and an MBR disk's signature-partition number.
partuuid=$(sfdisk --part-uuid "$QDIR/raw.img" 1 | tr A-F a-f)
check_boot "raw squashfs partition by its GPT PARTUUID" "$QDIR/raw.img" "live.media=PARTUUID=$partuuid"
sectors=$(( $(stat -c %s "$QDIR/ext4.img") / 512 ))
truncate -s $(( (2048 + sectors) * 512 )) "$QDIR/mbr.img"
printf 'label: dos\nlabel-id: 0x5eed0123\nstart=2048, size=%d, type=83\n' "$sectors" | sfdisk -q "$QDIR/mbr.img"
dd if="$QDIR/ext4.img" of="$QDIR/mbr.img" bs=512 seek=2048 conv=notrunc status=none
check_boot "ext4 partition of an MBR disk by PARTUUID" "$QDIR/mbr.img" "live.media=PARTUUID=5EED0123-01"

# A user's own root: a tree with its own init, through ./build.sh image --root.
tree=$QDIR/userroot
mkdir -p "$tree"/{bin,sbin,etc,proc,sys,dev,run,tmp}
cp /bin/busybox "$tree/bin/busybox"
for a in sh cat grep echo test mount poweroff; do ln -s busybox "$tree/bin/$a"; done
cat > "$tree/sbin/myinit" <<'INIT'
#!/bin/sh
echo "user-root: my own init runs as PID $$"
exec /bin/sh
INIT
chmod +x "$tree/sbin/myinit"
if O=$O "$TOP/build.sh" image --root "$tree" --name usertest > "$QDIR/image.log" 2>&1; then
	ok 0 "./build.sh image --root DIR makes out/usertest.sqfs"
	"$TOP/images/mkmedium.sh" ext4 "$O/usertest.sqfs" "$QDIR/user.img" OVERLIVE
	qemu_start "live.init=/sbin/myinit" -drive "file=$QDIR/user.img,format=raw,if=virtio"
	qemu_expect 'user-root: my own init runs as PID 1' 90
	ok $? "a user root boots its own live.init as PID 1"
	qemu_stop
else
	ok 1 "./build.sh image --root DIR makes out/usertest.sqfs"
	sed 's/^/# /' "$QDIR/image.log"
	skip 1 "no image"
fi
rm -f "$O/usertest.sqfs" "$O/usertest.img"
done_testing
