#!/usr/bin/env bash
# tests/boot/exitenv.t: the save at the very end of a shutdown, in the exit environment the init
# leaves in /run/initramfs, the way systemd reaches it (the Debian boots of tests/images/debian.t
# use systemd itself, with LONG=1): PID 1 (here a shell, live.init=/bin/sh) makes its mounts
# private, binds /run/initramfs on itself without its submounts, pivots into it with the old root
# at /oldroot and execs /shutdown VERB, as systemd-shutdown does. Also: /run/live/bin/persist,
# the autosave of the busybox recipe (live.persist.autosave=), and a bad autosave value.
# Disks: one virtio disk, a vfat medium labelled OVERLIVE with live/root.sqfs (the minimal root);
# kernel: live.persist=/persist.dat live.persist.size=4M (no save file at first).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -x "$O/bin/persist" ] || skip_all "build first: ./build.sh"
command -v mcopy >/dev/null && command -v fsck.fat >/dev/null || skip_all "mtools and dosfstools are not installed"
export MTOOLS_SKIP_CHECK=1

medium=$QDIR/medium.img
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$medium" OVERLIVE
APPEND="live.persist=/persist.dat live.persist.size=4M"
drive=(-drive "file=$medium,format=raw,if=virtio")
# halt: wait for QEMU to end by itself (the guest powered off or rebooted: -no-reboot)
halt() {
	local i
	for i in $(seq 1 ${1:-120}); do kill -0 "$QPID" 2>/dev/null || break; sleep 1; done
	kill -0 "$QPID" 2>/dev/null && { diag "QEMU did not stop by itself"; return 1; }
	qemu_stop
	return 0
}
fat_clean() { fsck.fat -n "$medium" >"$QDIR/fsck" 2>&1 && ! grep -qi 'dirty\|differ\|lost\|free cluster' "$QDIR/fsck"; }

# Boot 1: PID 1 a shell: changes, then the end of a systemd shutdown, by hand.
qemu_start "$APPEND live.init=/bin/sh" "${drive[@]}"
qemu_expect 'starting /bin/sh' 120 >/dev/null && sleep 2
qemu_run 'test -x /run/initramfs/shutdown && test -x /run/initramfs/bin/persist && test -x /run/live/bin/persist &&
	grep -q " /run/initramfs/savedev " /proc/mounts && grep -q " /run/initramfs/upper " /proc/mounts'
ok $? "the exit environment is there: /run/initramfs/shutdown, its persist, the kept upper and save file's filesystem"
qemu_run 'echo "at the end" > /root/end && rm /etc/rc.local 2>/dev/null; rm /etc/hostname && mkdir -p /opt/x && echo y > /opt/x/y'
ok $? "changes in the live system (a new file, a deleted lower file)"
qemu_run '/run/initramfs/shutdown nonsense; test $? = 100'
ok $? "/run/initramfs/shutdown outside PID 1 takes only 'save' (usage error otherwise)"
# what systemd-shutdown does once every process is gone (mount -o remount,ro / stands for its
# unmounting): its switch_root binds /run/initramfs on itself and /dev, /proc, /sys into it, each
# without submounts, pivots with the old root at /oldroot and execs /shutdown VERB
EXITRD='sync; mount -o remount,ro / ; mount --make-rprivate / && mount --bind /run/initramfs /run/initramfs &&
	for d in dev proc sys; do mount --bind /$d /run/initramfs/$d; done && cd /run/initramfs && pivot_root . oldroot &&
	exec chroot . /shutdown'
qemu_send "$EXITRD poweroff"
halt 120
ok $? "PID 1 exec'ed /shutdown poweroff in the exit environment: the machine powered off"
grep -aq 'shutdown: creating the save file /persist.dat (4M)' "$QLOG" && grep -aq 'persist: saved generation 1' "$QLOG" &&
	grep -aq 'shutdown: the changes are saved in /persist.dat' "$QLOG" && grep -aq 'shutdown: powering off' "$QLOG"
