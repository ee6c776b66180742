#!/usr/bin/env bash
# tests/boot/rebase.t: saved changes carried onto an updated root image, booted (docs/updates.md,
# "Saved changes across an update"), in QEMU. Slot A's live system makes a change of each class
# of the rebase table, saves, writes image B into slot B (overlive-update), and rebases the save
# onto it (persist rebase, from the root image's persist); the next boot tries slot B and must
# show: the user's edit of a file the update left (kept), a file both changed (the user's kept,
# listed by persist conflicts, the new one under /run/live/lower), a copy with nothing changed
# (dropped: B's file shows), a mode change of a file the update changed (B's content under the
# user's mode), a deletion of a path B no longer has and one of a path B kept (still deleted), a
# new file of the user's (kept).
# Oracles: the expected view written by hand from the table; the files read back by the guest's
# busybox; the save file read on the host by persist log and verify after the boots.
# Disk: one virtio disk, a vfat medium labelled OVERLIVE holding live/root.sqfs (slot A: the
# minimal root with the test's files, and image B in /opt), then live/root-b.sqfs, live/slots and
# persist.dat.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
need qemu-system-x86_64 mksquashfs mcopy -- "qemu-system-x86 squashfs-tools mtools"
[ -x "$O/root-minimal/usr/sbin/overlive-update" ] && [ -x "$O/root-minimal/usr/sbin/persist" ] ||
	skip_all "build first: ./build.sh (no overlive-update or persist in $O/root-minimal)"
export MTOOLS_SKIP_CHECK=1

sqfs() { mksquashfs "$1" "$2" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null; }
img() { # img DIR VERSION: the minimal root with the test's files as image VERSION has them
	cp -a "$O/root-minimal" "$1"
	echo "$2" > "$1/etc/version"
	echo "user-edit from A" > "$1/etc/user-edit"
	echo "motd $2" > "$1/etc/motd"
	echo "ssl $2" > "$1/etc/ssl.cnf"
	echo "conf $2" > "$1/etc/kiosk.conf"
	echo "remove me" > "$1/etc/remove-me"
	touch -d @1700000000 "$1/etc/user-edit" "$1/etc/remove-me"
	if [ "$2" = A ]; then mkdir -p "$1/usr/share/old-app" && echo old > "$1/usr/share/old-app/readme"; fi
}
img "$QDIR/b" B
sqfs "$QDIR/b" "$QDIR/b.sqfs"
img "$QDIR/a" A
mkdir -p "$QDIR/a/opt" && cp "$QDIR/b.sqfs" "$QDIR/a/opt/"
sqfs "$QDIR/a" "$QDIR/a.sqfs"
medium=$QDIR/medium.img
"$TOP/images/mkmedium.sh" vfat "$QDIR/a.sqfs" "$medium" OVERLIVE >/dev/null 2>&1 || bail "mkmedium.sh"

boot() {
	qemu_start "live.persist=/persist.dat" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 180 >/dev/null
}

boot
qemu_run 'persist init --file /run/live/medium/persist.dat --size 8M --quiet &&
echo mine > /etc/user-edit && echo "motd mine" > /etc/motd && chown 0:0 /etc/ssl.cnf &&
chmod 600 /etc/kiosk.conf && rm -r /usr/share/old-app && rm /etc/remove-me && echo notes > /root/notes &&
persist save --quiet' 60
ok $? "slot A: one change of each class, saved"
qemu_run "overlive-update /opt/b.sqfs --sha256 $(sha256sum < "$QDIR/b.sqfs" | cut -c1-64)" 120
ok $? "slot A: image B written into slot B"
qemu_run 'persist rebase --old /run/live/medium/live/root.sqfs --new /run/live/medium/live/root-b.sqfs > /tmp/rebase.out 2>&1; st=$?; cat /tmp/rebase.out; test $st = 0' 120
ok $? "slot A: persist rebase onto slot B's image"
for want in "conflict  *etc/motd" "dropped  *etc/ssl.cnf" "new-content  *etc/kiosk.conf" "dropped-whiteout  *usr/share/old-app"; do
	grep -aqE "^$want" "$QLOG"
	ok $? "  the rebase says: $want"
done
qemu_stop

boot
grep -aq 'slot B (root-b.sqfs) is pending: trying it' "$QLOG"
ok $? "slot B: the next boot tries it"
grep -aq 'restored /run/live/medium/persist.dat' "$QLOG" && ! grep -aq 'unable to restore' "$QLOG"
ok $? "slot B: the rebased generation is restored over it"
qemu_run 'test "$(cat /etc/version)" = B'
ok $? "slot B: the live system is image B"
qemu_run 'test "$(cat /etc/user-edit)" = mine'
ok $? "kept: the user's edit of a file the update left as it was"
qemu_run 'test "$(cat /etc/motd)" = "motd mine" && test "$(cat /run/live/lower/etc/motd)" = "motd B"'
ok $? "conflict: the user's version is kept, the new image's is under /run/live/lower"
qemu_run 'persist conflicts | grep -q "^C etc/motd "'
ok $? "conflict: persist conflicts lists it"
qemu_run 'test "$(cat /etc/ssl.cnf)" = "ssl B"'
ok $? "dropped: a copy with nothing changed gives way to the new image's file"
qemu_run 'test "$(cat /etc/kiosk.conf)" = "conf B" && test "$(stat -c %a /etc/kiosk.conf)" = 600'
ok $? "new content: the new image's content under the user's mode"
qemu_run 'test ! -e /etc/remove-me && test ! -e /usr/share/old-app'
ok $? "deletions: the one of a path B kept still holds, the one of a path B removed is gone with it"
qemu_run 'test "$(cat /root/notes)" = notes'
ok $? "kept: the user's new file"
qemu_stop
mcopy -o -i "$medium" ::persist.dat "$QDIR/back.dat"
"$O/bin/persist" verify --file "$QDIR/back.dat" >/dev/null && [ "$("$O/bin/persist" log --file "$QDIR/back.dat" | grep -c '^[0-9]')" -ge 2 ]
ok $? "the save file is good and keeps the generation before the rebase (persist verify, log on the host)"
done_testing
