#!/usr/bin/env bash
# tests/images/fallback.t: persistence asked for and not usable: the init says why on the console,
# boots on a tmpfs upper and touches nothing; live.upper.create formats an empty partition (and the old name live.persist.create still does, with a warning).
# Disk: one virtio disk, GPT: 1 "medium": vfat OVERLIVE with live/root.sqfs; 2 "blank": 16 MiB of
# zeros. Booted with -kernel/-initrd (the firmware paths are in boot.t and persist.t).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"
export PATH=$PATH:/sbin:/usr/sbin

wait_off() {
	for _ in $(seq 150); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 0.2; done
	qemu_stop
	return 1
}

med=$QDIR/medium.img
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$QDIR/vfat.img" OVERLIVE
vmib=$(( $(stat -c %s "$QDIR/vfat.img") / 1048576 + 1 ))
truncate -s $((vmib + 18))M "$med"
printf 'label: gpt\nstart=2048, size=%d, name="medium"\nsize=32768, name="blank"\n' $((vmib * 2048)) | sfdisk -q "$med"
dd if="$QDIR/vfat.img" of="$med" bs=1M seek=1 conv=notrunc status=none
blank_start=$(part_field "$med" 1 start)

fallback() { # WHAT APPEND REGEX
	qemu_start "$2" -drive "file=$med,format=raw,if=virtio"
	if qemu_expect "$3" 60; then ok 0 "$1: says '$QMATCH'"; else ok 1 "$1: says /$3/"; qemu_show; fi
	if qemu_expect 'overlive-minimal: ready' 60; then
		qemu_expect 'overlive# ' 20 >/dev/null
		qemu_run 'grep -q "^tmpfs /run/live/upper tmpfs" /proc/mounts'
		ok $? "$1: boots on a tmpfs upper"
	else
		ok 1 "$1: boots on a tmpfs upper"; qemu_show
	fi
	qemu_stop
}
fallback "persistence not found" "live.upper=LABEL=nosuchlabel" \
	'persistence live.upper=LABEL=nosuchlabel not used: no such device'
fallback "persistence without a file system" "live.upper=PARTLABEL=blank" \
	'not used: /dev/vda2 has no file system; add live.upper.create'
cmp -s -n $((16 << 20)) <(dd if="$med" bs=512 skip="$blank_start" count=32768 status=none) /dev/zero
ok $? "persistence without a file system: the partition is left untouched (still zeros)"
fallback "persistence file missing" "live.upper=file:/live/nosuch.img" \
	'not used: unable to open /live/nosuch.img on the medium /dev/vda1 for writing'
fallback "persistence on the medium itself" "live.upper=LABEL=OVERLIVE" \
	'not used: /dev/vda1 is the live medium itself'

# ---- live.upper.create formats an empty partition, and the next boot keeps what was written. The
# boot entry says the old name, live.persist.create: it must still work, with a warning naming the new.
qemu_start "live.upper=PARTLABEL=blank live.persist.create" -drive "file=$med,format=raw,if=virtio"
qemu_expect 'kernel parameter live.persist.create: renamed live.upper.create' 60
ok $? "live.persist.create (the old name): a warning names live.upper.create"
qemu_expect 'live.upper.create: formatting' 60
ok $? "live.persist.create: formats the empty partition"
qemu_expect 'overlive-minimal: ready' 60 >/dev/null && qemu_expect 'overlive# ' 20 >/dev/null
qemu_run 'grep -q " /run/live/upper ext4 rw" /proc/mounts && echo made-on-a-new-fs > /root/new && sync'
ok $? "live.persist.create: the new file system is the upper"
qemu_send 'poweroff'
wait_off
qemu_start "live.upper=PARTLABEL=blank" -drive "file=$med,format=raw,if=virtio"
qemu_expect 'overlive-minimal: ready' 60 >/dev/null && qemu_expect 'overlive# ' 20 >/dev/null
qemu_run 'grep -qx made-on-a-new-fs /root/new'
ok $? "live.persist.create: the next boot (without it) finds what was written"
qemu_stop
done_testing