r=$?; ok $r "the exit environment created the missing save file, saved, said so on the console"; [ $r = 0 ] || qemu_show 20
fat_clean
r=$?; ok $r "the FAT is clean after that poweroff (fsck.fat -n)"; [ $r = 0 ] || sed 's/^/# /' "$QDIR/fsck"

# Boot 2: the busybox recipe: restored; a save now from the live system; its poweroff.
qemu_start "$APPEND" "${drive[@]}"
qemu_expect 'overlive# ' 120 >/dev/null
qemu_run 'test "$(cat /root/end)" = "at the end" && test ! -e /etc/hostname && test "$(cat /opt/x/y)" = y'
ok $? "the next boot restored what the exit environment saved (a file, a whiteout, a directory)"
qemu_run '/run/live/bin/persist save && echo now > /root/now && /run/initramfs/shutdown save'
ok $? "/run/live/bin/persist save, and /run/initramfs/shutdown save (the recipe's rc.shutdown path), save now"
qemu_send 'poweroff'
halt 120
ok $? "poweroff through the recipe's rc.shutdown"
fat_clean
r=$?; ok $r "the FAT is clean after the recipe's poweroff"; [ $r = 0 ] || sed 's/^/# /' "$QDIR/fsck"

# Boot 3: autosave every 10 s, then the power is cut (QEMU killed).
qemu_start "$APPEND live.persist.autosave=10s" "${drive[@]}"
qemu_expect 'overlive# ' 120 >/dev/null
qemu_run 'test "$(cat /run/live/autosave)" = 10 && test "$(cat /root/now)" = now && echo "autosaved" > /root/auto'
ok $? "live.persist.autosave=10s: the init says 10 s to the recipe; the last save was restored"
qemu_run 'for i in $(seq 1 40); do [ -z "$(persist status)" ] && break; sleep 1; done; persist log | tail -n 2; [ -z "$(persist status)" ] && [ "$(persist log | awk "END { print \$1 }")" -ge 2 ]' 60
r=$?; ok $r "an autosave saved the change within an interval or two: nothing is left unsaved"; [ $r = 0 ] || qemu_show 10
kill -KILL "$QPID"; qemu_stop   # the power cut: no shutdown, no save at the end

# Boot 4: a bad autosave value: said, no autosave, the boot goes on (and reboot as the verb).
qemu_start "$APPEND live.persist.autosave=often live.init=/bin/sh" "${drive[@]}"
qemu_expect 'starting /bin/sh' 120 >/dev/null && sleep 2
grep -aq 'kernel parameter live.persist.autosave=often: expects an interval such as 10min, 30s or 1h (0: off); autosave is off' "$QLOG"
r=$?; ok $r "a bad live.persist.autosave= value is named, with what it takes, and the boot goes on"; [ $r = 0 ] || qemu_show 20
qemu_run 'test "$(cat /run/live/autosave)" = 0 && test "$(cat /root/auto)" = autosaved && test ! -e /run/systemd/system/timers.target.wants/overlive-save.timer'
ok $? "no autosave (no timer, 0 for the recipe); after the power cut the autosaved file is back"
qemu_send "echo rebooted > /root/rb; $EXITRD reboot"
halt 120
ok $? "/shutdown reboot: the machine rebooted (QEMU -no-reboot ends)"
grep -aq 'shutdown: rebooting' "$QLOG"
ok $? "the exit environment said it reboots"
mcopy -o -i "$medium" ::persist.dat "$QDIR/save.dat"
"$O/bin/persist" log --file "$QDIR/save.dat" >"$QDIR/log" 2>&1 && "$O/bin/persist" verify --file "$QDIR/save.dat" >/dev/null
r=$?; ok $r "the save file verifies on the host"; [ $r = 0 ] || sed 's/^/# /' "$QDIR/log"
done_testing
