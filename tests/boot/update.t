#!/usr/bin/env bash
# tests/boot/update.t: A/B root image updates with boot counting (docs/updates.md), in QEMU.
# 1. An update to a good image: slot A's live system runs overlive-update on the new image; the
#    next boot tries slot B, its rc marks it good, and the boot after that stays on it.
# 2. An update to an image whose init fails: three boots of slot B (each counted down before it
#    is used, each ending in the kernel's panic), then the init goes back to slot A and says why,
#    on the console and in /run/live/update.log.
# 3. A save made over slot A is not restored over slot B (its lower is the slot booted).
# Oracles from outside our code: the record's bytes read with od after mcopy (the doc's table),
# fsck.fat -n on the medium after every step (the init writes the record through the device).
# Disks: one virtio disk, a vfat medium labelled OVERLIVE holding live/root.sqfs (slot A: the
# minimal root, /etc/version A, and the new images in /opt), then live/root-b.sqfs and live/slots.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/slotrec-od.sh"
need qemu-system-x86_64 mksquashfs mcopy mtype fsck.fat -- "qemu-system-x86 squashfs-tools mtools dosfstools"
[ -x "$O/root-minimal/usr/sbin/overlive-update" ] || skip_all "build first: ./build.sh (no overlive-update in $O/root-minimal)"
export MTOOLS_SKIP_CHECK=1

sqfs() { mksquashfs "$1" "$2" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null; }
cp -a "$O/root-minimal" "$QDIR/good"
echo B > "$QDIR/good/etc/version"
sqfs "$QDIR/good" "$QDIR/good.sqfs"
cp -a "$O/root-minimal" "$QDIR/bad"
rm -f "$QDIR/bad/sbin/init"
printf '#!/bin/sh\necho "bad image: its init fails"\nexit 1\n' > "$QDIR/bad/sbin/init"
chmod 755 "$QDIR/bad/sbin/init"
sqfs "$QDIR/bad" "$QDIR/bad.sqfs"
cp -a "$O/root-minimal" "$QDIR/a"
echo A > "$QDIR/a/etc/version"
mkdir -p "$QDIR/a/opt"
cp "$QDIR/good.sqfs" "$QDIR/bad.sqfs" "$QDIR/a/opt/"
sqfs "$QDIR/a" "$QDIR/a.sqfs"
# an add-on layer beside the slots, stacked on whichever slot boots
mkdir -p "$QDIR/extra/etc" && echo X > "$QDIR/extra/etc/extra-layer"
sqfs "$QDIR/extra" "$QDIR/extra.sqfs"
medium=$QDIR/medium.img

APPEND=
boot() {
	qemu_start "$APPEND" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 180 >/dev/null
}
# record: the record's newest copy as "generation good pending tries", read with od (not our decoder)
record() {
	mcopy -o -i "$medium" ::live/slots "$QDIR/slots" 2>/dev/null || { echo none; return; }
	slotrec_od "$QDIR/slots" | cut -d' ' -f1-4
}
fat_clean() { fsck.fat -n "$medium" > "$QDIR/fsck.out" 2>&1; }
# version: the live system's /etc/version in V (no subshell: the harness keeps its place in the log)
version() {
	V=none
	qemu_run 'echo "version=$(cat /etc/version)"' && V=$(grep -a '^version=' "$QLOG" | tail -n 1 | tr -d '\r' | cut -d= -f2)
}

# ---- 1. a good image
LAYERS="$QDIR/extra.sqfs" "$TOP/images/mkmedium.sh" vfat "$QDIR/a.sqfs" "$medium" OVERLIVE
boot
version; is "$V" A "good: slot A boots first (no record)"
sum=$(sha256sum "$QDIR/good.sqfs" | cut -c1-64)
qemu_run "overlive-update /opt/good.sqfs --sha256 $sum" 120
ok $? "good: overlive-update in the live system writes slot B and sets it pending"
qemu_stop
cmp -s "$QDIR/good.sqfs" <(mtype -i "$medium" ::live/root-b.sqfs)
ok $? "good: live/root-b.sqfs on the stick is the image, byte for byte"
is "$(record)" "1 0 1 3" "good: the record says generation 1, good A, pending B, 3 tries"
fat_clean
ok $? "good: fsck.fat -n finds the medium clean after the update"

# the layers named (live.layers): live.root's name among them stands for the slot booted
APPEND=live.layers=root.sqfs,extra.sqfs boot
APPEND=
grep -aq 'slot B (root-b.sqfs) is pending: trying it, 2 tries left after this boot' "$QLOG"
ok $? "good: the next boot tries slot B and says so on the console (live.layers=root.sqfs,extra.sqfs)"
qemu_run 'test "$(cat /etc/extra-layer)" = X'
ok $? "good: the layer named after it is stacked on slot B"
grep -aq 'slot B (root-b.sqfs) is the good slot now' "$QLOG"
ok $? "good: the rc marked it good (overlive-update --mark-good)"
version; is "$V" B "good: the live system is the new image"
qemu_run 'grep -q "slot B (root-b.sqfs) is pending" /run/live/update.log && grep -q "slot=B" /run/live/slot'
ok $? "good: /run/live/update.log and /run/live/slot say so too"
qemu_stop
is "$(record)" "3 1 255 0" "good: the record: generation 3 (the try, then the mark), good B, nothing pending"
fat_clean
ok $? "good: fsck.fat -n: the medium clean after the init's and the mark's writes"

