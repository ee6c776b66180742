#!/usr/bin/env bash
# tests/boot/failures.t: every failure ends at the rescue shell with its one clear message.
# Disks: one virtio disk, an ext4 medium labelled OVERLIVE (the "not a squashfs" case: its
# live/root.sqfs holds text), except where a case says otherwise.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"

# expect_rescue WHAT MEDIUM APPEND REGEX: the message, then a live rescue shell that runs commands
expect_rescue() {
	local what=$1 medium=$2 append=$3 re=$4
	qemu_start "$append" -drive "file=$medium,format=raw,if=virtio"
	if qemu_expect "$re" 90; then
		ok 0 "$what: says '$QMATCH'"
	else
		ok 1 "$what: says /$re/"; qemu_show
	fi
	qemu_expect 'overlive rescue# ' 20 >/dev/null
	qemu_run 'echo "shell-$((6 * 7))" | grep -qx shell-42' 20
	ok $? "$what: the rescue shell answers"
	qemu_stop
}

good=$QDIR/good.img
"$TOP/images/mkmedium.sh" ext4 "$O/minimal.sqfs" "$good" OVERLIVE

expect_rescue "medium not found" "$good" "live.media=LABEL=NOSUCHSTICK live.wait=2" \
	'fatal: unable to find the live medium LABEL=NOSUCHSTICK within 2 s'
qemu_expect 'vda .*ext4 +OVERLIVE' 1 >/dev/null || grep -aq 'vda .*ext4 *OVERLIVE' "$QLOG"
ok $? "medium not found: the devices seen are listed, with their filesystem and label"

expect_rescue "squashfs file missing" "$good" "live.root=/live/missing.sqfs" \
	'fatal: unable to open the root image /live/missing.sqfs on /dev/vda .*No such file'

printf 'this is not a squashfs\n' > "$QDIR/fake.sqfs"
truncate -s 1M "$QDIR/fake.sqfs"
"$TOP/images/mkmedium.sh" ext4 "$QDIR/fake.sqfs" "$QDIR/notsq.img" OVERLIVE
expect_rescue "not a squashfs" "$QDIR/notsq.img" "" \
	'fatal: unable to use the root image /live/root.sqfs on /dev/vda: it is not a squashfs'

expect_rescue "unknown live.upper" "$good" "live.upper=bogus" \
	'kernel parameter live.upper=bogus: unknown upper'

expect_rescue "live.init missing" "$good" "live.init=/sbin/nosuchinit" \
	'fatal: unable to find the root.s init /sbin/nosuchinit in the live system'

# live.break: a shell on purpose, with the lower already mounted; leaving it goes on booting.
qemu_start "live.break=overlay" -drive "file=$good,format=raw,if=virtio"
qemu_expect 'live.break: rescue shell before stage overlay' 90
ok $? "live.break=overlay: opens the rescue shell before the overlay stage"
qemu_expect 'overlive rescue# ' 20 >/dev/null
qemu_run 'grep -q " /run/live/lower squashfs" /proc/mounts && ! grep -q " /newroot " /proc/mounts'
ok $? "live.break=overlay: the lower is mounted, the overlay not yet"
qemu_send "exit"
qemu_expect 'overlive-minimal: ready' 60
ok $? "live.break=overlay: leaving the shell boots on to the root's init"
qemu_stop
done_testing
