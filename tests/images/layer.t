#!/usr/bin/env bash
# tests/images/layer.t: ./build.sh image --layer DIR stacks an add-on layer on the base, and the
# image's live/SHA256SUMS covers both, so live.verify can check them.
# Disk: out/layertest.img, GPT with the ESP holding live/root.sqfs and live/layertest-layer1.sqfs;
# booted under SeaBIOS as a virtio disk with live.verify.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -d "$O/root-minimal" ] || skip_all "build first: ./build.sh"
export MTOOLS_SKIP_CHECK=1

add=$QDIR/addon
mkdir -p "$add/opt/addon"
echo "from the add-on layer" > "$add/opt/addon/hello"
O=$O "$TOP/build.sh" image --recipe minimal --name layertest --layer "$add" \
	--append "live.verify" > "$QDIR/build.log" 2>&1
ok $? "./build.sh image --layer DIR makes an image" || sed 's/^/# /' "$QDIR/build.log"
img=$O/layertest.img
off=$(( $(sfdisk -J "$img" | grep -o '"start": *[0-9]*' | head -n 1 | grep -o '[0-9]*$') * 512 ))
mtype -i "$img@@$off" ::live/SHA256SUMS > "$QDIR/sums" 2>/dev/null
grep -q " root.sqfs$" "$QDIR/sums" && grep -q "^$(sha256sum < "$O/layertest-layer1.sqfs" | cut -c1-64)  layertest-layer1.sqfs$" "$QDIR/sums"
ok $? "live/SHA256SUMS on the ESP covers the base and the layer, with the layer's true hash"

qemu_disk_start bios virtio "$img"
qemu_expect 'verify layertest-layer1.sqfs: SHA-256 [0-9a-f]{64} ok' 180
ok $? "the boot verifies the add-on layer"
qemu_expect 'overlive# ' 60 >/dev/null
qemu_run 'test "$(cat /opt/addon/hello)" = "from the add-on layer" && test -x /bin/busybox'
ok $? "the live system sees the add-on layer's file and the base's"
qemu_stop
rm -rf "$O"/layertest* "$O/root-layertest"
done_testing
