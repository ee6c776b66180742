#!/usr/bin/env bash
# tests/images/remaster.t: the remaster story end to end (docs/persist.md, "Remaster"): changes
# made over the minimal image in a real overlay are saved, exported by persist export --squashfs,
# put on a disk by ./build.sh image --layer FILE.sqfs, and booted: the live system's view of /usr
# and /opt must be the merged view the changes were made in, path by path (type and mode, owner,
# size, mtime, content, symlink target, which paths share an inode), with a whiteout (a deleted
# file stays deleted), an opaque directory (a directory replaced whole hides the base's files)
# and a hardlink group among the changes. The guest's listing is made by the guest's busybox,
# the host's by GNU find/stat: two tool sets, one expected text.
# Disk: out/remaster.img, GPT with the ESP holding live/root.sqfs (the minimal root) and
# live/remaster-layer1.sqfs (the export); booted under SeaBIOS as a virtio disk with live.verify.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
. "$TOP/tests/lib/mounts.sh"
need qemu-system-x86_64 mksquashfs sqfstar mtype
overlay_test
[ -d "$O/root-minimal" ] && [ -f "$O/minimal.sqfs" ] || skip_all "build first: ./build.sh"
export MTOOLS_SKIP_CHECK=1

scratch_dir remaster || bail "cannot make a scratch directory"
mkdir -p "$W/lower" "$W/t" && mount -t tmpfs -o size=64m tmpfs "$W/t" && mkdir "$W/t/up" "$W/t/wk" "$W/t/m" ||
	bail "cannot mount a tmpfs"
mount -t squashfs -o ro,loop "$O/minimal.sqfs" "$W/lower" || bail "cannot mount $O/minimal.sqfs"
mount -t overlay -o "lowerdir=$W/lower,upperdir=$W/t/up,workdir=$W/t/wk" overlay "$W/t/m" || bail "cannot mount the overlay"
m=$W/t/m
# the changes: new files in a new directory (a hardlink pair, a symlink, a mode), a deleted base
# file, a base directory replaced whole (usr/sbin: only persist and overlive-update come back)
mkdir -p "$m/opt/remaster/sub"
echo "made in the live system" > "$m/opt/remaster/hello"
ln "$m/opt/remaster/hello" "$m/opt/remaster/sub/hello-link"
ln -s ../hello "$m/opt/remaster/sub/rel"
printf 'secret\n' > "$m/opt/remaster/private" && chmod 0600 "$m/opt/remaster/private"
touch -d @1000000000 "$m/opt/remaster/private"
rm "$m/usr/bin/dos2unix"
cp -a "$m/usr/sbin/persist" "$m/usr/sbin/overlive-update" "$W/t/"
rm -rf "$m/usr/sbin" && mkdir "$m/usr/sbin" && cp -a "$W/t/persist" "$W/t/overlive-update" "$m/usr/sbin/"
# what the guest must see: every path under usr and opt of this merged view
listing() { # listing ROOT: one line a path (directories without size, link count and inode: overlayfs
	# gives a merged directory its own), a file's device:inode as the first path that has it
	(cd "$1" && find usr opt | LC_ALL=C sort | while IFS= read -r f; do
		if [ -L "$f" ]; then t=$(readlink "$f"); else t=-; fi
		if [ -f "$f" ] && [ ! -L "$f" ]; then c=$(md5sum < "$f" | cut -c1-32); else c=-; fi
		stat -c "%n %f %u:%g %s %Y %h %d:%i $t $c" "$f"
	done) | awk '{ if (substr($2, 1, 1) == "4" && length($2) == 4) { $4 = "-"; $6 = "-"; $7 = "-" }
		else { if (!($7 in first)) first[$7] = $1; $7 = first[$7] } print }'
}
listing "$m" > "$W/want"
grep -q '^usr/bin/dos2unix ' "$W/want" || grep -q '^usr/sbin/telnetd ' "$W/want"
ok $(( $? == 0 )) "the merged view has the deletion and the replaced directory ($(wc -l < "$W/want") paths)"
umount "$m" || bail "cannot unmount the overlay"

P=$O/bin/persist
"$P" init --file "$W/save.dat" --size 32M --quiet &&
	"$P" save --upper "$W/t/up" --file "$W/save.dat" --lower "$O/minimal.sqfs" --quiet &&
	"$P" export --file "$W/save.dat" --lower "$O/minimal.sqfs" --squashfs "$W/changes.sqfs" --quiet
ok $? "the upper saved and exported as a squashfs layer"

O=$O "$TOP/build.sh" image --root "$O/root-minimal" --name remaster --layer "$W/changes.sqfs" \
	--append "live.verify" > "$W/build.log" 2>&1
ok $? "./build.sh image --layer FILE.sqfs makes an image with the exported layer" || sed 's/^/# /' "$W/build.log"
img=$O/remaster.img
off=$(( $(sfdisk -J "$img" | grep -o '"start": *[0-9]*' | head -n 1 | grep -o '[0-9]*$') * 512 ))
mtype -i "$img@@$off" ::live/remaster-layer1.sqfs 2>/dev/null | cmp -s - "$W/changes.sqfs"
ok $? "the layer on the disk is the export, byte for byte"

qemu_disk_start bios virtio "$img"
qemu_expect 'verify remaster-layer1.sqfs: SHA-256 [0-9a-f]{64} ok' 240
ok $? "the boot verifies the exported layer"
qemu_expect 'overlive# ' 90 >/dev/null
# the guest's listing between markers (the command's own echo has them split by quotes)
qemu_run 'cd / && echo "@@LIST""BEGIN@@" && find usr opt | LC_ALL=C sort | while IFS= read -r f; do
if [ -L "$f" ]; then t=$(readlink "$f"); else t=-; fi
if [ -f "$f" ] && [ ! -L "$f" ]; then c=$(md5sum < "$f" | cut -c1-32); else c=-; fi
stat -c "%n %f %u:%g %s %Y %h %d:%i $t $c" "$f"; done; echo "@@LIST""END@@"' 300
ok $? "the guest lists its /usr and /opt"
tr -d '\r' < "$QLOG" | sed -n '/^@@LISTBEGIN@@$/,/^@@LISTEND@@$/p' | sed '1d;$d' |
	awk '{ if (substr($2, 1, 1) == "4" && length($2) == 4) { $4 = "-"; $6 = "-"; $7 = "-" }
		else { if (!($7 in first)) first[$7] = $1; $7 = first[$7] } print }' > "$W/got"
diff "$W/want" "$W/got" > "$W/diff"
ok $? "the live system's /usr and /opt are the merged view the changes were made in ($(wc -l < "$W/got") paths)"
head -n 20 "$W/diff" | sed 's/^/#   /'
qemu_run 'test ! -e /usr/bin/dos2unix && test ! -e /usr/sbin/telnetd && test -x /usr/sbin/persist &&
test "$(cat /opt/remaster/sub/rel)" = "made in the live system"'
st=$?
ok $st "  the deleted file is gone, the replaced directory holds only its new files, the symlink leads to the new file"
[ $st -eq 0 ] || qemu_show 12
qemu_stop
rm -f "$O/remaster.img" "$O/remaster.sqfs" "$O/remaster-layer1.sqfs"
done_testing
