#!/usr/bin/env bash
# tests/boot/persist.t: a save made in one boot is restored by the init in the next.
# Disks: one virtio disk, a vfat medium labelled OVERLIVE holding live/root.sqfs (the minimal root
# plus /opt/demo) and, once saved, the save file /persist.dat; kernel: live.persist=/persist.dat.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -d "$O/root-minimal" ] && [ -x "$O/bin/persist" ] || skip_all "build first: ./build.sh"
command -v mcopy >/dev/null || skip_all "mtools is not installed"
command -v fsck.fat >/dev/null || skip_all "fsck.fat is not installed: apt-get install dosfstools"
. "$TOP/tests/lib/fat.sh"
export MTOOLS_SKIP_CHECK=1

root=$QDIR/root
cp -a "$O/root-minimal" "$root"
mkdir -p "$root/opt/demo/sub" "$root/opt/demo/keep"
echo a > "$root/opt/demo/a"; echo b > "$root/opt/demo/b"; echo c > "$root/opt/demo/sub/c"
echo k > "$root/opt/demo/keep/k"
mksquashfs "$root" "$QDIR/root.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null
medium=$QDIR/medium.img
"$TOP/images/mkmedium.sh" vfat "$QDIR/root.sqfs" "$medium" OVERLIVE
APPEND="live.persist=/persist.dat"

# The merged view of the paths the test changes, as one line of checksums.
VIEW='(cd / && find opt root etc/motd -xdev 2>/dev/null | sort | while read -r p; do stat -c "%n %F %a %u %g %s" "$p"; [ -f "$p" ] && md5sum "$p"; [ -L "$p" ] && readlink "$p"; done) | md5sum | cut -c1-32'