boot
version; is "$V" B "good: the boot after stays on slot B"
! grep -aq 'pending: trying it' "$QLOG"
ok $? "good: and tries nothing"
qemu_stop
is "$(record)" "3 1 255 0" "good: the record is unchanged by a boot of the good slot"
# live.verify per slot: slot B's own checksum beside it (the build's SHA256SUMS names slot A only)
is "$(mtype -i "$medium" ::live/root-b.sqfs.sha256 2>/dev/null)" "$sum  root-b.sqfs" \
	"good: live/root-b.sqfs.sha256 is the image's sha256sum line (the updater wrote it)"
APPEND=live.verify boot
grep -aq "verify root-b.sqfs: SHA-256 $sum ok" "$QLOG"
ok $? "good: live.verify checks slot B against its own checksum"
version; is "$V" B "  and slot B boots"
qemu_stop
mcopy -o -i "$medium" ::live/root-b.sqfs "$QDIR/b-damaged.sqfs" && printf 'X' |
	dd of="$QDIR/b-damaged.sqfs" bs=1 seek=70000 conv=notrunc status=none &&
	mcopy -o -i "$medium" "$QDIR/b-damaged.sqfs" ::live/root-b.sqfs
qemu_start "live.verify" -drive "file=$medium,format=raw,if=virtio"
qemu_expect "unable to verify root-b.sqfs: SHA-256 mismatch: expected $sum" 180 >/dev/null
ok $? "good: a damaged slot B is refused by live.verify, naming the checksum the updater wrote"
qemu_stop
APPEND=

# ---- 2. an image whose init fails
"$TOP/images/mkmedium.sh" vfat "$QDIR/a.sqfs" "$medium" OVERLIVE
boot
qemu_run "overlive-update /opt/bad.sqfs" 120
ok $? "bad: the update to the image whose init fails is written (it is a squashfs)"
qemu_stop
for left in 2 1 0; do
	word=tries; [ $left = 1 ] && word=try
	qemu_start "" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect "slot B \(root-b.sqfs\) is pending: trying it, $left $word left after this boot" 180 >/dev/null
	ok $? "bad: boot $((3 - left)) tries slot B, $left $word left"
	qemu_expect 'bad image: its init fails' 60 >/dev/null
	ok $? "  its init fails"
	for _ in $(seq 300); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
	qemu_stop
	is "$(record)" "$((4 - left)) 0 1 $left" "  the record: good A, pending B, $left left (counted before the boot)"
done
boot
grep -aq 'slot B (root-b.sqfs) used all its tries without being marked good (its system did not reach its goal): back on the good slot A (root.sqfs)' "$QLOG"
ok $? "bad: the fourth boot is back on slot A and says why on the console"
version; is "$V" A "bad: the live system is the old image"
qemu_run 'grep -q "used all its tries" /run/live/update.log && grep -q "slot=A" /run/live/slot'
ok $? "bad: /run/live/update.log says why too"
qemu_run 'overlive-update --status | grep -q "slot B used its tries without being marked good"'
ok $? "bad: overlive-update --status says slot B used its tries"
qemu_stop
is "$(record)" "4 0 1 0" "bad: the record is left at 0 tries: no boot of slot A writes it"
fat_clean
ok $? "bad: fsck.fat -n finds the medium clean"

# ---- 3. a save file: the lower the init names is the slot booted
"$TOP/images/mkmedium.sh" vfat "$QDIR/a.sqfs" "$medium" OVERLIVE
APPEND="live.persist=/persist.dat"
boot
qemu_run 'persist init --file /run/live/medium/persist.dat --size 8M && echo kept > /root/saved && persist save' 60
ok $? "save: a save over slot A"
qemu_run "overlive-update /opt/good.sqfs" 120
ok $? "save: the update to the good image"
qemu_stop
boot
version; is "$V" B "save: slot B boots"
grep -aq 'unable to restore /run/live/medium/persist.dat' "$QLOG"
ok $? "save: the save made over slot A is not restored over slot B (said on the console)"
qemu_run '! test -e /root/saved && grep -q "^PERSIST_LOWER=/run/live/medium/live/root-b.sqfs$" /run/live/persist.env'
ok $? "save: none of it is in the live system, and persist.env names root-b.sqfs as the lower"
qemu_stop
done_testing
