#!/usr/bin/env bash
# tests/boot/options.t: live.verify, live.toram, stacked layers, live.iso and the "why not" table.
# Disks (virtio): a vfat or ext4 medium labelled OVERLIVE made by images/mkmedium.sh, holding
# live/root.sqfs (the minimal root plus /opt/demo), live/SHA256SUMS, and per case a second layer
# or an ISO file; the why-not case attaches two disks that do not match.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -d "$O/root-minimal" ] || skip_all "build first: ./build.sh"
export MTOOLS_SKIP_CHECK=1

base=$QDIR/base
cp -a "$O/root-minimal" "$base"
mkdir -p "$base/opt/demo/sub"
echo a > "$base/opt/demo/a"; echo b > "$base/opt/demo/b"; echo c > "$base/opt/demo/sub/c"
mksquashfs "$base" "$QDIR/root.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null

disk() { echo "file=$1,format=raw,if=virtio"; }
ready() { qemu_expect 'overlive# ' "${1:-120}" >/dev/null; }

# --- live.verify: a good image passes, a flipped byte stops the boot, =warn boots on
"$TOP/images/mkmedium.sh" vfat "$QDIR/root.sqfs" "$QDIR/good.img"
qemu_start "live.verify" -drive "$(disk "$QDIR/good.img")"
qemu_expect 'verify root.sqfs: SHA-256 [0-9a-f]{64} ok' 120
ok $? "live.verify: the image matches live/SHA256SUMS"
ready; qemu_stop

cp "$QDIR/good.img" "$QDIR/bad.img"
cp "$QDIR/root.sqfs" "$QDIR/bad.sqfs"
size=$(stat -c %s "$QDIR/bad.sqfs")
printf '\x5a' | dd of="$QDIR/bad.sqfs" bs=1 seek=$((size / 2)) count=1 conv=notrunc status=none
mcopy -o -i "$QDIR/bad.img" "$QDIR/bad.sqfs" ::live/root.sqfs
want=$(sha256sum < "$QDIR/root.sqfs" | cut -c1-64)
found=$(sha256sum < "$QDIR/bad.sqfs" | cut -c1-64)
qemu_start "live.verify" -drive "$(disk "$QDIR/bad.img")"
qemu_expect "fatal: unable to verify root.sqfs: SHA-256 mismatch: expected $want, found $found" 120
ok $? "live.verify: a flipped byte is caught, naming the file and both hashes"
qemu_expect 'overlive rescue# ' 20 >/dev/null
qemu_run '! grep -q " /newroot " /proc/mounts'
ok $? "live.verify: stopped at the rescue shell before anything was mounted over"
qemu_stop

cp "$QDIR/root.sqfs" "$QDIR/padded.sqfs"
printf 'X' >> "$QDIR/padded.sqfs"     # past the squashfs's own end: the hash differs, the data not
cp "$QDIR/good.img" "$QDIR/warn.img"
mcopy -o -i "$QDIR/warn.img" "$QDIR/padded.sqfs" ::live/root.sqfs
qemu_start "live.verify=warn" -drive "$(disk "$QDIR/warn.img")"
qemu_expect 'live.verify=warn: booting anyway' 120
ok $? "live.verify=warn: the mismatch is reported and the boot goes on"
qemu_expect 'overlive-minimal: ready' 60
ok $? "live.verify=warn: the live system comes up"
qemu_stop

# --- live.toram: the medium can be pulled and the system keeps working
QEMU_MONITOR=1 qemu_start "live.toram live.verify" -drive "file=$QDIR/good.img,format=raw,if=none,id=d0" \
	-device virtio-blk-pci,drive=d0,id=stick
