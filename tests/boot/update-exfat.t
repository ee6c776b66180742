#!/usr/bin/env bash
# tests/boot/update-exfat.t: an A/B update on an exFAT medium (docs/updates.md): the init counts
# the try through the device at the record's sectors (FIBMAP on exFAT), the rc marks the slot
# good, the next boot stays on it. exFAT keeps a checksum over each file's directory entries: a
# write through the file system would rewrite them (its times), so the record's writes go
# around it, and fsck.exfat -n must find the medium clean after each step. The record's bytes are
# read in the guest with od (not our decoder).
# Disks: one virtio disk, an exFAT medium labelled OVERLIVE holding live/root.sqfs (slot A: the
# minimal root, /etc/version A, the new image in /opt), then live/root-b.sqfs and live/slots.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
export PATH=$PATH:/sbin:/usr/sbin
need qemu-system-x86_64 mksquashfs mkfs.exfat fsck.exfat -- "qemu-system-x86 squashfs-tools exfatprogs"
[ -x "$O/root-minimal/usr/sbin/overlive-update" ] || skip_all "build first: ./build.sh (no overlive-update in $O/root-minimal)"
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v mount.exfat-fuse >/dev/null ||
	skip_all "filling an exFAT image needs root, /dev/fuse and exfat-fuse"

sqfs() { mksquashfs "$1" "$2" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null; }
cp -a "$O/root-minimal" "$QDIR/good"
echo B > "$QDIR/good/etc/version"
sqfs "$QDIR/good" "$QDIR/good.sqfs"
cp -a "$O/root-minimal" "$QDIR/a"
echo A > "$QDIR/a/etc/version"
mkdir -p "$QDIR/a/opt" && cp "$QDIR/good.sqfs" "$QDIR/a/opt/"
sqfs "$QDIR/a" "$QDIR/a.sqfs"
medium=$QDIR/medium.img
"$TOP/images/mkmedium.sh" exfat "$QDIR/a.sqfs" "$medium" OVERLIVE >/dev/null
ok $? "an exFAT medium with slot A"

boot() {
	qemu_start "" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 180 >/dev/null
}
# version: the live system's /etc/version in V (no subshell: the harness keeps its place in the log)
version() {
	V=none
	qemu_run 'echo "version=$(cat /etc/version)"' && V=$(grep -a '^version=' "$QLOG" | tail -n 1 | tr -d '\r' | cut -d= -f2)
}
# the record's two copies' bytes 16-27 (generation, good, pending, tries), as the guest's od shows them
# record: in REC (no subshell, as version)
record() {
	local at out=''
	REC=none
	for at in 16 4112; do
		qemu_run "echo rec$at=\$(od -v -An -tu1 -j $at -N 12 /run/live/medium/live/slots)" || return 1
		out="$out${out:+ / }$(grep -a "^rec$at=" "$QLOG" | tail -n 1 | tr -d '\r' | cut -d= -f2 | tr -s ' ' | sed 's/^ //; s/ $//')"
	done
	REC=$out
}
clean() { fsck.exfat -n "$medium" > "$QDIR/fsck.out" 2>&1 || { sed 's/^/# | /' "$QDIR/fsck.out"; false; }; }

boot
version; is "$V" A "slot A boots first"
qemu_run "overlive-update /opt/good.sqfs --sha256 $(sha256sum "$QDIR/good.sqfs" | cut -c1-64)" 120
ok $? "overlive-update writes slot B on the exFAT medium and sets it pending"
qemu_stop
clean
ok $? "fsck.exfat -n: clean after the update"
boot
grep -aq 'slot B (root-b.sqfs) is pending: trying it, 2 tries left after this boot' "$QLOG"
ok $? "the next boot tries slot B, its try counted through the device"
grep -aq 'slot B (root-b.sqfs) is the good slot now' "$QLOG"
ok $? "the rc marked it good"
version; is "$V" B "the live system is the new image"
record; is "$REC" "3 0 0 0 0 0 0 0 1 255 0 0 / 2 0 0 0 0 0 0 0 0 1 2 0" \
	"the record: copy 0 generation 3 (good B, nothing pending), copy 1 generation 2 (the try: 2 left)"
qemu_stop
clean
ok $? "fsck.exfat -n: clean after the init's and the mark's writes"
boot
version; is "$V" B "the boot after stays on slot B"
qemu_stop
done_testing