boot() {
	qemu_start "$APPEND" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 120 >/dev/null
}
# view: sets V to the guest's view checksum (no subshell: the harness keeps its place in the log)
view() {
	V=none
	qemu_send "echo view=\$( $VIEW )" && qemu_expect '^view=[0-9a-f]{32}' 30 >/dev/null && V=${QMATCH#view=} && V=${V:0:32}
}

# Boot 1: no save file yet; change lower and upper entries, save.
boot
grep -aq 'no save file /run/live/medium/persist.dat yet' "$QLOG"
ok $? "first boot: no save file yet, said so, booted clean"
qemu_run 'rm /opt/demo/a && rm -rf /opt/demo/sub && mkdir /opt/demo/sub && echo new > /opt/demo/sub/new &&
	echo "saved text" > /root/notes && ln -s /root/notes /root/link && chmod 0700 /opt/demo/keep &&
	mkfifo /root/fifo && echo motd > /etc/motd && ln /root/notes /root/hardlink'
ok $? "first boot: delete a lower file, replace a lower directory, add files, links, a fifo"
qemu_run 'persist init --file /run/live/medium/persist.dat --size 8M && persist save'
ok $? "first boot: persist init and persist save succeed"
view; v1=$V
qemu_stop

# Boot 2: the init restores the save before the overlay: the same merged view. (A disk upper is
# asked for too, and is missing: the upper falls back to a tmpfs, and live.persist= is used.)
APPEND="live.persist=/persist.dat live.upper=LABEL=NOPE"
boot
APPEND="live.persist=/persist.dat"
grep -aq 'live.upper=LABEL=NOPE not used' "$QLOG" && grep -aq 'restored /run/live/medium/persist.dat' "$QLOG"
ok $? "second boot: the missing disk upper is named, and the init restored the save file into the tmpfs"
view; v2=$V
is "$v2" "$v1" "second boot: the merged view equals the one saved"
qemu_run '! test -e /opt/demo/a && ! test -e /opt/demo/sub/c && test "$(cat /opt/demo/sub/new)" = new'
ok $? "second boot: the deleted lower file stays deleted, the replaced directory holds only the new entry"
qemu_run 'test "$(readlink /root/link)" = /root/notes && test -p /root/fifo && test "$(stat -c %h /root/notes)" = 2 && test "$(stat -c %a /opt/demo/keep)" = 700'
ok $? "second boot: symlink, fifo, hardlink and mode are back"
# (hardlinked files too: a group under new inodes with the same content is unchanged)
qemu_run 'persist status > /run/st; cat /run/st; ! grep -qE "^[AMDR] " /run/st'
r=$?; ok $r "second boot: persist status shows nothing unsaved right after the restore"
[ $r = 0 ] || qemu_show 15
qemu_stop

# Boot 3: a damaged save file: a clean boot, a clear message, and the file left as it was.
mcopy -o -i "$medium" ::persist.dat "$QDIR/save.dat"
printf '\xff\xff\xff\xff' | dd of="$QDIR/save.dat" bs=1 seek=4096 count=4 conv=notrunc status=none
printf '\xff\xff\xff\xff' | dd of="$QDIR/save.dat" bs=1 seek=16 count=4 conv=notrunc status=none
cp "$QDIR/save.dat" "$QDIR/damaged.dat"
mcopy -o -i "$medium" "$QDIR/save.dat" ::persist.dat
boot
grep -aqE 'unable to restore /run/live/medium/persist.dat .*booting clean; the save file is untouched' "$QLOG"
ok $? "damaged save: the init says so and boots clean"
qemu_run 'test -e /opt/demo/a && test -e /opt/demo/sub/c && ! test -e /root/notes'
ok $? "damaged save: the lower's view, nothing half-applied"
qemu_send 'poweroff -f'
qemu_stop
mcopy -o -i "$medium" ::persist.dat "$QDIR/after.dat"
cmp -s "$QDIR/after.dat" "$QDIR/damaged.dat"
ok $? "damaged save: the file on the medium is byte for byte what it was"

# Boot 4: live.persist= with a disk upper: the disk keeps the changes, the save file is not restored
# (it would replace the disk's upper) and stays untouched.
truncate -s 32M "$QDIR/pup.img" && mkfs.ext4 -q -F -L PUP "$QDIR/pup.img" >/dev/null
qemu_start "$APPEND live.upper=LABEL=PUP" -drive "file=$medium,format=raw,if=virtio" \
	-drive "file=$QDIR/pup.img,format=raw,if=virtio"
qemu_expect 'overlive# ' 120 >/dev/null
grep -aq 'live.persist=/persist.dat ignored: the upper is the disk live.upper=LABEL=PUP' "$QLOG"
ok $? "disk upper: live.persist= is named as ignored, and why"
qemu_run 'grep -q " /run/live/upper ext4 rw" /proc/mounts && ! test -e /run/live/persist.env && test -e /opt/demo/a'
ok $? "disk upper: the upper is the ext4, no save was restored, persist is not set up for shutdown"
qemu_send 'poweroff -f'
qemu_stop
mcopy -o -i "$medium" ::persist.dat "$QDIR/after.dat"
cmp -s "$QDIR/after.dat" "$QDIR/damaged.dat"
ok $? "disk upper: the save file is byte for byte what it was"

# Boot 5 and 6: an empty save file, what a cut during the first shutdown's persist init can leave.
# The init boots clean; a clean poweroff (the minimal recipe's rc.shutdown) takes the file over with
# persist init and saves; the next boot restores it.
: > "$QDIR/empty.dat"
mcopy -o -i "$medium" "$QDIR/empty.dat" ::persist.dat
# (the medium has 16 MiB free: live.persist.size=4M, not the shutdown's default 64 MiB)
APPEND="live.persist=/persist.dat live.persist.size=4M"
boot
APPEND="live.persist=/persist.dat"
grep -aqE 'unable to restore /run/live/medium/persist.dat .*booting clean' "$QLOG"
ok $? "empty save file: the init says it cannot restore it and boots clean"
qemu_run 'grep -qx PERSIST_SIZE=4M /run/live/persist.env && echo "after the empty file" > /root/kept'
qemu_send 'poweroff'
for _ in $(seq 300); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done   # QEMU ends by itself
grep -aq 'unable to create the save file\|persist save failed' "$QLOG" && qemu_show 12
qemu_stop
r=0
fsck.fat -n "$medium" > "$QDIR/fsck.txt" 2>&1 || r=$?
fat_geom "$medium"; fat_is_dirty "$medium" && r=1
ok $r "empty save file: after the clean poweroff fsck.fat -n finds nothing on the medium, the dirty bit is clear"
[ $r = 0 ] || sed 's/^/# | /' "$QDIR/fsck.txt"
boot
grep -aq 'restored /run/live/medium/persist.dat' "$QLOG" && qemu_run 'test "$(cat /root/kept)" = "after the empty file"'
ok $? "empty save file: the poweroff's persist init took it over and saved; the next boot restored it"
qemu_stop
done_testing