qemu_expect 'live.toram: /dev/vda is no longer used and can be removed' 120
r=$?
grep -aq 'toram+verify root.sqfs: [0-9]* bytes' "$QLOG" && grep -aq 'verify root.sqfs: SHA-256 [0-9a-f]* ok' "$QLOG"
ok $((r | $?)) "live.toram: copied and verified in the same pass, then the medium released"
ready
qemu_run 'grep -q " /run/live/ram tmpfs" /proc/mounts && ! grep -q " /run/live/medium " /proc/mounts'
ok $? "live.toram: the layer lives in RAM, the medium is not mounted"
qemu_monitor "device_del stick" >/dev/null
qemu_run 'for i in 1 2 3 4 5 6 7 8 9 10; do test -e /sys/block/vda || break; sleep 1; done; ! test -e /sys/block/vda'
ok $? "live.toram: the disk is gone from the guest after device_del"
qemu_run 'echo 3 > /proc/sys/vm/drop_caches; cat /opt/demo/sub/c /bin/busybox > /dev/null && ls -R /usr > /dev/null && echo still-here > /root/x && test "$(cat /root/x)" = still-here'
ok $? "live.toram: the system keeps reading its files and writing without the disk"
qemu_stop

# --- live.toram with too little RAM: says how much is needed and free, runs from the medium
mkdir -p "$QDIR/big/opt"
head -c 120M /dev/urandom > "$QDIR/big/opt/blob"
mksquashfs "$QDIR/big" "$QDIR/big.sqfs" -noappend -no-progress -quiet -noD -noI -noF >/dev/null
LAYERS="$QDIR/big.sqfs" "$TOP/images/mkmedium.sh" vfat "$QDIR/root.sqfs" "$QDIR/big.img"
rm -rf "$QDIR/big"
QEMU_MEM=192 qemu_start "live.toram" -drive "$(disk "$QDIR/big.img")"
qemu_expect 'live.toram: the layers need [0-9]+ MiB of RAM and [0-9]+ MiB is available .*running from the medium instead' 120
ok $? "live.toram, RAM short: names what is needed and free, and falls back to the medium"
ready
qemu_run 'test -f /opt/blob && grep -q " /run/live/medium " /proc/mounts && ! grep -q " /run/live/ram " /proc/mounts'
ok $? "live.toram, RAM short: the system runs from the medium"
qemu_stop
rm -f "$QDIR/big.img" "$QDIR/big.sqfs"

# --- live.verify with a layer the manifest does not list
cp "$QDIR/good.img" "$QDIR/extra.img"
mcopy -o -i "$QDIR/extra.img" "$QDIR/root.sqfs" ::live/extra.sqfs
qemu_start "live.verify" -drive "$(disk "$QDIR/extra.img")"
qemu_expect 'fatal: unable to verify extra.sqfs: no checksum for it in /run/live/medium/live/SHA256SUMS' 120
ok $? "live.verify: a layer missing from the manifest is named, the boot stops"
qemu_stop

# --- live.iso naming a file that is not there
qemu_start "live.iso=/isos/nosuch.iso" -drive "$(disk "$QDIR/good.img")"
qemu_expect 'fatal: unable to open the ISO file /isos/nosuch.iso on /dev/vda: No such file' 120
ok $? "live.iso: a missing ISO file is named"
qemu_expect 'overlive rescue# ' 20 >/dev/null
qemu_run true
ok $? "live.iso: then the rescue shell"
qemu_stop

