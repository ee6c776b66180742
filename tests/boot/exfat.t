#!/usr/bin/env bash
# tests/boot/exfat.t: the medium on exFAT, as most large USB sticks come formatted.
# Disks (virtio): an exFAT filesystem made by mkfs.exfat (exfatprogs) and filled through exfat-fuse
# (images/exfat-fill.sh), holding live/root.sqfs (the minimal root plus /opt/demo), a second layer
# live/zz-top.sqfs, live/SHA256SUMS and an ISO file isos/os.iso; the why-not case attaches an
# exFAT disk that does not match. blkid on the host is the oracle for LABEL and UUID. Last, a
# second exFAT disk PDATA holding persist.dat.init as a cut persist init can leave it (its
# clusters free in the allocation bitmap): fsck.exfat -n is the oracle that the boot's shutdown
# leaves the filesystem clean with a file of the user's written onto it.
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
ok $? "why not: says no device matches" || qemu_show 20
qemu_expect "vda .*exfat .*Stick 64G .*$uuid .*label is 'Stick 64G', not 'NOPE'" 10
ok $? "why not: the exFAT disk, its label and UUID, and why it was rejected"
qemu_stop

# --- a cut persist init's temporary on an exFAT save device: removed at boot, before the user's
# files can take its clusters (without that, user.dat got them and the next init freed them)
mkdir -p "$QDIR/pd" && head -c 65536 /dev/urandom > "$QDIR/pd/persist.dat.init"
truncate -s 16M "$QDIR/pdata.img" && mkfs.exfat -L PDATA "$QDIR/pdata.img" >/dev/null &&
	"$TOP/images/exfat-fill.sh" "$QDIR/pdata.img" "$QDIR/pd"
# clear the temporary's clusters in the bitmap (entry 0x81), as a cut before the bitmap's write does
perl -e '
	open(my $f, "+<:raw", $ARGV[0]) or die; read($f, my $b, 512);
	my ($heap, $root, $ss, $cs) = (unpack("V", substr($b, 88, 4)), unpack("V", substr($b, 96, 4)),
		ord(substr($b, 108, 1)), ord(substr($b, 109, 1)));
	my $clu = sub { (($heap << $ss) + (($_[0] - 2) << ($ss + $cs))) };
	seek($f, $clu->($root), 0); read($f, my $d, 1 << ($ss + $cs));
	my ($bm, $first, $len);
	for (my $o = 0; $o < length $d; $o += 32) {
		my $t = ord(substr($d, $o, 1));
		$bm = unpack("V", substr($d, $o + 20, 4)) if $t == 0x81;
		($first, $len) = (unpack("V", substr($d, $o + 20, 4)), unpack("Q<", substr($d, $o + 24, 8))) if $t == 0xc0;
	}
	for my $c ($first .. $first + int(($len + (1 << ($ss + $cs)) - 1) / (1 << ($ss + $cs))) - 1) {
		my $at = $clu->($bm) + int(($c - 2) / 8);
		seek($f, $at, 0); read($f, my $byte, 1);
		seek($f, $at, 0); print $f chr(ord($byte) & ~(1 << (($c - 2) % 8)));
	}' "$QDIR/pdata.img"
fsck.exfat -n "$QDIR/pdata.img" 2>&1 | grep -q '^ERROR: /persist.dat.init: cluster .* is marked as free'
ok $? "the save device's persist.dat.init has its clusters free in the bitmap (fsck.exfat -n says so)"
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$QDIR/vfat.img"
qemu_start "live.persist=LABEL=PDATA:/persist.dat live.persist.size=1M" -drive "$(disk "$QDIR/vfat.img")" -drive "$(disk "$QDIR/pdata.img")"
qemu_expect 'removed /run/live/persist/persist.dat.init, left by a persist init a power cut stopped, before anything else wrote to the exFAT' 120
ok $? "the init removed the cut init's temporary before anything wrote"
qemu_expect 'overlive# ' 60 >/dev/null
qemu_run 'head -c 262144 /dev/urandom > /run/live/persist/user.dat && sync && echo kept > /root/kept'
qemu_send 'poweroff'
qemu_expect 'overlive-minimal: stopped' 120 >/dev/null
for _ in $(seq 100); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
qemu_stop
fsck.exfat -n "$QDIR/pdata.img" > "$QDIR/fsck.log" 2>&1
ok $? "after a user file and the shutdown's persist init and save, fsck.exfat -n finds the exFAT clean" ||
	sed 's/^/# /' "$QDIR/fsck.log"
done_testing