# --- stacked layers: a top layer with whiteouts and an opaque directory over the base
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$QDIR"/{tu,tw,tm}
	mount -t overlay ovl -o "lowerdir=$base,upperdir=$QDIR/tu,workdir=$QDIR/tw" "$QDIR/tm"
	rm "$QDIR/tm/opt/demo/a"
	rm -r "$QDIR/tm/opt/demo/sub" && mkdir "$QDIR/tm/opt/demo/sub" && echo new > "$QDIR/tm/opt/demo/sub/new"
	echo b2 > "$QDIR/tm/opt/demo/b"; echo top > "$QDIR/tm/opt/demo/top"
	umount "$QDIR/tm"
	mksquashfs "$QDIR/tu" "$QDIR/zz-top.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null
	LAYERS="$QDIR/zz-top.sqfs" "$TOP/images/mkmedium.sh" ext4 "$QDIR/root.sqfs" "$QDIR/layers.img"
	qemu_start "live.verify" -drive "$(disk "$QDIR/layers.img")"
	ready
	qemu_run 'grep -q "lowerdir=/run/live/layers/1-zz-top.sqfs:/run/live/lower," /proc/mounts'
	ok $? "layers: every live/*.sqfs stacks, the base at the bottom"
	qemu_run '! test -e /opt/demo/a && ! test -e /opt/demo/sub/c && test "$(cat /opt/demo/sub/new)" = new'
	ok $? "layers: the top layer's whiteout hides a base file, its opaque directory replaces a base one"
	qemu_run 'test "$(cat /opt/demo/b)" = b2 && test "$(cat /opt/demo/top)" = top && test -x /bin/busybox'
	ok $? "layers: the top layer's files win, the base's others show through"
	qemu_stop
	qemu_start "live.layers=root.sqfs" -drive "$(disk "$QDIR/layers.img")"
	ready
	qemu_run 'test "$(cat /opt/demo/a)" = a && ! test -e /opt/demo/top'
	ok $? "layers: live.layers= picks the layers (here the base alone)"
	qemu_stop
else
	skip 4 "stacked layers: making a layer with whiteouts needs root (an overlay mount)"
fi

# --- live.iso: the layers inside an ISO file on an ext4 stick
mkdir -p "$QDIR/iso/live"
cp "$QDIR/root.sqfs" "$QDIR/iso/live/root.sqfs"
(cd "$QDIR/iso/live" && sha256sum root.sqfs > SHA256SUMS)
xorriso -as mkisofs -quiet -V OVERLIVE_ISO -o "$QDIR/os.iso" "$QDIR/iso" 2>/dev/null
EXTRA="$QDIR/os.iso:isos/os.iso" "$TOP/images/mkmedium.sh" ext4 "$QDIR/root.sqfs" "$QDIR/isostick.img" STICK
qemu_start "live.media=LABEL=STICK live.iso=/isos/os.iso live.verify" -drive "$(disk "$QDIR/isostick.img")"
ready
qemu_run 'grep -q "^/dev/loop[0-9]* /run/live/iso iso9660" /proc/mounts && grep -q " /run/live/lower squashfs" /proc/mounts'
ok $? "live.iso: the ISO file is looped and mounted, the squashfs inside it is the lower"
qemu_run 'dmesg | grep -q "ISO /isos/os.iso" && dmesg | grep -q "verify root.sqfs: SHA-256 .* ok"'
ok $? "live.iso: the log names the ISO file, and the layer inside it was verified"
qemu_stop

# --- no medium: the "why not" table names each disk and why it was not taken
mkfs.ext4 -q -F -L OTHER "$QDIR/other.img" 8M >/dev/null
mkfs.vfat -C -n DATA "$QDIR/data.img" 8192 >/dev/null
qemu_start "live.media=LABEL=NOPE live.wait=2" -drive "$(disk "$QDIR/other.img")" -drive "$(disk "$QDIR/data.img")"
qemu_expect 'no device matches LABEL=NOPE' 120
ok $? "why not: says no device matches"
qemu_expect "vda .*ext4 .*OTHER .*label is 'OTHER', not 'NOPE'" 10
ok $? "why not: the ext4 disk, its label and why it was rejected"
qemu_expect "vdb .*vfat .*DATA .*label is 'DATA', not 'NOPE'" 10
ok $? "why not: the vfat disk, its label and why it was rejected"
qemu_expect 'drivers loaded: .*virtio_blk' 10
ok $? "why not: the drivers loaded are listed"
qemu_expect 'overlive rescue# ' 20 >/dev/null
qemu_run 'true'
ok $? "why not: then the rescue shell"
qemu_stop
done_testing
